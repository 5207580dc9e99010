// hush fuzz target: the other stored formats. The first input byte chooses (modulo 3) what the
// rest is: a PreKeyRecord, a SignedPreKeyRecord, or an InMemoryProtocolStore snapshot. Whatever
// deserializes must serialize, deserialize again, and serialize to the same bytes. A restored
// store is then used: its Messenger records are listed and loaded (within their bounds; a stored
// group is parsed and must serialize stably) and
// rewritten in a transaction that fails, then prekey replenishment and the fixed session's
// messages to bob (if the store is bob's, mutated, they reach X3DH and the ratchet with odd stored
// keys); a failed operation must leave it unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <hush/hush.h>

#include "crypto/fuzzing.h"
#include "fuzz_common.h"
#include "messenger/groups.h"

using namespace hush;

namespace {

struct Setup {
  fuzz::FixedSession session = fuzz::build_fixed_session();
  std::vector<CiphertextMessage> to_bob;
  Setup() {
    // a1 (a prekey message whose key bob skipped), a4 (a whisper message whose key bob skipped),
    // c0 (a prekey message starting a second session).
    for (const std::size_t i : {std::size_t{1}, std::size_t{4}, session.to_bob.size() - 1}) {
      const auto& w = session.to_bob.at(i);
      to_bob.push_back(CiphertextMessage::parse(w.type, w.bytes).value());
    }
  }
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

void pre_key_record(ByteView data) {
  auto r = PreKeyRecord::deserialize(data);
  if (!r) return;
  const Bytes first = fuzz::to_bytes(r->serialize());
  auto again = PreKeyRecord::deserialize(first);
  fuzz::check(again.has_value(), "PreKeyRecord: serialized record does not deserialize");
  fuzz::check(fuzz::to_bytes(again->serialize()) == first, "PreKeyRecord: not stable");
  fuzz::check(again->id == r->id && again->key_pair.public_key == r->key_pair.public_key,
              "PreKeyRecord: fields differ");
}

void signed_pre_key_record(ByteView data) {
  auto r = SignedPreKeyRecord::deserialize(data);
  if (!r) return;
  const Bytes first = fuzz::to_bytes(r->serialize());
  auto again = SignedPreKeyRecord::deserialize(first);
  fuzz::check(again.has_value(), "SignedPreKeyRecord: serialized record does not deserialize");
  fuzz::check(fuzz::to_bytes(again->serialize()) == first, "SignedPreKeyRecord: not stable");
  fuzz::check(again->id == r->id && again->key_pair.public_key == r->key_pair.public_key &&
                  again->signature == r->signature && again->timestamp_ms == r->timestamp_ms,
              "SignedPreKeyRecord: fields differ");
}

// A stored group that parses serializes to a record that parses to the same group, within bounds.
void group_record(ByteView bytes) {
  auto group = internal::parse_group_record(bytes);
  if (!group) {
    fuzz::check(group.error().code() == Errc::kCorruptState, "group record: undocumented error");
    return;
  }
  fuzz::check(group->members.size() <= kMaxGroupMembers && !group->members.empty(),
              "group record: members out of bounds");
  const Bytes first = internal::serialize_group_record(*group);
  auto again = internal::parse_group_record(first);
  fuzz::check(again.has_value() && internal::serialize_group_record(*again) == first,
              "group record: not stable");
}

// Every listed record loads within the bounds; a failed transaction that replaces, removes and adds
// records leaves the store as `snapshot` (its serialization) was.
void messenger_records(InMemoryProtocolStore& st, const Bytes& snapshot) {
  constexpr MessengerRecordKind kinds[] = {
      MessengerRecordKind::kDeviceList, MessengerRecordKind::kOutbox,
      MessengerRecordKind::kSeenMessage, MessengerRecordKind::kHealing,
      MessengerRecordKind::kGroup};
  std::vector<std::pair<MessengerRecordKind, std::string>> present;
  for (const MessengerRecordKind kind : kinds) {
    auto keys = st.messenger_record_keys(kind);
    fuzz::check(keys.has_value(), "messenger_record_keys failed");
    for (std::string& key : *keys) {
      fuzz::check(key.size() <= kMaxMessengerRecordKeyBytes, "Messenger record key too long");
      auto value = st.load_messenger_record(kind, key);
      fuzz::check(value.has_value() && value->has_value(), "listed Messenger record not loaded");
      fuzz::check((*value)->size() <= kMaxAppDataBytes, "Messenger record value too large");
      if (kind == MessengerRecordKind::kGroup) group_record((*value)->expose());
      present.emplace_back(kind, std::move(key));
    }
  }
  Status failed = st.run_transaction([&]() -> Status {
    for (std::size_t i = 0; i < present.size(); ++i) {
      const auto& [kind, key] = present[i];
      Status w = i % 2 == 0 ? st.remove_messenger_record(kind, key)
                            : st.store_messenger_record(kind, key, as_bytes("replaced"));
      fuzz::check(w.has_value(), "Messenger record write failed");
    }
    for (const MessengerRecordKind kind : kinds)
      fuzz::check(st.store_messenger_record(kind, "fuzz: new", as_bytes("new")).has_value(),
                  "Messenger record store failed");
    return Error(Errc::kStoreFailure, "fuzz: roll back");
  });
  fuzz::check(!failed.has_value(), "the transaction did not fail");
  fuzz::check(fuzz::snapshot(st) == snapshot, "a failed transaction changed the Messenger records");
}

void store_snapshot(ByteView data) {
  auto store = InMemoryProtocolStore::deserialize(data);
  if (!store) return;
  const Bytes first = fuzz::snapshot(**store);
  auto again = InMemoryProtocolStore::deserialize(first);
  fuzz::check(again.has_value(), "snapshot: a serialized store does not deserialize");
  fuzz::check(fuzz::snapshot(**again) == first, "snapshot: not stable");

  // Use the store: first the Messenger records.
  InMemoryProtocolStore& st = **store;
  messenger_records(st, first);

  const Setup& s = setup();
  fuzz::FuzzRandom random(21);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  Bytes before = fuzz::snapshot(st);
  auto ids = replenish_pre_keys(ctx, st, 2);
  if (!ids) fuzz::check(fuzz::snapshot(st) == before, "failed replenish changed the store");
  for (const auto& m : s.to_bob) {
    before = fuzz::snapshot(st);
    auto r = decrypt_message(ctx, st, s.session.alice->address, m);
    if (!r) fuzz::check(fuzz::snapshot(st) == before, "failed decrypt changed the store");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  internal::fuzzing_reset_random(0);
#endif
  if (size == 0) return 0;
  const ByteView rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      pre_key_record(rest);
      break;
    case 1:
      signed_pre_key_record(rest);
      break;
    default:
      store_snapshot(rest);
      break;
  }
  return 0;
}

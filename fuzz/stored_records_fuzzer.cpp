// hush fuzz target: the other stored formats. The first input byte chooses (modulo 3) what the
// rest is: a PreKeyRecord, a SignedPreKeyRecord, or an InMemoryProtocolStore snapshot. Whatever
// deserializes must serialize, deserialize again, and serialize to the same bytes. A restored
// store is then used: prekey replenishment and the fixed session's messages to bob (if the store
// is bob's, mutated, they reach X3DH and the ratchet with odd stored keys); a failed operation must
// leave it unchanged.
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "crypto/fuzzing.h"
#include "fuzz_common.h"

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

void store_snapshot(ByteView data) {
  auto store = InMemoryProtocolStore::deserialize(data);
  if (!store) return;
  const Bytes first = fuzz::snapshot(**store);
  auto again = InMemoryProtocolStore::deserialize(first);
  fuzz::check(again.has_value(), "snapshot: a serialized store does not deserialize");
  fuzz::check(fuzz::snapshot(**again) == first, "snapshot: not stable");

  // Use the store.
  const Setup& s = setup();
  fuzz::FuzzRandom random(21);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  InMemoryProtocolStore& st = **store;
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

// hush fuzz target: SessionRecord::deserialize on arbitrary bytes (stored records are untrusted
// input too). Whatever deserializes must serialize, deserialize again, and serialize to the same
// bytes. Then the record is used, as a store would hand it to the library: session_info, an
// encryption, and decryption attempts aimed at its receiving chains (MACs always verify in this
// build, so they reach the chain and skipped-key code); a failed operation must leave the store
// unchanged.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <hush/hush.h>

#include "crypto/fuzzing.h"
#include "crypto/kdf.h"
#include "fuzz_common.h"
#include "messages_internal.h"
#include "protocol/record_access.h"

using namespace hush;

namespace {

const Address kPeer{"peer", DeviceId{7}};

struct Setup {
  fuzz::FuzzRandom random{11};
  IdentityKeyPair identity = KeyPair::generate(random).value();
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

// A whisper message on `ratchet_key` with `counter`, under an arbitrary MAC key: with the MAC
// check bypassed it reaches the chain logic and then fails (or not) at the padding.
SignalMessage aimed_at(const internal::SessionState& state, const PublicKey& ratchet_key,
                       std::uint32_t counter) {
  internal::crypto::HmacSha256 hmac;
  const std::array<std::uint8_t, 32> mac_key{};
  return internal::MessageBuilder::signal_message(hmac, mac_key, state.remote_identity,
                                                  state.local_identity, ratchet_key, counter, 0,
                                                  Bytes(16, 0x5A));
}

void use_record(const SessionRecord& record) {
  const Setup& s = setup();
  InMemoryProtocolStore store(s.identity.clone(), 1);
  fuzz::check(store.store_session(kPeer, record.clone()).has_value(), "store_session");
  fuzz::FuzzRandom random(12);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};

  auto info = session_info(store, kPeer);
  fuzz::check(info.has_value(), "session_info");
  fuzz::check(info->exists == record.has_current_state(), "session_info: exists");
  fuzz::check(info->previous_states == record.previous_state_count(), "session_info: archive");

  // Messages aimed at the record's receiving chains: the next counter, one ahead, the first and
  // last skipped keys, and one behind everything (duplicate).
  std::vector<SignalMessage> messages;
  const auto& data = internal::RecordAccess::data(record);
  auto aim = [&](const internal::SessionState& state) {
    for (const auto& chain : state.receiver_chains) {
      const std::uint32_t next = chain.chain_key.index;
      messages.push_back(aimed_at(state, chain.ratchet_key, next));
      if (next < UINT32_MAX) messages.push_back(aimed_at(state, chain.ratchet_key, next + 1));
      if (!chain.skipped.empty()) {
        messages.push_back(aimed_at(state, chain.ratchet_key, chain.skipped.counter(0)));
        messages.push_back(
            aimed_at(state, chain.ratchet_key, chain.skipped.counter(chain.skipped.size() - 1)));
      }
      if (next > 0) messages.push_back(aimed_at(state, chain.ratchet_key, next - 1));
    }
    // A new ratchet key (a DH step).
    messages.push_back(aimed_at(state, state.sender_chain.ratchet_public, 0));
  };
  if (data.current) aim(*data.current);
  if (!data.previous.empty()) aim(data.previous.back());
  for (const auto& m : messages) {
    const Bytes before = fuzz::snapshot(store);
    auto r = decrypt_signal_message(ctx, store, kPeer, m);
    if (!r) fuzz::check(fuzz::snapshot(store) == before, "failed decrypt changed the store");
  }

  // Encrypt with whatever is current now.
  const Bytes before = fuzz::snapshot(store);
  auto sent = encrypt_message(ctx, store, kPeer, as_bytes("fuzz"));
  if (!sent) {
    fuzz::check(fuzz::snapshot(store) == before, "failed encrypt changed the store");
  } else {
    auto reparsed = CiphertextMessage::parse(sent->type(), sent->serialized());
    fuzz::check(reparsed.has_value(), "an encrypted message does not parse");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  internal::fuzzing_reset_random(0);
#endif
  auto record = SessionRecord::deserialize(ByteView(data, size));
  if (!record) return 0;
  const Bytes first = fuzz::to_bytes(record->serialize());
  auto again = SessionRecord::deserialize(first);
  fuzz::check(again.has_value(), "a serialized record does not deserialize");
  fuzz::check(fuzz::to_bytes(again->serialize()) == first, "serialization is not stable");
  fuzz::check(fuzz::to_bytes(record->clone().serialize()) == first, "clone differs");
  fuzz::check(again->has_current_state() == record->has_current_state() &&
                  again->previous_state_count() == record->previous_state_count() &&
                  again->remote_registration_id() == record->remote_registration_id() &&
                  again->has_unacknowledged_prekey() == record->has_unacknowledged_prekey() &&
                  again->current_version() == record->current_version() &&
                  again->remote_identity() == record->remote_identity(),
              "accessors differ after a round trip");
  use_record(*record);
  return 0;
}

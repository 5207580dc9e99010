// hush fuzz target: decrypt_message on arbitrary bytes against a fixed session.
//
// At start-up the fixed session of fuzz_common.h is built (alice and bob, deterministic, both on
// whisper sessions, bob with skipped keys and two receiving chains, alice with an archived state).
// Each input is `selector || message`: bit 0 of the selector picks the type (0 whisper, 1 prekey),
// bit 1 the receiver (0 bob, from alice; 1 alice, from bob). The receiver's store is restored from
// its snapshot for every input, so runs are independent. A failed decrypt must leave the store
// byte-for-byte unchanged; a successful one must not succeed again on the same message, and its
// store must round-trip through a snapshot.
//
// Built twice: decrypt_fuzzer links hush_fuzz, where MACs always verify, so mutated messages reach
// the ratchet, the skipped keys and the padding check; decrypt_no_fuzzer_mode_fuzzer links
// hush_fuzz_real, with the real MAC check (what an attacker without the keys can reach).
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "crypto/fuzzing.h"
#include "fuzz_common.h"

using namespace hush;

namespace {

struct Setup {
  fuzz::FixedSession session = fuzz::build_fixed_session();
  Bytes alice_snapshot = fuzz::snapshot(*session.alice->store);
  Bytes bob_snapshot = fuzz::snapshot(*session.bob->store);
};

const Setup& setup() {
  static const Setup* s = new Setup();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  internal::fuzzing_reset_random(0);
#endif
  if (size == 0) return 0;
  const Setup& s = setup();
  const MessageType type = (data[0] & 1) != 0 ? MessageType::kPreKey : MessageType::kWhisper;
  const bool at_alice = (data[0] & 2) != 0;
  auto message = CiphertextMessage::parse(type, ByteView(data + 1, size - 1));
  if (!message) return 0;

  const Bytes& before = at_alice ? s.alice_snapshot : s.bob_snapshot;
  const Address& from = at_alice ? s.session.bob->address : s.session.alice->address;
  auto restored = InMemoryProtocolStore::deserialize(before);
  fuzz::check(restored.has_value(), "restore the receiver's store");
  InMemoryProtocolStore& store = **restored;
  fuzz::FuzzRandom random(41);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};

  auto plaintext = decrypt_message(ctx, store, from, *message);
  const Bytes after = fuzz::snapshot(store);
  if (!plaintext) {
    fuzz::check(after == before, "a failed decrypt changed the store");
    return 0;
  }
  // Decrypted: the same message must not decrypt again, and must change nothing the second time.
  auto again = decrypt_message(ctx, store, from, *message);
  fuzz::check(!again.has_value(), "the same message decrypted twice");
  fuzz::check(fuzz::snapshot(store) == after, "a refused repeat changed the store");
  auto reopened = InMemoryProtocolStore::deserialize(after);
  fuzz::check(reopened.has_value() && fuzz::snapshot(**reopened) == after,
              "the store after a decrypt does not round-trip");
  return 0;
}

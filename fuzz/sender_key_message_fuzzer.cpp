// hush fuzz target: group (sender-key) messages in both formats: SenderKeyMessage::parse, then
// group_decrypt at bob in the fixed group (fuzz_common.h build_fixed_group), whose store is
// restored for every input.
//
// Input: a selector byte, then the message. Bit 0: the format (0 legacy, 1 current). Bit 1: the
// harness signs the message again with alice's real signing key (so fuzzed iterations, chain ids
// and ciphertexts get past the signature and reach the chain and the cipher).
//
// Checks: failures carry documented error codes and leave bob's store byte for byte unchanged;
// what parses parses again to the same fields; a message that decrypts does not decrypt twice
// (kDuplicateMessage, store unchanged by the second try).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "fuzz_common.h"
#include "group/sender_key_state.h"

using namespace hush;

namespace {

const fuzz::FixedGroup& fixed() {
  static const fuzz::FixedGroup g = fuzz::build_fixed_group();
  return g;
}

bool documented_parse(Errc c) {
  return c == Errc::kLimitExceeded || c == Errc::kInvalidMessage || c == Errc::kLegacyMessage ||
         c == Errc::kInvalidVersion || c == Errc::kInvalidProtobuf;
}

bool documented_decrypt(Errc c) {
  return c == Errc::kNoSession || c == Errc::kInvalidMessage || c == Errc::kDuplicateMessage ||
         c == Errc::kTooFarInFuture;
}

// alice's signing key in `group` (her own, newest chain).
PrivateKey signing_key(const fuzz::FixedGroup& g, const SenderKeyGroup& group) {
  auto record = g.alice->store->load_sender_key(g.alice->address, group);
  fuzz::check(record.has_value() && record->has_value(), "alice's record");
  const auto& state = internal::SenderKeyRecordAccess::data(**record).states.front();
  fuzz::check(state.signing_private.has_value(), "alice's signing key");
  return state.signing_private->clone();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const fuzz::FixedGroup& g = fixed();
  const SenderKeyFormat format =
      (data[0] & 1) != 0 ? SenderKeyFormat::kCurrent : SenderKeyFormat::kLegacy;
  const SenderKeyGroup& group = g.group(format);
  Bytes wire(data + 1, data + size);
  if ((data[0] & 2) != 0 && wire.size() > Signature::kSize) {
    static const PrivateKey legacy_key = signing_key(g, g.legacy);
    static const PrivateKey current_key = signing_key(g, g.current);
    fuzz::FuzzRandom random(size);
    const ByteView signed_part = ByteView(wire).first(wire.size() - Signature::kSize);
    auto sig =
        (format == SenderKeyFormat::kLegacy ? legacy_key : current_key).sign(random, signed_part);
    fuzz::check(sig.has_value(), "sign");
    std::copy(sig->bytes.begin(), sig->bytes.end(), wire.end() - Signature::kSize);
  }

  auto parsed = SenderKeyMessage::parse(format, wire);
  if (!parsed) {
    fuzz::check(documented_parse(parsed.error().code()), "SenderKeyMessage::parse: undocumented");
    return 0;
  }
  fuzz::check(std::equal(parsed->serialized().begin(), parsed->serialized().end(), wire.begin(),
                         wire.end()),
              "serialized() is not the input");
  auto again = SenderKeyMessage::parse(format, parsed->serialized());
  fuzz::check(again.has_value() && again->chain_id() == parsed->chain_id() &&
                  again->iteration() == parsed->iteration() &&
                  again->distribution_id() == parsed->distribution_id() &&
                  again->ciphertext().size() == parsed->ciphertext().size(),
              "a parsed message changed in a round trip");

  auto bob = InMemoryProtocolStore::deserialize(g.bob_snapshot);
  fuzz::check(bob.has_value(), "bob's snapshot");
  fuzz::FuzzRandom random(size);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  auto plain = group_decrypt(ctx, **bob, g.alice->address, group, *parsed);
  if (!plain) {
    fuzz::check(documented_decrypt(plain.error().code()), "group_decrypt: undocumented error");
    fuzz::check(fuzz::snapshot(**bob) == g.bob_snapshot,
                "a failed group_decrypt changed the store");
    return 0;
  }
  fuzz::check(plain->size() <= parsed->ciphertext().size(), "plaintext longer than ciphertext");
  const Bytes after = fuzz::snapshot(**bob);
  auto twice = group_decrypt(ctx, **bob, g.alice->address, group, *parsed);
  fuzz::check(!twice && twice.error().code() == Errc::kDuplicateMessage,
              "a group message decrypted twice");
  fuzz::check(fuzz::snapshot(**bob) == after, "a refused duplicate changed the store");
  return 0;
}

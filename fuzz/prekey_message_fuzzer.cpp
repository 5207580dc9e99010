// hush fuzz target: PreKeySignalMessage::parse on arbitrary bytes. Whatever parses is rebuilt
// around its parsed inner SignalMessage with the library's builder; the rebuilt message must parse
// to the same fields (the inner message byte for byte), and rebuilding it again must give the
// same bytes. The inner message must round-trip on its own too.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/messages.h>

#include "crypto/kdf.h"
#include "fuzz_common.h"
#include "message_rebuild.h"
#include "messages_internal.h"

using namespace hush;

namespace {

bool same_fields(const PreKeySignalMessage& a, const PreKeySignalMessage& b) {
  return a.message_version() == b.message_version() && a.registration_id() == b.registration_id() &&
         a.pre_key_id() == b.pre_key_id() && a.signed_pre_key_id() == b.signed_pre_key_id() &&
         a.base_key() == b.base_key() && a.identity_key() == b.identity_key() &&
         fuzz::same_fields(a.message(), b.message()) &&
         std::ranges::equal(a.message().serialized(), b.message().serialized()) &&
         a.kyber_pre_key_id() == b.kyber_pre_key_id() &&
         std::ranges::equal(a.kyber_ciphertext(), b.kyber_ciphertext());
}

PreKeySignalMessage rebuild(const PreKeySignalMessage& m) {
  return internal::MessageBuilder::prekey_message(
      m.registration_id(), m.pre_key_id(), m.signed_pre_key_id(), m.base_key(), m.identity_key(),
      m.message(), m.kyber_pre_key_id(), m.kyber_ciphertext());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static internal::crypto::HmacSha256 hmac;
  static const fuzz::RebuildKeys keys;
  const ByteView input(data, size);
  auto parsed = PreKeySignalMessage::parse(input);
  auto dispatched = CiphertextMessage::parse(MessageType::kPreKey, input);
  fuzz::check(parsed.has_value() == dispatched.has_value(),
              "CiphertextMessage::parse disagrees with PreKeySignalMessage::parse");
  if (!parsed) {
    fuzz::check(parsed.error() == dispatched.error(), "parse errors differ");
    return 0;
  }
  fuzz::check(std::ranges::equal(parsed->serialized(), input), "serialized() is not the input");
  fuzz::check(parsed->message_version() == kProtocolVersion ||
                  parsed->message_version() == kPqProtocolVersion,
              "parsed a version other than 3 or 4");
  fuzz::check(
      (parsed->message_version() == kPqProtocolVersion) ==
          (parsed->kyber_pre_key_id().has_value() && parsed->kyber_ciphertext().size() == 1569),
      "Kyber fields do not match the version");
  fuzz::check(parsed->message().message_version() == parsed->message_version(),
              "inner version differs from the outer one");
  fuzz::check(dispatched->prekey_message() != nullptr &&
                  same_fields(*parsed, *dispatched->prekey_message()),
              "CiphertextMessage::parse gives other fields");

  const PreKeySignalMessage rebuilt = rebuild(*parsed);
  fuzz::check(same_fields(*parsed, rebuilt), "PreKeySignalMessage: builder changed a field");
  auto reparsed = PreKeySignalMessage::parse(rebuilt.serialized());
  fuzz::check(reparsed.has_value(), "PreKeySignalMessage: rebuilt message does not parse");
  fuzz::check(same_fields(*parsed, *reparsed),
              "PreKeySignalMessage: rebuilt message parses to other fields");
  const PreKeySignalMessage again = rebuild(*reparsed);
  fuzz::check(std::ranges::equal(again.serialized(), rebuilt.serialized()),
              "PreKeySignalMessage: rebuilding is not stable");

  // The inner message parses on its own, to the same fields, and round-trips like any other.
  auto inner = SignalMessage::parse(parsed->message().serialized());
  fuzz::check(inner.has_value() && fuzz::same_fields(*inner, parsed->message()),
              "inner SignalMessage does not parse on its own");
  fuzz::check_signal_round_trip(hmac, keys, *inner);
  return 0;
}

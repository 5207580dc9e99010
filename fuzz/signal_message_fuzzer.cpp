// hush fuzz target: SignalMessage::parse on arbitrary bytes (versions 3 and 4). Whatever parses is
// rebuilt from its fields with the library's builder; the rebuilt message must parse to the same
// fields, and rebuilding it again must give the same bytes. CiphertextMessage::parse must agree.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/messages.h>

#include "crypto/kdf.h"
#include "fuzz_common.h"
#include "message_rebuild.h"

using namespace hush;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static internal::crypto::HmacSha256 hmac;
  static const fuzz::RebuildKeys keys;
  const ByteView input(data, size);
  auto parsed = SignalMessage::parse(input);
  auto dispatched = CiphertextMessage::parse(MessageType::kWhisper, input);
  fuzz::check(parsed.has_value() == dispatched.has_value(),
              "CiphertextMessage::parse disagrees with SignalMessage::parse");
  if (!parsed) {
    fuzz::check(parsed.error() == dispatched.error(), "parse errors differ");
    return 0;
  }
  fuzz::check(std::ranges::equal(parsed->serialized(), input), "serialized() is not the input");
  fuzz::check(parsed->message_version() == kProtocolVersion ||
                  parsed->message_version() == kPqProtocolVersion,
              "parsed a version other than 3 or 4");
  fuzz::check(parsed->message_version() == kPqProtocolVersion ||
                  (parsed->pq_ratchet().empty() && !parsed->addresses()),
              "a version-3 message with version-4 fields");
  fuzz::check(dispatched->signal_message() != nullptr &&
                  fuzz::same_fields(*parsed, *dispatched->signal_message()),
              "CiphertextMessage::parse gives other fields");
  fuzz::check_signal_round_trip(hmac, keys, *parsed);
  return 0;
}

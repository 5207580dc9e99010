// hush fuzz target: the call message parser (src/call/call_message.h, proto/content.proto
// CallMessage), on untrusted bytes: what a peer's session can carry inside a Content's call field.
//
// Checks: a failure carries a documented error (kInvalidProtobuf, kInvalidCallMessage,
// kLimitExceeded); a success respects every limit and rule the parser promises (a 16-byte id
// read, a known type, a payload within kMaxCallPayloadBytes and only on types that carry one, a
// list only on an offer or list, 1 to kMaxCallParticipants participants with the host at index 0,
// indices strictly ascending below kMaxCallIndices, no person twice, no empty name or device 0, a
// key exactly on a key message, of kCallBaseKeyBytes); and serializing the parsed message and
// parsing it again gives the same message.
//
// Links hush_fuzz (no crypto is involved).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hush/hush.h>

#include "call/call_message.h"
#include "fuzz_common.h"

using namespace hush;
using internal::CallMessageParts;
using internal::CallMessageType;

namespace {

bool same(const CallMessageParts& a, const CallMessageParts& b) {
  if (a.id != b.id || a.type != b.type || a.payload != b.payload ||
      a.participants != b.participants || a.key.has_value() != b.key.has_value())
    return false;
  if (!a.key) return true;
  return a.key->epoch == b.key->epoch &&
         std::equal(a.key->key.expose().begin(), a.key->key.expose().end(),
                    b.key->key.expose().begin(), b.key->key.expose().end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxPlaintextBytes) return 0;
  auto parsed = internal::parse_call_message(ByteView(data, size));
  if (!parsed) {
    const Errc code = parsed.error().code();
    fuzz::check(code == Errc::kInvalidProtobuf || code == Errc::kInvalidCallMessage ||
                    code == Errc::kLimitExceeded,
                "an undocumented call message error");
    return 0;
  }
  const CallMessageParts& m = *parsed;
  const auto type = static_cast<std::uint32_t>(m.type);
  fuzz::check(type >= 1 && type <= 9, "an unknown type parsed");
  fuzz::check(m.payload.size() <= kMaxCallPayloadBytes, "a payload over its limit");
  const bool payload_type =
      m.type == CallMessageType::kOffer || m.type == CallMessageType::kAnswer ||
      m.type == CallMessageType::kSignal || m.type == CallMessageType::kHangup;
  fuzz::check(m.payload.empty() || payload_type, "a payload on a type without one");
  const bool list_type =
      m.type == CallMessageType::kOffer || m.type == CallMessageType::kParticipants;
  fuzz::check(list_type != m.participants.empty(), "a list missing, or where none belongs");
  fuzz::check(m.participants.size() <= kMaxCallParticipants, "too many participants");
  for (std::size_t i = 0; i < m.participants.size(); ++i) {
    const CallParticipant& p = m.participants[i];
    fuzz::check(!p.device.name.empty() && p.device.name.size() <= kMaxAddressNameBytes &&
                    to_uint(p.device.device_id) != 0,
                "an empty or long name, or device 0");
    fuzz::check(p.index < kMaxCallIndices, "an index too large");
    fuzz::check(i == 0 ? p.index == 0 : m.participants[i - 1].index < p.index,
                "no host, or indices not ascending");
    for (std::size_t j = 0; j < i; ++j)
      fuzz::check(m.participants[j].device.name != p.device.name, "a person listed twice");
  }
  fuzz::check(m.key.has_value() == (m.type == CallMessageType::kKey), "a key missing or extra");
  if (m.key) fuzz::check(m.key->key.size() == kCallBaseKeyBytes, "a key of another size");
  const SecretBytes again = internal::serialize_call_message(m);
  auto reparsed = internal::parse_call_message(again.expose());
  fuzz::check(reparsed.has_value() && same(*reparsed, m), "the round trip changed the message");
  return 0;
}

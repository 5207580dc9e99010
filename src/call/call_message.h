// hush internal: a call message (proto/content.proto CallMessage) as plain values, its checks
// when parsed, and its serialization. Travels inside a Content (content.h, ContentKind::kCall).
//
// Not responsible for: what a message means for a call (src/messenger/calls.cpp).
// Thread-safety: plain values and functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <hush/bytes.h>
#include <hush/call.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal {

/// A call message's type (CallMessage.type).
enum class CallMessageType : std::uint32_t {
  kOffer = 1,              ///< host -> every device of a callee: ring (payload, participants)
  kAnswer = 2,             ///< callee device -> host: admit me (payload)
  kSignal = 3,             ///< any participant -> others: the application's signalling (payload)
  kHangup = 4,             ///< leave / decline / end (payload optional)
  kBusy = 5,               ///< callee device -> host: in another call
  kRinging = 6,            ///< callee device -> host: ringing
  kParticipants = 7,       ///< host -> participants: the list (participants)
  kKey = 8,                ///< participant -> participants: its current base key (key)
  kAnsweredElsewhere = 9,  ///< a device -> its person's other devices, or host -> a late device
};

/// A participant's base key and its generation.
struct CallKeyParts {
  std::uint64_t epoch = 0;
  SecretBytes key;
};

/// A parsed call message.
struct CallMessageParts {
  CallId id{};
  CallMessageType type = CallMessageType::kOffer;
  Bytes payload;
  std::vector<CallParticipant> participants;
  std::optional<CallKeyParts> key;
  /// The host's participant list version (offer, participants, the host's key; 0 elsewhere).
  std::uint64_t list_version = 0;
  /// Receive side only (not serialized): when the sender says it sent the message (the content's
  /// sent_ms), for the offer's freshness check.
  std::uint64_t sent_ms = 0;
};

/// Parses a serialized CallMessage alone (the fuzz target's entry): kInvalidProtobuf, or
/// read_call_message's errors (call_message_proto.h).
Result<CallMessageParts> parse_call_message(ByteView bytes);

/// Serializes a CallMessage alone (seeds, tests).
SecretBytes serialize_call_message(const CallMessageParts& parts);

}  // namespace hush::internal

// hush internal: the Messenger's Envelope (proto/envelope.proto), format 2: who claims to send it,
// the Signal message's type and bytes, and an envelope id. Nothing in it is authenticated: the
// sender fields only say which session to try, and the envelope id only lets a receiver name the
// envelope in a retry request.
//
// Not responsible for: what is inside the Signal message (content.h).
// Thread-safety: plain functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/messages.h>
#include <hush/result.h>

namespace hush::internal {

/// The envelope format this library writes and reads (1 carried the plaintext alone).
inline constexpr std::uint32_t kEnvelopeFormat = 2;

/// The size of an envelope id (random, chosen by the sender).
inline constexpr std::size_t kEnvelopeIdBytes = 16;
using EnvelopeId = std::array<std::uint8_t, kEnvelopeIdBytes>;

/// The size of a group id (random, chosen by the group's creator).
inline constexpr std::size_t kGroupIdBytes = 16;
using GroupIdBytes = std::array<std::uint8_t, kGroupIdBytes>;

/// The envelope type of a group message (a SenderKeyMessage in the current format; the envelope
/// then names the group).
inline constexpr std::uint32_t kGroupEnvelopeType = 7;

/// A parsed envelope.
struct EnvelopeParts {
  Address sender;
  MessageType type = MessageType::kWhisper;
  Bytes body;
  EnvelopeId id{};
  /// Set for a group message (type kGroupEnvelopeType; `type` is then meaningless).
  std::optional<GroupIdBytes> group;
};

/// Serializes an envelope.
Bytes build_envelope(const Address& sender, const CiphertextMessage& message, const EnvelopeId& id);

/// Serializes a group message's envelope (the same bytes go to every member device).
Bytes build_group_envelope(const Address& sender, const GroupIdBytes& group, ByteView message,
                           const EnvelopeId& id);

/// Parses envelope bytes (untrusted input). Errors: kLimitExceeded (larger than
/// kMaxEnvelopeBytes, or a sender name longer than kMaxAddressNameBytes), kInvalidProtobuf,
/// kInvalidMessage (another format, a missing field, an unknown message type, an envelope id
/// that is not 16 bytes, device id 0, a group message without a 16-byte group id or another
/// message with one).
Result<EnvelopeParts> parse_envelope(ByteView bytes);

}  // namespace hush::internal

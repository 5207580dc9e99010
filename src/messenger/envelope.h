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

/// A parsed envelope.
struct EnvelopeParts {
  Address sender;
  MessageType type = MessageType::kWhisper;
  Bytes body;
  EnvelopeId id{};
};

/// Serializes an envelope.
Bytes build_envelope(const Address& sender, const CiphertextMessage& message, const EnvelopeId& id);

/// Parses envelope bytes (untrusted input). Errors: kLimitExceeded (larger than
/// kMaxEnvelopeBytes, or a sender name longer than kMaxAddressNameBytes), kInvalidProtobuf,
/// kInvalidMessage (another format, a missing field, an unknown message type, an envelope id
/// that is not 16 bytes, device id 0).
Result<EnvelopeParts> parse_envelope(ByteView bytes);

}  // namespace hush::internal

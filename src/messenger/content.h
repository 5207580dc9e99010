// hush internal: the Content inside a Messenger envelope's encryption (proto/content.proto): a
// message id, the sending time, and a message, a copy of our own message, or a retry request.
//
// Not responsible for: deciding what a content means for the conversation (messenger.cpp).
// Thread-safety: plain values and functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <hush/attachment.h>
#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "messenger/envelope.h"

namespace hush::internal {

/// The size of a message id.
inline constexpr std::size_t kMessageIdBytes = 16;
using MessageId = std::array<std::uint8_t, kMessageIdBytes>;

/// What a Content carries.
enum class ContentKind : std::uint8_t { kMessage, kSentCopy, kRetryRequest };

/// A parsed Content.
struct ContentParts {
  ContentKind kind = ContentKind::kMessage;
  MessageId id{};
  std::uint64_t sent_ms = 0;
  /// The message (kMessage, kSentCopy).
  SecretBytes body;
  /// The person a copy was sent to (kSentCopy).
  std::string recipient;
  /// The envelopes asked for again (kRetryRequest), 1 to kMaxRetryEnvelopeIds.
  std::vector<EnvelopeId> retry_ids;
  /// Files sent with the message (kMessage, kSentCopy), at most kMaxAttachmentsPerMessage.
  std::vector<AttachmentPointer> attachments;
};

/// Serializes a message for the person (plaintext: a secret), with its attachments' pointers.
SecretBytes build_message_content(const MessageId& id, std::uint64_t sent_ms, ByteView body,
                                  std::span<const AttachmentPointer> attachments = {});
/// Serializes the copy of a message sent to `recipient`, for our other devices.
SecretBytes build_copy_content(const MessageId& id, std::uint64_t sent_ms,
                               std::string_view recipient, ByteView body,
                               std::span<const AttachmentPointer> attachments = {});
/// Serializes a retry request.
SecretBytes build_retry_content(const MessageId& id, std::uint64_t sent_ms,
                                const std::vector<EnvelopeId>& ids);

/// Parses a Content (authenticated, but still the peer's bytes). Errors: kInvalidProtobuf,
/// kInvalidMessage (another format, a missing field, not exactly one kind, an id of the wrong
/// size, an empty recipient, attachments on a retry request or a malformed attachment pointer),
/// kLimitExceeded (a recipient longer than kMaxAddressNameBytes, more than kMaxRetryEnvelopeIds
/// ids or kMaxAttachmentsPerMessage attachments), kAttachmentTooLarge (a pointer's size).
Result<ContentParts> parse_content(ByteView bytes);

/// The largest plaintext a message may have so that its Content fits kMaxPlaintextBytes (the
/// copy for our devices adds the recipient's name).
std::size_t max_message_body_bytes();

/// The Content bytes `attachments` add at most (their pointers and framing), which a message's
/// body must leave room for.
std::size_t attachments_content_bytes(std::span<const AttachmentPointer> attachments);

}  // namespace hush::internal

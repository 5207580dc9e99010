// hush internal: the Content inside a Messenger envelope's encryption (proto/content.proto): a
// message id, the sending time, and a message (with an optional quote and group), a copy of our
// own message, a retry request, a receipt, a group update (a change and/or a sender key), or a
// call message.
//
// Not responsible for: deciding what a content means for the conversation (messenger.cpp).
// Thread-safety: plain values and functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <hush/attachment.h>
#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "call/call_message.h"
#include "messenger/envelope.h"

namespace hush::internal {

/// The size of a message id.
inline constexpr std::size_t kMessageIdBytes = 16;
using MessageId = std::array<std::uint8_t, kMessageIdBytes>;

/// What a Content carries.
enum class ContentKind : std::uint8_t {
  kMessage,
  kSentCopy,
  kRetryRequest,
  kReceipt,
  kGroupUpdate,
  kCall
};

/// A quoted message.
struct QuoteParts {
  MessageId id{};
  std::string author;
};

/// The group a message was sent to.
struct GroupContextParts {
  GroupIdBytes id{};
  std::uint64_t revision = 0;
};

/// A receipt: type 1 delivered, 2 read.
struct ReceiptParts {
  std::uint32_t type = 1;
  std::vector<MessageId> ids;
};

/// The size of the nonce a group id commits to.
inline constexpr std::size_t kGroupNonceBytes = 16;

/// "The creator made `admin`, whose identity is `identity`, an admin of the group": signed by the
/// creator's identity key over group_admin_statement().
struct AdminCertificate {
  std::string admin;
  IdentityKey identity;
  Signature signature;
  friend bool operator==(const AdminCertificate&, const AdminCertificate&) = default;
};

/// A group's proof of origin (see groups.h): the group id is derived from the creator's name,
/// identity key and a nonce; every admin but the creator holds a certificate from the creator.
struct GroupProof {
  std::string creator;
  IdentityKey creator_identity;
  std::array<std::uint8_t, kGroupNonceBytes> nonce{};
  std::vector<AdminCertificate> certificates;  // strictly ascending by admin
  friend bool operator==(const GroupProof&, const GroupProof&) = default;
};

/// A group's state: members and admins strictly ascending, admins a subset of members.
struct GroupStateParts {
  std::string name;
  std::vector<std::string> members;
  std::vector<std::string> admins;
  /// Who made the group and whom it made admins (groups.h, "Proof"); absent only for groups made
  /// before proofs existed (stored format 1).
  std::optional<GroupProof> proof;
};

/// A group update: a change (state) and/or a sender key (a serialized distribution message).
struct GroupUpdateParts {
  GroupIdBytes id{};
  std::uint64_t revision = 0;
  std::optional<GroupStateParts> state;
  SecretBytes sender_key;        // empty if none
  std::uint64_t key_serial = 0;  // with sender_key: the sending device's count of its keys
};

/// What a message (body or copy) may carry beside its text.
struct ContentContext {
  std::optional<QuoteParts> quote;
  std::optional<GroupContextParts> group;
};

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
  /// Quote and group (kMessage, kSentCopy).
  ContentContext context;
  /// Files sent with the message (kMessage, kSentCopy), at most kMaxAttachmentsPerMessage.
  std::vector<AttachmentPointer> attachments;
  /// kReceipt.
  ReceiptParts receipt;
  /// kGroupUpdate.
  GroupUpdateParts group_update;
  /// kCall.
  CallMessageParts call;
};

/// Serializes a message for the person (plaintext: a secret), with its quote/group and its
/// attachments' pointers.
SecretBytes build_message_content(const MessageId& id, std::uint64_t sent_ms, ByteView body,
                                  const ContentContext& context = {},
                                  std::span<const AttachmentPointer> attachments = {});
/// Serializes the copy of a message sent to `recipient`, for our other devices.
SecretBytes build_copy_content(const MessageId& id, std::uint64_t sent_ms,
                               std::string_view recipient, ByteView body,
                               const ContentContext& context = {},
                               std::span<const AttachmentPointer> attachments = {});
/// Serializes a receipt (1 to kMaxReceiptMessageIds ids).
SecretBytes build_receipt_content(const MessageId& id, std::uint64_t sent_ms,
                                  const ReceiptParts& receipt);
/// Serializes a group update (its sender key is a secret).
SecretBytes build_group_update_content(const MessageId& id, std::uint64_t sent_ms,
                                       const GroupUpdateParts& update);
/// Serializes a call message (its key is a secret).
SecretBytes build_call_content(const MessageId& id, std::uint64_t sent_ms,
                               const CallMessageParts& call);
/// Serializes a retry request.
SecretBytes build_retry_content(const MessageId& id, std::uint64_t sent_ms,
                                const std::vector<EnvelopeId>& ids);

/// Parses a Content (authenticated, but still the peer's bytes). Errors: kInvalidProtobuf,
/// kInvalidMessage (another format, a missing field, not exactly one kind, an id of the wrong
/// size, an empty recipient or name, a quote or group on another kind than a message, a receipt
/// of an unknown type or with no ids, members or admins not strictly ascending, an admin who is
/// not a member, a group update with neither a state nor a key, attachments on another kind than a
/// message or a malformed attachment pointer), kLimitExceeded (a recipient or name longer than
/// kMaxAddressNameBytes, more than kMaxRetryEnvelopeIds or kMaxReceiptMessageIds ids, more than
/// kMaxGroupMembers members, a group name longer than kMaxMessengerGroupNameBytes, a sender key
/// larger than kMaxSenderKeyDistributionBytes, more than kMaxAttachmentsPerMessage attachments),
/// kAttachmentTooLarge (a pointer's size); for a call message, read_call_message's errors.
Result<ContentParts> parse_content(ByteView bytes);

/// The largest plaintext a message may have so that its Content fits kMaxPlaintextBytes (the
/// copy for our devices adds the recipient's name).
std::size_t max_message_body_bytes();

/// The Content bytes `attachments` add at most (their pointers and framing), which a message's
/// body must leave room for.
std::size_t attachments_content_bytes(std::span<const AttachmentPointer> attachments);
/// True when a message of `body` with `attachments` fits a Content: at most
/// kMaxAttachmentsPerMessage pointers, and the text and the pointers within the largest body.
bool message_fits(ByteView body, std::span<const AttachmentPointer> attachments);

}  // namespace hush::internal

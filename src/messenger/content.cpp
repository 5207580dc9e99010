// hush internal: the Content inside a Messenger envelope (see content.h).
#include "messenger/content.h"

#include <algorithm>

#include <hush/limits.h>

#include "attachment/pointer_proto.h"
#include "content.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr std::uint32_t kContentFormat = 1;

// Room for the Content's other fields around the body: the id, the time, the tags and lengths,
// and the longest recipient name.
constexpr std::size_t kContentOverhead = 64 + kMaxAddressNameBytes;

content::Content header(const MessageId& id, std::uint64_t sent_ms) {
  content::Content c;
  c.set_format(kContentFormat);
  c.set_message_id(to_field(id));
  c.set_sent_ms(sent_ms);
  return c;
}

// Overwrites the secrets a Content holds: bodies and attachment keys.
void wipe_content(content::Content& c) {
  wipe(c.mutable_body());
  if (c.has_sent()) wipe(c.mutable_sent()->mutable_body());
  for (auto& a : *c.mutable_attachments())
    wipe_pointer_message(a);
}

SecretBytes finish(content::Content& c) {
  SecretBytes out = serialize_to_secret(c);
  wipe_content(c);
  return out;
}

void add_attachments(content::Content& c, std::span<const AttachmentPointer> attachments) {
  for (const AttachmentPointer& p : attachments)
    pointer_to_message(p, *c.add_attachments());
}

}  // namespace

std::size_t max_message_body_bytes() {
  return kMaxPlaintextBytes - kContentOverhead;
}

std::size_t attachments_content_bytes(std::span<const AttachmentPointer> attachments) {
  std::size_t n = 0;
  for (const AttachmentPointer& p : attachments)
    n += p.serialize().size() + 8;  // the pointer, its field tag and length
  return n;
}

SecretBytes build_message_content(const MessageId& id, std::uint64_t sent_ms, ByteView body,
                                  std::span<const AttachmentPointer> attachments) {
  content::Content c = header(id, sent_ms);
  c.set_body(to_field(body));
  add_attachments(c, attachments);
  return finish(c);
}

SecretBytes build_copy_content(const MessageId& id, std::uint64_t sent_ms,
                               std::string_view recipient, ByteView body,
                               std::span<const AttachmentPointer> attachments) {
  content::Content c = header(id, sent_ms);
  c.mutable_sent()->set_recipient(std::string(recipient));
  c.mutable_sent()->set_body(to_field(body));
  add_attachments(c, attachments);
  return finish(c);
}

SecretBytes build_retry_content(const MessageId& id, std::uint64_t sent_ms,
                                const std::vector<EnvelopeId>& ids) {
  content::Content c = header(id, sent_ms);
  for (const EnvelopeId& e : ids)
    c.mutable_retry()->add_envelope_ids(to_field(e));
  return finish(c);
}

Result<ContentParts> parse_content(ByteView bytes) {
  content::Content c;
  struct Wiper {
    content::Content& c;
    ~Wiper() { wipe_content(c); }
  } wiper{c};
  if (!parse_from(c, bytes)) return Error(Errc::kInvalidProtobuf, "content: protobuf");
  if (!c.has_format() || c.format() != kContentFormat)
    return Error(Errc::kInvalidMessage, "content: unknown format");
  if (!c.has_message_id() || !c.has_sent_ms())
    return Error(Errc::kInvalidMessage, "content: missing field");
  ContentParts out;
  if (!read_fixed(c.message_id(), out.id)) return Error(Errc::kInvalidMessage, "content: id size");
  out.sent_ms = c.sent_ms();
  const int kinds = int{c.has_body()} + int{c.has_sent()} + int{c.has_retry()};
  if (kinds != 1) return Error(Errc::kInvalidMessage, "content: not exactly one kind");
  if (static_cast<std::size_t>(c.attachments_size()) > kMaxAttachmentsPerMessage)
    return Error(Errc::kLimitExceeded, "content: too many attachments");
  if (c.has_retry() && c.attachments_size() > 0)
    return Error(Errc::kInvalidMessage, "content: attachments on a retry request");
  for (const auto& a : c.attachments()) {
    auto p = pointer_from_message(a);
    if (!p) return p.error();
    out.attachments.push_back(std::move(*p));
  }
  if (c.has_body()) {
    out.kind = ContentKind::kMessage;
    out.body = SecretBytes::copy_of(as_bytes(c.body()));
  } else if (c.has_sent()) {
    const content::SentCopy& s = c.sent();
    if (!s.has_recipient() || !s.has_body())
      return Error(Errc::kInvalidMessage, "content: copy field missing");
    if (s.recipient().size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "content: recipient too long");
    if (s.recipient().empty()) return Error(Errc::kInvalidMessage, "content: empty recipient");
    out.kind = ContentKind::kSentCopy;
    out.recipient = s.recipient();
    out.body = SecretBytes::copy_of(as_bytes(s.body()));
  } else {
    const content::RetryRequest& r = c.retry();
    if (static_cast<std::size_t>(r.envelope_ids_size()) > kMaxRetryEnvelopeIds)
      return Error(Errc::kLimitExceeded, "content: too many retry ids");
    if (r.envelope_ids_size() == 0) return Error(Errc::kInvalidMessage, "content: empty retry");
    out.kind = ContentKind::kRetryRequest;
    for (const std::string& id : r.envelope_ids()) {
      EnvelopeId e{};
      if (!read_fixed(id, e)) return Error(Errc::kInvalidMessage, "content: retry id size");
      out.retry_ids.push_back(e);
    }
  }
  return out;
}

}  // namespace hush::internal

// hush internal: the Content inside a Messenger envelope (see content.h).
#include "messenger/content.h"

#include <algorithm>

#include <hush/limits.h>

#include "attachment/pointer_proto.h"
#include "call/call_message_proto.h"
#include "content.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr std::uint32_t kContentFormat = 1;

// Room for the Content's other fields around the body: the id, the time, the tags and lengths,
// the longest recipient name, and a quote (an id and the longest author name) and a group context.
constexpr std::size_t kContentOverhead = 128 + 2 * kMaxAddressNameBytes;

content::Content header(const MessageId& id, std::uint64_t sent_ms) {
  content::Content c;
  c.set_format(kContentFormat);
  c.set_message_id(to_field(id));
  c.set_sent_ms(sent_ms);
  return c;
}

// Overwrites the secrets a Content holds: bodies, sender keys and attachment keys.
void wipe_content(content::Content& c) {
  wipe(c.mutable_body());
  if (c.has_sent()) wipe(c.mutable_sent()->mutable_body());
  if (c.has_group_update()) wipe(c.mutable_group_update()->mutable_sender_key());
  if (c.has_call()) wipe_call_message(*c.mutable_call());
  for (auto& a : *c.mutable_attachments())
    wipe_pointer_message(a);
}

SecretBytes finish(content::Content& c) {
  SecretBytes out = serialize_to_secret(c);
  wipe_content(c);
  return out;
}

void set_context(content::Content& c, const ContentContext& context) {
  if (context.quote) {
    c.mutable_quote()->set_message_id(to_field(context.quote->id));
    c.mutable_quote()->set_author(context.quote->author);
  }
  if (context.group) {
    c.mutable_group()->set_group_id(to_field(context.group->id));
    c.mutable_group()->set_revision(context.group->revision);
  }
}

// Strictly ascending names (one encoding per set), each valid.
Status read_names(const google::protobuf::RepeatedPtrField<std::string>& in,
                  std::vector<std::string>& out) {
  if (static_cast<std::size_t>(in.size()) > kMaxGroupMembers)
    return Error(Errc::kLimitExceeded, "content: too many group members");
  out.reserve(static_cast<std::size_t>(in.size()));
  for (const std::string& n : in) {
    if (n.size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "content: member name too long");
    if (n.empty()) return Error(Errc::kInvalidMessage, "content: empty member name");
    if (!out.empty() && !(out.back() < n))
      return Error(Errc::kInvalidMessage, "content: members not strictly ascending");
    out.push_back(n);
  }
  return ok_status();
}

Result<ContentContext> read_context(const content::Content& c) {
  ContentContext out;
  if (c.has_quote()) {
    const content::Quote& q = c.quote();
    if (!q.has_message_id() || !q.has_author())
      return Error(Errc::kInvalidMessage, "content: quote field missing");
    if (q.author().size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "content: quote author too long");
    QuoteParts parts;
    if (!read_fixed(q.message_id(), parts.id) || q.author().empty())
      return Error(Errc::kInvalidMessage, "content: quote");
    parts.author = q.author();
    out.quote = std::move(parts);
  }
  if (c.has_group()) {
    const content::GroupContext& g = c.group();
    GroupContextParts parts;
    if (!g.has_revision() || !g.has_group_id() || !read_fixed(g.group_id(), parts.id))
      return Error(Errc::kInvalidMessage, "content: group context");
    parts.revision = g.revision();
    out.group = parts;
  }
  return out;
}

Result<ReceiptParts> read_receipt(const content::Receipt& r) {
  if (!r.has_type() || (r.type() != 1 && r.type() != 2))
    return Error(Errc::kInvalidMessage, "content: receipt type");
  if (static_cast<std::size_t>(r.message_ids_size()) > kMaxReceiptMessageIds)
    return Error(Errc::kLimitExceeded, "content: too many receipt ids");
  if (r.message_ids_size() == 0) return Error(Errc::kInvalidMessage, "content: empty receipt");
  ReceiptParts out;
  out.type = r.type();
  for (const std::string& id : r.message_ids()) {
    MessageId m{};
    if (!read_fixed(id, m)) return Error(Errc::kInvalidMessage, "content: receipt id size");
    out.ids.push_back(m);
  }
  return out;
}

Result<GroupUpdateParts> read_group_update(const content::GroupUpdate& u) {
  GroupUpdateParts out;
  if (!u.has_group_id() || !u.has_revision() || !read_fixed(u.group_id(), out.id))
    return Error(Errc::kInvalidMessage, "content: group update id");
  out.revision = u.revision();
  if (!u.has_state() && !u.has_sender_key())
    return Error(Errc::kInvalidMessage, "content: empty group update");
  if (u.has_state()) {
    const content::GroupState& st = u.state();
    if (!st.has_name()) return Error(Errc::kInvalidMessage, "content: group name missing");
    if (st.name().size() > kMaxMessengerGroupNameBytes)
      return Error(Errc::kLimitExceeded, "content: group name too long");
    GroupStateParts parts;
    parts.name = st.name();
    if (auto r = read_names(st.members(), parts.members); !r) return r.error();
    if (auto r = read_names(st.admins(), parts.admins); !r) return r.error();
    if (parts.members.empty()) return Error(Errc::kInvalidMessage, "content: no group members");
    for (const std::string& a : parts.admins)
      if (!std::binary_search(parts.members.begin(), parts.members.end(), a))
        return Error(Errc::kInvalidMessage, "content: an admin who is not a member");
    const int proof_fields =
        int{st.has_creator()} + int{st.has_creator_identity()} + int{st.has_nonce()};
    if (proof_fields != 0 && proof_fields != 3)
      return Error(Errc::kInvalidMessage, "content: a group proof missing a field");
    if (proof_fields == 0 && st.certificates_size() != 0)
      return Error(Errc::kInvalidMessage, "content: admin certificates without a group proof");
    if (proof_fields == 3) {
      GroupProof proof;
      if (st.creator().empty() || st.creator().size() > kMaxAddressNameBytes)
        return Error(Errc::kInvalidMessage, "content: group creator name");
      proof.creator = st.creator();
      auto creator_identity = PublicKey::parse(as_bytes(st.creator_identity()));
      if (!creator_identity) return Error(Errc::kInvalidMessage, "content: group creator key");
      proof.creator_identity = *creator_identity;
      if (!read_fixed(st.nonce(), proof.nonce))
        return Error(Errc::kInvalidMessage, "content: group nonce size");
      // One per admin at most (the admins are bounded already).
      if (static_cast<std::size_t>(st.certificates_size()) > parts.admins.size())
        return Error(Errc::kInvalidMessage, "content: more admin certificates than admins");
      for (const content::AdminCertificate& c : st.certificates()) {
        if (!c.has_admin() || c.admin().empty() || c.admin().size() > kMaxAddressNameBytes)
          return Error(Errc::kInvalidMessage, "content: admin certificate name");
        if (!proof.certificates.empty() && !(proof.certificates.back().admin < c.admin()))
          return Error(Errc::kInvalidMessage, "content: admin certificates not strictly ascending");
        auto identity = PublicKey::parse(as_bytes(c.identity()));
        if (!identity) return Error(Errc::kInvalidMessage, "content: admin certificate key");
        auto signature = Signature::parse(as_bytes(c.signature()));
        if (!signature) return Error(Errc::kInvalidMessage, "content: admin certificate signature");
        proof.certificates.push_back(AdminCertificate{c.admin(), *identity, *signature});
      }
      parts.proof = std::move(proof);
    }
    out.state = std::move(parts);
  }
  if (u.has_sender_key()) {
    if (u.sender_key().size() > kMaxSenderKeyDistributionBytes)
      return Error(Errc::kLimitExceeded, "content: sender key too large");
    if (u.sender_key().empty()) return Error(Errc::kInvalidMessage, "content: empty sender key");
    out.sender_key = SecretBytes::copy_of(as_bytes(u.sender_key()));
    out.key_serial = u.key_serial();
  } else if (u.has_key_serial()) {
    return Error(Errc::kInvalidMessage, "content: a key serial without a key");
  }
  return out;
}

void add_attachments(content::Content& c, std::span<const AttachmentPointer> attachments) {
  for (const AttachmentPointer& p : attachments)
    pointer_to_message(p, *c.add_attachments());
}

}  // namespace

SecretBytes build_receipt_content(const MessageId& id, std::uint64_t sent_ms,
                                  const ReceiptParts& receipt) {
  content::Content c = header(id, sent_ms);
  c.mutable_receipt()->set_type(receipt.type);
  for (const MessageId& m : receipt.ids)
    c.mutable_receipt()->add_message_ids(to_field(m));
  return finish(c);
}

SecretBytes build_group_update_content(const MessageId& id, std::uint64_t sent_ms,
                                       const GroupUpdateParts& update) {
  content::Content c = header(id, sent_ms);
  content::GroupUpdate* u = c.mutable_group_update();
  u->set_group_id(to_field(update.id));
  u->set_revision(update.revision);
  if (update.state) {
    content::GroupState* st = u->mutable_state();
    st->set_name(update.state->name);
    for (const std::string& m : update.state->members)
      st->add_members(m);
    for (const std::string& a : update.state->admins)
      st->add_admins(a);
    if (const auto& proof = update.state->proof) {
      st->set_creator(proof->creator);
      st->set_creator_identity(to_field(proof->creator_identity.serialize()));
      st->set_nonce(to_field(proof->nonce));
      for (const AdminCertificate& a : proof->certificates) {
        content::AdminCertificate* cert = st->add_certificates();
        cert->set_admin(a.admin);
        cert->set_identity(to_field(a.identity.serialize()));
        cert->set_signature(to_field(a.signature.bytes));
      }
    }
  }
  if (!update.sender_key.empty()) {
    u->set_sender_key(to_field(update.sender_key.expose()));
    if (update.key_serial != 0) u->set_key_serial(update.key_serial);
  }
  return finish(c);
}

SecretBytes build_call_content(const MessageId& id, std::uint64_t sent_ms,
                               const CallMessageParts& call) {
  content::Content c = header(id, sent_ms);
  call_message_to_proto(call, *c.mutable_call());
  return finish(c);
}

std::size_t max_message_body_bytes() {
  return kMaxPlaintextBytes - kContentOverhead;
}

std::size_t attachments_content_bytes(std::span<const AttachmentPointer> attachments) {
  std::size_t n = 0;
  for (const AttachmentPointer& p : attachments)
    n += p.serialize().size() + 8;  // the pointer, its field tag and length
  return n;
}

bool message_fits(ByteView body, std::span<const AttachmentPointer> attachments) {
  return attachments.size() <= kMaxAttachmentsPerMessage &&
         body.size() <= max_message_body_bytes() &&
         attachments_content_bytes(attachments) <= max_message_body_bytes() - body.size();
}

SecretBytes build_message_content(const MessageId& id, std::uint64_t sent_ms, ByteView body,
                                  const ContentContext& context,
                                  std::span<const AttachmentPointer> attachments) {
  content::Content c = header(id, sent_ms);
  c.set_body(to_field(body));
  set_context(c, context);
  add_attachments(c, attachments);
  return finish(c);
}

SecretBytes build_copy_content(const MessageId& id, std::uint64_t sent_ms,
                               std::string_view recipient, ByteView body,
                               const ContentContext& context,
                               std::span<const AttachmentPointer> attachments) {
  content::Content c = header(id, sent_ms);
  set_context(c, context);
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
  const int kinds = int{c.has_body()} + int{c.has_sent()} + int{c.has_retry()} +
                    int{c.has_receipt()} + int{c.has_group_update()} + int{c.has_call()};
  if (kinds != 1) return Error(Errc::kInvalidMessage, "content: not exactly one kind");
  if (static_cast<std::size_t>(c.attachments_size()) > kMaxAttachmentsPerMessage)
    return Error(Errc::kLimitExceeded, "content: too many attachments");
  if (c.attachments_size() > 0 && !c.has_body() && !c.has_sent())
    return Error(Errc::kInvalidMessage, "content: attachments on another kind than a message");
  for (const auto& a : c.attachments()) {
    auto p = pointer_from_message(a);
    if (!p) return p.error();
    out.attachments.push_back(std::move(*p));
  }
  if ((c.has_quote() || c.has_group()) && !c.has_body() && !c.has_sent())
    return Error(Errc::kInvalidMessage, "content: context on another kind than a message");
  auto context = read_context(c);
  if (!context) return context.error();
  out.context = std::move(*context);
  if (c.has_receipt()) {
    auto receipt = read_receipt(c.receipt());
    if (!receipt) return receipt.error();
    out.kind = ContentKind::kReceipt;
    out.receipt = std::move(*receipt);
  } else if (c.has_group_update()) {
    auto update = read_group_update(c.group_update());
    if (!update) return update.error();
    out.kind = ContentKind::kGroupUpdate;
    out.group_update = std::move(*update);
  } else if (c.has_call()) {
    auto call = read_call_message(c.call());
    if (!call) return call.error();
    out.kind = ContentKind::kCall;
    out.call = std::move(*call);
  } else if (c.has_body()) {
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

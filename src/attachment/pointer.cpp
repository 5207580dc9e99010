// hush: AttachmentPointer's format (proto/attachment.proto), ids and saved file names.
#include <algorithm>

#include <hush/attachment.h>
#include <hush/limits.h>

#include "attachment/pointer_proto.h"
#include "attachment/segments.h"
#include "proto_util.h"

namespace hush {

namespace {

constexpr std::uint32_t kPointerFormat = 1;

bool printable_ascii(std::string_view s) noexcept {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

bool is_valid_attachment_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxAttachmentIdBytes) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::uint64_t attachment_ciphertext_size(std::uint64_t plaintext_size) noexcept {
  using namespace internal::attachment;
  return kHeaderBytes + plaintext_size + kTagBytes * segment_count(plaintext_size);
}

std::string sanitized_attachment_file_name(std::string_view name) {
  // Only the last component of a path, whichever separator the sender's system uses.
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos)
    name = name.substr(slash + 1);
  while (!name.empty() && (name.front() == '.' || name.front() == ' '))
    name.remove_prefix(1);
  std::string out;
  out.reserve(std::min(name.size(), kMaxAttachmentFileNameBytes));
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '_' : c);
  }
  if (out.size() > kMaxAttachmentFileNameBytes) {
    std::size_t cut = kMaxAttachmentFileNameBytes;
    // Do not cut a UTF-8 character in two: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80)
      --cut;
    out.resize(cut);
  }
  if (out.empty()) out = "attachment";
  return out;
}

AttachmentPointer AttachmentPointer::clone() const {
  AttachmentPointer p;
  p.id = id;
  p.key = key.clone();
  p.digest = digest;
  p.size = size;
  p.content_type = content_type;
  p.file_name = file_name;
  return p;
}

SecretBytes AttachmentPointer::serialize() const {
  internal::PointerMessage m;
  internal::pointer_to_message(*this, m);
  SecretBytes out = internal::serialize_to_secret(m);
  internal::wipe_pointer_message(m);
  return out;
}

Result<AttachmentPointer> AttachmentPointer::parse(ByteView data) {
  if (data.size() > kMaxAttachmentPointerBytes)
    return Error(Errc::kLimitExceeded, "AttachmentPointer::parse: too large");
  internal::PointerMessage m;
  struct Wiper {
    internal::PointerMessage& m;
    ~Wiper() { internal::wipe_pointer_message(m); }
  } wiper{m};
  if (!internal::parse_from(m, data))
    return Error(Errc::kInvalidProtobuf, "AttachmentPointer::parse: protobuf");
  return internal::pointer_from_message(m);
}

namespace internal {

void pointer_to_message(const AttachmentPointer& p, PointerMessage& m) {
  m.set_format(kPointerFormat);
  m.set_id(p.id);
  m.set_key(to_field(p.key.expose()));
  m.set_digest(to_field(p.digest));
  m.set_size(p.size);
  m.set_content_type(p.content_type);
  m.set_file_name(p.file_name);
}

void wipe_pointer_message(PointerMessage& m) {
  wipe(m.mutable_key());
}

Result<AttachmentPointer> pointer_from_message(const PointerMessage& m) {
  if (!m.has_format() || m.format() != kPointerFormat)
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: unknown format");
  if (!m.has_id() || !m.has_key() || !m.has_digest() || !m.has_size())
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: missing field");
  if (m.id().size() > kMaxAttachmentIdBytes ||
      m.content_type().size() > kMaxAttachmentContentTypeBytes ||
      m.file_name().size() > kMaxAttachmentFileNameBytes)
    return Error(Errc::kLimitExceeded, "AttachmentPointer::parse: a field is too long");
  if (m.size() > kMaxAttachmentBytes)
    return Error(Errc::kAttachmentTooLarge, "AttachmentPointer::parse: size over the limit");
  if (!is_valid_attachment_id(m.id()))
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: id characters");
  if (!printable_ascii(m.content_type()))
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: content type characters");
  AttachmentPointer p;
  if (!read_secret(m.key(), p.key))
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: key size");
  if (!read_fixed(m.digest(), p.digest))
    return Error(Errc::kInvalidMessage, "AttachmentPointer::parse: digest size");
  p.id = m.id();
  p.size = m.size();
  p.content_type = m.content_type();
  p.file_name = m.file_name();
  return p;
}

}  // namespace internal

}  // namespace hush

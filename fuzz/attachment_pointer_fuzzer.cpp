// hush fuzz target: attachments as untrusted input (include/hush/attachment.h). The first byte
// picks what the rest is:
//   bit 0 clear: a serialized AttachmentPointer (it arrives inside a peer's message). Parse must
//     succeed or fail with a documented error; a parsed pointer obeys every limit, serializes
//     within kMaxAttachmentPointerBytes and parses back to the same fields; the file name it
//     would be saved under is one safe path component.
//   bit 0 set: a blob (what a blob store serves) for decrypt_attachment under a fixed key, with
//     the plaintext size in the next two bytes: it decrypts or fails with kAttachmentCorrupt,
//     releasing only whole authenticated segments. Then the remaining bytes are taken as a
//     plaintext, encrypted, and must decrypt to themselves; the blob with one byte altered (at a
//     position the input picks) must be refused.
//
// Links the real library (hush_fuzz_real): tags are checked for real.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <hush/hush.h>

#include "fuzz_common.h"

using namespace hush;

namespace {

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteView data) : data_(data) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::min(out.size(), data_.size());
    std::copy_n(data_.begin(), n, out.begin());
    data_ = data_.subspan(n);
    return n;
  }

 private:
  ByteView data_;
};

class VectorSink final : public ByteSink {
 public:
  Status write(ByteView data) override {
    bytes.insert(bytes.end(), data.begin(), data.end());
    return ok_status();
  }
  Bytes bytes;
};

bool code_is(const Error& e, std::initializer_list<Errc> codes) {
  return std::find(codes.begin(), codes.end(), e.code()) != codes.end();
}

void pointer(ByteView input) {
  auto p = AttachmentPointer::parse(input);
  if (!p) {
    fuzz::check(code_is(p.error(), {Errc::kLimitExceeded, Errc::kInvalidProtobuf,
                                    Errc::kInvalidMessage, Errc::kAttachmentTooLarge}),
                "parse: a documented error");
    return;
  }
  fuzz::check(is_valid_attachment_id(p->id), "parse: a valid id");
  fuzz::check(p->size <= kMaxAttachmentBytes, "parse: size within the limit");
  fuzz::check(p->content_type.size() <= kMaxAttachmentContentTypeBytes, "parse: type length");
  fuzz::check(p->file_name.size() <= kMaxAttachmentFileNameBytes, "parse: name length");
  for (char c : p->content_type)
    fuzz::check(c >= 0x20 && c <= 0x7e, "parse: printable type");
  const SecretBytes again = p->serialize();
  fuzz::check(again.size() <= kMaxAttachmentPointerBytes, "serialize: within the limit");
  auto q = AttachmentPointer::parse(again.expose());
  fuzz::check(q.has_value(), "serialize: parses back");
  fuzz::check(q->id == p->id && q->size == p->size && q->digest == p->digest &&
                  q->content_type == p->content_type && q->file_name == p->file_name &&
                  constant_time_equals(q->key.expose(), p->key.expose()),
              "serialize: the same fields");
  const std::string name = sanitized_attachment_file_name(p->file_name);
  fuzz::check(!name.empty() && name.size() <= kMaxAttachmentFileNameBytes, "name: length");
  fuzz::check(name.front() != '.' && name.front() != ' ', "name: no leading dot");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    fuzz::check(c != '/' && c != '\\' && u >= 0x20 && u != 0x7f, "name: one safe component");
  }
}

void blob(ByteView input) {
  if (input.size() < 3) return;
  const std::uint64_t size = (std::uint64_t{input[0]} << 8) | input[1];
  const std::size_t flip_at = input[2];
  const ByteView rest = input.subspan(3);
  SecretArray<kAttachmentKeyBytes> key;
  std::fill(key.expose_mut().begin(), key.expose_mut().end(), std::uint8_t{0x5a});
  {
    MemorySource source(rest);
    VectorSink out;
    const Status st = decrypt_attachment(key, size, source, out);
    fuzz::check(st || st.error().code() == Errc::kAttachmentCorrupt, "decrypt: corrupt or ok");
    fuzz::check(out.bytes.size() <= size, "decrypt: no more than the size");
    if (st) fuzz::check(out.bytes.size() == size, "decrypt: the whole plaintext");
    // Segments are 64 KiB: a blob this short has one, so a failure released nothing.
    if (!st) fuzz::check(out.bytes.empty(), "decrypt: nothing unauthenticated released");
  }
  fuzz::FuzzRandom random(7);
  fuzz::FuzzClock clock;
  const Context ctx{random, clock, nullptr};
  MemorySource plain(rest);
  VectorSink sealed;
  auto enc = encrypt_attachment(ctx, plain, rest.size(), sealed);
  fuzz::check(enc.has_value(), "encrypt");
  fuzz::check(sealed.bytes.size() == attachment_ciphertext_size(rest.size()), "encrypt: size");
  {
    MemorySource source(sealed.bytes);
    VectorSink out;
    fuzz::check(decrypt_attachment(enc->key, rest.size(), source, out).has_value(),
                "round trip decrypts");
    fuzz::check(out.bytes == Bytes(rest.begin(), rest.end()), "round trip: same bytes");
  }
  Bytes altered = sealed.bytes;
  altered[flip_at % altered.size()] ^= 0x01;
  MemorySource source(altered);
  VectorSink out;
  const Status st = decrypt_attachment(enc->key, rest.size(), source, out);
  fuzz::check(!st && st.error().code() == Errc::kAttachmentCorrupt, "altered blob refused");
  fuzz::check(out.bytes.empty(), "altered blob: nothing released");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  if ((data[0] & 1) == 0)
    pointer(input);
  else
    blob(input);
  return 0;
}

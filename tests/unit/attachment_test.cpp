// hush tests: attachments (include/hush/attachment.h): round trips, every tamper a store or a
// sender can try, stores that lie, the pointer's format and limits, saved file names, and that
// memory stays bounded (sources and sinks are asked for at most one segment at a time).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/attachment.h>
#include <hush/limits.h>

#include "attachment.pb.h"
#include "crypto/hash.h"
#include "support/memory_io.h"
#include "support/test_support.h"

using hush::AttachmentPointer;
using hush::Bytes;
using hush::ByteView;
using hush::Errc;
using hush::Result;
using hush::Status;

namespace {

constexpr std::size_t kSeg = std::size_t{64} << 10;

// Deterministic bytes of any length, generated as read (never held whole).
class PatternSource final : public hush::ByteSource {
 public:
  PatternSource(std::uint64_t size, std::uint8_t seed) : size_(size), seed_(seed) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    max_request = std::max(max_request, out.size());
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - pos_));
    for (std::size_t i = 0; i < n; ++i)
      out[i] = byte_at(pos_ + i);
    pos_ += n;
    return n;
  }
  std::uint8_t byte_at(std::uint64_t i) const {
    return static_cast<std::uint8_t>((i * 131 + (i >> 13) + seed_) & 0xff);
  }
  std::size_t max_request = 0;

 private:
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::uint8_t seed_;
};

using hush::test::MemorySource;
using hush::test::VectorSink;

// Counts and hashes what it is given, keeping none of it.
class HashSink final : public hush::ByteSink {
 public:
  Status write(ByteView data) override {
    max_write = std::max(max_write, data.size());
    size += data.size();
    hash.update(data);
    return hush::ok_status();
  }
  std::array<std::uint8_t, 32> digest() {
    std::array<std::uint8_t, 32> d{};
    hash.final(d);
    return d;
  }
  hush::internal::crypto::Sha256 hash;
  std::uint64_t size = 0;
  std::size_t max_write = 0;
};

// A blob store in memory. `serve` may change what get() hands out (a lying server); it is told
// how many times the blob was fetched before.
class MemoryBlobStore final : public hush::BlobStore {
 public:
  Result<std::string> put(hush::ByteSource& blob, std::uint64_t size) override {
    Bytes data;
    std::array<std::uint8_t, 4096> buf{};
    for (;;) {
      auto n = blob.read(buf);
      if (!n) return n.error();
      if (*n == 0) break;
      data.insert(data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    if (data.size() != size) return hush::Error(Errc::kTransportFailure, "test store: size");
    std::string id = next_id ? *next_id : "blob-" + std::to_string(blobs.size());
    blobs[id] = std::move(data);
    return id;
  }
  Status get(std::string_view id, hush::ByteSink& out) override {
    auto it = blobs.find(std::string(id));
    if (it == blobs.end()) return hush::Error(Errc::kTransportFailure, "test store: no blob");
    Bytes data = it->second;
    if (serve) serve(data, gets[std::string(id)]);
    ++gets[std::string(id)];
    for (std::size_t off = 0; off < data.size(); off += 5000) {
      const std::size_t n = std::min<std::size_t>(5000, data.size() - off);
      if (auto st = out.write(ByteView(data).subspan(off, n)); !st) return st;
    }
    return hush::ok_status();
  }
  std::map<std::string, Bytes> blobs;
  std::map<std::string, int> gets;
  std::function<void(Bytes&, int)> serve;
  std::optional<std::string> next_id;
};

struct Fixture {
  hush::test::SeededRandom random{7};
  hush::test::FixedClock clock;
  hush::Context ctx{random, clock, nullptr};
  MemoryBlobStore store;
  hush::test::TempDir dir;

  Bytes plaintext(std::size_t size, std::uint8_t seed = 1) {
    PatternSource src(size, seed);
    Bytes out(size);
    REQUIRE(src.read(out).value() == size);
    return out;
  }
  AttachmentPointer upload(const Bytes& data, std::string name = "photo.jpg") {
    MemorySource src(data, 777);
    auto p = hush::upload_attachment(ctx, store, src, data.size(), "image/jpeg", name);
    REQUIRE(p);
    return std::move(*p);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  Bytes read_file(const std::filesystem::path& p) const {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  // Downloads and expects `code`, with nothing left in the directory.
  void expect_refused(const AttachmentPointer& p, Errc code) {
    auto r = hush::download_and_decrypt(store, p, dir.path());
    REQUIRE_FALSE(r);
    CHECK(hush::to_string(r.error().code()) == hush::to_string(code));
    CHECK(files().empty());
  }
};

std::array<std::uint8_t, 32> sha256(const Bytes& b) {
  return hush::internal::crypto::sha256(b);
}

}  // namespace

TEST_CASE("attachment round trip through a blob store for every segment boundary",
          "[unit][attachment]") {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, kSeg - 1, kSeg, kSeg + 1, 3 * kSeg + 17, 4 * kSeg}) {
    INFO(size);
    Fixture f;
    const Bytes data = f.plaintext(size);
    AttachmentPointer p = f.upload(data);
    CHECK(p.size == size);
    const Bytes& blob = f.store.blobs.at(p.id);
    CHECK(blob.size() == hush::attachment_ciphertext_size(size));
    CHECK(p.digest == sha256(blob));
    // The store holds no plaintext (for non-trivial sizes, no 16-byte run of it).
    if (size >= 64)
      CHECK(std::search(blob.begin(), blob.end(), data.begin() + 16, data.begin() + 48) ==
            blob.end());
    auto saved = hush::download_and_decrypt(f.store, p, f.dir.path());
    REQUIRE(saved);
    CHECK(saved->filename() == "photo.jpg");
    CHECK(f.read_file(*saved) == data);
    CHECK(f.files() == std::vector<std::string>{"photo.jpg"});  // no spool or part file left
  }
}

TEST_CASE("attachment ciphertext size is header plus data plus one tag per segment",
          "[unit][attachment]") {
  CHECK(hush::attachment_ciphertext_size(0) == 8 + 16);
  CHECK(hush::attachment_ciphertext_size(1) == 8 + 1 + 16);
  CHECK(hush::attachment_ciphertext_size(kSeg) == 8 + kSeg + 16);
  CHECK(hush::attachment_ciphertext_size(kSeg + 1) == 8 + kSeg + 1 + 32);
  CHECK(hush::attachment_ciphertext_size(hush::kMaxAttachmentBytes) ==
        8 + hush::kMaxAttachmentBytes + 16 * (hush::kMaxAttachmentBytes / kSeg));
}

TEST_CASE("two uploads of one file use different keys and blobs", "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(1000);
  AttachmentPointer a = f.upload(data);
  AttachmentPointer b = f.upload(data);
  CHECK_FALSE(hush::constant_time_equals(a.key.expose(), b.key.expose()));
  CHECK(a.digest != b.digest);
}

TEST_CASE("a store serving altered bytes is refused before any plaintext is written",
          "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(3 * kSeg + 100);
  AttachmentPointer p = f.upload(data);
  const std::size_t seg_ct = kSeg + 16;
  struct Tamper {
    const char* what;
    std::function<void(Bytes&)> change;
  };
  const std::vector<Tamper> tampers = {
      {"bit flip in the header", [](Bytes& b) { b[3] ^= 1; }},
      {"bit flip in a segment", [](Bytes& b) { b[8 + kSeg + 500] ^= 0x80; }},
      {"bit flip in a tag", [](Bytes& b) { b[8 + kSeg + 5] ^= 1; }},
      {"bit flip in the last byte", [](Bytes& b) { b.back() ^= 1; }},
      {"truncated by a byte", [](Bytes& b) { b.pop_back(); }},
      {"truncated to whole segments", [&](Bytes& b) { b.resize(8 + 3 * seg_ct); }},
      {"empty", [](Bytes& b) { b.clear(); }},
      {"extended by a byte", [](Bytes& b) { b.push_back(0); }},
      {"extended by a segment",
       [&](Bytes& b) {
         b.insert(b.end(), b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(seg_ct));
       }},
      {"two segments swapped",
       [&](Bytes& b) {
         std::swap_ranges(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(seg_ct),
                          b.begin() + 8 + static_cast<std::ptrdiff_t>(seg_ct));
       }},
  };
  for (const Tamper& t : tampers) {
    INFO(t.what);
    f.store.serve = [&](Bytes& b, int) { t.change(b); };
    f.expect_refused(p, Errc::kDigestMismatch);
  }
  // The honest blob still downloads.
  f.store.serve = nullptr;
  auto saved = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(saved);
  CHECK(f.read_file(*saved) == data);
}

TEST_CASE("a pointer with another digest or size is refused", "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(2 * kSeg + 3);
  AttachmentPointer p = f.upload(data);
  {
    AttachmentPointer q = p.clone();
    q.digest[0] ^= 1;
    f.expect_refused(q, Errc::kDigestMismatch);
  }
  for (std::uint64_t size : {p.size - 1, p.size + 1, std::uint64_t{0}, 2 * std::uint64_t{kSeg}}) {
    INFO(size);
    AttachmentPointer q = p.clone();
    q.size = size;
    f.expect_refused(q, Errc::kDigestMismatch);
  }
  {
    AttachmentPointer q = p.clone();
    q.size = hush::kMaxAttachmentBytes + 1;
    const int before = f.store.gets[p.id];
    f.expect_refused(q, Errc::kAttachmentTooLarge);
    CHECK(f.store.gets[p.id] == before);  // refused before asking the store
  }
  {
    AttachmentPointer q = p.clone();
    q.id = "../escape";
    f.expect_refused(q, Errc::kInvalidArgument);
  }
  {
    AttachmentPointer q = p.clone();
    q.id = "missing";
    f.expect_refused(q, Errc::kTransportFailure);
  }
}

TEST_CASE("a blob with the right digest under the wrong key is refused and nothing is saved",
          "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(3 * kSeg);
  AttachmentPointer p = f.upload(data);
  AttachmentPointer q = p.clone();
  q.key.expose_mut()[31] ^= 1;
  f.expect_refused(q, Errc::kAttachmentCorrupt);
}

TEST_CASE("a sender's blob that does not decrypt is refused even with a matching digest",
          "[unit][attachment]") {
  // The digest only says the store served what the sender uploaded; the segments must still
  // authenticate. A sender (who knows the key) altering its own blob after sealing gets nothing
  // saved, not even the segments before the altered one.
  Fixture f;
  const Bytes data = f.plaintext(3 * kSeg + 9);
  AttachmentPointer p = f.upload(data);
  Bytes& blob = f.store.blobs.at(p.id);
  blob[8 + 2 * (kSeg + 16) + 4] ^= 1;  // in the third segment
  p.digest = sha256(blob);
  f.expect_refused(p, Errc::kAttachmentCorrupt);
}

TEST_CASE("the store is read once per download so a second answer cannot differ",
          "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(2 * kSeg + 1);
  AttachmentPointer p = f.upload(data);
  // Honest on the first fetch, lying afterwards: the download reads once (into its spool), so the
  // lie is never seen and the file is right.
  f.store.serve = [](Bytes& b, int before) {
    if (before > 0) b[100] ^= 1;
  };
  auto saved = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(saved);
  CHECK(f.store.gets[p.id] == 1);
  CHECK(f.read_file(*saved) == data);
  // Lying first and honest afterwards: refused, then a retry succeeds; one fetch each.
  std::filesystem::remove(*saved);
  f.store.gets.clear();
  f.store.serve = [](Bytes& b, int before) {
    if (before == 0) b[100] ^= 1;
  };
  f.expect_refused(p, Errc::kDigestMismatch);
  auto again = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(again);
  CHECK(f.store.gets[p.id] == 2);
  CHECK(f.read_file(*again) == data);
}

TEST_CASE("a store that sends endless bytes is cut off at the pointer's size",
          "[unit][attachment]") {
  class EndlessStore final : public hush::BlobStore {
   public:
    Result<std::string> put(hush::ByteSource&, std::uint64_t) override { return std::string("x"); }
    Status get(std::string_view, hush::ByteSink& out) override {
      Bytes chunk(65536, 0x41);
      // Ignores the sink's refusals for a while, as a broken server might.
      for (int i = 0; i < 64; ++i)
        (void)out.write(chunk);
      return hush::ok_status();
    }
  } store;
  Fixture f;
  AttachmentPointer p;
  p.id = "x";
  p.size = 1000;
  auto r = hush::download_and_decrypt(store, p, f.dir.path());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kDigestMismatch);
  CHECK(f.files().empty());
}

TEST_CASE("an existing file is never replaced", "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(10);
  AttachmentPointer p = f.upload(data, "notes.txt");
  { std::ofstream(f.dir.file("notes.txt")) << "mine"; }
  auto a = hush::download_and_decrypt(f.store, p, f.dir.path());
  auto b = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->filename() == "notes (1).txt");
  CHECK(b->filename() == "notes (2).txt");
  CHECK(f.read_file(f.dir.file("notes.txt")) == Bytes{'m', 'i', 'n', 'e'});
  CHECK(f.read_file(*b) == data);
}

TEST_CASE("a numbered name for a long file name stays within 255 bytes", "[unit][attachment]") {
  // A 255-byte name (the most a pointer carries) whose file exists already: the numbered choices
  // shorten the stem (at a character boundary) and keep the extension.
  const std::string stem = std::string(246, 'a') + "\xc3\xa9";  // 248 bytes, é at 246..247
  const std::string name = stem + ".txt";                       // 252 bytes
  Fixture f;
  const Bytes data = f.plaintext(7);
  AttachmentPointer p = f.upload(data, name);
  { std::ofstream(f.dir.file(name)) << "mine"; }
  auto a = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(a);
  const std::string saved = a->filename().string();
  CHECK(saved.size() <= hush::kMaxAttachmentFileNameBytes);
  CHECK(saved == std::string(246, 'a') + " (1).txt");  // 247 bytes would split the é
  CHECK(f.read_file(*a) == data);
  // An extension too long to keep with the number is shortened with the stem.
  const std::string dotted = "x." + std::string(252, 'e');  // 254 bytes
  AttachmentPointer q = f.upload(data, dotted);
  { std::ofstream(f.dir.file(dotted)) << "mine"; }
  auto b = hush::download_and_decrypt(f.store, q, f.dir.path());
  REQUIRE(b);
  CHECK(b->filename().string().size() == hush::kMaxAttachmentFileNameBytes);
  CHECK(b->filename().string().ends_with(" (1)"));
}

TEST_CASE("a sender's file name is saved sanitized inside the directory", "[unit][attachment]") {
  using hush::sanitized_attachment_file_name;
  CHECK(sanitized_attachment_file_name("../../etc/passwd") == "passwd");
  CHECK(sanitized_attachment_file_name("C:\\Users\\x\\report.pdf") == "report.pdf");
  CHECK(sanitized_attachment_file_name(".bashrc") == "bashrc");
  CHECK(sanitized_attachment_file_name("..") == "attachment");
  CHECK(sanitized_attachment_file_name("") == "attachment");
  CHECK(sanitized_attachment_file_name("a/") == "attachment");
  CHECK(sanitized_attachment_file_name(std::string("a\nb\x7f\0c", 6)) == "a_b__c");
  const std::string long_name = std::string(254, 'a') + "\xc3\xa9";  // 256 bytes, é at 254..255
  CHECK(sanitized_attachment_file_name(long_name) == std::string(254, 'a'));
  Fixture f;
  AttachmentPointer p = f.upload(f.plaintext(5), "../../../tmp/evil.sh");
  auto saved = hush::download_and_decrypt(f.store, p, f.dir.path());
  REQUIRE(saved);
  CHECK(saved->parent_path() == std::filesystem::path(f.dir.path()));
  CHECK(f.files() == std::vector<std::string>{"evil.sh"});
}

TEST_CASE("segments authenticate their position and the end of the file", "[unit][attachment]") {
  // decrypt_attachment alone (no digest): the AEAD format itself refuses reordering, truncation
  // at a segment boundary, extension and another size.
  Fixture f;
  const Bytes data = f.plaintext(3 * kSeg);
  MemorySource src(data);
  VectorSink blob_sink;
  auto enc = hush::encrypt_attachment(f.ctx, src, data.size(), blob_sink);
  REQUIRE(enc);
  const Bytes blob = blob_sink.bytes;
  CHECK(enc->digest == sha256(blob));
  const std::size_t seg_ct = kSeg + 16;
  auto decrypt = [&](const Bytes& b, std::uint64_t size) {
    MemorySource s(b, 4096);
    VectorSink out;
    return std::make_pair(hush::decrypt_attachment(enc->key, size, s, out), out.bytes);
  };
  {
    auto [st, out] = decrypt(blob, data.size());
    REQUIRE(st);
    CHECK(out == data);
  }
  struct Case {
    const char* what;
    Bytes blob;
    std::uint64_t size;
  };
  std::vector<Case> cases;
  cases.push_back({"the final segment dropped, size to match",
                   Bytes(blob.begin(), blob.end() - static_cast<std::ptrdiff_t>(seg_ct)),
                   2 * kSeg});
  cases.push_back({"a byte dropped", Bytes(blob.begin(), blob.end() - 1), data.size()});
  {
    Bytes b = blob;
    b.insert(b.end(), b.end() - static_cast<std::ptrdiff_t>(seg_ct), b.end());
    cases.push_back({"the final segment repeated", b, data.size()});
    cases.push_back({"the final segment repeated, size to match", b, 4 * kSeg});
  }
  {
    Bytes b = blob;
    b.push_back(0);
    cases.push_back({"a byte appended", b, data.size()});
  }
  {
    Bytes b = blob;
    std::swap_ranges(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(seg_ct),
                     b.begin() + 8 + static_cast<std::ptrdiff_t>(seg_ct));
    cases.push_back({"first two segments swapped", b, data.size()});
  }
  {
    Bytes b = blob;
    b[0] = 2;
    cases.push_back({"another version byte", b, data.size()});
    b = blob;
    b[5] ^= 1;
    cases.push_back({"another nonce prefix", b, data.size()});
  }
  {
    Bytes b = blob;
    b[9] ^= 1;
    cases.push_back({"a flipped bit in the first segment", b, data.size()});
  }
  cases.push_back({"a smaller size", blob, data.size() - 1});
  cases.push_back({"a larger size", blob, data.size() + 1});
  cases.push_back({"the header only", Bytes(blob.begin(), blob.begin() + 8), 0});
  for (const Case& c : cases) {
    INFO(c.what);
    auto [st, out] = decrypt(c.blob, c.size);
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kAttachmentCorrupt);
    // Only segments that authenticated were released, never the final one.
    CHECK(out.size() < data.size());
    CHECK(std::equal(out.begin(), out.end(), data.begin()));
  }
}

TEST_CASE("a source that is shorter or longer than its size is refused", "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(kSeg + 10);
  for (std::uint64_t claimed : {std::uint64_t{kSeg + 9}, std::uint64_t{kSeg + 11}, std::uint64_t{0},
                                std::uint64_t{2 * kSeg}}) {
    INFO(claimed);
    MemorySource src(data);
    VectorSink sink;
    auto r = hush::encrypt_attachment(f.ctx, src, claimed, sink);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidArgument);
    MemorySource src2(data);
    auto u = hush::upload_attachment(f.ctx, f.store, src2, claimed, "", "");
    REQUIRE_FALSE(u);
    CHECK(u.error().code() == Errc::kInvalidArgument);
  }
  PatternSource huge(hush::kMaxAttachmentBytes + 1, 0);
  VectorSink sink;
  auto r = hush::encrypt_attachment(f.ctx, huge, hush::kMaxAttachmentBytes + 1, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kAttachmentTooLarge);
  CHECK(huge.max_request == 0);  // refused before reading
  auto u = hush::upload_attachment(f.ctx, f.store, huge, hush::kMaxAttachmentBytes + 1, "", "");
  REQUIRE_FALSE(u);
  CHECK(u.error().code() == Errc::kAttachmentTooLarge);
  CHECK(f.store.blobs.empty());
}

TEST_CASE("a store that lies on upload is refused", "[unit][attachment]") {
  Fixture f;
  const Bytes data = f.plaintext(1000);
  for (const char* id : {"", "../x", "a b", "a/b"}) {
    INFO(id);
    f.store.next_id = id;
    MemorySource src(data);
    auto u = hush::upload_attachment(f.ctx, f.store, src, data.size(), "", "");
    REQUIRE_FALSE(u);
    CHECK(u.error().code() == Errc::kInvalidArgument);
  }
  class LazyStore final : public hush::BlobStore {
   public:
    Result<std::string> put(hush::ByteSource& blob, std::uint64_t) override {
      std::array<std::uint8_t, 10> b{};
      (void)blob.read(b);
      return std::string("early");
    }
    Status get(std::string_view, hush::ByteSink&) override { return hush::ok_status(); }
  } lazy;
  MemorySource src(data);
  auto u = hush::upload_attachment(f.ctx, lazy, src, data.size(), "", "");
  REQUIRE_FALSE(u);
  CHECK(u.error().code() == Errc::kInvalidArgument);
  MemorySource src2(data);
  auto t = hush::upload_attachment(f.ctx, f.store, src2, data.size(), "text/\x01", "");
  REQUIRE_FALSE(t);
  CHECK(t.error().code() == Errc::kInvalidArgument);
}

TEST_CASE("a large attachment streams through one segment of memory", "[unit][attachment]") {
  // 24 MiB generated as read, never held whole: encrypted to a sink that keeps only a hash, then
  // uploaded to a store that decrypts while it reads (upload pulls the blob segment by segment).
  // Sources are asked for at most a segment, sinks get at most a segment and its tag.
  constexpr std::uint64_t kSize = (std::uint64_t{24} << 20) + 12345;
  Fixture f;
  PatternSource src(kSize, 3);
  HashSink blob;
  auto enc = hush::encrypt_attachment(f.ctx, src, kSize, blob);
  REQUIRE(enc);
  CHECK(blob.size == hush::attachment_ciphertext_size(kSize));
  CHECK(enc->digest == blob.digest());
  CHECK(src.max_request <= kSeg);
  CHECK(blob.max_write <= kSeg + 16);

  HashSink expected;
  {
    PatternSource again(kSize, 3);
    std::vector<std::uint8_t> buf(kSeg);
    for (;;) {
      const std::size_t n = again.read(buf).value();
      if (n == 0) break;
      REQUIRE(expected.write({buf.data(), n}));
    }
  }
  // The key upload_attachment will draw: the first 32 bytes of its random source.
  hush::SecretArray<32> key;
  REQUIRE(hush::test::SeededRandom(99).fill(key.expose_mut()));

  class HashingSource final : public hush::ByteSource {
   public:
    explicit HashingSource(hush::ByteSource& in) : in_(in) {}
    Result<std::size_t> read(std::span<std::uint8_t> out) override {
      auto n = in_.read(out);
      if (n) REQUIRE(sink.write(out.first(*n)));
      return n;
    }
    hush::ByteSource& in_;
    HashSink sink;
  };
  class DecryptingStore final : public hush::BlobStore {
   public:
    DecryptingStore(const hush::SecretArray<32>& key, std::uint64_t size)
        : key_(key), size_(size) {}
    Result<std::string> put(hush::ByteSource& blob, std::uint64_t) override {
      HashingSource hashing(blob);
      if (auto st = hush::decrypt_attachment(key_, size_, hashing, plaintext); !st)
        return st.error();
      blob_digest = hashing.sink.digest();
      return std::string("big");
    }
    Status get(std::string_view, hush::ByteSink&) override { return hush::ok_status(); }
    const hush::SecretArray<32>& key_;
    std::uint64_t size_;
    HashSink plaintext;
    std::array<std::uint8_t, 32> blob_digest{};
  } store(key, kSize);
  hush::test::SeededRandom r(99);
  hush::Context ctx{r, f.clock, nullptr};
  PatternSource src2(kSize, 3);
  auto p = hush::upload_attachment(ctx, store, src2, kSize, "video/mp4", "big.mp4");
  REQUIRE(p);
  CHECK(hush::constant_time_equals(p->key.expose(), key.expose()));
  CHECK(store.plaintext.size == kSize);
  CHECK(store.plaintext.digest() == expected.digest());
  CHECK(store.blob_digest == p->digest);
  CHECK(src2.max_request <= kSeg);
  CHECK(store.plaintext.max_write <= kSeg);
}

namespace {

hush::attachment::AttachmentPointer valid_pointer_message() {
  hush::attachment::AttachmentPointer m;
  m.set_format(1);
  m.set_id("abc_DEF-123");
  m.set_key(std::string(32, 'k'));
  m.set_digest(std::string(32, 'd'));
  m.set_size(12345);
  m.set_content_type("image/png");
  m.set_file_name("cat.png");
  return m;
}

Result<AttachmentPointer> parse_message(const hush::attachment::AttachmentPointer& m) {
  const std::string bytes = m.SerializeAsString();
  return AttachmentPointer::parse(
      ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace

TEST_CASE("attachment pointers round trip", "[unit][attachment]") {
  Fixture f;
  AttachmentPointer p = f.upload(f.plaintext(100), "r\xc3\xa9sum\xc3\xa9.pdf");
  const hush::SecretBytes bytes = p.serialize();
  CHECK(bytes.size() <= hush::kMaxAttachmentPointerBytes);
  auto q = AttachmentPointer::parse(bytes.expose());
  REQUIRE(q);
  CHECK(q->id == p.id);
  CHECK(hush::constant_time_equals(q->key.expose(), p.key.expose()));
  CHECK(q->digest == p.digest);
  CHECK(q->size == p.size);
  CHECK(q->content_type == "image/jpeg");
  CHECK(q->file_name == p.file_name);
  auto parsed = parse_message(valid_pointer_message());
  REQUIRE(parsed);
  CHECK(parsed->size == 12345);
  // Every field at its limit still fits kMaxAttachmentPointerBytes.
  AttachmentPointer big = p.clone();
  big.id = std::string(hush::kMaxAttachmentIdBytes, 'a');
  big.size = hush::kMaxAttachmentBytes;
  big.content_type = std::string(hush::kMaxAttachmentContentTypeBytes, 't');
  big.file_name = std::string(hush::kMaxAttachmentFileNameBytes, 'n');
  CHECK(big.serialize().size() <= hush::kMaxAttachmentPointerBytes);
  CHECK(AttachmentPointer::parse(big.serialize().expose()));
}

TEST_CASE("malformed attachment pointers are refused with typed errors", "[unit][attachment]") {
  using M = hush::attachment::AttachmentPointer;
  struct Case {
    const char* what;
    std::function<void(M&)> change;
    Errc code;
  };
  const std::vector<Case> cases = {
      {"no format", [](M& m) { m.clear_format(); }, Errc::kInvalidMessage},
      {"format 2", [](M& m) { m.set_format(2); }, Errc::kInvalidMessage},
      {"no id", [](M& m) { m.clear_id(); }, Errc::kInvalidMessage},
      {"no key", [](M& m) { m.clear_key(); }, Errc::kInvalidMessage},
      {"no digest", [](M& m) { m.clear_digest(); }, Errc::kInvalidMessage},
      {"no size", [](M& m) { m.clear_size(); }, Errc::kInvalidMessage},
      {"empty id", [](M& m) { m.set_id(""); }, Errc::kInvalidMessage},
      {"id with a slash", [](M& m) { m.set_id("../a"); }, Errc::kInvalidMessage},
      {"id with a NUL", [](M& m) { m.set_id(std::string("a\0b", 3)); }, Errc::kInvalidMessage},
      {"id too long", [](M& m) { m.set_id(std::string(hush::kMaxAttachmentIdBytes + 1, 'a')); },
       Errc::kLimitExceeded},
      {"short key", [](M& m) { m.set_key(std::string(31, 'k')); }, Errc::kInvalidMessage},
      {"long key", [](M& m) { m.set_key(std::string(33, 'k')); }, Errc::kInvalidMessage},
      {"short digest", [](M& m) { m.set_digest(std::string(31, 'd')); }, Errc::kInvalidMessage},
      {"size over the limit", [](M& m) { m.set_size(hush::kMaxAttachmentBytes + 1); },
       Errc::kAttachmentTooLarge},
      {"content type with a newline", [](M& m) { m.set_content_type("text/plain\n"); },
       Errc::kInvalidMessage},
      {"content type too long",
       [](M& m) { m.set_content_type(std::string(hush::kMaxAttachmentContentTypeBytes + 1, 't')); },
       Errc::kLimitExceeded},
      {"file name too long",
       [](M& m) { m.set_file_name(std::string(hush::kMaxAttachmentFileNameBytes + 1, 'n')); },
       Errc::kLimitExceeded},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    M m = valid_pointer_message();
    c.change(m);
    auto r = parse_message(m);
    REQUIRE_FALSE(r);
    CHECK(hush::to_string(r.error().code()) == hush::to_string(c.code));
  }
  const Bytes garbage = {0xff, 0xff, 0xff};
  auto g = AttachmentPointer::parse(garbage);
  REQUIRE_FALSE(g);
  CHECK(g.error().code() == Errc::kInvalidProtobuf);
  const Bytes huge(hush::kMaxAttachmentPointerBytes + 1, 0);
  auto h = AttachmentPointer::parse(huge);
  REQUIRE_FALSE(h);
  CHECK(h.error().code() == Errc::kLimitExceeded);
}

TEST_CASE("attachment errors have their names", "[unit][attachment]") {
  CHECK(hush::to_string(Errc::kDigestMismatch) == "digest_mismatch");
  CHECK(hush::to_string(Errc::kAttachmentTooLarge) == "attachment_too_large");
  CHECK(hush::to_string(Errc::kAttachmentCorrupt) == "attachment_corrupt");
}

TEST_CASE("a file uploads from its path", "[unit][attachment]") {
  Fixture f;
  hush::test::TempDir src_dir;
  const Bytes data = f.plaintext(kSeg + 5);
  {
    std::ofstream out(src_dir.file("clip.bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }
  auto p = hush::upload_attachment_file(f.ctx, f.store, src_dir.file("clip.bin"),
                                        "application/octet-stream");
  REQUIRE(p);
  CHECK(p->file_name == "clip.bin");
  CHECK(p->size == data.size());
  auto saved = hush::download_and_decrypt(f.store, *p, f.dir.path());
  REQUIRE(saved);
  CHECK(f.read_file(*saved) == data);
  auto missing = hush::upload_attachment_file(f.ctx, f.store, src_dir.file("nope"), "");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Errc::kStoreFailure);
  auto nodir = hush::download_and_decrypt(f.store, *p, src_dir.file("nope"));
  REQUIRE_FALSE(nodir);
  CHECK(nodir.error().code() == Errc::kInvalidArgument);
}

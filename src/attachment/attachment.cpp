// hush: attachment encryption, upload, download and decryption (include/hush/attachment.h).
//
// Files are reached through POSIX descriptors: mkstemp gives private (0600) temporary files with
// unguessable names, and link() puts the finished file in place without ever replacing an
// existing one (rename would).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <hush/attachment.h>
#include <hush/limits.h>

#include "attachment/segments.h"
#include "crypto/hash.h"

namespace hush {

namespace {

using internal::attachment::Header;
using internal::attachment::kFormatVersion;
using internal::attachment::kHeaderBytes;
using internal::attachment::kSegmentBytes;
using internal::attachment::kTagBytes;
using internal::attachment::segment_count;
using internal::attachment::segment_plaintext_bytes;
using internal::attachment::SegmentCipher;

// Reads until `out` is full or the source ends; returns how many bytes were read.
Result<std::size_t> read_full(ByteSource& source, std::span<std::uint8_t> out) {
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = source.read(out.subspan(got));
    if (!n) return n.error();
    if (*n == 0) break;
    if (*n > out.size() - got)
      return Error(Errc::kInvalidArgument, "attachment: a source read more than asked");
    got += *n;
  }
  return got;
}

// True if the source has nothing more.
Result<bool> at_end(ByteSource& source) {
  std::uint8_t probe = 0;
  auto n = read_full(source, {&probe, 1});
  if (!n) return n.error();
  return *n == 0;
}

// From this size on, the blob's SHA-256 runs on a second thread while the next segments are
// sealed (SHA-256 and AES-GCM one after the other on one core stay under 1 GiB/s; side by side
// they do not). Below it, starting a thread costs more than it saves.
constexpr std::uint64_t kPipelineMinBytes = std::uint64_t{1} << 20;
// Segments in flight: sealed, waiting to be hashed (bounded memory: this many segment buffers).
constexpr std::size_t kPipelineDepth = 4;

// SHA-256 of the blob, either inline or on a worker thread that this object starts and joins
// (no thread outlives it). add() hands over bytes that must stay unchanged until hashed(ticket).
class BlobHasher {
 public:
  explicit BlobHasher(bool threaded) {
    if (!threaded) return;
    try {
      worker_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      // No thread to be had: hash inline.
    }
  }
  ~BlobHasher() { stop(); }
  BlobHasher(const BlobHasher&) = delete;
  BlobHasher& operator=(const BlobHasher&) = delete;

  // Queues `bytes`; returns its ticket.
  std::uint64_t add(ByteView bytes) {
    if (!worker_.joinable()) {
      hash_.update(bytes);
      return ++submitted_;
    }
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(bytes);
      ++submitted_;
    }
    wake_.notify_all();
    return submitted_;
  }
  // Waits until the bytes of `ticket` (and all before) are hashed.
  void hashed(std::uint64_t ticket) {
    if (!worker_.joinable()) return;
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return done_ >= ticket; });
  }
  void final(std::span<std::uint8_t, 32> out) {
    hashed(submitted_);
    stop();
    hash_.final(out);
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      const ByteView bytes = queue_.front();
      lock.unlock();
      hash_.update(bytes);
      lock.lock();
      queue_.pop_front();
      ++done_;
      wake_.notify_all();
    }
  }
  // Lets the worker finish what is queued (the bytes are still alive: the owner outlives this)
  // and joins it.
  void stop() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  internal::crypto::Sha256 hash_;  // the worker's while it runs, then ours
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ByteView> queue_;
  std::uint64_t submitted_ = 0;  // only the owner's thread
  std::uint64_t done_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

// The blob of a plaintext, produced segment by segment as it is read (what upload hands the
// store, and what encrypt_attachment copies to its sink). Hashes the blob as it goes (on a second
// thread for large files, see kPipelineMinBytes).
class Encryptor final : public ByteSource {
 public:
  Encryptor(ByteSource& plaintext, std::uint64_t size, SecretArray<kAttachmentKeyBytes> key,
            const Header& header)
      : plaintext_(plaintext),
        size_(size),
        segments_(segment_count(size)),
        key_(std::move(key)),
        header_(header),
        cipher_(key_, header_),
        hasher_(size >= kPipelineMinBytes) {
    const std::size_t depth = size >= kPipelineMinBytes ? kPipelineDepth : 1;
    buffers_.reserve(depth);
    for (std::size_t i = 0; i < depth; ++i)
      buffers_.emplace_back(kSegmentBytes + kTagBytes);
    tickets_.assign(depth, 0);
    pending_ = ByteView(header_);
    hasher_.add(pending_);
  }

  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    if (error_) return *error_;
    if (pending_.empty() && next_ < segments_) {
      if (auto st = next_segment(); !st) {
        error_ = st.error();
        return st.error();
      }
    }
    const std::size_t n = std::min(out.size(), pending_.size());
    std::copy_n(pending_.begin(), n, out.begin());
    pending_ = pending_.subspan(n);
    return n;
  }

  // True once every byte of the blob was read.
  bool finished() const noexcept { return !error_ && next_ == segments_ && pending_.empty(); }
  const std::optional<Error>& error() const noexcept { return error_; }
  std::array<std::uint8_t, kAttachmentDigestBytes> digest() {
    std::array<std::uint8_t, kAttachmentDigestBytes> d{};
    hasher_.final(d);
    return d;
  }
  SecretArray<kAttachmentKeyBytes> take_key() { return std::move(key_); }

 private:
  Status next_segment() {
    const bool last = next_ + 1 == segments_;
    const std::size_t n = segment_plaintext_bytes(size_, next_);
    // The buffer this segment reuses must be hashed first (the reader is done with it).
    const std::size_t slot = static_cast<std::size_t>(next_ % buffers_.size());
    hasher_.hashed(tickets_[slot]);
    std::span<std::uint8_t> seg = buffers_[slot].expose_mut().first(n + kTagBytes);
    auto got = read_full(plaintext_, seg.first(n));
    if (!got) return got.error();
    if (*got != n)
      return Error(Errc::kInvalidArgument, "attachment: the file is shorter than its size");
    if (last) {
      auto end = at_end(plaintext_);
      if (!end) return end.error();
      if (!*end)
        return Error(Errc::kInvalidArgument, "attachment: the file is longer than its size");
    }
    cipher_.seal(static_cast<std::uint32_t>(next_), last, seg);
    tickets_[slot] = hasher_.add(seg);
    pending_ = seg;
    ++next_;
    return ok_status();
  }

  ByteSource& plaintext_;
  std::uint64_t size_;
  std::uint64_t segments_;
  std::uint64_t next_ = 0;
  SecretArray<kAttachmentKeyBytes> key_;
  Header header_;
  SegmentCipher cipher_;
  std::vector<SecretBytes> buffers_;    // hold plaintext before it is sealed in place
  std::vector<std::uint64_t> tickets_;  // per buffer: the hasher's ticket of its last segment
  ByteView pending_;
  std::optional<Error> error_;
  BlobHasher hasher_;  // last: stopped (its queue drained) before the buffers go
};

// A fresh key and header for a new blob.
Status fresh_key(const Context& ctx, SecretArray<kAttachmentKeyBytes>& key, Header& header) {
  if (auto st = ctx.random.fill(key.expose_mut()); !st) return st;
  header[0] = kFormatVersion;
  return ctx.random.fill(std::span<std::uint8_t>(header).subspan(1));
}

// ---- files ----

// A descriptor closed on destruction; a temporary file's path is unlinked unless kept.
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  }
  // A new private temporary file in `directory` named like `pattern` (ending in XXXXXX).
  bool create_temp(const std::filesystem::path& directory, const char* pattern) {
    std::string templ = (directory / pattern).string();
    fd_ = ::mkstemp(templ.data());
    if (fd_ < 0) return false;
    temp_path_ = templ;
    return true;
  }
  bool open_read(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    return fd_ >= 0;
  }
  int fd() const noexcept { return fd_; }
  const std::string& temp_path() const noexcept { return temp_path_; }

 private:
  int fd_ = -1;
  std::string temp_path_;
};

class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    for (;;) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return Error(Errc::kStoreFailure, "attachment: cannot read a file");
    }
  }

 private:
  int fd_;
};

Status write_all(int fd, ByteView data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Errc::kStoreFailure, "attachment: cannot write a file");
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return ok_status();
}

class FdSink final : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  Status write(ByteView data) override { return write_all(fd_, data); }

 private:
  int fd_;
};

// Where a download's ciphertext goes first: counted (never more than `expected` bytes), hashed
// and written to the spool file.
class SpoolSink final : public ByteSink {
 public:
  SpoolSink(int fd, std::uint64_t expected) : fd_(fd), expected_(expected) {}
  Status write(ByteView data) override {
    if (data.size() > expected_ - received_) {
      overflow_ = true;
      return Error(Errc::kDigestMismatch, "download_and_decrypt: larger than the pointer says");
    }
    received_ += data.size();
    hash_.update(data);
    return write_all(fd_, data);
  }
  bool overflow() const noexcept { return overflow_; }
  std::uint64_t received() const noexcept { return received_; }
  std::array<std::uint8_t, kAttachmentDigestBytes> digest() {
    std::array<std::uint8_t, kAttachmentDigestBytes> d{};
    hash_.final(d);
    return d;
  }

 private:
  int fd_;
  std::uint64_t expected_;
  std::uint64_t received_ = 0;
  bool overflow_ = false;
  internal::crypto::Sha256 hash_;
};

// The name of the n-th choice for a saved file: "name", "stem (1).ext", "stem (2).ext", ...,
// never longer than kMaxAttachmentFileNameBytes (what file systems take): the stem is shortened
// (at a UTF-8 character boundary) to make room for the number, and an extension too long to keep
// is treated as part of the stem.
std::string numbered_name(const std::string& name, int n) {
  if (n == 0) return name;
  const std::filesystem::path p(name);
  std::string stem = p.stem().string();
  std::string ext = p.extension().string();
  const std::string number = " (" + std::to_string(n) + ")";
  if (number.size() + ext.size() + 1 > kMaxAttachmentFileNameBytes) {
    stem += ext;
    ext.clear();
  }
  const std::size_t room = kMaxAttachmentFileNameBytes - number.size() - ext.size();
  if (stem.size() > room) {
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(stem[cut]) & 0xc0) == 0x80)
      --cut;
    stem.resize(cut);
  }
  return stem + number + ext;
}

// Tries a few numbered names before giving up (a directory full of one name is a caller problem).
constexpr int kMaxNameChoices = 1000;

Status check_type_and_name(std::string_view content_type, std::string_view file_name) {
  if (content_type.size() > kMaxAttachmentContentTypeBytes ||
      file_name.size() > kMaxAttachmentFileNameBytes)
    return Error(Errc::kLimitExceeded, "upload_attachment: content type or file name too long");
  for (char c : content_type)
    if (c < 0x20 || c > 0x7e)
      return Error(Errc::kInvalidArgument, "upload_attachment: content type not printable ASCII");
  return ok_status();
}

}  // namespace

Result<EncryptedAttachment> encrypt_attachment(const Context& ctx, ByteSource& plaintext,
                                               std::uint64_t size, ByteSink& ciphertext) {
  if (size > kMaxAttachmentBytes)
    return Error(Errc::kAttachmentTooLarge, "encrypt_attachment: over the size limit");
  SecretArray<kAttachmentKeyBytes> key;
  Header header{};
  if (auto st = fresh_key(ctx, key, header); !st) return st.error();
  Encryptor enc(plaintext, size, std::move(key), header);
  std::vector<std::uint8_t> chunk(kSegmentBytes + kTagBytes);  // ciphertext only
  for (;;) {
    auto n = enc.read(chunk);
    if (!n) return n.error();
    if (*n == 0) break;
    if (auto st = ciphertext.write({chunk.data(), *n}); !st) return st.error();
  }
  EncryptedAttachment out;
  out.digest = enc.digest();
  out.key = enc.take_key();
  out.size = size;
  return out;
}

Status decrypt_attachment(const SecretArray<kAttachmentKeyBytes>& key, std::uint64_t size,
                          ByteSource& ciphertext, ByteSink& plaintext) {
  if (size > kMaxAttachmentBytes)
    return Error(Errc::kAttachmentTooLarge, "decrypt_attachment: over the size limit");
  Header header{};
  auto got = read_full(ciphertext, header);
  if (!got) return got.error();
  if (*got != kHeaderBytes || header[0] != kFormatVersion)
    return Error(Errc::kAttachmentCorrupt, "decrypt_attachment: no version 1 header");
  SegmentCipher cipher(key, header);
  SecretBytes buffer(kSegmentBytes + kTagBytes);
  const std::uint64_t segments = segment_count(size);
  for (std::uint64_t i = 0; i < segments; ++i) {
    const bool last = i + 1 == segments;
    const std::size_t n = segment_plaintext_bytes(size, i);
    std::span<std::uint8_t> seg = buffer.expose_mut().first(n + kTagBytes);
    auto read = read_full(ciphertext, seg);
    if (!read) return read.error();
    if (*read != seg.size())
      return Error(Errc::kAttachmentCorrupt, "decrypt_attachment: truncated");
    if (!cipher.open(static_cast<std::uint32_t>(i), last, seg))
      return Error(Errc::kAttachmentCorrupt, "decrypt_attachment: a segment does not authenticate");
    if (last) {
      // Nothing may follow the final segment; checked before it is released, so a blob that
      // fails releases at most the segments before its final one.
      auto end = at_end(ciphertext);
      if (!end) return end.error();
      if (!*end) return Error(Errc::kAttachmentCorrupt, "decrypt_attachment: extended");
    }
    if (auto st = plaintext.write(seg.first(n)); !st) return st;
  }
  return ok_status();
}

Result<AttachmentPointer> upload_attachment(const Context& ctx, BlobStore& store,
                                            ByteSource& plaintext, std::uint64_t size,
                                            std::string_view content_type,
                                            std::string_view file_name) {
  if (size > kMaxAttachmentBytes)
    return Error(Errc::kAttachmentTooLarge, "upload_attachment: over the size limit");
  if (auto st = check_type_and_name(content_type, file_name); !st) return st.error();
  SecretArray<kAttachmentKeyBytes> key;
  Header header{};
  if (auto st = fresh_key(ctx, key, header); !st) return st.error();
  Encryptor enc(plaintext, size, std::move(key), header);
  auto id = store.put(enc, attachment_ciphertext_size(size));
  // The file's own failure (shorter, unreadable) is the better explanation than the store's.
  if (enc.error()) return *enc.error();
  if (!id) return id.error();
  if (!enc.finished())
    return Error(Errc::kInvalidArgument, "upload_attachment: the store stopped reading early");
  if (!is_valid_attachment_id(*id))
    return Error(Errc::kInvalidArgument, "upload_attachment: the store returned an unusable id");
  AttachmentPointer p;
  p.id = std::move(*id);
  p.digest = enc.digest();
  p.key = enc.take_key();
  p.size = size;
  p.content_type = std::string(content_type);
  p.file_name = std::string(file_name);
  return p;
}

Result<AttachmentPointer> upload_attachment_file(const Context& ctx, BlobStore& store,
                                                 const std::filesystem::path& path,
                                                 std::string_view content_type) {
  File file;
  if (!file.open_read(path))
    return Error(Errc::kStoreFailure, "upload_attachment_file: cannot open the file");
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error(Errc::kStoreFailure, "upload_attachment_file: not a regular file");
  std::string name = path.filename().string();
  if (name.size() > kMaxAttachmentFileNameBytes) name = sanitized_attachment_file_name(name);
  FdSource source(file.fd());
  return upload_attachment(ctx, store, source, static_cast<std::uint64_t>(st.st_size), content_type,
                           name);
}

Result<std::filesystem::path> download_and_decrypt(BlobStore& store,
                                                   const AttachmentPointer& pointer,
                                                   const std::filesystem::path& directory) {
  if (pointer.size > kMaxAttachmentBytes)
    return Error(Errc::kAttachmentTooLarge, "download_and_decrypt: over the size limit");
  if (!is_valid_attachment_id(pointer.id))
    return Error(Errc::kInvalidArgument, "download_and_decrypt: invalid blob id");
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec))
    return Error(Errc::kInvalidArgument, "download_and_decrypt: no such directory");

  // 1. The ciphertext, once, into a private spool file: counted, hashed, never more than the
  // pointer's size implies. The store cannot change it after this.
  File spool;
  if (!spool.create_temp(directory, ".hush-spool-XXXXXX"))
    return Error(Errc::kStoreFailure, "download_and_decrypt: cannot create a spool file");
  SpoolSink sink(spool.fd(), attachment_ciphertext_size(pointer.size));
  const Status got = store.get(pointer.id, sink);
  if (sink.overflow())
    return Error(Errc::kDigestMismatch, "download_and_decrypt: larger than the pointer says");
  if (!got) return got.error();
  if (sink.received() != attachment_ciphertext_size(pointer.size))
    return Error(Errc::kDigestMismatch, "download_and_decrypt: size differs from the pointer");
  const auto digest = sink.digest();
  if (!constant_time_equals(digest, pointer.digest))
    return Error(Errc::kDigestMismatch, "download_and_decrypt: digest differs from the pointer");

  // 2. Only now any plaintext: into a private temporary file, removed on failure.
  if (::lseek(spool.fd(), 0, SEEK_SET) != 0)
    return Error(Errc::kStoreFailure, "download_and_decrypt: cannot read the spool file");
  File part;
  if (!part.create_temp(directory, ".hush-part-XXXXXX"))
    return Error(Errc::kStoreFailure, "download_and_decrypt: cannot create a file");
  FdSource source(spool.fd());
  FdSink out(part.fd());
  if (auto st = decrypt_attachment(pointer.key, pointer.size, source, out); !st) return st.error();
  if (::fsync(part.fd()) != 0)
    return Error(Errc::kStoreFailure, "download_and_decrypt: cannot write the file");

  // 3. Into place under a name that is free (link never replaces an existing file).
  const std::string name = sanitized_attachment_file_name(pointer.file_name);
  for (int n = 0; n < kMaxNameChoices; ++n) {
    const std::filesystem::path target = directory / numbered_name(name, n);
    if (::link(part.temp_path().c_str(), target.c_str()) == 0) {
      if (File dir; dir.open_read(directory)) (void)::fsync(dir.fd());
      return target;
    }
    if (errno != EEXIST)
      return Error(Errc::kStoreFailure, "download_and_decrypt: cannot save the file");
  }
  return Error(Errc::kLimitExceeded, "download_and_decrypt: too many files of that name");
}

}  // namespace hush

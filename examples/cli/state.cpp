// hush-cli: the state directory (see state.h).
#include "state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>

namespace hush_cli {

namespace {

constexpr const char* kStateFile = "state";
constexpr const char* kTempFile = ".state.tmp";
constexpr std::array<std::uint8_t, 8> kMagic = {'H', 'U', 'S', 'H', 'C', 'L', 'I', 0x01};
constexpr std::size_t kMaxNameBytes = 4096;
constexpr std::size_t kFixedHeaderBytes = kMagic.size() + 4 + 4 + 4 + 8;
constexpr std::size_t kMaxStateFileBytes =
    kFixedHeaderBytes + kMaxNameBytes + hush::kMaxStoreSnapshotBytes;

std::string errno_text() {
  return std::strerror(errno);
}

// mkdir -p with mode 0700 for the directories it creates.
void make_directories(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return;
  if (errno == ENOENT) {
    const std::size_t slash = path.find_last_of('/', path.find_last_not_of('/'));
    if (slash != std::string::npos && slash > 0) {
      make_directories(path.substr(0, slash));
      if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return;
    }
  }
  fail_usage("cannot create state directory '" + path + "': " + errno_text());
}

void write_all(int fd, hush::ByteView data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_usage("cannot write " + what + ": " + errno_text());
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

// Big-endian writer into a fixed-size secret buffer.
class Writer {
 public:
  explicit Writer(std::span<std::uint8_t> out) : out_(out) {}
  void bytes(hush::ByteView b) {
    std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
  }
  void u32(std::uint32_t v) { be(v, 4); }
  void u64(std::uint64_t v) { be(v, 8); }
  std::size_t pos() const { return pos_; }

 private:
  void be(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
      out_[pos_++] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

// Big-endian reader; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(hush::ByteView in) : in_(in) {}
  bool bytes(std::size_t n, hush::ByteView& out) {
    if (in_.size() - pos_ < n) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint64_t w = 0;
    if (!be(4, w)) return false;
    v = static_cast<std::uint32_t>(w);
    return true;
  }
  bool u64(std::uint64_t& v) { return be(8, v); }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  bool be(std::size_t n, std::uint64_t& v) {
    if (in_.size() - pos_ < n) return false;
    v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v = v << 8 | in_[pos_++];
    return true;
  }
  hush::ByteView in_;
  std::size_t pos_ = 0;
};

}  // namespace

StateDir::StateDir(std::string path, Mode mode) : path_(std::move(path)) {
  if (path_.empty()) fail_usage("--state must not be empty");
  if (mode == Mode::kCreate) make_directories(path_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT && mode != Mode::kCreate) {
      fail_usage("'" + path_ + "' does not exist (run: hush-cli --state DIR init)");
    }
    fail_usage("cannot open state directory '" + path_ + "': " + errno_text());
  }
  int rc = 0;
  do {
    rc = ::flock(fd_, mode == Mode::kRead ? LOCK_SH : LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const std::string why = errno_text();
    ::close(fd_);
    fail_usage("cannot lock state directory '" + path_ + "': " + why);
  }
}

StateDir::~StateDir() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

bool StateDir::initialised() const {
  struct stat st {};
  if (::fstatat(fd_, kStateFile, &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  fail_usage("cannot inspect '" + path_ + "/" + kStateFile + "': " + errno_text());
}

State StateDir::load() const {
  const std::string file = path_ + "/" + kStateFile;
  const int fd = ::openat(fd_, kStateFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT)
      fail_usage("'" + path_ + "' is not initialised (run: hush-cli --state DIR init)");
    fail_usage("cannot open '" + file + "': " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail_usage("'" + file + "' is not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > kMaxStateFileBytes) {
    ::close(fd);
    fail_usage("'" + file + "' is too large to be a state file");
  }
  hush::SecretBytes data(static_cast<std::size_t>(size));
  std::span<std::uint8_t> rest = data.expose_mut();
  while (!rest.empty()) {
    const ssize_t n = ::read(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? errno_text() : "file shrank while reading";
      ::close(fd);
      fail_usage("cannot read '" + file + "': " + why);
    }
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  ::close(fd);

  const std::string corrupt = "'" + file + "' is not a valid hush-cli state file";
  Reader r(data.expose());
  hush::ByteView magic, name, snapshot;
  State state;
  std::uint32_t name_len = 0;
  std::uint64_t snapshot_len = 0;
  if (!r.bytes(kMagic.size(), magic) || !std::equal(magic.begin(), magic.end(), kMagic.begin()) ||
      !r.u32(state.meta.device_id) || !r.u32(state.meta.signed_pre_key_id) || !r.u32(name_len) ||
      name_len > kMaxNameBytes || !r.bytes(name_len, name) || !r.u64(snapshot_len) ||
      snapshot_len > hush::kMaxStoreSnapshotBytes ||
      !r.bytes(static_cast<std::size_t>(snapshot_len), snapshot) || !r.at_end()) {
    fail_usage(corrupt);
  }
  state.meta.name.assign(name.begin(), name.end());
  auto store = hush::InMemoryProtocolStore::deserialize(snapshot);
  if (!store) fail_usage(corrupt + " (" + std::string(hush::to_string(store.error().code())) + ")");
  state.store = std::move(store).value();
  return state;
}

StateDir::Pending::Pending(Pending&& other) noexcept
    : dir_fd_(other.dir_fd_), armed_(other.armed_) {
  other.armed_ = false;
}

StateDir::Pending::~Pending() {
  if (armed_) ::unlinkat(dir_fd_, kTempFile, 0);
}

StateDir::Pending StateDir::prepare(const State& state) {
  const hush::SecretBytes snapshot = state.store->serialize();
  const std::string& name = state.meta.name;
  if (name.size() > kMaxNameBytes) fail_usage("the name is longer than 4096 bytes");
  hush::SecretBytes blob(kFixedHeaderBytes + name.size() + snapshot.size());
  Writer w(blob.expose_mut());
  w.bytes(kMagic);
  w.u32(state.meta.device_id);
  w.u32(state.meta.signed_pre_key_id);
  w.u32(static_cast<std::uint32_t>(name.size()));
  w.bytes(hush::as_bytes(name));
  w.u64(snapshot.size());
  w.bytes(snapshot.expose());

  // We hold the exclusive lock, so any temporary file left here is a crashed run's leftover.
  if (::unlinkat(fd_, kTempFile, 0) != 0 && errno != ENOENT) {
    fail_usage("cannot remove stale '" + path_ + "/" + kTempFile + "': " + errno_text());
  }
  const int fd =
      ::openat(fd_, kTempFile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail_usage("cannot create '" + path_ + "/" + kTempFile + "': " + errno_text());
  Pending pending(fd_);  // from here on, unwinding removes the temporary file
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::string what = "'" + path_ + "/" + kTempFile + "'";
  if (::fchmod(fd, 0600) != 0) fail_usage("cannot chmod " + what + ": " + errno_text());
  write_all(fd, blob.expose(), what);
  if (::fsync(fd) != 0) fail_usage("cannot sync " + what + ": " + errno_text());
  return pending;
}

void StateDir::commit(Pending& pending) {
  if (::renameat(fd_, kTempFile, fd_, kStateFile) != 0) {
    fail_usage("cannot rename the new state into place in '" + path_ + "': " + errno_text());
  }
  pending.armed_ = false;
  if (::fsync(fd_) != 0) {
    std::fprintf(stderr,
                 "hush-cli: warning: the new state is in place but syncing '%s' failed: %s\n",
                 path_.c_str(), errno_text().c_str());
  }
}

}  // namespace hush_cli

// hush: the default GenerationCounter (sqlite_store.h): one small text file, replaced atomically.
//
// The file holds "hush generation counter 1\n<decimal>\n". store() writes PATH.tmp (mode 0600) and
// renames it over PATH, so a killed process leaves the old value or the new one, never a torn one;
// sync(), after the database commit, fsyncs the file and the directory, so the value also survives
// a power loss (before sync() a power loss may leave the old value or an unreadable file: the
// counter then looks behind the database, or missing, and both are safe). Anything else in the file
// is kCorruptState (the store then treats the counter as missing: see SqliteStore::open).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include <hush/sqlite_store.h>

namespace hush {

namespace {

constexpr std::string_view kHeader = "hush generation counter 1\n";
constexpr std::size_t kMaxFileBytes = 128;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class GenerationFile final : public GenerationCounter {
 public:
  explicit GenerationFile(std::string path) : path_(std::move(path)) {}

  Result<std::optional<std::uint64_t>> load() override {
    FileDescriptor fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return std::optional<std::uint64_t>();
      return Error(Errc::kStoreFailure, "generation file: cannot open");
    }
    char buf[kMaxFileBytes + 1];
    std::size_t len = 0;
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf + len, sizeof buf - len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error(Errc::kStoreFailure, "generation file: cannot read");
      if (n == 0) break;
      len += static_cast<std::size_t>(n);
      if (len == sizeof buf) return Error(Errc::kCorruptState, "generation file: too large");
    }
    const std::string_view content(buf, len);
    if (content.substr(0, kHeader.size()) != kHeader || content.back() != '\n')
      return Error(Errc::kCorruptState, "generation file: not a generation counter");
    const std::string_view digits = content.substr(kHeader.size(), len - kHeader.size() - 1);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
      return Error(Errc::kCorruptState, "generation file: not a number");
    return std::optional<std::uint64_t>(value);
  }

  Status store(std::uint64_t value) override {
    const std::string tmp = path_ + ".tmp";
    std::string content(kHeader);
    content += std::to_string(value);
    content += '\n';
    {
      FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (fd.get() < 0) return Error(Errc::kStoreFailure, "generation file: cannot create");
      if (::fchmod(fd.get(), 0600) != 0 || !write_all(fd.get(), content))
        return Error(Errc::kStoreFailure, "generation file: cannot write");
      if (::close(fd.release()) != 0)
        return Error(Errc::kStoreFailure, "generation file: cannot write");
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0)
      return Error(Errc::kStoreFailure, "generation file: cannot replace");
    return ok_status();
  }

  Status sync() override {
    FileDescriptor fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0)
      return Error(Errc::kStoreFailure, "generation file: cannot sync");
    FileDescriptor dir(::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0)
      return Error(Errc::kStoreFailure, "generation file: cannot sync its directory");
    return ok_status();
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<GenerationCounter> generation_file(std::string path) {
  return std::make_unique<GenerationFile>(std::move(path));
}

}  // namespace hush

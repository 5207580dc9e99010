// hush-cli: the state directory (see state.h).
#include "state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace hush_cli {

namespace {

constexpr const char* kDatabase = "hush.db";
constexpr const char* kNewDatabase = ".hush.db.new";
constexpr const char* kLinkRequest = "link-request";
constexpr const char* kNewLinkRequest = ".link-request.new";
// A kept LinkRequest is 97 bytes; anything much larger is not one.
constexpr std::size_t kMaxLinkRequestFile = 4096;
constexpr std::string_view kNameKey = "cli/name";
constexpr std::string_view kDeviceKey = "cli/device_id";
// Absent in states made before hush-cli had Kyber prekeys (no Kyber prekey, no requirement).
constexpr std::string_view kLastResortKyberKey = "cli/last_resort_kyber_prekey_id";
constexpr std::string_view kRequirePqKey = "cli/require_pq";
constexpr std::string_view kSignedPreKeyKey = "cli/signed_prekey_id";
constexpr std::string_view kInboxNextKey = "cli/inbox/next";
// How many decrypted plaintexts are kept for `received`.
constexpr std::uint32_t kInboxSlots = 64;

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

hush::Bytes u32_bytes(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

std::optional<std::uint32_t> read_u32(hush::ByteView b) {
  if (b.size() != 4) return std::nullopt;
  return static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
         static_cast<std::uint32_t>(b[2]) << 8 | static_cast<std::uint32_t>(b[3]);
}

// Options for the database: the storage key from HUSH_CLI_STORAGE_KEY, if set.
struct StoreOptions {
  hush::Bytes key;
  hush::SqliteStoreOptions options;
  StoreOptions() {
    const char* hex = std::getenv("HUSH_CLI_STORAGE_KEY");
    if (hex == nullptr || *hex == '\0') return;
    auto bytes = hush::from_hex(hex);
    if (!bytes || bytes->size() != 32)
      fail_usage("HUSH_CLI_STORAGE_KEY must be 64 hex digits (a 32-byte key)");
    key = std::move(*bytes);
    options.storage_key = key;
  }
  ~StoreOptions() { hush::secure_wipe(key); }
};

void check_store(const hush::Status& st, const std::string& what) {
  if (!st)
    fail_usage(what + ": " + std::string(hush::to_string(st.error().code())) + " (" +
               st.error().where() + ")");
}

template <class T>
T check_store(hush::Result<T> r, const std::string& what) {
  if (!r)
    fail_usage(what + ": " + std::string(hush::to_string(r.error().code())) + " (" +
               r.error().where() + ")");
  return std::move(r).value();
}

void remove_database_files(const std::string& base) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal", "-generation", "-generation.tmp"}) {
    const std::string f = base + suffix;
    if (::unlink(f.c_str()) != 0 && errno != ENOENT)
      fail_usage("cannot remove '" + f + "': " + errno_text());
  }
}

void sync_directory(int fd, const std::string& path) {
  if (::fsync(fd) != 0)
    std::fprintf(stderr, "hush-cli: warning: cannot sync directory '%s': %s\n", path.c_str(),
                 errno_text().c_str());
}

}  // namespace

StateDir::StateDir(std::string path, Mode mode) : path_(std::move(path)) {
  if (path_.empty()) fail_usage("--state must not be empty");
  if (mode == Mode::kCreate) make_directories(path_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0 && errno == ENOTDIR) {
    fail_usage("'" + path_ + "' is a file, not a state directory (--state names a directory; " +
               "the database is DIR/" + kDatabase + ")");
  }
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
  if (::fstatat(fd_, kDatabase, &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  fail_usage("cannot inspect '" + path_ + "/" + kDatabase + "': " + errno_text());
}

State StateDir::open() const {
  if (!initialised()) {
    if (has_link_request())
      fail_usage("'" + path_ + "' is waiting for a link (run: hush-cli --state DIR link --accept)");
    fail_usage("'" + path_ + "' is not initialised (run: hush-cli --state DIR init)");
  }
  const StoreOptions o;
  const std::string file = path_ + "/" + kDatabase;
  State state;
  auto opened = hush::SqliteStore::open(file, o.options);
  if (!opened && opened.error().code() == hush::Errc::kCorruptState) {
    fail_usage("'" + file + "' is not a hush database, or it is damaged (" +
               std::string(hush::to_string(opened.error().code())) + ": " + opened.error().where() +
               ")");
  }
  state.store = check_store(std::move(opened), "cannot open '" + file + "'");
  auto get = [&](std::string_view key) {
    auto v = check_store(state.store->app_data(key), "cannot read '" + file + "'");
    if (!v)
      fail_usage("'" + file + "' is a hush database, but not a hush-cli state (no " +
                 std::string(key) + ")");
    return std::move(*v);
  };
  const hush::Bytes name = get(kNameKey);
  state.meta.name.assign(name.begin(), name.end());
  const auto device = read_u32(get(kDeviceKey));
  const auto spk = read_u32(get(kSignedPreKeyKey));
  if (!device || !spk) fail_usage("'" + file + "' has corrupt CLI metadata");
  state.meta.device_id = *device;
  state.meta.signed_pre_key_id = *spk;
  auto optional = [&](std::string_view key) {
    return check_store(state.store->app_data(key), "cannot read '" + file + "'");
  };
  if (const auto kyber = optional(kLastResortKyberKey)) {
    const auto id = read_u32(*kyber);
    if (!id) fail_usage("'" + file + "' has corrupt CLI metadata");
    state.meta.last_resort_kyber_pre_key_id = *id;
  }
  if (const auto pq = optional(kRequirePqKey)) {
    const auto v = read_u32(*pq);
    if (!v || *v > 1) fail_usage("'" + file + "' has corrupt CLI metadata");
    state.meta.require_pq = *v == 1;
  }
  return state;
}

State StateDir::create(const Metadata& meta, hush::IdentityKeyPair identity,
                       std::uint32_t registration_id,
                       const std::function<void(hush::SqliteStore&)>& populate) {
  const StoreOptions o;
  const std::string fresh = path_ + "/" + kNewDatabase;
  const std::string file = path_ + "/" + kDatabase;
  remove_database_files(fresh);  // a leftover of an interrupted init
  try {
    auto store = check_store(
        hush::SqliteStore::create(fresh, std::move(identity), registration_id, o.options),
        "cannot create '" + fresh + "'");
    const hush::Status st = store->run_transaction([&]() -> hush::Status {
      if (auto s = store->put_app_data(kNameKey, hush::as_bytes(meta.name)); !s) return s;
      if (auto s = store->put_app_data(kDeviceKey, u32_bytes(meta.device_id)); !s) return s;
      if (auto s = store->put_app_data(kSignedPreKeyKey, u32_bytes(meta.signed_pre_key_id)); !s)
        return s;
      if (meta.last_resort_kyber_pre_key_id != 0) {
        if (auto s = store->put_app_data(kLastResortKyberKey,
                                         u32_bytes(meta.last_resort_kyber_pre_key_id));
            !s)
          return s;
      }
      if (meta.require_pq) {
        if (auto s = store->put_app_data(kRequirePqKey, u32_bytes(1)); !s) return s;
      }
      populate(*store);
      return hush::ok_status();
    });
    if (!st) {
      store.reset();
      remove_database_files(fresh);
      if (st.error().code() == hush::Errc::kStoreFailure)
        check_store(st, "cannot write '" + fresh + "'");
      throw Failure(st.error(), std::string("init: ") + st.error().where());
    }
    store.reset();  // closing checkpoints its WAL into the file and removes the -wal/-shm files
  } catch (...) {
    remove_database_files(fresh);
    throw;
  }
  if (initialised()) {
    // Best effort: opening and closing the old database folds its WAL into it (SQLite checkpoints
    // on the last close), so an interruption before the rename below leaves it whole. It may not
    // open (another storage key, damage); --force replaces it anyway.
    (void)hush::SqliteStore::open(file, o.options);
  }
  // No WAL or shared-memory file of the old database may survive to be read against the new one.
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string f = file + suffix;
    if (::unlink(f.c_str()) != 0 && errno != ENOENT)
      fail_usage("cannot remove '" + f + "': " + errno_text());
  }
  // The generation counter (SqliteStore's guard against restored copies) goes with its database,
  // first: interrupted between the two renames, the old database meets a counter behind it, which
  // is harmless.
  if (::rename((fresh + "-generation").c_str(), (file + "-generation").c_str()) != 0)
    fail_usage("cannot put '" + fresh + "-generation' in place: " + errno_text());
  if (::rename(fresh.c_str(), file.c_str()) != 0)
    fail_usage("cannot put '" + fresh + "' in place: " + errno_text());
  sync_directory(fd_, path_);
  return open();
}

bool StateDir::has_link_request() const {
  struct stat st {};
  if (::fstatat(fd_, kLinkRequest, &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  fail_usage("cannot inspect '" + path_ + "/" + kLinkRequest + "': " + errno_text());
}

void StateDir::keep_link_request(const hush::SecretBytes& request, bool replace) {
  if (!replace && has_link_request())
    fail_usage("'" + path_ + "' already waits for a link (use --force to make a new code)");
  const std::string fresh = path_ + "/" + kNewLinkRequest;
  if (::unlinkat(fd_, kNewLinkRequest, 0) != 0 && errno != ENOENT)
    fail_usage("cannot remove '" + fresh + "': " + errno_text());
  const int fd =
      ::openat(fd_, kNewLinkRequest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) fail_usage("cannot create '" + fresh + "': " + errno_text());
  hush::ByteView data = request.expose();
  bool written = true;
  while (written && !data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      written = false;
    } else {
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }
  if (written && ::fsync(fd) != 0) written = false;
  const std::string why = errno_text();
  ::close(fd);
  if (!written) {
    ::unlinkat(fd_, kNewLinkRequest, 0);
    fail_usage("cannot write '" + fresh + "': " + why);
  }
  if (::renameat(fd_, kNewLinkRequest, fd_, kLinkRequest) != 0) {
    const std::string rename_why = errno_text();
    ::unlinkat(fd_, kNewLinkRequest, 0);
    fail_usage("cannot put '" + fresh + "' in place: " + rename_why);
  }
  sync_directory(fd_, path_);
}

hush::SecretBytes StateDir::load_link_request() const {
  const std::string file = path_ + "/" + kLinkRequest;
  const int fd = ::openat(fd_, kLinkRequest, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      fail_usage("'" + path_ + "' waits for no link (run: hush-cli --state DIR link-code)");
    fail_usage("cannot open '" + file + "': " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<std::uint64_t>(st.st_size) > kMaxLinkRequestFile) {
    ::close(fd);
    fail_usage("'" + file + "' is not a link request");
  }
  hush::SecretBytes buf(kMaxLinkRequestFile + 1);
  std::size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.expose_mut().data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = errno_text();
      ::close(fd);
      fail_usage("cannot read '" + file + "': " + why);
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
    if (len == buf.size()) break;
  }
  ::close(fd);
  if (len > kMaxLinkRequestFile) fail_usage("'" + file + "' is not a link request");
  buf.truncate(len);
  return buf;
}

void StateDir::remove_link_request() {
  const std::string file = path_ + "/" + kLinkRequest;
  const int fd = ::openat(fd_, kLinkRequest, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        static_cast<std::uint64_t>(st.st_size) <= kMaxLinkRequestFile) {
      const hush::Bytes zeros(static_cast<std::size_t>(st.st_size), 0);
      // Best effort: the file is removed below whatever this achieves.
      if (::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()))
        (void)::fsync(fd);
    }
    ::close(fd);
  }
  if (::unlinkat(fd_, kLinkRequest, 0) != 0 && errno != ENOENT)
    fail_usage("cannot remove '" + file + "': " + errno_text());
  sync_directory(fd_, path_);
}

void StateDir::keep_plaintext(hush::SqliteStore& store, hush::ByteView message,
                              hush::ByteView plaintext) {
  auto next_bytes = check_store(store.app_data(kInboxNextKey), "inbox");
  const std::uint32_t next = next_bytes ? read_u32(*next_bytes).value_or(0) : 0;
  hush::Bytes entry = u32_bytes(static_cast<std::uint32_t>(message.size()));
  entry.insert(entry.end(), message.begin(), message.end());
  entry.insert(entry.end(), plaintext.begin(), plaintext.end());
  check_store(store.put_app_data("cli/inbox/" + std::to_string(next % kInboxSlots), entry),
              "inbox");
  check_store(store.put_app_data(kInboxNextKey, u32_bytes(next + 1)), "inbox");
  hush::secure_wipe(entry);
}

std::optional<hush::Bytes> StateDir::kept_plaintext(hush::SqliteStore& store,
                                                    hush::ByteView message) {
  for (std::uint32_t slot = 0; slot < kInboxSlots; ++slot) {
    auto entry = check_store(store.app_data("cli/inbox/" + std::to_string(slot)), "inbox");
    if (!entry || entry->size() < 4) continue;
    const auto len = read_u32(hush::ByteView(*entry).first(4));
    if (!len || *len != message.size() || entry->size() < 4 + *len) continue;
    if (!std::equal(message.begin(), message.end(), entry->begin() + 4)) continue;
    return hush::Bytes(entry->begin() + 4 + static_cast<std::ptrdiff_t>(*len), entry->end());
  }
  return std::nullopt;
}

}  // namespace hush_cli

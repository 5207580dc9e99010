// hush-cli: the state directory (the one place that knows how the CLI's state is stored).
//
// A state directory holds one file, `state`: a small versioned header with the CLI's metadata
// (name, device id, signed prekey id) followed by an InMemoryProtocolStore snapshot. Layout (all
// integers big-endian):
//
//   "HUSHCLI" 0x01            magic and format version (8 bytes)
//   u32 device_id
//   u32 signed_pre_key_id
//   u32 name_len (<= 4096)    then name_len bytes of UTF-8
//   u64 snapshot_len          then the snapshot; nothing may follow
//
// The file is written atomically (temporary file in the directory, fsync, rename over `state`,
// fsync of the directory) with mode 0600, and only after an operation succeeded. Saving is split
// in two so that a command can write its output between the phases: `prepare()` writes and syncs
// the temporary file, `commit()` renames it into place. A Pending that is never committed removes
// its temporary file, so the state is unchanged after any failure before the commit.
//
// An open StateDir holds a lock on the directory (flock: exclusive for commands that write, shared
// for read-only ones), so concurrent invocations on one directory run one after the other.
//
// Not responsible for: what the commands do with the state (main.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <hush/hush.h>

namespace hush_cli {

/// A failure that ends the command: an exit code, a message for stderr, and for protocol errors
/// (exit code 2) the library's error code, printed last as `error: <name>`.
class Failure : public std::runtime_error {
 public:
  /// A usage or I/O error (exit code `exit_code`, normally 1).
  Failure(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  /// A protocol error (exit code 2) from the library.
  Failure(const hush::Error& error, const std::string& message)
      : std::runtime_error(message), exit_code_(2), error_code_(error.code()) {}
  int exit_code() const noexcept { return exit_code_; }
  /// The library's error code, for protocol errors.
  const std::optional<hush::Errc>& error_code() const noexcept { return error_code_; }

 private:
  int exit_code_;
  std::optional<hush::Errc> error_code_;
};

/// A usage or I/O error: exit code 1.
[[noreturn]] inline void fail_usage(const std::string& message) {
  throw Failure(1, message);
}

/// The CLI's own metadata, kept next to the store snapshot.
struct Metadata {
  /// Our name (display only; peers address us by the name they choose).
  std::string name;
  /// Our device id (published in bundles).
  std::uint32_t device_id = 1;
  /// The signed prekey our bundles offer.
  std::uint32_t signed_pre_key_id = 1;
};

/// Everything a command loads and saves.
struct State {
  Metadata meta;
  std::unique_ptr<hush::InMemoryProtocolStore> store;
};

/// An open, locked state directory.
class StateDir {
 public:
  enum class Mode : std::uint8_t {
    kRead,    ///< The directory must exist; shared lock.
    kWrite,   ///< The directory must exist; exclusive lock.
    kCreate,  ///< Creates the directory (and missing parents, mode 0700) if needed; exclusive lock.
  };

  /// Opens and locks `path`. Throws Failure (exit 1) if that is impossible.
  StateDir(std::string path, Mode mode);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  /// True when the directory holds a state file.
  bool initialised() const;
  /// Loads the state. Throws Failure (exit 1) if there is none or it is unreadable or corrupt.
  State load() const;

  /// A prepared save: the new state written and synced to a temporary file, not yet in place.
  class Pending {
   public:
    Pending(Pending&& other) noexcept;
    Pending& operator=(Pending&&) = delete;
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    /// Removes the temporary file unless it was committed.
    ~Pending();

   private:
    friend class StateDir;
    explicit Pending(int dir_fd) : dir_fd_(dir_fd) {}
    int dir_fd_;
    bool armed_ = true;
  };

  /// Writes `state` to a temporary file (mode 0600) in the directory and syncs it. Throws Failure
  /// (exit 1) on an I/O error, leaving no temporary file behind. Requires kWrite or kCreate.
  Pending prepare(const State& state);
  /// Renames the prepared file over the state file and syncs the directory. Throws Failure (exit 1)
  /// if the rename fails (the old state is then unchanged); a failed directory sync after the
  /// rename only warns on stderr, since the new state is already in place.
  void commit(Pending& pending);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace hush_cli

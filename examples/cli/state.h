// hush-cli: the state directory (the one place that knows how the CLI's state is stored).
//
// A state directory holds one SQLite database, `hush.db` (hush::SqliteStore): the protocol state,
// the device lists (the Messenger's kDeviceList records: ours and the peers' imported ones), and
// in its application table the CLI's metadata (name, device id, signed prekey id) and the
// plaintexts of the last messages decrypted. A directory waiting to become a linked device holds,
// instead of a database, `link-request` (mode 0600): the kept hush::LinkRequest, a secret (its
// private key opens the link message, which carries the identity key pair), removed (overwritten,
// then unlinked) once the database made from the link message is in place. Every command that
// changes state runs as one transaction on it, so an interrupted or failed command (even `kill -9`)
// leaves the state of before the command, or the state after it, never a mix. Output is printed
// only after the commit: a ciphertext is never shown before the chain advance that produced it is
// on disk.
//
// If the environment variable HUSH_CLI_STORAGE_KEY holds 64 hex digits, the database is sealed
// with that 32-byte key (encryption at rest); the same key is then needed to open it.
//
// An open StateDir holds a lock on the directory (flock: exclusive for commands that write, shared
// for read-only ones), so concurrent invocations on one directory run one after the other, and
// `init --force` never replaces a database another invocation is using.
//
// Not responsible for: what the commands do with the state (main.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

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

/// "WHAT: WHERE", or WHERE alone when it already starts with "WHAT: " (the library's descriptions
/// of decrypt errors begin with "decrypt: ", and "decrypt: decrypt: bad mac" says nothing more).
inline std::string with_prefix(std::string_view what, std::string_view where) {
  if (where.size() > what.size() + 1 && where.substr(0, what.size()) == what &&
      where[what.size()] == ':')
    return std::string(where);
  return std::string(what) + ": " + std::string(where);
}

/// A protocol error found by the CLI itself, under the library's error code: exit code 2, `what`
/// (the command) and `where` (a static description) on stderr, then `error: <name>`.
[[noreturn]] inline void fail_protocol(hush::Errc code, const char* where, std::string_view what) {
  throw Failure(hush::Error(code, where), with_prefix(what, where));
}

/// The value of a library result; a library error ends the command (exit 2, `error: <name>`),
/// with `what` (the command) and the library's static description on stderr.
template <class T>
T check(hush::Result<T> result, std::string_view what) {
  if (!result) throw Failure(result.error(), with_prefix(what, result.error().where()));
  return std::move(result).value();
}

/// As above, for a library status.
inline void check(const hush::Status& status, std::string_view what) {
  if (!status) throw Failure(status.error(), with_prefix(what, status.error().where()));
}

/// The CLI's own metadata, kept next to the store snapshot.
struct Metadata {
  /// Our name (display only; peers address us by the name they choose).
  std::string name;
  /// Our device id (published in bundles).
  std::uint32_t device_id = 1;
  /// The signed prekey our bundles offer.
  std::uint32_t signed_pre_key_id = 1;
  /// Our last-resort Kyber prekey (0: none; a state made before hush-cli had Kyber prekeys).
  std::uint32_t last_resort_kyber_pre_key_id = 0;
  /// Post-quantum sessions only (init --require-pq): X3DH bundles and version-3 prekey messages
  /// are refused.
  bool require_pq = false;
};

/// Everything a command works on.
struct State {
  Metadata meta;
  std::unique_ptr<hush::SqliteStore> store;
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

  /// True when the directory holds a database.
  bool initialised() const;
  /// Opens the database. Throws Failure (exit 1) if there is none, or it is unreadable, not a hush
  /// database, damaged, or a hush database without the CLI's metadata (or, with a storage key, the
  /// key is wrong), saying which.
  State open() const;
  /// Builds a new database for `meta` and `identity` in a temporary file, lets `populate` fill it
  /// (in one transaction), and only then puts it in place of any old database. Throws Failure on
  /// any error, leaving the old database as it was. Requires an exclusive lock (kCreate or kWrite).
  State create(const Metadata& meta, hush::IdentityKeyPair identity, std::uint32_t registration_id,
               const std::function<void(hush::SqliteStore&)>& populate);

  /// True when a link request is kept here (`link-code` ran, `link --accept` did not yet).
  bool has_link_request() const;
  /// Keeps a serialized link request in a new file of mode 0600 (synced), replacing a kept one
  /// only with `replace`. Throws Failure (exit 1) if it cannot. Requires an exclusive lock.
  void keep_link_request(const hush::SecretBytes& request, bool replace);
  /// The kept link request's bytes (at most a few hundred). Throws Failure (exit 1) if there is
  /// none or it cannot be read.
  hush::SecretBytes load_link_request() const;
  /// Overwrites the kept link request with zeros and removes it (best effort: a file system may
  /// keep old blocks). Throws Failure (exit 1) if it cannot be removed.
  void remove_link_request();

  /// Keeps `plaintext` as the plaintext of the message `message` (inside the caller's
  /// transaction), so that `received` can show it again if the command dies before printing it.
  static void keep_plaintext(hush::SqliteStore& store, hush::ByteView message,
                             hush::ByteView plaintext);
  /// The plaintext kept for `message`, if it is among the last kept ones.
  static std::optional<hush::Bytes> kept_plaintext(hush::SqliteStore& store,
                                                   hush::ByteView message);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace hush_cli

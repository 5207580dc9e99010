// hush: SqliteStore, the durable ProtocolStore (one SQLite database file).
//
// Every store interface lives in one database file, in WAL mode with `synchronous=FULL`, so a
// committed transaction survives a crash or power loss, and an uncommitted one leaves no trace.
// Each protocol operation is one transaction (BEGIN IMMEDIATE ... COMMIT): `encrypt_message`
// returns only after the advanced sending chain is on disk, and a decrypt commits the advanced
// session, the consumed one-time prekey, the saved identity and whatever the application wrote
// from its `before_commit` hook (`put_app_data`) together.
//
// Stored bytes are untrusted input: every record is bounded and parsed strictly on load; a file
// that is not SQLite, or another application's database, or a newer schema, is refused with a
// clear error. Deleted rows are overwritten (`secure_delete`), so used one-time prekeys and old
// chain keys do not linger in the database file; note that SQLite's WAL file may keep old pages
// until the next checkpoint, and that the page cache holds copies in memory.
//
// Not responsible for: choosing a file location or protecting the storage key (the caller's job).
//
// Thread-safety: all methods may be called from several threads; one connection per object is
// shared under a mutex, and a transaction holds it from start to end. Several processes (or
// several SqliteStore objects) may open the same file: SQLite's locking serialises their
// transactions, waiting up to `busy_timeout` for a lock before reporting kStoreFailure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hush/store.h>

namespace hush {

/// How to open a SqliteStore.
struct SqliteStoreOptions {
  /// How long a transaction waits for another connection's lock before failing.
  std::chrono::milliseconds busy_timeout{10000};
  /// Encryption at rest: empty (the default) for none, or exactly 32 bytes. With a key, private
  /// keys and session state are sealed with AES-256-GCM under a key derived per row, with the row's
  /// identity as associated data, so a copied database file reveals no key and rows cannot be
  /// swapped. The store keeps its own copy (wiped when it closes); the caller keeps and protects
  /// the original. A database created with a key can only be opened with that key.
  ByteView storage_key;
  /// Randomness for sealing; null means system_random(). Must outlive the store.
  RandomSource* random = nullptr;
};

/// A durable, transactional ProtocolStore in one SQLite database file, with trust on first use
/// (like InMemoryProtocolStore) and a small key-value table for the application's own data.
class SqliteStore final : public ProtocolStore {
 public:
  /// The schema version this library writes. Older databases are migrated when opened.
  /// Version 1: the initial layout. Version 2: encryption at rest (a `sealed` flag and a key check
  /// in `meta`; version-1 databases become unsealed version-2 databases).
  static constexpr int kSchemaVersion = 2;

  /// Creates a new database at `path` for a device with `identity` and `registration_id`, sealed
  /// if `options.storage_key` is set. Errors: kInvalidArgument (the file is already a hush
  /// database, or a storage key that is not 32 bytes), kCorruptState (the file exists and is not an
  /// empty SQLite database), kStoreFailure (cannot create or write it).
  static Result<std::unique_ptr<SqliteStore>> create(const std::string& path,
                                                     IdentityKeyPair identity,
                                                     std::uint32_t registration_id,
                                                     const SqliteStoreOptions& options = {});

  /// Opens an existing database, migrating an older schema in one transaction. Errors:
  /// kInvalidArgument (no hush database at `path`; or a storage key for a database that is not
  /// sealed), kWrongStorageKey (a sealed database opened without its key or with another key),
  /// kCorruptState (not an SQLite file, another application's database, or damaged content, a
  /// sealed row included), kUnsupported (written by a newer hush), kStoreFailure (I/O, locking).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteStoreOptions& options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// Stores `value` under `key` in the application table. Inside a transaction (for example
  /// from DecryptOptions::before_commit) it commits or rolls back with it.
  Status put_app_data(std::string_view key, ByteView value);
  /// The value stored under `key`, or nullopt.
  Result<std::optional<Bytes>> app_data(std::string_view key);
  /// Removes `key` from the application table (absent keys are not an error).
  Status erase_app_data(std::string_view key);

  /// A deterministic snapshot of all protocol state, in InMemoryProtocolStore::serialize()'s format
  /// (so `InMemoryProtocolStore::deserialize` can load it). Application data is not included.
  Result<SecretBytes> export_snapshot();

  // IdentityKeyStore
  Result<IdentityKeyPair> identity_key_pair() override;
  Result<std::uint32_t> local_registration_id() override;
  Result<IdentityChange> save_identity(const Address& address,
                                       const IdentityKey& identity) override;
  Result<bool> is_trusted_identity(const Address& address, const IdentityKey& identity,
                                   Direction direction) override;
  Result<std::optional<IdentityKey>> identity(const Address& address) override;

  // PreKeyStore
  Result<std::optional<PreKeyRecord>> load_pre_key(PreKeyId id) override;
  Status store_pre_key(const PreKeyRecord& record) override;
  Status remove_pre_key(PreKeyId id) override;
  Result<std::vector<PreKeyId>> pre_key_ids() override;
  Result<PreKeyId> next_pre_key_id() override;

  // SignedPreKeyStore
  Result<std::optional<SignedPreKeyRecord>> load_signed_pre_key(SignedPreKeyId id) override;
  Status store_signed_pre_key(const SignedPreKeyRecord& record) override;
  Status remove_signed_pre_key(SignedPreKeyId id) override;
  Result<std::vector<SignedPreKeyId>> signed_pre_key_ids() override;

  // SessionStore
  Result<std::optional<SessionRecord>> load_session(const Address& address) override;
  Status store_session(const Address& address, SessionRecord record) override;

  // ProtocolStore
  Status run_transaction(const std::function<Status()>& body) override;

  /// The implementation (opaque; defined in the library).
  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush

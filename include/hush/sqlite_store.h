/// @file
/// SqliteStore, the durable ProtocolStore (one SQLite database file).
///
/// Every store interface lives in one database file, in WAL mode with `synchronous=FULL`, so a
/// committed transaction survives a crash or power loss, and an uncommitted one leaves no trace.
/// Each protocol operation is one transaction (BEGIN IMMEDIATE ... COMMIT): `encrypt_message`
/// returns only after the advanced sending chain is on disk, and a decrypt commits the advanced
/// session, the consumed one-time prekey, the saved identity and whatever the application wrote
/// from its `before_commit` hook (`put_app_data`) together.
///
/// Stored bytes are untrusted input: every record is bounded and parsed strictly on load; a file
/// that is not SQLite, or another application's database, or a newer schema, is refused with a
/// clear error. New database files (and their WAL and shared-memory files) are created with mode
/// 0600.
///
/// Restored copies. Putting an older copy of the database back (a backup, a VM snapshot, a copied
/// file) would put every sending chain back, and the next messages would reuse message keys.
/// SqliteStore keeps a generation counter: every encryption advances it in the database and, before
/// the commit, in a GenerationCounter outside it (by default a small file next to the database,
/// PATH-generation, mode 0600). `open()` compares the two: a database behind its counter is a
/// restored copy, and then every session is restarted (its current state archived for late
/// messages, never used to encrypt again; the next send makes a fresh handshake), our own sender
/// keys are retired (group_encrypt reports kNoSession until a new chain is created and
/// distributed), and `rollback_check()` says so. While open, an encryption that finds the database
/// behind what this object last wrote fails with kStoreRolledBack. What it cannot do: an attacker
/// (or a backup tool) that puts back both the database and its counter file together is not
/// detected (keep the counter where backups and snapshots do not reach it: implement
/// GenerationCounter with the OS keystore, a TPM or a server); messages received after the copy was
/// taken may be delivered and decrypted again, since the copy no longer knows them; and a crash
/// between the counter write and the commit (a window of microseconds) makes the next open restart
/// the sessions needlessly, which is safe. If making the counter durable fails after a commit (an
/// fsync error), the encryption reports kStoreFailure and its ciphertext is discarded: its chain
/// has advanced, so that message is lost and its key never used again. Deleted rows are overwritten
/// (`secure_delete`), so used one-time prekeys and old chain keys do not linger in the database
/// file; note that SQLite's WAL file may keep old pages until the next checkpoint, and that the
/// page cache holds copies in memory.
///
/// Not responsible for: choosing a file location or protecting the storage key (the caller's job).
///
/// Thread-safety: all methods may be called from several threads; one connection per object is
/// shared under a mutex, and a transaction holds it from start to end. Several processes (or
/// several SqliteStore objects) may open the same file: SQLite's locking serialises their
/// transactions, waiting up to `busy_timeout` for a lock before reporting kStoreFailure.
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

/// A counter kept outside the database, where a restore of the database does not reach (see the
/// header comment). SqliteStore calls store() just before a commit and sync() just after it.
class GenerationCounter {
 public:
  virtual ~GenerationCounter() = default;
  /// The stored value; nullopt if none was ever stored; kCorruptState if it cannot be read back.
  virtual Result<std::optional<std::uint64_t>> load() = 0;
  /// Replaces the value: load() returns `value` from now on, also after this process is killed.
  virtual Status store(std::uint64_t value) = 0;
  /// Makes the last stored value survive a power loss too (nothing to do for a store() that is
  /// durable by itself). Called after the commit, so that the window in which a killed process
  /// leaves the counter ahead of the database stays a few microseconds.
  virtual Status sync() { return ok_status(); }
};

/// The default GenerationCounter: the file `path`, mode 0600, replaced atomically (written to
/// PATH.tmp and renamed over it; sync() fsyncs it and its directory).
std::unique_ptr<GenerationCounter> generation_file(std::string path);

/// What `SqliteStore::open` found when it compared the database with its generation counter.
struct RollbackCheck {
  /// True when the database was behind its counter (or the counter was missing for a database
  /// that had encrypted): a restored or copied database. Every session was then restarted.
  bool rolled_back = false;
  /// The generation the database held when opened.
  std::uint64_t database_generation = 0;
  /// The counter's value when opened (nullopt: there was none, or it was unreadable).
  std::optional<std::uint64_t> counter_generation;
  /// How many sessions were restarted.
  std::size_t sessions_restarted = 0;
  /// How many of our own sender-key chains were retired (one per group that had one): they never
  /// encrypt again, and the next create_sender_key_distribution for the group starts a new chain,
  /// to be sent to the group's members.
  std::size_t sender_keys_retired = 0;
};

/// How to open a SqliteStore.
struct SqliteStoreOptions {
  /// How long a transaction waits for another connection's lock before failing.
  std::chrono::milliseconds busy_timeout{10000};
  /// Encryption at rest: empty (the default) for none, or exactly 32 bytes. With a key, private
  /// keys, session state, identities, application data and the Messenger's records are sealed with
  /// AES-256-GCM under a key derived per row, with the row's identity as associated data, so a
  /// copied database file reveals no key and rows cannot be swapped. The store keeps its own copy
  /// (wiped when it closes); the caller keeps and protects the original. A database created with a
  /// key can only be opened with that key.
  ByteView storage_key;
  /// Randomness for sealing; null means system_random(). Must outlive the store.
  RandomSource* random = nullptr;
  /// The generation counter; null means generation_file(path + "-generation"). Must outlive the
  /// store. `create()` sets it to 0.
  GenerationCounter* generation_counter = nullptr;
};

/// A durable, transactional ProtocolStore in one SQLite database file, with trust on first use
/// (like InMemoryProtocolStore) and a small key-value table for the application's own data.
class SqliteStore final : public ProtocolStore {
 public:
  /// The schema version this library writes. Older databases are migrated when opened.
  /// Version 1: the initial layout. Version 2: encryption at rest (a `sealed` flag and a key check
  /// in `meta`; version-1 databases become unsealed version-2 databases). Version 3: identities
  /// per person (one per name; of a name's device identities the lowest device's is kept), the
  /// store-wide record of accepted base keys (filled from the stored sessions), the generation
  /// counter, and, in a sealed database, application data and identities sealed too. Version 4:
  /// the Messenger's records (MessengerStateStore; a table of (kind, key, value), values sealed
  /// for their row in a sealed database; older databases get an empty table). Version 5: sender
  /// keys (SenderKeyStore; records sealed for their row in a sealed database; older databases get
  /// an empty table). Version 6: Kyber prekeys and the uses of last-resort ones (KyberPreKeyStore;
  /// records sealed for their row in a sealed database; older databases get empty tables).
  static constexpr int kSchemaVersion = 6;

  /// Creates a new database at `path` (mode 0600) for a device with `identity` and
  /// `registration_id`, sealed if `options.storage_key` is set, and sets its generation counter to
  /// 0. Errors: kInvalidArgument (the file is already a hush database, or a storage key that is
  /// not 32 bytes), kCorruptState (the file exists and is not an empty SQLite database),
  /// kStoreFailure (cannot create or write it, or its counter).
  static Result<std::unique_ptr<SqliteStore>> create(const std::string& path,
                                                     IdentityKeyPair identity,
                                                     std::uint32_t registration_id,
                                                     const SqliteStoreOptions& options = {});

  /// Opens an existing database, migrating an older schema in one transaction. Errors:
  /// kInvalidArgument (no hush database at `path`; or a storage key for a database that is not
  /// sealed), kWrongStorageKey (a sealed database opened without its key or with another key),
  /// kCorruptState (not an SQLite file, another application's database, or damaged content, a
  /// sealed row included), kUnsupported (written by a newer hush), kStoreFailure (I/O, locking,
  /// the generation counter). A restored copy is not an error: see rollback_check().
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteStoreOptions& options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// What open() found when it compared the database with its generation counter.
  const RollbackCheck& rollback_check() const noexcept;

  /// Stores `value` under `key` in the application table (sealed in a sealed database), replacing
  /// any value. Inside a transaction (for example from DecryptOptions::before_commit) it commits or
  /// rolls back with it. kLimitExceeded beyond kMaxAppDataBytes.
  Status put_app_data(std::string_view key, ByteView value);
  /// The value stored under `key`, or nullopt. kCorruptState if a sealed value does not open.
  Result<std::optional<Bytes>> app_data(std::string_view key);
  /// Every key of the application table, ascending (bytewise). Keys are stored in clear (only
  /// values are sealed in a sealed database).
  Result<std::vector<std::string>> app_data_keys();
  /// Removes `key` from the application table (absent keys are not an error).
  Status erase_app_data(std::string_view key);

  /// A deterministic snapshot of all protocol state and the Messenger's records, in
  /// InMemoryProtocolStore::serialize()'s format (so `InMemoryProtocolStore::deserialize` can load
  /// it); the records' values are in clear in it. Application data is not included.
  /// kCorruptState if a stored row is damaged.
  Result<SecretBytes> export_snapshot();

  // IdentityKeyStore
  Result<IdentityKeyPair> identity_key_pair() override;
  Result<std::uint32_t> local_registration_id() override;
  Result<IdentityChange> save_identity(std::string_view name, const IdentityKey& identity) override;
  Result<bool> is_trusted_identity(std::string_view name, const IdentityKey& identity,
                                   Direction direction) override;
  Result<std::optional<IdentityKey>> identity(std::string_view name) override;
  /// kCorruptState if a stored identity is damaged (or, sealed, does not open).
  Result<std::vector<std::pair<std::string, IdentityKey>>> identities() override;

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
  Result<bool> has_accepted_base_key(const PublicKey& base_key) override;
  Status record_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key) override;

  // KyberPreKeyStore
  Result<std::optional<KyberPreKeyRecord>> load_kyber_pre_key(KyberPreKeyId id) override;
  Status store_kyber_pre_key(const KyberPreKeyRecord& record) override;
  Status remove_kyber_pre_key(KyberPreKeyId id) override;
  Result<std::vector<KyberPreKeyId>> kyber_pre_key_ids() override;
  Result<KyberPreKeyId> next_kyber_pre_key_id() override;
  Result<bool> has_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                   const PublicKey& base_key) override;
  Status record_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                const PublicKey& base_key) override;

  // SessionStore
  Result<std::optional<SessionRecord>> load_session(const Address& address) override;
  Status store_session(const Address& address, SessionRecord record) override;
  Result<std::vector<DeviceId>> session_devices(std::string_view name) override;
  Result<std::vector<Address>> session_addresses() override;

  // SenderKeyStore: records are sealed for their (sender, group) in a sealed database; a stored
  // record beyond the bounds (or, sealed, that does not open) is kCorruptState.
  Result<std::optional<SenderKeyRecord>> load_sender_key(const Address& sender,
                                                         const SenderKeyGroup& group) override;
  Status store_sender_key(const Address& sender, const SenderKeyGroup& group,
                          SenderKeyRecord record) override;
  /// Removes the record for `sender` in `group`, if any (SenderKeyStore).
  Status remove_sender_key(const Address& sender, const SenderKeyGroup& group) override;

  // MessengerStateStore: values are sealed for their (kind, key) in a sealed database, like
  // application data. A kind outside MessengerRecordKind's named values is kInvalidArgument; a
  // stored row beyond the bounds (or, sealed, that does not open) is kCorruptState.
  Result<std::optional<SecretBytes>> load_messenger_record(MessengerRecordKind kind,
                                                           std::string_view key) override;
  Status store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                ByteView value) override;
  Status remove_messenger_record(MessengerRecordKind kind, std::string_view key) override;
  Result<std::vector<std::string>> messenger_record_keys(MessengerRecordKind kind) override;

  // ProtocolStore
  Status run_transaction(const std::function<Status()>& body) override;
  int transaction_depth() override;
  Status record_key_use() override;

  /// The implementation (opaque; defined in the library).
  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  Status check_generation();
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush

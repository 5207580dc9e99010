// hush: SqliteStore (see sqlite_store.h).
//
// One connection per store, prepared statements cached for its lifetime, WAL journal with
// synchronous=FULL (a commit is durable when COMMIT returns), secure_delete on. Transactions are
// BEGIN IMMEDIATE (the write lock is taken up front, so two writers never deadlock on a lock
// upgrade); nested transactions are savepoints. Nothing is cached between calls: another process
// may change the file at any time, and each transaction reads what is committed.
#include <hush/limits.h>
#include <hush/sqlite_store.h>

#include <algorithm>
#include <cstring>
#include <map>

#include <sqlite3.h>

#include "crypto/seal.h"
#include "proto_util.h"
#include "store_snapshot.h"

namespace hush {

namespace {

// "hush" in ASCII: PRAGMA application_id marks the file as ours.
constexpr std::int32_t kApplicationId = 0x68757368;

// Each schema version's statements; version N+1's entry migrates a version-N database.
// Version 1: the initial layout.
constexpr const char* kSchemaV1[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE local_identity (singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " public_key BLOB NOT NULL, private_key BLOB NOT NULL, registration_id INTEGER NOT NULL)",
    "CREATE TABLE identities (name BLOB NOT NULL, device_id INTEGER NOT NULL,"
    " identity_key BLOB NOT NULL, PRIMARY KEY (name, device_id)) WITHOUT ROWID",
    "CREATE TABLE pre_keys (id INTEGER PRIMARY KEY, record BLOB NOT NULL)",
    "CREATE TABLE signed_pre_keys (id INTEGER PRIMARY KEY, record BLOB NOT NULL)",
    "CREATE TABLE sessions (name BLOB NOT NULL, device_id INTEGER NOT NULL,"
    " record BLOB NOT NULL, PRIMARY KEY (name, device_id)) WITHOUT ROWID",
    "CREATE TABLE app_data (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta (key, value) VALUES ('next_pre_key_id', 1)",
};

// Version 2: encryption at rest. A version-1 database had none, so it becomes unsealed.
constexpr const char* kMigrateV1ToV2[] = {
    "INSERT INTO meta (key, value) VALUES ('sealed', 0)",
};

// What the key check row holds, sealed, in a sealed database.
constexpr std::string_view kKeyCheck = "hush storage key check";

Error sqlite_error(int rc, const char* where) {
  const int primary = rc & 0xFF;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return Error(Errc::kCorruptState, where);
  return Error(Errc::kStoreFailure, where);
}

}  // namespace

struct SqliteStore::Impl {
  sqlite3* db = nullptr;
  std::recursive_mutex mutex;
  int depth = 0;  // open (nested) transactions
  std::map<const char*, sqlite3_stmt*> statements;
  std::optional<internal::crypto::Sealer> sealer;  // set for a sealed database
  RandomSource* random = nullptr;

  // The stored form of a secret column value: sealed for row `row` in a sealed database, as is
  // otherwise.
  Result<SecretBytes> protect(ByteView row, ByteView plaintext) {
    if (!sealer) return SecretBytes::copy_of(plaintext);
    auto sealed = sealer->seal(*random, row, plaintext);
    if (!sealed) return sealed.error();
    return SecretBytes::copy_of(*sealed);
  }
  // The plaintext of a stored secret column value, refusing more than `limit` plaintext bytes.
  Result<SecretBytes> unprotect(ByteView row, ByteView stored, std::size_t limit,
                                const char* where) {
    if (!sealer) {
      if (stored.size() > limit) return Error(Errc::kCorruptState, where);
      return SecretBytes::copy_of(stored);
    }
    if (stored.size() > limit + internal::crypto::Sealer::kOverhead)
      return Error(Errc::kCorruptState, where);
    auto opened = sealer->open(row, stored);
    if (!opened) return Error(Errc::kCorruptState, "SqliteStore: sealed row does not open");
    return opened;
  }

  ~Impl() {
    for (auto& [sql, stmt] : statements)
      sqlite3_finalize(stmt);
    sqlite3_close_v2(db);
  }

  Status exec(const char* sql, const char* where) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(rc, where);
    return ok_status();
  }

  // A cached prepared statement, reset and unbound when the Query goes away.
  class Query {
   public:
    Query(sqlite3_stmt* s) : s_(s) {}  // NOLINT
    ~Query() {
      if (s_) {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
      }
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Query(Query&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
    Query& operator=(Query&&) = delete;
    Query& blob(int i, ByteView b) {
      // SQLITE_TRANSIENT: SQLite copies the bytes, so `b` may die before the step.
      sqlite3_bind_blob(s_, i, b.empty() ? "" : static_cast<const void*>(b.data()),
                        static_cast<int>(b.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Query& text_as_blob(int i, std::string_view t) { return blob(i, as_bytes(t)); }
    Query& integer(int i, std::int64_t v) {
      sqlite3_bind_int64(s_, i, v);
      return *this;
    }
    Query& address(int first, const Address& a) {
      text_as_blob(first, a.name);
      return integer(first + 1, to_uint(a.device_id));
    }
    // True for a row, false when done.
    Result<bool> step(const char* where) {
      const int rc = sqlite3_step(s_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      return sqlite_error(rc, where);
    }
    Status run(const char* where) {
      auto r = step(where);
      if (!r) return r.error();
      return ok_status();
    }
    ByteView column_blob(int i) const {
      const void* p = sqlite3_column_blob(s_, i);
      const int n = sqlite3_column_bytes(s_, i);
      if (p == nullptr || n <= 0) return {};
      return {static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n)};
    }
    std::int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }
    bool column_is_blob(int i) const { return sqlite3_column_type(s_, i) == SQLITE_BLOB; }

   private:
    sqlite3_stmt* s_;
  };

  Result<Query> query(const char* sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return sqlite_error(rc, "sqlite: prepare");
      it = statements.emplace(sql, stmt).first;
    }
    return Query(it->second);
  }

  Result<std::int64_t> pragma_int(const char* sql) {
    auto q = query(sql);
    if (!q) return q.error();
    auto row = q->step("sqlite: pragma");
    if (!row) return row.error();
    if (!*row) return Error(Errc::kStoreFailure, "sqlite: pragma returned nothing");
    return q->column_int(0);
  }
};

namespace {

// Row identities for sealed columns (the associated data): the table and the row's key.
Bytes row_id(std::string_view table, std::uint32_t id) {
  Bytes r(table.begin(), table.end());
  r.push_back(0);
  for (int shift = 24; shift >= 0; shift -= 8)
    r.push_back(static_cast<std::uint8_t>(id >> shift));
  return r;
}

Bytes row_id(std::string_view table, const Address& a) {
  Bytes r = row_id(table, to_uint(a.device_id));
  r.insert(r.end(), a.name.begin(), a.name.end());
  return r;
}

Result<PublicKey> key_column(const SqliteStore::Impl::Query& q, int column, const char* where) {
  const ByteView b = q.column_blob(column);
  if (b.size() != 32) return Error(Errc::kCorruptState, where);
  std::array<std::uint8_t, 32> u{};
  std::copy(b.begin(), b.end(), u.begin());
  return PublicKey::from_u(u);
}

Status configure(SqliteStore::Impl& impl, const SqliteStoreOptions& options) {
  sqlite3_extended_result_codes(impl.db, 1);
  const auto ms = options.busy_timeout.count();
  sqlite3_busy_timeout(impl.db, static_cast<int>(std::clamp<std::int64_t>(ms, 0, INT32_MAX)));
  // The first statement that reads the file tells whether it is SQLite at all.
  auto mode = impl.query("PRAGMA journal_mode=WAL");
  if (!mode) return mode.error();
  auto row = mode->step("sqlite: journal_mode");
  if (!row) {
    if (row.error().code() == Errc::kCorruptState)
      return Error(Errc::kCorruptState, "SqliteStore: not an SQLite database");
    return row.error();
  }
  const ByteView m = mode->column_blob(0);
  if (std::string_view(reinterpret_cast<const char*>(m.data()), m.size()) != "wal")
    return Error(Errc::kStoreFailure, "SqliteStore: cannot enable WAL journal");
  if (auto st = impl.exec("PRAGMA synchronous=FULL", "sqlite: synchronous"); !st) return st;
  if (auto st = impl.exec("PRAGMA secure_delete=ON", "sqlite: secure_delete"); !st) return st;
  return ok_status();
}

Result<std::unique_ptr<SqliteStore::Impl>> connect(const std::string& path, int flags,
                                                   const SqliteStoreOptions& options) {
  if (!options.storage_key.empty() && options.storage_key.size() != 32)
    return Error(Errc::kInvalidArgument, "SqliteStore: storage key must be 32 bytes");
  auto impl = std::make_unique<SqliteStore::Impl>();
  impl->random = options.random != nullptr ? options.random : &system_random();
  if (!options.storage_key.empty()) {
    SecretArray<32> key;
    SecretArray<32>::from(options.storage_key, key);
    impl->sealer.emplace(key);
  }
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(rc, "SqliteStore: cannot open the database file");
  if (auto st = configure(*impl, options); !st) return st.error();
  return impl;
}

// What kind of file this is: empty (no schema), ours (with its version), or foreign.
struct FileKind {
  bool empty = false;
  bool ours = false;
  std::int64_t version = 0;
};

Result<FileKind> inspect(SqliteStore::Impl& impl) {
  auto app = impl.pragma_int("PRAGMA application_id");
  if (!app) return app.error();
  auto version = impl.pragma_int("PRAGMA user_version");
  if (!version) return version.error();
  auto tables = impl.pragma_int("SELECT count(*) FROM sqlite_schema");
  if (!tables) return tables.error();
  FileKind k;
  k.empty = *app == 0 && *version == 0 && *tables == 0;
  k.ours = *app == kApplicationId;
  k.version = *version;
  return k;
}

// Runs `body` in an immediate transaction on a connection not yet wrapped in a SqliteStore.
template <class Body>
Status in_transaction(SqliteStore::Impl& impl, Body body) {
  if (auto st = impl.exec("BEGIN IMMEDIATE", "sqlite: begin"); !st) return st;
  Status st = body();
  if (st) st = impl.exec("COMMIT", "sqlite: commit");
  if (!st) (void)impl.exec("ROLLBACK", "sqlite: rollback");
  return st;
}

Status set_schema_version(SqliteStore::Impl& impl, std::int64_t version) {
  char pragma[64];
  std::snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", static_cast<int>(version));
  return impl.exec(pragma, "SqliteStore: user_version");
}

// Brings a database of version `from` up to kSchemaVersion, one version at a time, inside the
// caller's transaction. Every step is tested from a database that version really wrote
// (tests/compat/sqlite-v<N>).
Status migrate(SqliteStore::Impl& impl, std::int64_t from) {
  if (from < 1) return Error(Errc::kCorruptState, "SqliteStore: unknown schema version");
  if (from < 2) {
    for (const char* sql : kMigrateV1ToV2)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v2"); !st) return st;
  }
  if (from == SqliteStore::kSchemaVersion) return ok_status();
  return set_schema_version(impl, SqliteStore::kSchemaVersion);
}

Result<std::int64_t> meta_int(SqliteStore::Impl& impl, const char* sql, const char* where) {
  auto q = impl.query(sql);
  if (!q) return q.error();
  auto row = q->step(where);
  if (!row) return row.error();
  if (!*row) return Error(Errc::kCorruptState, where);
  return q->column_int(0);
}

// Checks the storage key against the database: both sealed with the right key, or both not.
Status check_storage_key(SqliteStore::Impl& impl, const SqliteStoreOptions& options) {
  auto sealed =
      meta_int(impl, "SELECT value FROM meta WHERE key = 'sealed'", "SqliteStore: sealed flag");
  if (!sealed) return sealed.error();
  if (*sealed == 0) {
    if (!options.storage_key.empty())
      return Error(Errc::kInvalidArgument, "SqliteStore::open: database is not encrypted at rest");
    return ok_status();
  }
  if (options.storage_key.empty())
    return Error(Errc::kWrongStorageKey, "SqliteStore::open: database is sealed, key missing");
  auto q = impl.query("SELECT value FROM meta WHERE key = 'key_check'");
  if (!q) return q.error();
  auto row = q->step("SqliteStore: key check");
  if (!row) return row.error();
  if (!*row) return Error(Errc::kCorruptState, "SqliteStore: key check missing");
  auto opened = impl.sealer->open(as_bytes("key_check"), q->column_blob(0));
  if (!opened) return Error(Errc::kWrongStorageKey, "SqliteStore::open: wrong storage key");
  if (!constant_time_equals(opened->expose(), as_bytes(kKeyCheck)))
    return Error(Errc::kCorruptState, "SqliteStore: key check content");
  return ok_status();
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::create(const std::string& path,
                                                         IdentityKeyPair identity,
                                                         std::uint32_t registration_id,
                                                         const SqliteStoreOptions& options) {
  auto impl = connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options);
  if (!impl) return impl.error();
  Impl& db = **impl;
  Status st = in_transaction(db, [&]() -> Status {
    auto kind = inspect(db);
    if (!kind) return kind.error();
    if (kind->ours)
      return Error(Errc::kInvalidArgument, "SqliteStore::create: already a hush database");
    if (!kind->empty)
      return Error(Errc::kCorruptState, "SqliteStore::create: not an empty database");
    // A new database is built the way an old one is migrated: version 1, then each step.
    for (const char* sql : kSchemaV1)
      if (auto s = db.exec(sql, "SqliteStore::create: schema"); !s) return s;
    if (auto s = migrate(db, 1); !s) return s;
    if (db.sealer) {
      auto check = db.sealer->seal(*db.random, as_bytes("key_check"), as_bytes(kKeyCheck));
      if (!check) return check.error();
      auto q = db.query("INSERT INTO meta (key, value) VALUES ('key_check', ?)");
      if (!q) return q.error();
      q->blob(1, *check);
      if (auto s = q->run("SqliteStore::create: key check"); !s) return s;
      if (auto s = db.exec("UPDATE meta SET value = 1 WHERE key = 'sealed'",
                           "SqliteStore::create: sealed");
          !s)
        return s;
    }
    auto private_key = db.protect(as_bytes("local_identity"), identity.private_key.expose());
    if (!private_key) return private_key.error();
    auto q = db.query(
        "INSERT INTO local_identity (singleton, public_key, private_key, registration_id) "
        "VALUES (1, ?, ?, ?)");
    if (!q) return q.error();
    q->blob(1, identity.public_key.u()).blob(2, private_key->expose()).integer(3, registration_id);
    if (auto s = q->run("SqliteStore::create: identity"); !s) return s;
    char pragma[64];
    std::snprintf(pragma, sizeof pragma, "PRAGMA application_id=%d", kApplicationId);
    if (auto s = db.exec(pragma, "SqliteStore::create: application_id"); !s) return s;
    return set_schema_version(db, kSchemaVersion);
  });
  if (!st) return st.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*impl)));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  auto impl = connect(path, SQLITE_OPEN_READWRITE, options);
  if (!impl) {
    if (impl.error().code() == Errc::kStoreFailure)
      return Error(Errc::kInvalidArgument, "SqliteStore::open: no database at that path");
    return impl.error();
  }
  Impl& db = **impl;
  Status st = in_transaction(db, [&]() -> Status {
    auto kind = inspect(db);
    if (!kind) return kind.error();
    if (kind->empty) return Error(Errc::kInvalidArgument, "SqliteStore::open: not initialised");
    if (!kind->ours) return Error(Errc::kCorruptState, "SqliteStore::open: not a hush database");
    if (kind->version > kSchemaVersion)
      return Error(Errc::kUnsupported, "SqliteStore::open: written by a newer hush");
    if (auto s = migrate(db, kind->version); !s) return s;
    return check_storage_key(db, options);
  });
  if (!st) return st.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*impl)));
}

Status SqliteStore::run_transaction(const std::function<Status()>& body) {
  std::lock_guard lock(impl_->mutex);
  Impl& db = *impl_;
  const int level = ++db.depth;
  char begin[32], release[32], rollback[48];
  if (level == 1) {
    std::snprintf(begin, sizeof begin, "BEGIN IMMEDIATE");
  } else {
    std::snprintf(begin, sizeof begin, "SAVEPOINT s%d", level);
    std::snprintf(release, sizeof release, "RELEASE s%d", level);
    std::snprintf(rollback, sizeof rollback, "ROLLBACK TO s%d; RELEASE s%d", level, level);
  }
  auto undo = [&] {
    (void)db.exec(level == 1 ? "ROLLBACK" : rollback, "sqlite: rollback");
    --db.depth;
  };
  if (auto st = db.exec(begin, "sqlite: begin transaction"); !st) {
    --db.depth;
    return st;
  }
  Status st;
  try {
    st = body();
  } catch (...) {
    undo();
    throw;
  }
  if (!st) {
    undo();
    return st;
  }
  if (auto c = db.exec(level == 1 ? "COMMIT" : release, "sqlite: commit"); !c) {
    undo();
    return c;
  }
  --db.depth;
  return ok_status();
}

// ---- identities ----

Result<IdentityKeyPair> SqliteStore::identity_key_pair() {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT public_key, private_key FROM local_identity WHERE singleton = 1");
  if (!q) return q.error();
  auto row = q->step("SqliteStore: identity");
  if (!row) return row.error();
  if (!*row) return Error(Errc::kCorruptState, "SqliteStore: identity missing");
  auto pub = key_column(*q, 0, "SqliteStore: identity public key");
  if (!pub) return pub.error();
  auto stored = impl_->unprotect(as_bytes("local_identity"), q->column_blob(1), PrivateKey::kSize,
                                 "SqliteStore: identity private key size");
  if (!stored) return stored.error();
  auto priv = PrivateKey::parse(stored->expose());
  if (!priv) return Error(Errc::kCorruptState, "SqliteStore: identity private key");
  return KeyPair{*pub, std::move(*priv)};
}

Result<std::uint32_t> SqliteStore::local_registration_id() {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT registration_id FROM local_identity WHERE singleton = 1");
  if (!q) return q.error();
  auto row = q->step("SqliteStore: registration id");
  if (!row) return row.error();
  if (!*row) return Error(Errc::kCorruptState, "SqliteStore: identity missing");
  const std::int64_t v = q->column_int(0);
  if (v < 0 || v > UINT32_MAX) return Error(Errc::kCorruptState, "SqliteStore: registration id");
  return static_cast<std::uint32_t>(v);
}

Result<std::optional<IdentityKey>> SqliteStore::identity(const Address& address) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT identity_key FROM identities WHERE name = ? AND device_id = ?");
  if (!q) return q.error();
  q->address(1, address);
  auto row = q->step("SqliteStore: load identity");
  if (!row) return row.error();
  if (!*row) return std::optional<IdentityKey>();
  auto key = key_column(*q, 0, "SqliteStore: stored identity key");
  if (!key) return key.error();
  return std::optional<IdentityKey>(*key);
}

Result<IdentityChange> SqliteStore::save_identity(const Address& address,
                                                  const IdentityKey& identity_key) {
  std::lock_guard lock(impl_->mutex);
  auto existing = identity(address);
  if (!existing) return existing.error();
  if (*existing && **existing == identity_key) return IdentityChange::kNewOrUnchanged;
  auto q = impl_->query(
      "INSERT OR REPLACE INTO identities (name, device_id, identity_key) VALUES (?, ?, ?)");
  if (!q) return q.error();
  q->address(1, address).blob(3, identity_key.u());
  if (auto st = q->run("SqliteStore: save identity"); !st) return st.error();
  return *existing ? IdentityChange::kReplacedExisting : IdentityChange::kNewOrUnchanged;
}

Result<bool> SqliteStore::is_trusted_identity(const Address& address,
                                              const IdentityKey& identity_key, Direction) {
  auto existing = identity(address);
  if (!existing) return existing.error();
  return !*existing || **existing == identity_key;
}

// ---- prekeys and signed prekeys: two tables of (id, sealed record) ----

namespace {

// One table of key records; the statements are kept by address in the statement cache.
struct KeyTable {
  const char* name;
  const char* select;
  const char* insert;
  const char* remove;
  const char* ids;
};
constexpr KeyTable kPreKeys{"pre_keys", "SELECT record FROM pre_keys WHERE id = ?",
                            "INSERT OR REPLACE INTO pre_keys (id, record) VALUES (?, ?)",
                            "DELETE FROM pre_keys WHERE id = ?",
                            "SELECT id FROM pre_keys ORDER BY id"};
constexpr KeyTable kSignedPreKeys{
    "signed_pre_keys", "SELECT record FROM signed_pre_keys WHERE id = ?",
    "INSERT OR REPLACE INTO signed_pre_keys (id, record) VALUES (?, ?)",
    "DELETE FROM signed_pre_keys WHERE id = ?", "SELECT id FROM signed_pre_keys ORDER BY id"};

template <class Record, class Id>
Result<std::optional<Record>> load_key_record(SqliteStore::Impl& impl, const KeyTable& t, Id id) {
  std::lock_guard lock(impl.mutex);
  auto q = impl.query(t.select);
  if (!q) return q.error();
  q->integer(1, to_uint(id));
  auto row = q->step("SqliteStore: load key record");
  if (!row) return row.error();
  if (!*row) return std::optional<Record>();
  auto bytes = impl.unprotect(row_id(t.name, to_uint(id)), q->column_blob(0), kMaxKeyRecordBytes,
                              "SqliteStore: key record size");
  if (!bytes) return bytes.error();
  auto record = Record::deserialize(bytes->expose());
  if (!record) return record.error();
  if (record->id != id) return Error(Errc::kCorruptState, "SqliteStore: key record id mismatch");
  return std::optional<Record>(std::move(*record));
}

template <class Record>
Status store_key_record(SqliteStore::Impl& impl, const KeyTable& t, const Record& record) {
  std::lock_guard lock(impl.mutex);
  auto stored = impl.protect(row_id(t.name, to_uint(record.id)), record.serialize().expose());
  if (!stored) return stored.error();
  auto q = impl.query(t.insert);
  if (!q) return q.error();
  q->integer(1, to_uint(record.id)).blob(2, stored->expose());
  return q->run("SqliteStore: store key record");
}

template <class Id>
Status remove_key_record(SqliteStore::Impl& impl, const KeyTable& t, Id id) {
  std::lock_guard lock(impl.mutex);
  auto q = impl.query(t.remove);
  if (!q) return q.error();
  q->integer(1, to_uint(id));
  return q->run("SqliteStore: remove key record");
}

template <class Id>
Result<std::vector<Id>> key_record_ids(SqliteStore::Impl& impl, const KeyTable& t) {
  std::lock_guard lock(impl.mutex);
  auto q = impl.query(t.ids);
  if (!q) return q.error();
  std::vector<Id> ids;
  for (;;) {
    auto row = q->step("SqliteStore: key record ids");
    if (!row) return row.error();
    if (!*row) break;
    const std::int64_t v = q->column_int(0);
    if (v < 0 || v > UINT32_MAX) return Error(Errc::kCorruptState, "SqliteStore: key record id");
    ids.push_back(Id{static_cast<std::uint32_t>(v)});
  }
  return ids;
}

}  // namespace

Result<std::optional<PreKeyRecord>> SqliteStore::load_pre_key(PreKeyId id) {
  return load_key_record<PreKeyRecord>(*impl_, kPreKeys, id);
}

Status SqliteStore::store_pre_key(const PreKeyRecord& record) {
  return run_transaction([&]() -> Status {
    if (auto st = store_key_record(*impl_, kPreKeys, record); !st) return st;
    auto bump = impl_->query("UPDATE meta SET value = max(value, ?) WHERE key = 'next_pre_key_id'");
    if (!bump) return bump.error();
    bump->integer(1, std::int64_t{to_uint(record.id)} + 1);
    return bump->run("SqliteStore: next prekey id");
  });
}

Status SqliteStore::remove_pre_key(PreKeyId id) {
  return remove_key_record(*impl_, kPreKeys, id);
}

Result<std::vector<PreKeyId>> SqliteStore::pre_key_ids() {
  return key_record_ids<PreKeyId>(*impl_, kPreKeys);
}

Result<PreKeyId> SqliteStore::next_pre_key_id() {
  std::lock_guard lock(impl_->mutex);
  auto v = meta_int(*impl_, "SELECT value FROM meta WHERE key = 'next_pre_key_id'",
                    "SqliteStore: next prekey id missing");
  if (!v) return v.error();
  if (*v < 1 || *v > std::int64_t{UINT32_MAX})
    return Error(Errc::kCorruptState, "SqliteStore: next prekey id");
  return PreKeyId{static_cast<std::uint32_t>(*v)};
}

Result<std::optional<SignedPreKeyRecord>> SqliteStore::load_signed_pre_key(SignedPreKeyId id) {
  return load_key_record<SignedPreKeyRecord>(*impl_, kSignedPreKeys, id);
}

Status SqliteStore::store_signed_pre_key(const SignedPreKeyRecord& record) {
  return store_key_record(*impl_, kSignedPreKeys, record);
}

Status SqliteStore::remove_signed_pre_key(SignedPreKeyId id) {
  return remove_key_record(*impl_, kSignedPreKeys, id);
}

Result<std::vector<SignedPreKeyId>> SqliteStore::signed_pre_key_ids() {
  return key_record_ids<SignedPreKeyId>(*impl_, kSignedPreKeys);
}

// ---- sessions ----

Result<std::optional<SessionRecord>> SqliteStore::load_session(const Address& address) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT record FROM sessions WHERE name = ? AND device_id = ?");
  if (!q) return q.error();
  q->address(1, address);
  auto row = q->step("SqliteStore: load session");
  if (!row) return row.error();
  if (!*row) return std::optional<SessionRecord>();
  auto bytes = impl_->unprotect(row_id("sessions", address), q->column_blob(0),
                                kMaxSessionRecordBytes, "SqliteStore: session record size");
  if (!bytes) return bytes.error();
  auto record = SessionRecord::deserialize(bytes->expose());
  if (!record) return record.error();
  return std::optional<SessionRecord>(std::move(*record));
}

Status SqliteStore::store_session(const Address& address, SessionRecord record) {
  std::lock_guard lock(impl_->mutex);
  auto stored = impl_->protect(row_id("sessions", address), record.serialize().expose());
  if (!stored) return stored.error();
  auto q =
      impl_->query("INSERT OR REPLACE INTO sessions (name, device_id, record) VALUES (?, ?, ?)");
  if (!q) return q.error();
  q->address(1, address).blob(3, stored->expose());
  return q->run("SqliteStore: store session");
}

// ---- application data ----

Status SqliteStore::put_app_data(std::string_view key, ByteView value) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("INSERT OR REPLACE INTO app_data (key, value) VALUES (?, ?)");
  if (!q) return q.error();
  q->text_as_blob(1, key).blob(2, value);
  return q->run("SqliteStore: put app data");
}

Result<std::optional<Bytes>> SqliteStore::app_data(std::string_view key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT value FROM app_data WHERE key = ?");
  if (!q) return q.error();
  q->text_as_blob(1, key);
  auto row = q->step("SqliteStore: app data");
  if (!row) return row.error();
  if (!*row) return std::optional<Bytes>();
  const ByteView v = q->column_blob(0);
  return std::optional<Bytes>(Bytes(v.begin(), v.end()));
}

Status SqliteStore::erase_app_data(std::string_view key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("DELETE FROM app_data WHERE key = ?");
  if (!q) return q.error();
  q->text_as_blob(1, key);
  return q->run("SqliteStore: erase app data");
}

// ---- export ----

Result<SecretBytes> SqliteStore::export_snapshot() {
  std::optional<SecretBytes> out;
  Status st = run_transaction([&]() -> Status {
    auto identity = identity_key_pair();
    if (!identity) return identity.error();
    auto registration_id = local_registration_id();
    if (!registration_id) return registration_id.error();
    auto next = next_pre_key_id();
    if (!next) return next.error();
    internal::SnapshotWriter w(*identity, *registration_id, to_uint(*next));

    auto ids = impl_->query(
        "SELECT name, device_id, identity_key FROM identities ORDER BY name, device_id");
    if (!ids) return ids.error();
    for (;;) {
      auto row = ids->step("SqliteStore: export identities");
      if (!row) return row.error();
      if (!*row) break;
      const ByteView name = ids->column_blob(0);
      auto key = key_column(*ids, 2, "SqliteStore: stored identity key");
      if (!key) return key.error();
      w.add_identity(Address{std::string(name.begin(), name.end()),
                             DeviceId{static_cast<std::uint32_t>(ids->column_int(1))}},
                     *key);
    }
    // Records go through load + serialize so that the export is canonical and validated.
    auto pre = pre_key_ids();
    if (!pre) return pre.error();
    for (PreKeyId id : *pre) {
      auto r = load_pre_key(id);
      if (!r) return r.error();
      w.add_pre_key((*r)->serialize().expose());
    }
    auto spre = signed_pre_key_ids();
    if (!spre) return spre.error();
    for (SignedPreKeyId id : *spre) {
      auto r = load_signed_pre_key(id);
      if (!r) return r.error();
      w.add_signed_pre_key((*r)->serialize().expose());
    }
    auto sessions = impl_->query("SELECT name, device_id FROM sessions ORDER BY name, device_id");
    if (!sessions) return sessions.error();
    std::vector<Address> addresses;
    for (;;) {
      auto row = sessions->step("SqliteStore: export sessions");
      if (!row) return row.error();
      if (!*row) break;
      const ByteView name = sessions->column_blob(0);
      addresses.push_back(Address{std::string(name.begin(), name.end()),
                                  DeviceId{static_cast<std::uint32_t>(sessions->column_int(1))}});
    }
    for (const Address& a : addresses) {
      auto r = load_session(a);
      if (!r) return r.error();
      w.add_session(a, (*r)->serialize().expose());
    }
    out = w.finish();
    return ok_status();
  });
  if (!st) return st.error();
  return std::move(*out);
}

}  // namespace hush

// hush: SqliteStore (see sqlite_store.h).
//
// One connection per store, prepared statements cached for its lifetime, WAL journal with
// synchronous=FULL (a commit is durable when COMMIT returns), secure_delete on. Transactions are
// BEGIN IMMEDIATE (the write lock is taken up front, so two writers never deadlock on a lock
// upgrade); nested transactions are savepoints. Nothing is cached between calls: another process
// may change the file at any time, and each transaction reads what is committed. The schema and
// its migrations are in sqlite_schema.cpp; the default generation counter in generation_file.cpp.
#include <hush/limits.h>
#include <hush/sqlite_store.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "group/sender_key_state.h"
#include "proto_util.h"
#include "protocol/record_access.h"
#include "store/sqlite_impl.h"
#include "store/sqlite_schema.h"
#include "store/store_snapshot.h"

namespace hush {

namespace internal::sqlite {

Error sqlite_error(int rc, const char* where) {
  const int primary = rc & 0xFF;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return Error(Errc::kCorruptState, where);
  return Error(Errc::kStoreFailure, where);
}

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

Bytes row_id(std::string_view table, std::string_view key) {
  Bytes r(table.begin(), table.end());
  r.push_back(0);
  r.insert(r.end(), key.begin(), key.end());
  return r;
}

Bytes row_id(std::string_view table, MessengerRecordKind kind, std::string_view key) {
  Bytes r = row_id(table, static_cast<std::uint32_t>(kind));
  r.insert(r.end(), key.begin(), key.end());
  return r;
}

Bytes row_id(std::string_view table, const Address& sender, const SenderKeyGroup& group) {
  Bytes r = row_id(table, to_uint(sender.device_id));
  for (const std::uint32_t v :
       {static_cast<std::uint32_t>(group.format()), static_cast<std::uint32_t>(sender.name.size())})
    for (int shift = 24; shift >= 0; shift -= 8)
      r.push_back(static_cast<std::uint8_t>(v >> shift));
  r.insert(r.end(), sender.name.begin(), sender.name.end());
  r.insert(r.end(), group.name().begin(), group.name().end());
  return r;
}

Bytes local_identity_row(const PublicKey& public_key) {
  return row_id("local_identity",
                std::string_view(reinterpret_cast<const char*>(public_key.u().data()),
                                 public_key.u().size()));
}

}  // namespace internal::sqlite

using internal::sqlite::local_identity_row;
using internal::sqlite::Query;
using internal::sqlite::row_id;
using internal::sqlite::sqlite_error;

namespace {

// What the key check row holds, sealed, in a sealed database.
constexpr std::string_view kKeyCheck = "hush storage key check";

}  // namespace

// ---- the connection ----

SqliteStore::Impl::~Impl() {
  for (auto& [sql, stmt] : statements)
    sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
}

Status SqliteStore::Impl::exec(const char* sql, const char* where) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(rc, where);
  return ok_status();
}

Result<Query> SqliteStore::Impl::query(const char* sql) {
  auto it = statements.find(sql);
  if (it == statements.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(rc, "sqlite: prepare");
    it = statements.emplace(sql, stmt).first;
  }
  return Query(it->second);
}

Result<std::int64_t> SqliteStore::Impl::pragma_int(const char* sql) {
  auto q = query(sql);
  if (!q) return q.error();
  auto row = q->step("sqlite: pragma");
  if (!row) return row.error();
  if (!*row) return Error(Errc::kStoreFailure, "sqlite: pragma returned nothing");
  return q->column_int(0);
}

Result<std::int64_t> SqliteStore::Impl::meta_int(std::string_view key, const char* where) {
  auto q = query("SELECT value FROM meta WHERE key = ?");
  if (!q) return q.error();
  q->text(1, key);  // meta's key column is TEXT
  auto row = q->step(where);
  if (!row) return row.error();
  if (!*row) return Error(Errc::kCorruptState, where);
  return q->column_int(0);
}

Result<SecretBytes> SqliteStore::Impl::protect(ByteView row, ByteView plaintext) {
  if (!sealer) return SecretBytes::copy_of(plaintext);
  auto sealed = sealer->seal(*random, row, plaintext);
  if (!sealed) return sealed.error();
  return SecretBytes::copy_of(*sealed);
}

Result<SecretBytes> SqliteStore::Impl::unprotect(ByteView row, ByteView stored, std::size_t limit,
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

namespace {

Result<PublicKey> key_column(const Query& q, int column, const char* where) {
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

// The database and the files SQLite keeps beside it hold keys: only the owner may read them.
// SQLite gives its WAL and shared-memory files the mode of the database file.
void restrict_permissions(const std::string& path) {
  for (const std::string& p : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 077) != 0) (void)::chmod(p.c_str(), 0600);
  }
}

Result<std::unique_ptr<SqliteStore::Impl>> connect(const std::string& path, bool create,
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
  if (options.generation_counter != nullptr) {
    impl->counter = options.generation_counter;
  } else {
    impl->owned_counter = generation_file(path + "-generation");
    impl->counter = impl->owned_counter.get();
  }
  if (create) {
    // Made here, with mode 0600, before SQLite makes it with the umask's mode.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(rc, "SqliteStore: cannot open the database file");
  if (auto st = configure(*impl, options); !st) return st.error();
  return impl;
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

// Checks the storage key against the database: both sealed with the right key, or both not.
Status check_storage_key(SqliteStore::Impl& impl, const SqliteStoreOptions& options) {
  auto sealed = impl.meta_int("sealed", "SqliteStore: sealed flag");
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

// Every address with a stored session, in (name, device id) order.
Result<std::vector<Address>> stored_session_addresses(SqliteStore::Impl& impl) {
  auto q = impl.query("SELECT name, device_id FROM sessions ORDER BY name, device_id");
  if (!q) return q.error();
  std::vector<Address> out;
  for (;;) {
    auto row = q->step("SqliteStore: session addresses");
    if (!row) return row.error();
    if (!*row) break;
    const ByteView name = q->column_blob(0);
    const std::int64_t device = q->column_int(1);
    if (device < 0 || device > UINT32_MAX) return Error(Errc::kCorruptState, "SqliteStore: device");
    out.push_back(Address{std::string(name.begin(), name.end()),
                          DeviceId{static_cast<std::uint32_t>(device)}});
  }
  return out;
}

// Every (sender, group) with a stored sender key, in the snapshot's order; a row whose group or
// device does not check is kCorruptState.
Result<std::vector<std::pair<Address, SenderKeyGroup>>> sender_key_rows(SqliteStore::Impl& impl) {
  auto q = impl.query(
      "SELECT name, device_id, group_format, group_name FROM sender_keys"
      " ORDER BY name, device_id, group_format, group_name");
  if (!q) return q.error();
  std::vector<std::pair<Address, SenderKeyGroup>> out;
  for (;;) {
    auto row = q->step("SqliteStore: sender keys");
    if (!row) return row.error();
    if (!*row) break;
    const std::int64_t device = q->column_int(1);
    const std::int64_t format = q->column_int(2);
    const ByteView name = q->column_blob(0);
    const ByteView group = q->column_blob(3);
    if (device < 0 || device > UINT32_MAX || format < 0 || format > UINT32_MAX ||
        name.size() > kMaxAddressNameBytes)
      return Error(Errc::kCorruptState, "SqliteStore: sender key row");
    auto g = internal::stored_sender_key_group(
        static_cast<std::uint32_t>(format),
        std::string_view(reinterpret_cast<const char*>(group.data()), group.size()));
    if (!g) return g.error();
    out.emplace_back(Address{std::string(name.begin(), name.end()),
                             DeviceId{static_cast<std::uint32_t>(device)}},
                     std::move(*g));
  }
  return out;
}

Result<std::uint64_t> generation(SqliteStore::Impl& impl) {
  auto g = impl.meta_int("generation", "SqliteStore: generation missing");
  if (!g) return g.error();
  if (*g < 0) return Error(Errc::kCorruptState, "SqliteStore: generation");
  return static_cast<std::uint64_t>(*g);
}

Status set_generation(SqliteStore::Impl& impl, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(INT64_MAX))
    return Error(Errc::kLimitExceeded, "SqliteStore: generation exhausted");
  auto q = impl.query("UPDATE meta SET value = ? WHERE key = 'generation'");
  if (!q) return q.error();
  q->integer(1, static_cast<std::int64_t>(value));
  return q->run("SqliteStore: generation");
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::create(const std::string& path,
                                                         IdentityKeyPair identity,
                                                         std::uint32_t registration_id,
                                                         const SqliteStoreOptions& options) {
  auto impl = connect(path, /*create=*/true, options);
  if (!impl) return impl.error();
  Impl& db = **impl;
  Status st = in_transaction(db, [&]() -> Status {
    auto kind = internal::sqlite::inspect(db);
    if (!kind) return kind.error();
    if (kind->ours)
      return Error(Errc::kInvalidArgument, "SqliteStore::create: already a hush database");
    if (!kind->empty)
      return Error(Errc::kCorruptState, "SqliteStore::create: not an empty database");
    // A new database is built the way an old one is migrated: version 1, then each step.
    if (auto s = internal::sqlite::create_version_1(db); !s) return s;
    if (auto s = internal::sqlite::migrate_to_version_2(db, 1); !s) return s;
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
    if (auto s = internal::sqlite::migrate_to_current(db, 2); !s) return s;
    auto private_key =
        db.protect(local_identity_row(identity.public_key), identity.private_key.expose());
    if (!private_key) return private_key.error();
    auto q = db.query(
        "INSERT INTO local_identity (singleton, public_key, private_key, registration_id) "
        "VALUES (1, ?, ?, ?)");
    if (!q) return q.error();
    q->blob(1, identity.public_key.u()).blob(2, private_key->expose()).integer(3, registration_id);
    if (auto s = q->run("SqliteStore::create: identity"); !s) return s;
    // A counter left by an earlier database at this path belongs to that one.
    return db.counter->store(0);
  });
  if (!st) return st.error();
  if (auto s = db.counter->sync(); !s) return s.error();
  restrict_permissions(path);
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*impl)));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  auto impl = connect(path, /*create=*/false, options);
  if (!impl) {
    if (impl.error().code() == Errc::kStoreFailure)
      return Error(Errc::kInvalidArgument, "SqliteStore::open: no database at that path");
    return impl.error();
  }
  Impl& db = **impl;
  Status st = in_transaction(db, [&]() -> Status {
    auto kind = internal::sqlite::inspect(db);
    if (!kind) return kind.error();
    if (kind->empty) return Error(Errc::kInvalidArgument, "SqliteStore::open: not initialised");
    if (!kind->ours) return Error(Errc::kCorruptState, "SqliteStore::open: not a hush database");
    if (kind->version > kSchemaVersion)
      return Error(Errc::kUnsupported, "SqliteStore::open: written by a newer hush");
    if (auto s = internal::sqlite::migrate_to_version_2(db, kind->version); !s) return s;
    if (auto s = check_storage_key(db, options); !s) return s;
    return internal::sqlite::migrate_to_current(db, kind->version);
  });
  if (!st) return st.error();
  restrict_permissions(path);
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*impl)));
  if (auto c = store->check_generation(); !c) return c.error();
  return store;
}

// Compares the database's generation with the counter outside it (sqlite_store.h "Restored
// copies"), and restarts every session of a restored copy, in one transaction.
Status SqliteStore::check_generation() {
  RollbackCheck check;
  Status st = run_transaction([&]() -> Status {
    auto stored = generation(*impl_);
    if (!stored) return stored.error();
    auto counted = impl_->counter->load();
    if (!counted && counted.error().code() != Errc::kCorruptState) return counted.error();
    check.database_generation = *stored;
    if (counted) check.counter_generation = *counted;
    // No counter for a database that has encrypted: a copy, or a restore with the counter lost.
    const std::optional<std::uint64_t> c = check.counter_generation;
    check.rolled_back = c ? *c > *stored : *stored > 0;
    if (!check.rolled_back) {
      impl_->known_generation = *stored;
      if (!c || *c != *stored) return impl_->counter->store(*stored);
      return ok_status();
    }
    // Every current state is closed: it may still decrypt late messages, but never encrypts
    // again and is never made current again, so no restored chain is ever used for sending.
    auto addresses = stored_session_addresses(*impl_);
    if (!addresses) return addresses.error();
    for (const Address& a : *addresses) {
      auto record = load_session(a);
      if (!record) return record.error();
      if (!*record || !(*record)->has_current_state()) continue;
      internal::RecordAccess::data(**record).close_current();
      if (auto s = store_session(a, std::move(**record)); !s) return s;
      ++check.sessions_restarted;
    }
    // Our own sender-key chains are retired the same way: they never encrypt again.
    auto groups = sender_key_rows(*impl_);
    if (!groups) return groups.error();
    for (const auto& [a, g] : *groups) {
      auto record = load_sender_key(a, g);
      if (!record) return record.error();
      if (!*record || !internal::retire_own_chains(**record)) continue;
      if (auto s = store_sender_key(a, g, std::move(**record)); !s) return s;
      ++check.sender_keys_retired;
    }
    const std::uint64_t next = std::max(*stored, c.value_or(0)) + 1;
    if (auto s = set_generation(*impl_, next); !s) return s;
    if (auto s = impl_->counter->store(next); !s) return s;
    impl_->known_generation = next;
    return ok_status();
  });
  if (!st) return st;
  impl_->rollback = check;
  return impl_->counter->sync();
}

const RollbackCheck& SqliteStore::rollback_check() const noexcept {
  return impl_->rollback;
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
    // A generation advance made at this level or deeper is undone with it.
    if (db.pending_generation && db.pending_depth >= level) db.pending_generation.reset();
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
  if (level > 1) {
    if (auto c = db.exec(release, "sqlite: release savepoint"); !c) {
      undo();
      return c;
    }
    if (db.pending_generation && db.pending_depth == level) db.pending_depth = level - 1;
    --db.depth;
    return ok_status();
  }
  // The counter outside the database moves first: a copy of the database taken before this
  // commit is then behind it, whatever happens next (a crash here only makes the next open
  // restart the sessions).
  if (db.pending_generation) {
    if (auto c = db.counter->store(*db.pending_generation); !c) {
      undo();
      return c;
    }
  }
  if (auto c = db.exec("COMMIT", "sqlite: commit"); !c) {
    undo();
    return c;
  }
  --db.depth;
  if (db.pending_generation) {
    db.known_generation = std::max(db.known_generation, *db.pending_generation);
    db.pending_generation.reset();
    // Committed; the ciphertext leaves only once the counter would survive a power loss too.
    return db.counter->sync();
  }
  return ok_status();
}

int SqliteStore::transaction_depth() {
  // A transaction holds the mutex from start to end: another thread waits here until it is over.
  std::lock_guard lock(impl_->mutex);
  return impl_->depth;
}

Status SqliteStore::record_key_use() {
  std::lock_guard lock(impl_->mutex);
  Impl& db = *impl_;
  if (db.depth == 0)
    return Error(Errc::kInvalidArgument, "SqliteStore::record_key_use: outside a transaction");
  auto g = generation(db);
  if (!g) return g.error();
  if (*g < db.known_generation)
    return Error(Errc::kStoreRolledBack,
                 "SqliteStore: the database was replaced by an older copy while open");
  const std::uint64_t next = *g + 1;
  if (auto st = set_generation(db, next); !st) return st;
  db.pending_depth = db.pending_generation ? std::min(db.pending_depth, db.depth) : db.depth;
  db.pending_generation = next;
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
  auto stored = impl_->unprotect(local_identity_row(*pub), q->column_blob(1), PrivateKey::kSize,
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

Result<std::optional<IdentityKey>> SqliteStore::identity(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT identity_key FROM person_identities WHERE name = ?");
  if (!q) return q.error();
  q->text_as_blob(1, name);
  auto row = q->step("SqliteStore: load identity");
  if (!row) return row.error();
  if (!*row) return std::optional<IdentityKey>();
  auto bytes = impl_->unprotect(row_id("identities", name), q->column_blob(0), 32,
                                "SqliteStore: stored identity key");
  if (!bytes) return bytes.error();
  std::array<std::uint8_t, 32> u{};
  if (bytes->size() != u.size()) return Error(Errc::kCorruptState, "SqliteStore: identity key");
  std::copy(bytes->expose().begin(), bytes->expose().end(), u.begin());
  return std::optional<IdentityKey>(PublicKey::from_u(u));
}

Result<std::vector<std::pair<std::string, IdentityKey>>> SqliteStore::identities() {
  std::lock_guard lock(impl_->mutex);
  // Names are BLOBs, so SQLite orders them bytewise, as std::string does.
  auto q = impl_->query("SELECT name, identity_key FROM person_identities ORDER BY name");
  if (!q) return q.error();
  std::vector<std::pair<std::string, IdentityKey>> out;
  for (;;) {
    auto row = q->step("SqliteStore: identities");
    if (!row) return row.error();
    if (!*row) break;
    const ByteView name_bytes = q->column_blob(0);
    std::string name(name_bytes.begin(), name_bytes.end());
    auto bytes = impl_->unprotect(row_id("identities", name), q->column_blob(1), 32,
                                  "SqliteStore: stored identity key");
    if (!bytes) return bytes.error();
    std::array<std::uint8_t, 32> u{};
    if (bytes->size() != u.size()) return Error(Errc::kCorruptState, "SqliteStore: identity key");
    std::copy(bytes->expose().begin(), bytes->expose().end(), u.begin());
    out.emplace_back(std::move(name), PublicKey::from_u(u));
  }
  return out;
}

Result<IdentityChange> SqliteStore::save_identity(std::string_view name,
                                                  const IdentityKey& identity_key) {
  std::lock_guard lock(impl_->mutex);
  auto existing = identity(name);
  if (!existing) return existing.error();
  if (*existing && **existing == identity_key) return IdentityChange::kNewOrUnchanged;
  auto stored = impl_->protect(row_id("identities", name), identity_key.u());
  if (!stored) return stored.error();
  auto q =
      impl_->query("INSERT OR REPLACE INTO person_identities (name, identity_key) VALUES (?, ?)");
  if (!q) return q.error();
  q->text_as_blob(1, name).blob(2, stored->expose());
  if (auto st = q->run("SqliteStore: save identity"); !st) return st.error();
  return *existing ? IdentityChange::kReplacedExisting : IdentityChange::kNewOrUnchanged;
}

Result<bool> SqliteStore::is_trusted_identity(std::string_view name,
                                              const IdentityKey& identity_key, Direction) {
  auto existing = identity(name);
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
  std::size_t max_record_bytes;
};
constexpr KeyTable kPreKeys{"pre_keys",
                            "SELECT record FROM pre_keys WHERE id = ?",
                            "INSERT OR REPLACE INTO pre_keys (id, record) VALUES (?, ?)",
                            "DELETE FROM pre_keys WHERE id = ?",
                            "SELECT id FROM pre_keys ORDER BY id",
                            kMaxKeyRecordBytes};
constexpr KeyTable kSignedPreKeys{
    "signed_pre_keys",
    "SELECT record FROM signed_pre_keys WHERE id = ?",
    "INSERT OR REPLACE INTO signed_pre_keys (id, record) VALUES (?, ?)",
    "DELETE FROM signed_pre_keys WHERE id = ?",
    "SELECT id FROM signed_pre_keys ORDER BY id",
    kMaxKeyRecordBytes};
constexpr KeyTable kKyberPreKeys{"kyber_pre_keys",
                                 "SELECT record FROM kyber_pre_keys WHERE id = ?",
                                 "INSERT OR REPLACE INTO kyber_pre_keys (id, record) VALUES (?, ?)",
                                 "DELETE FROM kyber_pre_keys WHERE id = ?",
                                 "SELECT id FROM kyber_pre_keys ORDER BY id",
                                 kMaxKyberKeyRecordBytes};

template <class Record, class Id>
Result<std::optional<Record>> load_key_record(SqliteStore::Impl& impl, const KeyTable& t, Id id) {
  std::lock_guard lock(impl.mutex);
  auto q = impl.query(t.select);
  if (!q) return q.error();
  q->integer(1, to_uint(id));
  auto row = q->step("SqliteStore: load key record");
  if (!row) return row.error();
  if (!*row) return std::optional<Record>();
  auto bytes = impl.unprotect(row_id(t.name, to_uint(id)), q->column_blob(0), t.max_record_bytes,
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
  auto v = impl_->meta_int("next_pre_key_id", "SqliteStore: next prekey id missing");
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
  return run_transaction([&]() -> Status {
    if (auto st = remove_key_record(*impl_, kSignedPreKeys, id); !st) return st;
    auto q = impl_->query("DELETE FROM accepted_base_keys WHERE signed_pre_key_id = ?");
    if (!q) return q.error();
    q->integer(1, to_uint(id));
    return q->run("SqliteStore: forget base keys");
  });
}

Result<std::vector<SignedPreKeyId>> SqliteStore::signed_pre_key_ids() {
  return key_record_ids<SignedPreKeyId>(*impl_, kSignedPreKeys);
}

Result<bool> SqliteStore::has_accepted_base_key(const PublicKey& base_key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT 1 FROM accepted_base_keys WHERE base_key = ?");
  if (!q) return q.error();
  q->blob(1, base_key.u());
  return q->step("SqliteStore: accepted base key");
}

Status SqliteStore::record_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query(
      "INSERT OR REPLACE INTO accepted_base_keys (base_key, signed_pre_key_id) VALUES (?, ?)");
  if (!q) return q.error();
  q->blob(1, base_key.u()).integer(2, to_uint(id));
  return q->run("SqliteStore: record base key");
}

// ---- Kyber prekeys ----

Result<std::optional<KyberPreKeyRecord>> SqliteStore::load_kyber_pre_key(KyberPreKeyId id) {
  return load_key_record<KyberPreKeyRecord>(*impl_, kKyberPreKeys, id);
}

Status SqliteStore::store_kyber_pre_key(const KyberPreKeyRecord& record) {
  return run_transaction([&]() -> Status {
    if (auto st = store_key_record(*impl_, kKyberPreKeys, record); !st) return st;
    auto bump =
        impl_->query("UPDATE meta SET value = max(value, ?) WHERE key = 'next_kyber_pre_key_id'");
    if (!bump) return bump.error();
    // An id of 2^32-1 leaves the mark where it is (ids are 32-bit; the mark would not fit).
    const std::int64_t id = to_uint(record.id);
    bump->integer(1, id == UINT32_MAX ? 1 : id + 1);
    return bump->run("SqliteStore: next Kyber prekey id");
  });
}

Status SqliteStore::remove_kyber_pre_key(KyberPreKeyId id) {
  return run_transaction([&]() -> Status {
    if (auto st = remove_key_record(*impl_, kKyberPreKeys, id); !st) return st;
    auto q = impl_->query("DELETE FROM kyber_last_resort_uses WHERE kyber_pre_key_id = ?");
    if (!q) return q.error();
    q->integer(1, to_uint(id));
    return q->run("SqliteStore: forget last-resort uses");
  });
}

Result<std::vector<KyberPreKeyId>> SqliteStore::kyber_pre_key_ids() {
  return key_record_ids<KyberPreKeyId>(*impl_, kKyberPreKeys);
}

Result<KyberPreKeyId> SqliteStore::next_kyber_pre_key_id() {
  std::lock_guard lock(impl_->mutex);
  auto v = impl_->meta_int("next_kyber_pre_key_id", "SqliteStore: next Kyber prekey id missing");
  if (!v) return v.error();
  if (*v < 1 || *v > std::int64_t{UINT32_MAX})
    return Error(Errc::kCorruptState, "SqliteStore: next Kyber prekey id");
  return KyberPreKeyId{static_cast<std::uint32_t>(*v)};
}

Result<bool> SqliteStore::has_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                              const PublicKey& base_key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query(
      "SELECT 1 FROM kyber_last_resort_uses WHERE kyber_pre_key_id = ? AND signed_pre_key_id = ?"
      " AND base_key = ?");
  if (!q) return q.error();
  q->integer(1, to_uint(id)).integer(2, to_uint(signed_pre_key_id)).blob(3, base_key.u());
  return q->step("SqliteStore: last-resort use");
}

Status SqliteStore::record_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                           const PublicKey& base_key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query(
      "INSERT OR IGNORE INTO kyber_last_resort_uses (kyber_pre_key_id, signed_pre_key_id, base_key)"
      " VALUES (?, ?, ?)");
  if (!q) return q.error();
  q->integer(1, to_uint(id)).integer(2, to_uint(signed_pre_key_id)).blob(3, base_key.u());
  return q->run("SqliteStore: record last-resort use");
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

Result<std::vector<DeviceId>> SqliteStore::session_devices(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("SELECT device_id FROM sessions WHERE name = ? ORDER BY device_id");
  if (!q) return q.error();
  q->text_as_blob(1, name);
  std::vector<DeviceId> out;
  for (;;) {
    auto row = q->step("SqliteStore: session devices");
    if (!row) return row.error();
    if (!*row) break;
    const std::int64_t v = q->column_int(0);
    if (v < 0 || v > UINT32_MAX) return Error(Errc::kCorruptState, "SqliteStore: device id");
    out.push_back(DeviceId{static_cast<std::uint32_t>(v)});
  }
  return out;
}

Result<std::vector<Address>> SqliteStore::session_addresses() {
  std::lock_guard lock(impl_->mutex);
  return stored_session_addresses(*impl_);
}

// ---- sender keys ----

Result<std::optional<SenderKeyRecord>> SqliteStore::load_sender_key(const Address& sender,
                                                                    const SenderKeyGroup& group) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query(
      "SELECT record FROM sender_keys WHERE name = ? AND device_id = ? AND group_format = ? AND"
      " group_name = ?");
  if (!q) return q.error();
  q->address(1, sender)
      .integer(3, static_cast<std::int64_t>(group.format()))
      .text_as_blob(4, group.name());
  auto row = q->step("SqliteStore: load sender key");
  if (!row) return row.error();
  if (!*row) return std::optional<SenderKeyRecord>();
  auto bytes = impl_->unprotect(row_id("sender_keys", sender, group), q->column_blob(0),
                                kMaxSenderKeyRecordBytes, "SqliteStore: sender key record size");
  if (!bytes) return bytes.error();
  auto record = SenderKeyRecord::deserialize(bytes->expose());
  if (!record) return Error(Errc::kCorruptState, "SqliteStore: sender key record");
  return std::optional<SenderKeyRecord>(std::move(*record));
}

Status SqliteStore::store_sender_key(const Address& sender, const SenderKeyGroup& group,
                                     SenderKeyRecord record) {
  std::lock_guard lock(impl_->mutex);
  auto stored = impl_->protect(row_id("sender_keys", sender, group), record.serialize().expose());
  if (!stored) return stored.error();
  auto q = impl_->query(
      "INSERT OR REPLACE INTO sender_keys (name, device_id, group_format, group_name, record)"
      " VALUES (?, ?, ?, ?, ?)");
  if (!q) return q.error();
  q->address(1, sender)
      .integer(3, static_cast<std::int64_t>(group.format()))
      .text_as_blob(4, group.name())
      .blob(5, stored->expose());
  return q->run("SqliteStore: store sender key");
}

Status SqliteStore::remove_sender_key(const Address& sender, const SenderKeyGroup& group) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query(
      "DELETE FROM sender_keys WHERE name = ? AND device_id = ? AND group_format = ? AND"
      " group_name = ?");
  if (!q) return q.error();
  q->address(1, sender)
      .integer(3, static_cast<std::int64_t>(group.format()))
      .text_as_blob(4, group.name());
  return q->run("SqliteStore: remove sender key");
}

// ---- application data ----

Status SqliteStore::put_app_data(std::string_view key, ByteView value) {
  if (value.size() > kMaxAppDataBytes)
    return Error(Errc::kLimitExceeded, "SqliteStore::put_app_data: value too large");
  std::lock_guard lock(impl_->mutex);
  auto stored = impl_->protect(row_id("app_data", key), value);
  if (!stored) return stored.error();
  auto q = impl_->query("INSERT OR REPLACE INTO app_data (key, value) VALUES (?, ?)");
  if (!q) return q.error();
  q->text_as_blob(1, key).blob(2, stored->expose());
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
  auto value = impl_->unprotect(row_id("app_data", key), q->column_blob(0), kMaxAppDataBytes,
                                "SqliteStore: app data size");
  if (!value) return value.error();
  return std::optional<Bytes>(Bytes(value->expose().begin(), value->expose().end()));
}

Result<std::vector<std::string>> SqliteStore::app_data_keys() {
  std::lock_guard lock(impl_->mutex);
  // Keys are BLOBs, so SQLite orders them bytewise, as std::string does.
  auto q = impl_->query("SELECT key FROM app_data ORDER BY key");
  if (!q) return q.error();
  std::vector<std::string> out;
  for (;;) {
    auto row = q->step("SqliteStore: app data keys");
    if (!row) return row.error();
    if (!*row) break;
    const ByteView key = q->column_blob(0);
    out.emplace_back(key.begin(), key.end());
  }
  return out;
}

Status SqliteStore::erase_app_data(std::string_view key) {
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("DELETE FROM app_data WHERE key = ?");
  if (!q) return q.error();
  q->text_as_blob(1, key);
  return q->run("SqliteStore: erase app data");
}

// ---- Messenger records ----

namespace {

// The value of one Messenger record, opened for its row and bounded; nullopt if there is none.
Result<std::optional<SecretBytes>> load_record(SqliteStore::Impl& impl, MessengerRecordKind kind,
                                               std::string_view key) {
  auto q = impl.query("SELECT value FROM messenger_records WHERE kind = ? AND key = ?");
  if (!q) return q.error();
  q->integer(1, static_cast<std::int64_t>(kind)).text_as_blob(2, key);
  auto row = q->step("SqliteStore: load Messenger record");
  if (!row) return row.error();
  if (!*row) return std::optional<SecretBytes>();
  auto value = impl.unprotect(row_id("messenger_records", kind, key), q->column_blob(0),
                              kMaxAppDataBytes, "SqliteStore: Messenger record size");
  if (!value) return value.error();
  return std::optional<SecretBytes>(std::move(*value));
}

}  // namespace

Result<std::optional<SecretBytes>> SqliteStore::load_messenger_record(MessengerRecordKind kind,
                                                                      std::string_view key) {
  if (auto st = internal::check_messenger_record(kind, key); !st) return st.error();
  std::lock_guard lock(impl_->mutex);
  return load_record(*impl_, kind, key);
}

Status SqliteStore::store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                           ByteView value) {
  if (auto st = internal::check_messenger_record(kind, key, value); !st) return st;
  std::lock_guard lock(impl_->mutex);
  auto stored = impl_->protect(row_id("messenger_records", kind, key), value);
  if (!stored) return stored.error();
  auto q =
      impl_->query("INSERT OR REPLACE INTO messenger_records (kind, key, value) VALUES (?, ?, ?)");
  if (!q) return q.error();
  q->integer(1, static_cast<std::int64_t>(kind)).text_as_blob(2, key).blob(3, stored->expose());
  return q->run("SqliteStore: store Messenger record");
}

Status SqliteStore::remove_messenger_record(MessengerRecordKind kind, std::string_view key) {
  if (auto st = internal::check_messenger_record(kind, key); !st) return st;
  std::lock_guard lock(impl_->mutex);
  auto q = impl_->query("DELETE FROM messenger_records WHERE kind = ? AND key = ?");
  if (!q) return q.error();
  q->integer(1, static_cast<std::int64_t>(kind)).text_as_blob(2, key);
  return q->run("SqliteStore: remove Messenger record");
}

Result<std::vector<std::string>> SqliteStore::messenger_record_keys(MessengerRecordKind kind) {
  if (auto st = internal::check_messenger_record(kind, {}); !st) return st.error();
  std::lock_guard lock(impl_->mutex);
  // Keys are BLOBs, so SQLite orders them bytewise.
  auto q = impl_->query("SELECT key FROM messenger_records WHERE kind = ? ORDER BY key");
  if (!q) return q.error();
  q->integer(1, static_cast<std::int64_t>(kind));
  std::vector<std::string> keys;
  for (;;) {
    auto row = q->step("SqliteStore: Messenger record keys");
    if (!row) return row.error();
    if (!*row) break;
    const ByteView key = q->column_blob(0);
    if (key.size() > kMaxMessengerRecordKeyBytes)
      return Error(Errc::kCorruptState, "SqliteStore: Messenger record key");
    keys.emplace_back(key.begin(), key.end());
  }
  return keys;
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
    auto next_kyber = next_kyber_pre_key_id();
    if (!next_kyber) return next_kyber.error();
    internal::SnapshotWriter w(*identity, *registration_id, to_uint(*next), to_uint(*next_kyber));

    auto people = identities();
    if (!people) return people.error();
    for (const auto& [name, key] : *people)
      w.add_identity(name, key);
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
    auto addresses = stored_session_addresses(*impl_);
    if (!addresses) return addresses.error();
    for (const Address& a : *addresses) {
      auto r = load_session(a);
      if (!r) return r.error();
      w.add_session(a, (*r)->serialize().expose());
    }
    auto keys = impl_->query(
        "SELECT base_key, signed_pre_key_id FROM accepted_base_keys ORDER BY base_key");
    if (!keys) return keys.error();
    for (;;) {
      auto row = keys->step("SqliteStore: export base keys");
      if (!row) return row.error();
      if (!*row) break;
      auto key = key_column(*keys, 0, "SqliteStore: accepted base key");
      if (!key) return key.error();
      w.add_accepted_base_key(SignedPreKeyId{static_cast<std::uint32_t>(keys->column_int(1))},
                              *key);
    }
    // The Messenger's records in (kind, key) order; a kind this version does not know cannot
    // have been written by it.
    struct RecordRow {
      std::int64_t kind;
      std::string key;
    };
    std::vector<RecordRow> records;
    {
      auto q = impl_->query("SELECT kind, key FROM messenger_records ORDER BY kind, key");
      if (!q) return q.error();
      for (;;) {
        auto row = q->step("SqliteStore: export Messenger records");
        if (!row) return row.error();
        if (!*row) break;
        const std::int64_t kind = q->column_int(0);
        const ByteView key = q->column_blob(1);
        if (kind < 0 || kind > UINT32_MAX ||
            !internal::is_messenger_record_kind(static_cast<std::uint32_t>(kind)) ||
            key.size() > kMaxMessengerRecordKeyBytes)
          return Error(Errc::kCorruptState, "SqliteStore: Messenger record row");
        records.push_back(RecordRow{kind, std::string(key.begin(), key.end())});
      }
    }
    for (const RecordRow& r : records) {
      const auto kind = static_cast<MessengerRecordKind>(r.kind);
      auto value = load_record(*impl_, kind, r.key);
      if (!value) return value.error();
      if (!*value) return Error(Errc::kCorruptState, "SqliteStore: Messenger record vanished");
      w.add_messenger_record(kind, r.key, (*value)->expose());
    }
    auto groups = sender_key_rows(*impl_);
    if (!groups) return groups.error();
    for (const auto& [a, g] : *groups) {
      auto r = load_sender_key(a, g);
      if (!r) return r.error();
      if (!*r) return Error(Errc::kCorruptState, "SqliteStore: sender key vanished");
      w.add_sender_key(a.name, to_uint(a.device_id), static_cast<std::uint32_t>(g.format()),
                       g.name(), (*r)->serialize().expose());
    }
    auto kyber = kyber_pre_key_ids();
    if (!kyber) return kyber.error();
    for (KyberPreKeyId id : *kyber) {
      auto r = load_kyber_pre_key(id);
      if (!r) return r.error();
      if (!*r) return Error(Errc::kCorruptState, "SqliteStore: Kyber prekey vanished");
      w.add_kyber_pre_key((*r)->serialize().expose());
    }
    auto uses = impl_->query(
        "SELECT kyber_pre_key_id, signed_pre_key_id, base_key FROM kyber_last_resort_uses"
        " ORDER BY kyber_pre_key_id, signed_pre_key_id, base_key");
    if (!uses) return uses.error();
    for (;;) {
      auto row = uses->step("SqliteStore: export last-resort uses");
      if (!row) return row.error();
      if (!*row) break;
      const std::int64_t kid = uses->column_int(0);
      const std::int64_t sid = uses->column_int(1);
      if (kid < 0 || kid > UINT32_MAX || sid < 0 || sid > UINT32_MAX)
        return Error(Errc::kCorruptState, "SqliteStore: last-resort use ids");
      auto key = key_column(*uses, 2, "SqliteStore: last-resort use base key");
      if (!key) return key.error();
      w.add_last_resort_use(KyberPreKeyId{static_cast<std::uint32_t>(kid)},
                            SignedPreKeyId{static_cast<std::uint32_t>(sid)}, *key);
    }
    out = w.finish();
    return ok_status();
  });
  if (!st) return st.error();
  return std::move(*out);
}

}  // namespace hush

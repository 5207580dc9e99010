// hush chat example: hush-relay's database (see relay_db.h).
#include "relay_db.h"

#include <sqlite3.h>

#include <hush/keys.h>
#include <hush/limits.h>
#include <hush/random.h>
#include <hush/secret.h>

#include <algorithm>
#include <array>
#include <utility>

namespace hush_chat {

namespace {

// "hrly": marks a file as hush-relay's, so that another application's database is refused.
constexpr int kApplicationId = 0x68726c79;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS accounts(
  handle TEXT PRIMARY KEY,
  token BLOB NOT NULL,
  keys BLOB,
  recovery BLOB);
CREATE TABLE IF NOT EXISTS prekeys(
  handle TEXT NOT NULL,
  id INTEGER NOT NULL,
  key BLOB NOT NULL,
  PRIMARY KEY(handle, id));
CREATE TABLE IF NOT EXISTS queue(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  sender TEXT NOT NULL,
  envelope BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS queue_by_recipient ON queue(recipient, id);
CREATE TABLE IF NOT EXISTS spent_prekeys(
  handle TEXT NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY(handle, id));
CREATE TABLE IF NOT EXISTS impostors(
  handle TEXT PRIMARY KEY,
  store BLOB NOT NULL);
)sql";

// A recovery code is kept as salt || P, where P is the Curve25519 public key of the private key
// code || salt (32 bytes, clamped): a one-way function of the code, so the file does not give the
// code away. The code has 160 random bits (157 after clamping), so nobody can try them all, and
// the salt makes a table of precomputed keys useless. (A code people chose would need a slow
// password hash instead.) hush has no public hash function, and the examples use hush's public
// API only, so the one-way map is hush's own key derivation rather than a digest.
constexpr std::size_t kSaltBytes = hush::PrivateKey::kSize - kRecoveryCodeBytes;
constexpr std::size_t kStoredBytes = kSaltBytes + hush::PublicKey::kSerializedSize;

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (!hush::system_random().fill(out)) throw DbError("no randomness");
  return out;
}

std::array<std::uint8_t, hush::PublicKey::kSerializedSize> code_key(hush::ByteView salt,
                                                                    hush::ByteView code) {
  Bytes scalar(code.begin(), code.end());
  scalar.insert(scalar.end(), salt.begin(), salt.end());
  auto key = hush::PrivateKey::parse(scalar);
  hush::secure_wipe(scalar);
  if (!key) throw DbError("recovery code: no key");
  return key->public_key().serialize();
}

// A new code, and what the database keeps of it.
std::pair<Bytes, Bytes> new_recovery_code() {
  Bytes code = random_bytes(kRecoveryCodeBytes);
  Bytes stored = random_bytes(kSaltBytes);
  const auto key = code_key(stored, code);
  stored.insert(stored.end(), key.begin(), key.end());
  return {std::move(code), std::move(stored)};
}

bool code_matches(const Bytes& stored, const Bytes& code) {
  if (stored.size() != kStoredBytes || code.size() != kRecoveryCodeBytes) return false;
  const hush::ByteView salt = hush::ByteView(stored).first(kSaltBytes);
  const auto key = code_key(salt, code);
  return hush::constant_time_equals(hush::ByteView(stored).subspan(kSaltBytes), key);
}

// One prepared statement; binds by position (from 1), finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw DbError(std::string("prepare: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& text) {
    check(sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const std::uint8_t* data, std::size_t size) {
    check(sqlite3_bind_blob(s_, i, size ? data : reinterpret_cast<const std::uint8_t*>(""),
                            static_cast<int>(size), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const Bytes& blob) { return bind(i, blob.data(), blob.size()); }
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  // Steps once: true if a row is ready, false when done.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw DbError(std::string("step: ") + sqlite3_errmsg(db_));
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t integer(int col) { return sqlite3_column_int64(s_, col); }
  std::string text(int col) {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  Bytes blob(int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(s_, col));
    return p ? Bytes(p, p + n) : Bytes();
  }
  int type(int col) { return sqlite3_column_type(s_, col); }
  // Ends the statement (so that it holds no read lock before a COMMIT).
  void reset() { sqlite3_reset(s_); }
  int columns() { return sqlite3_column_count(s_); }
  std::string column_name(int col) { return sqlite3_column_name(s_, col); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw DbError(std::string("bind: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { Stmt(db, "BEGIN IMMEDIATE").run(); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    Stmt(db_, "COMMIT").run();
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RelayDb> RelayDb::open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw DbError("cannot open '" + path + "': " + why);
  }
  std::unique_ptr<RelayDb> out(new RelayDb(db));
  out->exec("PRAGMA busy_timeout=5000");
  std::int64_t id = 0;
  std::int64_t n = 0;
  {  // (finalized here: a statement left open would hold a read transaction)
    Stmt app(db, "PRAGMA application_id");
    id = app.step() ? app.integer(0) : 0;
    Stmt tables(db, "SELECT count(*) FROM sqlite_master");
    n = tables.step() ? tables.integer(0) : 0;
  }
  if (id != kApplicationId && (id != 0 || n != 0))
    throw DbError("'" + path + "' is not a hush-relay database");
  if (read_only) {
    if (id != kApplicationId) throw DbError("'" + path + "' is not a hush-relay database");
    return out;
  }
  out->exec("PRAGMA journal_mode=WAL");
  out->exec("PRAGMA synchronous=FULL");
  out->exec("PRAGMA secure_delete=ON");
  out->exec(kSchema);
  bool has_recovery = false;
  {
    Stmt columns(db, "PRAGMA table_info(accounts)");
    while (columns.step())
      has_recovery = has_recovery || columns.text(1) == "recovery";
  }
  // A database from before recovery codes: its accounts have none (they cannot be recovered).
  if (!has_recovery) out->exec("ALTER TABLE accounts ADD COLUMN recovery BLOB");
  out->exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
  return out;
}

RelayDb::~RelayDb() {
  sqlite3_close(db_);
}

void RelayDb::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw DbError(why);
  }
}

RelayDb::Hello RelayDb::hello(const std::string& handle, const Bytes& token) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT token FROM accounts WHERE handle=?");
  find.bind(1, handle);
  if (find.step())
    return Hello{
        hush::constant_time_equals(find.blob(0), token) ? Account::kKnown : Account::kWrongToken,
        {}};
  Stmt count(db_, "SELECT count(*) FROM accounts");
  if (count.step() && static_cast<std::size_t>(count.integer(0)) >= kMaxAccounts)
    return Hello{Account::kFull, {}};
  count.reset();
  auto [code, stored] = new_recovery_code();
  Stmt(db_, "INSERT INTO accounts(handle, token, recovery) VALUES(?, ?, ?)")
      .bind(1, handle)
      .bind(2, token)
      .bind(3, stored)
      .run();
  tx.commit();
  return Hello{Account::kNew, std::move(code)};
}

RelayDb::Recover RelayDb::recover(const std::string& handle, const Bytes& token,
                                  const Bytes& code) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT recovery FROM accounts WHERE handle=?");
  find.bind(1, handle);
  if (!find.step()) return Recover{Recovery::kUnknownHandle, {}, 0};
  const bool matches = find.type(0) == SQLITE_BLOB && code_matches(find.blob(0), code);
  find.reset();
  if (!matches) return Recover{Recovery::kWrongCode, {}, 0};
  auto [fresh, stored] = new_recovery_code();
  Stmt(db_, "UPDATE accounts SET token=?, keys=NULL, recovery=? WHERE handle=?")
      .bind(1, token)
      .bind(2, stored)
      .bind(3, handle)
      .run();
  Stmt(db_, "DELETE FROM prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM spent_prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM queue WHERE recipient=?").bind(1, handle).run();
  const auto dropped = static_cast<std::size_t>(sqlite3_changes(db_));
  tx.commit();
  return Recover{Recovery::kRecovered, std::move(fresh), dropped};
}

bool RelayDb::has_account(const std::string& handle) {
  Stmt find(db_, "SELECT 1 FROM accounts WHERE handle=?");
  find.bind(1, handle);
  return find.step();
}

RelayDb::Publish RelayDb::publish(const std::string& handle, const hush::PublishedKeys& keys) {
  Transaction tx(db_);
  hush::PublishedKeys stored = keys;
  stored.pre_keys.clear();
  Stmt old(db_, "SELECT keys FROM accounts WHERE handle=?");
  old.bind(1, handle);
  if (!old.step()) throw DbError("publish: no account");
  if (old.type(0) == SQLITE_BLOB) {
    auto previous = hush::PublishedKeys::parse(old.blob(0));
    // The identity of a handle changes only through a recovery (which forgets the old keys):
    // whoever else holds the token cannot quietly put another identity under the handle.
    if (previous && !(previous->identity_key == keys.identity_key)) return Publish{};
    if (!previous) Stmt(db_, "DELETE FROM prekeys WHERE handle=?").bind(1, handle).run();
  }
  old.reset();
  Stmt(db_, "UPDATE accounts SET keys=? WHERE handle=?")
      .bind(1, stored.serialize())
      .bind(2, handle)
      .run();
  Publish out;
  out.accepted = true;
  std::size_t have = count_pre_keys(handle);
  Stmt held(db_, "SELECT 1 FROM prekeys WHERE handle=? AND id=?");
  Stmt spent(db_, "SELECT 1 FROM spent_prekeys WHERE handle=? AND id=?");
  for (const auto& [id, key] : keys.pre_keys) {
    const auto n = static_cast<std::int64_t>(hush::to_uint(id));
    held.reset();
    held.bind(1, handle).bind(2, n);
    const bool replacing = held.step();
    held.reset();
    spent.reset();
    spent.bind(1, handle).bind(2, n);
    const bool used = spent.step();
    spent.reset();
    if (used) {  // handed out already: its owner deletes it when the message comes
      ++out.spent;
      continue;
    }
    if (!replacing && have >= kMaxPreKeysPerHandle) {
      ++out.over;
      continue;
    }
    const auto k = key.serialize();
    Stmt(db_, "INSERT OR REPLACE INTO prekeys(handle, id, key) VALUES(?, ?, ?)")
        .bind(1, handle)
        .bind(2, n)
        .bind(3, k.data(), k.size())
        .run();
    if (replacing) {
      ++out.replaced;
    } else {
      ++out.added;
      ++have;
    }
  }
  tx.commit();
  return out;
}

std::uint32_t RelayDb::count_pre_keys(const std::string& handle) {
  Stmt count(db_, "SELECT count(*) FROM prekeys WHERE handle=?");
  count.bind(1, handle);
  return count.step() ? static_cast<std::uint32_t>(count.integer(0)) : 0;
}

std::optional<Bytes> RelayDb::fetch_bundle(const std::string& handle) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT keys FROM accounts WHERE handle=? AND keys IS NOT NULL");
  find.bind(1, handle);
  if (!find.step()) return std::nullopt;
  auto keys = hush::PublishedKeys::parse(find.blob(0));
  find.reset();
  if (!keys) throw DbError("stored keys do not parse");
  std::optional<std::pair<hush::PreKeyId, hush::PublicKey>> one_time;
  Stmt pre(db_, "SELECT id, key FROM prekeys WHERE handle=? ORDER BY id LIMIT 1");
  pre.bind(1, handle);
  if (pre.step()) {
    const auto id = pre.integer(0);
    auto key = hush::PublicKey::parse(pre.blob(1));
    pre.reset();
    if (!key || id <= 0 || id > 0xFFFFFF) throw DbError("stored prekey does not parse");
    one_time.emplace(hush::PreKeyId{static_cast<std::uint32_t>(id)}, *key);
    Stmt(db_, "DELETE FROM prekeys WHERE handle=? AND id=?").bind(1, handle).bind(2, id).run();
    Stmt(db_, "INSERT OR IGNORE INTO spent_prekeys(handle, id) VALUES(?, ?)")
        .bind(1, handle)
        .bind(2, id)
        .run();
    Stmt(db_,
         "DELETE FROM spent_prekeys WHERE handle=?1 AND id NOT IN (SELECT id FROM spent_prekeys "
         "WHERE handle=?1 ORDER BY id DESC LIMIT ?2)")
        .bind(1, handle)
        .bind(2, static_cast<std::int64_t>(kMaxSpentPreKeysPerHandle))
        .run();
  }
  Bytes bundle = keys->bundle(one_time).serialize();
  tx.commit();
  return bundle;
}

RelayDb::Enqueue RelayDb::enqueue(const std::string& recipient, const std::string& sender,
                                  const Bytes& envelope, const QueueLimits& limits,
                                  std::uint64_t* id) {
  Transaction tx(db_);
  // The whole queue, and this sender's part of it (a share rounded down, but at least one).
  Stmt size(db_,
            "SELECT count(*), coalesce(sum(length(envelope)), 0), "
            "coalesce(sum(sender=?2), 0), coalesce(sum(CASE WHEN sender=?2 THEN length(envelope) "
            "ELSE 0 END), 0) FROM queue WHERE recipient=?1");
  size.bind(1, recipient).bind(2, sender);
  if (!size.step()) throw DbError("enqueue: no count");
  const auto count = static_cast<std::size_t>(size.integer(0));
  const auto bytes = static_cast<std::size_t>(size.integer(1));
  const auto mine = static_cast<std::size_t>(size.integer(2));
  const auto my_bytes = static_cast<std::size_t>(size.integer(3));
  size.reset();
  if (count >= limits.envelopes || bytes + envelope.size() > limits.bytes)
    return Enqueue::kQueueFull;
  const std::size_t share = std::max<std::size_t>(1, limits.envelopes / kSenderShareDivisor);
  const std::size_t byte_share = std::max<std::size_t>(1, limits.bytes / kSenderShareDivisor);
  if (mine >= share || my_bytes + envelope.size() > byte_share) return Enqueue::kSenderShareFull;
  Stmt(db_, "INSERT INTO queue(recipient, sender, envelope) VALUES(?, ?, ?)")
      .bind(1, recipient)
      .bind(2, sender)
      .bind(3, envelope)
      .run();
  *id = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
  tx.commit();
  return Enqueue::kOk;
}

std::vector<RelayDb::Pending> RelayDb::pending(const std::string& recipient, std::uint64_t after,
                                               std::size_t limit) {
  std::vector<Pending> out;
  Stmt q(db_,
         "SELECT id, sender, envelope FROM queue WHERE recipient=? AND id>? ORDER BY id LIMIT ?");
  q.bind(1, recipient)
      .bind(2, static_cast<std::int64_t>(after))
      .bind(3, static_cast<std::int64_t>(limit));
  while (q.step())
    out.push_back(Pending{static_cast<std::uint64_t>(q.integer(0)), q.text(1), q.blob(2)});
  return out;
}

bool RelayDb::ack(const std::string& recipient, std::uint64_t id) {
  if (id > static_cast<std::uint64_t>(INT64_MAX)) return false;
  Stmt(db_, "DELETE FROM queue WHERE id=? AND recipient=?")
      .bind(1, static_cast<std::int64_t>(id))
      .bind(2, recipient)
      .run();
  return sqlite3_changes(db_) == 1;
}

std::optional<Bytes> RelayDb::impostor(const std::string& handle) {
  Stmt find(db_, "SELECT store FROM impostors WHERE handle=?");
  find.bind(1, handle);
  if (!find.step()) return std::nullopt;
  return find.blob(0);
}

void RelayDb::set_impostor(const std::string& handle, const Bytes& snapshot) {
  Stmt(db_, "INSERT OR REPLACE INTO impostors(handle, store) VALUES(?, ?)")
      .bind(1, handle)
      .bind(2, snapshot)
      .run();
}

void RelayDb::dump(std::FILE* out) {
  for (const char* table : {"accounts", "prekeys", "spent_prekeys", "queue", "impostors"}) {
    Stmt count(db_, (std::string("SELECT count(*) FROM ") + table).c_str());
    std::fprintf(out, "table %s: %lld rows\n", table,
                 static_cast<long long>(count.step() ? count.integer(0) : 0));
    Stmt rows(db_, (std::string("SELECT * FROM ") + table).c_str());
    while (rows.step()) {
      std::fprintf(out, " ");
      for (int c = 0; c < rows.columns(); ++c) {
        std::string value;
        switch (rows.type(c)) {
          case SQLITE_NULL:
            value = "NULL";
            break;
          case SQLITE_INTEGER:
            value = std::to_string(rows.integer(c));
            break;
          case SQLITE_BLOB: {
            const Bytes b = rows.blob(c);
            value = "x'" + hex(b.data(), b.size()) + "'";
            break;
          }
          default:
            value = rows.text(c);
            for (char& ch : value)
              if (ch < 0x20 || ch > 0x7e) ch = '?';  // handles are checked; a tampered file is not
            break;
        }
        std::fprintf(out, " %s=%s", rows.column_name(c).c_str(), value.c_str());
      }
      std::fprintf(out, "\n");
    }
  }
}

}  // namespace hush_chat

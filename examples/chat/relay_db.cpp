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
CREATE TABLE IF NOT EXISTS handles(
  handle TEXT PRIMARY KEY,
  recovery BLOB,
  identity BLOB);
CREATE TABLE IF NOT EXISTS devices(
  handle TEXT NOT NULL,
  device INTEGER NOT NULL,
  token BLOB NOT NULL,
  keys BLOB,
  PRIMARY KEY(handle, device));
CREATE TABLE IF NOT EXISTS device_prekeys(
  handle TEXT NOT NULL,
  device INTEGER NOT NULL,
  id INTEGER NOT NULL,
  key BLOB NOT NULL,
  PRIMARY KEY(handle, device, id));
CREATE TABLE IF NOT EXISTS device_spent_prekeys(
  handle TEXT NOT NULL,
  device INTEGER NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY(handle, device, id));
CREATE TABLE IF NOT EXISTS device_kyber_prekeys(
  handle TEXT NOT NULL,
  device INTEGER NOT NULL,
  id INTEGER NOT NULL,
  key BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(handle, device, id));
CREATE TABLE IF NOT EXISTS device_spent_kyber_prekeys(
  handle TEXT NOT NULL,
  device INTEGER NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY(handle, device, id));
CREATE TABLE IF NOT EXISTS inbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  device INTEGER NOT NULL,
  sender TEXT NOT NULL,
  sender_device INTEGER NOT NULL,
  envelope BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS inbox_by_recipient ON inbox(recipient, device, id);
CREATE TABLE IF NOT EXISTS device_lists(
  handle TEXT PRIMARY KEY,
  identity BLOB NOT NULL,
  version INTEGER NOT NULL,
  list BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  owner_device INTEGER NOT NULL,
  size INTEGER NOT NULL,
  received INTEGER NOT NULL,
  created INTEGER NOT NULL DEFAULT 0,
  touched INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS blob_chunks(
  id TEXT NOT NULL,
  start INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(id, start));
CREATE TABLE IF NOT EXISTS impostors(
  handle TEXT PRIMARY KEY,
  store BLOB NOT NULL);
)sql";

// The tables of the format before devices, which migrate() moves into the ones above.
constexpr const char* kMigration = R"sql(
INSERT INTO handles(handle, recovery) SELECT handle, recovery FROM accounts;
INSERT INTO devices(handle, device, token, keys) SELECT handle, 1, token, keys FROM accounts;
INSERT INTO device_prekeys(handle, device, id, key) SELECT handle, 1, id, key FROM prekeys;
INSERT INTO device_spent_prekeys(handle, device, id) SELECT handle, 1, id FROM spent_prekeys;
INSERT INTO inbox(id, recipient, device, sender, sender_device, envelope)
  SELECT id, recipient, 1, sender, 1, envelope FROM queue;
DROP TABLE accounts;
DROP TABLE prekeys;
DROP TABLE spent_prekeys;
DROP TABLE queue;
)sql";

static_assert(kMaxDevicesPerHandle == hush::kMaxDevicesPerPerson,
              "a handle has as many device tokens as hush allows devices on a list");
static_assert(kMaxListBytes >= hush::kMaxDeviceListBytes, "a device list fits its frame field");

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
  out->migrate();
  out->exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
  return out;
}

void RelayDb::migrate() {
  {
    // Blobs from before their times (created, last touched): they count from now.
    bool has_touched = false;
    Stmt columns(db_, "PRAGMA table_info(blobs)");
    while (columns.step())
      has_touched = has_touched || columns.text(1) == "touched";
    columns.reset();
    if (!has_touched) {
      exec("ALTER TABLE blobs ADD COLUMN created INTEGER NOT NULL DEFAULT 0");
      exec("ALTER TABLE blobs ADD COLUMN touched INTEGER NOT NULL DEFAULT 0");
    }
  }
  bool old_accounts = false;
  bool has_recovery = false;
  {
    Stmt columns(db_, "PRAGMA table_info(accounts)");
    while (columns.step()) {
      old_accounts = true;
      has_recovery = has_recovery || columns.text(1) == "recovery";
    }
  }
  if (!old_accounts) return;
  Transaction tx(db_);
  // A database from before recovery codes: its accounts have none (they cannot be recovered).
  if (!has_recovery) exec("ALTER TABLE accounts ADD COLUMN recovery BLOB");
  exec(kMigration);
  // The identity lock, from the keys each handle published.
  std::vector<std::pair<std::string, Bytes>> identities;
  {
    Stmt keys(db_, "SELECT handle, keys FROM devices WHERE keys IS NOT NULL");
    while (keys.step()) {
      auto parsed = hush::PublishedKeys::parse(keys.blob(1));
      if (!parsed) throw DbError("migration: stored keys do not parse");
      const auto k = parsed->identity_key.serialize();
      identities.emplace_back(keys.text(0), Bytes(k.begin(), k.end()));
    }
  }
  for (const auto& [handle, identity] : identities)
    Stmt(db_, "UPDATE handles SET identity=? WHERE handle=?")
        .bind(1, identity)
        .bind(2, handle)
        .run();
  tx.commit();
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

RelayDb::Hello RelayDb::hello(const std::string& handle, std::uint32_t device, const Bytes& token) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT token FROM devices WHERE handle=? AND device=?");
  find.bind(1, handle).bind(2, std::int64_t{device});
  if (find.step())
    return Hello{
        hush::constant_time_equals(find.blob(0), token) ? Account::kKnown : Account::kWrongToken,
        {}};
  find.reset();
  Stmt known(db_, "SELECT 1 FROM handles WHERE handle=?");
  known.bind(1, handle);
  if (known.step()) return Hello{device == 1 ? Account::kWrongToken : Account::kUnknownDevice, {}};
  known.reset();
  if (device != 1) return Hello{Account::kUnknownDevice, {}};
  Stmt count(db_, "SELECT count(*) FROM handles");
  if (count.step() && static_cast<std::size_t>(count.integer(0)) >= kMaxAccounts)
    return Hello{Account::kFull, {}};
  count.reset();
  auto [code, stored] = new_recovery_code();
  Stmt(db_, "INSERT INTO handles(handle, recovery) VALUES(?, ?)")
      .bind(1, handle)
      .bind(2, stored)
      .run();
  Stmt(db_, "INSERT INTO devices(handle, device, token) VALUES(?, 1, ?)")
      .bind(1, handle)
      .bind(2, token)
      .run();
  tx.commit();
  return Hello{Account::kNew, std::move(code)};
}

RelayDb::Recover RelayDb::recover(const std::string& handle, const Bytes& token,
                                  const Bytes& code) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT recovery FROM handles WHERE handle=?");
  find.bind(1, handle);
  if (!find.step()) return Recover{Recovery::kUnknownHandle, {}, 0, {}};
  const bool matches = find.type(0) == SQLITE_BLOB && code_matches(find.blob(0), code);
  find.reset();
  if (!matches) return Recover{Recovery::kWrongCode, {}, 0, {}};
  Recover out;
  out.result = Recovery::kRecovered;
  {
    Stmt others(db_, "SELECT device FROM devices WHERE handle=? AND device<>1 ORDER BY device");
    others.bind(1, handle);
    while (others.step())
      out.removed.push_back(static_cast<std::uint32_t>(others.integer(0)));
  }
  auto [fresh, stored] = new_recovery_code();
  Stmt(db_, "UPDATE handles SET recovery=?, identity=NULL WHERE handle=?")
      .bind(1, stored)
      .bind(2, handle)
      .run();
  Stmt(db_, "INSERT OR REPLACE INTO devices(handle, device, token, keys) VALUES(?, 1, ?, NULL)")
      .bind(1, handle)
      .bind(2, token)
      .run();
  Stmt(db_, "DELETE FROM devices WHERE handle=? AND device<>1").bind(1, handle).run();
  Stmt(db_, "DELETE FROM device_prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM device_spent_prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM device_kyber_prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM device_spent_kyber_prekeys WHERE handle=?").bind(1, handle).run();
  Stmt(db_, "DELETE FROM inbox WHERE recipient=? AND device<>1").bind(1, handle).run();
  Stmt kept(db_, "SELECT count(*) FROM inbox WHERE recipient=? AND device=1");
  kept.bind(1, handle);
  out.kept = kept.step() ? static_cast<std::size_t>(kept.integer(0)) : 0;
  kept.reset();
  tx.commit();
  out.recovery_code = std::move(fresh);
  return out;
}

bool RelayDb::has_device(const std::string& handle, std::uint32_t device) {
  Stmt find(db_, "SELECT 1 FROM devices WHERE handle=? AND device=?");
  find.bind(1, handle).bind(2, std::int64_t{device});
  return find.step();
}

RelayDb::Publish RelayDb::publish(const std::string& handle, std::uint32_t device,
                                  const hush::PublishedKeys& keys) {
  if (hush::to_uint(keys.device_id) != device) return Publish{};
  Transaction tx(db_);
  const auto identity = keys.identity_key.serialize();
  {
    // The identity of a handle changes only through a recovery (which clears it): whoever else
    // holds a token cannot quietly put another identity under the handle.
    Stmt lock(db_, "SELECT identity FROM handles WHERE handle=?");
    lock.bind(1, handle);
    if (!lock.step()) throw DbError("publish: no account");
    if (lock.type(0) == SQLITE_BLOB &&
        !hush::constant_time_equals(lock.blob(0), hush::ByteView(identity)))
      return Publish{};
  }
  Stmt(db_, "UPDATE handles SET identity=? WHERE handle=? AND identity IS NULL")
      .bind(1, identity.data(), identity.size())
      .bind(2, handle)
      .run();
  hush::PublishedKeys stored = keys;
  stored.pre_keys.clear();
  stored.kyber_pre_keys.clear();
  const auto dev = std::int64_t{device};
  if (!stored.last_resort_kyber_pre_key) {
    // A publish without a last-resort Kyber prekey keeps the one held (hush::KeyDirectory).
    Stmt old(db_, "SELECT keys FROM devices WHERE handle=? AND device=? AND keys IS NOT NULL");
    old.bind(1, handle).bind(2, dev);
    if (old.step()) {
      auto held = hush::PublishedKeys::parse(old.blob(0));
      if (!held) throw DbError("stored keys do not parse");
      stored.last_resort_kyber_pre_key = held->last_resort_kyber_pre_key;
    }
  }
  Stmt(db_, "UPDATE devices SET keys=? WHERE handle=? AND device=?")
      .bind(1, stored.serialize())
      .bind(2, handle)
      .bind(3, dev)
      .run();
  Publish out;
  out.accepted = true;
  std::size_t have = count_pre_keys(handle, device);
  Stmt held(db_, "SELECT 1 FROM device_prekeys WHERE handle=? AND device=? AND id=?");
  Stmt spent(db_, "SELECT 1 FROM device_spent_prekeys WHERE handle=? AND device=? AND id=?");
  for (const auto& [id, key] : keys.pre_keys) {
    const auto n = static_cast<std::int64_t>(hush::to_uint(id));
    held.reset();
    held.bind(1, handle).bind(2, dev).bind(3, n);
    const bool replacing = held.step();
    held.reset();
    spent.reset();
    spent.bind(1, handle).bind(2, dev).bind(3, n);
    const bool used = spent.step();
    spent.reset();
    if (used) {  // handed out already: its owner deletes it when the message comes
      ++out.spent;
      continue;
    }
    if (!replacing && have >= kMaxPreKeysPerDevice) {
      ++out.over;
      continue;
    }
    const auto k = key.serialize();
    Stmt(db_, "INSERT OR REPLACE INTO device_prekeys(handle, device, id, key) VALUES(?, ?, ?, ?)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, n)
        .bind(4, k.data(), k.size())
        .run();
    if (replacing) {
      ++out.replaced;
    } else {
      ++out.added;
      ++have;
    }
  }
  // One-time Kyber prekeys: the same rules, in their own tables.
  std::size_t have_kyber = count_kyber_pre_keys(handle, device);
  Stmt held_kyber(db_, "SELECT 1 FROM device_kyber_prekeys WHERE handle=? AND device=? AND id=?");
  Stmt spent_kyber(db_,
                   "SELECT 1 FROM device_spent_kyber_prekeys WHERE handle=? AND device=? AND id=?");
  for (const hush::SignedKyberPreKey& k : keys.kyber_pre_keys) {
    const auto n = static_cast<std::int64_t>(hush::to_uint(k.id));
    held_kyber.reset();
    held_kyber.bind(1, handle).bind(2, dev).bind(3, n);
    const bool replacing = held_kyber.step();
    held_kyber.reset();
    spent_kyber.reset();
    spent_kyber.bind(1, handle).bind(2, dev).bind(3, n);
    const bool used = spent_kyber.step();
    spent_kyber.reset();
    if (used) {
      ++out.spent;
      continue;
    }
    if (!replacing && have_kyber >= kMaxKyberPreKeysPerDevice) {
      ++out.over;
      continue;
    }
    const hush::ByteView key = k.key.serialize();
    const hush::ByteView signature = k.signature.view();
    Stmt(db_,
         "INSERT OR REPLACE INTO device_kyber_prekeys(handle, device, id, key, signature) "
         "VALUES(?, ?, ?, ?, ?)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, n)
        .bind(4, key.data(), key.size())
        .bind(5, signature.data(), signature.size())
        .run();
    if (replacing) {
      ++out.replaced;
    } else {
      ++out.kyber_added;
      ++have_kyber;
    }
  }
  tx.commit();
  return out;
}

std::uint32_t RelayDb::count_kyber_pre_keys(const std::string& handle, std::uint32_t device) {
  Stmt count(db_, "SELECT count(*) FROM device_kyber_prekeys WHERE handle=? AND device=?");
  count.bind(1, handle).bind(2, std::int64_t{device});
  return count.step() ? static_cast<std::uint32_t>(count.integer(0)) : 0;
}

std::uint32_t RelayDb::count_pre_keys(const std::string& handle, std::uint32_t device) {
  Stmt count(db_, "SELECT count(*) FROM device_prekeys WHERE handle=? AND device=?");
  count.bind(1, handle).bind(2, std::int64_t{device});
  return count.step() ? static_cast<std::uint32_t>(count.integer(0)) : 0;
}

std::optional<Bytes> RelayDb::fetch_bundle(const std::string& handle, std::uint32_t device) {
  Transaction tx(db_);
  const auto dev = std::int64_t{device};
  Stmt find(db_, "SELECT keys FROM devices WHERE handle=? AND device=? AND keys IS NOT NULL");
  find.bind(1, handle).bind(2, dev);
  if (!find.step()) return std::nullopt;
  auto keys = hush::PublishedKeys::parse(find.blob(0));
  find.reset();
  if (!keys) throw DbError("stored keys do not parse");
  std::optional<std::pair<hush::PreKeyId, hush::PublicKey>> one_time;
  Stmt pre(db_,
           "SELECT id, key FROM device_prekeys WHERE handle=? AND device=? ORDER BY id LIMIT 1");
  pre.bind(1, handle).bind(2, dev);
  if (pre.step()) {
    const auto id = pre.integer(0);
    auto key = hush::PublicKey::parse(pre.blob(1));
    pre.reset();
    if (!key || id <= 0 || id > 0xFFFFFF) throw DbError("stored prekey does not parse");
    one_time.emplace(hush::PreKeyId{static_cast<std::uint32_t>(id)}, *key);
    Stmt(db_, "DELETE FROM device_prekeys WHERE handle=? AND device=? AND id=?")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, id)
        .run();
    Stmt(db_, "INSERT OR IGNORE INTO device_spent_prekeys(handle, device, id) VALUES(?, ?, ?)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, id)
        .run();
    Stmt(db_,
         "DELETE FROM device_spent_prekeys WHERE handle=?1 AND device=?2 AND id NOT IN (SELECT id "
         "FROM device_spent_prekeys WHERE handle=?1 AND device=?2 ORDER BY id DESC LIMIT ?3)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, static_cast<std::int64_t>(kMaxSpentPreKeysPerDevice))
        .run();
  }
  // The lowest one-time Kyber prekey, consumed likewise; else the last-resort one (kept); else
  // none (a device that never published Kyber prekeys: a version-3 bundle).
  std::optional<hush::SignedKyberPreKey> kyber = keys->last_resort_kyber_pre_key;
  Stmt kpre(db_,
            "SELECT id, key, signature FROM device_kyber_prekeys WHERE handle=? AND device=? "
            "ORDER BY id LIMIT 1");
  kpre.bind(1, handle).bind(2, dev);
  if (kpre.step()) {
    const auto id = kpre.integer(0);
    auto key = hush::KyberPublicKey::parse(kpre.blob(1));
    auto signature = hush::Signature::parse(kpre.blob(2));
    kpre.reset();
    if (!key || !signature || id < 0 || id > 0xFFFFFFFF)
      throw DbError("stored Kyber prekey does not parse");
    kyber = hush::SignedKyberPreKey{hush::KyberPreKeyId{static_cast<std::uint32_t>(id)},
                                    std::move(*key), *signature};
    Stmt(db_, "DELETE FROM device_kyber_prekeys WHERE handle=? AND device=? AND id=?")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, id)
        .run();
    Stmt(db_,
         "INSERT OR IGNORE INTO device_spent_kyber_prekeys(handle, device, id) VALUES(?, ?, ?)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, id)
        .run();
    Stmt(db_,
         "DELETE FROM device_spent_kyber_prekeys WHERE handle=?1 AND device=?2 AND id NOT IN "
         "(SELECT id FROM device_spent_kyber_prekeys WHERE handle=?1 AND device=?2 ORDER BY id "
         "DESC LIMIT ?3)")
        .bind(1, handle)
        .bind(2, dev)
        .bind(3, static_cast<std::int64_t>(kMaxSpentKyberPreKeysPerDevice))
        .run();
  }
  Bytes bundle = keys->bundle(one_time, std::move(kyber)).serialize();
  tx.commit();
  return bundle;
}

RelayDb::ListResult RelayDb::publish_list(const std::string& handle,
                                          const hush::SignedDeviceList& list) {
  Transaction tx(db_);
  const auto identity = list.list().identity.serialize();
  const hush::ByteView id(identity);
  {
    Stmt lock(db_, "SELECT identity FROM handles WHERE handle=?");
    lock.bind(1, handle);
    if (!lock.step()) throw DbError("publish_list: no account");
    if (lock.type(0) == SQLITE_BLOB && !hush::constant_time_equals(lock.blob(0), id))
      return ListResult::kIdentityLocked;
  }
  {
    Stmt held(db_, "SELECT identity, version FROM device_lists WHERE handle=?");
    held.bind(1, handle);
    if (held.step() && held.blob(0) == Bytes(id.begin(), id.end()) &&
        static_cast<std::uint64_t>(held.integer(1)) >= list.list().version)
      return ListResult::kStale;
  }
  if (list.list().version > static_cast<std::uint64_t>(INT64_MAX)) return ListResult::kStale;
  Stmt(db_, "UPDATE handles SET identity=? WHERE handle=? AND identity IS NULL")
      .bind(1, id.data(), id.size())
      .bind(2, handle)
      .run();
  Stmt(db_, "INSERT OR REPLACE INTO device_lists(handle, identity, version, list) VALUES(?,?,?,?)")
      .bind(1, handle)
      .bind(2, id.data(), id.size())
      .bind(3, static_cast<std::int64_t>(list.list().version))
      .bind(4, list.serialized())
      .run();
  tx.commit();
  return ListResult::kAccepted;
}

std::optional<Bytes> RelayDb::device_list(const std::string& handle) {
  Stmt find(db_, "SELECT list FROM device_lists WHERE handle=?");
  find.bind(1, handle);
  if (!find.step()) return std::nullopt;
  return find.blob(0);
}

std::vector<std::uint32_t> RelayDb::listed(const std::string& handle) {
  auto bytes = device_list(handle);
  if (!bytes) return {};
  auto parsed = hush::SignedDeviceList::parse(*bytes);
  if (!parsed || parsed->list().name != handle) throw DbError("stored device list does not parse");
  std::vector<std::uint32_t> out;
  for (hush::DeviceId d : parsed->list().devices)
    out.push_back(hush::to_uint(d));
  return out;
}

RelayDb::AddDevice RelayDb::add_device(const std::string& handle, std::uint32_t device,
                                       const Bytes& token) {
  Transaction tx(db_);
  const auto on = listed(handle);
  if (std::find(on.begin(), on.end(), device) == on.end()) return AddDevice::kNotListed;
  if (has_device(handle, device)) return AddDevice::kExists;
  Stmt count(db_, "SELECT count(*) FROM devices WHERE handle=?");
  count.bind(1, handle);
  if (count.step() && static_cast<std::size_t>(count.integer(0)) >= kMaxDevicesPerHandle)
    return AddDevice::kFull;
  count.reset();
  Stmt(db_, "INSERT INTO devices(handle, device, token) VALUES(?, ?, ?)")
      .bind(1, handle)
      .bind(2, std::int64_t{device})
      .bind(3, token)
      .run();
  tx.commit();
  return AddDevice::kAdded;
}

RelayDb::RemoveDevice RelayDb::remove_device(const std::string& handle, std::uint32_t device) {
  Transaction tx(db_);
  if (!has_device(handle, device)) return RemoveDevice::kUnknown;
  const auto on = listed(handle);
  if (std::find(on.begin(), on.end(), device) != on.end()) return RemoveDevice::kStillListed;
  const auto dev = std::int64_t{device};
  for (const char* sql : {"DELETE FROM devices WHERE handle=? AND device=?",
                          "DELETE FROM device_prekeys WHERE handle=? AND device=?",
                          "DELETE FROM device_spent_prekeys WHERE handle=? AND device=?",
                          "DELETE FROM device_kyber_prekeys WHERE handle=? AND device=?",
                          "DELETE FROM device_spent_kyber_prekeys WHERE handle=? AND device=?",
                          "DELETE FROM inbox WHERE recipient=? AND device=?"})
    Stmt(db_, sql).bind(1, handle).bind(2, dev).run();
  tx.commit();
  return RemoveDevice::kRemoved;
}

RelayDb::Enqueue RelayDb::enqueue(const std::string& recipient, std::uint32_t device,
                                  const std::string& sender, std::uint32_t sender_device,
                                  const Bytes& envelope, const QueueLimits& limits,
                                  std::uint64_t* id) {
  Transaction tx(db_);
  // The whole queue, and this sender's part of it (a share rounded down, but at least one).
  Stmt size(db_,
            "SELECT count(*), coalesce(sum(length(envelope)), 0), "
            "coalesce(sum(sender=?3), 0), coalesce(sum(CASE WHEN sender=?3 THEN length(envelope) "
            "ELSE 0 END), 0) FROM inbox WHERE recipient=?1 AND device=?2");
  size.bind(1, recipient).bind(2, std::int64_t{device}).bind(3, sender);
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
  Stmt(
      db_,
      "INSERT INTO inbox(recipient, device, sender, sender_device, envelope) VALUES(?, ?, ?, ?, ?)")
      .bind(1, recipient)
      .bind(2, std::int64_t{device})
      .bind(3, sender)
      .bind(4, std::int64_t{sender_device})
      .bind(5, envelope)
      .run();
  *id = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
  tx.commit();
  return Enqueue::kOk;
}

std::vector<RelayDb::Pending> RelayDb::pending(const std::string& recipient, std::uint32_t device,
                                               std::uint64_t after, std::size_t limit) {
  std::vector<Pending> out;
  Stmt q(db_,
         "SELECT id, sender, sender_device, envelope FROM inbox WHERE recipient=? AND device=? AND "
         "id>? ORDER BY id LIMIT ?");
  q.bind(1, recipient)
      .bind(2, std::int64_t{device})
      .bind(3, static_cast<std::int64_t>(after))
      .bind(4, static_cast<std::int64_t>(limit));
  while (q.step()) {
    const auto sender_device = q.integer(2);
    if (sender_device < 1 || sender_device > kMaxDeviceId)
      throw DbError("a stored envelope names no valid sender device");
    out.push_back(Pending{static_cast<std::uint64_t>(q.integer(0)), q.text(1),
                          static_cast<std::uint32_t>(sender_device), q.blob(3)});
  }
  return out;
}

bool RelayDb::ack(const std::string& recipient, std::uint32_t device, std::uint64_t id) {
  if (id > static_cast<std::uint64_t>(INT64_MAX)) return false;
  Stmt(db_, "DELETE FROM inbox WHERE id=? AND recipient=? AND device=?")
      .bind(1, static_cast<std::int64_t>(id))
      .bind(2, recipient)
      .bind(3, std::int64_t{device})
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

// ---- blobs ----

std::size_t RelayDb::blob_expire(std::uint64_t now, const BlobPolicy& times) {
  const auto cut = [&](std::uint64_t age) {
    return static_cast<std::int64_t>(now > age ? now - age : 0);
  };
  // (Inside the caller's transaction, or one of its own.)
  const char* kDoomed =
      "SELECT id FROM blobs WHERE (received<size AND touched<?1) OR (received=size AND "
      "created<?2)";
  Stmt chunks(db_, (std::string("DELETE FROM blob_chunks WHERE id IN (") + kDoomed + ")").c_str());
  chunks.bind(1, cut(times.unfinished_seconds)).bind(2, cut(times.finished_seconds)).run();
  Stmt blobs(db_,
             "DELETE FROM blobs WHERE (received<size AND touched<?1) OR (received=size AND "
             "created<?2)");
  blobs.bind(1, cut(times.unfinished_seconds)).bind(2, cut(times.finished_seconds)).run();
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

RelayDb::BlobBegin RelayDb::blob_begin(const std::string& handle, std::uint32_t device,
                                       const std::string& id, std::uint64_t size, std::uint64_t now,
                                       const BlobPolicy& times) {
  Transaction tx(db_);
  blob_expire(now, times);
  // What is kept, without this device's unfinished upload (which a new one replaces); every blob
  // counts as at least one piece (kBlobChunkBytes), whatever its size.
  const auto charge = static_cast<std::int64_t>(kBlobChunkBytes);
  Stmt count(db_,
             "SELECT count(*), coalesce(sum(owner=?1), 0), coalesce(sum(max(size, ?3)), 0), "
             "coalesce(sum(CASE WHEN owner=?1 THEN max(size, ?3) ELSE 0 END), 0) FROM blobs "
             "WHERE NOT (owner=?1 AND owner_device=?2 AND received<size)");
  count.bind(1, handle).bind(2, std::int64_t{device}).bind(3, charge);
  if (!count.step()) throw DbError("blob_begin: no count");
  const auto all = static_cast<std::size_t>(count.integer(0));
  const auto mine = static_cast<std::size_t>(count.integer(1));
  const auto all_bytes = static_cast<std::uint64_t>(count.integer(2));
  const auto my_bytes = static_cast<std::uint64_t>(count.integer(3));
  count.reset();
  const std::uint64_t charged = std::max<std::uint64_t>(size, kBlobChunkBytes);
  if (all >= kMaxBlobs || mine >= kMaxBlobsPerHandle || all_bytes + charged > kMaxBlobBytes ||
      my_bytes + charged > times.bytes_per_handle) {
    tx.commit();  // (only what had expired is gone: the device's unfinished upload stays)
    return BlobBegin::kFull;
  }
  Stmt(db_,
       "DELETE FROM blob_chunks WHERE id IN (SELECT id FROM blobs WHERE owner=? AND "
       "owner_device=? AND received<size)")
      .bind(1, handle)
      .bind(2, std::int64_t{device})
      .run();
  Stmt(db_, "DELETE FROM blobs WHERE owner=? AND owner_device=? AND received<size")
      .bind(1, handle)
      .bind(2, std::int64_t{device})
      .run();
  Stmt(db_,
       "INSERT INTO blobs(id, owner, owner_device, size, received, created, touched) "
       "VALUES(?, ?, ?, ?, 0, ?, ?)")
      .bind(1, id)
      .bind(2, handle)
      .bind(3, std::int64_t{device})
      .bind(4, static_cast<std::int64_t>(size))
      .bind(5, static_cast<std::int64_t>(now))
      .bind(6, static_cast<std::int64_t>(now))
      .run();
  tx.commit();
  return BlobBegin::kStarted;
}

RelayDb::BlobAppend RelayDb::blob_append(const std::string& handle, std::uint32_t device,
                                         const std::string& id, const Bytes& data,
                                         std::uint64_t now) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT size, received FROM blobs WHERE id=? AND owner=? AND owner_device=?");
  find.bind(1, id).bind(2, handle).bind(3, std::int64_t{device});
  if (!find.step()) return BlobAppend::kUnknown;
  const auto size = static_cast<std::uint64_t>(find.integer(0));
  const auto received = static_cast<std::uint64_t>(find.integer(1));
  find.reset();
  if (received >= size) return BlobAppend::kComplete;  // finished: no more bytes
  // Every piece is exactly kBlobChunkBytes, the last one the rest: one row per piece, at offsets
  // blob_read can find by arithmetic. Anything else changes nothing.
  if (data.size() != std::min<std::uint64_t>(kBlobChunkBytes, size - received))
    return BlobAppend::kInvalidChunk;
  Stmt(db_, "INSERT INTO blob_chunks(id, start, data) VALUES(?, ?, ?)")
      .bind(1, id)
      .bind(2, static_cast<std::int64_t>(received))
      .bind(3, data)
      .run();
  const std::uint64_t after = received + data.size();
  Stmt(db_, "UPDATE blobs SET received=?, touched=? WHERE id=?")
      .bind(1, static_cast<std::int64_t>(after))
      .bind(2, static_cast<std::int64_t>(now))
      .bind(3, id)
      .run();
  tx.commit();
  return after == size ? BlobAppend::kCompleted : BlobAppend::kAppended;
}

RelayDb::BlobRead RelayDb::blob_read(const std::string& id, std::uint64_t offset, std::size_t max,
                                     Bytes* out) {
  out->clear();
  Stmt find(db_, "SELECT size, received FROM blobs WHERE id=?");
  find.bind(1, id);
  if (!find.step()) return BlobRead::kUnknown;
  const auto size = static_cast<std::uint64_t>(find.integer(0));
  const auto received = static_cast<std::uint64_t>(find.integer(1));
  find.reset();
  if (received != size) return BlobRead::kIncomplete;
  if (offset > size) return BlobRead::kBadOffset;
  // The pieces that overlap [offset, end): they start at multiples of kBlobChunkBytes, from the
  // one holding `offset` on (the primary key's index finds them; nothing before is read).
  const std::uint64_t end = offset + std::min<std::uint64_t>(max, size - offset);
  const std::uint64_t first = offset - offset % kBlobChunkBytes;
  Stmt pieces(db_,
              "SELECT start, data FROM blob_chunks WHERE id=?1 AND start >= ?2 AND start < ?3 "
              "ORDER BY start");
  pieces.bind(1, id)
      .bind(2, static_cast<std::int64_t>(first))
      .bind(3, static_cast<std::int64_t>(end));
  while (pieces.step()) {
    const auto start = static_cast<std::uint64_t>(pieces.integer(0));
    const Bytes data = pieces.blob(1);
    const std::uint64_t from = std::max(start, offset + out->size());
    const std::uint64_t to = std::min<std::uint64_t>(start + data.size(), end);
    if (from != offset + out->size() || from > to) throw DbError("a stored blob has a gap");
    out->insert(out->end(), data.begin() + static_cast<std::ptrdiff_t>(from - start),
                data.begin() + static_cast<std::ptrdiff_t>(to - start));
  }
  if (out->size() != end - offset) throw DbError("a stored blob is shorter than its size");
  return BlobRead::kOk;
}

bool RelayDb::blob_delete(const std::string& handle, const std::string& id) {
  Transaction tx(db_);
  Stmt find(db_, "SELECT 1 FROM blobs WHERE id=? AND owner=?");
  find.bind(1, id).bind(2, handle);
  if (!find.step()) return false;
  find.reset();
  Stmt(db_, "DELETE FROM blob_chunks WHERE id=?").bind(1, id).run();
  Stmt(db_, "DELETE FROM blobs WHERE id=?").bind(1, id).run();
  tx.commit();
  return true;
}

void RelayDb::dump(std::FILE* out) {
  for (const char* table : {"handles", "devices", "device_prekeys", "device_spent_prekeys",
                            "device_kyber_prekeys", "device_spent_kyber_prekeys", "inbox",
                            "device_lists", "blobs", "blob_chunks", "impostors"}) {
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

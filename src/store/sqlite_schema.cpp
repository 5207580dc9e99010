// hush internal: SqliteStore's schema and migrations (see sqlite_schema.h).
#include "store/sqlite_schema.h"

#include <hush/limits.h>

#include <cstdio>
#include <string>
#include <vector>

#include "protocol/record_access.h"

namespace hush::internal::sqlite {

namespace {

// "hush" in ASCII: PRAGMA application_id marks the file as ours.
constexpr std::int32_t kApplicationId = 0x68757368;

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

// Version 3: identities per person, accepted base keys, the generation counter. The rows that
// need resealing or filling in are handled in code below.
constexpr const char* kMigrateV2ToV3[] = {
    "CREATE TABLE person_identities (name BLOB PRIMARY KEY NOT NULL, identity_key BLOB NOT NULL)"
    " WITHOUT ROWID",
    "CREATE TABLE accepted_base_keys (base_key BLOB PRIMARY KEY NOT NULL,"
    " signed_pre_key_id INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX accepted_base_keys_by_signed_pre_key ON accepted_base_keys (signed_pre_key_id)",
    "INSERT INTO meta (key, value) VALUES ('generation', 0)",
};

// Version 4: the Messenger's records (store.h MessengerStateStore), sealed like application data
// in a sealed database. The key is a BLOB, so that SQLite orders keys bytewise.
constexpr const char* kMigrateV3ToV4[] = {
    "CREATE TABLE messenger_records (kind INTEGER NOT NULL, key BLOB NOT NULL,"
    " value BLOB NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID",
};

// Version 5: sender keys (store.h SenderKeyStore), one record per (sender, group), sealed for its
// row in a sealed database. Names are BLOBs, so that SQLite orders them bytewise.
constexpr const char* kMigrateV4ToV5[] = {
    "CREATE TABLE sender_keys (name BLOB NOT NULL, device_id INTEGER NOT NULL,"
    " group_format INTEGER NOT NULL, group_name BLOB NOT NULL, record BLOB NOT NULL,"
    " PRIMARY KEY (name, device_id, group_format, group_name)) WITHOUT ROWID",
};

// Version 6: Kyber prekeys (store.h KyberPreKeyStore), sealed for their row like the other key
// records, and the uses of last-resort Kyber prekeys (Kyber id, signed prekey id, base key).
constexpr const char* kMigrateV5ToV6[] = {
    "CREATE TABLE kyber_pre_keys (id INTEGER PRIMARY KEY, record BLOB NOT NULL)",
    "CREATE TABLE kyber_last_resort_uses (kyber_pre_key_id INTEGER NOT NULL,"
    " signed_pre_key_id INTEGER NOT NULL, base_key BLOB NOT NULL,"
    " PRIMARY KEY (kyber_pre_key_id, signed_pre_key_id, base_key)) WITHOUT ROWID",
    "INSERT INTO meta (key, value) VALUES ('next_kyber_pre_key_id', 1)",
};

Status set_schema_version(SqliteStore::Impl& impl, std::int64_t version) {
  char pragma[64];
  std::snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", static_cast<int>(version));
  return impl.exec(pragma, "SqliteStore: user_version");
}

std::string text(ByteView b) {
  return std::string(b.begin(), b.end());
}

// Identities per person: of a name's per-device identities, the lowest device's is kept. They
// all agree unless a device of that name presented another key, which version 2 accepted on first
// use (the hole this version closes); the lowest device id is the one a person starts with, and a
// device whose session was made with another key meets an identity change on its next message.
Status move_identities_to_people(SqliteStore::Impl& impl) {
  struct Row {
    std::string name;
    Bytes key;
  };
  std::vector<Row> rows;
  {
    auto q = impl.query(
        "SELECT name, identity_key FROM identities i WHERE device_id ="
        " (SELECT min(device_id) FROM identities WHERE name = i.name) ORDER BY name");
    if (!q) return q.error();
    for (;;) {
      auto row = q->step("SqliteStore: migrate identities");
      if (!row) return row.error();
      if (!*row) break;
      const ByteView key = q->column_blob(1);
      if (key.size() != 32) return Error(Errc::kCorruptState, "SqliteStore: stored identity key");
      rows.push_back(Row{text(q->column_blob(0)), Bytes(key.begin(), key.end())});
    }
  }
  for (const Row& r : rows) {
    auto stored = impl.protect(row_id("identities", r.name), r.key);
    if (!stored) return stored.error();
    auto q = impl.query("INSERT INTO person_identities (name, identity_key) VALUES (?, ?)");
    if (!q) return q.error();
    q->text_as_blob(1, r.name).blob(2, stored->expose());
    if (auto st = q->run("SqliteStore: migrate identities"); !st) return st;
  }
  return impl.exec("DROP TABLE identities", "SqliteStore: migrate identities");
}

// The store-wide record of accepted base keys, filled from the sessions already stored, so that
// their prekey messages cannot be replayed under other addresses either. Version 2 did not keep
// which signed prekey a session named; the highest one present stands in (a replay can only name
// one present now, and the lower ones are removed first), so the keys are forgotten, as they
// should be, by the time no signed prekey they could have named is left.
Status fill_accepted_base_keys(SqliteStore::Impl& impl) {
  auto highest = impl.query("SELECT coalesce(max(id), 0) FROM signed_pre_keys");
  if (!highest) return highest.error();
  auto hrow = highest->step("SqliteStore: migrate base keys");
  if (!hrow) return hrow.error();
  const std::int64_t spk = *hrow ? highest->column_int(0) : 0;

  std::vector<PublicKey> keys;
  auto q = impl.query("SELECT name, device_id, record FROM sessions ORDER BY name, device_id");
  if (!q) return q.error();
  for (;;) {
    auto row = q->step("SqliteStore: migrate base keys");
    if (!row) return row.error();
    if (!*row) break;
    const Address a{text(q->column_blob(0)),
                    DeviceId{static_cast<std::uint32_t>(q->column_int(1))}};
    auto bytes = impl.unprotect(row_id("sessions", a), q->column_blob(2), kMaxSessionRecordBytes,
                                "SqliteStore: session record size");
    if (!bytes) return bytes.error();
    auto record = SessionRecord::deserialize(bytes->expose());
    if (!record) return record.error();
    const RecordData& data = RecordAccess::data(*record);
    if (data.current && data.current->alice_base_key) keys.push_back(*data.current->alice_base_key);
    for (const auto& s : data.previous)
      if (s.alice_base_key) keys.push_back(*s.alice_base_key);
    keys.insert(keys.end(), data.retired_base_keys.begin(), data.retired_base_keys.end());
  }
  for (const PublicKey& k : keys) {
    auto ins = impl.query(
        "INSERT OR IGNORE INTO accepted_base_keys (base_key, signed_pre_key_id) VALUES (?, ?)");
    if (!ins) return ins.error();
    ins->blob(1, k.u()).integer(2, spk);
    if (auto st = ins->run("SqliteStore: migrate base keys"); !st) return st;
  }
  return ok_status();
}

// A sealed version-2 database left application data in clear and sealed the local private key
// without binding its public key: both are sealed for their rows now.
Status reseal(SqliteStore::Impl& impl) {
  if (!impl.sealer) return ok_status();
  struct Row {
    std::string key;
    Bytes value;
  };
  std::vector<Row> rows;
  {
    auto q = impl.query("SELECT key, value FROM app_data ORDER BY key");
    if (!q) return q.error();
    for (;;) {
      auto row = q->step("SqliteStore: migrate app data");
      if (!row) return row.error();
      if (!*row) break;
      const ByteView v = q->column_blob(1);
      if (v.size() > kMaxAppDataBytes) return Error(Errc::kCorruptState, "SqliteStore: app data");
      rows.push_back(Row{text(q->column_blob(0)), Bytes(v.begin(), v.end())});
    }
  }
  for (Row& r : rows) {
    auto sealed = impl.protect(row_id("app_data", r.key), r.value);
    secure_wipe(r.value);
    if (!sealed) return sealed.error();
    auto q = impl.query("UPDATE app_data SET value = ? WHERE key = ?");
    if (!q) return q.error();
    q->blob(1, sealed->expose()).text_as_blob(2, r.key);
    if (auto st = q->run("SqliteStore: migrate app data"); !st) return st;
  }

  auto q = impl.query("SELECT public_key, private_key FROM local_identity WHERE singleton = 1");
  if (!q) return q.error();
  auto row = q->step("SqliteStore: migrate identity");
  if (!row) return row.error();
  if (!*row) return ok_status();  // a database being created: the identity comes next
  const ByteView pub = q->column_blob(0);
  if (pub.size() != 32) return Error(Errc::kCorruptState, "SqliteStore: identity public key");
  std::array<std::uint8_t, 32> u{};
  std::copy(pub.begin(), pub.end(), u.begin());
  auto priv = impl.unprotect(as_bytes("local_identity"), q->column_blob(1), PrivateKey::kSize,
                             "SqliteStore: identity private key size");
  if (!priv) return priv.error();
  auto sealed = impl.protect(local_identity_row(PublicKey::from_u(u)), priv->expose());
  if (!sealed) return sealed.error();
  auto up = impl.query("UPDATE local_identity SET private_key = ? WHERE singleton = 1");
  if (!up) return up.error();
  up->blob(1, sealed->expose());
  return up->run("SqliteStore: migrate identity");
}

}  // namespace

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

Status create_version_1(SqliteStore::Impl& impl) {
  for (const char* sql : kSchemaV1)
    if (auto s = impl.exec(sql, "SqliteStore::create: schema"); !s) return s;
  char pragma[64];
  std::snprintf(pragma, sizeof pragma, "PRAGMA application_id=%d", kApplicationId);
  if (auto s = impl.exec(pragma, "SqliteStore::create: application_id"); !s) return s;
  return set_schema_version(impl, 1);
}

Status migrate_to_version_2(SqliteStore::Impl& impl, std::int64_t from) {
  if (from < 1) return Error(Errc::kCorruptState, "SqliteStore: unknown schema version");
  if (from < 2) {
    for (const char* sql : kMigrateV1ToV2)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v2"); !st) return st;
  }
  return ok_status();
}

Status migrate_to_current(SqliteStore::Impl& impl, std::int64_t from) {
  if (from < 3) {
    for (const char* sql : kMigrateV2ToV3)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v3"); !st) return st;
    if (auto st = move_identities_to_people(impl); !st) return st;
    if (auto st = fill_accepted_base_keys(impl); !st) return st;
    if (auto st = reseal(impl); !st) return st;
  }
  if (from < 4) {
    for (const char* sql : kMigrateV3ToV4)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v4"); !st) return st;
  }
  if (from < 5) {
    for (const char* sql : kMigrateV4ToV5)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v5"); !st) return st;
  }
  if (from < 6) {
    for (const char* sql : kMigrateV5ToV6)
      if (auto st = impl.exec(sql, "SqliteStore: migrate to v6"); !st) return st;
  }
  if (from == SqliteStore::kSchemaVersion) return ok_status();
  return set_schema_version(impl, SqliteStore::kSchemaVersion);
}

}  // namespace hush::internal::sqlite

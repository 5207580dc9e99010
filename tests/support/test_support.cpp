// hush tests: shared helpers (see test_support.h).
#include "support/test_support.h"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "crypto/kdf.h"

namespace hush::test {

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (int i = 0; i < 8; ++i)
    key_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seed >> (8 * i));
}

Status SeededRandom::fill(std::span<std::uint8_t> out) {
  internal::crypto::HmacSha256 hmac;
  while (!out.empty()) {
    std::array<std::uint8_t, 8> block{};
    for (int i = 0; i < 8; ++i)
      block[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    std::array<std::uint8_t, 32> chunk{};
    hmac.mac(key_, block, chunk);
    const std::size_t n = std::min(out.size(), chunk.size());
    std::copy_n(chunk.begin(), n, out.begin());
    out = out.subspan(n);
  }
  return ok_status();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hush-test-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

StoreKind default_store_kind() {
  const char* v = std::getenv("HUSH_TEST_STORE");
  return v != nullptr && std::string_view(v) == "sqlite" ? StoreKind::kSqlite
                                                         : StoreKind::kInMemory;
}

std::string Party::db_path() const {
  return dir ? dir->file(address.name + ".db") : std::string();
}

void Party::reopen() {
  if (kind == StoreKind::kSqlite) {
    store.reset();
    SqliteStoreOptions options;
    options.storage_key = storage_key;
    auto s = SqliteStore::open(db_path(), options);
    REQUIRE(s);
    store = std::move(*s);
  } else {
    auto snap = dynamic_cast<InMemoryProtocolStore&>(*store).serialize();
    auto s = InMemoryProtocolStore::deserialize(snap.expose());
    REQUIRE(s);
    store = std::move(*s);
  }
}

namespace {

// A party of `kind` for device `device` of `name` with `identity_pair`. With `skip`, the identity
// was drawn from the start of this seed's stream (create()): the party's own stream draws past it,
// so that its later keys are the ones create() always made.
Party make_party(const std::string& name, DeviceId device, std::uint64_t seed,
                 IdentityKeyPair identity_pair, std::uint32_t pre_keys, StoreKind kind,
                 ByteView storage_key, bool skip) {
  Party p;
  p.kind = kind;
  p.address = Address{name, device};
  p.random = std::make_unique<SeededRandom>(seed);
  p.clock = std::make_unique<FixedClock>();
  p.ctx = std::make_unique<Context>(Context{*p.random, *p.clock, nullptr});
  if (skip) REQUIRE(generate_identity_key_pair(*p.random));
  Result<IdentityKeyPair> identity(std::move(identity_pair));
  auto reg = generate_registration_id(*p.random);
  REQUIRE(reg);
  auto spk = generate_signed_pre_key(*p.ctx, *identity, p.signed_pre_key_id);
  REQUIRE(spk);
  if (kind == StoreKind::kSqlite) {
    p.dir = std::make_shared<TempDir>();
    p.storage_key.assign(storage_key.begin(), storage_key.end());
    SqliteStoreOptions options;
    options.storage_key = p.storage_key;
    auto s = SqliteStore::create(p.db_path(), std::move(*identity), *reg, options);
    REQUIRE(s);
    p.store = std::move(*s);
  } else {
    p.store = std::make_unique<InMemoryProtocolStore>(std::move(*identity), *reg);
  }
  REQUIRE(p.store->store_signed_pre_key(*spk));
  if (pre_keys > 0) REQUIRE(replenish_pre_keys(*p.ctx, *p.store, pre_keys));
  return p;
}

}  // namespace

Party Party::create(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys,
                    StoreKind kind, ByteView storage_key) {
  SeededRandom random(seed);
  auto identity = generate_identity_key_pair(random);
  REQUIRE(identity);
  return make_party(name, DeviceId{1}, seed, std::move(*identity), pre_keys, kind, storage_key,
                    true);
}

Party Party::create_with_identity(const std::string& name, DeviceId device, std::uint64_t seed,
                                  IdentityKeyPair identity, std::uint32_t pre_keys, StoreKind kind,
                                  ByteView storage_key) {
  return make_party(name, device, seed, std::move(identity), pre_keys, kind, storage_key, false);
}

PreKeyBundle Party::bundle(std::optional<PreKeyId> pre_key) const {
  auto b = make_bundle(*store, address.device_id, signed_pre_key_id, pre_key);
  REQUIRE(b);
  return std::move(*b);
}

PreKeyBundle Party::bundle() const {
  auto ids = store->pre_key_ids();
  REQUIRE(ids);
  return bundle(ids->empty() ? std::nullopt : std::optional<PreKeyId>(ids->front()));
}

Bytes Party::snapshot() const {
  if (auto* sql = dynamic_cast<SqliteStore*>(store.get())) {
    auto s = sql->export_snapshot();
    REQUIRE(s);
    return Bytes(s->expose().begin(), s->expose().end());
  }
  SecretBytes s = dynamic_cast<InMemoryProtocolStore&>(*store).serialize();
  return Bytes(s.expose().begin(), s.expose().end());
}

Bytes without_identity_changes(const Bytes& snapshot) {
  auto copy = InMemoryProtocolStore::deserialize(snapshot);
  REQUIRE(copy);
  auto keys = (*copy)->messenger_record_keys(MessengerRecordKind::kIdentityChange);
  REQUIRE(keys);
  for (const std::string& key : *keys)
    REQUIRE((*copy)->remove_messenger_record(MessengerRecordKind::kIdentityChange, key));
  SecretBytes s = (*copy)->serialize();
  return Bytes(s.expose().begin(), s.expose().end());
}

void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

CiphertextMessage encrypt(Party& from, const Party& to, const std::string& text) {
  auto m = encrypt_message(*from.ctx, *from.store, to.address, as_bytes(text));
  REQUIRE(m);
  return std::move(*m);
}

Result<std::string> decrypt(Party& to, const Party& from, const CiphertextMessage& msg) {
  auto p = decrypt_message(*to.ctx, *to.store, from.address, msg);
  if (!p) return p.error();
  return std::string(p->expose().begin(), p->expose().end());
}

}  // namespace hush::test

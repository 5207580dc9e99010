// hush integration tests: the ProtocolStore contract, for InMemoryProtocolStore and SqliteStore
// alike (transactions, nesting, rollback on error and on exception, prekey id high-water mark,
// trust on first use, the list of identities, the Messenger's records), and SqliteStore's own
// promises (persistence, refusing foreign, damaged or newer files, bounded records, application
// data in the same transaction, sealed rows bound to their place).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "protocol/ratchet/session_state.h"
#include "protocol/record_access.h"
#include "storage.pb.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;
using hush::test::StoreKind;
using hush::test::TempDir;

namespace {

const char* kind_name(StoreKind k) {
  return k == StoreKind::kSqlite ? "sqlite" : "in-memory";
}

PreKeyRecord some_pre_key(Party& p, std::uint32_t id) {
  auto keys = generate_pre_keys(*p.ctx, PreKeyId{id}, 1);
  REQUIRE(keys);
  return std::move(keys->front());
}

using Kind = MessengerRecordKind;
constexpr Kind kAllKinds[] = {Kind::kDeviceList, Kind::kOutbox,         Kind::kSeenMessage,
                              Kind::kHealing,    Kind::kIdentityChange, Kind::kGroup};

// The record of `kind` under `key` as a string, or nullopt; REQUIREs that loading works.
std::optional<std::string> record(ProtocolStore& s, Kind kind, std::string_view key) {
  auto r = s.load_messenger_record(kind, key);
  REQUIRE(r);
  if (!*r) return std::nullopt;
  return std::string((*r)->expose().begin(), (*r)->expose().end());
}

// The keys of `kind`; REQUIREs that listing works.
std::vector<std::string> record_keys(ProtocolStore& s, Kind kind) {
  auto keys = s.messenger_record_keys(kind);
  REQUIRE(keys);
  return *keys;
}

void put(ProtocolStore& s, Kind kind, std::string_view key, std::string_view value) {
  REQUIRE(s.store_messenger_record(kind, key, as_bytes(value)));
}

}  // namespace

TEST_CASE("store contract: transactions commit all or nothing", "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 501, 3, kind);
    const std::string peer = "peer";
    const IdentityKey k1 = KeyPair::generate(*p.random)->public_key;
    const Bytes before = p.snapshot();

    // An error from the body undoes every write.
    Status st = p.store->run_transaction([&]() -> Status {
      REQUIRE(p.store->save_identity(peer, k1));
      REQUIRE(p.store->remove_pre_key(PreKeyId{1}));
      REQUIRE(p.store->store_pre_key(some_pre_key(p, 50)));
      return Error(Errc::kStoreFailure, "test: fail");
    });
    REQUIRE_FALSE(st);
    CHECK(p.snapshot() == before);
    CHECK(*p.store->next_pre_key_id() == PreKeyId{4});

    // So does an exception.
    CHECK_THROWS_AS(p.store->run_transaction([&]() -> Status {
      REQUIRE(p.store->save_identity(peer, k1));
      throw std::runtime_error("test");
    }),
                    std::runtime_error);
    CHECK(p.snapshot() == before);

    // A failed nested transaction undoes only its own writes.
    st = p.store->run_transaction([&]() -> Status {
      REQUIRE(p.store->save_identity(peer, k1));
      Status inner = p.store->run_transaction([&]() -> Status {
        REQUIRE(p.store->remove_pre_key(PreKeyId{2}));
        REQUIRE(p.store->store_pre_key(some_pre_key(p, 60)));
        return Error(Errc::kStoreFailure, "test: inner");
      });
      REQUIRE_FALSE(inner);
      Status inner_ok = p.store->run_transaction(
          [&]() -> Status { return p.store->remove_pre_key(PreKeyId{3}); });
      REQUIRE(inner_ok);
      return ok_status();
    });
    REQUIRE(st);
    CHECK(p.store->identity(peer)->value() == k1);
    CHECK(*p.store->pre_key_ids() == std::vector<PreKeyId>{PreKeyId{1}, PreKeyId{2}});
    CHECK(*p.store->next_pre_key_id() == PreKeyId{4});
  }
}

TEST_CASE("store contract: prekey ids only increase", "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 502, 5, kind);
    CHECK(*p.store->next_pre_key_id() == PreKeyId{6});
    for (std::uint32_t id = 1; id <= 5; ++id)
      REQUIRE(p.store->remove_pre_key(PreKeyId{id}));
    CHECK(p.store->pre_key_ids()->empty());
    CHECK(*p.store->next_pre_key_id() == PreKeyId{6});  // removal never lowers it
    auto ids = replenish_pre_keys(*p.ctx, *p.store, 3);
    REQUIRE(ids);
    CHECK(*ids == std::vector<PreKeyId>{PreKeyId{6}, PreKeyId{7}, PreKeyId{8}});
    p.reopen();
    CHECK(*p.store->next_pre_key_id() == PreKeyId{9});
    // The 24-bit id space is never wrapped.
    REQUIRE(p.store->store_pre_key(some_pre_key(p, to_uint(kMaxPreKeyId))));
    auto exhausted = replenish_pre_keys(*p.ctx, *p.store, 1);
    REQUIRE_FALSE(exhausted);
    CHECK(exhausted.error().code() == Errc::kInvalidArgument);
  }
}

TEST_CASE("store contract: identities are trusted on first use, per person",
          "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 503, 0, kind);
    const std::string peer = "peer";
    const IdentityKey a = KeyPair::generate(*p.random)->public_key;
    const IdentityKey b = KeyPair::generate(*p.random)->public_key;
    CHECK(*p.store->is_trusted_identity(peer, a, Direction::kSending));
    CHECK(*p.store->save_identity(peer, a) == IdentityChange::kNewOrUnchanged);
    CHECK(*p.store->save_identity(peer, a) == IdentityChange::kNewOrUnchanged);
    CHECK(*p.store->is_trusted_identity(peer, a, Direction::kReceiving));
    CHECK_FALSE(*p.store->is_trusted_identity(peer, b, Direction::kReceiving));
    CHECK(*p.store->is_trusted_identity("someone else", b, Direction::kSending));
    CHECK(*p.store->save_identity(peer, b) == IdentityChange::kReplacedExisting);
    p.reopen();
    CHECK(p.store->identity(peer)->value() == b);
  }
}

TEST_CASE("SqliteStore and the in-memory store hold the same state for the same operations",
          "[integration][store]") {
  auto run = [](StoreKind kind) {
    auto alice = Party::create("alice", 504, 4, kind);
    auto bob = Party::create("bob", 505, 4, kind);
    REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
    for (int i = 0; i < 5; ++i) {
      REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "a")));
      REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "b")));
    }
    (void)test::encrypt(alice, bob, "skipped");
    REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "c")));
    // The Messenger's records, written in no particular order, replaced and removed.
    for (Party* p : {&alice, &bob}) {
      ProtocolStore& s = *p->store;
      put(s, Kind::kOutbox, "2", "second");
      put(s, Kind::kHealing, std::string("\xff\0", 2), "healing");
      put(s, Kind::kOutbox, "10", "tenth");
      put(s, Kind::kDeviceList, "carol", "carol's list");
      put(s, Kind::kSeenMessage, "gone", "x");
      REQUIRE(s.remove_messenger_record(Kind::kSeenMessage, "gone"));
      put(s, Kind::kSeenMessage, "", "");
      put(s, Kind::kOutbox, "2", "second, replaced");
    }
    return std::make_pair(alice.snapshot(), bob.snapshot());
  };
  const auto memory = run(StoreKind::kInMemory);
  const auto sqlite = run(StoreKind::kSqlite);
  CHECK(memory.first == sqlite.first);
  CHECK(memory.second == sqlite.second);
  // And the exported snapshot loads into an in-memory store.
  auto loaded = InMemoryProtocolStore::deserialize(sqlite.second);
  REQUIRE(loaded);
  const SecretBytes again = (*loaded)->serialize();
  CHECK(Bytes(again.expose().begin(), again.expose().end()) == sqlite.second);
  CHECK(record_keys(**loaded, Kind::kOutbox) == std::vector<std::string>{"10", "2"});
  CHECK(record(**loaded, Kind::kOutbox, "2") == "second, replaced");
  CHECK(record_keys(**loaded, Kind::kSeenMessage) == std::vector<std::string>{""});
  CHECK(record(**loaded, Kind::kHealing, std::string("\xff\0", 2)) == "healing");
  // Bob knows one person: alice, with her identity.
  auto alice_store = InMemoryProtocolStore::deserialize(sqlite.first);
  REQUIRE(alice_store);
  const IdentityKey alice_key = (*alice_store)->identity_key_pair()->public_key;
  CHECK(*(*loaded)->identities() ==
        std::vector<std::pair<std::string, IdentityKey>>{{"alice", alice_key}});
}

TEST_CASE("SqliteStore persists across reopen", "[integration][store][sqlite]") {
  auto alice = Party::create("alice", 506, 2, StoreKind::kSqlite);
  auto bob = Party::create("bob", 507, 2, StoreKind::kSqlite);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m0 = test::encrypt(alice, bob, "before");
  alice.reopen();
  bob.reopen();
  REQUIRE(test::decrypt(bob, alice, m0).value() == "before");
  bob.reopen();
  REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "reply")).value() == "reply");
  alice.reopen();
  REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "after")).value() == "after");
  CHECK(bob.store->pre_key_ids()->size() == 1);  // the used one-time prekey is gone for good
}

TEST_CASE("SqliteStore refuses what is not its database", "[integration][store][sqlite]") {
  TempDir dir;
  test::SeededRandom random(508);
  auto identity = [&] { return *KeyPair::generate(random); };

  SECTION("no file") {
    auto r = SqliteStore::open(dir.file("missing.db"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidArgument);
  }
  SECTION("a file that is not SQLite") {
    std::ofstream(dir.file("text.db")) << "this is not a database, just some text\n";
    auto r = SqliteStore::open(dir.file("text.db"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
    auto c = SqliteStore::create(dir.file("text.db"), identity(), 1);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == Errc::kCorruptState);
  }
  SECTION("another application's database") {
    test::run_sql(dir.file("other.db"),
                  "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');");
    auto r = SqliteStore::open(dir.file("other.db"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
    auto c = SqliteStore::create(dir.file("other.db"), identity(), 1);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == Errc::kCorruptState);
  }
  SECTION("an empty SQLite database is not initialised") {
    test::run_sql(dir.file("empty.db"), "PRAGMA user_version = 0;");
    auto r = SqliteStore::open(dir.file("empty.db"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidArgument);
  }
  SECTION("a database written by a newer hush") {
    REQUIRE(SqliteStore::create(dir.file("new.db"), identity(), 1));
    test::run_sql(dir.file("new.db"), "PRAGMA user_version = 999;");
    auto r = SqliteStore::open(dir.file("new.db"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kUnsupported);
  }
  SECTION("create refuses an existing hush database") {
    REQUIRE(SqliteStore::create(dir.file("twice.db"), identity(), 1));
    auto again = SqliteStore::create(dir.file("twice.db"), identity(), 2);
    REQUIRE_FALSE(again);
    CHECK(again.error().code() == Errc::kInvalidArgument);
    auto reopened = SqliteStore::open(dir.file("twice.db"));
    REQUIRE(reopened);
    CHECK(*(*reopened)->local_registration_id() == 1);
  }
}

TEST_CASE("SqliteStore treats stored records as untrusted", "[integration][store][sqlite]") {
  auto alice = Party::create("alice", 509, 2, StoreKind::kSqlite);
  auto bob = Party::create("bob", 510, 2, StoreKind::kSqlite);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m = test::encrypt(alice, bob, "x");
  const std::string path = alice.db_path();
  alice.store.reset();

  SECTION("a damaged session record") {
    test::run_sql(path, "UPDATE sessions SET record = x'0102030405'");
    alice.reopen();
    auto r = encrypt_message(*alice.ctx, *alice.store, bob.address, as_bytes("y"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
  }
  SECTION("an oversized session record is refused before it is parsed") {
    test::run_sql(path, "UPDATE sessions SET record = zeroblob(" +
                            std::to_string(kMaxSessionRecordBytes + 1) + ")");
    alice.reopen();
    auto r = alice.store->load_session(bob.address);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
  }
  SECTION("damaged prekey and identity rows") {
    test::run_sql(path,
                  "UPDATE pre_keys SET record = zeroblob(5000); "
                  "UPDATE local_identity SET public_key = x'05';");
    alice.reopen();
    auto pk = alice.store->load_pre_key(PreKeyId{1});
    REQUIRE_FALSE(pk);
    CHECK(pk.error().code() == Errc::kCorruptState);
    auto id = alice.store->identity_key_pair();
    REQUIRE_FALSE(id);
    CHECK(id.error().code() == Errc::kCorruptState);
  }
  SECTION("a prekey record stored under another id") {
    test::run_sql(path, "UPDATE pre_keys SET id = 77 WHERE id = 1");
    alice.reopen();
    auto pk = alice.store->load_pre_key(PreKeyId{77});
    REQUIRE_FALSE(pk);
    CHECK(pk.error().code() == Errc::kCorruptState);
  }
}

TEST_CASE("application data commits with the decrypt, or not at all",
          "[integration][store][sqlite]") {
  auto alice = Party::create("alice", 511, 2, StoreKind::kSqlite);
  auto bob = Party::create("bob", 512, 2, StoreKind::kSqlite);
  auto& bob_db = dynamic_cast<SqliteStore&>(*bob.store);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m = test::encrypt(alice, bob, "keep me");

  DecryptOptions store_then_fail;
  store_then_fail.before_commit = [&](ByteView plaintext) -> Status {
    REQUIRE(bob_db.put_app_data("inbox/1", plaintext));
    return Error(Errc::kStoreFailure, "test: disk full");
  };
  const Bytes before = bob.snapshot();
  REQUIRE_FALSE(decrypt_message(*bob.ctx, *bob.store, alice.address, m, store_then_fail));
  CHECK(bob.snapshot() == before);
  CHECK_FALSE(bob_db.app_data("inbox/1")->has_value());

  DecryptOptions store;
  store.before_commit = [&](ByteView plaintext) {
    return bob_db.put_app_data("inbox/1", plaintext);
  };
  REQUIRE(decrypt_message(*bob.ctx, *bob.store, alice.address, m, store));
  bob.reopen();
  auto& reopened = dynamic_cast<SqliteStore&>(*bob.store);
  auto saved = reopened.app_data("inbox/1");
  REQUIRE(saved);
  REQUIRE(saved->has_value());
  CHECK(std::string((*saved)->begin(), (*saved)->end()) == "keep me");
  // The retry of a message whose decrypt committed is a duplicate, and its plaintext is stored.
  auto retry = decrypt_message(*bob.ctx, *bob.store, alice.address, m, store);
  REQUIRE_FALSE(retry);
  CHECK(retry.error().code() == Errc::kDuplicateMessage);
  REQUIRE(reopened.erase_app_data("inbox/1"));
  CHECK_FALSE(reopened.app_data("inbox/1")->has_value());
}

TEST_CASE("a sealed database file reveals no key", "[integration][store][sqlite]") {
  const Bytes key(32, 0x5A);
  auto alice = Party::create("alice", 513, 3, StoreKind::kSqlite, key);
  auto bob = Party::create("bob", 514, 3, StoreKind::kSqlite, key);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "sealed talk")));
    REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "sealed reply")));
  }
  (void)test::encrypt(alice, bob, "skipped, so a skipped key is stored");
  REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "next")));

  // Everything secret the two stores hold, in the clear.
  std::vector<Bytes> secrets;
  for (Party* p : {&alice, &bob}) {
    auto id = p->store->identity_key_pair();
    REQUIRE(id);
    secrets.emplace_back(id->private_key.expose().begin(), id->private_key.expose().end());
    const auto pre_key_ids = p->store->pre_key_ids();
    REQUIRE(pre_key_ids);
    for (PreKeyId pk : *pre_key_ids) {
      auto r = p->store->load_pre_key(pk);
      secrets.emplace_back((*r)->key_pair.private_key.expose().begin(),
                           (*r)->key_pair.private_key.expose().end());
    }
    auto spk = p->store->load_signed_pre_key(SignedPreKeyId{1});
    secrets.emplace_back((*spk)->key_pair.private_key.expose().begin(),
                         (*spk)->key_pair.private_key.expose().end());
  }
  // The session secrets: root key, chain keys, the sending ratchet key, skipped message keys.
  for (Party* p : {&alice, &bob}) {
    auto record = p->store->load_session(p == &alice ? bob.address : alice.address);
    REQUIRE(record);
    const auto& state = *internal::RecordAccess::data(**record).current;
    auto add = [&](ByteView b) { secrets.emplace_back(b.begin(), b.end()); };
    add(state.root_key.expose());
    add(state.sender_chain.ratchet_private.expose());
    add(state.sender_chain.chain_key.key.expose());
    for (const auto& chain : state.receiver_chains) {
      add(chain.chain_key.key.expose());
      for (std::size_t i = 0; i < chain.skipped.size(); ++i)
        add(chain.skipped.seed(i));
    }
  }
  REQUIRE(secrets.size() > 15);

  alice.store.reset();
  bob.store.reset();
  for (Party* p : {&alice, &bob}) {
    const std::string file = test::file_bytes(p->db_path());
    REQUIRE(file.size() > 4096);
    for (const Bytes& secret : secrets) {
      CHECK(file.find(std::string(secret.begin(), secret.end())) == std::string::npos);
      CHECK(file.find(std::string(secret.begin(), secret.begin() + 12)) == std::string::npos);
    }
  }

  // The right key opens it; a wrong key, or none, is a clear error.
  alice.reopen();
  REQUIRE(test::decrypt(bob.store ? bob : (bob.reopen(), bob), alice,
                        test::encrypt(alice, bob, "still works")));
  SqliteStoreOptions wrong;
  const Bytes other(32, 0x5B);
  wrong.storage_key = other;
  CHECK(SqliteStore::open(bob.db_path(), wrong).error().code() == Errc::kWrongStorageKey);
  CHECK(SqliteStore::open(bob.db_path()).error().code() == Errc::kWrongStorageKey);
  SqliteStoreOptions short_key;
  const Bytes tiny(16, 1);
  short_key.storage_key = tiny;
  CHECK(SqliteStore::open(bob.db_path(), short_key).error().code() == Errc::kInvalidArgument);
}

TEST_CASE("an unsealed database file does hold its keys (the search above can fail)",
          "[integration][store][sqlite]") {
  auto p = Party::create("plain", 519, 1, StoreKind::kSqlite);
  auto id = p.store->identity_key_pair();
  REQUIRE(id);
  const std::string secret(id->private_key.expose().begin(), id->private_key.expose().end());
  p.store.reset();
  const std::string file = test::file_bytes(p.db_path());
  CHECK(file.find(secret) != std::string::npos);
}

TEST_CASE("a plain database refuses a storage key", "[integration][store][sqlite]") {
  auto p = Party::create("plain", 515, 1, StoreKind::kSqlite);
  p.store.reset();
  SqliteStoreOptions keyed;
  const Bytes key(32, 1);
  keyed.storage_key = key;
  CHECK(SqliteStore::open(p.db_path(), keyed).error().code() == Errc::kInvalidArgument);
}

TEST_CASE("sealed rows cannot be moved between rows", "[integration][store][sqlite]") {
  const Bytes key(32, 0x33);
  auto alice = Party::create("alice", 516, 2, StoreKind::kSqlite, key);
  auto bob = Party::create("bob", 517, 2, StoreKind::kSqlite, key);
  auto carol = Party::create("carol", 518, 2, StoreKind::kSqlite, key);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, carol.address, carol.bundle()));
  alice.store.reset();
  // Bob's sealed session blob copied into Carol's row; prekey 1's blob into prekey 2's row.
  test::run_sql(
      alice.db_path(),
      "UPDATE sessions SET record = (SELECT record FROM sessions WHERE name = CAST('bob' AS BLOB))"
      " WHERE name = CAST('carol' AS BLOB);"
      "UPDATE pre_keys SET record = (SELECT record FROM pre_keys WHERE id = 1) WHERE id = 2;");
  alice.reopen();
  auto moved = alice.store->load_session(carol.address);
  REQUIRE_FALSE(moved);
  CHECK(moved.error().code() == Errc::kCorruptState);
  REQUIRE(alice.store->load_session(bob.address));
  auto moved_key = alice.store->load_pre_key(PreKeyId{2});
  REQUIRE_FALSE(moved_key);
  CHECK(moved_key.error().code() == Errc::kCorruptState);
}

TEST_CASE("store contract: Messenger records by kind and key", "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 520, 1, kind);
    ProtocolStore& s = *p.store;
    for (Kind k : kAllKinds)
      CHECK(record_keys(s, k).empty());
    CHECK_FALSE(record(s, Kind::kOutbox, "1"));

    // The same key under every kind is a record of its own.
    for (Kind k : kAllKinds)
      put(s, k, "same", "value of kind " + std::to_string(static_cast<int>(k)));
    for (Kind k : kAllKinds)
      CHECK(record(s, k, "same") == "value of kind " + std::to_string(static_cast<int>(k)));

    // Keys are listed ascending, bytewise (unsigned, NUL included), whatever order they came in.
    std::vector<std::string> keys = {"9", "10",   "0002",      "",     std::string("a\0b", 3),
                                     "a", "\x7f", "\x80 high", "\xff", "Z"};
    for (const std::string& key : keys)
      put(s, Kind::kOutbox, key, "outbox " + key);
    keys.push_back("same");
    std::sort(keys.begin(), keys.end());
    REQUIRE(keys.front().empty());
    REQUIRE(keys.back() == "\xff");
    CHECK(record_keys(s, Kind::kOutbox) == keys);
    CHECK(record_keys(s, Kind::kHealing) == std::vector<std::string>{"same"});
    CHECK(record(s, Kind::kOutbox, std::string("a\0b", 3)) == "outbox " + std::string("a\0b", 3));
    CHECK(record(s, Kind::kOutbox, "a") == "outbox a");

    // Values are bytes: every byte value, and empty.
    Bytes binary(256);
    std::iota(binary.begin(), binary.end(), std::uint8_t{0});
    REQUIRE(s.store_messenger_record(Kind::kHealing, "binary", binary));
    REQUIRE(s.store_messenger_record(Kind::kHealing, "empty", ByteView()));
    auto check_values = [&](ProtocolStore& st) {
      auto b = st.load_messenger_record(Kind::kHealing, "binary");
      REQUIRE(b);
      REQUIRE(*b);
      CHECK(Bytes((*b)->expose().begin(), (*b)->expose().end()) == binary);
      CHECK(record(st, Kind::kHealing, "empty") == "");
    };
    check_values(s);

    // Storing again replaces.
    put(s, Kind::kOutbox, "10", "replaced");
    CHECK(record(s, Kind::kOutbox, "10") == "replaced");
    CHECK(record_keys(s, Kind::kOutbox) == keys);

    // Removing takes that record only; removing an absent one is not an error.
    REQUIRE(s.remove_messenger_record(Kind::kOutbox, "same"));
    CHECK_FALSE(record(s, Kind::kOutbox, "same"));
    CHECK(record(s, Kind::kSeenMessage, "same") == "value of kind 3");
    REQUIRE(s.remove_messenger_record(Kind::kOutbox, "same"));
    REQUIRE(s.remove_messenger_record(Kind::kDeviceList, "never stored"));
    keys.erase(std::find(keys.begin(), keys.end(), "same"));
    CHECK(record_keys(s, Kind::kOutbox) == keys);

    // A reopened store has them all.
    p.reopen();
    ProtocolStore& r = *p.store;
    CHECK(record_keys(r, Kind::kOutbox) == keys);
    CHECK(record(r, Kind::kOutbox, "10") == "replaced");
    CHECK(record(r, Kind::kOutbox, "\xff") == "outbox \xff");
    CHECK(record(r, Kind::kDeviceList, "same") == "value of kind 1");
    CHECK(record_keys(r, Kind::kHealing) == std::vector<std::string>{"binary", "empty", "same"});
    check_values(r);

    // A kind outside the named ones is refused.
    for (const Kind unknown :
         {static_cast<Kind>(0), static_cast<Kind>(7), static_cast<Kind>(255)}) {
      CHECK(r.store_messenger_record(unknown, "k", as_bytes("v")).error().code() ==
            Errc::kInvalidArgument);
      CHECK(r.load_messenger_record(unknown, "k").error().code() == Errc::kInvalidArgument);
      CHECK(r.remove_messenger_record(unknown, "k").error().code() == Errc::kInvalidArgument);
      CHECK(r.messenger_record_keys(unknown).error().code() == Errc::kInvalidArgument);
    }
  }
}

TEST_CASE("store contract: a failed transaction leaves the Messenger records as they were",
          "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 521, 1, kind);
    ProtocolStore& s = *p.store;
    put(s, Kind::kOutbox, "1", "first");
    put(s, Kind::kOutbox, "2", "second");
    put(s, Kind::kSeenMessage, "alice/1", "");
    const Bytes before = p.snapshot();
    // Replaces, removes, adds, writes one key twice, removes and stores one again.
    auto write_everything = [&] {
      put(s, Kind::kOutbox, "1", "changed");
      REQUIRE(s.remove_messenger_record(Kind::kOutbox, "2"));
      put(s, Kind::kOutbox, "3", "new");
      put(s, Kind::kOutbox, "3", "new again");
      REQUIRE(s.remove_messenger_record(Kind::kSeenMessage, "alice/1"));
      put(s, Kind::kSeenMessage, "alice/1", "back");
    };
    auto unchanged = [&] {
      CHECK(record(s, Kind::kOutbox, "1") == "first");
      CHECK(record(s, Kind::kOutbox, "2") == "second");
      CHECK_FALSE(record(s, Kind::kOutbox, "3"));
      CHECK(record(s, Kind::kSeenMessage, "alice/1") == "");
    };

    // An error from the body.
    Status st = s.run_transaction([&]() -> Status {
      write_everything();
      return Error(Errc::kStoreFailure, "test: fail");
    });
    REQUIRE_FALSE(st);
    CHECK(p.snapshot() == before);
    unchanged();

    // An exception.
    CHECK_THROWS_AS(s.run_transaction([&]() -> Status {
      write_everything();
      throw std::runtime_error("test");
    }),
                    std::runtime_error);
    CHECK(p.snapshot() == before);
    unchanged();

    // A failed nested transaction undoes its own writes only.
    st = s.run_transaction([&]() -> Status {
      put(s, Kind::kHealing, "bob.1", "outer");
      Status inner = s.run_transaction([&]() -> Status {
        write_everything();
        put(s, Kind::kHealing, "bob.1", "inner");
        return Error(Errc::kStoreFailure, "test: inner");
      });
      REQUIRE_FALSE(inner);
      unchanged();
      CHECK(record(s, Kind::kHealing, "bob.1") == "outer");
      return ok_status();
    });
    REQUIRE(st);
    unchanged();
    CHECK(record(s, Kind::kHealing, "bob.1") == "outer");
    const Bytes middle = p.snapshot();
    CHECK(middle != before);

    // A nested transaction that succeeded is undone with the outer one that fails.
    st = s.run_transaction([&]() -> Status {
      REQUIRE(s.run_transaction([&]() -> Status {
        write_everything();
        return ok_status();
      }));
      REQUIRE(s.remove_messenger_record(Kind::kHealing, "bob.1"));
      return Error(Errc::kStoreFailure, "test: outer");
    });
    REQUIRE_FALSE(st);
    CHECK(p.snapshot() == middle);
    unchanged();

    // And one that succeeds keeps every write.
    REQUIRE(s.run_transaction([&]() -> Status {
      write_everything();
      return ok_status();
    }));
    CHECK(record(s, Kind::kOutbox, "1") == "changed");
    CHECK_FALSE(record(s, Kind::kOutbox, "2"));
    CHECK(record(s, Kind::kOutbox, "3") == "new again");
    CHECK(record(s, Kind::kSeenMessage, "alice/1") == "back");
    CHECK(p.snapshot() != middle);
  }
}

TEST_CASE("store contract: Messenger records are bounded", "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 522, 1, kind);
    ProtocolStore& s = *p.store;
    put(s, Kind::kOutbox, "kept", "old");
    const Bytes before = p.snapshot();

    const std::string long_key(kMaxMessengerRecordKeyBytes + 1, 'k');
    Status st = s.store_messenger_record(Kind::kOutbox, long_key, as_bytes("v"));
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kLimitExceeded);
    const Bytes too_large(kMaxAppDataBytes + 1, 0x61);
    st = s.store_messenger_record(Kind::kOutbox, "big", too_large);
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kLimitExceeded);
    st = s.store_messenger_record(Kind::kOutbox, "kept", too_large);  // a replacement too
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kLimitExceeded);
    // Inside a transaction that goes on and commits, the refused writes left nothing either.
    REQUIRE(s.run_transaction([&]() -> Status {
      CHECK(s.store_messenger_record(Kind::kDeviceList, long_key, as_bytes("v")).error().code() ==
            Errc::kLimitExceeded);
      CHECK(s.store_messenger_record(Kind::kDeviceList, "d", too_large).error().code() ==
            Errc::kLimitExceeded);
      return ok_status();
    }));
    CHECK(p.snapshot() == before);
    CHECK(record(s, Kind::kOutbox, "kept") == "old");
    CHECK(record_keys(s, Kind::kOutbox) == std::vector<std::string>{"kept"});
    CHECK(record_keys(s, Kind::kDeviceList).empty());

    // The bounds themselves are accepted, and kept.
    const std::string longest_key(kMaxMessengerRecordKeyBytes, 'k');
    put(s, Kind::kOutbox, longest_key, "v");
    const Bytes largest(kMaxAppDataBytes, 0x62);
    REQUIRE(s.store_messenger_record(Kind::kOutbox, "big", largest));
    p.reopen();
    CHECK(record_keys(*p.store, Kind::kOutbox) ==
          std::vector<std::string>{"big", "kept", longest_key});
    auto loaded = p.store->load_messenger_record(Kind::kOutbox, "big");
    REQUIRE(loaded);
    REQUIRE(*loaded);
    CHECK((*loaded)->size() == kMaxAppDataBytes);
    CHECK(record(*p.store, Kind::kOutbox, longest_key) == "v");
  }
}

TEST_CASE("store contract: identities() lists every person once, ascending by name",
          "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 523, 0, kind);
    ProtocolStore& s = *p.store;
    auto list = s.identities();
    REQUIRE(list);
    CHECK(list->empty());

    std::map<std::string, IdentityKey> expected;  // std::string orders bytewise
    for (const std::string& name :
         {std::string("mallory"), std::string("alice"), std::string("\xc3\xa9mile"),
          std::string("Bob"), std::string("alice2"), std::string("a\0z", 3)}) {
      const IdentityKey key = KeyPair::generate(*p.random)->public_key;
      REQUIRE(s.save_identity(name, key));
      expected.insert_or_assign(name, key);
    }
    // A replaced identity is listed once, with its new key.
    const IdentityKey newer = KeyPair::generate(*p.random)->public_key;
    REQUIRE(*s.save_identity("alice", newer) == IdentityChange::kReplacedExisting);
    expected.insert_or_assign("alice", newer);
    REQUIRE(expected.begin()->first == "Bob");

    auto check = [&](ProtocolStore& st) {
      auto got = st.identities();
      REQUIRE(got);
      REQUIRE(got->size() == expected.size());
      auto it = expected.begin();
      for (const auto& [name, key] : *got) {
        CHECK(name == it->first);
        CHECK(key == it->second);
        ++it;
      }
    };
    check(s);
    // An identity saved in a transaction that failed is not listed.
    REQUIRE_FALSE(s.run_transaction([&]() -> Status {
      REQUIRE(s.save_identity("zed", newer));
      return Error(Errc::kStoreFailure, "test: fail");
    }));
    check(s);
    p.reopen();
    check(*p.store);
  }
}

TEST_CASE("store contract: session_addresses() lists every stored session in address order",
          "[integration][store]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 524, 0, kind);
    ProtocolStore& s = *p.store;
    auto none = s.session_addresses();
    REQUIRE(none);
    CHECK(none->empty());
    std::set<Address> expected;  // ordered by name (bytewise), then device id
    for (const Address& a : {Address{"mallory", DeviceId{2}}, Address{"alice", DeviceId{7}},
                             Address{"Bob", DeviceId{1}}, Address{"alice", DeviceId{2}},
                             Address{"\xc3\xa9mile", DeviceId{1}},
                             Address{std::string("a\0z", 3), DeviceId{4294967295u}}}) {
      REQUIRE(s.store_session(a, SessionRecord()));
      expected.insert(a);
    }
    // Stored again: listed once.
    REQUIRE(s.store_session(Address{"alice", DeviceId{7}}, SessionRecord()));
    const std::vector<Address> want(expected.begin(), expected.end());
    REQUIRE(want.front().name == "Bob");
    auto check = [&](ProtocolStore& st) {
      auto got = st.session_addresses();
      REQUIRE(got);
      CHECK(*got == want);
    };
    check(s);
    // A session stored in a transaction that failed is not listed.
    REQUIRE_FALSE(s.run_transaction([&]() -> Status {
      REQUIRE(s.store_session(Address{"zed", DeviceId{1}}, SessionRecord()));
      return Error(Errc::kStoreFailure, "test: fail");
    }));
    check(s);
    p.reopen();
    check(*p.store);
  }
}

TEST_CASE("SqliteStore lists its application data keys", "[integration][store][sqlite]") {
  auto p = Party::create("owner", 525, 0, StoreKind::kSqlite);
  auto& s = dynamic_cast<SqliteStore&>(*p.store);
  auto none = s.app_data_keys();
  REQUIRE(none);
  CHECK(none->empty());
  for (const std::string& key : {std::string("b"), std::string("a/2"), std::string("a\0", 2),
                                 std::string("\xff"), std::string("A")})
    REQUIRE(s.put_app_data(key, as_bytes("value")));
  REQUIRE(s.put_app_data("b", as_bytes("again")));
  REQUIRE(s.erase_app_data("A"));
  REQUIRE_FALSE(s.run_transaction([&]() -> Status {
    REQUIRE(s.put_app_data("rolled back", as_bytes("x")));
    return Error(Errc::kStoreFailure, "test: fail");
  }));
  const std::vector<std::string> want = {std::string("a\0", 2), "a/2", "b", "\xff"};
  auto keys = s.app_data_keys();
  REQUIRE(keys);
  CHECK(*keys == want);
  p.reopen();
  auto reopened = dynamic_cast<SqliteStore&>(*p.store).app_data_keys();
  REQUIRE(reopened);
  CHECK(*reopened == want);
}

TEST_CASE("store snapshots carry the Messenger records, bounded, and older formats still load",
          "[integration][store]") {
  auto p = Party::create("owner", 527, 2, StoreKind::kInMemory);
  auto& memory = dynamic_cast<InMemoryProtocolStore&>(*p.store);
  put(memory, Kind::kOutbox, "2", "two");
  put(memory, Kind::kDeviceList, "zed", "zed's list");
  put(memory, Kind::kOutbox, "10", "ten");
  const SecretBytes snapshot = memory.serialize();
  storage::StoreSnapshot parsed;
  REQUIRE(parsed.ParseFromArray(snapshot.expose().data(), static_cast<int>(snapshot.size())));
  CHECK(parsed.format() == 5);
  // Sorted by kind, then by key bytewise.
  REQUIRE(parsed.messenger_records_size() == 3);
  CHECK(parsed.messenger_records(0).kind() == 1);
  CHECK(parsed.messenger_records(0).key() == "zed");
  CHECK(parsed.messenger_records(0).value() == "zed's list");
  CHECK(parsed.messenger_records(1).kind() == 2);
  CHECK(parsed.messenger_records(1).key() == "10");
  CHECK(parsed.messenger_records(2).kind() == 2);
  CHECK(parsed.messenger_records(2).key() == "2");

  auto load = [](const storage::StoreSnapshot& m) {
    const std::string bytes = m.SerializeAsString();
    return InMemoryProtocolStore::deserialize(as_bytes(bytes));
  };
  auto refused = [&](const std::function<void(storage::StoreSnapshot&)>& change) {
    storage::StoreSnapshot m = parsed;
    change(m);
    auto r = load(m);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
  };
  // Unchanged, it loads (so the refusals below are the changes' doing).
  auto same = load(parsed);
  REQUIRE(same);
  CHECK(record((**same), Kind::kOutbox, "10") == "ten");

  // Formats 1 and 2 had no Messenger records: still read without them, refused with them.
  for (const std::uint32_t format : {1u, 2u}) {
    refused([&](storage::StoreSnapshot& m) { m.set_format(format); });
    storage::StoreSnapshot m = parsed;
    m.set_format(format);
    m.clear_messenger_records();
    auto old = load(m);
    REQUIRE(old);
    CHECK(record_keys(**old, Kind::kOutbox).empty());
    CHECK(*(*old)->pre_key_ids() == std::vector<PreKeyId>{PreKeyId{1}, PreKeyId{2}});
  }
  refused([](storage::StoreSnapshot& m) { m.set_format(6); });
  refused([](storage::StoreSnapshot& m) { m.set_format(0); });
  // Kinds, bounds, and a key twice.
  refused([](storage::StoreSnapshot& m) { m.mutable_messenger_records(0)->set_kind(0); });
  refused([](storage::StoreSnapshot& m) { m.mutable_messenger_records(0)->set_kind(7); });
  refused([](storage::StoreSnapshot& m) {
    m.mutable_messenger_records(0)->set_key(std::string(kMaxMessengerRecordKeyBytes + 1, 'k'));
  });
  refused([](storage::StoreSnapshot& m) {
    m.mutable_messenger_records(1)->set_value(std::string(kMaxAppDataBytes + 1, 'v'));
  });
  refused([](storage::StoreSnapshot& m) {
    *m.add_messenger_records() = storage::StoreSnapshot::MessengerRecord(m.messenger_records(2));
  });
  // At the bounds, it loads.
  storage::StoreSnapshot at_bounds = parsed;
  at_bounds.mutable_messenger_records(0)->set_key(std::string(kMaxMessengerRecordKeyBytes, 'k'));
  at_bounds.mutable_messenger_records(0)->set_value(std::string(kMaxAppDataBytes, 'v'));
  auto big = load(at_bounds);
  REQUIRE(big);
  CHECK(record_keys(**big, Kind::kDeviceList) ==
        std::vector<std::string>{std::string(kMaxMessengerRecordKeyBytes, 'k')});

  // A snapshot round-trips byte for byte.
  auto back = InMemoryProtocolStore::deserialize(snapshot.expose());
  REQUIRE(back);
  const SecretBytes again = (*back)->serialize();
  CHECK(Bytes(again.expose().begin(), again.expose().end()) ==
        Bytes(snapshot.expose().begin(), snapshot.expose().end()));
}

TEST_CASE("a sealed database file holds no Messenger record in clear",
          "[integration][store][sqlite]") {
  // Unsealed, the same search finds them: the check can fail.
  const bool sealed = GENERATE(false, true);
  const Bytes key(32, 0x6B);
  auto p = Party::create("owner", 524, 1, StoreKind::kSqlite, sealed ? ByteView(key) : ByteView());
  ProtocolStore& s = *p.store;
  std::vector<std::string> plaintexts = {
      "outbox plaintext: meet me at the old mill at noon", "device list of carol, signed by her",
      "seen message id 0123456789abcdef", "healing: bob.2 restarted at 1700000000000"};
  put(s, Kind::kOutbox, "00000001", plaintexts[0]);
  put(s, Kind::kDeviceList, "carol", plaintexts[1]);
  put(s, Kind::kSeenMessage, "alice/0123", plaintexts[2]);
  put(s, Kind::kHealing, "bob.2", plaintexts[3]);
  // A value larger than a page (SQLite's overflow pages).
  std::string large;
  for (int i = 0; large.size() < 20000; ++i)
    large += "long outbox line " + std::to_string(i) + ". ";
  put(s, Kind::kOutbox, "00000002", large);
  plaintexts.push_back(large.substr(9000, 64));
  // Written in a transaction that also replaced one: the old value is gone (secure_delete).
  REQUIRE(s.run_transaction([&]() -> Status {
    put(s, Kind::kOutbox, "00000003", "replaced outbox plaintext, first version");
    put(s, Kind::kOutbox, "00000003", "replaced outbox plaintext, second version");
    return ok_status();
  }));
  plaintexts.push_back("replaced outbox plaintext, second version");

  auto found = [&](const std::string& file, const std::string& text) {
    return file.find(text) != std::string::npos ||
           file.find(text.substr(0, 16)) != std::string::npos;
  };
  // While the store is open the new pages are in the WAL; after it closes, in the database.
  const std::string wal = test::file_bytes(p.db_path() + "-wal");
  REQUIRE(wal.size() > 4096);
  for (const std::string& text : plaintexts)
    CHECK(found(wal + test::file_bytes(p.db_path()), text) == !sealed);
  p.store.reset();
  const std::string file = test::file_bytes(p.db_path());
  REQUIRE(file.size() > 4096);
  for (const std::string& text : plaintexts)
    CHECK(found(file + test::file_bytes(p.db_path() + "-wal"), text) == !sealed);

  p.reopen();
  CHECK(record(*p.store, Kind::kOutbox, "00000001") == plaintexts[0]);
  CHECK(record(*p.store, Kind::kOutbox, "00000002") == large);
  CHECK(record(*p.store, Kind::kHealing, "bob.2") == plaintexts[3]);
}

TEST_CASE("sealed Messenger records and identities cannot be moved to another row",
          "[integration][store][sqlite]") {
  const Bytes key(32, 0x6C);
  auto p = Party::create("owner", 525, 1, StoreKind::kSqlite, key);
  ProtocolStore& s = *p.store;
  put(s, Kind::kOutbox, "1", "first");
  put(s, Kind::kOutbox, "2", "second");
  put(s, Kind::kOutbox, "10", "tenth");
  put(s, Kind::kSeenMessage, "1", "seen");
  REQUIRE(s.save_identity("alice", KeyPair::generate(*p.random)->public_key));
  REQUIRE(s.save_identity("bob", KeyPair::generate(*p.random)->public_key));
  const std::string path = p.db_path();
  p.store.reset();

  const std::string first_value =
      "(SELECT value FROM messenger_records WHERE kind = 2 AND key = CAST('1' AS BLOB))";
  SECTION("a value copied to another key of its kind") {
    test::run_sql(path, "UPDATE messenger_records SET value = " + first_value +
                            " WHERE kind = 2 AND key = CAST('2' AS BLOB)");
    p.reopen();
    auto moved = p.store->load_messenger_record(Kind::kOutbox, "2");
    REQUIRE_FALSE(moved);
    CHECK(moved.error().code() == Errc::kCorruptState);
  }
  SECTION("a value copied to the same key of another kind") {
    test::run_sql(path, "UPDATE messenger_records SET value = " + first_value +
                            " WHERE kind = 3 AND key = CAST('1' AS BLOB)");
    p.reopen();
    auto moved = p.store->load_messenger_record(Kind::kSeenMessage, "1");
    REQUIRE_FALSE(moved);
    CHECK(moved.error().code() == Errc::kCorruptState);
  }
  SECTION("a row given another key, or another kind") {
    test::run_sql(path,
                  "UPDATE messenger_records SET key = CAST('11' AS BLOB) WHERE kind = 2 AND "
                  "key = CAST('10' AS BLOB);"
                  "UPDATE messenger_records SET kind = 4 WHERE kind = 3;");
    p.reopen();
    CHECK(record_keys(*p.store, Kind::kOutbox) == std::vector<std::string>{"1", "11", "2"});
    auto renamed = p.store->load_messenger_record(Kind::kOutbox, "11");
    REQUIRE_FALSE(renamed);
    CHECK(renamed.error().code() == Errc::kCorruptState);
    auto rekinded = p.store->load_messenger_record(Kind::kHealing, "1");
    REQUIRE_FALSE(rekinded);
    CHECK(rekinded.error().code() == Errc::kCorruptState);
  }
  SECTION("an identity copied to another person") {
    test::run_sql(path,
                  "UPDATE person_identities SET identity_key = (SELECT identity_key FROM "
                  "person_identities WHERE name = CAST('alice' AS BLOB)) WHERE name = "
                  "CAST('bob' AS BLOB)");
    p.reopen();
    auto list = p.store->identities();
    REQUIRE_FALSE(list);
    CHECK(list.error().code() == Errc::kCorruptState);
    REQUIRE(p.store->identity("alice"));
    // The Messenger records are untouched here.
    CHECK(record(*p.store, Kind::kOutbox, "2") == "second");
  }
  // The rows left alone still open; the export, which reads every row, refuses the damage.
  CHECK(record(*p.store, Kind::kOutbox, "1") == "first");
  auto exported = dynamic_cast<SqliteStore&>(*p.store).export_snapshot();
  REQUIRE_FALSE(exported);
  CHECK(exported.error().code() == Errc::kCorruptState);
}

TEST_CASE("SqliteStore reads Messenger record rows beyond the bounds as corrupt",
          "[integration][store][sqlite]") {
  const bool sealed = GENERATE(false, true);
  const Bytes key(32, 0x6D);
  auto p = Party::create("owner", 526, 1, StoreKind::kSqlite, sealed ? ByteView(key) : ByteView());
  put(*p.store, Kind::kOutbox, "1", "x");
  put(*p.store, Kind::kDeviceList, "carol", "y");
  const std::string path = p.db_path();
  p.store.reset();
  auto export_refused = [&] {
    auto exported = dynamic_cast<SqliteStore&>(*p.store).export_snapshot();
    REQUIRE_FALSE(exported);
    CHECK(exported.error().code() == Errc::kCorruptState);
  };

  SECTION("a value too large is refused before it is opened") {
    test::run_sql(path, "UPDATE messenger_records SET value = zeroblob(" +
                            std::to_string(kMaxAppDataBytes + 1024) + ") WHERE kind = 2");
    p.reopen();
    auto r = p.store->load_messenger_record(Kind::kOutbox, "1");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
    CHECK(record(*p.store, Kind::kDeviceList, "carol") == "y");
    export_refused();
  }
  SECTION("a key too long") {
    test::run_sql(path, "INSERT INTO messenger_records (kind, key, value) VALUES (2, zeroblob(" +
                            std::to_string(kMaxMessengerRecordKeyBytes + 1) + "), x'00')");
    p.reopen();
    auto keys = p.store->messenger_record_keys(Kind::kOutbox);
    REQUIRE_FALSE(keys);
    CHECK(keys.error().code() == Errc::kCorruptState);
    CHECK(record_keys(*p.store, Kind::kDeviceList) == std::vector<std::string>{"carol"});
    export_refused();
  }
  SECTION("a kind this version never writes") {
    test::run_sql(path,
                  "INSERT INTO messenger_records (kind, key, value) VALUES (9, x'01', x'00')");
    p.reopen();
    for (Kind k : kAllKinds)
      CHECK(record_keys(*p.store, k).size() ==
            (k == Kind::kOutbox || k == Kind::kDeviceList ? 1u : 0u));
    export_refused();
  }
  SECTION("a value that is not a sealed value (or, unsealed, fine)") {
    test::run_sql(path, "UPDATE messenger_records SET value = x'0102030405' WHERE kind = 2");
    p.reopen();
    auto r = p.store->load_messenger_record(Kind::kOutbox, "1");
    CHECK(r.has_value() == !sealed);
    if (!sealed) {
      CHECK(record(*p.store, Kind::kOutbox, "1") == "\x01\x02\x03\x04\x05");
    } else {
      CHECK(r.error().code() == Errc::kCorruptState);
      export_refused();
    }
  }
}

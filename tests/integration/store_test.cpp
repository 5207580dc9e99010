// hush integration tests: the ProtocolStore contract, for InMemoryProtocolStore and SqliteStore
// alike (transactions, nesting, rollback on error and on exception, prekey id high-water mark,
// trust on first use), and SqliteStore's own promises (persistence, refusing foreign, damaged or
// newer files, bounded records, application data in the same transaction).
#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

#include "protocol/ratchet/session_state.h"
#include "protocol/record_access.h"
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

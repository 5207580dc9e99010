// hush integration tests: databases written by earlier versions of SqliteStore still open (after
// migration) and carry on the conversation they hold.
//
// tests/compat/sqlite-v<N>/ holds, for every schema version N (the current one included), two
// databases (alice.db, bob.db) written by the hush of that version, and messages each side had sent
// but the other had not yet received (pending.txt: "<to> <type> <hex>" per line). The hidden test
// case below wrote them; run it with HUSH_GOLDEN_DIR set once, when a new schema version is
// introduced, and never regenerate an old version's fixtures. From version 3 on, each database
// comes with its generation counter (alice.db-generation, bob.db-generation), and holds an
// application data row ("golden/note"); from version 4 on, Messenger records too (kGoldenRecords);
// from version 5 on, sender keys: each side's own chain and the other's in a legacy and a current
// group (kGoldenGroups), with a group message from alice to bob in each not yet received
// (pending-group.txt: "<legacy|current> <hex> <text>" per line); from version 6 on, Kyber prekeys:
// each side's one-time Kyber prekey 1 and last-resort Kyber prekey 2, with one recorded use of the
// last-resort one (kGoldenLastResortBaseKey under signed prekey kGoldenSignedPreKeyId).
// The sealed fixtures are written with HUSH_GOLDEN_SEALED=1 as well (storage key kGoldenKey). For
// version N: HUSH_GOLDEN_DIR=tests/compat/sqlite-vN build/tests/integration/hush_integration_tests
// "[.generate]", then the same with HUSH_GOLDEN_SEALED=1 into tests/compat/sqlite-vN-sealed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "protocol/record_access.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;
using hush::test::StoreKind;

namespace {
const Bytes kGoldenKey(32, 0x42);
constexpr std::string_view kNote = "golden application data";

// The Messenger records each version-4 fixture holds (kind, key, value), in (kind, key) order.
struct GoldenRecord {
  MessengerRecordKind kind;
  std::string_view key;
  std::string_view value;
};
constexpr GoldenRecord kGoldenRecords[] = {
    {MessengerRecordKind::kDeviceList, "carol", "golden device list"},
    {MessengerRecordKind::kOutbox, "00000001", "golden outbox plaintext, sent"},
    {MessengerRecordKind::kOutbox, "00000002", "golden outbox plaintext, waiting"},
    {MessengerRecordKind::kSeenMessage, "carol/1", ""},
    {MessengerRecordKind::kHealing, "carol.2", "golden healing"},
};

// The last-resort Kyber prekey use of the version-6 fixtures.
const PublicKey kGoldenLastResortBaseKey = PublicKey::from_u({9});
constexpr SignedPreKeyId kGoldenSignedPreKeyId{7};

// The groups of the version-5 fixtures.
SenderKeyGroup golden_group(bool legacy) {
  if (legacy) return *SenderKeyGroup::legacy("golden group");
  return SenderKeyGroup::current(*DistributionId::parse("0a0b0c0d-0e0f-4000-8000-00000000beef"));
}

// Copies a fixture database, and its generation counter if it has one, into `tmp`.
void copy_fixture(const std::filesystem::path& dir, const char* name, const test::TempDir& tmp,
                  bool with_counter = true) {
  std::filesystem::copy_file(dir / name, tmp.file(name));
  const auto counter = dir / (std::string(name) + "-generation");
  if (with_counter && std::filesystem::exists(counter))
    std::filesystem::copy_file(counter, tmp.file(std::string(name) + "-generation"));
}

// The base key of the session `store` holds as responder for `peer` (its current state).
std::optional<PublicKey> responder_base_key(SqliteStore& store, const Address& peer) {
  auto record = store.load_session(peer);
  REQUIRE(record);
  REQUIRE(*record);
  const auto& data = internal::RecordAccess::data(**record);
  REQUIRE(data.current);
  return data.current->alice_base_key;
}
}  // namespace

TEST_CASE("write the golden databases of this schema version", "[.generate]") {
  const char* out = std::getenv("HUSH_GOLDEN_DIR");
  REQUIRE(out != nullptr);
  const bool sealed = std::getenv("HUSH_GOLDEN_SEALED") != nullptr;
  const ByteView key = sealed ? ByteView(kGoldenKey) : ByteView();
  auto alice = Party::create("alice", 901, 3, StoreKind::kSqlite, key);
  auto bob = Party::create("bob", 902, 3, StoreKind::kSqlite, key);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "a" + std::to_string(i))));
    REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "b" + std::to_string(i))));
  }
  std::ofstream pending(std::string(out) + "/pending.txt");
  auto hold = [&](Party& from, Party& to, const std::string& text) {
    auto m = test::encrypt(from, to, text);
    pending << to.address.name << ' ' << (m.type() == MessageType::kPreKey ? "prekey" : "whisper")
            << ' ' << to_hex(m.serialized()) << ' ' << text << '\n';
  };
  hold(alice, bob, "held-a1");
  hold(alice, bob, "held-a2");
  hold(bob, alice, "held-b1");
  std::ofstream pending_group(std::string(out) + "/pending-group.txt");
  for (const bool legacy : {true, false}) {
    const SenderKeyGroup g = golden_group(legacy);
    for (auto [from, to] : {std::pair{&alice, &bob}, std::pair{&bob, &alice}}) {
      auto skdm = create_sender_key_distribution(*from->ctx, *from->store, from->address, g);
      REQUIRE(skdm);
      REQUIRE(process_sender_key_distribution(*to->store, from->address, g, *skdm));
      auto m = group_encrypt(*from->ctx, *from->store, from->address, g, as_bytes("group hello"));
      REQUIRE(m);
      REQUIRE(group_decrypt(*to->ctx, *to->store, from->address, g, *m));
    }
    auto held = group_encrypt(*alice.ctx, *alice.store, alice.address, g, as_bytes("group-held"));
    REQUIRE(held);
    pending_group << (legacy ? "legacy" : "current") << ' ' << to_hex(held->serialized())
                  << " group-held\n";
  }
  for (Party* p : {&alice, &bob}) {
    REQUIRE(dynamic_cast<SqliteStore&>(*p->store).put_app_data("golden/note", as_bytes(kNote)));
    for (const GoldenRecord& r : kGoldenRecords)
      REQUIRE(p->store->store_messenger_record(r.kind, r.key, as_bytes(r.value)));
    auto identity = p->store->identity_key_pair();
    REQUIRE(identity);
    for (const bool last_resort : {false, true}) {
      auto k = generate_kyber_pre_key(*p->ctx, *identity, KyberPreKeyId{last_resort ? 2u : 1u},
                                      last_resort);
      REQUIRE(k);
      REQUIRE(p->store->store_kyber_pre_key(*k));
    }
    REQUIRE(p->store->record_last_resort_use(KyberPreKeyId{2}, kGoldenSignedPreKeyId,
                                             kGoldenLastResortBaseKey));
  }
  alice.store.reset();
  bob.store.reset();
  for (Party* p : {&alice, &bob}) {
    for (const std::string suffix : {"", "-generation"})
      std::filesystem::copy_file(p->db_path() + suffix,
                                 std::string(out) + "/" + p->address.name + ".db" + suffix,
                                 std::filesystem::copy_options::overwrite_existing);
  }
}

TEST_CASE("databases of every earlier schema version open and carry on", "[integration][compat]") {
  const std::filesystem::path root = HUSH_COMPAT_DIR;
  int versions = 0;
  for (int v = 1; v <= SqliteStore::kSchemaVersion; ++v) {
    for (const bool sealed : {false, true}) {
      const auto dir = root / ("sqlite-v" + std::to_string(v) + (sealed ? "-sealed" : ""));
      if (!std::filesystem::exists(dir)) continue;
      if (!sealed) ++versions;
      DYNAMIC_SECTION("schema version " << v << (sealed ? " sealed" : "")) {
        test::TempDir tmp;
        for (const char* f : {"alice.db", "bob.db"})
          copy_fixture(dir, f, tmp);
        SqliteStoreOptions options;
        if (sealed) {
          // The wrong key, and no key, are refused before anything is migrated or read.
          const Bytes wrong(32, 0x43);
          options.storage_key = wrong;
          CHECK(SqliteStore::open(tmp.file("alice.db"), options).error().code() ==
                Errc::kWrongStorageKey);
          CHECK(SqliteStore::open(tmp.file("alice.db")).error().code() == Errc::kWrongStorageKey);
          options.storage_key = kGoldenKey;
        }
        test::SeededRandom random(903);
        test::FixedClock clock;
        Context ctx{random, clock, nullptr};
        auto alice = SqliteStore::open(tmp.file("alice.db"), options);
        auto bob = SqliteStore::open(tmp.file("bob.db"), options);
        REQUIRE(alice);
        REQUIRE(bob);
        CHECK_FALSE((*alice)->rollback_check().rolled_back);
        CHECK_FALSE((*bob)->rollback_check().rolled_back);
        const Address a{"alice", DeviceId{1}}, b{"bob", DeviceId{1}};
        // Identities are the person's now (version 3), and each side knows the other's.
        const IdentityKey alice_key = (*alice)->identity_key_pair()->public_key;
        const IdentityKey bob_key = (*bob)->identity_key_pair()->public_key;
        CHECK((*bob)->identity("alice")->value() == alice_key);
        CHECK((*alice)->identity("bob")->value() == bob_key);
        // The session bob accepted is in the store-wide record of base keys (filled in by the
        // migration for older versions), so its prekey messages cannot set it up again elsewhere.
        const auto base_key = responder_base_key(**bob, a);
        REQUIRE(base_key);
        CHECK(*(*bob)->has_accepted_base_key(*base_key));
        if (v >= 3)
          CHECK((*alice)->app_data("golden/note")->value() == Bytes(kNote.begin(), kNote.end()));
        // Everyone with a stored identity is listed (identities migrated from every version).
        for (SqliteStore* s : {alice->get(), bob->get()}) {
          auto people = s->identities();
          REQUIRE(people);
          REQUIRE(people->size() == 1);
          CHECK(people->front().first == (s == alice->get() ? "bob" : "alice"));
          CHECK(people->front().second == (s == alice->get() ? bob_key : alice_key));
        }
        // The Messenger's records: those a version-4 database holds; none before (the table is
        // made by the migration).
        for (SqliteStore* s : {alice->get(), bob->get()}) {
          for (const MessengerRecordKind kind :
               {MessengerRecordKind::kDeviceList, MessengerRecordKind::kOutbox,
                MessengerRecordKind::kSeenMessage, MessengerRecordKind::kHealing}) {
            std::vector<std::string> expected;
            if (v >= 4)
              for (const GoldenRecord& r : kGoldenRecords)
                if (r.kind == kind) expected.emplace_back(r.key);
            CHECK(*s->messenger_record_keys(kind) == expected);
          }
          if (v >= 4) {
            for (const GoldenRecord& r : kGoldenRecords) {
              auto value = s->load_messenger_record(r.kind, r.key);
              REQUIRE(value);
              REQUIRE(*value);
              CHECK(std::string((*value)->expose().begin(), (*value)->expose().end()) == r.value);
            }
          }
        }
        // Kyber prekeys (version 6): each side's one-time and last-resort key and the recorded
        // use; before version 6 none (the tables are made by the migration, ids start at 1).
        for (SqliteStore* s : {alice->get(), bob->get()}) {
          auto ids = s->kyber_pre_key_ids();
          REQUIRE(ids);
          const std::vector<KyberPreKeyId> expected =
              v >= 6 ? std::vector<KyberPreKeyId>{KyberPreKeyId{1}, KyberPreKeyId{2}}
                     : std::vector<KyberPreKeyId>{};
          CHECK(*ids == expected);
          CHECK(to_uint(*s->next_kyber_pre_key_id()) == (v >= 6 ? 3u : 1u));
          CHECK(*s->has_last_resort_use(KyberPreKeyId{2}, kGoldenSignedPreKeyId,
                                        kGoldenLastResortBaseKey) == (v >= 6));
          if (v >= 6) {
            auto k = s->load_kyber_pre_key(KyberPreKeyId{2});
            REQUIRE(k);
            REQUIRE(*k);
            CHECK((*k)->last_resort);
            CHECK(s->identity_key_pair()->public_key.verify_signature((*k)->public_key.serialize(),
                                                                      (*k)->signature));
          }
        }
        REQUIRE((*alice)->store_messenger_record(MessengerRecordKind::kOutbox, "after migration",
                                                 as_bytes("kept")));
        std::ifstream in(dir / "pending.txt");
        std::string line;
        int delivered = 0;
        while (std::getline(in, line)) {
          std::istringstream fields(line);
          std::string to, type, hex, text;
          fields >> to >> type >> hex >> text;
          auto body = from_hex(hex);
          REQUIRE(body);
          auto msg = CiphertextMessage::parse(
              type == "prekey" ? MessageType::kPreKey : MessageType::kWhisper, *body);
          REQUIRE(msg);
          auto& store = to == "bob" ? **bob : **alice;
          auto plain = decrypt_message(ctx, store, to == "bob" ? a : b, *msg);
          REQUIRE(plain);
          CHECK(std::string(plain->expose().begin(), plain->expose().end()) == text);
          ++delivered;
        }
        CHECK(delivered == 3);
        // Sender keys (version 5): the held group messages arrive, and both sides go on in both
        // groups; before version 5 there are none.
        for (const bool legacy : {true, false}) {
          const SenderKeyGroup g = golden_group(legacy);
          for (auto [s, owner] : {std::pair{bob->get(), a}, std::pair{alice->get(), b}}) {
            auto r = s->load_sender_key(owner, g);
            REQUIRE(r);
            CHECK(r->has_value() == (v >= 5));
          }
        }
        if (v >= 5) {
          std::ifstream group_in(dir / "pending-group.txt");
          int group_delivered = 0;
          while (std::getline(group_in, line)) {
            std::istringstream fields(line);
            std::string format, hex, text;
            fields >> format >> hex >> text;
            const SenderKeyGroup g = golden_group(format == "legacy");
            auto body = from_hex(hex);
            REQUIRE(body);
            auto msg = SenderKeyMessage::parse(g.format(), *body);
            REQUIRE(msg);
            auto plain = group_decrypt(ctx, **bob, a, g, *msg);
            REQUIRE(plain);
            CHECK(std::string(plain->expose().begin(), plain->expose().end()) == text);
            CHECK(group_decrypt(ctx, **bob, a, g, *msg).error().code() == Errc::kDuplicateMessage);
            ++group_delivered;
            for (auto [from, to, from_addr] : {std::tuple{alice->get(), bob->get(), a},
                                               std::tuple{bob->get(), alice->get(), b}}) {
              auto m = group_encrypt(ctx, *from, from_addr, g, as_bytes("group after migration"));
              REQUIRE(m);
              REQUIRE(group_decrypt(ctx, *to, from_addr, g, *m));
            }
          }
          CHECK(group_delivered == 2);
        }
        // The conversation goes on in both directions.
        for (int i = 0; i < 3; ++i) {
          auto m = encrypt_message(ctx, **alice, b, as_bytes("after migration"));
          REQUIRE(m);
          REQUIRE(decrypt_message(ctx, **bob, a, *m));
          auto r = encrypt_message(ctx, **bob, a, as_bytes("reply"));
          REQUIRE(r);
          REQUIRE(decrypt_message(ctx, **alice, b, *r));
        }
        // Reopening a migrated database needs no further migration, and keeps what it holds.
        alice->reset();
        auto again = SqliteStore::open(tmp.file("alice.db"), options);
        REQUIRE(again);
        auto kept =
            (*again)->load_messenger_record(MessengerRecordKind::kOutbox, "after migration");
        REQUIRE(kept);
        REQUIRE(*kept);
        CHECK(std::string((*kept)->expose().begin(), (*kept)->expose().end()) == "kept");
        // The export (every row read and opened) works on every migrated database.
        REQUIRE((*again)->export_snapshot());
      }
    }
  }
  CHECK(versions == SqliteStore::kSchemaVersion);  // one fixture per version, current included
}

TEST_CASE("a version-2 database with two identities for one name keeps the lowest device's",
          "[integration][compat]") {
  // Version 2 pinned identities per (name, device), so a device id it had never seen got a key on
  // first use: the hole identities per person close. The migration keeps, per name, the identity
  // of the lowest device; a session made with another one then meets an identity change.
  test::TempDir tmp;
  const std::filesystem::path dir = std::filesystem::path(HUSH_COMPAT_DIR) / "sqlite-v2";
  copy_fixture(dir, "bob.db", tmp);
  const std::string mallory(64, 'e');
  test::run_sql(tmp.file("bob.db"),
                "INSERT INTO identities (name, device_id, identity_key) VALUES "
                "(CAST('alice' AS BLOB), 2, x'" +
                    mallory +
                    "'), "
                    "(CAST('alice' AS BLOB), 0, x'" +
                    mallory + "')");
  // Device 0 is lower than 1: the lowest device id wins, whatever its key.
  auto bob = SqliteStore::open(tmp.file("bob.db"));
  REQUIRE(bob);
  CHECK(to_hex((*bob)->identity("alice")->value().u()) == mallory);
  // Alice's session (device 1) was made with her real key, which is no longer alice's: refused.
  test::SeededRandom random(904);
  test::FixedClock clock;
  Context ctx{random, clock, nullptr};
  auto m = encrypt_message(ctx, **bob, Address{"alice", DeviceId{1}}, as_bytes("x"));
  REQUIRE_FALSE(m);
  CHECK(m.error().code() == Errc::kUntrustedIdentity);

  // Without the conflicting rows, alice's one key is kept.
  test::TempDir tmp2;
  copy_fixture(dir, "bob.db", tmp2);
  test::run_sql(tmp2.file("bob.db"),
                "INSERT INTO identities (name, device_id, identity_key) VALUES "
                "(CAST('carol' AS BLOB), 3, x'" +
                    mallory +
                    "'), "
                    "(CAST('carol' AS BLOB), 5, x'" +
                    std::string(64, 'd') + "')");
  auto bob2 = SqliteStore::open(tmp2.file("bob.db"));
  REQUIRE(bob2);
  CHECK(to_hex((*bob2)->identity("carol")->value().u()) == mallory);
  REQUIRE(encrypt_message(ctx, **bob2, Address{"alice", DeviceId{1}}, as_bytes("x")));
}

TEST_CASE("a database without its generation counter is taken for a restored copy",
          "[integration][compat]") {
  // The version-3 fixture has encrypted (its generation is above 0): opened without its counter
  // (a copy moved elsewhere, a restore that lost the counter), every session is restarted, so no
  // chain of the copy is used to encrypt again.
  const auto dir = std::filesystem::path(HUSH_COMPAT_DIR) / "sqlite-v3";
  test::TempDir tmp;
  for (const char* f : {"alice.db", "bob.db"})
    copy_fixture(dir, f, tmp, /*with_counter=*/std::string_view(f) == "bob.db");
  auto alice = SqliteStore::open(tmp.file("alice.db"));
  REQUIRE(alice);
  const RollbackCheck& check = (*alice)->rollback_check();
  CHECK(check.rolled_back);
  CHECK(check.database_generation > 0);
  CHECK_FALSE(check.counter_generation);
  CHECK(check.sessions_restarted == 1);
  test::SeededRandom random(905);
  test::FixedClock clock;
  Context ctx{random, clock, nullptr};
  const Address b{"bob", DeviceId{1}};
  auto m = encrypt_message(ctx, **alice, b, as_bytes("from the copy"));
  REQUIRE_FALSE(m);
  CHECK(m.error().code() == Errc::kNoSession);
  // Late messages still decrypt on the restarted (closed) state.
  std::ifstream in(dir / "pending.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string to, type, hex, text;
    fields >> to >> type >> hex >> text;
    if (to != "alice") continue;
    auto msg = CiphertextMessage::parse(
        type == "prekey" ? MessageType::kPreKey : MessageType::kWhisper, *from_hex(hex));
    REQUIRE(msg);
    auto plain = decrypt_message(ctx, **alice, b, *msg);
    REQUIRE(plain);
  }
  // The counter is in step again: a second open finds nothing wrong.
  alice->reset();
  auto again = SqliteStore::open(tmp.file("alice.db"));
  REQUIRE(again);
  CHECK_FALSE((*again)->rollback_check().rolled_back);
  auto bob = SqliteStore::open(tmp.file("bob.db"));
  REQUIRE(bob);
  CHECK_FALSE((*bob)->rollback_check().rolled_back);
}

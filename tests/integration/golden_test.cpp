// hush integration tests: databases written by earlier versions of SqliteStore still open (after
// migration) and carry on the conversation they hold.
//
// tests/compat/sqlite-v<N>/ holds, for every schema version N (the current one included), two
// databases (alice.db, bob.db) written by the hush of that version, and messages each side had sent
// but the other had not yet received (pending.txt: "<to> <type> <hex>" per line). The hidden test
// case below wrote them; run it with HUSH_GOLDEN_DIR set once, when a new schema version is
// introduced, and never regenerate an old version's fixtures.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

using namespace hush;
using hush::test::Party;
using hush::test::StoreKind;

namespace {
const Bytes kGoldenKey(32, 0x42);
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
  alice.store.reset();
  bob.store.reset();
  std::filesystem::copy_file(alice.db_path(), std::string(out) + "/alice.db",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(bob.db_path(), std::string(out) + "/bob.db",
                             std::filesystem::copy_options::overwrite_existing);
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
          std::filesystem::copy_file(dir / f, tmp.file(f));
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
        const Address a{"alice", DeviceId{1}}, b{"bob", DeviceId{1}};
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
        // The conversation goes on in both directions.
        for (int i = 0; i < 3; ++i) {
          auto m = encrypt_message(ctx, **alice, b, as_bytes("after migration"));
          REQUIRE(m);
          REQUIRE(decrypt_message(ctx, **bob, a, *m));
          auto r = encrypt_message(ctx, **bob, a, as_bytes("reply"));
          REQUIRE(r);
          REQUIRE(decrypt_message(ctx, **alice, b, *r));
        }
        // Reopening a migrated database needs no further migration.
        alice->reset();
        REQUIRE(SqliteStore::open(tmp.file("alice.db"), options));
      }
    }
  }
  CHECK(versions == SqliteStore::kSchemaVersion);  // one fixture per version, current included
}

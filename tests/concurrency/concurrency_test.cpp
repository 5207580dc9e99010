// hush concurrency tests (also run under ThreadSanitizer): operations on different peers in
// parallel threads on one store; operations on the same peer from many threads at once (the
// store's transactions serialise them: no message key is ever used twice); several processes
// sharing one SqliteStore database file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "crypto/hash.h"
#include "support/memory_io.h"
#include "support/test_support.h"

extern char** environ;

using namespace hush;
using hush::test::Party;
using hush::test::StoreKind;

namespace {

const char* kind_name(StoreKind k) {
  return k == StoreKind::kSqlite ? "sqlite" : "in-memory";
}

// (ratchet key, counter) of a message: what must never repeat for one sender.
std::pair<std::string, std::uint32_t> key_use(const CiphertextMessage& m) {
  const SignalMessage& s = m.prekey_message() ? m.prekey_message()->message() : *m.signal_message();
  return {to_hex(s.ratchet_key().serialize()), s.counter()};
}

}  // namespace

TEST_CASE("different peers in parallel threads on one store", "[concurrency]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    constexpr int kPeers = 6, kRounds = 25;
    auto bob = Party::create("bob", 601, kPeers, kind);
    std::vector<Party> peers;
    for (int i = 0; i < kPeers; ++i)
      peers.push_back(Party::create("peer" + std::to_string(i), 610 + static_cast<std::uint64_t>(i),
                                    0, StoreKind::kInMemory));
    // Bundles are made up front; each thread then owns one conversation with the shared bob.
    std::vector<PreKeyBundle> bundles;
    for (int i = 0; i < kPeers; ++i)
      bundles.push_back(bob.bundle(PreKeyId{static_cast<std::uint32_t>(i + 1)}));
    // Every thread needs its own randomness and context for bob (RandomSource need only be
    // thread-safe; the seeded test one is not).
    std::vector<std::unique_ptr<test::SeededRandom>> randoms;
    std::vector<std::unique_ptr<Context>> contexts;
    for (int i = 0; i < kPeers; ++i) {
      randoms.push_back(std::make_unique<test::SeededRandom>(700 + static_cast<std::uint64_t>(i)));
      contexts.push_back(std::make_unique<Context>(Context{*randoms.back(), *bob.clock, nullptr}));
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kPeers; ++i) {
      threads.emplace_back([&, i] {
        Party& p = peers[static_cast<std::size_t>(i)];
        if (!process_prekey_bundle(*p.ctx, *p.store, bob.address,
                                   bundles[static_cast<std::size_t>(i)])) {
          ++failures;
          return;
        }
        for (int r = 0; r < kRounds; ++r) {
          const std::string text = p.address.name + " " + std::to_string(r);
          auto m = encrypt_message(*p.ctx, *p.store, bob.address, as_bytes(text));
          if (!m) {
            ++failures;
            return;
          }
          auto got =
              decrypt_message(*contexts[static_cast<std::size_t>(i)], *bob.store, p.address, *m);
          if (!got || std::string(got->expose().begin(), got->expose().end()) != text) {
            ++failures;
            return;
          }
          auto reply = encrypt_message(*contexts[static_cast<std::size_t>(i)], *bob.store,
                                       p.address, as_bytes(text));
          if (!reply) {
            ++failures;
            return;
          }
          auto back = decrypt_message(*p.ctx, *p.store, bob.address, *reply);
          if (!back) {
            ++failures;
            return;
          }
        }
      });
    }
    for (auto& t : threads)
      t.join();
    CHECK(failures == 0);
    CHECK(bob.store->pre_key_ids()->empty());  // each thread's one-time prekey was consumed once
    for (auto& p : peers)
      CHECK(session_info(*bob.store, p.address)->exists);
  }
}

TEST_CASE("the same peer from many threads: no message key is used twice", "[concurrency]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    constexpr int kThreads = 6, kEach = 30;
    auto alice = Party::create("alice", 620, 0, kind);
    auto bob = Party::create("bob", 621, 2, StoreKind::kInMemory);
    REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
    REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "start")));
    REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "ack")));

    std::mutex mu;
    std::vector<CiphertextMessage> sent;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    const Context shared{system_random(), *alice.clock, nullptr};  // system_random is thread-safe
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto m = encrypt_message(shared, *alice.store, bob.address,
                                   as_bytes("t" + std::to_string(t) + "." + std::to_string(i)));
          if (!m) {
            ++failures;
            continue;
          }
          std::lock_guard lock(mu);
          sent.push_back(std::move(*m));
        }
      });
    }
    // Meanwhile bob keeps answering, so alice also decrypts (and ratchets) on other threads.
    std::thread answering([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = encrypt_message(*bob.ctx, *bob.store, alice.address, as_bytes("answer"));
        if (!r || !decrypt_message(shared, *alice.store, bob.address, *r)) ++failures;
      }
    });
    for (auto& t : threads)
      t.join();
    answering.join();
    REQUIRE(failures == 0);
    REQUIRE(sent.size() == static_cast<std::size_t>(kThreads * kEach));
    std::set<std::pair<std::string, std::uint32_t>> uses;
    for (const auto& m : sent)
      CHECK(uses.insert(key_use(m)).second);
    // Every message decrypts at bob, in the order bob happens to receive them.
    std::size_t ok = 0;
    for (const auto& m : sent)
      ok += test::decrypt(bob, alice, m) ? 1u : 0u;
    CHECK(ok == sent.size());
  }
}

TEST_CASE("several processes share one database file", "[concurrency][sqlite]") {
  constexpr int kWorkers = 4, kEach = 15;
  auto alice = Party::create("alice", 630, 0, StoreKind::kSqlite);
  auto bob = Party::create("bob", 631, 2, StoreKind::kInMemory);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "start")));
  REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "ack")));
  const std::string db = alice.db_path();
  alice.store.reset();  // the workers are the only users now

  // Workers encrypt to bob at the same time, each in its own process.
  std::vector<pid_t> pids;
  std::vector<std::string> outputs;
  for (int w = 0; w < kWorkers; ++w) {
    outputs.push_back(alice.dir->file("worker" + std::to_string(w) + ".out"));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, outputs.back().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const std::string n = std::to_string(kEach), text = "from worker " + std::to_string(w);
    std::vector<std::string> args = {HUSH_STORE_WORKER, "encrypt", db, "bob", n, text};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, HUSH_STORE_WORKER, &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  std::set<std::pair<std::string, std::uint32_t>> uses;
  std::map<std::string, int> texts;
  std::vector<CiphertextMessage> all;
  for (const auto& out : outputs) {
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      int type = 0;
      std::string hex;
      f >> type >> hex;
      auto m = CiphertextMessage::parse(static_cast<MessageType>(type), *from_hex(hex));
      REQUIRE(m);
      CHECK(uses.insert(key_use(*m)).second);
      all.push_back(std::move(*m));
    }
  }
  REQUIRE(all.size() == static_cast<std::size_t>(kWorkers * kEach));
  for (const auto& m : all) {
    auto p = test::decrypt(bob, alice, m);
    REQUIRE(p);
    ++texts[*p];
  }
  for (int w = 0; w < kWorkers; ++w)
    CHECK(texts["from worker " + std::to_string(w)] == kEach);
  // The database is still whole and usable.
  alice.reopen();
  REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "still there")));
}

// Attachment encryption hashes the blob on a second thread from 1 MiB on (attachment.cpp): run
// here too so that the ThreadSanitizer build checks the hand-over, with two encryptions at once,
// and a source that fails half way (the hashing thread is stopped with segments still queued).
TEST_CASE("attachment encryption hashes on a second thread and the digest is the blob's",
          "[concurrency][attachment]") {
  constexpr std::size_t kSize = (std::size_t{3} << 20) + 12345;
  hush::Bytes data(kSize);
  for (std::size_t i = 0; i < kSize; ++i)
    data[i] = static_cast<std::uint8_t>(i * 7 + (i >> 10));
  auto encrypt_one = [&](std::uint64_t seed, hush::test::VectorSink& sink) {
    hush::test::SeededRandom random{seed};
    hush::test::FixedClock clock;
    hush::Context ctx{random, clock, nullptr};
    hush::test::MemorySource src(data, 70000);
    return hush::encrypt_attachment(ctx, src, kSize, sink);
  };
  hush::test::VectorSink a, b;
  std::optional<hush::Result<hush::EncryptedAttachment>> ra, rb;
  std::thread other([&] { rb.emplace(encrypt_one(2, b)); });
  ra.emplace(encrypt_one(1, a));
  other.join();
  for (const auto& pair : {std::make_pair(&*ra, &a), std::make_pair(&*rb, &b)}) {
    REQUIRE(*pair.first);
    CHECK((**pair.first).digest == hush::internal::crypto::sha256(pair.second->bytes));
    hush::test::MemorySource blob(pair.second->bytes);
    hush::test::VectorSink plain;
    REQUIRE(hush::decrypt_attachment((**pair.first).key, kSize, blob, plain));
    CHECK(plain.bytes == data);
  }

  // A source that fails after 2 MiB.
  class Failing final : public hush::ByteSource {
   public:
    hush::Result<std::size_t> read(std::span<std::uint8_t> out) override {
      if (given_ >= (std::size_t{2} << 20))
        return hush::Error(hush::Errc::kStoreFailure, "test: source failed");
      const std::size_t n = std::min<std::size_t>(out.size(), 4096);
      std::fill_n(out.begin(), n, std::uint8_t{0x5a});
      given_ += n;
      return n;
    }

   private:
    std::size_t given_ = 0;
  } failing;
  hush::test::SeededRandom random{3};
  hush::test::FixedClock clock;
  hush::Context ctx{random, clock, nullptr};
  hush::test::VectorSink sink;
  auto r = hush::encrypt_attachment(ctx, failing, kSize, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == hush::Errc::kStoreFailure);
}

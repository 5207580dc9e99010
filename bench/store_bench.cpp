// hush benchmarks: SqliteStore at scale and durable throughput (issue 3's figures).
//
//   store/load_session, store/store_session   with 100,000 sessions in one database: one random
//                                             session loaded (or stored, one durable transaction)
//   store/database_bytes_per_session          reported as a counter
//   messages/{sqlite,memory}                  encrypt + decrypt of a 64-byte message between two
//                                             parties, each operation one (durable) transaction
//
// Run: build/bench/hush_store_bench (see bench/README.md for recorded figures).
#include <benchmark/benchmark.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <hush/hush.h>

#include "bench_util.h"

namespace {

constexpr int kSessions = 100000;

struct Device {
  std::unique_ptr<hush::ProtocolStore> store;
  hush::Address address;
};

std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "hush-bench-XXXXXX").string();
  if (mkdtemp(t.data()) == nullptr) std::abort();
  return t;
}

using hush_bench::must;

Device make_device(const hush::Context& ctx, const std::string& name, const std::string& db) {
  auto id = must(hush::generate_identity_key_pair(ctx.random));
  auto reg = must(hush::generate_registration_id(ctx.random));
  auto spk = must(hush::generate_signed_pre_key(ctx, id, hush::SignedPreKeyId{1}));
  Device d;
  d.address = hush::Address{name, hush::DeviceId{1}};
  if (db.empty())
    d.store = std::make_unique<hush::InMemoryProtocolStore>(std::move(id), reg);
  else
    d.store = must(hush::SqliteStore::create(db, std::move(id), reg));
  must(d.store->store_signed_pre_key(spk));
  return d;
}

// A database with 100,000 sessions, each a real session record (cloned from one conversation).
struct Crowd {
  std::string dir;
  std::unique_ptr<hush::SqliteStore> store;
  std::int64_t bytes = 0;
  std::size_t record_bytes = 0;

  Crowd() {
    const hush::Context ctx = hush::default_context();
    dir = temp_dir();
    Device me = make_device(ctx, "me", dir + "/crowd.db");
    Device peer = make_device(ctx, "peer", "");
    must(hush::process_prekey_bundle(
        ctx, *peer.store, me.address,
        must(hush::make_bundle(*me.store, hush::DeviceId{1}, hush::SignedPreKeyId{1},
                               std::nullopt))));
    for (int i = 0; i < 10; ++i) {
      auto m = must(hush::encrypt_message(ctx, *peer.store, me.address, hush::as_bytes("hello")));
      must(hush::decrypt_message(ctx, *me.store, peer.address, m));
      auto r = must(hush::encrypt_message(ctx, *me.store, peer.address, hush::as_bytes("hi")));
      must(hush::decrypt_message(ctx, *peer.store, me.address, r));
    }
    const hush::SessionRecord record = std::move(*must(me.store->load_session(peer.address)));
    record_bytes = record.serialize().size();
    must(me.store->run_transaction([&]() -> hush::Status {
      for (int i = 0; i < kSessions; ++i)
        if (auto s = me.store->store_session(
                hush::Address{"user" + std::to_string(i), hush::DeviceId{1}}, record.clone());
            !s)
          return s;
      return hush::ok_status();
    }));
    me.store.reset();
    struct stat st {};
    ::stat((dir + "/crowd.db").c_str(), &st);
    bytes = st.st_size;
    store = must(hush::SqliteStore::open(dir + "/crowd.db"));
  }
  ~Crowd() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

Crowd& crowd() {
  static Crowd c;
  return c;
}

void BM_LoadSession(benchmark::State& state) {
  Crowd& c = crowd();
  std::mt19937 rng(1);
  for (auto _ : state) {
    const hush::Address a{"user" + std::to_string(rng() % kSessions), hush::DeviceId{1}};
    auto r = c.store->load_session(a);
    benchmark::DoNotOptimize(r);
  }
  state.counters["sessions"] = kSessions;
  state.counters["db_bytes_per_session"] = static_cast<double>(c.bytes) / kSessions;
  state.counters["record_bytes"] = static_cast<double>(c.record_bytes);
}
BENCHMARK(BM_LoadSession)->Name("store/load_session")->Unit(benchmark::kMicrosecond);

void BM_StoreSession(benchmark::State& state) {
  Crowd& c = crowd();
  std::mt19937 rng(2);
  const hush::SessionRecord record =
      std::move(*must(c.store->load_session(hush::Address{"user0", hush::DeviceId{1}})));
  for (auto _ : state) {
    const hush::Address a{"user" + std::to_string(rng() % kSessions), hush::DeviceId{1}};
    must(c.store->run_transaction([&] { return c.store->store_session(a, record.clone()); }));
  }
  state.counters["sessions"] = kSessions;
}
BENCHMARK(BM_StoreSession)
    ->Name("store/store_session_durable")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void run_messages(benchmark::State& state, bool sqlite) {
  const hush::Context ctx = hush::default_context();
  const std::string dir = sqlite ? temp_dir() : std::string();
  Device alice = make_device(ctx, "alice", sqlite ? dir + "/alice.db" : "");
  Device bob = make_device(ctx, "bob", sqlite ? dir + "/bob.db" : "");
  must(hush::process_prekey_bundle(ctx, *alice.store, bob.address,
                                   must(hush::make_bundle(*bob.store, hush::DeviceId{1},
                                                          hush::SignedPreKeyId{1}, std::nullopt))));
  const std::string text(64, 'x');
  must(hush::decrypt_message(
      ctx, *bob.store, alice.address,
      must(hush::encrypt_message(ctx, *alice.store, bob.address, hush::as_bytes(text)))));
  for (auto _ : state) {
    auto m = must(hush::encrypt_message(ctx, *alice.store, bob.address, hush::as_bytes(text)));
    auto p = must(hush::decrypt_message(ctx, *bob.store, alice.address, m));
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());  // messages (each encrypted and decrypted)
  alice.store.reset();
  bob.store.reset();
  if (sqlite) std::filesystem::remove_all(dir);
}

void BM_MessagesSqlite(benchmark::State& state) {
  run_messages(state, true);
}
void BM_MessagesMemory(benchmark::State& state) {
  run_messages(state, false);
}
BENCHMARK(BM_MessagesSqlite)
    ->Name("messages/sqlite_durable")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_MessagesMemory)
    ->Name("messages/in_memory")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

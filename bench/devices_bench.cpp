// hush benchmarks: people with several devices through the Messenger (issue 10, "Speed").
//
//   send/<store>/bob:B/alice:A       Messenger::send of a 64-byte message from alice's device 1
//                                    (A devices) to bob (B devices): B encryptions, and A - 1
//                                    copies for alice's other devices. Steady state: every
//                                    session set up and answered, the envelopes dropped by the
//                                    transport (no device decrypts), the outbox pruned every 256
//                                    sends (untimed: the clock jumps past the resend window and
//                                    flush() drops what every device got). items/s = devices.
//   send_outbox_full/<store>/bob:B   the same with the outbox at kMaxOutboxMessages, never pruned
//                                    (what a device that sent 1000 messages in the last week lives
//                                    with): every send drops the oldest message to make room
//   encrypt_message/<store>          one encrypt_message from alice to one of bob's devices (the
//                                    Content's size, 93 bytes), on the same kind of store: the
//                                    per-message cost send's per-device cost is compared with
//   encrypt_messages/<store>/bob:B   one encrypt_messages batch to bob's B devices (what send
//                                    calls once per message)
//   receive/<store>                  Messenger::receive at bob's device 1 of alice's next
//                                    envelope, in order (the message ids it has shown forgotten
//                                    every 256, untimed: its clock passes the window)
//   receive_seen_full/memory         the same with kMaxSeenMessageIds ids shown inside the window
//                                    (what a device that received 50,000 messages in the last week
//                                    lives with): every receive forgets the oldest
//   decrypt_message/<store>          decrypt_message of alice's next message (93 bytes)
//   link/<store>/contacts:C          the whole flow for one new device of bob's, whose device 1
//                                    (on <store>) trusts C people: LinkRequest::create,
//                                    link_device (signs and publishes bob's new list, seals the
//                                    link message), LinkRequest::open, the new device's
//                                    InMemoryProtocolStore, import_link, Messenger::maintain_keys
//                                    (a signed prekey and 100 one-time prekeys, published).
//                                    Counters: each part's wall time per link, in µs. Untimed
//                                    after each: the device is unlinked again.
//
// <store> is `memory` (InMemoryProtocolStore) or `sqlite` (SqliteStore in a temp dir, every
// transaction durable). Only alice's and bob's device 1 use <store>; linked devices are in memory.
// The directory and transport are the benchmark's own, in process (no parsing, no copies beyond
// what a server hands out). At the end a summary prints the ratios bench/README.md records, from
// the best (lowest) wall and CPU time per iteration over repetitions.
//
// For instruction counts, the timed operations are out-of-line functions (send_once,
// encrypt_once, ...) that callgrind's --toggle-collect can single out, and HUSH_BENCH_ITERATIONS=n
// runs every benchmark exactly n iterations (bench/callgrind_devices.sh; bench/README.md).
//
// Run: build-bench/bench/hush_devices_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <hush/hush.h>

#include "bench_util.h"

namespace {

using hush_bench::must;

constexpr std::size_t kBodyBytes = 64;
// A 64-byte body's Content: format, 16-byte id, time, body, with their tags and lengths.
constexpr std::size_t kContentBytes = 93;
// Untimed upkeep every this many timed operations (outbox, seen ids, envelope queues).
constexpr std::int64_t kUpkeepEvery = 256;
// How far a clock jumps for flush() to forget what every device got (the outbox) or what was
// shown (seen message ids).
constexpr std::uint64_t kPastTheWindowMs = hush::kResendWindowMs + 3600 * 1000;

void fail(const char* what) {
  std::fprintf(stderr, "bench: %s\n", what);
  std::abort();
}

// ---- the in-process server ----

// A clock the benchmark moves: it jumps past the resend window to let flush() prune.
class BenchClock final : public hush::Clock {
 public:
  std::uint64_t now_ms() override { return now_; }
  void advance(std::uint64_t ms) { now_ += ms; }

 private:
  std::uint64_t now_ = hush::system_clock().now_ms();
};

// The key directory and the transport of every device. The transport either queues envelopes per
// recipient (set-up, receive) or counts and drops them (steady-state sends).
class Server final : public hush::KeyDirectory {
 public:
  class Port final : public hush::Transport {
   public:
    explicit Port(Server& server) : server_(server) {}
    hush::Status send(const hush::Address& recipient, hush::ByteView envelope) override {
      ++server_.envelopes;
      server_.envelope_bytes += envelope.size();
      if (server_.keep) server_.queues[recipient].emplace_back(envelope.begin(), envelope.end());
      return hush::ok_status();
    }

   private:
    Server& server_;
  };

  hush::Status publish(const hush::Address& self, const hush::PublishedKeys& keys) override {
    Entry& e = keys_[self];
    if (!(e.keys.identity_key == keys.identity_key)) {
      e.pre_keys.clear();
      e.kyber_pre_keys.clear();
    }
    for (const auto& k : keys.kyber_pre_keys)
      e.kyber_pre_keys.push_back(k);  // the bench never publishes an id twice
    for (const auto& k : keys.pre_keys) {
      auto same = std::find_if(e.pre_keys.begin(), e.pre_keys.end(),
                               [&](const auto& held) { return held.first == k.first; });
      if (same != e.pre_keys.end())
        *same = k;
      else
        e.pre_keys.push_back(k);
    }
    auto last_resort = keys.last_resort_kyber_pre_key ? keys.last_resort_kyber_pre_key
                                                      : e.keys.last_resort_kyber_pre_key;
    e.keys = keys;
    e.keys.pre_keys.clear();
    e.keys.kyber_pre_keys.clear();
    e.keys.last_resort_kyber_pre_key = std::move(last_resort);
    return hush::ok_status();
  }
  hush::Result<hush::AvailablePreKeys> available_pre_keys(const hush::Address& self) override {
    auto it = keys_.find(self);
    if (it == keys_.end()) return hush::AvailablePreKeys{};
    return hush::AvailablePreKeys{static_cast<std::uint32_t>(it->second.pre_keys.size()),
                                  static_cast<std::uint32_t>(it->second.kyber_pre_keys.size())};
  }
  hush::Result<hush::PreKeyBundle> fetch(const hush::Address& remote) override {
    auto it = keys_.find(remote);
    if (it == keys_.end()) return hush::Error(hush::Errc::kNoSession, "bench: unknown device");
    std::optional<std::pair<hush::PreKeyId, hush::PublicKey>> one_time;
    if (!it->second.pre_keys.empty()) {
      one_time = it->second.pre_keys.front();
      it->second.pre_keys.pop_front();
    }
    // Version 4, as between hush users: a one-time Kyber prekey while any is left, else the
    // last-resort one.
    auto kyber = it->second.keys.last_resort_kyber_pre_key;
    if (!it->second.kyber_pre_keys.empty()) {
      kyber = it->second.kyber_pre_keys.front();
      it->second.kyber_pre_keys.pop_front();
    }
    return it->second.keys.bundle(one_time, kyber);
  }
  hush::Status publish_device_list(std::string_view name, hush::ByteView signed_list) override {
    lists_.insert_or_assign(std::string(name), hush::Bytes(signed_list.begin(), signed_list.end()));
    return hush::ok_status();
  }
  hush::Result<std::optional<hush::Bytes>> fetch_device_list(std::string_view name) override {
    auto it = lists_.find(name);
    if (it == lists_.end()) return std::optional<hush::Bytes>();
    return std::optional<hush::Bytes>(it->second);
  }

  /// Forgets a device's published keys (an unlinked device).
  void forget(const hush::Address& device) { keys_.erase(device); }

  bool keep = true;
  std::map<hush::Address, std::deque<hush::Bytes>> queues;
  std::uint64_t envelopes = 0;
  std::uint64_t envelope_bytes = 0;

 private:
  struct Entry {
    hush::PublishedKeys keys;
    std::deque<std::pair<hush::PreKeyId, hush::PublicKey>> pre_keys;
    std::deque<hush::SignedKyberPreKey> kyber_pre_keys;
  };
  std::map<hush::Address, Entry> keys_;
  std::map<std::string, hush::Bytes, std::less<>> lists_;
};

// ---- people and devices ----

enum class Kind { kMemory, kSqlite };

const char* kind_name(Kind k) {
  return k == Kind::kMemory ? "memory" : "sqlite";
}

std::string temp_dir() {
  std::string t = (std::filesystem::temp_directory_path() / "hush-devices-XXXXXX").string();
  if (mkdtemp(t.data()) == nullptr) fail("mkdtemp");
  return t;
}

// One device: its own clock (so that one device's clock can pass the resend window while
// another's stays), store, transport and Messenger.
struct Device {
  BenchClock clock;
  hush::Context ctx{hush::system_random(), clock, nullptr};
  std::unique_ptr<hush::ProtocolStore> store;
  std::unique_ptr<Server::Port> port;
  std::unique_ptr<hush::Messenger> messenger;
  hush::Address address;
};

// The devices of both people, on one server.
struct World {
  BenchClock clock;  // for what no device does (a new device's link flow)
  hush::Context ctx{hush::system_random(), clock, nullptr};
  Server server;
  std::string dir;  // for SQLite databases; removed with the world
  std::vector<std::unique_ptr<Device>> devices;

  World() = default;
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() {
    devices.clear();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  std::unique_ptr<hush::ProtocolStore> make_store(Kind kind, const hush::Address& a,
                                                  hush::IdentityKeyPair identity) {
    const std::uint32_t reg = must(hush::generate_registration_id(ctx.random));
    if (kind == Kind::kMemory)
      return std::make_unique<hush::InMemoryProtocolStore>(std::move(identity), reg);
    if (dir.empty()) dir = temp_dir();
    const std::string path =
        dir + "/" + a.name + "-" + std::to_string(hush::to_uint(a.device_id)) + ".db";
    return must(hush::SqliteStore::create(path, std::move(identity), reg));
  }

  Device& add(std::unique_ptr<hush::ProtocolStore> store, hush::Address a) {
    auto d = std::make_unique<Device>();
    d->store = std::move(store);
    d->port = std::make_unique<Server::Port>(server);
    d->address = std::move(a);
    d->messenger =
        std::make_unique<hush::Messenger>(d->ctx, *d->store, *d->port, server, d->address);
    devices.push_back(std::move(d));
    return *devices.back();
  }

  // Device 1 of a new person, its keys and first device list published.
  Device& person(const std::string& name, Kind kind) {
    const hush::Address a{name, hush::DeviceId{1}};
    Device& d = add(make_store(kind, a, must(hush::generate_identity_key_pair(ctx.random))), a);
    must(d.messenger->maintain_keys());
    return d;
  }

  // A new device of `existing`'s person, through the whole link flow (in memory).
  Device& link(Device& existing) {
    auto request = must(hush::LinkRequest::create(ctx.random));
    auto linked = must(existing.messenger->link_device(request.code()));
    auto contents = must(request.open(linked.message));
    const hush::Address a{contents.name, contents.device_id};
    Device& d = add(make_store(Kind::kMemory, a, contents.identity.clone()), a);
    must(hush::import_link(*d.store, contents));
    must(d.messenger->maintain_keys());
    return d;
  }

  // Every device receives what is queued for it, until nothing is.
  void drain() {
    for (bool more = true; more;) {
      more = false;
      for (auto& d : devices) {
        auto& q = server.queues[d->address];
        while (!q.empty()) {
          more = true;
          hush::Bytes e = std::move(q.front());
          q.pop_front();
          (void)must(d->messenger->receive(e));
        }
      }
    }
  }
};

// alice (A devices) and bob (B devices) in a conversation every device took part in: alice's
// device 1 sent to bob, then every other device of both sent one message, and every device
// received everything; so every session from alice's device 1 is set up and answered.
struct Conversation {
  World world;
  Device* alice = nullptr;  // alice's device 1
  Device* bob = nullptr;    // bob's device 1
  std::vector<hush::Address> bob_devices;
  std::string body = std::string(kBodyBytes, 'x');

  Conversation(Kind kind, int bob_count, int alice_count) {
    alice = &world.person("alice", kind);
    bob = &world.person("bob", kind);
    for (int i = 1; i < alice_count; ++i)
      world.link(*alice);
    for (int i = 1; i < bob_count; ++i)
      world.link(*bob);
    for (auto& d : world.devices)
      if (d->address.name == "bob") bob_devices.push_back(d->address);
    must(alice->messenger->send("bob", hush::as_bytes("hello")));
    world.drain();
    for (auto& d : world.devices) {
      if (d.get() == alice) continue;
      must(d->messenger->send(d->address.name == "bob" ? "alice" : "bob", hush::as_bytes("hi")));
    }
    world.drain();
    // Checks that the set-up did what the benchmark relies on.
    const auto r = must(alice->messenger->send("bob", hush::as_bytes("check")));
    if (r.deliveries.size() != static_cast<std::size_t>(bob_count + alice_count - 1))
      fail("unexpected number of deliveries");
    world.drain();
  }

  // Forgets what alice's outbox holds: every device got it, and her clock passes the window.
  void prune() {
    alice->clock.advance(kPastTheWindowMs);
    const auto f = must(alice->messenger->flush());
    if (f.queued != 0) fail("flush left deliveries queued");
  }
};

template <class Value>
Value& cached(std::map<std::tuple<Kind, int, int>, std::unique_ptr<Value>>& all, Kind kind, int b,
              int a) {
  auto& slot = all[{kind, b, a}];
  if (!slot) slot = std::make_unique<Value>(kind, b, a);
  return *slot;
}

// Conversations for sending (envelopes dropped) and for receiving (envelopes kept).
Conversation& sending(Kind kind, int bob_count, int alice_count) {
  static std::map<std::tuple<Kind, int, int>, std::unique_ptr<Conversation>> all;
  Conversation& c = cached(all, kind, bob_count, alice_count);
  c.world.server.keep = false;
  return c;
}

// A conversation whose outbox is full and stays so (filled once: 1000 sends take a while on
// SQLite).
Conversation& sending_full(Kind kind, int bob_count) {
  static std::map<std::tuple<Kind, int, int>, std::unique_ptr<Conversation>> all;
  const bool fresh = all.find({kind, bob_count, 1}) == all.end();
  Conversation& c = cached(all, kind, bob_count, 1);
  c.world.server.keep = false;
  if (fresh)
    for (std::size_t i = 0; i < hush::kMaxOutboxMessages; ++i)
      must(c.alice->messenger->send("bob", hush::as_bytes(c.body)));
  return c;
}

// Alice sends bob kUpkeepEvery messages, queued for bob's device 1, and forgets them again (her
// outbox). With `forget_seen`, bob's clock too passes the window and bob's flush() forgets the
// message ids he has shown.
void queue_for_bob(Conversation& c, bool forget_seen) {
  for (std::int64_t i = 0; i < kUpkeepEvery; ++i)
    must(c.alice->messenger->send("bob", hush::as_bytes(c.body)));
  c.alice->clock.advance(kPastTheWindowMs);
  must(c.alice->messenger->flush());
  if (!forget_seen) return;
  c.bob->clock.advance(kPastTheWindowMs);
  must(c.bob->messenger->flush());
}

Conversation& receiving(Kind kind) {
  static std::map<std::tuple<Kind, int, int>, std::unique_ptr<Conversation>> all;
  return cached(all, kind, 1, 1);
}

// A conversation in which bob's device 1 remembers kMaxSeenMessageIds message ids, all inside the
// window (what a device that received 50,000 messages in the last week lives with).
Conversation& receiving_seen_full(Kind kind) {
  static std::map<std::tuple<Kind, int, int>, std::unique_ptr<Conversation>> all;
  const bool fresh = all.find({kind, 1, 1}) == all.end();
  Conversation& c = cached(all, kind, 1, 1);
  if (fresh) {
    auto& queue = c.world.server.queues[c.bob->address];
    for (std::size_t shown = 0; shown < hush::kMaxSeenMessageIds;) {
      queue_for_bob(c, false);
      for (; !queue.empty(); queue.pop_front(), ++shown)
        must(c.bob->messenger->receive(queue.front()));
    }
  }
  return c;
}

// ---- the timed operations (out of line, for callgrind) ----

[[gnu::noinline]] void send_once(Conversation& c) {
  auto r = must(c.alice->messenger->send("bob", hush::as_bytes(c.body)));
  for (const hush::DeviceDelivery& d : r.deliveries)
    if (d.state != hush::DeliveryState::kSent) fail("a delivery was not sent");
  benchmark::DoNotOptimize(r);
}

[[gnu::noinline]] void encrypt_once(Conversation& c, const hush::Address& to,
                                    hush::ByteView plaintext) {
  auto m = must(hush::encrypt_message(c.alice->ctx, *c.alice->store, to, plaintext));
  benchmark::DoNotOptimize(m);
}

[[gnu::noinline]] void encrypt_batch_once(Conversation& c,
                                          const std::vector<hush::OutgoingMessage>& batch) {
  auto m = must(hush::encrypt_messages(c.alice->ctx, *c.alice->store, batch));
  benchmark::DoNotOptimize(m);
}

[[gnu::noinline]] void receive_once(Conversation& c, const hush::Bytes& envelope) {
  auto r = must(c.bob->messenger->receive(envelope));
  if (!r) fail("receive showed nothing");
  benchmark::DoNotOptimize(r);
}

[[gnu::noinline]] void decrypt_once(Conversation& c, const hush::CiphertextMessage& m) {
  auto p = must(hush::decrypt_message(c.bob->ctx, *c.bob->store, c.alice->address, m));
  benchmark::DoNotOptimize(p);
}

// ---- sending ----

void BM_send(benchmark::State& state, Kind kind) {
  const int bob_count = static_cast<int>(state.range(0));
  const int alice_count = static_cast<int>(state.range(1));
  Conversation& c = sending(kind, bob_count, alice_count);
  c.prune();
  const std::uint64_t bytes_before = c.world.server.envelope_bytes;
  std::int64_t n = 0;
  for (auto _ : state) {
    send_once(c);
    if (++n % kUpkeepEvery == 0) {
      state.PauseTiming();
      c.prune();
      state.ResumeTiming();
    }
  }
  const int devices = bob_count + alice_count - 1;
  state.SetItemsProcessed(state.iterations() * devices);
  state.counters["devices"] = devices;
  state.counters["envelope_bytes"] =
      benchmark::Counter(static_cast<double>(c.world.server.envelope_bytes - bytes_before),
                         benchmark::Counter::kAvgIterations);
}

void BM_send_outbox_full(benchmark::State& state, Kind kind) {
  const int bob_count = static_cast<int>(state.range(0));
  Conversation& c = sending_full(kind, bob_count);
  for (auto _ : state)
    send_once(c);
  state.SetItemsProcessed(state.iterations() * bob_count);
  state.counters["devices"] = bob_count;
}

void BM_encrypt_message(benchmark::State& state, Kind kind) {
  Conversation& c = sending(kind, 1, 1);
  const std::string plaintext(kContentBytes, 'x');
  for (auto _ : state)
    encrypt_once(c, c.bob->address, hush::as_bytes(plaintext));
  state.SetItemsProcessed(state.iterations());
}

void BM_encrypt_messages(benchmark::State& state, Kind kind) {
  const int bob_count = static_cast<int>(state.range(0));
  Conversation& c = sending(kind, bob_count, 1);
  const std::string plaintext(kContentBytes, 'x');
  std::vector<hush::OutgoingMessage> batch;
  for (const hush::Address& a : c.bob_devices)
    batch.push_back(hush::OutgoingMessage{a, hush::as_bytes(plaintext)});
  for (auto _ : state)
    encrypt_batch_once(c, batch);
  state.SetItemsProcessed(state.iterations() * bob_count);
  state.counters["devices"] = bob_count;
}

// ---- receiving ----

void run_receive(benchmark::State& state, Conversation& c, bool forget_seen) {
  auto& queue = c.world.server.queues[c.bob->address];
  for (auto _ : state) {
    if (queue.empty()) {
      state.PauseTiming();
      queue_for_bob(c, forget_seen);
      state.ResumeTiming();
    }
    receive_once(c, queue.front());
    queue.pop_front();
  }
  // What is left is received untimed, so that the next run starts in order.
  while (!queue.empty()) {
    receive_once(c, queue.front());
    queue.pop_front();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_receive(benchmark::State& state, Kind kind) {
  run_receive(state, receiving(kind), true);
}

void BM_receive_seen_full(benchmark::State& state, Kind kind) {
  run_receive(state, receiving_seen_full(kind), false);
}

void BM_decrypt_message(benchmark::State& state, Kind kind) {
  Conversation& c = receiving(kind);
  const std::string plaintext(kContentBytes, 'x');
  std::deque<hush::CiphertextMessage> queue;
  for (auto _ : state) {
    if (queue.empty()) {
      state.PauseTiming();
      for (std::int64_t i = 0; i < kUpkeepEvery; ++i)
        queue.push_back(must(hush::encrypt_message(c.alice->ctx, *c.alice->store, c.bob->address,
                                                   hush::as_bytes(plaintext))));
      state.ResumeTiming();
    }
    decrypt_once(c, queue.front());
    queue.pop_front();
  }
  while (!queue.empty()) {
    decrypt_once(c, queue.front());
    queue.pop_front();
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- linking ----

struct Linking {
  World world;
  Device* bob = nullptr;

  Linking(Kind kind, int contacts, int) {
    bob = &world.person("bob", kind);
    for (int i = 0; i < contacts; ++i) {
      const auto id = must(hush::generate_identity_key_pair(world.ctx.random));
      must(bob->store->save_identity("contact" + std::to_string(i), id.public_key));
    }
  }
};

void BM_link(benchmark::State& state, Kind kind) {
  static std::map<std::tuple<Kind, int, int>, std::unique_ptr<Linking>> all;
  const int contacts = static_cast<int>(state.range(0));
  Linking& l = cached(all, kind, contacts, 0);
  World& w = l.world;
  using Clock = std::chrono::steady_clock;
  double parts[6] = {};
  const hush::Bytes app_data(64, 0x42);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto request = must(hush::LinkRequest::create(w.ctx.random));
    const auto t1 = Clock::now();
    auto linked = must(l.bob->messenger->link_device(request.code(), app_data));
    const auto t2 = Clock::now();
    auto contents = must(request.open(linked.message));
    const auto t3 = Clock::now();
    const hush::Address a{contents.name, contents.device_id};
    auto store = std::make_unique<hush::InMemoryProtocolStore>(
        contents.identity.clone(), must(hush::generate_registration_id(w.ctx.random)));
    const auto t4 = Clock::now();
    must(hush::import_link(*store, contents));
    const auto t5 = Clock::now();
    Server::Port port(w.server);
    auto messenger = std::make_unique<hush::Messenger>(w.ctx, *store, port, w.server, a);
    must(messenger->maintain_keys());
    const auto t6 = Clock::now();
    const std::chrono::duration<double> d[6] = {t1 - t0, t2 - t1, t3 - t2,
                                                t4 - t3, t5 - t4, t6 - t5};
    for (int i = 0; i < 6; ++i)
      parts[i] += d[i].count();
    state.PauseTiming();
    messenger.reset();
    store.reset();
    must(l.bob->messenger->unlink_device(contents.device_id));
    w.server.forget(a);
    state.ResumeTiming();
  }
  const char* names[6] = {"create_us",    "link_device_us", "open_us",
                          "new_store_us", "import_us",      "maintain_keys_us"};
  for (int i = 0; i < 6; ++i)
    state.counters[names[i]] =
        benchmark::Counter(parts[i] * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["contacts"] = contacts;
}

// ---- registration ----

// HUSH_BENCH_ITERATIONS=n runs every benchmark exactly n iterations (for callgrind counts).
void register_all() {
  const char* fixed = std::getenv("HUSH_BENCH_ITERATIONS");
  const benchmark::IterationCount iterations = fixed != nullptr ? std::atoll(fixed) : 0;
  auto add = [&](const std::string& name, void (*fn)(benchmark::State&, Kind), Kind kind) {
    auto* b = benchmark::RegisterBenchmark(name.c_str(), fn, kind);
    b->Unit(benchmark::kMicrosecond)->UseRealTime()->ComputeStatistics("min", [](const auto& v) {
      return *std::min_element(v.begin(), v.end());
    });
    if (iterations > 0) b->Iterations(iterations);
    return b;
  };
  for (Kind k : {Kind::kMemory, Kind::kSqlite}) {
    const std::string s = kind_name(k);
    add("send/" + s, BM_send, k)
        ->ArgNames({"bob", "alice"})
        ->Args({1, 1})
        ->Args({4, 1})
        ->Args({32, 1})
        ->Args({1, 4})
        ->Args({4, 4})
        ->Args({32, 4});
    add("encrypt_message/" + s, BM_encrypt_message, k);
    add("encrypt_messages/" + s, BM_encrypt_messages, k)->ArgName("bob")->Arg(1)->Arg(4)->Arg(32);
    add("send_outbox_full/" + s, BM_send_outbox_full, k)->ArgName("bob")->Arg(1)->Arg(32);
    add("receive/" + s, BM_receive, k);
    // 50,000 receives to set up: in memory only.
    if (k == Kind::kMemory) add("receive_seen_full/" + s, BM_receive_seen_full, k);
    add("decrypt_message/" + s, BM_decrypt_message, k);
    add("link/" + s, BM_link, k)->ArgName("contacts")->Arg(1)->Arg(100);
  }
}

// ---- the summary ----

// A time per operation as wall and CPU time (seconds), either possibly unknown.
struct Time {
  std::optional<double> wall;
  std::optional<double> cpu;
};

std::optional<double> lift(std::optional<double> a, std::optional<double> b,
                           double (*f)(double, double)) {
  if (!a || !b) return std::nullopt;
  return f(*a, *b);
}
Time minus(const Time& a, const Time& b) {
  auto f = [](double x, double y) { return x - y; };
  return {lift(a.wall, b.wall, f), lift(a.cpu, b.cpu, f)};
}
Time divided(const Time& a, double n) {
  auto f = [](double x, double y) { return x / y; };
  return {lift(a.wall, n, f), lift(a.cpu, n, f)};
}

// Passes every run to the console reporter, and keeps the best (lowest) wall and CPU time per
// iteration of each benchmark: the "min" aggregates over repetitions if there are repetitions,
// else the lowest of its runs. Then prints the ratios bench/README.md records.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Color : OO_None) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      const bool min = r.run_type == Run::RT_Aggregate && r.aggregate_name == "min";
      if (r.run_type != Run::RT_Iteration && !min) continue;
      std::string key = r.run_name.function_name;
      if (!r.run_name.args.empty()) key += "/" + r.run_name.args;
      Best& b = best_[key];
      const double n = static_cast<double>(r.iterations);
      const double wall = r.real_accumulated_time / n;
      const double cpu = r.cpu_accumulated_time / n;
      if (min || (!b.from_min && (b.runs == 0 || wall < b.wall))) {
        b.wall = wall;
        for (const auto& [name, counter] : r.counters)
          b.counters[name] = counter.value;
      }
      if (min || (!b.from_min && (b.runs == 0 || cpu < b.cpu))) b.cpu = cpu;
      b.from_min = b.from_min || min;
      b.runs += 1;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::FILE* out = stdout;
    std::fflush(out);
    std::fprintf(out, "\n==== people and devices: best time per operation, wall | CPU ====\n");
    for (const char* store : {"memory", "sqlite"})
      sending(out, store);
    for (const char* store : {"memory", "sqlite"}) {
      const Time r = time_of("receive/" + std::string(store));
      const Time d = time_of("decrypt_message/" + std::string(store));
      if (!r.wall && !d.wall) continue;
      std::fprintf(out, "-- receive, %s\n", store);
      line(out, "receive", r);
      line(out, "decrypt_message", d);
      ratio(out, "receive / decrypt_message", r, d);
      const Time full = time_of("receive_seen_full/" + std::string(store));
      if (full.wall) {
        line(out, "receive, 50,000 ids seen", full);
        ratio(out, "  / receive", full, r);
      }
    }
    for (const char* store : {"memory", "sqlite"})
      linking(out, store);
    std::fprintf(out, "-- sqlite / memory\n");
    for (const char* name :
         {"encrypt_message", "send/bob:1/alice:1", "send/bob:32/alice:1", "send/bob:32/alice:4",
          "encrypt_messages/bob:32", "receive", "decrypt_message", "link/contacts:1"}) {
      const std::string n(name);
      const auto slash = n.find('/');
      const std::string family = slash == std::string::npos ? n : n.substr(0, slash);
      const std::string rest = slash == std::string::npos ? "" : n.substr(slash);
      ratio(out, name, time_of(family + "/sqlite" + rest), time_of(family + "/memory" + rest));
    }
    std::fflush(out);
  }

 private:
  struct Best {
    bool from_min = false;
    int runs = 0;
    double wall = 0;
    double cpu = 0;
    std::map<std::string, double> counters;
  };

  Time time_of(const std::string& key) const {
    auto it = best_.find(key);
    if (it == best_.end()) return {};
    return {it->second.wall, it->second.cpu};
  }
  std::optional<double> counter_of(const std::string& key, const std::string& name) const {
    auto it = best_.find(key);
    if (it == best_.end()) return std::nullopt;
    auto c = it->second.counters.find(name);
    if (c == it->second.counters.end()) return std::nullopt;
    return c->second;
  }
  static std::string us(std::optional<double> seconds) {
    if (!seconds) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f us", *seconds * 1e6);
    return b;
  }
  static std::string times(std::optional<double> num, std::optional<double> den) {
    if (!num || !den || *den <= 0) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2fx", *num / *den);
    return b;
  }
  static void line(std::FILE* out, const char* what, const Time& t) {
    std::fprintf(out, "  %-44s %12s | %12s\n", what, us(t.wall).c_str(), us(t.cpu).c_str());
  }
  static void ratio(std::FILE* out, const char* what, const Time& a, const Time& b) {
    std::fprintf(out, "  %-44s %12s | %12s\n", what, times(a.wall, b.wall).c_str(),
                 times(a.cpu, b.cpu).c_str());
  }

  void sending(std::FILE* out, const std::string& store) const {
    const Time enc = time_of("encrypt_message/" + store);
    const Time s1 = time_of("send/" + store + "/bob:1/alice:1");
    const Time s4 = time_of("send/" + store + "/bob:4/alice:1");
    const Time s32 = time_of("send/" + store + "/bob:32/alice:1");
    const Time c1 = time_of("send/" + store + "/bob:1/alice:4");
    const Time c32 = time_of("send/" + store + "/bob:32/alice:4");
    const Time b1 = time_of("encrypt_messages/" + store + "/bob:1");
    const Time b32 = time_of("encrypt_messages/" + store + "/bob:32");
    if (!enc.wall && !s1.wall && !s32.wall) return;
    // Per device: what one more device adds (the slope from 1 to 32 devices).
    const Time slope = divided(minus(s32, s1), 31);
    const Time fixed = minus(s1, slope);
    const Time batch_slope = divided(minus(b32, b1), 31);
    const Time copy = divided(minus(c32, s32), 3);
    std::fprintf(out, "-- send, %s\n", store.c_str());
    line(out, "encrypt_message", enc);
    line(out, "send to 1 device", s1);
    line(out, "send to 4 devices", s4);
    line(out, "send to 32 devices", s32);
    line(out, "per device (slope 1..32)", slope);
    ratio(out, "  per device / encrypt_message", slope, enc);
    line(out, "fixed part (send to 1 - slope)", fixed);
    ratio(out, "  fixed part / encrypt_message", fixed, enc);
    ratio(out, "send to 32 / send to 1", s32, s1);
    ratio(out, "send to 32 / 32 / encrypt_message", divided(s32, 32), enc);
    line(out, "encrypt_messages per device (slope 1..32)", batch_slope);
    ratio(out, "  / encrypt_message", batch_slope, enc);
    line(out, "alice with 4 devices: send to 1 device", c1);
    line(out, "alice with 4 devices: send to 32 devices", c32);
    line(out, "  per copy (32 devices, alice 4 - alice 1)/3", copy);
    ratio(out, "  per copy / encrypt_message", copy, enc);
    const Time f1 = time_of("send_outbox_full/" + store + "/bob:1");
    const Time f32 = time_of("send_outbox_full/" + store + "/bob:32");
    if (f1.wall || f32.wall) {
      line(out, "outbox full: send to 1 device", f1);
      ratio(out, "  / with the outbox pruned", f1, s1);
      line(out, "outbox full: send to 32 devices", f32);
      ratio(out, "  / with the outbox pruned", f32, s32);
    }
  }

  void linking(std::FILE* out, const std::string& store) const {
    for (const char* contacts : {"1", "100"}) {
      const std::string key = "link/" + store + "/contacts:" + contacts;
      const Time whole = time_of(key);
      if (!whole.wall) continue;
      std::fprintf(out, "-- link, %s, %s contacts (parts: wall)\n", store.c_str(), contacts);
      line(out, "whole", whole);
      for (const char* part : {"create_us", "link_device_us", "open_us", "new_store_us",
                               "import_us", "maintain_keys_us"}) {
        const auto v = counter_of(key, part);
        std::fprintf(out, "  %-44s %12s\n", part,
                     us(v ? std::optional<double>(*v / 1e6) : std::nullopt).c_str());
      }
    }
  }

  std::map<std::string, Best> best_;
};

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

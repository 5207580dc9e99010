// hush benchmarks: what a forged whisper message costs the receiver, against what the genuine
// message it imitates costs (issue 9, "CPU amplification").
//
// Bob holds a full record for alice: 41 session states (the current one and 40 archived, the most
// libsignal and hush keep). Four genuine messages from alice on the current session, each
// decrypted from the same starting state:
//   existing/next     the next message of a receiving chain bob already has
//   existing/jump2000 the same chain, 2000 messages further on (the largest jump allowed)
//   new/0             the first message of a new chain (a DH ratchet step)
//   new/2000          a new chain whose first message to arrive is its 2001st
// and for each, the same message with its MAC broken (a forgery that copies a real header: the
// cheapest way to make the receiver work). Only the public API is used, so the same file builds
// against older commits to compare (bench/README.md "Forged messages").
//
// Run: build-bench/bench/hush_forged_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <hush/hush.h>

#include "bench_util.h"

namespace {

using hush_bench::must;

struct Device {
  std::unique_ptr<hush::InMemoryProtocolStore> store;
  hush::Address address;
};

Device make_device(const hush::Context& ctx, const std::string& name) {
  auto id = must(hush::generate_identity_key_pair(ctx.random));
  auto reg = must(hush::generate_registration_id(ctx.random));
  auto spk = must(hush::generate_signed_pre_key(ctx, id, hush::SignedPreKeyId{1}));
  Device d{std::make_unique<hush::InMemoryProtocolStore>(std::move(id), reg),
           hush::Address{name, hush::DeviceId{1}}};
  must(d.store->store_signed_pre_key(spk));
  return d;
}

struct Fixture {
  hush::Context ctx = hush::default_context();
  hush::SecretBytes bob_snapshot;  // bob with 41 states for alice, before any of the messages
  std::vector<hush::CiphertextMessage>
      genuine;  // existing/next, existing/jump2000, new/0, new/2000
  std::vector<hush::CiphertextMessage> forged;

  Fixture() {
    Device alice = make_device(ctx, "alice");
    Device bob = make_device(ctx, "bob");
    auto bundle = [&] {
      return must(
          hush::make_bundle(*bob.store, hush::DeviceId{1}, hush::SignedPreKeyId{1}, std::nullopt));
    };
    auto send = [&](const char* text) {
      return must(hush::encrypt_message(ctx, *alice.store, bob.address, hush::as_bytes(text)));
    };
    // 41 sessions: the 41st is current at bob, the others archived.
    for (int i = 0; i < 41; ++i) {
      must(hush::process_prekey_bundle(ctx, *alice.store, bob.address, bundle()));
      must(hush::decrypt_message(ctx, *bob.store, alice.address, send("session")));
    }
    auto answer = [&](const char* text) {
      auto r = must(hush::encrypt_message(ctx, *bob.store, alice.address, hush::as_bytes(text)));
      must(hush::decrypt_message(ctx, *alice.store, bob.address, r));
    };
    // Bob answers: alice's messages are whisper messages from now on, on a new chain, which bob
    // then learns from a first message.
    answer("re");
    must(hush::decrypt_message(ctx, *bob.store, alice.address, send("first on the chain")));
    genuine.push_back(send("next"));
    for (int i = 0; i < 1999; ++i)
      (void)send("skipped");
    genuine.push_back(send("2000 further"));
    // Bob answers again; alice's next messages start another chain, which bob has not seen.
    answer("re re");
    bob_snapshot = bob.store->serialize();
    genuine.push_back(send("new chain"));
    for (int i = 0; i < 1999; ++i)
      (void)send("skipped");
    genuine.push_back(send("new chain, 2000 further"));
    for (const auto& g : genuine) {
      hush::Bytes bytes(g.serialized().begin(), g.serialized().end());
      bytes.back() ^= 0x01;  // the MAC's last byte
      forged.push_back(must(hush::CiphertextMessage::parse(g.type(), bytes)));
    }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void decrypt(benchmark::State& state, bool forged) {
  Fixture& f = fixture();
  const auto index = static_cast<std::size_t>(state.range(0));
  const hush::CiphertextMessage& m = forged ? f.forged[index] : f.genuine[index];
  const hush::Address alice{"alice", hush::DeviceId{1}};
  for (auto _ : state) {
    state.PauseTiming();
    auto bob = must(hush::InMemoryProtocolStore::deserialize(f.bob_snapshot.expose()));
    state.ResumeTiming();
    auto r = hush::decrypt_message(f.ctx, *bob, alice, m);
    if (r.has_value() == forged) {
      std::fprintf(stderr, "bench: unexpected result\n");
      std::abort();
    }
    benchmark::DoNotOptimize(r);
    state.PauseTiming();
    bob.reset();
    state.ResumeTiming();
  }
}

void BM_genuine(benchmark::State& state) {
  decrypt(state, false);
}
void BM_forged(benchmark::State& state) {
  decrypt(state, true);
}

// 0: existing/next, 1: existing/jump2000, 2: new/0, 3: new/2000.
BENCHMARK(BM_genuine)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_forged)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

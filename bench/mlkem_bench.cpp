// hush benchmarks: ML-KEM-768 and ML-KEM-1024 (src/crypto/mlkem.h): key generation, encapsulation
// and decapsulation (of a genuine ciphertext and of a tampered one, the implicit-rejection path),
// SPQR's incremental ML-KEM-768 encapsulation, and libsignal's Kyber1024. Each operation takes its
// seeds as input (the *_from_seed entry points), so no system randomness is measured; the
// hashing runs through OpenSSL 3.0's SHA-3.
//
// Besides the time, each benchmark reports `cycles`: time-stamp-counter ticks per operation
// (rdtsc, x86-64 only), which count at the CPU's nominal frequency whatever its actual clock.
//
// Run: build-bench/bench/hush_mlkem_bench --benchmark_repetitions=9 --benchmark_min_time=0.5
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "bench_util.h"
#include "crypto/mlkem.h"

namespace {

using hush_bench::must;
namespace crypto = hush::internal::crypto;
using crypto::MlKemParameterSet;

crypto::MlKemSecret seed(std::uint8_t value) {
  crypto::MlKemSecret s;
  std::fill(s.expose_mut().begin(), s.expose_mut().end(), value);
  return s;
}

std::uint64_t ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

// Runs `op` in the benchmark loop and records the ticks per iteration.
template <class Op>
void measure(benchmark::State& state, Op op) {
  const std::uint64_t start = ticks();
  for (auto _ : state)
    op();
  const std::uint64_t total = ticks() - start;
  state.counters["cycles"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kAvgIterations);
}

MlKemParameterSet set_of(const benchmark::State& state) {
  return state.range(0) == 768 ? MlKemParameterSet::kMlKem768 : MlKemParameterSet::kMlKem1024;
}

void BM_KeyGen(benchmark::State& state) {
  const MlKemParameterSet set = set_of(state);
  const auto d = seed(1), z = seed(2);
  measure(state, [&] {
    auto keys = crypto::mlkem_generate_from_seed(set, d, z);
    benchmark::DoNotOptimize(keys.encapsulation_key.data());
  });
}

void BM_Encaps(benchmark::State& state) {
  const MlKemParameterSet set = set_of(state);
  const auto keys = crypto::mlkem_generate_from_seed(set, seed(1), seed(2));
  const auto m = seed(3);
  measure(state, [&] {
    auto enc = must(crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m));
    benchmark::DoNotOptimize(enc.ciphertext.data());
  });
}

void decaps(benchmark::State& state, bool tampered) {
  const MlKemParameterSet set = set_of(state);
  const auto keys = crypto::mlkem_generate_from_seed(set, seed(1), seed(2));
  auto enc = must(crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, seed(3)));
  if (tampered) enc.ciphertext[7] ^= 1;
  measure(state, [&] {
    auto k = must(crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), enc.ciphertext));
    benchmark::DoNotOptimize(k.expose().data());
  });
}
void BM_Decaps(benchmark::State& state) {
  decaps(state, false);
}
void BM_DecapsRejected(benchmark::State& state) {
  decaps(state, true);
}

// Through checked keys (MlKemEncapsulationKey / MlKemDecapsulationKey): FIPS 203's input checks
// and H(ek) done once, when the key is loaded, not per operation.
void BM_EncapsChecked(benchmark::State& state) {
  const MlKemParameterSet set = set_of(state);
  const auto keys = crypto::mlkem_generate_from_seed(set, seed(1), seed(2));
  const auto ek = must(crypto::MlKemEncapsulationKey::check(set, keys.encapsulation_key));
  const auto m = seed(3);
  measure(state, [&] {
    auto enc = crypto::mlkem_encapsulate_from_seed(ek, m);
    benchmark::DoNotOptimize(enc.ciphertext.data());
  });
}

void BM_DecapsChecked(benchmark::State& state) {
  const MlKemParameterSet set = set_of(state);
  const auto keys = crypto::mlkem_generate_from_seed(set, seed(1), seed(2));
  const auto dk = must(crypto::MlKemDecapsulationKey::check(set, keys.decapsulation_key.expose()));
  const auto enc = must(crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, seed(3)));
  measure(state, [&] {
    auto k = must(crypto::mlkem_decapsulate(dk, enc.ciphertext));
    benchmark::DoNotOptimize(k.expose().data());
  });
}

void BM_Incremental768Encaps1(benchmark::State& state) {
  const auto keys =
      crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem768, seed(1), seed(2));
  const auto header = must(crypto::mlkem768_header(keys.encapsulation_key));
  const auto m = seed(3);
  measure(state, [&] {
    auto first = must(crypto::mlkem768_encaps1_from_seed(header, m));
    benchmark::DoNotOptimize(first.ciphertext1.data());
  });
}

void BM_Incremental768Encaps2(benchmark::State& state) {
  const auto keys =
      crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem768, seed(1), seed(2));
  const auto header = must(crypto::mlkem768_header(keys.encapsulation_key));
  const auto first = must(crypto::mlkem768_encaps1_from_seed(header, seed(3)));
  const hush::ByteView t_hat =
      hush::ByteView(keys.encapsulation_key).first(crypto::kMlKem768VectorSize);
  measure(state, [&] {
    auto ct2 = must(crypto::mlkem768_encaps2(t_hat, first.state));
    benchmark::DoNotOptimize(ct2.data());
  });
}

void BM_Kyber1024Encaps(benchmark::State& state) {
  const auto keys =
      crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem1024, seed(1), seed(2));
  const auto m = seed(3);
  measure(state, [&] {
    auto enc = must(crypto::kyber1024_encapsulate_from_seed(keys.encapsulation_key, m));
    benchmark::DoNotOptimize(enc.ciphertext.data());
  });
}

void BM_Kyber1024Decaps(benchmark::State& state) {
  const auto keys =
      crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem1024, seed(1), seed(2));
  const auto enc = must(crypto::kyber1024_encapsulate_from_seed(keys.encapsulation_key, seed(3)));
  measure(state, [&] {
    auto k = must(crypto::kyber1024_decapsulate(keys.decapsulation_key.expose(), enc.ciphertext));
    benchmark::DoNotOptimize(k.expose().data());
  });
}

// The least of the repetitions, besides Google Benchmark's mean and median: on a shared machine
// the other processes only ever add time.
double least(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

}  // namespace

BENCHMARK(BM_KeyGen)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_Encaps)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_Decaps)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_EncapsChecked)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_DecapsChecked)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_DecapsRejected)
    ->Arg(768)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->ComputeStatistics("min", least);
BENCHMARK(BM_Incremental768Encaps1)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", least);
BENCHMARK(BM_Incremental768Encaps2)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", least);
BENCHMARK(BM_Kyber1024Encaps)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", least);
BENCHMARK(BM_Kyber1024Decaps)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", least);

BENCHMARK_MAIN();

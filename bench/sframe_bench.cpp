// hush benchmarks: SFrame (RFC 9605) encrypt + decrypt per cipher suite, for a 160-byte audio
// frame (20 ms of Opus at 64 kbit/s) and a 1,200-byte video packet (issue 13); public API, plus
// one comparison through the internal crypto: AES-256-GCM keyed once per key (what SFrame does)
// against keying a fresh context per frame.
//
// One iteration = one frame encrypted by an SframeSender and decrypted by an SframeReceiver
// (replay window included), through the allocation-free encrypt_into/decrypt_into; the
// "alloc" variants use encrypt/decrypt, which return new buffers.
#include <array>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include <hush/sframe.h>

#include "bench_util.h"
#include "crypto/aead.h"
#include "crypto/keyed_cipher.h"

namespace {

using hush::Bytes;
using hush::SecretBytes;
using hush::SframeCipherSuite;
using hush_bench::must;

SecretBytes base_key() {
  SecretBytes k(32);
  for (std::size_t i = 0; i < 32; ++i)
    k.expose_mut()[i] = static_cast<std::uint8_t>(i * 3 + 1);
  return k;
}

void BM_SframeRoundTrip(benchmark::State& state, SframeCipherSuite suite, bool alloc) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto sender = must(hush::SframeSender::create(suite, /*key_id=*/17, base_key()));
  hush::SframeReceiver receiver(suite);
  must(receiver.add_key(17, base_key()));
  const Bytes metadata = {0x80, 0x6f, 0x12, 0x34};  // e.g. RTP marker, payload type, sequence
  const Bytes plaintext(size, 0x5a);
  Bytes frame(size + hush::kSframeMaxOverhead);
  Bytes back(frame.size());
  for (auto _ : state) {
    if (alloc) {
      Bytes f = must(sender.encrypt(metadata, plaintext));
      SecretBytes p = must(receiver.decrypt(metadata, f));
      benchmark::DoNotOptimize(p.expose().data());
    } else {
      const std::size_t n = must(sender.encrypt_into(metadata, plaintext, frame));
      const std::size_t m =
          must(receiver.decrypt_into(metadata, hush::ByteView(frame).first(n), back));
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

#define HUSH_SFRAME_BENCH(name, suite)                                            \
  BENCHMARK_CAPTURE(BM_SframeRoundTrip, name, suite, false)->Arg(160)->Arg(1200); \
  BENCHMARK_CAPTURE(BM_SframeRoundTrip, name##_alloc, suite, true)->Arg(160)->Arg(1200)

HUSH_SFRAME_BENCH(AES_128_CTR_HMAC_SHA256_80, SframeCipherSuite::kAes128CtrHmacSha256_80);
HUSH_SFRAME_BENCH(AES_128_CTR_HMAC_SHA256_64, SframeCipherSuite::kAes128CtrHmacSha256_64);
HUSH_SFRAME_BENCH(AES_128_CTR_HMAC_SHA256_32, SframeCipherSuite::kAes128CtrHmacSha256_32);
HUSH_SFRAME_BENCH(AES_128_GCM_SHA256_128, SframeCipherSuite::kAes128GcmSha256_128);
HUSH_SFRAME_BENCH(AES_256_GCM_SHA512_128, SframeCipherSuite::kAes256GcmSha512_128);

// What a receiver pays to take a new key (key and salt derivation, cipher contexts).
void BM_SframeAddKey(benchmark::State& state, SframeCipherSuite suite) {
  std::uint64_t kid = 0;
  for (auto _ : state) {
    hush::SframeReceiver receiver(suite);
    must(receiver.add_key(kid++, base_key()));
    benchmark::DoNotOptimize(receiver.key_count());
  }
}
BENCHMARK_CAPTURE(BM_SframeAddKey, AES_128_CTR_HMAC_SHA256_80,
                  SframeCipherSuite::kAes128CtrHmacSha256_80);
BENCHMARK_CAPTURE(BM_SframeAddKey, AES_128_GCM_SHA256_128, SframeCipherSuite::kAes128GcmSha256_128);
BENCHMARK_CAPTURE(BM_SframeAddKey, AES_256_GCM_SHA512_128, SframeCipherSuite::kAes256GcmSha512_128);

// AES-256-GCM seal + open of one frame: keyed once (SFrame's way) or keyed per frame.
namespace crypto = hush::internal::crypto;
void BM_GcmKeyedOnce(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const Bytes key(32, 7);
  crypto::AesGcmKeyed seal(key, crypto::AesGcmKeyed::Direction::kSeal);
  crypto::AesGcmKeyed open(key, crypto::AesGcmKeyed::Direction::kOpen);
  std::array<std::uint8_t, 12> nonce{};
  const Bytes pt(size, 1);
  Bytes ct(size), back(size);
  std::array<std::uint8_t, 16> tag{};
  for (auto _ : state) {
    ++nonce[11];
    seal.seal(nonce, {}, {}, pt, ct.data(), tag);
    benchmark::DoNotOptimize(open.open(nonce, {}, {}, ct, tag, back.data()));
  }
}
BENCHMARK(BM_GcmKeyedOnce)->Arg(160);
void BM_GcmKeyedPerFrame(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const Bytes key(32, 7);
  crypto::Aes256Gcm gcm;  // one context, but keyed again on every call
  std::array<std::uint8_t, 12> nonce{};
  const Bytes pt(size, 1);
  for (auto _ : state) {
    ++nonce[11];
    Bytes ct = must(gcm.seal(key, nonce, {}, pt));
    SecretBytes back = must(gcm.open(key, nonce, {}, ct));
    benchmark::DoNotOptimize(back.expose().data());
  }
}
BENCHMARK(BM_GcmKeyedPerFrame)->Arg(160);

}  // namespace

BENCHMARK_MAIN();

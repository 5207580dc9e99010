// hush unit tests: SHA-3/SHAKE and ML-KEM (src/crypto/hash.h, mlkem.h, mlkem_poly.h) against
// published values that need no data files, and the properties FIPS 203 and the Signal spec ask
// for:
//   - SHA3-256, SHA3-512, SHAKE128, SHAKE256 of "" and "abc" (NIST's FIPS 202 examples), and the
//     prefix property the one-shot XOF relies on;
//   - the polynomial layer: reductions over every int16_t, the NTT against schoolbook
//     multiplication in Z_q[X]/(X^256 + 1), compression against exact arithmetic;
//   - C2SP CCTV's "accumulated" vectors (ML-KEM/README.md): 10,000 deterministic keygen, encaps,
//     decaps and implicit-rejection runs of ML-KEM-768 and ML-KEM-1024 hashed to one value each;
//   - round-3 Kyber-1024: pq-crystals' round3 ref/test_vectors.c output, reproduced from its
//     deterministic generator through hush's Kyber1024, hashed with SHA-256 and compared with
//     the branch's SHA256SUMS entry for tvecs1024;
//   - incremental ML-KEM-768 (encaps1 || encaps2 == Encaps), Kyber1024's typed forms, every
//     malformed size or type refused with its code, and implicit rejection equal to J(z || c).
// The 10,000-iteration runs take a few seconds in an optimised build; sanitizer and unoptimised
// builds run the first 1,000 iterations instead, against hashes this implementation produced
// after it matched the published 10,000-iteration values (the full runs stay available there as
// hidden tests: run them by name or with the [slow] tag).
// Vector files (ACVP, Wycheproof, CCTV's special cases) are read by mlkem_vectors_test.cpp.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "crypto/mlkem_poly.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
#define HUSH_MLKEM_SLOW_TAG "[.][slow]"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define HUSH_MLKEM_SLOW_TAG "[.][slow]"
#endif
#endif
#ifndef HUSH_MLKEM_SLOW_TAG
#define HUSH_MLKEM_SLOW_TAG "[slow]"
#endif

namespace {

namespace crypto = hush::internal::crypto;
namespace mlkem = hush::internal::crypto::mlkem;
using crypto::MlKemParameterSet;
using crypto::MlKemSecret;
using hush::Bytes;
using hush::ByteView;
using hush::Errc;

Bytes hex(std::string_view s) {
  std::optional<Bytes> b = hush::from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

std::string hx(ByteView v) {
  return hush::to_hex(v);
}

MlKemSecret secret_of(ByteView v) {
  MlKemSecret s;
  REQUIRE(MlKemSecret::from(v, s));
  return s;
}

MlKemSecret filled_secret(std::uint8_t value) {
  MlKemSecret s;
  std::fill(s.expose_mut().begin(), s.expose_mut().end(), value);
  return s;
}

std::string name(MlKemParameterSet set) {
  return set == MlKemParameterSet::kMlKem768 ? "ML-KEM-768" : "ML-KEM-1024";
}

/// A deterministic RandomSource (SHAKE128 of a label, squeezed once, long enough for the tests).
class StreamRandom final : public hush::RandomSource {
 public:
  explicit StreamRandom(std::string_view label) : stream_(1 << 16) {
    crypto::shake128(hush::as_bytes(label), stream_);
  }
  hush::Status fill(std::span<std::uint8_t> out) override {
    if (pos_ + out.size() > stream_.size())
      return hush::Error(Errc::kCryptoFailure, "StreamRandom: exhausted");
    std::copy_n(stream_.begin() + static_cast<std::ptrdiff_t>(pos_), out.size(), out.begin());
    pos_ += out.size();
    return hush::ok_status();
  }

 private:
  Bytes stream_;
  std::size_t pos_ = 0;
};

/// A RandomSource that always fails.
class FailingRandom final : public hush::RandomSource {
 public:
  hush::Status fill(std::span<std::uint8_t>) override {
    return hush::Error(Errc::kCryptoFailure, "FailingRandom");
  }
};

// ---- SHA-3 ----

TEST_CASE("SHA-3 and SHAKE: FIPS 202 examples", "[unit][vectors]") {
  CHECK(hx(crypto::sha3_256({})) ==
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  CHECK(hx(crypto::sha3_256(hush::as_bytes("abc"))) ==
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  CHECK(hx(crypto::sha3_512(hush::as_bytes("abc"))) ==
        "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647"
        "e3934057340b4cf408d5a56592f8274eec53f0");
  Bytes out(32);
  crypto::shake128({}, out);
  CHECK(hx(out) == "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
  out.resize(64);
  crypto::shake256({}, out);
  CHECK(hx(out) ==
        "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762fd75dc4ddd8c0f200cb05019d67"
        "b592f6fc821c49479ab48640292eacb3b7c4be");
}

TEST_CASE("SHAKE: a longer squeeze extends a shorter one and parts hash as their concatenation",
          "[unit]") {
  crypto::Sha3 sha3;
  for (auto kind : {crypto::Shake::k128, crypto::Shake::k256}) {
    Bytes longer(2000), shorter(300);
    const Bytes a = hex("000102"), b = hex("0304");
    if (kind == crypto::Shake::k128) {
      sha3.shake128({a, b}, longer);
      crypto::shake128(hex("0001020304"), shorter);
    } else {
      sha3.shake256({a, b}, longer);
      crypto::shake256(hex("0001020304"), shorter);
    }
    CHECK(std::equal(shorter.begin(), shorter.end(), longer.begin()));
    // The absorber gives the same stream for the same message, split anyhow.
    crypto::ShakeAbsorber absorber(kind);
    absorber.absorb(hex("00"));
    absorber.absorb(hex("01020304"));
    Bytes again(2000);
    absorber.finish(again);
    CHECK(again == longer);
  }
  std::array<std::uint8_t, 32> h{};
  sha3.sha3_256({hush::as_bytes("a"), hush::as_bytes("bc")}, h);
  CHECK(hx(h) == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
}

// ---- polynomial layer ----

constexpr std::int32_t kQ = mlkem::kQ;

std::int32_t mod_q(std::int64_t x) {
  return static_cast<std::int32_t>(((x % kQ) + kQ) % kQ);
}

TEST_CASE("ML-KEM polynomials: poly_reduce maps every int16_t to its residue mod q", "[unit]") {
  mlkem::Poly p;
  for (std::int32_t base = -32768; base < 32768; base += 256) {
    for (std::size_t i = 0; i < mlkem::kN; ++i)
      p.c[i] = static_cast<std::int16_t>(base + static_cast<std::int32_t>(i));
    mlkem::poly_reduce(p);
    for (std::size_t i = 0; i < mlkem::kN; ++i) {
      const std::int32_t x = base + static_cast<std::int32_t>(i);
      REQUIRE(p.c[i] >= 0);
      REQUIRE(p.c[i] < kQ);
      REQUIRE(p.c[i] == mod_q(x));
    }
  }
}

/// a * b in Z_q[X]/(X^256 + 1), schoolbook.
mlkem::Poly schoolbook(const mlkem::Poly& a, const mlkem::Poly& b) {
  std::array<std::int64_t, mlkem::kN> acc{};
  for (std::size_t i = 0; i < mlkem::kN; ++i)
    for (std::size_t j = 0; j < mlkem::kN; ++j) {
      const std::int64_t prod = static_cast<std::int64_t>(a.c[i]) * b.c[j];
      if (i + j < mlkem::kN)
        acc[i + j] += prod;
      else
        acc[i + j - mlkem::kN] -= prod;  // X^256 = -1
    }
  mlkem::Poly out;
  for (std::size_t i = 0; i < mlkem::kN; ++i)
    out.c[i] = static_cast<std::int16_t>(mod_q(acc[i]));
  return out;
}

TEST_CASE("ML-KEM polynomials: NTT products agree with schoolbook multiplication", "[unit]") {
  std::mt19937 rng(203);
  std::uniform_int_distribution<int> coefficient(-(kQ - 1), kQ - 1);
  for (int round = 0; round < 8; ++round) {
    mlkem::PolyVec<3> a, b;
    for (std::size_t k = 0; k < 3; ++k)
      for (std::size_t i = 0; i < mlkem::kN; ++i) {
        a.p[k].c[i] = static_cast<std::int16_t>(coefficient(rng));
        b.p[k].c[i] = static_cast<std::int16_t>(coefficient(rng));
      }
    // Expected: sum of the three products.
    std::array<std::int64_t, mlkem::kN> sum{};
    for (std::size_t k = 0; k < 3; ++k) {
      const mlkem::Poly prod = schoolbook(a.p[k], b.p[k]);
      for (std::size_t i = 0; i < mlkem::kN; ++i)
        sum[i] += prod.c[i];
    }
    for (std::size_t k = 0; k < 3; ++k) {
      mlkem::ntt(a.p[k]);
      mlkem::ntt(b.p[k]);
      for (std::size_t i = 0; i < mlkem::kN; ++i) {
        REQUIRE(a.p[k].c[i] > -kQ);
        REQUIRE(a.p[k].c[i] < kQ);
      }
    }
    mlkem::Poly got;
    mlkem::ntt_multiply_accumulate(got, a, b);
    mlkem::inverse_ntt(got);
    for (std::size_t i = 0; i < mlkem::kN; ++i) {
      REQUIRE(got.c[i] > -kQ);
      REQUIRE(got.c[i] < kQ);
      REQUIRE(mod_q(got.c[i]) == mod_q(sum[i]));
    }
  }
}

TEST_CASE("ML-KEM polynomials: Compress/Decompress and ByteEncode/ByteDecode", "[unit]") {
  // Every value through Compress_d against exact rational rounding, packed and unpacked.
  auto check = [](auto d_constant) {
    constexpr int D = decltype(d_constant)::value;
    for (std::int32_t base = 0; base < kQ; base += 256) {
      mlkem::Poly p;
      for (std::size_t i = 0; i < mlkem::kN; ++i)
        p.c[i] = static_cast<std::int16_t>(
            std::min<std::int32_t>(base + static_cast<std::int32_t>(i), kQ - 1));
      std::array<std::uint8_t, 32 * static_cast<std::size_t>(D)> bytes{};
      mlkem::compress_encode<D>(p, bytes);
      mlkem::Poly back;
      mlkem::decode_decompress<D>(bytes, back);
      for (std::size_t i = 0; i < mlkem::kN; ++i) {
        const std::int64_t x = p.c[i];
        // round(2^d x / q) mod 2^d, then round(q y / 2^d), in exact integers.
        const std::int64_t y = ((x << (D + 1)) + kQ) / (2 * kQ) % (std::int64_t{1} << D);
        const std::int64_t expected = (y * kQ * 2 + (std::int64_t{1} << D)) >> (D + 1);
        REQUIRE(back.c[i] == expected);
      }
    }
  };
  check(std::integral_constant<int, 1>{});
  check(std::integral_constant<int, 4>{});
  check(std::integral_constant<int, 5>{});
  check(std::integral_constant<int, 10>{});
  check(std::integral_constant<int, 11>{});

  // ByteEncode12/ByteDecode12 round trip, the modulus check, and decoding reduces mod q.
  std::array<std::uint8_t, mlkem::kPolyBytes> bytes{};
  mlkem::Poly p;
  for (std::size_t i = 0; i < mlkem::kN; ++i)
    p.c[i] = static_cast<std::int16_t>((i * 13) % kQ);
  p.c[255] = kQ - 1;
  mlkem::byte_encode12(p, bytes);
  CHECK(mlkem::encoded_poly_is_reduced(bytes));
  mlkem::Poly back;
  mlkem::byte_decode12(bytes, back);
  CHECK(back.c == p.c);
  for (std::uint16_t bad : {std::uint16_t{3329}, std::uint16_t{4095}}) {
    auto b = bytes;
    b[382] = static_cast<std::uint8_t>((b[382] & 0x0F) | ((bad & 0x0F) << 4));
    b[383] = static_cast<std::uint8_t>(bad >> 4);
    CHECK_FALSE(mlkem::encoded_poly_is_reduced(b));
    mlkem::byte_decode12(b, back);
    CHECK(back.c[255] == bad - kQ);
  }
}

// ---- ML-KEM: the accumulated CCTV vectors ----

/// C2SP CCTV ML-KEM/README.md, "Accumulated pq-crystals vectors": the inputs come from one SHAKE128
/// stream of the empty string (d, z, m, then a random ciphertext per test); ek, dk, ct, K and the
/// implicit-rejection K of the random ciphertext go into a running SHAKE128, whose first 32 bytes
/// are the result. CCTV made them in December 2023 from FIPS 203's initial public draft, whose key
/// generation hashed d without the final standard's domain separation byte: hence the ipd key
/// generation here (the rest of ML-KEM is unchanged; the ACVP and Wycheproof key generation
/// vectors in mlkem_vectors_test.cpp check the final form).
std::string cctv_accumulated(MlKemParameterSet set, std::size_t tests) {
  const crypto::MlKemSizes sizes = crypto::mlkem_sizes(set);
  const std::size_t per_test = 3 * 32 + sizes.ciphertext;
  // One squeeze of the whole input stream (OpenSSL 3.0 cannot continue a squeeze; hash.h).
  Bytes stream(per_test * tests);
  crypto::shake128({}, stream);
  crypto::ShakeAbsorber out(crypto::Shake::k128);
  for (std::size_t t = 0; t < tests; ++t) {
    const ByteView in = ByteView(stream).subspan(t * per_test, per_test);
    const MlKemSecret d = secret_of(in.subspan(0, 32));
    const MlKemSecret z = secret_of(in.subspan(32, 32));
    const MlKemSecret m = secret_of(in.subspan(64, 32));
    const ByteView random_ct = in.subspan(96, sizes.ciphertext);
    const crypto::MlKemKeyPair keys = crypto::mlkem_generate_from_seed_ipd(set, d, z);
    auto enc = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m);
    REQUIRE(enc);
    auto dec = crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), enc->ciphertext);
    REQUIRE(dec);
    REQUIRE(hush::constant_time_equals(dec->expose(), enc->shared_secret.expose()));
    auto rejected = crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), random_ct);
    REQUIRE(rejected);
    out.absorb(keys.encapsulation_key);
    out.absorb(keys.decapsulation_key.expose());
    out.absorb(enc->ciphertext);
    out.absorb(enc->shared_secret.expose());
    out.absorb(rejected->expose());
  }
  std::array<std::uint8_t, 32> digest{};
  out.finish(digest);
  return hx(digest);
}

TEST_CASE("ML-KEM: C2SP CCTV accumulated vectors: 10000 tests (published hashes)",
          "[unit][vectors]" HUSH_MLKEM_SLOW_TAG) {
  // ML-KEM/README.md of C2SP/CCTV.
  CHECK(cctv_accumulated(MlKemParameterSet::kMlKem768, 10000) ==
        "f7db260e1137a742e05fe0db9525012812b004d29040a5b606aad3d134b548d3");
  CHECK(cctv_accumulated(MlKemParameterSet::kMlKem1024, 10000) ==
        "47ac888fe61544efc0518f46094b4f8a600965fc89822acb06dc7169d24f3543");
}

TEST_CASE("ML-KEM: C2SP CCTV accumulated vectors: first 1000 tests", "[unit][vectors]") {
  // Recorded from this implementation when it matched the published 10,000-test hashes.
  CHECK(cctv_accumulated(MlKemParameterSet::kMlKem768, 1000) ==
        "86a9e9221b7be2f5e7807d68fd034b3c3015a9c6b3a2d06a195a8fdc0036d3f4");
  CHECK(cctv_accumulated(MlKemParameterSet::kMlKem1024, 1000) ==
        "d85ec3b14e34e1eaab74033600ea4442d6ef60a44fc3fde15536773d89508353");
}

// ---- Kyber1024: pq-crystals round-3 test vectors ----

/// pq-crystals/kyber branch round3, ref/test_vectors.c: SUPERCOP's deterministic randombytes
/// (surf), which the program also prints, one line of hex per call.
class Round3Random {
 public:
  /// Fills `out` and appends its hex and a newline to `transcript`, as test_vectors.c does.
  void bytes(std::span<std::uint8_t> out, crypto::Sha256& transcript) {
    for (std::uint8_t& x : out) {
      if (outleft_ == 0) {
        if (++in_[0] == 0)
          if (++in_[1] == 0)
            if (++in_[2] == 0) ++in_[3];
        surf();
        outleft_ = 8;
      }
      x = static_cast<std::uint8_t>(out_[--outleft_]);
    }
    const std::string line = hx(out) + "\n";
    transcript.update(hush::as_bytes(line));
  }

 private:
  static constexpr std::array<std::uint32_t, 32> kSeed = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5,
                                                          8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2,
                                                          6, 4, 3, 3, 8, 3, 2, 7, 9, 5};
  static std::uint32_t rotate(std::uint32_t x, int b) { return (x << b) | (x >> (32 - b)); }
  void surf() {
    std::array<std::uint32_t, 12> t{};
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 12; ++i)
      t[i] = in_[i] ^ kSeed[12 + i];
    for (std::size_t i = 0; i < 8; ++i)
      out_[i] = kSeed[24 + i];
    std::uint32_t x = t[11];
    constexpr std::array<int, 12> kRotations = {5, 7, 9, 13, 5, 7, 9, 13, 5, 7, 9, 13};
    for (int loop = 0; loop < 2; ++loop) {
      for (int r = 0; r < 16; ++r) {
        sum += 0x9e3779b9U;
        for (std::size_t i = 0; i < 12; ++i)
          x = t[i] += ((x ^ kSeed[i]) + sum) ^ rotate(x, kRotations[i]);
      }
      for (std::size_t i = 0; i < 8; ++i)
        out_[i] ^= t[i + 4];
    }
  }
  std::array<std::uint32_t, 12> in_{};
  std::array<std::uint32_t, 8> out_{};
  std::size_t outleft_ = 0;
};

/// SHA-256 of the output of round-3 test_vectors1024 for `tests` tests, with hush's Kyber1024 in
/// place of the reference: keygen is round 3's (G(d) without domain separation); encapsulation
/// with m = H(coins) (round 3 hashes its random bytes first) is ML-KEM's plus the round-3 KDF.
std::string round3_transcript(std::size_t tests) {
  crypto::Sha256 transcript;
  Round3Random random;
  auto line = [&](std::string_view label, ByteView value) {
    transcript.update(hush::as_bytes(std::string(label) + hx(value) + "\n"));
  };
  for (std::size_t t = 0; t < tests; ++t) {
    MlKemSecret d, z, coins;
    random.bytes(d.expose_mut(), transcript);  // indcpa_keypair
    random.bytes(z.expose_mut(), transcript);  // crypto_kem_keypair
    const crypto::MlKemKeyPair keys =
        crypto::mlkem_generate_from_seed_ipd(MlKemParameterSet::kMlKem1024, d, z);
    line("Public Key: ", keys.encapsulation_key);
    line("Secret Key: ", keys.decapsulation_key.expose());
    random.bytes(coins.expose_mut(), transcript);  // crypto_kem_enc
    const MlKemSecret m = secret_of(crypto::sha3_256(coins.expose()));
    auto enc = crypto::kyber1024_encapsulate_from_seed(keys.encapsulation_key, m);
    REQUIRE(enc);
    line("Ciphertext: ", enc->ciphertext);
    line("Shared Secret B: ", enc->shared_secret.expose());
    auto dec = crypto::kyber1024_decapsulate(keys.decapsulation_key.expose(), enc->ciphertext);
    REQUIRE(dec);
    line("Shared Secret A: ", dec->expose());
  }
  std::array<std::uint8_t, 32> digest{};
  transcript.final(digest);
  return hx(digest);
}

TEST_CASE("Kyber1024: pq-crystals round-3 test vectors: 10000 tests (SHA256SUMS tvecs1024)",
          "[unit][vectors]" HUSH_MLKEM_SLOW_TAG) {
  CHECK(round3_transcript(10000) ==
        "ff1a854b9b6761a70c65ccae85246fe0596a949e72eae0866a8a2a2d4ea54b10");
}

TEST_CASE("Kyber1024: pq-crystals round-3 test vectors: first 1000 tests", "[unit][vectors]") {
  // Recorded from this implementation when it matched the published 10,000-test hash.
  CHECK(round3_transcript(1000) ==
        "a751d189bac6adcf2909ffc03b2f5240908511006ca97134b4f8976ce2feedc4");
}

// ---- properties and refusals ----

TEST_CASE("ML-KEM: round trips and sizes and the random variants", "[unit]") {
  for (auto set : {MlKemParameterSet::kMlKem768, MlKemParameterSet::kMlKem1024}) {
    INFO(name(set));
    const crypto::MlKemSizes sizes = crypto::mlkem_sizes(set);
    StreamRandom random("round trips " + name(set));
    auto keys = crypto::mlkem_generate(set, random);
    REQUIRE(keys);
    CHECK(keys->encapsulation_key.size() == sizes.encapsulation_key);
    CHECK(keys->decapsulation_key.size() == sizes.decapsulation_key);
    CHECK(crypto::mlkem_check_encapsulation_key(set, keys->encapsulation_key));
    CHECK(crypto::mlkem_check_decapsulation_key(set, keys->decapsulation_key.expose()));
    for (int i = 0; i < 4; ++i) {
      auto enc = crypto::mlkem_encapsulate(set, random, keys->encapsulation_key);
      REQUIRE(enc);
      CHECK(enc->ciphertext.size() == sizes.ciphertext);
      auto dec = crypto::mlkem_decapsulate(set, keys->decapsulation_key.expose(), enc->ciphertext);
      REQUIRE(dec);
      CHECK(hx(dec->expose()) == hx(enc->shared_secret.expose()));
    }
    FailingRandom failing;
    CHECK(crypto::mlkem_generate(set, failing).error().code() == Errc::kCryptoFailure);
    CHECK(crypto::mlkem_encapsulate(set, failing, keys->encapsulation_key).error().code() ==
          Errc::kCryptoFailure);
  }
}

TEST_CASE("ML-KEM: keys and ciphertexts of the wrong size are refused with their codes", "[unit]") {
  for (auto set : {MlKemParameterSet::kMlKem768, MlKemParameterSet::kMlKem1024}) {
    INFO(name(set));
    const crypto::MlKemSizes sizes = crypto::mlkem_sizes(set);
    const auto keys = crypto::mlkem_generate_from_seed(set, filled_secret(1), filled_secret(2));
    const MlKemSecret m = filled_secret(3);
    auto enc = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m);
    REQUIRE(enc);
    const ByteView ek = keys.encapsulation_key;
    const ByteView dk = keys.decapsulation_key.expose();
    const ByteView ct = enc->ciphertext;
    for (std::size_t delta : {std::size_t{1}, std::size_t{32}}) {
      Bytes longer_ek(ek.begin(), ek.end()), longer_dk(dk.begin(), dk.end()),
          longer_ct(ct.begin(), ct.end());
      longer_ek.resize(ek.size() + delta);
      longer_dk.resize(dk.size() + delta);
      longer_ct.resize(ct.size() + delta);
      for (ByteView bad : {ek.first(ek.size() - delta), ByteView(longer_ek)}) {
        CHECK(crypto::mlkem_encapsulate_from_seed(set, bad, m).error().code() == Errc::kInvalidKey);
        CHECK(crypto::mlkem_check_encapsulation_key(set, bad).error().code() == Errc::kInvalidKey);
      }
      for (ByteView bad : {dk.first(dk.size() - delta), ByteView(longer_dk)}) {
        CHECK(crypto::mlkem_decapsulate(set, bad, ct).error().code() == Errc::kInvalidKey);
        CHECK(crypto::mlkem_check_decapsulation_key(set, bad).error().code() == Errc::kInvalidKey);
      }
      for (ByteView bad : {ct.first(ct.size() - delta), ByteView(longer_ct)})
        CHECK(crypto::mlkem_decapsulate(set, dk, bad).error().code() == Errc::kInvalidMessage);
    }
    CHECK(crypto::mlkem_decapsulate(set, dk, {}).error().code() == Errc::kInvalidMessage);
    CHECK(crypto::mlkem_decapsulate(set, {}, ct).error().code() == Errc::kInvalidKey);
    CHECK(crypto::mlkem_encapsulate_from_seed(set, {}, m).error().code() == Errc::kInvalidKey);
    // The other parameter set's sizes are wrong sizes too.
    const auto other = set == MlKemParameterSet::kMlKem768 ? MlKemParameterSet::kMlKem1024
                                                           : MlKemParameterSet::kMlKem768;
    CHECK(crypto::mlkem_encapsulate_from_seed(other, ek, m).error().code() == Errc::kInvalidKey);
    CHECK(crypto::mlkem_decapsulate(other, dk, ct).error().code() == Errc::kInvalidKey);
    CHECK(sizes.ciphertext == ct.size());
  }
}

TEST_CASE("ML-KEM: the modulus check and the hash check", "[unit]") {
  for (auto set : {MlKemParameterSet::kMlKem768, MlKemParameterSet::kMlKem1024}) {
    INFO(name(set));
    const auto keys = crypto::mlkem_generate_from_seed(set, filled_secret(4), filled_secret(5));
    const MlKemSecret m = filled_secret(6);
    // A coefficient of q or more, anywhere in t-hat, fails the modulus check (FIPS 203 §7.2).
    const std::size_t vector_bytes = keys.encapsulation_key.size() - 32;
    for (std::size_t pos : {std::size_t{0}, std::size_t{1}, vector_bytes / 2, vector_bytes - 2}) {
      for (std::uint16_t value : {std::uint16_t{3329}, std::uint16_t{4095}}) {
        Bytes ek = keys.encapsulation_key;
        const std::size_t start = pos - pos % 3;  // the 3 bytes holding two coefficients
        ek[start] = static_cast<std::uint8_t>(value);
        ek[start + 1] = static_cast<std::uint8_t>((ek[start + 1] & 0xF0) | (value >> 8));
        CHECK(crypto::mlkem_encapsulate_from_seed(set, ek, m).error().code() == Errc::kInvalidKey);
        CHECK(crypto::mlkem_check_encapsulation_key(set, ek).error().code() == Errc::kInvalidKey);
      }
    }
    // Changing rho keeps the key well-formed: not refused.
    Bytes other_rho = keys.encapsulation_key;
    other_rho.back() ^= 1;
    CHECK(crypto::mlkem_encapsulate_from_seed(set, other_rho, m));
    // Any change to the ek inside dk, or to H(ek), fails the hash check (§7.3); a change to
    // dk_pke or z does not (FIPS 203 checks neither).
    const std::size_t k = set == MlKemParameterSet::kMlKem768 ? 3 : 4;
    auto enc = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m);
    REQUIRE(enc);
    for (std::size_t pos : {384 * k, 768 * k, 768 * k + 31, 768 * k + 32, 768 * k + 63}) {
      hush::SecretBytes dk = keys.decapsulation_key.clone();
      dk.expose_mut()[pos] ^= 0x10;
      CHECK(crypto::mlkem_decapsulate(set, dk.expose(), enc->ciphertext).error().code() ==
            Errc::kInvalidKey);
      CHECK(crypto::mlkem_check_decapsulation_key(set, dk.expose()).error().code() ==
            Errc::kInvalidKey);
    }
    for (std::size_t pos : {std::size_t{0}, 384 * k - 1, 768 * k + 64, 768 * k + 95}) {
      hush::SecretBytes dk = keys.decapsulation_key.clone();
      dk.expose_mut()[pos] ^= 0x10;
      CHECK(crypto::mlkem_decapsulate(set, dk.expose(), enc->ciphertext));
    }
  }
}

/// J(z || c) (FIPS 203 §4.1): what implicit rejection must give.
Bytes rejection_key(ByteView dk, ByteView c) {
  Bytes out(32);
  crypto::Sha3().shake256({dk.last(32), c}, out);
  return out;
}

TEST_CASE("ML-KEM: checked keys are made only by the checks and give the same results", "[unit]") {
  for (auto set : {MlKemParameterSet::kMlKem768, MlKemParameterSet::kMlKem1024}) {
    INFO(name(set));
    const auto keys = crypto::mlkem_generate_from_seed(set, filled_secret(7), filled_secret(8));
    const MlKemSecret m = filled_secret(9);
    auto ek = crypto::MlKemEncapsulationKey::check(set, keys.encapsulation_key);
    auto dk = crypto::MlKemDecapsulationKey::check(set, keys.decapsulation_key.expose());
    REQUIRE(ek);
    REQUIRE(dk);
    CHECK(ek->parameter_set() == set);
    CHECK(dk->parameter_set() == set);
    CHECK(hx(ek->bytes()) == hx(keys.encapsulation_key));
    CHECK(hx(ek->hash()) == hx(crypto::sha3_256(keys.encapsulation_key)));
    // Byte for byte what the unchecked entry points give (those pass the KATs).
    auto plain = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, m);
    REQUIRE(plain);
    const crypto::MlKemEncapsulation checked = crypto::mlkem_encapsulate_from_seed(*ek, m);
    CHECK(hx(checked.ciphertext) == hx(plain->ciphertext));
    CHECK(hx(checked.shared_secret.expose()) == hx(plain->shared_secret.expose()));
    auto opened = crypto::mlkem_decapsulate(*dk, checked.ciphertext);
    REQUIRE(opened);
    CHECK(hx(opened->expose()) == hx(plain->shared_secret.expose()));
    Bytes tampered = checked.ciphertext;
    tampered[3] ^= 1;
    auto rejected = crypto::mlkem_decapsulate(*dk, tampered);
    REQUIRE(rejected);
    CHECK(hx(rejected->expose()) == hx(rejection_key(keys.decapsulation_key.expose(), tampered)));
    CHECK(crypto::mlkem_decapsulate(*dk, ByteView(tampered).first(tampered.size() - 1))
              .error()
              .code() == Errc::kInvalidMessage);
    StreamRandom random("checked keys " + name(set));
    auto drawn = crypto::mlkem_encapsulate(random, *ek);
    REQUIRE(drawn);
    CHECK(hx(crypto::mlkem_decapsulate(*dk, drawn->ciphertext)->expose()) ==
          hx(drawn->shared_secret.expose()));
    FailingRandom failing;
    CHECK(crypto::mlkem_encapsulate(failing, *ek).error().code() == Errc::kCryptoFailure);
    // The checks refuse what the unchecked entry points refuse: a key that fails the modulus
    // check, a dk that fails the hash check, the wrong size or the other set's size.
    Bytes unreduced = keys.encapsulation_key;
    unreduced[0] = 0xFF;
    unreduced[1] |= 0x0F;
    CHECK(crypto::MlKemEncapsulationKey::check(set, unreduced).error().code() == Errc::kInvalidKey);
    hush::SecretBytes broken = keys.decapsulation_key.clone();
    broken.expose_mut()[broken.size() - 40] ^= 1;  // inside H(ek)
    CHECK(crypto::MlKemDecapsulationKey::check(set, broken.expose()).error().code() ==
          Errc::kInvalidKey);
    const auto other = set == MlKemParameterSet::kMlKem768 ? MlKemParameterSet::kMlKem1024
                                                           : MlKemParameterSet::kMlKem768;
    CHECK(crypto::MlKemEncapsulationKey::check(other, keys.encapsulation_key).error().code() ==
          Errc::kInvalidKey);
    CHECK(crypto::MlKemDecapsulationKey::check(other, keys.decapsulation_key.expose())
              .error()
              .code() == Errc::kInvalidKey);
    // Kyber1024 through checked keys: only ML-KEM-1024 keys.
    if (set == MlKemParameterSet::kMlKem768) {
      CHECK(crypto::kyber1024_encapsulate(random, *ek).error().code() == Errc::kInvalidArgument);
      CHECK(crypto::kyber1024_decapsulate(*dk, checked.ciphertext).error().code() ==
            Errc::kInvalidArgument);
    } else {
      auto kyber = crypto::kyber1024_encapsulate(random, *ek);
      REQUIRE(kyber);
      auto kyber_opened = crypto::kyber1024_decapsulate(*dk, kyber->ciphertext);
      REQUIRE(kyber_opened);
      CHECK(hx(kyber_opened->expose()) == hx(kyber->shared_secret.expose()));
      auto by_bytes =
          crypto::kyber1024_decapsulate(keys.decapsulation_key.expose(), kyber->ciphertext);
      REQUIRE(by_bytes);
      CHECK(hx(by_bytes->expose()) == hx(kyber->shared_secret.expose()));
    }
  }
}

TEST_CASE("ML-KEM: a tampered ciphertext decapsulates to J(z || c) and is not an error", "[unit]") {
  for (auto set : {MlKemParameterSet::kMlKem768, MlKemParameterSet::kMlKem1024}) {
    INFO(name(set));
    const auto keys = crypto::mlkem_generate_from_seed(set, filled_secret(7), filled_secret(8));
    auto enc = crypto::mlkem_encapsulate_from_seed(set, keys.encapsulation_key, filled_secret(9));
    REQUIRE(enc);
    const ByteView dk = keys.decapsulation_key.expose();
    const std::size_t n = enc->ciphertext.size();
    for (std::size_t pos : {std::size_t{0}, n / 2, n - 129, n - 1}) {
      Bytes c = enc->ciphertext;
      c[pos] ^= 0x01;
      auto k = crypto::mlkem_decapsulate(set, dk, c);
      REQUIRE(k);
      CHECK(hx(k->expose()) == hx(rejection_key(dk, c)));
      CHECK(hx(k->expose()) != hx(enc->shared_secret.expose()));
    }
    const Bytes zeros(n, 0), ones(n, 0xFF);
    for (const Bytes& c : {zeros, ones}) {
      auto k = crypto::mlkem_decapsulate(set, dk, c);
      REQUIRE(k);
      CHECK(hx(k->expose()) == hx(rejection_key(dk, c)));
    }
    // The genuine ciphertext does not give the rejection key.
    CHECK(hx(rejection_key(dk, enc->ciphertext)) != hx(enc->shared_secret.expose()));
  }
}

// ---- incremental ML-KEM-768 ----

TEST_CASE("ML-KEM-768 incremental: encaps1 || encaps2 is Encaps with the same m", "[unit]") {
  StreamRandom random("incremental");
  for (int i = 0; i < 8; ++i) {
    auto keys = crypto::mlkem_generate(MlKemParameterSet::kMlKem768, random);
    REQUIRE(keys);
    const ByteView ek = keys->encapsulation_key;
    auto header = crypto::mlkem768_header(ek);
    REQUIRE(header);
    CHECK(hx(ByteView(*header).first(32)) == hx(ek.last(32)));  // rho
    CHECK(hx(ByteView(*header).last(32)) == hx(crypto::sha3_256(ek)));
    MlKemSecret m;
    REQUIRE(random.fill(m.expose_mut()).has_value());
    auto whole = crypto::mlkem_encapsulate_from_seed(MlKemParameterSet::kMlKem768, ek, m);
    REQUIRE(whole);
    auto first = crypto::mlkem768_encaps1_from_seed(*header, m);
    REQUIRE(first);
    auto second = crypto::mlkem768_encaps2(ek.first(crypto::kMlKem768VectorSize), first->state);
    REQUIRE(second);
    Bytes joined(first->ciphertext1.begin(), first->ciphertext1.end());
    joined.insert(joined.end(), second->begin(), second->end());
    CHECK(hx(joined) == hx(whole->ciphertext));
    CHECK(hx(first->shared_secret.expose()) == hx(whole->shared_secret.expose()));
    // The joined ciphertext is an ordinary one: the normal decaps opens it.
    auto k = crypto::mlkem_decapsulate(MlKemParameterSet::kMlKem768,
                                       keys->decapsulation_key.expose(), joined);
    REQUIRE(k);
    CHECK(hx(k->expose()) == hx(first->shared_secret.expose()));
    // With m from the RandomSource, the same holds for whatever m it drew.
    auto drawn = crypto::mlkem768_encaps1(random, *header);
    REQUIRE(drawn);
    auto drawn2 = crypto::mlkem768_encaps2(ek.first(crypto::kMlKem768VectorSize), drawn->state);
    REQUIRE(drawn2);
    Bytes drawn_joined(drawn->ciphertext1.begin(), drawn->ciphertext1.end());
    drawn_joined.insert(drawn_joined.end(), drawn2->begin(), drawn2->end());
    auto k2 = crypto::mlkem_decapsulate(MlKemParameterSet::kMlKem768,
                                        keys->decapsulation_key.expose(), drawn_joined);
    REQUIRE(k2);
    CHECK(hx(k2->expose()) == hx(drawn->shared_secret.expose()));
  }
}

TEST_CASE("ML-KEM-768 incremental: a key vector that does not match the header is refused",
          "[unit]") {
  const auto keys = crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem768,
                                                     filled_secret(10), filled_secret(11));
  const auto other = crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem768,
                                                      filled_secret(12), filled_secret(13));
  const ByteView ek = keys.encapsulation_key;
  const ByteView t_hat = ek.first(crypto::kMlKem768VectorSize);
  auto header = crypto::mlkem768_header(ek);
  REQUIRE(header);
  auto first = crypto::mlkem768_encaps1_from_seed(*header, filled_secret(14));
  REQUIRE(first);
  // Another key's vector, one changed byte (still reduced), wrong sizes, an unreduced vector.
  CHECK(crypto::mlkem768_encaps2(ByteView(other.encapsulation_key).first(1152), first->state)
            .error()
            .code() == Errc::kInvalidKey);
  Bytes changed(t_hat.begin(), t_hat.end());
  changed[10] ^= 0x01;
  CHECK(crypto::mlkem768_encaps2(changed, first->state).error().code() == Errc::kInvalidKey);
  CHECK(crypto::mlkem768_encaps2(t_hat.first(1151), first->state).error().code() ==
        Errc::kInvalidKey);
  CHECK(crypto::mlkem768_encaps2(ek, first->state).error().code() == Errc::kInvalidKey);
  CHECK(crypto::mlkem768_encaps2({}, first->state).error().code() == Errc::kInvalidKey);
  Bytes unreduced(t_hat.begin(), t_hat.end());
  unreduced[0] = 0xFF;
  unreduced[1] = static_cast<std::uint8_t>(unreduced[1] | 0x0F);
  CHECK(crypto::mlkem768_encaps2(unreduced, first->state).error().code() == Errc::kInvalidKey);
  // A header for another key: encaps2 with this key's vector is refused.
  auto other_header = crypto::mlkem768_header(other.encapsulation_key);
  REQUIRE(other_header);
  auto other_first = crypto::mlkem768_encaps1_from_seed(*other_header, filled_secret(14));
  REQUIRE(other_first);
  CHECK(crypto::mlkem768_encaps2(t_hat, other_first->state).error().code() == Errc::kInvalidKey);
  // The matching vector is accepted.
  CHECK(crypto::mlkem768_encaps2(t_hat, first->state));
  // Malformed headers and keys.
  CHECK(crypto::mlkem768_encaps1_from_seed(ByteView(*header).first(63), filled_secret(1))
            .error()
            .code() == Errc::kInvalidArgument);
  CHECK(crypto::mlkem768_header(ek.first(1183)).error().code() == Errc::kInvalidKey);
  const auto big = crypto::mlkem_generate_from_seed(MlKemParameterSet::kMlKem1024, filled_secret(1),
                                                    filled_secret(2));
  CHECK(crypto::mlkem768_header(big.encapsulation_key).error().code() == Errc::kInvalidKey);
  Bytes unreduced_ek(ek.begin(), ek.end());
  unreduced_ek[0] = 0xFF;
  unreduced_ek[1] = static_cast<std::uint8_t>(unreduced_ek[1] | 0x0F);
  CHECK(crypto::mlkem768_header(unreduced_ek).error().code() == Errc::kInvalidKey);
}

// ---- Kyber1024 ----

TEST_CASE("Kyber1024: ML-KEM-1024 with the round-3 shared secret and typed forms", "[unit]") {
  StreamRandom random("kyber1024");
  auto keys = crypto::kyber1024_generate(random);
  REQUIRE(keys);
  const ByteView ek = keys->encapsulation_key;
  const ByteView dk = keys->decapsulation_key.expose();
  REQUIRE(ek.size() == 1568);
  REQUIRE(dk.size() == 3168);
  const MlKemSecret m = filled_secret(0x42);
  auto kyber = crypto::kyber1024_encapsulate_from_seed(ek, m);
  auto plain = crypto::mlkem_encapsulate_from_seed(MlKemParameterSet::kMlKem1024, ek, m);
  REQUIRE(kyber);
  REQUIRE(plain);
  // The same ciphertext; K = SHAKE256(K_mlkem || SHA3-256(c), 32), c without the type byte.
  CHECK(kyber->ciphertext == plain->ciphertext);
  Bytes expected(32);
  crypto::Sha3().shake256({plain->shared_secret.expose(), crypto::sha3_256(plain->ciphertext)},
                          expected);
  CHECK(hx(kyber->shared_secret.expose()) == hx(expected));
  auto opened = crypto::kyber1024_decapsulate(dk, kyber->ciphertext);
  REQUIRE(opened);
  CHECK(hx(opened->expose()) == hx(expected));
  auto drawn = crypto::kyber1024_encapsulate(random, ek);
  REQUIRE(drawn);
  auto drawn_opened = crypto::kyber1024_decapsulate(dk, drawn->ciphertext);
  REQUIRE(drawn_opened);
  CHECK(hx(drawn_opened->expose()) == hx(drawn->shared_secret.expose()));
  // A tampered ciphertext: the post-processed implicit-rejection key.
  Bytes tampered = kyber->ciphertext;
  tampered[5] ^= 0x80;
  auto rejected = crypto::kyber1024_decapsulate(dk, tampered);
  REQUIRE(rejected);
  Bytes expected_rejection(32);
  crypto::Sha3().shake256({rejection_key(dk, tampered), crypto::sha3_256(tampered)},
                          expected_rejection);
  CHECK(hx(rejected->expose()) == hx(expected_rejection));

  // Typed forms: 0x08 || raw, 1569 bytes for keys and ciphertexts, 3169 for secret keys.
  const Bytes typed_ek = crypto::kyber1024_serialize_public_key(ek);
  REQUIRE(typed_ek.size() == crypto::kKyber1024PublicKeySize);
  CHECK(typed_ek[0] == 0x08);
  auto parsed_ek = crypto::kyber1024_parse_public_key(typed_ek);
  REQUIRE(parsed_ek);
  CHECK(Bytes(parsed_ek->bytes().begin(), parsed_ek->bytes().end()) == Bytes(ek.begin(), ek.end()));
  const hush::SecretBytes typed_dk = crypto::kyber1024_serialize_secret_key(dk);
  REQUIRE(typed_dk.size() == crypto::kKyber1024SecretKeySize);
  auto parsed_dk = crypto::kyber1024_parse_secret_key(typed_dk.expose());
  REQUIRE(parsed_dk);
  CHECK(hush::constant_time_equals(parsed_dk->expose(), dk));
  const Bytes typed_ct = crypto::kyber1024_serialize_ciphertext(kyber->ciphertext);
  REQUIRE(typed_ct.size() == crypto::kKyber1024CiphertextSize);
  auto parsed_ct = crypto::kyber1024_parse_ciphertext(typed_ct);
  REQUIRE(parsed_ct);
  CHECK(*parsed_ct == kyber->ciphertext);

  // Every malformed typed form, with its code.
  for (std::uint8_t type : {std::uint8_t{0x00}, std::uint8_t{0x05}, std::uint8_t{0x07},
                            std::uint8_t{0x0A}, std::uint8_t{0xFF}}) {
    Bytes e = typed_ek, c = typed_ct;
    hush::SecretBytes d = typed_dk.clone();
    e[0] = type;
    c[0] = type;
    d.expose_mut()[0] = type;
    CHECK(crypto::kyber1024_parse_public_key(e).error().code() == Errc::kInvalidKey);
    CHECK(crypto::kyber1024_parse_secret_key(d.expose()).error().code() == Errc::kInvalidKey);
    CHECK(crypto::kyber1024_parse_ciphertext(c).error().code() == Errc::kInvalidMessage);
  }
  auto resized = [](ByteView v, std::size_t n) {
    Bytes b(v.begin(), v.end());
    b.resize(n, 0x08);
    return b;
  };
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1568}, std::size_t{1570},
                        std::size_t{3168}, std::size_t{3169}, std::size_t{3170}}) {
    INFO(n);
    if (n != crypto::kKyber1024PublicKeySize)
      CHECK(crypto::kyber1024_parse_public_key(resized(typed_ek, n)).error().code() ==
            Errc::kInvalidKey);
    if (n != crypto::kKyber1024CiphertextSize)
      CHECK(crypto::kyber1024_parse_ciphertext(resized(typed_ct, n)).error().code() ==
            Errc::kInvalidMessage);
    if (n != crypto::kKyber1024SecretKeySize)
      CHECK(crypto::kyber1024_parse_secret_key(resized(typed_dk.expose(), n)).error().code() ==
            Errc::kInvalidKey);
  }
  // A key without its type byte is refused (1568 bytes), as libsignal's npm build does.
  CHECK(crypto::kyber1024_parse_public_key(ek).error().code() == Errc::kInvalidKey);
  // An unreduced key and a secret key with a broken hash are refused.
  Bytes unreduced = typed_ek;
  unreduced[1] = 0xFF;
  unreduced[2] = static_cast<std::uint8_t>(unreduced[2] | 0x0F);
  CHECK(crypto::kyber1024_parse_public_key(unreduced).error().code() == Errc::kInvalidKey);
  hush::SecretBytes broken = typed_dk.clone();
  broken.expose_mut()[1 + 768 * 4 + 40] ^= 1;
  CHECK(crypto::kyber1024_parse_secret_key(broken.expose()).error().code() == Errc::kInvalidKey);
  // Raw-form operations check sizes like ML-KEM's.
  CHECK(crypto::kyber1024_encapsulate_from_seed(typed_ek, m).error().code() == Errc::kInvalidKey);
  CHECK(crypto::kyber1024_decapsulate(dk, typed_ct).error().code() == Errc::kInvalidMessage);
}

}  // namespace

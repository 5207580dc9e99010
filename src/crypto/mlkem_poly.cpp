// hush internal: ML-KEM polynomial arithmetic, NTT, compression, encodings and samplers (see
// mlkem_poly.h), written from FIPS 203.
#include "crypto/mlkem_poly.h"

#include <cstring>

namespace hush::internal::crypto::mlkem {

namespace {

// ---- constants, computed at compile time from FIPS 203 §4.3 ----

constexpr std::int32_t kQ32 = kQ;
// q^-1 mod 2^16 (3329 * 62209 = 1 mod 2^16), for Montgomery reduction.
constexpr std::uint32_t kQInverse = 62209;
static_assert((static_cast<std::uint32_t>(kQ) * kQInverse) % 65536 == 1);

constexpr std::int32_t pow_mod(std::int32_t base, std::int32_t exponent) {
  std::int64_t result = 1, b = base % kQ32;
  while (exponent > 0) {
    if (exponent & 1) result = result * b % kQ32;
    b = b * b % kQ32;
    exponent >>= 1;
  }
  return static_cast<std::int32_t>(result);
}

constexpr std::int32_t bit_reverse7(std::int32_t i) {
  std::int32_t r = 0;
  for (int b = 0; b < 7; ++b)
    r |= ((i >> b) & 1) << (6 - b);
  return r;
}

// x * 2^16 mod q, as the representative in (-q/2, q/2]: the Montgomery form of x.
constexpr std::int16_t montgomery_form(std::int32_t x) {
  std::int64_t m = (static_cast<std::int64_t>(x) << 16) % kQ32;
  if (m < 0) m += kQ32;
  if (m > kQ32 / 2) m -= kQ32;
  return static_cast<std::int16_t>(m);
}

// zeta^BitRev7(i) with zeta = 17 (the NTT's twiddle factors, Algorithms 9 and 10), and
// zeta^(2 BitRev7(i) + 1) (the moduli X^2 - gamma of Algorithm 11), in Montgomery form.
struct Tables {
  std::array<std::int16_t, 128> zetas{};
  std::array<std::int16_t, 128> gammas{};
};
constexpr Tables make_tables() {
  Tables t;
  for (std::int32_t i = 0; i < 128; ++i) {
    t.zetas[static_cast<std::size_t>(i)] = montgomery_form(pow_mod(17, bit_reverse7(i)));
    t.gammas[static_cast<std::size_t>(i)] = montgomery_form(pow_mod(17, 2 * bit_reverse7(i) + 1));
  }
  return t;
}
constexpr Tables kTables = make_tables();

// 2^32 mod q: multiplying by it in Montgomery arithmetic multiplies by R = 2^16.
constexpr std::int16_t kRSquared = static_cast<std::int16_t>((std::int64_t{1} << 32) % kQ32);
// 128^-1 * R^2 mod q: the final scaling of the inverse NTT (Algorithm 10 multiplies by 128^-1 =
// 3303; the extra R undoes the R^-1 that products carry, see inverse_ntt in the header).
constexpr std::int16_t kInverseNttScale =
    static_cast<std::int16_t>(std::int64_t{3303} * kRSquared % kQ32);
static_assert(std::int64_t{3303} * 128 % kQ32 == 1);

// ---- reductions (branch-free) ----

// a * R^-1 mod q, for |a| < q * 2^15; the result has absolute value below q.
inline std::int16_t montgomery_reduce(std::int32_t a) noexcept {
  const auto t = static_cast<std::int16_t>(
      static_cast<std::uint16_t>(static_cast<std::uint32_t>(a) * kQInverse));
  return static_cast<std::int16_t>((a - static_cast<std::int32_t>(t) * kQ32) >> 16);
}

// a * b * R^-1 mod q.
inline std::int16_t fqmul(std::int16_t a, std::int16_t b) noexcept {
  return montgomery_reduce(static_cast<std::int32_t>(a) * b);
}

// Barrett reduction of any int16_t to a representative in [-(q-1)/2, (q-1)/2]: with
// v = round(2^26 / q), t = round(a * v / 2^26) is a's quotient by q rounded to nearest.
constexpr std::int32_t kBarrettMultiplier = ((1 << 26) + kQ32 / 2) / kQ32;
inline std::int16_t barrett_reduce(std::int16_t a) noexcept {
  const std::int32_t t = (kBarrettMultiplier * a + (1 << 25)) >> 26;  // arithmetic shift (C++20)
  return static_cast<std::int16_t>(a - t * kQ32);
}

// Maps a value in (-q, q) to [0, q): adds q when the sign bit is set.
inline std::int16_t add_q_if_negative(std::int16_t a) noexcept {
  return static_cast<std::int16_t>(a + ((a >> 15) & kQ));
}

// ---- compression (FIPS 203 §4.2.1) ----

// Compress_d(x) = round(2^d * x / q) mod 2^d for x in [0, q), rounding halves up. round(y / q) =
// floor((2y + q) / 2q); the division by 2q is a multiplication by ceil(2^40 / 2q) and a shift,
// exact for every dividend below 2^26 (the error n * (M - 2^40/2q) / 2^40 < 2^26 / 2^40 stays
// below 1/2q, the least distance of a non-integer n/2q from the next integer). Never a division
// instruction on a secret (KyberSlash).
constexpr std::uint64_t kCompressShift = 40;
constexpr std::uint64_t kCompressMultiplier =
    ((std::uint64_t{1} << kCompressShift) + 2 * kQ - 1) / (2 * kQ);
template <int D>
constexpr std::uint32_t compress_value(std::uint32_t x) noexcept {
  const std::uint64_t n =
      (static_cast<std::uint64_t>(x) << (D + 1)) + static_cast<std::uint64_t>(kQ);
  return static_cast<std::uint32_t>((n * kCompressMultiplier) >> kCompressShift) & ((1U << D) - 1);
}
// Decompress_d(y) = round(q * y / 2^d), halves up (a division by a power of two: a shift).
template <int D>
constexpr std::uint32_t decompress_value(std::uint32_t y) noexcept {
  return (y * static_cast<std::uint32_t>(kQ) + (1U << (D - 1))) >> D;
}

// Checks the multiply-and-shift against exact division for every input (at compile time).
template <int D>
constexpr bool compress_is_exact() {
  for (std::uint32_t x = 0; x < static_cast<std::uint32_t>(kQ); ++x) {
    const std::uint32_t exact = ((x << (D + 1)) + static_cast<std::uint32_t>(kQ)) / (2 * kQ);
    if (compress_value<D>(x) != (exact & ((1U << D) - 1))) return false;
  }
  return true;
}
static_assert(compress_is_exact<1>() && compress_is_exact<4>() && compress_is_exact<5>() &&
              compress_is_exact<10>() && compress_is_exact<11>());

// Packs 256 values of D bits each, least significant bit first (ByteEncode_d, Algorithm 5).
template <int D, class Value>
void pack(std::uint8_t* out, Value value) noexcept {
  std::uint64_t acc = 0;
  int bits = 0;
  std::size_t o = 0;
  for (std::size_t i = 0; i < kN; ++i) {
    acc |= static_cast<std::uint64_t>(value(i)) << bits;
    bits += D;
    while (bits >= 8) {  // depends on i only
      out[o++] = static_cast<std::uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

// Unpacks 256 values of D bits each (ByteDecode_d, Algorithm 6, before the reduction mod m).
template <int D, class Sink>
void unpack(const std::uint8_t* in, Sink sink) noexcept {
  std::uint64_t acc = 0;
  int bits = 0;
  std::size_t o = 0;
  for (std::size_t i = 0; i < kN; ++i) {
    while (bits < D) {  // depends on i only
      acc |= static_cast<std::uint64_t>(in[o++]) << bits;
      bits += 8;
    }
    sink(i, static_cast<std::uint32_t>(acc & ((std::uint64_t{1} << D) - 1)));
    acc >>= D;
    bits -= D;
  }
}

}  // namespace

// ---- arithmetic ----

void poly_reduce(Poly& a) noexcept {
  for (auto& x : a.c)
    x = add_q_if_negative(barrett_reduce(x));
}

void poly_add(Poly& a, const Poly& b) noexcept {
  for (std::size_t i = 0; i < kN; ++i)
    a.c[i] = static_cast<std::int16_t>(a.c[i] + b.c[i]);
}

void poly_sub(Poly& a, const Poly& b) noexcept {
  for (std::size_t i = 0; i < kN; ++i)
    a.c[i] = static_cast<std::int16_t>(a.c[i] - b.c[i]);
}

void ntt(Poly& a) noexcept {
  // Algorithm 9. Each layer adds at most q to the absolute values (the products are reduced
  // below q), so after seven layers they stay below 8q < 2^15; one Barrett pass ends it.
  std::size_t k = 1;
  for (std::size_t len = 128; len >= 2; len >>= 1) {
    for (std::size_t start = 0; start < kN; start += 2 * len) {
      const std::int16_t zeta = kTables.zetas[k++];
      for (std::size_t j = start; j < start + len; ++j) {
        const std::int16_t t = fqmul(zeta, a.c[j + len]);
        a.c[j + len] = static_cast<std::int16_t>(a.c[j] - t);
        a.c[j] = static_cast<std::int16_t>(a.c[j] + t);
      }
    }
  }
  for (auto& x : a.c)
    x = barrett_reduce(x);
}

namespace {

// One layer of Algorithm 10 (pairs `len` apart), its twiddle factors from kTables.zetas[k]
// downwards; the sums Barrett-reduced only if kReduce.
template <bool kReduce>
void inverse_ntt_layer(Poly& a, std::size_t len, std::size_t& k) noexcept {
  for (std::size_t start = 0; start < kN; start += 2 * len) {
    const std::int16_t zeta = kTables.zetas[k--];
    for (std::size_t j = start; j < start + len; ++j) {
      const std::int16_t t = a.c[j];
      const auto sum = static_cast<std::int16_t>(t + a.c[j + len]);
      a.c[j] = kReduce ? barrett_reduce(sum) : sum;
      a.c[j + len] = fqmul(zeta, static_cast<std::int16_t>(a.c[j + len] - t));
    }
  }
}

}  // namespace

void inverse_ntt(Poly& a) noexcept {
  // Algorithm 10 with lazy reduction. A layer at most doubles the largest absolute value (the
  // sums; the differences go through the Montgomery product with zeta and come out below q). From
  // inputs below q the bound runs q, 2q, 4q, then 8q < 2^15 for the third layer's sums, which are
  // Barrett-reduced (to below q/2) as they are formed; again 2q, 4q and a reduction in the sixth
  // layer; 2q after the seventh. Every difference formed is below 8q (an int16_t), and its product
  // with a zeta (below q/2) below 4q^2 < q * 2^15, Montgomery reduction's bound; the final scaling
  // (a product of a value below 2q with a constant below q) too. Gives values below q.
  std::size_t k = 127;
  inverse_ntt_layer<false>(a, 2, k);
  inverse_ntt_layer<false>(a, 4, k);
  inverse_ntt_layer<true>(a, 8, k);
  inverse_ntt_layer<false>(a, 16, k);
  inverse_ntt_layer<false>(a, 32, k);
  inverse_ntt_layer<true>(a, 64, k);
  inverse_ntt_layer<false>(a, 128, k);
  static_assert(8 * kQ < (1 << 15) && 4 * kQ * kQ < kQ * (1 << 15));
  static_assert(kInverseNttScale >= 0 && kInverseNttScale < kQ);
  for (auto& x : a.c)
    x = fqmul(x, kInverseNttScale);
}

void to_montgomery(Poly& a) noexcept {
  for (auto& x : a.c)
    x = fqmul(x, kRSquared);
}

template <std::size_t K>
void ntt_multiply_accumulate(Poly& acc, const PolyVec<K>& a, const PolyVec<K>& b) noexcept {
  // Algorithms 11 and 12, summed over the vector before reducing: the int32 sums stay below
  // K * (q^2 + q * q/2) < q * 2^15 for the even coefficients and K * 2q^2 < q * 2^15 for the odd
  // ones (K <= 4), the bound montgomery_reduce needs.
  for (std::size_t i = 0; i < kN / 2; ++i) {
    const std::int16_t gamma = kTables.gammas[i];
    std::int32_t even = 0, odd = 0;
    for (std::size_t k = 0; k < K; ++k) {
      const std::int32_t a0 = a.p[k].c[2 * i], a1 = a.p[k].c[2 * i + 1];
      const std::int32_t b0 = b.p[k].c[2 * i], b1 = b.p[k].c[2 * i + 1];
      even += a0 * b0 + static_cast<std::int32_t>(montgomery_reduce(a1 * b1)) * gamma;
      odd += a0 * b1 + a1 * b0;
    }
    acc.c[2 * i] = montgomery_reduce(even);
    acc.c[2 * i + 1] = montgomery_reduce(odd);
  }
}
template void ntt_multiply_accumulate<3>(Poly&, const PolyVec<3>&, const PolyVec<3>&) noexcept;
template void ntt_multiply_accumulate<4>(Poly&, const PolyVec<4>&, const PolyVec<4>&) noexcept;

// ---- encodings ----

void byte_encode12(const Poly& a, std::span<std::uint8_t, kPolyBytes> out) noexcept {
  for (std::size_t i = 0; i < kN / 2; ++i) {
    const auto c0 = static_cast<std::uint16_t>(a.c[2 * i]);
    const auto c1 = static_cast<std::uint16_t>(a.c[2 * i + 1]);
    out[3 * i] = static_cast<std::uint8_t>(c0);
    out[3 * i + 1] = static_cast<std::uint8_t>((c0 >> 8) | (c1 << 4));
    out[3 * i + 2] = static_cast<std::uint8_t>(c1 >> 4);
  }
}

void byte_decode12(std::span<const std::uint8_t, kPolyBytes> in, Poly& a) noexcept {
  for (std::size_t i = 0; i < kN / 2; ++i) {
    const std::uint16_t b0 = in[3 * i], b1 = in[3 * i + 1], b2 = in[3 * i + 2];
    const auto c0 = static_cast<std::int16_t>(b0 | ((b1 & 0x0F) << 8));
    const auto c1 = static_cast<std::int16_t>((b1 >> 4) | (b2 << 4));
    // Values below 2^12 < 2q: one conditional subtraction of q, by mask, reduces them mod q.
    a.c[2 * i] = add_q_if_negative(static_cast<std::int16_t>(c0 - kQ));
    a.c[2 * i + 1] = add_q_if_negative(static_cast<std::int16_t>(c1 - kQ));
  }
}

bool encoded_poly_is_reduced(std::span<const std::uint8_t, kPolyBytes> in) noexcept {
  std::uint32_t too_big = 0;
  for (std::size_t i = 0; i < kN / 2; ++i) {
    const std::uint32_t b0 = in[3 * i], b1 = in[3 * i + 1], b2 = in[3 * i + 2];
    const std::uint32_t c0 = b0 | ((b1 & 0x0F) << 8);
    const std::uint32_t c1 = (b1 >> 4) | (b2 << 4);
    // (q - 1 - c) wraps around (sets bit 31) exactly when c >= q.
    too_big |=
        (static_cast<std::uint32_t>(kQ - 1) - c0) | (static_cast<std::uint32_t>(kQ - 1) - c1);
  }
  return (too_big >> 31) == 0;
}

template <int D>
void compress_encode(const Poly& a,
                     std::span<std::uint8_t, 32 * static_cast<std::size_t>(D)> out) noexcept {
  pack<D>(out.data(), [&](std::size_t i) {
    return compress_value<D>(static_cast<std::uint32_t>(static_cast<std::uint16_t>(a.c[i])));
  });
}

template <int D>
void decode_decompress(std::span<const std::uint8_t, 32 * static_cast<std::size_t>(D)> in,
                       Poly& a) noexcept {
  unpack<D>(in.data(), [&](std::size_t i, std::uint32_t y) {
    a.c[i] = static_cast<std::int16_t>(decompress_value<D>(y));
  });
}

template void compress_encode<1>(const Poly&, std::span<std::uint8_t, 32>) noexcept;
template void compress_encode<4>(const Poly&, std::span<std::uint8_t, 128>) noexcept;
template void compress_encode<5>(const Poly&, std::span<std::uint8_t, 160>) noexcept;
template void compress_encode<10>(const Poly&, std::span<std::uint8_t, 320>) noexcept;
template void compress_encode<11>(const Poly&, std::span<std::uint8_t, 352>) noexcept;
template void decode_decompress<1>(std::span<const std::uint8_t, 32>, Poly&) noexcept;
template void decode_decompress<4>(std::span<const std::uint8_t, 128>, Poly&) noexcept;
template void decode_decompress<5>(std::span<const std::uint8_t, 160>, Poly&) noexcept;
template void decode_decompress<10>(std::span<const std::uint8_t, 320>, Poly&) noexcept;
template void decode_decompress<11>(std::span<const std::uint8_t, 352>, Poly&) noexcept;

// ---- samplers ----

void sample_ntt(std::span<const std::uint8_t> stream, Poly& a, std::size_t* filled,
                std::size_t* used) noexcept {
  // Algorithm 7: two 12-bit candidates from every 3 bytes, each kept if below q. The stream is the
  // public matrix seed's XOF output, so branching on it is fine.
  std::size_t j = *filled, pos = *used;
  while (j < kN && pos + 3 <= stream.size()) {
    const std::uint16_t b0 = stream[pos], b1 = stream[pos + 1], b2 = stream[pos + 2];
    pos += 3;
    const auto d1 = static_cast<std::uint16_t>(b0 | ((b1 & 0x0F) << 8));
    const auto d2 = static_cast<std::uint16_t>((b1 >> 4) | (b2 << 4));
    if (d1 < kQ) a.c[j++] = static_cast<std::int16_t>(d1);
    if (d2 < kQ && j < kN) a.c[j++] = static_cast<std::int16_t>(d2);
  }
  *filled = j;
  *used = pos;
}

void sample_cbd2(std::span<const std::uint8_t, kCbd2Bytes> in, Poly& a) noexcept {
  // Algorithm 8 with eta = 2: coefficient i is (b[4i] + b[4i+1]) - (b[4i+2] + b[4i+3]) over the
  // bits of `in`, least significant first. Eight coefficients per 32-bit word: pairwise bit sums
  // first, then the differences, without branches or table look-ups.
  for (std::size_t w = 0; w < kCbd2Bytes / 4; ++w) {
    const std::uint32_t word = static_cast<std::uint32_t>(in[4 * w]) |
                               (static_cast<std::uint32_t>(in[4 * w + 1]) << 8) |
                               (static_cast<std::uint32_t>(in[4 * w + 2]) << 16) |
                               (static_cast<std::uint32_t>(in[4 * w + 3]) << 24);
    const std::uint32_t sums = (word & 0x55555555U) + ((word >> 1) & 0x55555555U);
    for (std::size_t k = 0; k < 8; ++k) {
      const auto x = static_cast<std::int16_t>((sums >> (4 * k)) & 3);
      const auto y = static_cast<std::int16_t>((sums >> (4 * k + 2)) & 3);
      a.c[8 * w + k] = static_cast<std::int16_t>(x - y);
    }
  }
}

}  // namespace hush::internal::crypto::mlkem

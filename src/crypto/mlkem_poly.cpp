// hush internal: ML-KEM polynomial arithmetic, NTT, compression, encodings and samplers (see
// mlkem_poly.h), written from FIPS 203. The coefficient loops are written for the compiler's
// auto-vectorization (16-bit lanes, fixed trip counts, no intrinsics): bench/README.md, ML-KEM,
// "Run of 2026-12-06 (fourth)" has what that gave and how it was checked.
#include "crypto/mlkem_poly.h"

#include <algorithm>
#include <cstring>
#include <utility>

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
  // zetas in reverse order (inverse_zetas[i] = zetas[127 - i]), so that the inverse NTT reads its
  // twiddle factors forwards.
  std::array<std::int16_t, 128> inverse_zetas{};
  // The twiddle factors of the layers with pairs 2 and 4 apart, laid out for inner_layers (below):
  // by group g of 8 coefficients, and for pairs 2 apart by half h of the group, at [32 h + g].
  std::array<std::int16_t, 64> forward2{};  // zetas[64 + 2g + h]
  std::array<std::int16_t, 64> inverse2{};  // zetas[127 - 2g - h]
  std::array<std::int16_t, 32> inverse4{};  // zetas[63 - g]
};
constexpr Tables make_tables() {
  Tables t;
  for (std::int32_t i = 0; i < 128; ++i) {
    t.zetas[static_cast<std::size_t>(i)] = montgomery_form(pow_mod(17, bit_reverse7(i)));
    t.gammas[static_cast<std::size_t>(i)] = montgomery_form(pow_mod(17, 2 * bit_reverse7(i) + 1));
    t.inverse_zetas[static_cast<std::size_t>(127 - i)] = t.zetas[static_cast<std::size_t>(i)];
  }
  for (std::size_t g = 0; g < 32; ++g) {
    for (std::size_t h = 0; h < 2; ++h) {
      t.forward2[32 * h + g] = t.zetas[64 + 2 * g + h];
      t.inverse2[32 * h + g] = t.zetas[127 - 2 * g - h];
    }
    t.inverse4[g] = t.zetas[63 - g];
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

// Keeps the next loop a loop until the vectorizer has seen it (GCC would otherwise unroll a short
// inner loop completely and vectorize the loop around it, across blocks, with interleaving
// permutations that cost more than the arithmetic). A hint only: nothing else depends on it.
#if defined(__GNUC__) || defined(__clang__)
#define HUSH_MLKEM_KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define HUSH_MLKEM_KEEP_LOOP
#endif

// ---- reductions (branch-free) ----
//
// Written for 16-bit lanes: every step below is a 16-bit add, subtract, shift, low-half product
// (x86 pmullw) or high-half product (pmulhw), so GCC and clang turn the coefficient loops into
// SIMD code (8 lanes with the x86-64 baseline SSE2, 16 with AVX2) without intrinsics.

// The high 16 bits of the 32-bit product a * b (exact: the product of two int16_t fits).
inline std::int16_t mul_high(std::int16_t a, std::int16_t b) noexcept {
  return static_cast<std::int16_t>((static_cast<std::int32_t>(a) * b) >> 16);
}
// The low 16 bits of a * b.
inline std::int16_t mul_low(std::int16_t a, std::int16_t b) noexcept {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(
      static_cast<std::uint32_t>(static_cast<std::uint16_t>(a)) * static_cast<std::uint16_t>(b)));
}

// q^-1 mod 2^16 as an int16_t (62209 - 2^16).
constexpr auto kQInverse16 =
    static_cast<std::int16_t>(static_cast<std::int32_t>(kQInverse) - 65536);

// a * b * R^-1 mod q, Montgomery reduction of the product in 16-bit operations: with p = a * b and
// t = p * q^-1 mod 2^16 (an int16_t), p - t * q is divisible by 2^16 and congruent to p, so
// (p - t * q) / 2^16 is a * b * R^-1 mod q; it is exactly high(p) - high(t * q), as the low halves
// of p and t * q are equal and cancel without a borrow. For |a * b| < q * 2^15 (and |t| <= 2^15)
// the result has absolute value below q.
inline std::int16_t fqmul(std::int16_t a, std::int16_t b) noexcept {
  const std::int16_t t = mul_low(mul_low(a, b), kQInverse16);
  return static_cast<std::int16_t>(mul_high(a, b) - mul_high(t, kQ));
}

// Barrett reduction of any int16_t to a representative in [-(q-1)/2, (q-1)/2]: with
// v = round(2^26 / q), t = round(a * v / 2^26) is a's quotient by q rounded to nearest. In 16-bit
// operations: with a * v = 2^16 h + l (0 <= l < 2^16), (a * v + 2^25) >> 26 equals (h + 2^9) >> 10,
// as adding l / 2^16 < 1 to the integer h + 2^9 never crosses a multiple of 2^10.
constexpr std::int32_t kBarrettMultiplier = ((1 << 26) + kQ32 / 2) / kQ32;
static_assert(kBarrettMultiplier < (1 << 15));
inline std::int16_t barrett_reduce(std::int16_t a) noexcept {
  const auto t = static_cast<std::int16_t>(
      (mul_high(a, static_cast<std::int16_t>(kBarrettMultiplier)) + (1 << 9)) >> 10);
  return static_cast<std::int16_t>(a - mul_low(t, kQ));
}

// Maps a value in (-q, q) to [0, q): adds q when the sign bit is set.
inline std::int16_t add_q_if_negative(std::int16_t a) noexcept {
  return static_cast<std::int16_t>(a + ((a >> 15) & kQ));
}

// ---- compression (FIPS 203 §4.2.1) ----

// Compress_d(x) = round(2^d * x / q) mod 2^d for x in [0, q), rounding halves up; that is
// floor((2^(d+1) x + q) / 2q) mod 2^d. Here it is (x * M + B) >> S in 32-bit arithmetic (which the
// compiler vectorizes; 64-bit products it does not), with M = 2^(d+S) / q rounded down or up and S
// as large as keeps x * M + B below 2^32. The rounding constant B is chosen at compile time from
// the interval of constants that give the exact quotient for every x in [0, q) (the interval is
// computed below and must not be empty), and compress_is_exact checks every input against exact
// division again. Never a division instruction on a secret (KyberSlash).
template <int D>
struct CompressConstants {
  static constexpr int kShift = D <= 5 ? 31 - D : 21;
  // [lo, hi): the constants B for which (x * m + B) >> S is the exact quotient for every x.
  static constexpr std::array<std::int64_t, 2> interval(std::int64_t m) {
    std::int64_t lo = 0, hi = std::int64_t{1} << 40;
    for (std::int64_t x = 0; x < kQ32; ++x) {
      const std::int64_t c = ((x << (D + 1)) + kQ32) / (2 * kQ32);
      const std::int64_t l = (c << kShift) - x * m;
      const std::int64_t h = ((c + 1) << kShift) - x * m;
      lo = l > lo ? l : lo;
      hi = h < hi ? h : hi;
    }
    return {lo, hi};
  }
  // 2^(d+S) / q rounded down, or up if rounding down leaves no rounding constant.
  static constexpr std::int64_t kFloor = (std::int64_t{1} << (D + kShift)) / kQ32;
  static constexpr std::int64_t kMultiplier =
      interval(kFloor)[0] < interval(kFloor)[1] ? kFloor : kFloor + 1;
  static constexpr std::array<std::int64_t, 2> kInterval = interval(kMultiplier);
  static_assert(kInterval[0] < kInterval[1], "no rounding constant for this shift");
  static constexpr std::int64_t kRound = (kInterval[0] + kInterval[1]) / 2;
  static_assert((kQ32 - 1) * kMultiplier + kRound < (std::int64_t{1} << 32));
};

template <int D>
constexpr std::uint32_t compress_value(std::uint32_t x) noexcept {
  using C = CompressConstants<D>;
  return ((x * static_cast<std::uint32_t>(C::kMultiplier) +
           static_cast<std::uint32_t>(C::kRound)) >>
          C::kShift) &
         ((1U << D) - 1);
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

// ---- ByteEncode_d / ByteDecode_d (Algorithms 5 and 6) ----
//
// 256 values of D bits each, least significant bit first, in groups of Group<D>::kValues values
// that fill Group<D>::kBytes whole bytes (lcm(D, 8) bits). Within a group every byte is an OR of
// shifted values (and every value an OR of shifted bytes) with shifts fixed at compile time, so a
// group is straight-line code with no state carried from one group to the next.
template <int D>
struct Group {
  static constexpr int kBits = D % 8 == 0 ? D : (D % 4 == 0 ? 2 * D : (D % 2 == 0 ? 4 * D : 8 * D));
  static constexpr std::size_t kValues = static_cast<std::size_t>(kBits / D);
  static constexpr std::size_t kBytes = static_cast<std::size_t>(kBits / 8);
  static_assert(kBits % 8 == 0 && kN % kValues == 0);
};

// Bits of value V (of D bits) that fall in byte K of its group, in place.
template <int D, int K, int V>
inline std::uint32_t value_part(const std::uint16_t* x) noexcept {
  constexpr int kAt = V * D - 8 * K;  // where the value's bit 0 sits relative to the byte's
  if constexpr (kAt >= 8 || kAt + D <= 0)
    return 0;
  else if constexpr (kAt >= 0)
    return static_cast<std::uint32_t>(x[V]) << kAt;
  else
    return static_cast<std::uint32_t>(x[V]) >> (-kAt);
}
template <int D, int K, std::size_t... V>
inline std::uint8_t group_byte(const std::uint16_t* x, std::index_sequence<V...>) noexcept {
  return static_cast<std::uint8_t>((value_part<D, K, static_cast<int>(V)>(x) | ...));
}
template <int D, std::size_t... K>
inline void pack_group(const std::uint16_t* x, std::uint8_t* out,
                       std::index_sequence<K...>) noexcept {
  ((out[K] = group_byte<D, static_cast<int>(K)>(x, std::make_index_sequence<Group<D>::kValues>{})),
   ...);
}
// Packs 256 values of D bits each (each below 2^D): ByteEncode_d.
template <int D>
void pack(const std::uint16_t* values, std::uint8_t* out) noexcept {
  using G = Group<D>;
  for (std::size_t g = 0; g < kN / G::kValues; ++g)
    pack_group<D>(values + g * G::kValues, out + g * G::kBytes,
                  std::make_index_sequence<G::kBytes>{});
}

// Bits of byte K of a group that belong to value V, in place in the value (not yet masked).
template <int D, int V, int K>
inline std::uint32_t byte_part(const std::uint8_t* in) noexcept {
  constexpr int kAt = 8 * K - V * D;  // where the byte's bit 0 sits relative to the value's
  if constexpr (kAt >= D || kAt + 8 <= 0)
    return 0;
  else if constexpr (kAt >= 0)
    return static_cast<std::uint32_t>(in[K]) << kAt;
  else
    return static_cast<std::uint32_t>(in[K]) >> (-kAt);
}
template <int D, int V, std::size_t... K>
inline std::uint16_t group_value(const std::uint8_t* in, std::index_sequence<K...>) noexcept {
  return static_cast<std::uint16_t>((byte_part<D, V, static_cast<int>(K)>(in) | ...) &
                                    ((1U << D) - 1));
}
template <int D, std::size_t... V>
inline void unpack_group(const std::uint8_t* in, std::uint16_t* x,
                         std::index_sequence<V...>) noexcept {
  ((x[V] = group_value<D, static_cast<int>(V)>(in, std::make_index_sequence<Group<D>::kBytes>{})),
   ...);
}
// Unpacks 256 values of D bits each: ByteDecode_d before the reduction mod m.
template <int D>
void unpack(const std::uint8_t* in, std::uint16_t* values) noexcept {
  using G = Group<D>;
  for (std::size_t g = 0; g < kN / G::kValues; ++g)
    unpack_group<D>(in + g * G::kBytes, values + g * G::kValues,
                    std::make_index_sequence<G::kValues>{});
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

namespace {

// One layer of Algorithm 9: blocks of 2 * kLen coefficients, one twiddle factor per block (from
// zetas[0] on), the butterfly over the block's two halves. With kLen a constant the inner loop has
// a fixed trip count over contiguous int16_t, which the compiler vectorizes for kLen >= 8.
template <std::size_t kLen>
void ntt_layer(std::int16_t* a, const std::int16_t* zetas) noexcept {
  for (std::size_t block = 0; block < kN / (2 * kLen); ++block) {
    const std::int16_t zeta = zetas[block];
    std::int16_t* lo = a + 2 * kLen * block;
    std::int16_t* hi = lo + kLen;
    HUSH_MLKEM_KEEP_LOOP
    for (std::size_t j = 0; j < kLen; ++j) {
      const std::int16_t t = fqmul(zeta, hi[j]);
      hi[j] = static_cast<std::int16_t>(lo[j] - t);
      lo[j] = static_cast<std::int16_t>(lo[j] + t);
    }
  }
}

// One layer of Algorithm 10 (pairs kLen apart), twiddle factors zetas[0], zetas[1], ... (from
// inverse_zetas) for the blocks in order; the sums Barrett-reduced only if kReduce.
template <std::size_t kLen, bool kReduce>
void inverse_ntt_layer(std::int16_t* a, const std::int16_t* zetas) noexcept {
  for (std::size_t block = 0; block < kN / (2 * kLen); ++block) {
    const std::int16_t zeta = zetas[block];
    std::int16_t* lo = a + 2 * kLen * block;
    std::int16_t* hi = lo + kLen;
    HUSH_MLKEM_KEEP_LOOP
    for (std::size_t j = 0; j < kLen; ++j) {
      const std::int16_t t = lo[j];
      const auto sum = static_cast<std::int16_t>(t + hi[j]);
      lo[j] = kReduce ? barrett_reduce(sum) : sum;
      hi[j] = fqmul(zeta, static_cast<std::int16_t>(hi[j] - t));
    }
  }
}

// The layers with pairs 4 and 2 apart act within groups of 8 coefficients, too short for the
// vector lanes. They run on a transposed copy instead: coefficient 8g + r of the polynomial is
// row r, column g of a table of 8 rows of 32, so a butterfly of the layer with pairs 4 apart pairs
// rows r and r + 4 column by column (twiddle factor by column g), and one with pairs 2 apart rows
// r and r + 2 (twiddle factor by column and by row half). Every loop is then over 32 contiguous
// int16_t; the transposes are fixed permutations the compiler vectorizes too.
using Rows = std::array<std::array<std::int16_t, 32>, 8>;

inline void transpose_in(const std::int16_t* a, Rows& t) noexcept {
  for (std::size_t g = 0; g < 32; ++g)
    for (std::size_t r = 0; r < 8; ++r)
      t[r][g] = a[8 * g + r];
}

// Forward butterflies between rows `lo` and `hi`, twiddle factor zetas[g] for column g.
inline void forward_rows(std::int16_t* lo, std::int16_t* hi, const std::int16_t* zetas) noexcept {
  for (std::size_t g = 0; g < 32; ++g) {
    const std::int16_t t = fqmul(zetas[g], hi[g]);
    hi[g] = static_cast<std::int16_t>(lo[g] - t);
    lo[g] = static_cast<std::int16_t>(lo[g] + t);
  }
}

// Inverse butterflies between rows `lo` and `hi` (no reduction of the sums).
inline void inverse_rows(std::int16_t* lo, std::int16_t* hi, const std::int16_t* zetas) noexcept {
  for (std::size_t g = 0; g < 32; ++g) {
    const std::int16_t t = lo[g];
    lo[g] = static_cast<std::int16_t>(t + hi[g]);
    hi[g] = fqmul(zetas[g], static_cast<std::int16_t>(hi[g] - t));
  }
}

// The last two layers of Algorithm 9 (block k of the layer with pairs 4 apart is group g = k,
// twiddle factor zetas[32 + g]; block k of the one with pairs 2 apart is half h = k mod 2 of group
// g = k / 2, twiddle factor zetas[64 + k]) and the final Barrett pass, as it writes back.
void forward_inner_layers(std::int16_t* a) noexcept {
  Rows t;
  transpose_in(a, t);
  for (std::size_t r = 0; r < 4; ++r)
    forward_rows(t[r].data(), t[r + 4].data(), kTables.zetas.data() + 32);
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t r = 4 * h; r < 4 * h + 2; ++r)
      forward_rows(t[r].data(), t[r + 2].data(), kTables.forward2.data() + 32 * h);
  for (std::size_t g = 0; g < 32; ++g)
    for (std::size_t r = 0; r < 8; ++r)
      a[8 * g + r] = barrett_reduce(t[r][g]);
}

// The first two layers of Algorithm 10 (twiddle factors zetas[127 - k] for block k of the layer
// with pairs 2 apart, zetas[63 - k] for the one with pairs 4 apart), without reducing the sums.
void inverse_inner_layers(std::int16_t* a) noexcept {
  Rows t;
  transpose_in(a, t);
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t r = 4 * h; r < 4 * h + 2; ++r)
      inverse_rows(t[r].data(), t[r + 2].data(), kTables.inverse2.data() + 32 * h);
  for (std::size_t r = 0; r < 4; ++r)
    inverse_rows(t[r].data(), t[r + 4].data(), kTables.inverse4.data());
  for (std::size_t g = 0; g < 32; ++g)
    for (std::size_t r = 0; r < 8; ++r)
      a[8 * g + r] = t[r][g];
}

}  // namespace

void ntt(Poly& a) noexcept {
  // Algorithm 9. Each layer adds at most q to the absolute values (the products are reduced
  // below q), so after seven layers they stay below 8q < 2^15; one Barrett pass ends it. Layer
  // with pairs len apart uses zetas[128 / len ...].
  std::int16_t* c = a.c.data();
  const std::int16_t* z = kTables.zetas.data();
  ntt_layer<128>(c, z + 1);
  ntt_layer<64>(c, z + 2);
  ntt_layer<32>(c, z + 4);
  ntt_layer<16>(c, z + 8);
  ntt_layer<8>(c, z + 16);
  forward_inner_layers(c);
}

void inverse_ntt(Poly& a) noexcept {
  // Algorithm 10 with lazy reduction. A layer at most doubles the largest absolute value (the
  // sums; the differences go through the Montgomery product with zeta and come out below q). From
  // inputs below q the bound runs q, 2q, 4q, then 8q < 2^15 for the third layer's sums, which are
  // Barrett-reduced (to below q/2) as they are formed; again 2q, 4q and a reduction in the sixth
  // layer; 2q after the seventh. Every difference formed is below 8q (an int16_t), and its product
  // with a zeta (below q/2) below 4q^2 < q * 2^15, Montgomery reduction's bound; the final scaling
  // (a product of a value below 2q with a constant below q) too. Gives values below q. The layer
  // with pairs len apart uses zetas[256 / len - 1] downwards, that is inverse_zetas[128 - 256 /
  // len] upwards.
  std::int16_t* c = a.c.data();
  const std::int16_t* z = kTables.inverse_zetas.data();
  inverse_inner_layers(c);
  inverse_ntt_layer<8, true>(c, z + 96);
  inverse_ntt_layer<16, false>(c, z + 112);
  inverse_ntt_layer<32, false>(c, z + 120);
  inverse_ntt_layer<64, true>(c, z + 124);
  inverse_ntt_layer<128, false>(c, z + 126);
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
  // Algorithms 11 and 12, summed over the vector, every product a Montgomery product in 16-bit
  // lanes (fqmul: inputs below q in absolute value, so each product is below q * q < q * 2^15,
  // Montgomery reduction's bound, and comes out below q). Per vector entry the even coefficient
  // gains fqmul(a0, b0) + fqmul(fqmul(a1, b1), gamma) and the odd one fqmul(a0, b1) + fqmul(a1,
  // b0), each below 2q; summed over K <= 4 entries below 8q < 2^15, so the int16_t sums do not
  // overflow, and one Barrett reduction at the end brings them below q. Every term carries one
  // factor R^-1 (gamma is in Montgomery form), as the header says.
  static_assert(K <= 4 && 8 * kQ < (1 << 15));
  std::array<std::int16_t, kN / 2> even{}, odd{};
  for (std::size_t k = 0; k < K; ++k) {
    const std::int16_t* x = a.p[k].c.data();
    const std::int16_t* y = b.p[k].c.data();
    for (std::size_t i = 0; i < kN / 2; ++i) {
      const std::int16_t a0 = x[2 * i], a1 = x[2 * i + 1], b0 = y[2 * i], b1 = y[2 * i + 1];
      even[i] = static_cast<std::int16_t>(even[i] + fqmul(a0, b0) +
                                          fqmul(fqmul(a1, b1), kTables.gammas[i]));
      odd[i] = static_cast<std::int16_t>(odd[i] + fqmul(a0, b1) + fqmul(a1, b0));
    }
  }
  for (std::size_t i = 0; i < kN / 2; ++i) {
    acc.c[2 * i] = barrett_reduce(even[i]);
    acc.c[2 * i + 1] = barrett_reduce(odd[i]);
  }
}
template void ntt_multiply_accumulate<3>(Poly&, const PolyVec<3>&, const PolyVec<3>&) noexcept;
template void ntt_multiply_accumulate<4>(Poly&, const PolyVec<4>&, const PolyVec<4>&) noexcept;

// ---- encodings ----

void byte_encode12(const Poly& a, std::span<std::uint8_t, kPolyBytes> out) noexcept {
  std::array<std::uint16_t, kN> values;
  for (std::size_t i = 0; i < kN; ++i)
    values[i] = static_cast<std::uint16_t>(a.c[i]);
  pack<12>(values.data(), out.data());
}

void byte_decode12(std::span<const std::uint8_t, kPolyBytes> in, Poly& a) noexcept {
  std::array<std::uint16_t, kN> values;
  unpack<12>(in.data(), values.data());
  // Values below 2^12 < 2q: one conditional subtraction of q, by mask, reduces them mod q.
  for (std::size_t i = 0; i < kN; ++i)
    a.c[i] = add_q_if_negative(static_cast<std::int16_t>(values[i] - kQ));
}

bool encoded_poly_is_reduced(std::span<const std::uint8_t, kPolyBytes> in) noexcept {
  std::array<std::uint16_t, kN> values;
  unpack<12>(in.data(), values.data());
  std::uint16_t too_big = 0;
  for (std::size_t i = 0; i < kN; ++i)
    // (q - 1 - c) wraps around (sets bit 15) exactly when c >= q, for c below 2^12.
    too_big = static_cast<std::uint16_t>(too_big | (kQ - 1 - values[i]));
  return (too_big >> 15) == 0;
}

template <int D>
void compress_encode(const Poly& a,
                     std::span<std::uint8_t, 32 * static_cast<std::size_t>(D)> out) noexcept {
  std::array<std::uint16_t, kN> values;
  for (std::size_t i = 0; i < kN; ++i)
    values[i] = static_cast<std::uint16_t>(
        compress_value<D>(static_cast<std::uint32_t>(static_cast<std::uint16_t>(a.c[i]))));
  pack<D>(values.data(), out.data());
}

template <int D>
void decode_decompress(std::span<const std::uint8_t, 32 * static_cast<std::size_t>(D)> in,
                       Poly& a) noexcept {
  std::array<std::uint16_t, kN> values;
  unpack<D>(in.data(), values.data());
  for (std::size_t i = 0; i < kN; ++i)
    a.c[i] = static_cast<std::int16_t>(decompress_value<D>(values[i]));
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
  // In rounds of as many byte triples as surely fit (each adds at most two coefficients), store
  // both candidates of a triple and advance past the ones kept: no branch per candidate, and a
  // rejected one is overwritten by the next store.
  const std::uint8_t* in = stream.data();
  for (;;) {
    const std::size_t triples = std::min((kN - j) / 2, (stream.size() - pos) / 3);
    if (triples == 0) break;
    for (std::size_t t = 0; t < triples; ++t, pos += 3) {
      const std::uint16_t b0 = in[pos], b1 = in[pos + 1], b2 = in[pos + 2];
      const auto d1 = static_cast<std::uint16_t>(b0 | ((b1 & 0x0F) << 8));
      const auto d2 = static_cast<std::uint16_t>((b1 >> 4) | (b2 << 4));
      a.c[j] = static_cast<std::int16_t>(d1);
      j += d1 < kQ ? 1 : 0;
      a.c[j] = static_cast<std::int16_t>(d2);
      j += d2 < kQ ? 1 : 0;
    }
  }
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
  // bits of `in`, least significant first, so byte k gives coefficients 2k and 2k + 1: pairwise
  // bit sums first, then the differences, without branches or table look-ups (a loop over the
  // bytes the compiler vectorizes).
  for (std::size_t k = 0; k < kCbd2Bytes; ++k) {
    const std::uint32_t byte = in[k];
    const std::uint32_t sums = (byte & 0x55U) + ((byte >> 1) & 0x55U);
    a.c[2 * k] = static_cast<std::int16_t>(static_cast<std::int32_t>(sums & 3) -
                                           static_cast<std::int32_t>((sums >> 2) & 3));
    a.c[2 * k + 1] = static_cast<std::int16_t>(static_cast<std::int32_t>((sums >> 4) & 3) -
                                               static_cast<std::int32_t>((sums >> 6) & 3));
  }
}

}  // namespace hush::internal::crypto::mlkem

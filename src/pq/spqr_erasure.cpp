// SPQR's erasure code; see spqr_erasure.h.
#include "pq/spqr_erasure.h"

#include <array>
#include <cstdlib>

namespace hush::pq {
namespace {

constexpr std::uint32_t kPoly = 0x1100B;
constexpr std::size_t kSymbols = kSpqrChunkSize / 2;  // polynomials, one symbol each per chunk

// Logarithm and antilogarithm tables of GF(2^16) mod 0x1100B, to the base x (a generator: the
// polynomial is primitive, which the build below checks: a failure aborts at the first use).
// Every value the erasure code multiplies is public (chunks of the ML-KEM header, ek and
// ciphertext, which travel in the clear, and their indices), so table look-ups indexed by them
// leak nothing; they replace a bit-serial multiplication that was 14 % of a version-4 message's
// time. 384 KiB, built once at the first use (a function-local static: thread-safe, read-only
// after; not constexpr, as clang's constexpr step limit is below the 65,535 steps with the
// standard library's assertions on, as in the fuzz build).
constexpr std::size_t kGf16Order = 65535;  // the multiplicative group's order
struct Gf16Tables {
  std::array<std::uint16_t, 2 * kGf16Order> exp{};  // x^i, twice over: exp[log a + log b]
  std::array<std::uint16_t, kGf16Order + 1> log{};  // log[0] unused
};
void require(bool ok);
Gf16Tables make_gf16_tables() {
  Gf16Tables t;
  std::uint32_t v = 1;
  for (std::size_t i = 0; i < kGf16Order; ++i) {
    require(i == 0 || v != 1);  // else 0x1100B is not primitive: x's order below 65535
    t.exp[i] = static_cast<std::uint16_t>(v);
    t.exp[i + kGf16Order] = static_cast<std::uint16_t>(v);
    t.log[v] = static_cast<std::uint16_t>(i);
    v <<= 1;
    if ((v & 0x10000u) != 0) v ^= kPoly;
  }
  require(v == 1);  // x^65535 == 1
  return t;
}
const Gf16Tables& gf16() {
  static const Gf16Tables tables = make_gf16_tables();
  return tables;
}

void require(bool ok) {
  if (!ok) std::abort();  // a caller bug, never input-driven
}

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// The Lagrange weights at x0 of the points xs: w_i = prod_{m != i} (x0 - x_m) / (x_i - x_m). In
// characteristic 2, minus is xor. x0 must not be one of xs (and xs are distinct).
// As w_i = P / ((x0 - x_i) d_i) with P = prod_m (x0 - x_m) and d_i = prod_{m != i} (x_i - x_m),
// one field inversion serves all k weights (Montgomery's trick: invert the product of the
// divisors, then peel each inverse off with two multiplications): k^2 + 4k multiplications and one
// inversion instead of 2k^2 multiplications and k inversions. Chunks and points are public.
std::vector<std::uint16_t> lagrange_weights(std::span<const std::uint16_t> xs, std::uint16_t x0) {
  const std::size_t k = xs.size();
  std::vector<std::uint16_t> divisor(k);  // (x0 - x_i) d_i, never 0
  std::uint16_t p = 1;
  for (std::size_t i = 0; i < k; ++i) {
    std::uint16_t d = static_cast<std::uint16_t>(x0 ^ xs[i]);
    p = gf16_mul(p, d);
    for (std::size_t m = 0; m < k; ++m)
      if (m != i) d = gf16_mul(d, static_cast<std::uint16_t>(xs[i] ^ xs[m]));
    divisor[i] = d;
  }
  // prefix[i] = divisor[0] ... divisor[i-1].
  std::vector<std::uint16_t> w(k);
  std::uint16_t prefix = 1;
  for (std::size_t i = 0; i < k; ++i) {
    w[i] = prefix;
    prefix = gf16_mul(prefix, divisor[i]);
  }
  std::uint16_t inverse = gf16_inv(prefix);  // 1 / (divisor[0] ... divisor[k-1])
  for (std::size_t i = k; i-- > 0;) {
    // inverse = 1 / (divisor[0] ... divisor[i]); w[i] = divisor[0] ... divisor[i-1].
    const std::uint16_t inv_i = gf16_mul(inverse, w[i]);  // 1 / divisor[i]
    inverse = gf16_mul(inverse, divisor[i]);
    w[i] = gf16_mul(p, inv_i);
  }
  return w;
}

// out = sum_i w_i * block_i, symbol by symbol.
void combine(std::span<const std::uint16_t> w, std::span<const std::uint8_t* const> blocks,
             std::uint8_t* out) {
  for (std::size_t s = 0; s < kSymbols; ++s) {
    std::uint16_t acc = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
      acc ^= gf16_mul(w[i], load16(blocks[i] + 2 * s));
    store16(out + 2 * s, acc);
  }
}

}  // namespace

std::uint16_t gf16_mul(std::uint16_t a, std::uint16_t b) noexcept {
  if (a == 0 || b == 0) return 0;
  const Gf16Tables& t = gf16();
  return t.exp[static_cast<std::size_t>(t.log[a]) + t.log[b]];
}

std::uint16_t gf16_inv(std::uint16_t a) noexcept {
  if (a == 0) return 0;
  const Gf16Tables& t = gf16();
  return t.exp[kGf16Order - t.log[a]];
}

std::array<std::uint8_t, kSpqrChunkSize> erasure_chunk(ByteView payload, std::uint16_t index) {
  require(!payload.empty() && payload.size() % kSpqrChunkSize == 0 &&
          payload.size() <= kSpqrMaxPayloadSize);
  const std::size_t k = payload.size() / kSpqrChunkSize;
  std::array<std::uint8_t, kSpqrChunkSize> out{};
  if (index < k) {
    for (std::size_t i = 0; i < kSpqrChunkSize; ++i)
      out[i] = payload[index * kSpqrChunkSize + i];
    return out;
  }
  std::vector<std::uint16_t> xs(k);
  std::vector<const std::uint8_t*> blocks(k);
  for (std::size_t x = 0; x < k; ++x) {
    xs[x] = static_cast<std::uint16_t>(x);
    blocks[x] = payload.data() + x * kSpqrChunkSize;
  }
  combine(lagrange_weights(xs, index), blocks, out.data());
  return out;
}

Bytes erasure_decode(std::size_t payload_size, std::span<const SpqrChunk> chunks) {
  require(payload_size != 0 && payload_size % kSpqrChunkSize == 0 &&
          payload_size <= kSpqrMaxPayloadSize);
  const std::size_t k = payload_size / kSpqrChunkSize;
  require(chunks.size() == k);
  std::vector<std::uint16_t> xs(k);
  std::vector<const std::uint8_t*> blocks(k);
  std::vector<const SpqrChunk*> at(k, nullptr);  // the chunk holding data block x, if any
  for (std::size_t i = 0; i < k; ++i) {
    xs[i] = chunks[i].index;
    blocks[i] = chunks[i].data.data();
    for (std::size_t m = 0; m < i; ++m)
      require(xs[m] != xs[i]);
    if (xs[i] < k) at[xs[i]] = &chunks[i];
  }
  Bytes out(payload_size);
  for (std::size_t x = 0; x < k; ++x) {
    std::uint8_t* dst = out.data() + x * kSpqrChunkSize;
    if (at[x] != nullptr) {
      for (std::size_t i = 0; i < kSpqrChunkSize; ++i)
        dst[i] = at[x]->data[i];
    } else {
      combine(lagrange_weights(xs, static_cast<std::uint16_t>(x)), blocks, dst);
    }
  }
  return out;
}

}  // namespace hush::pq

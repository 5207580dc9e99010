// SPQR's erasure code; see spqr_erasure.h.
#include "pq/spqr_erasure.h"

#include <cstdlib>

namespace hush::pq {
namespace {

constexpr std::uint32_t kPoly = 0x1100B;
constexpr std::size_t kSymbols = kSpqrChunkSize / 2;  // polynomials, one symbol each per chunk

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
std::vector<std::uint16_t> lagrange_weights(std::span<const std::uint16_t> xs, std::uint16_t x0) {
  std::vector<std::uint16_t> w(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    std::uint16_t num = 1;
    std::uint16_t den = 1;
    for (std::size_t m = 0; m < xs.size(); ++m) {
      if (m == i) continue;
      num = gf16_mul(num, static_cast<std::uint16_t>(x0 ^ xs[m]));
      den = gf16_mul(den, static_cast<std::uint16_t>(xs[i] ^ xs[m]));
    }
    w[i] = gf16_mul(num, gf16_inv(den));
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
  std::uint32_t r = 0;
  for (unsigned i = 0; i < 16; ++i)
    r ^= (static_cast<std::uint32_t>(a) << i) & (0u - ((static_cast<std::uint32_t>(b) >> i) & 1u));
  for (unsigned i = 30; i >= 16; --i)
    r ^= (kPoly << (i - 16)) & (0u - ((r >> i) & 1u));
  return static_cast<std::uint16_t>(r);
}

std::uint16_t gf16_inv(std::uint16_t a) noexcept {
  // a^(2^16 - 2) = a^-1 (and 0 for 0): 2^16 - 2 = 0b1111111111111110.
  std::uint16_t result = 1;
  std::uint16_t power = a;  // a^(2^i)
  for (unsigned i = 0; i < 16; ++i) {
    if (i != 0) result = gf16_mul(result, power);
    power = gf16_mul(power, power);
  }
  return result;
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

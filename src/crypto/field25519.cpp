// hush internal: GF(2^255 - 19) in five 51-bit limbs (products in unsigned __int128), and the
// Montgomery/Edwards maps on it. See field25519.h for why it exists.
#include "crypto/field25519.h"

#include <array>
#include <cstddef>

namespace hush::internal::crypto {

namespace {

using u64 = std::uint64_t;
// A GCC/Clang extension (every 64-bit target hush builds on has it); __extension__ keeps
// -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 u128;

constexpr u64 kMask51 = (u64{1} << 51) - 1;

// An element: v[0] + v[1]·2^51 + v[2]·2^102 + v[3]·2^153 + v[4]·2^204, not necessarily reduced.
// Between operations every limb stays below 2^52, which keeps the products below 2^128.
struct Fe {
  std::array<u64, 5> v{};
};

Fe fe_from_u64(u64 x) {
  Fe r;
  r.v[0] = x;
  return r;
}

u64 load64_le(const std::uint8_t* p) {
  u64 x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | p[i];
  return x;
}

void store64_le(std::uint8_t* p, u64 x) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<std::uint8_t>(x);
    x >>= 8;
  }
}

// The low 255 bits of a little-endian 32-byte string (bit 255 ignored).
Fe fe_from_bytes(std::span<const std::uint8_t, 32> s) {
  const u64 w0 = load64_le(s.data());
  const u64 w1 = load64_le(s.data() + 8);
  const u64 w2 = load64_le(s.data() + 16);
  const u64 w3 = load64_le(s.data() + 24) & ((u64{1} << 63) - 1);
  Fe r;
  r.v[0] = w0 & kMask51;
  r.v[1] = ((w0 >> 51) | (w1 << 13)) & kMask51;
  r.v[2] = ((w1 >> 38) | (w2 << 26)) & kMask51;
  r.v[3] = ((w2 >> 25) | (w3 << 39)) & kMask51;
  r.v[4] = w3 >> 12;
  return r;
}

// One carry pass: limbs 1..4 end below 2^51, limb 0 below 2^51 + 19·2^13 (the top carry, times
// 19 because 2^255 = 19 mod p).
void fe_carry(Fe& h) {
  u64 c = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    h.v[i] += c;
    c = h.v[i] >> 51;
    h.v[i] &= kMask51;
  }
  h.v[0] += 19 * c;
}

Fe fe_add(const Fe& f, const Fe& g) {
  Fe h;
  for (std::size_t i = 0; i < 5; ++i)
    h.v[i] = f.v[i] + g.v[i];
  fe_carry(h);
  return h;
}

// f - g as f + 2p - g: 2p's limbs exceed any carried limb of g, so nothing goes negative.
Fe fe_sub(const Fe& f, const Fe& g) {
  constexpr u64 kTwoP0 = 2 * ((u64{1} << 51) - 19);
  constexpr u64 kTwoPi = 2 * kMask51;
  Fe h;
  h.v[0] = f.v[0] + kTwoP0 - g.v[0];
  for (std::size_t i = 1; i < 5; ++i)
    h.v[i] = f.v[i] + kTwoPi - g.v[i];
  fe_carry(h);
  return h;
}

Fe fe_mul(const Fe& f, const Fe& g) {
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  // Terms that reach 2^255 or beyond wrap around times 19.
  const u64 g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  u128 r0 =
      u128{f0} * g0 + u128{f1} * g4_19 + u128{f2} * g3_19 + u128{f3} * g2_19 + u128{f4} * g1_19;
  u128 r1 = u128{f0} * g1 + u128{f1} * g0 + u128{f2} * g4_19 + u128{f3} * g3_19 + u128{f4} * g2_19;
  u128 r2 = u128{f0} * g2 + u128{f1} * g1 + u128{f2} * g0 + u128{f3} * g4_19 + u128{f4} * g3_19;
  u128 r3 = u128{f0} * g3 + u128{f1} * g2 + u128{f2} * g1 + u128{f3} * g0 + u128{f4} * g4_19;
  u128 r4 = u128{f0} * g4 + u128{f1} * g3 + u128{f2} * g2 + u128{f3} * g1 + u128{f4} * g0;
  r1 += static_cast<u64>(r0 >> 51);
  r2 += static_cast<u64>(r1 >> 51);
  r3 += static_cast<u64>(r2 >> 51);
  r4 += static_cast<u64>(r3 >> 51);
  Fe h;
  h.v[0] = static_cast<u64>(r0) & kMask51;
  h.v[1] = static_cast<u64>(r1) & kMask51;
  h.v[2] = static_cast<u64>(r2) & kMask51;
  h.v[3] = static_cast<u64>(r3) & kMask51;
  h.v[4] = static_cast<u64>(r4) & kMask51;
  // Inputs below 2^52 per limb keep r4 below 2^107, so the carry out of r4 is below 2^56 and 19
  // times it fits in 64 bits; one more carry brings limb 0 back below 2^51.
  h.v[0] += 19 * static_cast<u64>(r4 >> 51);
  h.v[1] += h.v[0] >> 51;
  h.v[0] &= kMask51;
  return h;
}

Fe fe_sq_n(Fe f, int n) {
  for (int i = 0; i < n; ++i)
    f = fe_mul(f, f);
  return f;
}

// z^(p-2) = z^(2^255 - 21) = 1/z for z != 0 (and 0 for z = 0), by a fixed addition chain.
Fe fe_invert(const Fe& z) {
  const Fe z2 = fe_mul(z, z);                           // 2
  const Fe z9 = fe_mul(fe_sq_n(z2, 2), z);              // 9
  const Fe z11 = fe_mul(z9, z2);                        // 11
  const Fe z_5 = fe_mul(fe_mul(z11, z11), z9);          // 2^5 - 1
  const Fe z_10 = fe_mul(fe_sq_n(z_5, 5), z_5);         // 2^10 - 1
  const Fe z_20 = fe_mul(fe_sq_n(z_10, 10), z_10);      // 2^20 - 1
  const Fe z_40 = fe_mul(fe_sq_n(z_20, 20), z_20);      // 2^40 - 1
  const Fe z_50 = fe_mul(fe_sq_n(z_40, 10), z_10);      // 2^50 - 1
  const Fe z_100 = fe_mul(fe_sq_n(z_50, 50), z_50);     // 2^100 - 1
  const Fe z_200 = fe_mul(fe_sq_n(z_100, 100), z_100);  // 2^200 - 1
  const Fe z_250 = fe_mul(fe_sq_n(z_200, 50), z_50);    // 2^250 - 1
  return fe_mul(fe_sq_n(z_250, 5), z11);                // 2^255 - 32 + 11
}

// The canonical (fully reduced) little-endian encoding.
void fe_to_bytes(Fe h, std::span<std::uint8_t, 32> out) {
  fe_carry(h);
  fe_carry(h);  // now every limb is below 2^51 except a possible tiny excess in limb 0, h < 2p
  // q = 1 exactly when h >= p, i.e. when h + 19 reaches 2^255.
  u64 q = (h.v[0] + 19) >> 51;
  for (std::size_t i = 1; i < 5; ++i)
    q = (h.v[i] + q) >> 51;
  h.v[0] += 19 * q;
  // Subtract q·2^255 by dropping the final carry.
  for (std::size_t i = 0; i < 4; ++i) {
    h.v[i + 1] += h.v[i] >> 51;
    h.v[i] &= kMask51;
  }
  h.v[4] &= kMask51;
  store64_le(out.data(), h.v[0] | (h.v[1] << 51));
  store64_le(out.data() + 8, (h.v[1] >> 13) | (h.v[2] << 38));
  store64_le(out.data() + 16, (h.v[2] >> 26) | (h.v[3] << 25));
  store64_le(out.data() + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

}  // namespace

void edwards_to_montgomery(std::span<const std::uint8_t, 32> edwards_a,
                           std::span<std::uint8_t, 32> u_out) noexcept {
  const Fe y = fe_from_bytes(edwards_a);
  const Fe one = fe_from_u64(1);
  fe_to_bytes(fe_mul(fe_add(one, y), fe_invert(fe_sub(one, y))), u_out);
}

bool montgomery_to_edwards(std::span<const std::uint8_t, 32> u,
                           std::span<std::uint8_t, 32> y_out) noexcept {
  const Fe uf = fe_from_bytes(u);
  const Fe one = fe_from_u64(1);
  const Fe den = fe_add(uf, one);
  std::array<std::uint8_t, 32> den_bytes{};
  fe_to_bytes(den, den_bytes);
  std::uint8_t any = 0;
  for (const auto b : den_bytes)
    any = static_cast<std::uint8_t>(any | b);
  // den = 0 inverts to 0, so y comes out as 0; the caller is told there is no such point.
  fe_to_bytes(fe_mul(fe_sub(uf, one), fe_invert(den)), y_out);
  return any != 0;
}

}  // namespace hush::internal::crypto

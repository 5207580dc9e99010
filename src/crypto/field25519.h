// hush internal: the birational maps between Curve25519 (Montgomery u) and Edwards25519 (y),
// on a small field GF(2^255 - 19) of our own.
//
// Why our own field arithmetic: libsodium 1.0.18 (Debian 12) exposes no field operations, and its
// one conversion, crypto_sign_ed25519_pk_to_curve25519, also proves that the point is in the
// prime-order subgroup, a full scalar multiplication (36 µs here, more than the X25519 it was
// meant to save). OpenSSL BIGNUM would do, but allocates on every call. The maps need one field
// inversion (Fermat, a fixed addition chain) and a few multiplications: about 3 µs. Only public
// values (public keys) go through here, but the code is constant-time anyway (no branches or
// indices on data), so nobody needs to check that claim before reusing it.
//
// Not responsible for: point validation (callers decide what a valid key is).
// Thread-safety: re-entrant (no state).
#pragma once

#include <cstdint>
#include <span>

namespace hush::internal::crypto {

/// The Montgomery u of the Edwards point whose compressed encoding is `edwards_a`:
/// u = (1 + y) / (1 - y) mod p, with y the encoding's low 255 bits (the sign bit of x is ignored).
/// y = 1 (the identity) gives u = 0. Writes the canonical little-endian u.
void edwards_to_montgomery(std::span<const std::uint8_t, 32> edwards_a,
                           std::span<std::uint8_t, 32> u_out) noexcept;

/// The Edwards y for a Montgomery u (the Edwards public key with sign bit 0, as curve25519_verify
/// needs it): y = (u - 1) / (u + 1) mod p, with u read as X25519 reads it
/// (the top bit ignored). Writes the canonical little-endian y (its top bit, the sign bit, 0).
/// Returns false, writing zeros, if u + 1 = 0 mod p (no such point).
bool montgomery_to_edwards(std::span<const std::uint8_t, 32> u,
                           std::span<std::uint8_t, 32> y_out) noexcept;

}  // namespace hush::internal::crypto

// hush internal: X25519 (RFC 7748) on libsodium.
//
// Keys are raw 32-byte strings here; the 0x05-prefixed wire form is handled by PublicKey. A DH
// whose output is all zeros (the peer sent a low-order point) is refused with kInvalidKey.
// Not responsible for: randomness (the caller passes the random bytes).
// Thread-safety: re-entrant.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal::crypto {

/// Clamps a scalar as X25519 and libsignal do: k[0] &= 248; k[31] &= 127; k[31] |= 64.
void x25519_clamp(std::span<std::uint8_t, 32> scalar) noexcept;

/// The public u for `private_scalar` (scalar times the base point 9).
std::array<std::uint8_t, 32> x25519_public(std::span<const std::uint8_t, 32> private_scalar);

/// X25519(private_scalar, their_u). kInvalidKey if the result is all zeros (low-order input).
Result<SecretArray<32>> x25519(std::span<const std::uint8_t, 32> private_scalar,
                               std::span<const std::uint8_t, 32> their_u);

/// Whether `u` is a canonical encoding (u < 2^255 - 19, top bit clear) of a point of the prime-
/// order subgroup (torsion-free, not the identity): what libsignal's PQXDH responder demands of
/// the base key (signal-v4-wire.md §2.3). Keys made by X25519 key generation always pass. Public
/// input only (not constant time in the result).
bool x25519_is_canonical_torsion_free(std::span<const std::uint8_t, 32> u) noexcept;

}  // namespace hush::internal::crypto

// hush internal: Signal's signature scheme over Curve25519 identity keys (wire spec §7.1), on
// libsodium's Ed25519 scalar and point primitives.
//
// `curve25519_sign`: A = a*B with the clamped X25519 scalar a used directly; nonce
// r = SHA-512(0xFE || 0xFF*31 || a || M || Z) mod L with 64 random bytes Z; S = r +
// SHA-512(R||A||M)*a mod L; the sign bit of A goes into bit 7 of sig[63]. `curve25519_verify`: A =
// the Edwards y for the Montgomery u, sign bit from sig[63], then standard Ed25519 verification of
// (R, S with bit 7 cleared) with canonical S < L (libsodium's check).
//
// Thread-safety: re-entrant.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <hush/bytes.h>

namespace hush::internal::crypto {

/// Signs `message` with the clamped X25519 scalar `private_scalar`, using the 64 bytes `random`.
std::array<std::uint8_t, 64> curve25519_sign(std::span<const std::uint8_t, 32> private_scalar,
                                             ByteView message,
                                             std::span<const std::uint8_t, 64> random);

/// The Edwards public key a*B of the clamped X25519 scalar (y, with x's sign in bit 7 of byte 31):
/// the A curve25519_sign signs with.
std::array<std::uint8_t, 32> edwards_public(std::span<const std::uint8_t, 32> private_scalar);

/// curve25519_sign with A (edwards_public of the same scalar) given, to save its computation when
/// one key signs many messages. The signature is wrong (never a leak) if A is not the scalar's.
std::array<std::uint8_t, 64> curve25519_sign_with_edwards(
    std::span<const std::uint8_t, 32> private_scalar, std::span<const std::uint8_t, 32> edwards,
    ByteView message, std::span<const std::uint8_t, 64> random);

/// Verifies a curve25519_sign signature by the X25519 public key `public_u` over `message`.
bool curve25519_verify(std::span<const std::uint8_t, 32> public_u, ByteView message,
                       std::span<const std::uint8_t, 64> signature);

/// curve25519_verify with the Edwards y of the signer's key precomputed (montgomery_to_edwards of
/// its u; bit 7 of byte 31 is ignored: the sign comes from the signature).
bool curve25519_verify_edwards(std::span<const std::uint8_t, 32> edwards_y, ByteView message,
                               std::span<const std::uint8_t, 64> signature);

/// Standard Ed25519 verification (RFC 8032) of `signature` by the Edwards public key `public_a`.
bool ed25519_verify(std::span<const std::uint8_t, 32> public_a, ByteView message,
                    std::span<const std::uint8_t, 64> signature);

}  // namespace hush::internal::crypto

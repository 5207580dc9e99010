// hush internal: libsignal's curve25519_sign / curve25519_verify (wire spec §7.1) on libsodium's
// Ed25519 scalar and point primitives, SHA-512 from OpenSSL, and the Montgomery-to-Edwards
// conversion on our own field arithmetic (field25519.h; only public values go through it).
#include "crypto/signature.h"

#include <algorithm>
#include <cstdlib>

#include <sodium.h>

#include <hush/secret.h>
#include "crypto/ct.h"
#include "crypto/field25519.h"
#include "crypto/hash.h"
#include "crypto/sodium.h"

namespace hush::internal::crypto {

namespace {

// Reduces a 32-byte little-endian value modulo L.
void reduce32(std::span<const std::uint8_t, 32> in, std::span<std::uint8_t, 32> out) {
  SecretArray<64> wide;
  std::copy(in.begin(), in.end(), wide.expose_mut().begin());
  crypto_core_ed25519_scalar_reduce(out.data(), wide.expose().data());
}

}  // namespace

std::array<std::uint8_t, 32> edwards_public(std::span<const std::uint8_t, 32> private_scalar) {
  ensure_sodium();
  // A = a*B with the clamped scalar used directly (not hashed), as curve25519_sign does.
  std::array<std::uint8_t, 32> A{};
  // The return code is a verdict (tests/ct/ suppresses libsodium's own branch on it).
  if (declassified(crypto_scalarmult_ed25519_base_noclamp(A.data(), private_scalar.data())) != 0)
    std::abort();
  return A;
}

std::array<std::uint8_t, 64> curve25519_sign(std::span<const std::uint8_t, 32> private_scalar,
                                             ByteView message,
                                             std::span<const std::uint8_t, 64> random) {
  const std::array<std::uint8_t, 32> A = edwards_public(private_scalar);
  return curve25519_sign_with_edwards(private_scalar, A, message, random);
}

std::array<std::uint8_t, 64> curve25519_sign_with_edwards(
    std::span<const std::uint8_t, 32> private_scalar, std::span<const std::uint8_t, 32> A,
    ByteView message, std::span<const std::uint8_t, 64> random) {
  ensure_sodium();
  const std::uint8_t sign_bit = A[31] & 0x80;

  // r = SHA-512(0xFE || 0xFF*31 || a || M || Z) mod L (sign_modified.c).
  Sha512 h;
  std::array<std::uint8_t, 32> prefix{};
  prefix.fill(0xFF);
  prefix[0] = 0xFE;
  h.update(prefix);
  h.update(private_scalar);
  h.update(message);
  h.update(random);
  SecretArray<64> nonce_hash;
  h.final(nonce_hash.expose_mut());
  SecretArray<32> r;
  crypto_core_ed25519_scalar_reduce(r.expose_mut().data(), nonce_hash.expose().data());

  std::array<std::uint8_t, 64> sig{};
  // r == 0 has probability 2^-252; libsodium refuses it, and so do we.
  if (declassified(crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.expose().data())) != 0)
    std::abort();

  // S = r + SHA-512(R || A || M) * a mod L.
  h.update(ByteView(sig.data(), 32));
  h.update(A);
  h.update(message);
  std::array<std::uint8_t, 64> k_hash{};
  h.final(k_hash);
  std::array<std::uint8_t, 32> k{};
  crypto_core_ed25519_scalar_reduce(k.data(), k_hash.data());
  SecretArray<32> a_reduced, ka;
  reduce32(private_scalar, a_reduced.expose_mut());
  crypto_core_ed25519_scalar_mul(ka.expose_mut().data(), k.data(), a_reduced.expose().data());
  crypto_core_ed25519_scalar_add(sig.data() + 32, r.expose().data(), ka.expose().data());

  // S < L < 2^253, so bit 7 of sig[63] is free: it carries A's sign bit.
  sig[63] = static_cast<std::uint8_t>((sig[63] & 0x7F) | sign_bit);
  return sig;
}

bool ed25519_verify(std::span<const std::uint8_t, 32> public_a, ByteView message,
                    std::span<const std::uint8_t, 64> signature) {
  ensure_sodium();
  // libsodium checks S < L, rejects small-order and non-canonical A and R.
  return crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                             public_a.data()) == 0;
}

bool curve25519_verify(std::span<const std::uint8_t, 32> public_u, ByteView message,
                       std::span<const std::uint8_t, 64> signature) {
  std::array<std::uint8_t, 32> y{};
  if (!montgomery_to_edwards(public_u, y)) return false;
  return curve25519_verify_edwards(y, message, signature);
}

bool curve25519_verify_edwards(std::span<const std::uint8_t, 32> edwards_y, ByteView message,
                               std::span<const std::uint8_t, 64> signature) {
  std::array<std::uint8_t, 32> A{};
  std::copy(edwards_y.begin(), edwards_y.end(), A.begin());
  A[31] = static_cast<std::uint8_t>((A[31] & 0x7F) | (signature[63] & 0x80));
  std::array<std::uint8_t, 64> sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  sig[63] &= 0x7F;
  return ed25519_verify(A, message, sig);
}

}  // namespace hush::internal::crypto

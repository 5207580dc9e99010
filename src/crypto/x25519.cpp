// hush internal: X25519 on libsodium (crypto_scalarmult_curve25519), refusing all-zero outputs.
#include "crypto/x25519.h"

#include <algorithm>
#include <cstdlib>

#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/field25519.h"
#include "crypto/sodium.h"

namespace hush::internal::crypto {

void ensure_sodium() {
  // Runs once (a thread-safe static); libsodium keeps its own immutable state afterwards.
  static const int rc = sodium_init();
  if (rc < 0) std::abort();  // libsodium cannot initialise: nothing can be done safely
}

void x25519_clamp(std::span<std::uint8_t, 32> k) noexcept {
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
}

std::array<std::uint8_t, 32> x25519_public(std::span<const std::uint8_t, 32> private_scalar) {
  ensure_sodium();
  // k*B on Edwards25519 with libsodium's precomputed fixed-base tables, then the birational map to
  // the Montgomery u (field25519.h): the same point as X25519(k, 9), at about half the cost of a
  // ladder (in libsodium 1.0.18, crypto_scalarmult_curve25519_base runs the full ladder). Not
  // crypto_sign_ed25519_pk_to_curve25519: it also checks the subgroup, a second scalar
  // multiplication. The scalar is clamped first, as X25519 would, so any 32 bytes give the X25519
  // public key.
  SecretArray<32> k;
  std::copy(private_scalar.begin(), private_scalar.end(), k.expose_mut().begin());
  x25519_clamp(k.expose_mut());
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> out{};
  // Cannot fail for a clamped scalar (the result is never the identity). The return code is a
  // verdict (tests/ct/ suppresses libsodium's own branch on it).
  if (declassified(crypto_scalarmult_ed25519_base_noclamp(a.data(), k.expose().data())) != 0)
    std::abort();
  edwards_to_montgomery(a, out);
  return out;
}

Result<SecretArray<32>> x25519(std::span<const std::uint8_t, 32> private_scalar,
                               std::span<const std::uint8_t, 32> their_u) {
  ensure_sodium();
  SecretArray<32> out;
  // libsodium returns -1 when the output is all zeros (a low-order peer key, RFC 7748 §6.1);
  // check the output in constant time as well, so the refusal does not depend on that detail.
  // Both checks run (no short circuit), and only their joint verdict is branched on.
  const int rc =
      crypto_scalarmult_curve25519(out.expose_mut().data(), private_scalar.data(), their_u.data());
  const int zero = sodium_is_zero(out.expose().data(), 32);
  if (declassified(static_cast<int>(rc != 0) | zero) != 0)
    return Error(Errc::kInvalidKey, "x25519: low-order public key");
  return out;
}

bool x25519_is_canonical_torsion_free(std::span<const std::uint8_t, 32> u) noexcept {
  // u < p = 2^255 - 19: compared as little-endian integers from the top byte down.
  static constexpr std::array<std::uint8_t, 32> kP = {
      0xED, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
  bool below = false;
  for (std::size_t i = 32; i-- > 0;) {
    if (u[i] < kP[i]) {
      below = true;
      break;
    }
    if (u[i] > kP[i]) return false;
  }
  if (!below) return false;
  // The Edwards point with this u (either sign of x: both have the same order) must decompress
  // and lie in the prime-order subgroup; libsodium also refuses small-order points there.
  std::array<std::uint8_t, 32> y{};
  if (!montgomery_to_edwards(u, y)) return false;
  return crypto_core_ed25519_is_valid_point(y.data()) == 1;
}

}  // namespace hush::internal::crypto

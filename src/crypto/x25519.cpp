// hush internal: X25519 on libsodium (crypto_scalarmult_curve25519), refusing all-zero outputs.
#include "crypto/x25519.h"

#include <cstdlib>

#include <sodium.h>

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
  std::array<std::uint8_t, 32> out{};
  // Fails only for a scalar whose product is the identity, which a clamped scalar never is.
  if (crypto_scalarmult_curve25519_base(out.data(), private_scalar.data()) != 0) std::abort();
  return out;
}

Result<SecretArray<32>> x25519(std::span<const std::uint8_t, 32> private_scalar,
                               std::span<const std::uint8_t, 32> their_u) {
  ensure_sodium();
  SecretArray<32> out;
  // libsodium returns -1 when the output is all zeros (a low-order peer key, RFC 7748 §6.1);
  // check the output in constant time as well, so the refusal does not depend on that detail.
  const int rc =
      crypto_scalarmult_curve25519(out.expose_mut().data(), private_scalar.data(), their_u.data());
  if (rc != 0 || sodium_is_zero(out.expose().data(), 32) == 1)
    return Error(Errc::kInvalidKey, "x25519: low-order public key");
  return out;
}

}  // namespace hush::internal::crypto

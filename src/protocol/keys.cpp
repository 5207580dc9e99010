// hush: Curve25519 public/private keys and Signal-format signatures (keys.h).
#include <hush/keys.h>
#include <algorithm>

#include "crypto/signature.h"
#include "crypto/x25519.h"

namespace hush {

Result<Signature> Signature::parse(ByteView data) {
  if (data.size() != kSize) return Error(Errc::kInvalidSignature, "Signature::parse: length");
  Signature s;
  std::copy(data.begin(), data.end(), s.bytes.begin());
  return s;
}

Result<PublicKey> PublicKey::parse(ByteView serialized) {
  // Strict, as libsignal's curve_decode_point: exactly 33 bytes with the DJB type byte.
  if (serialized.size() != kSerializedSize)
    return Error(Errc::kInvalidKey, "PublicKey::parse: length");
  if (serialized[0] != kTypeByte) return Error(Errc::kInvalidKey, "PublicKey::parse: type byte");
  PublicKey k;
  std::copy(serialized.begin() + 1, serialized.end(), k.u_.begin());
  return k;
}

PublicKey PublicKey::from_u(const std::array<std::uint8_t, 32>& u) noexcept {
  PublicKey k;
  k.u_ = u;
  return k;
}

std::array<std::uint8_t, PublicKey::kSerializedSize> PublicKey::serialize() const noexcept {
  std::array<std::uint8_t, kSerializedSize> out{};
  out[0] = kTypeByte;
  std::copy(u_.begin(), u_.end(), out.begin() + 1);
  return out;
}

bool PublicKey::verify_signature(ByteView message, const Signature& signature) const {
  return internal::crypto::curve25519_verify(u_, message, signature.bytes);
}

Result<PrivateKey> PrivateKey::generate(RandomSource& random) {
  SecretArray<32> scalar;
  if (auto st = random.fill(scalar.expose_mut()); !st) return st.error();
  internal::crypto::x25519_clamp(scalar.expose_mut());
  return PrivateKey(std::move(scalar));
}

Result<PrivateKey> PrivateKey::parse(ByteView bytes) {
  SecretArray<32> scalar;
  if (!SecretArray<32>::from(bytes, scalar))
    return Error(Errc::kInvalidKey, "PrivateKey::parse: length");
  internal::crypto::x25519_clamp(scalar.expose_mut());
  return PrivateKey(std::move(scalar));
}

PublicKey PrivateKey::public_key() const {
  return PublicKey::from_u(internal::crypto::x25519_public(scalar_.expose()));
}

Result<Signature> PrivateKey::sign(RandomSource& random, ByteView message) const {
  SecretArray<64> nonce_random;
  if (auto st = random.fill(nonce_random.expose_mut()); !st) return st.error();
  Signature s;
  s.bytes = internal::crypto::curve25519_sign(scalar_.expose(), message, nonce_random.expose());
  return s;
}

Result<KeyPair> KeyPair::generate(RandomSource& random) {
  auto priv = PrivateKey::generate(random);
  if (!priv) return priv.error();
  return from_private(std::move(*priv));
}

KeyPair KeyPair::from_private(PrivateKey private_key) {
  PublicKey pub = private_key.public_key();
  return KeyPair{pub, std::move(private_key)};
}

Result<KeyPair> KeyPair::from_parts(const PublicKey& public_key, PrivateKey private_key) {
  if (!(private_key.public_key() == public_key))
    return Error(Errc::kInvalidKey, "KeyPair::from_parts: keys do not match");
  return KeyPair{public_key, std::move(private_key)};
}

}  // namespace hush

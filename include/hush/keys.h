/// @file
/// Curve25519 keys and Signal-format signatures.
///
/// Every key in Signal protocol v3 is a Curve25519 key. A public key travels as 33 bytes
/// `0x05 || u` (u: the X25519 Montgomery coordinate, little-endian); a private key is a clamped
/// 32-byte X25519 scalar. Identity keys are ordinary key pairs used both for DH and for signatures
/// in the `curve25519_sign` format (the Edwards sign bit travels in bit 7 of the signature's last
/// byte; wire spec §7.1), so identities can be imported from and exported to libsignal.
///
/// Not responsible for: trust decisions (store.h) or key storage (store.h, in_memory_store.h).
///
/// Thread-safety: `PublicKey` and `Signature` are immutable values that may be shared.
/// `PrivateKey`, `KeyPair` and `IdentityKeyPair` are move-only owners of secrets; one object is not
/// synchronised.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

/// A 64-byte signature in libsignal's `curve25519_sign` format.
struct Signature {
  /// The size in bytes.
  static constexpr std::size_t kSize = 64;
  /// R (32 bytes) || S (32 bytes), with the signer's Edwards sign bit in bit 7 of byte 63.
  std::array<std::uint8_t, kSize> bytes{};

  /// Parses exactly 64 bytes; anything else is kInvalidSignature.
  static Result<Signature> parse(ByteView data);
  /// A view of the 64 bytes.
  ByteView view() const noexcept { return {bytes.data(), bytes.size()}; }
  /// Equal when the 64 bytes are equal (a signature is public: not a constant-time comparison).
  friend bool operator==(const Signature&, const Signature&) = default;
};

/// A Curve25519 public key. Always valid as an encoding (33 bytes, type 0x05); low-order points
/// are accepted here and refused when used in a DH (kInvalidKey).
class PublicKey {
 public:
  /// The size of the wire form, `0x05 || u`.
  static constexpr std::size_t kSerializedSize = 33;
  /// The type byte Signal puts in front of a Curve25519 key (DJB_TYPE).
  static constexpr std::uint8_t kTypeByte = 0x05;

  /// Parses the wire form strictly: exactly 33 bytes starting with 0x05, else kInvalidKey.
  static Result<PublicKey> parse(ByteView serialized);
  /// Wraps a raw 32-byte X25519 u coordinate.
  static PublicKey from_u(const std::array<std::uint8_t, 32>& u) noexcept;

  /// The 33-byte wire form.
  std::array<std::uint8_t, kSerializedSize> serialize() const noexcept;
  /// The raw 32-byte u coordinate (what DH uses).
  const std::array<std::uint8_t, 32>& u() const noexcept { return u_; }

  /// Verifies a `curve25519_sign` signature by this key over `message` as libsignal's
  /// `curve25519_verify` does (sign bit taken from bit 7 of byte 63), and additionally requires a
  /// canonical S < L. Returns false for any invalid signature.
  bool verify_signature(ByteView message, const Signature& signature) const;

  /// Compares in constant time.
  friend bool operator==(const PublicKey& a, const PublicKey& b) noexcept {
    return constant_time_equals(ByteView(a.u_), ByteView(b.u_));
  }

 private:
  std::array<std::uint8_t, 32> u_{};
};

/// A Curve25519 private key: a clamped 32-byte scalar. Move-only; wiped on destruction.
class PrivateKey {
 public:
  /// The size in bytes.
  static constexpr std::size_t kSize = 32;
  /// A fresh random key (clamped). Fails only if `random` fails (kCryptoFailure).
  static Result<PrivateKey> generate(RandomSource& random);
  /// Imports exactly 32 bytes (else kInvalidKey) and clamps them.
  static Result<PrivateKey> parse(ByteView bytes);

  /// The matching public key (a scalar multiplication; callers that need it often should keep a
  /// KeyPair instead).
  PublicKey public_key() const;
  /// Signs `message` in the `curve25519_sign` format with 64 bytes of fresh randomness from
  /// `random` in the nonce (wire spec §7.1). Fails with kCryptoFailure if `random` fails.
  Result<Signature> sign(RandomSource& random, ByteView message) const;

  /// An explicit copy.
  PrivateKey clone() const noexcept { return PrivateKey(scalar_.clone()); }
  /// The raw scalar (for storage). Do not copy it into unwiped memory.
  std::span<const std::uint8_t, 32> expose() const noexcept { return scalar_.expose(); }

  /// Takes the key over; the source is left wiped.
  PrivateKey(PrivateKey&&) noexcept = default;
  /// Takes the key over, overwriting this object's old key; the source is left wiped.
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

 private:
  explicit PrivateKey(SecretArray<32> scalar) noexcept : scalar_(std::move(scalar)) {}
  SecretArray<32> scalar_;
};

/// A private key with its public key. Move-only.
struct KeyPair {
  /// The public half, which may be published.
  PublicKey public_key;
  /// The private half (wiped on destruction).
  PrivateKey private_key;

  /// A fresh random pair. Fails only if `random` fails (kCryptoFailure).
  static Result<KeyPair> generate(RandomSource& random);
  /// The pair for an existing private key (computes the public key).
  static KeyPair from_private(PrivateKey private_key);
  /// Builds a pair from stored parts, checking that they match (else kInvalidKey).
  static Result<KeyPair> from_parts(const PublicKey& public_key, PrivateKey private_key);
  /// An explicit copy.
  KeyPair clone() const noexcept { return KeyPair{public_key, private_key.clone()}; }
};

/// A peer's or our long-term identity key (a Curve25519 public key).
using IdentityKey = PublicKey;

/// Our long-term identity: a Curve25519 key pair used for X3DH and for signing prekeys.
using IdentityKeyPair = KeyPair;

}  // namespace hush

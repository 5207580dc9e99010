/// @file
/// Prekeys, signed prekeys and prekey bundles (X3DH's published keys).
///
/// A device publishes a `PreKeyBundle`: its identity key, one signed prekey (signed by the identity
/// key over the 33-byte serialized prekey) and optionally one one-time prekey. An initiator
/// validates the bundle and runs X3DH against it (session.h). The private halves live in the
/// device's PreKeyStore and SignedPreKeyStore (store.h).
///
/// One-time prekey ids are 24-bit (1..0xFFFFFE), as libsignal's; hush hands them out in increasing
/// order and never reuses one (see `generate_pre_keys`). Id 0xFFFFFF is libsignal's "last resort"
/// id: a one-time prekey with that id is never removed after use.
///
/// Not responsible for: publishing or fetching bundles (transport.h, later) or trust (store.h).
///
/// Thread-safety: `PreKeyBundle` is a value; records are move-only owners of secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <hush/address.h>
#include <hush/context.h>
#include <hush/keys.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

/// A one-time prekey id (24-bit: 1..0xFFFFFE for generated keys).
enum class PreKeyId : std::uint32_t {};
/// A signed prekey id (any 32-bit value).
enum class SignedPreKeyId : std::uint32_t {};

/// The raw number of a PreKeyId.
constexpr std::uint32_t to_uint(PreKeyId id) noexcept {
  return static_cast<std::uint32_t>(id);
}
/// The raw number of a SignedPreKeyId.
constexpr std::uint32_t to_uint(SignedPreKeyId id) noexcept {
  return static_cast<std::uint32_t>(id);
}

/// libsignal's last-resort one-time prekey id: a prekey with this id is never removed after use.
inline constexpr PreKeyId kLastResortPreKeyId{0xFFFFFF};
/// The largest one-time prekey id that `generate_pre_keys` hands out.
inline constexpr PreKeyId kMaxPreKeyId{0xFFFFFE};

/// A one-time prekey with its private key. Move-only.
struct PreKeyRecord {
  /// Its id, which a bundle and a prekey message name it by.
  PreKeyId id{};
  /// The key pair; the public key goes into bundles.
  KeyPair key_pair;
  /// Bookkeeping for Messenger::maintain_keys: the directory has acknowledged this key.
  bool published = false;

  /// Versioned protobuf (hush.storage.PreKeyRecord), holding the private key.
  SecretBytes serialize() const;
  /// Parses a stored record; anything malformed is kCorruptState.
  static Result<PreKeyRecord> deserialize(ByteView data);
  /// An explicit copy.
  PreKeyRecord clone() const { return PreKeyRecord{id, key_pair.clone(), published}; }
};

/// A signed prekey with its private key and the identity's signature. Move-only.
struct SignedPreKeyRecord {
  /// Its id, which a bundle and a prekey message name it by.
  SignedPreKeyId id{};
  /// The key pair; the public key goes into bundles with `signature`.
  KeyPair key_pair;
  /// Signature by the identity key over `key_pair.public_key.serialize()` (33 bytes).
  Signature signature;
  /// Creation time, milliseconds since the Unix epoch.
  std::uint64_t timestamp_ms = 0;
  /// Bookkeeping for Messenger::maintain_keys: the directory has acknowledged this key.
  bool published = false;

  /// Versioned protobuf (hush.storage.SignedPreKeyRecord), holding the private key.
  SecretBytes serialize() const;
  /// Parses a stored record; anything malformed is kCorruptState.
  static Result<SignedPreKeyRecord> deserialize(ByteView data);
  /// An explicit copy.
  SignedPreKeyRecord clone() const {
    return SignedPreKeyRecord{id, key_pair.clone(), signature, timestamp_ms, published};
  }
};

/// The public keys a device publishes so that others can start sessions with it (X3DH §3.2).
struct PreKeyBundle {
  /// The publisher's registration id.
  std::uint32_t registration_id = 0;
  /// The publisher's device id.
  DeviceId device_id{1};
  /// The one-time prekey id, present exactly when `pre_key` is.
  std::optional<PreKeyId> pre_key_id;
  /// The one-time prekey, if one was offered.
  std::optional<PublicKey> pre_key;
  /// The signed prekey id.
  SignedPreKeyId signed_pre_key_id{};
  /// The signed prekey.
  PublicKey signed_pre_key;
  /// The identity's signature over `signed_pre_key.serialize()`.
  Signature signed_pre_key_signature;
  /// The publisher's identity key.
  IdentityKey identity_key;

  /// Checks the bundle: `pre_key_id` and `pre_key` are both present or both absent
  /// (kInvalidArgument otherwise), and the signed prekey signature verifies under `identity_key`
  /// (kInvalidSignature otherwise). Keys are already valid encodings by construction.
  Status validate() const;

  /// hush's bundle format (proto/envelope.proto PreKeyBundle), for directories and transports.
  Bytes serialize() const;
  /// Parses a serialized bundle (untrusted input). Errors: kLimitExceeded (larger than
  /// kMaxBundleBytes), kInvalidProtobuf, kInvalidMessage (missing fields, unknown format),
  /// kInvalidKey, kInvalidSignature (a signature of the wrong length). Does not verify the
  /// signature: call validate() (process_prekey_bundle does).
  static Result<PreKeyBundle> parse(ByteView data);

  /// Equal when every field is equal.
  friend bool operator==(const PreKeyBundle&, const PreKeyBundle&) = default;
};

/// A fresh identity key pair. Fails only if `random` fails.
Result<IdentityKeyPair> generate_identity_key_pair(RandomSource& random);

/// A registration id in libsignal's range 1..16380. Fails only if `random` fails.
Result<std::uint32_t> generate_registration_id(RandomSource& random);

/// A new signed prekey with id `id`, signed by `identity`, timestamped with `ctx.clock`.
Result<SignedPreKeyRecord> generate_signed_pre_key(const Context& ctx,
                                                   const IdentityKeyPair& identity,
                                                   SignedPreKeyId id);

/// `count` new one-time prekeys with ids `first`, `first+1`, ...; kInvalidArgument if `first` is 0
/// or the last id would exceed kMaxPreKeyId (ids never wrap around, so an id is never reused).
Result<std::vector<PreKeyRecord>> generate_pre_keys(const Context& ctx, PreKeyId first,
                                                    std::uint32_t count);

}  // namespace hush

/// @file
/// Prekeys, signed prekeys, Kyber prekeys and prekey bundles (X3DH's and PQXDH's published keys).
///
/// A device publishes a `PreKeyBundle`: its identity key, one signed prekey (signed by the identity
/// key over the 33-byte serialized prekey), optionally one one-time prekey and, for post-quantum
/// sessions (PQXDH, protocol version 4), one signed Kyber prekey (libsignal's "Kyber1024", key type
/// 0x08, signed by the identity key over the 1569-byte serialized key). An initiator validates the
/// bundle and runs PQXDH against it when it has a Kyber prekey, else X3DH (session.h). The private
/// halves live in the device's PreKeyStore, SignedPreKeyStore and KyberPreKeyStore (store.h).
///
/// Kyber prekeys are one-time (removed after their first use) or last-resort (kept, and offered
/// when no one-time Kyber prekey is left; a second session from the same base key under it is
/// refused as a replay).
///
/// One-time prekey ids are 24-bit (1..0xFFFFFE), as libsignal's; hush hands them out in increasing
/// order and never reuses one (see `generate_pre_keys`). Id 0xFFFFFF is libsignal's "last resort"
/// id: a one-time prekey with that id is never removed after use.
///
/// Not responsible for: publishing or fetching bundles (transport.h, later) or trust (store.h).
///
/// Thread-safety: `PreKeyBundle` is a value; records are move-only owners of secrets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
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

/// A Kyber prekey id (any 32-bit value; hush hands them out in increasing order from 1).
enum class KyberPreKeyId : std::uint32_t {};

/// The raw number of a KyberPreKeyId.
constexpr std::uint32_t to_uint(KyberPreKeyId id) noexcept {
  return static_cast<std::uint32_t>(id);
}

/// A Kyber public key as libsignal serializes it: the type byte 0x08 ("Kyber1024", round-3 Kyber
/// on ML-KEM-1024) followed by the 1568-byte encapsulation key. A value; parsing checks it.
class KyberPublicKey {
 public:
  /// The serialized size: 1 + 1568 bytes.
  static constexpr std::size_t kSize = 1569;

  /// An empty key (no bytes); only a placeholder to assign a parsed key to.
  KyberPublicKey() = default;
  /// Parses a serialized key (untrusted input): kInvalidKemKey unless it is exactly kSize bytes,
  /// starts with 0x08 and passes ML-KEM's modulus check.
  static Result<KyberPublicKey> parse(ByteView serialized);
  /// The serialized key (kSize bytes; empty for a default-constructed key).
  ByteView serialize() const noexcept { return ByteView(bytes_); }

  /// Equal when the serialized bytes are equal (public data: not constant time).
  friend bool operator==(const KyberPublicKey&, const KyberPublicKey&) = default;

 private:
  Bytes bytes_;
};

/// A signed Kyber prekey with its secret key and the identity's signature. Move-only.
struct KyberPreKeyRecord {
  /// Its id, which a bundle and a prekey message name it by.
  KyberPreKeyId id{};
  /// The public key; goes into bundles with `signature`.
  KyberPublicKey public_key;
  /// The secret key, serialized as libsignal does (0x08 || FIPS 203 dk, 3169 bytes).
  SecretBytes secret_key;
  /// Signature by the identity key over `public_key.serialize()` (1569 bytes).
  Signature signature;
  /// Creation time, milliseconds since the Unix epoch.
  std::uint64_t timestamp_ms = 0;
  /// A last-resort key: kept after use; a one-time key is removed after its first use.
  bool last_resort = false;
  /// Bookkeeping for the Messenger: the directory has acknowledged this key.
  bool published = false;

  /// Versioned protobuf (hush.storage.KyberPreKeyRecord), holding the secret key.
  SecretBytes serialize() const;
  /// Parses a stored record (untrusted): anything malformed, or larger than
  /// kMaxKyberKeyRecordBytes, is kCorruptState.
  static Result<KyberPreKeyRecord> deserialize(ByteView data);
  /// An explicit copy.
  KyberPreKeyRecord clone() const {
    return KyberPreKeyRecord{id,           public_key,  secret_key.clone(), signature,
                             timestamp_ms, last_resort, published};
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
  /// The Kyber prekey id; present exactly when `kyber_pre_key` is (PQXDH bundles).
  std::optional<KyberPreKeyId> kyber_pre_key_id;
  /// The signed Kyber prekey; absent in an X3DH-only (version 3) bundle.
  std::optional<KyberPublicKey> kyber_pre_key;
  /// The identity's signature over `kyber_pre_key->serialize()`; present exactly with it.
  std::optional<Signature> kyber_pre_key_signature;

  /// Checks the bundle: `pre_key_id` and `pre_key` are both present or both absent, and the three
  /// Kyber fields likewise (kInvalidArgument otherwise); the signed prekey signature and the Kyber
  /// prekey signature verify under `identity_key` (kInvalidSignature otherwise). Keys are already
  /// valid encodings by construction.
  Status validate() const;

  /// hush's bundle format (proto/envelope.proto PreKeyBundle), for directories and transports.
  Bytes serialize() const;
  /// Parses a serialized bundle (untrusted input). Errors: kLimitExceeded (larger than
  /// kMaxBundleBytes), kInvalidProtobuf, kInvalidMessage (missing fields, unknown format, Kyber
  /// fields present only in part), kInvalidKey, kInvalidKemKey (a Kyber key of the wrong type or
  /// length), kInvalidSignature (a signature of the wrong length). Does not verify the signatures:
  /// call validate() (process_prekey_bundle does).
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

/// A new signed Kyber prekey (Kyber1024) with id `id`, signed by `identity`, timestamped with
/// `ctx.clock`; one-time unless `last_resort`. Fails only if `ctx.random` fails.
Result<KyberPreKeyRecord> generate_kyber_pre_key(const Context& ctx,
                                                 const IdentityKeyPair& identity, KyberPreKeyId id,
                                                 bool last_resort);

/// `count` new one-time prekeys with ids `first`, `first+1`, ...; kInvalidArgument if `first` is 0
/// or the last id would exceed kMaxPreKeyId (ids never wrap around, so an id is never reused).
Result<std::vector<PreKeyRecord>> generate_pre_keys(const Context& ctx, PreKeyId first,
                                                    std::uint32_t count);

}  // namespace hush

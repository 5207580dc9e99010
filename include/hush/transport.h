/// @file
/// The interfaces an application supplies to the Messenger: a Transport that carries envelope
/// bytes to peers, and a KeyDirectory (the "server" role) that publishes our prekeys and hands out
/// peers' bundles.
///
/// The library opens no sockets and owns no threads: implementations do the I/O, synchronously,
/// from the thread that calls the Messenger. Nothing a transport or directory returns is trusted:
/// bundles are checked (signature, trust on first use) and messages authenticate themselves; a
/// directory that substitutes its own bundle for a known person (any device id of that name) is
/// refused with kUntrustedIdentity, and for a new person shows up as different safety numbers
/// (fingerprint.h). A directory that strips the Kyber prekey from the bundle of a person we have
/// had a version-4 (post-quantum) session with, or hands out a Kyber prekey that its identity did
/// not sign, is refused (kPostQuantumRequired, kInvalidSignature): it cannot move us back to
/// version 3 with that person, nor to its own Kyber key. For a person met for the first time it
/// can withhold the Kyber prekey and so make the first session version 3 (unless
/// MessengerOptions::require_post_quantum).
///
/// Not responsible for: delivery guarantees (lost, duplicated or reordered envelopes are handled
/// by the protocol), authentication of the server, or addressing beyond hush::Address.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/prekey.h>
#include <hush/result.h>

namespace hush {

/// One envelope for one device, as Transport::send_batch takes it.
struct OutgoingEnvelope {
  /// The device.
  Address recipient;
  /// The envelope bytes.
  Bytes envelope;
};

/// Delivers opaque envelope bytes to a peer. Supplied by the application.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Queues `envelope` for `recipient`. Returns kTransportFailure if it cannot be queued.
  /// Must not call back into the Messenger.
  virtual Status send(const Address& recipient, ByteView envelope) = 0;
  /// Queues several envelopes (one message to every device of a person and of ours) and returns
  /// one status per envelope, in order. The default calls send() for each; a transport whose
  /// server takes one upload for many recipients (a multi-recipient envelope) overrides it.
  virtual std::vector<Status> send_batch(const std::vector<OutgoingEnvelope>& envelopes) {
    std::vector<Status> out;
    out.reserve(envelopes.size());
    for (const OutgoingEnvelope& e : envelopes)
      out.push_back(send(e.recipient, e.envelope));
    return out;
  }
};

/// A signed Kyber prekey as a directory holds and hands it out (PQXDH, signal-v4-wire.md §2.2).
struct SignedKyberPreKey {
  /// Its id, which a bundle and a prekey message name it by.
  KyberPreKeyId id{};
  /// The public key (KyberPublicKey::kSize bytes serialized).
  KyberPublicKey key;
  /// The identity key's signature over `key.serialize()`.
  Signature signature;
  /// Equal when every field is equal.
  friend bool operator==(const SignedKyberPreKey&, const SignedKyberPreKey&) = default;
};

/// What a device publishes to a directory: its identity, its current signed prekey, its current
/// last-resort Kyber prekey, and one-time prekeys (EC and Kyber) to add to those the directory
/// holds (proto/envelope.proto PublishedKeys).
struct PublishedKeys {
  /// The device's registration id (1..16380, from generate_registration_id; in its bundles).
  std::uint32_t registration_id = 0;
  /// Which of its person's devices this is.
  DeviceId device_id{1};
  /// The person's identity key, which signed the signed prekey.
  IdentityKey identity_key;
  /// The id of the current signed prekey.
  SignedPreKeyId signed_pre_key_id{};
  /// The current signed prekey; the directory replaces the one it held with it.
  PublicKey signed_pre_key;
  /// The identity key's signature over `signed_pre_key` (its 33-byte serialized form).
  Signature signed_pre_key_signature;
  /// One-time prekeys to add to those the directory holds; it hands each out once, in a bundle.
  std::vector<std::pair<PreKeyId, PublicKey>> pre_keys;
  /// One-time Kyber prekeys to add to those the directory holds (at most
  /// kMaxPublishedKyberPreKeys); it hands each out once, in a bundle.
  std::vector<SignedKyberPreKey> kyber_pre_keys;
  /// The current last-resort Kyber prekey: the directory replaces the one it held with it and
  /// puts it in every bundle once the one-time Kyber prekeys are used up. Absent from a device
  /// without Kyber prekeys (its bundles are version 3) and then the directory keeps what it holds.
  std::optional<SignedKyberPreKey> last_resort_kyber_pre_key;

  /// The bundle a directory would hand out with `pre_key` (or none) and `kyber_pre_key` (or none:
  /// an X3DH-only bundle).
  PreKeyBundle bundle(std::optional<std::pair<PreKeyId, PublicKey>> pre_key,
                      std::optional<SignedKyberPreKey> kyber_pre_key = std::nullopt) const;
  /// hush's format, for a directory protocol.
  Bytes serialize() const;
  /// Parses (untrusted input). Errors: kLimitExceeded (more than kMaxPublishedPreKeys prekeys or
  /// kMaxPublishedKyberPreKeys Kyber prekeys, or too large), kInvalidProtobuf, kInvalidMessage,
  /// kInvalidKey, kInvalidKemKey, kInvalidSignature (of the wrong length: signatures are checked
  /// by whoever processes a bundle, not here).
  static Result<PublishedKeys> parse(ByteView data);
  /// Equal when every field is equal.
  friend bool operator==(const PublishedKeys&, const PublishedKeys&) = default;
};

/// How many keys a directory still holds for a device (KeyDirectory::available_pre_keys).
struct AvailablePreKeys {
  /// One-time (EC) prekeys left.
  std::uint32_t one_time = 0;
  /// One-time Kyber prekeys left (the last-resort one not counted).
  std::uint32_t kyber_one_time = 0;
  /// Equal when every field is equal.
  friend bool operator==(const AvailablePreKeys&, const AvailablePreKeys&) = default;
};

/// The directory of published keys (a server, or anything that plays its role).
class KeyDirectory {
 public:
  virtual ~KeyDirectory() = default;
  /// Records `keys` for `self`: replaces the identity, the signed prekey and (when present) the
  /// last-resort Kyber prekey, adds the one-time prekeys and one-time Kyber prekeys. Must be
  /// idempotent: a one-time (or one-time Kyber) prekey id it already holds is replaced, never held
  /// twice (a publish whose answer was lost is repeated). kTransportFailure if the directory
  /// cannot be reached.
  virtual Status publish(const Address& self, const PublishedKeys& keys) = 0;
  /// How many of `self`'s one-time prekeys and one-time Kyber prekeys the directory still holds
  /// (0 and 0 if it knows none). (Before Kyber prekeys this returned one count: a directory
  /// written for that fails to compile rather than keep hush users on version 3.)
  virtual Result<AvailablePreKeys> available_pre_keys(const Address& self) = 0;
  /// A bundle for `remote`, consuming one of its one-time prekeys if any is left, and carrying one
  /// of its one-time Kyber prekeys (consumed likewise) if any is left, else its last-resort Kyber
  /// prekey (not consumed), else none (a device that published no Kyber prekeys: version 3).
  /// kNoSession if the directory knows no keys for `remote`; kTransportFailure if it cannot be
  /// reached.
  virtual Result<PreKeyBundle> fetch(const Address& remote) = 0;
  /// Records the signed device list of the person `name` (device_list.h), if its version is
  /// higher than the one held (an honest directory refuses others with kStaleDeviceList; the
  /// Messenger does not rely on it). kTransportFailure if it cannot be reached.
  virtual Status publish_device_list(std::string_view name, ByteView signed_list) = 0;
  /// The signed device list of the person `name`, or nullopt if none was published.
  /// kTransportFailure if the directory cannot be reached.
  virtual Result<std::optional<Bytes>> fetch_device_list(std::string_view name) = 0;
};

}  // namespace hush

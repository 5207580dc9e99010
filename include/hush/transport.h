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
/// (fingerprint.h).
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

/// What a device publishes to a directory: its identity, its current signed prekey, and one-time
/// prekeys to add to those the directory holds (proto/envelope.proto PublishedKeys).
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

  /// The bundle a directory would hand out with `pre_key` (or none).
  PreKeyBundle bundle(std::optional<std::pair<PreKeyId, PublicKey>> pre_key) const;
  /// hush's format, for a directory protocol.
  Bytes serialize() const;
  /// Parses (untrusted input). Errors: kLimitExceeded (more than kMaxPublishedPreKeys prekeys, or
  /// too large), kInvalidProtobuf, kInvalidMessage, kInvalidKey, kInvalidSignature.
  static Result<PublishedKeys> parse(ByteView data);
  /// Equal when every field is equal.
  friend bool operator==(const PublishedKeys&, const PublishedKeys&) = default;
};

/// The directory of published keys (a server, or anything that plays its role).
class KeyDirectory {
 public:
  virtual ~KeyDirectory() = default;
  /// Records `keys` for `self`: replaces the identity and signed prekey, adds the one-time
  /// prekeys. Must be idempotent: a one-time prekey id it already holds is replaced, never held
  /// twice (a publish whose answer was lost is repeated). kTransportFailure if the directory
  /// cannot be reached.
  virtual Status publish(const Address& self, const PublishedKeys& keys) = 0;
  /// How many of `self`'s one-time prekeys the directory still holds (0 if it knows none).
  virtual Result<std::uint32_t> available_pre_keys(const Address& self) = 0;
  /// A bundle for `remote`, consuming one of its one-time prekeys if any is left. kNoSession if
  /// the directory knows no keys for `remote`; kTransportFailure if it cannot be reached.
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

// hush: Messenger, a façade an application drives to send and receive end-to-end encrypted
// messages through its own transport and key directory.
//
// `send` sets up a session on first use (fetching the peer's bundle from the KeyDirectory),
// encrypts, wraps the message in an Envelope (proto/envelope.proto: sender, type, body, message
// id) and hands it to the Transport. `receive` takes envelope bytes and returns the decrypted
// message or a typed error. `maintain_keys` publishes our keys, replenishes one-time prekeys below
// a threshold and rotates the signed prekey on a schedule.
//
// Identities belong to people: all devices of a name share the person's identity key. An identity
// change is a typed event: when a bundle, or a prekey message that authenticated (X3DH and MAC
// verified), carries an identity other than the one trusted for that name, the operation fails
// with kUntrustedIdentity and `identity_change(name)` tells which key is trusted, which was
// offered, and by which device; nothing is sent to any device of that person until the
// application calls `approve_identity()` (after the user compared safety numbers, say). A forged
// message (one that does not authenticate) is kInvalidMessage and raises nothing.
//
// Key upkeep: `maintain_keys` decides a signed prekey rotation in one store transaction (so two
// processes sharing a store rotate once), remembers in the key records what the directory has
// acknowledged, and publishes until it has (a failed publish is retried on the next call; the
// directory must accept a repeated one-time prekey id idempotently). Time arithmetic saturates: a
// clock that goes backwards delays rotation and deletion, never hastens them.
//
// The envelope (sender, type, message id) is not authenticated by itself: only the Signal message
// inside is. `ReceiveOptions::authenticated_name` lets a transport that knows who sent an envelope
// (the server authenticated the sender's connection) refuse one that names somebody else before
// anything is decrypted. The message id is chosen by the sender and carried in the clear: a relay
// can change it. Never let it select what a stored message replaces (key stored messages by
// something of your own, as examples/chat does; README "Storing messages").
//
// What the server (transport and directory) can still do: withhold, delay, reorder or replay
// envelopes (replays are refused), relabel senders (the message then fails to decrypt, or is
// refused before decryption with authenticated_name), hand out its own bundle for a person we
// have never talked to (trust on first use: safety numbers differ), drain one-time prekeys, and
// see who talks to whom and when.
//
// Not responsible for: networking, threads, retries or message persistence (the application's;
// DecryptOptions::before_commit stores plaintexts atomically with the session), and it has no
// crypto of its own.
//
// Thread-safety: a Messenger is not synchronised: call it from one thread at a time. The store
// may be shared with other Messengers and threads (its transactions serialise operations).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <hush/address.h>
#include <hush/context.h>
#include <hush/fingerprint.h>
#include <hush/session.h>
#include <hush/store.h>
#include <hush/transport.h>

namespace hush {

/// Key maintenance policy.
struct MessengerOptions {
  /// Publish more one-time prekeys when the directory holds fewer than this.
  std::uint32_t pre_key_low_water = 20;
  /// How many one-time prekeys to publish at a time.
  std::uint32_t pre_key_batch = 100;
  /// Make a new signed prekey when the current one is older than this (Signal: about a week).
  std::uint64_t signed_pre_key_rotation_ms = std::uint64_t{7} * 24 * 3600 * 1000;
  /// Keep a replaced signed prekey this long, for prekey messages still in flight.
  std::uint64_t signed_pre_key_grace_ms = std::uint64_t{30} * 24 * 3600 * 1000;
};

/// A decrypted message.
struct ReceivedMessage {
  Address sender;
  Bytes message_id;
  SecretBytes plaintext;
};

/// Options for Messenger::receive.
struct ReceiveOptions {
  /// If set, called with the decrypted message (its sender, message id and plaintext) inside the
  /// store's transaction, before anything is written; an error fails the receive and writes
  /// nothing. Lets an application store the message atomically with the session it advanced. The
  /// message id is not authenticated: do not let it choose what a stored message replaces.
  std::function<Status(const Address& sender, ByteView message_id, ByteView plaintext)>
      before_commit;
  /// The sender's name as the transport authenticated it (for example the account of the
  /// connection the server received the envelope on). If set, an envelope that names another
  /// sender is refused with kSenderMismatch before anything is decrypted.
  std::optional<std::string> authenticated_name;
  /// The sender's device as the transport authenticated it, checked the same way.
  std::optional<DeviceId> authenticated_device;
};

/// A person's identity differs from the one we trust for them.
struct IdentityChangeEvent {
  /// The person (the name shared by all their devices).
  std::string person;
  /// The device whose bundle or message offered the new identity.
  Address device;
  /// The identity we trust for the person (the one stored), if any.
  std::optional<IdentityKey> trusted;
  /// The identity the directory or the device's authenticated message offered.
  IdentityKey offered;
};

/// Drives sessions, envelopes and key maintenance over caller-supplied I/O.
class Messenger {
 public:
  /// A messenger for the device `self` whose keys are in `store`. The referents must outlive it.
  Messenger(const Context& ctx, ProtocolStore& store, Transport& transport, KeyDirectory& directory,
            Address self, MessengerOptions options = {});

  /// Publishes our identity, signed prekey and one-time prekeys as needed: everything on first
  /// use; a new signed prekey when the current one is due for rotation (deleting replaced ones
  /// past the grace period), decided in one transaction; more one-time prekeys when the directory
  /// holds fewer than the low water mark; and whatever an earlier publish failed to deliver,
  /// until the directory has acknowledged it. Call at start-up and now and then. Errors: the
  /// directory's, kStoreFailure, kCryptoFailure, kInvalidArgument (prekey ids exhausted).
  Status maintain_keys();

  /// Encrypts `plaintext` for `to` and hands the envelope to the transport; sets up a session
  /// first if there is none (or if the current one was never answered for
  /// kMaxUnacknowledgedSessionAgeMs). Returns the message id. Errors: kUntrustedIdentity (see
  /// identity_change(); also while a change for `to.name` is pending), kNoSession (the directory
  /// has no keys for `to`), kTransportFailure, and those of process_prekey_bundle and
  /// encrypt_message. The session advances even if the transport then fails (the message is lost,
  /// never re-encrypted with the same key).
  Result<Bytes> send(const Address& to, ByteView plaintext);

  /// Decrypts envelope bytes (untrusted input). Errors: kLimitExceeded, kInvalidProtobuf,
  /// kInvalidMessage (malformed envelope, or a message that does not authenticate),
  /// kSenderMismatch (see ReceiveOptions), kUntrustedIdentity (see identity_change()), and those
  /// of decrypt_message. After a prekey message that used one of our one-time prekeys, calls
  /// maintain_keys(); a failure there does not fail the receive (it is retried next time).
  Result<ReceivedMessage> receive(ByteView envelope, const ReceiveOptions& options = {});

  /// The sender an envelope names (not authenticated: only the decrypt says who really sent it),
  /// for example to find the identity_change() after receive failed. Errors as for receive's
  /// parsing: kLimitExceeded, kInvalidProtobuf, kInvalidMessage.
  static Result<Address> envelope_sender(ByteView envelope);

  /// Archives the current session with `peer` (its archived states stay, for late messages), so
  /// the next send fetches a new bundle; the peer's identity stays trusted ("reset secure
  /// session"). Errors: kStoreFailure, kCorruptState.
  Status reset_session(const Address& peer);

  /// The pending identity change for the person `name`, recorded when send or receive failed with
  /// kUntrustedIdentity (forgotten when approved, and on restart).
  std::optional<IdentityChangeEvent> identity_change(std::string_view name) const;

  /// Trusts `identity` for the person `name` (the user approved the change): sessions of their
  /// devices with the old identity are closed, so the next send fetches a new bundle. Errors:
  /// kStoreFailure, kCorruptState.
  Status approve_identity(std::string_view name, const IdentityKey& identity);

  /// The safety number with the person `name` (Signal's: 5200 iterations, scannable version 1),
  /// with the names as stable identifiers. kNoSession if we know no identity for them.
  Result<Fingerprint> safety_number(std::string_view name);

  /// Our address.
  const Address& self() const noexcept { return self_; }

 private:
  void note_identity_change(const Address& device, const IdentityKey& offered);
  const Context& ctx_;
  ProtocolStore& store_;
  Transport& transport_;
  KeyDirectory& directory_;
  Address self_;
  MessengerOptions options_;
  std::map<std::string, IdentityChangeEvent, std::less<>> changes_;
};

}  // namespace hush

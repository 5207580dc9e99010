// hush: Messenger, a façade an application drives to send and receive end-to-end encrypted
// messages through its own transport and key directory.
//
// `send` sets up a session on first use (fetching the peer's bundle from the KeyDirectory),
// encrypts, wraps the message in an Envelope (proto/envelope.proto: sender, type, body, message
// id) and hands it to the Transport. `receive` takes envelope bytes and returns the decrypted
// message or a typed error. `maintain_keys` publishes our keys, replenishes one-time prekeys below
// a threshold and rotates the signed prekey on a schedule.
//
// An identity change is a typed event: when a peer's bundle or prekey message carries an identity
// other than the trusted one, the operation fails with kUntrustedIdentity and `identity_change()`
// tells which key is trusted and which was offered; nothing is sent to that peer until the
// application calls `approve_identity()` (after the user compared safety numbers, say).
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
  /// nothing. Lets an application store the message atomically with the session it advanced.
  std::function<Status(const Address& sender, ByteView message_id, ByteView plaintext)>
      before_commit;
};

/// A peer's identity differs from the one we trust.
struct IdentityChangeEvent {
  Address peer;
  /// The identity we trust for the peer (the one stored), if any.
  std::optional<IdentityKey> trusted;
  /// The identity the directory or the peer's message offered.
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
  /// past the grace period); more one-time prekeys when the directory holds fewer than the low
  /// water mark. Call at start-up and now and then. Errors: the directory's, kStoreFailure,
  /// kCryptoFailure, kInvalidArgument (prekey ids exhausted).
  Status maintain_keys();

  /// Encrypts `plaintext` for `to` and hands the envelope to the transport; sets up a session
  /// first if there is none. Returns the message id. Errors: kUntrustedIdentity (see
  /// identity_change(); also while a change for `to` is pending), kNoSession (the directory has no
  /// keys for `to`), kTransportFailure, and those of process_prekey_bundle and encrypt_message. The
  /// session advances even if the transport then fails (the message is lost, never re-encrypted
  /// with the same key).
  Result<Bytes> send(const Address& to, ByteView plaintext);

  /// Decrypts envelope bytes (untrusted input). Errors: kLimitExceeded, kInvalidProtobuf,
  /// kInvalidMessage (malformed envelope), kUntrustedIdentity (see identity_change()), and those
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

  /// The pending identity change for `peer`, recorded when send or receive failed with
  /// kUntrustedIdentity (forgotten when approved, and on restart).
  std::optional<IdentityChangeEvent> identity_change(const Address& peer) const;

  /// Trusts `identity` for `peer` (the user approved the change): sessions with the old identity
  /// are archived, so the next send fetches a new bundle. Errors: kStoreFailure, kCorruptState.
  Status approve_identity(const Address& peer, const IdentityKey& identity);

  /// The safety number with `peer` (Signal's: 5200 iterations, scannable version 1), with the
  /// address names as stable identifiers. kNoSession if we know no identity for `peer`.
  Result<Fingerprint> safety_number(const Address& peer);

  /// Our address.
  const Address& self() const noexcept { return self_; }

 private:
  Status publish(std::uint32_t pre_keys_to_add);
  const Context& ctx_;
  ProtocolStore& store_;
  Transport& transport_;
  KeyDirectory& directory_;
  Address self_;
  MessengerOptions options_;
  std::map<Address, IdentityChangeEvent> changes_;
};

}  // namespace hush

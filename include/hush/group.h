/// @file
/// Group messaging with sender keys, in libsignal-protocol-c 2.3.3's format and in current
/// libsignal's (sender_key.h says how a group names its format).
///
/// A member creates its chain for a group with `create_sender_key_distribution` and sends the
/// returned SenderKeyDistributionMessage to every other member over their 1:1 sessions (session.h):
/// it holds the chain key, so it must never travel in clear. Each member that receives it calls
/// `process_sender_key_distribution`. The member then encrypts each group message once
/// (`group_encrypt`), signs it with the chain's signing key, and the server fans the one ciphertext
/// out; every member decrypts it with `group_decrypt`.
///
/// The chain (wire spec §2.4-2.5; v4 wire spec §5): message key seed = HMAC-SHA256(CK, 0x01),
/// next CK = HMAC-SHA256(CK, 0x02), HKDF(seed, "WhisperGroup", 48) = iv[16] || key[32],
/// AES-256-CBC with PKCS#7; the signature (curve25519_sign, wire spec §7) covers the version byte
/// and the protobuf.
///
/// Rules (each failure changes no stored state: operations run in one store transaction and write
/// only at the end):
///  - up to kMaxSenderKeyStates chains per (sender, group), newest first; the oldest is dropped;
///  - a message may run ahead of its chain by at most kMaxSenderKeyForwardJumpLegacy (2,000; the
///    legacy format, libsignal-protocol-c's limit) or kMaxSenderKeyForwardJump (25,000; the current
///    format, libsignal's), else kTooFarInFuture; the keys of skipped messages are kept (at most
///    kMaxSenderKeySkippedKeys per chain, the oldest dropped) so late messages still decrypt;
///  - a message already decrypted (or whose key was dropped) is kDuplicateMessage;
///  - a message whose signature does not verify under the chain's signing key is kInvalidMessage,
///    and so is one that does not decrypt;
///  - a distribution message for a chain already held (same chain id and signing key) never
///    restarts it (libsignal's rule, stricter than libsignal-protocol-c's, which replaced the
///    chain): old messages cannot be made to decrypt again; a chain id with another signing key
///    replaces the chain of that id.
///
/// What a server (or anyone who can inject messages) can still do: withhold, delay, reorder,
/// duplicate and drop group messages (duplicates are refused; a message more than the jump limit
/// ahead is refused), deliver a member's group message to some members and not others, and deliver
/// a message under another sender's name (it fails: that sender's chain does not hold its chain id,
/// or its signature does not verify). It cannot read group messages or forge them. A member of the
/// group can read every message sent while it held the sender's chain, and only the sender can
/// sign; note that sender keys authenticate the chain, not who among the chain's holders relayed a
/// distribution message: hand them over only on authenticated 1:1 sessions.
///
/// Not responsible for: membership (who gets a distribution message), transport, or rotating keys
/// when a member leaves (call `rotate_sender_key` and distribute the new chain to those who stay).
///
/// Thread-safety: as session.h: operations may run concurrently on a thread-safe store; parsed
/// messages are immutable values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/context.h>
#include <hush/keys.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/sender_key.h>
#include <hush/session.h>
#include <hush/store.h>

namespace hush {

namespace internal {
struct GroupMessageBuilder;
}  // namespace internal

/// libsignal's CiphertextMessageType for a sender-key message (SENDERKEY_TYPE in
/// libsignal-protocol-c, 7 in current libsignal); hush itself does not use it.
inline constexpr std::uint8_t kLegacySenderKeyMessageType = 4;

/// A parsed sender-key (group) message: `0x33 || protobuf || signature[64]`.
class SenderKeyMessage {
 public:
  /// Parses `serialized` in `format`. Errors: kInvalidMessage (too short, a required field
  /// missing, a distribution id that is not 16 bytes), kLegacyMessage (version < 3),
  /// kInvalidVersion (version > 3), kInvalidProtobuf (the body does not parse; the other format's
  /// layout gives this or kInvalidMessage), kLimitExceeded (larger than kMaxMessageBytes).
  static Result<SenderKeyMessage> parse(SenderKeyFormat format, ByteView serialized);
  /// The exact bytes received or sent, signature included.
  ByteView serialized() const noexcept { return serialized_; }
  /// The wire format.
  SenderKeyFormat format() const noexcept { return format_; }
  /// The distribution id (kCurrent only).
  const std::optional<DistributionId>& distribution_id() const noexcept { return distribution_id_; }
  /// The sender's chain id.
  std::uint32_t chain_id() const noexcept { return chain_id_; }
  /// The index of this message's key in the chain (from the chain's start).
  std::uint32_t iteration() const noexcept { return iteration_; }
  /// The AES-256-CBC ciphertext.
  ByteView ciphertext() const noexcept { return ciphertext_; }
  /// The bytes the signature covers (the version byte and the protobuf).
  ByteView signed_part() const noexcept {
    return serialized().first(serialized_.size() - Signature::kSize);
  }
  /// The 64-byte signature (the last 64 bytes).
  ByteView signature() const noexcept { return serialized().last(Signature::kSize); }

 private:
  friend struct internal::GroupMessageBuilder;
  SenderKeyMessage() = default;
  Bytes serialized_;
  Bytes ciphertext_;
  std::optional<DistributionId> distribution_id_;
  std::uint32_t chain_id_ = 0;
  std::uint32_t iteration_ = 0;
  SenderKeyFormat format_ = SenderKeyFormat::kLegacy;
};

/// A parsed sender-key distribution message: `0x33 || protobuf`, holding a chain key (a secret:
/// send it only inside a 1:1 session). Move-only; wiped on destruction.
class SenderKeyDistributionMessage {
 public:
  /// Parses `serialized` in `format`. Errors: kInvalidMessage (too short, a required field
  /// missing, a distribution id that is not 16 bytes), kInvalidKey (a chain key that is not 32
  /// bytes, a signing key that is not 33 bytes of type 0x05), kLegacyMessage, kInvalidVersion,
  /// kInvalidProtobuf, kLimitExceeded (larger than kMaxSenderKeyDistributionBytes).
  static Result<SenderKeyDistributionMessage> parse(SenderKeyFormat format, ByteView serialized);
  /// Takes the message over (it holds a chain key); the source may then only be destroyed or
  /// assigned to.
  SenderKeyDistributionMessage(SenderKeyDistributionMessage&&) noexcept = default;
  /// Wipes this message and takes the other's over.
  SenderKeyDistributionMessage& operator=(SenderKeyDistributionMessage&&) noexcept = default;
  /// An explicit copy.
  SenderKeyDistributionMessage clone() const;
  /// The exact bytes (they hold the chain key: a secret).
  ByteView serialized() const noexcept { return serialized_.expose(); }
  /// The wire format.
  SenderKeyFormat format() const noexcept { return format_; }
  /// The distribution id (kCurrent only).
  const std::optional<DistributionId>& distribution_id() const noexcept { return distribution_id_; }
  /// The sender's chain id.
  std::uint32_t chain_id() const noexcept { return chain_id_; }
  /// The iteration of the chain key.
  std::uint32_t iteration() const noexcept { return iteration_; }
  /// The sender's signing public key.
  const PublicKey& signing_key() const noexcept { return signing_key_; }

 private:
  friend struct internal::GroupMessageBuilder;
  SenderKeyDistributionMessage() = default;
  SecretBytes serialized_;
  SecretArray<32> chain_key_;
  std::optional<DistributionId> distribution_id_;
  PublicKey signing_key_;
  std::uint32_t chain_id_ = 0;
  std::uint32_t iteration_ = 0;
  SenderKeyFormat format_ = SenderKeyFormat::kLegacy;
};

/// Our distribution message for `group`, as `self` (our own address): the newest chain we hold for
/// the group at its current iteration, or a new chain (random chain id, chain key and signing key)
/// if we hold none, stored in one transaction. Calling it again gives the same chain (at its
/// current iteration: messages sent before cannot be read with it). Errors: kStoreFailure,
/// kCorruptState, kCryptoFailure.
Result<SenderKeyDistributionMessage> create_sender_key_distribution(const Context& ctx,
                                                                    ProtocolStore& store,
                                                                    const Address& self,
                                                                    const SenderKeyGroup& group);

/// Starts a new chain of ours for `group` (newest; the older ones are kept up to
/// kMaxSenderKeyStates, never used to encrypt again) and returns its distribution message: after a
/// member leaves, send it to those who stay, and the one who left cannot read what follows.
/// Errors: as create_sender_key_distribution.
Result<SenderKeyDistributionMessage> rotate_sender_key(const Context& ctx, ProtocolStore& store,
                                                       const Address& self,
                                                       const SenderKeyGroup& group);

/// Stores the chain of `sender` in `group` from `message` (received over the 1:1 session with
/// `sender`). A chain already held (same chain id and signing key) is kept as it is, never
/// restarted (the call succeeds and only makes it the newest). Errors: kInvalidMessage (the message
/// is of another format than the group, or names another distribution id), kInvalidKey (the one
/// signing key with no Edwards form, under which no signature could verify), kStoreFailure,
/// kCorruptState.
Status process_sender_key_distribution(ProtocolStore& store, const Address& sender,
                                       const SenderKeyGroup& group,
                                       const SenderKeyDistributionMessage& message);

/// Encrypts `plaintext` for `group` with our newest chain (as `self`), signs it, and advances the
/// chain; the advanced chain is committed (and the store's record_key_use has run) before this
/// returns. Refuses to run inside another transaction (kInTransaction), as encrypt_message.
/// Errors: kNoSession (no chain of ours for the group: create one first), kInTransaction,
/// kLimitExceeded (plaintext larger than kMaxPlaintextBytes, or the chain exhausted),
/// kStoreRolledBack, kStoreFailure, kCorruptState, kCryptoFailure.
Result<SenderKeyMessage> group_encrypt(const Context& ctx, ProtocolStore& store,
                                       const Address& self, const SenderKeyGroup& group,
                                       ByteView plaintext);

/// Encrypts several plaintexts for `group`, in order, in one transaction: all of them, or none
/// (nothing written) if any fails. Errors: as group_encrypt.
Result<std::vector<SenderKeyMessage>> group_encrypt_messages(const Context& ctx,
                                                             ProtocolStore& store,
                                                             const Address& self,
                                                             const SenderKeyGroup& group,
                                                             std::span<const ByteView> plaintexts);

/// Decrypts a group message from `sender` in `group`. Errors: kNoSession (no chain of that sender
/// in that group with the message's chain id), kInvalidMessage (bad signature, undecryptable, a
/// message of another format than the group, or naming another distribution id),
/// kDuplicateMessage, kTooFarInFuture, kStoreFailure, kCorruptState, kCryptoFailure, or the
/// before_commit hook's error.
Result<SecretBytes> group_decrypt(const Context& ctx, ProtocolStore& store, const Address& sender,
                                  const SenderKeyGroup& group, const SenderKeyMessage& message,
                                  const DecryptOptions& options = {});

}  // namespace hush

/// @file
/// The protocol operations: X3DH session setup, encryption and decryption.
///
/// Each operation runs inside one `ProtocolStore::run_transaction()`. It loads what it needs,
/// checks trust, computes on copies of the records, and writes only after it has fully succeeded,
/// in one transaction: a failed operation (bad MAC, duplicate, untrusted identity, unknown prekey,
/// store failure...) changes no stored state. A peer's identity is saved only after its message
/// decrypted. Trust is checked when a bundle is processed (kSending), on every encrypt (kSending),
/// and on every decrypt (kReceiving).
///
/// Trust is per person: all devices of a name share one identity key. A device of a known name that
/// presents another key is refused with kUntrustedIdentity (on bundle processing, encrypt, and
/// decrypt) until the application records the new key with `trust_identity`; the library enforces
/// this whatever the store's `is_trusted_identity` says. On decrypt the refusal comes only after
/// the message authenticated under the offered key (X3DH and MAC): a forged message is
/// kInvalidMessage.
///
/// What a relay (or anyone who can inject messages) can still do: withhold, delay, reorder and
/// duplicate messages (duplicates are refused: kDuplicateMessage; a prekey message sets a session
/// up once, under any address), deliver a message under another address (it then fails: the session
/// of that address cannot decrypt it, and a new session from a replayed prekey message is refused),
/// and make a first contact with its own identity under a name we have never seen (trust on first
/// use: compare safety numbers). It cannot read messages, forge them, or make a known person's
/// device accept a key other than the person's.
///
/// Differences from libsignal-protocol-c that interop allows (wire spec "hush's decisions"):
/// low-order keys are refused (kInvalidKey), identities are saved only after a successful decrypt,
/// trust is checked on encrypt and whisper decrypt as well, and errors are more specific
/// (kTooFarInFuture, kInvalidSignature, kInvalidVersion for versions above 3).
///
/// Difference from libsignal 0.103 in version 4: a note-to-self session (the remote is our own
/// identity key under our own name: another device of ours) keeps the forward-jump limits,
/// kMaxForwardJumpV4 on the Double Ratchet chain and kSpqrMaxJump on SPQR's, where libsignal
/// allows any jump. Whether a session is ours rests on an identity key that is not authenticated
/// before the MAC, so an unlimited jump would let a forged message in our own name cost unbounded
/// work. What is given up: a device of ours that missed more than 25,000 of our messages in a row
/// needs a new session.
///
/// Not responsible for: transport, bundle publication, or which identity to trust (the store's
/// `is_trusted_identity`).
///
/// Thread-safety: operations may run concurrently on a thread-safe store; the store's transactions
/// serialise them, so concurrent operations on one address are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/context.h>
#include <hush/messages.h>
#include <hush/prekey.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/store.h>

namespace hush {

/// Options for the decrypt operations.
struct DecryptOptions {
  /// If set, called with the plaintext after decryption succeeded and before anything is written,
  /// inside the store's transaction. If it returns an error, nothing is written and the decrypt
  /// fails with that error: an application can store the plaintext atomically with the new state
  /// (SqliteStore::put_app_data joins the transaction). It may use the store, including nested
  /// run_transaction calls, but must not start another protocol operation.
  std::function<Status(ByteView plaintext)> before_commit;
  /// Our own address, for the `addresses` field of version-4 messages (signal-v4-wire.md §3.4):
  /// a message that carries the field must name the remote address as its sender and, if this is
  /// set, this address as its recipient. Without it only the sender's half is checked.
  std::optional<Address> local_address;
  /// Post-quantum sessions only: a version-3 (X3DH) prekey message that would set up a new session
  /// is refused (kLegacyMessage). Existing version-3 sessions still decrypt.
  bool require_post_quantum = false;
};

/// Options for process_prekey_bundle.
struct BundleOptions {
  /// Post-quantum sessions only: a bundle without a Kyber prekey is refused
  /// (kPostQuantumRequired) instead of starting a version-3 (X3DH) session.
  bool require_post_quantum = false;
};

/// Options for encrypt_message.
struct EncryptOptions {
  /// If set, called with the ciphertext inside encrypt_message's transaction, after the advanced
  /// chain is written and before the commit; an error fails the encryption and writes nothing.
  /// Lets an application record an outbox row atomically with the encryption. It may use the
  /// store (nested run_transaction included) but must not start another protocol operation.
  std::function<Status(const CiphertextMessage& message)> before_commit;
  /// Our own address: while a version-4 session is unacknowledged, its messages carry the
  /// `addresses` field (ours and the remote's) when both names are ServiceIds (a UUID, or "PNI:"
  /// and a UUID) and both device ids are 1..127, as libsignal 0.103 sends it.
  std::optional<Address> local_address;
};

/// Runs PQXDH (protocol version 4) as initiator against `bundle` from `remote` when the bundle has
/// a Kyber prekey, else X3DH (version 3), and stores the new session as the current state
/// (archiving any previous one); the person's identity is saved if none was. The next encrypt
/// produces a PreKeySignalMessage. No downgrade: a bundle without a Kyber prekey is refused
/// (kPostQuantumRequired) when `options.require_post_quantum` is set, or when any device of
/// `remote.name` already has a version-4 session state with us (a relay that strips the Kyber
/// prekey cannot move a post-quantum peer back to X3DH). Errors: kInvalidSignature (bad signed
/// or Kyber prekey signature), kInvalidArgument (inconsistent one-time or Kyber prekey fields),
/// kUntrustedIdentity (the bundle's identity is not the one trusted for `remote.name`),
/// kInvalidKey (low-order key), kInvalidKemKey, kPostQuantumRequired, kStoreFailure,
/// kCorruptState, kCryptoFailure.
Status process_prekey_bundle(const Context& ctx, ProtocolStore& store, const Address& remote,
                             const PreKeyBundle& bundle, const BundleOptions& options = {});

/// Encrypts `plaintext` for `remote` with the current session and advances the sending chain.
/// Returns a PreKeySignalMessage while the peer has not answered, else a SignalMessage; the
/// advanced state is committed (and the store's record_key_use has run) before this returns, so no
/// message key is ever handed out twice. Refuses to run inside another transaction on `store`
/// (a caller's run_transaction, or a before_commit hook): kInTransaction. Errors: kNoSession (none,
/// or unanswered for kMaxUnacknowledgedSessionAgeMs), kUntrustedIdentity, kInTransaction,
/// kLimitExceeded (plaintext larger than kMaxPlaintextBytes, or the chain counter exhausted),
/// kStoreRolledBack, kStoreFailure, kCorruptState, kCryptoFailure, or the before_commit hook's
/// error.
Result<CiphertextMessage> encrypt_message(const Context& ctx, ProtocolStore& store,
                                          const Address& remote, ByteView plaintext,
                                          const EncryptOptions& options = {});

/// One message of a batch for encrypt_messages.
struct OutgoingMessage {
  /// The recipient.
  Address remote;
  /// The plaintext (must stay valid during the call).
  ByteView plaintext;
};

/// Options for encrypt_messages.
struct EncryptBatchOptions {
  /// As EncryptOptions::before_commit, with every ciphertext of the batch, in order.
  std::function<Status(const std::vector<CiphertextMessage>& messages)> before_commit;
  /// As EncryptOptions::local_address.
  std::optional<Address> local_address;
};

/// Encrypts several messages (to one or several recipients) in one transaction, in order: all of
/// them, or none if any fails (nothing is written then). The ciphertexts are returned after the
/// commit, as for encrypt_message; errors are those of encrypt_message for the first message
/// that failed. For an application that must not hand out some messages of a group without the
/// others (hush-cli's `encrypt --count`).
Result<std::vector<CiphertextMessage>> encrypt_messages(const Context& ctx, ProtocolStore& store,
                                                        std::span<const OutgoingMessage> messages,
                                                        const EncryptBatchOptions& options = {});

/// Decrypts a PreKeySignalMessage from `remote`, setting up the responder session if the message
/// starts a new one (its base key is not in any stored state): PQXDH for a version-4 message, X3DH
/// for version 3. On success commits, in one transaction: the peer's identity, removal of the used
/// one-time prekey, of the used one-time Kyber prekey (a last-resort Kyber prekey stays, and the
/// use is recorded: the same (Kyber id, signed prekey id, base key) again is a replay), the base
/// key (so that the message sets up no session again, under any address), and the session.
/// No downgrade: a version-3 message that would set up a new session is refused (kLegacyMessage)
/// under `options.require_post_quantum`, or when any device of `remote.name` already has a
/// version-4 session state with us.
/// Errors: kUntrustedIdentity (authenticated under another key than the one trusted for
/// `remote.name`), kInvalidKeyId (unknown signed, one-time or Kyber prekey), kInvalidKey (also: a
/// base key that is not canonical), kInvalidKemCiphertext, kInvalidMessage (MAC, addresses or
/// decryption failure), kDuplicateMessage (also: its session was already set up, under this or
/// another address, or a last-resort Kyber prekey replay), kTooFarInFuture, kLegacyMessage,
/// kInvalidVersion, kStoreFailure, kCorruptState, kCryptoFailure, or the before_commit hook's
/// error.
Result<SecretBytes> decrypt_prekey_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote,
                                           const PreKeySignalMessage& message,
                                           const DecryptOptions& options = {});

/// Decrypts a SignalMessage from `remote`, trying the states that can decrypt it (at most
/// kMaxDecryptTrials: those with a receiving chain for its ratchet key, else the current and the
/// newest archived ones, deriving at most kMaxDecryptChainSteps chain keys in all, or
/// kMaxDecryptChainStepsV4 counting SPQR's when a version-4 state is tried); an archived state
/// that decrypts is promoted to current (how simultaneous initiation converges), unless a reset
/// closed it, or it is a version-3 state and the record has a version-4 state: a late but genuine
/// version-3 message then decrypts from its archived state, which stays archived, so the next
/// encrypt is still version 4 (a server that holds a version-3 message back cannot use it to move
/// the session back from post-quantum). The same holds for a later prekey message of a session
/// already set up. Errors: kNoSession,
/// kInvalidMessage (MAC or decryption failure in every state), kDuplicateMessage,
/// kTooFarInFuture, kUntrustedIdentity, kStoreFailure, kCorruptState, kCryptoFailure, or the
/// before_commit hook's error.
Result<SecretBytes> decrypt_signal_message(const Context& ctx, ProtocolStore& store,
                                           const Address& remote, const SignalMessage& message,
                                           const DecryptOptions& options = {});

/// Dispatches to decrypt_prekey_message or decrypt_signal_message.
Result<SecretBytes> decrypt_message(const Context& ctx, ProtocolStore& store, const Address& remote,
                                    const CiphertextMessage& message,
                                    const DecryptOptions& options = {});

/// What is known about the session with one address.
struct SessionInfo {
  /// True when there is a current state that can encrypt.
  bool exists = false;
  /// The current state's session version (3: X3DH, 4: PQXDH and SPQR), or 0 without one.
  std::uint32_t version = 0;
  /// Version 4: the current state's SPQR epoch (1 at the start; it advances as SPQR's braid
  /// completes epochs); 0 otherwise.
  std::uint64_t spqr_epoch = 0;
  /// True while our messages are still PreKeySignalMessages (the peer has not answered).
  bool has_unacknowledged_prekey = false;
  /// The number of archived states.
  std::size_t previous_states = 0;
  /// The current state's remote identity key.
  std::optional<IdentityKey> remote_identity;
  /// The current state's remote registration id (0 without one).
  std::uint32_t remote_registration_id = 0;
};

/// Describes the session with `remote`. Errors: kStoreFailure, kCorruptState.
Result<SessionInfo> session_info(ProtocolStore& store, const Address& remote);

/// Records `identity` as the trusted identity of the person `name` (for example after the user
/// verified a changed safety number) and closes the current session state of every device of
/// that name made with a different identity, so sending to it needs a new bundle. One
/// transaction. Errors: kStoreFailure, kCorruptState.
Status trust_identity(ProtocolStore& store, std::string_view name, const IdentityKey& identity);

/// Closes the current session state with `remote` (libsignal's archiveCurrentState): the next
/// encrypt needs a new bundle; the closed state stays for late messages but is never made current
/// again (a withheld message cannot undo the reset), and the stored identity is untouched. Does
/// nothing if there is no current state. Errors: kStoreFailure, kCorruptState.
Status reset_session(ProtocolStore& store, const Address& remote);

/// Builds our current bundle from the stores: our identity and registration id, signed prekey
/// `signed_pre_key_id`, one-time prekey `pre_key_id` if given, and signed Kyber prekey
/// `kyber_pre_key_id` if given (a PQXDH bundle; without one the bundle is X3DH only). Nothing is
/// consumed. Errors: kInvalidKeyId (a named prekey missing), kStoreFailure, kCorruptState.
Result<PreKeyBundle> make_bundle(ProtocolStore& store, DeviceId device_id,
                                 SignedPreKeyId signed_pre_key_id,
                                 std::optional<PreKeyId> pre_key_id,
                                 std::optional<KyberPreKeyId> kyber_pre_key_id = std::nullopt);

/// Generates `count` one-time prekeys with ids from the store's `next_pre_key_id()` upwards and
/// stores them, in one transaction; returns their ids. Errors: kInvalidArgument (the 24-bit id
/// space would be exhausted), kStoreFailure, kCryptoFailure.
Result<std::vector<PreKeyId>> replenish_pre_keys(const Context& ctx, ProtocolStore& store,
                                                 std::uint32_t count);

/// Generates `count` one-time Kyber prekeys and then, if `last_resort`, one last-resort Kyber
/// prekey, with ids from the store's `next_kyber_pre_key_id()` upwards, signed by the store's
/// identity key, and stores them, in one transaction; returns their ids (the last-resort one
/// last). Errors: kInvalidArgument (the 32-bit id space would be exhausted: an id is never
/// reused), kStoreFailure, kCryptoFailure.
Result<std::vector<KyberPreKeyId>> replenish_kyber_pre_keys(const Context& ctx,
                                                            ProtocolStore& store,
                                                            std::uint32_t count,
                                                            bool last_resort = false);

}  // namespace hush

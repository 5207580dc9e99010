/// @file
/// The storage interfaces the protocol operations use.
///
/// The library never persists anything itself: it loads and stores records through these
/// interfaces, which the application implements (or takes from in_memory_store.h). Every operation
/// runs inside one `ProtocolStore::run_transaction()`: it loads what it needs, computes on copies,
/// and writes only at the end, after it has fully succeeded, so a failed operation writes nothing.
/// A store implementation must make the writes of one transaction durable together or not at all.
///
/// Interfaces are narrow, one line of documentation per method (libsignal's storage traits). Store
/// methods report their own failures as kStoreFailure and should not throw; if one does, the
/// exception propagates, the transaction is rolled back, and the library makes no further calls.
///
/// Identities belong to people, not devices: the identity store is keyed by the name of an Address
/// (a person), and every device of a person shares the person's identity key, as in Signal. The
/// library enforces the pin itself: whatever `is_trusted_identity` answers, a device that presents
/// an identity other than the one stored for its person is refused (kUntrustedIdentity) until the
/// application records the new one (`trust_identity` in session.h). `is_trusted_identity` can only
/// refuse more (a "verified only" policy, a blocked contact).
///
/// Not responsible for: trust policy beyond the interface (the application decides in
/// `is_trusted_identity`), or synchronisation (see each implementation).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hush/address.h>
#include <hush/keys.h>
#include <hush/prekey.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/sender_key.h>
#include <hush/session_record.h>

namespace hush {

/// Which way a message is going when trust is checked.
enum class Direction : std::uint8_t {
  kSending,    ///< We are about to send to the identity (bundle processing, encrypt).
  kReceiving,  ///< We received from the identity (prekey message, whisper message).
};

/// What `save_identity` did.
enum class IdentityChange : std::uint8_t {
  kNewOrUnchanged,    ///< No identity was stored for the address, or the same one was.
  kReplacedExisting,  ///< A different identity was stored and has been replaced.
};

/// Our identity and the identities of the people we talk to (one per name, shared by all of a
/// person's devices).
class IdentityKeyStore {
 public:
  virtual ~IdentityKeyStore() = default;
  /// Our identity key pair, private key included.
  virtual Result<IdentityKeyPair> identity_key_pair() = 0;
  /// Our registration id.
  virtual Result<std::uint32_t> local_registration_id() = 0;
  /// Records `identity` as the identity of the person `name` (every device of that name).
  virtual Result<IdentityChange> save_identity(std::string_view name,
                                               const IdentityKey& identity) = 0;
  /// Whether `identity` may be used for the person `name` in `direction` (the application's
  /// policy; the library refuses an identity that differs from the stored one in any case).
  virtual Result<bool> is_trusted_identity(std::string_view name, const IdentityKey& identity,
                                           Direction direction) = 0;
  /// The identity stored for the person `name`, or nullopt.
  virtual Result<std::optional<IdentityKey>> identity(std::string_view name) = 0;
  /// Every person with a stored identity and that identity, ascending by name (what a new device
  /// of ours learns when it is linked).
  virtual Result<std::vector<std::pair<std::string, IdentityKey>>> identities() = 0;
};

/// Our one-time prekeys. A prekey is removed after its first successful use.
class PreKeyStore {
 public:
  virtual ~PreKeyStore() = default;
  /// The prekey with `id`, or nullopt if there is none (never stored, or already used).
  virtual Result<std::optional<PreKeyRecord>> load_pre_key(PreKeyId id) = 0;
  /// Stores `record` under `record.id` and raises the high-water mark to at least that id.
  virtual Status store_pre_key(const PreKeyRecord& record) = 0;
  /// Removes the prekey with `id`; removing an absent one is not an error.
  virtual Status remove_pre_key(PreKeyId id) = 0;
  /// The ids of the prekeys present, ascending.
  virtual Result<std::vector<PreKeyId>> pre_key_ids() = 0;
  /// One more than the highest id ever stored (1 for an empty store); ids are never reused.
  virtual Result<PreKeyId> next_pre_key_id() = 0;
};

/// Our signed prekeys, and the X3DH base keys of the sessions accepted under them.
///
/// The base keys are the store-wide replay record of prekey messages: a session is set up from a
/// prekey message at most once, under whatever address a relay delivers it again (a message made
/// without a one-time prekey could otherwise be replayed under other names). A base key is
/// recorded in the transaction that stores the session, and forgotten with its signed prekey,
/// after which a replay fails anyway (unknown signed prekey).
class SignedPreKeyStore {
 public:
  virtual ~SignedPreKeyStore() = default;
  /// The signed prekey with `id`, or nullopt.
  virtual Result<std::optional<SignedPreKeyRecord>> load_signed_pre_key(SignedPreKeyId id) = 0;
  /// Stores `record` under `record.id`, replacing any with that id.
  virtual Status store_signed_pre_key(const SignedPreKeyRecord& record) = 0;
  /// Removes the signed prekey with `id` and the base keys recorded under it; removing an absent
  /// one is not an error.
  virtual Status remove_signed_pre_key(SignedPreKeyId id) = 0;
  /// The ids of the signed prekeys present, ascending.
  virtual Result<std::vector<SignedPreKeyId>> signed_pre_key_ids() = 0;
  /// Whether a session was ever set up (and not yet forgotten) from a prekey message with this
  /// base key, under any address.
  virtual Result<bool> has_accepted_base_key(const PublicKey& base_key) = 0;
  /// Records that a session was set up from a prekey message with `base_key` that named signed
  /// prekey `id` (forgotten when that signed prekey is removed).
  virtual Status record_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key) = 0;
};

/// Our signed Kyber prekeys (PQXDH), and the uses of the last-resort ones.
///
/// A one-time Kyber prekey is removed in the transaction that stores the session it set up. A
/// last-resort one stays; each session set up under it is recorded as (Kyber id, signed prekey id,
/// base key) in the same transaction, and a prekey message repeating such a triple is refused as a
/// replay (libsignal's markKyberPreKeyUsed). The uses are forgotten with their Kyber prekey.
class KyberPreKeyStore {
 public:
  virtual ~KyberPreKeyStore() = default;
  /// The Kyber prekey with `id`, or nullopt (never stored, or a used one-time key).
  virtual Result<std::optional<KyberPreKeyRecord>> load_kyber_pre_key(KyberPreKeyId id) = 0;
  /// Stores `record` under `record.id`, replacing any, and raises the high-water mark to at least
  /// that id.
  virtual Status store_kyber_pre_key(const KyberPreKeyRecord& record) = 0;
  /// Removes the Kyber prekey with `id` and the last-resort uses recorded under it; removing an
  /// absent one is not an error.
  virtual Status remove_kyber_pre_key(KyberPreKeyId id) = 0;
  /// The ids of the Kyber prekeys present (one-time and last-resort), ascending.
  virtual Result<std::vector<KyberPreKeyId>> kyber_pre_key_ids() = 0;
  /// One more than the highest Kyber prekey id ever stored (1 for an empty store).
  virtual Result<KyberPreKeyId> next_kyber_pre_key_id() = 0;
  /// Whether a session was set up under last-resort Kyber prekey `id` with this signed prekey id
  /// and base key (and not yet forgotten).
  virtual Result<bool> has_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                           const PublicKey& base_key) = 0;
  /// Records a session set up under last-resort Kyber prekey `id` with this signed prekey id and
  /// base key.
  virtual Status record_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                        const PublicKey& base_key) = 0;
};

/// One SessionRecord per remote address.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  /// The record for `address`, or nullopt if there is none (not an error).
  virtual Result<std::optional<SessionRecord>> load_session(const Address& address) = 0;
  /// Stores `record` for `address`, replacing any. The record is handed over (the library has no
  /// further use for it), so an in-memory store can keep it without a copy.
  virtual Status store_session(const Address& address, SessionRecord record) = 0;
  /// The device ids of the person `name` that have a stored record, ascending.
  virtual Result<std::vector<DeviceId>> session_devices(std::string_view name) = 0;
  /// Every address that has a stored record (every person's devices), ordered by name (bytewise)
  /// and then device id. For listing what a store holds; the library itself never calls it.
  virtual Result<std::vector<Address>> session_addresses() = 0;
};

/// One SenderKeyRecord per (sender address, group): the chains of the members of our groups, and
/// our own (under our own address).
class SenderKeyStore {
 public:
  virtual ~SenderKeyStore() = default;
  /// The record for `sender` in `group`, or nullopt if there is none (not an error).
  virtual Result<std::optional<SenderKeyRecord>> load_sender_key(const Address& sender,
                                                                 const SenderKeyGroup& group) = 0;
  /// Stores `record` for `sender` in `group`, replacing any (handed over, as store_session).
  virtual Status store_sender_key(const Address& sender, const SenderKeyGroup& group,
                                  SenderKeyRecord record) = 0;
  /// Removes the record for `sender` in `group` (none: nothing to do, not an error). The Messenger
  /// removes the records of superseded keys and of groups it forgets.
  virtual Status remove_sender_key(const Address& sender, const SenderKeyGroup& group) = 0;
};

/// The kinds of record the Messenger keeps beside the protocol state (messenger.h).
enum class MessengerRecordKind : std::uint8_t {
  kDeviceList = 1,      ///< A person's signed device list, the newest seen (key: the name).
  kOutbox = 2,          ///< A message kept for sending or resending (key: a sequence number).
  kSeenMessage = 3,     ///< A message id already shown (key: the sender's name and the id).
  kHealing = 4,         ///< Retry requests asked and sessions restarted (key: the peer's device).
  kIdentityChange = 5,  ///< An identity change not yet approved (key: the person's name).
  kGroup = 6,           ///< A group: its state, members' keys and ours (key: the group id, hex).
};

/// The longest key of a Messenger record.
inline constexpr std::size_t kMaxMessengerRecordKeyBytes = 2048;

/// The Messenger's own state: small records by kind and key, written in the same transactions as
/// the protocol state. Values hold plaintexts (the outbox), so a store that seals anything seals
/// them. Values are opaque to the store and parsed strictly by the Messenger (untrusted input).
/// The library's stores refuse a kind outside MessengerRecordKind's named values
/// (kInvalidArgument), and read a stored record beyond these bounds as kCorruptState.
class MessengerStateStore {
 public:
  virtual ~MessengerStateStore() = default;
  /// The record of `kind` under `key`, or nullopt.
  virtual Result<std::optional<SecretBytes>> load_messenger_record(MessengerRecordKind kind,
                                                                   std::string_view key) = 0;
  /// Stores `value` under (`kind`, `key`), replacing any. kLimitExceeded for a key longer than
  /// kMaxMessengerRecordKeyBytes or a value larger than kMaxAppDataBytes.
  virtual Status store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                        ByteView value) = 0;
  /// Removes the record; removing an absent one is not an error.
  virtual Status remove_messenger_record(MessengerRecordKind kind, std::string_view key) = 0;
  /// The keys of every record of `kind`, ascending (bytewise).
  virtual Result<std::vector<std::string>> messenger_record_keys(MessengerRecordKind kind) = 0;
};

/// Everything an operation may touch, with a transaction around it.
class ProtocolStore : public IdentityKeyStore,
                      public PreKeyStore,
                      public SignedPreKeyStore,
                      public KyberPreKeyStore,
                      public SessionStore,
                      public SenderKeyStore,
                      public MessengerStateStore {
 public:
  /// Runs `body`, which reads and writes through this store, atomically: if `body` returns an error
  /// (or throws), none of its writes take effect; if it succeeds, all of them do, durably for a
  /// durable store, and then this returns success (or the commit's error, with nothing written).
  /// Transactions nest: a run_transaction inside `body` is a savepoint whose failure undoes only
  /// its own writes, and whose writes become durable only when the outermost transaction commits
  /// (so a caller that groups several encryptions must not send their output before that).
  /// Concurrent transactions on one store are serialised by the store, across threads (and, for a
  /// store shared between processes, across processes).
  virtual Status run_transaction(const std::function<Status()>& body) = 0;

  /// How many transactions the calling thread has open on this store (0 outside any; 1 inside an
  /// outermost one). encrypt_message refuses to run nested (kInTransaction): an outer transaction
  /// that rolled back would undo its chain advance after its ciphertext was handed out, and the
  /// next message would reuse the key.
  virtual int transaction_depth() = 0;

  /// Called by encrypt_message inside its transaction, after the advanced sending chain has been
  /// stored and before the ciphertext leaves the library. A store that can be put back to an older
  /// copy of itself (a backup, a VM snapshot, a copied file) records here, outside itself, that
  /// it has moved past every earlier copy, so that it can refuse or repair such a copy later
  /// (SqliteStore keeps a generation counter). The default does nothing. An error fails the
  /// encryption and writes nothing.
  virtual Status record_key_use() { return ok_status(); }
};

}  // namespace hush

/// @file
/// A ProtocolStore kept in memory.
///
/// For tests, examples and applications that persist the whole store themselves: `serialize()`
/// gives a deterministic snapshot of everything (secrets included) and `deserialize()` restores it,
/// so two snapshots are byte-for-byte equal exactly when the stores hold the same state. Nothing is
/// durable unless the caller saves a snapshot.
///
/// Trust policy: trust on first use per person (the name of an address). A name with no stored
/// identity trusts any identity; afterwards only the stored one is trusted, for every device of
/// that name, until `save_identity` replaces it.
///
/// Restoring an older snapshot puts every chain back: nothing here detects it, so an application
/// that persists this store through snapshots must never deserialize one older than the last it
/// used for encrypting (SqliteStore detects this with a generation counter).
///
/// Thread-safety: all methods are safe to call from several threads; transactions are serialised by
/// one internal mutex (a transaction holds it from start to end).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <hush/store.h>

namespace hush {

/// A thread-safe, non-persistent ProtocolStore with trust-on-first-use.
class InMemoryProtocolStore final : public ProtocolStore {
 public:
  /// A store for a device with identity `identity` and registration id `registration_id`.
  InMemoryProtocolStore(IdentityKeyPair identity, std::uint32_t registration_id);
  ~InMemoryProtocolStore() override;
  InMemoryProtocolStore(const InMemoryProtocolStore&) = delete;
  InMemoryProtocolStore& operator=(const InMemoryProtocolStore&) = delete;

  /// A deterministic snapshot of the whole store (secrets and the Messenger's records included,
  /// plaintexts of its outbox among them; protect it as a secret).
  SecretBytes serialize() const;
  /// Restores a snapshot made by `serialize()` (of this or an earlier format). Anything malformed
  /// or beyond the stores' bounds is kCorruptState.
  static Result<std::unique_ptr<InMemoryProtocolStore>> deserialize(ByteView snapshot);

  // IdentityKeyStore
  Result<IdentityKeyPair> identity_key_pair() override;
  Result<std::uint32_t> local_registration_id() override;
  Result<IdentityChange> save_identity(std::string_view name, const IdentityKey& identity) override;
  Result<bool> is_trusted_identity(std::string_view name, const IdentityKey& identity,
                                   Direction direction) override;
  Result<std::optional<IdentityKey>> identity(std::string_view name) override;
  Result<std::vector<std::pair<std::string, IdentityKey>>> identities() override;

  // PreKeyStore
  Result<std::optional<PreKeyRecord>> load_pre_key(PreKeyId id) override;
  Status store_pre_key(const PreKeyRecord& record) override;
  Status remove_pre_key(PreKeyId id) override;
  Result<std::vector<PreKeyId>> pre_key_ids() override;
  Result<PreKeyId> next_pre_key_id() override;

  // SignedPreKeyStore
  Result<std::optional<SignedPreKeyRecord>> load_signed_pre_key(SignedPreKeyId id) override;
  Status store_signed_pre_key(const SignedPreKeyRecord& record) override;
  Status remove_signed_pre_key(SignedPreKeyId id) override;
  Result<std::vector<SignedPreKeyId>> signed_pre_key_ids() override;
  Result<bool> has_accepted_base_key(const PublicKey& base_key) override;
  Status record_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key) override;

  // KyberPreKeyStore
  Result<std::optional<KyberPreKeyRecord>> load_kyber_pre_key(KyberPreKeyId id) override;
  Status store_kyber_pre_key(const KyberPreKeyRecord& record) override;
  Status remove_kyber_pre_key(KyberPreKeyId id) override;
  Result<std::vector<KyberPreKeyId>> kyber_pre_key_ids() override;
  Result<KyberPreKeyId> next_kyber_pre_key_id() override;
  Result<bool> has_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                   const PublicKey& base_key) override;
  Status record_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                const PublicKey& base_key) override;

  // SessionStore
  Result<std::optional<SessionRecord>> load_session(const Address& address) override;
  Status store_session(const Address& address, SessionRecord record) override;
  Result<std::vector<DeviceId>> session_devices(std::string_view name) override;
  Result<std::vector<Address>> session_addresses() override;

  // SenderKeyStore
  Result<std::optional<SenderKeyRecord>> load_sender_key(const Address& sender,
                                                         const SenderKeyGroup& group) override;
  Status store_sender_key(const Address& sender, const SenderKeyGroup& group,
                          SenderKeyRecord record) override;
  /// Removes the record for `sender` in `group`, if any (SenderKeyStore).
  Status remove_sender_key(const Address& sender, const SenderKeyGroup& group) override;

  // MessengerStateStore (a kind outside MessengerRecordKind's named values is kInvalidArgument)
  Result<std::optional<SecretBytes>> load_messenger_record(MessengerRecordKind kind,
                                                           std::string_view key) override;
  Status store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                ByteView value) override;
  Status remove_messenger_record(MessengerRecordKind kind, std::string_view key) override;
  Result<std::vector<std::string>> messenger_record_keys(MessengerRecordKind kind) override;

  // ProtocolStore
  Status run_transaction(const std::function<Status()>& body) override;
  int transaction_depth() override;

 private:
  struct State;
  struct Undo;
  Undo* top_undo();
  mutable std::recursive_mutex mutex_;
  std::unique_ptr<State> state_;
  std::vector<Undo> undo_;  // one frame per open (nested) transaction
};

}  // namespace hush

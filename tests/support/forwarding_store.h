// hush tests: a ProtocolStore that forwards every call to another store, for tests that change
// one behaviour of a store (a trust policy, a failure) and keep the rest.
#pragma once

#include <hush/hush.h>

namespace hush::test {

class ForwardingStore : public ProtocolStore {
 public:
  explicit ForwardingStore(ProtocolStore& inner) : inner_(inner) {}

  Result<IdentityKeyPair> identity_key_pair() override { return inner_.identity_key_pair(); }
  Result<std::uint32_t> local_registration_id() override { return inner_.local_registration_id(); }
  Result<IdentityChange> save_identity(std::string_view name, const IdentityKey& k) override {
    return inner_.save_identity(name, k);
  }
  Result<bool> is_trusted_identity(std::string_view name, const IdentityKey& k,
                                   Direction d) override {
    return inner_.is_trusted_identity(name, k, d);
  }
  Result<std::optional<IdentityKey>> identity(std::string_view name) override {
    return inner_.identity(name);
  }
  Result<std::vector<std::pair<std::string, IdentityKey>>> identities() override {
    return inner_.identities();
  }
  Result<std::optional<PreKeyRecord>> load_pre_key(PreKeyId id) override {
    return inner_.load_pre_key(id);
  }
  Status store_pre_key(const PreKeyRecord& r) override { return inner_.store_pre_key(r); }
  Status remove_pre_key(PreKeyId id) override { return inner_.remove_pre_key(id); }
  Result<std::vector<PreKeyId>> pre_key_ids() override { return inner_.pre_key_ids(); }
  Result<PreKeyId> next_pre_key_id() override { return inner_.next_pre_key_id(); }
  Result<std::optional<SignedPreKeyRecord>> load_signed_pre_key(SignedPreKeyId id) override {
    return inner_.load_signed_pre_key(id);
  }
  Status store_signed_pre_key(const SignedPreKeyRecord& r) override {
    return inner_.store_signed_pre_key(r);
  }
  Status remove_signed_pre_key(SignedPreKeyId id) override {
    return inner_.remove_signed_pre_key(id);
  }
  Result<std::vector<SignedPreKeyId>> signed_pre_key_ids() override {
    return inner_.signed_pre_key_ids();
  }
  Result<bool> has_accepted_base_key(const PublicKey& k) override {
    return inner_.has_accepted_base_key(k);
  }
  Status record_accepted_base_key(SignedPreKeyId id, const PublicKey& k) override {
    return inner_.record_accepted_base_key(id, k);
  }
  Result<std::optional<KyberPreKeyRecord>> load_kyber_pre_key(KyberPreKeyId id) override {
    return inner_.load_kyber_pre_key(id);
  }
  Status store_kyber_pre_key(const KyberPreKeyRecord& r) override {
    return inner_.store_kyber_pre_key(r);
  }
  Status remove_kyber_pre_key(KyberPreKeyId id) override { return inner_.remove_kyber_pre_key(id); }
  Result<std::vector<KyberPreKeyId>> kyber_pre_key_ids() override {
    return inner_.kyber_pre_key_ids();
  }
  Result<KyberPreKeyId> next_kyber_pre_key_id() override { return inner_.next_kyber_pre_key_id(); }
  Result<bool> has_last_resort_use(KyberPreKeyId id, SignedPreKeyId spk,
                                   const PublicKey& k) override {
    return inner_.has_last_resort_use(id, spk, k);
  }
  Status record_last_resort_use(KyberPreKeyId id, SignedPreKeyId spk, const PublicKey& k) override {
    return inner_.record_last_resort_use(id, spk, k);
  }
  Result<std::optional<SessionRecord>> load_session(const Address& a) override {
    return inner_.load_session(a);
  }
  Status store_session(const Address& a, SessionRecord r) override {
    return inner_.store_session(a, std::move(r));
  }
  Result<std::vector<DeviceId>> session_devices(std::string_view name) override {
    return inner_.session_devices(name);
  }
  Result<std::vector<Address>> session_addresses() override { return inner_.session_addresses(); }
  Result<std::optional<SenderKeyRecord>> load_sender_key(const Address& a,
                                                         const SenderKeyGroup& g) override {
    return inner_.load_sender_key(a, g);
  }
  Status store_sender_key(const Address& a, const SenderKeyGroup& g, SenderKeyRecord r) override {
    return inner_.store_sender_key(a, g, std::move(r));
  }
  Status remove_sender_key(const Address& a, const SenderKeyGroup& g) override {
    return inner_.remove_sender_key(a, g);
  }
  Result<std::optional<SecretBytes>> load_messenger_record(MessengerRecordKind kind,
                                                           std::string_view key) override {
    return inner_.load_messenger_record(kind, key);
  }
  Status store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                ByteView value) override {
    return inner_.store_messenger_record(kind, key, value);
  }
  Status remove_messenger_record(MessengerRecordKind kind, std::string_view key) override {
    return inner_.remove_messenger_record(kind, key);
  }
  Result<std::vector<std::string>> messenger_record_keys(MessengerRecordKind kind) override {
    return inner_.messenger_record_keys(kind);
  }
  Status run_transaction(const std::function<Status()>& body) override {
    return inner_.run_transaction(body);
  }
  int transaction_depth() override { return inner_.transaction_depth(); }
  Status record_key_use() override { return inner_.record_key_use(); }

 private:
  ProtocolStore& inner_;
};

}  // namespace hush::test

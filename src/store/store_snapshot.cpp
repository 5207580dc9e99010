// hush internal: the shared snapshot writer (see store_snapshot.h).
#include "store/store_snapshot.h"

#include <hush/limits.h>

#include "proto_util.h"
#include "storage.pb.h"

namespace hush::internal {

SnapshotWriter::SnapshotWriter(const KeyPair& identity, std::uint32_t registration_id,
                               std::uint32_t next_pre_key_id, std::uint32_t next_kyber_pre_key_id)
    : p_(std::make_unique<storage::StoreSnapshot>()) {
  p_->set_format(kSnapshotFormat);
  p_->mutable_identity()->set_public_key(to_field(identity.public_key.u()));
  p_->mutable_identity()->set_private_key(to_field(identity.private_key.expose()));
  p_->set_registration_id(registration_id);
  p_->set_next_pre_key_id(next_pre_key_id);
  // Absent while no Kyber prekey was ever stored (1), as in a snapshot of an older format.
  if (next_kyber_pre_key_id != 1) p_->set_next_kyber_pre_key_id(next_kyber_pre_key_id);
}

SnapshotWriter::~SnapshotWriter() {
  wipe(p_->mutable_identity()->mutable_private_key());
  for (auto& s : *p_->mutable_pre_keys())
    wipe(&s);
  for (auto& s : *p_->mutable_signed_pre_keys())
    wipe(&s);
  for (auto& s : *p_->mutable_sessions())
    wipe(s.mutable_record());
  for (auto& r : *p_->mutable_messenger_records())
    wipe(r.mutable_value());
  for (auto& r : *p_->mutable_sender_keys())
    wipe(r.mutable_record());
  for (auto& r : *p_->mutable_kyber_pre_keys())
    wipe(&r);
}

void SnapshotWriter::add_kyber_pre_key(ByteView serialized_record) {
  p_->add_kyber_pre_keys(to_field(serialized_record));
}

void SnapshotWriter::add_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                                         const PublicKey& base_key) {
  auto* e = p_->add_kyber_last_resort_uses();
  e->set_kyber_pre_key_id(to_uint(id));
  e->set_signed_pre_key_id(to_uint(signed_pre_key_id));
  e->set_base_key(to_field(base_key.u()));
}

void SnapshotWriter::add_identity(std::string_view name, const IdentityKey& key) {
  auto* e = p_->add_identities();
  e->set_name(std::string(name));
  e->set_identity_key(to_field(key.u()));
}

void SnapshotWriter::add_pre_key(ByteView serialized_record) {
  p_->add_pre_keys(to_field(serialized_record));
}

void SnapshotWriter::add_signed_pre_key(ByteView serialized_record) {
  p_->add_signed_pre_keys(to_field(serialized_record));
}

void SnapshotWriter::add_session(const Address& address, ByteView serialized_record) {
  auto* e = p_->add_sessions();
  e->set_name(address.name);
  e->set_device_id(to_uint(address.device_id));
  e->set_record(to_field(serialized_record));
}

void SnapshotWriter::add_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key) {
  auto* e = p_->add_accepted_base_keys();
  e->set_signed_pre_key_id(to_uint(id));
  e->set_base_key(to_field(base_key.u()));
}

void SnapshotWriter::add_messenger_record(MessengerRecordKind kind, std::string_view key,
                                          ByteView value) {
  auto* e = p_->add_messenger_records();
  e->set_kind(static_cast<std::uint32_t>(kind));
  e->set_key(std::string(key));
  // Copied straight into the field (no temporary string left holding the plaintext).
  e->mutable_value()->assign(value.begin(), value.end());
}

void SnapshotWriter::add_sender_key(std::string_view name, std::uint32_t device_id,
                                    std::uint32_t group_format, std::string_view group,
                                    ByteView serialized_record) {
  auto* e = p_->add_sender_keys();
  e->set_name(std::string(name));
  e->set_device_id(device_id);
  e->set_group_format(group_format);
  e->set_group(std::string(group));
  e->mutable_record()->assign(serialized_record.begin(), serialized_record.end());
}

SecretBytes SnapshotWriter::finish() const {
  return serialize_to_secret(*p_);
}

Status check_messenger_record(MessengerRecordKind kind, std::string_view key,
                              std::optional<ByteView> value) {
  if (!is_messenger_record_kind(static_cast<std::uint32_t>(kind)))
    return Error(Errc::kInvalidArgument, "messenger record: unknown kind");
  if (key.size() > kMaxMessengerRecordKeyBytes)
    return Error(Errc::kLimitExceeded, "messenger record: key too long");
  if (value && value->size() > kMaxAppDataBytes)
    return Error(Errc::kLimitExceeded, "messenger record: value too large");
  return ok_status();
}

}  // namespace hush::internal

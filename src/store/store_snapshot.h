// hush internal: writes the store snapshot format (storage.proto StoreSnapshot) that
// InMemoryProtocolStore::serialize and SqliteStore::export_snapshot share. Callers add entries
// in the canonical order (identities by name, sessions by address, prekeys by id, accepted base
// keys by key, Messenger records by kind and then key, bytewise, sender keys by sender name,
// device, group format and group name, Kyber prekeys by id, last-resort uses by (Kyber id, signed
// prekey id, base key)), so equal stores give equal bytes.
// Secret fields (private keys, records, Messenger record values) are wiped when the writer is
// destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/prekey.h>
#include <hush/secret.h>
#include <hush/store.h>

namespace hush::storage {
class StoreSnapshot;
}

namespace hush::internal {

class SnapshotWriter {
 public:
  SnapshotWriter(const KeyPair& identity, std::uint32_t registration_id,
                 std::uint32_t next_pre_key_id, std::uint32_t next_kyber_pre_key_id);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void add_identity(std::string_view name, const IdentityKey& key);
  void add_pre_key(ByteView serialized_record);
  void add_signed_pre_key(ByteView serialized_record);
  void add_session(const Address& address, ByteView serialized_record);
  void add_accepted_base_key(SignedPreKeyId id, const PublicKey& base_key);
  void add_messenger_record(MessengerRecordKind kind, std::string_view key, ByteView value);
  void add_sender_key(std::string_view name, std::uint32_t device_id, std::uint32_t group_format,
                      std::string_view group, ByteView serialized_record);
  void add_kyber_pre_key(ByteView serialized_record);
  void add_last_resort_use(KyberPreKeyId id, SignedPreKeyId signed_pre_key_id,
                           const PublicKey& base_key);
  SecretBytes finish() const;

 private:
  std::unique_ptr<storage::StoreSnapshot> p_;
};

/// The snapshot format version: 5 since it holds Kyber prekeys and last-resort uses; 4 added sender
/// keys; 3 the Messenger's records; 2 kept identities per person, 1 per device. Readers take all.
inline constexpr std::uint32_t kSnapshotFormat = 5;

/// Whether `kind` is one of MessengerRecordKind's named values (the only ones a store keeps).
constexpr bool is_messenger_record_kind(std::uint32_t kind) {
  return kind >= static_cast<std::uint32_t>(MessengerRecordKind::kDeviceList) &&
         kind <= static_cast<std::uint32_t>(MessengerRecordKind::kGroup);
}

/// The checks both stores make on a Messenger record before anything else: a known kind
/// (kInvalidArgument), a key of at most kMaxMessengerRecordKeyBytes and, when storing, a value of
/// at most kMaxAppDataBytes (kLimitExceeded).
Status check_messenger_record(MessengerRecordKind kind, std::string_view key,
                              std::optional<ByteView> value = std::nullopt);

}  // namespace hush::internal

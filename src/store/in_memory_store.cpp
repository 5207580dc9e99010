// hush: InMemoryProtocolStore (see in_memory_store.h).
//
// Transactions: one recursive mutex is held for the whole transaction; every write inside it first
// records the previous value of what it changes in an undo log, which is replayed backwards if the
// body fails or throws.
#include <hush/in_memory_store.h>
#include <hush/limits.h>

#include <string>
#include <tuple>
#include <utility>

#include "group/sender_key_state.h"
#include "proto_util.h"
#include "storage.pb.h"
#include "store/store_snapshot.h"

namespace hush {

using BaseKeyBytes = std::array<std::uint8_t, 32>;
// A Messenger record's place: its kind, then its key. std::string orders bytewise (as unsigned
// char), so the map's order is the snapshot's canonical (kind, key) order.
using RecordKey = std::pair<std::uint8_t, std::string>;
// A sender key's place: the sender's name and device, the group's format and name (the snapshot's
// canonical order).
using SenderKeyKey = std::tuple<std::string, std::uint32_t, std::uint8_t, std::string>;

// A use of a last-resort Kyber prekey: (Kyber id, signed prekey id, base key).
using LastResortUse = std::tuple<std::uint32_t, std::uint32_t, BaseKeyBytes>;

SenderKeyKey sender_key_key(const Address& sender, const SenderKeyGroup& group) {
  return SenderKeyKey(sender.name, to_uint(sender.device_id),
                      static_cast<std::uint8_t>(group.format()), group.name());
}

struct InMemoryProtocolStore::State {
  KeyPair identity;
  std::uint32_t registration_id = 0;
  std::map<std::string, IdentityKey, std::less<>> identities;  // per person (name)
  std::map<std::uint32_t, PreKeyRecord> pre_keys;
  std::uint32_t next_pre_key_id = 1;
  std::map<std::uint32_t, SignedPreKeyRecord> signed_pre_keys;
  std::map<Address, SessionRecord> sessions;
  std::map<BaseKeyBytes, std::uint32_t> accepted_base_keys;  // base key -> signed prekey id
  std::map<RecordKey, SecretBytes> messenger_records;
  std::map<SenderKeyKey, SenderKeyRecord> sender_keys;
  std::map<std::uint32_t, KyberPreKeyRecord> kyber_pre_keys;
  std::uint32_t next_kyber_pre_key_id = 1;
  std::map<LastResortUse, bool> last_resort_uses;  // the value is unused (a map for the undo log)
};

// The previous values of everything a transaction changed (first change of each key only).
struct InMemoryProtocolStore::Undo {
  std::map<std::string, std::optional<IdentityKey>, std::less<>> identities;
  std::map<std::uint32_t, std::optional<PreKeyRecord>> pre_keys;
  std::optional<std::uint32_t> next_pre_key_id;
  std::map<std::uint32_t, std::optional<SignedPreKeyRecord>> signed_pre_keys;
  std::map<Address, std::optional<SessionRecord>> sessions;
  std::map<BaseKeyBytes, std::optional<std::uint32_t>> accepted_base_keys;
  std::map<RecordKey, std::optional<SecretBytes>> messenger_records;
  std::map<SenderKeyKey, std::optional<SenderKeyRecord>> sender_keys;
  std::map<std::uint32_t, std::optional<KyberPreKeyRecord>> kyber_pre_keys;
  std::optional<std::uint32_t> next_kyber_pre_key_id;
  std::map<LastResortUse, std::optional<bool>> last_resort_uses;
};

namespace {

template <class Map, class Live, class Key, class Clone>
void remember(Map& undo, const Live& live, const Key& key, Clone clone) {
  if (undo.count(key)) return;
  auto it = live.find(key);
  if (it == live.end())
    undo.emplace(key, std::nullopt);
  else
    undo.emplace(key, clone(it->second));
}

template <class Map, class UndoMap>
void restore(Map& live, UndoMap& undo) {
  for (auto& [key, previous] : undo) {
    if (previous)
      live.insert_or_assign(key, std::move(*previous));
    else
      live.erase(key);
  }
}

}  // namespace

InMemoryProtocolStore::InMemoryProtocolStore(IdentityKeyPair identity,
                                             std::uint32_t registration_id)
    : state_(std::make_unique<State>(
          State{std::move(identity), registration_id, {}, {}, 1, {}, {}, {}, {}, {}, {}, 1, {}})) {}

InMemoryProtocolStore::~InMemoryProtocolStore() = default;

InMemoryProtocolStore::Undo* InMemoryProtocolStore::top_undo() {
  return undo_.empty() ? nullptr : &undo_.back();
}

namespace {
// Moves the entries of an inner frame into its parent, where the parent has none for that key:
// the inner frame's prior value is then also the value the parent started with.
template <class Map>
void merge_into(Map& parent, Map& inner) {
  for (auto& [key, previous] : inner)
    parent.try_emplace(key, std::move(previous));
}
}  // namespace

Status InMemoryProtocolStore::run_transaction(const std::function<Status()>& body) {
  std::lock_guard lock(mutex_);
  undo_.emplace_back();
  auto rollback = [&] {
    Undo& u = undo_.back();
    restore(state_->identities, u.identities);
    restore(state_->pre_keys, u.pre_keys);
    if (u.next_pre_key_id) state_->next_pre_key_id = *u.next_pre_key_id;
    restore(state_->signed_pre_keys, u.signed_pre_keys);
    restore(state_->sessions, u.sessions);
    restore(state_->accepted_base_keys, u.accepted_base_keys);
    restore(state_->messenger_records, u.messenger_records);
    restore(state_->sender_keys, u.sender_keys);
    restore(state_->kyber_pre_keys, u.kyber_pre_keys);
    if (u.next_kyber_pre_key_id) state_->next_kyber_pre_key_id = *u.next_kyber_pre_key_id;
    restore(state_->last_resort_uses, u.last_resort_uses);
    undo_.pop_back();
  };
  Status st;
  try {
    st = body();
  } catch (...) {
    rollback();
    throw;
  }
  if (!st) {
    rollback();
    return st;
  }
  if (undo_.size() > 1) {
    Undo inner = std::move(undo_.back());
    undo_.pop_back();
    Undo& parent = undo_.back();
    merge_into(parent.identities, inner.identities);
    merge_into(parent.pre_keys, inner.pre_keys);
    if (!parent.next_pre_key_id) parent.next_pre_key_id = inner.next_pre_key_id;
    merge_into(parent.signed_pre_keys, inner.signed_pre_keys);
    merge_into(parent.sessions, inner.sessions);
    merge_into(parent.accepted_base_keys, inner.accepted_base_keys);
    merge_into(parent.messenger_records, inner.messenger_records);
    merge_into(parent.sender_keys, inner.sender_keys);
    merge_into(parent.kyber_pre_keys, inner.kyber_pre_keys);
    if (!parent.next_kyber_pre_key_id) parent.next_kyber_pre_key_id = inner.next_kyber_pre_key_id;
    merge_into(parent.last_resort_uses, inner.last_resort_uses);
  } else {
    undo_.pop_back();
  }
  return ok_status();
}

// ---- identities ----

Result<IdentityKeyPair> InMemoryProtocolStore::identity_key_pair() {
  std::lock_guard lock(mutex_);
  return state_->identity.clone();
}

Result<std::uint32_t> InMemoryProtocolStore::local_registration_id() {
  std::lock_guard lock(mutex_);
  return state_->registration_id;
}

Result<IdentityChange> InMemoryProtocolStore::save_identity(std::string_view name,
                                                            const IdentityKey& identity) {
  std::lock_guard lock(mutex_);
  const std::string key(name);
  if (Undo* u = top_undo())
    remember(u->identities, state_->identities, key, [](const IdentityKey& k) { return k; });
  auto it = state_->identities.find(key);
  if (it == state_->identities.end()) {
    state_->identities.emplace(key, identity);
    return IdentityChange::kNewOrUnchanged;
  }
  if (it->second == identity) return IdentityChange::kNewOrUnchanged;
  it->second = identity;
  return IdentityChange::kReplacedExisting;
}

Result<bool> InMemoryProtocolStore::is_trusted_identity(std::string_view name,
                                                        const IdentityKey& identity, Direction) {
  std::lock_guard lock(mutex_);
  auto it = state_->identities.find(name);
  return it == state_->identities.end() || it->second == identity;
}

Result<std::optional<IdentityKey>> InMemoryProtocolStore::identity(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = state_->identities.find(name);
  if (it == state_->identities.end()) return std::optional<IdentityKey>();
  return std::optional<IdentityKey>(it->second);
}

Result<std::vector<std::pair<std::string, IdentityKey>>> InMemoryProtocolStore::identities() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, IdentityKey>> out;
  out.reserve(state_->identities.size());
  for (const auto& [name, key] : state_->identities)
    out.emplace_back(name, key);
  return out;
}

// ---- prekeys ----

Result<std::optional<PreKeyRecord>> InMemoryProtocolStore::load_pre_key(PreKeyId id) {
  std::lock_guard lock(mutex_);
  auto it = state_->pre_keys.find(to_uint(id));
  if (it == state_->pre_keys.end()) return std::optional<PreKeyRecord>();
  return std::optional<PreKeyRecord>(it->second.clone());
}

Status InMemoryProtocolStore::store_pre_key(const PreKeyRecord& record) {
  std::lock_guard lock(mutex_);
  const std::uint32_t id = to_uint(record.id);
  if (Undo* u = top_undo()) {
    remember(u->pre_keys, state_->pre_keys, id, [](const PreKeyRecord& r) { return r.clone(); });
    if (!u->next_pre_key_id) u->next_pre_key_id = state_->next_pre_key_id;
  }
  state_->pre_keys.insert_or_assign(id, record.clone());
  if (id >= state_->next_pre_key_id) state_->next_pre_key_id = id + 1;
  return ok_status();
}

Status InMemoryProtocolStore::remove_pre_key(PreKeyId id) {
  std::lock_guard lock(mutex_);
  if (Undo* u = top_undo())
    remember(u->pre_keys, state_->pre_keys, to_uint(id),
             [](const PreKeyRecord& r) { return r.clone(); });
  state_->pre_keys.erase(to_uint(id));
  return ok_status();
}

Result<std::vector<PreKeyId>> InMemoryProtocolStore::pre_key_ids() {
  std::lock_guard lock(mutex_);
  std::vector<PreKeyId> ids;
  ids.reserve(state_->pre_keys.size());
  for (const auto& [id, record] : state_->pre_keys)
    ids.push_back(PreKeyId{id});
  return ids;
}

Result<PreKeyId> InMemoryProtocolStore::next_pre_key_id() {
  std::lock_guard lock(mutex_);
  return PreKeyId{state_->next_pre_key_id};
}

// ---- Kyber prekeys ----

Result<std::optional<KyberPreKeyRecord>> InMemoryProtocolStore::load_kyber_pre_key(
    KyberPreKeyId id) {
  std::lock_guard lock(mutex_);
  auto it = state_->kyber_pre_keys.find(to_uint(id));
  if (it == state_->kyber_pre_keys.end()) return std::optional<KyberPreKeyRecord>();
  return std::optional<KyberPreKeyRecord>(it->second.clone());
}

Status InMemoryProtocolStore::store_kyber_pre_key(const KyberPreKeyRecord& record) {
  std::lock_guard lock(mutex_);
  const std::uint32_t id = to_uint(record.id);
  if (Undo* u = top_undo()) {
    remember(u->kyber_pre_keys, state_->kyber_pre_keys, id,
             [](const KyberPreKeyRecord& r) { return r.clone(); });
    if (!u->next_kyber_pre_key_id) u->next_kyber_pre_key_id = state_->next_kyber_pre_key_id;
  }
  state_->kyber_pre_keys.insert_or_assign(id, record.clone());
  if (id != UINT32_MAX && id >= state_->next_kyber_pre_key_id)
    state_->next_kyber_pre_key_id = id + 1;
  return ok_status();
}

Status InMemoryProtocolStore::remove_kyber_pre_key(KyberPreKeyId id) {
  std::lock_guard lock(mutex_);
  Undo* u = top_undo();
  if (u)
    remember(u->kyber_pre_keys, state_->kyber_pre_keys, to_uint(id),
             [](const KyberPreKeyRecord& r) { return r.clone(); });
  state_->kyber_pre_keys.erase(to_uint(id));
  auto& uses = state_->last_resort_uses;
  for (auto it = uses.begin(); it != uses.end();) {
    if (std::get<0>(it->first) != to_uint(id)) {
      ++it;
      continue;
    }
    if (u) u->last_resort_uses.try_emplace(it->first, true);
    it = uses.erase(it);
  }
  return ok_status();
}

Result<std::vector<KyberPreKeyId>> InMemoryProtocolStore::kyber_pre_key_ids() {
  std::lock_guard lock(mutex_);
  std::vector<KyberPreKeyId> ids;
  ids.reserve(state_->kyber_pre_keys.size());
  for (const auto& [id, record] : state_->kyber_pre_keys)
    ids.push_back(KyberPreKeyId{id});
  return ids;
}

Result<KyberPreKeyId> InMemoryProtocolStore::next_kyber_pre_key_id() {
  std::lock_guard lock(mutex_);
  return KyberPreKeyId{state_->next_kyber_pre_key_id};
}

Result<bool> InMemoryProtocolStore::has_last_resort_use(KyberPreKeyId id,
                                                        SignedPreKeyId signed_pre_key_id,
                                                        const PublicKey& base_key) {
  std::lock_guard lock(mutex_);
  return state_->last_resort_uses.count(
             LastResortUse(to_uint(id), to_uint(signed_pre_key_id), base_key.u())) != 0;
}

Status InMemoryProtocolStore::record_last_resort_use(KyberPreKeyId id,
                                                     SignedPreKeyId signed_pre_key_id,
                                                     const PublicKey& base_key) {
  std::lock_guard lock(mutex_);
  const LastResortUse key(to_uint(id), to_uint(signed_pre_key_id), base_key.u());
  if (Undo* u = top_undo())
    remember(u->last_resort_uses, state_->last_resort_uses, key, [](bool v) { return v; });
  state_->last_resort_uses.insert_or_assign(key, true);
  return ok_status();
}

// ---- signed prekeys ----

Result<std::optional<SignedPreKeyRecord>> InMemoryProtocolStore::load_signed_pre_key(
    SignedPreKeyId id) {
  std::lock_guard lock(mutex_);
  auto it = state_->signed_pre_keys.find(to_uint(id));
  if (it == state_->signed_pre_keys.end()) return std::optional<SignedPreKeyRecord>();
  return std::optional<SignedPreKeyRecord>(it->second.clone());
}

Status InMemoryProtocolStore::store_signed_pre_key(const SignedPreKeyRecord& record) {
  std::lock_guard lock(mutex_);
  if (Undo* u = top_undo())
    remember(u->signed_pre_keys, state_->signed_pre_keys, to_uint(record.id),
             [](const SignedPreKeyRecord& r) { return r.clone(); });
  state_->signed_pre_keys.insert_or_assign(to_uint(record.id), record.clone());
  return ok_status();
}

Status InMemoryProtocolStore::remove_signed_pre_key(SignedPreKeyId id) {
  std::lock_guard lock(mutex_);
  Undo* u = top_undo();
  if (u)
    remember(u->signed_pre_keys, state_->signed_pre_keys, to_uint(id),
             [](const SignedPreKeyRecord& r) { return r.clone(); });
  state_->signed_pre_keys.erase(to_uint(id));
  auto& keys = state_->accepted_base_keys;
  for (auto it = keys.begin(); it != keys.end();) {
    if (it->second != to_uint(id)) {
      ++it;
      continue;
    }
    if (u) u->accepted_base_keys.try_emplace(it->first, it->second);
    it = keys.erase(it);
  }
  return ok_status();
}

Result<bool> InMemoryProtocolStore::has_accepted_base_key(const PublicKey& base_key) {
  std::lock_guard lock(mutex_);
  return state_->accepted_base_keys.count(base_key.u()) != 0;
}

Status InMemoryProtocolStore::record_accepted_base_key(SignedPreKeyId id,
                                                       const PublicKey& base_key) {
  std::lock_guard lock(mutex_);
  if (Undo* u = top_undo())
    remember(u->accepted_base_keys, state_->accepted_base_keys, base_key.u(),
             [](std::uint32_t v) { return v; });
  state_->accepted_base_keys.insert_or_assign(base_key.u(), to_uint(id));
  return ok_status();
}

Result<std::vector<SignedPreKeyId>> InMemoryProtocolStore::signed_pre_key_ids() {
  std::lock_guard lock(mutex_);
  std::vector<SignedPreKeyId> ids;
  for (const auto& [id, record] : state_->signed_pre_keys)
    ids.push_back(SignedPreKeyId{id});
  return ids;
}

// ---- sessions ----

Result<std::optional<SessionRecord>> InMemoryProtocolStore::load_session(const Address& address) {
  std::lock_guard lock(mutex_);
  auto it = state_->sessions.find(address);
  if (it == state_->sessions.end()) return std::optional<SessionRecord>();
  return std::optional<SessionRecord>(it->second.clone());
}

Status InMemoryProtocolStore::store_session(const Address& address, SessionRecord record) {
  std::lock_guard lock(mutex_);
  auto it = state_->sessions.find(address);
  if (Undo* u = top_undo(); u != nullptr && u->sessions.count(address) == 0) {
    // The replaced record itself goes to the undo log (moved, not copied).
    if (it == state_->sessions.end())
      u->sessions.emplace(address, std::nullopt);
    else
      u->sessions.emplace(address, std::move(it->second));
  }
  if (it == state_->sessions.end())
    state_->sessions.emplace(address, std::move(record));
  else
    it->second = std::move(record);
  return ok_status();
}

Result<std::vector<DeviceId>> InMemoryProtocolStore::session_devices(std::string_view name) {
  std::lock_guard lock(mutex_);
  std::vector<DeviceId> out;
  for (auto it = state_->sessions.lower_bound(Address{std::string(name), DeviceId{0}});
       it != state_->sessions.end() && it->first.name == name; ++it)
    out.push_back(it->first.device_id);
  return out;
}

Result<std::vector<Address>> InMemoryProtocolStore::session_addresses() {
  std::lock_guard lock(mutex_);
  std::vector<Address> out;
  out.reserve(state_->sessions.size());
  for (const auto& [address, record] : state_->sessions)
    out.push_back(address);
  return out;
}

// ---- sender keys ----

Result<std::optional<SenderKeyRecord>> InMemoryProtocolStore::load_sender_key(
    const Address& sender, const SenderKeyGroup& group) {
  std::lock_guard lock(mutex_);
  auto it = state_->sender_keys.find(sender_key_key(sender, group));
  if (it == state_->sender_keys.end()) return std::optional<SenderKeyRecord>();
  return std::optional<SenderKeyRecord>(it->second.clone());
}

Status InMemoryProtocolStore::store_sender_key(const Address& sender, const SenderKeyGroup& group,
                                               SenderKeyRecord record) {
  SenderKeyKey k = sender_key_key(sender, group);  // may throw: before anything changes
  std::lock_guard lock(mutex_);
  auto& keys = state_->sender_keys;
  auto it = keys.find(k);
  if (Undo* u = top_undo(); u != nullptr && u->sender_keys.count(k) == 0) {
    // The replaced record itself goes to the undo log (moved, not copied).
    if (it == keys.end())
      u->sender_keys.emplace(k, std::nullopt);
    else
      u->sender_keys.emplace(k, std::move(it->second));
  }
  if (it == keys.end())
    keys.emplace(std::move(k), std::move(record));
  else
    it->second = std::move(record);
  return ok_status();
}

Status InMemoryProtocolStore::remove_sender_key(const Address& sender,
                                                const SenderKeyGroup& group) {
  SenderKeyKey k = sender_key_key(sender, group);  // may throw: before anything changes
  std::lock_guard lock(mutex_);
  auto& keys = state_->sender_keys;
  auto it = keys.find(k);
  if (it == keys.end()) return ok_status();
  if (Undo* u = top_undo(); u != nullptr && u->sender_keys.count(k) == 0)
    u->sender_keys.emplace(k, std::move(it->second));
  keys.erase(it);
  return ok_status();
}

// ---- Messenger records ----

namespace {}  // namespace

Result<std::optional<SecretBytes>> InMemoryProtocolStore::load_messenger_record(
    MessengerRecordKind kind, std::string_view key) {
  if (auto st = internal::check_messenger_record(kind, key); !st) return st.error();
  std::lock_guard lock(mutex_);
  auto it = state_->messenger_records.find(RecordKey(static_cast<std::uint8_t>(kind), key));
  if (it == state_->messenger_records.end()) return std::optional<SecretBytes>();
  return std::optional<SecretBytes>(it->second.clone());
}

Status InMemoryProtocolStore::store_messenger_record(MessengerRecordKind kind, std::string_view key,
                                                     ByteView value) {
  if (auto st = internal::check_messenger_record(kind, key, value); !st) return st;
  SecretBytes copy = SecretBytes::copy_of(value);  // may throw: before anything changes
  std::lock_guard lock(mutex_);
  RecordKey k(static_cast<std::uint8_t>(kind), key);
  auto& records = state_->messenger_records;
  auto it = records.find(k);
  if (Undo* u = top_undo(); u != nullptr && u->messenger_records.count(k) == 0) {
    // The replaced value itself goes to the undo log (moved, not copied).
    if (it == records.end())
      u->messenger_records.emplace(k, std::nullopt);
    else
      u->messenger_records.emplace(k, std::move(it->second));
  }
  if (it == records.end())
    records.emplace(std::move(k), std::move(copy));
  else
    it->second = std::move(copy);
  return ok_status();
}

Status InMemoryProtocolStore::remove_messenger_record(MessengerRecordKind kind,
                                                      std::string_view key) {
  if (auto st = internal::check_messenger_record(kind, key); !st) return st;
  std::lock_guard lock(mutex_);
  RecordKey k(static_cast<std::uint8_t>(kind), key);
  auto& records = state_->messenger_records;
  auto it = records.find(k);
  if (it == records.end()) return ok_status();
  if (Undo* u = top_undo(); u != nullptr && u->messenger_records.count(k) == 0)
    u->messenger_records.emplace(k, std::move(it->second));
  records.erase(it);
  return ok_status();
}

Result<std::vector<std::string>> InMemoryProtocolStore::messenger_record_keys(
    MessengerRecordKind kind) {
  if (auto st = internal::check_messenger_record(kind, {}); !st) return st.error();
  std::lock_guard lock(mutex_);
  const auto k = static_cast<std::uint8_t>(kind);
  std::vector<std::string> out;
  for (auto it = state_->messenger_records.lower_bound(RecordKey(k, std::string()));
       it != state_->messenger_records.end() && it->first.first == k; ++it)
    out.push_back(it->first.second);
  return out;
}

int InMemoryProtocolStore::transaction_depth() {
  // A transaction holds the mutex from start to end: another thread waits here until it is over,
  // and then sees none of it.
  std::lock_guard lock(mutex_);
  return static_cast<int>(undo_.size());
}

// ---- snapshots ----

SecretBytes InMemoryProtocolStore::serialize() const {
  std::lock_guard lock(mutex_);
  internal::SnapshotWriter w(state_->identity, state_->registration_id, state_->next_pre_key_id,
                             state_->next_kyber_pre_key_id);
  for (const auto& [name, key] : state_->identities)
    w.add_identity(name, key);
  for (const auto& [id, record] : state_->pre_keys)
    w.add_pre_key(record.serialize().expose());
  for (const auto& [id, record] : state_->signed_pre_keys)
    w.add_signed_pre_key(record.serialize().expose());
  for (const auto& [address, record] : state_->sessions)
    w.add_session(address, record.serialize().expose());
  for (const auto& [key, id] : state_->accepted_base_keys)
    w.add_accepted_base_key(SignedPreKeyId{id}, PublicKey::from_u(key));
  for (const auto& [key, value] : state_->messenger_records)
    w.add_messenger_record(static_cast<MessengerRecordKind>(key.first), key.second, value.expose());
  for (const auto& [key, record] : state_->sender_keys)
    w.add_sender_key(std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key),
                     record.serialize().expose());
  for (const auto& [id, record] : state_->kyber_pre_keys)
    w.add_kyber_pre_key(record.serialize().expose());
  for (const auto& [use, unused] : state_->last_resort_uses)
    w.add_last_resort_use(KyberPreKeyId{std::get<0>(use)}, SignedPreKeyId{std::get<1>(use)},
                          PublicKey::from_u(std::get<2>(use)));
  return w.finish();
}

Result<std::unique_ptr<InMemoryProtocolStore>> InMemoryProtocolStore::deserialize(
    ByteView snapshot) {
  if (snapshot.size() > kMaxStoreSnapshotBytes)
    return Error(Errc::kLimitExceeded, "store snapshot: too large");
  storage::StoreSnapshot p;
  const bool parsed = internal::parse_from(p, snapshot);
  struct Wiper {
    storage::StoreSnapshot& p;
    ~Wiper() {
      internal::wipe(p.mutable_identity()->mutable_private_key());
      for (auto& s : *p.mutable_pre_keys())
        internal::wipe(&s);
      for (auto& s : *p.mutable_signed_pre_keys())
        internal::wipe(&s);
      for (auto& s : *p.mutable_sessions())
        internal::wipe(s.mutable_record());
      for (auto& r : *p.mutable_messenger_records())
        internal::wipe(r.mutable_value());
      for (auto& r : *p.mutable_sender_keys())
        internal::wipe(r.mutable_record());
      for (auto& r : *p.mutable_kyber_pre_keys())
        internal::wipe(&r);
    }
  } wiper{p};
  if (!parsed) return Error(Errc::kCorruptState, "store snapshot: protobuf");
  // Formats 1 (identities per address, see identities below) and 2 (no Messenger records) are
  // still read.
  if (p.format() < 1 || p.format() > internal::kSnapshotFormat)
    return Error(Errc::kCorruptState, "store snapshot: format");
  if (p.format() < 3 && p.messenger_records_size() != 0)
    return Error(Errc::kCorruptState, "store snapshot: Messenger records before format 3");
  if (p.format() < 4 && p.sender_keys_size() != 0)
    return Error(Errc::kCorruptState, "store snapshot: sender keys before format 4");
  if (p.format() < 5 && (p.kyber_pre_keys_size() != 0 || p.kyber_last_resort_uses_size() != 0 ||
                         p.has_next_kyber_pre_key_id()))
    return Error(Errc::kCorruptState, "store snapshot: Kyber prekeys before format 5");
  std::array<std::uint8_t, 32> pub{};
  if (!p.has_identity() || !internal::read_fixed(p.identity().public_key(), pub))
    return Error(Errc::kCorruptState, "store snapshot: identity");
  auto priv = PrivateKey::parse(as_bytes(p.identity().private_key()));
  if (!priv) return Error(Errc::kCorruptState, "store snapshot: identity private key");
  auto identity = KeyPair::from_parts(PublicKey::from_u(pub), std::move(*priv));
  if (!identity) return Error(Errc::kCorruptState, "store snapshot: identity keys do not match");
  auto store = std::make_unique<InMemoryProtocolStore>(std::move(*identity), p.registration_id());
  State& st = *store->state_;
  for (const auto& e : p.identities()) {
    std::array<std::uint8_t, 32> u{};
    if (!internal::read_fixed(e.identity_key(), u))
      return Error(Errc::kCorruptState, "store snapshot: peer identity");
    // A format-1 snapshot held one identity per device; identities now belong to the person, and
    // the lowest device's (the first in the snapshot's order) is kept, as SqliteStore's migration
    // does. A device whose session was made with another key then meets an identity change.
    st.identities.try_emplace(e.name(), PublicKey::from_u(u));
  }
  for (const auto& bytes : p.pre_keys()) {
    auto r = PreKeyRecord::deserialize(as_bytes(bytes));
    if (!r) return r.error();
    const std::uint32_t id = to_uint(r->id);
    st.pre_keys.insert_or_assign(id, std::move(*r));
  }
  for (const auto& bytes : p.signed_pre_keys()) {
    auto r = SignedPreKeyRecord::deserialize(as_bytes(bytes));
    if (!r) return r.error();
    const std::uint32_t id = to_uint(r->id);
    st.signed_pre_keys.insert_or_assign(id, std::move(*r));
  }
  for (const auto& e : p.sessions()) {
    auto r = SessionRecord::deserialize(as_bytes(e.record()));
    if (!r) return r.error();
    st.sessions.insert_or_assign(Address{e.name(), DeviceId{e.device_id()}}, std::move(*r));
  }
  for (const auto& e : p.accepted_base_keys()) {
    std::array<std::uint8_t, 32> u{};
    if (!internal::read_fixed(e.base_key(), u))
      return Error(Errc::kCorruptState, "store snapshot: accepted base key");
    st.accepted_base_keys.insert_or_assign(u, e.signed_pre_key_id());
  }
  // Bounded as store_messenger_record bounds them; a key twice is ambiguous, so refused.
  for (const auto& e : p.messenger_records()) {
    if (!internal::is_messenger_record_kind(e.kind()))
      return Error(Errc::kCorruptState, "store snapshot: Messenger record kind");
    if (e.key().size() > kMaxMessengerRecordKeyBytes || e.value().size() > kMaxAppDataBytes)
      return Error(Errc::kCorruptState, "store snapshot: Messenger record size");
    const bool added = st.messenger_records
                           .try_emplace(RecordKey(static_cast<std::uint8_t>(e.kind()), e.key()),
                                        SecretBytes::copy_of(as_bytes(e.value())))
                           .second;
    if (!added) return Error(Errc::kCorruptState, "store snapshot: Messenger record twice");
  }
  // Groups checked as the public constructors check them; a key twice is ambiguous, so refused.
  for (const auto& e : p.sender_keys()) {
    auto group = internal::stored_sender_key_group(e.group_format(), e.group());
    if (!group) return group.error();
    if (e.name().size() > kMaxAddressNameBytes)
      return Error(Errc::kCorruptState, "store snapshot: sender key name");
    auto r = SenderKeyRecord::deserialize(as_bytes(e.record()));
    if (!r) return r.error();
    const bool added =
        st.sender_keys
            .try_emplace(sender_key_key(Address{e.name(), DeviceId{e.device_id()}}, *group),
                         std::move(*r))
            .second;
    if (!added) return Error(Errc::kCorruptState, "store snapshot: sender key twice");
  }
  for (const auto& bytes : p.kyber_pre_keys()) {
    auto r = KyberPreKeyRecord::deserialize(as_bytes(bytes));
    if (!r) return r.error();
    const std::uint32_t id = to_uint(r->id);
    if (!st.kyber_pre_keys.try_emplace(id, std::move(*r)).second)
      return Error(Errc::kCorruptState, "store snapshot: Kyber prekey twice");
  }
  for (const auto& e : p.kyber_last_resort_uses()) {
    std::array<std::uint8_t, 32> u{};
    if (!e.has_kyber_pre_key_id() || !e.has_signed_pre_key_id() ||
        !internal::read_fixed(e.base_key(), u))
      return Error(Errc::kCorruptState, "store snapshot: last-resort Kyber use");
    st.last_resort_uses.insert_or_assign(
        LastResortUse(e.kyber_pre_key_id(), e.signed_pre_key_id(), u), true);
  }
  st.next_kyber_pre_key_id = p.has_next_kyber_pre_key_id() ? p.next_kyber_pre_key_id() : 1;
  if (st.next_kyber_pre_key_id == 0 ||
      (!st.kyber_pre_keys.empty() && st.kyber_pre_keys.rbegin()->first != UINT32_MAX &&
       st.kyber_pre_keys.rbegin()->first >= st.next_kyber_pre_key_id))
    return Error(Errc::kCorruptState, "store snapshot: next Kyber prekey id");
  st.next_pre_key_id = p.next_pre_key_id();
  if (st.next_pre_key_id == 0 ||
      (!st.pre_keys.empty() && st.pre_keys.rbegin()->first >= st.next_pre_key_id))
    return Error(Errc::kCorruptState, "store snapshot: next prekey id");
  return store;
}

}  // namespace hush

// hush internal: the Messenger's group records (MessengerRecordKind::kGroup, key: the group id as
// 32 hex digits): a group's state (name, revision, members, admins, whether we are a member), our
// current sender key's distribution id and the devices that hold it, and the current distribution
// id of each member device whose key we hold. Stored records are parsed strictly and bounded
// (kCorruptState otherwise).
//
// Proof of origin (issue 11; review of 2026-12-06). A group's id is the first 16 bytes of
//   SHA-256("hush group id v1" || u16be len || creator name || creator identity (33) || nonce (16))
// and every state carries the creator's name, identity key and the nonce, so a device that meets
// the group for the first time can check which key made it. Only the creator promotes: each admin
// but the creator holds a certificate, the creator's identity signature over
//   "hush group admin v1" || group id || u16be len || admin name || admin identity (33).
// A state's admins must be exactly the creator (if listed) and the holders of its certificates,
// each certificate must verify, and a change is applied only from the creator (its identity as
// the 1:1 session authenticated it equal to the creator key) or from an admin whose certificate
// names its session identity; otherwise kUnverifiedGroup (or kNotGroupAdmin for a sender that
// is simply no admin). Where the creator's identity is known to us it must be the key the id
// commits to. A device that does not hold the group refuses a state without a proof; a group held
// from before (stored format 1, no proof) keeps the old rule (its admins as held decide) and is
// not offered to anyone new: to add people, make the group again.
// What a former member can still do: a removed admin keeps its certificate, so it can still plant
// a made-up state on a device that has never held the group (until the genuine state, with a
// higher revision, reaches that device first); a former member that was never an admin cannot.
//
// Not responsible for: deciding what a change may do (group_chat.cpp) or sealing (the store).
// Thread-safety: plain values; GroupRecords is not synchronised (each call joins the caller's
// transaction or is one).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <hush/address.h>
#include <hush/result.h>
#include <hush/sender_key.h>
#include <hush/store.h>

#include "messenger/content.h"
#include "messenger/envelope.h"

namespace hush::internal {

/// A member device whose current sender key we hold.
struct GroupSender {
  Address device;
  DistributionId distribution;
  std::uint64_t serial = 0;  // GroupUpdate.key_serial of the key held (0: before serials)
};

/// A sender key record (ours or a member's) no longer used: removed from the store by save().
struct SupersededKey {
  Address sender;
  DistributionId distribution;
};

/// One group as this device holds it.
struct GroupRecord {
  GroupIdBytes id{};
  std::string name;
  std::uint64_t revision = 0;
  std::vector<std::string> members;  // strictly ascending
  std::vector<std::string> admins;   // strictly ascending, a subset of members
  bool member = true;
  DistributionId distribution;       // ours
  std::vector<Address> distributed;  // devices holding our current key, ascending
  std::vector<GroupSender> senders;  // ascending by device
  std::optional<GroupProof> proof;   // nullopt: a group made before proofs (format 1)
  std::uint64_t key_serial = 0;      // how many keys of ours we started
  /// Not stored: keys replaced or dropped since the record was loaded (save() removes them).
  std::vector<SupersededKey> superseded;

  bool is_member(std::string_view person) const;
  bool is_admin(std::string_view person) const;
  /// The distribution id of `device`'s key we hold, if any.
  std::optional<DistributionId> sender_key_of(const Address& device) const;
  /// The key of `device` we hold, if any.
  const GroupSender* sender(const Address& device) const;
  /// Records (or replaces, marking the old one superseded) the key of `device`.
  void set_sender(const Address& device, const DistributionId& key, std::uint64_t serial);
  /// Forgets the keys of every device of people no longer members (marked superseded).
  void drop_non_members();
  /// Forgets the keys of the devices `gone` says (marked superseded).
  template <typename Pred>
  void drop_senders_if(Pred gone) {
    std::erase_if(senders, [&](const GroupSender& s) {
      if (!gone(s)) return false;
      superseded.push_back(SupersededKey{s.device, s.distribution});
      return true;
    });
  }
  /// Removes `person` from the admins (and its certificate).
  void drop_admin(std::string_view person);
};

/// The id a group made by `creator` with `identity` and `nonce` has.
GroupIdBytes derive_group_id(std::string_view creator, const IdentityKey& identity,
                             const std::array<std::uint8_t, kGroupNonceBytes>& nonce);
/// What the creator signs to make `admin` (with `identity`) an admin of group `id`.
Bytes group_admin_statement(const GroupIdBytes& id, std::string_view admin,
                            const IdentityKey& identity);
/// Checks a state's proof for group `id` (see above): the id commits to the creator, the admins
/// are the creator and the certificate holders, every certificate verifies. kUnverifiedGroup.
Status verify_group_proof(const GroupIdBytes& id, const GroupStateParts& state);
/// Whether `person`, whose session identity is `identity`, may change a group whose (verified)
/// state is `state`: the creator with the creator's key, or a certified admin with its key.
/// Without a proof (a format-1 group): whether `person` is listed as an admin.
bool may_change_group(const GroupStateParts& state, std::string_view person,
                      const IdentityKey& identity);

/// The store key of a group.
std::string group_key(const GroupIdBytes& id);

class GroupRecords {
 public:
  explicit GroupRecords(ProtocolStore& store) : store_(store) {}
  /// The group `id`, or nullopt.
  Result<std::optional<GroupRecord>> load(const GroupIdBytes& id);
  /// Keeps the group and removes the sender key records it superseded. kLimitExceeded for a new
  /// group beyond kMaxGroups, or a record beyond its bounds (the ones parse_group_record checks:
  /// nothing is kept that could not be read back).
  Status save(const GroupRecord& group);
  /// Forgets the group `id` and every sender key record it names (ours, under `self`, and its
  /// members'). kUnknownGroup if it is not held.
  Status remove(const GroupIdBytes& id, const Address& self);
  /// The ids of every group held, ascending.
  Result<std::vector<GroupIdBytes>> ids();

 private:
  ProtocolStore& store_;
};

/// Parses a stored group (for tests and the fuzzers too). kCorruptState for anything off.
Result<GroupRecord> parse_group_record(ByteView bytes);
/// Serializes a group.
Bytes serialize_group_record(const GroupRecord& group);

}  // namespace hush::internal

// hush internal: the Messenger's group records (MessengerRecordKind::kGroup, key: the group id as
// 32 hex digits): a group's state (name, revision, members, admins, whether we are a member), our
// current sender key's distribution id and the devices that hold it, and the current distribution
// id of each member device whose key we hold. Stored records are parsed strictly and bounded
// (kCorruptState otherwise).
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

#include "messenger/envelope.h"

namespace hush::internal {

/// A member device whose current sender key we hold.
struct GroupSender {
  Address device;
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

  bool is_member(std::string_view person) const;
  bool is_admin(std::string_view person) const;
  /// The distribution id of `device`'s key we hold, if any.
  std::optional<DistributionId> sender_key_of(const Address& device) const;
  /// Records (or replaces) the key of `device`.
  void set_sender(const Address& device, const DistributionId& key);
  /// Forgets the keys of every device of people no longer members.
  void drop_non_members();
};

/// The store key of a group.
std::string group_key(const GroupIdBytes& id);

class GroupRecords {
 public:
  explicit GroupRecords(ProtocolStore& store) : store_(store) {}
  /// The group `id`, or nullopt.
  Result<std::optional<GroupRecord>> load(const GroupIdBytes& id);
  /// Keeps the group (kLimitExceeded for a new group beyond kMaxGroups).
  Status save(const GroupRecord& group);
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

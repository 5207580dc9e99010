// hush internal: the Messenger's group records (see groups.h).
#include "messenger/groups.h"

#include <algorithm>

#include <hush/limits.h>

#include "messenger_state.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr std::uint32_t kGroupFormat = 1;
// Every device of every member.
constexpr std::size_t kMaxGroupDevices = kMaxGroupMembers * kMaxDevicesPerPerson;

bool ascending_names(const google::protobuf::RepeatedPtrField<std::string>& in,
                     std::vector<std::string>& out) {
  if (static_cast<std::size_t>(in.size()) > kMaxGroupMembers) return false;
  for (const std::string& n : in) {
    if (n.empty() || n.size() > kMaxAddressNameBytes) return false;
    if (!out.empty() && !(out.back() < n)) return false;
    out.push_back(n);
  }
  return true;
}

std::optional<Address> read_device(const messenger_state::GroupDevice& d) {
  if (!d.has_name() || d.name().empty() || d.name().size() > kMaxAddressNameBytes ||
      !d.has_device() || d.device() == 0)
    return std::nullopt;
  return Address{d.name(), DeviceId{d.device()}};
}

}  // namespace

bool GroupRecord::is_member(std::string_view person) const {
  return std::binary_search(members.begin(), members.end(), person);
}

bool GroupRecord::is_admin(std::string_view person) const {
  return std::binary_search(admins.begin(), admins.end(), person);
}

std::optional<DistributionId> GroupRecord::sender_key_of(const Address& device) const {
  auto it = std::lower_bound(senders.begin(), senders.end(), device,
                             [](const GroupSender& s, const Address& a) { return s.device < a; });
  if (it == senders.end() || it->device != device) return std::nullopt;
  return it->distribution;
}

void GroupRecord::set_sender(const Address& device, const DistributionId& key) {
  auto it = std::lower_bound(senders.begin(), senders.end(), device,
                             [](const GroupSender& s, const Address& a) { return s.device < a; });
  if (it != senders.end() && it->device == device)
    it->distribution = key;
  else
    senders.insert(it, GroupSender{device, key});
}

void GroupRecord::drop_non_members() {
  std::erase_if(senders, [&](const GroupSender& s) { return !is_member(s.device.name); });
  std::erase_if(distributed, [&](const Address& a) { return !is_member(a.name); });
}

std::string group_key(const GroupIdBytes& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * id.size());
  for (std::uint8_t b : id) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<GroupRecord> parse_group_record(ByteView bytes) {
  const Error corrupt(Errc::kCorruptState, "group: stored record");
  messenger_state::Group g;
  if (!parse_from(g, bytes)) return corrupt;
  GroupRecord out;
  std::array<std::uint8_t, 16> dist{};
  if (!g.has_format() || g.format() != kGroupFormat || !g.has_group_id() ||
      !read_fixed(g.group_id(), out.id) || !g.has_name() ||
      g.name().size() > kMaxMessengerGroupNameBytes || !g.has_revision() || !g.has_member() ||
      !g.has_distribution_id() || !read_fixed(g.distribution_id(), dist))
    return corrupt;
  out.name = g.name();
  out.revision = g.revision();
  out.member = g.member();
  out.distribution = DistributionId(dist);
  if (!ascending_names(g.members(), out.members) || !ascending_names(g.admins(), out.admins) ||
      out.members.empty())
    return corrupt;
  for (const std::string& a : out.admins)
    if (!out.is_member(a)) return corrupt;
  if (static_cast<std::size_t>(g.distributed_size()) > kMaxGroupDevices ||
      static_cast<std::size_t>(g.senders_size()) > kMaxGroupDevices)
    return corrupt;
  for (const auto& d : g.distributed()) {
    auto a = read_device(d);
    if (!a || d.has_distribution_id()) return corrupt;
    if (!out.distributed.empty() && !(out.distributed.back() < *a)) return corrupt;
    out.distributed.push_back(std::move(*a));
  }
  for (const auto& d : g.senders()) {
    auto a = read_device(d);
    std::array<std::uint8_t, 16> id{};
    if (!a || !d.has_distribution_id() || !read_fixed(d.distribution_id(), id)) return corrupt;
    if (!out.senders.empty() && !(out.senders.back().device < *a)) return corrupt;
    out.senders.push_back(GroupSender{std::move(*a), DistributionId(id)});
  }
  return out;
}

Bytes serialize_group_record(const GroupRecord& group) {
  messenger_state::Group g;
  g.set_format(kGroupFormat);
  g.set_group_id(to_field(group.id));
  g.set_name(group.name);
  g.set_revision(group.revision);
  for (const std::string& m : group.members)
    g.add_members(m);
  for (const std::string& a : group.admins)
    g.add_admins(a);
  g.set_member(group.member);
  g.set_distribution_id(to_field(group.distribution.bytes()));
  for (const Address& a : group.distributed) {
    auto* d = g.add_distributed();
    d->set_name(a.name);
    d->set_device(to_uint(a.device_id));
  }
  for (const GroupSender& s : group.senders) {
    auto* d = g.add_senders();
    d->set_name(s.device.name);
    d->set_device(to_uint(s.device.device_id));
    d->set_distribution_id(to_field(s.distribution.bytes()));
  }
  Bytes out(g.ByteSizeLong());
  g.SerializeWithCachedSizesToArray(out.data());
  return out;
}

Result<std::optional<GroupRecord>> GroupRecords::load(const GroupIdBytes& id) {
  auto stored = store_.load_messenger_record(MessengerRecordKind::kGroup, group_key(id));
  if (!stored) return stored.error();
  if (!*stored) return std::optional<GroupRecord>();
  auto parsed = parse_group_record((*stored)->expose());
  if (!parsed) return parsed.error();
  if (parsed->id != id) return Error(Errc::kCorruptState, "group: stored under another id");
  return std::optional<GroupRecord>(std::move(*parsed));
}

Status GroupRecords::save(const GroupRecord& group) {
  const std::string key = group_key(group.id);
  auto existing = store_.load_messenger_record(MessengerRecordKind::kGroup, key);
  if (!existing) return existing.error();
  if (!*existing) {
    auto keys = store_.messenger_record_keys(MessengerRecordKind::kGroup);
    if (!keys) return keys.error();
    if (keys->size() >= kMaxGroups) return Error(Errc::kLimitExceeded, "group: too many groups");
  }
  const Bytes bytes = serialize_group_record(group);
  return store_.store_messenger_record(MessengerRecordKind::kGroup, key, bytes);
}

Result<std::vector<GroupIdBytes>> GroupRecords::ids() {
  auto keys = store_.messenger_record_keys(MessengerRecordKind::kGroup);
  if (!keys) return keys.error();
  std::vector<GroupIdBytes> out;
  for (const std::string& k : *keys) {
    if (k.size() != 32) return Error(Errc::kCorruptState, "group: stored key");
    GroupIdBytes id{};
    for (std::size_t i = 0; i < 16; ++i) {
      auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      const int hi = nib(k[2 * i]), lo = nib(k[2 * i + 1]);
      if (hi < 0 || lo < 0) return Error(Errc::kCorruptState, "group: stored key");
      id[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    out.push_back(id);
  }
  return out;
}

}  // namespace hush::internal

// hush internal: the Messenger's group records (see groups.h).
#include "messenger/groups.h"

#include <algorithm>
#include <cstring>

#include <hush/limits.h>

#include "crypto/hash.h"
#include "messenger_state.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr std::uint32_t kGroupFormatWithoutProof = 1;
constexpr std::uint32_t kGroupFormat = 2;
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

const GroupSender* GroupRecord::sender(const Address& device) const {
  auto it = std::lower_bound(senders.begin(), senders.end(), device,
                             [](const GroupSender& s, const Address& a) { return s.device < a; });
  if (it == senders.end() || it->device != device) return nullptr;
  return &*it;
}

void GroupRecord::set_sender(const Address& device, const DistributionId& key,
                             std::uint64_t serial) {
  auto it = std::lower_bound(senders.begin(), senders.end(), device,
                             [](const GroupSender& s, const Address& a) { return s.device < a; });
  if (it != senders.end() && it->device == device) {
    if (it->distribution != key) superseded.push_back(SupersededKey{device, it->distribution});
    it->distribution = key;
    it->serial = serial;
  } else {
    senders.insert(it, GroupSender{device, key, serial});
  }
}

void GroupRecord::drop_non_members() {
  drop_senders_if([&](const GroupSender& s) { return !is_member(s.device.name); });
  std::erase_if(distributed, [&](const Address& a) { return !is_member(a.name); });
}

void GroupRecord::drop_admin(std::string_view person) {
  auto it = std::lower_bound(admins.begin(), admins.end(), person);
  if (it != admins.end() && *it == person) admins.erase(it);
  if (proof)
    std::erase_if(proof->certificates,
                  [&](const AdminCertificate& c) { return c.admin == person; });
}

namespace {

// label || u16be len || name || identity (33) || tail: written into a buffer sized once (GCC 12's
// -Warray-bounds misreads vector inserts after a construction from a literal at -O2).
Bytes labelled(std::string_view label, ByteView head, std::string_view name,
               const IdentityKey& identity, ByteView tail) {
  const auto key = identity.serialize();
  Bytes out(label.size() + head.size() + 2 + name.size() + key.size() + tail.size());
  std::uint8_t* p = out.data();
  auto put = [&p](const void* data, std::size_t n) {
    if (n != 0) std::memcpy(p, data, n);
    p += n;
  };
  put(label.data(), label.size());
  put(head.data(), head.size());
  const std::uint8_t len[2] = {static_cast<std::uint8_t>(name.size() >> 8),
                               static_cast<std::uint8_t>(name.size() & 0xff)};
  put(len, 2);
  put(name.data(), name.size());
  put(key.data(), key.size());
  put(tail.data(), tail.size());
  return out;
}

}  // namespace

GroupIdBytes derive_group_id(std::string_view creator, const IdentityKey& identity,
                             const std::array<std::uint8_t, kGroupNonceBytes>& nonce) {
  const Bytes input = labelled("hush group id v1", {}, creator, identity, nonce);
  const auto digest = crypto::sha256(input);
  GroupIdBytes id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

Bytes group_admin_statement(const GroupIdBytes& id, std::string_view admin,
                            const IdentityKey& identity) {
  return labelled("hush group admin v1", id, admin, identity, {});
}

Status verify_group_proof(const GroupIdBytes& id, const GroupStateParts& state) {
  if (!state.proof) return Error(Errc::kUnverifiedGroup, "group: a state without a proof");
  const GroupProof& p = *state.proof;
  const GroupIdBytes derived = derive_group_id(p.creator, p.creator_identity, p.nonce);
  if (!std::equal(derived.begin(), derived.end(), id.begin()))
    return Error(Errc::kUnverifiedGroup, "group: the id does not commit to the creator named");
  // Admins = the creator (if listed) and the certificate holders, both ascending.
  std::vector<std::string> expected;
  for (const AdminCertificate& c : p.certificates) {
    if (c.admin == p.creator)
      return Error(Errc::kUnverifiedGroup, "group: a certificate for the creator");
    expected.push_back(c.admin);
  }
  if (std::binary_search(state.admins.begin(), state.admins.end(), p.creator)) {
    expected.insert(std::lower_bound(expected.begin(), expected.end(), p.creator), p.creator);
  }
  if (expected != state.admins)
    return Error(Errc::kUnverifiedGroup, "group: an admin without the creator's certificate");
  for (const AdminCertificate& c : p.certificates)
    if (!p.creator_identity.verify_signature(group_admin_statement(id, c.admin, c.identity),
                                             c.signature))
      return Error(Errc::kUnverifiedGroup, "group: an admin certificate does not verify");
  return ok_status();
}

bool may_change_group(const GroupStateParts& state, std::string_view person,
                      const IdentityKey& identity) {
  if (!std::binary_search(state.admins.begin(), state.admins.end(), person)) return false;
  if (!state.proof) return true;
  const GroupProof& p = *state.proof;
  if (person == p.creator) return identity == p.creator_identity;
  auto it = std::find_if(p.certificates.begin(), p.certificates.end(),
                         [&](const AdminCertificate& c) { return c.admin == person; });
  return it != p.certificates.end() && it->identity == identity;
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
  if (!g.has_format() || (g.format() != kGroupFormat && g.format() != kGroupFormatWithoutProof) ||
      !g.has_group_id() || !read_fixed(g.group_id(), out.id) || !g.has_name() ||
      g.name().size() > kMaxMessengerGroupNameBytes || !g.has_revision() || !g.has_member() ||
      !g.has_distribution_id() || !read_fixed(g.distribution_id(), dist))
    return corrupt;
  out.name = g.name();
  out.revision = g.revision();
  out.key_serial = g.key_serial();
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
    if (!a || d.has_distribution_id() || d.has_serial()) return corrupt;
    if (!out.distributed.empty() && !(out.distributed.back() < *a)) return corrupt;
    out.distributed.push_back(std::move(*a));
  }
  for (const auto& d : g.senders()) {
    auto a = read_device(d);
    std::array<std::uint8_t, 16> id{};
    if (!a || !d.has_distribution_id() || !read_fixed(d.distribution_id(), id)) return corrupt;
    if (!out.senders.empty() && !(out.senders.back().device < *a)) return corrupt;
    out.senders.push_back(GroupSender{std::move(*a), DistributionId(id), d.serial()});
  }
  const bool has_proof =
      g.has_creator() || g.has_creator_identity() || g.has_nonce() || g.certificates_size() != 0;
  if (g.format() == kGroupFormatWithoutProof) {
    if (has_proof) return corrupt;
    return out;
  }
  GroupProof proof;
  if (!g.has_creator() || g.creator().empty() || g.creator().size() > kMaxAddressNameBytes ||
      !read_fixed(g.nonce(), proof.nonce) ||
      static_cast<std::size_t>(g.certificates_size()) > out.admins.size())
    return corrupt;
  proof.creator = g.creator();
  auto creator_identity = PublicKey::parse(as_bytes(g.creator_identity()));
  if (!creator_identity) return corrupt;
  proof.creator_identity = *creator_identity;
  for (const auto& c : g.certificates()) {
    auto identity = PublicKey::parse(as_bytes(c.identity()));
    auto signature = Signature::parse(as_bytes(c.signature()));
    if (!c.has_admin() || c.admin().empty() || c.admin().size() > kMaxAddressNameBytes ||
        !identity || !signature)
      return corrupt;
    if (!proof.certificates.empty() && !(proof.certificates.back().admin < c.admin()))
      return corrupt;
    proof.certificates.push_back(AdminCertificate{c.admin(), *identity, *signature});
  }
  // The signatures were checked when the state was received (the store seals its records); the
  // shape is checked here: the admins are the creator and the certificate holders.
  for (const AdminCertificate& c : proof.certificates)
    if (c.admin == proof.creator || !out.is_admin(c.admin)) return corrupt;
  const std::size_t creator_admin = out.is_admin(proof.creator) ? 1 : 0;
  if (proof.certificates.size() + creator_admin != out.admins.size()) return corrupt;
  out.proof = std::move(proof);
  return out;
}

Bytes serialize_group_record(const GroupRecord& group) {
  messenger_state::Group g;
  g.set_format(group.proof ? kGroupFormat : kGroupFormatWithoutProof);
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
    if (s.serial != 0) d->set_serial(s.serial);
  }
  if (group.key_serial != 0) g.set_key_serial(group.key_serial);
  if (group.proof) {
    g.set_creator(group.proof->creator);
    g.set_creator_identity(to_field(group.proof->creator_identity.serialize()));
    g.set_nonce(to_field(group.proof->nonce));
    for (const AdminCertificate& a : group.proof->certificates) {
      auto* c = g.add_certificates();
      c->set_admin(a.admin);
      c->set_identity(to_field(a.identity.serialize()));
      c->set_signature(to_field(a.signature.bytes));
    }
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

namespace {

// The bounds parse_group_record checks, before anything is kept.
bool within_bounds(const GroupRecord& g) {
  auto names_ok = [](const std::vector<std::string>& v) {
    return v.size() <= kMaxGroupMembers &&
           std::all_of(v.begin(), v.end(), [](const std::string& n) {
             return !n.empty() && n.size() <= kMaxAddressNameBytes;
           });
  };
  return g.name.size() <= kMaxMessengerGroupNameBytes && !g.members.empty() &&
         names_ok(g.members) && names_ok(g.admins) && g.admins.size() <= g.members.size() &&
         g.distributed.size() <= kMaxGroupDevices && g.senders.size() <= kMaxGroupDevices &&
         (!g.proof || g.proof->certificates.size() <= g.admins.size());
}

}  // namespace

Status GroupRecords::save(const GroupRecord& group) {
  if (!within_bounds(group))
    return Error(Errc::kLimitExceeded, "group: the record is beyond its bounds");
  const std::string key = group_key(group.id);
  auto existing = store_.load_messenger_record(MessengerRecordKind::kGroup, key);
  if (!existing) return existing.error();
  if (!*existing) {
    auto keys = store_.messenger_record_keys(MessengerRecordKind::kGroup);
    if (!keys) return keys.error();
    if (keys->size() >= kMaxGroups) return Error(Errc::kLimitExceeded, "group: too many groups");
  }
  for (const SupersededKey& k : group.superseded) {
    // A key still in use (the same id given again) is kept.
    if (group.sender_key_of(k.sender) == k.distribution) continue;
    if (auto st = store_.remove_sender_key(k.sender, SenderKeyGroup::current(k.distribution)); !st)
      return st;
  }
  const Bytes bytes = serialize_group_record(group);
  return store_.store_messenger_record(MessengerRecordKind::kGroup, key, bytes);
}

Status GroupRecords::remove(const GroupIdBytes& id, const Address& self) {
  auto held = load(id);
  if (!held) return held.error();
  if (!*held) return Error(Errc::kUnknownGroup, "group: no such group");
  if (auto st = store_.remove_sender_key(self, SenderKeyGroup::current((*held)->distribution)); !st)
    return st;
  for (const GroupSender& s : (*held)->senders)
    if (auto st = store_.remove_sender_key(s.device, SenderKeyGroup::current(s.distribution)); !st)
      return st;
  return store_.remove_messenger_record(MessengerRecordKind::kGroup, group_key(id));
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

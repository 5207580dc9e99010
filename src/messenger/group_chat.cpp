// hush: Messenger groups (see messenger.h, "Groups"): the group operations, the changes and keys
// sent over 1:1 sessions, group messages sent with sender keys, and receiving both.
#include <hush/group.h>
#include <hush/limits.h>
#include <hush/messenger.h>

#include <algorithm>

#include "messenger/healing.h"
#include "messenger/messenger_impl.h"

namespace hush {

using internal::GroupRecord;
using internal::GroupRecords;
using internal::GroupUpdateParts;
using internal::MessageId;
using internal::OutboxDelivery;
using internal::OutboxEntry;

namespace {

GroupInfo to_info(const GroupRecord& r) {
  return GroupInfo{r.id, r.name, r.revision, r.members, r.admins, r.member};
}

bool valid_person(std::string_view p) {
  return !p.empty() && p.size() <= kMaxAddressNameBytes;
}

internal::GroupStateParts state_of(const GroupRecord& r) {
  return internal::GroupStateParts{r.name, r.members, r.admins, r.proof};
}

void insert_sorted(std::vector<std::string>& v, std::string_view x) {
  auto it = std::lower_bound(v.begin(), v.end(), x);
  if (it == v.end() || *it != x) v.insert(it, std::string(x));
}

void erase_sorted(std::vector<std::string>& v, std::string_view x) {
  auto it = std::lower_bound(v.begin(), v.end(), x);
  if (it != v.end() && *it == x) v.erase(it);
}

Status save_group(ProtocolStore& store, GroupRecord& r) {
  auto st = store.run_transaction([&] { return GroupRecords(store).save(r); });
  if (st) r.superseded.clear();
  return st;
}

// Starts a new sender key of ours for the group: a fresh distribution id (and chain, made when it
// is first given out) that nobody holds yet, one serial further; the old one's record goes.
Status start_new_key(RandomSource& random, const Address& self, GroupRecord& g) {
  auto dist = DistributionId::generate(random);
  if (!dist) return dist.error();
  g.superseded.push_back(internal::SupersededKey{self, g.distribution});
  g.distribution = *dist;
  g.distributed.clear();
  g.key_serial += 1;
  return ok_status();
}

}  // namespace

// ---- private steps ----

std::vector<Address> Messenger::Impl::devices_of(Messenger& m,
                                                 const std::vector<std::string>& persons,
                                                 std::vector<std::string>* unreached) {
  std::vector<Address> out;
  for (const std::string& p : persons) {
    auto list = refresh_list(m, p);
    if (!list) {
      if (unreached) unreached->push_back(p);
      continue;
    }
    for (DeviceId d : list->devices) {
      Address a{p, d};
      if (a != m.self_) out.push_back(std::move(a));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<DeviceDelivery>> Messenger::Impl::send_now(Messenger& m,
                                                              const std::vector<Address>& devices,
                                                              const SecretBytes& content, bool keep,
                                                              bool despite_change) {
  if (devices.empty()) return std::vector<DeviceDelivery>{};
  // A transient outbox entry (seq 0 is never kept: deliver records nothing for it).
  OutboxEntry entry;
  entry.content = SecretBytes::copy_of(content.expose());
  entry.copy = SecretBytes::copy_of(content.expose());
  std::vector<std::size_t> all;
  for (const Address& d : devices) {
    OutboxDelivery o;
    o.device = d;
    all.push_back(entry.deliveries.size());
    entry.deliveries.push_back(std::move(o));
  }
  auto outcome = deliver(m, entry, all, despite_change);
  if (!outcome) return outcome.error();
  if (keep) {
    // What did not go is kept, one outbox entry per person (an entry's deliveries are one
    // person's devices), for flush() to send like any 1:1 message.
    for (std::size_t i = 0; i < outcome->size();) {
      std::size_t j = i;
      OutboxEntry kept;
      kept.recipient = (*outcome)[i].device.name;
      for (; j < outcome->size() && (*outcome)[j].device.name == kept.recipient; ++j) {
        if ((*outcome)[j].state != DeliveryState::kQueued) continue;
        OutboxDelivery o;
        o.device = (*outcome)[j].device;
        if ((*outcome)[j].error) o.error = (*outcome)[j].error->code();
        kept.deliveries.push_back(std::move(o));
      }
      if (!kept.deliveries.empty()) {
        kept.content = SecretBytes::copy_of(content.expose());
        kept.copy = SecretBytes::copy_of(content.expose());
        kept.created_ms = m.ctx_.clock.now_ms();
        if (!internal::Outbox(m.store_).add(kept))
          for (std::size_t k = i; k < j; ++k)  // no room: not kept
            if ((*outcome)[k].state == DeliveryState::kQueued)
              (*outcome)[k].state = DeliveryState::kFailed;
      }
      i = j;
    }
    return outcome;
  }
  for (DeviceDelivery& d : *outcome)
    if (d.state == DeliveryState::kQueued) d.state = DeliveryState::kFailed;
  return outcome;
}

Result<GroupSendResult> Messenger::Impl::send_group_change(
    Messenger& m, GroupRecord& group, const std::vector<std::string>& removed) {
  auto key = create_sender_key_distribution(m.ctx_, m.store_, m.self_,
                                            SenderKeyGroup::current(group.distribution));
  if (!key) return key.error();
  auto id = random_id<internal::kMessageIdBytes>(m);
  if (!id) return id.error();
  const std::uint64_t now = m.ctx_.clock.now_ms();
  GroupUpdateParts update;
  update.id = group.id;
  update.revision = group.revision;
  update.state = state_of(group);
  const SecretBytes without_key = internal::build_group_update_content(*id, now, update);
  update.sender_key = SecretBytes::copy_of(key->serialized());
  update.key_serial = group.key_serial;
  const SecretBytes with_key = internal::build_group_update_content(*id, now, update);

  GroupSendResult out;
  out.group = group.id;
  out.message_id.assign(id->begin(), id->end());
  const std::vector<Address> members = devices_of(m, group.members, &out.unreached);
  auto sent = send_now(m, members, with_key, true);
  if (!sent) return sent.error();
  // Only devices listed now hold our key as far as we know (the record stays bounded by them).
  std::erase_if(group.distributed, [&](const Address& a) {
    return !std::binary_search(members.begin(), members.end(), a);
  });
  for (const DeviceDelivery& d : *sent)
    if (d.state == DeliveryState::kSent) group.distributed.push_back(d.device);
  std::sort(group.distributed.begin(), group.distributed.end());
  group.distributed.erase(std::unique(group.distributed.begin(), group.distributed.end()),
                          group.distributed.end());
  out.deliveries = std::move(*sent);
  if (!removed.empty()) {
    auto told = send_now(m, devices_of(m, removed, &out.unreached), without_key, true);
    if (!told) return told.error();
    for (DeviceDelivery& d : *told)
      out.deliveries.push_back(std::move(d));
  }
  if (auto st = save_group(m.store_, group); !st) return st.error();
  return out;
}

Status Messenger::Impl::apply_group_update(Messenger& m, const Address& sender,
                                           GroupUpdateParts& update,
                                           std::optional<GroupChangeEvent>& changed) {
  GroupRecords records(m.store_);
  auto held = records.load(update.id);
  if (!held) return held.error();
  std::optional<GroupRecord> group = std::move(*held);
  if (update.state) {
    const internal::GroupStateParts& state = *update.state;
    const bool lists_us =
        std::binary_search(state.members.begin(), state.members.end(), m.self_.name);
    // The sender's identity as its 1:1 session authenticated it (the session checked it against
    // the one stored for the person, or the device list just kept made it the stored one).
    auto sender_identity = m.store_.identity(sender.name);
    if (!sender_identity) return sender_identity.error();
    if (!*sender_identity)
      return Error(Errc::kUntrustedIdentity,
                   "Messenger: a group change from a person whose identity is not known");
    const IdentityKey& author = **sender_identity;
    // Checks the state's proof of origin (groups.h): the id commits to the creator, every admin
    // is certified by the creator, and the creator's key is the one we know for that person.
    auto check_proof = [&]() -> Status {
      if (auto st = internal::verify_group_proof(update.id, state); !st) return st;
      auto creator = m.store_.identity(state.proof->creator);
      if (!creator) return creator.error();
      if (*creator && !(**creator == state.proof->creator_identity))
        return Error(Errc::kUnverifiedGroup,
                     "Messenger: the group's creator key is not the one we know for that person");
      return ok_status();
    };
    const bool first_contact = !group;
    if (!group) {
      // A group we learn of: it must name us, prove who made it, and come from its creator or
      // an admin the creator certified (not just from someone the state itself calls an admin).
      if (!lists_us) return Error(Errc::kUnknownGroup, "Messenger: a change for an unknown group");
      if (!state.proof)
        return Error(Errc::kUnverifiedGroup,
                     "Messenger: a new group without a proof of who made it (a group made by an "
                     "older version, or a forgery)");
      if (auto st = check_proof(); !st) return st;
      if (!internal::may_change_group(state, sender.name, author))
        return Error(Errc::kNotGroupAdmin,
                     "Messenger: a new group from someone its creator did not make an admin");
      GroupRecord fresh;
      fresh.id = update.id;
      auto dist = DistributionId::generate(m.ctx_.random);
      if (!dist) return dist.error();
      fresh.distribution = *dist;
      fresh.revision = 0;
      group = std::move(fresh);
    } else {
      GroupRecord& g = *group;
      if (!internal::may_change_group(state_of(g), sender.name, author)) {
        // A member that is not an admin may only leave.
        GroupRecord after = g;
        erase_sorted(after.members, sender.name);
        after.drop_admin(sender.name);
        const bool leaves = g.is_member(sender.name) && after.members == state.members &&
                            after.admins == state.admins && g.name == state.name &&
                            after.proof == state.proof;
        if (!leaves) return Error(Errc::kNotGroupAdmin, "Messenger: a group change by a non-admin");
        // A leave is one step (a member must not push the revision ahead of the admins' changes).
        if (update.revision != g.revision + 1)
          return Error(Errc::kStaleGroupRevision,
                       "Messenger: a leave that is not the next revision");
      }
    }
    GroupRecord& g = *group;
    if (update.revision > kMaxGroupRevision)
      return Error(Errc::kLimitExceeded, "Messenger: a group revision beyond the limit");
    const bool again = !first_contact && update.revision == g.revision && g.name == state.name &&
                       g.members == state.members && g.admins == state.admins &&
                       g.proof == state.proof;
    if (again) {
      // The change we hold, sent again (resend_group_change): nothing to apply.
    } else if (update.revision <= g.revision) {
      return Error(Errc::kStaleGroupRevision, "Messenger: a group change that is not newer");
    }
    if (!again) {
      if (g.proof) {
        // The creator, identity and nonce never change; the certificates only as verified.
        if (!state.proof || state.proof->creator != g.proof->creator ||
            !(state.proof->creator_identity == g.proof->creator_identity) ||
            state.proof->nonce != g.proof->nonce)
          return Error(Errc::kUnverifiedGroup,
                       "Messenger: a group change that does not carry the group's proof");
        if (auto st = check_proof(); !st) return st;
      } else if (state.proof && !first_contact) {
        return Error(Errc::kUnverifiedGroup,
                     "Messenger: a proof for a group held without one (made by an older version)");
      }
      const bool someone_left = std::any_of(g.members.begin(), g.members.end(), [&](const auto& p) {
        return !std::binary_search(state.members.begin(), state.members.end(), p);
      });
      g.name = state.name;
      g.revision = update.revision;
      g.members = state.members;
      g.admins = state.admins;
      g.proof = state.proof;
      g.member = lists_us;
      g.drop_non_members();
      if (someone_left) {
        // Our next group message must not be readable by who left: a new key, given to those who
        // stay before it is used.
        if (auto st = start_new_key(m.ctx_.random, m.self_, g); !st) return st;
      }
      changed = GroupChangeEvent{sender, to_info(g)};
    }
  }
  if (!update.sender_key.empty()) {
    if (!group) return Error(Errc::kUnknownGroup, "Messenger: a group key for an unknown group");
    GroupRecord& g = *group;
    if (!g.member || !g.is_member(sender.name))
      return Error(Errc::kNotGroupMember, "Messenger: a group key from a non-member");
    auto key =
        SenderKeyDistributionMessage::parse(SenderKeyFormat::kCurrent, update.sender_key.expose());
    if (!key) return key.error();
    if (!key->distribution_id())
      return Error(Errc::kInvalidMessage, "Messenger: a group key without a distribution id");
    const DistributionId dist = *key->distribution_id();
    // Only the newest of the sender's keys is kept: an older one delivered late is ignored (not
    // an error: the update's change, if any, still applies).
    if (const internal::GroupSender* held_key = g.sender(sender)) {
      const bool older = update.key_serial < held_key->serial ||
                         (update.key_serial == held_key->serial && held_key->serial != 0 &&
                          held_key->distribution != dist);
      if (older) return records.save(*group);
    }
    if (auto st =
            process_sender_key_distribution(m.store_, sender, SenderKeyGroup::current(dist), *key);
        !st)
      return st;
    // Keys of the sender's devices that left its list are forgotten, so that a person whose
    // devices come and go cannot grow the record.
    auto list = m.lists_->known(sender.name);
    if (!list) return list.error();
    if (*list)
      g.drop_senders_if([&](const internal::GroupSender& x) {
        return x.device.name == sender.name && !(*list)->contains(x.device.device_id);
      });
    g.set_sender(sender, dist, update.key_serial);
  }
  return records.save(*group);
}

Result<std::optional<ReceivedMessage>> Messenger::Impl::receive_group(
    Messenger& m, const internal::EnvelopeParts& parts, const ReceiveOptions& options) {
  const Address& sender = parts.sender;
  auto known = m.lists_->known(sender.name);
  if (!known) return known.error();
  if (!*known || !(*known)->contains(sender.device_id)) {
    // Checked against the directory's newest list without keeping it: a receive that fails keeps
    // nothing (the next send to the person keeps it).
    std::optional<IdentityKey> offered;
    auto fresh = m.lists_->fetch(sender.name, &offered);
    if (!fresh) return fresh.error();
    if (!fresh->list().contains(sender.device_id))
      return Error(Errc::kUnknownDevice, "Messenger::receive: the sender's device is not listed");
  }
  auto held = GroupRecords(m.store_).load(*parts.group);
  if (!held) return held.error();
  if (!*held)
    return Error(Errc::kUnknownGroup, "Messenger::receive: a message for an unknown group");
  const GroupRecord& g = **held;
  if (!g.member || !g.is_member(sender.name))
    return Error(Errc::kNotGroupMember, "Messenger::receive: a group message from a non-member");
  auto message = SenderKeyMessage::parse(SenderKeyFormat::kCurrent, parts.body);
  if (!message) return message.error();
  const auto theirs = g.sender_key_of(sender);
  if (!theirs || !message->distribution_id() || *message->distribution_id() != *theirs)
    return Error(Errc::kNotGroupMember,
                 "Messenger::receive: a group message not under the key its sender gave us");

  const std::uint64_t now = m.ctx_.clock.now_ms();
  std::optional<ReceivedMessage> out;
  DecryptOptions decrypt_options;
  decrypt_options.before_commit = [&](ByteView plaintext) -> Status {
    out.reset();
    auto content = internal::parse_content(plaintext);
    if (!content) return content.error();
    if (content->kind != internal::ContentKind::kMessage || !content->context.group ||
        content->context.group->id != g.id)
      return Error(Errc::kInvalidMessage, "Messenger::receive: not a message for this group");
    internal::SeenMessages seen(m.store_);
    auto shown = seen.contains(sender.name, content->id);
    if (!shown) return shown.error();
    if (*shown) return ok_status();
    if (auto st = seen.insert(sender.name, content->id, now); !st) return st;
    ReceivedMessage r = shown_message(sender, sender.name, sender.name == m.self_.name, *content);
    r.group = g.id;
    if (options.before_commit)
      if (auto st = options.before_commit(r); !st) return st;
    out = std::move(r);
    return ok_status();
  };
  auto plaintext = group_decrypt(m.ctx_, m.store_, sender, SenderKeyGroup::current(*theirs),
                                 *message, decrypt_options);
  if (!plaintext) return plaintext.error();
  if (out && !out->sent_by_us && m.options_.delivery_receipts) {
    MessageId id{};
    std::copy(out->message_id.begin(), out->message_id.end(), id.begin());
    (void)send_receipt(m, sender.name, static_cast<std::uint32_t>(ReceiptType::kDelivered), {id});
  }
  return out;
}

// ---- group operations ----

Result<GroupSendResult> Messenger::create_group(std::string_view name,
                                                std::span<const std::string> members) {
  if (name.empty() || name.size() > kMaxMessengerGroupNameBytes)
    return Error(Errc::kInvalidArgument, "Messenger::create_group: name");
  if (store_.transaction_depth() > 0)
    return Error(Errc::kInTransaction, "Messenger::create_group: inside a store transaction");
  if (members.size() >= kMaxGroupMembers)
    return Error(Errc::kLimitExceeded, "Messenger::create_group: too many members");
  GroupRecord g;
  g.name = std::string(name);
  g.members.assign(members.begin(), members.end());
  for (const std::string& p : g.members)
    if (!valid_person(p) || p == self_.name)
      return Error(Errc::kInvalidArgument, "Messenger::create_group: member name");
  g.members.push_back(self_.name);
  std::sort(g.members.begin(), g.members.end());
  if (std::adjacent_find(g.members.begin(), g.members.end()) != g.members.end())
    return Error(Errc::kInvalidArgument, "Messenger::create_group: a member listed twice");
  g.admins = {self_.name};
  g.revision = 1;
  g.member = true;
  // The id commits to us (groups.h, "Proof of origin").
  auto identity = store_.identity_key_pair();
  if (!identity) return identity.error();
  auto nonce = Impl::random_id<internal::kGroupNonceBytes>(*this);
  if (!nonce) return nonce.error();
  internal::GroupProof proof;
  proof.creator = self_.name;
  proof.creator_identity = identity->public_key;
  proof.nonce = *nonce;
  g.id = internal::derive_group_id(proof.creator, proof.creator_identity, proof.nonce);
  g.proof = std::move(proof);
  auto dist = DistributionId::generate(ctx_.random);
  if (!dist) return dist.error();
  g.distribution = *dist;
  g.key_serial = 1;
  if (auto st = Impl::pin_self(*this); !st) return st.error();
  if (auto st = save_group(store_, g); !st) return st.error();
  return Impl::send_group_change(*this, g, {});
}

namespace {

// Loads a group we are an admin of (kUnknownGroup, kNotGroupMember, kNotGroupAdmin).
Result<GroupRecord> load_as_admin(ProtocolStore& store, const Address& self, const GroupId& id,
                                  bool admin) {
  if (store.transaction_depth() > 0)
    return Error(Errc::kInTransaction, "Messenger: group change inside a store transaction");
  auto held = GroupRecords(store).load(id);
  if (!held) return held.error();
  if (!*held) return Error(Errc::kUnknownGroup, "Messenger: no such group");
  if (!(*held)->member) return Error(Errc::kNotGroupMember, "Messenger: not a member of the group");
  if (admin && !(*held)->is_admin(self.name))
    return Error(Errc::kNotGroupAdmin, "Messenger: not an admin of the group");
  return std::move(**held);
}

}  // namespace

Result<GroupSendResult> Messenger::add_member(const GroupId& group, std::string_view person) {
  auto g = load_as_admin(store_, self_, group, true);
  if (!g) return g.error();
  if (!valid_person(person) || g->is_member(person))
    return Error(Errc::kInvalidArgument, "Messenger::add_member: not a new member");
  if (g->members.size() >= kMaxGroupMembers)
    return Error(Errc::kLimitExceeded, "Messenger::add_member: the group is full");
  insert_sorted(g->members, person);
  if (g->revision >= kMaxGroupRevision)
    return Error(Errc::kLimitExceeded, "Messenger: the group's revision is at its limit");
  g->revision += 1;
  if (auto st = save_group(store_, *g); !st) return st.error();
  return Impl::send_group_change(*this, *g, {});
}

Result<GroupSendResult> Messenger::remove_member(const GroupId& group, std::string_view person) {
  auto g = load_as_admin(store_, self_, group, true);
  if (!g) return g.error();
  if (!g->is_member(person) || person == self_.name)
    return Error(Errc::kInvalidArgument, "Messenger::remove_member: not another member");
  erase_sorted(g->members, person);
  g->drop_admin(person);
  g->drop_non_members();
  if (g->revision >= kMaxGroupRevision)
    return Error(Errc::kLimitExceeded, "Messenger: the group's revision is at its limit");
  g->revision += 1;
  // A new key of ours, given to those who stay only.
  if (auto st = start_new_key(ctx_.random, self_, *g); !st) return st.error();
  if (auto st = save_group(store_, *g); !st) return st.error();
  return Impl::send_group_change(*this, *g, {std::string(person)});
}

Result<GroupSendResult> Messenger::leave_group(const GroupId& group) {
  auto g = load_as_admin(store_, self_, group, false);
  if (!g) return g.error();
  if (g->members.size() == 1) {
    // The last member: nobody to tell.
    g->member = false;
    if (auto st = save_group(store_, *g); !st) return st.error();
    return GroupSendResult{g->id, {}, {}, {}};
  }
  erase_sorted(g->members, self_.name);
  g->drop_admin(self_.name);
  g->member = false;
  if (g->revision >= kMaxGroupRevision)
    return Error(Errc::kLimitExceeded, "Messenger: the group's revision is at its limit");
  g->revision += 1;
  g->drop_non_members();
  g->distributed.clear();
  // Our key is of no more use (we send nothing more to the group).
  g->superseded.push_back(internal::SupersededKey{self_, g->distribution});
  if (auto st = save_group(store_, *g); !st) return st.error();
  // The change goes to the members left and to our other devices; no key.
  auto id = Impl::random_id<internal::kMessageIdBytes>(*this);
  if (!id) return id.error();
  GroupUpdateParts update;
  update.id = g->id;
  update.revision = g->revision;
  update.state = state_of(*g);
  const SecretBytes content =
      internal::build_group_update_content(*id, ctx_.clock.now_ms(), update);
  std::vector<std::string> persons = g->members;
  persons.push_back(self_.name);
  GroupSendResult out{g->id, Bytes(id->begin(), id->end()), {}, {}};
  auto sent =
      Impl::send_now(*this, Impl::devices_of(*this, persons, &out.unreached), content, true);
  if (!sent) return sent.error();
  out.deliveries = std::move(*sent);
  return out;
}

Result<GroupSendResult> Messenger::rename_group(const GroupId& group, std::string_view name) {
  if (name.empty() || name.size() > kMaxMessengerGroupNameBytes)
    return Error(Errc::kInvalidArgument, "Messenger::rename_group: name");
  auto g = load_as_admin(store_, self_, group, true);
  if (!g) return g.error();
  g->name = std::string(name);
  if (g->revision >= kMaxGroupRevision)
    return Error(Errc::kLimitExceeded, "Messenger: the group's revision is at its limit");
  g->revision += 1;
  if (auto st = save_group(store_, *g); !st) return st.error();
  return Impl::send_group_change(*this, *g, {});
}

Result<GroupSendResult> Messenger::promote_admin(const GroupId& group, std::string_view person) {
  auto g = load_as_admin(store_, self_, group, true);
  if (!g) return g.error();
  if (!g->is_member(person) || g->is_admin(person))
    return Error(Errc::kInvalidArgument, "Messenger::promote_admin: not a member, or an admin");
  if (g->proof) {
    // Only the creator promotes: its certificate names the person's identity key.
    if (g->proof->creator != self_.name)
      return Error(Errc::kNotGroupAdmin,
                   "Messenger::promote_admin: only the group's creator "
                   "makes admins");
    auto list = Impl::refresh_list(*this, person);
    if (!list) return list.error();
    auto identity = store_.identity(person);
    if (!identity) return identity.error();
    if (!*identity)
      return Error(Errc::kNoSession,
                   "Messenger::promote_admin: the person's identity is not known");
    auto ours = store_.identity_key_pair();
    if (!ours) return ours.error();
    auto signature = ours->private_key.sign(
        ctx_.random, internal::group_admin_statement(g->id, person, **identity));
    if (!signature) return signature.error();
    auto& certs = g->proof->certificates;
    auto at = std::lower_bound(
        certs.begin(), certs.end(), person,
        [](const internal::AdminCertificate& c, std::string_view p) { return c.admin < p; });
    certs.insert(at, internal::AdminCertificate{std::string(person), **identity, *signature});
  }
  insert_sorted(g->admins, person);
  if (g->revision >= kMaxGroupRevision)
    return Error(Errc::kLimitExceeded, "Messenger: the group's revision is at its limit");
  g->revision += 1;
  if (auto st = save_group(store_, *g); !st) return st.error();
  return Impl::send_group_change(*this, *g, {});
}

Result<GroupSendResult> Messenger::resend_group_change(const GroupId& group) {
  auto g = load_as_admin(store_, self_, group, true);
  if (!g) return g.error();
  return Impl::send_group_change(*this, *g, {});
}

Status Messenger::forget_group(const GroupId& group) {
  if (store_.transaction_depth() > 0)
    return Error(Errc::kInTransaction, "Messenger::forget_group: inside a store transaction");
  return store_.run_transaction([&] { return GroupRecords(store_).remove(group, self_); });
}

Result<GroupInfo> Messenger::group(const GroupId& group) const {
  auto held = GroupRecords(store_).load(group);
  if (!held) return held.error();
  if (!*held) return Error(Errc::kUnknownGroup, "Messenger::group: no such group");
  return to_info(**held);
}

Result<std::vector<std::string>> Messenger::group_members(const GroupId& id) const {
  auto g = group(id);
  if (!g) return g.error();
  return std::move(g->members);
}

Result<std::vector<GroupId>> Messenger::groups() const {
  return GroupRecords(store_).ids();
}

Result<GroupSendResult> Messenger::send_to_group(const GroupId& group, ByteView plaintext,
                                                 const SendOptions& options) {
  if (!internal::message_fits(plaintext, options.attachments))
    return Error(Errc::kLimitExceeded,
                 "Messenger::send_to_group: message too large (or too many files)");
  internal::ContentContext context;
  if (options.quote) {
    if (options.quote->message_id.size() != internal::kMessageIdBytes ||
        !valid_person(options.quote->author))
      return Error(Errc::kInvalidArgument, "Messenger::send_to_group: quote");
    internal::QuoteParts q;
    std::copy(options.quote->message_id.begin(), options.quote->message_id.end(), q.id.begin());
    q.author = options.quote->author;
    context.quote = std::move(q);
  }
  auto g = load_as_admin(store_, self_, group, false);
  if (!g) return g.error();
  if (auto st = Impl::pin_self(*this); !st) return st.error();
  GroupSendResult out;
  out.group = g->id;
  const std::vector<Address> devices = Impl::devices_of(*this, g->members, &out.unreached);
  // A device that holds our key but is no longer on its person's list (unlinked, perhaps stolen)
  // must not read what we send next: a new key, given only to the devices listed now. (A member
  // whose list could not be fetched counts as gone too: the safe side.)
  const bool device_gone = std::any_of(
      g->distributed.begin(), g->distributed.end(),
      [&](const Address& d) { return !std::binary_search(devices.begin(), devices.end(), d); });
  bool changed = false;
  if (device_gone) {
    if (auto st = start_new_key(ctx_.random, self_, *g); !st) return st.error();
    changed = true;
  }
  const SenderKeyGroup keys = SenderKeyGroup::current(g->distribution);
  // Our key first, to every member device that does not hold it yet.
  std::vector<Address> missing;
  for (const Address& d : devices)
    if (!std::binary_search(g->distributed.begin(), g->distributed.end(), d)) missing.push_back(d);
  if (!missing.empty()) {
    auto key = create_sender_key_distribution(ctx_, store_, self_, keys);
    if (!key) return key.error();
    auto id = Impl::random_id<internal::kMessageIdBytes>(*this);
    if (!id) return id.error();
    GroupUpdateParts update;
    update.id = g->id;
    update.revision = g->revision;
    update.sender_key = SecretBytes::copy_of(key->serialized());
    update.key_serial = g->key_serial;
    const SecretBytes content =
        internal::build_group_update_content(*id, ctx_.clock.now_ms(), update);
    auto sent = Impl::send_now(*this, missing, content);
    if (!sent) return sent.error();
    for (const DeviceDelivery& d : *sent)
      if (d.state == DeliveryState::kSent) g->distributed.push_back(d.device);
    std::sort(g->distributed.begin(), g->distributed.end());
    changed = true;
  }
  if (changed)
    if (auto st = save_group(store_, *g); !st) return st.error();

  auto id = Impl::random_id<internal::kMessageIdBytes>(*this);
  if (!id) return id.error();
  out.message_id.assign(id->begin(), id->end());
  context.group = internal::GroupContextParts{g->id, g->revision};
  const SecretBytes content = internal::build_message_content(*id, ctx_.clock.now_ms(), plaintext,
                                                              context, options.attachments);
  auto message = group_encrypt(ctx_, store_, self_, keys, content.expose());
  if (!message) return message.error();
  auto envelope_id = Impl::random_id<internal::kEnvelopeIdBytes>(*this);
  if (!envelope_id) return envelope_id.error();
  const Bytes envelope =
      internal::build_group_envelope(self_, g->id, message->serialized(), *envelope_id);
  std::vector<OutgoingEnvelope> batch;
  for (const Address& d : devices) {
    if (std::binary_search(g->distributed.begin(), g->distributed.end(), d))
      batch.push_back(OutgoingEnvelope{d, envelope});
    else
      out.deliveries.push_back(DeviceDelivery{
          d, DeliveryState::kFailed,
          Error(Errc::kNoSession, "send_to_group: the device does not hold our key")});
  }
  const std::vector<Status> statuses =
      batch.empty() ? std::vector<Status>{} : transport_.send_batch(batch);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const bool ok = i < statuses.size() && statuses[i];
    out.deliveries.push_back(DeviceDelivery{
        batch[i].recipient, ok ? DeliveryState::kSent : DeliveryState::kFailed,
        ok ? std::nullopt
           : std::optional<Error>(Error(Errc::kTransportFailure, "send: transport"))});
  }
  return out;
}

}  // namespace hush

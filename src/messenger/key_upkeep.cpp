// hush: Messenger::maintain_keys (see messenger.h): our signed prekey's rotation, one-time prekey
// replenishment, publishing until the directory acknowledged, and our person's first device list.
#include <hush/limits.h>
#include <hush/messenger.h>

#include "messenger/messenger_impl.h"

namespace hush {

namespace {

// Saturating: a clock that went backwards gives an age of 0, so it delays rotation and deletion
// and never makes every key look ancient at once.
std::uint64_t age_ms(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

}  // namespace

// Our device list: device 1 of a person publishes the first one; a list the directory lost is
// published again; a device that is no longer on it learns so here.
Status Messenger::Impl::maintain_own_list(Messenger& m) {
  auto fetched = m.directory_.fetch_device_list(m.self_.name);
  if (!fetched) return fetched.error();
  auto seen = m.lists_->known(m.self_.name);
  if (!seen) return seen.error();
  auto ours = m.store_.identity_key_pair();
  if (!ours) return ours.error();
  bool ours_published = false;
  if (*fetched) {
    auto parsed = SignedDeviceList::parse(**fetched);
    ours_published = parsed && parsed->list().identity == ours->public_key;
  }
  if (!ours_published) {
    if (*seen) {
      // The directory lost our list, or holds another identity's: publish the newest we have.
      auto bytes = m.store_.load_messenger_record(MessengerRecordKind::kDeviceList, m.self_.name);
      if (!bytes) return bytes.error();
      if (!*bytes) return Error(Errc::kCorruptState, "maintain_keys: our list vanished");
      return m.directory_.publish_device_list(m.self_.name, (*bytes)->expose());
    }
    if (m.self_.device_id != DeviceId{1})
      return Error(Errc::kUnknownDevice, "maintain_keys: no device list names this device");
    DeviceList first;
    first.name = m.self_.name;
    first.identity = ours->public_key;
    first.version = 1;
    first.devices = {DeviceId{1}};
    first.next_device_id = DeviceId{2};
    auto signed_list = SignedDeviceList::sign(m.ctx_.random, std::move(first), *ours);
    if (!signed_list) return signed_list.error();
    if (auto st = m.directory_.publish_device_list(m.self_.name, signed_list->serialized()); !st)
      return st;
    if (auto st = m.lists_->keep(*signed_list); !st) return st;
    m.lists_->remember(*signed_list);
    return ok_status();
  }
  auto list = refresh_list(m, m.self_.name);
  if (!list && list.error().code() == Errc::kStaleDeviceList) {
    // The directory serves an older list of ours than we made: publish ours again.
    auto bytes = m.store_.load_messenger_record(MessengerRecordKind::kDeviceList, m.self_.name);
    if (!bytes) return bytes.error();
    if (!*bytes) return list.error();
    if (auto st = m.directory_.publish_device_list(m.self_.name, (*bytes)->expose()); !st)
      return st;
    auto kept = m.lists_->known(m.self_.name);
    if (!kept) return kept.error();
    if (!*kept) return list.error();
    list = std::move(**kept);
  }
  if (!list) return list.error();
  if (!list->contains(m.self_.device_id))
    return Error(Errc::kUnknownDevice, "maintain_keys: this device was removed from our list");
  return ok_status();
}

Status Messenger::maintain_keys() {
  if (auto st = Impl::pin_self(*this); !st) return st;
  const std::uint64_t now = ctx_.clock.now_ms();
  // The signed prekey: make one if there is none, replace it when it is due, and delete replaced
  // ones past their grace period, all in one transaction, so that two processes sharing the store
  // cannot both rotate (the second one sees the first one's new key, not yet due).
  auto rotated = store_.run_transaction([&]() -> Status {
    auto ids = store_.signed_pre_key_ids();
    if (!ids) return ids.error();
    std::optional<SignedPreKeyRecord> current;
    if (!ids->empty()) {
      auto r = store_.load_signed_pre_key(ids->back());
      if (!r) return r.error();
      if (*r) current = std::move(**r);
    }
    if (!current || age_ms(now, current->timestamp_ms) >= options_.signed_pre_key_rotation_ms) {
      auto identity = store_.identity_key_pair();
      if (!identity) return identity.error();
      if (current && to_uint(current->id) == UINT32_MAX)
        return Error(Errc::kInvalidArgument, "maintain_keys: signed prekey ids exhausted");
      const SignedPreKeyId next{current ? to_uint(current->id) + 1 : 1};
      auto fresh = generate_signed_pre_key(ctx_, *identity, next);
      if (!fresh) return fresh.error();
      if (auto st = store_.store_signed_pre_key(*fresh); !st) return st;
      ids->push_back(next);
    }
    // A replaced signed prekey is kept for a grace period after it was replaced (when the next one
    // was made), for prekey messages still in flight that name it.
    for (std::size_t i = 0; i + 1 < ids->size(); ++i) {
      auto successor = store_.load_signed_pre_key((*ids)[i + 1]);
      if (!successor) return successor.error();
      if (*successor && age_ms(now, (*successor)->timestamp_ms) >= options_.signed_pre_key_grace_ms)
        if (auto st = store_.remove_signed_pre_key((*ids)[i]); !st) return st;
    }
    return ok_status();
  });
  if (!rotated) return rotated;

  // What the directory has not acknowledged yet: the current signed prekey, and one-time prekeys
  // (those of a publish that failed, and new ones when the directory runs low).
  auto spk_ids = store_.signed_pre_key_ids();
  if (!spk_ids) return spk_ids.error();
  if (spk_ids->empty()) return Error(Errc::kCorruptState, "maintain_keys: no signed prekey");
  auto spk = store_.load_signed_pre_key(spk_ids->back());
  if (!spk) return spk.error();
  if (!*spk) return Error(Errc::kCorruptState, "maintain_keys: signed prekey vanished");
  auto unpublished = [&]() -> Result<std::vector<PreKeyRecord>> {
    auto ids = store_.pre_key_ids();
    if (!ids) return ids.error();
    std::vector<PreKeyRecord> out;
    for (PreKeyId id : *ids) {
      if (out.size() == kMaxPublishedPreKeys) break;  // the rest go with the next call
      auto r = store_.load_pre_key(id);
      if (!r) return r.error();
      if (*r && !(*r)->published) out.push_back(std::move(**r));
    }
    return out;
  };
  auto pending = unpublished();
  if (!pending) return pending.error();
  auto available = directory_.available_pre_keys(self_);
  if (!available) return available.error();
  if (std::uint64_t{*available} + pending->size() < options_.pre_key_low_water) {
    auto added = replenish_pre_keys(ctx_, store_, options_.pre_key_batch);
    if (!added) return added.error();
    pending = unpublished();
    if (!pending) return pending.error();
  }
  if ((*spk)->published && pending->empty()) return Impl::maintain_own_list(*this);

  auto identity = store_.identity_key_pair();
  if (!identity) return identity.error();
  auto registration_id = store_.local_registration_id();
  if (!registration_id) return registration_id.error();
  PublishedKeys keys;
  keys.registration_id = *registration_id;
  keys.device_id = self_.device_id;
  keys.identity_key = identity->public_key;
  keys.signed_pre_key_id = (*spk)->id;
  keys.signed_pre_key = (*spk)->key_pair.public_key;
  keys.signed_pre_key_signature = (*spk)->signature;
  for (const PreKeyRecord& r : *pending)
    keys.pre_keys.emplace_back(r.id, r.key_pair.public_key);
  if (auto st = directory_.publish(self_, keys); !st) return st;

  // Acknowledged: remember it, so that it is not sent again (a crash before this commit only
  // makes the next call publish the same keys again, which the directory takes idempotently).
  auto acknowledged = store_.run_transaction([&]() -> Status {
    auto current = store_.load_signed_pre_key(keys.signed_pre_key_id);
    if (!current) return current.error();
    if (*current && !(*current)->published) {
      (*current)->published = true;
      if (auto st = store_.store_signed_pre_key(**current); !st) return st;
    }
    for (PreKeyRecord& r : *pending) {
      auto still = store_.load_pre_key(r.id);
      if (!still) return still.error();
      if (!*still) continue;  // used meanwhile
      (*still)->published = true;
      if (auto st = store_.store_pre_key(**still); !st) return st;
    }
    return ok_status();
  });
  if (!acknowledged) return acknowledged;
  return Impl::maintain_own_list(*this);
}

}  // namespace hush

// hush: Messenger::maintain_keys (see messenger.h): our signed prekey's and last-resort Kyber
// prekey's rotation, one-time prekey and one-time Kyber prekey replenishment, publishing until the
// directory acknowledged, and our person's first device list.
#include <cstdint>
#include <vector>

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

// Our Kyber prekeys as maintain_keys needs them, from one pass over the store: the last-resort
// ones (ascending by id: the newest is the current one) and the one-time ones not yet published
// (at most kMaxPublishedKyberPreKeys, lowest ids first).
struct KyberKeys {
  std::vector<KyberPreKeyRecord> last_resort;
  std::vector<KyberPreKeyRecord> unpublished;
};

Result<KyberKeys> scan_kyber_keys(ProtocolStore& store) {
  auto ids = store.kyber_pre_key_ids();
  if (!ids) return ids.error();
  KyberKeys out;
  for (KyberPreKeyId id : *ids) {
    auto r = store.load_kyber_pre_key(id);
    if (!r) return r.error();
    if (!*r) continue;
    if ((*r)->last_resort)
      out.last_resort.push_back(std::move(**r));
    else if (!(*r)->published && out.unpublished.size() < kMaxPublishedKyberPreKeys)
      out.unpublished.push_back(std::move(**r));
  }
  return out;
}

// The last-resort Kyber prekey on the signed prekey's schedule: a new one when there is none or
// the newest is due, and a replaced one deleted once its successor is older than the grace period
// (prekey messages in flight may still name it). Runs inside maintain_keys' rotation transaction;
// `held` (the last-resort keys, ascending) is updated to what the store holds afterwards.
Status rotate_last_resort(const Context& ctx, ProtocolStore& store, const MessengerOptions& options,
                          std::uint64_t now, std::vector<KyberPreKeyRecord>& held) {
  if (held.empty() || age_ms(now, held.back().timestamp_ms) >= options.signed_pre_key_rotation_ms) {
    auto fresh = replenish_kyber_pre_keys(ctx, store, 0, /*last_resort=*/true);
    if (!fresh) return fresh.error();
    auto made = store.load_kyber_pre_key(fresh->back());
    if (!made) return made.error();
    if (!*made) return Error(Errc::kCorruptState, "maintain_keys: new Kyber prekey vanished");
    held.push_back(std::move(**made));
  }
  std::vector<KyberPreKeyRecord> kept;
  for (std::size_t i = 0; i + 1 < held.size(); ++i) {
    if (age_ms(now, held[i + 1].timestamp_ms) >= options.signed_pre_key_grace_ms) {
      if (auto st = store.remove_kyber_pre_key(held[i].id); !st) return st;
    } else {
      kept.push_back(std::move(held[i]));
    }
  }
  kept.push_back(std::move(held.back()));
  held = std::move(kept);
  return ok_status();
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
  KyberKeys kyber;
  auto rotated = store_.run_transaction([&]() -> Status {
    auto scanned = scan_kyber_keys(store_);
    if (!scanned) return scanned.error();
    kyber = std::move(*scanned);
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
    return rotate_last_resort(ctx_, store_, options_, now, kyber.last_resort);
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
  if (kyber.last_resort.empty())
    return Error(Errc::kCorruptState, "maintain_keys: no last-resort Kyber prekey");
  std::vector<KyberPreKeyRecord>* pending_kyber = &kyber.unpublished;
  auto available = directory_.available_pre_keys(self_);
  if (!available) return available.error();
  if (std::uint64_t{available->one_time} + pending->size() < options_.pre_key_low_water) {
    auto added = replenish_pre_keys(ctx_, store_, options_.pre_key_batch);
    if (!added) return added.error();
    pending = unpublished();
    if (!pending) return pending.error();
  }
  if (std::uint64_t{available->kyber_one_time} + pending_kyber->size() <
      options_.kyber_pre_key_low_water) {
    auto added = replenish_kyber_pre_keys(ctx_, store_, options_.kyber_pre_key_batch);
    if (!added) return added.error();
    auto rescanned = scan_kyber_keys(store_);
    if (!rescanned) return rescanned.error();
    kyber.unpublished = std::move(rescanned->unpublished);
  }
  const KyberPreKeyRecord& current_last_resort = kyber.last_resort.back();
  if ((*spk)->published && current_last_resort.published && pending->empty() &&
      pending_kyber->empty())
    return Impl::maintain_own_list(*this);

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
  for (const KyberPreKeyRecord& r : *pending_kyber)
    keys.kyber_pre_keys.push_back(SignedKyberPreKey{r.id, r.public_key, r.signature});
  keys.last_resort_kyber_pre_key = SignedKyberPreKey{
      current_last_resort.id, current_last_resort.public_key, current_last_resort.signature};
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
    std::vector<KyberPreKeyId> kyber_ids;
    for (const KyberPreKeyRecord& r : *pending_kyber)
      kyber_ids.push_back(r.id);
    kyber_ids.push_back(current_last_resort.id);
    for (KyberPreKeyId id : kyber_ids) {
      auto still = store_.load_kyber_pre_key(id);
      if (!still) return still.error();
      if (!*still || (*still)->published) continue;  // used (or deleted) meanwhile
      (*still)->published = true;
      if (auto st = store_.store_kyber_pre_key(**still); !st) return st;
    }
    return ok_status();
  });
  if (!acknowledged) return acknowledged;
  return Impl::maintain_own_list(*this);
}

}  // namespace hush

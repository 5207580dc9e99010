// hush internal: seen message ids and retry request limits (see healing.h).
#include "messenger/healing.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <hush/limits.h>

#include "messenger_state.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr const char* kMetaKey = "meta";
constexpr std::uint64_t kPruneIntervalMs = std::uint64_t{24} * 3600 * 1000;

std::string seen_key(std::string_view sender, const MessageId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string k;
  k.reserve(2 * id.size() + 1 + sender.size());
  for (std::uint8_t b : id) {
    k.push_back(kHex[b >> 4]);
    k.push_back(kHex[b & 15]);
  }
  k.push_back(':');
  k.append(sender);
  return k;
}

std::string healing_key(const Address& a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "r%08x:", to_uint(a.device_id));
  return buf + a.name;
}

template <class M>
Bytes to_bytes(const M& m) {
  Bytes b(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(b.data());
  return b;
}

struct Meta {
  std::uint64_t count = 0;
  std::uint64_t pruned_ms = 0;
};

Result<Meta> load_meta(ProtocolStore& store) {
  auto bytes = store.load_messenger_record(MessengerRecordKind::kSeenMessage, kMetaKey);
  if (!bytes) return bytes.error();
  Meta m;
  if (!*bytes) return m;
  messenger_state::SeenMeta p;
  if (!parse_from(p, (*bytes)->expose()))
    return Error(Errc::kCorruptState, "seen messages: stored meta");
  m.count = p.count();
  m.pruned_ms = p.pruned_ms();
  return m;
}

Status save_meta(ProtocolStore& store, const Meta& m) {
  messenger_state::SeenMeta p;
  p.set_count(m.count);
  p.set_pruned_ms(m.pruned_ms);
  return store.store_messenger_record(MessengerRecordKind::kSeenMessage, kMetaKey, to_bytes(p));
}

}  // namespace

Result<bool> SeenMessages::contains(std::string_view sender, const MessageId& id) {
  auto r = store_.load_messenger_record(MessengerRecordKind::kSeenMessage, seen_key(sender, id));
  if (!r) return r.error();
  return r->has_value();
}

Status SeenMessages::insert(std::string_view sender, const MessageId& id, std::uint64_t now_ms) {
  return store_.run_transaction([&]() -> Status {
    messenger_state::Seen s;
    s.set_received_ms(now_ms);
    if (auto st = store_.store_messenger_record(MessengerRecordKind::kSeenMessage,
                                                seen_key(sender, id), to_bytes(s));
        !st)
      return st;
    auto meta = load_meta(store_);
    if (!meta) return meta.error();
    meta->count += 1;
    if (auto st = save_meta(store_, *meta); !st) return st;
    if (meta->count > kMaxSeenMessageIds) {
      auto pruned = prune(now_ms, true);
      if (!pruned) return pruned.error();
    }
    return ok_status();
  });
}

Result<std::size_t> SeenMessages::prune(std::uint64_t now_ms, bool force) {
  std::size_t forgotten = 0;
  auto st = store_.run_transaction([&]() -> Status {
    forgotten = 0;
    auto meta = load_meta(store_);
    if (!meta) return meta.error();
    const bool due = now_ms < meta->pruned_ms || now_ms - meta->pruned_ms >= kPruneIntervalMs;
    if (!force && !due && meta->count <= kMaxSeenMessageIds) return ok_status();
    auto keys = store_.messenger_record_keys(MessengerRecordKind::kSeenMessage);
    if (!keys) return keys.error();
    std::vector<std::pair<std::uint64_t, std::string>> kept;  // (received, key)
    for (std::string& k : *keys) {
      if (k == kMetaKey) continue;
      auto r = store_.load_messenger_record(MessengerRecordKind::kSeenMessage, k);
      if (!r) return r.error();
      if (!*r) continue;
      messenger_state::Seen s;
      if (!parse_from(s, (*r)->expose()))
        return Error(Errc::kCorruptState, "seen messages: stored id");
      const std::uint64_t t = s.received_ms();
      if (now_ms > t && now_ms - t >= kResendWindowMs) {
        if (auto x = store_.remove_messenger_record(MessengerRecordKind::kSeenMessage, k); !x)
          return x;
        ++forgotten;
      } else {
        kept.emplace_back(t, std::move(k));
      }
    }
    // Over the count, down to nine tenths of it (the oldest first), so that the next prune is
    // kMaxSeenMessageIds / 10 receives away rather than the next one.
    if (kept.size() > kMaxSeenMessageIds) {
      std::sort(kept.begin(), kept.end());
      const std::size_t excess = kept.size() - kMaxSeenMessageIds + kMaxSeenMessageIds / 10;
      for (std::size_t i = 0; i < excess; ++i) {
        if (auto x =
                store_.remove_messenger_record(MessengerRecordKind::kSeenMessage, kept[i].second);
            !x)
          return x;
        ++forgotten;
      }
      kept.erase(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(excess));
    }
    return save_meta(store_, Meta{kept.size(), now_ms});
  });
  if (!st) return st.error();
  return forgotten;
}

namespace {

struct HealingRecord {
  std::uint64_t last_request_ms = 0;
  std::vector<EnvelopeId> pending;
};

Result<HealingRecord> load_healing(ProtocolStore& store, const std::string& key) {
  HealingRecord out;
  auto r = store.load_messenger_record(MessengerRecordKind::kHealing, key);
  if (!r) return r.error();
  if (!*r) return out;
  messenger_state::Healing h;
  if (!parse_from(h, (**r).expose()) ||
      static_cast<std::size_t>(h.pending_ids_size()) > kMaxRetryEnvelopeIds)
    return Error(Errc::kCorruptState, "healing: stored record");
  out.last_request_ms = h.last_request_ms();
  for (const std::string& id : h.pending_ids()) {
    EnvelopeId e{};
    if (!read_fixed(id, e)) return Error(Errc::kCorruptState, "healing: stored id");
    out.pending.push_back(e);
  }
  return out;
}

Status save_healing(ProtocolStore& store, const std::string& key, const HealingRecord& rec) {
  messenger_state::Healing h;
  h.set_last_request_ms(rec.last_request_ms);
  for (const EnvelopeId& e : rec.pending)
    h.add_pending_ids(to_field(e));
  return store.store_messenger_record(MessengerRecordKind::kHealing, key, to_bytes(h));
}

}  // namespace

Status RetryRequests::add(const Address& device, const EnvelopeId& id) {
  return store_.run_transaction([&]() -> Status {
    const std::string key = healing_key(device);
    auto rec = load_healing(store_, key);
    if (!rec) return rec.error();
    if (std::find(rec->pending.begin(), rec->pending.end(), id) != rec->pending.end())
      return ok_status();
    if (rec->pending.size() >= kMaxRetryEnvelopeIds) return ok_status();
    rec->pending.push_back(id);
    return save_healing(store_, key, *rec);
  });
}

Result<std::vector<EnvelopeId>> RetryRequests::due(const Address& device, std::uint64_t now_ms) {
  std::vector<EnvelopeId> out;
  auto st = store_.run_transaction([&]() -> Status {
    out.clear();
    const std::string key = healing_key(device);
    auto rec = load_healing(store_, key);
    if (!rec) return rec.error();
    if (rec->pending.empty()) return ok_status();
    // A clock that went backwards counts as "just asked": it delays, never hastens.
    if (rec->last_request_ms != 0 &&
        (now_ms < rec->last_request_ms || now_ms - rec->last_request_ms < kRetryRequestIntervalMs))
      return ok_status();
    out = rec->pending;
    rec->last_request_ms = now_ms;
    return save_healing(store_, key, *rec);
  });
  if (!st) return st.error();
  return out;
}

Status RetryRequests::sent(const Address& device, const std::vector<EnvelopeId>& ids) {
  return store_.run_transaction([&]() -> Status {
    const std::string key = healing_key(device);
    auto rec = load_healing(store_, key);
    if (!rec) return rec.error();
    std::erase_if(rec->pending, [&](const EnvelopeId& e) {
      return std::find(ids.begin(), ids.end(), e) != ids.end();
    });
    return save_healing(store_, key, *rec);
  });
}

Status RetryRequests::prune(std::uint64_t now_ms) {
  return store_.run_transaction([&]() -> Status {
    auto keys = store_.messenger_record_keys(MessengerRecordKind::kHealing);
    if (!keys) return keys.error();
    for (const std::string& k : *keys) {
      auto rec = load_healing(store_, k);
      if (!rec) return rec.error();
      if (rec->pending.empty() && now_ms >= rec->last_request_ms &&
          now_ms - rec->last_request_ms >= kRetryRequestIntervalMs)
        if (auto st = store_.remove_messenger_record(MessengerRecordKind::kHealing, k); !st)
          return st;
    }
    return ok_status();
  });
}

Result<std::vector<Address>> RetryRequests::waiting() {
  auto keys = store_.messenger_record_keys(MessengerRecordKind::kHealing);
  if (!keys) return keys.error();
  std::vector<Address> out;
  for (const std::string& k : *keys) {
    // "r" + 8 hex digits + ":" + name.
    if (k.size() < 11 || k[0] != 'r' || k[9] != ':')
      return Error(Errc::kCorruptState, "healing: stored key");
    std::uint32_t device = 0;
    for (std::size_t i = 1; i < 9; ++i) {
      const char c = k[i];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return Error(Errc::kCorruptState, "healing: stored key");
      device = device << 4 | static_cast<std::uint32_t>(d);
    }
    auto rec = load_healing(store_, k);
    if (!rec) return rec.error();
    if (!rec->pending.empty()) out.push_back(Address{k.substr(10), DeviceId{device}});
  }
  return out;
}

}  // namespace hush::internal

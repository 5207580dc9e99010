// hush internal: the Messenger's outbox (see outbox.h).
#include "messenger/outbox.h"

#include <algorithm>
#include <cstdio>

#include <hush/limits.h>

#include "messenger_state.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

constexpr std::uint32_t kEntryFormat = 1;
constexpr const char* kMetaKey = "meta";
constexpr std::size_t kMaxEnvelopeIdsKept = kMaxResendsPerDevice + 2;
// Deliveries of one entry: every device of the recipient and every other device of ours.
constexpr std::size_t kMaxDeliveries = 2 * kMaxDevicesPerPerson;
// How many entries making room frees at once (when it can): a tenth of the outbox.
constexpr std::size_t kMakeRoomBatch = kMaxOutboxMessages / 10;

std::string key_of(std::uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
  return buf;
}

std::optional<std::uint64_t> seq_of(const std::string& key) {
  if (key.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : key) {
    int d = 0;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

Result<OutboxEntry> parse_entry(std::uint64_t seq, ByteView bytes) {
  messenger_state::OutboxEntry e;
  struct Wiper {
    messenger_state::OutboxEntry& e;
    ~Wiper() {
      wipe(e.mutable_content());
      wipe(e.mutable_copy());
    }
  } wiper{e};
  const Error corrupt(Errc::kCorruptState, "outbox: stored entry");
  if (!parse_from(e, bytes)) return corrupt;
  if (!e.has_format() || e.format() != kEntryFormat || !e.has_recipient() || !e.has_content() ||
      !e.has_copy() || !e.has_created_ms())
    return corrupt;
  if (e.recipient().empty() || e.recipient().size() > kMaxAddressNameBytes ||
      e.content().size() > kMaxPlaintextBytes || e.copy().size() > kMaxPlaintextBytes ||
      static_cast<std::size_t>(e.deliveries_size()) > kMaxDeliveries)
    return corrupt;
  OutboxEntry out;
  out.seq = seq;
  out.recipient = e.recipient();
  out.content = SecretBytes::copy_of(as_bytes(e.content()));
  out.copy = SecretBytes::copy_of(as_bytes(e.copy()));
  out.created_ms = e.created_ms();
  for (const auto& d : e.deliveries()) {
    if (!d.has_name() || d.name().empty() || d.name().size() > kMaxAddressNameBytes ||
        !d.has_device() || d.device() == 0 || !d.has_state() || d.state() < 1 || d.state() > 3 ||
        static_cast<std::size_t>(d.envelope_ids_size()) > kMaxEnvelopeIdsKept)
      return corrupt;
    OutboxDelivery o;
    o.device = Address{d.name(), DeviceId{d.device()}};
    o.state = static_cast<OutboxDelivery::State>(d.state());
    for (const std::string& id : d.envelope_ids()) {
      EnvelopeId x{};
      if (!read_fixed(id, x)) return corrupt;
      o.envelope_ids.push_back(x);
    }
    o.resends = d.resends();
    if (d.has_error()) {
      if (d.error() == 0 || d.error() > 255) return corrupt;
      o.error = static_cast<Errc>(d.error());
    }
    out.deliveries.push_back(std::move(o));
  }
  return out;
}

SecretBytes serialize_entry(const OutboxEntry& entry) {
  messenger_state::OutboxEntry e;
  e.set_format(kEntryFormat);
  e.set_recipient(entry.recipient);
  e.set_content(to_field(entry.content.expose()));
  e.set_copy(to_field(entry.copy.expose()));
  e.set_created_ms(entry.created_ms);
  for (const OutboxDelivery& o : entry.deliveries) {
    auto* d = e.add_deliveries();
    d->set_name(o.device.name);
    d->set_device(to_uint(o.device.device_id));
    d->set_state(static_cast<std::uint32_t>(o.state));
    const std::size_t skip = o.envelope_ids.size() > kMaxEnvelopeIdsKept
                                 ? o.envelope_ids.size() - kMaxEnvelopeIdsKept
                                 : 0;
    for (std::size_t i = skip; i < o.envelope_ids.size(); ++i)
      d->add_envelope_ids(to_field(o.envelope_ids[i]));
    d->set_resends(o.resends);
    if (o.error) d->set_error(static_cast<std::uint32_t>(*o.error));
  }
  SecretBytes out = serialize_to_secret(e);
  wipe(e.mutable_content());
  wipe(e.mutable_copy());
  return out;
}

}  // namespace

bool OutboxEntry::waiting() const noexcept {
  return std::any_of(deliveries.begin(), deliveries.end(), [](const OutboxDelivery& d) {
    return d.state == OutboxDelivery::State::kQueued;
  });
}

Result<Outbox::Meta> Outbox::load_meta() {
  auto bytes = store_.load_messenger_record(MessengerRecordKind::kOutbox, kMetaKey);
  if (!bytes) return bytes.error();
  Meta m;
  if (!*bytes) return m;
  messenger_state::OutboxMeta p;
  if (!parse_from(p, (*bytes)->expose()) || !p.has_format() || p.format() != 1 ||
      !p.has_next_seq() || p.next_seq() == 0 || p.next_seq() == UINT64_MAX)
    return Error(Errc::kCorruptState, "outbox: stored meta");
  m.next_seq = p.next_seq();
  m.count = p.count();
  m.bytes = p.bytes();
  return m;
}

Status Outbox::save_meta(const Meta& m) {
  messenger_state::OutboxMeta p;
  p.set_format(1);
  p.set_next_seq(m.next_seq);
  p.set_count(m.count);
  p.set_bytes(m.bytes);
  Bytes b(p.ByteSizeLong());
  p.SerializeWithCachedSizesToArray(b.data());
  return store_.store_messenger_record(MessengerRecordKind::kOutbox, kMetaKey, b);
}

Status Outbox::drop(std::uint64_t seq, std::size_t bytes, Meta& meta) {
  if (auto st = store_.remove_messenger_record(MessengerRecordKind::kOutbox, key_of(seq)); !st)
    return st;
  meta.count = meta.count > 0 ? meta.count - 1 : 0;
  meta.bytes = meta.bytes > bytes ? meta.bytes - bytes : 0;
  return ok_status();
}

Status Outbox::add(OutboxEntry& entry) {
  return store_.run_transaction([&]() -> Status {
    auto meta = load_meta();
    if (!meta) return meta.error();
    auto fits = [&] {
      return meta->count < kMaxOutboxMessages && meta->bytes + entry.bytes() <= kMaxOutboxBytes;
    };
    if (!fits()) {
      // Make room: the oldest entries no device waits for go first, a tenth of the outbox at once,
      // so that a full outbox is listed once per kMakeRoomBatch sends, not on every send.
      auto roomy = [&] {
        return meta->count + kMakeRoomBatch <= kMaxOutboxMessages &&
               meta->bytes + entry.bytes() <= kMaxOutboxBytes;
      };
      auto all = seqs();
      if (!all) return all.error();
      for (std::uint64_t s : *all) {
        if (roomy()) break;
        auto old = load(s);
        if (!old) return old.error();
        if (!*old || (*old)->waiting()) continue;
        if (auto st = drop(s, (*old)->bytes(), *meta); !st) return st;
      }
      if (!fits())
        return Error(Errc::kLimitExceeded,
                     "outbox: full of messages still waiting for the transport");
    }
    entry.seq = meta->next_seq++;
    meta->count += 1;
    meta->bytes += entry.bytes();
    const SecretBytes bytes = serialize_entry(entry);
    if (auto st = store_.store_messenger_record(MessengerRecordKind::kOutbox, key_of(entry.seq),
                                                bytes.expose());
        !st)
      return st;
    return save_meta(*meta);
  });
}

Result<std::optional<OutboxEntry>> Outbox::load(std::uint64_t seq) {
  auto bytes = store_.load_messenger_record(MessengerRecordKind::kOutbox, key_of(seq));
  if (!bytes) return bytes.error();
  if (!*bytes) return std::optional<OutboxEntry>();
  auto e = parse_entry(seq, (*bytes)->expose());
  if (!e) return e.error();
  return std::optional<OutboxEntry>(std::move(*e));
}

Status Outbox::save(const OutboxEntry& entry) {
  const SecretBytes bytes = serialize_entry(entry);
  return store_.store_messenger_record(MessengerRecordKind::kOutbox, key_of(entry.seq),
                                       bytes.expose());
}

Result<std::vector<std::uint64_t>> Outbox::seqs() {
  auto keys = store_.messenger_record_keys(MessengerRecordKind::kOutbox);
  if (!keys) return keys.error();
  std::vector<std::uint64_t> out;
  out.reserve(keys->size());
  for (const std::string& k : *keys) {
    if (k == kMetaKey) continue;
    auto s = seq_of(k);
    if (!s) return Error(Errc::kCorruptState, "outbox: stored key");
    out.push_back(*s);
  }
  return out;
}

Result<std::size_t> Outbox::prune(std::uint64_t now_ms) {
  std::size_t dropped = 0;
  auto st = store_.run_transaction([&]() -> Status {
    dropped = 0;
    auto meta = load_meta();
    if (!meta) return meta.error();
    auto all = seqs();
    if (!all) return all.error();
    // Recounted from the entries, so that the meta record cannot drift.
    Meta fresh{meta->next_seq, 0, 0};
    for (std::uint64_t s : *all) {
      if (s >= fresh.next_seq) fresh.next_seq = s + 1;
      auto e = load(s);
      if (!e) return e.error();
      if (!*e) continue;
      OutboxEntry& entry = **e;
      const bool expired =
          now_ms > entry.created_ms && now_ms - entry.created_ms >= kResendWindowMs;
      if (expired) {
        bool changed = false;
        for (OutboxDelivery& d : entry.deliveries) {
          // Waiting for keys that never came: given up. Waiting for the transport: kept.
          if (d.state == OutboxDelivery::State::kQueued && d.error &&
              *d.error != Errc::kTransportFailure) {
            d.state = OutboxDelivery::State::kGivenUp;
            changed = true;
          }
        }
        if (!entry.waiting()) {
          if (auto r = store_.remove_messenger_record(MessengerRecordKind::kOutbox, key_of(s)); !r)
            return r;
          ++dropped;
          continue;
        }
        if (changed)
          if (auto r = save(entry); !r) return r;
      }
      fresh.count += 1;
      fresh.bytes += entry.bytes();
    }
    return save_meta(fresh);
  });
  if (!st) return st.error();
  return dropped;
}

}  // namespace hush::internal

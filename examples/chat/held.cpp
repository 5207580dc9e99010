// hush chat example: hush-chat's held messages (see held.h).
#include "held.h"

#include "frame.h"

#include <algorithm>
#include <utility>

namespace hush_chat {

namespace {

constexpr std::string_view kIndexKey = "chat/held/list";
constexpr std::string_view kOldIndexKey = "chat/held/index";  // before devices

std::string data_key(std::uint64_t seq) {
  return "chat/held/" + std::to_string(seq);
}

void put_u64(hush::Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Reads from the stored index, never past its end.
class Reader {
 public:
  explicit Reader(const hush::Bytes& b) : b_(b) {}
  bool u64(std::uint64_t& v) { return number(v, 8); }
  bool u32(std::uint32_t& v) {
    std::uint64_t x = 0;
    if (!number(x, 4)) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool name(std::string& out) {
    std::uint64_t n = 0;
    if (!number(n, 1) || b_.size() - at_ < n) return false;
    out.assign(b_.begin() + static_cast<std::ptrdiff_t>(at_),
               b_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return true;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  bool number(std::uint64_t& v, std::size_t bytes) {
    if (b_.size() - at_ < bytes) return false;
    v = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      v = v << 8 | b_[at_ + i];
    at_ += bytes;
    return true;
  }
  const hush::Bytes& b_;
  std::size_t at_ = 0;
};

}  // namespace

hush::Status HeldMessages::load() {
  auto stored = store_.app_data(kIndexKey);
  if (!stored) return stored.error();
  bool with_devices = true;
  if (!*stored) {
    stored = store_.app_data(kOldIndexKey);
    if (!stored) return stored.error();
    with_devices = false;
  }
  entries_.clear();
  next_seq_ = 0;
  if (!*stored) return hush::ok_status();
  Reader r(**stored);
  std::uint32_t n = 0;
  std::deque<Entry> entries;
  std::uint64_t next = 0;
  if (!r.u64(next) || !r.u32(n) || n > kMaxTotal)
    return hush::Error(hush::Errc::kCorruptState, "held messages: damaged index");
  for (std::uint32_t i = 0; i < n; ++i) {
    Entry e;
    if (!r.u64(e.seq) || !r.u64(e.relay_id) || !r.name(e.peer) || e.seq >= next ||
        (with_devices && (!r.u32(e.device) || e.device < 1 || e.device > kMaxDeviceId)))
      return hush::Error(hush::Errc::kCorruptState, "held messages: damaged index");
    entries.push_back(std::move(e));
  }
  if (!r.done()) return hush::Error(hush::Errc::kCorruptState, "held messages: damaged index");
  entries_ = std::move(entries);
  next_seq_ = next;
  return hush::ok_status();
}

std::size_t HeldMessages::count(std::string_view peer) const {
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                [&](const Entry& e) { return e.peer == peer; }));
}

bool HeldMessages::contains(std::string_view peer, std::uint64_t relay_id) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.peer == peer && e.relay_id == relay_id; });
}

std::vector<std::string> HeldMessages::peers() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_)
    if (std::find(out.begin(), out.end(), e.peer) == out.end()) out.push_back(e.peer);
  return out;
}

std::optional<HeldMessages::Entry> HeldMessages::oldest(std::string_view peer) const {
  for (const Entry& e : entries_)
    if (e.peer == peer) return e;
  return std::nullopt;
}

hush::Result<hush::Bytes> HeldMessages::envelope(const Entry& entry) {
  auto stored = store_.app_data(data_key(entry.seq));
  if (!stored) return stored.error();
  if (!*stored) return hush::Error(hush::Errc::kCorruptState, "held messages: envelope missing");
  return std::move(**stored);
}

hush::Status HeldMessages::write_index(std::uint64_t next_seq, const std::deque<Entry>& entries) {
  hush::Bytes out;
  put_u64(out, next_seq);
  const auto n = static_cast<std::uint32_t>(entries.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(n >> shift));
  for (const Entry& e : entries) {
    put_u64(out, e.seq);
    put_u64(out, e.relay_id);
    const std::size_t len = std::min<std::size_t>(e.peer.size(), 255);  // handles are <= 32
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), e.peer.begin(), e.peer.begin() + static_cast<std::ptrdiff_t>(len));
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(e.device >> shift));
  }
  if (auto st = store_.erase_app_data(kOldIndexKey); !st) return st;
  return store_.put_app_data(kIndexKey, out);
}

hush::Result<std::vector<HeldMessages::Dropped>> HeldMessages::hold(const std::string& peer,
                                                                    std::uint32_t device,
                                                                    std::uint64_t relay_id,
                                                                    hush::ByteView envelope) {
  std::deque<Entry> entries = entries_;
  const Entry added{next_seq_, relay_id, peer, device};
  entries.push_back(added);
  std::vector<Dropped> dropped;
  // The oldest of this sender's first, then the oldest of all.
  std::size_t mine = static_cast<std::size_t>(std::count_if(
      entries.begin(), entries.end(), [&](const Entry& e) { return e.peer == peer; }));
  for (auto it = entries.begin(); mine > kMaxPerPeer && it != entries.end();) {
    if (it->peer == peer) {
      dropped.push_back(Dropped{*it, true});
      it = entries.erase(it);
      --mine;
    } else {
      ++it;
    }
  }
  while (entries.size() > kMaxTotal) {
    dropped.push_back(Dropped{entries.front(), false});
    entries.pop_front();
  }
  auto st = store_.run_transaction([&]() -> hush::Status {
    for (const Dropped& d : dropped)
      if (auto s = store_.erase_app_data(data_key(d.entry.seq)); !s) return s;
    if (auto s = store_.put_app_data(data_key(added.seq), envelope); !s) return s;
    return write_index(next_seq_ + 1, entries);
  });
  if (!st) return st.error();
  entries_ = std::move(entries);
  ++next_seq_;
  return dropped;
}

hush::Status HeldMessages::remove(std::uint64_t seq) {
  std::deque<Entry> entries = entries_;
  entries.erase(
      std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.seq == seq; }),
      entries.end());
  auto st = store_.run_transaction([&]() -> hush::Status {
    if (auto s = store_.erase_app_data(data_key(seq)); !s) return s;
    return write_index(next_seq_, entries);
  });
  if (!st) return st;
  entries_ = std::move(entries);
  return hush::ok_status();
}

}  // namespace hush_chat

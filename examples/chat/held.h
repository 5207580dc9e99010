// hush chat example: hush-chat's held messages, kept durably in the store's application table.
//
// A message that comes with a new identity key for its sender (an authenticated identity change:
// the sender reinstalled, or someone in the middle substitutes keys) must not be read until the
// user approved the key (/trust), and every later message from that sender waits behind it, in
// order. Such envelopes are held here, in hush.db (sealed there when hush-chat has a storage
// key), and then acknowledged to the relay: a held message must never occupy the relay's window
// of unacknowledged deliveries, or a few of them would stop every other sender's messages. They
// survive restarts; /trust reads them in order.
//
// Bounds: kMaxPerPeer per sender and kMaxTotal in all; beyond them the oldest held message is
// dropped (the caller tells the user). Only an authenticated change holds messages (a forged one
// is invalid_message and is dropped at once), and the relay names the sender by the connection
// it came from, so only the sender's own account (or the relay itself) can fill its part.
//
// A sender is a person: all of a person's devices share one identity, so a message from any of
// them waits behind the first one held from that person. Each entry keeps the sending device (the
// one the relay named), for ReceiveOptions::authenticated_device when it is read.
//
// Layout: chat/held/list: u64 next sequence number, u32 count, then per message (oldest first)
// u64 sequence number, u64 relay delivery id, u8 sender length, sender, u32 sending device;
// chat/held/SEQ: the envelope. (chat/held/index, the layout before devices, without the device,
// is read as device 1 and replaced at the next change.)
//
// Thread-safety: none; hush-chat's main thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hush/sqlite_store.h>

namespace hush_chat {

class HeldMessages {
 public:
  /// Per sender: a person who reinstalled and wrote before the user approved the new key rarely
  /// writes more than this; the relay lets one sender queue up to 250 (a quarter of 1000) anyway.
  static constexpr std::size_t kMaxPerPeer = 50;
  /// In all: several identity changes at once; up to 200 envelopes of at most 64 KiB of text
  /// each (about 13 MiB of hush.db at worst).
  static constexpr std::size_t kMaxTotal = 200;

  struct Entry {
    std::uint64_t seq = 0;
    std::uint64_t relay_id = 0;
    std::string peer;
    std::uint32_t device = 1;
  };
  struct Dropped {
    Entry entry;
    bool per_peer = false;  // dropped for kMaxPerPeer (else for kMaxTotal)
  };

  explicit HeldMessages(hush::SqliteStore& store) : store_(store) {}

  /// Reads the index from the store (again). kCorruptState if it is damaged.
  hush::Status load();
  std::size_t count(std::string_view peer) const;
  std::size_t total() const { return entries_.size(); }
  /// True if delivery `relay_id` from `peer` is held already (a delivery acknowledged too late).
  bool contains(std::string_view peer, std::uint64_t relay_id) const;
  /// The senders with held messages, by the age of their oldest.
  std::vector<std::string> peers() const;
  /// The oldest held message of `peer`.
  std::optional<Entry> oldest(std::string_view peer) const;
  /// The envelope of a held message.
  hush::Result<hush::Bytes> envelope(const Entry& entry);
  /// Holds `envelope` from `peer`'s device `device` (in one transaction), dropping the oldest
  /// beyond the bounds; returns what was dropped.
  hush::Result<std::vector<Dropped>> hold(const std::string& peer, std::uint32_t device,
                                          std::uint64_t relay_id, hush::ByteView envelope);
  /// Removes held message `seq` (joining the caller's transaction, if one is open). If that
  /// transaction then rolls back, call load() to forget what this did in memory.
  hush::Status remove(std::uint64_t seq);

 private:
  hush::Status write_index(std::uint64_t next_seq, const std::deque<Entry>& entries);

  hush::SqliteStore& store_;
  std::uint64_t next_seq_ = 0;
  std::deque<Entry> entries_;  // oldest first
};

}  // namespace hush_chat

// hush internal: the Messenger's outbox (MessengerRecordKind::kOutbox): every message send() kept,
// with what happened per device, until every device got it and kResendWindowMs passed. Entries are
// keyed by a sequence number (16 hex digits, so keys sort in sending order); a meta record keeps
// the next number, the count and the bytes, updated in the same transactions as the entries.
//
// Bounds: at most kMaxOutboxMessages entries and kMaxOutboxBytes of content; to make room, the
// oldest entries that no device waits for are dropped, a tenth of the outbox at once where it can,
// even inside the window (they can then no longer be resent); when every entry still has a device
// waiting, add() refuses (kLimitExceeded). Stored entries are parsed strictly and bounded
// (kCorruptState otherwise).
//
// Not responsible for: sending (messenger.cpp) or sealing (the store seals records).
// Thread-safety: not synchronised; every method is one store transaction (or joins the caller's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <hush/address.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/store.h>

#include "messenger/envelope.h"

namespace hush::internal {

/// What happened to an outbox message for one device.
struct OutboxDelivery {
  enum class State : std::uint8_t { kQueued = 1, kSent = 2, kGivenUp = 3 };
  Address device;
  State state = State::kQueued;
  /// The envelopes it went out in, oldest first (at most kMaxResendsPerDevice + 2).
  std::vector<EnvelopeId> envelope_ids;
  /// How many times a retry request had it sent again.
  std::uint32_t resends = 0;
  /// Why it is queued or was given up.
  std::optional<Errc> error;
};

/// One kept message.
struct OutboxEntry {
  std::uint64_t seq = 0;
  /// The person it was sent to.
  std::string recipient;
  /// The Content for the person's devices, and the copy's Content for our other devices.
  SecretBytes content;
  SecretBytes copy;
  /// Our clock when send() kept it.
  std::uint64_t created_ms = 0;
  std::vector<OutboxDelivery> deliveries;

  /// The bytes it counts against kMaxOutboxBytes.
  std::size_t bytes() const noexcept { return content.size() + copy.size(); }
  /// Whether some device still waits for it.
  bool waiting() const noexcept;
};

class Outbox {
 public:
  explicit Outbox(ProtocolStore& store) : store_(store) {}

  /// Keeps `entry` (its seq is assigned), making room as described above. kLimitExceeded if there
  /// is none.
  Status add(OutboxEntry& entry);
  /// The entry `seq`, or nullopt if it was dropped.
  Result<std::optional<OutboxEntry>> load(std::uint64_t seq);
  /// Replaces a kept entry's deliveries (its contents do not change).
  Status save(const OutboxEntry& entry);
  /// The sequence numbers kept, ascending.
  Result<std::vector<std::uint64_t>> seqs();
  /// Gives up deliveries that waited for keys longer than the window, and drops entries no device
  /// waits for once the window passed. Returns how many entries were dropped.
  Result<std::size_t> prune(std::uint64_t now_ms);

 private:
  struct Meta {
    std::uint64_t next_seq = 1;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
  };
  Result<Meta> load_meta();
  Status save_meta(const Meta& meta);
  Status drop(std::uint64_t seq, std::size_t bytes, Meta& meta);

  ProtocolStore& store_;
};

}  // namespace hush::internal

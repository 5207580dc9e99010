// hush internal: the receiver's side of healing and of showing each message once.
//
// SeenMessages (MessengerRecordKind::kSeenMessage): the ids of the messages shown, per sender
// person, so that a message sent again (after a retry request, or twice by a crash between
// encrypting and recording) decrypts but is not shown again. Each id is kept kResendWindowMs (the
// sender resends nothing older), at most kMaxSeenMessageIds of them, the oldest dropped first (down
// to nine tenths of the count at once); a
// meta record keeps the count, in the same transaction as every insert.
//
// RetryRequests (MessengerRecordKind::kHealing): per device of another person, the envelopes we
// failed to decrypt and have not asked for yet, and when we last asked. A request goes out at most
// once per kRetryRequestIntervalMs per device; failures in between wait in the record (at most
// kMaxRetryEnvelopeIds, the first ones kept: the sender resends every later message anyway) and go
// with the next request, from a later failure or from flush().
//
// Not responsible for: sending the requests or the resends (messenger.cpp).
// Thread-safety: not synchronised; methods join the caller's transaction or run their own.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <hush/address.h>
#include <hush/result.h>
#include <hush/store.h>

#include "messenger/content.h"

namespace hush::internal {

class SeenMessages {
 public:
  explicit SeenMessages(ProtocolStore& store) : store_(store) {}
  /// Whether the message `id` from the person `sender` was shown.
  Result<bool> contains(std::string_view sender, const MessageId& id);
  /// Records that it was shown (joins the caller's transaction). Drops the oldest ids once the
  /// count passes kMaxSeenMessageIds.
  Status insert(std::string_view sender, const MessageId& id, std::uint64_t now_ms);
  /// Forgets ids older than kResendWindowMs (at most once a day unless over the count). Returns
  /// how many were forgotten.
  Result<std::size_t> prune(std::uint64_t now_ms, bool force = false);

 private:
  ProtocolStore& store_;
};

class RetryRequests {
 public:
  explicit RetryRequests(ProtocolStore& store) : store_(store) {}
  /// Records that envelope `id` from `device` did not decrypt.
  Status add(const Address& device, const EnvelopeId& id);
  /// The envelopes to ask `device` for now, if any wait and the interval allows (then records the
  /// attempt: a failed send waits for the next interval). Empty otherwise.
  Result<std::vector<EnvelopeId>> due(const Address& device, std::uint64_t now_ms);
  /// Forgets `ids` for `device`: the request naming them went out.
  Status sent(const Address& device, const std::vector<EnvelopeId>& ids);
  /// The devices with envelopes waiting to be asked for.
  Result<std::vector<Address>> waiting();
  /// Forgets the records with nothing waiting whose interval has passed.
  Status prune(std::uint64_t now_ms);

 private:
  ProtocolStore& store_;
};

}  // namespace hush::internal

// hush internal: the calls a Messenger holds (in memory only; see call.h): per call, our role,
// where it stands, the host's participant list, our key generation, and the media object.
//
// Not responsible for: sending or receiving (calls.cpp, as Messenger::Impl steps).
// Thread-safety: as Messenger (not synchronised); CallMedia is synchronised on its own.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <hush/address.h>
#include <hush/call.h>

#include "call/call_message.h"

namespace hush::internal {

/// One call as this device holds it.
struct CallState {
  /// Where the call stands here.
  enum class Phase : std::uint8_t {
    kRinging,   ///< An offer rings here (we are a callee).
    kAnswered,  ///< We answered; waiting for the host to list us.
    kActive,    ///< We are in the call (always, for the host).
  };
  CallId id{};
  bool host = false;
  Phase phase = Phase::kRinging;
  /// The host's device (ours when we are the host).
  Address host_device;
  /// Host only: the people called who have not joined (nor declined) yet, ascending.
  std::vector<std::string> invited;
  /// The participant list (the host's, as last received), ascending by index.
  std::vector<CallParticipant> participants;
  /// Host only: the next index to hand out.
  std::uint32_t next_index = 1;
  /// Our key generation (the next one drawn is epoch + 1), and whether we drew one yet.
  std::uint64_t epoch = 0;
  bool keyed = false;
  /// The host's participant list version (the host: the last published; others: the last
  /// applied). A list not newer is ignored.
  std::uint64_t list_version = 0;
  /// Every (device, index) that left the call: never listed or keyed again here.
  std::set<std::pair<Address, std::uint32_t>> removed;
  /// The list version the host's pending key (if any) was drawn for.
  std::uint64_t pending_host_version = 0;
  /// Keys from devices not (yet) on our list, at most kMaxCallParticipants.
  std::vector<std::pair<Address, CallKeyParts>> pending_keys;
  /// The media keys (shared with the application).
  std::shared_ptr<CallMedia> media;
  /// The order calls were taken in (the oldest ringing call makes room for a new offer).
  std::uint64_t seq = 0;

  /// The listed participant with device `device`, or nullptr.
  const CallParticipant* participant(const Address& device) const {
    for (const CallParticipant& p : participants)
      if (p.device == device) return &p;
    return nullptr;
  }
  /// True once we take part (not merely ringing).
  bool engaged() const { return phase != Phase::kRinging; }
};

/// Every call a Messenger holds, at most kMaxCalls.
struct CallRegistry {
  CallRegistry() = default;
  CallRegistry(const CallRegistry&) = delete;
  CallRegistry& operator=(const CallRegistry&) = delete;
  /// Ends every call held (their keys are wiped; media the application still holds refuse).
  ~CallRegistry() {
    for (auto& [id, c] : calls)
      if (c.media) c.media->end();
  }
  std::map<CallId, CallState> calls;
  /// The calls ended, declined or hung up lately (oldest first, at most kMaxEndedCalls): an offer
  /// for one of them arriving late never rings.
  std::deque<CallId> ended;
  std::uint64_t next_seq = 0;
};

}  // namespace hush::internal

// hush chat example: the relay's call switch, a selective forwarding unit (SFU) for call media.
//
// A call's media travel over UDP to the relay, which forwards each datagram of a call to the
// call's other registered participants. The media are SFrame frames (hush/call.h, CallMedia):
// the relay never holds a media key and forwards bytes it cannot read.
//
// Registration. Over its authenticated TCP connection (frame.h kCallJoin) an account (a device of
// a handle) asks for a token for a call id; the relay answers with 32 random bytes (kCallToken).
// The device then sends, from the UDP endpoint it will use, a join datagram carrying the call id
// and that token; the relay binds the endpoint to (call, account). Only datagrams from a bound
// endpoint are forwarded, and only to the other endpoints bound to the same call. A token is
// bound to its account and call; joining again (a new endpoint, say after a NAT rebinding)
// moves the binding. When the account's TCP connection closes, or it leaves (kCallJoin with the
// same call id again replaces its token), its bindings go.
//
// Datagrams (client -> relay, relay -> client forwards a media datagram unchanged):
//   join   'J' || call id (16) || token (32)
//   media  'M' || call id (16) || the application's bytes (hush-chat: metadata || SFrame frame)
// A datagram that is longer than kMaxDatagramBytes, is not one of these, names a call its
// endpoint is not bound to, or carries a token that is not the account's, is dropped silently
// (UDP: no error is sent back to a forged source address).
//
// Bounds: kMaxSwitchCalls calls with at least one token, kMaxCallMembers accounts per call, one
// call per account at a time (a new kCallJoin replaces the account's previous call).
//
// What the relay can still do: everything call.h lists for a server (see frames' sizes, timing
// and SFrame headers; drop, delay, reorder, replay); and, as the one who issues tokens, let any
// endpoint join the forwarding of any call — which yields ciphertext it cannot read.
//
// Thread-safety: none (the relay uses it from its one Asio thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hush_chat {

/// A call id as it travels (hush::CallId's bytes).
using CallKey = std::array<std::uint8_t, 16>;
/// A UDP endpoint: IPv4 address (host order) and port. The relay listens on loopback IPv4 only.
struct Endpoint {
  /// The IPv4 address, host byte order.
  std::uint32_t address = 0;
  /// The port.
  std::uint16_t port = 0;
  /// Endpoints are equal when address and port are.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// The length of a call token.
inline constexpr std::size_t kCallTokenBytes = 32;
/// The largest datagram the relay accepts or forwards: inside one Ethernet MTU (1500) less IPv4,
/// UDP and some tunnel overhead, so that a forwarded datagram is never fragmented.
inline constexpr std::size_t kMaxDatagramBytes = 1200;
/// The most accounts in one call: hush's own call limit (kMaxCallParticipants) is smaller.
inline constexpr std::size_t kMaxCallMembers = 16;
/// The most calls the switch holds at once: each costs a few hundred bytes; bounds memory against
/// accounts asking for tokens of made-up calls (each account holds at most one).
inline constexpr std::size_t kMaxSwitchCalls = 4096;
/// The length of a join datagram.
inline constexpr std::size_t kJoinDatagramBytes = 1 + 16 + kCallTokenBytes;
/// The header of a media datagram ('M' and the call id).
inline constexpr std::size_t kMediaHeaderBytes = 1 + 16;

/// What the switch did with a datagram.
enum class SwitchVerdict : std::uint8_t {
  kJoined,     ///< A join: the endpoint is bound.
  kForwarded,  ///< Media: `out` lists where to send it (possibly no one yet).
  kDropped,    ///< Anything else: ignored.
};

/// The call switch (see the file comment).
class CallSwitch {
 public:
  /// A token for `account` in `call` (replacing the account's previous call, if any); nullopt if
  /// the call is full or kMaxSwitchCalls calls are held, or no randomness.
  std::optional<std::array<std::uint8_t, kCallTokenBytes>> grant(const std::string& account,
                                                                 const CallKey& call);
  /// Forgets `account` (its connection closed).
  void leave(const std::string& account);
  /// Handles one datagram from `from`; for kForwarded fills `out` (cleared first) with the
  /// endpoints to send the same bytes to.
  SwitchVerdict on_datagram(const Endpoint& from, const std::uint8_t* data, std::size_t size,
                            std::vector<Endpoint>& out);
  /// How many calls are held.
  std::size_t calls() const { return calls_.size(); }

 private:
  struct Member {
    std::string account;
    std::array<std::uint8_t, kCallTokenBytes> token{};
    std::optional<Endpoint> endpoint;
  };
  struct EndpointHash {
    std::size_t operator()(const Endpoint& e) const noexcept {
      return std::hash<std::uint64_t>()(std::uint64_t{e.address} << 16 | e.port);
    }
  };
  std::map<CallKey, std::vector<Member>> calls_;
  std::map<std::string, CallKey> account_call_;
  std::unordered_map<Endpoint, CallKey, EndpointHash> bound_;
};

}  // namespace hush_chat

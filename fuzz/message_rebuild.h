// hush fuzzing: rebuilding parsed wire messages with the library's own builder
// (src/messages_internal.h) and comparing their fields; used by the message parser targets.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include <hush/messages.h>

#include "crypto/kdf.h"
#include "fuzz_common.h"
#include "messages_internal.h"

namespace hush::fuzz {

/// True when two SignalMessages carry the same fields (the MAC and the exact bytes aside).
inline bool same_fields(const SignalMessage& a, const SignalMessage& b) {
  const auto aa = a.addresses();
  const auto ba = b.addresses();
  return a.message_version() == b.message_version() && a.ratchet_key() == b.ratchet_key() &&
         a.counter() == b.counter() && a.previous_counter() == b.previous_counter() &&
         std::ranges::equal(a.ciphertext(), b.ciphertext()) &&
         std::ranges::equal(a.pq_ratchet(), b.pq_ratchet()) && aa.has_value() == ba.has_value() &&
         (!aa || std::ranges::equal(*aa, *ba));
}

/// Fixed keys for rebuilding: any key will do, the MAC is not what is being tested.
struct RebuildKeys {
  std::array<std::uint8_t, 32> mac_key{};
  PublicKey sender;
  PublicKey receiver;
  RebuildKeys() {
    for (std::size_t i = 0; i < mac_key.size(); ++i)
      mac_key[i] = static_cast<std::uint8_t>(0xA0 + i);
    std::array<std::uint8_t, 32> u{};
    u.fill(0x11);
    sender = PublicKey::from_u(u);
    u.fill(0x22);
    receiver = PublicKey::from_u(u);
  }
};

/// `m` rebuilt from its parsed fields, with a MAC under RebuildKeys.
inline SignalMessage rebuild(internal::crypto::HmacSha256& hmac, const RebuildKeys& keys,
                             const SignalMessage& m) {
  internal::V4Fields v4;
  v4.version = m.message_version();
  v4.pq_ratchet = m.pq_ratchet();
  v4.addresses = m.addresses();
  return internal::MessageBuilder::signal_message(
      hmac, keys.mac_key, keys.sender, keys.receiver, m.ratchet_key(), m.counter(),
      m.previous_counter(), Bytes(m.ciphertext().begin(), m.ciphertext().end()), v4);
}

/// Checks that `m` (parsed) rebuilds into bytes that parse to the same fields, whose MAC is the
/// one the builder computed, and that rebuilding again gives the same bytes (one round makes the
/// encoding canonical). Aborts otherwise.
inline void check_signal_round_trip(internal::crypto::HmacSha256& hmac, const RebuildKeys& keys,
                                    const SignalMessage& m) {
  const SignalMessage rebuilt = rebuild(hmac, keys, m);
  check(same_fields(m, rebuilt), "SignalMessage: builder changed a field");
  auto reparsed = SignalMessage::parse(rebuilt.serialized());
  check(reparsed.has_value(), "SignalMessage: rebuilt message does not parse");
  check(same_fields(m, *reparsed), "SignalMessage: rebuilt message parses to other fields");
  check(std::ranges::equal(reparsed->serialized(), rebuilt.serialized()),
        "SignalMessage: parse changed the bytes");
  const auto mac =
      internal::compute_mac(hmac, keys.mac_key, keys.sender, keys.receiver, reparsed->mac_input());
  check(std::ranges::equal(mac, reparsed->mac()), "SignalMessage: MAC of the rebuilt message");
  check(internal::verify_mac(hmac, keys.mac_key, keys.sender, keys.receiver, *reparsed),
        "SignalMessage: verify_mac refuses the rebuilt message");
  const SignalMessage again = rebuild(hmac, keys, *reparsed);
  check(std::ranges::equal(again.serialized(), rebuilt.serialized()),
        "SignalMessage: rebuilding is not stable");
}

}  // namespace hush::fuzz

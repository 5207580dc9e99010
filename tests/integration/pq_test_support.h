// hush tests: helpers shared by the version-4 session tests (pqxdh_session_test.cpp,
// pqxdh_trial_test.cpp): Kyber prekeys, PQXDH bundles, session info, and version-4 messages
// rebuilt with a changed field (signal-v4-wire.md §3).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "support/test_support.h"
#include "wire.pb.h"

namespace hush::test {

/// Stores a Kyber prekey with `id` for `p` (one-time, or last-resort).
inline void add_kyber(Party& p, std::uint32_t id, bool last_resort = false) {
  auto identity = p.store->identity_key_pair();
  REQUIRE(identity);
  auto k = generate_kyber_pre_key(*p.ctx, *identity, KyberPreKeyId{id}, last_resort);
  REQUIRE(k);
  REQUIRE(p.store->store_kyber_pre_key(*k));
}

/// `p`'s bundle offering one-time prekey `pre_key` (or none) and Kyber prekey `kyber_id`.
inline PreKeyBundle pq_bundle(const Party& p, std::optional<PreKeyId> pre_key,
                              std::uint32_t kyber_id) {
  auto b = make_bundle(*p.store, p.address.device_id, p.signed_pre_key_id, pre_key,
                       KyberPreKeyId{kyber_id});
  REQUIRE(b);
  return std::move(*b);
}

/// `a` processes `b`'s bundle offering one-time prekey `pre_key` (or none) and Kyber prekey
/// `kyber_id` (which `b` holds, see add_kyber): a version-4 session from `a` to `b`, not used yet.
inline void start_pq_session(Party& a, const Party& b, std::optional<PreKeyId> pre_key,
                             std::uint32_t kyber_id) {
  REQUIRE(process_prekey_bundle(*a.ctx, *a.store, b.address, pq_bundle(b, pre_key, kyber_id)));
}

/// A version-4 session from `a` to `b` (start_pq_session): its first message, a prekey message,
/// decrypted by `b`, and acknowledged by one answer.
inline void pq_session(Party& a, Party& b, std::optional<PreKeyId> pre_key,
                       std::uint32_t kyber_id) {
  start_pq_session(a, b, pre_key, kyber_id);
  const auto first = encrypt(a, b, "hello pq");
  REQUIRE(first.type() == MessageType::kPreKey);
  CHECK(decrypt(b, a, first).value() == "hello pq");
  CHECK(decrypt(a, b, encrypt(b, a, "hi back")).value() == "hi back");
}

/// What `p` knows of its session with `peer`.
inline SessionInfo info(Party& p, const Party& peer) {
  auto i = session_info(*p.store, peer.address);
  REQUIRE(i);
  return *i;
}

/// A SignalMessage's wire bytes (version byte, protobuf, MAC) rebuilt with `change` applied to
/// its protobuf; the version byte and the MAC are kept (so the MAC fails unless nothing changed).
inline Bytes rebuild_v4(ByteView wire, const std::function<void(wire::SignalMessage&)>& change) {
  REQUIRE(wire.size() > 1 + kMacSize);
  wire::SignalMessage pb;
  REQUIRE(pb.ParseFromArray(wire.data() + 1, static_cast<int>(wire.size() - 1 - kMacSize)));
  change(pb);
  Bytes out{wire[0]};
  const std::string body = pb.SerializeAsString();
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), wire.end() - static_cast<std::ptrdiff_t>(kMacSize), wire.end());
  return out;
}

/// A PreKeySignalMessage's wire bytes (version byte, protobuf) rebuilt with version byte
/// `version` and `change` applied to its protobuf.
inline Bytes rebuild_v4_prekey(ByteView wire, std::uint8_t version,
                               const std::function<void(wire::PreKeySignalMessage&)>& change) {
  REQUIRE(wire.size() > 1);
  wire::PreKeySignalMessage pb;
  REQUIRE(pb.ParseFromArray(wire.data() + 1, static_cast<int>(wire.size() - 1)));
  change(pb);
  Bytes out{version};
  const std::string body = pb.SerializeAsString();
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace hush::test

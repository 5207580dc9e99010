// hush tests: a device driven through the Messenger on the in-process network (loopback.h), and
// small helpers for Messenger scenarios.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "support/loopback.h"
#include "support/test_support.h"

namespace hush::test {

/// One device: a Party (store, seeded context) with a Messenger on `net`.
struct User {
  Party party;
  LoopbackNetwork::Port port;
  Messenger messenger;
  User(const std::string& name, std::uint64_t seed, LoopbackNetwork& net, MessengerOptions o = {},
       DeviceId device = DeviceId{1})
      : party(on_device(Party::create(name, seed, 0), device)),
        port(net),
        messenger(*party.ctx, *party.store, port, net, party.address, o) {}
  const Address& address() const { return party.address; }
  IdentityKey identity() const { return party.store->identity_key_pair()->public_key; }

 private:
  static Party on_device(Party p, DeviceId device) {
    p.address.device_id = device;
    return p;
  }
};

/// A plaintext as a string.
inline std::string text(const SecretBytes& b) {
  return std::string(b.expose().begin(), b.expose().end());
}

/// Takes the oldest envelope queued for `to` (REQUIREs one).
inline Bytes take(LoopbackNetwork& net, const Address& to) {
  auto& q = net.queue(to);
  REQUIRE_FALSE(q.empty());
  Bytes e = std::move(q.front());
  q.pop_front();
  return e;
}

}  // namespace hush::test

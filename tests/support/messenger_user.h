// hush tests: devices driven through the Messenger on the in-process network (loopback.h): a User
// is one device (a Party with a Messenger); people with several devices are Users sharing a name,
// linked through the real link flow. Helpers receive what is queued and summarise it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/loopback.h"
#include "support/test_support.h"

namespace hush::test {

/// The options test devices use unless a test says otherwise: the library's defaults, without
/// delivery receipts (most tests count the envelopes a scenario sends; receipts are tested with
/// groups, in groups_messenger_test.cpp, where every device sends them), and with few one-time
/// Kyber prekeys (each is an ML-KEM key generation: 100 per device would slow the suite; the
/// replenishment is tested with its own numbers in messenger_v4_test.cpp).
inline MessengerOptions test_options() {
  MessengerOptions o;
  o.delivery_receipts = false;
  o.kyber_pre_key_low_water = 2;
  o.kyber_pre_key_batch = 4;
  return o;
}

/// One device: a Party (store, seeded context) with a Messenger on `net`.
struct User {
  Party party;
  LoopbackNetwork::Port port;
  Messenger messenger;
  /// Device `device` of a new person `name` (a fresh identity).
  User(const std::string& name, std::uint64_t seed, LoopbackNetwork& net,
       MessengerOptions o = test_options(), DeviceId device = DeviceId{1})
      : User(on_device(Party::create(name, seed, 0), device), net, o) {}
  /// A device made from a prepared party.
  User(Party p, LoopbackNetwork& net, MessengerOptions o = test_options())
      : party(std::move(p)),
        port(net),
        messenger(*party.ctx, *party.store, port, net, party.address, o) {}
  const Address& address() const { return party.address; }
  const std::string& name() const { return party.address.name; }
  IdentityKey identity() const { return party.store->identity_key_pair()->public_key; }

 private:
  static Party on_device(Party p, DeviceId device) {
    p.address.device_id = device;
    return p;
  }
};

/// Links a new device to `existing`'s person through the whole flow: a LinkRequest, its code
/// entered at `existing` (link_device), the link message (carried through the network's traffic
/// log, as a relay would see it), opened, imported into a new store, and the new device's keys
/// published. REQUIREs every step.
inline std::unique_ptr<User> link_new_device(User& existing, std::uint64_t seed,
                                             LoopbackNetwork& net,
                                             MessengerOptions o = test_options(),
                                             StoreKind kind = default_store_kind()) {
  SeededRandom random(seed ^ 0x5eed);
  auto request = LinkRequest::create(random);
  REQUIRE(request);
  auto linked = existing.messenger.link_device(request->code(), as_bytes("app data"));
  REQUIRE(linked);
  REQUIRE(linked->mailbox == request->mailbox());
  net.record(linked->message);
  auto contents = request->open(linked->message);
  REQUIRE(contents);
  REQUIRE(contents->device_id == linked->device_id);
  Party p = Party::create_with_identity(contents->name, contents->device_id, seed,
                                        contents->identity.clone(), 0, kind);
  REQUIRE(import_link(*p.store, *contents));
  auto user = std::make_unique<User>(std::move(p), net, o);
  REQUIRE(user->messenger.maintain_keys());
  return user;
}

/// What a receive showed, in short.
struct Got {
  Address from;
  std::string conversation;
  bool sent_by_us = false;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};

/// A plaintext as a string.
inline std::string text(const SecretBytes& b) {
  return std::string(b.expose().begin(), b.expose().end());
}

/// Receives every envelope queued for `u` (also those its receives cause to be queued), REQUIRing
/// each to succeed; returns what was shown, in order.
inline std::vector<Got> drain_all(LoopbackNetwork& net, User& u) {
  std::vector<Got> out;
  auto& q = net.queue(u.address());
  while (!q.empty()) {
    Bytes e = std::move(q.front());
    q.pop_front();
    auto r = u.messenger.receive(e);
    INFO("at " << u.name() << "." << to_uint(u.address().device_id) << ": "
               << (r ? "" : to_string(r.error().code())) << " " << (r ? "" : r.error().where()));
    REQUIRE(r);
    if (*r)
      out.push_back(Got{(*r)->sender, (*r)->conversation, (*r)->sent_by_us, text((*r)->plaintext)});
  }
  return out;
}

/// The texts drain_all shows.
inline std::vector<std::string> drain(LoopbackNetwork& net, User& u) {
  std::vector<std::string> out;
  for (const Got& g : drain_all(net, u))
    out.push_back(g.text);
  return out;
}

/// Takes the oldest envelope queued for `to` (REQUIREs one).
inline Bytes take(LoopbackNetwork& net, const Address& to) {
  auto& q = net.queue(to);
  REQUIRE_FALSE(q.empty());
  Bytes e = std::move(q.front());
  q.pop_front();
  return e;
}

/// Sends and REQUIREs every device to have been reached.
inline SendResult send_ok(User& from, const std::string& to, const std::string& message) {
  auto r = from.messenger.send(to, as_bytes(message));
  INFO(from.name() << " -> " << to << ": " << (r ? "" : r.error().where()));
  REQUIRE(r);
  for (const DeviceDelivery& d : r->deliveries) {
    INFO("device " << d.device.name << "." << to_uint(d.device.device_id) << ": "
                   << (d.error ? to_string(d.error->code()) : "ok"));
    CHECK(d.state == DeliveryState::kSent);
  }
  return std::move(*r);
}

/// Sends to `to`, a person with one device that cannot be reached now: REQUIREs the send to
/// succeed (the message is kept: nothing the user wrote is lost) with one delivery, queued for
/// flush(), and CHECKs that delivery's error is `code`.
inline SendResult send_queued(User& from, const std::string& to, const std::string& message,
                              Errc code) {
  auto r = from.messenger.send(to, as_bytes(message));
  INFO(from.name() << " -> " << to << ": " << (r ? "" : r.error().where()));
  REQUIRE(r);
  REQUIRE(r->deliveries.size() == 1);
  CHECK(r->deliveries[0].state == DeliveryState::kQueued);
  REQUIRE(r->deliveries[0].error);
  CHECK(r->deliveries[0].error->code() == code);
  return std::move(*r);
}

}  // namespace hush::test

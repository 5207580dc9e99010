// hush integration tests: people with several devices through the Messenger on the in-process
// network (support/loopback.h): linking, fan-out to every device of both people, copies of our own
// messages, signed device lists against a lying directory, devices added and removed
// mid-conversation, and the limit of kMaxDevicesPerPerson.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "messenger/content.h"
#include "messenger/envelope.h"
#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::drain;
using hush::test::drain_all;
using hush::test::Got;
using hush::test::link_new_device;
using hush::test::LoopbackNetwork;
using hush::test::SeededRandom;
using hush::test::send_ok;
using hush::test::User;

namespace {

bool contains_bytes(const Bytes& haystack, ByteView needle) {
  return !needle.empty() && std::search(haystack.begin(), haystack.end(), needle.begin(),
                                        needle.end()) != haystack.end();
}

// A device list of `u`'s person as `u` would sign it, with the given contents.
SignedDeviceList make_list(User& u, std::uint64_t version, std::vector<DeviceId> devices,
                           DeviceId next) {
  auto identity = u.party.store->identity_key_pair();
  REQUIRE(identity);
  DeviceList l{u.name(), identity->public_key, version, std::move(devices), next};
  auto s = SignedDeviceList::sign(*u.party.random, std::move(l), *identity);
  REQUIRE(s);
  return std::move(*s);
}

}  // namespace

TEST_CASE("a linked device shares the conversation both ways", "[integration][devices]") {
  LoopbackNetwork net;
  User alice("alice", 1001, net), bob("bob", 1002, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "before the laptop");
  CHECK(drain(net, bob) == std::vector<std::string>{"before the laptop"});

  auto laptop = link_new_device(alice, 1003, net);
  CHECK(laptop->address() == Address{"alice", DeviceId{2}});
  CHECK(laptop->identity() == alice.identity());
  // The laptop learned whom alice trusts: bob's identity came with the link.
  CHECK(*laptop->party.store->identity("bob") == bob.identity());
  auto listed = alice.messenger.devices("alice");
  REQUIRE(listed);
  CHECK(listed->devices == std::vector<DeviceId>{DeviceId{1}, DeviceId{2}});
  CHECK(listed->version == 2);

  // Alice's phone writes: bob gets it, and the laptop gets a copy marked as sent by alice.
  auto r = send_ok(alice, "bob", "from the phone");
  REQUIRE(r.deliveries.size() == 2);
  CHECK(r.deliveries[0].device == bob.address());
  CHECK(r.deliveries[1].device == laptop->address());
  CHECK(drain_all(net, bob) ==
        std::vector<Got>{Got{alice.address(), "alice", false, "from the phone"}});
  CHECK(drain_all(net, *laptop) ==
        std::vector<Got>{Got{alice.address(), "bob", true, "from the phone"}});
  // Bob answers the person: both of alice's devices get it.
  r = send_ok(bob, "alice", "to all of alice");
  REQUIRE(r.deliveries.size() == 2);
  CHECK(drain_all(net, alice) ==
        std::vector<Got>{Got{bob.address(), "bob", false, "to all of alice"}});
  CHECK(drain_all(net, *laptop) ==
        std::vector<Got>{Got{bob.address(), "bob", false, "to all of alice"}});
  // The laptop writes too: the phone gets the copy, bob sees the laptop as the sender.
  send_ok(*laptop, "bob", "from the laptop");
  CHECK(drain_all(net, bob) ==
        std::vector<Got>{Got{laptop->address(), "alice", false, "from the laptop"}});
  CHECK(drain_all(net, alice) ==
        std::vector<Got>{Got{laptop->address(), "bob", true, "from the laptop"}});
  // Safety numbers are per person: the same from either device.
  CHECK(alice.messenger.safety_number("bob")->displayable ==
        laptop->messenger.safety_number("bob")->displayable);
}

TEST_CASE("the relay sees no key material when a device is linked", "[integration][devices]") {
  LoopbackNetwork net;
  User alice("alice", 1011, net), bob("bob", 1012, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "hello");
  drain(net, bob);
  SeededRandom random(1013);
  auto request = LinkRequest::create(random);
  REQUIRE(request);
  auto linked = alice.messenger.link_device(request->code(), as_bytes("relay token 12345"));
  REQUIRE(linked);
  net.record(linked->message);
  auto contents = request->open(linked->message);
  REQUIRE(contents);
  CHECK(std::string(contents->application_data.expose().begin(),
                    contents->application_data.expose().end()) == "relay token 12345");
  // Nothing the server saw holds the identity private key, the code's secret parts, or the
  // application's data.
  auto identity = alice.party.store->identity_key_pair();
  REQUIRE(identity);
  auto code = LinkCode::parse(request->code());
  REQUIRE(code);
  for (const Bytes& seen : net.traffic()) {
    CHECK_FALSE(contains_bytes(seen, identity->private_key.expose()));
    CHECK_FALSE(contains_bytes(seen, code->secret.expose()));
    CHECK_FALSE(contains_bytes(seen, as_bytes("relay token 12345")));
    CHECK_FALSE(contains_bytes(seen, code->ephemeral.u()));
  }
  // Another device's request cannot open it (a relay that redirects the message gains nothing).
  auto other = LinkRequest::create(random);
  REQUIRE(other);
  CHECK(other->open(linked->message).error().code() == Errc::kInvalidMessage);
}

TEST_CASE("a person with 32 devices, and no 33rd", "[integration][devices]") {
  LoopbackNetwork net;
  MessengerOptions o = hush::test::test_options();
  o.pre_key_batch = 4;
  o.pre_key_low_water = 2;
  User alice("alice", 1021, net, o), bob("bob", 1022, net, o);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  std::vector<std::unique_ptr<User>> devices;
  for (std::size_t i = 1; i < kMaxDevicesPerPerson; ++i)
    devices.push_back(link_new_device(bob, 1100 + i, net, o, test::StoreKind::kInMemory));
  auto list = bob.messenger.devices("bob");
  REQUIRE(list);
  CHECK(list->devices.size() == kMaxDevicesPerPerson);
  SeededRandom random(1023);
  auto request = LinkRequest::create(random);
  REQUIRE(request);
  const Bytes before = bob.party.snapshot();
  CHECK(bob.messenger.link_device(request->code()).error().code() == Errc::kLimitExceeded);
  CHECK(bob.party.snapshot() == before);

  // One message to bob reaches all 32 devices once; bob's answer reaches alice once, and a copy
  // each of bob's other 31 devices.
  auto r = send_ok(alice, "bob", "to every device");
  CHECK(r.deliveries.size() == kMaxDevicesPerPerson);
  CHECK(drain(net, bob) == std::vector<std::string>{"to every device"});
  for (auto& d : devices)
    CHECK(drain(net, *d) == std::vector<std::string>{"to every device"});
  r = send_ok(*devices.back(), "alice", "from device 32");
  CHECK(r.deliveries.size() == kMaxDevicesPerPerson);  // alice, and bob's 31 others
  CHECK(drain(net, alice) == std::vector<std::string>{"from device 32"});
  CHECK(drain_all(net, bob) ==
        std::vector<Got>{Got{devices.back()->address(), "alice", true, "from device 32"}});
}

TEST_CASE("a device added mid-conversation gets the next message; a removed one nothing",
          "[integration][devices]") {
  LoopbackNetwork net;
  User alice("alice", 1031, net), bob("bob", 1032, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "one");
  drain(net, bob);
  auto tablet = link_new_device(bob, 1033, net);
  send_ok(alice, "bob", "two");
  CHECK(drain(net, bob) == std::vector<std::string>{"two"});
  CHECK(drain(net, *tablet) == std::vector<std::string>{"two"});  // not "one": it was not there

  // Bob removes the tablet (stolen, say): alice stops encrypting to it, and closes its session.
  REQUIRE(bob.messenger.unlink_device(tablet->address().device_id));
  auto r = send_ok(alice, "bob", "three");
  REQUIRE(r.deliveries.size() == 1);
  CHECK(r.deliveries[0].device == bob.address());
  CHECK(net.queue(tablet->address()).empty());
  CHECK_FALSE(session_info(*alice.party.store, tablet->address())->exists);
  CHECK(drain(net, bob) == std::vector<std::string>{"three"});
  // The tablet itself learns that it was removed (its messages would be refused unread: see the
  // next test).
  CHECK(tablet->messenger.send("alice", as_bytes("still me")).error().code() ==
        Errc::kUnknownDevice);
  CHECK(tablet->messenger.maintain_keys().error().code() == Errc::kUnknownDevice);
  auto listed = alice.messenger.devices("bob");
  REQUIRE(listed);
  CHECK_FALSE(listed->contains(tablet->address().device_id));
  // Device ids are never reused: the next device gets 3.
  auto phone = link_new_device(bob, 1034, net);
  CHECK(phone->address().device_id == DeviceId{3});
}

TEST_CASE("a lying directory can neither add a device nor roll the list back",
          "[integration][devices][attack]") {
  LoopbackNetwork net;
  User alice("alice", 1041, net), bob("bob", 1042, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  auto tablet = link_new_device(bob, 1043, net);
  REQUIRE(bob.messenger.unlink_device(tablet->address().device_id));
  send_ok(alice, "bob", "seen v3");  // alice has seen bob's list version 3: {1}
  drain(net, bob);
  const Bytes v3 = *net.device_list("bob");
  auto mallory = test::Party::create("bob", 1044, 1);

  struct Lie {
    const char* what;
    Bytes served;
    Errc expected;
  };
  std::vector<Lie> lies;
  // The old list that still had the tablet (version 2): a rollback.
  lies.push_back({"rollback to version 2",
                  make_list(bob, 2, {DeviceId{1}, DeviceId{2}}, DeviceId{3}).serialized(),
                  Errc::kStaleDeviceList});
  // Another list with the same version 3 (equivocation).
  lies.push_back({"another list with version 3",
                  make_list(bob, 3, {DeviceId{1}, DeviceId{5}}, DeviceId{6}).serialized(),
                  Errc::kStaleDeviceList});
  // Bob's version 4 with a device added, the signature broken.
  {
    Bytes b = make_list(bob, 4, {DeviceId{1}, DeviceId{7}}, DeviceId{8}).serialized();
    b[b.size() - 10] ^= 1;
    lies.push_back({"a broken signature", b, Errc::kInvalidSignature});
  }
  // Carol's list served as bob's.
  {
    User carol("carol", 1045, net);
    REQUIRE(carol.messenger.maintain_keys());
    lies.push_back({"another person's list", *net.device_list("carol"), Errc::kInvalidMessage});
  }
  lies.push_back({"garbage", Bytes{1, 2, 3}, Errc::kInvalidProtobuf});
  // A device added by the directory: it cannot sign as bob; a list signed by its own key is an
  // identity change (last: it then blocks sending to bob until the user decides).
  {
    DeviceList l{"bob",
                 mallory.store->identity_key_pair()->public_key,
                 4,
                 {DeviceId{1}, DeviceId{7}},
                 DeviceId{8}};
    auto s = SignedDeviceList::sign(*mallory.random, l, *mallory.store->identity_key_pair());
    REQUIRE(s);
    lies.push_back({"a device added under another key", s->serialized(), Errc::kUntrustedIdentity});
  }
  for (const Lie& lie : lies) {
    INFO(lie.what);
    net.substitute_list = [&](std::string_view name) -> std::optional<std::optional<Bytes>> {
      if (name == "bob") return std::optional<Bytes>(lie.served);
      return std::nullopt;
    };
    const Bytes before = alice.party.snapshot();
    const std::size_t traffic = net.traffic().size();
    auto r = alice.messenger.send("bob", as_bytes("not to a fake device"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == lie.expected);
    // Nothing kept but, for a list under another key, the pending identity change.
    CHECK(test::without_identity_changes(alice.party.snapshot()) ==
          test::without_identity_changes(before));
    CHECK(net.traffic().size() == traffic);
  }
  // Withheld (the directory serves no list, or is down): the newest seen still holds. Alice's
  // application restarted: the pending change the last lie raised is still there (kept in the
  // store), until she dismisses it (she keeps trusting bob's real key).
  net.substitute_list = [&](std::string_view name) -> std::optional<std::optional<Bytes>> {
    if (name == "bob") return std::optional<Bytes>();
    return std::nullopt;
  };
  Messenger restarted(*alice.party.ctx, *alice.party.store, alice.port, net, alice.address());
  REQUIRE(restarted.identity_change("bob"));
  CHECK(restarted.send("bob", as_bytes("blocked")).error().code() == Errc::kUntrustedIdentity);
  REQUIRE(restarted.dismiss_identity_change("bob"));
  CHECK_FALSE(restarted.identity_change("bob"));
  auto r = restarted.send("bob", as_bytes("withheld list"));
  REQUIRE(r);
  CHECK(r->deliveries.size() == 1);
  net.substitute_list = nullptr;
  CHECK(*net.device_list("bob") == v3);
  CHECK(drain(net, bob) == std::vector<std::string>{"withheld list"});
  // And an honest directory refuses an older list too.
  CHECK(net.publish_device_list("bob", make_list(bob, 2, {DeviceId{1}}, DeviceId{3}).serialized())
            .error()
            .code() == Errc::kStaleDeviceList);
}

TEST_CASE("a message from a device not on its person's list is refused unread",
          "[integration][devices][attack]") {
  LoopbackNetwork net;
  User alice("alice", 1051, net), bob("bob", 1052, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "hi");
  drain(net, bob);
  // Mallory holds bob's identity key (a stolen, unlinked device) and sends as bob's device 9,
  // which bob's signed list does not have.
  auto stolen = test::Party::create_with_identity("bob", DeviceId{9}, 1053,
                                                  bob.party.store->identity_key_pair()->clone(), 2);
  User mallory(std::move(stolen), net);
  REQUIRE(process_prekey_bundle(*mallory.party.ctx, *mallory.party.store, alice.address(),
                                *net.fetch(alice.address())));
  auto m = encrypt_message(*mallory.party.ctx, *mallory.party.store, alice.address(),
                           as_bytes("I am bob"));
  REQUIRE(m);
  // Wrapped in an envelope as the Messenger would: reuse the Messenger by sending to a directory
  // that lists device 9 (what the mallory device believes).
  LoopbackNetwork lying;
  DeviceList l{"bob", bob.identity(), 99, {DeviceId{1}, DeviceId{9}}, DeviceId{10}};
  auto s = SignedDeviceList::sign(*mallory.party.random, l, *bob.party.store->identity_key_pair());
  REQUIRE(s);
  REQUIRE(lying.publish_device_list("bob", s->serialized()));
  REQUIRE(lying.publish_device_list("alice", *net.device_list("alice")));
  REQUIRE(lying.publish(alice.address(), *net.published(alice.address())));
  test::LoopbackNetwork::Port port(lying);
  Messenger sender(*mallory.party.ctx, *mallory.party.store, port, lying, mallory.address());
  auto sent = sender.send("alice", as_bytes("I am bob"));
  REQUIRE(sent);
  const Bytes envelope = test::take(lying, alice.address());
  const Bytes before = alice.party.snapshot();
  auto r = alice.messenger.receive(envelope);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUnknownDevice);
  CHECK(alice.party.snapshot() == before);
  CHECK(net.queue(mallory.address()).empty());  // no retry request to it either
}

TEST_CASE("our own other devices are held to our identity, never trusted on first use",
          "[integration][devices][attack]") {
  LoopbackNetwork net;
  User alice("alice", 1061, net), bob("bob", 1062, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  auto laptop = link_new_device(alice, 1063, net);  // device 2; the phone has no session with it
  auto mallory = test::Party::create("alice", 1064, 2);
  mallory.address.device_id = DeviceId{2};
  // The directory hands out its own bundle as alice's laptop: the copy of alice's message must not
  // go to it.
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == laptop->address()) return mallory.bundle();
    return std::nullopt;
  };
  auto r = alice.messenger.send("bob", as_bytes("not for the server"));
  REQUIRE(r);
  REQUIRE(r->deliveries.size() == 2);
  CHECK(r->deliveries[1].device == laptop->address());
  CHECK(r->deliveries[1].state == DeliveryState::kQueued);
  REQUIRE(r->deliveries[1].error);
  CHECK(r->deliveries[1].error->code() == Errc::kUntrustedIdentity);
  CHECK(net.queue(laptop->address()).empty());
  CHECK(*alice.party.store->identity("alice") == alice.identity());
  net.substitute = nullptr;
  // A prekey message that claims to come from alice's laptop under another key is refused too,
  // and raises an identity change for alice herself (which only her own key can resolve).
  REQUIRE(process_prekey_bundle(*mallory.ctx, *mallory.store, alice.address(),
                                *net.fetch(alice.address())));
  internal::MessageId id{};
  id.fill(3);
  auto m =
      encrypt_message(*mallory.ctx, *mallory.store, alice.address(),
                      internal::build_copy_content(id, 1, "bob", as_bytes("a copy?")).expose());
  REQUIRE(m);
  internal::EnvelopeId envelope_id{};
  envelope_id.fill(4);
  const Bytes before = alice.party.snapshot();
  auto got = alice.messenger.receive(internal::build_envelope(laptop->address(), *m, envelope_id));
  REQUIRE_FALSE(got);
  CHECK(got.error().code() == Errc::kUntrustedIdentity);
  CHECK(alice.party.snapshot() == before);
  CHECK(*alice.party.store->identity("alice") == alice.identity());
}

TEST_CASE("a transport that carries one upload to many devices gets one batch per message",
          "[integration][devices]") {
  // A multi-recipient transport: it overrides send_batch, and counts uploads.
  struct Batching final : Transport {
    explicit Batching(LoopbackNetwork& n) : port(n) {}
    Status send(const Address& to, ByteView e) override {
      ++singles;
      return port.send(to, e);
    }
    std::vector<Status> send_batch(const std::vector<OutgoingEnvelope>& envelopes) override {
      ++uploads;
      sizes.push_back(envelopes.size());
      std::vector<Status> out;
      for (const OutgoingEnvelope& e : envelopes)
        out.push_back(port.send(e.recipient, e.envelope));
      return out;
    }
    LoopbackNetwork::Port port;
    int uploads = 0;
    int singles = 0;
    std::vector<std::size_t> sizes;
  };
  LoopbackNetwork net;
  User bob("bob", 1071, net);
  REQUIRE(bob.messenger.maintain_keys());
  std::vector<std::unique_ptr<User>> bobs;
  for (std::uint64_t i = 0; i < 3; ++i)
    bobs.push_back(link_new_device(bob, 1072 + i, net));
  auto alice_party = test::Party::create("alice", 1079, 0);
  Batching transport(net);
  Messenger alice(*alice_party.ctx, *alice_party.store, transport, net, alice_party.address);
  REQUIRE(alice.maintain_keys());
  auto r = alice.send("bob", as_bytes("one upload"));
  REQUIRE(r);
  CHECK(transport.uploads == 1);
  CHECK(transport.singles == 0);
  CHECK(transport.sizes == std::vector<std::size_t>{4});
  CHECK(drain(net, bob) == std::vector<std::string>{"one upload"});
  for (auto& d : bobs)
    CHECK(drain(net, *d) == std::vector<std::string>{"one upload"});
}

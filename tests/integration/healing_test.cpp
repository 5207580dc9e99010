// hush integration tests: sessions that heal themselves. A device that cannot decrypt a message
// asks the sender to send it again (a retry request over a new session); the sender sends it and
// every later one again from its outbox; the receiver shows each message once. Driven through a
// reinstall, a restored backup, an unknown signed prekey, forged failures, and the limits that
// keep healing from looping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::drain;
using hush::test::LoopbackNetwork;
using hush::test::send_ok;
using hush::test::text;
using hush::test::User;

namespace {

// Receives everything queued for `u`; an envelope refused for an identity change is approved (as
// the user would after comparing safety numbers) and received again. Returns the texts shown and
// counts the failures.
struct Outcome {
  std::vector<std::string> shown;
  std::map<Errc, int> failures;
};
Outcome receive_all(LoopbackNetwork& net, User& u) {
  Outcome out;
  auto& q = net.queue(u.address());
  while (!q.empty()) {
    Bytes e = std::move(q.front());
    q.pop_front();
    auto r = u.messenger.receive(e);
    if (!r && r.error().code() == Errc::kUntrustedIdentity) {
      auto sender = Messenger::envelope_sender(e);
      REQUIRE(sender);
      auto change = u.messenger.identity_change(sender->name);
      REQUIRE(change);
      REQUIRE(u.messenger.approve_identity(sender->name, change->offered));
      r = u.messenger.receive(e);
    }
    if (!r) {
      ++out.failures[r.error().code()];
      continue;
    }
    if (*r) out.shown.push_back(text((*r)->plaintext));
  }
  return out;
}

// One message each way, so that what follows are whisper messages (SignalMessages).
void converse(LoopbackNetwork& net, User& a, User& b) {
  send_ok(a, b.name(), "hi");
  REQUIRE(drain(net, b).size() == 1);
  send_ok(b, a.name(), "hi");
  REQUIRE(drain(net, a).size() == 1);
}

// A whisper message's envelope with a byte of its Signal message flipped: the 8-byte MAC ends
// the message, and the 16-byte envelope id (with its 2-byte tag and length) ends the envelope.
Bytes break_message(Bytes envelope, std::size_t i) {
  envelope[envelope.size() - 19 - i % 24] ^= 0x40;
  return envelope;
}

// Envelopes queued for `to` now (without taking them).
std::size_t queued(LoopbackNetwork& net, const Address& to) {
  return net.queue(to).size();
}

}  // namespace

TEST_CASE("a reinstalled device gets once what was sent while it was gone",
          "[integration][healing]") {
  LoopbackNetwork net;
  User alice("alice", 1201, net), bob("bob", 1202, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "before");
  CHECK(drain(net, bob) == std::vector<std::string>{"before"});
  send_ok(bob, "alice", "ok");
  drain(net, alice);

  // Bob's phone is wiped; alice writes three messages while he sets up again. They wait at the
  // relay, encrypted for the lost phone.
  for (const char* m : {"m1", "m2", "m3"})
    send_ok(alice, "bob", m);
  User bob2("bob", 1203, net);
  REQUIRE(bob2.messenger.maintain_keys());
  // The new phone cannot read them: it asks alice, once, to send again.
  const int sends_before = net.sends;
  auto at_bob = receive_all(net, bob2);
  CHECK(at_bob.shown.empty());
  // The first has no session at all; by the second, the new phone has started one of its own with
  // alice (for its request), which cannot decrypt the old session's messages either.
  CHECK(at_bob.failures[Errc::kNoSession] == 1);
  CHECK(at_bob.failures[Errc::kInvalidMessage] == 2);
  CHECK(net.sends - sends_before == 1);  // one retry request, not three
  REQUIRE(queued(net, alice.address()) == 1);
  // The request comes from bob's new identity: alice's user approves it (receive_all does), and
  // alice sends m1..m3 again over the new session.
  auto at_alice = receive_all(net, alice);
  CHECK(at_alice.shown.empty());
  CHECK(alice.messenger.identity_change("bob") == std::nullopt);
  CHECK(queued(net, bob2.address()) == 3);
  at_bob = receive_all(net, bob2);
  CHECK(at_bob.shown == std::vector<std::string>{"m1", "m2", "m3"});
  CHECK(at_bob.failures.empty());
  // And no loop: nothing more travels.
  CHECK(queued(net, alice.address()) == 0);
  CHECK(queued(net, bob2.address()) == 0);
  auto flushed = alice.messenger.flush();
  REQUIRE(flushed);
  CHECK(flushed->sent == 0);
  send_ok(alice, "bob", "m4");
  CHECK(drain(net, bob2) == std::vector<std::string>{"m4"});
}

TEST_CASE("a device restored from an old backup heals", "[integration][healing]") {
  LoopbackNetwork net;
  User alice("alice", 1211, net);
  auto bob_party = test::Party::create("bob", 1212, 0, test::StoreKind::kInMemory);
  User bob(std::move(bob_party), net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "a1");
  drain(net, bob);
  send_ok(bob, "alice", "b1");
  drain(net, alice);
  const SecretBytes backup = dynamic_cast<InMemoryProtocolStore&>(*bob.party.store).serialize();
  // The conversation moves on by several ratchet steps.
  for (int i = 0; i < 3; ++i) {
    send_ok(alice, "bob", "x" + std::to_string(i));
    drain(net, bob);
    send_ok(bob, "alice", "y" + std::to_string(i));
    drain(net, alice);
  }
  // Bob's device is put back to the backup (an in-memory store has no rollback guard).
  auto restored = InMemoryProtocolStore::deserialize(backup.expose());
  REQUIRE(restored);
  bob.party.store = std::move(*restored);
  User bob_back(std::move(bob.party), net);
  send_ok(alice, "bob", "after the restore");
  auto at_bob = receive_all(net, bob_back);
  CHECK(at_bob.shown.empty());
  CHECK(at_bob.failures.size() == 1);
  receive_all(net, alice);  // the request (same identity: no approval needed); alice resends
  at_bob = receive_all(net, bob_back);
  CHECK(at_bob.shown == std::vector<std::string>{"after the restore"});
  send_ok(bob_back, "alice", "back");
  CHECK(drain(net, alice) == std::vector<std::string>{"back"});
}

TEST_CASE("a message naming a signed prekey the receiver deleted heals", "[integration][healing]") {
  LoopbackNetwork net;
  MessengerOptions o = hush::test::test_options();
  o.signed_pre_key_rotation_ms = 1000;
  o.signed_pre_key_grace_ms = 2000;
  User alice("alice", 1221, net), bob("bob", 1222, net, o);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "first contact");  // from bob's signed prekey 1; waits at the relay
  // Bob was offline long enough that signed prekey 1 was rotated out and deleted.
  bob.party.clock->set(bob.party.clock->now_ms() + 1500);
  REQUIRE(bob.messenger.maintain_keys());
  bob.party.clock->set(bob.party.clock->now_ms() + 3000);
  REQUIRE(bob.messenger.maintain_keys());
  auto at_bob = receive_all(net, bob);
  CHECK(at_bob.failures[Errc::kInvalidKeyId] == 1);
  receive_all(net, alice);
  at_bob = receive_all(net, bob);
  CHECK(at_bob.shown == std::vector<std::string>{"first contact"});
}

TEST_CASE("forged failures cost one retry request a minute and show nothing twice",
          "[integration][healing][attack]") {
  LoopbackNetwork net;
  User alice("alice", 1231, net), bob("bob", 1232, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  converse(net, alice, bob);  // whisper messages from here on
  send_ok(alice, "bob", "real");
  const Bytes real = test::take(net, bob.address());
  // The relay holds it back and sends bob 20 copies with the message broken instead.
  const int sends_before = net.sends;
  for (std::size_t i = 0; i < 20; ++i) {
    const Bytes before = bob.party.snapshot();
    auto r = bob.messenger.receive(break_message(real, i));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidMessage);
    // The first records the request it sent, the second that its envelope waits to be asked for
    // again; the rest change nothing.
    if (i > 1) CHECK(bob.party.snapshot() == before);
  }
  CHECK(net.sends - sends_before == 1);  // one request
  // Alice answers it by sending "real" again (its envelope id was named); then the relay lets the
  // original through too. Bob shows it once.
  receive_all(net, alice);
  CHECK(queued(net, bob.address()) == 1);
  net.queue(bob.address()).push_back(real);
  auto at_bob = receive_all(net, bob);
  CHECK(at_bob.shown == std::vector<std::string>{"real"});
  CHECK(at_bob.failures.empty());
  // A minute later, a forged failure may ask again.
  send_ok(alice, "bob", "second");
  const Bytes second = test::take(net, bob.address());
  REQUIRE_FALSE(bob.messenger.receive(break_message(second, 0)));
  CHECK(net.sends - sends_before == 3);  // the request, alice's resend, her "second": no request
  bob.party.clock->set(bob.party.clock->now_ms() + kRetryRequestIntervalMs);
  REQUIRE_FALSE(bob.messenger.receive(break_message(second, 1)));
  CHECK(net.sends - sends_before == 4);
}

TEST_CASE("a message is sent again at most kMaxResendsPerDevice times", "[integration][healing]") {
  LoopbackNetwork net;
  User alice("alice", 1241, net), bob("bob", 1242, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  converse(net, alice, bob);
  send_ok(alice, "bob", "hello");
  const Bytes envelope = test::take(net, bob.address());
  int resends = 0;
  for (std::size_t round = 0; round < 6; ++round) {
    // The relay breaks it every time, and bob asks again each minute; the resends are dropped.
    bob.party.clock->set(bob.party.clock->now_ms() + kRetryRequestIntervalMs);
    REQUIRE_FALSE(bob.messenger.receive(break_message(envelope, round)));
    receive_all(net, alice);
    resends += static_cast<int>(queued(net, bob.address()));
    net.queue(bob.address()).clear();
  }
  CHECK(resends == static_cast<int>(kMaxResendsPerDevice));
}

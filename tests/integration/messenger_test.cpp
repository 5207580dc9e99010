// hush integration tests: the Messenger over an in-process network (support/loopback.h):
// conversations, lost / duplicated / reordered envelopes, one-time prekey replenishment, signed
// prekey rotation, identity changes, a directory in the middle, and malformed envelopes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::LoopbackNetwork;
using hush::test::Party;
using hush::test::text;
using hush::test::User;

namespace {

// Receives every envelope queued for `u`; returns the plaintexts in order of arrival.
std::vector<std::string> drain(LoopbackNetwork& net, User& u) {
  std::vector<std::string> out;
  auto& q = net.queue(u.address());
  while (!q.empty()) {
    Bytes e = std::move(q.front());
    q.pop_front();
    auto r = u.messenger.receive(e);
    REQUIRE(r);
    out.push_back(text(r->plaintext));
  }
  return out;
}

}  // namespace

TEST_CASE("a conversation through the Messenger", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 801, net), bob("bob", 802, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(*net.available_pre_keys(bob.address()) == MessengerOptions{}.pre_key_batch);

  auto id = alice.messenger.send(bob.address(), as_bytes("hello bob"));
  REQUIRE(id);
  CHECK(id->size() == 16);
  auto& q = net.queue(bob.address());
  REQUIRE(q.size() == 1);
  auto got = bob.messenger.receive(q.front());
  q.pop_front();
  REQUIRE(got);
  CHECK(text(got->plaintext) == "hello bob");
  CHECK(got->sender == alice.address());
  CHECK(got->message_id == *id);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(bob.messenger.send(alice.address(), as_bytes("b" + std::to_string(i))));
    REQUIRE(alice.messenger.send(bob.address(), as_bytes("a" + std::to_string(i))));
  }
  CHECK(drain(net, alice).size() == 10);
  CHECK(drain(net, bob).size() == 10);
  // Both see the same safety number.
  auto a = alice.messenger.safety_number(bob.address().name);
  auto b = bob.messenger.safety_number(alice.address().name);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->displayable.size() == 60);
  CHECK(a->displayable == b->displayable);
  CHECK(*compare_scannable_fingerprints(a->scannable, b->scannable));
  // The server saw only ciphertext.
  for (const Bytes& e : net.traffic()) {
    const std::string s(e.begin(), e.end());
    CHECK(s.find("hello bob") == std::string::npos);
    CHECK(s.find("a9") == std::string::npos);
  }
}

TEST_CASE("lost, duplicated and reordered envelopes", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 803, net), bob("bob", 804, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  // A first exchange, so later messages span several ratchet steps.
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("start")));
  REQUIRE(drain(net, bob) == std::vector<std::string>{"start"});
  std::vector<std::pair<std::string, Bytes>> sent;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      const std::string t = "m" + std::to_string(round) + "." + std::to_string(i);
      REQUIRE(alice.messenger.send(bob.address(), as_bytes(t)));
      sent.emplace_back(t, net.queue(bob.address()).back());
    }
    net.queue(bob.address()).clear();
    REQUIRE(bob.messenger.send(alice.address(), as_bytes("ack")));
    REQUIRE(drain(net, alice).size() == 1);  // alice ratchets: the next round is a new chain
  }
  // The network drops every fifth, duplicates every seventh, and shuffles the rest.
  std::vector<std::pair<std::string, Bytes>> delivered;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    if (i % 5 == 4) continue;
    delivered.push_back(sent[i]);
    if (i % 7 == 3) delivered.push_back(sent[i]);
  }
  std::mt19937 rng(7);
  std::shuffle(delivered.begin(), delivered.end(), rng);
  std::map<std::string, int> seen;
  int duplicates = 0;
  for (const auto& [t, e] : delivered) {
    const Bytes before = bob.party.snapshot();
    auto r = bob.messenger.receive(e);
    if (r) {
      CHECK(text(r->plaintext) == t);
      ++seen[t];
    } else {
      CHECK(r.error().code() == Errc::kDuplicateMessage);
      CHECK(bob.party.snapshot() == before);
      ++duplicates;
    }
  }
  for (std::size_t i = 0; i < sent.size(); ++i)
    CHECK(seen[sent[i].first] == (i % 5 == 4 ? 0 : 1));
  CHECK(duplicates > 0);
  // And the conversation goes on.
  REQUIRE(bob.messenger.send(alice.address(), as_bytes("still here")));
  CHECK(drain(net, alice) == std::vector<std::string>{"still here"});
}

TEST_CASE("one-time prekeys are replenished below the low-water mark", "[integration][messenger]") {
  LoopbackNetwork net;
  MessengerOptions o;
  o.pre_key_low_water = 5;
  o.pre_key_batch = 8;
  User bob("bob", 805, net, o);
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(*net.available_pre_keys(bob.address()) == 8);
  REQUIRE(bob.messenger.maintain_keys());  // nothing due: no new publish
  CHECK(net.publishes == 1);
  std::vector<std::unique_ptr<User>> peers;
  for (int i = 0; i < 20; ++i) {
    peers.push_back(std::make_unique<User>("peer" + std::to_string(i),
                                           900 + static_cast<std::uint64_t>(i), net));
    REQUIRE(peers.back()->messenger.send(bob.address(), as_bytes("hi")));
    REQUIRE(drain(net, bob).size() == 1);
    // Each used prekey is gone for good; the directory never runs dry.
    CHECK(*net.available_pre_keys(bob.address()) >= o.pre_key_low_water);
  }
  CHECK(net.publishes > 1);
  // Prekey ids only grow: the store never reuses one.
  auto ids = bob.party.store->pre_key_ids();
  REQUIRE(ids);
  CHECK(std::is_sorted(ids->begin(), ids->end()));
  CHECK(to_uint(ids->front()) > 20u);
}

TEST_CASE("the signed prekey rotates, and old ones last a grace period",
          "[integration][messenger]") {
  LoopbackNetwork net;
  MessengerOptions o;
  o.signed_pre_key_rotation_ms = 1000;
  o.signed_pre_key_grace_ms = 5000;
  User bob("bob", 806, net, o);
  User alice("alice", 807, net), carol("carol", 808, net);
  REQUIRE(bob.messenger.maintain_keys());
  // Alice fetches a bundle with signed prekey 1 and sends; the message waits on the server.
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("old spk")));
  Bytes in_flight = net.queue(bob.address()).front();
  net.queue(bob.address()).clear();
  auto spk1_bundle = net.fetch(bob.address());  // kept by someone slow
  REQUIRE(spk1_bundle);
  CHECK(spk1_bundle->signed_pre_key_id == SignedPreKeyId{1});
  bob.party.clock->set(bob.party.clock->now_ms() + 1500);
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(bob.party.store->signed_pre_key_ids()->size() == 2);
  auto fresh = net.fetch(bob.address());
  REQUIRE(fresh);
  CHECK(fresh->signed_pre_key_id == SignedPreKeyId{2});
  REQUIRE(carol.messenger.send(bob.address(), as_bytes("new spk")));
  CHECK(drain(net, bob) == std::vector<std::string>{"new spk"});
  auto r = bob.messenger.receive(in_flight);  // within the grace period
  REQUIRE(r);
  CHECK(text(r->plaintext) == "old spk");
  // Past the grace period the replaced signed prekey is deleted, and a session started from a
  // bundle that still names it cannot be read. (Signed prekey 2, replaced only now by 3, stays
  // for its own grace period, however old it is.)
  bob.party.clock->set(bob.party.clock->now_ms() + 10000);
  REQUIRE(bob.messenger.maintain_keys());
  const auto spks = bob.party.store->signed_pre_key_ids();
  REQUIRE(spks);
  CHECK(*spks == std::vector<SignedPreKeyId>{SignedPreKeyId{2}, SignedPreKeyId{3}});
  User dave("dave", 809, net);
  REQUIRE(process_prekey_bundle(*dave.party.ctx, *dave.party.store, bob.address(), *spk1_bundle));
  REQUIRE(dave.messenger.send(bob.address(), as_bytes("too late")));
  auto late = bob.messenger.receive(net.queue(bob.address()).front());
  REQUIRE_FALSE(late);
  CHECK(late.error().code() == Errc::kInvalidKeyId);
}

TEST_CASE("an identity change stops sending until approved", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 810, net), bob("bob", 811, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("before")));
  REQUIRE(drain(net, bob).size() == 1);
  const IdentityKey old_key = bob.party.store->identity_key_pair()->public_key;

  // Bob reinstalls: a new identity, published; he writes to alice first.
  User bob2("bob", 812, net);
  REQUIRE(bob2.messenger.maintain_keys());
  const IdentityKey new_key = bob2.party.store->identity_key_pair()->public_key;
  REQUIRE(bob2.messenger.send(alice.address(), as_bytes("new phone")));
  const Bytes before = alice.party.snapshot();
  auto r = alice.messenger.receive(net.queue(alice.address()).front());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUntrustedIdentity);
  CHECK(alice.party.snapshot() == before);
  CHECK(*Messenger::envelope_sender(net.queue(alice.address()).front()) == bob.address());
  auto change = alice.messenger.identity_change(bob.address().name);
  REQUIRE(change);
  CHECK(change->trusted == old_key);
  CHECK(change->offered == new_key);
  // Until the user approves, nothing goes to bob, not even through the old session.
  auto blocked = alice.messenger.send(bob.address(), as_bytes("to the old phone?"));
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code() == Errc::kUntrustedIdentity);
  CHECK(net.queue(bob.address()).empty());
  // The user compares safety numbers with the new phone and approves.
  REQUIRE(alice.messenger.approve_identity(bob.address().name, new_key));
  CHECK_FALSE(alice.messenger.identity_change(bob.address().name));
  auto now = alice.messenger.receive(net.queue(alice.address()).front());
  net.queue(alice.address()).pop_front();
  REQUIRE(now);
  CHECK(text(now->plaintext) == "new phone");
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("welcome back")));
  CHECK(drain(net, bob2) == std::vector<std::string>{"welcome back"});
}

TEST_CASE("a directory in the middle is caught", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 813, net), bob("bob", 814, net), carol("carol", 815, net);
  auto mallory = Party::create("bob", 816, 1);  // the directory's own keys, under bob's name
  for (User* u : {&alice, &bob, &carol})
    REQUIRE(u->messenger.maintain_keys());
  // Alice knows bob's identity (she verified it earlier) but has no session right now.
  REQUIRE(alice.party.store->save_identity(bob.address().name,
                                           bob.party.store->identity_key_pair()->public_key));
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == bob.address()) return mallory.bundle();
    return std::nullopt;
  };
  // A known peer: refused, and nothing is sent.
  auto r = alice.messenger.send(bob.address(), as_bytes("for bob only"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUntrustedIdentity);
  CHECK(net.queue(bob.address()).empty());
  auto change = alice.messenger.identity_change(bob.address().name);
  REQUIRE(change);
  CHECK(change->offered == mallory.store->identity_key_pair()->public_key);
  // A new peer: trust on first use accepts the substitute, but the safety numbers differ.
  REQUIRE(carol.messenger.send(bob.address(), as_bytes("hi bob")));
  auto carol_view = carol.messenger.safety_number(bob.address().name);
  REQUIRE(carol_view);
  auto bob_view = make_fingerprint(kFingerprintIterations, "bob",
                                   bob.party.store->identity_key_pair()->public_key, "carol",
                                   carol.party.store->identity_key_pair()->public_key);
  REQUIRE(bob_view);
  CHECK(carol_view->displayable != bob_view->displayable);
  CHECK_FALSE(*compare_scannable_fingerprints(carol_view->scannable, bob_view->scannable));
  // And the real bob cannot read what went to mallory's keys.
  auto misdirected = bob.messenger.receive(net.queue(bob.address()).front());
  REQUIRE_FALSE(misdirected);
}

TEST_CASE("malformed envelopes are refused with typed errors", "[integration][messenger]") {
  LoopbackNetwork net;
  User bob("bob", 817, net);
  const Bytes before = bob.party.snapshot();
  CHECK(bob.messenger.receive(Bytes{0xFF, 0xFF}).error().code() == Errc::kInvalidProtobuf);
  CHECK(bob.messenger.receive(Bytes{}).error().code() == Errc::kInvalidMessage);
  CHECK(bob.messenger.receive(Bytes(kMaxEnvelopeBytes + 1, 0)).error().code() ==
        Errc::kLimitExceeded);
  User alice("alice", 818, net);
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("x")));
  const Bytes good = net.queue(bob.address()).front();
  for (std::size_t i = 0; i < good.size(); i += 3) {
    Bytes bad = good;
    bad[i] ^= 0x21;
    auto r = bob.messenger.receive(bad);
    if (r) CHECK(text(r->plaintext) == "x");  // only a harmless field (message id, name) changed
  }
  (void)before;
}

TEST_CASE("a transport failure loses the message, never reuses its key",
          "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 819, net), bob("bob", 820, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("one")));
  net.down = true;
  auto r = alice.messenger.send(bob.address(), as_bytes("lost"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kTransportFailure);
  net.down = false;
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("three")));
  CHECK(drain(net, bob) == std::vector<std::string>{"one", "three"});
}

TEST_CASE("receive stores sender, id and plaintext atomically; reset_session starts over",
          "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 821, net), bob("bob", 822, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  auto id = alice.messenger.send(bob.address(), as_bytes("keep"));
  REQUIRE(id);
  const Bytes envelope = net.queue(bob.address()).front();
  ReceiveOptions failing;
  failing.before_commit = [](const Address&, ByteView, ByteView) -> Status {
    return Error(Errc::kStoreFailure, "test: app storage full");
  };
  const Bytes before = bob.party.snapshot();
  REQUIRE_FALSE(bob.messenger.receive(envelope, failing));
  CHECK(bob.party.snapshot() == before);
  std::string seen;
  ReceiveOptions storing;
  storing.before_commit = [&](const Address& sender, ByteView message_id, ByteView plaintext) {
    CHECK(sender == alice.address());
    CHECK(Bytes(message_id.begin(), message_id.end()) == *id);
    seen.assign(plaintext.begin(), plaintext.end());
    return ok_status();
  };
  REQUIRE(bob.messenger.receive(envelope, storing));
  CHECK(seen == "keep");
  net.queue(bob.address()).clear();
  // A reset archives the session; the next send sets up a new one from a fresh bundle.
  const auto prekeys_before = *net.available_pre_keys(bob.address());
  REQUIRE(alice.messenger.reset_session(bob.address()));
  CHECK_FALSE(session_info(*alice.party.store, bob.address())->exists);
  REQUIRE(alice.messenger.send(bob.address(), as_bytes("again")));
  CHECK(*net.available_pre_keys(bob.address()) == prekeys_before - 1);
  CHECK(drain(net, bob) == std::vector<std::string>{"again"});
  CHECK(session_info(*alice.party.store, bob.address())->previous_states >= 1);
}

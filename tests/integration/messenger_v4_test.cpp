// hush integration tests: the Messenger on Signal v4 (issue 12 items 5 and 8) over the in-process
// network (support/loopback.h): two hush users get version-4 sessions; one-time Kyber prekeys are
// consumed and replenished, the last-resort one rotates and lasts a grace period; a directory that
// strips a Kyber prekey (after version 4) or swaps in a badly signed one is refused; a peer with no
// Kyber prekeys still gets version 3 unless post-quantum is required; a publish whose answer was
// lost publishes the same Kyber keys again, never new ones in their place.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "messenger/envelope.h"

#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::drain;
using hush::test::LoopbackNetwork;
using hush::test::Party;
using hush::test::send_ok;
using hush::test::take;
using hush::test::User;

namespace {

std::uint32_t session_version(User& u, const Address& peer) {
  auto info = session_info(*u.party.store, peer);
  REQUIRE(info);
  return info->exists ? info->version : 0;
}

// The Kyber prekeys in `u`'s store: (id, last_resort).
std::vector<std::pair<std::uint32_t, bool>> kyber_keys(User& u) {
  std::vector<std::pair<std::uint32_t, bool>> out;
  auto ids = u.party.store->kyber_pre_key_ids();
  REQUIRE(ids);
  for (KyberPreKeyId id : *ids) {
    auto r = u.party.store->load_kyber_pre_key(id);
    REQUIRE(r);
    REQUIRE(*r);
    out.emplace_back(to_uint(id), (*r)->last_resort);
  }
  return out;
}

bool has_kyber_key(User& u, KyberPreKeyId id) {
  auto r = u.party.store->load_kyber_pre_key(id);
  REQUIRE(r);
  return r->has_value();
}

// `who`'s bundle as the directory holds it, without taking a one-time key: its last-resort Kyber
// prekey, or none (`with_kyber` false: what a directory that strips it serves).
PreKeyBundle held_bundle(LoopbackNetwork& net, const Address& who, bool with_kyber) {
  const PublishedKeys* keys = net.published(who);
  REQUIRE(keys);
  REQUIRE(keys->last_resort_kyber_pre_key);
  return keys->bundle(std::nullopt, with_kyber ? keys->last_resort_kyber_pre_key : std::nullopt);
}

MessengerOptions v4_options() {
  MessengerOptions o = hush::test::test_options();
  o.kyber_pre_key_low_water = 2;
  o.kyber_pre_key_batch = 3;
  return o;
}

}  // namespace

TEST_CASE("two hush Messengers talk Signal v4", "[integration][messenger][v4]") {
  LoopbackNetwork net;
  User alice("alice", 7101, net, v4_options()), bob("bob", 7102, net, v4_options());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  const PublishedKeys* published = net.published(bob.address());
  REQUIRE(published);
  REQUIRE(published->last_resort_kyber_pre_key);
  CHECK(net.available_pre_keys(bob.address())->kyber_one_time == 3);
  const std::vector<KyberPreKeyId> offered = net.kyber_pre_key_ids(bob.address());
  REQUIRE(offered.size() == 3);
  // What bob published is signed by bob's identity: the bundle validates.
  CHECK(held_bundle(net, bob.address(), true).validate());

  send_ok(alice, "bob", "hello in v4");
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(net.available_pre_keys(bob.address())->kyber_one_time == 2);
  CHECK(has_kyber_key(bob, offered[0]));
  CHECK(drain(net, bob) == std::vector<std::string>{"hello in v4"});
  CHECK(session_version(bob, alice.address()) == 4);
  // The one-time Kyber prekey alice used is gone from bob's store for good.
  CHECK_FALSE(has_kyber_key(bob, offered[0]));
  send_ok(bob, "alice", "and back");
  CHECK(drain(net, alice) == std::vector<std::string>{"and back"});
  for (int i = 0; i < 3; ++i) {
    send_ok(alice, "bob", "a" + std::to_string(i));
    send_ok(bob, "alice", "b" + std::to_string(i));
  }
  CHECK(drain(net, bob).size() == 3);
  CHECK(drain(net, alice).size() == 3);
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(session_version(bob, alice.address()) == 4);
}

TEST_CASE("one-time Kyber prekeys are consumed and replenished", "[integration][messenger][v4]") {
  LoopbackNetwork net;
  User bob("bob", 7111, net, v4_options());
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(net.available_pre_keys(bob.address())->kyber_one_time == 3);
  const int first_publishes = net.publishes;
  std::set<std::uint32_t> used;
  std::vector<std::unique_ptr<User>> peers;
  for (int i = 0; i < 6; ++i) {
    peers.push_back(std::make_unique<User>(
        "peer" + std::to_string(i), 7120 + static_cast<std::uint64_t>(i), net, v4_options()));
    REQUIRE(peers.back()->messenger.maintain_keys());
    const auto before = net.kyber_pre_key_ids(bob.address());
    REQUIRE_FALSE(before.empty());
    send_ok(*peers.back(), "bob", "hi");
    used.insert(to_uint(before.front()));
    CHECK(session_version(*peers.back(), bob.address()) == 4);
    REQUIRE(drain(net, bob).size() == 1);
    CHECK_FALSE(has_kyber_key(bob, before.front()));
    // bob tops up when the directory holds fewer than the low-water mark.
    CHECK(net.available_pre_keys(bob.address())->kyber_one_time >= 2);
  }
  CHECK(used.size() == 6);  // each peer got its own one-time Kyber prekey
  CHECK(net.publishes > first_publishes);
  // Ids only grow: none is reused; bob holds exactly what the directory can still hand out, and
  // one last-resort key.
  auto keys = kyber_keys(bob);
  std::vector<KyberPreKeyId> one_time;
  int last_resort = 0;
  for (const auto& [id, lr] : keys) {
    if (lr)
      ++last_resort;
    else
      one_time.push_back(KyberPreKeyId{id});
    CHECK(used.count(id) == 0);
  }
  CHECK(last_resort == 1);
  CHECK(one_time == net.kyber_pre_key_ids(bob.address()));
  CHECK(to_uint(one_time.front()) > *used.rbegin());

  // Someone drains the one-time Kyber prekeys: bundles then carry the last-resort one, and
  // sessions are still version 4; the last-resort key stays after use.
  while (net.available_pre_keys(bob.address())->kyber_one_time > 0)
    REQUIRE(net.fetch(bob.address()));
  User carol("carol", 7130, net, v4_options());
  REQUIRE(carol.messenger.maintain_keys());
  send_ok(carol, "bob", "via the last resort");
  CHECK(session_version(carol, bob.address()) == 4);
  CHECK(drain(net, bob) == std::vector<std::string>{"via the last resort"});
  const auto lr = net.published(bob.address())->last_resort_kyber_pre_key;
  REQUIRE(lr);
  CHECK(has_kyber_key(bob, lr->id));
}

TEST_CASE("the last-resort Kyber prekey rotates with the signed prekey and lasts a grace period",
          "[integration][messenger][v4]") {
  LoopbackNetwork net;
  MessengerOptions o = v4_options();
  o.signed_pre_key_rotation_ms = 1000;
  o.signed_pre_key_grace_ms = 5000;
  o.kyber_pre_key_low_water = 0;  // no one-time Kyber prekeys: every bundle has the last resort
  o.kyber_pre_key_batch = 0;
  User bob("bob", 7141, net, o);
  User alice("alice", 7142, net, v4_options()), carol("carol", 7143, net, v4_options());
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(carol.messenger.maintain_keys());
  const auto first = net.published(bob.address())->last_resort_kyber_pre_key;
  REQUIRE(first);
  CHECK(kyber_keys(bob) == std::vector<std::pair<std::uint32_t, bool>>{{to_uint(first->id), true}});

  // alice's and carol's first messages are made under the first last-resort key, and stay in
  // flight.
  send_ok(alice, "bob", "in flight");
  send_ok(carol, "bob", "late");
  CHECK(session_version(alice, bob.address()) == 4);
  const Bytes alices = take(net, bob.address());
  const Bytes carols = take(net, bob.address());

  // Not due yet: nothing changes.
  bob.party.clock->set(bob.party.clock->now_ms() + 999);
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(net.published(bob.address())->last_resort_kyber_pre_key == first);

  // Due: a new last-resort key is published; the old one stays for the grace period.
  bob.party.clock->set(bob.party.clock->now_ms() + 1);
  REQUIRE(bob.messenger.maintain_keys());
  const auto second = net.published(bob.address())->last_resort_kyber_pre_key;
  REQUIRE(second);
  CHECK(to_uint(second->id) > to_uint(first->id));
  CHECK(has_kyber_key(bob, first->id));
  CHECK(has_kyber_key(bob, second->id));
  CHECK(held_bundle(net, bob.address(), true).validate());
  // The message in flight under the old key still opens.
  auto got = bob.messenger.receive(alices);
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(hush::test::text((*got)->plaintext) == "in flight");

  // Past the grace period (counted from the rotation), the old key is deleted: a prekey message
  // that names it no longer opens.
  bob.party.clock->set(bob.party.clock->now_ms() + 5000);
  REQUIRE(bob.messenger.maintain_keys());
  CHECK_FALSE(has_kyber_key(bob, first->id));
  const auto third = net.published(bob.address())->last_resort_kyber_pre_key;
  REQUIRE(third);
  CHECK(has_kyber_key(bob, third->id));
  auto refused = bob.messenger.receive(carols);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::kInvalidKeyId);
  // New sessions use the current key.
  User dave("dave", 7144, net, v4_options());
  REQUIRE(dave.messenger.maintain_keys());
  send_ok(dave, "bob", "fresh");
  CHECK(drain(net, bob) == std::vector<std::string>{"fresh"});
}

TEST_CASE("a directory that strips the Kyber prekey after version 4 is refused",
          "[integration][messenger][v4]") {
  LoopbackNetwork net;
  User alice("alice", 7151, net, v4_options()), bob("bob", 7152, net, v4_options());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "v4 first");
  REQUIRE(drain(net, bob).size() == 1);
  send_ok(bob, "alice", "ok");
  REQUIRE(drain(net, alice).size() == 1);
  REQUIRE(session_version(alice, bob.address()) == 4);

  // The session is reset (or lost); the directory now serves bob's bundle without a Kyber prekey.
  REQUIRE(alice.messenger.reset_session(bob.address()));
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == bob.address()) return held_bundle(net, bob.address(), false);
    return std::nullopt;
  };
  test::send_queued(alice, "bob", "downgrade me", Errc::kPostQuantumRequired);
  CHECK(session_version(alice, bob.address()) == 0);  // no version-3 session was made
  CHECK(net.queue(bob.address()).empty());

  // The directory stops lying: the queued message goes in version 4.
  net.substitute = nullptr;
  auto flushed = alice.messenger.flush();
  REQUIRE(flushed);
  CHECK(flushed->sent == 1);
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(drain(net, bob) == std::vector<std::string>{"downgrade me"});

  // A version-3 prekey message in bob's name (someone with bob's keys and alice's bundle stripped
  // of its Kyber prekey) is refused too.
  Party forger = Party::create_with_identity("bob", DeviceId{1}, 7153,
                                             bob.party.store->identity_key_pair()->clone());
  REQUIRE(process_prekey_bundle(*forger.ctx, *forger.store, alice.address(),
                                held_bundle(net, alice.address(), false)));
  auto v3 = encrypt_message(*forger.ctx, *forger.store, alice.address(), as_bytes("go back"));
  REQUIRE(v3);
  REQUIRE(v3->prekey_message());
  CHECK(v3->prekey_message()->message_version() == 3);
  const Bytes before = alice.party.snapshot();
  auto refused =
      alice.messenger.receive(internal::build_envelope(bob.address(), *v3, internal::EnvelopeId{}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::kLegacyMessage);
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(alice.party.snapshot() == before);
}

TEST_CASE("a Kyber prekey with a bad signature is refused", "[integration][messenger][v4]") {
  LoopbackNetwork net;
  User alice("alice", 7161, net, v4_options()), bob("bob", 7162, net, v4_options());
  User mallory("mallory", 7163, net, v4_options());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(mallory.messenger.maintain_keys());
  // The directory swaps mallory's Kyber key into bob's bundle (keeping bob's signature), or signs
  // it with mallory's identity: both fail bob's identity's signature check.
  for (const bool keep_signature : {true, false}) {
    net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
      if (!(a == bob.address())) return std::nullopt;
      PreKeyBundle b = held_bundle(net, bob.address(), true);
      // value(): mallory published a last-resort key above (and GCC 12 at -O2 cannot see that a
      // dereferenced optional is engaged: -Wmaybe-uninitialized).
      const SignedKyberPreKey theirs =
          net.published(mallory.address())->last_resort_kyber_pre_key.value();
      b.kyber_pre_key = theirs.key;
      if (!keep_signature) b.kyber_pre_key_signature = theirs.signature;
      return b;
    };
    test::send_queued(alice, "bob", "to bob", Errc::kInvalidSignature);
    CHECK(session_version(alice, bob.address()) == 0);
    CHECK_FALSE(alice.messenger.identity_change("bob"));
  }
  net.substitute = nullptr;
  auto flushed = alice.messenger.flush();
  REQUIRE(flushed);
  CHECK(flushed->sent == 2);
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(drain(net, bob) == std::vector<std::string>{"to bob", "to bob"});
}

TEST_CASE("a peer without Kyber prekeys gets version 3 unless post-quantum is required",
          "[integration][messenger][v4]") {
  LoopbackNetwork net;
  User alice("alice", 7171, net, v4_options()), carol("carol", 7172, net, v4_options());
  MessengerOptions strict_options = v4_options();
  strict_options.require_post_quantum = true;
  User pq("pq", 7173, net, strict_options);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(carol.messenger.maintain_keys());
  REQUIRE(pq.messenger.maintain_keys());
  // carol's app is older: the directory serves her bundle without a Kyber prekey.
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == carol.address()) return held_bundle(net, carol.address(), false);
    return std::nullopt;
  };
  send_ok(alice, "carol", "hello in v3");
  CHECK(session_version(alice, carol.address()) == 3);
  CHECK(drain(net, carol) == std::vector<std::string>{"hello in v3"});
  send_ok(carol, "alice", "v3 back");
  CHECK(drain(net, alice) == std::vector<std::string>{"v3 back"});

  // Required post-quantum: carol's bundle is refused, in words a person understands.
  const SendResult sent = test::send_queued(pq, "carol", "strict", Errc::kPostQuantumRequired);
  CHECK(std::string(sent.deliveries[0].error->where()).find("post-quantum") != std::string::npos);
  CHECK(session_version(pq, carol.address()) == 0);
  // ... and so is a version-3 message from carol.
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == pq.address()) return held_bundle(net, pq.address(), false);
    if (a == carol.address()) return held_bundle(net, carol.address(), false);
    return std::nullopt;
  };
  send_ok(carol, "pq", "from an old app");
  CHECK(session_version(carol, pq.address()) == 3);
  const Bytes before = pq.party.snapshot();
  auto refused = pq.messenger.receive(take(net, pq.address()));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::kPostQuantumRequired);
  CHECK(std::string(refused.error().where()).find("post-quantum") != std::string::npos);
  CHECK(pq.party.snapshot() == before);

  // The same store with post-quantum required: the version-3 session with carol is replaced by a
  // version-4 one once carol's bundle has a Kyber prekey (her app was updated).
  net.substitute = nullptr;
  LoopbackNetwork::Port port(net);
  Messenger strict(*alice.party.ctx, *alice.party.store, port, net, alice.address(),
                   strict_options);
  send_ok(alice, "carol", "still v3");  // alice's own Messenger keeps the v3 session
  CHECK(session_version(alice, carol.address()) == 3);
  CHECK(drain(net, carol) == std::vector<std::string>{"still v3"});
  auto upgraded = strict.send("carol", as_bytes("now v4"));
  REQUIRE(upgraded);
  REQUIRE(upgraded->deliveries.size() == 1);
  CHECK(upgraded->deliveries[0].state == DeliveryState::kSent);
  CHECK(session_version(alice, carol.address()) == 4);
  CHECK(drain(net, carol) == std::vector<std::string>{"now v4"});
}

namespace {

// A directory whose publish reaches the server, but whose answer is lost (a crash or a cut
// connection between the server's commit and ours) while `lose_answers` is set.
struct LostAnswers final : KeyDirectory {
  LoopbackNetwork& net;
  bool lose_answers = true;
  explicit LostAnswers(LoopbackNetwork& n) : net(n) {}
  Status publish(const Address& self, const PublishedKeys& keys) override {
    if (auto st = net.publish(self, keys); !st) return st;
    if (lose_answers) return Error(Errc::kTransportFailure, "test: the answer was lost");
    return ok_status();
  }
  Result<AvailablePreKeys> available_pre_keys(const Address& self) override {
    return net.available_pre_keys(self);
  }
  Result<PreKeyBundle> fetch(const Address& remote) override { return net.fetch(remote); }
  Status publish_device_list(std::string_view name, ByteView list) override {
    return net.publish_device_list(name, list);
  }
  Result<std::optional<Bytes>> fetch_device_list(std::string_view name) override {
    return net.fetch_device_list(name);
  }
};

}  // namespace

TEST_CASE("a publish whose answer was lost publishes the same Kyber prekeys again",
          "[integration][messenger][v4]") {
  LoopbackNetwork net;
  LostAnswers directory(net);
  Party p = Party::create("bob", 7181, 0);
  LoopbackNetwork::Port port(net);
  {
    Messenger bob(*p.ctx, *p.store, port, directory, p.address, v4_options());
    auto failed = bob.maintain_keys();
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code() == Errc::kTransportFailure);
  }
  const auto held = net.kyber_pre_key_ids(p.address);
  const auto last_resort = net.published(p.address)->last_resort_kyber_pre_key;
  REQUIRE(held.size() == 3);
  REQUIRE(last_resort);
  // A restart (the store reopened) and more lost answers: the same keys go again, no new ones.
  p.reopen();
  Messenger again(*p.ctx, *p.store, port, directory, p.address, v4_options());
  REQUIRE_FALSE(again.maintain_keys());
  CHECK(net.kyber_pre_key_ids(p.address) == held);
  CHECK(net.published(p.address)->last_resort_kyber_pre_key == last_resort);
  directory.lose_answers = false;
  REQUIRE(again.maintain_keys());
  CHECK(net.kyber_pre_key_ids(p.address) == held);  // held once each, never twice
  const int publishes = net.publishes;
  REQUIRE(again.maintain_keys());  // acknowledged: nothing more to publish
  CHECK(net.publishes == publishes);
  auto ids = p.store->kyber_pre_key_ids();
  REQUIRE(ids);
  CHECK(ids->size() == 4);  // three one-time keys and the last-resort one
}

TEST_CASE("both sides start a version-4 session at once", "[integration][messenger][v4]") {
  // Each side sends before it got the other's first message: two sessions, each side's current
  // one the other's; later messages name SPQR indexes the other session used already.
  LoopbackNetwork net;
  User alice("alice", 7191, net, v4_options()), bob("bob", 7192, net, v4_options());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "a1");
  send_ok(bob, "alice", "b1");
  send_ok(alice, "bob", "a2");
  send_ok(bob, "alice", "b2");
  CHECK(drain(net, bob) == std::vector<std::string>{"a1", "a2"});
  CHECK(drain(net, alice) == std::vector<std::string>{"b1", "b2"});
  for (int i = 0; i < 3; ++i) {
    send_ok(alice, "bob", "a" + std::to_string(3 + i));
    send_ok(bob, "alice", "b" + std::to_string(3 + i));
    CHECK(drain(net, bob).size() == 1);
    CHECK(drain(net, alice).size() == 1);
  }
  CHECK(session_version(alice, bob.address()) == 4);
  CHECK(session_version(bob, alice.address()) == 4);

  // With delivery receipts, every message is answered at once: sessions cross all the time.
  MessengerOptions r = v4_options();
  r.delivery_receipts = true;
  User carol("carol", 7193, net, r), dave("dave", 7194, net, r);
  REQUIRE(carol.messenger.maintain_keys());
  REQUIRE(dave.messenger.maintain_keys());
  for (int i = 0; i < 3; ++i) {
    send_ok(carol, "dave", "c");
    send_ok(dave, "carol", "d");
  }
  for (int i = 0; i < 4; ++i) {
    hush::test::drain_all(net, dave);
    hush::test::drain_all(net, carol);
  }
}

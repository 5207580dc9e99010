// hush integration tests: the Messenger over an in-process network (support/loopback.h):
// conversations, lost / duplicated / reordered envelopes, one-time prekey replenishment, signed
// prekey rotation, identity changes, a directory in the middle, and malformed envelopes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>

#include "messenger/healing.h"

#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::drain;
using hush::test::LoopbackNetwork;
using hush::test::Party;
using hush::test::send_ok;
using hush::test::text;
using hush::test::User;

TEST_CASE("a conversation through the Messenger", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 801, net), bob("bob", 802, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(net.available_pre_keys(bob.address())->one_time == MessengerOptions{}.pre_key_batch);

  auto sent = alice.messenger.send("bob", as_bytes("hello bob"));
  INFO((sent ? "" : sent.error().where()));
  REQUIRE(sent);
  CHECK(sent->message_id.size() == 16);
  REQUIRE(sent->deliveries.size() == 1);  // bob's one device; alice has no other
  CHECK(sent->deliveries[0].device == bob.address());
  CHECK(sent->deliveries[0].state == DeliveryState::kSent);
  auto& q = net.queue(bob.address());
  REQUIRE(q.size() == 1);
  auto got = bob.messenger.receive(q.front());
  q.pop_front();
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(text((*got)->plaintext) == "hello bob");
  CHECK((*got)->sender == alice.address());
  CHECK((*got)->conversation == "alice");
  CHECK_FALSE((*got)->sent_by_us);
  CHECK((*got)->message_id == sent->message_id);
  CHECK((*got)->sent_ms == alice.party.clock->now_ms());
  // (Texts long enough not to occur by chance in the published keys' random bytes.)
  for (int i = 0; i < 10; ++i) {
    send_ok(bob, "alice", "from bob, number " + std::to_string(i));
    send_ok(alice, "bob", "from alice, number " + std::to_string(i));
  }
  CHECK(drain(net, alice).size() == 10);
  CHECK(drain(net, bob).size() == 10);
  // Both see the same safety number.
  auto a = alice.messenger.safety_number("bob");
  auto b = bob.messenger.safety_number("alice");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->displayable.size() == 60);
  CHECK(a->displayable == b->displayable);
  CHECK(*compare_scannable_fingerprints(a->scannable, b->scannable));
  // The server saw only ciphertext.
  for (const Bytes& e : net.traffic()) {
    const std::string s(e.begin(), e.end());
    CHECK(s.find("hello bob") == std::string::npos);
    CHECK(s.find("from alice, number 9") == std::string::npos);
  }
}

TEST_CASE("lost, duplicated and reordered envelopes", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 803, net), bob("bob", 804, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  // A first exchange, so later messages span several ratchet steps.
  send_ok(alice, "bob", "start");
  REQUIRE(drain(net, bob) == std::vector<std::string>{"start"});
  std::vector<std::pair<std::string, Bytes>> sent;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      const std::string t = "m" + std::to_string(round) + "." + std::to_string(i);
      send_ok(alice, "bob", t);
      sent.emplace_back(t, net.queue(bob.address()).back());
    }
    net.queue(bob.address()).clear();
    send_ok(bob, "alice", "ack");
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
      REQUIRE(*r);
      CHECK(text((*r)->plaintext) == t);
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
  send_ok(bob, "alice", "still here");
  CHECK(drain(net, alice) == std::vector<std::string>{"still here"});
}

TEST_CASE("one-time prekeys are replenished below the low-water mark", "[integration][messenger]") {
  LoopbackNetwork net;
  MessengerOptions o = hush::test::test_options();
  o.pre_key_low_water = 5;
  o.pre_key_batch = 8;
  User bob("bob", 805, net, o);
  REQUIRE(bob.messenger.maintain_keys());
  CHECK(net.available_pre_keys(bob.address())->one_time == 8);
  REQUIRE(bob.messenger.maintain_keys());  // nothing due: no new publish
  CHECK(net.publishes == 1);
  std::vector<std::unique_ptr<User>> peers;
  for (int i = 0; i < 20; ++i) {
    peers.push_back(std::make_unique<User>("peer" + std::to_string(i),
                                           900 + static_cast<std::uint64_t>(i), net));
    REQUIRE(peers.back()->messenger.maintain_keys());
    send_ok(*peers.back(), "bob", "hi");
    REQUIRE(drain(net, bob).size() == 1);
    // Each used prekey is gone for good; the directory never runs dry.
    CHECK(net.available_pre_keys(bob.address())->one_time >= o.pre_key_low_water);
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
  MessengerOptions o = hush::test::test_options();
  o.signed_pre_key_rotation_ms = 1000;
  o.signed_pre_key_grace_ms = 5000;
  User bob("bob", 806, net, o);
  User alice("alice", 807, net), carol("carol", 808, net);
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(carol.messenger.maintain_keys());
  // Alice fetches a bundle with signed prekey 1 and sends; the message waits on the server.
  send_ok(alice, "bob", "old spk");
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
  send_ok(carol, "bob", "new spk");
  CHECK(drain(net, bob) == std::vector<std::string>{"new spk"});
  auto r = bob.messenger.receive(in_flight);  // within the grace period
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(text((*r)->plaintext) == "old spk");
  // Past the grace period the replaced signed prekey is deleted, and a session started from a
  // bundle that still names it cannot be read. (Signed prekey 2, replaced only now by 3, stays
  // for its own grace period, however old it is.)
  bob.party.clock->set(bob.party.clock->now_ms() + 10000);
  REQUIRE(bob.messenger.maintain_keys());
  const auto spks = bob.party.store->signed_pre_key_ids();
  REQUIRE(spks);
  CHECK(*spks == std::vector<SignedPreKeyId>{SignedPreKeyId{2}, SignedPreKeyId{3}});
  User dave("dave", 809, net);
  REQUIRE(dave.messenger.maintain_keys());
  REQUIRE(process_prekey_bundle(*dave.party.ctx, *dave.party.store, bob.address(), *spk1_bundle));
  send_ok(dave, "bob", "too late");
  auto late = bob.messenger.receive(net.queue(bob.address()).front());
  REQUIRE_FALSE(late);
  CHECK(late.error().code() == Errc::kInvalidKeyId);
}

TEST_CASE("an identity change stops sending until approved", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 810, net), bob("bob", 811, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "before");
  REQUIRE(drain(net, bob).size() == 1);
  const IdentityKey old_key = bob.identity();

  // Bob reinstalls: a new identity, published with a new device list; he writes to alice first.
  User bob2("bob", 812, net);
  REQUIRE(bob2.messenger.maintain_keys());
  const IdentityKey new_key = bob2.identity();
  // bob2 has never seen alice: it trusts her on first use.
  send_ok(bob2, "alice", "new phone");
  const Bytes before = alice.party.snapshot();
  auto r = alice.messenger.receive(net.queue(alice.address()).front());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUntrustedIdentity);
  // The failed receive wrote nothing but the pending change (kept so a restart still sees it).
  CHECK(alice.party.snapshot() != before);
  CHECK(test::without_identity_changes(alice.party.snapshot()) ==
        test::without_identity_changes(before));
  CHECK(*Messenger::envelope_sender(net.queue(alice.address()).front()) == bob.address());
  auto change = alice.messenger.identity_change("bob");
  REQUIRE(change);
  CHECK(change->trusted == old_key);
  CHECK(change->offered == new_key);
  // Until the user approves, nothing goes to bob, not even through the old session.
  auto blocked = alice.messenger.send("bob", as_bytes("to the old phone?"));
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code() == Errc::kUntrustedIdentity);
  CHECK(net.queue(bob.address()).empty());
  // The user compares safety numbers with the new phone and approves: the new list is accepted
  // although its version is not higher than the old identity's.
  REQUIRE(alice.messenger.approve_identity("bob", new_key));
  CHECK_FALSE(alice.messenger.identity_change("bob"));
  auto now = alice.messenger.receive(net.queue(alice.address()).front());
  net.queue(alice.address()).pop_front();
  REQUIRE(now);
  REQUIRE(*now);
  CHECK(text((*now)->plaintext) == "new phone");
  send_ok(alice, "bob", "welcome back");
  CHECK(drain(net, bob2) == std::vector<std::string>{"welcome back"});
}

TEST_CASE("an identity change still pending after a restart is not forgotten",
          "[integration][messenger]") {
  const test::StoreKind kind = GENERATE(test::StoreKind::kInMemory, test::StoreKind::kSqlite);
  LoopbackNetwork net;
  User alice(Party::create("alice", 830, 0, kind), net);
  User bob("bob", 831, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "before");
  REQUIRE(drain(net, bob).size() == 1);
  const IdentityKey old_key = bob.identity();
  User bob2("bob", 832, net);  // bob reinstalls and writes first
  REQUIRE(bob2.messenger.maintain_keys());
  send_ok(bob2, "alice", "new phone");
  auto r = alice.messenger.receive(net.queue(alice.address()).front());
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kUntrustedIdentity);
  REQUIRE(alice.messenger.identity_change("bob"));

  // Alice's program restarts: a new Messenger over the store reopened from its file (or, in
  // memory, from its snapshot).
  alice.party.reopen();
  LoopbackNetwork::Port port(net);
  auto restarted =
      std::make_unique<Messenger>(*alice.party.ctx, *alice.party.store, port, net, alice.address());
  auto change = restarted->identity_change("bob");
  REQUIRE(change);
  CHECK(change->person == "bob");
  CHECK(change->device == bob2.address());
  REQUIRE(change->trusted);
  CHECK(*change->trusted == old_key);
  CHECK(change->offered == bob2.identity());
  CHECK_FALSE(restarted->identity_change("carol"));
  // Still nothing goes to bob, not even through the old session.
  auto blocked = restarted->send("bob", as_bytes("to the old phone?"));
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code() == Errc::kUntrustedIdentity);
  CHECK(net.queue(bob.address()).empty());
  // Approved after the restart: forgotten, also by the next restart.
  REQUIRE(restarted->approve_identity("bob", bob2.identity()));
  CHECK_FALSE(restarted->identity_change("bob"));
  restarted.reset();
  alice.party.reopen();
  Messenger again(*alice.party.ctx, *alice.party.store, port, net, alice.address());
  CHECK_FALSE(again.identity_change("bob"));
  auto now = again.receive(net.queue(alice.address()).front());
  REQUIRE(now);
  REQUIRE(*now);
  CHECK(text((*now)->plaintext) == "new phone");
}

TEST_CASE("an identity change trusted by other means is no longer pending",
          "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 833, net), bob("bob", 834, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "before");
  REQUIRE(drain(net, bob).size() == 1);
  User bob2("bob", 835, net);
  REQUIRE(bob2.messenger.maintain_keys());
  send_ok(bob2, "alice", "new phone");
  REQUIRE_FALSE(alice.messenger.receive(net.queue(alice.address()).front()));
  REQUIRE(alice.messenger.identity_change("bob"));
  // The application trusts the new key through the store directly (trust_identity).
  REQUIRE(trust_identity(*alice.party.store, "bob", bob2.identity()));
  CHECK_FALSE(alice.messenger.identity_change("bob"));
}

TEST_CASE("a directory in the middle is caught", "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 813, net), bob("bob", 814, net), carol("carol", 815, net);
  auto mallory = Party::create("bob", 816, 1);  // the directory's own keys, under bob's name
  for (User* u : {&alice, &bob, &carol})
    REQUIRE(u->messenger.maintain_keys());
  // Alice knows bob's identity (she verified it earlier) but has no session right now.
  REQUIRE(alice.party.store->save_identity("bob", bob.identity()));
  net.substitute = [&](const Address& a) -> std::optional<PreKeyBundle> {
    if (a == bob.address()) return mallory.bundle();
    return std::nullopt;
  };
  // A known peer: the bundle is refused, and nothing is sent; the message waits for the change
  // to be resolved.
  test::send_queued(alice, "bob", "for bob only", Errc::kUntrustedIdentity);
  CHECK(net.queue(bob.address()).empty());
  auto change = alice.messenger.identity_change("bob");
  REQUIRE(change);
  CHECK(change->offered == mallory.store->identity_key_pair()->public_key);
  CHECK(alice.messenger.send("bob", as_bytes("again")).error().code() == Errc::kUntrustedIdentity);
  // A list of the directory's own, signed by its key under bob's name: refused as well.
  DeviceList fake{
      "bob", mallory.store->identity_key_pair()->public_key, 9, {DeviceId{1}}, DeviceId{2}};
  auto fake_signed =
      SignedDeviceList::sign(*mallory.random, fake, *mallory.store->identity_key_pair());
  REQUIRE(fake_signed);
  net.substitute_list = [&](std::string_view name) -> std::optional<std::optional<Bytes>> {
    if (name == "bob") return std::optional<Bytes>(fake_signed->serialized());
    return std::nullopt;
  };
  User dave("dave", 823, net);
  REQUIRE(dave.messenger.maintain_keys());
  REQUIRE(dave.party.store->save_identity("bob", bob.identity()));
  const Bytes dave_before = dave.party.snapshot();
  CHECK(dave.messenger.send("bob", as_bytes("x")).error().code() == Errc::kUntrustedIdentity);
  CHECK(test::without_identity_changes(dave.party.snapshot()) ==
        test::without_identity_changes(dave_before));
  REQUIRE(dave.messenger.identity_change("bob"));
  CHECK(dave.messenger.identity_change("bob")->offered == fake.identity);
  // A new peer: trust on first use accepts the substitute, but the safety numbers differ.
  send_ok(carol, "bob", "hi bob");
  auto carol_view = carol.messenger.safety_number("bob");
  REQUIRE(carol_view);
  auto bob_view =
      make_fingerprint(kFingerprintIterations, "bob", bob.identity(), "carol", carol.identity());
  REQUIRE(bob_view);
  CHECK(carol_view->displayable != bob_view->displayable);
  CHECK_FALSE(*compare_scannable_fingerprints(carol_view->scannable, bob_view->scannable));
  // And the real bob cannot read what went to mallory's keys.
  net.substitute_list = nullptr;
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
  CHECK(bob.party.snapshot() == before);
  User alice("alice", 818, net);
  REQUIRE(bob.messenger.maintain_keys());
  REQUIRE(alice.messenger.maintain_keys());
  send_ok(alice, "bob", "x");
  const Bytes good = net.queue(bob.address()).front();
  for (std::size_t i = 0; i < good.size(); i += 3) {
    Bytes bad = good;
    bad[i] ^= 0x21;
    auto r = bob.messenger.receive(bad);
    // Only a harmless field (the envelope id) may change and still decrypt.
    if (r && *r) CHECK(text((*r)->plaintext) == "x");
  }
}

TEST_CASE("a message written while the transport is down is sent later, never twice",
          "[integration][messenger][outbox]") {
  LoopbackNetwork net;
  User alice("alice", 819, net), bob("bob", 820, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "one");
  net.down = true;
  test::send_queued(alice, "bob", "two", Errc::kTransportFailure);  // kept: nothing written is lost
  auto still_down = alice.messenger.flush();
  REQUIRE(still_down);
  CHECK(still_down->sent == 0);
  CHECK(still_down->queued == 1);
  net.down = false;
  send_ok(alice, "bob", "three");
  // Survives a restart of the application.
  alice.party.reopen();
  Messenger restarted(*alice.party.ctx, *alice.party.store, alice.port, net, alice.address());
  auto flushed = restarted.flush();
  REQUIRE(flushed);
  CHECK(flushed->sent == 1);
  CHECK(flushed->queued == 0);
  auto again = restarted.flush();
  REQUIRE(again);
  CHECK(again->sent == 0);
  CHECK(drain(net, bob) == std::vector<std::string>{"one", "three", "two"});
}

TEST_CASE("receive stores the message atomically and reset_session starts over",
          "[integration][messenger]") {
  LoopbackNetwork net;
  User alice("alice", 821, net), bob("bob", 822, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  const SendResult sent = send_ok(alice, "bob", "keep");
  const Bytes envelope = net.queue(bob.address()).front();
  ReceiveOptions failing;
  failing.before_commit = [](const ReceivedMessage&) -> Status {
    return Error(Errc::kStoreFailure, "test: app storage full");
  };
  const Bytes before = bob.party.snapshot();
  REQUIRE_FALSE(bob.messenger.receive(envelope, failing));
  CHECK(bob.party.snapshot() == before);
  std::string seen;
  ReceiveOptions storing;
  storing.before_commit = [&](const ReceivedMessage& m) {
    CHECK(m.sender == alice.address());
    CHECK(m.message_id == sent.message_id);
    seen = text(m.plaintext);
    return ok_status();
  };
  REQUIRE(bob.messenger.receive(envelope, storing));
  CHECK(seen == "keep");
  net.queue(bob.address()).clear();
  // A reset archives the session; the next send sets up a new one from a fresh bundle.
  const auto prekeys_before = net.available_pre_keys(bob.address())->one_time;
  REQUIRE(alice.messenger.reset_session(bob.address()));
  CHECK_FALSE(session_info(*alice.party.store, bob.address())->exists);
  send_ok(alice, "bob", "again");
  CHECK(net.available_pre_keys(bob.address())->one_time == prekeys_before - 1);
  CHECK(drain(net, bob) == std::vector<std::string>{"again"});
  CHECK(session_info(*alice.party.store, bob.address())->previous_states >= 1);
}

TEST_CASE("the outbox is sealed at rest with the store's key", "[integration][messenger][outbox]") {
  LoopbackNetwork net;
  const Bytes key(32, 0x6b);
  User alice(Party::create("alice", 824, 0, hush::test::StoreKind::kSqlite, key), net);
  User bob("bob", 825, net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  send_ok(alice, "bob", "first");
  net.down = true;
  const std::string secret = "queued while the relay is down: the vault code is 7431";
  auto r = alice.messenger.send("bob", as_bytes(secret));
  REQUIRE(r);
  CHECK(r->deliveries[0].state == DeliveryState::kQueued);
  // Neither the database nor its WAL holds the queued (or the sent) plaintext.
  alice.party.reopen();
  for (const char* suffix : {"", "-wal"}) {
    const std::string bytes = hush::test::file_bytes(alice.party.db_path() + suffix);
    CHECK(bytes.find(secret) == std::string::npos);
    CHECK(bytes.find("first") == std::string::npos);
  }
  net.down = false;
  Messenger restarted(*alice.party.ctx, *alice.party.store, alice.port, net, alice.address());
  REQUIRE(restarted.flush());
  CHECK(drain(net, bob) == std::vector<std::string>{"first", secret});
}

TEST_CASE("a full outbox makes room in batches, and refuses only when all of it waits",
          "[integration][messenger][outbox][limits]") {
  LoopbackNetwork net;
  User alice(Party::create("alice", 826, 0, hush::test::StoreKind::kInMemory), net);
  User bob(Party::create("bob", 827, 0, hush::test::StoreKind::kInMemory), net);
  REQUIRE(alice.messenger.maintain_keys());
  REQUIRE(bob.messenger.maintain_keys());
  auto outbox_size = [&] {
    auto keys = alice.party.store->messenger_record_keys(MessengerRecordKind::kOutbox);
    REQUIRE(keys);
    return keys->size() - 1;  // and the meta record
  };
  for (std::size_t i = 0; i < kMaxOutboxMessages; ++i)
    send_ok(alice, "bob", "m");
  CHECK(outbox_size() == kMaxOutboxMessages);
  // The next send drops the oldest tenth (every device got them), not one.
  send_ok(alice, "bob", "one more");
  CHECK(outbox_size() == kMaxOutboxMessages - kMaxOutboxMessages / 10 + 1);
  net.queue(bob.address()).clear();
  // Messages the transport cannot take are never dropped: once the outbox holds only those, a new
  // one is refused.
  net.down = true;
  std::size_t kept = 0;
  for (;;) {
    auto r = alice.messenger.send("bob", as_bytes("waiting"));
    if (!r) {
      CHECK(r.error().code() == Errc::kLimitExceeded);
      break;
    }
    ++kept;
    REQUIRE(kept <= kMaxOutboxMessages);
  }
  CHECK(kept == kMaxOutboxMessages);
  CHECK(outbox_size() == kMaxOutboxMessages);
  net.down = false;
  auto flushed = alice.messenger.flush();
  REQUIRE(flushed);
  CHECK(flushed->sent == kMaxOutboxMessages);
}

TEST_CASE("seen message ids are forgotten in batches beyond the limit",
          "[integration][messenger][limits]") {
  InMemoryProtocolStore store(*generate_identity_key_pair(system_random()), 7);
  internal::SeenMessages seen(store);
  internal::MessageId id{};
  auto count = [&] {
    auto keys = store.messenger_record_keys(MessengerRecordKind::kSeenMessage);
    REQUIRE(keys);
    return keys->size() - 1;  // and the meta record
  };
  std::uint64_t t = 1'000'000;
  for (std::size_t i = 0; i <= kMaxSeenMessageIds; ++i) {
    std::memcpy(id.data(), &i, sizeof i);
    REQUIRE(seen.insert("alice", id, ++t));
  }
  CHECK(count() == kMaxSeenMessageIds - kMaxSeenMessageIds / 10);
  // The newest are kept, the oldest gone.
  CHECK(*seen.contains("alice", id));
  std::size_t first = 0;
  std::memcpy(id.data(), &first, sizeof first);
  CHECK_FALSE(*seen.contains("alice", id));
}

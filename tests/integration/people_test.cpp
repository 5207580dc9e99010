// hush integration tests: three people with 1, 2 and 32 devices talk through an in-process relay
// that loses (refuses) envelopes, duplicates and reorders them; mid-way a device is linked, one is
// removed, and the one-device person reinstalls. Every message must reach every device that was
// current when it was sent exactly once (a copy on the sender's other devices included), within the
// healing window, and nothing may be shown twice anywhere.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "support/loopback.h"
#include "support/messenger_user.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::link_new_device;
using hush::test::LoopbackNetwork;
using hush::test::text;
using hush::test::User;

namespace {

class World {
 public:
  explicit World(std::uint32_t seed) : rng_(seed) {}

  LoopbackNetwork net;

  User& add(std::unique_ptr<User> u) {
    User& ref = *u;
    devices_[u->address()] = std::move(u);
    return ref;
  }
  User& device(const Address& a) { return *devices_.at(a); }
  std::vector<Address> devices_of(const std::string& person) const {
    std::vector<Address> out;
    for (const auto& [a, u] : devices_)
      if (a.name == person) out.push_back(a);
    return out;
  }
  // A device leaves (unlinked or wiped): nothing more is expected at its address, unless
  // `keep_expectations` (a reinstall at the same address must still get what was sent to it).
  std::unique_ptr<User> remove(const Address& a, bool keep_expectations) {
    auto u = std::move(devices_.at(a));
    devices_.erase(a);
    if (!keep_expectations)
      for (auto& [id, where] : expected_)
        where.erase(a);
    return u;
  }

  // Every device learns the device lists of the other people.
  void learn_lists(const std::vector<std::string>& people) {
    for (auto& [a, u] : devices_)
      for (const std::string& p : people)
        if (p != a.name) REQUIRE(u->messenger.devices(p));
  }

  // Sends from `from` to `person`, approving an identity change as the user would.
  void send(User& from, const std::string& person, const std::string& message) {
    auto r = from.messenger.send(person, as_bytes(message));
    if (!r && r.error().code() == Errc::kUntrustedIdentity) {
      approve(from, person);
      r = from.messenger.send(person, as_bytes(message));
    }
    INFO(from.name() << " -> " << person << ": " << message << ": "
                     << (r ? "" : r.error().where()));
    REQUIRE(r);
    ++sent_;
    for (const DeviceDelivery& d : r->deliveries) {
      INFO("delivery to " << d.device.name << "." << to_uint(d.device.device_id));
      REQUIRE((d.state == DeliveryState::kSent || d.state == DeliveryState::kQueued));
      expected_[r->message_id].insert(d.device);
    }
  }

  // Delivers one envelope: from a random queue, at a random position (reordering); sometimes
  // a copy stays behind (duplication).
  bool deliver_one() {
    std::vector<Address> busy;
    for (const auto& [a, u] : devices_)
      if (!net.queue(a).empty()) busy.push_back(a);
    if (busy.empty()) return false;
    const Address a = busy[pick(busy.size())];
    auto& q = net.queue(a);
    const std::size_t i = pick(q.size());
    Bytes e = q[i];
    if (pick(10) == 0)
      ++duplicated_;
    else
      q.erase(q.begin() + static_cast<std::ptrdiff_t>(i));
    receive(device(a), e);
    return true;
  }

  // Everything queued, delivered (in random order), and every device flushed, until nothing
  // moves; the clocks advance by a retry interval each round so waiting requests go out.
  void quiesce() {
    for (int round = 0; round < 20; ++round) {
      const int before = net.sends;
      while (deliver_one()) {
      }
      for (auto& [a, u] : devices_) {
        u->party.clock->set(u->party.clock->now_ms() + kRetryRequestIntervalMs);
        REQUIRE(u->messenger.flush());
      }
      while (deliver_one()) {
      }
      if (net.sends == before) return;
    }
    FAIL("the network never went quiet: a retry loop?");
  }

  // Every message was shown exactly once on every device it was for, and nothing else was shown.
  void check() {
    for (const auto& [id, where] : expected_)
      for (const Address& a : where) {
        INFO("message " << hex(id) << " at " << a.name << "." << to_uint(a.device_id));
        CHECK(shown_[{id, a}] == 1);
      }
    for (const auto& [key, count] : shown_) {
      INFO("message " << hex(key.first) << " at " << key.second.name << "."
                      << to_uint(key.second.device_id));
      CHECK(count == 1);
      CHECK(expected_.count(key.first) == 1);
    }
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  int sent() const { return sent_; }
  int duplicated() const { return duplicated_; }
  const std::map<Errc, int>& failures() const { return failures_; }

 private:
  static std::string hex(const Bytes& b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t x : b) {
      s.push_back(kHex[x >> 4]);
      s.push_back(kHex[x & 15]);
    }
    return s;
  }

  void approve(User& u, const std::string& person) {
    auto change = u.messenger.identity_change(person);
    REQUIRE(change);
    REQUIRE(u.messenger.approve_identity(person, change->offered));
  }

  void receive(User& u, const Bytes& e) {
    auto r = u.messenger.receive(e);
    if (!r && r.error().code() == Errc::kUntrustedIdentity) {
      approve(u, Messenger::envelope_sender(e)->name);
      r = u.messenger.receive(e);
    }
    if (!r) {
      ++failures_[r.error().code()];
      return;
    }
    if (!*r) return;
    const ReceivedMessage& m = **r;
    ++shown_[{m.message_id, u.address()}];
    // Shown where it belongs: the conversation is the other person.
    CHECK(m.conversation != u.name());
  }

  std::mt19937 rng_;
  std::map<Address, std::unique_ptr<User>> devices_;
  std::map<Bytes, std::set<Address>> expected_;
  std::map<std::pair<Bytes, Address>, int> shown_;
  std::map<Errc, int> failures_;
  int sent_ = 0;
  int duplicated_ = 0;
};

// `n` random messages between random people from random devices, with deliveries in between and
// now and then a relay that refuses everything for one send (the message waits in the outbox).
void chatter(World& w, int n, const std::vector<std::string>& people) {
  for (int i = 0; i < n; ++i) {
    const std::string from = people[w.pick(people.size())];
    std::string to = people[w.pick(people.size())];
    while (to == from)
      to = people[w.pick(people.size())];
    const auto devices = w.devices_of(from);
    User& sender = w.device(devices[w.pick(devices.size())]);
    const bool down = w.pick(8) == 0;
    w.net.down = down;
    w.send(sender, to, from + " to " + to + " #" + std::to_string(i));
    w.net.down = false;
    if (down || w.pick(5) == 0) REQUIRE(sender.messenger.flush());
    const std::size_t deliveries = w.pick(6);
    for (std::size_t k = 0; k < deliveries; ++k)
      w.deliver_one();
  }
}

}  // namespace

TEST_CASE("three people with 1 and 2 and 32 devices: every message reaches every device once",
          "[integration][devices][healing][people]") {
  World w(20261206);
  MessengerOptions o = hush::test::test_options();
  o.pre_key_batch = 40;
  o.pre_key_low_water = 10;
  User& amy = w.add(std::make_unique<User>("amy", 1301, w.net, o));
  User& ben = w.add(std::make_unique<User>("ben", 1302, w.net, o));
  User& cat = w.add(std::make_unique<User>("cat", 1303, w.net, o));
  for (User* u : {&amy, &ben, &cat})
    REQUIRE(u->messenger.maintain_keys());
  w.add(link_new_device(ben, 1310, w.net, o));
  for (std::uint64_t i = 1; i < kMaxDevicesPerPerson; ++i)
    w.add(link_new_device(cat, 1400 + i, w.net, o, test::StoreKind::kInMemory));
  const std::vector<std::string> people{"amy", "ben", "cat"};
  REQUIRE(w.devices_of("cat").size() == kMaxDevicesPerPerson);
  // They know each other (a first contact needs the directory: without a list seen, a send while
  // it is down fails as a whole).
  w.learn_lists(people);

  chatter(w, 30, people);
  // Mid-way: ben links a third device, and cat removes one.
  w.quiesce();
  User& ben3 = w.add(link_new_device(ben, 1320, w.net, o));
  REQUIRE(ben3.messenger.devices("amy"));
  REQUIRE(ben3.messenger.devices("cat"));
  REQUIRE(cat.messenger.unlink_device(DeviceId{17}));
  auto removed = w.remove(Address{"cat", DeviceId{17}}, false);
  chatter(w, 30, people);

  // Amy's only device is wiped. While she sets up again, ben and cat write to her; then her new
  // device comes up under a new identity.
  w.quiesce();
  {
    auto gone = w.remove(Address{"amy", DeviceId{1}}, true);
    w.send(ben, "amy", "while amy was away 1");
    w.send(w.device(Address{"cat", DeviceId{5}}), "amy", "while amy was away 2");
    w.send(w.device(Address{"ben", DeviceId{2}}), "amy", "while amy was away 3");
  }
  User& amy2 = w.add(std::make_unique<User>("amy", 1304, w.net, o));
  REQUIRE(amy2.messenger.maintain_keys());
  REQUIRE(amy2.messenger.devices("ben"));
  REQUIRE(amy2.messenger.devices("cat"));
  chatter(w, 30, people);

  w.quiesce();
  w.check();
  INFO("sent " << w.sent() << ", duplicated " << w.duplicated());
  for (const auto& [code, n] : w.failures())
    INFO(to_string(code) << ": " << n);
  CHECK(w.sent() >= 93);
  CHECK(w.duplicated() > 0);
  // Healing happened: the new device could not read what was sent while it was away.
  CHECK(w.failures().count(Errc::kNoSession) + w.failures().count(Errc::kInvalidMessage) > 0);
}

// The chat relay's call switch (examples/chat/sfu.h): who may join a call's forwarding, where a
// datagram goes, and what is dropped.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "sfu.h"

using namespace hush_chat;

namespace {

CallKey call_of(std::uint8_t b) {
  CallKey k{};
  k.fill(b);
  return k;
}

std::vector<std::uint8_t> join(const CallKey& call, const std::array<std::uint8_t, 32>& token) {
  std::vector<std::uint8_t> d{'J'};
  d.insert(d.end(), call.begin(), call.end());
  d.insert(d.end(), token.begin(), token.end());
  return d;
}

std::vector<std::uint8_t> media(const CallKey& call, std::size_t size = 100) {
  std::vector<std::uint8_t> d(size, 0x42);
  d[0] = 'M';
  std::copy(call.begin(), call.end(), d.begin() + 1);
  return d;
}

SwitchVerdict feed(CallSwitch& sw, const Endpoint& from, const std::vector<std::uint8_t>& d,
                   std::vector<Endpoint>& out) {
  return sw.on_datagram(from, d.data(), d.size(), out);
}

const Endpoint kA{0x7f000001, 4000}, kB{0x7f000001, 4001}, kC{0x7f000001, 4002},
    kEve{0x7f000001, 4666};

}  // namespace

TEST_CASE("call switch: media go to the other joined members only", "[chat][sfu]") {
  CallSwitch sw;
  const CallKey call = call_of(1);
  auto ta = sw.grant("alice/1", call), tb = sw.grant("bob/2", call), tc = sw.grant("carol/1", call);
  REQUIRE(ta);
  REQUIRE(tb);
  REQUIRE(tc);
  CHECK(*ta != *tb);
  std::vector<Endpoint> out;
  CHECK(feed(sw, kA, join(call, *ta), out) == SwitchVerdict::kJoined);
  // Before anyone else joined: forwarded to nobody.
  CHECK(feed(sw, kA, media(call), out) == SwitchVerdict::kForwarded);
  CHECK(out.empty());
  CHECK(feed(sw, kB, join(call, *tb), out) == SwitchVerdict::kJoined);
  CHECK(feed(sw, kC, join(call, *tc), out) == SwitchVerdict::kJoined);
  CHECK(feed(sw, kA, media(call), out) == SwitchVerdict::kForwarded);
  CHECK(out == std::vector<Endpoint>{kB, kC});
  CHECK(feed(sw, kC, media(call, kMaxDatagramBytes), out) == SwitchVerdict::kForwarded);
  CHECK(out == std::vector<Endpoint>{kA, kB});
  // A member who leaves (its connection closed) gets nothing more.
  sw.leave("bob/2");
  CHECK(feed(sw, kA, media(call), out) == SwitchVerdict::kForwarded);
  CHECK(out == std::vector<Endpoint>{kC});
  CHECK(feed(sw, kB, media(call), out) == SwitchVerdict::kDropped);
}

TEST_CASE("call switch: strangers and malformed datagrams are dropped", "[chat][sfu]") {
  CallSwitch sw;
  const CallKey call = call_of(1), other = call_of(2);
  auto ta = sw.grant("alice/1", call), tb = sw.grant("bob/1", call);
  auto tx = sw.grant("mallory/1", other);
  REQUIRE(ta);
  REQUIRE(tb);
  REQUIRE(tx);
  std::vector<Endpoint> out;
  REQUIRE(feed(sw, kA, join(call, *ta), out) == SwitchVerdict::kJoined);
  REQUIRE(feed(sw, kB, join(call, *tb), out) == SwitchVerdict::kJoined);
  // No token, a wrong token, another call's token: no join.
  auto forged = *ta;
  forged[31] ^= 1;
  CHECK(feed(sw, kEve, join(call, forged), out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kEve, join(call, *tx), out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kEve, join(call_of(9), *ta), out) == SwitchVerdict::kDropped);
  // An endpoint that did not join cannot inject media.
  CHECK(feed(sw, kEve, media(call), out) == SwitchVerdict::kDropped);
  CHECK(out.empty());
  // A member of another call cannot send into this one.
  REQUIRE(feed(sw, kEve, join(other, *tx), out) == SwitchVerdict::kJoined);
  CHECK(feed(sw, kEve, media(call), out) == SwitchVerdict::kDropped);
  // Too long, too short, an unknown type.
  CHECK(feed(sw, kA, media(call, kMaxDatagramBytes + 1), out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kA, std::vector<std::uint8_t>{'M', 1, 1}, out) == SwitchVerdict::kDropped);
  auto x = media(call);
  x[0] = 'X';
  CHECK(feed(sw, kA, x, out) == SwitchVerdict::kDropped);
  // A join of the wrong length.
  auto j = join(call, *ta);
  j.push_back(0);
  CHECK(feed(sw, kC, j, out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kA, std::vector<std::uint8_t>{}, out) == SwitchVerdict::kDropped);
}

TEST_CASE("call switch: one call per account and bounded members", "[chat][sfu]") {
  CallSwitch sw;
  const CallKey call = call_of(1);
  for (std::size_t i = 0; i < kMaxCallMembers; ++i)
    REQUIRE(sw.grant("u" + std::to_string(i), call));
  CHECK_FALSE(sw.grant("late", call));
  // A new grant moves the account to its new call (and the old token no longer joins).
  auto t1 = sw.grant("alice/1", call_of(3));
  REQUIRE(t1);
  auto t2 = sw.grant("alice/1", call_of(4));
  REQUIRE(t2);
  std::vector<Endpoint> out;
  CHECK(feed(sw, kA, join(call_of(3), *t1), out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kA, join(call_of(4), *t2), out) == SwitchVerdict::kJoined);
  CHECK(sw.calls() == 2);  // call 1 and call 4; call 3 was forgotten with its last member
  // Re-joining from a new endpoint (a NAT rebinding) moves the binding.
  CHECK(feed(sw, kB, join(call_of(4), *t2), out) == SwitchVerdict::kJoined);
  CHECK(feed(sw, kA, media(call_of(4)), out) == SwitchVerdict::kDropped);
  CHECK(feed(sw, kB, media(call_of(4)), out) == SwitchVerdict::kForwarded);
}

// SPQR v1 end to end (src/pq/spqr.h): an initiator and a responder, both hush, exchanging
// messages in strict ping-pong, bursts, one way, with loss, reordering and duplicates; epochs must
// advance on both sides and every key must match. Then hostile input: malformed payloads and
// states are refused with a typed error, and the old state keeps working (rule 1).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/limits.h>
#include <hush/secret.h>

#include "pq/spqr.h"
#include "pq/spqr_codec.h"
#include "pq/spqr_erasure.h"
#include "support/test_support.h"

namespace {

using namespace hush;
using namespace hush::pq;

// A serialized state as plain bytes, to compare states in the tests (the library keeps them as
// SecretBytes, wiped when freed).
Bytes bytes_of(const SecretBytes& s) {
  return Bytes(s.expose().begin(), s.expose().end());
}

struct Sent {
  Bytes message;
  Bytes key;  // the sender's key, to compare
};

struct Side {
  Bytes state;
  test::SeededRandom random;
  std::size_t received = 0;

  Side(SpqrRole role, std::uint64_t seed, bool self = false) : random(seed) {
    SecretArray<32> s;
    for (std::size_t i = 0; i < 32; ++i)
      s.expose_mut()[i] = static_cast<std::uint8_t>(i * 7 + 1);
    auto st = spqr_initial_state(s, role, self);
    REQUIRE(st);
    state = bytes_of(*st);
  }
  Sent send() {
    auto r = spqr_send(state, random);
    REQUIRE(r);
    state = bytes_of(r->state);
    const auto k = r->key.expose();
    return Sent{std::move(r->message), Bytes(k.begin(), k.end())};
  }
  // Receives and checks the key; returns the error code or 0.
  int recv(const Sent& m) {
    auto r = spqr_recv(state, m.message);
    if (!r) {
      UNSCOPED_INFO("spqr_recv: " << r.error().where());
      return static_cast<int>(r.error().code());
    }
    const auto k = r->key.expose();
    REQUIRE(Bytes(k.begin(), k.end()) == m.key);
    state = bytes_of(r->state);
    ++received;
    return 0;
  }
  std::uint64_t epoch() const {
    auto e = spqr_epoch(state);
    REQUIRE(e);
    return *e;
  }
};

SpqrMessage decode(const Bytes& b) {
  auto m = spqr_decode_message(b);
  REQUIRE(m);
  return *m;
}

// Runs a conversation until `stop` or `limit` messages: `a_sends` decides who speaks next.
void converse(Side& a, Side& b, std::size_t limit, const std::function<bool(std::size_t)>& a_sends,
              const std::function<bool()>& stop) {
  for (std::size_t i = 0; i < limit && !stop(); ++i) {
    if (a_sends(i))
      REQUIRE(b.recv(a.send()) == 0);
    else
      REQUIRE(a.recv(b.send()) == 0);
  }
}

}  // namespace

TEST_CASE("spqr session: strict ping-pong completes epochs on both sides", "[spqr]") {
  Side a(SpqrRole::kInitiator, 1), b(SpqrRole::kResponder, 2);
  CHECK(a.epoch() == 1);
  CHECK(b.epoch() == 1);
  std::size_t n = 0;
  converse(
      a, b, 3000, [](std::size_t i) { return i % 2 == 0; },
      [&] { return ++n, a.epoch() >= 11 && b.epoch() >= 11; });
  CHECK(a.epoch() >= 11);
  CHECK(b.epoch() >= 11);
  // About 86 messages per epoch (signal-v4-wire.md §4.5): ten epochs take well under 1500.
  CHECK(n < 1500);
}

TEST_CASE("spqr session: bursts from both sides", "[spqr]") {
  Side a(SpqrRole::kInitiator, 3), b(SpqrRole::kResponder, 4);
  std::mt19937 rng(5);
  std::size_t rounds = 0;
  while ((a.epoch() < 11 || b.epoch() < 11) && rounds++ < 1000) {
    const int na = static_cast<int>(rng() % 6), nb = static_cast<int>(rng() % 6);
    for (int i = 0; i < na; ++i)
      REQUIRE(b.recv(a.send()) == 0);
    for (int i = 0; i < nb; ++i)
      REQUIRE(a.recv(b.send()) == 0);
  }
  CHECK(a.epoch() >= 11);
  CHECK(b.epoch() >= 11);
}

TEST_CASE("spqr session: one-way traffic keeps epoch 1 and every key matches", "[spqr]") {
  for (const bool from_initiator : {true, false}) {
    Side a(SpqrRole::kInitiator, 6), b(SpqrRole::kResponder, 7);
    Side& s = from_initiator ? a : b;
    Side& r = from_initiator ? b : a;
    for (int i = 0; i < 150; ++i)
      REQUIRE(r.recv(s.send()) == 0);
    CHECK(a.epoch() == 1);
    CHECK(b.epoch() == 1);
    // Then the other side answers once and the braid starts moving.
    std::size_t n = 0;
    converse(
        a, b, 2000, [](std::size_t i) { return i % 2 == 0; },
        [&] { return ++n, a.epoch() >= 3 && b.epoch() >= 3; });
    CHECK(a.epoch() >= 3);
  }
}

TEST_CASE("spqr session: 20 percent loss with reordering and duplicates both ways", "[spqr]") {
  Side a(SpqrRole::kInitiator, 8), b(SpqrRole::kResponder, 9);
  std::mt19937 rng(10);
  std::deque<Sent> to_b, to_a;  // in flight
  std::vector<Sent> delivered_b, delivered_a;
  std::size_t dups = 0, steps = 0;
  std::size_t stale = 0, delivered = 0;
  // A message from an epoch the receiver's chain has dropped (it keeps kSpqrEpochsKept: the
  // receiver has moved on past the sender's epoch, which the reordering allows now and then) fails
  // with kInvalidMessage, as in libsignal; anything else must be delivered with the sender's key.
  auto stale_for = [](const Sent& m, const Side& r) { return decode(m.message).epoch < r.epoch(); };
  auto deliver = [&](std::deque<Sent>& q, Side& r, std::vector<Sent>& done) {
    if (q.empty()) return;
    // Reordering: any of the first four in flight.
    const std::size_t at = rng() % std::min<std::size_t>(q.size(), 4);
    Sent m = q[at];
    q.erase(q.begin() + static_cast<std::ptrdiff_t>(at));
    const Bytes before = r.state;
    const int got = r.recv(m);
    ++delivered;
    if (got != 0) {
      REQUIRE(got == static_cast<int>(Errc::kInvalidMessage));
      REQUIRE(stale_for(m, r));
      REQUIRE(r.state == before);
      ++stale;
      return;
    }
    done.push_back(m);
    // Now and then a duplicate of something delivered lately: refused, state unchanged.
    if (rng() % 10 == 0) {
      const std::size_t recent = std::min<std::size_t>(done.size(), 20);
      const Sent& d = done[done.size() - 1 - rng() % recent];
      const Bytes now = r.state;
      const int dup = r.recv(d);
      if (stale_for(d, r) && dup == static_cast<int>(Errc::kInvalidMessage)) {
        ++stale;
      } else {
        CHECK(dup == static_cast<int>(Errc::kDuplicateMessage));
        ++dups;
      }
      CHECK(r.state == now);
    }
  };
  while ((a.epoch() < 11 || b.epoch() < 11) && steps++ < 6000) {
    // At most six messages in flight each way: a message held back for a whole epoch or more
    // finds its chain epoch dropped (kInvalidMessage, as in libsignal; see the chain test).
    unsigned roll = rng() % 4;
    if (roll == 0 && to_b.size() >= 6) roll = 2;
    if (roll == 1 && to_a.size() >= 6) roll = 3;
    if (roll == 0) {
      Sent m = a.send();
      if (rng() % 5 != 0) to_b.push_back(std::move(m));  // 20 % lost
    } else if (roll == 1) {
      Sent m = b.send();
      if (rng() % 5 != 0) to_a.push_back(std::move(m));
    } else if (roll == 2) {
      deliver(to_b, b, delivered_b);
    } else {
      deliver(to_a, a, delivered_a);
    }
  }
  CHECK(a.epoch() >= 11);
  CHECK(b.epoch() >= 11);
  CHECK(dups > 10);
  // Dropped epochs are rare: a few messages in a thousand.
  CHECK(stale * 50 < delivered);
}

TEST_CASE("spqr session: note-to-self sessions take any jump", "[spqr]") {
  Side self(SpqrRole::kInitiator, 11, true), normal(SpqrRole::kInitiator, 11);
  Side peer(SpqrRole::kResponder, 12);
  // A message far ahead of the chain (its index rewritten: the key is not checked here, only the
  // limit; the chain test checks keys after a jump).
  SpqrMessage far = decode(peer.send().message);
  far.index = kSpqrMaxJump + 1;  // from counter 0: one beyond the limit
  CHECK(spqr_recv(self.state, spqr_encode_message(far)));
  CHECK(spqr_recv(normal.state, spqr_encode_message(far)).error().code() == Errc::kTooFarInFuture);
  far.index = kSpqrMaxJump;
  CHECK(spqr_recv(normal.state, spqr_encode_message(far)));
}

namespace {

// Plays ping-pong until `want(message, receiver)` picks a message the receiver is about to get;
// returns it undelivered, with the sides as they are.
Sent play_until(Side& a, Side& b, bool from_a, const std::function<bool(const SpqrMessage&)>& want,
                std::size_t limit = 2000) {
  for (std::size_t i = 0; i < limit; ++i) {
    const bool a_turn = i % 2 == 0;
    Side& s = a_turn ? a : b;
    Side& r = a_turn ? b : a;
    Sent m = s.send();
    if (a_turn == from_a && want(decode(m.message))) return m;
    REQUIRE(r.recv(m) == 0);
  }
  FAIL("message not found");
  return {};
}

// Checks that `bad` is refused with `code` and that the receiver's state still works: it accepts
// `good` afterwards (the caller kept the old bytes).
void refused(Side& r, const Bytes& bad, Errc code, const Sent& good) {
  const Bytes before = r.state;
  auto res = spqr_recv(r.state, bad);
  REQUIRE_FALSE(res);
  CHECK(res.error().code() == code);
  CHECK(r.state == before);
  CHECK(r.recv(good) == 0);
}

Bytes with_chunk_byte_flipped(const Sent& m) {
  SpqrMessage x = decode(m.message);
  x.chunk.data[3] ^= 0x40;
  return spqr_encode_message(x);
}

}  // namespace

TEST_CASE("spqr session: malformed payloads are refused and change nothing", "[spqr]") {
  Side a(SpqrRole::kInitiator, 13), b(SpqrRole::kResponder, 14);
  Sent m = a.send();
  const Bytes& w = m.message;
  // Wrong version, v0, truncation, an epoch too high, a chunk index out of range.
  Bytes v2 = w;
  v2[0] = 2;
  refused(b, v2, Errc::kInvalidMessage, m);
  m = a.send();
  refused(b, {}, Errc::kInvalidMessage, m);
  m = a.send();
  for (std::size_t n = 1; n < m.message.size(); ++n) {
    const Bytes before = b.state;
    CHECK(spqr_recv(b.state, ByteView(m.message).first(n)).error().code() == Errc::kInvalidMessage);
    CHECK(b.state == before);
  }
  CHECK(b.recv(m) == 0);
  m = a.send();
  SpqrMessage high = decode(m.message);
  high.epoch = 3;
  refused(b, spqr_encode_message(high), Errc::kInvalidMessage, m);
  m = a.send();
  Bytes far = {1, 1, 1, 1, 0x80, 0x80, 0x04};  // chunk index 65536
  far.resize(far.size() + 32);
  refused(b, far, Errc::kInvalidMessage, m);
  m = a.send();
  SpqrMessage dup_index = decode(m.message);
  dup_index.index = 1;  // key 1 already taken
  refused(b, spqr_encode_message(dup_index), Errc::kDuplicateMessage, m);
  m = a.send();
  SpqrMessage jump = decode(m.message);
  jump.index = jump.index + kSpqrMaxJump + 1;
  refused(b, spqr_encode_message(jump), Errc::kTooFarInFuture, m);
}

TEST_CASE("spqr session: a bad header MAC is refused and the genuine chunk still works", "[spqr]") {
  Side a(SpqrRole::kInitiator, 15), b(SpqrRole::kResponder, 16);
  // The responder has two header chunks; the third completes the header.
  Sent m1 = a.send(), m2 = a.send();
  REQUIRE(b.recv(m1) == 0);
  REQUIRE(b.recv(m2) == 0);
  Sent m3 = a.send();
  REQUIRE(decode(m3.message).type == SpqrMessageType::kHdr);
  refused(b, with_chunk_byte_flipped(m3), Errc::kInvalidMessage, m3);
  // The header is in: the responder encapsulates on its next send.
  CHECK(decode(b.send().message).type == SpqrMessageType::kCt1);
}

TEST_CASE("spqr session: a bad ciphertext MAC is refused and the genuine chunk still works",
          "[spqr]") {
  Side a(SpqrRole::kInitiator, 17), b(SpqrRole::kResponder, 18);
  // The last Ct2 chunk the initiator needs: play until it has four of the five.
  std::size_t ct2_seen = 0;
  Sent last = play_until(b, a, true, [&](const SpqrMessage& x) {
    return x.type == SpqrMessageType::kCt2 && ++ct2_seen == 5;
  });
  refused(a, with_chunk_byte_flipped(last), Errc::kInvalidMessage, last);
  CHECK(a.epoch() == 2);
  CHECK(b.epoch() == 1);
}

TEST_CASE("spqr session: an ML-KEM vector that does not match its header is refused", "[spqr]") {
  Side a(SpqrRole::kInitiator, 19), b(SpqrRole::kResponder, 20);
  // The responder completes t-hat with its 36th Ek or EkCt1Ack chunk.
  std::size_t ek_seen = 0;
  Sent last = play_until(a, b, true, [&](const SpqrMessage& x) {
    return (x.type == SpqrMessageType::kEk || x.type == SpqrMessageType::kEkCt1Ack) &&
           ++ek_seen == 36;
  });
  refused(b, with_chunk_byte_flipped(last), Errc::kInvalidMessage, last);
}

TEST_CASE("spqr state: hostile records are refused with corrupt_state", "[spqr]") {
  Side a(SpqrRole::kInitiator, 21), b(SpqrRole::kResponder, 22);
  std::vector<Bytes> states;
  // States from every braid state on both sides.
  for (int i = 0; i < 200; ++i) {
    if (i % 2 == 0)
      REQUIRE(b.recv(a.send()) == 0);
    else
      REQUIRE(a.recv(b.send()) == 0);
    if (i % 7 == 0) {
      states.push_back(a.state);
      states.push_back(b.state);
    }
  }
  std::mt19937 rng(23);
  for (const Bytes& st : states) {
    REQUIRE(spqr_epoch(st));
    // Every truncation and one trailing byte.
    for (std::size_t n = 0; n < st.size(); n += 1 + n / 64)
      REQUIRE(spqr_epoch(ByteView(st).first(n)).error().code() == Errc::kCorruptState);
    Bytes longer = st;
    longer.push_back(0);
    CHECK(spqr_epoch(longer).error().code() == Errc::kCorruptState);
    // The header fields: format, direction, jump limit, braid state, epoch.
    for (std::size_t at : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{70},
                           std::size_t{71}, std::size_t{78}}) {
      Bytes bad = st;
      bad[at] ^= 0x01;
      auto r = spqr_epoch(bad);
      CHECK_FALSE(r);
      if (!r) CHECK(r.error().code() == Errc::kCorruptState);
    }
    // Random byte flips never crash (they may land in a key, which parses).
    for (int i = 0; i < 20; ++i) {
      Bytes bad = st;
      bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      auto r = spqr_recv(bad, Bytes{1, 1, 1, 0});
      if (!r)
        CHECK((r.error().code() == Errc::kCorruptState ||
               r.error().code() == Errc::kInvalidMessage ||
               r.error().code() == Errc::kDuplicateMessage ||
               r.error().code() == Errc::kTooFarInFuture));
    }
  }
  CHECK(spqr_epoch(Bytes(kMaxSpqrStateBytes + 1, 1)).error().code() == Errc::kCorruptState);
  SecretArray<32> seed;
  CHECK(spqr_initial_state(seed, static_cast<SpqrRole>(3), false).error().code() ==
        Errc::kInvalidArgument);
}

TEST_CASE("spqr: serialized states are secrets and SPQR's chain steps come out of a budget",
          "[spqr]") {
  // Every serialized state holds all of SPQR's keys: wiped when freed (SecretBytes, written into
  // a buffer sized beforehand, so no reallocation leaves an unwiped copy).
  static_assert(std::is_same_v<decltype(SpqrSend::state), SecretBytes>);
  static_assert(std::is_same_v<decltype(SpqrRecv::state), SecretBytes>);
  static_assert(std::is_same_v<decltype(spqr_initial_state({}, SpqrRole::kInitiator, false)),
                               Result<SecretBytes>>);

  Side a(SpqrRole::kInitiator, 41);
  Side b(SpqrRole::kResponder, 42);
  REQUIRE(b.recv(a.send()) == 0);
  std::vector<Sent> held;
  for (int i = 0; i < 9; ++i)
    held.push_back(a.send());
  // The last key held (index 10) is 9 steps ahead of b's last one (index 1): a budget of 8
  // refuses it before deriving anything (invalid_message, the budget untouched, no state), one of
  // 9 takes it and is spent.
  std::uint64_t budget = 8;
  auto refused = spqr_recv(b.state, held.back().message, &budget);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::kInvalidMessage);
  CHECK(budget == 8);
  budget = 9;
  auto taken = spqr_recv(b.state, held.back().message, &budget);
  REQUIRE(taken);
  CHECK(budget == 0);
  CHECK(Bytes(taken->key.expose().begin(), taken->key.expose().end()) == held.back().key);
  // A key held back (behind the counter) costs no step.
  b.state = bytes_of(taken->state);
  budget = 0;
  auto late = spqr_recv(b.state, held.front().message, &budget);
  REQUIRE(late);
  CHECK(Bytes(late->key.expose().begin(), late->key.expose().end()) == held.front().key);
}

// hush interop tests for groups: sender keys in libsignal-protocol-c 2.3.3's format between hush
// (group.h, on the store test_support's Party picks) and libsignal-protocol-c (LscPeer), both
// directions: distribution, in-order and reordered delivery, duplicates, forged signatures, and
// the forward-jump limit both libraries share (2,000).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <hush/hush.h>

#include "group/sender_key_state.h"
#include "interop/lsc_peer.h"
#include "support/test_support.h"

namespace hush::interop {

namespace {

constexpr int kLscSenderKeyType = 4;              // SENDERKEY_TYPE
constexpr int kLscSenderKeyDistributionType = 5;  // SENDERKEY_DISTRIBUTION_TYPE
constexpr std::string_view kGroup = "interop group \xe2\x9c\x93";

Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

SenderKeyGroup group() {
  auto g = SenderKeyGroup::legacy(kGroup);
  REQUIRE(g);
  return *g;
}

std::string text(const SecretBytes& b) {
  return std::string(b.expose().begin(), b.expose().end());
}

// Moves `p`'s own chain in `g` on by `steps` iterations (messages nobody received).
void advance_own_chain(test::Party& p, const SenderKeyGroup& g, std::uint32_t steps) {
  auto loaded = p.store->load_sender_key(p.address, g);
  REQUIRE(loaded);
  REQUIRE(*loaded);
  SenderKeyRecord record = std::move(**loaded);
  auto& state = internal::SenderKeyRecordAccess::data(record).states.front();
  internal::crypto::Crypto c;
  for (std::uint32_t i = 0; i < steps; ++i)
    state.chain = state.chain.next(c.hmac);
  REQUIRE(p.store->run_transaction(
      [&] { return p.store->store_sender_key(p.address, g, std::move(record)); }));
}

// A message with alice's chain id and iteration, signed by mallory: she holds the chain (she is a
// member) but not alice's signing key.
Bytes forge(test::Party& mallory, const SenderKeyGroup& g, const Address& alice,
            ByteView chain_key_holder_skdm) {
  auto skdm = SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, chain_key_holder_skdm);
  REQUIRE(skdm);
  REQUIRE(process_sender_key_distribution(*mallory.store, alice, g, *skdm));
  auto loaded = mallory.store->load_sender_key(alice, g);
  REQUIRE(loaded);
  internal::SenderKeyState s =
      internal::SenderKeyRecordAccess::data(**loaded).states.front().clone();
  auto pair = KeyPair::generate(mallory.ctx->random);
  REQUIRE(pair);
  internal::set_own_signing_key(s, std::move(*pair));
  SenderKeyRecord own;
  internal::SenderKeyRecordAccess::data(own).states.push_back(std::move(s));
  REQUIRE(mallory.store->run_transaction(
      [&] { return mallory.store->store_sender_key(mallory.address, g, std::move(own)); }));
  auto m = group_encrypt(*mallory.ctx, *mallory.store, mallory.address, g, as_bytes("forged"));
  REQUIRE(m);
  return Bytes(m->serialized().begin(), m->serialized().end());
}

}  // namespace

TEST_CASE("groups: libsignal-protocol-c sends and hush receives", "[interop][group]") {
  const SenderKeyGroup g = group();
  LscPeer alice = LscPeer::create("alice", 1, 1, 0, 301);
  auto bob = test::Party::create("bob", 302);
  auto skdm = alice.group_create_distribution(kGroup);
  REQUIRE(skdm.rc == kSgSuccess);
  REQUIRE(skdm.type == kLscSenderKeyDistributionType);
  auto parsed = SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, skdm.serialized);
  REQUIRE(parsed);
  CHECK(parsed->iteration() == 0);
  REQUIRE(process_sender_key_distribution(*bob.store, alice.address(), g, *parsed));

  std::vector<Bytes> sent;
  for (int i = 0; i < 8; ++i) {
    auto c = alice.group_encrypt(kGroup, bytes_of("lsc " + std::to_string(i)));
    REQUIRE(c.rc == kSgSuccess);
    REQUIRE(c.type == kLscSenderKeyType);
    sent.push_back(c.serialized);
  }
  auto receive = [&](const Bytes& wire) -> Result<std::string> {
    auto m = SenderKeyMessage::parse(SenderKeyFormat::kLegacy, wire);
    if (!m) return m.error();
    CHECK(m->chain_id() == parsed->chain_id());
    auto p = group_decrypt(*bob.ctx, *bob.store, alice.address(), g, *m);
    if (!p) return p.error();
    return text(*p);
  };
  // Reordered: 6, 1, 0, 7, 3, 2, 5, 4.
  for (int i : {6, 1, 0, 7, 3, 2, 5, 4})
    CHECK(*receive(sent[static_cast<std::size_t>(i)]) == "lsc " + std::to_string(i));
  // Duplicates.
  const Bytes before = bob.snapshot();
  for (const Bytes& wire : sent)
    CHECK(receive(wire).error().code() == Errc::kDuplicateMessage);
  // A flipped signature bit, and a message signed by a member who is not alice.
  auto next = alice.group_encrypt(kGroup, bytes_of("after"));
  REQUIRE(next.rc == kSgSuccess);
  Bytes bad = next.serialized;
  bad[bad.size() - 10] ^= 0x04;
  CHECK(receive(bad).error().code() == Errc::kInvalidMessage);
  auto mallory = test::Party::create("mallory", 303);
  CHECK(receive(forge(mallory, g, alice.address(), skdm.serialized)).error().code() ==
        Errc::kInvalidMessage);
  CHECK(bob.snapshot() == before);
  CHECK(*receive(next.serialized) == "after");
  // libsignal-protocol-c's distribution message again (it resends it) never restarts the chain.
  REQUIRE(process_sender_key_distribution(*bob.store, alice.address(), g, *parsed));
  CHECK(receive(sent[0]).error().code() == Errc::kDuplicateMessage);
}

TEST_CASE("groups: hush sends and libsignal-protocol-c receives", "[interop][group]") {
  const SenderKeyGroup g = group();
  auto alice = test::Party::create("alice", 311);
  LscPeer bob = LscPeer::create("bob", 1, 1, 0, 312);
  auto skdm = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
  REQUIRE(skdm);
  REQUIRE(bob.group_process_distribution(kGroup, alice.address, skdm->serialized()) == kSgSuccess);
  std::vector<Bytes> sent;
  for (int i = 0; i < 8; ++i) {
    auto m = group_encrypt(*alice.ctx, *alice.store, alice.address, g,
                           as_bytes("hush " + std::to_string(i)));
    REQUIRE(m);
    sent.emplace_back(m->serialized().begin(), m->serialized().end());
  }
  for (int i : {3, 0, 7, 1, 2, 6, 4, 5}) {
    auto p = bob.group_decrypt(kGroup, alice.address, sent[static_cast<std::size_t>(i)]);
    REQUIRE(p.rc == kSgSuccess);
    CHECK(p.plaintext == bytes_of("hush " + std::to_string(i)));
  }
  for (const Bytes& wire : sent)
    CHECK(bob.group_decrypt(kGroup, alice.address, wire).rc == kSgErrDuplicateMessage);
  // Forged: a flipped bit in the signature, and a member's own signature on alice's chain.
  auto m = group_encrypt(*alice.ctx, *alice.store, alice.address, g, as_bytes("last"));
  REQUIRE(m);
  Bytes bad(m->serialized().begin(), m->serialized().end());
  bad[bad.size() - 1] ^= 0x01;
  CHECK(bob.group_decrypt(kGroup, alice.address, bad).rc == kSgErrInvalidMessage);
  auto mallory = test::Party::create("mallory", 313);
  CHECK(
      bob.group_decrypt(kGroup, alice.address, forge(mallory, g, alice.address, skdm->serialized()))
          .rc == kSgErrInvalidMessage);
  auto p = bob.group_decrypt(kGroup, alice.address,
                             Bytes(m->serialized().begin(), m->serialized().end()));
  REQUIRE(p.rc == kSgSuccess);
  CHECK(p.plaintext == bytes_of("last"));
}

TEST_CASE("groups: both libraries in one group", "[interop][group]") {
  // alice (hush), bob (libsignal-protocol-c), carol (hush) all send and all receive.
  const SenderKeyGroup g = group();
  auto alice = test::Party::create("alice", 321);
  LscPeer bob = LscPeer::create("bob", 1, 1, 0, 322);
  auto carol = test::Party::create("carol", 323);
  auto a_skdm = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
  auto c_skdm = create_sender_key_distribution(*carol.ctx, *carol.store, carol.address, g);
  REQUIRE(a_skdm);
  REQUIRE(c_skdm);
  auto b_skdm = bob.group_create_distribution(kGroup);
  REQUIRE(b_skdm.rc == kSgSuccess);
  auto b_parsed = SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, b_skdm.serialized);
  REQUIRE(b_parsed);
  REQUIRE(process_sender_key_distribution(*alice.store, carol.address, g, *c_skdm));
  REQUIRE(process_sender_key_distribution(*carol.store, alice.address, g, *a_skdm));
  REQUIRE(process_sender_key_distribution(*alice.store, bob.address(), g, *b_parsed));
  REQUIRE(process_sender_key_distribution(*carol.store, bob.address(), g, *b_parsed));
  REQUIRE(bob.group_process_distribution(kGroup, alice.address, a_skdm->serialized()) ==
          kSgSuccess);
  REQUIRE(bob.group_process_distribution(kGroup, carol.address, c_skdm->serialized()) ==
          kSgSuccess);
  for (int round = 0; round < 3; ++round) {
    for (test::Party* from : {&alice, &carol}) {
      const std::string s = from->address.name + " " + std::to_string(round);
      auto m = group_encrypt(*from->ctx, *from->store, from->address, g, as_bytes(s));
      REQUIRE(m);
      test::Party& other = from == &alice ? carol : alice;
      CHECK(text(*group_decrypt(*other.ctx, *other.store, from->address, g, *m)) == s);
      auto p = bob.group_decrypt(kGroup, from->address,
                                 Bytes(m->serialized().begin(), m->serialized().end()));
      REQUIRE(p.rc == kSgSuccess);
      CHECK(p.plaintext == bytes_of(s));
    }
    const std::string s = "bob " + std::to_string(round);
    auto c = bob.group_encrypt(kGroup, bytes_of(s));
    REQUIRE(c.rc == kSgSuccess);
    for (test::Party* to : {&alice, &carol}) {
      auto m = SenderKeyMessage::parse(SenderKeyFormat::kLegacy, c.serialized);
      REQUIRE(m);
      CHECK(text(*group_decrypt(*to->ctx, *to->store, bob.address(), g, *m)) == s);
    }
  }
}

TEST_CASE("groups: both libraries refuse a jump beyond 2,000 and accept one of 2,000",
          "[interop][group]") {
  const SenderKeyGroup g = group();
  for (const std::uint32_t jump :
       {kMaxSenderKeyForwardJumpLegacy, kMaxSenderKeyForwardJumpLegacy + 1}) {
    DYNAMIC_SECTION("jump " << jump) {
      auto alice = test::Party::create("alice", 331);
      LscPeer bob = LscPeer::create("bob", 1, 1, 0, 332);
      auto carol = test::Party::create("carol", 333);
      auto skdm = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
      REQUIRE(skdm);
      REQUIRE(bob.group_process_distribution(kGroup, alice.address, skdm->serialized()) ==
              kSgSuccess);
      REQUIRE(process_sender_key_distribution(*carol.store, alice.address, g, *skdm));
      advance_own_chain(alice, g, jump);
      auto m = group_encrypt(*alice.ctx, *alice.store, alice.address, g, as_bytes("far"));
      REQUIRE(m);
      CHECK(m->iteration() == jump);
      const int rc = bob.group_decrypt(kGroup, alice.address,
                                       Bytes(m->serialized().begin(), m->serialized().end()))
                         .rc;
      auto p = group_decrypt(*carol.ctx, *carol.store, alice.address, g, *m);
      if (jump <= kMaxSenderKeyForwardJumpLegacy) {
        CHECK(rc == kSgSuccess);
        CHECK(p);
      } else {
        CHECK(rc ==
              kSgErrInvalidMessage);  // libsignal-protocol-c: "Over 2000 messages into the future"
        REQUIRE_FALSE(p);
        CHECK(p.error().code() == Errc::kTooFarInFuture);
      }
    }
  }
}

}  // namespace hush::interop

// hush integration tests: how a version-4 record picks the state that decrypts a message (trial
// decryption, session.cpp try_states and commit_trial), and the forward-jump limits of version 4
// (signal-v4-wire.md §3.3, §4.4): a late version-3 message never makes a version-3 state current
// again once the record has a version-4 state; SPQR's chain steps before the MAC count in the
// decrypt budget; an SPQR error on a state the message is not for moves on to the next state; a
// message at the limit ahead decrypts, one beyond is too_far_in_future and changes nothing, in
// note-to-self sessions too (unlike libsignal).
#include <catch2/catch.hpp>

#include "crypto/kdf.h"
#include "pq/spqr_state.h"
#include "pq_test_support.h"
#include "protocol/record_access.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::add_kyber;
using hush::test::info;
using hush::test::Party;
using hush::test::pq_bundle;

namespace {

std::uint8_t wire_version(const CiphertextMessage& m) {
  return m.serialized()[0];
}

// Moves `from`'s current sending state with `to` ahead as if it had sent `dr_steps` messages on its
// Double Ratchet chain and taken `spqr_steps` SPQR send keys that never arrived (what a long run of
// lost messages does, without encrypting them one by one).
void skip_ahead(Party& from, const Party& to, std::uint32_t dr_steps, std::uint32_t spqr_steps) {
  auto loaded = from.store->load_session(to.address);
  REQUIRE(loaded);
  REQUIRE(*loaded);
  SessionRecord record = std::move(**loaded);
  auto& state = *internal::RecordAccess::data(record).current;
  internal::crypto::HmacSha256 hmac;
  for (std::uint32_t i = 0; i < dr_steps; ++i)
    state.sender_chain.chain_key = state.sender_chain.chain_key.next(hmac);
  auto spqr = pq::spqr_parse_state(state.spqr.expose());
  REQUIRE(spqr);
  bool stepped = true;
  for (std::uint32_t i = 0; i < spqr_steps && stepped; ++i)
    stepped = pq::spqr_chain_send_key(spqr->chain, spqr->braid.epoch - 1).has_value();
  REQUIRE(stepped);
  state.spqr = pq::spqr_serialize_state(*spqr);
  REQUIRE(from.store->store_session(to.address, std::move(record)));
}

// `to` receives `m` from `from`: too far in the future, and nothing `to` stores changes.
void check_too_far(Party& to, const Party& from, const CiphertextMessage& m) {
  const Bytes before = to.snapshot();
  CHECK(test::decrypt(to, from, m).error().code() == Errc::kTooFarInFuture);
  CHECK(to.snapshot() == before);
}

// `from` moves its chains ahead (skip_ahead) and sends two messages: the first (`at_limit`) is as
// far ahead as `to` takes, the second one more. The second is refused (check_too_far) until the
// first has been taken; then both decrypt.
void check_jump_limit(Party& to, Party& from, std::uint32_t dr_steps, std::uint32_t spqr_steps,
                      const std::string& at_limit, const std::string& beyond) {
  skip_ahead(from, to, dr_steps, spqr_steps);
  const auto limit_message = test::encrypt(from, to, at_limit);
  const auto beyond_message = test::encrypt(from, to, beyond);
  check_too_far(to, from, beyond_message);
  CHECK(test::decrypt(to, from, limit_message).value() == at_limit);
  CHECK(test::decrypt(to, from, beyond_message).value() == beyond);
}

}  // namespace

TEST_CASE("a late version-3 message does not make the version-3 session current again",
          "[integration][pqxdh]") {
  auto alice = Party::create("alice", 1101, 2);
  auto bob = Party::create("bob", 1102, 3);
  // A version-3 session, acknowledged both ways.
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{1})));
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "v3 hello")).value() == "v3 hello");
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "v3 reply")).value() == "v3 reply");
  // Bob writes twice more on it (one continuing his chain, one after a ratchet step); the
  // messages are held back.
  const auto late = test::encrypt(bob, alice, "late v3");
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "v3 again")).value() == "v3 again");
  const auto later = test::encrypt(bob, alice, "later v3, new chain");
  REQUIRE(wire_version(late) == 0x33);

  // Alice moves to version 4 with bob's new bundle: the version-3 state is archived.
  add_kyber(bob, 1);
  test::start_pq_session(alice, bob, PreKeyId{2}, 1);
  REQUIRE(info(alice, bob).version == 4);

  // The late genuine messages decrypt (from the archived state, where it is)...
  CHECK(test::decrypt(alice, bob, late).value() == "late v3");
  CHECK(test::decrypt(alice, bob, later).value() == "later v3, new chain");
  // ... but the session stays version 4: the next message is a version-4 prekey message.
  CHECK(info(alice, bob).version == 4);
  const auto next = test::encrypt(alice, bob, "still pq");
  REQUIRE(next.type() == MessageType::kPreKey);
  CHECK(next.prekey_message()->message_version() == 4);
  CHECK(test::decrypt(bob, alice, next).value() == "still pq");
  CHECK(info(bob, alice).version == 4);
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "pq reply")).value() == "pq reply");
  CHECK(info(alice, bob).version == 4);
  // A repeat of the late message is a duplicate and changes nothing.
  const Bytes before = alice.snapshot();
  CHECK(test::decrypt(alice, bob, late).error().code() == Errc::kDuplicateMessage);
  CHECK(alice.snapshot() == before);
}

TEST_CASE("an SPQR error on a state the message is not for moves on to the next state",
          "[integration][pqxdh]") {
  // Simultaneous initiation: bob's first answer on the session alice started (S1) arrives after
  // alice took bob's own new session (S2) as current and received three messages on it. On S2,
  // SPQR finds that answer's key index (1) already taken, which says nothing about S1.
  auto alice = Party::create("alice", 1111, 3);
  auto bob = Party::create("bob", 1112, 3);
  add_kyber(alice, 1, true);
  add_kyber(bob, 1, true);
  test::start_pq_session(alice, bob, std::nullopt, 1);
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "S1 hello")).value() == "S1 hello");
  const auto answer = test::encrypt(bob, alice, "S1 answer");
  REQUIRE(answer.type() == MessageType::kWhisper);

  test::start_pq_session(bob, alice, std::nullopt, 1);
  for (const char* t : {"S2 one", "S2 two", "S2 three"})
    CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, t)).value() == t);

  auto opened = test::decrypt(alice, bob, answer);
  REQUIRE(opened);
  CHECK(*opened == "S1 answer");
  // The two converge and keep talking.
  for (int i = 0; i < 3; ++i) {
    CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "to bob")).value() == "to bob");
    CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "to alice")).value() == "to alice");
  }
}

TEST_CASE("SPQR's chain steps before the MAC count in the decrypt budget", "[integration][pqxdh]") {
  // Five version-4 sessions from bob at alice. The message is genuine for the oldest (S1), starts
  // a new ratchet chain (so every state is tried) and claims an SPQR key 24,000 ahead: each state
  // tried before S1 derives 24,000 SPQR chain keys before its MAC fails. Four of them use up the
  // budget (kMaxDecryptChainStepsV4), so S1 is not tried: invalid_message, nothing changed.
  // Without counting SPQR's steps the budget would not bound that work.
  auto alice = Party::create("alice", 1121, 0);
  auto bob = Party::create("bob", 1122, 0);
  add_kyber(alice, 1, true);
  constexpr std::uint32_t kAhead = 24000;
  static_assert(4 * (kAhead + 1) <= kMaxDecryptChainStepsV4);
  static_assert(5 * (kAhead + 1) > kMaxDecryptChainStepsV4);
  std::optional<CiphertextMessage> far;
  for (int s = 1; s <= 5; ++s) {
    test::pq_session(bob, alice, std::nullopt, 1);
    if (s == 1) {
      skip_ahead(bob, alice, 0, kAhead);
      far = test::encrypt(bob, alice, "far ahead on S1");
    }
  }
  REQUIRE(info(alice, bob).previous_states == 4);
  const Bytes before = alice.snapshot();
  auto r = test::decrypt(alice, bob, *far);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kInvalidMessage);
  CHECK(alice.snapshot() == before);
  // The current session goes on.
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "current")).value() == "current");
}

TEST_CASE("version-4 messages decrypt up to the forward-jump limit and not beyond",
          "[integration][pqxdh]") {
  // signal-v4-wire.md §3.3 and §4.4: the Double Ratchet chain may skip kMaxForwardJumpV4 (25,000)
  // keys, SPQR's chain may jump kSpqrMaxJump (25,000) indices, i.e. skip 24,999 keys.
  auto alice = Party::create("alice", 1131, 1);
  auto bob = Party::create("bob", 1132, 1);
  add_kyber(bob, 1);
  test::pq_session(alice, bob, PreKeyId{1}, 1);

  // Both chains in step (what a peer that lost its messages sends): 24,999 skipped is the most.
  check_jump_limit(alice, bob, kSpqrMaxJump - 1, kSpqrMaxJump - 1, "24,999 ahead", "25,000 ahead");
  // The Double Ratchet chain alone: 25,000 skipped decrypts, 25,001 does not.
  check_jump_limit(alice, bob, kMaxForwardJumpV4, 0, "DR 25,000 ahead", "DR 25,001 ahead");
  // SPQR's chain alone: 25,000 ahead of the last key taken decrypts, 25,001 does not.
  check_jump_limit(alice, bob, 0, kSpqrMaxJump - 1, "SPQR 25,000 ahead", "SPQR 25,001 ahead");
  // The session goes on both ways.
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "back")).value() == "back");
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "forth")).value() == "forth");
}

TEST_CASE("a note-to-self version-4 session keeps the forward-jump limits",
          "[integration][pqxdh]") {
  // libsignal 0.103 lets a "self session" (the same identity key and ServiceId: our own other
  // device) jump without limit on both chains. hush keeps the limits: whether a session is ours
  // rests on an identity key that is not authenticated before the MAC, so an unlimited jump would
  // let a forged message in our own name cost unbounded work. What is given up: our own device
  // that missed more than 25,000 of our messages needs a new session.
  auto phone = Party::create("alice", 1141, 1);
  auto identity = phone.store->identity_key_pair();
  REQUIRE(identity);
  auto laptop = Party::create_with_identity("alice", DeviceId{2}, 1142, identity->clone(), 1);
  add_kyber(laptop, 1);
  test::pq_session(phone, laptop, PreKeyId{1}, 1);

  skip_ahead(laptop, phone, kMaxForwardJumpV4 + 1, 0);
  check_too_far(phone, laptop, test::encrypt(laptop, phone, "DR 25,001 ahead"));
  skip_ahead(phone, laptop, 0, kSpqrMaxJump);
  check_too_far(laptop, phone, test::encrypt(phone, laptop, "SPQR 25,001 ahead"));
}

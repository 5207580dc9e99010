// hush integration tests: sender keys (group.h) in both wire formats, on the store the
// environment picks (in-memory, or SqliteStore under the [sqlite] prefix): distribution, in-order
// and out-of-order delivery, duplicates, forged and damaged messages, the jump limits, the
// five-chain limit, the never-restart rule, malformed distribution messages, and that every
// failure leaves the store byte for byte as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "group/sender_key_state.h"
#include "storage.pb.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;

namespace {

SenderKeyGroup legacy_group(std::string_view name = "family") {
  auto g = SenderKeyGroup::legacy(name);
  REQUIRE(g);
  return *g;
}

SenderKeyGroup current_group(std::string_view id = "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6") {
  auto d = DistributionId::parse(id);
  REQUIRE(d);
  return SenderKeyGroup::current(*d);
}

std::string text(const SecretBytes& b) {
  return std::string(b.expose().begin(), b.expose().end());
}

// Alice creates her chain and bob processes its distribution message (as if it came over their
// 1:1 session: serialized and parsed again).
void distribute(Party& alice, Party& bob, const SenderKeyGroup& g) {
  auto skdm = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
  REQUIRE(skdm);
  auto parsed = SenderKeyDistributionMessage::parse(g.format(), skdm->serialized());
  REQUIRE(parsed);
  REQUIRE(process_sender_key_distribution(*bob.store, alice.address, g, *parsed));
}

SenderKeyMessage send(Party& from, const SenderKeyGroup& g, const std::string& plaintext) {
  auto m = group_encrypt(*from.ctx, *from.store, from.address, g, as_bytes(plaintext));
  REQUIRE(m);
  auto parsed = SenderKeyMessage::parse(g.format(), m->serialized());
  REQUIRE(parsed);
  return std::move(*parsed);
}

Result<std::string> receive(Party& to, const Party& from, const SenderKeyGroup& g,
                            const SenderKeyMessage& m) {
  auto p = group_decrypt(*to.ctx, *to.store, from.address, g, m);
  if (!p) return p.error();
  return text(*p);
}

// Expects `r` to fail with `code` and the store of `p` to be unchanged since `before`.
template <class R>
void check_refused(const R& r, Errc code, const Party& p, const Bytes& before) {
  REQUIRE_FALSE(r);
  CHECK(to_string(r.error().code()) == to_string(code));
  CHECK(p.snapshot() == before);
}

// Moves `p`'s own newest chain in `g` on by `steps` iterations (as if it had sent that many
// messages that nobody received), through the store.
void advance_own_chain(Party& p, const SenderKeyGroup& g, std::uint32_t steps) {
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

const SenderKeyGroup& group_for(int which) {
  static const SenderKeyGroup legacy = legacy_group();
  static const SenderKeyGroup current = current_group();
  return which == 0 ? legacy : current;
}

}  // namespace

TEST_CASE("distribution ids parse only in canonical lowercase form", "[integration][group]") {
  auto id = DistributionId::parse("d1d1d1d1-7000-11eb-b32a-33b8a8a487a6");
  REQUIRE(id);
  CHECK(id->to_string() == "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6");
  CHECK(id->bytes()[0] == 0xd1);
  CHECK(id->bytes()[15] == 0xa6);
  for (const char* bad :
       {"", "D1D1D1D1-7000-11EB-B32A-33B8A8A487A6", "d1d1d1d1700011ebb32a33b8a8a487a6",
        "d1d1d1d1-7000-11eb-b32a-33b8a8a487a", "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6 ",
        "g1d1d1d1-7000-11eb-b32a-33b8a8a487a6", "d1d1d1d1+7000-11eb-b32a-33b8a8a487a6"}) {
    auto r = DistributionId::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidArgument);
  }
  test::SeededRandom random(5);
  auto fresh = DistributionId::generate(random);
  REQUIRE(fresh);
  CHECK(DistributionId::parse(fresh->to_string())->bytes() == fresh->bytes());
  CHECK((fresh->bytes()[6] >> 4) == 4);
  CHECK_FALSE(SenderKeyGroup::legacy(""));
  CHECK_FALSE(SenderKeyGroup::legacy(std::string(kMaxGroupNameBytes + 1, 'g')));
  CHECK(SenderKeyGroup::legacy(std::string(kMaxGroupNameBytes, 'g')));
  // A legacy group and a current group with the same text are different groups.
  CHECK_FALSE(legacy_group("d1d1d1d1-7000-11eb-b32a-33b8a8a487a6") == current_group());
}

TEST_CASE("group messages in both formats: in order and out of order", "[integration][group]") {
  for (int which : {0, 1}) {
    const SenderKeyGroup& g = group_for(which);
    DYNAMIC_SECTION((which == 0 ? "legacy" : "current")) {
      auto alice = Party::create("alice", 11);
      auto bob = Party::create("bob", 12);
      auto carol = Party::create("carol", 13);
      distribute(alice, bob, g);
      distribute(alice, carol, g);
      std::vector<SenderKeyMessage> sent;
      for (int i = 0; i < 6; ++i)
        sent.push_back(send(alice, g, "m" + std::to_string(i)));
      CHECK(sent[0].iteration() == 0);
      CHECK(sent[5].iteration() == 5);
      CHECK(sent[0].chain_id() == sent[5].chain_id());
      CHECK(sent[0].chain_id() < 0x80000000u);
      if (which == 1) CHECK(sent[0].distribution_id() == g.distribution_id());
      // Bob in order, carol out of order: 5, 2, 0, 4, 1, 3.
      for (int i = 0; i < 6; ++i)
        CHECK(*receive(bob, alice, g, sent[static_cast<std::size_t>(i)]) ==
              "m" + std::to_string(i));
      for (int i : {5, 2, 0, 4, 1, 3})
        CHECK(*receive(carol, alice, g, sent[static_cast<std::size_t>(i)]) ==
              "m" + std::to_string(i));
      // Every message again is a duplicate, and changes nothing.
      for (const SenderKeyMessage& m : sent) {
        const Bytes before = carol.snapshot();
        check_refused(receive(carol, alice, g, m), Errc::kDuplicateMessage, carol, before);
      }
      // Members of the group all send; the chains are per sender.
      distribute(bob, alice, g);
      distribute(bob, carol, g);
      auto reply = send(bob, g, "from bob");
      CHECK(*receive(alice, bob, g, reply) == "from bob");
      CHECK(*receive(carol, bob, g, reply) == "from bob");
      // Bob's message under alice's name: alice's chain does not have bob's chain id.
      const Bytes before = carol.snapshot();
      check_refused(receive(carol, alice, g, reply), Errc::kNoSession, carol, before);
      // The state survives the store being reopened.
      carol.reopen();
      auto later = send(alice, g, "after reopen");
      CHECK(*receive(carol, alice, g, later) == "after reopen");
    }
  }
}

TEST_CASE("forged and damaged group messages are refused and change nothing",
          "[integration][group]") {
  for (int which : {0, 1}) {
    const SenderKeyGroup& g = group_for(which);
    DYNAMIC_SECTION((which == 0 ? "legacy" : "current")) {
      auto alice = Party::create("alice", 21);
      auto bob = Party::create("bob", 22);
      distribute(alice, bob, g);
      auto m = send(alice, g, "genuine");
      const Bytes before = bob.snapshot();
      // Every single bit flipped (signature, protobuf, version byte) is refused.
      const Bytes wire(m.serialized().begin(), m.serialized().end());
      for (std::size_t i = 0; i < wire.size(); ++i) {
        Bytes bad = wire;
        bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
        auto parsed = SenderKeyMessage::parse(g.format(), bad);
        if (!parsed) continue;  // refused by the parser already
        auto r = receive(bob, alice, g, *parsed);
        REQUIRE_FALSE(r);
        CHECK((r.error().code() == Errc::kInvalidMessage || r.error().code() == Errc::kNoSession));
      }
      CHECK(bob.snapshot() == before);
      // A message signed by someone else's key with alice's chain id: mallory knows the chain
      // (she is a member who got alice's distribution message) but not alice's signing key.
      auto mallory = Party::create("mallory", 23);
      auto loaded = bob.store->load_sender_key(alice.address, g);
      REQUIRE(loaded);
      const auto& held = internal::SenderKeyRecordAccess::data(**loaded).states.front();
      internal::SenderKeyState s = held.clone();
      auto pair = KeyPair::generate(mallory.ctx->random);
      REQUIRE(pair);
      internal::set_own_signing_key(s, std::move(*pair));
      SenderKeyRecord forged_record;
      internal::SenderKeyRecordAccess::data(forged_record).states.push_back(std::move(s));
      REQUIRE(mallory.store->run_transaction([&] {
        return mallory.store->store_sender_key(mallory.address, g, std::move(forged_record));
      }));
      auto forged = send(mallory, g, "forged");
      CHECK(forged.chain_id() == m.chain_id());
      check_refused(receive(bob, alice, g, forged), Errc::kInvalidMessage, bob, before);
      // A message of the other format, or naming another distribution id, is refused.
      const SenderKeyGroup& other = group_for(1 - which);
      auto parsed_other = SenderKeyMessage::parse(other.format(), m.serialized());
      if (parsed_other) {
        check_refused(receive(bob, alice, g, *parsed_other), Errc::kInvalidMessage, bob, before);
      }
      if (which == 1) {
        const SenderKeyGroup elsewhere = current_group("00000000-0000-4000-8000-000000000000");
        check_refused(receive(bob, alice, elsewhere, m), Errc::kInvalidMessage, bob, before);
      }
      // Nothing was spent: the genuine message still decrypts, once.
      CHECK(*receive(bob, alice, g, m) == "genuine");
    }
  }
}

TEST_CASE("the forward jump is bounded per format", "[integration][group]") {
  for (int which : {0, 1}) {
    const SenderKeyGroup& g = group_for(which);
    const std::uint32_t limit =
        which == 0 ? kMaxSenderKeyForwardJumpLegacy : kMaxSenderKeyForwardJump;
    DYNAMIC_SECTION((which == 0 ? "legacy" : "current")) {
      auto alice = Party::create("alice", 31);
      auto bob = Party::create("bob", 32);
      auto carol = Party::create("carol", 33);
      distribute(alice, bob, g);
      distribute(alice, carol, g);
      // limit + 1 ahead: too far for both, and nothing changes.
      advance_own_chain(alice, g, limit + 1);
      auto far = send(alice, g, "too far");
      CHECK(far.iteration() == limit + 1);
      const Bytes before = bob.snapshot();
      check_refused(receive(bob, alice, g, far), Errc::kTooFarInFuture, bob, before);
      // Exactly the limit ahead is accepted (from iteration 1, after message 0 arrived).
      auto alice2 = Party::create("alice", 31);
      auto dave = Party::create("dave", 34);
      distribute(alice2, dave, g);
      auto first = send(alice2, g, "first");
      CHECK(*receive(dave, alice2, g, first) == "first");
      advance_own_chain(alice2, g, limit - 1);
      auto edge = send(alice2, g, "edge");
      CHECK(edge.iteration() == limit);
      CHECK(*receive(dave, alice2, g, edge) == "edge");
      // The skipped keys kept are the newest kMaxSenderKeySkippedKeys; older ones read as
      // duplicates (their keys were dropped).
      auto loaded = dave.store->load_sender_key(alice2.address, g);
      REQUIRE(loaded);
      const auto& state = internal::SenderKeyRecordAccess::data(**loaded).states.front();
      CHECK(state.skipped.size() == std::min<std::size_t>(limit - 1, kMaxSenderKeySkippedKeys));
      CHECK(state.chain.index == limit + 1);
    }
  }
}

TEST_CASE("a distribution message for a chain already held never restarts it",
          "[integration][group]") {
  for (int which : {0, 1}) {
    const SenderKeyGroup& g = group_for(which);
    DYNAMIC_SECTION((which == 0 ? "legacy" : "current")) {
      auto alice = Party::create("alice", 41);
      auto bob = Party::create("bob", 42);
      auto first = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
      REQUIRE(first);
      REQUIRE(process_sender_key_distribution(*bob.store, alice.address, g, *first));
      auto m0 = send(alice, g, "zero");
      auto m1 = send(alice, g, "one");
      CHECK(*receive(bob, alice, g, m0) == "zero");
      CHECK(*receive(bob, alice, g, m1) == "one");
      // The same distribution message again (a replay by the relay of the 1:1 message, or the
      // sender resending it) succeeds and keeps the chain where it is: m0 and m1 stay duplicates.
      REQUIRE(process_sender_key_distribution(*bob.store, alice.address, g, *first));
      CHECK(receive(bob, alice, g, m0).error().code() == Errc::kDuplicateMessage);
      CHECK(receive(bob, alice, g, m1).error().code() == Errc::kDuplicateMessage);
      // Creating it again gives the same chain, at its current iteration.
      auto again = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, g);
      REQUIRE(again);
      CHECK(again->chain_id() == first->chain_id());
      CHECK(again->iteration() == 2);
      CHECK(again->signing_key() == first->signing_key());
      REQUIRE(process_sender_key_distribution(*bob.store, alice.address, g, *again));
      CHECK(receive(bob, alice, g, m1).error().code() == Errc::kDuplicateMessage);
      CHECK(*receive(bob, alice, g, send(alice, g, "two")) == "two");
    }
  }
}

TEST_CASE("at most five chains per sender and group are kept", "[integration][group]") {
  for (int which : {0, 1}) {
    const SenderKeyGroup& g = group_for(which);
    DYNAMIC_SECTION((which == 0 ? "legacy" : "current")) {
      auto alice = Party::create("alice", 51);
      auto bob = Party::create("bob", 52);
      distribute(alice, bob, g);
      std::vector<SenderKeyMessage> per_chain;
      per_chain.push_back(send(alice, g, "chain 0"));
      for (int i = 1; i <= 5; ++i) {
        auto skdm = rotate_sender_key(*alice.ctx, *alice.store, alice.address, g);
        REQUIRE(skdm);
        REQUIRE(process_sender_key_distribution(*bob.store, alice.address, g, *skdm));
        per_chain.push_back(send(alice, g, "chain " + std::to_string(i)));
        CHECK(per_chain.back().chain_id() != per_chain[per_chain.size() - 2].chain_id());
      }
      auto loaded = bob.store->load_sender_key(alice.address, g);
      REQUIRE(loaded);
      CHECK((*loaded)->state_count() == kMaxSenderKeyStates);
      // The oldest chain was dropped; the five newest still decrypt (late messages after a
      // rotation).
      const Bytes before = bob.snapshot();
      check_refused(receive(bob, alice, g, per_chain[0]), Errc::kNoSession, bob, before);
      for (int i = 1; i <= 5; ++i)
        CHECK(*receive(bob, alice, g, per_chain[static_cast<std::size_t>(i)]) ==
              "chain " + std::to_string(i));
      auto own = alice.store->load_sender_key(alice.address, g);
      REQUIRE(own);
      CHECK((*own)->state_count() == kMaxSenderKeyStates);
      CHECK((*own)->can_encrypt());
    }
  }
}

TEST_CASE("group operations without a chain and in transactions", "[integration][group]") {
  const SenderKeyGroup g = legacy_group();
  auto alice = Party::create("alice", 61);
  auto bob = Party::create("bob", 62);
  // No chain of ours yet: encrypting is no_session, and so is decrypting from a stranger.
  const Bytes before = alice.snapshot();
  check_refused(group_encrypt(*alice.ctx, *alice.store, alice.address, g, as_bytes("x")),
                Errc::kNoSession, alice, before);
  distribute(alice, bob, g);
  auto m = send(alice, g, "hello");
  auto carol = Party::create("carol", 63);
  const Bytes carol_before = carol.snapshot();
  check_refused(receive(carol, alice, g, m), Errc::kNoSession, carol, carol_before);
  // Encrypting inside another transaction is refused (a rollback would reuse a message key).
  const Bytes alice_before = alice.snapshot();
  Status st = alice.store->run_transaction([&]() -> Status {
    auto r = group_encrypt(*alice.ctx, *alice.store, alice.address, g, as_bytes("nested"));
    if (!r) return r.error();
    return ok_status();
  });
  REQUIRE_FALSE(st);
  CHECK(st.error().code() == Errc::kInTransaction);
  CHECK(alice.snapshot() == alice_before);
  // A batch is all or nothing: too large a plaintext in it fails the whole batch.
  const std::string big(kMaxPlaintextBytes + 1, 'x');
  const ByteView batch[] = {as_bytes("a"), as_bytes(big)};
  check_refused(group_encrypt_messages(*alice.ctx, *alice.store, alice.address, g, batch),
                Errc::kLimitExceeded, alice, alice_before);
  const ByteView ok_batch[] = {as_bytes("a"), as_bytes("b"), as_bytes("c")};
  auto three = group_encrypt_messages(*alice.ctx, *alice.store, alice.address, g, ok_batch);
  REQUIRE(three);
  REQUIRE(three->size() == 3);
  CHECK((*three)[2].iteration() == 3);
  CHECK(*receive(bob, alice, g, (*three)[2]) == "c");
  CHECK(*receive(bob, alice, g, m) == "hello");
  // A before_commit hook that fails makes the decrypt fail and changes nothing.
  const Bytes bob_before = bob.snapshot();
  DecryptOptions fail;
  fail.before_commit = [](ByteView) -> Status { return Error(Errc::kStoreFailure, "test hook"); };
  auto r = group_decrypt(*bob.ctx, *bob.store, alice.address, g, (*three)[0], fail);
  check_refused(r, Errc::kStoreFailure, bob, bob_before);
  CHECK(*receive(bob, alice, g, (*three)[0]) == "a");
}

TEST_CASE("malformed distribution messages are refused with typed errors", "[integration][group]") {
  const SenderKeyGroup legacy = legacy_group();
  const SenderKeyGroup current = current_group();
  // Hand-built legacy distribution messages: 0x33, then id (1), iteration (2), chain key (3),
  // signing key (4).
  auto legacy_skdm = [](std::size_t chain_len, std::size_t key_len, std::uint8_t key_type) {
    Bytes b = {0x33, 0x08, 0x07, 0x10, 0x00, 0x1a, static_cast<std::uint8_t>(chain_len)};
    b.insert(b.end(), chain_len, 0x11);
    b.push_back(0x22);
    b.push_back(static_cast<std::uint8_t>(key_len));
    if (key_len > 0) {
      b.push_back(key_type);
      b.insert(b.end(), key_len - 1, 0x09);
    }
    return b;
  };
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, legacy_skdm(32, 33, 0x05)));
  for (const auto& [chain_len, key_len, type] :
       {std::tuple<std::size_t, std::size_t, std::uint8_t>{31, 33, 0x05},
        {33, 33, 0x05},
        {0, 33, 0x05},
        {32, 32, 0x05},
        {32, 34, 0x05},
        {32, 33, 0x06},
        {32, 0, 0x05}}) {
    auto r = SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy,
                                                 legacy_skdm(chain_len, key_len, type));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidKey);
  }
  // Versions, truncation, missing fields, size.
  Bytes v2 = legacy_skdm(32, 33, 0x05);
  v2[0] = 0x22;
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, v2).error().code() ==
        Errc::kLegacyMessage);
  v2[0] = 0x44;
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, v2).error().code() ==
        Errc::kInvalidVersion);
  const Bytes missing = {0x33, 0x08, 0x07};
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, missing).error().code() ==
        Errc::kInvalidMessage);
  const Bytes garbage = {0x33, 0xff, 0xff, 0xff};
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, garbage).error().code() ==
        Errc::kInvalidProtobuf);
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, Bytes{0x33}).error().code() ==
        Errc::kInvalidMessage);
  CHECK(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy,
                                            Bytes(kMaxSenderKeyDistributionBytes + 1, 0x33))
            .error()
            .code() == Errc::kLimitExceeded);
  // A legacy message is not a current one (no distribution id), and the other way round.
  CHECK_FALSE(
      SenderKeyDistributionMessage::parse(SenderKeyFormat::kCurrent, legacy_skdm(32, 33, 0x05)));
  auto alice = Party::create("alice", 71);
  auto bob = Party::create("bob", 72);
  auto skdm = create_sender_key_distribution(*alice.ctx, *alice.store, alice.address, current);
  REQUIRE(skdm);
  CHECK(skdm->distribution_id() == current.distribution_id());
  CHECK_FALSE(SenderKeyDistributionMessage::parse(SenderKeyFormat::kLegacy, skdm->serialized()));
  // Processing it for a group of another format or distribution id is refused, changing nothing.
  const Bytes before = bob.snapshot();
  check_refused(process_sender_key_distribution(*bob.store, alice.address, legacy, *skdm),
                Errc::kInvalidMessage, bob, before);
  check_refused(
      process_sender_key_distribution(*bob.store, alice.address,
                                      current_group("00000000-0000-4000-8000-000000000000"), *skdm),
      Errc::kInvalidMessage, bob, before);
  // Group messages: too short, versions.
  CHECK(SenderKeyMessage::parse(SenderKeyFormat::kLegacy, Bytes(65, 0x33)).error().code() ==
        Errc::kInvalidMessage);
  CHECK(SenderKeyMessage::parse(SenderKeyFormat::kLegacy, Bytes(70, 0x23)).error().code() ==
        Errc::kLegacyMessage);
  CHECK(SenderKeyMessage::parse(SenderKeyFormat::kCurrent, Bytes(70, 0x43)).error().code() ==
        Errc::kInvalidVersion);
}

TEST_CASE("sender key records refuse what breaks their bounds", "[integration][group]") {
  const SenderKeyGroup g = legacy_group();
  auto alice = Party::create("alice", 81);
  auto bob = Party::create("bob", 82);
  distribute(alice, bob, g);
  auto loaded = bob.store->load_sender_key(alice.address, g);
  REQUIRE(loaded);
  REQUIRE(*loaded);
  const SecretBytes bytes = (*loaded)->serialize();
  auto back = SenderKeyRecord::deserialize(bytes.expose());
  REQUIRE(back);
  CHECK(back->serialize().expose().size() == bytes.expose().size());
  CHECK_FALSE(back->can_encrypt());
  CHECK(SenderKeyRecord::deserialize(Bytes{0xff, 0xff}).error().code() == Errc::kCorruptState);
  CHECK(SenderKeyRecord::deserialize(Bytes(kMaxSenderKeyRecordBytes + 1, 0)).error().code() ==
        Errc::kLimitExceeded);
  // Every truncation of a valid record is refused or reads back as a valid record.
  for (std::size_t n = 0; n < bytes.expose().size(); ++n) {
    auto r = SenderKeyRecord::deserialize(bytes.expose().first(n));
    if (!r) CHECK(r.error().code() == Errc::kCorruptState);
  }
}

TEST_CASE("a restored database never encrypts with a sender key it may have used",
          "[integration][group][sqlite]") {
  test::TempDir dir;
  const std::string path = dir.file("alice.db");
  test::SeededRandom random(91);
  test::FixedClock clock;
  Context ctx{random, clock, nullptr};
  const SenderKeyGroup g = current_group();
  const Address alice{"alice", DeviceId{1}};
  auto bob = Party::create("bob", 92);
  {
    auto identity = generate_identity_key_pair(random);
    REQUIRE(identity);
    auto store = SqliteStore::create(path, std::move(*identity), 77);
    REQUIRE(store);
    auto skdm = create_sender_key_distribution(ctx, **store, alice, g);
    REQUIRE(skdm);
    REQUIRE(process_sender_key_distribution(*bob.store, alice, g, *skdm));
    auto m = group_encrypt(ctx, **store, alice, g, as_bytes("one"));
    REQUIRE(m);
    REQUIRE(group_decrypt(*bob.ctx, *bob.store, alice, g, *m));
  }
  std::filesystem::copy_file(path, dir.file("backup.db"));
  std::uint32_t chain_id = 0;
  {
    auto store = SqliteStore::open(path);
    REQUIRE(store);
    auto m = group_encrypt(ctx, **store, alice, g, as_bytes("two"));
    REQUIRE(m);
    chain_id = m->chain_id();
    REQUIRE(group_decrypt(*bob.ctx, *bob.store, alice, g, *m));
  }
  std::filesystem::copy_file(dir.file("backup.db"), path,
                             std::filesystem::copy_options::overwrite_existing);
  auto restored = SqliteStore::open(path);
  REQUIRE(restored);
  CHECK((*restored)->rollback_check().rolled_back);
  CHECK((*restored)->rollback_check().sender_keys_retired == 1);
  // Iteration 1 of the chain was used after the backup: the restored store must not use it again.
  auto m = group_encrypt(ctx, **restored, alice, g, as_bytes("reused?"));
  REQUIRE_FALSE(m);
  CHECK(m.error().code() == Errc::kNoSession);
  // A new chain, distributed again, carries on.
  auto skdm = create_sender_key_distribution(ctx, **restored, alice, g);
  REQUIRE(skdm);
  CHECK(skdm->chain_id() != chain_id);
  REQUIRE(process_sender_key_distribution(*bob.store, alice, g, *skdm));
  auto fresh = group_encrypt(ctx, **restored, alice, g, as_bytes("fresh"));
  REQUIRE(fresh);
  CHECK(text(*group_decrypt(*bob.ctx, *bob.store, alice, g, *fresh)) == "fresh");
}

TEST_CASE("store snapshots carry sender keys, checked, and older formats have none",
          "[integration][group][store]") {
  auto alice = Party::create("alice", 101, 1, test::StoreKind::kInMemory);
  auto bob = Party::create("bob", 102, 1);
  for (int which : {0, 1}) {
    distribute(alice, bob, group_for(which));
    distribute(bob, alice, group_for(which));
  }
  const SecretBytes snapshot = dynamic_cast<InMemoryProtocolStore&>(*alice.store).serialize();
  storage::StoreSnapshot parsed;
  REQUIRE(parsed.ParseFromArray(snapshot.expose().data(), static_cast<int>(snapshot.size())));
  CHECK(parsed.format() == 5);
  // Sorted by (name, device, format, group): alice's two, then bob's two.
  REQUIRE(parsed.sender_keys_size() == 4);
  CHECK(parsed.sender_keys(0).name() == "alice");
  CHECK(parsed.sender_keys(0).group_format() == 1);
  CHECK(parsed.sender_keys(1).group_format() == 2);
  CHECK(parsed.sender_keys(2).name() == "bob");
  auto load = [](const storage::StoreSnapshot& m) {
    const std::string bytes = m.SerializeAsString();
    return InMemoryProtocolStore::deserialize(as_bytes(bytes));
  };
  auto refused = [&](const std::function<void(storage::StoreSnapshot&)>& change) {
    storage::StoreSnapshot m = parsed;
    change(m);
    auto r = load(m);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kCorruptState);
  };
  REQUIRE(load(parsed));
  for (const std::uint32_t format : {1u, 2u, 3u})
    refused([&](storage::StoreSnapshot& m) { m.set_format(format); });
  refused([](storage::StoreSnapshot& m) { m.mutable_sender_keys(0)->set_group_format(3); });
  refused([](storage::StoreSnapshot& m) { m.mutable_sender_keys(0)->set_group(""); });
  refused([](storage::StoreSnapshot& m) {
    m.mutable_sender_keys(1)->set_group("D1D1D1D1-7000-11EB-B32A-33B8A8A487A6");
  });
  refused([](storage::StoreSnapshot& m) { m.mutable_sender_keys(1)->set_record("\xff"); });
  refused([](storage::StoreSnapshot& m) {
    *m.add_sender_keys() = storage::StoreSnapshot::SenderKey(m.sender_keys(3));
  });
  // Loaded, it goes on: alice encrypts, bob decrypts; and it round-trips byte for byte.
  auto back = load(parsed);
  REQUIRE(back);
  const SecretBytes again = (*back)->serialize();
  CHECK(Bytes(again.expose().begin(), again.expose().end()) ==
        Bytes(snapshot.expose().begin(), snapshot.expose().end()));
  auto m = group_encrypt(*alice.ctx, **back, alice.address, group_for(1), as_bytes("restored"));
  REQUIRE(m);
  CHECK(*receive(bob, alice, group_for(1), *m) == "restored");
  // SqliteStore's export is in the same format, and equal for equal content.
  if (bob.kind == test::StoreKind::kSqlite) {
    auto exported = dynamic_cast<SqliteStore&>(*bob.store).export_snapshot();
    REQUIRE(exported);
    auto imported = InMemoryProtocolStore::deserialize(exported->expose());
    REQUIRE(imported);
    const SecretBytes re = (*imported)->serialize();
    CHECK(Bytes(re.expose().begin(), re.expose().end()) ==
          Bytes(exported->expose().begin(), exported->expose().end()));
  }
}

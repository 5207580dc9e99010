// hush unit tests: SessionRecord storage form: round trips, and stored bytes treated as untrusted
// input (every malformation is a typed error, never a crash).
#include <catch2/catch.hpp>

#include <random>

#include "storage.pb.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;

namespace {

// A record with a current state, archived states, several receiver chains and skipped keys.
SessionRecord busy_record() {
  auto alice = Party::create("alice", 101);
  auto bob = Party::create("bob", 102);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "x")));
  for (int i = 0; i < 4; ++i) {
    REQUIRE(test::decrypt(alice, bob, test::encrypt(bob, alice, "y")));
    (void)test::encrypt(alice, bob, "skipped");
    REQUIRE(test::decrypt(bob, alice, test::encrypt(alice, bob, "z")));
  }
  auto r = bob.store->load_session(alice.address);
  REQUIRE(r);
  REQUIRE(r->has_value());
  return std::move(**r);
}

Bytes to_bytes(const SecretBytes& s) {
  return Bytes(s.expose().begin(), s.expose().end());
}

template <class Edit>
Result<SessionRecord> edited(const SessionRecord& record, Edit edit) {
  storage::SessionRecord p;
  const SecretBytes s = record.serialize();
  REQUIRE(p.ParseFromArray(s.expose().data(), static_cast<int>(s.size())));
  edit(p);
  std::string out;
  REQUIRE(p.SerializeToString(&out));
  return SessionRecord::deserialize(as_bytes(out));
}

void require_corrupt(const Result<SessionRecord>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kCorruptState);
}

}  // namespace

TEST_CASE("a session record round-trips byte for byte", "[unit]") {
  const SessionRecord record = busy_record();
  CHECK(record.has_current_state());
  const Bytes first = to_bytes(record.serialize());
  auto back = SessionRecord::deserialize(first);
  REQUIRE(back);
  CHECK(to_bytes(back->serialize()) == first);
  CHECK(to_bytes(back->clone().serialize()) == first);
  CHECK(back->remote_identity() == record.remote_identity());
  SessionRecord empty;
  CHECK_FALSE(empty.has_current_state());
  auto empty_back = SessionRecord::deserialize(to_bytes(empty.serialize()));
  REQUIRE(empty_back);
  CHECK_FALSE(empty_back->has_current_state());
}

TEST_CASE("stored records that break the format or a limit are corrupt_state", "[unit]") {
  const SessionRecord record = busy_record();
  require_corrupt(edited(record, [](auto& p) { p.set_format(2); }));
  require_corrupt(edited(record, [](auto& p) { p.clear_format(); }));
  require_corrupt(edited(record, [](auto& p) { p.mutable_current()->set_session_version(2); }));
  require_corrupt(edited(record, [](auto& p) { p.mutable_current()->set_root_key("short"); }));
  require_corrupt(edited(record, [](auto& p) { p.mutable_current()->clear_sender_chain(); }));
  require_corrupt(edited(record, [](auto& p) {
    p.mutable_current()->mutable_sender_chain()->set_ratchet_private(std::string(31, 'k'));
  }));
  require_corrupt(edited(
      record, [](auto& p) { p.mutable_current()->set_remote_identity(std::string(33, 'i')); }));
  require_corrupt(edited(record, [](auto& p) {
    auto* s = p.mutable_current();
    while (s->receiver_chains_size() <= static_cast<int>(kMaxReceiverChains))
      *s->add_receiver_chains() = s->receiver_chains(0);
  }));
  require_corrupt(edited(record, [](auto& p) {
    while (p.previous_size() <= static_cast<int>(kMaxArchivedStates))
      *p.add_previous() = p.current();
  }));
  // Skipped keys: count beyond the limit, seeds of the wrong size, order, ahead of the chain.
  require_corrupt(edited(record, [](auto& p) {
    auto* c = p.mutable_current()->mutable_receiver_chains(0);
    c->set_chain_index(5000);
    c->clear_skipped_counters();
    std::string seeds;
    for (std::uint32_t i = 0; i <= kMaxSkippedKeysPerChain; ++i) {
      c->add_skipped_counters(i);
      seeds.append(32, 's');
    }
    c->set_skipped_seeds(seeds);
  }));
  require_corrupt(edited(record, [](auto& p) {
    auto* c = p.mutable_current()->mutable_receiver_chains(0);
    c->set_chain_index(10);
    c->clear_skipped_counters();
    c->add_skipped_counters(3);
    c->set_skipped_seeds(std::string(31, 's'));
  }));
  require_corrupt(edited(record, [](auto& p) {
    auto* c = p.mutable_current()->mutable_receiver_chains(0);
    c->set_chain_index(10);
    c->clear_skipped_counters();
    c->add_skipped_counters(4);
    c->add_skipped_counters(3);
    c->set_skipped_seeds(std::string(64, 's'));
  }));
  require_corrupt(edited(record, [](auto& p) {
    auto* c = p.mutable_current()->mutable_receiver_chains(0);
    c->set_chain_index(2);
    c->clear_skipped_counters();
    c->add_skipped_counters(2);
    c->set_skipped_seeds(std::string(32, 's'));
  }));
  require_corrupt(edited(
      record, [](auto& p) { p.mutable_current()->mutable_pending_pre_key()->set_base_key("x"); }));

  require_corrupt(edited(record, [](auto& p) { p.add_retired_base_keys(std::string(31, 'k')); }));
  require_corrupt(edited(record, [](auto& p) {
    for (std::size_t i = 0; i <= kMaxRetiredBaseKeys; ++i)
      p.add_retired_base_keys(std::string(32, 'k'));
  }));
  auto with_retired =
      edited(record, [](auto& p) { p.add_retired_base_keys(std::string(32, 'k')); });
  REQUIRE(with_retired);

  const Bytes too_big(kMaxSessionRecordBytes + 1, 0);
  auto big = SessionRecord::deserialize(too_big);
  REQUIRE_FALSE(big);
  CHECK(big.error().code() == Errc::kLimitExceeded);
  auto junk = SessionRecord::deserialize(Bytes{0xFF, 0xFF, 0xFF});
  REQUIRE_FALSE(junk);
  CHECK(junk.error().code() == Errc::kCorruptState);
}

TEST_CASE("truncated and bit-flipped records never crash", "[unit][property]") {
  const Bytes good = to_bytes(busy_record().serialize());
  for (std::size_t len = 0; len < good.size(); len += 7) {
    auto r = SessionRecord::deserialize(ByteView(good).first(len));
    if (r) (void)r->serialize();
  }
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    Bytes bad = good;
    const auto pos = std::uniform_int_distribution<std::size_t>(0, bad.size() - 1)(rng);
    bad[pos] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    auto r = SessionRecord::deserialize(bad);
    if (r) (void)r->serialize();
  }
}

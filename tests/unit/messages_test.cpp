// hush unit tests: wire message parsing is total (never crashes on any input) and round-trips.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "support/test_support.h"

using namespace hush;

TEST_CASE("random bytes never crash the parsers", "[unit][property]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 5000; ++i) {
    Bytes b(std::uniform_int_distribution<std::size_t>(0, 120)(rng));
    for (auto& x : b)
      x = static_cast<std::uint8_t>(rng());
    if (!b.empty() && (rng() & 1)) b[0] = kVersionByte;
    auto s = SignalMessage::parse(b);
    if (s) CHECK(Bytes(s->serialized().begin(), s->serialized().end()) == b);
    auto p = PreKeySignalMessage::parse(b);
    if (p) CHECK(Bytes(p->serialized().begin(), p->serialized().end()) == b);
  }
}

TEST_CASE("messages round-trip through parse", "[unit]") {
  auto alice = test::Party::create("alice", 201);
  auto bob = test::Party::create("bob", 202);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  auto m = test::encrypt(alice, bob, "round trip");
  const auto* pre = m.prekey_message();
  REQUIRE(pre);
  auto parsed = PreKeySignalMessage::parse(pre->serialized());
  REQUIRE(parsed);
  CHECK(parsed->registration_id() == pre->registration_id());
  CHECK(parsed->pre_key_id() == pre->pre_key_id());
  CHECK(parsed->signed_pre_key_id() == pre->signed_pre_key_id());
  CHECK(parsed->base_key() == pre->base_key());
  CHECK(parsed->identity_key() == alice.store->identity_key_pair()->public_key);
  const auto& inner = parsed->message();
  CHECK(inner.counter() == 0);
  CHECK(inner.previous_counter() == 0);
  CHECK(inner.serialized()[0] == kVersionByte);
  CHECK(inner.ciphertext().size() == 16);
  CHECK(inner.mac().size() == kMacSize);
  auto again = SignalMessage::parse(inner.serialized());
  REQUIRE(again);
  CHECK(again->ratchet_key() == inner.ratchet_key());
  // A message above the size limit is refused before anything is parsed.
  Bytes huge(kMaxMessageBytes + 1, 0x33);
  CHECK(SignalMessage::parse(huge).error().code() == Errc::kLimitExceeded);
  CHECK(PreKeySignalMessage::parse(huge).error().code() == Errc::kLimitExceeded);
}

TEST_CASE("error names are stable", "[unit]") {
  CHECK(to_string(Errc::kDuplicateMessage) == "duplicate_message");
  CHECK(to_string(Errc::kInvalidMessage) == "invalid_message");
  CHECK(to_string(Errc::kInvalidProtobuf) == "invalid_protobuf");
  CHECK(to_string(Errc::kInvalidVersion) == "invalid_version");
  CHECK(to_string(Errc::kLegacyMessage) == "legacy_message");
  CHECK(to_string(Errc::kInvalidKey) == "invalid_key");
  CHECK(to_string(Errc::kInvalidKeyId) == "invalid_key_id");
  CHECK(to_string(Errc::kNoSession) == "no_session");
  CHECK(to_string(Errc::kUntrustedIdentity) == "untrusted_identity");
  CHECK(to_string(Errc::kTooFarInFuture) == "too_far_in_future");
  CHECK(to_string(static_cast<Errc>(200)) == "unknown_error");
  // Every enumerator has its own name.
  std::set<std::string_view> names;
  for (int i = 1; i <= 24; ++i)
    names.insert(to_string(static_cast<Errc>(i)));
  CHECK(names.size() == 24);
  CHECK(names.count("unknown_error") == 0);
}

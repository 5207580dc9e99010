// hush unit tests: safety numbers against libsignal-protocol-c's known answer (tests/
// test_fingerprint.c, wire spec §9), both sides agreeing, and scanned-code comparison.
#include <catch2/catch.hpp>

#include "support/test_support.h"

using namespace hush;

namespace {
IdentityKey key(std::string_view h) {
  auto b = from_hex(h);
  REQUIRE(b);
  auto k = PublicKey::parse(*b);
  REQUIRE(k);
  return *k;
}
const char* kAliceKey = "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868";
const char* kBobKey = "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b";
const char* kAliceId = "+14152222222";
const char* kBobId = "+14153333333";
}  // namespace

TEST_CASE("safety numbers match libsignal's known answer", "[unit][vectors]") {
  auto alice = make_fingerprint(5200, kAliceId, key(kAliceKey), kBobId, key(kBobKey));
  auto bob = make_fingerprint(5200, kBobId, key(kBobKey), kAliceId, key(kAliceKey));
  REQUIRE(alice);
  REQUIRE(bob);
  CHECK(alice->displayable == "300354477692869396892869876765458257569162576843440918079131");
  CHECK(bob->displayable == alice->displayable);
  CHECK(to_hex(alice->scannable) ==
        "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cb"
        "f73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d");
  CHECK(*compare_scannable_fingerprints(alice->scannable, bob->scannable));
  CHECK(*compare_scannable_fingerprints(bob->scannable, alice->scannable));
}

TEST_CASE("scanned codes of other keys, versions or identifiers do not match", "[unit]") {
  test::SeededRandom random(41);
  const IdentityKey mallory = KeyPair::generate(random)->public_key;
  auto alice = make_fingerprint(100, kAliceId, key(kAliceKey), kBobId, key(kBobKey));
  auto bob = make_fingerprint(100, kBobId, key(kBobKey), kAliceId, key(kAliceKey));
  auto bob_sees_mallory = make_fingerprint(100, kBobId, key(kBobKey), kAliceId, mallory);
  auto alice_sees_mallory = make_fingerprint(100, kAliceId, key(kAliceKey), kBobId, mallory);
  REQUIRE(alice);
  REQUIRE(bob_sees_mallory);
  // A key in the middle: the numbers differ, and the scanned codes do not match.
  CHECK(alice_sees_mallory->displayable != bob->displayable);
  CHECK(bob_sees_mallory->displayable != alice->displayable);
  CHECK_FALSE(*compare_scannable_fingerprints(alice->scannable, bob_sees_mallory->scannable));
  CHECK_FALSE(*compare_scannable_fingerprints(alice_sees_mallory->scannable, bob->scannable));
  // Our own code is not the other side's.
  CHECK_FALSE(*compare_scannable_fingerprints(alice->scannable, alice->scannable));
  // Version 0 carries keys and identifiers.
  auto alice0 = make_fingerprint(100, kAliceId, key(kAliceKey), kBobId, key(kBobKey), 0);
  auto bob0 = make_fingerprint(100, kBobId, key(kBobKey), kAliceId, key(kAliceKey), 0);
  auto carol0 = make_fingerprint(100, "+1999", key(kBobKey), kAliceId, key(kAliceKey), 0);
  REQUIRE(alice0);
  CHECK(alice0->displayable == alice->displayable);
  CHECK(*compare_scannable_fingerprints(alice0->scannable, bob0->scannable));
  CHECK(compare_scannable_fingerprints(alice->scannable, bob0->scannable).error().code() ==
        Errc::kFingerprintVersionMismatch);
  CHECK(compare_scannable_fingerprints(alice0->scannable, carol0->scannable).error().code() ==
        Errc::kFingerprintIdentifierMismatch);
  CHECK(compare_scannable_fingerprints(alice->scannable, Bytes{0xFF, 0xFF}).error().code() ==
        Errc::kInvalidProtobuf);
  CHECK(make_fingerprint(0, kAliceId, key(kAliceKey), kBobId, key(kBobKey)).error().code() ==
        Errc::kInvalidArgument);
  CHECK(make_fingerprint(1, kAliceId, key(kAliceKey), kBobId, key(kBobKey), 2).error().code() ==
        Errc::kInvalidArgument);
}

TEST_CASE("bundles and published keys round-trip and are parsed strictly", "[unit]") {
  auto bob = test::Party::create("bob", 42, 2, test::StoreKind::kInMemory);
  const PreKeyBundle b = bob.bundle();
  auto back = PreKeyBundle::parse(b.serialize());
  REQUIRE(back);
  CHECK(*back == b);
  REQUIRE(back->validate());
  PreKeyBundle no_opk = b;
  no_opk.pre_key_id.reset();
  no_opk.pre_key.reset();
  CHECK(*PreKeyBundle::parse(no_opk.serialize()) == no_opk);
  CHECK(PreKeyBundle::parse(Bytes{0xFF}).error().code() == Errc::kInvalidProtobuf);
  CHECK(PreKeyBundle::parse(Bytes{}).error().code() == Errc::kInvalidMessage);
  CHECK(PreKeyBundle::parse(Bytes(kMaxBundleBytes + 1, 0)).error().code() == Errc::kLimitExceeded);
  Bytes damaged = b.serialize();
  for (std::size_t i = 0; i < damaged.size(); ++i) {
    Bytes d = damaged;
    d[i] ^= 0x40;
    auto r = PreKeyBundle::parse(d);
    // A changed identity key, signed prekey or signature fails the signature check (ids and the
    // one-time prekey are not signed, in Signal as here).
    if (r && (!(r->identity_key == b.identity_key) || !(r->signed_pre_key == b.signed_pre_key) ||
              r->signed_pre_key_signature != b.signed_pre_key_signature))
      CHECK_FALSE(r->validate());
  }
  PublishedKeys keys;
  keys.registration_id = b.registration_id;
  keys.identity_key = b.identity_key;
  keys.signed_pre_key_id = b.signed_pre_key_id;
  keys.signed_pre_key = b.signed_pre_key;
  keys.signed_pre_key_signature = b.signed_pre_key_signature;
  keys.pre_keys = {{PreKeyId{1}, *b.pre_key}, {PreKeyId{2}, b.signed_pre_key}};
  auto keys_back = PublishedKeys::parse(keys.serialize());
  REQUIRE(keys_back);
  CHECK(*keys_back == keys);
  CHECK(keys.bundle(keys.pre_keys[0]) == b);
  keys.pre_keys.assign(kMaxPublishedPreKeys + 1, keys.pre_keys[0]);
  CHECK(PublishedKeys::parse(keys.serialize()).error().code() == Errc::kLimitExceeded);
}

TEST_CASE("safety numbers are grouped for display as Signal shows them", "[unit]") {
  auto f = make_fingerprint(5200, kAliceId, key(kAliceKey), kBobId, key(kBobKey));
  REQUIRE(f);
  CHECK(group_safety_number(f->displayable) ==
        "30035 44776 92869 39689 28698 76765 45825 75691 62576 84344 09180 79131");
  CHECK(group_safety_number("") == "");
  CHECK(group_safety_number("1234567") == "12345 67");
}

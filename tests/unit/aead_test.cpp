// hush unit tests: AES-256-GCM (used for encryption at rest) against the GCM specification's
// AES-256 test cases (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14
// and 16), plus tamper and wrong-key behaviour.
#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include "crypto/aead.h"

using namespace hush;
using hush::internal::crypto::Aes256Gcm;

namespace {
Bytes hex(std::string_view h) {
  auto b = from_hex(h);
  REQUIRE(b);
  return *b;
}
Bytes plain(const SecretBytes& s) {
  return Bytes(s.expose().begin(), s.expose().end());
}
}  // namespace

TEST_CASE("AES-256-GCM known answers", "[unit][vectors]") {
  Aes256Gcm gcm;
  struct Case {
    const char *key, *iv, *aad, *pt, *ct, *tag;
  };
  const Case cases[] = {
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "00000000000000000000000000000000",
       "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
      {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
       "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
       "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
       "49a6b525b16aedf5aa0de657ba637b39",
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
       "56828838c5f61e6393ba7a0abcc9f662",
       "76fc6ece0f4e1768cddf8853bb2d551b"},
  };
  for (const auto& c : cases) {
    Bytes expected = hex(c.ct);
    const Bytes tag = hex(c.tag);
    expected.insert(expected.end(), tag.begin(), tag.end());
    auto sealed = gcm.seal(hex(c.key), hex(c.iv), hex(c.aad), hex(c.pt));
    REQUIRE(sealed);
    CHECK(*sealed == expected);
    auto opened = gcm.open(hex(c.key), hex(c.iv), hex(c.aad), expected);
    REQUIRE(opened);
    CHECK(plain(*opened) == hex(c.pt));
  }
}

TEST_CASE("AES-256-GCM refuses tampering, wrong keys and wrong associated data", "[unit]") {
  Aes256Gcm gcm;
  const Bytes key(32, 7), nonce(12, 9), aad = {'r', 'o', 'w'}, pt = {'s', 'e', 'c', 'r', 'e', 't'};
  auto sealed = gcm.seal(key, nonce, aad, pt);
  REQUIRE(sealed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    Bytes bad = *sealed;
    bad[i] ^= 1;
    auto r = gcm.open(key, nonce, aad, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidMessage);
  }
  Bytes other_key = key;
  other_key[0] ^= 1;
  CHECK_FALSE(gcm.open(other_key, nonce, aad, *sealed));
  CHECK_FALSE(gcm.open(key, nonce, Bytes{'r', 'o', 'x'}, *sealed));
  CHECK_FALSE(gcm.open(key, nonce, aad, Bytes(15, 0)));
  CHECK(gcm.open(Bytes(31, 0), nonce, aad, *sealed).error().code() == Errc::kInvalidArgument);
  CHECK(gcm.seal(key, Bytes(11, 0), aad, pt).error().code() == Errc::kInvalidArgument);
  auto ok = gcm.open(key, nonce, aad, *sealed);
  REQUIRE(ok);
  CHECK(plain(*ok) == pt);
}

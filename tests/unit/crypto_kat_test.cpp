// hush unit tests: known-answer tests for the internal crypto API (src/crypto/*.h).
//
// Every vector is copied from its published source, named next to it:
//   RFC 7748 (X25519), RFC 8032 §7.1 (Ed25519), RFC 5869 appendix A (HKDF-SHA256),
//   RFC 4231 §4 (HMAC-SHA-256), FIPS 180-2 appendices B and C (SHA-256, SHA-512),
//   NIST SP 800-38A F.2.5/F.2.6 (CBC-AES256), and libsignal-protocol-c's tests
//   (tests/test_curve25519.c, tests/test_ratchet.c), which the wire spec §13 quotes.
// Properties that have no published vector (PKCS#7 edge cases, object reuse, tampering) are
// checked against the vectors or against each other.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/cipher.h"
#include "crypto/field25519.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/signature.h"
#include "crypto/x25519.h"

namespace {

namespace crypto = hush::internal::crypto;
using hush::Bytes;
using hush::ByteView;
using hush::Errc;

// ---- helpers ----

/// Bytes from hex; fails the test on malformed hex (a typo in a vector).
Bytes hex(std::string_view s) {
  std::optional<Bytes> b = hush::from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

/// Exactly N bytes from hex.
template <std::size_t N>
std::array<std::uint8_t, N> hex_array(std::string_view s) {
  const Bytes b = hex(s);
  REQUIRE(b.size() == N);
  std::array<std::uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

/// Lowercase hex, for readable comparisons.
std::string hx(ByteView v) {
  return hush::to_hex(v);
}

/// A copy of `c` with bit `bit` of byte `index` flipped.
template <class C>
C flip_bit(C c, std::size_t index, unsigned bit) {
  c[index] = static_cast<std::uint8_t>(c[index] ^ (1U << bit));
  return c;
}

/// A deterministic byte stream for property tests (SHA-256 in counter mode over a label).
class TestBytes {
 public:
  explicit TestBytes(std::string_view label) : label_(label) {}
  void fill(std::span<std::uint8_t> out) {
    for (std::uint8_t& b : out) {
      if (pos_ == block_.size()) refill();
      b = block_[pos_++];
    }
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> array() {
    std::array<std::uint8_t, N> out{};
    fill(out);
    return out;
  }
  Bytes bytes(std::size_t n) {
    Bytes out(n);
    fill(out);
    return out;
  }
  std::size_t below(std::size_t n) {
    std::array<std::uint8_t, 4> b{};
    fill(b);
    const std::size_t v = std::size_t{b[0]} | std::size_t{b[1]} << 8U | std::size_t{b[2]} << 16U |
                          std::size_t{b[3]} << 24U;
    return v % n;
  }

 private:
  void refill() {
    Bytes input(label_.begin(), label_.end());
    for (unsigned i = 0; i < 8; ++i)
      input.push_back(static_cast<std::uint8_t>(counter_ >> (8U * i)));
    ++counter_;
    block_ = crypto::sha256(input);
    pos_ = 0;
  }
  std::string label_;
  std::uint64_t counter_ = 0;
  std::array<std::uint8_t, 32> block_{};
  std::size_t pos_ = 32;
};

/// X25519 that REQUIREs success and returns the output as plain bytes (test data only).
std::array<std::uint8_t, 32> dh(std::span<const std::uint8_t, 32> k,
                                std::span<const std::uint8_t, 32> u) {
  hush::Result<hush::SecretArray<32>> r = crypto::x25519(k, u);
  REQUIRE(r.has_value());
  std::array<std::uint8_t, 32> out{};
  std::copy(r->expose().begin(), r->expose().end(), out.begin());
  return out;
}

const std::array<std::uint8_t, 32> kBasePoint{9};

}  // namespace

// =================================================================================================
// 1. X25519 (RFC 7748)
// =================================================================================================

TEST_CASE("X25519: RFC 7748 section 5.2 test vectors", "[unit][vectors]") {
  // RFC 7748 §5.2. The scalars are not clamped and the second u has its top bit set (0x93): X25519
  // clamps the scalar and masks that bit itself.
  struct Vector {
    const char* scalar;
    const char* u;
    const char* out;
  };
  const Vector vectors[] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (const Vector& v : vectors) {
    CAPTURE(v.scalar);
    const auto k = hex_array<32>(v.scalar);
    const auto u = hex_array<32>(v.u);
    CHECK(hx(dh(k, u)) == v.out);
    // Clamping first changes nothing: x25519 clamps internally.
    auto clamped = k;
    crypto::x25519_clamp(clamped);
    CHECK(clamped != k);
    CHECK(hx(dh(clamped, u)) == v.out);
    // Bit 255 of u is ignored (RFC 7748 §5: implementations MUST mask it).
    CHECK(hx(dh(k, flip_bit(u, 31, 7))) == v.out);
  }
}

TEST_CASE("X25519: RFC 7748 section 5.2 iterated vector (1 and 1,000 iterations)",
          "[unit][vectors]") {
  // RFC 7748 §5.2: k = u = 9; each iteration sets k = X25519(k, u) and u = the old k.
  std::array<std::uint8_t, 32> k = kBasePoint;
  std::array<std::uint8_t, 32> u = kBasePoint;
  for (int i = 1; i <= 1000; ++i) {
    const std::array<std::uint8_t, 32> next = dh(k, u);
    u = k;
    k = next;
    if (i == 1) CHECK(hx(k) == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
  }
  CHECK(hx(k) == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

TEST_CASE("X25519: RFC 7748 section 6.1 Diffie-Hellman", "[unit][vectors]") {
  const auto a = hex_array<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto b = hex_array<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const char* const kA = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  const char* const kB = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  const char* const kK = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

  const std::array<std::uint8_t, 32> pub_a = crypto::x25519_public(a);
  const std::array<std::uint8_t, 32> pub_b = crypto::x25519_public(b);
  CHECK(hx(pub_a) == kA);
  CHECK(hx(pub_b) == kB);
  // x25519_public(k) is X25519(k, 9).
  CHECK(hx(dh(a, kBasePoint)) == kA);
  CHECK(hx(dh(b, kBasePoint)) == kB);
  CHECK(hx(dh(a, pub_b)) == kK);
  CHECK(hx(dh(b, pub_a)) == kK);
}

TEST_CASE("X25519: libsignal-protocol-c key and agreement vectors", "[unit][vectors]") {
  // libsignal-protocol-c tests/test_curve25519.c test_curve25519_agreement and
  // test_curve25519_generate_public (public keys there carry the 0x05 type byte, dropped here).
  const auto alice_priv =
      hex_array<32>("c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59");
  const auto bob_priv =
      hex_array<32>("b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466");
  const auto alice_pub =
      hex_array<32>("1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28");
  const auto bob_pub =
      hex_array<32>("653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f");
  const char* const kShared = "325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629";
  CHECK(crypto::x25519_public(alice_priv) == alice_pub);
  CHECK(crypto::x25519_public(bob_priv) == bob_pub);
  CHECK(hx(dh(alice_priv, bob_pub)) == kShared);
  CHECK(hx(dh(bob_priv, alice_pub)) == kShared);

  // Wire spec §13 signature key (test_curve25519.c test_curve25519_signature) and Bob's identity
  // and signed pre-key from tests/test_ratchet.c. (That file's Bob "ephemeral" public and private
  // keys are not a pair, and the v3 ratchet test never needs them to be, so they are not used.)
  struct Pair {
    const char* priv;
    const char* pub;
  };
  const Pair pairs[] = {
      {"c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865",
       "ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64"},
      {"4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e",
       "f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626"},
      {"583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253",
       "ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67"},
  };
  for (const Pair& p : pairs) {
    CAPTURE(p.priv);
    CHECK(hx(crypto::x25519_public(hex_array<32>(p.priv))) == p.pub);
  }
}

TEST_CASE("X25519: the fixed-base public key agrees with the ladder", "[unit]") {
  // x25519_public goes through Edwards25519 and our own field arithmetic (crypto/field25519.h);
  // X25519(k, 9) is libsodium's Montgomery ladder. 2000 scalars from a fixed seed, plus edge
  // scalars (all zeros, all ones, one bit set: all clamped the same way by both).
  std::mt19937_64 rng(0x6875736875);  // fixed: a failure replays
  std::vector<std::array<std::uint8_t, 32>> scalars;
  for (int i = 0; i < 2000; ++i) {
    std::array<std::uint8_t, 32> k{};
    for (auto& b : k)
      b = static_cast<std::uint8_t>(rng());
    scalars.push_back(k);
  }
  scalars.push_back({});
  std::array<std::uint8_t, 32> ones{};
  ones.fill(0xFF);
  scalars.push_back(ones);
  for (int bit = 0; bit < 256; bit += 17) {
    std::array<std::uint8_t, 32> k{};
    k[static_cast<std::size_t>(bit / 8)] = static_cast<std::uint8_t>(1U << (bit % 8));
    scalars.push_back(k);
  }
  int mismatches = 0;
  for (const auto& k : scalars) {
    const std::array<std::uint8_t, 32> u = crypto::x25519_public(k);
    if (u != dh(k, kBasePoint)) ++mismatches;
    // And back: the u maps to an Edwards y whose Montgomery image is u again (y = (u-1)/(u+1)
    // and u = (1+y)/(1-y) are inverse maps); checked through the signature path's conversion.
    std::array<std::uint8_t, 32> y{};
    REQUIRE(crypto::montgomery_to_edwards(u, y));
    CHECK((y[31] & 0x80U) == 0);
  }
  CHECK(mismatches == 0);
}

TEST_CASE("montgomery_to_edwards: non-canonical u reduces mod p", "[unit]") {
  // u = p + 9 (< 2^255) is the base point's u, non-canonically encoded; bit 255 is ignored.
  const auto p_plus_9 =
      hex_array<32>("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  std::array<std::uint8_t, 32> y{};
  REQUIRE(crypto::montgomery_to_edwards(p_plus_9, y));
  CHECK(hx(y) == "5866666666666666666666666666666666666666666666666666666666666666");
  auto nine_top = kBasePoint;
  nine_top[31] |= 0x80U;
  REQUIRE(crypto::montgomery_to_edwards(nine_top, y));
  CHECK(hx(y) == "5866666666666666666666666666666666666666666666666666666666666666");
  // u = 0 (the point of order 2) maps to y = -1.
  const std::array<std::uint8_t, 32> zero{};
  REQUIRE(crypto::montgomery_to_edwards(zero, y));
  CHECK(hx(y) == "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
}

TEST_CASE("X25519: clamping", "[unit][vectors]") {
  std::array<std::uint8_t, 32> k{};
  k.fill(0xFF);
  crypto::x25519_clamp(k);
  CHECK(hx(k) == "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  k.fill(0x00);
  crypto::x25519_clamp(k);
  CHECK(hx(k) == "0000000000000000000000000000000000000000000000000000000000000040");
  auto rfc = hex_array<32>("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  crypto::x25519_clamp(rfc);
  CHECK(hx(rfc) == "a046e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449a44");
}

TEST_CASE("X25519: low-order points are refused with kInvalidKey", "[unit][vectors]") {
  // The points of order 1, 2, 4 and 8 on Curve25519 and its twist, and the non-canonical
  // encodings (>= p) of 0 and 1: the first seven entries of the classic 12-value X25519 blacklist
  // (cr.yp.to/ecdh.html; Crypto++ and libsodium carry it). Each is also tried with bit 255 set,
  // which RFC 7748 decoding masks off, so it denotes the same point.
  const char* const low_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",  // 0 (order 4)
      "0100000000000000000000000000000000000000000000000000000000000000",  // 1 (order 1)
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1 (order 2)
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p = 0
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 = 1
  };
  std::vector<std::array<std::uint8_t, 32>> scalars = {
      hex_array<32>("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
      hex_array<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
  };
  TestBytes rnd("x25519 low order");
  for (int i = 0; i < 6; ++i)
    scalars.push_back(rnd.array<32>());

  for (const char* p : low_order) {
    for (unsigned top = 0; top < 2; ++top) {
      auto u = hex_array<32>(p);
      if (top != 0) u = flip_bit(u, 31, 7);
      CAPTURE(hx(u));
      for (const auto& k : scalars) {
        const hush::Result<hush::SecretArray<32>> r = crypto::x25519(k, u);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == Errc::kInvalidKey);
      }
    }
  }

  // The rest of the classic 12-value list (p + each order-8 point, 2p - 1, 2p, 2p + 1) is low
  // order only for a decoder that reduces all 256 bits mod p. RFC 7748 §5 decoding (libsodium's
  // and OpenSSL's) first masks bit 255, which turns each of them into an ordinary point (p + x
  // becomes x - 19, 2p + c becomes p - 19 + c), so X25519 accepts them exactly as it accepts the
  // masked value (OpenSSL's X25519 gives the same non-zero outputs).
  const char* const masked_ordinary[] = {
      "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
      "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
      "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  for (const char* p : masked_ordinary) {
    const auto u = hex_array<32>(p);
    CAPTURE(p);
    CHECK(dh(scalars[0], u) == dh(scalars[0], flip_bit(u, 31, 7)));
  }
}

// =================================================================================================
// 2. Ed25519 (RFC 8032) and Signal's curve25519 signatures (wire spec §7, §13)
// =================================================================================================

namespace {

/// S + L for the S half of a signature (S < L, so the sum stays below 2^254): the same scalar
/// mod L in a non-canonical encoding. Bit 7 of byte 63 is left as it was.
std::array<std::uint8_t, 64> add_group_order(std::array<std::uint8_t, 64> sig) {
  // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  const auto l = hex_array<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  const std::uint8_t top = sig[63] & 0x80U;
  sig[63] &= 0x7FU;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = unsigned{sig[32 + i]} + unsigned{l[i]} + carry;
    sig[32 + i] = static_cast<std::uint8_t>(sum & 0xFFU);
    carry = sum >> 8U;
  }
  REQUIRE(carry == 0);
  REQUIRE((sig[63] & 0x80U) == 0);
  sig[63] = static_cast<std::uint8_t>(sig[63] | top);
  return sig;
}

struct Ed25519Vector {
  const char* name;
  const char* seed;
  const char* pub;
  std::string msg_hex;
  const char* sig;
};

std::vector<Ed25519Vector> rfc8032_vectors() {
  // RFC 8032 §7.1. The 1023-byte message of TEST 1024 is split over lines.
  const std::string msg1024 =
      "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
      "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
      "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
      "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
      "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
      "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
      "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
      "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
      "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
      "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
      "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
      "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
      "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
      "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
      "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
      "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
      "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
      "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
      "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
      "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
      "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
      "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
      "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
      "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
      "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
      "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
      "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
      "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
      "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
      "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
      "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
      "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0";
  // TEST SHA(abc): the message is SHA-512("abc") (FIPS 180-2), checked in the SHA test below.
  const std::string sha_abc =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
  return {
      {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
       "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
      {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
       "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", msg1024,
       "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
       "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"},
      {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
       "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", sha_abc,
       "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
       "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
  };
}

}  // namespace

TEST_CASE("Ed25519: RFC 8032 section 7.1 test vectors verify", "[unit][vectors]") {
  for (const Ed25519Vector& v : rfc8032_vectors()) {
    CAPTURE(v.name);
    const auto pub = hex_array<32>(v.pub);
    const Bytes msg = hex(v.msg_hex);
    const auto sig = hex_array<64>(v.sig);
    if (std::string_view(v.name) == "TEST 1024") CHECK(msg.size() == 1023);
    CHECK(crypto::ed25519_verify(pub, msg, sig));

    // Any single flipped bit of the message, the signature or the public key breaks it.
    for (std::size_t i = 0; i < msg.size(); i += 1 + msg.size() / 16) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        CAPTURE(i, bit);
        CHECK_FALSE(crypto::ed25519_verify(pub, flip_bit(msg, i, bit), sig));
      }
    }
    Bytes longer = msg;
    longer.push_back(0x00);
    CHECK_FALSE(crypto::ed25519_verify(pub, longer, sig));
    for (std::size_t i = 0; i < sig.size(); ++i) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        CAPTURE(i, bit);
        CHECK_FALSE(crypto::ed25519_verify(pub, msg, flip_bit(sig, i, bit)));
      }
    }
    for (std::size_t i = 0; i < pub.size(); ++i) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        CAPTURE(i, bit);
        CHECK_FALSE(crypto::ed25519_verify(flip_bit(pub, i, bit), msg, sig));
      }
    }
    // S + L is the same scalar, non-canonically encoded: refused (S < L is required).
    CHECK_FALSE(crypto::ed25519_verify(pub, msg, add_group_order(sig)));
  }
}

TEST_CASE("Ed25519 keys and the Montgomery form: RFC 8032 section 7.1 keys", "[unit][vectors]") {
  // The Ed25519 key of seed s is A = a*B with a = clamp(SHA-512(s)[0..32]); the X25519 key of the
  // same a is the Montgomery u of A, so montgomery_to_edwards(x25519_public(a)) is A's y (A with
  // its sign bit cleared). And an RFC 8032 signature is a curve25519_verify signature once A's sign
  // bit is put into bit 7 of sig[63] (wire spec §7.2).
  for (const Ed25519Vector& v : rfc8032_vectors()) {
    CAPTURE(v.name);
    const auto pub = hex_array<32>(v.pub);
    const Bytes msg = hex(v.msg_hex);
    const auto sig = hex_array<64>(v.sig);

    const std::array<std::uint8_t, 64> h = crypto::sha512(hex(v.seed));
    std::array<std::uint8_t, 32> a{};
    std::copy_n(h.begin(), 32, a.begin());
    crypto::x25519_clamp(a);
    const std::array<std::uint8_t, 32> u = crypto::x25519_public(a);

    std::array<std::uint8_t, 32> y{};
    REQUIRE(crypto::montgomery_to_edwards(u, y));
    auto expected_y = pub;
    expected_y[31] &= 0x7FU;
    CHECK(hx(y) == hx(expected_y));

    REQUIRE((sig[63] & 0x80U) == 0);  // S < L < 2^253
    auto with_sign = sig;
    with_sign[63] = static_cast<std::uint8_t>(with_sign[63] | (pub[31] & 0x80U));
    CHECK(crypto::curve25519_verify(u, msg, with_sign));
    CHECK_FALSE(crypto::curve25519_verify(u, msg, flip_bit(with_sign, 63, 7)));
  }
}

TEST_CASE("montgomery_to_edwards: u = -1 has no Edwards point", "[unit][vectors]") {
  // y = (u - 1) / (u + 1) is undefined for u = p - 1.
  const auto minus_one =
      hex_array<32>("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  std::array<std::uint8_t, 32> y{};
  CHECK_FALSE(crypto::montgomery_to_edwards(minus_one, y));
  // u = 9 (the base point) maps to the Ed25519 base point's y = 4/5.
  REQUIRE(crypto::montgomery_to_edwards(kBasePoint, y));
  CHECK(hx(y) == "5866666666666666666666666666666666666666666666666666666666666666");
}

TEST_CASE("Signal signatures: wire spec section 13 / libsignal-protocol-c vector",
          "[unit][vectors]") {
  // libsignal-protocol-c tests/test_curve25519.c test_curve25519_signature: Alice's identity key
  // signs her ephemeral public key (33 bytes with the 0x05 type byte).
  const auto priv =
      hex_array<32>("c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865");
  const auto u = hex_array<32>("ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64");
  const Bytes msg = hex("05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a");
  const auto sig = hex_array<64>(
      "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfb"
      "ede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88");

  CHECK(crypto::x25519_public(priv) == u);
  CHECK((sig[63] & 0x80U) != 0);  // A's sign bit is 1 for this key
  CHECK(crypto::curve25519_verify(u, msg, sig));
  CHECK_FALSE(crypto::curve25519_verify(u, msg, flip_bit(sig, 63, 7)));

  // Every single-bit change of the signature or message fails (the libsignal test flips bit 0 of
  // each signature byte).
  for (std::size_t i = 0; i < sig.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      CAPTURE(i, bit);
      CHECK_FALSE(crypto::curve25519_verify(u, msg, flip_bit(sig, i, bit)));
    }
  }
  for (std::size_t i = 0; i < msg.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      CAPTURE(i, bit);
      CHECK_FALSE(crypto::curve25519_verify(u, flip_bit(msg, i, bit), sig));
    }
  }
  // So does a change of the key, except bit 255 of u, which X25519 decoding ignores.
  for (std::size_t i = 0; i < u.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      CAPTURE(i, bit);
      if (i == 31 && bit == 7) {
        CHECK(crypto::curve25519_verify(flip_bit(u, i, bit), msg, sig));
      } else {
        CHECK_FALSE(crypto::curve25519_verify(flip_bit(u, i, bit), msg, sig));
      }
    }
  }
  // hush requires a canonical S (libsodium's check), so S + L is refused.
  CHECK_FALSE(crypto::curve25519_verify(u, msg, add_group_order(sig)));

  // The same check through the public pieces (§7.2): A = (y of u, sign bit of sig[63]) and the
  // signature with that bit cleared is an ordinary Ed25519 signature.
  std::array<std::uint8_t, 32> a{};
  REQUIRE(crypto::montgomery_to_edwards(u, a));
  a[31] = static_cast<std::uint8_t>(a[31] | (sig[63] & 0x80U));
  auto plain = sig;
  plain[63] &= 0x7FU;
  CHECK(crypto::ed25519_verify(a, msg, plain));

  // hush's own signatures by this key verify and carry the same sign bit (it belongs to A).
  TestBytes rnd("section 13 key");
  for (int i = 0; i < 4; ++i) {
    const auto z = rnd.array<64>();
    const std::array<std::uint8_t, 64> mine = crypto::curve25519_sign(priv, msg, z);
    CHECK((mine[63] & 0x80U) != 0);
    CHECK(crypto::curve25519_verify(u, msg, mine));
    CHECK(mine != sig);  // the nonce depends on the random bytes
  }
}

TEST_CASE("Signal signatures: curve25519_sign round trips", "[unit][vectors]") {
  TestBytes rnd("curve25519_sign round trips");
  int sign_bit_set = 0;
  constexpr int kKeys = 64;
  std::array<std::uint8_t, 32> previous_pub{};
  for (int key = 0; key < kKeys; ++key) {
    CAPTURE(key);
    auto k = rnd.array<32>();
    crypto::x25519_clamp(k);
    const std::array<std::uint8_t, 32> pub = crypto::x25519_public(k);
    const Bytes msg = rnd.bytes(key == 0 ? 0 : rnd.below(300));
    const auto z1 = rnd.array<64>();
    const auto z2 = rnd.array<64>();

    const std::array<std::uint8_t, 64> sig = crypto::curve25519_sign(k, msg, z1);
    const std::array<std::uint8_t, 64> sig2 = crypto::curve25519_sign(k, msg, z2);
    CHECK(crypto::curve25519_verify(pub, msg, sig));
    CHECK(crypto::curve25519_verify(pub, msg, sig2));
    CHECK(sig != sig2);
    CHECK((sig[63] & 0x80U) == (sig2[63] & 0x80U));     // the sign bit is A's, not the nonce's
    CHECK(crypto::curve25519_sign(k, msg, z1) == sig);  // deterministic given the random bytes
    if ((sig[63] & 0x80U) != 0) ++sign_bit_set;

    // Tampering.
    if (!msg.empty()) {
      const std::size_t i = rnd.below(msg.size());
      CHECK_FALSE(crypto::curve25519_verify(
          pub, flip_bit(msg, i, static_cast<unsigned>(rnd.below(8))), sig));
    }
    Bytes longer = msg;
    longer.push_back(0x00);
    CHECK_FALSE(crypto::curve25519_verify(pub, longer, sig));
    const std::size_t byte = rnd.below(64);
    const auto bit = static_cast<unsigned>(rnd.below(8));
    CAPTURE(byte, bit);
    CHECK_FALSE(crypto::curve25519_verify(pub, msg, flip_bit(sig, byte, bit)));
    CHECK_FALSE(crypto::curve25519_verify(pub, msg, flip_bit(sig, 63, 7)));
    CHECK_FALSE(crypto::curve25519_verify(pub, msg, add_group_order(sig)));
    if (key > 0) CHECK_FALSE(crypto::curve25519_verify(previous_pub, msg, sig));
    previous_pub = pub;
  }
  // A's sign bit is 0 or 1 with probability 1/2 each: both must occur among 64 random keys.
  CHECK(sign_bit_set > 0);
  CHECK(sign_bit_set < kKeys);
}

// =================================================================================================
// 3. HKDF-SHA256 (RFC 5869) and HMAC-SHA-256 (RFC 4231)
// =================================================================================================

TEST_CASE("HKDF-SHA256: RFC 5869 appendix A.1, A.2, A.3", "[unit][vectors]") {
  struct Vector {
    const char* name;
    std::string ikm;
    std::string salt;
    std::string info;
    const char* prk;
    const char* okm;
  };
  std::string ikm2, salt2, info2;
  for (unsigned i = 0x00; i < 0x50; ++i)
    ikm2 += hush::to_hex(Bytes{static_cast<std::uint8_t>(i)});
  for (unsigned i = 0x60; i < 0xb0; ++i)
    salt2 += hush::to_hex(Bytes{static_cast<std::uint8_t>(i)});
  for (unsigned i = 0xb0; i < 0x100; ++i)
    info2 += hush::to_hex(Bytes{static_cast<std::uint8_t>(i)});
  const Vector vectors[] = {
      {"A.1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
       "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
      {"A.2", ikm2, salt2, info2,
       "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
       "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"A.3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
       "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
  };
  CHECK(ikm2.size() == 160);
  CHECK(info2.substr(info2.size() - 4) == "feff");

  crypto::HmacSha256 hmac;  // one object for everything: it must be reusable
  for (const Vector& v : vectors) {
    CAPTURE(v.name);
    const Bytes ikm = hex(v.ikm);
    const Bytes salt = hex(v.salt);
    const Bytes info = hex(v.info);
    const Bytes expected = hex(v.okm);
    Bytes okm(expected.size());
    crypto::hkdf_sha256(hmac, ikm, salt, info, okm);
    CHECK(hx(okm) == v.okm);

    // The PRK is internal to hkdf_sha256; check the extract step as HMAC(salt, IKM), where an
    // empty salt means HashLen zero bytes (RFC 5869 §2.2).
    const Bytes zero_salt(32, 0x00);
    std::array<std::uint8_t, 32> prk{};
    hmac.mac(salt.empty() ? ByteView(zero_salt) : ByteView(salt), ikm, prk);
    CHECK(hx(prk) == v.prk);
    if (salt.empty()) {
      Bytes okm_zero_salt(expected.size());
      crypto::hkdf_sha256(hmac, ikm, zero_salt, info, okm_zero_salt);
      CHECK(okm_zero_salt == expected);
    }
    // A shorter output is a prefix of the longer one (one expand stream).
    Bytes prefix(20);
    crypto::hkdf_sha256(hmac, ikm, salt, info, prefix);
    CHECK(std::equal(prefix.begin(), prefix.end(), expected.begin()));
  }
}

namespace {

struct HmacVector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;  // 64 hex digits, or 32 for the truncated test case 5
};

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s;
  return out;
}

std::vector<HmacVector> rfc4231_vectors() {
  // RFC 4231 §4.2-§4.8 (test cases 1-7), HMAC-SHA-256 results.
  const std::string aa131 = repeat("aa", 131);
  return {
      {"4.2 (test case 1)", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"4.3 (test case 2)", "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"4.4 (test case 3)", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", repeat("dd", 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4.5 (test case 4)", "0102030405060708090a0b0c0d0e0f10111213141516171819", repeat("cd", 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"4.6 (test case 5, truncated to 128 bits)", "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
       "546573742057697468205472756e636174696f6e", "a3b6167473100ee06e0c796c2955552b"},
      {"4.7 (test case 6)", aa131,
       "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
       "65204b6579202d2048617368204b6579204669727374",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"4.8 (test case 7)", aa131,
       "5468697320697320612074657374207573696e672061206c6172676572207468"
       "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
       "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
       "647320746f20626520686173686564206265666f7265206265696e6720757365"
       "642062792074686520484d414320616c676f726974686d2e",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

/// The MAC in hex, cut to the length of `expected` (test case 5 is truncated).
std::string mac_hex(const std::array<std::uint8_t, 32>& mac, std::string_view expected) {
  return hx(ByteView(mac).first(expected.size() / 2));
}

}  // namespace

TEST_CASE("HMAC-SHA256: RFC 4231 section 4.2-4.8", "[unit][vectors]") {
  const std::vector<HmacVector> vectors = rfc4231_vectors();
  // Sanity of the transcription: lengths as stated in the RFC.
  CHECK(hex(vectors[3].data).size() == 50);
  CHECK(hex(vectors[5].key).size() == 131);
  CHECK(hex(vectors[6].data).size() == 152);

  crypto::HmacSha256 shared;  // reused across all vectors, twice over
  for (int round = 0; round < 2; ++round) {
    for (const HmacVector& v : vectors) {
      CAPTURE(round, v.name);
      const Bytes key = hex(v.key);
      const Bytes data = hex(v.data);

      // One-shot on a fresh object and on the shared one.
      crypto::HmacSha256 fresh;
      std::array<std::uint8_t, 32> out{};
      fresh.mac(key, data, out);
      CHECK(mac_hex(out, v.mac) == v.mac);
      out.fill(0);
      shared.mac(key, data, out);
      CHECK(mac_hex(out, v.mac) == v.mac);

      // Incremental: init / update in pieces of several sizes (including empty ones) / final.
      for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{64}}) {
        CAPTURE(piece);
        out.fill(0);
        shared.init(key);
        shared.update({});
        for (std::size_t pos = 0; pos < data.size(); pos += piece)
          shared.update(ByteView(data).subspan(pos, std::min(piece, data.size() - pos)));
        shared.final(out);
        CHECK(mac_hex(out, v.mac) == v.mac);
      }
    }
  }
}

TEST_CASE("HMAC-SHA256: empty key, and reuse after other keys", "[unit][vectors]") {
  // HMAC-SHA256 with an empty key over an empty message (the well-known value, also given by
  // Python's hmac and OpenSSL).
  const char* const kEmptyEmpty =
      "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
  crypto::HmacSha256 h;
  std::array<std::uint8_t, 32> out{};
  h.mac({}, {}, out);
  CHECK(hx(out) == kEmptyEmpty);

  // After a MAC under a non-empty key, an empty key must not fall back to the previous key.
  const Bytes jefe = hex("4a656665");
  const Bytes what = hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f");
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    h.mac(jefe, what, out);
    CHECK(hx(out) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    h.mac({}, {}, out);
    CHECK(hx(out) == kEmptyEmpty);
  }

  // HMAC pads keys shorter than the block with zeros, so an empty key and 32 zero bytes give the
  // same MAC (which is why HKDF's "no salt" equals a zero salt).
  const Bytes zeros(32, 0x00);
  std::array<std::uint8_t, 32> with_zeros{};
  h.mac(zeros, what, with_zeros);
  h.mac({}, what, out);
  CHECK(out == with_zeros);
  h.mac(jefe, what, out);
  CHECK(out != with_zeros);
}

// =================================================================================================
// 4. SHA-256 and SHA-512 (FIPS 180-2)
// =================================================================================================

TEST_CASE("SHA-256 and SHA-512: FIPS 180-2 examples", "[unit][vectors]") {
  // FIPS 180-2 appendix B.1/B.2 (SHA-256) and C.1/C.2 (SHA-512); the empty-message digests are
  // NIST's published examples for the zero-length message.
  const std::string_view abc = "abc";
  const std::string_view two_block_256 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string_view two_block_512 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno"
      "pqrsmnopqrstnopqrstu";
  const char* const kSha256Abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const char* const kSha256Empty =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const char* const kSha512Abc =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
  const char* const kSha512Empty =
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
  const char* const kSha512TwoBlock =
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909";

  CHECK(two_block_256.size() == 56);
  CHECK(two_block_512.size() == 112);
  CHECK(hx(crypto::sha256(hush::as_bytes(abc))) == kSha256Abc);
  CHECK(hx(crypto::sha256({})) == kSha256Empty);
  CHECK(hx(crypto::sha256(hush::as_bytes(two_block_256))) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hx(crypto::sha512(hush::as_bytes(abc))) == kSha512Abc);
  CHECK(hx(crypto::sha512({})) == kSha512Empty);
  CHECK(hx(crypto::sha512(hush::as_bytes(two_block_512))) == kSha512TwoBlock);

  // Incremental SHA-512: final() resets, so the same object hashes message after message.
  crypto::Sha512 h;
  std::array<std::uint8_t, 64> out{};
  h.final(out);  // nothing added yet: the empty message
  CHECK(hx(out) == kSha512Empty);
  h.update(hush::as_bytes("a"));
  h.update({});
  h.update(hush::as_bytes("bc"));
  h.final(out);
  CHECK(hx(out) == kSha512Abc);
  h.final(out);  // immediately again: the empty message, not "abc" again
  CHECK(hx(out) == kSha512Empty);
  for (std::size_t pos = 0; pos < two_block_512.size(); pos += 5)
    h.update(hush::as_bytes(two_block_512.substr(pos, 5)));
  h.final(out);
  CHECK(hx(out) == kSha512TwoBlock);
  h.update(hush::as_bytes(abc));
  h.final(out);
  CHECK(hx(out) == kSha512Abc);
}

// =================================================================================================
// 5. AES-256-CBC (NIST SP 800-38A) and PKCS#7
// =================================================================================================

namespace {
const char* const kAesKey = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const char* const kAesIv = "000102030405060708090a0b0c0d0e0f";
const char* const kAesPlain =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const char* const kAesCipher =
    "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
    "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";
}  // namespace

TEST_CASE("AES-256-CBC: NIST SP 800-38A F.2.5 and F.2.6", "[unit][vectors]") {
  const Bytes key = hex(kAesKey);
  const Bytes iv = hex(kAesIv);
  const Bytes plain = hex(kAesPlain);
  const Bytes cipher = hex(kAesCipher);
  crypto::Aes256Cbc aes;

  // F.2.5 CBC-AES256.Encrypt
  hush::Result<Bytes> enc = aes.encrypt_no_padding(key, iv, plain);
  REQUIRE(enc.has_value());
  CHECK(hx(*enc) == kAesCipher);
  // F.2.6 CBC-AES256.Decrypt
  hush::Result<Bytes> dec = aes.decrypt_no_padding(key, iv, cipher);
  REQUIRE(dec.has_value());
  CHECK(hx(*dec) == kAesPlain);
  // Block by block, chaining the IV by hand.
  for (std::size_t block = 0; block < 4; ++block) {
    CAPTURE(block);
    const ByteView chained =
        block == 0 ? ByteView(iv) : ByteView(cipher).subspan(16 * (block - 1), 16);
    hush::Result<Bytes> one =
        aes.encrypt_no_padding(key, chained, ByteView(plain).subspan(16 * block, 16));
    REQUIRE(one.has_value());
    CHECK(hx(*one) == hx(ByteView(cipher).subspan(16 * block, 16)));
  }

  // PKCS#7 over the same 64 bytes: the F.2.5 ciphertext, then one block of sixteen 0x10 bytes.
  hush::Result<Bytes> padded = aes.encrypt(key, iv, plain);
  REQUIRE(padded.has_value());
  REQUIRE(padded->size() == 80);
  CHECK(hx(ByteView(*padded).first(64)) == kAesCipher);
  hush::Result<Bytes> pad_block =
      aes.encrypt_no_padding(key, ByteView(cipher).subspan(48, 16), Bytes(16, 0x10));
  REQUIRE(pad_block.has_value());
  CHECK(hx(ByteView(*padded).subspan(64)) == hx(*pad_block));
  hush::Result<hush::SecretBytes> back = aes.decrypt(key, iv, *padded);
  REQUIRE(back.has_value());
  CHECK(hx(back->expose()) == kAesPlain);

  // Whole blocks only without padding.
  CHECK_FALSE(aes.encrypt_no_padding(key, iv, ByteView(plain).first(15)).has_value());
  CHECK_FALSE(aes.decrypt_no_padding(key, iv, ByteView(cipher).first(17)).has_value());
}

TEST_CASE("AES-256-CBC: PKCS#7 padding", "[unit][vectors]") {
  const Bytes key = hex(kAesKey);
  const Bytes iv = hex(kAesIv);
  crypto::Aes256Cbc aes;
  TestBytes rnd("pkcs7");

  SECTION("output sizes and round trips for lengths 0..64") {
    for (std::size_t n = 0; n <= 64; ++n) {
      CAPTURE(n);
      const Bytes plain = rnd.bytes(n);
      hush::Result<Bytes> ct = aes.encrypt(key, iv, plain);
      REQUIRE(ct.has_value());
      CHECK(ct->size() == (n / 16 + 1) * 16);
      // The padding is n' = 16 - n % 16 bytes of value n' (checked by unpadded decryption).
      hush::Result<Bytes> raw = aes.decrypt_no_padding(key, iv, *ct);
      REQUIRE(raw.has_value());
      const std::size_t pad = 16 - n % 16;
      CHECK(std::equal(plain.begin(), plain.end(), raw->begin()));
      CHECK(std::all_of(raw->begin() + static_cast<std::ptrdiff_t>(n), raw->end(),
                        [pad](std::uint8_t b) { return b == pad; }));
      hush::Result<hush::SecretBytes> pt = aes.decrypt(key, iv, *ct);
      REQUIRE(pt.has_value());
      CHECK(hx(pt->expose()) == hx(plain));
    }
    hush::Result<Bytes> empty = aes.encrypt(key, iv, {});
    REQUIRE(empty.has_value());
    CHECK(empty->size() == 16);
    hush::Result<Bytes> one_block = aes.encrypt(key, iv, Bytes(16, 0x41));
    REQUIRE(one_block.has_value());
    CHECK(one_block->size() == 32);
  }

  SECTION("bad padding is kInvalidMessage") {
    const Bytes plain = rnd.bytes(16);
    hush::Result<Bytes> ct = aes.encrypt(key, iv, plain);
    REQUIRE(ct.has_value());
    REQUIRE(ct->size() == 32);
    // Corrupting the last byte scrambles the whole padding block.
    Bytes bad = *ct;
    bad.back() = static_cast<std::uint8_t>(bad.back() ^ 0x01U);
    hush::Result<hush::SecretBytes> r = aes.decrypt(key, iv, bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Errc::kInvalidMessage);
    // Changing the previous block's last byte changes the padding byte (0x10) exactly.
    for (std::uint8_t delta :
         {std::uint8_t{0x10}, std::uint8_t{0x01}, std::uint8_t{0x20}, std::uint8_t{0x80}}) {
      CAPTURE(int{delta});
      Bytes changed = *ct;
      changed[15] = static_cast<std::uint8_t>(changed[15] ^ delta);
      hush::Result<hush::SecretBytes> rc = aes.decrypt(key, iv, changed);
      REQUIRE_FALSE(rc.has_value());
      CHECK(rc.error().code() == Errc::kInvalidMessage);
    }

    // Hand-made final blocks (encrypted without padding): only well-formed padding is accepted.
    struct Tail {
      const char* block;
      long plain_len;  // -1: must be refused
    };
    const Tail tails[] = {
        {"000102030405060708090a0b0c0d0e01", 15},  // one byte of padding
        {"000102030405060708090a0b0c0d0202", 14},
        {"10101010101010101010101010101010", 0},   // a full padding block
        {"000102030405060708090a0b0c0d0e00", -1},  // padding byte 0
        {"000102030405060708090a0b0c0d0e11", -1},  // padding byte 17 > block size
        {"000102030405060708090a0b0c0d0302", -1},  // 02 02 expected, 03 02 found
        {"000102030405060708090a0b0c101010", -1},  // 0x10 claimed, only 3 bytes of it
    };
    for (const Tail& t : tails) {
      CAPTURE(t.block);
      hush::Result<Bytes> raw = aes.encrypt_no_padding(key, iv, hex(t.block));
      REQUIRE(raw.has_value());
      hush::Result<hush::SecretBytes> out = aes.decrypt(key, iv, *raw);
      if (t.plain_len < 0) {
        REQUIRE_FALSE(out.has_value());
        CHECK(out.error().code() == Errc::kInvalidMessage);
      } else {
        REQUIRE(out.has_value());
        CHECK(hx(out->expose()) ==
              std::string(t.block).substr(0, static_cast<std::size_t>(t.plain_len) * 2));
      }
    }
  }

  SECTION("wrong ciphertext length is kInvalidMessage") {
    hush::Result<Bytes> ct = aes.encrypt(key, iv, rnd.bytes(20));
    REQUIRE(ct.has_value());
    REQUIRE(ct->size() == 32);
    for (std::size_t len :
         {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{17}, std::size_t{31}}) {
      CAPTURE(len);
      hush::Result<hush::SecretBytes> r = aes.decrypt(key, iv, ByteView(*ct).first(len));
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code() == Errc::kInvalidMessage);
    }
    Bytes longer = *ct;
    longer.push_back(0x00);
    hush::Result<hush::SecretBytes> r = aes.decrypt(key, iv, longer);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Errc::kInvalidMessage);
  }

  SECTION("wrong key or IV size is kInvalidArgument") {
    const Bytes block(16, 0x00);
    for (std::size_t key_len :
         {std::size_t{0}, std::size_t{16}, std::size_t{31}, std::size_t{33}}) {
      CAPTURE(key_len);
      const Bytes k(key_len, 0x42);
      CHECK(aes.encrypt(k, iv, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.decrypt(k, iv, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.encrypt_no_padding(k, iv, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.decrypt_no_padding(k, iv, block).error().code() == Errc::kInvalidArgument);
    }
    for (std::size_t iv_len : {std::size_t{0}, std::size_t{12}, std::size_t{15}, std::size_t{17}}) {
      CAPTURE(iv_len);
      const Bytes v(iv_len, 0x24);
      CHECK(aes.encrypt(key, v, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.decrypt(key, v, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.encrypt_no_padding(key, v, block).error().code() == Errc::kInvalidArgument);
      CHECK(aes.decrypt_no_padding(key, v, block).error().code() == Errc::kInvalidArgument);
    }
    // The object still works after refusals.
    hush::Result<Bytes> enc = aes.encrypt_no_padding(key, iv, hex(kAesPlain));
    REQUIRE(enc.has_value());
    CHECK(hx(*enc) == kAesCipher);
  }
}

// =================================================================================================
// 6. Signal's message-key derivation (wire spec §4.1, §13 "Chain v3")
// =================================================================================================

TEST_CASE("Signal chain step: wire spec section 13 Chain v3 vector", "[unit][vectors]") {
  // libsignal-protocol-c tests/test_ratchet.c test_chain_key_derivation_v3 (cipher key, MAC key,
  // next chain key); the IV is the wire spec §13 value (libsignal's rust/protocol ratchet/keys.rs
  // test has the same).
  const auto ck = hex_array<32>("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f");
  crypto::HmacSha256 hmac;
  const std::uint8_t kMessageKeySeed = 0x01;
  const std::uint8_t kChainKeySeed = 0x02;
  std::array<std::uint8_t, 32> mk_material{};
  std::array<std::uint8_t, 32> next_ck{};
  hmac.mac(ck, ByteView(&kMessageKeySeed, 1), mk_material);
  hmac.mac(ck, ByteView(&kChainKeySeed, 1), next_ck);
  CHECK(hx(next_ck) == "28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d");

  const std::array<std::uint8_t, 32> zero_salt{};
  std::array<std::uint8_t, 80> okm{};
  crypto::hkdf_sha256(hmac, mk_material, zero_salt, hush::as_bytes("WhisperMessageKeys"), okm);
  const ByteView keys(okm);
  CHECK(hx(keys.subspan(0, 32)) ==
        "bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217");
  CHECK(hx(keys.subspan(32, 32)) ==
        "c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b");
  CHECK(hx(keys.subspan(64, 16)) == "afa8207986b692a116d4b40bbff72d6c");
}

// =================================================================================================
// 7. Secret containers and constant-time comparison (<hush/secret.h>)
// =================================================================================================

TEST_CASE("constant_time_equals", "[unit][vectors]") {
  const Bytes a = hex("000102030405060708090a0b0c0d0e0f");
  Bytes b = a;
  CHECK(hush::constant_time_equals(a, b));
  CHECK(hush::constant_time_equals({}, {}));
  CHECK_FALSE(hush::constant_time_equals(a, {}));
  CHECK_FALSE(hush::constant_time_equals({}, a));
  CHECK_FALSE(hush::constant_time_equals(a, ByteView(a).first(15)));
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      CAPTURE(i, bit);
      CHECK_FALSE(hush::constant_time_equals(a, flip_bit(a, i, bit)));
    }
  }
}

TEST_CASE("SecretArray and SecretBytes basics", "[unit][vectors]") {
  const Bytes data = hex("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f");
  const auto all_zero = [](ByteView v) {
    return std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; });
  };

  hush::SecretArray<32> a;
  CHECK(all_zero(a.expose()));
  CHECK(hush::SecretArray<32>::size() == 32);
  REQUIRE(hush::SecretArray<32>::from(data, a));
  CHECK(hx(a.expose()) == hx(data));
  hush::SecretArray<32> wrong;
  CHECK_FALSE(hush::SecretArray<32>::from(ByteView(data).first(31), wrong));
  CHECK(all_zero(wrong.expose()));

  const hush::SecretArray<32> copy = a.clone();
  CHECK(hush::constant_time_equals(copy.expose(), a.expose()));

  hush::SecretArray<32> moved(std::move(a));
  CHECK(hx(moved.expose()) == hx(data));
  CHECK(all_zero(a.expose()));  // NOLINT(bugprone-use-after-move): the wipe is the contract
  hush::SecretArray<32> assigned;
  assigned = std::move(moved);
  CHECK(hx(assigned.expose()) == hx(data));
  CHECK(all_zero(moved.expose()));  // NOLINT(bugprone-use-after-move)
  assigned.expose_mut()[0] = 0x00;
  CHECK_FALSE(hush::constant_time_equals(assigned.expose(), copy.expose()));

  hush::SecretBytes s = hush::SecretBytes::copy_of(data);
  CHECK(s.size() == 32);
  CHECK_FALSE(s.empty());
  CHECK(hx(s.expose()) == hx(data));
  hush::SecretBytes c = s.clone();
  CHECK(hush::constant_time_equals(c.expose(), s.expose()));
  // A plaintext as text, copied out explicitly (bytes as they are, NULs included).
  const std::string text =
      hush::SecretBytes::copy_of(hush::as_bytes(std::string("hi\0there", 8))).expose_as_string();
  CHECK(text == std::string("hi\0there", 8));
  CHECK(hush::SecretBytes().expose_as_string().empty());
  s.truncate(40);  // longer than the size: no change
  CHECK(s.size() == 32);
  s.truncate(5);
  CHECK(s.size() == 5);
  CHECK(hx(s.expose()) == hx(ByteView(data).first(5)));
  CHECK(c.size() == 32);  // the clone is independent
  s.truncate(0);
  CHECK(s.empty());

  hush::SecretBytes zeros(7);
  CHECK(zeros.size() == 7);
  CHECK(all_zero(zeros.expose()));
  hush::SecretBytes taken(std::move(c));
  CHECK(hx(taken.expose()) == hx(data));
  CHECK(c.empty());  // NOLINT(bugprone-use-after-move)
  zeros = std::move(taken);
  CHECK(hx(zeros.expose()) == hx(data));
  CHECK(taken.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(hush::SecretBytes().empty());
}

// hush unit tests: every test vector of RFC 9605 Appendix C (tests/vectors/sframe/, whose
// SOURCE.md names where they come from): C.1 header encoding, C.2 the AES-CTR + HMAC AEAD, C.3
// SFrame encryption for all five cipher suites, intermediate values included.
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/secret.h>
#include <hush/sframe.h>

#include "call/sframe_aead.h"
#include "call/sframe_keys.h"
#include "call/sframe_suite.h"
#include "crypto/kdf.h"

#ifndef HUSH_SFRAME_VECTORS_DIR
#error "HUSH_SFRAME_VECTORS_DIR must name tests/vectors/sframe"
#endif

namespace {

namespace call = hush::internal::call;
namespace crypto = hush::internal::crypto;
using hush::Bytes;
using hush::ByteView;
using hush::SframeCipherSuite;

using Vector = std::map<std::string, std::string>;

/// Reads the `~~~ test-vectors` blocks of one of the RFC's files: `name: value` lines, a value
/// continued on indented lines (the RFC's line breaks, removed here).
std::vector<Vector> read_vectors(const std::string& file) {
  std::ifstream in(std::string(HUSH_SFRAME_VECTORS_DIR) + "/" + file);
  REQUIRE(in.good());
  std::vector<Vector> out;
  std::optional<Vector> current;
  std::string last;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("~~~ test-vectors", 0) == 0) {
      current.emplace();
      continue;
    }
    if (line.rfind("~~~", 0) == 0) {
      if (current) out.push_back(*current);
      current.reset();
      continue;
    }
    if (!current || line.empty()) continue;
    if (line[0] == ' ') {  // continuation of the last value
      std::istringstream words(line);
      std::string w;
      while (words >> w)
        (*current)[last] += w;
      continue;
    }
    const auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    last = line.substr(0, colon);
    std::istringstream words(line.substr(colon + 1));
    std::string w;
    std::string value;
    while (words >> w)
      value += w;
    (*current)[last] = value;
  }
  return out;
}

Bytes hex(const std::string& s) {
  auto b = hush::from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

std::uint64_t number(const std::string& s) {
  REQUIRE(s.rfind("0x", 0) == 0);
  return std::stoull(s.substr(2), nullptr, 16);
}

SframeCipherSuite suite_of(const Vector& v) {
  return static_cast<SframeCipherSuite>(number(v.at("cipher_suite")));
}

}  // namespace

TEST_CASE("SFrame RFC 9605 C.1: every header vector encodes and decodes", "[unit][vectors]") {
  const auto vectors = read_vectors("header.md");
  REQUIRE(vectors.size() == 289);  // the RFC's count: every (kid, ctr) length pair
  for (const Vector& v : vectors) {
    const hush::SframeHeader h{number(v.at("kid")), number(v.at("ctr"))};
    const Bytes expected = hex(v.at("header"));
    INFO("kid " << h.key_id << " ctr " << h.counter);
    CHECK(hush::encode_sframe_header(h) == expected);
    auto parsed = hush::parse_sframe_header(expected);
    REQUIRE(parsed);
    CHECK(parsed->header == h);
    CHECK(parsed->size == expected.size());
    // Bytes after the header are not part of it.
    Bytes longer = expected;
    longer.push_back(0xff);
    auto again = hush::parse_sframe_header(longer);
    REQUIRE(again);
    CHECK(again->size == expected.size());
  }
}

TEST_CASE("SFrame RFC 9605 C.2: AES-CTR with HMAC vectors", "[unit][vectors]") {
  const auto vectors = read_vectors("aes-ctr-hmac.md");
  REQUIRE(vectors.size() == 3);
  for (const Vector& v : vectors) {
    const auto params = call::suite_params(suite_of(v));
    REQUIRE(params);
    REQUIRE(params->ctr_hmac);
    INFO("suite " << v.at("cipher_suite"));
    const Bytes key = hex(v.at("key"));
    const Bytes nonce_bytes = hex(v.at("nonce"));
    const Bytes aad = hex(v.at("aad"));
    const Bytes pt = hex(v.at("pt"));
    const Bytes ct = hex(v.at("ct"));
    // derive_subkeys: enc_key is the first Nka bytes, auth_key the rest.
    CHECK(Bytes(key.begin(), key.begin() + 16) == hex(v.at("enc_key")));
    CHECK(Bytes(key.begin() + 16, key.end()) == hex(v.at("auth_key")));
    REQUIRE(nonce_bytes.size() == call::kSframeNonceSize);
    std::span<const std::uint8_t, call::kSframeNonceSize> nonce(nonce_bytes.data(),
                                                                call::kSframeNonceSize);

    call::SframeAead sealer(*params, key, call::SframeAead::Direction::kSeal);
    call::SframeAead opener(*params, key, call::SframeAead::Direction::kOpen);
    // The AAD in two parts at every split point authenticates as the whole.
    for (std::size_t split = 0; split <= aad.size(); ++split) {
      const ByteView a1 = ByteView(aad).first(split);
      const ByteView a2 = ByteView(aad).subspan(split);
      Bytes out(pt.size() + params->nt);
      sealer.seal(nonce, a1, a2, pt, out.data());
      CHECK(out == ct);
      Bytes back(ct.size());
      REQUIRE(opener.open(nonce, a1, a2, ct, back.data()));
      back.resize(pt.size());
      CHECK(back == pt);
    }
    // Any flipped bit fails.
    for (std::size_t i = 0; i < ct.size(); ++i) {
      Bytes bad = ct;
      bad[i] ^= 0x01;
      Bytes back(ct.size());
      CHECK_FALSE(opener.open(nonce, aad, {}, bad, back.data()));
    }
  }
}

TEST_CASE("SFrame RFC 9605 C.3: encryption vectors of all five suites", "[unit][vectors]") {
  const auto vectors = read_vectors("sframe.md");
  REQUIRE(vectors.size() == 5);
  std::vector<std::uint64_t> suites_seen;
  for (const Vector& v : vectors) {
    const SframeCipherSuite suite = suite_of(v);
    const auto params = call::suite_params(suite);
    REQUIRE(params);
    suites_seen.push_back(static_cast<std::uint64_t>(suite));
    INFO("suite " << v.at("cipher_suite"));
    const std::uint64_t kid = number(v.at("kid"));
    const std::uint64_t ctr = number(v.at("ctr"));
    const Bytes base_key = hex(v.at("base_key"));
    const Bytes metadata = hex(v.at("metadata"));
    const Bytes pt = hex(v.at("pt"));
    const Bytes ct = hex(v.at("ct"));

    // Labels (§4.4.2).
    CHECK(call::sframe_key_label(suite, kid) == hex(v.at("sframe_key_label")));
    CHECK(call::sframe_salt_label(suite, kid) == hex(v.at("sframe_salt_label")));

    // sframe_secret = HKDF-Extract("", base_key) with the suite's hash.
    if (params->sha512) {
      std::array<std::uint8_t, crypto::kHmacSha512Size> secret{};
      crypto::hkdf_extract_sha512({}, base_key, secret);
      CHECK(Bytes(secret.begin(), secret.end()) == hex(v.at("sframe_secret")));
    } else {
      crypto::HmacSha256 hmac;
      const std::array<std::uint8_t, 32> zero_salt{};
      std::array<std::uint8_t, crypto::kHmacSha256Size> secret{};
      hmac.mac(zero_salt, base_key, secret);
      CHECK(Bytes(secret.begin(), secret.end()) == hex(v.at("sframe_secret")));
    }

    // sframe_key and sframe_salt.
    const call::SframeKeyMaterial m = call::derive_sframe_key_salt(suite, *params, kid, base_key);
    CHECK(Bytes(m.key.expose().begin(), m.key.expose().end()) == hex(v.at("sframe_key")));
    CHECK(Bytes(m.salt.expose().begin(), m.salt.expose().end()) == hex(v.at("sframe_salt")));

    // nonce = salt XOR CTR; aad = header || metadata.
    Bytes nonce(m.salt.expose().begin(), m.salt.expose().end());
    for (std::size_t i = 0; i < 8; ++i)
      nonce[11 - i] ^= static_cast<std::uint8_t>(ctr >> (8 * i));
    CHECK(nonce == hex(v.at("nonce")));
    Bytes aad = hush::encode_sframe_header({kid, ctr});
    aad.insert(aad.end(), metadata.begin(), metadata.end());
    CHECK(aad == hex(v.at("aad")));

    // encrypt(ctr, kid, metadata, plaintext) == ct
    auto sender = hush::SframeSender::create(suite, kid, hush::SecretBytes::copy_of(base_key),
                                             /*next_counter=*/ctr);
    REQUIRE(sender);
    auto frame = sender->encrypt(metadata, pt);
    REQUIRE(frame);
    CHECK(*frame == ct);
    CHECK(sender->next_counter() == ctr + 1);

    // decrypt(metadata, ct) == pt
    hush::SframeReceiver receiver(suite);
    REQUIRE(receiver.add_key(kid, hush::SecretBytes::copy_of(base_key)));
    auto plain = receiver.decrypt(metadata, ct);
    REQUIRE(plain);
    CHECK(Bytes(plain->expose().begin(), plain->expose().end()) == pt);
  }
  CHECK(suites_seen == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
}

TEST_CASE("HMAC-SHA512: RFC 4231 test cases 1 and 2", "[unit][vectors]") {
  std::array<std::uint8_t, 64> out{};
  crypto::hmac_sha512(Bytes(20, 0x0b), hush::as_bytes("Hi There"), out);
  CHECK(hush::to_hex(out) ==
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  crypto::hmac_sha512(hush::as_bytes("Jefe"), hush::as_bytes("what do ya want for nothing?"), out);
  CHECK(hush::to_hex(out) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

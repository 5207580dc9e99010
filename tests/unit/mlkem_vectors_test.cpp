// hush unit tests: ML-KEM against the published vector files checked in under
// tests/vectors/mlkem/ (see the README there for their sources and how they were trimmed):
//   - NIST ACVP ML-KEM keyGen and encapDecap (FIPS 203 final): key generation from d and z,
//     encapsulation from m, decapsulation (valid and implicitly rejected ciphertexts), and the
//     encapsulation and decapsulation key checks of FIPS 203 §7;
//   - Wycheproof mlkem_{768,1024}_{test,encaps_test,keygen_seed_test,semi_expanded_decaps_test}:
//     the same operations with their edge cases (strcmp, unusual rho, random and bit-flipped
//     ciphertexts, keys not reduced mod q, every wrong size, a corrupted dk hash), each refusal
//     with its typed error;
//   - C2SP CCTV strcmp, unluckysample and modulus vectors.
// Every ML-KEM-768 encapsulation vector is also run through the incremental encapsulation
// (header, encaps1, encaps2), which must give the same ciphertext and key.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/hash.h"
#include "crypto/mlkem.h"

namespace {

namespace crypto = hush::internal::crypto;
using crypto::MlKemParameterSet;
using crypto::MlKemSecret;
using hush::Bytes;
using hush::ByteView;
using hush::Errc;

using Record = std::map<std::string, std::string>;

/// The records of a vector file (format: tests/vectors/mlkem/convert.py).
std::vector<Record> load(const std::string& file) {
  std::ifstream in(std::string(HUSH_MLKEM_VECTORS_DIR) + "/" + file);
  REQUIRE(in.good());
  std::vector<Record> out;
  Record current;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
      continue;
    }
    const std::size_t eq = line.find(" = ");
    REQUIRE(eq != std::string::npos);
    current[line.substr(0, eq)] = line.substr(eq + 3);
  }
  if (!current.empty()) out.push_back(std::move(current));
  REQUIRE(!out.empty());
  return out;
}

Bytes hex(const std::string& s) {
  if (s == "-") return {};
  std::optional<Bytes> b = hush::from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

std::string hx(ByteView v) {
  return hush::to_hex(v);
}

std::string sha3_hex(ByteView v) {
  return hx(crypto::sha3_256(v));
}

MlKemSecret secret_of(ByteView v) {
  MlKemSecret s;
  REQUIRE(MlKemSecret::from(v, s));
  return s;
}

MlKemParameterSet set_of(const Record& r) {
  const std::string& s = r.at("set");
  REQUIRE((s == "ML-KEM-768" || s == "ML-KEM-1024"));
  return s == "ML-KEM-768" ? MlKemParameterSet::kMlKem768 : MlKemParameterSet::kMlKem1024;
}

std::string describe(const Record& r) {
  std::string out = r.at("set");
  for (const char* key : {"tcId", "comment", "function", "kind", "line"})
    if (auto it = r.find(key); it != r.end()) out += std::string(" ") + key + "=" + it->second;
  return out;
}

/// Runs the incremental ML-KEM-768 encapsulation of m under ek; returns ct1 || ct2 and K.
std::pair<Bytes, Bytes> incremental(ByteView ek, const MlKemSecret& m) {
  auto header = crypto::mlkem768_header(ek);
  REQUIRE(header);
  auto e1 = crypto::mlkem768_encaps1_from_seed(*header, m);
  REQUIRE(e1);
  auto ct2 = crypto::mlkem768_encaps2(ek.first(crypto::kMlKem768VectorSize), e1->state);
  REQUIRE(ct2);
  Bytes c(e1->ciphertext1.begin(), e1->ciphertext1.end());
  c.insert(c.end(), ct2->begin(), ct2->end());
  const auto k = e1->shared_secret.expose();
  return {c, Bytes(k.begin(), k.end())};
}

/// Checks a valid encapsulation vector: one-shot, and incremental for ML-KEM-768.
void check_encapsulation(const Record& r, ByteView ek, const std::string& m_hex,
                         const std::string& c_sha3, const std::string& k_hex) {
  const MlKemParameterSet set = set_of(r);
  const MlKemSecret m = secret_of(hex(m_hex));
  auto enc = crypto::mlkem_encapsulate_from_seed(set, ek, m);
  REQUIRE(enc);
  CHECK(sha3_hex(enc->ciphertext) == c_sha3);
  CHECK(hx(enc->shared_secret.expose()) == k_hex);
  if (set == MlKemParameterSet::kMlKem768) {
    auto [c, k] = incremental(ek, m);
    CHECK(sha3_hex(c) == c_sha3);
    CHECK(hx(k) == k_hex);
  }
}

}  // namespace

TEST_CASE("ML-KEM: NIST ACVP keyGen vectors", "[unit][vectors]") {
  const auto records = load("acvp_keygen.txt");
  CHECK(records.size() == 50);
  for (const Record& r : records) {
    INFO(describe(r));
    const auto keys = crypto::mlkem_generate_from_seed(set_of(r), secret_of(hex(r.at("d"))),
                                                       secret_of(hex(r.at("z"))));
    CHECK(sha3_hex(keys.encapsulation_key) == r.at("ek_sha3"));
    CHECK(sha3_hex(keys.decapsulation_key.expose()) == r.at("dk_sha3"));
  }
}

TEST_CASE("ML-KEM: NIST ACVP encapDecap vectors and key checks", "[unit][vectors]") {
  const auto records = load("acvp_encapdecap.txt");
  CHECK(records.size() == 110);
  std::map<std::string, int> seen;
  for (const Record& r : records) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    const std::string& function = r.at("function");
    ++seen[function];
    if (function == "encapsulation") {
      check_encapsulation(r, hex(r.at("ek")), r.at("m"), r.at("c_sha3"), r.at("k"));
    } else if (function == "decapsulation") {
      auto k = crypto::mlkem_decapsulate(set, hex(r.at("dk")), hex(r.at("c")));
      REQUIRE(k);
      CHECK(hx(k->expose()) == r.at("k"));
    } else if (function == "encapsulationKeyCheck") {
      const Bytes ek = hex(r.at("ek"));
      const auto st = crypto::mlkem_check_encapsulation_key(set, ek);
      CHECK(static_cast<bool>(st) == (r.at("passed") == "true"));
      if (!st) {
        CHECK(st.error().code() == Errc::kInvalidKey);
        auto enc = crypto::mlkem_encapsulate_from_seed(set, ek, MlKemSecret{});
        REQUIRE_FALSE(enc);
        CHECK(enc.error().code() == Errc::kInvalidKey);
      }
    } else if (function == "decapsulationKeyCheck") {
      const Bytes dk = hex(r.at("dk"));
      const auto st = crypto::mlkem_check_decapsulation_key(set, dk);
      CHECK(static_cast<bool>(st) == (r.at("passed") == "true"));
      if (!st) {
        CHECK(st.error().code() == Errc::kInvalidKey);
        const Bytes c(crypto::mlkem_sizes(set).ciphertext, 0);
        auto k = crypto::mlkem_decapsulate(set, dk, c);
        REQUIRE_FALSE(k);
        CHECK(k.error().code() == Errc::kInvalidKey);
      }
    } else {
      FAIL("unknown function " << function);
    }
  }
  CHECK(seen["encapsulation"] == 50);
  CHECK(seen["decapsulation"] == 20);
  CHECK(seen["encapsulationKeyCheck"] == 20);
  CHECK(seen["decapsulationKeyCheck"] == 20);
}

TEST_CASE("ML-KEM: Wycheproof keygen_seed vectors", "[unit][vectors]") {
  for (const Record& r : load("wycheproof_keygen.txt")) {
    INFO(describe(r));
    REQUIRE(r.at("result") == "valid");
    auto keys = crypto::mlkem_generate_from_seed_form(set_of(r), hex(r.at("seed")));
    REQUIRE(keys);
    CHECK(sha3_hex(keys->encapsulation_key) == r.at("ek_sha3"));
    CHECK(sha3_hex(keys->decapsulation_key.expose()) == r.at("dk_sha3"));
  }
}

TEST_CASE("ML-KEM: Wycheproof decapsulation vectors (seed keys)", "[unit][vectors]") {
  int valid = 0, invalid = 0;
  for (const Record& r : load("wycheproof_decaps.txt")) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    const Bytes seed = hex(r.at("seed"));
    const Bytes c = hex(r.at("c"));
    auto keys = crypto::mlkem_generate_from_seed_form(set, seed);
    if (r.at("result") == "invalid") {
      ++invalid;
      // Either the key (a seed of the wrong size) or the ciphertext (wrong size) is refused.
      if (!keys) {
        CHECK(seed.size() != crypto::kMlKemSeedFormSize);
        CHECK(keys.error().code() == Errc::kInvalidKey);
        continue;
      }
      CHECK(c.size() != crypto::mlkem_sizes(set).ciphertext);
      auto k = crypto::mlkem_decapsulate(set, keys->decapsulation_key.expose(), c);
      REQUIRE_FALSE(k);
      CHECK(k.error().code() == Errc::kInvalidMessage);
      continue;
    }
    ++valid;
    REQUIRE(keys);
    if (r.at("ek_sha3") != "-") CHECK(sha3_hex(keys->encapsulation_key) == r.at("ek_sha3"));
    auto k = crypto::mlkem_decapsulate(set, keys->decapsulation_key.expose(), c);
    REQUIRE(k);
    CHECK(hx(k->expose()) == r.at("K"));
  }
  CHECK(valid > 100);
  CHECK(invalid == 80);
}

TEST_CASE("ML-KEM: Wycheproof encapsulation vectors", "[unit][vectors]") {
  int valid = 0, invalid = 0;
  for (const Record& r : load("wycheproof_encaps.txt")) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    const Bytes ek = hex(r.at("ek"));
    if (r.at("result") == "invalid") {
      ++invalid;
      auto enc = crypto::mlkem_encapsulate_from_seed(set, ek, secret_of(hex(r.at("m"))));
      REQUIRE_FALSE(enc);
      CHECK(enc.error().code() == Errc::kInvalidKey);
      CHECK_FALSE(crypto::mlkem_check_encapsulation_key(set, ek));
      if (set == MlKemParameterSet::kMlKem768) {
        CHECK_FALSE(crypto::mlkem768_header(ek));
        if (ek.size() == 1184) {
          // Not reduced: encaps2 refuses the vector before it compares hashes.
          auto e1 = crypto::mlkem768_encaps1_from_seed(Bytes(64, 0), MlKemSecret{});
          REQUIRE(e1);
          auto ct2 = crypto::mlkem768_encaps2(ByteView(ek).first(1152), e1->state);
          REQUIRE_FALSE(ct2);
          CHECK(ct2.error().code() == Errc::kInvalidKey);
        }
      }
      continue;
    }
    ++valid;
    check_encapsulation(r, ek, r.at("m"), r.at("c_sha3"), r.at("K"));
  }
  CHECK(valid > 50);
  CHECK(invalid > 50);
}

TEST_CASE("ML-KEM: Wycheproof semi-expanded decapsulation vectors", "[unit][vectors]") {
  for (const Record& r : load("wycheproof_semi_expanded_decaps.txt")) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    const std::string& flags = r.at("flags");
    auto k = crypto::mlkem_decapsulate(set, hex(r.at("dk")), hex(r.at("c")));
    if (r.at("result") == "valid") {
      REQUIRE(k);
      CHECK(hx(k->expose()) == r.at("K"));
    } else {
      REQUIRE_FALSE(k);
      if (flags == "IncorrectCiphertextLength") {
        CHECK(k.error().code() == Errc::kInvalidMessage);
      } else {
        CHECK((flags == "IncorrectDecapsulationKeyLength" || flags == "InvalidDecapsulationKey"));
        CHECK(k.error().code() == Errc::kInvalidKey);
      }
    }
  }
}

TEST_CASE("ML-KEM: C2SP CCTV strcmp and unlucky-sampling vectors", "[unit][vectors]") {
  int strcmp_seen = 0, unlucky_seen = 0;
  for (const Record& r : load("cctv_strcmp_unlucky.txt")) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    if (r.at("kind") == "strcmp") {
      ++strcmp_seen;
      auto k = crypto::mlkem_decapsulate(set, hex(r.at("dk")), hex(r.at("c")));
      REQUIRE(k);
      CHECK(hx(k->expose()) == r.at("K"));
      continue;
    }
    ++unlucky_seen;
    // Key generation as in FIPS 203 ipd (G(d) without k; see the README).
    const auto keys = crypto::mlkem_generate_from_seed_ipd(set, secret_of(hex(r.at("d"))),
                                                           secret_of(hex(r.at("z"))));
    CHECK(hx(keys.encapsulation_key) == r.at("ek"));
    CHECK(hx(keys.decapsulation_key.expose()) == r.at("dk"));
    check_encapsulation(r, keys.encapsulation_key, r.at("m"), sha3_hex(hex(r.at("c"))), r.at("K"));
    auto k = crypto::mlkem_decapsulate(set, keys.decapsulation_key.expose(), hex(r.at("c")));
    REQUIRE(k);
    CHECK(hx(k->expose()) == r.at("K"));
  }
  CHECK(strcmp_seen == 2);
  CHECK(unlucky_seen == 2);
}

TEST_CASE("ML-KEM: C2SP CCTV modulus vectors are refused by every entry point", "[unit][vectors]") {
  for (const Record& r : load("cctv_modulus.txt")) {
    INFO(describe(r));
    const MlKemParameterSet set = set_of(r);
    const Bytes ek = hex(r.at("ek"));
    REQUIRE(ek.size() == crypto::mlkem_sizes(set).encapsulation_key);
    const auto st = crypto::mlkem_check_encapsulation_key(set, ek);
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == Errc::kInvalidKey);
    auto enc = crypto::mlkem_encapsulate_from_seed(set, ek, MlKemSecret{});
    REQUIRE_FALSE(enc);
    CHECK(enc.error().code() == Errc::kInvalidKey);
    if (set == MlKemParameterSet::kMlKem768) {
      CHECK_FALSE(crypto::mlkem768_header(ek));
    } else {
      Bytes typed{crypto::kKyber1024Type};
      typed.insert(typed.end(), ek.begin(), ek.end());
      auto parsed = crypto::kyber1024_parse_public_key(typed);
      REQUIRE_FALSE(parsed);
      CHECK(parsed.error().code() == Errc::kInvalidKey);
    }
  }
}

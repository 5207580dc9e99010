// SPQR v1's parts (src/pq/): GF(2^16) arithmetic, the erasure code (every subset pattern of small
// payloads, parity-only decodes, the JavaScript model's chunks), the chain and the authenticator
// against vectors from the JavaScript model (tests/vectors/spqr/), and the wire codec.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hush/bytes.h>
#include <hush/limits.h>
#include <hush/random.h>
#include <hush/secret.h>

#include "pq/spqr.h"
#include "pq/spqr_chain.h"
#include "pq/spqr_codec.h"
#include "pq/spqr_erasure.h"

namespace {

using namespace hush;
using namespace hush::pq;

Bytes hex(const std::string& s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

std::vector<std::vector<std::string>> vector_lines() {
  std::ifstream in(std::string(HUSH_SPQR_VECTORS_DIR) + "/spqr_js_vectors.txt");
  REQUIRE(in.good());
  std::vector<std::vector<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::vector<std::string> fields;
    std::string f;
    while (ls >> f)
      fields.push_back(f);
    out.push_back(fields);
  }
  return out;
}

Bytes pattern(std::size_t n, unsigned seed) {
  Bytes b(n);
  std::mt19937 rng(seed);
  for (auto& x : b)
    x = static_cast<std::uint8_t>(rng());
  return b;
}

SpqrChunk chunk_of(ByteView payload, std::uint16_t index) {
  SpqrChunk c;
  c.index = index;
  c.data = erasure_chunk(payload, index);
  return c;
}

}  // namespace

TEST_CASE("gf16 arithmetic: field axioms and a primitive generator", "[spqr]") {
  CHECK(gf16_mul(0, 0x1234) == 0);
  CHECK(gf16_mul(1, 0xbeef) == 0xbeef);
  CHECK(gf16_mul(2, 0x8000) == 0x100b);  // x * x^15 = x^16 = x^12 + x^3 + x + 1
  CHECK(gf16_inv(0) == 0);
  for (std::uint32_t a = 1; a < 65536; ++a)
    REQUIRE(gf16_mul(static_cast<std::uint16_t>(a), gf16_inv(static_cast<std::uint16_t>(a))) == 1);
  // x generates the multiplicative group (order 65535 = 3 * 5 * 17 * 257): 0x1100B is primitive,
  // as the JavaScript model's log tables assume.
  auto power = [](std::uint16_t base, std::uint32_t e) {
    std::uint16_t r = 1;
    for (; e != 0; e >>= 1, base = gf16_mul(base, base))
      if (e & 1) r = gf16_mul(r, base);
    return r;
  };
  CHECK(power(2, 65535) == 1);
  for (std::uint32_t p : {3u, 5u, 17u, 257u})
    CHECK(power(2, 65535 / p) != 1);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const auto a = static_cast<std::uint16_t>(rng()), b = static_cast<std::uint16_t>(rng()),
               c = static_cast<std::uint16_t>(rng());
    REQUIRE(gf16_mul(a, b) == gf16_mul(b, a));
    REQUIRE(gf16_mul(a, static_cast<std::uint16_t>(b ^ c)) == (gf16_mul(a, b) ^ gf16_mul(a, c)));
    REQUIRE(gf16_mul(gf16_mul(a, b), c) == gf16_mul(a, gf16_mul(b, c)));
  }
}

TEST_CASE("spqr erasure: every k-subset of the first 2k chunks decodes (96 and 160 bytes)",
          "[spqr]") {
  for (std::size_t size : {std::size_t{96}, std::size_t{160}}) {
    const Bytes payload = pattern(size, static_cast<unsigned>(size));
    const std::size_t k = size / 32, n = 2 * k;
    std::vector<SpqrChunk> all;
    for (std::size_t i = 0; i < n; ++i)
      all.push_back(chunk_of(payload, static_cast<std::uint16_t>(i)));
    // The systematic part is the payload itself.
    for (std::size_t i = 0; i < k; ++i)
      CHECK(std::equal(all[i].data.begin(), all[i].data.end(),
                       payload.begin() + static_cast<std::ptrdiff_t>(32 * i)));
    std::size_t patterns = 0;
    for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
      if (static_cast<std::size_t>(__builtin_popcount(mask)) != k) continue;
      std::vector<SpqrChunk> pick;
      for (std::size_t i = 0; i < n; ++i)
        if (mask & (1u << i)) pick.push_back(all[i]);
      std::shuffle(pick.begin(), pick.end(), std::mt19937(mask));
      REQUIRE(erasure_decode(size, pick) == payload);
      ++patterns;
    }
    CHECK(patterns == (k == 3 ? 20u : 252u));
  }
}

TEST_CASE("spqr erasure: parity-only and mixed decodes of the large payloads", "[spqr]") {
  std::mt19937 rng(11);
  for (std::size_t size : {std::size_t{960}, std::size_t{1152}}) {
    const Bytes payload = pattern(size, static_cast<unsigned>(size));
    const std::size_t k = size / 32;
    std::vector<SpqrChunk> parity;
    for (std::size_t i = k; i < 2 * k; ++i)
      parity.push_back(chunk_of(payload, static_cast<std::uint16_t>(i)));
    CHECK(erasure_decode(size, parity) == payload);
    // High indices (a long-running sender) work too.
    std::vector<SpqrChunk> high;
    for (std::size_t i = 0; i < k; ++i)
      high.push_back(chunk_of(payload, static_cast<std::uint16_t>(65535 - 3 * i)));
    CHECK(erasure_decode(size, high) == payload);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<std::uint16_t> idx(3 * k);
      for (std::size_t i = 0; i < idx.size(); ++i)
        idx[i] = static_cast<std::uint16_t>(i);
      std::shuffle(idx.begin(), idx.end(), rng);
      std::vector<SpqrChunk> pick;
      for (std::size_t i = 0; i < k; ++i)
        pick.push_back(chunk_of(payload, idx[i]));
      REQUIRE(erasure_decode(size, pick) == payload);
    }
  }
}

TEST_CASE("spqr erasure: chunks equal the JavaScript model's", "[spqr]") {
  Bytes payload;
  std::size_t checked = 0;
  for (const auto& f : vector_lines()) {
    if (f[0] == "payload") payload = hex(f[1]);
    if (f[0] != "chunk") continue;
    const auto index = static_cast<std::uint16_t>(std::stoul(f[1]));
    const auto c = erasure_chunk(payload, index);
    CHECK(to_hex(c) == f[2]);
    ++checked;
  }
  CHECK(checked == 28);
}

TEST_CASE("spqr chain: keys equal the JavaScript model's in both directions", "[spqr]") {
  Bytes seed;
  std::optional<SpqrChain> chain;
  std::size_t checked = 0;
  for (const auto& f : vector_lines()) {
    if (f[0] == "seed") seed = hex(f[1]);
    if (f[0] == "chain") chain = spqr_chain_new(seed, f[1] == "1", kSpqrMaxJump);
    if (f[0] == "add") {
      SecretArray<32> secret;
      REQUIRE(SecretArray<32>::from(hex(f[2]), secret));
      REQUIRE(spqr_chain_add_epoch(*chain, std::stoull(f[1]), secret));
    }
    if (f[0] == "send") {
      auto k = spqr_chain_send_key(*chain, std::stoull(f[1]));
      REQUIRE(k);
      CHECK(k->first == std::stoul(f[2]));
      CHECK(to_hex(k->second.expose()) == f[3]);
      ++checked;
    }
    if (f[0] == "recv") {
      auto k = spqr_chain_recv_key(*chain, std::stoull(f[1]),
                                   static_cast<std::uint32_t>(std::stoul(f[2])));
      REQUIRE(k);
      CHECK(to_hex(k->expose()) == f[3]);
      ++checked;
    }
  }
  CHECK(checked == 28);
}

TEST_CASE("spqr chain: duplicates jumps trimming and dropped epochs", "[spqr]") {
  const Bytes seed(32, 9);
  SpqrChain c = spqr_chain_new(seed, true, kSpqrMaxJump);
  REQUIRE(spqr_chain_recv_key(c, 0, 5));
  CHECK(spqr_chain_recv_key(c, 0, 5).error().code() == Errc::kDuplicateMessage);
  CHECK(spqr_chain_recv_key(c, 0, 0).error().code() == Errc::kDuplicateMessage);
  REQUIRE(spqr_chain_recv_key(c, 0, 3));
  CHECK(spqr_chain_recv_key(c, 0, 3).error().code() == Errc::kDuplicateMessage);
  CHECK(c.links[0].recv.prev.size() == 3);  // 1, 2, 4
  CHECK(spqr_chain_recv_key(c, 0, 5 + kSpqrMaxJump + 1).error().code() == Errc::kTooFarInFuture);
  REQUIRE(spqr_chain_recv_key(c, 0, 5 + kSpqrMaxJump));
  // A jump beyond the window keeps only the last kSpqrMaxOutOfOrderKeys skipped keys.
  CHECK(c.links[0].recv.prev.size() == kSpqrMaxOutOfOrderKeys);
  CHECK(spqr_chain_recv_key(c, 0, 1).error().code() == Errc::kDuplicateMessage);
  // Growing the list step by step trims it once it reaches kSpqrKeyTrimSize: then only keys
  // within kSpqrMaxOutOfOrderKeys of the counter remain (libsignal's trimming).
  const std::uint32_t base = c.links[0].recv.ctr;
  bool trimmed = false;
  for (std::uint32_t i = 1; i <= 400 && !trimmed; ++i) {
    const std::size_t before = c.links[0].recv.prev.size();
    REQUIRE(spqr_chain_recv_key(c, 0, base + 2 * i));
    trimmed = c.links[0].recv.prev.size() < before;
  }
  CHECK(trimmed);
  CHECK(c.links[0].recv.prev.size() <= kSpqrMaxOutOfOrderKeys);
  CHECK(std::all_of(c.links[0].recv.prev.begin(), c.links[0].recv.prev.end(),
                    [&](const SpqrKeyEntry& e) {
                      // Trimmed against the counter before the key taken last.
                      return e.index + kSpqrMaxOutOfOrderKeys + 1 >= c.links[0].recv.ctr;
                    }));
  // Note-to-self: no jump limit.
  SpqrChain self = spqr_chain_new(seed, false, UINT32_MAX);
  REQUIRE(spqr_chain_recv_key(self, 0, kSpqrMaxJump + 2));
  // Epochs: two kept; the one before is gone.
  SecretArray<32> s;
  REQUIRE(spqr_chain_add_epoch(c, 1, s));
  REQUIRE(spqr_chain_add_epoch(c, 2, s));
  CHECK(c.links.size() == kSpqrEpochsKept);
  CHECK(spqr_chain_recv_key(c, 0, 1).error().code() == Errc::kInvalidMessage);
  CHECK(spqr_chain_recv_key(c, 3, 1).error().code() == Errc::kInvalidMessage);
  REQUIRE(spqr_chain_recv_key(c, 1, 1));
  CHECK(spqr_chain_add_epoch(c, 4, s).error().code() == Errc::kCorruptState);
}

TEST_CASE("spqr authenticator: MACs equal the JavaScript model's", "[spqr]") {
  Bytes seed;
  bool seen = false;
  for (const auto& f : vector_lines()) {
    if (f[0] == "seed") seed = hex(f[1]);
    if (f[0] != "auth") continue;
    seen = true;
    SpqrAuthenticator a = spqr_auth_new(seed);
    const Bytes hdr = hex(f[1]), ct1 = hex(f[2]), ct2 = hex(f[3]);
    CHECK(to_hex(spqr_auth_mac_header(a, 1, hdr)) == f[4]);
    spqr_auth_update(a, 1, hex(f[5]));
    CHECK(to_hex(spqr_auth_mac_header(a, 1, hdr)) == f[6]);
    CHECK(to_hex(spqr_auth_mac_ciphertext(a, 1, ct1, ct2)) == f[7]);
    spqr_auth_update(a, 7, hex(f[8]));
    CHECK(to_hex(spqr_auth_mac_ciphertext(a, 7, ct1, ct2)) == f[9]);
  }
  CHECK(seen);
}

TEST_CASE("spqr codec: round trips and the documented lengths", "[spqr]") {
  SpqrMessage m;
  m.epoch = 1;
  m.index = 5;
  CHECK(spqr_encode_message(m) == Bytes{1, 1, 5, 0});
  m.type = SpqrMessageType::kHdr;
  m.chunk.index = 127;
  m.chunk.data.fill(0xab);
  CHECK(spqr_encode_message(m).size() == 37);
  m.chunk.index = 128;
  CHECK(spqr_encode_message(m).size() == 38);
  for (std::uint64_t epoch : {std::uint64_t{1}, std::uint64_t{300}, UINT64_MAX})
    for (std::uint32_t index : {0u, 127u, 128u, UINT32_MAX})
      for (std::uint8_t type = 0; type <= 6; ++type) {
        SpqrMessage x;
        x.epoch = epoch;
        x.index = index;
        x.type = static_cast<SpqrMessageType>(type);
        x.chunk.index = 65535;
        x.chunk.data.fill(type);
        Bytes wire = spqr_encode_message(x);
        auto y = spqr_decode_message(wire);
        REQUIRE(y);
        CHECK(y->epoch == epoch);
        CHECK(y->index == index);
        CHECK(y->type == x.type);
        if (spqr_type_has_chunk(x.type)) CHECK(y->chunk.data == x.chunk.data);
        if (spqr_type_has_chunk(x.type)) CHECK(y->chunk.index == 65535);
        // Every truncation is refused; trailing bytes are ignored (as libsignal does).
        for (std::size_t n = 0; n < wire.size(); ++n)
          REQUIRE(spqr_decode_message(ByteView(wire).first(n)).error().code() ==
                  Errc::kInvalidMessage);
        wire.push_back(0x77);
        CHECK(spqr_decode_message(wire));
      }
}

TEST_CASE("spqr codec: malformed fields are refused", "[spqr]") {
  auto code = [](Bytes b) { return spqr_decode_message(b).error().code(); };
  CHECK(code({}) == Errc::kInvalidMessage);            // v0
  CHECK(code({0}) == Errc::kInvalidMessage);           // v0 byte
  CHECK(code({2, 1, 1, 0}) == Errc::kInvalidMessage);  // a future version
  CHECK(code({1, 0, 1, 0}) == Errc::kInvalidMessage);  // epoch 0
  CHECK(code({1, 1, 1, 7}) == Errc::kInvalidMessage);  // unknown type
  CHECK(code({1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0}) == Errc::kInvalidMessage);  // index 2^32
  Bytes eleven = {1};
  for (int i = 0; i < 10; ++i)
    eleven.push_back(0xff);
  eleven.push_back(0x01);
  CHECK(code(eleven) == Errc::kInvalidMessage);      // an 11-byte varint
  Bytes big_chunk = {1, 1, 1, 1, 0x80, 0x80, 0x04};  // chunk index 65536
  big_chunk.resize(big_chunk.size() + 32);
  CHECK(code(big_chunk) == Errc::kInvalidMessage);
  Bytes ok_chunk = {1, 1, 1, 1, 0xff, 0xff, 0x03};  // chunk index 65535
  ok_chunk.resize(ok_chunk.size() + 32);
  CHECK(spqr_decode_message(ok_chunk));
  // Non-minimal varints parse (as protobuf's do).
  CHECK(spqr_decode_message(Bytes{1, 0x81, 0x00, 0x82, 0x00, 0}));
}

TEST_CASE("spqr: the responder's first messages equal the JavaScript model's", "[spqr]") {
  Bytes state;
  std::size_t checked = 0;
  for (const auto& f : vector_lines()) {
    if (f[0] == "seed") {
      SecretArray<32> seed;
      REQUIRE(SecretArray<32>::from(hex(f[1]), seed));
      auto s = spqr_initial_state(seed, SpqrRole::kResponder, false);
      REQUIRE(s);
      state = Bytes(s->expose().begin(), s->expose().end());
    }
    if (f[0] != "responder") continue;
    auto sent = spqr_send(state, system_random());
    REQUIRE(sent);
    CHECK(to_hex(sent->message) == f[1]);
    CHECK(to_hex(sent->key.expose()) == f[2]);
    state.assign(sent->state.expose().begin(), sent->state.expose().end());
    ++checked;
  }
  CHECK(checked == 3);
}

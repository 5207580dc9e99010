// hush benchmarks against its peers, in one run (issue 5): hush, libsignal-protocol-c 2.3.3 (the
// Signal v3 reference hush is wire-compatible with) and libolm 3.2 (Matrix's Double Ratchet; not
// Signal-compatible, but it does the same job: an X3DH-like setup on a one-time key, then a
// Double Ratchet). Everything is in memory: hush on InMemoryProtocolStore, libsignal on the
// interop wrapper's in-memory stores (tests/interop/lsc_peer.h, crypto provider on hush's internal
// crypto), libolm on live OlmAccount/OlmSession objects (pickled only in W5).
//
//   W1_setup/<lib>             responder's published keys -> initiator builds the session and
//                              encrypts -> responder builds its session from that message and
//                              decrypts. One full setup per iteration; key generation outside.
//   W2_burst/<lib>/<bytes>     one message A->B (encrypt + decrypt) per iteration, 16 B .. 64 KiB
//   W3_pingpong/<lib>          256-byte messages alternately A->B and B->A: a ratchet step each
//   W4_reverse/<lib>           1000 messages encrypted first, decrypted last to first (timed: all
//   W4_inorder/<lib>           1000 decrypts); the same 1000 in order. Counter: decrypted.
//   W5_record/<lib>            a session after 100 messages: serialize + deserialize per
//                              iteration; counter record_bytes
//   W6_memory/<lib>            10,000 sessions on one responder: heap and RSS growth per session
//   G1_group/<lib>             a 256-byte group message (sender keys, libsignal-protocol-c's
//                              format): group encrypt at the sender + group decrypt at one member
//                              per iteration (hush and libsignal-protocol-c only; libolm's group
//                              ratchet, Megolm, is another protocol)
//   G2_distribute/<lib>/<n>    a new sender key encrypted over steady 1:1 sessions to n of 1,000
//                              member devices and stored: n = 1000 (creating a group of 1,000),
//                              n = 999 (the sender's side of removing a member); counter
//                              per_member
//   G3_new_key/<lib>           one staying member's side of a removal: the 1:1 message with the
//                              new key decrypted and the key processed
//
// hush runs twice on W1, W2, W3 and W5 (issue 12): `hush` on version-3 sessions (X3DH, the bundle
// without a Kyber prekey) and `hush-v4` on version-4 sessions (PQXDH on a bundle with a one-time
// Kyber1024 prekey, then SPQR beside the Double Ratchet on every message); the summary ends with
// v4's time over v3's against issue 12's ceilings (W1 1.5x, W2/W3 1.25x). libsignal 0.103 (also
// version 4) runs through Node in bench/node/bench_v4.mjs.
//
// Messages cross as wire bytes (hush and libsignal parse them on the receiving side; libolm's are
// base64 strings by design). At the end a summary prints each workload's figures as ratios and
// against the project's targets (medians over repetitions, CPU time). Results: bench/README.md.
//
// W6 measures the responder's growth in heap bytes in use (mallinfo2: uordblks + hblkhd) and in
// RSS (/proc/self/statm), each taken after malloc_trim, across 10,000 session setups whose
// initiators are freed again, divided by 10,000.
//
// For profiles, the timed parts of W2/W3 (one_message) and W4 (decrypt_all) are out-of-line
// functions that callgrind's --toggle-collect can single out (commands in bench/README.md).
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <hush/hush.h>

#include "interop/lsc_peer.h"

// libsignal's and libolm's headers are C, not held to our warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#include <olm/olm.h>
#include <signal/session_record.h>
#include <signal/signal_protocol.h>
#pragma GCC diagnostic pop

namespace {

using hush::interop::LscPeer;

// ---- common ----

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "peer_bench: %s\n", what.c_str());
  std::abort();
}

template <class T>
T must(hush::Result<T> r) {
  if (!r) fail(std::string("hush: ") + r.error().where());
  return std::move(r).value();
}
void must(const hush::Status& s) {
  if (!s) fail(std::string("hush: ") + s.error().where());
}

const hush::Context& ctx() {
  static const hush::Context c = hush::default_context();
  return c;
}

std::string payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + i % 26);
  return s;
}

hush::Address addr(const std::string& name) {
  return hush::Address{name, hush::DeviceId{1}};
}

// The message of W1 and W3 (and the size the W2 target is set for).
constexpr std::size_t kTextBytes = 256;
constexpr std::size_t kW4Messages = 1000;
constexpr std::size_t kW4Bytes = 64;
constexpr int kW6Sessions = 10000;
// W1 refills its stock of responder keys (outside the timed part) every kW1Batch setups: fresh
// parties, kW1Batch one-time keys. libolm holds at most 100 one-time keys per account.
constexpr int kW1Batch = 50;

// ---- hush ----

struct HushParty {
  std::unique_ptr<hush::InMemoryProtocolStore> store;
  hush::Address address;
};

// `kyber_pre_keys` one-time Kyber prekeys (ids 1..n) make the party's bundles PQXDH bundles, so
// that sessions with it are version 4 (PQXDH, then SPQR alongside the Double Ratchet).
HushParty hush_party(const std::string& name, std::uint32_t pre_keys, bool signed_pre_key = true,
                     std::uint32_t kyber_pre_keys = 0) {
  auto identity = must(hush::generate_identity_key_pair(ctx().random));
  auto registration_id = must(hush::generate_registration_id(ctx().random));
  std::optional<hush::SignedPreKeyRecord> spk;
  if (signed_pre_key)
    spk.emplace(must(hush::generate_signed_pre_key(ctx(), identity, hush::SignedPreKeyId{1})));
  HushParty p{std::make_unique<hush::InMemoryProtocolStore>(std::move(identity), registration_id),
              addr(name)};
  if (spk) must(p.store->store_signed_pre_key(*spk));
  if (pre_keys > 0) must(hush::replenish_pre_keys(ctx(), *p.store, pre_keys));
  if (kyber_pre_keys > 0) {
    const auto own = must(p.store->identity_key_pair());
    for (std::uint32_t k = 1; k <= kyber_pre_keys; ++k)
      must(p.store->store_kyber_pre_key(
          must(hush::generate_kyber_pre_key(ctx(), own, hush::KyberPreKeyId{k}, false))));
  }
  return p;
}

// `kyber_pre_key_id`: a PQXDH bundle with that one-time Kyber prekey (version-4 session).
hush::PreKeyBundle hush_bundle(HushParty& p, std::optional<std::uint32_t> pre_key_id,
                               std::optional<std::uint32_t> kyber_pre_key_id = std::nullopt) {
  std::optional<hush::PreKeyId> id;
  if (pre_key_id) id = hush::PreKeyId{*pre_key_id};
  std::optional<hush::KyberPreKeyId> kyber;
  if (kyber_pre_key_id) kyber = hush::KyberPreKeyId{*kyber_pre_key_id};
  return must(hush::make_bundle(*p.store, hush::DeviceId{1}, hush::SignedPreKeyId{1}, id, kyber));
}

struct HushWire {
  hush::MessageType type{};
  hush::Bytes bytes;
};

HushWire hush_send(HushParty& from, const hush::Address& to, hush::ByteView plaintext) {
  auto m = must(hush::encrypt_message(ctx(), *from.store, to, plaintext));
  return HushWire{m.type(), hush::Bytes(m.serialized().begin(), m.serialized().end())};
}

// Parses the wire bytes and decrypts; nullopt when either fails.
std::optional<hush::SecretBytes> hush_receive(HushParty& at, const hush::Address& from,
                                              const HushWire& w) {
  auto m = hush::CiphertextMessage::parse(w.type, w.bytes);
  if (!m) return std::nullopt;
  auto p = hush::decrypt_message(ctx(), *at.store, from, *m);
  if (!p) return std::nullopt;
  return std::move(*p);
}

// ---- libsignal-protocol-c (through the interop wrapper) ----

struct LscWire {
  int type = 0;
  hush::Bytes bytes;
};

LscWire lsc_send(LscPeer& from, const hush::Address& to, hush::ByteView plaintext) {
  auto c = from.encrypt(to, plaintext);
  if (c.rc != 0) fail("libsignal: encrypt failed " + std::to_string(c.rc));
  return LscWire{c.type, std::move(c.serialized)};
}

bool lsc_receive(LscPeer& at, const hush::Address& from, const LscWire& w) {
  auto p = at.decrypt(from, w.type, w.bytes);
  benchmark::DoNotOptimize(p.plaintext.data());
  return p.rc == 0;
}

// A signal_context of our own for the record (de)serialization in W5 (no crypto needed there).
signal_context* lsc_plain_context() {
  static signal_context* c = [] {
    signal_context* p = nullptr;
    if (signal_context_create(&p, nullptr) != 0) fail("signal_context_create");
    return p;
  }();
  return c;
}

// ---- libolm ----

hush::Bytes random_bytes(std::size_t n) {
  hush::Bytes b(n);
  if (n > 0) must(hush::system_random().fill(b));
  return b;
}

[[noreturn]] void olm_fail(const char* what, const char* why) {
  fail(std::string("libolm: ") + what + ": " + why);
}

class OlmAccountBox {
 public:
  OlmAccountBox() : mem_(new std::uint8_t[olm_account_size()]), a_(olm_account(mem_.get())) {
    hush::Bytes r = random_bytes(olm_create_account_random_length(a_));
    if (olm_create_account(a_, r.data(), r.size()) == olm_error())
      olm_fail("create_account", olm_account_last_error(a_));
  }
  ~OlmAccountBox() { olm_clear_account(a_); }
  OlmAccountBox(const OlmAccountBox&) = delete;
  OlmAccountBox& operator=(const OlmAccountBox&) = delete;
  OlmAccount* get() const { return a_; }

  // The base64 Curve25519 identity key.
  std::string curve25519() const {
    std::string json(olm_account_identity_keys_length(a_), '\0');
    if (olm_account_identity_keys(a_, json.data(), json.size()) == olm_error())
      olm_fail("identity_keys", olm_account_last_error(a_));
    return json_values(json, "curve25519").at(0);
  }
  // Generates `n` one-time keys, marks them published and returns their public halves.
  std::vector<std::string> one_time_keys(std::size_t n) {
    hush::Bytes r = random_bytes(olm_account_generate_one_time_keys_random_length(a_, n));
    if (olm_account_generate_one_time_keys(a_, n, r.data(), r.size()) == olm_error())
      olm_fail("generate_one_time_keys", olm_account_last_error(a_));
    std::string json(olm_account_one_time_keys_length(a_), '\0');
    if (olm_account_one_time_keys(a_, json.data(), json.size()) == olm_error())
      olm_fail("one_time_keys", olm_account_last_error(a_));
    olm_account_mark_keys_as_published(a_);
    return json_values(json, "curve25519");
  }
  // A fallback key (reusable by any number of inbound sessions), marked published.
  std::string fallback_key() {
    hush::Bytes r = random_bytes(olm_account_generate_fallback_key_random_length(a_));
    if (olm_account_generate_fallback_key(a_, r.data(), r.size()) == olm_error())
      olm_fail("generate_fallback_key", olm_account_last_error(a_));
    std::string json(olm_account_unpublished_fallback_key_length(a_), '\0');
    if (olm_account_unpublished_fallback_key(a_, json.data(), json.size()) == olm_error())
      olm_fail("fallback_key", olm_account_last_error(a_));
    olm_account_mark_keys_as_published(a_);
    return json_values(json, "curve25519").at(0);
  }

 private:
  // The string values under "key": either "key":"v" or "key":{"id":"v",...}. libolm's JSON is
  // flat and has no escapes.
  static std::vector<std::string> json_values(const std::string& json, const std::string& key) {
    std::vector<std::string> out;
    std::size_t p = json.find("\"" + key + "\":");
    if (p == std::string::npos) fail("libolm: no " + key + " in " + json);
    p += key.size() + 3;
    if (json[p] == '"') {
      const std::size_t e = json.find('"', p + 1);
      out.push_back(json.substr(p + 1, e - p - 1));
      return out;
    }
    const std::size_t end = json.find('}', p);
    for (;;) {
      const std::size_t k = json.find('"', p);
      if (k == std::string::npos || k > end) break;
      const std::size_t k_end = json.find('"', k + 1);
      const std::size_t v = json.find('"', k_end + 1);
      const std::size_t v_end = json.find('"', v + 1);
      out.push_back(json.substr(v + 1, v_end - v - 1));
      p = v_end + 1;
    }
    return out;
  }

  std::unique_ptr<std::uint8_t[]> mem_;
  OlmAccount* a_;
};

class OlmSessionBox {
 public:
  OlmSessionBox() : mem_(new std::uint8_t[olm_session_size()]), s_(olm_session(mem_.get())) {}
  ~OlmSessionBox() {
    if (s_ != nullptr) olm_clear_session(s_);
  }
  OlmSessionBox(const OlmSessionBox&) = delete;
  OlmSessionBox& operator=(const OlmSessionBox&) = delete;
  OlmSession* get() const { return s_; }

 private:
  std::unique_ptr<std::uint8_t[]> mem_;
  OlmSession* s_;
};

struct OlmWire {
  std::size_t type = 0;
  std::vector<std::uint8_t> body;  // base64
};

OlmWire olm_send(OlmSession* s, hush::ByteView plaintext) {
  OlmWire w;
  hush::Bytes r = random_bytes(olm_encrypt_random_length(s));
  w.type = olm_encrypt_message_type(s);
  w.body.resize(olm_encrypt_message_length(s, plaintext.size()));
  if (olm_encrypt(s, plaintext.data(), plaintext.size(), r.data(), r.size(), w.body.data(),
                  w.body.size()) == olm_error())
    olm_fail("encrypt", olm_session_last_error(s));
  return w;
}

// Decrypts (and destroys) `w.body`; false on failure.
bool olm_receive(OlmSession* s, OlmWire& w) {
  hush::Bytes out(w.body.size());  // base64 is longer than the plaintext it carries
  const std::size_t n =
      olm_decrypt(s, w.type, w.body.data(), w.body.size(), out.data(), out.size());
  benchmark::DoNotOptimize(out.data());
  return n != olm_error();
}

// The inbound session for a first (PRE_KEY) message, which it then decrypts. `remove_key`: the
// one-time key is removed from the account, as libolm's users do.
std::unique_ptr<OlmSessionBox> olm_accept(OlmAccount* account, OlmWire& first, bool remove_key) {
  auto s = std::make_unique<OlmSessionBox>();
  std::vector<std::uint8_t> copy = first.body;  // create_inbound_session destroys its input
  if (olm_create_inbound_session(s->get(), account, copy.data(), copy.size()) == olm_error())
    olm_fail("create_inbound_session", olm_session_last_error(s->get()));
  if (remove_key && olm_remove_one_time_keys(account, s->get()) == olm_error())
    olm_fail("remove_one_time_keys", olm_account_last_error(account));
  if (!olm_receive(s->get(), first)) olm_fail("decrypt first", olm_session_last_error(s->get()));
  return s;
}

std::unique_ptr<OlmSessionBox> olm_initiate(OlmAccount* account, const std::string& identity,
                                            const std::string& one_time_key) {
  auto s = std::make_unique<OlmSessionBox>();
  hush::Bytes r = random_bytes(olm_create_outbound_session_random_length(s->get()));
  if (olm_create_outbound_session(s->get(), account, identity.data(), identity.size(),
                                  one_time_key.data(), one_time_key.size(), r.data(),
                                  r.size()) == olm_error())
    olm_fail("create_outbound_session", olm_session_last_error(s->get()));
  return s;
}

// ---- established pairs (A initiated, B answered once: both sides hold whisper sessions) ----

// `v4`: a version-4 session (PQXDH on a bundle with a Kyber prekey; SPQR on every message).
struct HushPair {
  HushParty a = hush_party("alice", 0);
  HushParty b;

  explicit HushPair(bool v4 = false) : b(hush_party("bob", 1, true, v4 ? 1 : 0)) {
    std::optional<std::uint32_t> kyber;
    if (v4) kyber = 1;
    must(hush::process_prekey_bundle(ctx(), *a.store, b.address, hush_bundle(b, 1, kyber)));
    if (!hush_receive(b, a.address, hush_send(a, b.address, hush::as_bytes("hello"))))
      fail("hush: first message");
    if (!hush_receive(a, b.address, hush_send(b, a.address, hush::as_bytes("hi"))))
      fail("hush: reply");
  }
  using Wire = HushWire;
  Wire send(bool from_a, hush::ByteView pt) {
    return from_a ? hush_send(a, b.address, pt) : hush_send(b, a.address, pt);
  }
  bool receive(bool at_b, Wire& w) {
    auto p = at_b ? hush_receive(b, a.address, w) : hush_receive(a, b.address, w);
    if (p) benchmark::DoNotOptimize(p->expose().data());
    return p.has_value();
  }
};

// hush on version 4: the same pair, its session set up by PQXDH.
struct HushV4Pair : HushPair {
  HushV4Pair() : HushPair(true) {}
};

struct LscPair {
  LscPeer a = LscPeer::create("alice", 1, 1, 0);
  LscPeer b = LscPeer::create("bob", 1, 1, 1);

  LscPair() {
    if (a.process_bundle(b.address(), b.bundle(1)) != 0) fail("libsignal: process_bundle");
    if (!lsc_receive(b, a.address(), lsc_send(a, b.address(), hush::as_bytes("hello"))))
      fail("libsignal: first message");
    if (!lsc_receive(a, b.address(), lsc_send(b, a.address(), hush::as_bytes("hi"))))
      fail("libsignal: reply");
  }
  using Wire = LscWire;
  Wire send(bool from_a, hush::ByteView pt) {
    return from_a ? lsc_send(a, b.address(), pt) : lsc_send(b, a.address(), pt);
  }
  bool receive(bool at_b, Wire& w) {
    return at_b ? lsc_receive(b, a.address(), w) : lsc_receive(a, b.address(), w);
  }
};

struct OlmPair {
  OlmAccountBox a_account;
  OlmAccountBox b_account;
  std::unique_ptr<OlmSessionBox> a;
  std::unique_ptr<OlmSessionBox> b;

  OlmPair() {
    a = olm_initiate(a_account.get(), b_account.curve25519(), b_account.one_time_keys(1).at(0));
    OlmWire first = olm_send(a->get(), hush::as_bytes("hello"));
    b = olm_accept(b_account.get(), first, true);
    OlmWire reply = olm_send(b->get(), hush::as_bytes("hi"));
    if (!olm_receive(a->get(), reply)) fail("libolm: reply");
  }
  using Wire = OlmWire;
  Wire send(bool from_a, hush::ByteView pt) { return olm_send((from_a ? a : b)->get(), pt); }
  bool receive(bool at_b, Wire& w) { return olm_receive((at_b ? b : a)->get(), w); }
};

// ---- W1: session setup ----

// The timed part of W1 for hush, out of line so that a profile can single it out (callgrind
// --toggle-collect='*w1_one_setup*').
[[gnu::noinline]] void w1_one_setup(HushParty& alice, HushParty& bob,
                                    const std::pair<hush::Address, hush::Address>& names,
                                    const hush::PreKeyBundle& bundle, const std::string& text) {
  must(hush::process_prekey_bundle(ctx(), *alice.store, names.first, bundle));
  const HushWire w = hush_send(alice, names.first, hush::as_bytes(text));
  auto p = hush_receive(bob, names.second, w);
  if (!p) fail("hush: W1 decrypt");
  benchmark::DoNotOptimize(p->expose().data());
}

// `v4`: bundles with a one-time Kyber prekey each (PQXDH, version 4); their Kyber1024 key
// generation is outside the timed part like the rest of the responder's keys.
void w1_hush(benchmark::State& state, bool v4) {
  const std::string text = payload(kTextBytes);
  std::optional<HushParty> alice;
  std::optional<HushParty> bob;
  std::vector<hush::PreKeyBundle> bundles;
  std::vector<std::pair<hush::Address, hush::Address>> names;  // (bob as alice calls him, alice)
  int next = kW1Batch;
  for (auto _ : state) {
    if (next == kW1Batch) {
      state.PauseTiming();
      alice.reset();
      bob.reset();
      alice.emplace(hush_party("alice", 0, false));
      bob.emplace(hush_party("bob", kW1Batch, true, v4 ? kW1Batch : 0));
      bundles.clear();
      names.clear();
      for (int i = 0; i < kW1Batch; ++i) {
        const auto id = static_cast<std::uint32_t>(i + 1);
        bundles.push_back(
            hush_bundle(*bob, id, v4 ? std::optional<std::uint32_t>(id) : std::nullopt));
        names.emplace_back(addr("bob" + std::to_string(i)), addr("alice" + std::to_string(i)));
      }
      next = 0;
      state.ResumeTiming();
    }
    const auto i = static_cast<std::size_t>(next++);
    w1_one_setup(*alice, *bob, names[i], bundles[i], text);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_W1_hush(benchmark::State& state) {
  w1_hush(state, false);
}
void BM_W1_hush_v4(benchmark::State& state) {
  w1_hush(state, true);
}

void BM_W1_libsignal(benchmark::State& state) {
  const std::string text = payload(kTextBytes);
  std::optional<LscPeer> alice;
  std::optional<LscPeer> bob;
  std::vector<hush::PreKeyBundle> bundles;
  std::vector<std::pair<hush::Address, hush::Address>> names;
  int next = kW1Batch;
  for (auto _ : state) {
    if (next == kW1Batch) {
      state.PauseTiming();
      alice.reset();
      bob.reset();
      alice.emplace(LscPeer::create("alice", 1, 1, 0));
      bob.emplace(LscPeer::create("bob", 1, 1, kW1Batch));
      bundles.clear();
      names.clear();
      for (int i = 0; i < kW1Batch; ++i) {
        bundles.push_back(bob->bundle(static_cast<std::uint32_t>(i + 1)));
        names.emplace_back(addr("bob" + std::to_string(i)), addr("alice" + std::to_string(i)));
      }
      next = 0;
      state.ResumeTiming();
    }
    const auto i = static_cast<std::size_t>(next++);
    if (alice->process_bundle(names[i].first, bundles[i]) != 0) fail("libsignal: W1 bundle");
    const LscWire w = lsc_send(*alice, names[i].first, hush::as_bytes(text));
    if (!lsc_receive(*bob, names[i].second, w)) fail("libsignal: W1 decrypt");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_W1_olm(benchmark::State& state) {
  const std::string text = payload(kTextBytes);
  std::optional<OlmAccountBox> alice;
  std::optional<OlmAccountBox> bob;
  std::string bob_identity;
  std::vector<std::string> one_time_keys;
  // The sessions made in a batch live until the next refill, as hush's and libsignal's stay in
  // their stores.
  std::vector<std::unique_ptr<OlmSessionBox>> sessions;
  int next = kW1Batch;
  for (auto _ : state) {
    if (next == kW1Batch) {
      state.PauseTiming();
      sessions.clear();
      alice.reset();
      bob.reset();
      alice.emplace();
      bob.emplace();
      bob_identity = bob->curve25519();
      one_time_keys = bob->one_time_keys(kW1Batch);
      next = 0;
      state.ResumeTiming();
    }
    const auto i = static_cast<std::size_t>(next++);
    auto outbound = olm_initiate(alice->get(), bob_identity, one_time_keys[i]);
    OlmWire w = olm_send(outbound->get(), hush::as_bytes(text));
    auto inbound = olm_accept(bob->get(), w, true);
    sessions.push_back(std::move(outbound));
    sessions.push_back(std::move(inbound));
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- W2: one-way burst; W3: ping-pong ----

// One message of W2/W3 (encrypted, then decrypted by the other side), out of line so that a
// profile can single it out (callgrind --toggle-collect='*one_message*').
template <class Pair>
[[gnu::noinline]] void one_message(Pair& pair, bool from_a, hush::ByteView text) {
  auto w = pair.send(from_a, text);
  if (!pair.receive(from_a, w)) fail("decrypt failed");
}

template <class Pair>
void BM_W2(benchmark::State& state) {
  Pair pair;
  const std::string text = payload(static_cast<std::size_t>(state.range(0)));
  // B's first message from A's new chain costs B a DH ratchet step: not part of the burst.
  auto first = pair.send(true, hush::as_bytes(text));
  if (!pair.receive(true, first)) fail("W2 first decrypt");
  for (auto _ : state)
    one_message(pair, true, hush::as_bytes(text));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

template <class Pair>
void BM_W3(benchmark::State& state) {
  Pair pair;
  const std::string text = payload(kTextBytes);
  bool a_sends = true;
  for (auto _ : state) {
    one_message(pair, a_sends, hush::as_bytes(text));
    a_sends = !a_sends;
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- W4: 1000 messages decrypted in reverse order, or in order ----

// The timed part of W4, out of line so that a profile can single it out (callgrind
// --toggle-collect='*decrypt_all*'). Returns how many decrypted.
template <class Pair>
[[gnu::noinline]] std::int64_t decrypt_all(Pair& pair, std::vector<typename Pair::Wire>& wires) {
  std::int64_t n = 0;
  for (auto& w : wires)
    n += pair.receive(true, w) ? 1 : 0;
  return n;
}

template <class Pair>
void BM_W4(benchmark::State& state, bool reverse) {
  const std::string text = payload(kW4Bytes);
  std::int64_t decrypted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto pair = std::make_unique<Pair>();
    std::vector<typename Pair::Wire> wires;
    wires.reserve(kW4Messages);
    for (std::size_t i = 0; i < kW4Messages; ++i)
      wires.push_back(pair->send(true, hush::as_bytes(text)));
    if (reverse) std::reverse(wires.begin(), wires.end());
    state.ResumeTiming();
    decrypted += decrypt_all(*pair, wires);
    state.PauseTiming();
    pair.reset();
    wires.clear();
    state.ResumeTiming();
  }
  state.counters["decrypted"] =
      benchmark::Counter(static_cast<double>(decrypted), benchmark::Counter::kAvgIterations);
  state.counters["msgs"] = static_cast<double>(kW4Messages);
}

template <class Pair>
void BM_W4_reverse(benchmark::State& state) {
  BM_W4<Pair>(state, true);
}
template <class Pair>
void BM_W4_inorder(benchmark::State& state) {
  BM_W4<Pair>(state, false);
}

// ---- W5: record size and serialize + deserialize after 100 messages ----

// 100 messages, 50 each way, in bursts of 5 (each burst decrypted in order).
template <class Pair>
void talk_100(Pair& pair) {
  const std::string text = payload(64);
  for (int round = 0; round < 10; ++round) {
    for (const bool from_a : {true, false}) {
      for (int k = 0; k < 5; ++k) {
        auto w = pair.send(from_a, hush::as_bytes(text));
        if (!pair.receive(from_a, w)) fail("W5 decrypt");
      }
    }
  }
}

template <class Pair>
void BM_W5_hush(benchmark::State& state) {
  Pair pair;
  talk_100(pair);
  // Alice's record of her session with Bob.
  const hush::SessionRecord record = std::move(*must(pair.a.store->load_session(pair.b.address)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const hush::SecretBytes s = record.serialize();
    auto back = hush::SessionRecord::deserialize(s.expose());
    if (!back) fail("hush: W5 deserialize");
    bytes = s.size();
    benchmark::DoNotOptimize(back);
  }
  state.counters["record_bytes"] = static_cast<double>(bytes);
  // Bob's record of the same session (the responder's side).
  const hush::SessionRecord theirs = std::move(*must(pair.b.store->load_session(pair.a.address)));
  state.counters["record_bytes_responder"] = static_cast<double>(theirs.serialize().size());
}

template <class T>
void lsc_unref(T* p) {
  if (p != nullptr) signal_type_unref(reinterpret_cast<signal_type_base*>(p));
}

void BM_W5_libsignal(benchmark::State& state) {
  LscPair pair;
  talk_100(pair);
  const hush::Bytes raw = pair.a.session_record(pair.b.address()).value();
  signal_context* sc = lsc_plain_context();
  session_record* record = nullptr;
  if (session_record_deserialize(&record, raw.data(), raw.size(), sc) != 0)
    fail("libsignal: W5 deserialize");
  std::size_t bytes = 0;
  for (auto _ : state) {
    signal_buffer* b = nullptr;
    if (session_record_serialize(&b, record) != 0) fail("libsignal: W5 serialize");
    session_record* back = nullptr;
    if (session_record_deserialize(&back, signal_buffer_data(b), signal_buffer_len(b), sc) != 0)
      fail("libsignal: W5 deserialize");
    bytes = signal_buffer_len(b);
    benchmark::DoNotOptimize(back);
    lsc_unref(back);
    signal_buffer_bzero_free(b);
  }
  lsc_unref(record);
  state.counters["record_bytes"] = static_cast<double>(bytes);
}

void BM_W5_olm(benchmark::State& state) {
  OlmPair pair;
  talk_100(pair);
  OlmSession* s = pair.a->get();
  const std::string key = "benchmark pickle key";
  OlmSessionBox back;
  std::vector<std::uint8_t> pickled(olm_pickle_session_length(s));
  for (auto _ : state) {
    const std::size_t n =
        olm_pickle_session(s, key.data(), key.size(), pickled.data(), pickled.size());
    if (n == olm_error()) olm_fail("pickle_session", olm_session_last_error(s));
    // olm_unpickle_session decodes in place (destroying the pickle), so each round pickles anew.
    if (olm_unpickle_session(back.get(), key.data(), key.size(), pickled.data(), n) == olm_error())
      olm_fail("unpickle_session", olm_session_last_error(back.get()));
    benchmark::DoNotOptimize(back.get());
  }
  state.counters["record_bytes"] = static_cast<double>(pickled.size());
  // The pickle is base64 of (version, state, AES-CBC padding, 8-byte MAC): the binary it encodes.
  state.counters["decoded_bytes"] = static_cast<double>(pickled.size() / 4 * 3);
}

// ---- W6: memory per session with 10,000 sessions ----

struct Memory {
  double heap = 0;  // bytes in use in malloc's arenas plus mmapped chunks (mallinfo2)
  double rss = 0;   // resident set size (/proc/self/statm)
};

Memory memory_now() {
  malloc_trim(0);
  const struct mallinfo2 mi = mallinfo2();
  Memory m;
  m.heap = static_cast<double>(mi.uordblks + mi.hblkhd);
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0;
  std::size_t resident = 0;
  statm >> size >> resident;
  m.rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return m;
}

// `add(i)` creates the i-th session on the responder (each with a fresh initiator that is gone
// again when add returns); the growth between before and after is the responder's.
template <class Add>
void measure_sessions(benchmark::State& state, Add&& add) {
  for (int i = 0; i < 20; ++i)
    add(-1 - i);  // warm-up: library caches, map nodes of the first sessions
  for (auto _ : state) {
    const Memory before = memory_now();
    for (int i = 0; i < kW6Sessions; ++i)
      add(i);
    const Memory after = memory_now();
    state.counters["heap_bytes_per_session"] = (after.heap - before.heap) / kW6Sessions;
    state.counters["rss_bytes_per_session"] = (after.rss - before.rss) / kW6Sessions;
  }
  state.counters["sessions"] = kW6Sessions;
}

void BM_W6_hush(benchmark::State& state) {
  HushParty hub = hush_party("hub", 0);
  const hush::PreKeyBundle bundle = hush_bundle(hub, std::nullopt);
  measure_sessions(state, [&](int i) {
    HushParty peer = hush_party("peer", 0, false);
    const hush::Address peer_name = addr("peer" + std::to_string(i));
    must(hush::process_prekey_bundle(ctx(), *peer.store, hub.address, bundle));
    if (!hush_receive(hub, peer_name, hush_send(peer, hub.address, hush::as_bytes("hello"))))
      fail("hush: W6 first message");
    if (!hush_receive(peer, hub.address, hush_send(hub, peer_name, hush::as_bytes("hi"))))
      fail("hush: W6 reply");
  });
}

void BM_W6_libsignal(benchmark::State& state) {
  LscPeer hub = LscPeer::create("hub", 1, 1, 0);
  const hush::PreKeyBundle bundle = hub.bundle(std::nullopt);
  measure_sessions(state, [&](int i) {
    LscPeer peer = LscPeer::create("peer", 1, 1, 0);
    const hush::Address peer_name = addr("peer" + std::to_string(i));
    if (peer.process_bundle(hub.address(), bundle) != 0) fail("libsignal: W6 bundle");
    if (!lsc_receive(hub, peer_name, lsc_send(peer, hub.address(), hush::as_bytes("hello"))))
      fail("libsignal: W6 first message");
    if (!lsc_receive(peer, hub.address(), lsc_send(hub, peer_name, hush::as_bytes("hi"))))
      fail("libsignal: W6 reply");
  });
  // The wrapper keeps libsignal's log lines in memory; none may have grown the hub.
  state.counters["hub_log_bytes"] = static_cast<double>(hub.log().size());
}

void BM_W6_olm(benchmark::State& state) {
  OlmAccountBox hub;
  const std::string identity = hub.curve25519();
  const std::string fallback = hub.fallback_key();
  // The responder keeps its live sessions by peer name, as the other two keep records by address.
  std::map<std::string, std::unique_ptr<OlmSessionBox>> sessions;
  measure_sessions(state, [&](int i) {
    OlmAccountBox peer;
    auto outbound = olm_initiate(peer.get(), identity, fallback);
    OlmWire first = olm_send(outbound->get(), hush::as_bytes("hello"));
    auto inbound = olm_accept(hub.get(), first, false);
    OlmWire reply = olm_send(inbound->get(), hush::as_bytes("hi"));
    if (!olm_receive(outbound->get(), reply)) fail("libolm: W6 reply");
    sessions.emplace("peer" + std::to_string(i), std::move(inbound));
  });
  state.counters["olm_session_size"] = static_cast<double>(olm_session_size());
}

// ---- registration ----

// ---- G1: group messages (sender keys) ----

void BM_G1_hush(benchmark::State& state) {
  HushParty alice = hush_party("alice", 0, false);
  HushParty bob = hush_party("bob", 0, false);
  const hush::SenderKeyGroup group = must(hush::SenderKeyGroup::legacy("bench group"));
  auto skdm = must(hush::create_sender_key_distribution(ctx(), *alice.store, alice.address, group));
  must(hush::process_sender_key_distribution(*bob.store, alice.address, group, skdm));
  const std::string text = payload(256);
  for (auto _ : state) {
    auto m =
        must(hush::group_encrypt(ctx(), *alice.store, alice.address, group, hush::as_bytes(text)));
    // Across the wire: the member parses the bytes.
    auto parsed =
        must(hush::SenderKeyMessage::parse(hush::SenderKeyFormat::kLegacy, m.serialized()));
    auto p = must(hush::group_decrypt(ctx(), *bob.store, alice.address, group, parsed));
    benchmark::DoNotOptimize(p.expose().data());
  }
}

void BM_G1_libsignal(benchmark::State& state) {
  LscPeer alice = LscPeer::create("alice", 1, 1, 0);
  LscPeer bob = LscPeer::create("bob", 1, 1, 0);
  const auto skdm = alice.group_create_distribution("bench group");
  if (skdm.rc != 0) fail("libsignal: group_create_distribution");
  if (bob.group_process_distribution("bench group", alice.address(), skdm.serialized) != 0)
    fail("libsignal: group_process_distribution");
  const std::string text = payload(256);
  for (auto _ : state) {
    auto c = alice.group_encrypt("bench group", hush::as_bytes(text));
    if (c.rc != 0) fail("libsignal: group_encrypt");
    auto p = bob.group_decrypt("bench group", alice.address(), c.serialized);
    if (p.rc != 0) fail("libsignal: group_decrypt");
    benchmark::DoNotOptimize(p.plaintext.data());
  }
}

// ---- G2/G3: sender keys for a group of 1,000 (issue 11) ----

// A sender with steady 1:1 sessions (one round trip done) to `n` member devices.
constexpr int kG2Members = 1000;

struct HushFanout {
  HushParty alice = hush_party("alice", 0);
  std::vector<HushParty> members;
  explicit HushFanout(int n) {
    members.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      members.push_back(hush_party("member" + std::to_string(i), 1));
      HushParty& m = members.back();
      must(hush::process_prekey_bundle(ctx(), *alice.store, m.address, hush_bundle(m, 1)));
      if (!hush_receive(m, alice.address, hush_send(alice, m.address, hush::as_bytes("hello"))))
        fail("hush: G2 first message");
      if (!hush_receive(alice, m.address, hush_send(m, alice.address, hush::as_bytes("hi"))))
        fail("hush: G2 reply");
    }
  }
};

struct LscFanout {
  LscPeer alice = LscPeer::create("alice", 1, 1, 0);
  std::vector<LscPeer> members;
  explicit LscFanout(int n) {
    members.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      members.push_back(LscPeer::create("member" + std::to_string(i), 1, 1, 1));
      LscPeer& m = members.back();
      if (alice.process_bundle(m.address(), m.bundle(1)) != 0) fail("libsignal: G2 bundle");
      if (!lsc_receive(m, alice.address(), lsc_send(alice, m.address(), hush::as_bytes("hello"))))
        fail("libsignal: G2 first message");
      if (!lsc_receive(alice, m.address(), lsc_send(m, alice.address(), hush::as_bytes("hi"))))
        fail("libsignal: G2 reply");
    }
  }
};

// G2_distribute/<lib>/<n>: a new sender key and its distribution message, encrypted over the 1:1
// session of each of n member devices and stored (hush: one encrypt_messages batch, one store
// transaction; libsignal-protocol-c: group_session_builder_create_session + n
// session_cipher_encrypt). n = 1000: creating a group of 1,000; n = 999: the sender's side of
// removing one member (its new key to those who stay).
void BM_G2_hush(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  HushFanout f(kG2Members);
  std::vector<hush::OutgoingMessage> batch(static_cast<std::size_t>(n));
  for (auto _ : state) {
    const auto dist = must(hush::DistributionId::generate(ctx().random));
    auto skdm = must(hush::create_sender_key_distribution(ctx(), *f.alice.store, f.alice.address,
                                                          hush::SenderKeyGroup::current(dist)));
    for (int i = 0; i < n; ++i)
      batch[static_cast<std::size_t>(i)] =
          hush::OutgoingMessage{f.members[static_cast<std::size_t>(i)].address, skdm.serialized()};
    auto sealed = must(hush::encrypt_messages(ctx(), *f.alice.store, batch));
    benchmark::DoNotOptimize(sealed.data());
  }
  state.counters["per_member"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

void BM_G2_libsignal(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  LscFanout f(kG2Members);
  int round = 0;
  for (auto _ : state) {
    const std::string group = "bench group " + std::to_string(round++);
    auto skdm = f.alice.group_create_distribution(group);
    if (skdm.rc != 0) fail("libsignal: G2 group_create_distribution");
    for (int i = 0; i < n; ++i) {
      auto c = f.alice.encrypt(f.members[static_cast<std::size_t>(i)].address(), skdm.serialized);
      if (c.rc != 0) fail("libsignal: G2 encrypt");
      benchmark::DoNotOptimize(c.serialized.data());
    }
  }
  state.counters["per_member"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

// G3_new_key/<lib>: what a removal costs one member that stays: the 1:1 message carrying the
// sender's new key, parsed and decrypted, and the key processed and stored (the sender's side is
// made outside the timed part).
void BM_G3_hush(benchmark::State& state) {
  HushFanout f(1);
  HushParty& bob = f.members[0];
  for (auto _ : state) {
    state.PauseTiming();
    const auto dist = must(hush::DistributionId::generate(ctx().random));
    const hush::SenderKeyGroup group = hush::SenderKeyGroup::current(dist);
    auto skdm =
        must(hush::create_sender_key_distribution(ctx(), *f.alice.store, f.alice.address, group));
    const HushWire wire = hush_send(f.alice, bob.address, skdm.serialized());
    state.ResumeTiming();
    auto plain = hush_receive(bob, f.alice.address, wire);
    if (!plain) fail("hush: G3 receive");
    auto key = must(hush::SenderKeyDistributionMessage::parse(hush::SenderKeyFormat::kCurrent,
                                                              plain->expose()));
    must(hush::process_sender_key_distribution(*bob.store, f.alice.address, group, key));
  }
}

void BM_G3_libsignal(benchmark::State& state) {
  LscFanout f(1);
  LscPeer& bob = f.members[0];
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string group = "bench group " + std::to_string(round++);
    auto skdm = f.alice.group_create_distribution(group);
    if (skdm.rc != 0) fail("libsignal: G3 group_create_distribution");
    auto c = f.alice.encrypt(bob.address(), skdm.serialized);
    if (c.rc != 0) fail("libsignal: G3 encrypt");
    state.ResumeTiming();
    auto p = bob.decrypt(f.alice.address(), c.type, c.serialized);
    if (p.rc != 0) fail("libsignal: G3 decrypt");
    if (bob.group_process_distribution(group, f.alice.address(), p.plaintext) != 0)
      fail("libsignal: G3 group_process_distribution");
  }
}

constexpr auto kUs = benchmark::kMicrosecond;

BENCHMARK(BM_W1_hush)->Name("W1_setup/hush")->Unit(kUs);
BENCHMARK(BM_W1_hush_v4)->Name("W1_setup/hush-v4")->Unit(kUs);
BENCHMARK(BM_W1_libsignal)->Name("W1_setup/libsignal")->Unit(kUs);
BENCHMARK(BM_W1_olm)->Name("W1_setup/olm")->Unit(kUs);

void w2_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(16)->Arg(256)->Arg(4096)->Arg(65536)->Unit(kUs);
}
BENCHMARK_TEMPLATE(BM_W2, HushPair)->Name("W2_burst/hush")->Apply(w2_sizes);
BENCHMARK_TEMPLATE(BM_W2, HushV4Pair)->Name("W2_burst/hush-v4")->Apply(w2_sizes);
BENCHMARK_TEMPLATE(BM_W2, LscPair)->Name("W2_burst/libsignal")->Apply(w2_sizes);
BENCHMARK_TEMPLATE(BM_W2, OlmPair)->Name("W2_burst/olm")->Apply(w2_sizes);

BENCHMARK_TEMPLATE(BM_W3, HushPair)->Name("W3_pingpong/hush")->Unit(kUs);
BENCHMARK_TEMPLATE(BM_W3, HushV4Pair)->Name("W3_pingpong/hush-v4")->Unit(kUs);
BENCHMARK_TEMPLATE(BM_W3, LscPair)->Name("W3_pingpong/libsignal")->Unit(kUs);
BENCHMARK_TEMPLATE(BM_W3, OlmPair)->Name("W3_pingpong/olm")->Unit(kUs);

constexpr auto kMs = benchmark::kMillisecond;
BENCHMARK_TEMPLATE(BM_W4_reverse, HushPair)->Name("W4_reverse/hush")->Unit(kMs);
BENCHMARK_TEMPLATE(BM_W4_inorder, HushPair)->Name("W4_inorder/hush")->Unit(kMs);
BENCHMARK_TEMPLATE(BM_W4_reverse, LscPair)->Name("W4_reverse/libsignal")->Unit(kMs);
BENCHMARK_TEMPLATE(BM_W4_inorder, LscPair)->Name("W4_inorder/libsignal")->Unit(kMs);
BENCHMARK_TEMPLATE(BM_W4_reverse, OlmPair)->Name("W4_reverse/olm")->Unit(kMs);
BENCHMARK_TEMPLATE(BM_W4_inorder, OlmPair)->Name("W4_inorder/olm")->Unit(kMs);

BENCHMARK_TEMPLATE(BM_W5_hush, HushPair)->Name("W5_record/hush")->Unit(kUs);
BENCHMARK_TEMPLATE(BM_W5_hush, HushV4Pair)->Name("W5_record/hush-v4")->Unit(kUs);
BENCHMARK(BM_W5_libsignal)->Name("W5_record/libsignal")->Unit(kUs);
BENCHMARK(BM_W5_olm)->Name("W5_record/olm")->Unit(kUs);

// One measured pass each (10,000 sessions), whatever --benchmark_repetitions says.
BENCHMARK(BM_W6_hush)->Name("W6_memory/hush")->Unit(kMs)->Iterations(1)->Repetitions(1);
BENCHMARK(BM_W6_libsignal)->Name("W6_memory/libsignal")->Unit(kMs)->Iterations(1)->Repetitions(1);
BENCHMARK(BM_W6_olm)->Name("W6_memory/olm")->Unit(kMs)->Iterations(1)->Repetitions(1);

BENCHMARK(BM_G1_hush)->Name("G1_group/hush")->Unit(kUs);
BENCHMARK(BM_G1_libsignal)->Name("G1_group/libsignal")->Unit(kUs);
// G2/G3 set up 1,000 sessions per run: a fixed number of iterations, so that each runs once.
BENCHMARK(BM_G2_hush)
    ->Name("G2_distribute/hush")
    ->Arg(1000)
    ->Arg(999)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_G2_libsignal)
    ->Name("G2_distribute/libsignal")
    ->Arg(1000)
    ->Arg(999)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_G3_hush)->Name("G3_new_key/hush")->Iterations(300)->Unit(kUs);
BENCHMARK(BM_G3_libsignal)->Name("G3_new_key/libsignal")->Iterations(300)->Unit(kUs);

// ---- the summary: ratios and targets ----

// Collects every (non-aggregate) run while the console reporter prints them, then prints the
// workloads as ratios, from the median over repetitions of each run's CPU time per iteration.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Color : OO_None) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type != Run::RT_Iteration && !median) continue;
      std::string key = r.run_name.function_name;
      if (!r.run_name.args.empty()) key += "/" + r.run_name.args;
      // A median aggregate (all that --benchmark_display_aggregates_only passes on) stands for the
      // repetitions; its accumulated time is the median of theirs, over the same iterations.
      Sample& s = median ? medians_[key] : samples_[key];
      s.cpu_seconds.push_back(r.cpu_accumulated_time / static_cast<double>(r.iterations));
      for (const auto& [name, counter] : r.counters)
        s.counters[name].push_back(counter.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::FILE* out = stdout;
    std::fflush(out);
    std::fprintf(out, "\n==== hush against its peers (medians; CPU time per iteration) ====\n");
    speed(out, "W1 session setup", "W1_setup", "", 3.0, 1.5);
    speed(out, "W2 one-way 16 B", "W2_burst", "/16", 0, 0);
    speed(out, "W2 one-way 256 B", "W2_burst", "/256", 2.5, 2.5);
    speed(out, "W2 one-way 4 KiB", "W2_burst", "/4096", 0, 0);
    speed(out, "W2 one-way 64 KiB", "W2_burst", "/65536", 0, 0);
    speed(out, "W3 ping-pong 256 B", "W3_pingpong", "", 4.0, 4.0);
    reverse(out);
    speed(out, "W5 serialize+deserialize", "W5_record", "", 0, 0);
    size(out, "W5 record size", "W5_record", "record_bytes", 640, "bytes");
    size(out, "W6 memory per session", "W6_memory", "heap_bytes_per_session", 2048, "bytes");
    size(out, "W6 RSS per session", "W6_memory", "rss_bytes_per_session", 0, "bytes");
    speed(out, "G1 group 256 B", "G1_group", "", 2.0, 0);
    std::fprintf(out, "\n==== hush version 4 (PQXDH + SPQR) against version 3 (issue 12) ====\n");
    v4_ratio(out, "W1 session setup", "W1_setup", "", 1.5);
    v4_ratio(out, "W2 one-way 16 B", "W2_burst", "/16", 0);
    v4_ratio(out, "W2 one-way 256 B", "W2_burst", "/256", 1.25);
    v4_ratio(out, "W2 one-way 4 KiB", "W2_burst", "/4096", 0);
    v4_ratio(out, "W2 one-way 64 KiB", "W2_burst", "/65536", 0);
    v4_ratio(out, "W3 ping-pong 256 B", "W3_pingpong", "", 1.25);
    v4_ratio(out, "W5 serialize+deserialize", "W5_record", "", 0);
    for (const char* counter : {"record_bytes", "record_bytes_responder"}) {
      const auto v3 = counter_of("W5_record/hush", counter);
      const auto v4 = counter_of("W5_record/hush-v4", counter);
      if (!v3 && !v4) continue;
      auto fmt = [](std::optional<double> v) {
        return v ? std::to_string(static_cast<long>(*v + 0.5)) : std::string("-");
      };
      std::fprintf(
          out, "%-26s v3 %s | v4 %s bytes (libsignal 0.103: bench/node/bench_v4.mjs)\n",
          counter == std::string("record_bytes") ? "W5 record, initiator" : "W5 record, responder",
          fmt(v3).c_str(), fmt(v4).c_str());
    }
    std::fflush(out);
  }

 private:
  struct Sample {
    std::vector<double> cpu_seconds;
    std::map<std::string, std::vector<double>> counters;
  };

  static std::optional<double> median(std::vector<double> v) {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  const Sample* sample(const std::string& key) const {
    if (auto it = medians_.find(key); it != medians_.end()) return &it->second;
    if (auto it = samples_.find(key); it != samples_.end()) return &it->second;
    return nullptr;
  }
  std::optional<double> time_of(const std::string& key) const {
    const Sample* s = sample(key);
    if (s == nullptr) return std::nullopt;
    return median(s->cpu_seconds);
  }
  std::optional<double> counter_of(const std::string& key, const std::string& name) const {
    const Sample* s = sample(key);
    if (s == nullptr) return std::nullopt;
    auto c = s->counters.find(name);
    if (c == s->counters.end()) return std::nullopt;
    return median(c->second);
  }
  static std::string us(std::optional<double> seconds) {
    if (!seconds) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f us", *seconds * 1e6);
    return b;
  }
  static std::string times(std::optional<double> num, std::optional<double> den) {
    if (!num || !den || *den == 0) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2fx", *num / *den);
    return b;
  }
  static const char* verdict(std::optional<double> ratio, double target) {
    if (target == 0) return "";
    if (!ratio) return "  [target: no data]";
    return *ratio >= target ? "  [target met]" : "  [target MISSED]";
  }

  void speed(std::FILE* out, const char* title, const std::string& family, const std::string& arg,
             double target_lsc, double target_olm) const {
    const auto h = time_of(family + "/hush" + arg);
    const auto l = time_of(family + "/libsignal" + arg);
    const auto o = time_of(family + "/olm" + arg);
    if (!h && !l && !o) return;
    std::fprintf(out, "%-26s hush %s | libsignal-c %s | libolm %s\n", title, us(h).c_str(),
                 us(l).c_str(), us(o).c_str());
    std::optional<double> rl;
    std::optional<double> ro;
    if (h && l) rl = *l / *h;
    if (h && o) ro = *o / *h;
    std::fprintf(
        out, "%-26s   hush is %s faster than libsignal-protocol-c%s and %s than libolm%s\n", "",
        times(l, h).c_str(), verdict(rl, target_lsc), times(o, h).c_str(), verdict(ro, target_olm));
  }

  static std::string ms(std::optional<double> seconds) {
    if (!seconds) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f ms", *seconds * 1e3);
    return b;
  }

  void reverse(std::FILE* out) const {
    bool any = false;
    for (const char* lib : {"hush", "libsignal", "olm"}) {
      const std::string name = lib == std::string("olm")         ? "libolm"
                               : lib == std::string("libsignal") ? "libsignal-c"
                                                                 : "hush";
      const auto rv = time_of(std::string("W4_reverse/") + lib);
      const auto io = time_of(std::string("W4_inorder/") + lib);
      const auto n = counter_of(std::string("W4_reverse/") + lib, "decrypted");
      if (!rv && !io) continue;
      std::fprintf(out, "%-26s %s: reversed %s, in order %s: %s; decrypted %s of 1000 reversed\n",
                   any ? "" : "W4 1000 msgs reversed", name.c_str(), ms(rv).c_str(), ms(io).c_str(),
                   times(rv, io).c_str(), n ? std::to_string(static_cast<long>(*n)).c_str() : "-");
      any = true;
    }
    if (!any) return;
    const auto rv = time_of("W4_reverse/hush");
    const auto io = time_of("W4_inorder/hush");
    const auto n = counter_of("W4_reverse/hush", "decrypted");
    if (rv && io && n) {
      const bool met = *n >= 1000 && *rv <= 3.0 * *io;
      std::fprintf(out, "%-26s   hush reversed takes %.2fx its in-order time%s\n", "", *rv / *io,
                   met ? "  [target met: all 1000, <= 3x]" : "  [target MISSED: all 1000, <= 3x]");
    }
    const auto lrv = time_of("W4_reverse/libsignal");
    if (rv && lrv)
      std::fprintf(out, "%-26s   reversed, hush is %s faster than libsignal-protocol-c\n", "",
                   times(lrv, rv).c_str());
  }

  // hush-v4's time over hush's (v3), against a ceiling (`limit`, 0: none).
  void v4_ratio(std::FILE* out, const char* title, const std::string& family,
                const std::string& arg, double limit) const {
    const auto v3 = time_of(family + "/hush" + arg);
    const auto v4 = time_of(family + "/hush-v4" + arg);
    if (!v3 || !v4) return;
    std::fprintf(out, "%-26s v3 %s | v4 %s: v4 takes %s v3's time", title, us(v3).c_str(),
                 us(v4).c_str(), times(v4, v3).c_str());
    if (limit > 0)
      std::fprintf(out, "  [target <= %.2fx: %s]", limit, *v4 <= limit * *v3 ? "met" : "MISSED");
    std::fprintf(out, "\n");
  }

  void size(std::FILE* out, const char* title, const std::string& family,
            const std::string& counter, double target, const char* unit) const {
    const auto h = counter_of(family + "/hush", counter);
    const auto l = counter_of(family + "/libsignal", counter);
    const auto o = counter_of(family + "/olm", counter);
    if (!h && !l && !o) return;
    auto fmt = [](std::optional<double> v) {
      return v ? std::to_string(static_cast<long>(*v + 0.5)) : std::string("-");
    };
    std::fprintf(out, "%-26s hush %s | libsignal-c %s | libolm %s %s\n", title, fmt(h).c_str(),
                 fmt(l).c_str(), fmt(o).c_str(), unit);
    std::fprintf(out, "%-26s   libsignal-c needs %s hush's, libolm %s", "", times(l, h).c_str(),
                 times(o, h).c_str());
    if (target > 0 && h)
      std::fprintf(out, "  [target <= %.0f: %s]", target, *h <= target ? "met" : "MISSED");
    std::fprintf(out, "\n");
  }

  std::map<std::string, Sample> samples_;
  std::map<std::string, Sample> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

// hush interop tests against libsignal-protocol-c 2.3.3 (through LscPeer, lsc_peer.h).
//
// Part 1 ("LscPeer: ..."): the harness itself, two libsignal peers talking to each other.
// Part 2: hush (public API, InMemoryProtocolStore, test_support's Party) against libsignal, each
// scenario run with either library in either role through the Endpoint interface below.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <hush/hush.h>

#include "interop/lsc_peer.h"
#include "support/test_support.h"

namespace hush::interop {
namespace {

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// Sends `s` from `from` to `to` through libsignal on both ends; checks type and plaintext.
void lsc_send(LscPeer& from, LscPeer& to, const std::string& s, int expected_type) {
  const LscCiphertext c = from.encrypt(to.address(), text(s));
  REQUIRE(c.rc == kSgSuccess);
  REQUIRE(c.type == expected_type);
  const LscPlaintext p = to.decrypt(from.address(), c.type, c.serialized);
  REQUIRE(p.rc == kSgSuccess);
  REQUIRE(p.plaintext == text(s));
}

}  // namespace

TEST_CASE("LscPeer: two libsignal peers talk through the harness", "[interop][lsc]") {
  LscPeer alice = LscPeer::create("alice", 1, 1, 5, 11);
  LscPeer bob = LscPeer::create("bob", 1, 100, 5, 22);

  REQUIRE(alice.identity_key_bytes().size() == 33);
  REQUIRE(alice.identity_key_bytes()[0] == 0x05);
  REQUIRE(alice.registration_id() >= 1);
  REQUIRE(alice.registration_id() <= 16380);
  REQUIRE(bob.pre_key_count() == 5);
  REQUIRE(bob.has_pre_key(100));
  REQUIRE(bob.has_pre_key(104));
  REQUIRE_FALSE(bob.has_pre_key(105));

  const PreKeyBundle bundle = bob.bundle(101);
  REQUIRE(bundle.pre_key_id == PreKeyId{101});
  REQUIRE(bundle.identity_key == bob.identity_key());
  // The signed prekey signature (libsignal's curve25519_sign) verifies in hush.
  REQUIRE(bundle.identity_key.verify_signature(ByteView(bundle.signed_pre_key.serialize()),
                                               bundle.signed_pre_key_signature));

  REQUIRE_FALSE(alice.has_session(bob.address()));
  REQUIRE(alice.process_bundle(bob.address(), bundle) == kSgSuccess);
  REQUIRE(alice.has_session(bob.address()));
  REQUIRE(alice.session_version(bob.address()) == 3u);
  REQUIRE(alice.remote_registration_id(bob.address()) == bob.registration_id());
  REQUIRE(alice.stored_identity(bob.address()) == bob.identity_key_bytes());

  // Prekey messages until bob answers.
  const LscCiphertext first = alice.encrypt(bob.address(), text("hello bob"));
  REQUIRE(first.rc == kSgSuccess);
  REQUIRE(first.type == kLscPreKeyType);
  REQUIRE(first.serialized.at(0) == 0x33);
  const LscPreKeyInfo info = bob.inspect_prekey(first.serialized);
  REQUIRE(info.rc == kSgSuccess);
  REQUIRE(info.version == 3);
  REQUIRE(info.pre_key_id == 101u);
  REQUIRE(info.signed_pre_key_id == 1u);
  REQUIRE(info.registration_id == alice.registration_id());
  REQUIRE(info.identity_key == alice.identity_key_bytes());
  REQUIRE(info.inner.counter == 0);
  REQUIRE(info.inner_serialized.at(0) == 0x33);

  const LscPlaintext p1 = bob.decrypt(alice.address(), first.type, first.serialized);
  REQUIRE(p1.rc == kSgSuccess);
  REQUIRE(p1.plaintext == text("hello bob"));
  REQUIRE_FALSE(bob.has_pre_key(101));
  REQUIRE(bob.pre_key_count() == 4);
  REQUIRE(bob.stored_identity(alice.address()) == alice.identity_key_bytes());
  REQUIRE(bob.remote_registration_id(alice.address()) == alice.registration_id());

  // A replay is a duplicate.
  REQUIRE(bob.decrypt(alice.address(), first.type, first.serialized).rc == kSgErrDuplicateMessage);

  lsc_send(alice, bob, "second prekey message", kLscPreKeyType);
  lsc_send(bob, alice, "hi alice", kLscWhisperType);
  lsc_send(alice, bob, "now whisper", kLscWhisperType);

  const LscCiphertext w = bob.encrypt(alice.address(), text("inspect me"));
  REQUIRE(w.rc == kSgSuccess);
  REQUIRE(w.type == kLscWhisperType);
  const LscWhisperInfo wi = alice.inspect_whisper(w.serialized);
  REQUIRE(wi.rc == kSgSuccess);
  REQUIRE(wi.version == 3);
  REQUIRE(wi.ratchet_key.size() == 33);
  REQUIRE(alice.decrypt(bob.address(), w.type, w.serialized).plaintext == text("inspect me"));

  for (int i = 0; i < 50; ++i) {
    for (int j = 0; j <= i % 3; ++j)
      lsc_send(alice, bob, "a" + std::to_string(i), kLscWhisperType);
    for (int j = 0; j <= i % 4; ++j)
      lsc_send(bob, alice, "b" + std::to_string(i), kLscWhisperType);
  }

  // Tampering is refused and changes nothing.
  LscCiphertext t = alice.encrypt(bob.address(), text("tamper"));
  REQUIRE(t.rc == kSgSuccess);
  Bytes bad = t.serialized;
  bad.back() ^= 1;
  REQUIRE(bob.decrypt(alice.address(), t.type, bad).rc == kSgErrInvalidMessage);
  REQUIRE(bob.decrypt(alice.address(), t.type, t.serialized).plaintext == text("tamper"));

  // Encrypting with no session fails.
  LscPeer carol = LscPeer::create("carol", 2, 1, 0);
  REQUIRE(carol.encrypt(alice.address(), text("x")).rc != kSgSuccess);
  REQUIRE(carol.decrypt(alice.address(), kLscWhisperType, w.serialized).rc == kSgErrNoSession);
}

TEST_CASE("LscPeer: bundle without a one-time prekey, and an untrusted identity",
          "[interop][lsc]") {
  LscPeer alice = LscPeer::create("alice", 1, 1, 2);
  LscPeer bob = LscPeer::create("bob", 3, 1, 2);
  REQUIRE(alice.process_bundle(bob.address(), bob.bundle(std::nullopt)) == kSgSuccess);
  const LscCiphertext c = alice.encrypt(bob.address(), text("no one-time prekey"));
  REQUIRE(c.type == kLscPreKeyType);
  REQUIRE_FALSE(bob.inspect_prekey(c.serialized).pre_key_id.has_value());
  REQUIRE(bob.decrypt(alice.address(), c.type, c.serialized).plaintext ==
          text("no one-time prekey"));
  REQUIRE(bob.pre_key_count() == 2);

  // A bundle from someone else under bob's address is refused (TOFU).
  LscPeer mallory = LscPeer::create("bob", 3, 1, 1);
  REQUIRE(alice.process_bundle(bob.address(), mallory.bundle(1)) == kSgErrUntrustedIdentity);

  // A bad signature is refused.
  PreKeyBundle forged = bob.bundle(1);
  forged.signed_pre_key_signature.bytes[5] ^= 0x40;
  LscPeer dave = LscPeer::create("dave", 1, 1, 0);
  REQUIRE(dave.process_bundle(bob.address(), forged) == kSgErrInvalidKey);
}

}  // namespace hush::interop

// ==== Part 2: hush against libsignal-protocol-c ====

namespace hush::interop {
namespace {

static_assert(static_cast<int>(MessageType::kWhisper) == kLscWhisperType);
static_assert(static_cast<int>(MessageType::kPreKey) == kLscPreKeyType);

Bytes to_bytes(ByteView v) {
  return Bytes(v.begin(), v.end());
}

template <std::size_t N>
Bytes to_bytes(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}

std::string describe(const Error& e) {
  return std::string(to_string(e.code())) + " at " + e.where();
}

// A message on the wire, with the type the transport carries.
struct Wire {
  MessageType type = MessageType::kWhisper;
  Bytes bytes;
};

// A message and the plaintext it carries.
struct Sent {
  Wire wire;
  Bytes plaintext;
};

// What a receiver made of a message.
struct Received {
  bool ok = false;
  Bytes plaintext;
  std::optional<Errc> hush_error;  // the receiver is hush and failed
  int lsc_rc = 0;                  // the receiver is libsignal
  std::string detail;

  bool duplicate() const {
    return hush_error == Errc::kDuplicateMessage || lsc_rc == kSgErrDuplicateMessage;
  }
  bool invalid_message() const {
    return hush_error == Errc::kInvalidMessage || lsc_rc == kSgErrInvalidMessage;
  }
};

// One side of a conversation: hush or libsignal, behind one interface so that every scenario runs
// with either library in either role.
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual std::string label() const = 0;
  virtual Address address() const = 0;
  /// Our identity key, 33 bytes.
  virtual Bytes identity() const = 0;
  virtual std::uint32_t registration_id() const = 0;
  virtual PreKeyBundle bundle(std::optional<std::uint32_t> pre_key) const = 0;
  /// Processes `bundle` from `remote`; REQUIREs success.
  virtual void process(const Address& remote, const PreKeyBundle& bundle) = 0;
  /// Encrypts for `remote`; REQUIREs success.
  virtual Wire send(const Address& remote, ByteView plaintext) = 0;
  virtual Received receive(const Address& remote, const Wire& wire) = 0;
  virtual bool has_pre_key(std::uint32_t id) const = 0;
  virtual std::optional<Bytes> stored_identity(const Address& remote) = 0;
  virtual std::optional<std::uint32_t> remote_registration_id(const Address& remote) = 0;
  /// A snapshot of all stored state (hush: the store; libsignal: the session with `remote`).
  virtual Bytes state(const Address& remote) const = 0;
};

class HushEnd final : public Endpoint {
 public:
  HushEnd(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys = 10)
      : party(test::Party::create(name, seed, pre_keys)) {}

  std::string label() const override { return "hush"; }
  Address address() const override { return party.address; }
  Bytes identity() const override {
    auto kp = party.store->identity_key_pair();
    REQUIRE(kp);
    return to_bytes(kp->public_key.serialize());
  }
  std::uint32_t registration_id() const override {
    auto id = party.store->local_registration_id();
    REQUIRE(id);
    return *id;
  }
  PreKeyBundle bundle(std::optional<std::uint32_t> pre_key) const override {
    return party.bundle(pre_key ? std::optional<PreKeyId>(PreKeyId{*pre_key}) : std::nullopt);
  }
  void process(const Address& remote, const PreKeyBundle& b) override {
    const Status st = process_prekey_bundle(*party.ctx, *party.store, remote, b);
    INFO("hush process_prekey_bundle: " << (st ? std::string("ok") : describe(st.error())));
    REQUIRE(st);
  }
  Wire send(const Address& remote, ByteView plaintext) override {
    auto m = encrypt_message(*party.ctx, *party.store, remote, plaintext);
    INFO("hush encrypt_message: " << (m ? std::string("ok") : describe(m.error())));
    REQUIRE(m);
    return Wire{m->type(), to_bytes(m->serialized())};
  }
  Received receive(const Address& remote, const Wire& wire) override {
    Received r;
    auto parsed = CiphertextMessage::parse(wire.type, wire.bytes);
    if (!parsed) {
      r.hush_error = parsed.error().code();
      r.detail = "hush parse: " + describe(parsed.error());
      return r;
    }
    auto p = decrypt_message(*party.ctx, *party.store, remote, *parsed);
    if (!p) {
      r.hush_error = p.error().code();
      r.detail = "hush decrypt_message: " + describe(p.error());
      return r;
    }
    r.ok = true;
    r.plaintext = to_bytes(p->expose());
    return r;
  }
  bool has_pre_key(std::uint32_t id) const override {
    auto k = party.store->load_pre_key(PreKeyId{id});
    REQUIRE(k);
    return k->has_value();
  }
  std::optional<Bytes> stored_identity(const Address& remote) override {
    auto id = party.store->identity(remote.name);
    REQUIRE(id);
    if (!id->has_value()) return std::nullopt;
    return to_bytes((*id)->serialize());
  }
  std::optional<std::uint32_t> remote_registration_id(const Address& remote) override {
    auto info = session_info(*party.store, remote);
    REQUIRE(info);
    if (!info->exists) return std::nullopt;
    return info->remote_registration_id;
  }
  Bytes state(const Address&) const override { return party.snapshot(); }

  test::Party party;
};

class LscEnd final : public Endpoint {
 public:
  LscEnd(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys = 10)
      : peer(LscPeer::create(name, 1, 1, pre_keys, seed)) {}

  std::string label() const override { return "libsignal"; }
  Address address() const override { return peer.address(); }
  Bytes identity() const override { return peer.identity_key_bytes(); }
  std::uint32_t registration_id() const override { return peer.registration_id(); }
  PreKeyBundle bundle(std::optional<std::uint32_t> pre_key) const override {
    return peer.bundle(pre_key);
  }
  void process(const Address& remote, const PreKeyBundle& b) override {
    const int rc = peer.process_bundle(remote, b);
    INFO("libsignal session_builder_process_pre_key_bundle: " << rc << "\n" << peer.log());
    REQUIRE(rc == kSgSuccess);
  }
  Wire send(const Address& remote, ByteView plaintext) override {
    const LscCiphertext c = peer.encrypt(remote, plaintext);
    INFO("libsignal session_cipher_encrypt: " << c.rc << "\n" << peer.log());
    REQUIRE(c.rc == kSgSuccess);
    REQUIRE((c.type == kLscWhisperType || c.type == kLscPreKeyType));
    return Wire{static_cast<MessageType>(c.type), c.serialized};
  }
  Received receive(const Address& remote, const Wire& wire) override {
    peer.clear_log();
    const LscPlaintext p = peer.decrypt(remote, static_cast<int>(wire.type), wire.bytes);
    Received r;
    r.lsc_rc = p.rc;
    r.ok = p.rc == kSgSuccess;
    r.plaintext = p.plaintext;
    r.detail = "libsignal decrypt: " + std::to_string(p.rc) + "\n" + peer.log();
    return r;
  }
  bool has_pre_key(std::uint32_t id) const override { return peer.has_pre_key(id); }
  std::optional<Bytes> stored_identity(const Address& remote) override {
    return peer.stored_identity(remote);
  }
  std::optional<std::uint32_t> remote_registration_id(const Address& remote) override {
    return peer.remote_registration_id(remote);
  }
  Bytes state(const Address& remote) const override {
    return peer.session_record(remote).value_or(Bytes{});
  }

  LscPeer peer;
};

// A hush endpoint and a libsignal endpoint; `a` is the initiator, `b` the responder.
struct Pair {
  std::unique_ptr<HushEnd> hush_end;
  std::unique_ptr<LscEnd> lsc_end;
  Endpoint* a = nullptr;
  Endpoint* b = nullptr;
};

Pair make_pair(bool hush_initiates, std::uint64_t seed) {
  Pair p;
  p.hush_end = std::make_unique<HushEnd>("hush-user", seed);
  p.lsc_end = std::make_unique<LscEnd>("lsc-user", seed + 1);
  p.a = hush_initiates ? static_cast<Endpoint*>(p.hush_end.get()) : p.lsc_end.get();
  p.b = hush_initiates ? static_cast<Endpoint*>(p.lsc_end.get()) : p.hush_end.get();
  return p;
}

Sent send(Endpoint& from, const Endpoint& to, Bytes plaintext) {
  Wire w = from.send(to.address(), plaintext);
  return Sent{std::move(w), std::move(plaintext)};
}

Sent send(Endpoint& from, const Endpoint& to, const std::string& s) {
  return send(from, to, text(s));
}

// Delivers `s` (from `from`) to `to`; REQUIREs that it decrypts to what was sent.
void deliver(Endpoint& to, const Endpoint& from, const Sent& s) {
  const Received r = to.receive(from.address(), s.wire);
  INFO(to.label() << " receiving a " << (s.wire.type == MessageType::kPreKey ? "prekey" : "whisper")
                  << " message from " << from.label() << ": " << r.detail);
  REQUIRE(r.ok);
  REQUIRE(r.plaintext == s.plaintext);
}

// Redelivers `s` to `to`; REQUIREs a duplicate-message error and no change to stored state.
void expect_duplicate(Endpoint& to, const Endpoint& from, const Sent& s) {
  const Bytes before = to.state(from.address());
  const Received r = to.receive(from.address(), s.wire);
  INFO(to.label() << " receiving a replayed message from " << from.label() << ": " << r.detail);
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.duplicate());
  REQUIRE(to.state(from.address()) == before);
}

// a processes b's bundle (with one-time prekey `opk`), a's prekey message reaches b, b answers.
void establish(Endpoint& a, Endpoint& b, std::optional<std::uint32_t> opk) {
  a.process(b.address(), b.bundle(opk));
  const Sent hello = send(a, b, "hello from " + a.label());
  REQUIRE(hello.wire.type == MessageType::kPreKey);
  deliver(b, a, hello);
  const Sent reply = send(b, a, "hello from " + b.label());
  REQUIRE(reply.wire.type == MessageType::kWhisper);
  deliver(a, b, reply);
}

Bytes random_bytes(std::mt19937& rng, std::size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes out(n);
  for (auto& x : out)
    x = static_cast<std::uint8_t>(byte(rng));
  return out;
}

int uniform(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

}  // namespace

TEST_CASE("interop: session setup in both directions, with and without a one-time prekey",
          "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  const bool with_opk = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 100);
  Endpoint& a = *p.a;
  Endpoint& b = *p.b;
  INFO("initiator: " << a.label() << ", one-time prekey: " << with_opk);
  const std::optional<std::uint32_t> opk =
      with_opk ? std::optional<std::uint32_t>(3) : std::nullopt;

  a.process(b.address(), b.bundle(opk));
  REQUIRE(a.stored_identity(b.address()) == b.identity());
  REQUIRE(a.remote_registration_id(b.address()) == b.registration_id());
  const Sent first = send(a, b, "hello from " + a.label());
  const Sent second = send(a, b, "");  // an empty plaintext
  REQUIRE(first.wire.type == MessageType::kPreKey);
  REQUIRE(second.wire.type == MessageType::kPreKey);
  REQUIRE_FALSE(b.stored_identity(a.address()).has_value());

  deliver(b, a, first);
  REQUIRE(b.has_pre_key(3) == !with_opk);
  REQUIRE(b.has_pre_key(1));
  REQUIRE(b.stored_identity(a.address()) == a.identity());
  REQUIRE(b.remote_registration_id(a.address()) == a.registration_id());
  deliver(b, a, second);

  const Sent reply = send(b, a, "hello from " + b.label());
  REQUIRE(reply.wire.type == MessageType::kWhisper);
  deliver(a, b, reply);
  const Sent third = send(a, b, "acknowledged: now whisper messages");
  REQUIRE(third.wire.type == MessageType::kWhisper);
  deliver(b, a, third);
  const Sent fourth = send(b, a, Bytes(1000, 0x5a));
  deliver(a, b, fourth);
}

TEST_CASE("interop: hush's messages as libsignal parses them", "[interop][wire]") {
  HushEnd hush("hush-user", 201);
  LscEnd lsc("lsc-user", 202);
  hush.process(lsc.address(), lsc.bundle(2));

  std::vector<Sent> prekey_messages;
  Bytes base_key;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Sent s = send(hush, lsc, "prekey message " + std::to_string(i));
    REQUIRE(s.wire.type == MessageType::kPreKey);
    REQUIRE(s.wire.bytes.at(0) == 0x33);
    auto ours = PreKeySignalMessage::parse(s.wire.bytes);
    REQUIRE(ours);
    const LscPreKeyInfo info = lsc.peer.inspect_prekey(s.wire.bytes);
    REQUIRE(info.rc == kSgSuccess);
    REQUIRE(info.version == 3);
    REQUIRE(info.registration_id == hush.registration_id());
    REQUIRE(info.pre_key_id == 2u);
    REQUIRE(info.signed_pre_key_id == 1u);
    REQUIRE(info.identity_key == hush.identity());
    REQUIRE(info.base_key == to_bytes(ours->base_key().serialize()));
    if (i == 0) base_key = info.base_key;
    REQUIRE(info.base_key == base_key);  // one session: every prekey message has the same base key
    REQUIRE(info.inner.version == 3);
    REQUIRE(info.inner.counter == i);
    REQUIRE(info.inner_serialized.at(0) == 0x33);
    REQUIRE(info.inner_serialized == to_bytes(ours->message().serialized()));
    REQUIRE(info.inner.ratchet_key == to_bytes(ours->message().ratchet_key().serialize()));
    REQUIRE(info.inner.body == to_bytes(ours->message().ciphertext()));
    REQUIRE(info.inner.body.size() % 16 == 0);
    prekey_messages.push_back(s);
  }
  for (const Sent& s : prekey_messages)
    deliver(lsc, hush, s);
  deliver(hush, lsc, send(lsc, hush, "ack"));

  const Sent w = send(hush, lsc, "a whisper message");
  REQUIRE(w.wire.type == MessageType::kWhisper);
  REQUIRE(w.wire.bytes.at(0) == 0x33);
  auto ours = SignalMessage::parse(w.wire.bytes);
  REQUIRE(ours);
  const LscWhisperInfo info = lsc.peer.inspect_whisper(w.wire.bytes);
  REQUIRE(info.rc == kSgSuccess);
  REQUIRE(info.version == 3);
  REQUIRE(info.counter == 0);  // a new sending chain after the DH ratchet
  REQUIRE(info.ratchet_key == to_bytes(ours->ratchet_key().serialize()));
  REQUIRE(info.body == to_bytes(ours->ciphertext()));
  // previousCounter as libsignal emits it: the counter of the last message of the previous chain.
  REQUIRE(ours->previous_counter() == 2);
  // The message ends in an 8-byte MAC that libsignal checks: changing any of those bytes is refused
  // (and changes nothing), and the genuine message still decrypts.
  REQUIRE(to_bytes(ours->mac()) == Bytes(w.wire.bytes.end() - 8, w.wire.bytes.end()));
  for (std::size_t k = 1; k <= 8; ++k) {
    Wire bad = w.wire;
    bad.bytes[bad.bytes.size() - k] ^= 0x01;
    const Received r = lsc.receive(hush.address(), bad);
    INFO("MAC byte " << (8 - k) << ": " << r.detail);
    REQUIRE(r.lsc_rc == kSgErrInvalidMessage);
  }
  Wire truncated = w.wire;
  truncated.bytes.pop_back();
  REQUIRE_FALSE(lsc.receive(hush.address(), truncated).ok);
  deliver(lsc, hush, w);

  // An empty plaintext is one block of padding.
  const Sent empty = send(hush, lsc, "");
  REQUIRE(lsc.peer.inspect_whisper(empty.wire.bytes).body.size() == 16);
  deliver(lsc, hush, empty);
}

TEST_CASE("interop: libsignal's messages as hush parses them", "[interop][wire]") {
  HushEnd hush("hush-user", 211);
  LscEnd lsc("lsc-user", 212);
  lsc.process(hush.address(), hush.bundle(2));

  std::vector<Sent> prekey_messages;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Sent s = send(lsc, hush, "prekey message " + std::to_string(i));
    REQUIRE(s.wire.type == MessageType::kPreKey);
    const LscPreKeyInfo info = lsc.peer.inspect_prekey(s.wire.bytes);
    REQUIRE(info.rc == kSgSuccess);
    auto ours = PreKeySignalMessage::parse(s.wire.bytes);
    INFO((ours ? std::string("parsed") : describe(ours.error())));
    REQUIRE(ours);
    REQUIRE(ours->message_version() == 3);
    REQUIRE(ours->registration_id() == lsc.registration_id());
    REQUIRE(ours->pre_key_id() == PreKeyId{2});
    REQUIRE(ours->signed_pre_key_id() == SignedPreKeyId{1});
    REQUIRE(ours->identity_key() == lsc.peer.identity_key());
    REQUIRE(to_bytes(ours->base_key().serialize()) == info.base_key);
    REQUIRE(ours->message().counter() == i);
    REQUIRE(to_bytes(ours->message().serialized()) == info.inner_serialized);
    REQUIRE(to_bytes(ours->message().ciphertext()) == info.inner.body);
    REQUIRE(to_bytes(ours->message().ratchet_key().serialize()) == info.inner.ratchet_key);
    prekey_messages.push_back(s);
  }
  for (const Sent& s : prekey_messages)
    deliver(hush, lsc, s);
  REQUIRE_FALSE(hush.has_pre_key(2));
  deliver(lsc, hush, send(hush, lsc, "ack"));

  const Sent w = send(lsc, hush, "a whisper message");
  REQUIRE(w.wire.type == MessageType::kWhisper);
  auto ours = SignalMessage::parse(w.wire.bytes);
  REQUIRE(ours);
  const LscWhisperInfo info = lsc.peer.inspect_whisper(w.wire.bytes);
  REQUIRE(ours->message_version() == 3);
  REQUIRE(ours->counter() == info.counter);
  REQUIRE(ours->counter() == 0);
  REQUIRE(ours->previous_counter() == 2);  // libsignal's previousCounter quirk (wire spec §4.4)
  REQUIRE(to_bytes(ours->ratchet_key().serialize()) == info.ratchet_key);
  REQUIRE(to_bytes(ours->ciphertext()) == info.body);
  REQUIRE(to_bytes(ours->mac()) == Bytes(w.wire.bytes.end() - 8, w.wire.bytes.end()));
  REQUIRE(ours->mac_input().size() + 8 == w.wire.bytes.size());
  // hush checks the 8-byte MAC: changing any byte of it is refused and changes nothing.
  const Bytes before = hush.state(lsc.address());
  for (std::size_t k = 1; k <= 8; ++k) {
    Wire bad = w.wire;
    bad.bytes[bad.bytes.size() - k] ^= 0x80;
    const Received r = hush.receive(lsc.address(), bad);
    INFO("MAC byte " << (8 - k) << ": " << r.detail);
    REQUIRE(r.hush_error == Errc::kInvalidMessage);
  }
  REQUIRE(hush.state(lsc.address()) == before);
  deliver(hush, lsc, w);

  const Sent empty = send(lsc, hush, "");
  auto parsed_empty = SignalMessage::parse(empty.wire.bytes);
  REQUIRE(parsed_empty);
  REQUIRE(parsed_empty->ciphertext().size() == 16);
  deliver(hush, lsc, empty);
}

TEST_CASE("interop: prekey messages delivered out of order, some after the first reply",
          "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 300);
  Endpoint& a = *p.a;
  Endpoint& b = *p.b;
  INFO("initiator: " << a.label());

  a.process(b.address(), b.bundle(1));
  std::vector<Sent> pre;
  for (int i = 0; i < 8; ++i) {
    pre.push_back(send(a, b, "prekey message " + std::to_string(i)));
    REQUIRE(pre.back().wire.type == MessageType::kPreKey);
  }
  // Before any reply, out of order: the first one to arrive sets up the session, the others find
  // it by their base key.
  for (int i : {5, 0, 7, 2})
    deliver(b, a, pre[static_cast<std::size_t>(i)]);
  REQUIRE_FALSE(b.has_pre_key(1));

  const Sent reply = send(b, a, "reply");
  REQUIRE(reply.wire.type == MessageType::kWhisper);
  deliver(a, b, reply);
  const Sent after = send(a, b, "after the reply");
  REQUIRE(after.wire.type == MessageType::kWhisper);
  deliver(b, a, after);

  // The rest arrive late, after the session was acknowledged.
  for (int i : {6, 1, 4, 3})
    deliver(b, a, pre[static_cast<std::size_t>(i)]);
  for (const Sent& s : pre)
    expect_duplicate(b, a, s);

  deliver(a, b, send(b, a, "still talking"));
  deliver(b, a, send(a, b, "yes"));
}

TEST_CASE("interop: long ping-pong with random bursts", "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 400);
  Endpoint& a = *p.a;
  Endpoint& b = *p.b;
  INFO("initiator: " << a.label());
  establish(a, b, 1);

  std::mt19937 rng(hush_initiates ? 4001u : 4002u);
  int delivered = 0;
  for (int round = 0; round < 200; ++round) {
    INFO("round " << round);
    for (int dir = 0; dir < 2; ++dir) {
      Endpoint& from = dir == 0 ? a : b;
      Endpoint& to = dir == 0 ? b : a;
      const int burst = uniform(rng, 0, 7) == 0 ? 0 : uniform(rng, 1, 6);
      for (int k = 0; k < burst; ++k) {
        const Sent s =
            send(from, to, random_bytes(rng, static_cast<std::size_t>(uniform(rng, 0, 300))));
        REQUIRE(s.wire.type == MessageType::kWhisper);
        deliver(to, from, s);
        ++delivered;
      }
    }
  }
  REQUIRE(delivered > 800);
}

TEST_CASE("interop: out-of-order delivery across ratchet steps", "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  const bool hush_is_sender = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 500);
  Endpoint& s = hush_is_sender ? static_cast<Endpoint&>(*p.hush_end) : *p.lsc_end;
  Endpoint& r = hush_is_sender ? static_cast<Endpoint&>(*p.lsc_end) : *p.hush_end;
  INFO("initiator: " << p.a->label() << "; messages held back from " << s.label());
  establish(*p.a, *p.b, 1);

  // Four sending chains of s, each ended by two replies from r (a DH ratchet step on both sides).
  // Some of s's messages are held back, and one of r's replies.
  const std::vector<std::vector<int>> hold = {{1, 3}, {0}, {4}, {2, 4}};
  std::vector<Sent> held_from_s;
  std::optional<Sent> held_from_r;
  std::optional<Sent> early_release;
  for (std::size_t chain = 0; chain < hold.size(); ++chain) {
    for (int i = 0; i < 5; ++i) {
      const Sent m = send(s, r, "chain " + std::to_string(chain) + " message " + std::to_string(i));
      REQUIRE(m.wire.type == MessageType::kWhisper);
      if (std::find(hold[chain].begin(), hold[chain].end(), i) != hold[chain].end()) {
        held_from_s.push_back(m);
      } else {
        deliver(r, s, m);
      }
    }
    if (chain == 2) {
      // One late message of chain 0 arrives while chain 2 is current.
      deliver(r, s, held_from_s.front());
      early_release = held_from_s.front();
      held_from_s.erase(held_from_s.begin());
    }
    const Sent reply0 = send(r, s, "reply 0 to chain " + std::to_string(chain));
    const Sent reply1 = send(r, s, "reply 1 to chain " + std::to_string(chain));
    if (chain == 1) {
      held_from_r = reply0;
    } else {
      deliver(s, r, reply0);
    }
    deliver(s, r, reply1);
  }

  // The late messages of older chains, newest first.
  for (auto it = held_from_s.rbegin(); it != held_from_s.rend(); ++it)
    deliver(r, s, *it);
  deliver(s, r, *held_from_r);

  // Each of them is now a duplicate.
  for (const Sent& m : held_from_s)
    expect_duplicate(r, s, m);
  expect_duplicate(r, s, *early_release);
  expect_duplicate(s, r, *held_from_r);

  deliver(r, s, send(s, r, "still in sync"));
  deliver(s, r, send(r, s, "yes"));
}

TEST_CASE("interop: duplicates are rejected on both sides", "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 600);
  Endpoint& a = *p.a;
  Endpoint& b = *p.b;
  INFO("initiator: " << a.label());

  a.process(b.address(), b.bundle(1));
  const Sent pk = send(a, b, "prekey message");
  deliver(b, a, pk);
  expect_duplicate(b, a, pk);  // replayed before any reply

  // Replies out of order: the second one leaves a skipped key for the first.
  const Sent r1 = send(b, a, "reply 1");
  const Sent r2 = send(b, a, "reply 2");
  deliver(a, b, r2);
  expect_duplicate(a, b, r2);
  deliver(a, b, r1);
  expect_duplicate(a, b, r1);
  expect_duplicate(a, b, r2);

  const Sent w1 = send(a, b, "whisper 1");
  const Sent w2 = send(a, b, "whisper 2");
  const Sent w3 = send(a, b, "whisper 3");
  REQUIRE(w1.wire.type == MessageType::kWhisper);
  deliver(b, a, w1);
  deliver(b, a, w3);
  expect_duplicate(b, a, w1);
  expect_duplicate(b, a, w3);
  deliver(b, a, w2);
  expect_duplicate(b, a, w2);
  expect_duplicate(b, a, pk);  // replayed after the session was acknowledged

  deliver(a, b, send(b, a, "after the duplicates"));
  deliver(b, a, send(a, b, "still fine"));
}

TEST_CASE("interop: simultaneous initiation converges to one session", "[interop]") {
  // 0: hush sends the first whisper message; 1: libsignal does; 2: both do, and they cross.
  const int mode = GENERATE(0, 1, 2);
  const bool hush_decrypts_first = GENERATE(true, false);
  INFO("mode " << mode << ", hush decrypts the prekey message first: " << hush_decrypts_first);
  HushEnd hush("hush-user", 700);
  LscEnd lsc("lsc-user", 701);

  hush.process(lsc.address(), lsc.bundle(1));
  lsc.process(hush.address(), hush.bundle(1));
  const Sent h1 = send(hush, lsc, "hush initiates");
  const Sent l1 = send(lsc, hush, "libsignal initiates");
  REQUIRE(h1.wire.type == MessageType::kPreKey);
  REQUIRE(l1.wire.type == MessageType::kPreKey);
  if (hush_decrypts_first) {
    deliver(hush, lsc, l1);
    deliver(lsc, hush, h1);
  } else {
    deliver(lsc, hush, h1);
    deliver(hush, lsc, l1);
  }
  // Each side now uses, as its current state, the session the other initiated (a responder state,
  // so no more prekey messages); its own is archived.
  auto info = session_info(*hush.party.store, lsc.address());
  REQUIRE(info);
  REQUIRE(info->exists);
  REQUIRE_FALSE(info->has_unacknowledged_prekey);
  REQUIRE(info->previous_states == 1);

  const auto whisper = [](const Sent& m) {
    REQUIRE(m.wire.type == MessageType::kWhisper);
    return m;
  };
  if (mode == 0) {
    deliver(lsc, hush, whisper(send(hush, lsc, "w1")));
    deliver(hush, lsc, whisper(send(lsc, hush, "w2")));
  } else if (mode == 1) {
    deliver(hush, lsc, whisper(send(lsc, hush, "w1")));
    deliver(lsc, hush, whisper(send(hush, lsc, "w2")));
  } else {
    const Sent w1 = whisper(send(hush, lsc, "w1"));
    const Sent w2 = whisper(send(lsc, hush, "w2"));
    deliver(lsc, hush, w1);
    deliver(hush, lsc, w2);
    deliver(lsc, hush, whisper(send(hush, lsc, "w3")));
    deliver(hush, lsc, whisper(send(lsc, hush, "w4")));
  }

  // From here on both use one session: every message is a whisper message and decrypts.
  std::mt19937 rng(7000u + static_cast<unsigned>(mode));
  for (int round = 0; round < 30; ++round) {
    for (int k = uniform(rng, 1, 3); k > 0; --k)
      deliver(lsc, hush, whisper(send(hush, lsc, random_bytes(rng, 40))));
    for (int k = uniform(rng, 1, 3); k > 0; --k)
      deliver(hush, lsc, whisper(send(lsc, hush, random_bytes(rng, 40))));
  }
  info = session_info(*hush.party.store, lsc.address());
  REQUIRE(info);
  REQUIRE_FALSE(info->has_unacknowledged_prekey);
  REQUIRE(info->previous_states == 1);
  REQUIRE(info->remote_identity == lsc.peer.identity_key());
}

TEST_CASE("interop: the forward-jump limit and the skipped-key cap (2000) agree",
          "[interop][limits]") {
  const bool hush_receives = GENERATE(true, false);
  Pair p = make_pair(!hush_receives, 800);
  Endpoint& s = *p.a;
  Endpoint& r = *p.b;
  INFO("receiver: " << r.label());
  establish(s, r, 1);
  deliver(s, r, send(r, s, "one more, so that s starts a fresh chain"));

  std::vector<Sent> m;
  for (int i = 0; i <= 2002; ++i)
    m.push_back(send(s, r, "m" + std::to_string(i)));
  REQUIRE(m.back().wire.type == MessageType::kWhisper);

  // 2001 ahead of a new chain is refused, without changing anything.
  const Bytes before = r.state(s.address());
  const Received too_far = r.receive(s.address(), m[2001].wire);
  INFO(too_far.detail);
  REQUIRE_FALSE(too_far.ok);
  if (hush_receives) {
    REQUIRE(too_far.hush_error == Errc::kTooFarInFuture);
  } else {
    REQUIRE(too_far.lsc_rc == kSgErrInvalidMessage);
  }
  REQUIRE(r.state(s.address()) == before);
  // 2000 ahead is accepted, leaving 2000 skipped keys (0..1999).
  deliver(r, s, m[2000]);
  // One more skipped key (2001) is over the cap: the oldest (0) is dropped, so m0 now reads as a
  // duplicate on both sides; every other skipped key is still there.
  deliver(r, s, m[2002]);
  expect_duplicate(r, s, m[0]);
  deliver(r, s, m[1]);
  deliver(r, s, m[2001]);
  deliver(r, s, m[1999]);
  deliver(r, s, m[1000]);
  expect_duplicate(r, s, m[2000]);
  expect_duplicate(r, s, m[1000]);
  deliver(s, r, send(r, s, "done"));
}

TEST_CASE("interop: a one-time prekey is used only once", "[interop]") {
  const bool hush_receives = GENERATE(true, false);
  // The receiver, and two initiators of the other library that fetched the same bundle.
  std::unique_ptr<Endpoint> r;
  std::unique_ptr<Endpoint> x1;
  std::unique_ptr<Endpoint> x2;
  if (hush_receives) {
    r = std::make_unique<HushEnd>("hush-user", 1100);
    x1 = std::make_unique<LscEnd>("lsc-1", 1101);
    x2 = std::make_unique<LscEnd>("lsc-2", 1102);
  } else {
    r = std::make_unique<LscEnd>("lsc-user", 1100);
    x1 = std::make_unique<HushEnd>("hush-1", 1101);
    x2 = std::make_unique<HushEnd>("hush-2", 1102);
  }
  INFO("receiver: " << r->label());
  const PreKeyBundle bundle = r->bundle(4);
  x1->process(r->address(), bundle);
  x2->process(r->address(), bundle);
  const Sent m1 = send(*x1, *r, "first");
  const Sent m2 = send(*x2, *r, "second");
  deliver(*r, *x1, m1);
  REQUIRE_FALSE(r->has_pre_key(4));

  const Bytes before = r->state(x2->address());
  const Received refused = r->receive(x2->address(), m2.wire);
  INFO(refused.detail);
  REQUIRE_FALSE(refused.ok);
  if (hush_receives) {
    REQUIRE(refused.hush_error == Errc::kInvalidKeyId);
  } else {
    REQUIRE(refused.lsc_rc == kSgErrInvalidKeyId);
  }
  REQUIRE(r->state(x2->address()) == before);
  REQUIRE_FALSE(r->stored_identity(x2->address()).has_value());
}

TEST_CASE("interop: a changed identity is refused on both sides (trust on first use)",
          "[interop]") {
  const bool hush_initiates = GENERATE(true, false);
  Pair p = make_pair(hush_initiates, 1200);
  Endpoint& a = *p.a;
  Endpoint& b = *p.b;
  INFO("initiator: " << a.label());
  establish(a, b, 1);

  // Impostors of a and b, each of the same library as the one it imitates, under the same address
  // but with their own identities.
  std::unique_ptr<Endpoint> impostor_b;
  std::unique_ptr<Endpoint> impostor_a;
  if (hush_initiates) {
    impostor_b = std::make_unique<LscEnd>(b.address().name, 1301);
    impostor_a = std::make_unique<HushEnd>(a.address().name, 1302);
  } else {
    impostor_b = std::make_unique<HushEnd>(b.address().name, 1301);
    impostor_a = std::make_unique<LscEnd>(a.address().name, 1302);
  }
  REQUIRE(impostor_b->address() == b.address());
  REQUIRE(impostor_a->address() == a.address());
  REQUIRE(impostor_b->identity() != b.identity());

  // a refuses the impostor's bundle.
  const PreKeyBundle bundle = impostor_b->bundle(1);
  if (hush_initiates) {
    const Status st = process_prekey_bundle(*p.hush_end->party.ctx, *p.hush_end->party.store,
                                            b.address(), bundle);
    REQUIRE_FALSE(st);
    REQUIRE(st.error().code() == Errc::kUntrustedIdentity);
  } else {
    REQUIRE(p.lsc_end->peer.process_bundle(b.address(), bundle) == kSgErrUntrustedIdentity);
  }

  // b refuses a prekey message from an impostor of a, and keeps its one-time prekey.
  impostor_a->process(b.address(), b.bundle(2));
  const Sent forged = send(*impostor_a, b, "it is me, really");
  REQUIRE(forged.wire.type == MessageType::kPreKey);
  const Bytes before = b.state(a.address());
  const Received r = b.receive(a.address(), forged.wire);
  INFO(r.detail);
  REQUIRE_FALSE(r.ok);
  REQUIRE((r.hush_error == Errc::kUntrustedIdentity || r.lsc_rc == kSgErrUntrustedIdentity));
  REQUIRE(b.state(a.address()) == before);
  REQUIRE(b.has_pre_key(2));
  REQUIRE(b.stored_identity(a.address()) == a.identity());

  // The genuine session is unaffected.
  deliver(b, a, send(a, b, "still me"));
  deliver(a, b, send(b, a, "good"));
}

TEST_CASE("interop: a late message survives four newer chains and not five", "[interop][limits]") {
  const bool hush_receives = GENERATE(true, false);
  Pair p = make_pair(!hush_receives, 900);
  Endpoint& s = *p.a;
  Endpoint& r = *p.b;
  INFO("receiver: " << r.label());
  establish(s, r, 1);
  deliver(s, r, send(r, s, "so that s starts a fresh chain"));

  const Sent on_time = send(s, r, "chain 0, on time");
  const Sent late_ok = send(s, r, "chain 0, late");
  const Sent late_evicted = send(s, r, "chain 0, too late");
  deliver(r, s, on_time);
  const auto new_chain = [&](int k) {
    deliver(s, r, send(r, s, "reply " + std::to_string(k)));
    deliver(r, s, send(s, r, "chain " + std::to_string(k)));
  };
  for (int k = 1; k <= 4; ++k)
    new_chain(k);
  deliver(r, s, late_ok);  // chains 0..4 are all kept
  new_chain(5);            // chain 0 is evicted
  const Bytes before = r.state(s.address());
  const Received gone = r.receive(s.address(), late_evicted.wire);
  INFO(gone.detail);
  REQUIRE_FALSE(gone.ok);
  REQUIRE(gone.invalid_message());
  REQUIRE(r.state(s.address()) == before);
  deliver(r, s, send(s, r, "after"));
  deliver(s, r, send(r, s, "fine"));
}

TEST_CASE("interop: signed prekey signatures verify across the libraries, either sign bit",
          "[interop][signature]") {
  // Both libraries put the signer's Edwards sign bit in bit 7 of the signature's last byte; about
  // half of all identities have it set (wire spec §7).
  std::array<int, 2> lsc_bits{};
  std::array<int, 2> hush_bits{};
  for (std::uint32_t i = 0; i < 24; ++i) {
    LscPeer lsc = LscPeer::create("lsc-" + std::to_string(i), 1, 1, 1, 1000 + i);
    test::Party hush = test::Party::create("hush-" + std::to_string(i), 2000 + i, 1);

    const PreKeyBundle lb = lsc.bundle(1);
    ++lsc_bits.at(lb.signed_pre_key_signature.bytes[63] >> 7);
    REQUIRE(lb.validate());
    const Status st = process_prekey_bundle(*hush.ctx, *hush.store, lsc.address(), lb);
    INFO((st ? std::string("ok") : describe(st.error())));
    REQUIRE(st);

    const PreKeyBundle hb = hush.bundle(PreKeyId{1});
    ++hush_bits.at(hb.signed_pre_key_signature.bytes[63] >> 7);
    REQUIRE(lsc.process_bundle(hush.address, hb) == kSgSuccess);

    // A corrupted signature is refused by both.
    PreKeyBundle bad_l = lb;
    bad_l.signed_pre_key_signature.bytes[10] ^= 0x01;
    REQUIRE_FALSE(bad_l.validate());
    PreKeyBundle bad_h = hb;
    bad_h.signed_pre_key_signature.bytes[10] ^= 0x01;
    LscPeer other = LscPeer::create("other-" + std::to_string(i), 1, 1, 0, 3000 + i);
    REQUIRE(other.process_bundle(hush.address, bad_h) == kSgErrInvalidKey);
  }
  REQUIRE(lsc_bits[0] > 0);
  REQUIRE(lsc_bits[1] > 0);
  REQUIRE(hush_bits[0] > 0);
  REQUIRE(hush_bits[1] > 0);
}

}  // namespace hush::interop

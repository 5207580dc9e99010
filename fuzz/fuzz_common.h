// hush fuzzing: what the fuzz targets and the corpus writer (tests/integration/
// fuzz_corpus_test.cpp) share: a deterministic RandomSource, the fixed two-party session the
// decrypt fuzzers start from, and the writer for the byte layout FuzzedDataProvider reads.
//
// Public API only (<hush/hush.h>), so that the corpus writer, an ordinary test built with the
// normal library and any compiler, produces exactly the messages that the fuzzers' fixed session
// expects: all randomness comes from FuzzRandom through the Context, the MACs are computed the
// same way in fuzzing builds (only their verification is bypassed), so both builds derive the same
// keys and the same bytes.
//
// Header-only, not part of the library; never include it from src/.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hush/hush.h>

namespace hush::fuzz {

/// Aborts with `what` when `ok` is false: the fuzzers' own set-up and invariant checks. libFuzzer
/// reports the abort as a crash, with the input that caused it.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "hush fuzz: check failed: %s\n", what);
    std::abort();
  }
}

/// A deterministic RandomSource (splitmix64). Not secure, not synchronised: one per harness.
class FuzzRandom final : public RandomSource {
 public:
  explicit FuzzRandom(std::uint64_t seed) noexcept : state_(seed) {}
  Status fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) {
      if (left_ == 0) {
        block_ = next();
        left_ = 8;
      }
      b = static_cast<std::uint8_t>(block_);
      block_ >>= 8;
      --left_;
    }
    return ok_status();
  }

 private:
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  std::uint64_t block_ = 0;
  int left_ = 0;
};

/// A clock that never moves.
class FuzzClock final : public Clock {
 public:
  std::uint64_t now_ms() override { return 1'700'000'000'000; }
};

/// The bytes of a secret buffer, copied into an ordinary one (test data only).
inline Bytes to_bytes(const SecretBytes& s) {
  return Bytes(s.expose().begin(), s.expose().end());
}

/// The deterministic snapshot of a store.
inline Bytes snapshot(const InMemoryProtocolStore& store) {
  return to_bytes(store.serialize());
}

/// One device on an in-memory store, with its own deterministic randomness. Not movable (the
/// Context refers to its members); held through unique_ptr.
struct Device {
  Address address;
  FuzzRandom random;
  FuzzClock clock;
  Context ctx;
  std::unique_ptr<InMemoryProtocolStore> store;

  Device(std::string name, std::uint64_t seed)
      : address{std::move(name), DeviceId{1}}, random(seed), ctx{random, clock, nullptr} {}
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  /// Our bundle: signed prekey 1 and one-time prekey `pre_key` (or none).
  PreKeyBundle bundle(std::optional<PreKeyId> pre_key) const {
    auto b = make_bundle(*store, address.device_id, SignedPreKeyId{1}, pre_key);
    check(b.has_value(), "make_bundle");
    return std::move(*b);
  }
};

/// A device named `name` with identity and keys from `seed`: signed prekey 1 and one-time
/// prekeys 1..pre_keys.
inline std::unique_ptr<Device> make_device(const std::string& name, std::uint64_t seed,
                                           std::uint32_t pre_keys) {
  auto d = std::make_unique<Device>(name, seed);
  auto identity = generate_identity_key_pair(d->random);
  check(identity.has_value(), "identity");
  auto registration_id = generate_registration_id(d->random);
  check(registration_id.has_value(), "registration id");
  auto spk = generate_signed_pre_key(d->ctx, *identity, SignedPreKeyId{1});
  check(spk.has_value(), "signed prekey");
  d->store = std::make_unique<InMemoryProtocolStore>(std::move(*identity), *registration_id);
  check(d->store->store_signed_pre_key(*spk).has_value(), "store signed prekey");
  if (pre_keys > 0)
    check(replenish_pre_keys(d->ctx, *d->store, pre_keys).has_value(), "replenish prekeys");
  return d;
}

/// A message as a transport carries it.
struct WireMessage {
  MessageType type = MessageType::kWhisper;
  Bytes bytes;
  std::string name;  // what it is, for corpus file names
};

inline WireMessage wire_of(const CiphertextMessage& m, std::string name) {
  return WireMessage{m.type(), Bytes(m.serialized().begin(), m.serialized().end()),
                     std::move(name)};
}

/// The fixed session the decrypt fuzzers start from, with everything it produced along the way.
struct FixedSession {
  std::unique_ptr<Device> alice;
  std::unique_ptr<Device> bob;
  /// Every message sent to bob / to alice, delivered or not, in sending order.
  std::vector<WireMessage> to_bob;
  std::vector<WireMessage> to_alice;
  /// Serialized SessionRecords and store snapshots at several stages (corpus material).
  std::vector<Bytes> records;
  std::vector<Bytes> snapshots;
};

/// Builds the fixed session, deterministically (fixed seeds, no clock dependence):
///   bob (seed 2, prekeys 1..4), alice (seed 1, prekeys 1..2);
///   alice processes bob's bundle (prekey 1) and sends a0..a3 (prekey messages); bob gets a0, a2
///   (a1 stays a skipped key, a3 is ahead);
///   bob sends b0..b2; alice gets b0, b2 (b1 skipped);
///   alice sends a4..a6 on a new chain; bob gets a5 (a4 skipped, a6 ahead);
///   bob sends b3 on a new chain (not delivered);
///   alice processes bob's bundle again (prekey 2: a second session, the first archived) and
///   sends c0 (a prekey message that would start a new session at bob).
/// Both sides have whisper sessions; bob has skipped keys, alice has an archived state.
inline FixedSession build_fixed_session() {
  FixedSession s;
  s.alice = make_device("alice", 1, 2);
  s.bob = make_device("bob", 2, 4);
  Device& alice = *s.alice;
  Device& bob = *s.bob;

  auto record_of = [](Device& d, const Address& peer) {
    auto r = d.store->load_session(peer);
    check(r.has_value() && r->has_value(), "load_session");
    return to_bytes((*r)->serialize());
  };
  auto send = [](Device& from, Device& to, std::vector<WireMessage>& log, const std::string& name) {
    const std::string text = "fixed session " + name;
    auto m = encrypt_message(from.ctx, *from.store, to.address, as_bytes(text));
    check(m.has_value(), "encrypt_message");
    log.push_back(wire_of(*m, name));
  };
  auto deliver = [](Device& to, const Device& from, const WireMessage& w) {
    auto m = CiphertextMessage::parse(w.type, w.bytes);
    check(m.has_value(), "parse");
    auto p = decrypt_message(to.ctx, *to.store, from.address, *m);
    check(p.has_value(), "decrypt_message");
  };

  s.snapshots.push_back(snapshot(*alice.store));
  s.snapshots.push_back(snapshot(*bob.store));
  check(process_prekey_bundle(alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{1}))
            .has_value(),
        "process_prekey_bundle");
  s.records.push_back(record_of(alice, bob.address));  // initiator, nothing sent yet
  for (int i = 0; i < 4; ++i)
    send(alice, bob, s.to_bob, "a" + std::to_string(i));
  s.records.push_back(record_of(alice, bob.address));  // pending prekey, chain advanced
  deliver(bob, alice, s.to_bob[0]);
  deliver(bob, alice, s.to_bob[2]);
  s.records.push_back(record_of(bob, alice.address));  // responder with a skipped key

  for (int i = 0; i < 3; ++i)
    send(bob, alice, s.to_alice, "b" + std::to_string(i));
  deliver(alice, bob, s.to_alice[0]);
  deliver(alice, bob, s.to_alice[2]);
  s.records.push_back(record_of(alice, bob.address));

  for (int i = 4; i < 7; ++i)
    send(alice, bob, s.to_bob, "a" + std::to_string(i));
  deliver(bob, alice, s.to_bob[5]);
  send(bob, alice, s.to_alice, "b3");
  s.records.push_back(record_of(bob, alice.address));  // two receiving chains, skipped keys

  check(process_prekey_bundle(alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{2}))
            .has_value(),
        "process_prekey_bundle (second)");
  send(alice, bob, s.to_bob, "c0");
  s.records.push_back(record_of(alice, bob.address));  // current + one archived state
  s.snapshots.push_back(snapshot(*alice.store));
  s.snapshots.push_back(snapshot(*bob.store));
  return s;
}

/// Builds inputs in the layout FuzzedDataProvider reads: ConsumeBytes takes bytes from the front,
/// ConsumeIntegral takes them from the back (the last byte is the most significant byte of the
/// first integral consumed). Add fields in the order the harness consumes them.
class FdpWriter {
 public:
  /// Bytes consumed with ConsumeBytes(data.size()).
  void bytes(ByteView data) { front_.insert(front_.end(), data.begin(), data.end()); }
  /// An integral of `size` bytes consumed with ConsumeIntegral<uintN_t>() (full range).
  void integral(std::uint64_t value, std::size_t size) {
    Bytes b(size);
    for (std::size_t i = 0; i < size; ++i)
      b[i] = static_cast<std::uint8_t>(value >> (8 * i));
    back_.push_back(std::move(b));
  }
  void u8(std::uint8_t v) { integral(v, 1); }
  void u16(std::uint16_t v) { integral(v, 2); }
  void u32(std::uint32_t v) { integral(v, 4); }
  /// ConsumeBool() reads one byte and keeps bit 0.
  void boolean(bool v) { integral(v ? 1 : 0, 1); }

  /// The input: the front bytes, then the integrals, the first consumed last.
  Bytes finish() const {
    Bytes out = front_;
    for (auto it = back_.rbegin(); it != back_.rend(); ++it)
      out.insert(out.end(), it->begin(), it->end());
    return out;
  }

 private:
  Bytes front_;
  std::vector<Bytes> back_;
};

// ---- prekey_bundle_fuzzer's input layout ----
//
// Integrals, in consumption order: u8 peer (bit 0: 0 = "bob", whose identity alice already trusts,
// 1 = "carol", unknown), u32 registration id, u32 device id, bool has prekey id, u32 prekey id,
// bool has prekey, u32 signed prekey id, bool force the 0x05 type byte on the signed prekey / on
// the identity key / on the prekey, bool "sign with bob's identity" (the harness replaces the
// identity key with bob's and signs the signed prekey itself, so fuzzed keys get past the
// signature check). Bytes, in order: signed prekey (33), signature (64), identity key (33),
// prekey (33, only if "has prekey").
struct BundleInput {
  std::uint8_t peer = 0;
  PreKeyBundle bundle;
  bool sign_with_bob = false;
};

inline Bytes encode_bundle_input(const BundleInput& in) {
  FdpWriter w;
  const PreKeyBundle& b = in.bundle;
  w.u8(in.peer);
  w.u32(b.registration_id);
  w.u32(to_uint(b.device_id));
  w.boolean(b.pre_key_id.has_value());
  w.u32(b.pre_key_id ? to_uint(*b.pre_key_id) : 0);
  w.boolean(b.pre_key.has_value());
  w.u32(to_uint(b.signed_pre_key_id));
  w.boolean(false);
  w.boolean(false);
  w.boolean(false);
  w.boolean(in.sign_with_bob);
  w.bytes(b.signed_pre_key.serialize());
  w.bytes(b.signed_pre_key_signature.view());
  w.bytes(b.identity_key.serialize());
  if (b.pre_key) w.bytes(b.pre_key->serialize());
  return w.finish();
}

// ---- interaction_fuzzer's input layout ----
//
// A stream of steps; each step is a u8 action (taken modulo kActionCount) and its arguments:
// kSendAliceToBob / kSendBobToAlice: u8 plaintext length (mod 49), then that many front bytes;
// kDeliverRandom, kDrop, kDuplicate: u16 index (modulo the number of candidates);
// kRebundle: bool initiator (false: alice fetches bob's bundle, true: bob fetches alice's).
enum class Action : std::uint8_t {
  kSendAliceToBob = 0,
  kSendBobToAlice = 1,
  kDeliverOldest = 2,
  kDeliverNewest = 3,
  kDeliverRandom = 4,
  kDrop = 5,
  kDuplicate = 6,
  kRebundle = 7,
  kReopen = 8,  // both stores round-trip through a snapshot
};
inline constexpr std::uint8_t kActionCount = 9;

/// Writes interaction steps for seeds.
class InteractionWriter {
 public:
  void send(bool alice_to_bob, const std::string& text) {
    w_.u8(static_cast<std::uint8_t>(alice_to_bob ? Action::kSendAliceToBob
                                                 : Action::kSendBobToAlice));
    w_.u8(static_cast<std::uint8_t>(text.size()));
    w_.bytes(as_bytes(text));
  }
  void deliver_oldest() { w_.u8(static_cast<std::uint8_t>(Action::kDeliverOldest)); }
  void deliver_newest() { w_.u8(static_cast<std::uint8_t>(Action::kDeliverNewest)); }
  void deliver(std::uint16_t index) { with_index(Action::kDeliverRandom, index); }
  void drop(std::uint16_t index) { with_index(Action::kDrop, index); }
  void duplicate(std::uint16_t index) { with_index(Action::kDuplicate, index); }
  void rebundle(bool bob_initiates) {
    w_.u8(static_cast<std::uint8_t>(Action::kRebundle));
    w_.boolean(bob_initiates);
  }
  void reopen() { w_.u8(static_cast<std::uint8_t>(Action::kReopen)); }
  Bytes finish() const { return w_.finish(); }

 private:
  void with_index(Action a, std::uint16_t index) {
    w_.u8(static_cast<std::uint8_t>(a));
    w_.u16(index);
  }
  FdpWriter w_;
};

// ---- Messenger I/O for the envelope target and its seeds ----

/// Keeps every envelope handed to it (in `all`; the last one also in `last`).
class CaptureTransport final : public Transport {
 public:
  Status send(const Address&, ByteView envelope) override {
    last.assign(envelope.begin(), envelope.end());
    all.push_back(last);
    return ok_status();
  }
  Bytes last;
  std::vector<Bytes> all;
};

/// A directory that holds device lists and no keys: fetch fails with kNoSession, and it reports
/// plenty of one-time prekeys, so key maintenance publishes nothing.
class ListDirectory final : public KeyDirectory {
 public:
  Status publish(const Address&, const PublishedKeys&) override { return ok_status(); }
  Result<AvailablePreKeys> available_pre_keys(const Address&) override {
    return AvailablePreKeys{1000U, 1000U};
  }
  Result<PreKeyBundle> fetch(const Address&) override {
    return Error(Errc::kNoSession, "fuzz directory: no keys");
  }
  Status publish_device_list(std::string_view name, ByteView list) override {
    lists.insert_or_assign(std::string(name), Bytes(list.begin(), list.end()));
    return ok_status();
  }
  Result<std::optional<Bytes>> fetch_device_list(std::string_view name) override {
    auto it = lists.find(name);
    if (it == lists.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }
  std::map<std::string, Bytes, std::less<>> lists;
};

/// The signed device list of `d`'s person (version 1, device 1), the same bytes on every run
/// (signed with randomness of its own, so the device's stream is untouched).
inline Bytes device_list_of(const Device& d) {
  FuzzRandom random(0x11575);
  auto identity = d.store->identity_key_pair();
  check(identity.has_value(), "identity");
  DeviceList list{d.address.name, identity->public_key, 1, {DeviceId{1}}, DeviceId{2}};
  auto signed_list = SignedDeviceList::sign(random, std::move(list), *identity);
  check(signed_list.has_value(), "sign device list");
  return signed_list->serialized();
}

/// The store without the Messenger's healing records (when a receive fails, the Messenger records
/// the envelope to ask for again: a follow-up of its own, not a change by the failed decrypt).
/// With `identity_changes`, also without the pending identity changes (kIdentityChange: the one
/// record a receive refused as kUntrustedIdentity keeps on purpose, messenger.h).
inline Bytes snapshot_without_healing(InMemoryProtocolStore& store, bool identity_changes = false) {
  auto copy = InMemoryProtocolStore::deserialize(store.serialize().expose());
  check(copy.has_value(), "copy store");
  for (const MessengerRecordKind kind :
       {MessengerRecordKind::kHealing, MessengerRecordKind::kIdentityChange}) {
    if (kind == MessengerRecordKind::kIdentityChange && !identity_changes) continue;
    auto keys = (*copy)->messenger_record_keys(kind);
    check(keys.has_value(), "healing keys");
    for (const std::string& k : *keys)
      check((*copy)->remove_messenger_record(kind, k).has_value(), "remove healing record");
  }
  return snapshot(**copy);
}

// ---- content_fuzzer's two devices ----

/// Alice and bob with whisper sessions both ways, their device lists in a directory, and three
/// messages bob sent alice through his Messenger (kept in his outbox, their envelope ids known),
/// so that a retry request from alice can name them. Deterministic: the target and the seeds that
/// tests/integration/fuzz_corpus_test.cpp writes build the same.
struct ContentSetup {
  std::unique_ptr<Device> alice = make_device("alice", 11, 2);
  std::unique_ptr<Device> bob = make_device("bob", 12, 2);
  ListDirectory directory;
  /// The envelope ids of bob's three messages to alice.
  std::vector<Bytes> bob_envelope_ids;
  Bytes alice_snapshot;
  Bytes bob_snapshot;

  ContentSetup() {
    for (const Device* d : {alice.get(), bob.get()})
      directory.lists[d->address.name] = device_list_of(*d);
    check(process_prekey_bundle(alice->ctx, *alice->store, bob->address, bob->bundle(PreKeyId{1}))
              .has_value(),
          "process_prekey_bundle");
    auto first = encrypt_message(alice->ctx, *alice->store, bob->address, as_bytes("x"));
    check(first.has_value() &&
              decrypt_message(bob->ctx, *bob->store, alice->address, *first).has_value(),
          "first message");
    CaptureTransport transport;
    // No delivery receipts here: the seeds' stores hold only the messages themselves.
    MessengerOptions quiet;
    quiet.delivery_receipts = false;
    Messenger bob_messenger(bob->ctx, *bob->store, transport, directory, bob->address, quiet);
    check(bob_messenger.devices("alice").has_value(), "bob learns alice's list");
    for (const char* text : {"m1", "m2", "m3"})
      check(bob_messenger.send("alice", as_bytes(text)).has_value(), "bob sends");
    Messenger alice_messenger(alice->ctx, *alice->store, transport, directory, alice->address,
                              quiet);
    for (const Bytes& e : transport.all) {
      auto r = alice_messenger.receive(e);
      check(r.has_value() && r->has_value(), "alice receives");
      auto id = envelope_id_of(e);
      bob_envelope_ids.push_back(id);
    }
    alice_snapshot = snapshot(*alice->store);
    bob_snapshot = snapshot(*bob->store);
  }
  ContentSetup(const ContentSetup&) = delete;
  ContentSetup& operator=(const ContentSetup&) = delete;

  /// The 16-byte envelope id at the end of an envelope (field 6, written last).
  static Bytes envelope_id_of(const Bytes& envelope) {
    check(envelope.size() > 18, "envelope size");
    return Bytes(envelope.end() - 16, envelope.end());
  }
};

// ---- link_message_fuzzer's fixed request and input layout ----
//
// The first byte's bit 0 picks what the rest is: 0, a link message, opened with the fixed
// request; 1, a plaintext (a LinkContents protobuf or anything else), which the harness seals for
// the fixed request's code (internal::seal_link_plaintext, randomness FuzzRandom(kLinkSealSeed))
// and then opens, so that fuzzed contents get past AES-GCM.

/// The fixed new device's LinkRequest, in LinkRequest::serialize()'s form (made once from
/// FuzzRandom(0x4c494e4b) and kept as bytes, so that the target and the seeds agree whatever
/// changes in how requests are made). Its code is
/// HUSHLINK1-67NJ6WOH-IXLLEJS7-JFET4MCI-H7LXRXNN-KQN64L2W-UGBAUWTW-AVF7KZUO-Q4J6HO5K-LF7UGGCD-
/// Z4HPPH7E-ZXTJSPIV-3AEKTVGH-VQWF4EI.
inline constexpr std::array<std::uint8_t, 97> kFixedLinkRequest = {
    0x01, 0x60, 0x21, 0xae, 0x46, 0xd1, 0x01, 0x45, 0x11, 0xc5, 0x6e, 0xbb, 0x0c, 0x18,
    0x8e, 0x51, 0xea, 0x8f, 0xe4, 0xde, 0xac, 0x19, 0x37, 0x91, 0xd2, 0xa4, 0x27, 0x67,
    0x14, 0x69, 0xff, 0xa1, 0x77, 0xf7, 0xda, 0x9f, 0x59, 0xc7, 0x45, 0xd6, 0xb2, 0x26,
    0x5f, 0x49, 0x49, 0x3e, 0x30, 0x48, 0x3f, 0xd7, 0x78, 0xdd, 0xad, 0x54, 0x1b, 0xee,
    0x2f, 0x56, 0xa1, 0x82, 0x0a, 0x5a, 0x76, 0x05, 0x4b, 0xf5, 0x66, 0x8e, 0x87, 0x13,
    0xe3, 0xbb, 0xaa, 0x59, 0x7f, 0x43, 0x18, 0x43, 0xcf, 0x0e, 0xf7, 0x9f, 0xe4, 0xcd,
    0xe6, 0x99, 0x3d, 0x15, 0xd8, 0x08, 0xa9, 0xd4, 0xc7, 0xac, 0x2c, 0x5e, 0x11};

/// The seed of the randomness the link target seals plaintexts with.
inline constexpr std::uint64_t kLinkSealSeed = 0x5345414c;  // "SEAL"

/// The fixed request (aborts if the bytes no longer deserialize).
inline LinkRequest fixed_link_request() {
  auto r = LinkRequest::deserialize(kFixedLinkRequest);
  check(r.has_value(), "the fixed link request does not deserialize");
  return std::move(*r);
}

/// The code of the fixed request, as an existing device reads it.
inline LinkCode fixed_link_code() {
  auto c = LinkCode::parse(fixed_link_request().code());
  check(c.has_value(), "the fixed link request's code does not parse");
  return std::move(*c);
}

// ---- sframe_fuzzer's keys ----

/// The base key the sframe fuzzer's receivers hold for `key_id` (32 bytes: key_id * 13 + i), so
/// that seeds made with the same keys decrypt.
inline SecretBytes sframe_base_key(std::uint64_t key_id) {
  SecretBytes k(32);
  for (std::size_t i = 0; i < 32; ++i)
    k.expose_mut()[i] = static_cast<std::uint8_t>(key_id * 13 + i);
  return k;
}

// ---- groups (sender keys) ----

/// The fixed group the sender-key fuzzers start from: alice's chains in a legacy group and a
/// current group, held by bob; alice has sent four messages in each (`messages[format]`, iterations
/// 0..3) and bob has read message 1 (so 0 is a skipped key, 1 a duplicate, 2 and 3 ahead).
struct FixedGroup {
  std::unique_ptr<Device> alice;
  std::unique_ptr<Device> bob;
  SenderKeyGroup legacy;
  SenderKeyGroup current;
  std::array<std::vector<Bytes>, 2> messages;  // [0] legacy, [1] current
  std::array<Bytes, 2> distributions;          // alice's distribution messages
  Bytes bob_snapshot;                          // bob's store after all this

  const SenderKeyGroup& group(SenderKeyFormat f) const {
    return f == SenderKeyFormat::kLegacy ? legacy : current;
  }
};

inline SenderKeyGroup fixed_legacy_group() {
  auto g = SenderKeyGroup::legacy("fuzz group");
  check(g.has_value(), "legacy group");
  return *g;
}

inline SenderKeyGroup fixed_current_group() {
  auto id = DistributionId::parse("f022f022-0000-4000-8000-00000000f022");
  check(id.has_value(), "distribution id");
  return SenderKeyGroup::current(*id);
}

inline FixedGroup build_fixed_group() {
  FixedGroup g{make_device("alice", 7001, 0),
               make_device("bob", 7002, 0),
               fixed_legacy_group(),
               fixed_current_group(),
               {},
               {},
               {}};
  for (int f = 0; f < 2; ++f) {
    const SenderKeyGroup& group = f == 0 ? g.legacy : g.current;
    auto skdm =
        create_sender_key_distribution(g.alice->ctx, *g.alice->store, g.alice->address, group);
    check(skdm.has_value(), "create distribution");
    g.distributions[static_cast<std::size_t>(f)] =
        Bytes(skdm->serialized().begin(), skdm->serialized().end());
    check(
        process_sender_key_distribution(*g.bob->store, g.alice->address, group, *skdm).has_value(),
        "process distribution");
    for (int i = 0; i < 4; ++i) {
      const std::string text = "group message " + std::to_string(i);
      auto m =
          group_encrypt(g.alice->ctx, *g.alice->store, g.alice->address, group, as_bytes(text));
      check(m.has_value(), "group encrypt");
      g.messages[static_cast<std::size_t>(f)].emplace_back(m->serialized().begin(),
                                                           m->serialized().end());
    }
    auto one = SenderKeyMessage::parse(group.format(), g.messages[static_cast<std::size_t>(f)][1]);
    check(one.has_value(), "parse message 1");
    check(group_decrypt(g.bob->ctx, *g.bob->store, g.alice->address, group, *one).has_value(),
          "decrypt message 1");
  }
  g.bob_snapshot = snapshot(*g.bob->store);
  return g;
}

}  // namespace hush::fuzz

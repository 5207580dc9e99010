// hush: writes the fuzz targets' seed corpora (fuzz/corpus/<target>/): real messages, records,
// snapshots and bundles from real sessions, action scripts for the interaction fuzzer, signed
// device lists, and link messages for the fixed link request.
//
// Hidden ([.corpus]); run it by hand with HUSH_FUZZ_CORPUS_DIR set, then minimise the output into
// fuzz/corpus with -merge=1 (fuzz/README.md). The fixed session comes from fuzz/fuzz_common.h, the
// same code the decrypt fuzzers run at start-up, so the decrypt seeds are messages of the very
// session those fuzzers hold.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../../fuzz/fuzz_common.h"
#include "../../fuzz/mlkem_fixed.h"
#include "call/call_message.h"
#include "messenger/content.h"
#include "messenger/envelope.h"
#include "messenger/groups.h"
#include "protocol/link_internal.h"
#include "support/memory_io.h"
#include "support/test_support.h"

using namespace hush;

namespace {

class CorpusWriter {
 public:
  explicit CorpusWriter(std::filesystem::path root) : root_(std::move(root)) {}

  void write(const std::string& target, const std::string& name, ByteView data) {
    const auto dir = root_ / target;
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    REQUIRE(out.good());
    ++written_;
  }
  void write(const std::string& target, const std::string& name, std::uint8_t prefix,
             ByteView data) {
    Bytes b{prefix};
    b.insert(b.end(), data.begin(), data.end());
    write(target, name, b);
  }
  int written() const { return written_; }

 private:
  std::filesystem::path root_;
  int written_ = 0;
};

// The decrypt fuzzers' selector byte: bit 0 the type, bit 1 the receiver (alice).
std::uint8_t selector(MessageType type, bool at_alice) {
  return static_cast<std::uint8_t>((type == MessageType::kPreKey ? 1 : 0) | (at_alice ? 2 : 0));
}

void write_messages(CorpusWriter& w, const fuzz::FixedSession& s) {
  auto one = [&](const fuzz::WireMessage& m, bool at_alice) {
    const std::string name = (at_alice ? "to-alice-" : "to-bob-") + m.name;
    auto parsed = CiphertextMessage::parse(m.type, m.bytes);
    REQUIRE(parsed);
    w.write("decrypt", name, selector(m.type, at_alice), m.bytes);
    if (const auto* p = parsed->prekey_message()) {
      w.write("prekey_message", name, m.bytes);
      w.write("signal_message", name + "-inner", p->message().serialized());
    } else {
      w.write("signal_message", name, m.bytes);
    }
  };
  for (const auto& m : s.to_bob)
    one(m, false);
  for (const auto& m : s.to_alice)
    one(m, true);
}

void write_records(CorpusWriter& w, fuzz::FixedSession& s) {
  for (std::size_t i = 0; i < s.records.size(); ++i)
    w.write("session_record", "record-" + std::to_string(i), s.records[i]);
  for (std::size_t i = 0; i < s.snapshots.size(); ++i)
    w.write("stored_records", "snapshot-" + std::to_string(i), 2, s.snapshots[i]);
  // Bob's store with Messenger records of every kind (a snapshot of format 3).
  auto bob = InMemoryProtocolStore::deserialize(fuzz::snapshot(*s.bob->store));
  REQUIRE(bob);
  const Bytes binary = {0x00, 0x01, 0x7F, 0x80, 0xFF};
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kDeviceList, "alice",
                                         as_bytes("alice's device list")));
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kOutbox, "00000001",
                                         as_bytes("an outbox plaintext")));
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kOutbox, "00000002", binary));
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kSeenMessage,
                                         std::string("alice\0id", 8), ByteView()));
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kHealing, "", as_bytes("healing")));
  w.write("stored_records", "snapshot-messenger-records", 2, fuzz::snapshot(**bob));
  // ... and with a group (MessengerRecordKind::kGroup, groups.h).
  internal::GroupRecord group;
  group.id.fill(0x67);
  group.name = "friends";
  group.revision = 3;
  group.members = {"alice", "bob", "carol"};
  group.admins = {"alice"};
  group.distribution = DistributionId(std::array<std::uint8_t, 16>{1, 2, 3});
  group.distributed = {Address{"alice", DeviceId{1}}, Address{"carol", DeviceId{2}}};
  group.set_sender(Address{"alice", DeviceId{1}}, DistributionId(std::array<std::uint8_t, 16>{4}),
                   1);
  REQUIRE((*bob)->store_messenger_record(MessengerRecordKind::kGroup, internal::group_key(group.id),
                                         internal::serialize_group_record(group)));
  w.write("stored_records", "snapshot-group", 2, fuzz::snapshot(**bob));
  for (fuzz::Device* d : {s.alice.get(), s.bob.get()}) {
    auto ids = d->store->pre_key_ids();
    REQUIRE(ids);
    REQUIRE_FALSE(ids->empty());
    auto pk = d->store->load_pre_key(ids->front());
    REQUIRE(pk);
    REQUIRE(*pk);
    w.write("stored_records", d->address.name + "-prekey", 0, (*pk)->serialize().expose());
    auto spk = d->store->load_signed_pre_key(SignedPreKeyId{1});
    REQUIRE(spk);
    REQUIRE(*spk);
    w.write("stored_records", d->address.name + "-signed-prekey", 1, (*spk)->serialize().expose());
  }
}

// A record holding a full archive and the base keys of the sessions dropped from it: alice starts
// more sessions with bob than a record keeps, each one's first message delivered.
void write_full_archive(CorpusWriter& w) {
  auto alice = fuzz::make_device("alice", 11, 0);
  auto bob = fuzz::make_device("bob", 12, 0);
  for (std::size_t i = 0; i < kMaxArchivedStates + 4; ++i) {
    REQUIRE(
        process_prekey_bundle(alice->ctx, *alice->store, bob->address, bob->bundle(std::nullopt)));
    auto m = encrypt_message(alice->ctx, *alice->store, bob->address, as_bytes("again"));
    REQUIRE(m);
    REQUIRE(decrypt_message(bob->ctx, *bob->store, alice->address, *m));
  }
  auto record = bob->store->load_session(alice->address);
  REQUIRE(record);
  REQUIRE(*record);
  REQUIRE((*record)->previous_state_count() == kMaxArchivedStates);
  w.write("session_record", "record-full-archive", (*record)->serialize().expose());
  w.write("stored_records", "snapshot-full-archive", 2, fuzz::snapshot(*bob->store));
}

void write_bundles(CorpusWriter& w, const fuzz::FixedSession& s) {
  // bob's identity is the one prekey_bundle_fuzzer's alice trusts (same seed, same order).
  const PreKeyBundle with = s.bob->bundle(PreKeyId{3});
  const PreKeyBundle without = s.bob->bundle(std::nullopt);
  w.write("prekey_bundle", "bob", fuzz::encode_bundle_input({0, with, false}));
  w.write("prekey_bundle", "bob-no-prekey", fuzz::encode_bundle_input({0, without, false}));
  w.write("prekey_bundle", "carol", fuzz::encode_bundle_input({1, with, false}));
  w.write("prekey_bundle", "bob-signed-by-harness", fuzz::encode_bundle_input({0, with, true}));
  // alice's own bundle offered as bob's: an untrusted identity.
  w.write("prekey_bundle", "bob-wrong-identity",
          fuzz::encode_bundle_input({0, s.alice->bundle(PreKeyId{1}), false}));
  // A prekey id without a prekey.
  PreKeyBundle id_only = without;
  id_only.pre_key_id = PreKeyId{3};
  w.write("prekey_bundle", "bob-prekey-id-only", fuzz::encode_bundle_input({0, id_only, false}));
  // A low-order signed prekey (u = 0), validly signed: refused in X3DH.
  PreKeyBundle low_order = with;
  low_order.signed_pre_key = PublicKey::from_u({});
  w.write("prekey_bundle", "bob-low-order-spk", fuzz::encode_bundle_input({0, low_order, true}));
}

void write_wire_formats(CorpusWriter& w, const fuzz::FixedSession& s) {
  // bundle_wire: selector bit 0 picks PreKeyBundle (0) or PublishedKeys (1).
  const PreKeyBundle with = s.bob->bundle(PreKeyId{3});
  const PreKeyBundle without = s.bob->bundle(std::nullopt);
  w.write("bundle_wire", "bob", 0, with.serialize());
  w.write("bundle_wire", "bob-no-prekey", 0, without.serialize());
  PublishedKeys keys;
  keys.registration_id = with.registration_id;
  keys.device_id = with.device_id;
  keys.identity_key = with.identity_key;
  keys.signed_pre_key_id = with.signed_pre_key_id;
  keys.signed_pre_key = with.signed_pre_key;
  keys.signed_pre_key_signature = with.signed_pre_key_signature;
  keys.pre_keys.emplace_back(*with.pre_key_id, *with.pre_key);
  keys.pre_keys.emplace_back(PreKeyId{4}, s.bob->bundle(PreKeyId{4}).pre_key.value());
  w.write("bundle_wire", "bob-published", 1, keys.serialize());

  // fingerprint: selector bit 0 picks alice's version 1 (0) or version 0 (1) fingerprint; the
  // rest is what alice scans: bob's (2 iterations, as the target computes its own).
  const IdentityKey a = s.alice->store->identity_key_pair()->public_key;
  const IdentityKey b = s.bob->store->identity_key_pair()->public_key;
  for (std::uint32_t version : {1U, 0U}) {
    auto bob_view = make_fingerprint(2, "bob", b, "alice", a, version);
    REQUIRE(bob_view);
    w.write("fingerprint", "bob-v" + std::to_string(version),
            static_cast<std::uint8_t>(version == 0 ? 1 : 0), bob_view->scannable);
  }

  // envelope: envelopes bob's side of the fixed session can open. A whisper message from alice
  // (on a copy of her store), and prekey messages from a new device, carol, with and without one
  // of bob's one-time prekeys; a group message for a group bob does not hold.
  fuzz::CaptureTransport transport;
  fuzz::ListDirectory directory;
  auto carol_keys = fuzz::make_device("carol", 3, 0);  // carol's identity, for her device list
  for (const fuzz::Device* d : {s.alice.get(), s.bob.get(), carol_keys.get()})
    directory.lists[d->address.name] = fuzz::device_list_of(*d);
  auto alice_store = InMemoryProtocolStore::deserialize(fuzz::snapshot(*s.alice->store));
  REQUIRE(alice_store);
  Messenger alice(s.alice->ctx, **alice_store, transport, directory, s.alice->address);
  // Each seed must open at bob's side as the target holds it: a fresh fixed session's bob.
  const Bytes bob_snapshot = fuzz::snapshot(*fuzz::build_fixed_session().bob->store);
  auto opens = [&](const Bytes& envelope) {
    auto bob_store = InMemoryProtocolStore::deserialize(bob_snapshot);
    REQUIRE(bob_store);
    Messenger bob(s.bob->ctx, **bob_store, transport, directory, s.bob->address);
    auto received = bob.receive(envelope);
    REQUIRE(received);
    REQUIRE(*received);
    return (*received)->sender;
  };
  REQUIRE(alice.send("bob", as_bytes("hello bob")));
  w.write("envelope", "alice-whisper", transport.last);
  CHECK(opens(transport.last) == s.alice->address);
  // A group message from alice (envelope type 7) for a group bob does not hold.
  const SenderKeyGroup group_keys =
      SenderKeyGroup::current(DistributionId(std::array<std::uint8_t, 16>{9}));
  REQUIRE(
      create_sender_key_distribution(s.alice->ctx, **alice_store, s.alice->address, group_keys));
  auto group_message = group_encrypt(s.alice->ctx, **alice_store, s.alice->address, group_keys,
                                     as_bytes("to a group"));
  REQUIRE(group_message);
  internal::GroupIdBytes group_id{};
  group_id.fill(0x67);
  internal::EnvelopeId envelope_id{};
  envelope_id.fill(0x11);
  w.write("envelope", "alice-group-unknown",
          internal::build_group_envelope(s.alice->address, group_id, group_message->serialized(),
                                         envelope_id));
  int n = 0;
  for (const auto& bundle : {with, without}) {
    auto carol = fuzz::make_device("carol", 3, 0);
    REQUIRE(process_prekey_bundle(carol->ctx, *carol->store, s.bob->address, bundle));
    Messenger m(carol->ctx, *carol->store, transport, directory, carol->address);
    REQUIRE(m.send("bob", as_bytes("hi, carol here")));
    w.write("envelope", "carol-prekey-" + std::to_string(n++), transport.last);
    CHECK(opens(transport.last) == carol->address);
  }
}

void write_interactions(CorpusWriter& w) {
  using fuzz::InteractionWriter;
  {
    InteractionWriter i;  // in order, both ways
    for (int k = 0; k < 3; ++k) {
      i.send(true, "hello bob");
      i.deliver_oldest();
      i.send(false, "hello alice");
      i.deliver_oldest();
    }
    w.write("interaction", "in-order", i.finish());
  }
  {
    InteractionWriter i;  // out of order and lost messages
    for (int k = 0; k < 5; ++k)
      i.send(true, "burst " + std::to_string(k));
    i.deliver_newest();
    i.deliver_oldest();
    i.deliver(1);
    i.drop(0);
    i.deliver_oldest();
    i.send(false, "reply");
    i.send(false, "reply 2");
    i.deliver_newest();
    i.send(true, "again");
    i.deliver_oldest();
    i.deliver_oldest();
    w.write("interaction", "out-of-order", i.finish());
  }
  {
    InteractionWriter i;  // duplicates
    i.send(true, "once");
    i.deliver_oldest();
    i.duplicate(0);
    i.send(false, "twice");
    i.deliver_oldest();
    i.duplicate(1);
    i.duplicate(0);
    w.write("interaction", "duplicates", i.finish());
  }
  {
    InteractionWriter i;  // a new session while old messages are in flight
    i.send(true, "old 1");
    i.send(true, "old 2");
    i.deliver_oldest();
    i.send(false, "old reply");
    i.rebundle(false);
    i.send(true, "new 1");
    i.deliver_newest();
    i.deliver_oldest();
    i.deliver_oldest();
    i.send(false, "new reply");
    i.deliver_newest();
    w.write("interaction", "rebundle", i.finish());
  }
  {
    InteractionWriter i;  // simultaneous initiation
    i.rebundle(true);
    i.send(true, "from alice");
    i.send(false, "from bob");
    i.deliver_newest();
    i.deliver_newest();
    i.send(true, "settle");
    i.deliver_oldest();
    i.send(false, "settled");
    i.deliver_oldest();
    w.write("interaction", "simultaneous", i.finish());
  }
  {
    InteractionWriter i;  // a late message after many ratchet steps, stores reopened on the way
    i.send(true, "late");
    i.send(true, "first");
    i.deliver_newest();
    for (int k = 0; k < 7; ++k) {
      i.send(false, "ping");
      i.deliver_newest();
      i.send(true, "pong");
      i.deliver_newest();
      if (k == 3) i.reopen();
    }
    i.deliver_oldest();
    w.write("interaction", "late-after-steps", i.finish());
  }
  {
    InteractionWriter i;  // more sessions than a record keeps, with their messages late
    i.send(true, "s0");
    for (int k = 0; k < 44; ++k) {
      i.rebundle(k % 3 == 2);
      i.send(k % 2 == 0, "s");
      if (k % 4 == 0) i.deliver_newest();
    }
    for (int k = 0; k < 8; ++k)
      i.deliver_oldest();
    w.write("interaction", "many-sessions", i.finish());
  }
}

// device_list: signed lists of several shapes (one device, a gap, the most devices, the longest
// name), each checked to parse.
void write_device_lists(CorpusWriter& w) {
  fuzz::FuzzRandom random(21);
  auto identity = KeyPair::generate(random);
  REQUIRE(identity);
  auto one = [&](const std::string& file, std::string name, std::vector<std::uint32_t> devices,
                 std::uint32_t next, std::uint64_t version) {
    DeviceList list;
    list.name = std::move(name);
    list.identity = identity->public_key;
    list.version = version;
    for (auto d : devices)
      list.devices.push_back(DeviceId{d});
    list.next_device_id = DeviceId{next};
    auto s = SignedDeviceList::sign(random, std::move(list), *identity);
    REQUIRE(s);
    CHECK(SignedDeviceList::parse(s->serialized()));
    w.write("device_list", file, s->serialized());
  };
  one("one-device", "alice", {1}, 2, 1);
  one("with-gap", "alice", {1, 4, 5}, 9, 12);
  std::vector<std::uint32_t> many;
  for (std::uint32_t d = 1; d <= kMaxDevicesPerPerson; ++d)
    many.push_back(d * 200);  // two-byte varints
  one("most-devices", "bob", many, 0x7fffffff, 0xffffffffffULL);
  one("longest-name", std::string(kMaxAddressNameBytes, 'n'), {2}, 3, 2);
}

// link_message: link messages sealed for the fixed request (selector 0), each checked to open
// there, and the plaintexts of contents (selector 1), which the target seals itself.
void write_link_messages(CorpusWriter& w) {
  fuzz::FuzzRandom random(22);
  const LinkCode code = fuzz::fixed_link_code();
  const LinkRequest request = fuzz::fixed_link_request();
  auto identity = KeyPair::generate(random);
  auto bob = KeyPair::generate(random);
  REQUIRE(identity);
  REQUIRE(bob);
  auto contents = [&](std::vector<std::uint32_t> devices, std::uint32_t device, bool extras) {
    DeviceList list;
    list.name = "alice";
    list.identity = identity->public_key;
    list.version = 2;
    for (auto d : devices)
      list.devices.push_back(DeviceId{d});
    list.next_device_id = DeviceId{devices.back() + 1};
    auto signed_list = SignedDeviceList::sign(random, std::move(list), *identity);
    REQUIRE(signed_list);
    LinkContents c{"alice", DeviceId{device}, identity->clone(), std::move(*signed_list), {}, {}};
    if (extras) {
      c.contacts.emplace_back("bob", bob->public_key);
      c.contacts.emplace_back("carol", identity->public_key);
      c.application_data = SecretBytes::copy_of(as_bytes(std::string("groups: family, work")));
    }
    return c;
  };
  auto one = [&](const std::string& file, const LinkContents& c) {
    auto m = seal_link_message(random, code, c);
    REQUIRE(m);
    CHECK(request.open(*m));
    w.write("link_message", file, 0, *m);
    const SecretBytes plaintext = internal::serialize_link_contents(c);
    w.write("link_message", file + "-plaintext", 1, plaintext.expose());
  };
  one("second-device", contents({1, 2}, 2, true));
  one("bare", contents({1, 3}, 3, false));
  one("with-gap", contents({1, 4, 7}, 7, true));
}

// content: Contents as alice's session carries them to bob (fuzz_common.h ContentSetup): a
// message, an empty one, a copy (which alice may not send), retry requests naming bob's second
// envelope, several of his, and none of his; a reply (a quote, and one with a group context),
// delivery and read receipts, and group updates: a new group from its admin, from a non-admin,
// one without bob, and a key for a group bob does not hold.
void write_contents(CorpusWriter& w) {
  const fuzz::ContentSetup s;
  internal::MessageId id{};
  id.fill(0x42);
  auto env = [&](std::size_t i) {
    internal::EnvelopeId e{};
    std::copy(s.bob_envelope_ids[i].begin(), s.bob_envelope_ids[i].end(), e.begin());
    return e;
  };
  internal::EnvelopeId unknown{};
  unknown.fill(0x55);
  w.write("content", "message",
          internal::build_message_content(id, 7, as_bytes("hi bob")).expose());
  w.write("content", "empty-message", internal::build_message_content(id, 0, {}).expose());
  w.write("content", "copy",
          internal::build_copy_content(id, 7, "carol", as_bytes("to carol")).expose());
  w.write("content", "retry-second", internal::build_retry_content(id, 9, {env(1)}).expose());
  w.write("content", "retry-several",
          internal::build_retry_content(id, 9, {unknown, env(2), env(0)}).expose());
  w.write("content", "retry-unknown", internal::build_retry_content(id, 9, {unknown}).expose());
  // Quotes, receipts and group updates (bob holds no group).
  internal::ContentContext quoted;
  quoted.quote = internal::QuoteParts{id, "bob"};
  w.write("content", "quote",
          internal::build_message_content(id, 7, as_bytes("re: hi"), quoted).expose());
  internal::ContentContext grouped = quoted;
  grouped.group = internal::GroupContextParts{internal::GroupIdBytes{7}, 3};
  w.write("content", "quote-group",
          internal::build_message_content(id, 7, as_bytes("in a group"), grouped).expose());
  w.write("content", "receipt-delivered",
          internal::build_receipt_content(id, 8, internal::ReceiptParts{1, {id}}).expose());
  w.write(
      "content", "receipt-read",
      internal::build_receipt_content(id, 8, internal::ReceiptParts{2, {id, unknown}}).expose());
  internal::GroupUpdateParts group;
  group.id.fill(0x67);
  group.revision = 1;
  group.state =
      internal::GroupStateParts{"friends", {"alice", "bob", "carol"}, {"alice"}, std::nullopt};
  w.write("content", "group-new", internal::build_group_update_content(id, 9, group).expose());
  group.state->admins = {"carol"};
  w.write("content", "group-not-admin",
          internal::build_group_update_content(id, 9, group).expose());
  group.state =
      internal::GroupStateParts{"without bob", {"alice", "carol"}, {"alice"}, std::nullopt};
  w.write("content", "group-without-us",
          internal::build_group_update_content(id, 9, group).expose());
  group.state.reset();
  group.sender_key = SecretBytes::copy_of(as_bytes("not a key"));
  w.write("content", "group-key-unknown",
          internal::build_group_update_content(id, 9, group).expose());
  AttachmentPointer photo;
  photo.id = "blob-1";
  photo.digest.fill(0xd1);
  photo.size = 4096;
  photo.content_type = "image/png";
  photo.file_name = "cat.png";
  std::vector<AttachmentPointer> files;
  files.push_back(std::move(photo));
  w.write("content", "message-with-attachment",
          internal::build_message_content(id, 7, as_bytes("look"), {}, files).expose());
}

// attachment_pointer: pointers (selector 0: a typical one, one with every field at its limit, a
// hostile file name, an empty file) and blobs (selector 1: size, flip position, then bytes: an
// empty and a short plaintext, and a genuine blob of the fixed key's format with its size).
void write_attachments(CorpusWriter& w) {
  AttachmentPointer p;
  p.id = "blob-0";
  p.key.expose_mut()[0] = 1;
  p.digest.fill(0xd1);
  p.size = 123456;
  p.content_type = "image/jpeg";
  p.file_name = "holiday.jpg";
  w.write("attachment_pointer", "pointer", 0, p.serialize().expose());
  AttachmentPointer big = p.clone();
  big.id = std::string(kMaxAttachmentIdBytes, 'Z');
  big.size = kMaxAttachmentBytes;
  big.content_type = std::string(kMaxAttachmentContentTypeBytes, '~');
  big.file_name = std::string(kMaxAttachmentFileNameBytes, 'n');
  w.write("attachment_pointer", "pointer-at-limits", 0, big.serialize().expose());
  AttachmentPointer evil = p.clone();
  evil.file_name = std::string("../..\\.hidden\n\x7f name.txt", 24);
  w.write("attachment_pointer", "pointer-hostile-name", 0, evil.serialize().expose());
  AttachmentPointer empty = p.clone();
  empty.size = 0;
  empty.content_type.clear();
  empty.file_name.clear();
  w.write("attachment_pointer", "pointer-empty", 0, empty.serialize().expose());
  w.write("attachment_pointer", "blob-empty", 1, Bytes{0, 0, 0});
  w.write("attachment_pointer", "blob-short", 1, Bytes{0, 5, 9, 'h', 'e', 'l', 'l', 'o'});
  // A genuine blob under the fuzzer's fixed key (0x5a bytes), for the decrypt half.
  class FixedKeyRandom final : public RandomSource {
   public:
    Status fill(std::span<std::uint8_t> out) override {
      std::fill(out.begin(), out.end(), static_cast<std::uint8_t>(first_ ? 0x5a : 0x07));
      first_ = false;
      return ok_status();
    }

   private:
    bool first_ = true;
  } random;
  hush::test::FixedClock clock;
  const Context ctx{random, clock, nullptr};
  const std::string text = "a file of forty-two bytes, give or take..";
  hush::test::MemorySource src(as_bytes(text));
  hush::test::VectorSink sink;
  REQUIRE(encrypt_attachment(ctx, src, text.size(), sink));
  // Size (2 bytes), flip position, then the blob (built in place: GCC 12's -Warray-bounds misreads
  // an insert after a 3-byte initializer list at -O2).
  Bytes genuine(3 + sink.bytes.size());
  genuine[1] = static_cast<std::uint8_t>(text.size());
  genuine[2] = 40;
  std::copy(sink.bytes.begin(), sink.bytes.end(), genuine.begin() + 3);
  w.write("attachment_pointer", "blob-genuine", 1, genuine);
}

// mlkem: for each parameter set (layout in fuzz/mlkem_fixed.h) the genuine ciphertext and a
// tampered one; the fixed key's material as a hostile key (with its H(ek) left out) and a short
// one; the fixed ek, an unreduced one and a short one; for encaps2 the matching t-hat, another
// key's and an unreduced one; a header with its t-hat.
void write_mlkem(CorpusWriter& w) {
  namespace crypto = internal::crypto;
  for (bool big : {false, true}) {
    const auto f = fuzz::make_mlkem_fixed(big ? crypto::MlKemParameterSet::kMlKem1024
                                              : crypto::MlKemParameterSet::kMlKem768);
    const std::string set = big ? "1024-" : "768-";
    const ByteView ek = f.keys.encapsulation_key;
    const ByteView dk = f.keys.decapsulation_key.expose();
    const std::size_t vector = ek.size() - 32;
    w.write("mlkem", set + "decaps-genuine", fuzz::mlkem_selector(big, 0), f.ciphertext);
    Bytes tampered = f.ciphertext;
    tampered[tampered.size() / 2] ^= 0x20;
    w.write("mlkem", set + "decaps-tampered", fuzz::mlkem_selector(big, 0), tampered);
    Bytes material(dk.begin(), dk.begin() + static_cast<std::ptrdiff_t>(vector + ek.size()));
    material.insert(material.end(), dk.end() - 32, dk.end());
    w.write("mlkem", set + "key-material", fuzz::mlkem_selector(big, 1), material);
    w.write("mlkem", set + "key-short", fuzz::mlkem_selector(big, 1), dk.first(100));
    w.write("mlkem", set + "ek", fuzz::mlkem_selector(big, 2), ek);
    Bytes unreduced(ek.begin(), ek.end());
    unreduced[0] = 0xFF;
    unreduced[1] |= 0x0F;
    w.write("mlkem", set + "ek-unreduced", fuzz::mlkem_selector(big, 2), unreduced);
    w.write("mlkem", set + "ek-short", fuzz::mlkem_selector(big, 2), ek.first(ek.size() - 1));
  }
  const auto f = fuzz::make_mlkem_fixed(crypto::MlKemParameterSet::kMlKem768);
  const auto other =
      crypto::mlkem_generate_from_seed(crypto::MlKemParameterSet::kMlKem768,
                                       fuzz::mlkem_fixed_seed(0x07), fuzz::mlkem_fixed_seed(0x08));
  const ByteView ek = f.keys.encapsulation_key;
  w.write("mlkem", "encaps2-matching", fuzz::mlkem_selector(false, 3), ek.first(1152));
  w.write("mlkem", "encaps2-other-key", fuzz::mlkem_selector(false, 3),
          ByteView(other.encapsulation_key).first(1152));
  Bytes unreduced(ek.begin(), ek.begin() + 1152);
  unreduced[3] = 0xFF;
  unreduced[4] |= 0x0F;
  w.write("mlkem", "encaps2-unreduced", fuzz::mlkem_selector(false, 3), unreduced);
  auto header = crypto::mlkem768_header(ek);
  REQUIRE(header);
  Bytes with_t_hat(header->begin(), header->end());
  with_t_hat.insert(with_t_hat.end(), ek.begin(), ek.begin() + 1152);
  w.write("mlkem", "header-and-t-hat", fuzz::mlkem_selector(false, 4), with_t_hat);
}

}  // namespace

// Group messages of the fixed group (selector: bit 0 the format, bit 1 re-sign) and distribution
// messages in both formats (selector: bit 0 the format).
void write_group_messages(CorpusWriter& w) {
  const fuzz::FixedGroup g = fuzz::build_fixed_group();
  for (std::uint8_t f = 0; f < 2; ++f) {
    const std::string format = f == 0 ? "legacy" : "current";
    for (std::size_t i = 0; i < g.messages[f].size(); ++i) {
      w.write("sender_key_message", format + "-" + std::to_string(i), f, g.messages[f][i]);
      w.write("sender_key_message", format + "-" + std::to_string(i) + "-resigned",
              static_cast<std::uint8_t>(f | 2), g.messages[f][i]);
    }
    w.write("sender_key_distribution", format + "-alice", f, g.distributions[f]);
  }
  // A chain at a later iteration, and a distribution message of another distribution id.
  auto other = DistributionId::parse("0fe0fe00-0000-4000-8000-000000000001");
  REQUIRE(other);
  auto skdm = create_sender_key_distribution(g.bob->ctx, *g.bob->store, g.bob->address,
                                             SenderKeyGroup::current(*other));
  REQUIRE(skdm);
  w.write("sender_key_distribution", "current-other-id", 1, skdm->serialized());
  auto legacy = create_sender_key_distribution(g.bob->ctx, *g.bob->store, g.bob->address, g.legacy);
  REQUIRE(legacy);
  w.write("sender_key_distribution", "legacy-bob", 0, legacy->serialized());
}

// Version 4 (PQXDH, SPQR): a session between two fuzz devices (not the fixed session: the decrypt
// fuzzers' is version 3), its prekey message, a whisper message each way, the addresses field,
// and a bundle with a Kyber prekey.
void write_v4(CorpusWriter& w) {
  auto alice = fuzz::make_device("00000000-0000-4000-8000-00000000a11c", 31, 1);
  auto bob = fuzz::make_device("00000000-0000-4000-8000-000000000b0b", 32, 1);
  auto identity = bob->store->identity_key_pair();
  REQUIRE(identity);
  auto kyber = generate_kyber_pre_key(bob->ctx, *identity, KyberPreKeyId{1}, false);
  REQUIRE(kyber);
  REQUIRE(bob->store->store_kyber_pre_key(*kyber));
  auto bundle = make_bundle(*bob->store, bob->address.device_id, SignedPreKeyId{1}, PreKeyId{1},
                            KyberPreKeyId{1});
  REQUIRE(bundle);
  w.write("bundle_wire", "bob-v4-kyber", 0, bundle->serialize());
  // What a device publishes since the Messenger speaks version 4: a one-time and a last-resort
  // Kyber prekey with the rest.
  {
    auto last_resort = generate_kyber_pre_key(bob->ctx, *identity, KyberPreKeyId{2}, true);
    REQUIRE(last_resort);
    PublishedKeys keys;
    keys.registration_id = bundle->registration_id;
    keys.device_id = bundle->device_id;
    keys.identity_key = bundle->identity_key;
    keys.signed_pre_key_id = bundle->signed_pre_key_id;
    keys.signed_pre_key = bundle->signed_pre_key;
    keys.signed_pre_key_signature = bundle->signed_pre_key_signature;
    keys.pre_keys.emplace_back(*bundle->pre_key_id, *bundle->pre_key);
    keys.kyber_pre_keys.push_back(
        SignedKyberPreKey{kyber->id, kyber->public_key, kyber->signature});
    keys.last_resort_kyber_pre_key =
        SignedKyberPreKey{last_resort->id, last_resort->public_key, last_resort->signature};
    w.write("bundle_wire", "bob-published-v4", 1, keys.serialize());
  }
  REQUIRE(process_prekey_bundle(alice->ctx, *alice->store, bob->address, *bundle));
  EncryptOptions eo;
  eo.local_address = alice->address;
  auto first = encrypt_message(alice->ctx, *alice->store, bob->address, as_bytes("v4 hi"), eo);
  REQUIRE(first);
  REQUIRE(first->prekey_message());
  w.write("prekey_message", "v4-prekey-with-addresses", first->serialized());
  w.write("signal_message", "v4-inner-with-addresses",
          first->prekey_message()->message().serialized());
  REQUIRE(decrypt_message(bob->ctx, *bob->store, alice->address, *first));
  auto reply = encrypt_message(bob->ctx, *bob->store, alice->address, as_bytes("v4 reply"));
  REQUIRE(reply);
  w.write("signal_message", "v4-whisper", reply->serialized());
  auto record = bob->store->load_session(alice->address);
  REQUIRE(record);
  REQUIRE(*record);
  w.write("session_record", "v4-record", (*record)->serialize().expose());
}

// call_message: CallMessages alone, one of each type (an offer and a list of three, a key at its
// size), and content: the same inside Contents from alice (an offer naming her as host, one naming
// bob, a hangup, a key for a call bob does not hold).
void write_call_messages(CorpusWriter& w) {
  using internal::CallMessageParts;
  using internal::CallMessageType;
  const Address alice{"alice", DeviceId{1}};
  auto make = [&](CallMessageType type) {
    CallMessageParts p;
    p.id.fill(0x5c);
    p.type = type;
    if (type == CallMessageType::kOffer || type == CallMessageType::kAnswer ||
        type == CallMessageType::kSignal || type == CallMessageType::kHangup)
      p.payload = Bytes{'v', '=', '0'};
    if (type == CallMessageType::kOffer || type == CallMessageType::kParticipants)
      p.participants = {CallParticipant{alice, 0}, CallParticipant{Address{"bob", DeviceId{2}}, 1},
                        CallParticipant{Address{"carol", DeviceId{1}}, 4}};
    if (type == CallMessageType::kKey)
      p.key = internal::CallKeyParts{3, SecretBytes::copy_of(Bytes(kCallBaseKeyBytes, 0x6b))};
    return p;
  };
  for (std::uint32_t t = 1; t <= 9; ++t) {
    const auto type = static_cast<CallMessageType>(t);
    w.write("call_message", "type-" + std::to_string(t),
            internal::serialize_call_message(make(type)).expose());
  }
  const fuzz::ContentSetup s;
  internal::MessageId id{};
  id.fill(0x43);
  CallMessageParts offer = make(CallMessageType::kOffer);
  offer.participants = {CallParticipant{s.alice->address, 0}};
  w.write("content", "call-offer", internal::build_call_content(id, 9, offer).expose());
  offer.participants = {CallParticipant{s.bob->address, 0}};
  w.write("content", "call-offer-not-host", internal::build_call_content(id, 9, offer).expose());
  w.write("content", "call-hangup",
          internal::build_call_content(id, 9, make(CallMessageType::kHangup)).expose());
  w.write("content", "call-key",
          internal::build_call_content(id, 9, make(CallMessageType::kKey)).expose());
}

TEST_CASE("write the fuzz seed corpora", "[.corpus]") {
  const char* dir = std::getenv("HUSH_FUZZ_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') {
    WARN("HUSH_FUZZ_CORPUS_DIR is not set; nothing written");
    return;
  }
  CorpusWriter w{std::filesystem::path(dir)};
  fuzz::FixedSession s = fuzz::build_fixed_session();
  write_messages(w, s);
  write_records(w, s);
  write_full_archive(w);
  write_bundles(w, s);
  write_wire_formats(w, s);
  write_interactions(w);
  write_device_lists(w);
  write_link_messages(w);
  write_contents(w);
  write_call_messages(w);
  write_mlkem(w);
  write_attachments(w);
  write_group_messages(w);
  write_v4(w);
  INFO("wrote " << w.written() << " files under " << dir);
  CHECK(w.written() > 0);
}

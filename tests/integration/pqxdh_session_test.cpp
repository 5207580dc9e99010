// hush integration tests: version-4 sessions between hush users (PQXDH, the v4 wire, SPQR-salted
// message keys; signal-v4-wire.md §2-§3): setup with and without a one-time prekey and with the
// last-resort Kyber prekey, Kyber prekey bookkeeping, long exchanges with loss, reordering and
// duplicates, tampering refused with the session usable after, the addresses field, records that
// persist the version and the SPQR state (hostile ones refused), and no downgrade to version 3.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "pq_test_support.h"
#include "protocol/record_access.h"
#include "storage.pb.h"
#include "support/test_support.h"
#include "wire.pb.h"

using namespace hush;
using hush::test::add_kyber;
using hush::test::info;
using hush::test::Party;
using hush::test::pq_bundle;
using hush::test::StoreKind;

namespace {

std::string text(const SecretBytes& b) {
  return std::string(b.expose().begin(), b.expose().end());
}

Bytes flip(ByteView b, std::size_t at) {
  Bytes out(b.begin(), b.end());
  out[at] ^= 0x01;
  return out;
}

}  // namespace

TEST_CASE("PQXDH sets up version-4 sessions between hush users", "[integration][pqxdh]") {
  for (const bool with_one_time : {true, false}) {
    INFO("one-time EC prekey: " << with_one_time);
    auto alice = Party::create("alice", 701, 3);
    auto bob = Party::create("bob", 702, 3);
    add_kyber(bob, 1);
    add_kyber(bob, 2, true);
    const std::optional<PreKeyId> opk =
        with_one_time ? std::optional<PreKeyId>(PreKeyId{1}) : std::nullopt;
    test::start_pq_session(alice, bob, opk, 1);
    CHECK(info(alice, bob).version == 4);
    CHECK(info(alice, bob).spqr_epoch == 1);

    const auto m = test::encrypt(alice, bob, "first");
    REQUIRE(m.type() == MessageType::kPreKey);
    const PreKeySignalMessage& pk = *m.prekey_message();
    CHECK(pk.serialized()[0] == 0x44);
    CHECK(pk.message_version() == 4);
    CHECK(pk.message().serialized()[0] == 0x44);
    CHECK(pk.kyber_pre_key_id() == KyberPreKeyId{1});
    CHECK(pk.kyber_ciphertext().size() == 1569);
    // An SPQR v1 message of epoch 1 (the first header chunk of the braid).
    REQUIRE(pk.message().pq_ratchet().size() >= 4);
    CHECK(pk.message().pq_ratchet()[0] == 0x01);
    CHECK(pk.message().pq_ratchet()[1] == 0x01);
    CHECK(pk.pre_key_id() == opk);
    // The parser reads back what was built.
    auto parsed = PreKeySignalMessage::parse(pk.serialized());
    REQUIRE(parsed);
    CHECK(parsed->kyber_pre_key_id() == KyberPreKeyId{1});

    CHECK(test::decrypt(bob, alice, m).value() == "first");
    CHECK(info(bob, alice).version == 4);
    // The one-time Kyber prekey is gone, the last-resort one stays; the EC one-time prekey too.
    CHECK(*bob.store->kyber_pre_key_ids() == std::vector<KyberPreKeyId>{KyberPreKeyId{2}});
    CHECK(bob.store->pre_key_ids()->size() == (with_one_time ? 2u : 3u));
    // A repeat of the prekey message is a duplicate; the session goes on.
    CHECK(test::decrypt(bob, alice, m).error().code() == Errc::kDuplicateMessage);
    const auto reply = test::encrypt(bob, alice, "reply");
    CHECK(reply.type() == MessageType::kWhisper);
    CHECK(reply.serialized()[0] == 0x44);
    CHECK(test::decrypt(alice, bob, reply).value() == "reply");
    CHECK(test::encrypt(alice, bob, "acknowledged").type() == MessageType::kWhisper);
  }
}

TEST_CASE("the last-resort Kyber prekey serves several sessions and refuses replays",
          "[integration][pqxdh]") {
  auto bob = Party::create("bob", 711, 0);
  add_kyber(bob, 9, true);
  auto alice = Party::create("alice", 712, 0);
  auto carol = Party::create("carol", 713, 0);
  for (Party* p : {&alice, &carol}) {
    test::start_pq_session(*p, bob, std::nullopt, 9);
    CHECK(test::decrypt(bob, *p, test::encrypt(*p, bob, "via last resort")).value() ==
          "via last resort");
  }
  CHECK(*bob.store->kyber_pre_key_ids() == std::vector<KyberPreKeyId>{KyberPreKeyId{9}});
  // Replayed under another address (a relay's trick): refused, nothing changes.
  test::start_pq_session(alice, bob, std::nullopt, 9);
  const auto m = test::encrypt(alice, bob, "again");
  CHECK(test::decrypt(bob, alice, m).value() == "again");
  const Bytes before = bob.snapshot();
  auto replay = decrypt_message(*bob.ctx, *bob.store, Address{"mallory", DeviceId{1}}, m);
  CHECK(replay.error().code() == Errc::kDuplicateMessage);
  CHECK(bob.snapshot() == before);
  // The use is recorded under (Kyber id, signed prekey id, base key).
  CHECK(*bob.store->has_last_resort_use(KyberPreKeyId{9}, bob.signed_pre_key_id,
                                        m.prekey_message()->base_key()));
  // An unknown Kyber prekey id: kInvalidKeyId.
  auto dave = Party::create("dave", 714, 0);
  add_kyber(bob, 10);
  test::start_pq_session(dave, bob, std::nullopt, 10);
  REQUIRE(bob.store->remove_kyber_pre_key(KyberPreKeyId{10}));
  CHECK(test::decrypt(bob, dave, test::encrypt(dave, bob, "x")).error().code() ==
        Errc::kInvalidKeyId);
}

TEST_CASE("version-4 sessions survive loss and reordering and refuse duplicates and tampering",
          "[integration][pqxdh]") {
  auto alice = Party::create("alice", 721, 1);
  auto bob = Party::create("bob", 722, 1);
  add_kyber(bob, 1);
  test::pq_session(alice, bob, PreKeyId{1}, 1);
  test::SeededRandom shuffle(723);
  int delivered = 0;
  for (int round = 0; round < 12; ++round) {
    for (auto [from, to] : {std::pair{&alice, &bob}, std::pair{&bob, &alice}}) {
      std::vector<std::pair<CiphertextMessage, std::string>> burst;
      for (int i = 0; i < 6; ++i) {
        const std::string t = "r" + std::to_string(round) + "m" + std::to_string(i);
        burst.emplace_back(test::encrypt(*from, *to, t), t);
      }
      // Reorder: reverse; lose one in five.
      std::reverse(burst.begin(), burst.end());
      for (std::size_t i = 0; i < burst.size(); ++i) {
        if (i % 5 == 4) continue;
        auto& [m, t] = burst[i];
        CHECK(test::decrypt(*to, *from, m).value() == t);
        ++delivered;
        CHECK(test::decrypt(*to, *from, m).error().code() == Errc::kDuplicateMessage);
      }
      // Tampering (a flipped bit in the SPQR message, the ciphertext, the MAC, the version byte)
      // is refused and changes nothing; the session goes on.
      const auto t = test::encrypt(*from, *to, "tampered");
      const ByteView wire = t.serialized();
      const Bytes before = to->snapshot();
      for (std::size_t at : {std::size_t{0}, wire.size() / 2, wire.size() - 1}) {
        auto bad = SignalMessage::parse(flip(wire, at));
        if (!bad) continue;
        auto r = decrypt_message(*to->ctx, *to->store, from->address, CiphertextMessage(*bad));
        CHECK_FALSE(r);
      }
      CHECK(to->snapshot() == before);
      CHECK(test::decrypt(*to, *from, t).value() == "tampered");
    }
  }
  CHECK(delivered == 12 * 2 * 5);
  CHECK(info(alice, bob).version == 4);
  CHECK(info(bob, alice).version == 4);
}

TEST_CASE("a version-4 message without a valid SPQR message is refused", "[integration][pqxdh]") {
  auto alice = Party::create("alice", 731, 1);
  auto bob = Party::create("bob", 732, 1);
  add_kyber(bob, 1);
  test::pq_session(alice, bob, PreKeyId{1}, 1);
  const auto m = test::encrypt(alice, bob, "spqr");
  const Bytes before = bob.snapshot();
  // An empty, a non-v1 and a truncated pq_ratchet (the MAC then fails anyway: it covers them).
  for (const std::string& pq : {std::string(), std::string("\x00", 1),
                                std::string("\x02\x01\x01\x00", 4), std::string("\x01\x01", 2)}) {
    const Bytes out =
        test::rebuild_v4(m.serialized(), [&](wire::SignalMessage& pb) { pb.set_pq_ratchet(pq); });
    auto parsed = SignalMessage::parse(out);
    REQUIRE(parsed);
    CHECK(decrypt_signal_message(*bob.ctx, *bob.store, alice.address, *parsed).error().code() ==
          Errc::kInvalidMessage);
  }
  CHECK(bob.snapshot() == before);
  CHECK(test::decrypt(bob, alice, m).value() == "spqr");
}

TEST_CASE("the addresses field names sender and recipient while unacknowledged",
          "[integration][pqxdh]") {
  const std::string alice_aci = "9d0652a3-dcc3-4d11-975f-74d61598733f";
  const std::string bob_aci = "796abedb-ca4e-4f18-8803-1fde5b921f9f";
  auto alice = Party::create(alice_aci, 741, 1);
  auto bob = Party::create("PNI:" + bob_aci, 742, 1);
  add_kyber(bob, 1);
  test::start_pq_session(alice, bob, PreKeyId{1}, 1);
  EncryptOptions eo;
  eo.local_address = alice.address;
  auto m = encrypt_message(*alice.ctx, *alice.store, bob.address, as_bytes("addressed"), eo);
  REQUIRE(m);
  const auto addresses = m->prekey_message()->message().addresses();
  REQUIRE(addresses);
  REQUIRE(addresses->size() == 36);
  CHECK((*addresses)[0] == 0x00);  // ACI
  CHECK((*addresses)[1] == 0x9d);
  CHECK((*addresses)[17] == 1);
  CHECK((*addresses)[18] == 0x01);  // PNI
  CHECK((*addresses)[19] == 0x79);
  CHECK((*addresses)[35] == 1);

  // Decrypting as another recipient, or from another sender, fails and changes nothing.
  const Bytes before = bob.snapshot();
  DecryptOptions wrong_me;
  wrong_me.local_address = Address{bob_aci, DeviceId{1}};  // the ACI, not the PNI it was sent to
  CHECK(decrypt_message(*bob.ctx, *bob.store, alice.address, *m, wrong_me).error().code() ==
        Errc::kInvalidMessage);
  CHECK(decrypt_message(*bob.ctx, *bob.store, Address{alice_aci, DeviceId{2}}, *m).error().code() ==
        Errc::kInvalidMessage);
  CHECK(bob.snapshot() == before);
  DecryptOptions right;
  right.local_address = bob.address;
  auto plain = decrypt_message(*bob.ctx, *bob.store, alice.address, *m, right);
  REQUIRE(plain);
  CHECK(text(*plain) == "addressed");
  // Acknowledged: no more addresses.
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "ack")).value() == "ack");
  auto later = encrypt_message(*alice.ctx, *alice.store, bob.address, as_bytes("later"), eo);
  REQUIRE(later);
  CHECK_FALSE(later->signal_message()->addresses());

  // Names that are not ServiceIds: no field.
  auto carol = Party::create("carol", 743, 1);
  auto dave = Party::create("dave", 744, 1);
  add_kyber(dave, 1);
  test::start_pq_session(carol, dave, PreKeyId{1}, 1);
  EncryptOptions co;
  co.local_address = carol.address;
  auto plain_names = encrypt_message(*carol.ctx, *carol.store, dave.address, as_bytes("x"), co);
  REQUIRE(plain_names);
  CHECK_FALSE(plain_names->prekey_message()->message().addresses());
}

TEST_CASE("version-4 records keep the version and the SPQR state and refuse hostile ones",
          "[integration][pqxdh]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  auto alice = Party::create("alice", 751, 1, kind);
  auto bob = Party::create("bob", 752, 1, kind);
  add_kyber(bob, 1);
  test::pq_session(alice, bob, PreKeyId{1}, 1);
  alice.reopen();
  bob.reopen();
  CHECK(info(alice, bob).version == 4);
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "after reopen")).value() ==
        "after reopen");

  auto record = alice.store->load_session(bob.address);
  REQUIRE(record);
  REQUIRE(*record);
  const SecretBytes bytes = (*record)->serialize();
  storage::SessionRecord pb;
  REQUIRE(pb.ParseFromArray(bytes.expose().data(), static_cast<int>(bytes.size())));
  REQUIRE(pb.current().session_version() == 4);
  REQUIRE(pb.current().has_spqr_state());
  auto refused = [&](const std::function<void(storage::SessionState&)>& f) {
    storage::SessionRecord changed = pb;
    f(*changed.mutable_current());
    const std::string out = changed.SerializeAsString();
    auto r = SessionRecord::deserialize(as_bytes(out));
    return !r && r.error().code() == Errc::kCorruptState;
  };
  CHECK(refused([](auto& s) { s.clear_spqr_state(); }));
  CHECK(refused([](auto& s) { s.set_spqr_state("garbage"); }));
  CHECK(refused([](auto& s) { s.set_spqr_state(std::string(kMaxSpqrStateBytes + 1, 'L')); }));
  CHECK(refused([](auto& s) { s.set_session_version(5); }));
  CHECK(refused([](auto& s) { s.set_session_version(3); }));  // v3 with an SPQR state
  CHECK(refused([](auto& s) {
    s.mutable_pending_pre_key()->set_base_key(std::string(32, 'b'));
    s.mutable_pending_pre_key()->set_signed_pre_key_id(1);
    s.mutable_pending_pre_key()->set_kyber_pre_key_id(1);  // without its ciphertext
  }));
}

TEST_CASE("a person who used version 4 cannot be moved back to version 3", "[integration][pqxdh]") {
  auto alice = Party::create("alice", 761, 3);
  auto bob = Party::create("bob", 762, 3);
  add_kyber(bob, 1);
  test::pq_session(alice, bob, PreKeyId{1}, 1);

  // A relay strips the Kyber prekey from bob's bundle: refused, nothing changes.
  Bytes before = alice.snapshot();
  CHECK(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{2}))
            .error()
            .code() == Errc::kPostQuantumRequired);
  // ... also for another device of bob's.
  CHECK(process_prekey_bundle(*alice.ctx, *alice.store, Address{"bob", DeviceId{2}},
                              bob.bundle(PreKeyId{2}))
            .error()
            .code() == Errc::kPostQuantumRequired);
  CHECK(alice.snapshot() == before);

  // A version-3 prekey message in alice's name (a second store with alice's identity, standing in
  // for whoever forged it) is refused by bob as a downgrade.
  auto mallory = Party::create("mallory", 763, 0);
  REQUIRE(
      process_prekey_bundle(*mallory.ctx, *mallory.store, bob.address, bob.bundle(PreKeyId{2})));
  const auto v3 = test::encrypt(mallory, bob, "v3 in alice's name");
  REQUIRE(v3.prekey_message()->message_version() == 3);
  before = bob.snapshot();
  CHECK(decrypt_message(*bob.ctx, *bob.store, alice.address, v3).error().code() ==
        Errc::kLegacyMessage);
  CHECK(bob.snapshot() == before);
  // The v4 session goes on.
  CHECK(test::decrypt(bob, alice, test::encrypt(alice, bob, "still pq")).value() == "still pq");
}

TEST_CASE("version 3 stays for peers without Kyber prekeys unless post-quantum is required",
          "[integration][pqxdh]") {
  auto alice = Party::create("alice", 771, 1);
  auto bob = Party::create("bob", 772, 2);
  // No Kyber prekey in the bundle: X3DH, version 3, as before.
  BundleOptions require;
  require.require_post_quantum = true;
  const Bytes before = alice.snapshot();
  CHECK(
      process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{1}), require)
          .error()
          .code() == Errc::kPostQuantumRequired);
  CHECK(alice.snapshot() == before);
  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle(PreKeyId{1})));
  CHECK(info(alice, bob).version == 3);
  CHECK(info(alice, bob).spqr_epoch == 0);
  const auto m = test::encrypt(alice, bob, "v3");
  CHECK(m.serialized()[0] == 0x33);
  DecryptOptions pq_only;
  pq_only.require_post_quantum = true;
  CHECK(decrypt_message(*bob.ctx, *bob.store, alice.address, m, pq_only).error().code() ==
        Errc::kLegacyMessage);
  CHECK(test::decrypt(bob, alice, m).value() == "v3");
  CHECK(test::decrypt(alice, bob, test::encrypt(bob, alice, "v3 reply")).value() == "v3 reply");
}

TEST_CASE("a forged prekey message in our own name cannot make SPQR jump without limit",
          "[integration][pqxdh]") {
  // A relay puts the receiver's own identity key in a prekey message (so it looks like a
  // note-to-self session) and asks SPQR for key 2^32-1: before any MAC is checked, that must be
  // refused at the jump limit, not computed (which would take hours under the store's lock).
  auto alice = Party::create("alice", 791, 1);
  auto bob = Party::create("bob", 792, 1);
  add_kyber(bob, 1);
  test::start_pq_session(alice, bob, PreKeyId{1}, 1);
  const auto m = test::encrypt(alice, bob, "forged");
  auto bob_identity = bob.store->identity_key_pair();
  REQUIRE(bob_identity);
  const auto own = bob_identity->public_key.serialize();
  const Bytes out = test::rebuild_v4_prekey(m.serialized(), 0x44, [&](auto& pb) {
    const Bytes inner = test::rebuild_v4(as_bytes(pb.message()), [](wire::SignalMessage& s) {
      s.set_pq_ratchet(std::string("\x01\x01\xff\xff\xff\xff\x0f\x00", 8));  // epoch 1, None
    });
    pb.set_message(std::string(inner.begin(), inner.end()));
    pb.set_identity_key(std::string(own.begin(), own.end()));
  });
  auto parsed = PreKeySignalMessage::parse(out);
  REQUIRE(parsed);
  const Bytes before = bob.snapshot();
  auto r = decrypt_prekey_message(*bob.ctx, *bob.store, alice.address, *parsed);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::kTooFarInFuture);
  CHECK(bob.snapshot() == before);
}

TEST_CASE("version-4 prekey messages need their Kyber fields", "[integration][pqxdh]") {
  auto alice = Party::create("alice", 781, 1);
  auto bob = Party::create("bob", 782, 1);
  add_kyber(bob, 1);
  test::start_pq_session(alice, bob, PreKeyId{1}, 1);
  const auto m = test::encrypt(alice, bob, "fields");
  auto with = [&](std::uint8_t version, const std::function<void(wire::PreKeySignalMessage&)>& f) {
    auto r = PreKeySignalMessage::parse(test::rebuild_v4_prekey(m.serialized(), version, f));
    return r ? Errc{} : r.error().code();
  };
  CHECK(with(0x44, [](auto&) {}) == Errc{});
  CHECK(with(0x44, [](auto& p) { p.clear_kyber_ciphertext(); }) == Errc::kInvalidMessage);
  CHECK(with(0x44, [](auto& p) { p.clear_kyber_pre_key_id(); }) == Errc::kInvalidMessage);
  CHECK(with(0x44, [](auto& p) { p.mutable_kyber_ciphertext()->resize(1568); }) ==
        Errc::kInvalidKemCiphertext);
  CHECK(with(0x44, [](auto& p) { (*p.mutable_kyber_ciphertext())[0] = 0x0A; }) ==
        Errc::kInvalidKemCiphertext);
  CHECK(with(0x54, [](auto&) {}) == Errc::kInvalidVersion);
  CHECK(with(0x34, [](auto&) {}) == Errc::kInvalidVersion);  // inner message is version 4
}

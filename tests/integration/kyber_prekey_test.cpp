// hush integration tests: signed Kyber prekeys (PQXDH, signal-v4-wire.md §2.2): the record and its
// stored form (untrusted), and the KyberPreKeyStore contract for InMemoryProtocolStore and
// SqliteStore alike (ids, high-water mark, last-resort uses, rollback, snapshots).
#include <catch2/catch.hpp>

#include "envelope.pb.h"
#include "storage.pb.h"
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;
using hush::test::StoreKind;

namespace {

const char* kind_name(StoreKind k) {
  return k == StoreKind::kSqlite ? "sqlite" : "in-memory";
}

KyberPreKeyRecord kyber_key(Party& p, std::uint32_t id, bool last_resort = false) {
  auto identity = p.store->identity_key_pair();
  REQUIRE(identity);
  auto k = generate_kyber_pre_key(*p.ctx, *identity, KyberPreKeyId{id}, last_resort);
  REQUIRE(k);
  return std::move(*k);
}

PublicKey some_base_key(Party& p) {
  auto kp = KeyPair::generate(*p.random);
  REQUIRE(kp);
  return kp->public_key;
}

// A stored record with one field changed.
Bytes tampered(const KyberPreKeyRecord& r,
               const std::function<void(storage::KyberPreKeyRecord&)>& f) {
  storage::KyberPreKeyRecord p;
  const SecretBytes bytes = r.serialize();
  REQUIRE(p.ParseFromArray(bytes.expose().data(), static_cast<int>(bytes.size())));
  f(p);
  const std::string out = p.SerializeAsString();
  return Bytes(out.begin(), out.end());
}

}  // namespace

TEST_CASE("a Kyber prekey is a signed Kyber1024 key that round-trips", "[integration][kyber]") {
  auto p = Party::create("owner", 601, 0, StoreKind::kInMemory);
  const KyberPreKeyRecord k = kyber_key(p, 5, true);
  CHECK(to_uint(k.id) == 5);
  CHECK(k.last_resort);
  REQUIRE(k.public_key.serialize().size() == KyberPublicKey::kSize);
  CHECK(k.public_key.serialize()[0] == 0x08);
  CHECK(k.secret_key.size() == 3169);
  CHECK(k.timestamp_ms == p.clock->now_ms());
  // Signed by the identity over all 1569 bytes, type byte included.
  const IdentityKey identity = p.store->identity_key_pair()->public_key;
  CHECK(identity.verify_signature(k.public_key.serialize(), k.signature));
  CHECK_FALSE(identity.verify_signature(k.public_key.serialize().subspan(1), k.signature));

  auto back = KyberPreKeyRecord::deserialize(k.serialize().expose());
  REQUIRE(back);
  CHECK(back->id == k.id);
  CHECK(back->public_key == k.public_key);
  CHECK(constant_time_equals(back->secret_key.expose(), k.secret_key.expose()));
  CHECK(back->signature == k.signature);
  CHECK(back->timestamp_ms == k.timestamp_ms);
  CHECK(back->last_resort);
  CHECK_FALSE(back->published);
  CHECK(constant_time_equals(back->serialize().expose(), k.serialize().expose()));
}

TEST_CASE("Kyber public keys of the wrong type or length are refused", "[integration][kyber]") {
  auto p = Party::create("owner", 602, 0, StoreKind::kInMemory);
  const KyberPreKeyRecord k = kyber_key(p, 1);
  const ByteView good = k.public_key.serialize();
  REQUIRE(KyberPublicKey::parse(good));
  Bytes wrong_type(good.begin(), good.end());
  for (const int type : {0x07, 0x0A, 0x05, 0x00}) {
    wrong_type[0] = static_cast<std::uint8_t>(type);
    CHECK(KyberPublicKey::parse(wrong_type).error().code() == Errc::kInvalidKemKey);
  }
  CHECK(KyberPublicKey::parse(good.first(1568)).error().code() == Errc::kInvalidKemKey);
  CHECK(KyberPublicKey::parse(good.subspan(1)).error().code() == Errc::kInvalidKemKey);
  Bytes longer(good.begin(), good.end());
  longer.push_back(0);
  CHECK(KyberPublicKey::parse(longer).error().code() == Errc::kInvalidKemKey);
  CHECK(KyberPublicKey::parse({}).error().code() == Errc::kInvalidKemKey);
  // A coefficient of 3329 or more fails ML-KEM's modulus check (FIPS 203 §7.2).
  Bytes out_of_range(good.begin(), good.end());
  out_of_range[1] = 0xFF;
  out_of_range[2] = 0xFF;
  CHECK(KyberPublicKey::parse(out_of_range).error().code() == Errc::kInvalidKemKey);
}

TEST_CASE("stored Kyber prekey records are untrusted", "[integration][kyber]") {
  auto p = Party::create("owner", 603, 0, StoreKind::kInMemory);
  const KyberPreKeyRecord k = kyber_key(p, 1);
  const KyberPreKeyRecord other = kyber_key(p, 2);
  auto corrupt = [](ByteView b) {
    auto r = KyberPreKeyRecord::deserialize(b);
    return !r && r.error().code() == Errc::kCorruptState;
  };
  CHECK(corrupt(tampered(k, [](auto& r) { r.set_format(2); })));
  CHECK(corrupt(tampered(k, [](auto& r) { r.clear_id(); })));
  CHECK(corrupt(tampered(k, [](auto& r) { r.clear_signature(); })));
  CHECK(corrupt(tampered(k, [](auto& r) { r.set_signature(std::string(63, 'x')); })));
  CHECK(corrupt(tampered(k, [](auto& r) { r.mutable_public_key()->resize(1568); })));
  CHECK(corrupt(tampered(k, [](auto& r) { (*r.mutable_public_key())[0] = 0x0A; })));
  CHECK(corrupt(tampered(k, [](auto& r) { r.mutable_secret_key()->resize(3168); })));
  // A damaged secret key fails its hash check; another key's secret key does not match.
  CHECK(corrupt(tampered(k, [](auto& r) { (*r.mutable_secret_key())[2000] ^= 1; })));
  const std::string other_secret(other.secret_key.expose().begin(),
                                 other.secret_key.expose().end());
  CHECK(corrupt(tampered(k, [&](auto& r) { r.set_secret_key(other_secret); })));
  CHECK(corrupt(Bytes(kMaxKyberKeyRecordBytes + 1, 0)));
  CHECK(corrupt(as_bytes("not a protobuf \xff\xff")));
}

TEST_CASE("store contract: Kyber prekeys and last-resort uses", "[integration][store][kyber]") {
  const StoreKind kind = GENERATE(StoreKind::kInMemory, StoreKind::kSqlite);
  SECTION(kind_name(kind)) {
    auto p = Party::create("owner", 604, 0, kind);
    ProtocolStore& s = *p.store;
    CHECK(s.kyber_pre_key_ids()->empty());
    CHECK(to_uint(*s.next_kyber_pre_key_id()) == 1);
    CHECK_FALSE(*s.load_kyber_pre_key(KyberPreKeyId{1}));

    const KyberPreKeyRecord one = kyber_key(p, 1);
    const KyberPreKeyRecord last = kyber_key(p, 7, true);
    REQUIRE(s.store_kyber_pre_key(one));
    REQUIRE(s.store_kyber_pre_key(last));
    CHECK(*s.kyber_pre_key_ids() == std::vector<KyberPreKeyId>{KyberPreKeyId{1}, KyberPreKeyId{7}});
    CHECK(to_uint(*s.next_kyber_pre_key_id()) == 8);
    auto loaded = s.load_kyber_pre_key(KyberPreKeyId{7});
    REQUIRE(loaded);
    REQUIRE(*loaded);
    CHECK(constant_time_equals((*loaded)->serialize().expose(), last.serialize().expose()));

    // Last-resort uses: per (Kyber id, signed prekey id, base key).
    const PublicKey base = some_base_key(p);
    const PublicKey other_base = some_base_key(p);
    CHECK_FALSE(*s.has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    REQUIRE(s.record_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    REQUIRE(s.record_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));  // idempotent
    CHECK(*s.has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    CHECK_FALSE(*s.has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{2}, base));
    CHECK_FALSE(*s.has_last_resort_use(KyberPreKeyId{1}, SignedPreKeyId{1}, base));
    CHECK_FALSE(*s.has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, other_base));

    // A failed transaction undoes Kyber writes, the high-water mark and uses alike.
    const Bytes before = p.snapshot();
    auto st = s.run_transaction([&]() -> Status {
      REQUIRE(s.store_kyber_pre_key(kyber_key(p, 20)));
      REQUIRE(s.remove_kyber_pre_key(KyberPreKeyId{1}));
      REQUIRE(s.record_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{3}, other_base));
      return Error(Errc::kInvalidMessage, "test: fail");
    });
    CHECK_FALSE(st);
    CHECK(p.snapshot() == before);
    CHECK(to_uint(*s.next_kyber_pre_key_id()) == 8);

    // Removing a one-time key; ids never go back.
    REQUIRE(s.remove_kyber_pre_key(KyberPreKeyId{1}));
    REQUIRE(s.remove_kyber_pre_key(KyberPreKeyId{1}));  // absent: not an error
    CHECK_FALSE(*s.load_kyber_pre_key(KyberPreKeyId{1}));
    CHECK(to_uint(*s.next_kyber_pre_key_id()) == 8);

    // The uses go with their key.
    REQUIRE(s.remove_kyber_pre_key(KyberPreKeyId{7}));
    CHECK_FALSE(*s.has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    CHECK(s.kyber_pre_key_ids()->empty());

    // And they survive a reopen (SqliteStore) or a snapshot round trip (in-memory).
    REQUIRE(s.store_kyber_pre_key(last));
    REQUIRE(s.record_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    const Bytes snap = p.snapshot();
    p.reopen();
    CHECK(*p.store->has_last_resort_use(KyberPreKeyId{7}, SignedPreKeyId{1}, base));
    CHECK(to_uint(*p.store->next_kyber_pre_key_id()) == 8);
    CHECK(p.snapshot() == snap);
  }
}

TEST_CASE("SqliteStore and the in-memory store export the same Kyber prekeys",
          "[integration][store][kyber]") {
  auto a = Party::create("owner", 605, 0, StoreKind::kInMemory);
  auto b = Party::create("owner", 605, 0, StoreKind::kSqlite);
  for (Party* p : {&a, &b}) {
    REQUIRE(p->store->store_kyber_pre_key(kyber_key(*p, 3)));
    REQUIRE(p->store->store_kyber_pre_key(kyber_key(*p, 4, true)));
    REQUIRE(p->store->record_last_resort_use(KyberPreKeyId{4}, SignedPreKeyId{1},
                                             PublicKey::from_u({1, 2, 3})));
  }
  CHECK(a.snapshot() == b.snapshot());
}

TEST_CASE("store snapshots refuse Kyber prekeys they cannot hold", "[integration][store][kyber]") {
  auto p = Party::create("owner", 606, 0, StoreKind::kInMemory);
  REQUIRE(p.store->store_kyber_pre_key(kyber_key(p, 3)));
  const Bytes snap = p.snapshot();
  REQUIRE(InMemoryProtocolStore::deserialize(snap));
  auto with = [&](const std::function<void(storage::StoreSnapshot&)>& f) {
    storage::StoreSnapshot s;
    REQUIRE(s.ParseFromArray(snap.data(), static_cast<int>(snap.size())));
    f(s);
    const std::string out = s.SerializeAsString();
    auto r = InMemoryProtocolStore::deserialize(as_bytes(out));
    return r ? Errc{} : r.error().code();
  };
  // Older formats have none.
  CHECK(with([](auto& s) { s.set_format(4); }) == Errc::kCorruptState);
  // A key twice, a broken record, a mark below the highest id, a malformed use.
  CHECK(with([](auto& s) { s.add_kyber_pre_keys(s.kyber_pre_keys(0)); }) == Errc::kCorruptState);
  CHECK(with([](auto& s) { s.mutable_kyber_pre_keys(0)->resize(100); }) == Errc::kCorruptState);
  CHECK(with([](auto& s) { s.set_next_kyber_pre_key_id(3); }) == Errc::kCorruptState);
  CHECK(with([](auto& s) { s.set_next_kyber_pre_key_id(0); }) == Errc::kCorruptState);
  CHECK(with([](auto& s) {
          auto* u = s.add_kyber_last_resort_uses();
          u->set_kyber_pre_key_id(3);
          u->set_signed_pre_key_id(1);
          u->set_base_key(std::string(31, 'k'));
        }) == Errc::kCorruptState);
}

TEST_CASE("bundles carry a signed Kyber prekey", "[integration][kyber][bundle]") {
  auto p = Party::create("owner", 607, 2, StoreKind::kInMemory);
  REQUIRE(p.store->store_kyber_pre_key(kyber_key(p, 9, true)));
  auto bundle =
      make_bundle(*p.store, DeviceId{1}, p.signed_pre_key_id, PreKeyId{1}, KyberPreKeyId{9});
  REQUIRE(bundle);
  REQUIRE(bundle->kyber_pre_key);
  CHECK(bundle->kyber_pre_key_id == KyberPreKeyId{9});
  CHECK(bundle->validate());
  CHECK(make_bundle(*p.store, DeviceId{1}, p.signed_pre_key_id, PreKeyId{1}, KyberPreKeyId{8})
            .error()
            .code() == Errc::kInvalidKeyId);

  // hush's bundle format keeps the three fields; without them it is an X3DH bundle as before.
  const Bytes wire = bundle->serialize();
  CHECK(wire.size() <= kMaxBundleBytes);
  auto back = PreKeyBundle::parse(wire);
  REQUIRE(back);
  CHECK(*back == *bundle);
  auto v3 = make_bundle(*p.store, DeviceId{1}, p.signed_pre_key_id, PreKeyId{1});
  REQUIRE(v3);
  CHECK_FALSE(v3->kyber_pre_key);
  auto v3_back = PreKeyBundle::parse(v3->serialize());
  REQUIRE(v3_back);
  CHECK(*v3_back == *v3);

  // The Kyber signature covers all 1569 bytes under the bundle's identity.
  PreKeyBundle wrong_sig = *bundle;
  wrong_sig.kyber_pre_key_signature = bundle->signed_pre_key_signature;
  CHECK(wrong_sig.validate().error().code() == Errc::kInvalidSignature);
  PreKeyBundle other_key = *bundle;
  other_key.kyber_pre_key = kyber_key(p, 10).public_key;
  CHECK(other_key.validate().error().code() == Errc::kInvalidSignature);
  PreKeyBundle partial = *bundle;
  partial.kyber_pre_key_signature.reset();
  CHECK(partial.validate().error().code() == Errc::kInvalidArgument);
  partial = *bundle;
  partial.kyber_pre_key_id.reset();
  CHECK(partial.validate().error().code() == Errc::kInvalidArgument);

  // Parsing: a Kyber key of the wrong type or length, an incomplete Kyber prekey, a short
  // signature.
  auto mutate = [&](const std::function<void(envelope::PreKeyBundle&)>& f) {
    envelope::PreKeyBundle pb;
    REQUIRE(pb.ParseFromArray(wire.data(), static_cast<int>(wire.size())));
    f(pb);
    const std::string out = pb.SerializeAsString();
    auto r = PreKeyBundle::parse(as_bytes(out));
    return r ? Errc{} : r.error().code();
  };
  CHECK(mutate([](auto& b) { (*b.mutable_kyber_pre_key()->mutable_key())[0] = 0x0A; }) ==
        Errc::kInvalidKemKey);
  CHECK(mutate([](auto& b) { b.mutable_kyber_pre_key()->mutable_key()->resize(1568); }) ==
        Errc::kInvalidKemKey);
  CHECK(mutate([](auto& b) { b.mutable_kyber_pre_key()->clear_signature(); }) ==
        Errc::kInvalidMessage);
  CHECK(mutate([](auto& b) { b.mutable_kyber_pre_key()->clear_id(); }) == Errc::kInvalidMessage);
  CHECK(mutate([](auto& b) { b.mutable_kyber_pre_key()->mutable_signature()->resize(63); }) ==
        Errc::kInvalidSignature);
}

// hush unit tests: PQXDH (signal-v4-wire.md §2.3): both sides derive the same root key, chain key
// and SPQR seed, with and without a one-time prekey; the KDF is the one the spec writes down; the
// responder's checks (KEM ciphertext type and length, canonical base key) give typed errors.
#include <catch2/catch.hpp>

#include "crypto/kdf.h"
#include "crypto/mlkem.h"
#include "protocol/pqxdh.h"
#include "support/test_support.h"

using namespace hush;
using namespace hush::internal;

namespace {

Bytes bytes_of(ByteView v) {
  return Bytes(v.begin(), v.end());
}

bool same(const SecretArray<32>& a, const SecretArray<32>& b) {
  return constant_time_equals(a.expose(), b.expose());
}

struct Keys {
  test::SeededRandom random{4242};
  KeyPair alice_identity = *KeyPair::generate(random);
  KeyPair alice_base = *KeyPair::generate(random);
  KeyPair bob_identity = *KeyPair::generate(random);
  KeyPair bob_spk = *KeyPair::generate(random);
  KeyPair bob_opk = *KeyPair::generate(random);
  crypto::MlKemKeyPair kyber = *crypto::kyber1024_generate(random);
  Bytes kyber_public = crypto::kyber1024_serialize_public_key(kyber.encapsulation_key);
  SecretBytes kyber_secret =
      crypto::kyber1024_serialize_secret_key(kyber.decapsulation_key.expose());
};

}  // namespace

TEST_CASE("PQXDH initiator and responder derive the same keys", "[unit][pqxdh]") {
  Keys k;
  crypto::HmacSha256 hmac;
  for (const bool with_opk : {false, true}) {
    INFO("one-time prekey: " << with_opk);
    const std::optional<PublicKey> opk_pub =
        with_opk ? std::optional<PublicKey>(k.bob_opk.public_key) : std::nullopt;
    const std::optional<KeyPair> opk =
        with_opk ? std::optional<KeyPair>(k.bob_opk.clone()) : std::nullopt;
    const AliceParameters alice{k.alice_identity, k.alice_base, k.bob_identity.public_key,
                                k.bob_spk.public_key, opk_pub};
    auto ratchet = KeyPair::generate(k.random);
    REQUIRE(ratchet);
    auto a = initialize_alice_pqxdh(hmac, k.random, alice, k.kyber_public, std::move(*ratchet));
    REQUIRE(a);
    CHECK(a->state.version == 4);
    REQUIRE(a->kyber_ciphertext.size() == crypto::kKyber1024CiphertextSize);
    CHECK(a->kyber_ciphertext[0] == crypto::kKyber1024Type);

    const BobParameters bob{k.bob_identity, k.bob_spk, opk, k.alice_identity.public_key,
                            k.alice_base.public_key};
    auto b = initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(), a->kyber_ciphertext);
    REQUIRE(b);
    CHECK(b->state.version == 4);
    CHECK(same(b->spqr_seed, a->spqr_seed));
    // Alice's receiving chain on SPK_B is Bob's sending chain (CK0).
    REQUIRE(a->state.receiver_chains.size() == 1);
    CHECK(a->state.receiver_chains[0].ratchet_key == b->state.sender_chain.ratchet_public);
    CHECK(same(a->state.receiver_chains[0].chain_key.key, b->state.sender_chain.chain_key.key));
    CHECK(b->state.alice_base_key == k.alice_base.public_key);

    // The KDF is the spec's: HKDF(0xFF*32 || DH1..DH3[4] || KEM_ss, salt 0, the PQXDH label, 96).
    auto ct = crypto::kyber1024_parse_ciphertext(a->kyber_ciphertext);
    REQUIRE(ct);
    auto ss = crypto::kyber1024_decapsulate(k.kyber.decapsulation_key.expose(), *ct);
    REQUIRE(ss);
    MasterSecret secret;
    REQUIRE(x3dh_responder_dh(secret, bob));
    secret.add_bytes(ss->expose());
    CHECK(secret.view().size() == (with_opk ? 32u * 6 : 32u * 5));
    SecretArray<96> okm;
    crypto::hkdf_sha256(hmac, secret.view(), {},
                        as_bytes("WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024"),
                        okm.expose_mut());
    CHECK(bytes_of(okm.expose().subspan(32, 32)) ==
          bytes_of(b->state.sender_chain.chain_key.key.expose()));
    CHECK(bytes_of(okm.expose().subspan(64, 32)) == bytes_of(b->spqr_seed.expose()));
    // ... and not X3DH's: the same DHs under "WhisperText" give another chain.
    auto x3dh = x3dh_responder(hmac, bob);
    REQUIRE(x3dh);
    CHECK_FALSE(same(x3dh->chain_key.key, b->state.sender_chain.chain_key.key));
  }
}

TEST_CASE("PQXDH refuses KEM inputs of the wrong type or length", "[unit][pqxdh]") {
  Keys k;
  crypto::HmacSha256 hmac;
  const std::optional<PublicKey> no_opk_pub;
  const std::optional<KeyPair> no_opk;
  const AliceParameters alice{k.alice_identity, k.alice_base, k.bob_identity.public_key,
                              k.bob_spk.public_key, no_opk_pub};
  auto ratchet = [&] { return *KeyPair::generate(k.random); };
  Bytes bad_key = k.kyber_public;
  bad_key[0] = 0x0A;  // ML-KEM-1024's type: libsignal 0.103 refuses it too
  CHECK(initialize_alice_pqxdh(hmac, k.random, alice, bad_key, ratchet()).error().code() ==
        Errc::kInvalidKemKey);
  CHECK(
      initialize_alice_pqxdh(hmac, k.random, alice, ByteView(k.kyber_public).first(1568), ratchet())
          .error()
          .code() == Errc::kInvalidKemKey);

  auto a = initialize_alice_pqxdh(hmac, k.random, alice, k.kyber_public, ratchet());
  REQUIRE(a);
  const BobParameters bob{k.bob_identity, k.bob_spk, no_opk, k.alice_identity.public_key,
                          k.alice_base.public_key};
  Bytes ct = a->kyber_ciphertext;
  ct[0] = 0x07;
  CHECK(initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(), ct).error().code() ==
        Errc::kInvalidKemCiphertext);
  CHECK(initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(),
                             ByteView(a->kyber_ciphertext).first(1568))
            .error()
            .code() == Errc::kInvalidKemCiphertext);
  CHECK(initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(), {}).error().code() ==
        Errc::kInvalidKemCiphertext);
  // A well-formed but altered ciphertext is not refused here: implicit rejection gives other
  // keys, and the first message's MAC fails.
  ct = a->kyber_ciphertext;
  ct[100] ^= 1;
  auto b = initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(), ct);
  REQUIRE(b);
  CHECK_FALSE(same(b->spqr_seed, a->spqr_seed));
}

TEST_CASE("the PQXDH responder refuses a non-canonical base key", "[unit][pqxdh]") {
  Keys k;
  crypto::HmacSha256 hmac;
  const std::optional<KeyPair> no_opk;
  auto with_base = [&](const std::array<std::uint8_t, 32>& u) {
    const PublicKey base = PublicKey::from_u(u);
    const BobParameters bob{k.bob_identity, k.bob_spk, no_opk, k.alice_identity.public_key, base};
    Bytes ct(crypto::kKyber1024CiphertextSize, 0);
    ct[0] = crypto::kKyber1024Type;
    auto r = initialize_bob_pqxdh(hmac, bob, k.kyber_secret.expose(), ct);
    return r ? Errc{} : r.error().code();
  };
  // A real key passes (the error, if any, is not about the base key).
  CHECK(with_base(k.alice_base.public_key.u()) == Errc{});
  // u >= p: the same point as u - p, but not its canonical encoding.
  std::array<std::uint8_t, 32> big{};
  big.fill(0xFF);
  big[31] = 0x7F;
  CHECK(with_base(big) == Errc::kInvalidKey);
  // The top bit set (X25519 would ignore it).
  std::array<std::uint8_t, 32> top = k.alice_base.public_key.u();
  top[31] |= 0x80;
  CHECK(with_base(top) == Errc::kInvalidKey);
  // Small-order points: u = 0 and u = 1.
  CHECK(with_base({0}) == Errc::kInvalidKey);
  CHECK(with_base({1}) == Errc::kInvalidKey);
  // A point of order 8 (from the well-known list of X25519's small-order u's).
  const std::array<std::uint8_t, 32> order8 = {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae,
                                               0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
                                               0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
                                               0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};
  CHECK(with_base(order8) == Errc::kInvalidKey);
}

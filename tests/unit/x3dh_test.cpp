// hush unit tests: X3DH and the first ratchet step against Signal's known-answer vector
// (libsignal-protocol-c tests/test_ratchet.c, wire spec §13), plus its structural properties.
#include <catch2/catch.hpp>

#include "crypto/kdf.h"
#include "protocol/x3dh.h"
#include "support/test_support.h"

using namespace hush;
using namespace hush::internal;

namespace {
Bytes hex(std::string_view h) {
  auto b = from_hex(h);
  REQUIRE(b);
  return *b;
}
KeyPair pair_from_private(std::string_view h) {
  auto priv = PrivateKey::parse(hex(h));
  REQUIRE(priv);
  return KeyPair::from_private(std::move(*priv));
}
PublicKey pub(std::string_view h) {
  auto k = PublicKey::parse(hex(h));
  REQUIRE(k);
  return *k;
}
}  // namespace

TEST_CASE("X3DH without a one-time prekey matches Signal's vector", "[unit][vectors]") {
  // libsignal-protocol-c tests/test_ratchet.c, test_ratcheting_session_as_bob (wire spec §13).
  const KeyPair bob_identity =
      pair_from_private("4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e");
  const KeyPair bob_spk =
      pair_from_private("583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253");
  CHECK(bob_identity.public_key ==
        pub("05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626"));
  CHECK(bob_spk.public_key ==
        pub("05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67"));
  const PublicKey alice_identity =
      pub("05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a");
  const PublicKey alice_base =
      pub("05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950");
  const Bytes ck0 = hex("9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d");

  crypto::HmacSha256 hmac;
  const std::optional<KeyPair> no_opk;
  const BobParameters bob{bob_identity, bob_spk, no_opk, alice_identity, alice_base};
  auto bob_keys = x3dh_responder(hmac, bob);
  REQUIRE(bob_keys);
  CHECK(Bytes(bob_keys->chain_key.key.expose().begin(), bob_keys->chain_key.key.expose().end()) ==
        ck0);
  // CK0 is Bob's initial sending chain, on his signed prekey (wire spec §3).
  auto bob_state = initialize_bob_session(hmac, bob);
  REQUIRE(bob_state);
  CHECK(Bytes(bob_state->sender_chain.chain_key.key.expose().begin(),
              bob_state->sender_chain.chain_key.key.expose().end()) == ck0);
  CHECK(bob_state->sender_chain.ratchet_public == bob_spk.public_key);
  CHECK(bob_state->alice_base_key == alice_base);

  // The vector's Alice half (test_ratcheting_session_as_alice) cannot apply to hush: its base
  // private key 11ae7c64... is not clamped, and libsignal's curve25519_donna does not clamp, so
  // its public key 05472d1f... is u(k*B) for the unclamped k. hush clamps every private key (as
  // libsignal does when it generates one), which gives another public key:
  auto base_priv =
      PrivateKey::parse(hex("11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449"));
  REQUIRE(base_priv);
  CHECK_FALSE(base_priv->public_key() == alice_base);
  // Alice's side is checked against Bob's instead, with keys that are clamped.
  test::SeededRandom random(7);
  const KeyPair alice_identity_pair =
      pair_from_private("9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58");
  CHECK(alice_identity_pair.public_key == alice_identity);
  const KeyPair alice_base_pair = *KeyPair::generate(random);
  const std::optional<PublicKey> no_opk_pub;
  const AliceParameters alice{alice_identity_pair, alice_base_pair, bob_identity.public_key,
                              bob_spk.public_key, no_opk_pub};
  auto alice_keys = x3dh_initiator(hmac, alice);
  auto bob_keys2 = x3dh_responder(hmac, BobParameters{bob_identity, bob_spk, no_opk, alice_identity,
                                                      alice_base_pair.public_key});
  REQUIRE(alice_keys);
  REQUIRE(bob_keys2);
  CHECK(constant_time_equals(alice_keys->root_key.expose(), bob_keys2->root_key.expose()));
  CHECK(
      constant_time_equals(alice_keys->chain_key.key.expose(), bob_keys2->chain_key.key.expose()));
  auto alice_state = initialize_alice_session(hmac, alice, *KeyPair::generate(random));
  REQUIRE(alice_state);
  REQUIRE(alice_state->receiver_chains.size() == 1);
  CHECK(alice_state->receiver_chains[0].ratchet_key == bob_spk.public_key);
  CHECK(constant_time_equals(alice_state->receiver_chains[0].chain_key.key.expose(),
                             bob_keys2->chain_key.key.expose()));
}

TEST_CASE("X3DH with a one-time prekey agrees and differs from without", "[unit]") {
  test::SeededRandom random(11);
  const KeyPair bi = *KeyPair::generate(random), spk = *KeyPair::generate(random);
  const KeyPair ai = *KeyPair::generate(random), base = *KeyPair::generate(random);
  const std::optional<KeyPair> opk = *KeyPair::generate(random);
  const std::optional<PublicKey> opk_pub = opk->public_key;
  crypto::HmacSha256 hmac;
  auto bob = x3dh_responder(hmac, BobParameters{bi, spk, opk, ai.public_key, base.public_key});
  auto alice =
      x3dh_initiator(hmac, AliceParameters{ai, base, bi.public_key, spk.public_key, opk_pub});
  REQUIRE(bob);
  REQUIRE(alice);
  CHECK(constant_time_equals(alice->root_key.expose(), bob->root_key.expose()));
  const std::optional<PublicKey> none;
  auto without =
      x3dh_initiator(hmac, AliceParameters{ai, base, bi.public_key, spk.public_key, none});
  REQUIRE(without);
  CHECK_FALSE(constant_time_equals(alice->root_key.expose(), without->root_key.expose()));
}

TEST_CASE("X3DH refuses low-order keys", "[unit]") {
  test::SeededRandom random(12);
  const KeyPair bi = *KeyPair::generate(random), spk = *KeyPair::generate(random);
  const KeyPair ai = *KeyPair::generate(random);
  const PublicKey zero = PublicKey::from_u({});
  std::array<std::uint8_t, 32> one{};
  one[0] = 1;
  const std::optional<KeyPair> none;
  crypto::HmacSha256 hmac;
  for (const PublicKey& bad : {zero, PublicKey::from_u(one)}) {
    auto r = x3dh_responder(hmac, BobParameters{bi, spk, none, ai.public_key, bad});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::kInvalidKey);
  }
}

// hush internal: PQXDH (see pqxdh.h; signal-v4-wire.md §2.3).
#include "protocol/pqxdh.h"

#include "crypto/kdf.h"
#include "crypto/mlkem.h"
#include "crypto/x25519.h"

namespace hush::internal {

PqxdhKeys derive_pqxdh_keys(crypto::HmacSha256& hmac, ByteView secret) {
  SecretArray<96> okm;
  crypto::hkdf_sha256(hmac, secret, {}, as_bytes(kPqxdhInfo), okm.expose_mut());
  PqxdhKeys k;
  SecretArray<32>::from(okm.expose().first(32), k.initial.root_key);
  SecretArray<32>::from(okm.expose().subspan(32, 32), k.initial.chain_key.key);
  k.initial.chain_key.index = 0;
  SecretArray<32>::from(okm.expose().subspan(64, 32), k.spqr_seed);
  return k;
}

Result<PqxdhAlice> initialize_alice_pqxdh(crypto::HmacSha256& hmac, RandomSource& random,
                                          const AliceParameters& p, ByteView their_kyber_pre_key,
                                          KeyPair sending_ratchet) {
  auto ek = crypto::kyber1024_parse_public_key(their_kyber_pre_key);
  if (!ek) return Error(Errc::kInvalidKemKey, "PQXDH: Kyber prekey of the wrong type or length");
  auto kem =
      crypto::kyber1024_encapsulate(random, *ek);  // ek checked and hashed once, by the parse
  if (!kem) return kem.error();
  MasterSecret secret;
  if (auto st = x3dh_initiator_dh(secret, p); !st) return st.error();
  secret.add_bytes(kem->shared_secret.expose());
  PqxdhKeys keys = derive_pqxdh_keys(hmac, secret.view());
  auto state = alice_state_from(hmac, std::move(keys.initial), p, std::move(sending_ratchet), 4);
  if (!state) return state.error();
  return PqxdhAlice{std::move(*state), std::move(keys.spqr_seed),
                    crypto::kyber1024_serialize_ciphertext(kem->ciphertext)};
}

Result<PqxdhBob> initialize_bob_pqxdh(crypto::HmacSha256& hmac, const BobParameters& p,
                                      ByteView our_kyber_secret_key, ByteView kyber_ciphertext) {
  if (!crypto::x25519_is_canonical_torsion_free(p.their_base_key.u()))
    return Error(Errc::kInvalidKey, "PQXDH: base key not canonical or not torsion-free");
  auto ct = crypto::kyber1024_parse_ciphertext(kyber_ciphertext);
  if (!ct)
    return Error(Errc::kInvalidKemCiphertext,
                 "PQXDH: Kyber ciphertext of the wrong type or length");
  auto dk = crypto::kyber1024_parse_secret_key(our_kyber_secret_key);
  if (!dk) return Error(Errc::kCorruptState, "PQXDH: stored Kyber secret key");
  auto ss = crypto::kyber1024_decapsulate(*dk, *ct);  // dk checked once, by the parse
  if (!ss) return ss.error();
  MasterSecret secret;
  if (auto st = x3dh_responder_dh(secret, p); !st) return st.error();
  secret.add_bytes(ss->expose());
  PqxdhKeys keys = derive_pqxdh_keys(hmac, secret.view());
  return PqxdhBob{bob_state_from(std::move(keys.initial), p, 4), std::move(keys.spqr_seed)};
}

}  // namespace hush::internal

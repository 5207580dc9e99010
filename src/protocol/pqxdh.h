// hush internal: PQXDH as libsignal 0.103 runs it (signal-v4-wire.md §2), as pure functions that
// build the initial session states of protocol version 4. No stores, no trust checks (session.cpp
// does those).
//
//   secret = 0xFF*32 || DH(IK_A, SPK_B) || DH(EK_A, IK_B) || DH(EK_A, SPK_B) [|| DH(EK_A, OPK_B)]
//            || KEM_ss                         (Kyber1024 to the signed Kyber prekey, 32 bytes)
//   RK0 | CK0 | SPQR seed = HKDF(secret, salt = 0^32,
//                                info = "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024", 96)
// After the KDF everything is as in X3DH (x3dh.h): Alice ratchets once against SPK_B, Bob starts
// with (SPK_B, CK0). The SPQR seed keys the SPQR state (src/pq/spqr.h) of both sides.
#pragma once

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/crypto.h"
#include "protocol/ratchet/session_state.h"
#include "protocol/x3dh.h"

namespace hush::internal {

/// The KDF label (the same for the 0x08 key type; there is no ML-KEM label).
inline constexpr std::string_view kPqxdhInfo = "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024";

/// The 96 bytes of PQXDH's KDF.
struct PqxdhKeys {
  RootStep initial;           ///< RK0 and CK0
  SecretArray<32> spqr_seed;  ///< the SPQR "auth key"
};

/// The KDF over a complete master secret (DHs and KEM secret already appended).
PqxdhKeys derive_pqxdh_keys(crypto::HmacSha256& hmac, ByteView secret);

/// What the initiator gets: its first state (version 4), the SPQR seed, and the Kyber ciphertext
/// to send in every PreKeySignalMessage (typed: 0x08 || c, 1569 bytes).
struct PqxdhAlice {
  SessionState state;
  SecretArray<32> spqr_seed;
  Bytes kyber_ciphertext;
};

/// PQXDH as initiator against `their_kyber_pre_key` (typed, 1569 bytes: kInvalidKemKey otherwise).
/// kInvalidKey if a DH meets a low-order key.
Result<PqxdhAlice> initialize_alice_pqxdh(crypto::HmacSha256& hmac, RandomSource& random,
                                          const AliceParameters& p, ByteView their_kyber_pre_key,
                                          KeyPair sending_ratchet);

/// What the responder gets: its first state (version 4) and the SPQR seed.
struct PqxdhBob {
  SessionState state;
  SecretArray<32> spqr_seed;
};

/// PQXDH as responder with our Kyber secret key (typed, 3169 bytes: kCorruptState otherwise, it
/// comes from our store) and the message's Kyber ciphertext (typed, 1569 bytes:
/// kInvalidKemCiphertext otherwise). The base key must be canonical and torsion-free (kInvalidKey
/// otherwise, libsignal's check); kInvalidKey also for a low-order DH. A well-formed ciphertext
/// never fails here (implicit rejection: a wrong one gives other keys, and the MAC then fails).
Result<PqxdhBob> initialize_bob_pqxdh(crypto::HmacSha256& hmac, const BobParameters& p,
                                      ByteView our_kyber_secret_key, ByteView kyber_ciphertext);

}  // namespace hush::internal

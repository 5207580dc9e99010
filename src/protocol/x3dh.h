// hush internal: X3DH as Signal v3 runs it (wire spec §3), as pure functions that build the
// initial session states. No stores, no trust checks (session.cpp does those).
//
//   secret = 0xFF*32 || DH(IK_A, SPK_B) || DH(EK_A, IK_B) || DH(EK_A, SPK_B) [|| DH(EK_A, OPK_B)]
//   RK0 | CK0 = HKDF(secret, salt = 0^32, info = "WhisperText", 64)
// Alice (initiator) then ratchets once with a fresh sending key against SPK_B; Bob (responder)
// starts with root RK0 and sending chain (SPK_B, CK0).
#pragma once

#include <optional>

#include <hush/keys.h>
#include <hush/result.h>

#include "crypto/crypto.h"
#include "protocol/ratchet/session_state.h"

namespace hush::internal {

/// What the initiator knows.
struct AliceParameters {
  const IdentityKeyPair& our_identity;
  const KeyPair& our_base_key;
  const IdentityKey& their_identity;
  const PublicKey& their_signed_pre_key;
  const std::optional<PublicKey>& their_one_time_pre_key;
};

/// What the responder knows.
struct BobParameters {
  const IdentityKeyPair& our_identity;
  const KeyPair& our_signed_pre_key;
  const std::optional<KeyPair>& our_one_time_pre_key;
  const IdentityKey& their_identity;
  const PublicKey& their_base_key;
};

/// RK0 | CK0 for the initiator. kInvalidKey if any DH meets a low-order key.
Result<RootStep> x3dh_initiator(crypto::HmacSha256& hmac, const AliceParameters& p);
/// RK0 | CK0 for the responder. kInvalidKey if any DH meets a low-order key.
Result<RootStep> x3dh_responder(crypto::HmacSha256& hmac, const BobParameters& p);

/// The initiator's first state: receiving chain (SPK_B, CK0), then one root step with
/// `sending_ratchet` against SPK_B. Registration ids and the pending prekey are set by the caller.
Result<SessionState> initialize_alice_session(crypto::HmacSha256& hmac, const AliceParameters& p,
                                              KeyPair sending_ratchet);
/// The responder's first state: root RK0, sending chain (SPK_B, CK0); alice_base_key set.
Result<SessionState> initialize_bob_session(crypto::HmacSha256& hmac, const BobParameters& p);

}  // namespace hush::internal

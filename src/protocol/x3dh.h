// hush internal: X3DH as Signal v3 runs it (wire spec §3), as pure functions that build the
// initial session states. No stores, no trust checks (session.cpp does those).
//
//   secret = 0xFF*32 || DH(IK_A, SPK_B) || DH(EK_A, IK_B) || DH(EK_A, SPK_B) [|| DH(EK_A, OPK_B)]
//   RK0 | CK0 = HKDF(secret, salt = 0^32, info = "WhisperText", 64)
// Alice (initiator) then ratchets once with a fresh sending key against SPK_B; Bob (responder)
// starts with root RK0 and sending chain (SPK_B, CK0).
#pragma once

#include <algorithm>
#include <optional>
#include <span>

#include <hush/keys.h>
#include <hush/result.h>

#include "crypto/crypto.h"
#include "protocol/ratchet/session_state.h"

namespace hush::internal {

/// The master secret: 32 bytes of 0xFF ("discontinuity bytes"), then three or four DH outputs,
/// and for PQXDH the KEM shared secret (at most 6 x 32 bytes). Wiped on destruction.
class MasterSecret {
 public:
  MasterSecret() { std::fill_n(bytes_.expose_mut().begin(), 32, std::uint8_t{0xFF}); }
  /// Appends DH(ours, theirs); kInvalidKey for a low-order `theirs`.
  Status add(const PrivateKey& ours, const PublicKey& theirs);
  /// Appends 32 secret bytes (the KEM shared secret).
  void add_bytes(std::span<const std::uint8_t, 32> bytes);
  /// The secret so far.
  ByteView view() const { return bytes_.expose().first(len_); }

 private:
  SecretArray<32 * 6> bytes_;
  std::size_t len_ = 32;
};

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

/// Appends the initiator's three or four DH outputs to `secret` (X3DH and PQXDH alike).
Status x3dh_initiator_dh(MasterSecret& secret, const AliceParameters& p);
/// Appends the responder's three or four DH outputs to `secret`.
Status x3dh_responder_dh(MasterSecret& secret, const BobParameters& p);

/// RK0 | CK0 for the initiator. kInvalidKey if any DH meets a low-order key.
Result<RootStep> x3dh_initiator(crypto::HmacSha256& hmac, const AliceParameters& p);
/// RK0 | CK0 for the responder. kInvalidKey if any DH meets a low-order key.
Result<RootStep> x3dh_responder(crypto::HmacSha256& hmac, const BobParameters& p);

/// The initiator's first state of session version `version` from the initial keys: receiving
/// chain (SPK_B, CK0), then one root step with `sending_ratchet` against SPK_B.
Result<SessionState> alice_state_from(crypto::HmacSha256& hmac, RootStep initial,
                                      const AliceParameters& p, KeyPair sending_ratchet,
                                      std::uint32_t version);
/// The responder's first state of session version `version`: root RK0, sending chain (SPK_B,
/// CK0); alice_base_key set.
SessionState bob_state_from(RootStep initial, const BobParameters& p, std::uint32_t version);

/// The initiator's first state: receiving chain (SPK_B, CK0), then one root step with
/// `sending_ratchet` against SPK_B. Registration ids and the pending prekey are set by the caller.
Result<SessionState> initialize_alice_session(crypto::HmacSha256& hmac, const AliceParameters& p,
                                              KeyPair sending_ratchet);
/// The responder's first state: root RK0, sending chain (SPK_B, CK0); alice_base_key set.
Result<SessionState> initialize_bob_session(crypto::HmacSha256& hmac, const BobParameters& p);

}  // namespace hush::internal

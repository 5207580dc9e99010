// hush internal: the Double Ratchet on one SessionState (wire spec §4), as libsignal-protocol-c
// runs it: the sender never ratchets on its own; a receiver meeting a new ratchet key does a full
// DH step (new receiving chain, new sending key pair); old receiving chains are kept (at most
// kMaxReceiverChains) and late messages are derived on them lazily; skipped keys are bounded.
//
// Decryption is split in two: `plan_decrypt` computes everything (new chain, keys, MAC check,
// plaintext) without touching the state, and `apply` then changes the state. A message that fails
// therefore never changes a state, and the session layer need not copy states to try them.
//
// Pure: no stores, no trust decisions, no logging.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <hush/messages.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/crypto.h"
#include "protocol/ratchet/session_state.h"

namespace hush::internal {

/// Encrypts `plaintext` with the sending chain of `state` and advances the chain. Returns the
/// SignalMessage (the session layer wraps it while a prekey is unacknowledged).
/// kLimitExceeded if the chain counter is exhausted.
Result<SignalMessage> ratchet_encrypt(crypto::Crypto& crypto, SessionState& state,
                                      ByteView plaintext);

/// A successful decryption, not yet applied to its state.
struct DecryptPlan {
  enum class Kind : std::uint8_t { kSkippedKey, kExistingChain, kNewChain };
  Kind kind = Kind::kExistingChain;
  SecretBytes plaintext;
  std::uint32_t counter = 0;
  PublicKey their_ratchet_key;
  /// kExistingChain / kNewChain: the chain key after this message, and the keys skipped over.
  ChainKey next_chain_key;
  SkippedKeys new_skipped;
  /// kNewChain: the new root key and sending chain.
  SecretArray<32> new_root_key;
  std::optional<SenderChain> new_sender_chain;
};

/// Decrypts `message` with `state` without changing it. Errors: kInvalidMessage (version, MAC,
/// padding), kDuplicateMessage (counter behind the chain with no skipped key), kTooFarInFuture
/// (more than kMaxForwardJump ahead), kInvalidKey (low-order ratchet key), kCryptoFailure.
Result<DecryptPlan> plan_decrypt(crypto::Crypto& crypto, RandomSource& random,
                                 const SessionState& state, const SignalMessage& message);

/// Applies a plan made by plan_decrypt for this same, unchanged state. Also acknowledges a pending
/// prekey (any decrypted message proves the peer has the session). Returns the plaintext.
SecretBytes apply(SessionState& state, DecryptPlan plan);

}  // namespace hush::internal

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

#include <array>
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

/// Encrypts `plaintext` with the sending chain of `state` and advances the chain (and, in version
/// 4, the SPQR state, whose key salts the message keys; `addresses` is then sent as field 6 if
/// given). Returns the SignalMessage (the session layer wraps it while a prekey is
/// unacknowledged). kLimitExceeded if the chain counter is exhausted; SPQR's errors.
Result<SignalMessage> ratchet_encrypt(crypto::Crypto& crypto, RandomSource& random,
                                      SessionState& state, ByteView plaintext,
                                      std::optional<ByteView> addresses = std::nullopt);

/// The forward jump a state of `version` allows (kMaxForwardJump, kMaxForwardJumpV4).
std::uint32_t max_forward_jump(std::uint32_t version);

/// What a version-4 message's `addresses` field must say (signal-v4-wire.md §3.4): the sender's
/// half (18 bytes, ServiceId and device), nullopt when the remote name is not a ServiceId (then a
/// message with addresses is refused); the recipient's half, nullopt when our own address is not
/// known or not a ServiceId (then only the sender's half is checked).
struct AddressCheck {
  std::optional<std::array<std::uint8_t, 18>> sender;
  std::optional<std::array<std::uint8_t, 18>> recipient;
};

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
  /// Version 4: the SPQR state after this message.
  SecretBytes new_spqr;
};

/// Decrypts `message` with `state` without changing it. Errors: kInvalidMessage (version, MAC,
/// addresses, padding, a missing or malformed SPQR message, an SPQR key already taken, SPQR's
/// chain steps beyond `*spqr_steps_left`), kDuplicateMessage (counter behind the chain with no
/// skipped key), kTooFarInFuture (more than the version's forward jump ahead, on either chain),
/// kInvalidKey (low-order ratchet key), kCryptoFailure, kCorruptState (the SPQR state).
/// SPQR runs before the MAC, so none of its verdicts on the message says the message is this
/// state's: an SPQR key already taken is kInvalidMessage ("not this state's message", the session
/// layer tries the next state), not kDuplicateMessage (which ends the trial decryption).
/// `spqr_steps_left`, when given, is the trial decryption's budget of chain steps: SPQR's steps
/// are taken from it (the Double Ratchet's are counted by the caller before the call).
Result<DecryptPlan> plan_decrypt(crypto::Crypto& crypto, RandomSource& random,
                                 const SessionState& state, const SignalMessage& message,
                                 const AddressCheck& check = {},
                                 std::uint64_t* spqr_steps_left = nullptr);

/// Applies a plan made by plan_decrypt for this same, unchanged state. Also acknowledges a pending
/// prekey (any decrypted message proves the peer has the session). Returns the plaintext.
SecretBytes apply(SessionState& state, DecryptPlan plan);

}  // namespace hush::internal

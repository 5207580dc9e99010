// hush internal: the state of sender-key chains (sender_key.h) and the chain step of group
// messages.
//
//   message key seed = HMAC-SHA256(CK_i, 0x01),  CK_{i+1} = HMAC-SHA256(CK_i, 0x02)
//   HKDF(ikm = seed, salt = 0^32, info = "WhisperGroup", L = 48) -> iv[16] | cipherKey[32]
//
// (libsignal-protocol-c's sender_chain_key.c / sender_message_key.c; libsignal's
// sender_keys.rs.) Pure: no stores, no logging.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <hush/keys.h>
#include <hush/sender_key.h>

#include "crypto/crypto.h"
#include "protocol/ratchet/kdf_chains.h"
#include "protocol/ratchet/skipped_keys.h"

namespace hush::internal {

/// One chain of one (sender, group).
struct SenderKeyState {
  std::uint32_t chain_id = 0;
  ChainKey chain;  // index = the iteration of the next message
  PublicKey signing_public;
  std::optional<PrivateKey> signing_private;  // our own chains only
  // The signing key's Edwards form: for our chains A = a*B (sign bit included), for received ones
  // the y of signing_public (sign bit 0; a signature carries it). Derived once, kept.
  std::array<std::uint8_t, 32> signing_edwards{};
  SkippedKeys skipped;  // iterations below chain.index not yet received

  SenderKeyState clone() const {
    SenderKeyState s;
    s.chain_id = chain_id;
    s.chain = chain.clone();
    s.signing_public = signing_public;
    if (signing_private) s.signing_private = signing_private->clone();
    s.signing_edwards = signing_edwards;
    s.skipped = skipped.clone();
    return s;
  }
};

struct SenderKeyRecordData {
  std::vector<SenderKeyState> states;  // newest first, at most kMaxSenderKeyStates
};

struct SenderKeyRecordAccess {
  static SenderKeyRecordData& data(SenderKeyRecord& r) { return *r.d_; }
  static const SenderKeyRecordData& data(const SenderKeyRecord& r) { return *r.d_; }
};

/// A received chain's state for `signing_public`: its Edwards y, or kInvalidKey for the one u
/// without an Edwards form (no signature could ever verify under it).
Status set_received_signing_key(SenderKeyState& state, const PublicKey& signing_public);

/// Our own chain's signing key: the private key, its public key and A.
void set_own_signing_key(SenderKeyState& state, KeyPair pair);

/// The group of a stored (format, name) pair, checked as SenderKeyGroup's constructors check them
/// (kCorruptState otherwise): for the stores, which keep groups by these two fields.
Result<SenderKeyGroup> stored_sender_key_group(std::uint32_t format, std::string_view name);

/// Takes the signing private key out of every chain of ours in `record` (a restored store must
/// never encrypt with a chain it may have used already); true if there was one.
bool retire_own_chains(SenderKeyRecord& record);

/// The key and IV of one group message.
struct SenderMessageKey {
  SecretArray<32> cipher_key;
  SecretArray<16> iv;
  /// HKDF("WhisperGroup") of a message key seed.
  static SenderMessageKey from_seed(crypto::Crypto& c, ByteView seed);
};

}  // namespace hush::internal

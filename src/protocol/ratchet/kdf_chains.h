// hush internal: the Double Ratchet's KDF chains as Signal v3 defines them (wire spec §4.1, §4.2).
//
//   message key seed  = HMAC-SHA256(CK_i, 0x01)
//   CK_{i+1}          = HMAC-SHA256(CK_i, 0x02)
//   message keys      = HKDF(ikm = seed, salt = 0^32 (v4: the SPQR key), info =
//                            "WhisperMessageKeys", L = 80)
//                       -> cipherKey[32] | macKey[32] | iv[16]
//   root step         = HKDF(ikm = DH(ours, theirs), salt = RK, info = "WhisperRatchet", L = 64)
//                       -> RK' | CK'
// One concept per type, as vodozemac does. Pure functions: no stores, no logging.
#pragma once

#include <cstdint>

#include <hush/keys.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/kdf.h"

namespace hush::internal {

/// A chain key and the index of the message key it yields next.
struct ChainKey {
  SecretArray<32> key;
  std::uint32_t index = 0;

  ChainKey clone() const { return ChainKey{key.clone(), index}; }
  /// HMAC(CK, 0x01): the seed of message key `index`.
  SecretArray<32> message_key_seed(crypto::HmacSha256& hmac) const;
  /// HMAC(CK, 0x02) with index + 1.
  ChainKey next(crypto::HmacSha256& hmac) const;
};

/// The keys of one message.
struct MessageKeys {
  SecretArray<32> cipher_key;
  SecretArray<32> mac_key;
  SecretArray<16> iv;

  /// Expands a message key seed (HKDF "WhisperMessageKeys", 80 bytes) with `salt`: 32 zero bytes
  /// when empty (version 3), the message's SPQR key in version 4 (signal-v4-wire.md §3.3).
  static MessageKeys from_seed(crypto::HmacSha256& extract, crypto::HmacSha256& expand,
                               ByteView seed, ByteView salt = {});
};

/// The output of one root-chain step.
struct RootStep {
  SecretArray<32> root_key;
  ChainKey chain_key;  // index 0
};

/// KDF_RK(root_key, DH(ours, theirs)). kInvalidKey if `theirs` is a low-order point.
Result<RootStep> root_step(crypto::HmacSha256& hmac, ByteView root_key,
                           std::span<const std::uint8_t, 32> our_private, const PublicKey& theirs);

/// HKDF(ikm = secret, salt = 0^32, info = "WhisperText", 64) -> RK0 | CK0 (X3DH, wire spec §3).
RootStep derive_initial_keys(crypto::HmacSha256& hmac, ByteView secret);

}  // namespace hush::internal

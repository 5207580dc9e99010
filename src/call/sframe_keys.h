// hush internal: SFrame key and salt derivation from a base key (RFC 9605 §4.4.2).
//
// Not responsible for: where base keys come from (the application) or what is done with the
// derived key (sframe_aead.h).
// Thread-safety: free functions, re-entrant.
#pragma once

#include <cstdint>

#include <hush/bytes.h>
#include <hush/secret.h>
#include <hush/sframe.h>

#include "call/sframe_suite.h"

namespace hush::internal::call {

/// `sframe_key` (Nk bytes) and `sframe_salt` (Nn bytes) for one key id.
struct SframeKeyMaterial {
  SecretBytes key;
  SecretArray<kSframeNonceSize> salt;
};

/// "SFrame 1.0 Secret key " || KID (8 bytes, big-endian) || cipher_suite (2 bytes, big-endian).
Bytes sframe_key_label(SframeCipherSuite suite, std::uint64_t key_id);
/// "SFrame 1.0 Secret salt " || KID || cipher_suite, encoded likewise.
Bytes sframe_salt_label(SframeCipherSuite suite, std::uint64_t key_id);

/// derive_key_salt(KID, base_key) of RFC 9605 §4.4.2: sframe_secret = HKDF-Extract("", base_key),
/// then HKDF-Expand with each label, with the suite's hash. `params` must be the suite's.
SframeKeyMaterial derive_sframe_key_salt(SframeCipherSuite suite, const SuiteParams& params,
                                         std::uint64_t key_id, ByteView base_key);

}  // namespace hush::internal::call

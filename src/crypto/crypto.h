// hush internal: the per-operation crypto scratch space.
//
// One `Crypto` is created per top-level operation (encrypt, decrypt, bundle processing) and passed
// down, so every HMAC, HKDF and AES call inside that operation reuses the same OpenSSL contexts
// (algorithms are fetched once per process, see ossl.h). It holds no secrets between calls.
// Thread-safety: not synchronised; one per thread/operation.
#pragma once

#include "crypto/cipher.h"
#include "crypto/kdf.h"

namespace hush::internal::crypto {

struct Crypto {
  HmacSha256 hmac;     // chain keys, HKDF expansion, message MACs
  HmacSha256 extract;  // HKDF extraction, nearly always under the zero salt: its keyed state stays
  Aes256Cbc aes;
};

}  // namespace hush::internal::crypto

// hush internal: sealing stored secrets at rest (SqliteStore's encryption at rest).
//
//   sealed = 0x01 || r[32] || AES-256-GCM(k, nonce = 0^12, aad = row identity, plaintext) || tag
//   k      = HKDF-SHA256(ikm = storage key, salt = r, info = "hush sealed row v1")
// Each seal draws a fresh 32-byte r, so every blob has its own key and the GCM nonce can be fixed:
// there is no nonce-reuse bound on how many rows a storage key may seal. The row identity as
// associated data binds a blob to its row, so blobs cannot be swapped between rows unnoticed.
// Thread-safety: a Sealer is not synchronised.
#pragma once

#include <memory>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/aead.h"
#include "crypto/kdf.h"

namespace hush::internal::crypto {

class Sealer {
 public:
  /// Bytes a sealed blob adds to its plaintext.
  static constexpr std::size_t kOverhead = 1 + 32 + Aes256Gcm::kTagSize;

  explicit Sealer(const SecretArray<32>& storage_key) : key_(storage_key.clone()) {}

  /// Seals `plaintext` for the row `row`. Fails only if `random` fails.
  Result<Bytes> seal(RandomSource& random, ByteView row, ByteView plaintext);
  /// Opens a sealed blob of the row `row`. kInvalidMessage if it is malformed, sealed under
  /// another key, for another row, or altered.
  Result<SecretBytes> open(ByteView row, ByteView sealed);

 private:
  SecretArray<32> derive(ByteView salt);
  SecretArray<32> key_;
  HmacSha256 hmac_;
  Aes256Gcm gcm_;
};

}  // namespace hush::internal::crypto

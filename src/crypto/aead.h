// hush internal: AES-256-GCM (NIST SP 800-38D), used to seal stored secrets at rest.
//
// Not the message cipher (Signal v3 messages use AES-256-CBC + HMAC, cipher.h). One reusable
// OpenSSL context per object; the algorithm is fetched once per process.
// Thread-safety: an Aes256Gcm object is not synchronised.
#pragma once

#include <cstdint>
#include <memory>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal::crypto {

/// AES-256-GCM with a 96-bit nonce and a 128-bit tag.
class Aes256Gcm {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;

  Aes256Gcm();
  ~Aes256Gcm();
  Aes256Gcm(const Aes256Gcm&) = delete;
  Aes256Gcm& operator=(const Aes256Gcm&) = delete;

  /// Encrypts `plaintext` with associated data `aad`; returns ciphertext || tag.
  /// kInvalidArgument for wrong key or nonce sizes.
  Result<Bytes> seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);
  /// Checks the tag and decrypts `ciphertext_and_tag`. kInvalidMessage if the tag does not verify
  /// (wrong key, wrong associated data, or tampering); kInvalidArgument for wrong sizes.
  Result<SecretBytes> open(ByteView key, ByteView nonce, ByteView aad, ByteView ciphertext_and_tag);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::crypto

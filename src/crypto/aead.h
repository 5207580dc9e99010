// hush internal: AES-256-GCM (NIST SP 800-38D), used to seal stored secrets at rest.
//
// Not the message cipher (Signal v3 messages use AES-256-CBC + HMAC, cipher.h). One reusable
// OpenSSL context per object; the algorithm is fetched once per process.
// Thread-safety: an Aes256Gcm object is not synchronised.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

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

/// AES-256-GCM under one key set once, for many messages (attachment segments): the key schedule
/// is expanded once, each message sets only its nonce, and output goes into caller memory (no
/// allocation per message). Holds the expanded key until destroyed (OpenSSL wipes its context).
class Aes256GcmKeyed {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;

  /// A context for `key`, which must be kKeySize bytes (checked by the caller; aborts otherwise).
  explicit Aes256GcmKeyed(std::span<const std::uint8_t, kKeySize> key);
  ~Aes256GcmKeyed();
  Aes256GcmKeyed(const Aes256GcmKeyed&) = delete;
  Aes256GcmKeyed& operator=(const Aes256GcmKeyed&) = delete;

  /// Encrypts `plaintext` into `ciphertext` (same size; may be the same memory) and writes the tag.
  void seal(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad, ByteView plaintext,
            std::span<std::uint8_t> ciphertext, std::span<std::uint8_t, kTagSize> tag);
  /// Checks `tag` and decrypts `ciphertext` into `plaintext` (same size; may be the same memory).
  /// False if the tag does not verify; `plaintext` then holds unauthenticated bytes the caller
  /// must discard (wipe).
  [[nodiscard]] bool open(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad,
                          ByteView ciphertext, std::span<const std::uint8_t, kTagSize> tag,
                          std::span<std::uint8_t> plaintext);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::crypto

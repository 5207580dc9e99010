// hush internal: AES-256-CBC with PKCS#7 padding (Signal v3 message encryption, wire spec §2.1).
//
// One reusable OpenSSL cipher context per object; the algorithm is fetched once per process.
// Not responsible for: authentication (the SignalMessage MAC is checked before decrypting).
// Thread-safety: an Aes256Cbc object is not synchronised.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal::crypto {

/// AES-256-CBC encryption and decryption with a reusable context.
class Aes256Cbc {
 public:
  /// Key and IV sizes.
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kIvSize = 16;
  static constexpr std::size_t kBlockSize = 16;

  Aes256Cbc();
  ~Aes256Cbc();
  Aes256Cbc(const Aes256Cbc&) = delete;
  Aes256Cbc& operator=(const Aes256Cbc&) = delete;

  /// PKCS#7-padded encryption; the output is (plaintext.size() / 16 + 1) * 16 bytes.
  /// kInvalidArgument for wrong key/IV sizes, kCryptoFailure if OpenSSL fails.
  Result<Bytes> encrypt(ByteView key, ByteView iv, ByteView plaintext);
  /// PKCS#7 decryption. kInvalidMessage if the ciphertext is empty, not a multiple of 16, or its
  /// padding is wrong; kInvalidArgument for wrong key/IV sizes.
  Result<SecretBytes> decrypt(ByteView key, ByteView iv, ByteView ciphertext);

  /// Unpadded CBC over whole blocks (for known-answer tests and libsignal's provider contract).
  Result<Bytes> encrypt_no_padding(ByteView key, ByteView iv, ByteView plaintext);
  /// Unpadded CBC decryption over whole blocks.
  Result<Bytes> decrypt_no_padding(ByteView key, ByteView iv, ByteView ciphertext);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::crypto

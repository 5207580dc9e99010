// hush internal: AES contexts keyed once and reused for many messages (AES-128-CTR, AES-GCM with
// 128- or 256-bit keys).
//
// The key schedule (and for GCM the hash key and its tables) is computed once, when the object is
// made; each message then only sets a new IV. Media frames are small and many (50 audio frames a
// second per participant), so keying a fresh OpenSSL context per frame would cost more than the
// encryption itself (bench/README.md "SFrame"). One object per key and direction.
//
// Not responsible for: nonce uniqueness (the caller's counter), choosing keys, or any protocol
// framing (src/call/ builds SFrame on these).
// Thread-safety: an object is not synchronised; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>

namespace hush::internal::crypto {

/// AES-128 in counter mode (NIST SP 800-38A) under a key fixed at construction. The whole 16-byte
/// IV is the initial counter block, incremented as a 128-bit big-endian integer.
class Aes128Ctr {
 public:
  static constexpr std::size_t kKeySize = 16;
  static constexpr std::size_t kIvSize = 16;

  /// Keys a reusable context with `key` (the key bytes are not kept outside OpenSSL's context,
  /// which is wiped when freed).
  explicit Aes128Ctr(std::span<const std::uint8_t, kKeySize> key);
  ~Aes128Ctr();
  Aes128Ctr(const Aes128Ctr&) = delete;
  Aes128Ctr& operator=(const Aes128Ctr&) = delete;

  /// XORs `in` with the key stream that starts at counter block `iv` and writes the result to
  /// `out` (in.size() bytes; `out` may be `in.data()`). Encryption and decryption are the same.
  void apply(std::span<const std::uint8_t, kIvSize> iv, ByteView in, std::uint8_t* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag under a key (16 or 32 bytes)
/// and a direction fixed at construction. The associated data is given in two parts that are
/// authenticated as their concatenation, so callers need not copy them together.
class AesGcmKeyed {
 public:
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;
  enum class Direction : std::uint8_t { kSeal, kOpen };

  /// Keys a reusable context; `key` must be 16 (AES-128-GCM) or 32 (AES-256-GCM) bytes, else the
  /// process aborts (key sizes are constants of the caller, never input).
  AesGcmKeyed(ByteView key, Direction direction);
  ~AesGcmKeyed();
  AesGcmKeyed(const AesGcmKeyed&) = delete;
  AesGcmKeyed& operator=(const AesGcmKeyed&) = delete;

  /// Encrypts `plaintext` into `out` (plaintext.size() bytes, may be `plaintext.data()`) and
  /// writes the tag to `tag`, authenticating aad1 || aad2. Only for a kSeal object (aborts
  /// otherwise).
  void seal(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad1, ByteView aad2,
            ByteView plaintext, std::uint8_t* out, std::span<std::uint8_t, kTagSize> tag);

  /// Decrypts `ciphertext` into `out` (ciphertext.size() bytes, may alias) and checks `tag` over
  /// aad1 || aad2 || ciphertext. Returns false if the tag does not verify; `out` is then wiped
  /// (it held unauthenticated plaintext). Only for a kOpen object (aborts otherwise).
  bool open(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad1, ByteView aad2,
            ByteView ciphertext, std::span<const std::uint8_t, kTagSize> tag, std::uint8_t* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::crypto

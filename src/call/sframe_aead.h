// hush internal: the AEAD of one SFrame key and direction (RFC 9605 §4.4.3-4.5): AES-GCM, or the
// AES-CTR + HMAC-SHA256 construction with a truncated tag (§4.5.1).
//
// The OpenSSL contexts are keyed once, when the object is made, so a frame costs one IV setup and
// the cipher work. The associated data is `header || metadata`, passed as two parts.
//
// Not responsible for: nonces (the caller forms salt XOR counter), headers, replay.
// Thread-safety: an object is not synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/sframe.h>

#include "call/sframe_suite.h"

namespace hush::internal::call {

/// One key's AEAD, for sealing or for opening.
class SframeAead {
 public:
  enum class Direction : std::uint8_t { kSeal, kOpen };

  /// `key` must be params.nk bytes (a caller bug otherwise: aborts). The key bytes are kept only
  /// inside the keyed contexts (and, for CTR+HMAC, the HMAC's kept key), wiped on destruction.
  SframeAead(const SuiteParams& params, ByteView key, Direction direction);
  ~SframeAead();
  SframeAead(const SframeAead&) = delete;
  SframeAead& operator=(const SframeAead&) = delete;

  /// The tag size (Nt).
  std::size_t tag_size() const noexcept;

  /// AEAD.Encrypt: writes the ciphertext (plaintext.size() bytes) and then the tag (Nt bytes) to
  /// `out`, which must have room for both and not overlap `plaintext`.
  void seal(std::span<const std::uint8_t, kSframeNonceSize> nonce, ByteView aad1, ByteView aad2,
            ByteView plaintext, std::uint8_t* out);

  /// AEAD.Decrypt of `ciphertext_and_tag` (at least Nt bytes, else false): writes the plaintext
  /// (size - Nt bytes) to `out` and returns true if the tag verifies; otherwise returns false and
  /// `out` holds no plaintext. The work done does not depend on whether the tag verifies (§4.4.4:
  /// failures should take the time of successes). `out` must not overlap the input.
  bool open(std::span<const std::uint8_t, kSframeNonceSize> nonce, ByteView aad1, ByteView aad2,
            ByteView ciphertext_and_tag, std::uint8_t* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::call

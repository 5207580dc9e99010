// hush internal: the attachment blob format, version 1 (include/hush/attachment.h describes it):
// an 8-byte header (version, 7-byte nonce prefix), then 64 KiB plaintext segments, each sealed
// with AES-256-GCM under nonce = prefix || counter (4 bytes, big-endian) || last flag, with the
// header as associated data.
//
// Not responsible for: reading or writing files or stores (attachment.cpp), the digest.
// Thread-safety: a SegmentCipher is not synchronised.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <hush/attachment.h>
#include <hush/bytes.h>

#include "crypto/aead.h"

namespace hush::internal::attachment {

/// The format's version byte (the header's first byte).
inline constexpr std::uint8_t kFormatVersion = 1;
/// The header: version byte and nonce prefix.
inline constexpr std::size_t kHeaderBytes = 8;
inline constexpr std::size_t kNoncePrefixBytes = 7;
/// Plaintext bytes per segment (the last one may be shorter). 64 KiB keeps memory small and the
/// per-segment cost (a nonce set, a tag) under 1% of the work.
inline constexpr std::size_t kSegmentBytes = std::size_t{64} << 10;
inline constexpr std::size_t kTagBytes = crypto::Aes256GcmKeyed::kTagSize;

using Header = std::array<std::uint8_t, kHeaderBytes>;

/// How many segments a plaintext of `size` bytes has (an empty file has one, empty).
inline std::uint64_t segment_count(std::uint64_t size) noexcept {
  return size == 0 ? 1 : (size + kSegmentBytes - 1) / kSegmentBytes;
}

/// The plaintext size of segment `index` of a `size`-byte plaintext.
inline std::size_t segment_plaintext_bytes(std::uint64_t size, std::uint64_t index) noexcept {
  const std::uint64_t n = segment_count(size);
  if (index + 1 < n) return kSegmentBytes;
  return static_cast<std::size_t>(size - (n - 1) * kSegmentBytes);
}

/// Seals and opens the segments of one blob.
class SegmentCipher {
 public:
  SegmentCipher(const SecretArray<kAttachmentKeyBytes>& key, const Header& header)
      : aead_(key.expose()), header_(header) {}

  /// Seals segment `index` (`last` if it ends the file): `data` holds the plaintext and then
  /// room for the tag (kTagBytes more); encrypted in place.
  void seal(std::uint32_t index, bool last, std::span<std::uint8_t> data);
  /// Opens segment `index` in place: `data` is ciphertext || tag; on success its first
  /// data.size() - kTagBytes bytes are the plaintext. False if it does not authenticate (the
  /// bytes are then wiped).
  [[nodiscard]] bool open(std::uint32_t index, bool last, std::span<std::uint8_t> data);

 private:
  std::array<std::uint8_t, crypto::Aes256GcmKeyed::kNonceSize> nonce(std::uint32_t index,
                                                                     bool last) const noexcept;
  crypto::Aes256GcmKeyed aead_;
  Header header_;
};

}  // namespace hush::internal::attachment

// hush internal: sealing and opening attachment segments (see segments.h).
#include "attachment/segments.h"

#include <algorithm>

#include <hush/secret.h>

namespace hush::internal::attachment {

std::array<std::uint8_t, crypto::Aes256GcmKeyed::kNonceSize> SegmentCipher::nonce(
    std::uint32_t index, bool last) const noexcept {
  // prefix (7) || index (4, big-endian) || last (1): every segment of every blob under one key
  // gets its own nonce, and the nonce says where the segment sits and whether it ends the file.
  std::array<std::uint8_t, crypto::Aes256GcmKeyed::kNonceSize> n{};
  for (std::size_t i = 0; i < kNoncePrefixBytes; ++i)
    n[i] = header_[1 + i];
  n[7] = static_cast<std::uint8_t>(index >> 24);
  n[8] = static_cast<std::uint8_t>(index >> 16);
  n[9] = static_cast<std::uint8_t>(index >> 8);
  n[10] = static_cast<std::uint8_t>(index);
  n[11] = last ? 1 : 0;
  return n;
}

void SegmentCipher::seal(std::uint32_t index, bool last, std::span<std::uint8_t> data) {
  const std::size_t n = data.size() - kTagBytes;
  const auto iv = nonce(index, last);
  aead_.seal(iv, header_, data.first(n), data.first(n),
             std::span<std::uint8_t, kTagBytes>(data.subspan(n, kTagBytes)));
}

bool SegmentCipher::open(std::uint32_t index, bool last, std::span<std::uint8_t> data) {
  const std::size_t n = data.size() - kTagBytes;
  const auto iv = nonce(index, last);
  std::array<std::uint8_t, kTagBytes> tag{};
  std::copy(data.begin() + static_cast<std::ptrdiff_t>(n), data.end(), tag.begin());
  if (!aead_.open(iv, header_, data.first(n), tag, data.first(n))) {
    secure_wipe(data);  // unauthenticated plaintext never leaves
    return false;
  }
  return true;
}

}  // namespace hush::internal::attachment

// hush internal: sealing stored secrets (see seal.h).
#include "crypto/seal.h"

#include <array>

namespace hush::internal::crypto {

namespace {
constexpr std::uint8_t kFormat = 0x01;
constexpr std::array<std::uint8_t, 18> kInfo = {'h', 'u', 's', 'h', ' ', 's', 'e', 'a', 'l',
                                                'e', 'd', ' ', 'r', 'o', 'w', ' ', 'v', '1'};
constexpr std::array<std::uint8_t, Aes256Gcm::kNonceSize> kNonce{};
}  // namespace

SecretArray<32> Sealer::derive(ByteView salt) {
  SecretArray<32> k;
  hkdf_sha256(hmac_, key_.expose(), salt, kInfo, k.expose_mut());
  return k;
}

Result<Bytes> Sealer::seal(RandomSource& random, ByteView row, ByteView plaintext) {
  std::array<std::uint8_t, 32> r{};
  if (auto st = random.fill(r); !st) return st.error();
  const SecretArray<32> k = derive(r);
  auto body = gcm_.seal(k.expose(), kNonce, row, plaintext);
  if (!body) return body.error();
  Bytes out;
  out.reserve(1 + r.size() + body->size());
  out.push_back(kFormat);
  out.insert(out.end(), r.begin(), r.end());
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

Result<SecretBytes> Sealer::open(ByteView row, ByteView sealed) {
  if (sealed.size() < kOverhead || sealed[0] != kFormat)
    return Error(Errc::kInvalidMessage, "sealed row: malformed");
  const SecretArray<32> k = derive(sealed.subspan(1, 32));
  return gcm_.open(k.expose(), kNonce, row, sealed.subspan(33));
}

}  // namespace hush::internal::crypto

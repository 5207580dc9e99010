// hush internal: SFrame key and salt derivation (RFC 9605 §4.4.2).
#include "call/sframe_keys.h"

#include <array>
#include <string_view>

#include "crypto/kdf.h"

namespace hush::internal::call {

namespace {

Bytes label(std::string_view prefix, SframeCipherSuite suite, std::uint64_t key_id) {
  // §4.4.2: the KID as an 8-byte big-endian integer (not the header's compact form), then the
  // suite as a 2-byte big-endian integer.
  Bytes out(prefix.begin(), prefix.end());
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(key_id >> shift));
  const auto id = static_cast<std::uint16_t>(suite);
  out.push_back(static_cast<std::uint8_t>(id >> 8));
  out.push_back(static_cast<std::uint8_t>(id));
  return out;
}

}  // namespace

Bytes sframe_key_label(SframeCipherSuite suite, std::uint64_t key_id) {
  return label("SFrame 1.0 Secret key ", suite, key_id);
}

Bytes sframe_salt_label(SframeCipherSuite suite, std::uint64_t key_id) {
  return label("SFrame 1.0 Secret salt ", suite, key_id);
}

SframeKeyMaterial derive_sframe_key_salt(SframeCipherSuite suite, const SuiteParams& params,
                                         std::uint64_t key_id, ByteView base_key) {
  SframeKeyMaterial out{SecretBytes(params.nk), {}};
  const Bytes key_label = sframe_key_label(suite, key_id);
  const Bytes salt_label = sframe_salt_label(suite, key_id);
  if (params.sha512) {
    SecretArray<crypto::kHmacSha512Size> secret;
    crypto::hkdf_extract_sha512(/*salt=*/{}, base_key, secret.expose_mut());
    crypto::hkdf_expand_sha512(secret.expose(), key_label, out.key.expose_mut());
    crypto::hkdf_expand_sha512(secret.expose(), salt_label, out.salt.expose_mut());
  } else {
    crypto::HmacSha256 hmac;
    // HKDF-Extract with an empty salt: HMAC under HashLen zero bytes (RFC 5869 §2.2).
    static const std::array<std::uint8_t, crypto::kHmacSha256Size> kZeroSalt{};
    SecretArray<crypto::kHmacSha256Size> secret;
    hmac.mac(kZeroSalt, base_key, secret.expose_mut());
    crypto::hkdf_expand_sha256(hmac, secret.expose(), key_label, out.key.expose_mut());
    crypto::hkdf_expand_sha256(hmac, secret.expose(), salt_label, out.salt.expose_mut());
  }
  return out;
}

}  // namespace hush::internal::call

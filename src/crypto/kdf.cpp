// hush internal: HMAC-SHA256 (EVP_MAC with a reused context) and HKDF-SHA256 (RFC 5869).
#include "crypto/kdf.h"

#include <algorithm>
#include <cstdlib>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <hush/secret.h>
#include "crypto/ossl.h"

namespace hush::internal::crypto {

struct HmacSha256::Impl {
  EvpMacCtxPtr ctx{EVP_MAC_CTX_new(fetched().hmac)};
};

HmacSha256::HmacSha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_MAC_CTX_new");
  char digest[] = "SHA2-256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  ossl_check(EVP_MAC_CTX_set_params(impl_->ctx.get(), params), "EVP_MAC_CTX_set_params");
}

HmacSha256::~HmacSha256() = default;

void HmacSha256::init(ByteView key) {
  // A null key would make OpenSSL reuse the previous one; an empty key must stay empty.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* k = key.empty() ? &kEmpty : key.data();
  ossl_check(EVP_MAC_init(impl_->ctx.get(), k, key.size(), nullptr), "EVP_MAC_init");
}

void HmacSha256::update(ByteView data) {
  ossl_check(EVP_MAC_update(impl_->ctx.get(), data.data(), data.size()), "EVP_MAC_update");
}

void HmacSha256::final(std::span<std::uint8_t, kHmacSha256Size> out) {
  std::size_t len = 0;
  ossl_check(EVP_MAC_final(impl_->ctx.get(), out.data(), &len, out.size()), "EVP_MAC_final");
}

void hkdf_sha256(HmacSha256& hmac, ByteView ikm, ByteView salt, ByteView info,
                 std::span<std::uint8_t> out) {
  constexpr std::size_t kHashLen = kHmacSha256Size;
  if (out.size() > 255 * kHashLen) std::abort();  // a caller bug: lengths are constants
  // Extract (RFC 5869 §2.2): PRK = HMAC(salt, IKM); a missing salt is HashLen zeros.
  static const std::uint8_t kZeroSalt[kHashLen] = {};
  SecretArray<kHashLen> prk;
  hmac.mac(salt.empty() ? ByteView(kZeroSalt) : salt, ikm, prk.expose_mut());
  // Expand (§2.3): T(i) = HMAC(PRK, T(i-1) || info || i), counter from 1.
  SecretArray<kHashLen> t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out.size(); ++i) {
    hmac.init(prk.expose());
    if (i > 1) hmac.update(t.expose());
    hmac.update(info);
    hmac.update(ByteView(&i, 1));
    hmac.final(t.expose_mut());
    const std::size_t n = std::min(kHashLen, out.size() - done);
    std::copy_n(t.expose().begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

}  // namespace hush::internal::crypto

// hush internal: the baseline crypto for peers in tests and benchmarks (see baseline.h).
#include "crypto/baseline.h"

#include <climits>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/ossl.h"

namespace hush::internal::crypto::baseline {

struct HmacSha256::Impl {
  EVP_MAC_CTX* ctx = nullptr;
  ~Impl() { EVP_MAC_CTX_free(ctx); }
};

HmacSha256::HmacSha256(ByteView key) : impl_(std::make_unique<Impl>()) {
  // As libsignal-protocol-c's test provider does with HMAC_CTX: a new context keyed per MAC (the
  // algorithm itself is fetched once, not to handicap the peer).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw_openssl_failure("EVP_MAC_fetch");
  impl_->ctx = EVP_MAC_CTX_new(mac);
  if (impl_->ctx == nullptr) throw_openssl_failure("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  static const std::uint8_t kEmpty = 0;
  ossl_check(EVP_MAC_init(impl_->ctx, key.empty() ? &kEmpty : key.data(), key.size(), params),
             "EVP_MAC_init");
}

HmacSha256::~HmacSha256() = default;

void HmacSha256::update(ByteView data) {
  ossl_check(EVP_MAC_update(impl_->ctx, data.data(), data.size()), "EVP_MAC_update");
}

std::array<std::uint8_t, 32> HmacSha256::final() {
  std::array<std::uint8_t, 32> out{};
  std::size_t len = 0;
  ossl_check(EVP_MAC_final(impl_->ctx, out.data(), &len, out.size()), "EVP_MAC_final");
  return out;
}

std::optional<Bytes> aes256_cbc(bool encrypt, ByteView key, ByteView iv, ByteView in) {
  if (key.size() != 32 || iv.size() != 16 || in.size() > INT_MAX / 2) return std::nullopt;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw_openssl_failure("EVP_CIPHER_CTX_new");
  Bytes out(in.size() + 16);
  int len = 0, fin = 0;
  const bool ok =
      EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key.data(), iv.data(), encrypt ? 1 : 0) ==
          1 &&
      EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx, out.data() + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

}  // namespace hush::internal::crypto::baseline

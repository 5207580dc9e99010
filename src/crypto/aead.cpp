// hush internal: AES-256-GCM through EVP with a fetched cipher and a reused context.
#include "crypto/aead.h"

#include <algorithm>
#include <array>
#include <climits>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "crypto/ossl.h"

namespace hush::internal::crypto {

struct Aes256Gcm::Impl {
  EvpCipherCtxPtr ctx{EVP_CIPHER_CTX_new()};
};

Aes256Gcm::Aes256Gcm() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_CIPHER_CTX_new");
}
Aes256Gcm::~Aes256Gcm() = default;

Result<Bytes> Aes256Gcm::seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
  if (key.size() != kKeySize || nonce.size() != kNonceSize)
    return Error(Errc::kInvalidArgument, "aes_gcm: key or nonce size");
  EVP_CIPHER_CTX* ctx = impl_->ctx.get();
  ossl_check(EVP_CipherInit_ex2(ctx, fetched().aes_256_gcm, key.data(), nonce.data(), 1, nullptr),
             "GCM init");
  Bytes out(plaintext.size() + kTagSize);
  cipher_update(ctx, aad, nullptr);
  cipher_update(ctx, plaintext, out.data());
  int len = 0;
  ossl_check(EVP_CipherFinal_ex(ctx, out.data() + plaintext.size(), &len), "GCM final");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                                           out.data() + plaintext.size(), kTagSize),
                         OSSL_PARAM_construct_end()};
  ossl_check(EVP_CIPHER_CTX_get_params(ctx, params), "GCM get tag");
  return out;
}

Result<SecretBytes> Aes256Gcm::open(ByteView key, ByteView nonce, ByteView aad,
                                    ByteView ciphertext_and_tag) {
  if (key.size() != kKeySize || nonce.size() != kNonceSize)
    return Error(Errc::kInvalidArgument, "aes_gcm: key or nonce size");
  if (ciphertext_and_tag.size() < kTagSize)
    return Error(Errc::kInvalidMessage, "aes_gcm: shorter than the tag");
  const std::size_t n = ciphertext_and_tag.size() - kTagSize;
  EVP_CIPHER_CTX* ctx = impl_->ctx.get();
  ossl_check(EVP_CipherInit_ex2(ctx, fetched().aes_256_gcm, key.data(), nonce.data(), 0, nullptr),
             "GCM init");
  std::array<std::uint8_t, kTagSize> tag{};
  std::copy(ciphertext_and_tag.begin() + static_cast<std::ptrdiff_t>(n), ciphertext_and_tag.end(),
            tag.begin());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), kTagSize),
      OSSL_PARAM_construct_end()};
  ossl_check(EVP_CIPHER_CTX_set_params(ctx, params), "GCM set tag");
  SecretBytes out(n);
  cipher_update(ctx, aad, nullptr);
  cipher_update(ctx, ciphertext_and_tag.first(n), out.expose_mut().data());
  int len = 0;
  if (EVP_CipherFinal_ex(ctx, out.expose_mut().data() + n, &len) != 1) {
    ERR_clear_error();
    return Error(Errc::kInvalidMessage, "aes_gcm: tag does not verify");
  }
  return out;
}

}  // namespace hush::internal::crypto

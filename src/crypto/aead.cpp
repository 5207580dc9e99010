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

struct Aes256GcmKeyed::Impl {
  EvpCipherCtxPtr enc{EVP_CIPHER_CTX_new()};
  EvpCipherCtxPtr dec{EVP_CIPHER_CTX_new()};
};

Aes256GcmKeyed::Aes256GcmKeyed(std::span<const std::uint8_t, kKeySize> key)
    : impl_(std::make_unique<Impl>()) {
  if (!impl_->enc || !impl_->dec) throw_openssl_failure("EVP_CIPHER_CTX_new");
  // The key schedule is expanded once per direction; each message then sets only its nonce.
  ossl_check(
      EVP_CipherInit_ex2(impl_->enc.get(), fetched().aes_256_gcm, key.data(), nullptr, 1, nullptr),
      "GCM key");
  ossl_check(
      EVP_CipherInit_ex2(impl_->dec.get(), fetched().aes_256_gcm, key.data(), nullptr, 0, nullptr),
      "GCM key");
}
Aes256GcmKeyed::~Aes256GcmKeyed() = default;

void Aes256GcmKeyed::seal(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad,
                          ByteView plaintext, std::span<std::uint8_t> ciphertext,
                          std::span<std::uint8_t, kTagSize> tag) {
  if (ciphertext.size() != plaintext.size()) throw_openssl_failure("GCM seal: sizes");
  EVP_CIPHER_CTX* ctx = impl_->enc.get();
  ossl_check(EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 1, nullptr), "GCM nonce");
  cipher_update(ctx, aad, nullptr);
  cipher_update(ctx, plaintext, ciphertext.data());
  int len = 0;
  std::array<std::uint8_t, kTagSize> unused{};  // GCM's final writes no bytes
  ossl_check(EVP_CipherFinal_ex(ctx, unused.data(), &len), "GCM final");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), kTagSize),
      OSSL_PARAM_construct_end()};
  ossl_check(EVP_CIPHER_CTX_get_params(ctx, params), "GCM get tag");
}

bool Aes256GcmKeyed::open(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad,
                          ByteView ciphertext, std::span<const std::uint8_t, kTagSize> tag,
                          std::span<std::uint8_t> plaintext) {
  if (ciphertext.size() != plaintext.size()) throw_openssl_failure("GCM open: sizes");
  EVP_CIPHER_CTX* ctx = impl_->dec.get();
  ossl_check(EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 0, nullptr), "GCM nonce");
  std::array<std::uint8_t, kTagSize> t{};
  std::copy(tag.begin(), tag.end(), t.begin());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, t.data(), kTagSize),
      OSSL_PARAM_construct_end()};
  ossl_check(EVP_CIPHER_CTX_set_params(ctx, params), "GCM set tag");
  cipher_update(ctx, aad, nullptr);
  cipher_update(ctx, ciphertext, plaintext.data());
  int len = 0;
  std::array<std::uint8_t, kTagSize> unused{};  // GCM's final writes no bytes
  if (EVP_CipherFinal_ex(ctx, unused.data(), &len) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace hush::internal::crypto

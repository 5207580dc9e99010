// hush internal: keyed AES-CTR and AES-GCM contexts through EVP (see keyed_cipher.h).
//
// OpenSSL 3's providers keep the expanded key when EVP_CipherInit_ex2 is called again with a null
// cipher and a null key, and only take the new IV (and for CTR restart the block counter), which
// is what makes one keyed context per key cheap to reuse.
#include "crypto/keyed_cipher.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <hush/secret.h>
#include "crypto/ossl.h"

namespace hush::internal::crypto {

namespace {

EvpCipherCtxPtr new_ctx() {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw_openssl_failure("EVP_CIPHER_CTX_new");
  return ctx;
}

}  // namespace

// ---- AES-128-CTR ----

struct Aes128Ctr::Impl {
  EvpCipherCtxPtr ctx = new_ctx();
};

Aes128Ctr::Aes128Ctr(std::span<const std::uint8_t, kKeySize> key)
    : impl_(std::make_unique<Impl>()) {
  ossl_check(
      EVP_CipherInit_ex2(impl_->ctx.get(), fetched().aes_128_ctr, key.data(), nullptr, 1, nullptr),
      "CTR init");
}
Aes128Ctr::~Aes128Ctr() = default;

void Aes128Ctr::apply(std::span<const std::uint8_t, kIvSize> iv, ByteView in, std::uint8_t* out) {
  EVP_CIPHER_CTX* ctx = impl_->ctx.get();
  ossl_check(EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), 1, nullptr), "CTR iv");
  cipher_update(ctx, in, out);
}

// ---- AES-GCM ----
//
// Per message: the IV through EVP_CipherInit_ex2 (which keeps the key schedule and GHASH tables),
// the associated data in one update where it fits in a small stack buffer (both parts are usually
// a few bytes: an SFrame header and its metadata), the text, the final block, and the tag through
// one parameter built once per context. Every call through the provider interface costs about as
// much as GHASH over a short frame, so each one saved shows (bench/README.md "SFrame").

namespace {

// Associated data up to this size is copied together and fed to GHASH in one update.
constexpr std::size_t kJoinedAadMax = 64;

void gcm_aad(EVP_CIPHER_CTX* ctx, ByteView aad1, ByteView aad2) {
  if (aad2.empty()) {
    cipher_update(ctx, aad1, nullptr);
  } else if (aad1.empty()) {
    cipher_update(ctx, aad2, nullptr);
  } else if (aad1.size() + aad2.size() <= kJoinedAadMax) {
    std::array<std::uint8_t, kJoinedAadMax> joined;  // public data: no wipe needed
    std::copy(aad1.begin(), aad1.end(), joined.begin());
    std::copy(aad2.begin(), aad2.end(), joined.begin() + static_cast<std::ptrdiff_t>(aad1.size()));
    cipher_update(ctx, ByteView(joined.data(), aad1.size() + aad2.size()), nullptr);
  } else {
    cipher_update(ctx, aad1, nullptr);
    cipher_update(ctx, aad2, nullptr);
  }
}

}  // namespace

struct AesGcmKeyed::Impl {
  EvpCipherCtxPtr ctx = new_ctx();
  Direction direction = Direction::kSeal;
  // The tag goes through this buffer: `tag_param` (built once) points at it.
  std::array<std::uint8_t, kTagSize> tag{};
  OSSL_PARAM tag_param[2] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), kTagSize),
      OSSL_PARAM_construct_end()};
};

AesGcmKeyed::AesGcmKeyed(ByteView key, Direction direction) : impl_(std::make_unique<Impl>()) {
  const EVP_CIPHER* cipher = nullptr;
  if (key.size() == 16) {
    cipher = fetched().aes_128_gcm;
  } else if (key.size() == 32) {
    cipher = fetched().aes_256_gcm;
  } else {
    std::abort();  // a caller bug: key sizes are constants
  }
  impl_->direction = direction;
  ossl_check(EVP_CipherInit_ex2(impl_->ctx.get(), cipher, key.data(), nullptr,
                                direction == Direction::kSeal ? 1 : 0, nullptr),
             "GCM init");
}
AesGcmKeyed::~AesGcmKeyed() = default;

void AesGcmKeyed::seal(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad1,
                       ByteView aad2, ByteView plaintext, std::uint8_t* out,
                       std::span<std::uint8_t, kTagSize> tag) {
  Impl& d = *impl_;
  if (d.direction != Direction::kSeal) std::abort();
  EVP_CIPHER_CTX* ctx = d.ctx.get();
  ossl_check(EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 1, nullptr), "GCM iv");
  gcm_aad(ctx, aad1, aad2);
  cipher_update(ctx, plaintext, out);
  int len = 0;
  ossl_check(EVP_CipherFinal_ex(ctx, out + plaintext.size(), &len), "GCM final");
  d.tag_param[0].return_size = OSSL_PARAM_UNMODIFIED;
  ossl_check(EVP_CIPHER_CTX_get_params(ctx, d.tag_param), "GCM get tag");
  std::copy(d.tag.begin(), d.tag.end(), tag.begin());
}

bool AesGcmKeyed::open(std::span<const std::uint8_t, kNonceSize> nonce, ByteView aad1,
                       ByteView aad2, ByteView ciphertext,
                       std::span<const std::uint8_t, kTagSize> tag, std::uint8_t* out) {
  Impl& d = *impl_;
  if (d.direction != Direction::kOpen) std::abort();
  EVP_CIPHER_CTX* ctx = d.ctx.get();
  ossl_check(EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), 0, nullptr), "GCM iv");
  std::copy(tag.begin(), tag.end(), d.tag.begin());
  ossl_check(EVP_CIPHER_CTX_set_params(ctx, d.tag_param), "GCM set tag");
  gcm_aad(ctx, aad1, aad2);
  cipher_update(ctx, ciphertext, out);
  int len = 0;
  if (EVP_CipherFinal_ex(ctx, out + ciphertext.size(), &len) != 1) {
    ERR_clear_error();  // an input-driven failure: keep the application's error queue clean
    secure_wipe(std::span<std::uint8_t>(out, ciphertext.size()));
    return false;
  }
  return true;
}

}  // namespace hush::internal::crypto

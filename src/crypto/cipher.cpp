// hush internal: AES-256-CBC through EVP with a fetched cipher and a reused context.
#include "crypto/cipher.h"

#include <algorithm>
#include <climits>

#include <openssl/err.h>

#include "crypto/ossl.h"

namespace hush::internal::crypto {

struct Aes256Cbc::Impl {
  EvpCipherCtxPtr ctx{EVP_CIPHER_CTX_new()};
};

Aes256Cbc::Aes256Cbc() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_CIPHER_CTX_new");
}
Aes256Cbc::~Aes256Cbc() = default;

namespace {

bool sizes_ok(ByteView key, ByteView iv) {
  return key.size() == Aes256Cbc::kKeySize && iv.size() == Aes256Cbc::kIvSize;
}

// Runs one CBC pass; `out` must have room for in.size() + one block. Returns the output length,
// or -1 when the final step fails (bad padding on decryption, partial block without padding).
long run(EVP_CIPHER_CTX* ctx, bool encrypt, bool padding, ByteView key, ByteView iv, ByteView in,
         std::uint8_t* out) {
  ossl_check(EVP_CipherInit_ex2(ctx, fetched().aes_256_cbc, key.data(), iv.data(), encrypt ? 1 : 0,
                                nullptr),
             "EVP_CipherInit_ex2");
  ossl_check(EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0), "set_padding");
  long total = 0;
  while (!in.empty()) {
    const std::size_t n = std::min<std::size_t>(in.size(), INT_MAX / 2);
    int len = 0;
    ossl_check(EVP_CipherUpdate(ctx, out + total, &len, in.data(), static_cast<int>(n)),
               "EVP_CipherUpdate");
    total += len;
    in = in.subspan(n);
  }
  int len = 0;
  if (EVP_CipherFinal_ex(ctx, out + total, &len) != 1) {
    ERR_clear_error();  // a padding error is input-driven: keep the app's error queue clean
    return -1;
  }
  return total + len;
}

}  // namespace

Result<Bytes> Aes256Cbc::encrypt(ByteView key, ByteView iv, ByteView plaintext) {
  if (!sizes_ok(key, iv)) return Error(Errc::kInvalidArgument, "aes_cbc: key or iv size");
  Bytes out(plaintext.size() + kBlockSize);
  const long n = run(impl_->ctx.get(), true, true, key, iv, plaintext, out.data());
  if (n < 0) return Error(Errc::kCryptoFailure, "aes_cbc: encrypt");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<SecretBytes> Aes256Cbc::decrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  if (!sizes_ok(key, iv)) return Error(Errc::kInvalidArgument, "aes_cbc: key or iv size");
  if (ciphertext.empty() || ciphertext.size() % kBlockSize != 0)
    return Error(Errc::kInvalidMessage, "aes_cbc: ciphertext length");
  SecretBytes out(ciphertext.size() + kBlockSize);
  const long n = run(impl_->ctx.get(), false, true, key, iv, ciphertext, out.expose_mut().data());
  if (n < 0) return Error(Errc::kInvalidMessage, "aes_cbc: padding");
  out.truncate(static_cast<std::size_t>(n));
  return out;
}

Result<Bytes> Aes256Cbc::encrypt_no_padding(ByteView key, ByteView iv, ByteView plaintext) {
  if (!sizes_ok(key, iv)) return Error(Errc::kInvalidArgument, "aes_cbc: key or iv size");
  if (plaintext.size() % kBlockSize != 0)
    return Error(Errc::kInvalidArgument, "aes_cbc: not whole blocks");
  Bytes out(plaintext.size() + kBlockSize);
  const long n = run(impl_->ctx.get(), true, false, key, iv, plaintext, out.data());
  if (n < 0) return Error(Errc::kCryptoFailure, "aes_cbc: encrypt");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<Bytes> Aes256Cbc::decrypt_no_padding(ByteView key, ByteView iv, ByteView ciphertext) {
  if (!sizes_ok(key, iv)) return Error(Errc::kInvalidArgument, "aes_cbc: key or iv size");
  if (ciphertext.size() % kBlockSize != 0)
    return Error(Errc::kInvalidMessage, "aes_cbc: not whole blocks");
  Bytes out(ciphertext.size() + kBlockSize);
  const long n = run(impl_->ctx.get(), false, false, key, iv, ciphertext, out.data());
  if (n < 0) return Error(Errc::kInvalidMessage, "aes_cbc: decrypt");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace hush::internal::crypto

// hush internal: owning handles for OpenSSL objects and the process-wide fetched algorithms.
//
// Algorithms are fetched once per process (EVP_*_fetch on first use, kept until exit) and are
// immutable afterwards, which is what OpenSSL 3 recommends instead of implicit fetching on every
// init. Only src/crypto/*.cpp include this file.
// Thread-safety: fetched() is initialised once, thread-safely; the handles are not synchronised.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <openssl/evp.h>

namespace hush::internal::crypto {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct EvpCipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const noexcept { EVP_CIPHER_CTX_free(p); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter>;

/// The algorithms hush uses, fetched from the default library context.
struct Algorithms {
  EVP_MD* sha256;
  EVP_MD* sha512;
  EVP_MD* sha3_256;
  EVP_MD* sha3_512;
  EVP_MD* shake128;
  EVP_MD* shake256;
  EVP_CIPHER* aes_256_cbc;
  EVP_CIPHER* aes_256_gcm;
  EVP_CIPHER* aes_128_gcm;  // SFrame (RFC 9605) suite 0x0004
  EVP_CIPHER* aes_128_ctr;  // SFrame suites 0x0001-0x0003
};

/// The fetched algorithms; aborts if OpenSSL cannot provide one (a broken installation).
const Algorithms& fetched();

/// Called when an OpenSSL call that cannot fail on valid arguments fails anyway. On valid
/// arguments the only realistic cause is memory exhaustion inside OpenSSL, so this clears the
/// OpenSSL error queue (nothing leaks into the application's) and throws std::bad_alloc, which
/// the library propagates like any allocation failure (it is exception-neutral).
[[noreturn]] void throw_openssl_failure(const char* where);

/// Checks the return value of an OpenSSL call that must succeed.
inline void ossl_check(int rc, const char* where) {
  if (rc != 1) throw_openssl_failure(where);
}

/// Feeds `in` through EVP_CipherUpdate in int-sized chunks, writing to `out` (which must have room
/// for `in.size()` bytes); a null `out` feeds `in` as additional authenticated data.
void cipher_update(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> in, std::uint8_t* out);

}  // namespace hush::internal::crypto

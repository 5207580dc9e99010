// hush internal: fetched OpenSSL algorithms and the failure path (see ossl.h).
#include "crypto/ossl.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <openssl/err.h>

namespace hush::internal::crypto {

namespace {
template <class T>
T* must(T* p, const char* what) {
  if (p == nullptr) {
    // A missing default provider is an installation problem no caller can handle.
    std::fprintf(stderr, "hush: OpenSSL cannot provide %s\n", what);
    std::abort();
  }
  return p;
}
}  // namespace

const Algorithms& fetched() {
  // Initialised once, thread-safely; immutable afterwards (not mutable global state).
  static const Algorithms algorithms{
      must(EVP_MD_fetch(nullptr, "SHA2-256", nullptr), "SHA-256"),
      must(EVP_MD_fetch(nullptr, "SHA2-512", nullptr), "SHA-512"),
      must(EVP_MD_fetch(nullptr, "SHA3-256", nullptr), "SHA3-256"),
      must(EVP_MD_fetch(nullptr, "SHA3-512", nullptr), "SHA3-512"),
      must(EVP_MD_fetch(nullptr, "SHAKE128", nullptr), "SHAKE128"),
      must(EVP_MD_fetch(nullptr, "SHAKE256", nullptr), "SHAKE256"),
      must(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr), "AES-256-CBC"),
      must(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "AES-256-GCM"),
      must(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr), "AES-128-GCM"),
      must(EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr), "AES-128-CTR"),
  };
  return algorithms;
}

void throw_openssl_failure(const char* where) {
  (void)where;
  ERR_clear_error();
  throw std::bad_alloc();
}

void cipher_update(EVP_CIPHER_CTX* ctx, std::span<const std::uint8_t> in, std::uint8_t* out) {
  constexpr std::size_t kMaxChunk = INT_MAX / 2;
  while (!in.empty()) {
    const std::size_t n = std::min(in.size(), kMaxChunk);
    int len = 0;
    ossl_check(EVP_CipherUpdate(ctx, out, &len, in.data(), static_cast<int>(n)),
               "EVP_CipherUpdate");
    if (out != nullptr) out += len;
    in = in.subspan(n);
  }
}

}  // namespace hush::internal::crypto

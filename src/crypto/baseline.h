// hush internal, for tests and benchmarks only (not part of the library): HMAC-SHA256 and
// AES-256-CBC written the straightforward way a libsignal-protocol-c host writes its crypto
// provider (its own test provider: a fresh OpenSSL HMAC context keyed per MAC, a fresh cipher
// context per encryption). The interop tests and the benchmarks drive libsignal-protocol-c with
// these, so the peer is measured with the provider its users would have, not with hush's tuned
// primitives. Lives in src/crypto because every OpenSSL call does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal::crypto::baseline {

/// HMAC-SHA256 through EVP_MAC: a new MAC context per object, keyed in init.
class HmacSha256 {
 public:
  explicit HmacSha256(ByteView key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  void update(ByteView data);
  std::array<std::uint8_t, 32> final();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// AES-256-CBC with PKCS#7 through a new EVP cipher context per call. Empty on failure (bad
/// padding, wrong sizes).
std::optional<Bytes> aes256_cbc(bool encrypt, ByteView key, ByteView iv, ByteView in);

}  // namespace hush::internal::crypto::baseline

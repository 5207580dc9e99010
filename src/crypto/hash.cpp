// hush internal: SHA-256 and SHA-512 through EVP with fetched algorithms.
#include "crypto/hash.h"

#include "crypto/ossl.h"

namespace hush::internal::crypto {

namespace {
template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, ByteView data) {
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  ossl_check(EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr), "EVP_Digest");
  return out;
}
}  // namespace

std::array<std::uint8_t, 32> sha256(ByteView data) {
  return digest<32>(fetched().sha256, data);
}
std::array<std::uint8_t, 64> sha512(ByteView data) {
  return digest<64>(fetched().sha512, data);
}

struct Sha512::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha512::Sha512() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_MD_CTX_new");
  ossl_check(EVP_DigestInit_ex2(impl_->ctx.get(), fetched().sha512, nullptr), "DigestInit");
}
Sha512::~Sha512() = default;

void Sha512::update(ByteView data) {
  ossl_check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()), "DigestUpdate");
}

void Sha512::final(std::span<std::uint8_t, 64> out) {
  unsigned int len = 0;
  ossl_check(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len), "DigestFinal");
  ossl_check(EVP_DigestInit_ex2(impl_->ctx.get(), nullptr, nullptr), "DigestInit");
}

}  // namespace hush::internal::crypto

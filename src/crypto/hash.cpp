// hush internal: SHA-256, SHA-512 and SHA-3/SHAKE through EVP with fetched algorithms.
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

struct Sha256::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_MD_CTX_new");
  ossl_check(EVP_DigestInit_ex2(impl_->ctx.get(), fetched().sha256, nullptr), "DigestInit");
}
Sha256::~Sha256() = default;

void Sha256::update(ByteView data) {
  ossl_check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()), "DigestUpdate");
}

void Sha256::final(std::span<std::uint8_t, 32> out) {
  unsigned int len = 0;
  ossl_check(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len), "DigestFinal");
  ossl_check(EVP_DigestInit_ex2(impl_->ctx.get(), nullptr, nullptr), "DigestInit");
}

struct ShakeAbsorber::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

ShakeAbsorber::ShakeAbsorber(Shake which) : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_MD_CTX_new");
  const EVP_MD* md = which == Shake::k128 ? fetched().shake128 : fetched().shake256;
  ossl_check(EVP_DigestInit_ex2(impl_->ctx.get(), md, nullptr), "DigestInit");
}
ShakeAbsorber::~ShakeAbsorber() = default;

void ShakeAbsorber::absorb(ByteView data) {
  ossl_check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()), "DigestUpdate");
}

void ShakeAbsorber::finish(std::span<std::uint8_t> out) {
  if (out.empty()) return;
  ossl_check(EVP_DigestFinalXOF(impl_->ctx.get(), out.data(), out.size()), "DigestFinalXOF");
}

struct Sha3::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};

  // Starts a new message under `md` and absorbs `parts`.
  void absorb(const EVP_MD* md, std::initializer_list<ByteView> parts) {
    ossl_check(EVP_DigestInit_ex2(ctx.get(), md, nullptr), "DigestInit");
    for (ByteView p : parts)
      ossl_check(EVP_DigestUpdate(ctx.get(), p.data(), p.size()), "DigestUpdate");
  }
  void finish(std::span<std::uint8_t> out) {
    unsigned int len = 0;
    ossl_check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "DigestFinal");
  }
  // One squeeze of the whole output: see the header on why there is never a second one.
  void finish_xof(std::span<std::uint8_t> out) {
    if (out.empty()) return;  // OpenSSL 3.0 refuses a zero-length XOF output
    ossl_check(EVP_DigestFinalXOF(ctx.get(), out.data(), out.size()), "DigestFinalXOF");
  }
};

Sha3::Sha3() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx) throw_openssl_failure("EVP_MD_CTX_new");
}
Sha3::~Sha3() = default;

void Sha3::sha3_256(std::initializer_list<ByteView> parts,
                    std::span<std::uint8_t, kSha3_256Size> out) {
  impl_->absorb(fetched().sha3_256, parts);
  impl_->finish(out);
}
void Sha3::sha3_512(std::initializer_list<ByteView> parts,
                    std::span<std::uint8_t, kSha3_512Size> out) {
  impl_->absorb(fetched().sha3_512, parts);
  impl_->finish(out);
}
void Sha3::shake128(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out) {
  impl_->absorb(fetched().shake128, parts);
  impl_->finish_xof(out);
}
void Sha3::shake256(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out) {
  impl_->absorb(fetched().shake256, parts);
  impl_->finish_xof(out);
}

std::array<std::uint8_t, kSha3_256Size> sha3_256(ByteView data) {
  std::array<std::uint8_t, kSha3_256Size> out{};
  Sha3().sha3_256({data}, out);
  return out;
}
std::array<std::uint8_t, kSha3_512Size> sha3_512(ByteView data) {
  std::array<std::uint8_t, kSha3_512Size> out{};
  Sha3().sha3_512({data}, out);
  return out;
}
void shake128(ByteView data, std::span<std::uint8_t> out) {
  Sha3().shake128({data}, out);
}
void shake256(ByteView data, std::span<std::uint8_t> out) {
  Sha3().shake256({data}, out);
}

}  // namespace hush::internal::crypto

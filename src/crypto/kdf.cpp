// hush internal: HMAC-SHA256 (RFC 2104) on EVP SHA-256 digests, and HKDF-SHA256 (RFC 5869).
//
// HMAC is built from the digest (H(K^opad || H(K^ipad || m))) rather than EVP_MAC so that the two
// keyed states can be kept: the Double Ratchet MACs the same key again and again (both chain-key
// steps under one chain key, three HKDF expansions under one PRK, every HKDF extraction under the
// zero salt), and re-keying would hash both pads each time. A repeated key (compared in constant
// time) only copies the kept states.
#include "crypto/kdf.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <hush/secret.h>
#include "crypto/ossl.h"

namespace hush::internal::crypto {

namespace {
constexpr std::size_t kBlockSize = 64;  // SHA-256's block
}

struct HmacSha256::Impl {
  EvpMdCtxPtr inner_keyed{EVP_MD_CTX_new()};  // after absorbing K ^ ipad
  EvpMdCtxPtr outer_keyed{EVP_MD_CTX_new()};  // after absorbing K ^ opad
  EvpMdCtxPtr work{EVP_MD_CTX_new()};
  SecretArray<kBlockSize> key;  // the key the kept states were made for
  std::size_t key_len = 0;
  bool keyed = false;
};

HmacSha256::HmacSha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->inner_keyed || !impl_->outer_keyed || !impl_->work)
    throw_openssl_failure("EVP_MD_CTX_new");
}

HmacSha256::~HmacSha256() = default;

void HmacSha256::init(ByteView key) {
  Impl& d = *impl_;
  const bool same = d.keyed && key.size() <= kBlockSize && key.size() == d.key_len &&
                    constant_time_equals(key, ByteView(d.key.expose()).first(d.key_len));
  if (!same) {
    // K0: the key, hashed first if longer than a block, zero-padded to a block (RFC 2104 §2).
    SecretArray<kBlockSize> k0;
    if (key.size() > kBlockSize) {
      unsigned int n = 0;
      ossl_check(EVP_Digest(key.data(), key.size(), k0.expose_mut().data(), &n, fetched().sha256,
                            nullptr),
                 "EVP_Digest");
      d.keyed = false;  // long keys are not kept
    } else {
      std::copy(key.begin(), key.end(), k0.expose_mut().begin());
      std::copy(key.begin(), key.end(), d.key.expose_mut().begin());
      d.key_len = key.size();
    }
    SecretArray<kBlockSize> pad;
    for (std::size_t i = 0; i < kBlockSize; ++i) pad.expose_mut()[i] = k0.expose()[i] ^ 0x36;
    ossl_check(EVP_DigestInit_ex2(d.inner_keyed.get(), fetched().sha256, nullptr), "DigestInit");
    ossl_check(EVP_DigestUpdate(d.inner_keyed.get(), pad.expose().data(), kBlockSize), "Update");
    for (std::size_t i = 0; i < kBlockSize; ++i) pad.expose_mut()[i] = k0.expose()[i] ^ 0x5c;
    ossl_check(EVP_DigestInit_ex2(d.outer_keyed.get(), fetched().sha256, nullptr), "DigestInit");
    ossl_check(EVP_DigestUpdate(d.outer_keyed.get(), pad.expose().data(), kBlockSize), "Update");
    d.keyed = key.size() <= kBlockSize;
  }
  ossl_check(EVP_MD_CTX_copy_ex(d.work.get(), d.inner_keyed.get()), "EVP_MD_CTX_copy_ex");
}

void HmacSha256::update(ByteView data) {
  ossl_check(EVP_DigestUpdate(impl_->work.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

void HmacSha256::final(std::span<std::uint8_t, kHmacSha256Size> out) {
  Impl& d = *impl_;
  SecretArray<kHmacSha256Size> inner;
  unsigned int n = 0;
  ossl_check(EVP_DigestFinal_ex(d.work.get(), inner.expose_mut().data(), &n), "DigestFinal");
  ossl_check(EVP_MD_CTX_copy_ex(d.work.get(), d.outer_keyed.get()), "EVP_MD_CTX_copy_ex");
  ossl_check(EVP_DigestUpdate(d.work.get(), inner.expose().data(), inner.size()), "Update");
  ossl_check(EVP_DigestFinal_ex(d.work.get(), out.data(), &n), "DigestFinal");
}

void hkdf_sha256(HmacSha256& extract, HmacSha256& expand, ByteView ikm, ByteView salt,
                 ByteView info, std::span<std::uint8_t> out) {
  constexpr std::size_t kHashLen = kHmacSha256Size;
  if (out.size() > 255 * kHashLen) std::abort();  // a caller bug: lengths are constants
  // Extract (RFC 5869 §2.2): PRK = HMAC(salt, IKM); a missing salt is HashLen zeros.
  static const std::uint8_t kZeroSalt[kHashLen] = {};
  SecretArray<kHashLen> prk;
  extract.mac(salt.empty() ? ByteView(kZeroSalt) : salt, ikm, prk.expose_mut());
  // Expand (§2.3): T(i) = HMAC(PRK, T(i-1) || info || i), counter from 1.
  SecretArray<kHashLen> t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out.size(); ++i) {
    expand.init(prk.expose());
    if (i > 1) expand.update(t.expose());
    expand.update(info);
    expand.update(ByteView(&i, 1));
    expand.final(t.expose_mut());
    const std::size_t n = std::min(kHashLen, out.size() - done);
    std::copy_n(t.expose().begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

}  // namespace hush::internal::crypto

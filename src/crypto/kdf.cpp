// hush internal: HMAC-SHA256 (RFC 2104) on OpenSSL's SHA-256, and HKDF-SHA256 (RFC 5869).
//
// HMAC is built from the digest (H(K^opad || H(K^ipad || m))) rather than EVP_MAC so that the two
// keyed states can be kept: the Double Ratchet MACs the same key again and again (both chain-key
// steps under one chain key, three HKDF expansions under one PRK, every HKDF extraction under the
// zero salt), and re-keying would hash both pads each time. A repeated key (compared in constant
// time) only copies the kept states.
//
// The states are OpenSSL's SHA256_CTX, through SHA256_Init/Update/Final. Those functions are
// marked deprecated in OpenSSL 3 (in favour of EVP) but are present in every 3.x and run the same
// digest code (SHA-NI where the CPU has it). The reason to use them here: a SHA256_CTX is a plain
// struct, so saving and restoring a keyed state is a struct copy, where EVP_MD_CTX_copy_ex frees
// and allocates a provider context on every copy (four per HMAC), which measurably dominated the
// message path (bench/README.md). This file is the only user.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/kdf.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <hush/secret.h>
#include "crypto/ct.h"
#include "crypto/ossl.h"

namespace hush::internal::crypto {

namespace {
constexpr std::size_t kBlockSize = 64;  // SHA-256's block
}

struct HmacSha256::Impl {
  SHA256_CTX inner_keyed;  // after absorbing K ^ ipad
  SHA256_CTX outer_keyed;  // after absorbing K ^ opad
  SHA256_CTX work;
  SecretArray<kBlockSize> key;  // the key the kept states were made for
  std::size_t key_len = 0;
  bool keyed = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    // The keyed states are as good as the key.
    OPENSSL_cleanse(&inner_keyed, sizeof inner_keyed);
    OPENSSL_cleanse(&outer_keyed, sizeof outer_keyed);
    OPENSSL_cleanse(&work, sizeof work);
  }
};

HmacSha256::HmacSha256() : impl_(std::make_unique<Impl>()) {}

HmacSha256::~HmacSha256() = default;

void HmacSha256::init(ByteView key) {
  Impl& d = *impl_;
  // Whether the key repeats the last one is a verdict on two whole keys (it follows the protocol's
  // public sequence of operations), so it is declassified for the constant-time check.
  const bool same =
      d.keyed && key.size() <= kBlockSize && key.size() == d.key_len &&
      declassified(constant_time_equals(key, ByteView(d.key.expose()).first(d.key_len)));
  if (!same) {
    // K0: the key, hashed first if longer than a block, zero-padded to a block (RFC 2104 §2).
    SecretArray<kBlockSize> k0;
    if (key.size() > kBlockSize) {
      SHA256(key.data(), key.size(), k0.expose_mut().data());
    } else {
      std::copy(key.begin(), key.end(), k0.expose_mut().begin());
      std::copy(key.begin(), key.end(), d.key.expose_mut().begin());
      d.key_len = key.size();
    }
    SecretArray<kBlockSize> pad;
    for (std::size_t i = 0; i < kBlockSize; ++i)
      pad.expose_mut()[i] = k0.expose()[i] ^ 0x36;
    ossl_check(SHA256_Init(&d.inner_keyed), "SHA256_Init");
    ossl_check(SHA256_Update(&d.inner_keyed, pad.expose().data(), kBlockSize), "SHA256_Update");
    for (std::size_t i = 0; i < kBlockSize; ++i)
      pad.expose_mut()[i] = k0.expose()[i] ^ 0x5c;
    ossl_check(SHA256_Init(&d.outer_keyed), "SHA256_Init");
    ossl_check(SHA256_Update(&d.outer_keyed, pad.expose().data(), kBlockSize), "SHA256_Update");
    d.keyed = key.size() <= kBlockSize;  // long keys are not kept
  }
  d.work = d.inner_keyed;
}

void HmacSha256::update(ByteView data) {
  ossl_check(SHA256_Update(&impl_->work, data.data(), data.size()), "SHA256_Update");
}

void HmacSha256::final(std::span<std::uint8_t, kHmacSha256Size> out) {
  Impl& d = *impl_;
  SecretArray<kHmacSha256Size> inner;
  ossl_check(SHA256_Final(inner.expose_mut().data(), &d.work), "SHA256_Final");
  d.work = d.outer_keyed;
  ossl_check(SHA256_Update(&d.work, inner.expose().data(), inner.size()), "SHA256_Update");
  ossl_check(SHA256_Final(out.data(), &d.work), "SHA256_Final");
}

void hkdf_sha256(HmacSha256& extract, HmacSha256& expand, ByteView ikm, ByteView salt,
                 ByteView info, std::span<std::uint8_t> out) {
  constexpr std::size_t kHashLen = kHmacSha256Size;
  if (out.size() > 255 * kHashLen) std::abort();  // a caller bug: lengths are constants
  // Extract (RFC 5869 §2.2): PRK = HMAC(salt, IKM); a missing salt is HashLen zeros.
  static const std::uint8_t kZeroSalt[kHashLen] = {};
  SecretArray<kHashLen> prk;
  extract.mac(salt.empty() ? ByteView(kZeroSalt) : salt, ikm, prk.expose_mut());
  hkdf_expand_sha256(expand, prk.expose(), info, out);
}

void hkdf_expand_sha256(HmacSha256& hmac, ByteView prk, ByteView info,
                        std::span<std::uint8_t> out) {
  constexpr std::size_t kHashLen = kHmacSha256Size;
  if (out.size() > 255 * kHashLen) std::abort();  // a caller bug: lengths are constants
  // Expand (§2.3): T(i) = HMAC(PRK, T(i-1) || info || i), counter from 1.
  SecretArray<kHashLen> t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out.size(); ++i) {
    hmac.init(prk);
    if (i > 1) hmac.update(t.expose());
    hmac.update(info);
    hmac.update(ByteView(&i, 1));
    hmac.final(t.expose_mut());
    const std::size_t n = std::min(kHashLen, out.size() - done);
    std::copy_n(t.expose().begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

void hmac_sha512(ByteView key, ByteView data, std::span<std::uint8_t, kHmacSha512Size> out) {
  // HMAC() (one-shot, not deprecated in OpenSSL 3) with the fetched SHA-512. An empty key or
  // message is passed as a valid pointer: OpenSSL treats a null key as "reuse the last key".
  static const std::uint8_t kEmpty[1] = {0};
  unsigned int len = 0;
  if (HMAC(fetched().sha512, key.empty() ? kEmpty : key.data(), static_cast<int>(key.size()),
           data.empty() ? kEmpty : data.data(), data.size(), out.data(), &len) == nullptr ||
      len != kHmacSha512Size)
    throw_openssl_failure("HMAC-SHA512");
}

void hkdf_extract_sha512(ByteView salt, ByteView ikm,
                         std::span<std::uint8_t, kHmacSha512Size> prk) {
  hmac_sha512(salt, ikm, prk);
}

void hkdf_expand_sha512(ByteView prk, ByteView info, std::span<std::uint8_t> out) {
  constexpr std::size_t kHashLen = kHmacSha512Size;
  if (out.size() > 255 * kHashLen) std::abort();  // a caller bug: lengths are constants
  // T(i) = HMAC(PRK, T(i-1) || info || i); the input is assembled in a wiped buffer because the
  // one-shot MAC takes a single message.
  SecretBytes input(kHashLen + info.size() + 1);
  SecretArray<kHashLen> t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out.size(); ++i) {
    std::size_t n = 0;
    if (i > 1) {
      std::copy(t.expose().begin(), t.expose().end(), input.expose_mut().begin());
      n = kHashLen;
    }
    std::copy(info.begin(), info.end(),
              input.expose_mut().begin() + static_cast<std::ptrdiff_t>(n));
    n += info.size();
    input.expose_mut()[n++] = i;
    hmac_sha512(prk, input.expose().first(n), t.expose_mut());
    const std::size_t take = std::min(kHashLen, out.size() - done);
    std::copy_n(t.expose().begin(), take, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += take;
  }
}

}  // namespace hush::internal::crypto

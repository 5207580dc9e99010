// hush internal: SFrame's AEADs (RFC 9605 §4.4.3-4.5.1).
#include "call/sframe_aead.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>

#include <hush/secret.h>

#include "crypto/kdf.h"
#include "crypto/keyed_cipher.h"

namespace hush::internal::call {

namespace {
constexpr std::size_t kAuthKeySize = crypto::kHmacSha256Size;  // Nh of the CTR suites
}

struct SframeAead::Impl {
  SuiteParams params;
  // AES-GCM suites.
  std::optional<crypto::AesGcmKeyed> gcm;
  // AES-CTR + HMAC suites: enc_key = key[..Nka], auth_key = key[Nka..] (§4.5.1 derive_subkeys).
  std::optional<crypto::Aes128Ctr> ctr;
  crypto::HmacSha256 hmac;
  SecretArray<kAuthKeySize> auth_key;

  // compute_tag of §4.5.1: HMAC(auth_key, len(aad) || len(ct) || Nt || nonce || aad || ct), each
  // length an 8-byte big-endian integer, truncated to Nt bytes (the full MAC goes to `mac`).
  void compute_tag(std::span<const std::uint8_t, kSframeNonceSize> nonce, ByteView aad1,
                   ByteView aad2, ByteView ct,
                   std::span<std::uint8_t, crypto::kHmacSha256Size> mac) {
    std::array<std::uint8_t, 24> lengths{};
    const std::uint64_t values[3] = {aad1.size() + aad2.size(), ct.size(), params.nt};
    for (std::size_t v = 0; v < 3; ++v)
      for (std::size_t i = 0; i < 8; ++i)
        lengths[v * 8 + i] = static_cast<std::uint8_t>(values[v] >> (56 - 8 * i));
    hmac.init(auth_key.expose());
    hmac.update(lengths);
    hmac.update(nonce);
    hmac.update(aad1);
    hmac.update(aad2);
    hmac.update(ct);
    hmac.final(mac);
  }

  // initial_counter = nonce || 0x00000000.
  static std::array<std::uint8_t, 16> counter_block(
      std::span<const std::uint8_t, kSframeNonceSize> nonce) {
    std::array<std::uint8_t, 16> iv{};
    std::copy(nonce.begin(), nonce.end(), iv.begin());
    return iv;
  }
};

SframeAead::SframeAead(const SuiteParams& params, ByteView key, Direction direction)
    : impl_(std::make_unique<Impl>()) {
  if (key.size() != params.nk) std::abort();  // a caller bug: sizes come from the suite
  impl_->params = params;
  if (params.ctr_hmac) {
    if (params.nka != crypto::Aes128Ctr::kKeySize || params.nk != params.nka + kAuthKeySize)
      std::abort();
    impl_->ctr.emplace(key.first<crypto::Aes128Ctr::kKeySize>());
    std::copy(key.begin() + static_cast<std::ptrdiff_t>(params.nka), key.end(),
              impl_->auth_key.expose_mut().begin());
  } else {
    impl_->gcm.emplace(key, direction == Direction::kSeal ? crypto::AesGcmKeyed::Direction::kSeal
                                                          : crypto::AesGcmKeyed::Direction::kOpen);
  }
}

SframeAead::~SframeAead() = default;

std::size_t SframeAead::tag_size() const noexcept {
  return impl_->params.nt;
}

void SframeAead::seal(std::span<const std::uint8_t, kSframeNonceSize> nonce, ByteView aad1,
                      ByteView aad2, ByteView plaintext, std::uint8_t* out) {
  Impl& d = *impl_;
  if (d.gcm) {
    d.gcm->seal(nonce, aad1, aad2, plaintext, out,
                std::span<std::uint8_t, crypto::AesGcmKeyed::kTagSize>(out + plaintext.size(), 16));
    return;
  }
  // Encrypt-then-MAC (§4.5.1 AEAD.Encrypt).
  d.ctr->apply(Impl::counter_block(nonce), plaintext, out);
  SecretArray<crypto::kHmacSha256Size> mac;
  d.compute_tag(nonce, aad1, aad2, ByteView(out, plaintext.size()), mac.expose_mut());
  std::copy_n(mac.expose().begin(), d.params.nt, out + plaintext.size());
}

bool SframeAead::open(std::span<const std::uint8_t, kSframeNonceSize> nonce, ByteView aad1,
                      ByteView aad2, ByteView ciphertext_and_tag, std::uint8_t* out) {
  Impl& d = *impl_;
  const std::size_t nt = d.params.nt;
  if (ciphertext_and_tag.size() < nt) return false;
  const std::size_t n = ciphertext_and_tag.size() - nt;
  const ByteView ct = ciphertext_and_tag.first(n);
  if (d.gcm) {
    return d.gcm->open(nonce, aad1, aad2, ct,
                       ciphertext_and_tag.subspan(n).first<crypto::AesGcmKeyed::kTagSize>(), out);
  }
  // §4.5.1 AEAD.Decrypt checks the tag first; the counter-mode pass runs whatever the verdict
  // and its output is wiped on failure, so failures cost what successes cost.
  SecretArray<crypto::kHmacSha256Size> mac;
  d.compute_tag(nonce, aad1, aad2, ct, mac.expose_mut());
  const bool ok =
      constant_time_equals(ByteView(mac.expose()).first(nt), ciphertext_and_tag.subspan(n));
  d.ctr->apply(Impl::counter_block(nonce), ct, out);
  if (!ok) secure_wipe(std::span<std::uint8_t>(out, n));
  return ok;
}

}  // namespace hush::internal::call

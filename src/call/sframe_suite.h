// hush internal: the constants of each SFrame cipher suite (RFC 9605 §4.5).
//
// Not responsible for: the primitives themselves (src/crypto/) or their composition
// (sframe_aead.h).
// Thread-safety: constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <hush/sframe.h>

namespace hush::internal::call {

/// AEAD.Nn: every suite's nonce (and salt) is 12 bytes.
inline constexpr std::size_t kSframeNonceSize = 12;

/// One suite's sizes, named as in RFC 9605 §4.4: Nh (hash output), Nka (the AES key inside a
/// CTR+HMAC key; 0 for GCM), Nk (the AEAD key), Nt (the tag).
struct SuiteParams {
  std::size_t nh;
  std::size_t nka;
  std::size_t nk;
  std::size_t nt;
  bool ctr_hmac;  // the AES-CTR + HMAC construction of §4.5.1, else AES-GCM
  bool sha512;    // HKDF with SHA-512, else SHA-256
};

/// The parameters of `suite`, or nullopt for a value that is not one of the five suites.
inline std::optional<SuiteParams> suite_params(SframeCipherSuite suite) noexcept {
  switch (suite) {
    case SframeCipherSuite::kAes128CtrHmacSha256_80:
      return SuiteParams{32, 16, 48, 10, true, false};
    case SframeCipherSuite::kAes128CtrHmacSha256_64:
      return SuiteParams{32, 16, 48, 8, true, false};
    case SframeCipherSuite::kAes128CtrHmacSha256_32:
      return SuiteParams{32, 16, 48, 4, true, false};
    case SframeCipherSuite::kAes128GcmSha256_128:
      return SuiteParams{32, 0, 16, 16, false, false};
    case SframeCipherSuite::kAes256GcmSha512_128:
      return SuiteParams{64, 0, 32, 16, false, true};
  }
  return std::nullopt;
}

}  // namespace hush::internal::call

// hush fuzzing: the fixed ML-KEM keys and ciphertexts the mlkem fuzz target works against, shared
// with its seed writer (tests/integration/fuzz_corpus_test.cpp), and the target's input layout.
//
// Input: a selector byte, then the operand. Selector bit 0 picks the parameter set (0 ML-KEM-768,
// 1 ML-KEM-1024); bits 1-3 pick the operation (value % 5):
//   0  decapsulate the operand as a ciphertext under the fixed key pair;
//   1  decapsulate the fixed genuine ciphertext under a key made of the operand as
//      dk_pke || ek || z: the harness inserts H(ek) so that arbitrary key material gets past the
//      hash check (a key of the wrong length is passed through as it is);
//   2  the operand as an encapsulation key: the modulus check, encapsulation, the ML-KEM-768 header
//      and incremental encapsulation, Kyber1024's typed form;
//   3  encaps2 (ML-KEM-768, either set bit) with the operand as t-hat, after encaps1 on the fixed
//      key's header;
//   4  the operand as header (64 bytes) || t-hat: encaps1 on the header, encaps2 on t-hat.
// Header-only; never include it from src/.
#pragma once

#include <algorithm>
#include <cstdint>

#include <hush/bytes.h>

#include "crypto/mlkem.h"

namespace hush::fuzz {

/// The fixed key pair and one genuine encapsulation for a parameter set (from fixed seeds).
struct MlKemFixed {
  internal::crypto::MlKemParameterSet set;
  internal::crypto::MlKemKeyPair keys;
  Bytes ciphertext;     ///< A genuine ciphertext (m = 0x5a...).
  Bytes shared_secret;  ///< Its K.
};

inline internal::crypto::MlKemSecret mlkem_fixed_seed(std::uint8_t value) {
  internal::crypto::MlKemSecret s;
  std::fill(s.expose_mut().begin(), s.expose_mut().end(), value);
  return s;
}

inline MlKemFixed make_mlkem_fixed(internal::crypto::MlKemParameterSet set) {
  namespace crypto = internal::crypto;
  MlKemFixed f{
      set,
      crypto::mlkem_generate_from_seed(set, mlkem_fixed_seed(0x01), mlkem_fixed_seed(0x02)),
      {},
      {}};
  auto enc =
      crypto::mlkem_encapsulate_from_seed(set, f.keys.encapsulation_key, mlkem_fixed_seed(0x5a));
  if (!enc) std::abort();
  f.ciphertext = enc->ciphertext;
  const auto k = enc->shared_secret.expose();
  f.shared_secret.assign(k.begin(), k.end());
  return f;
}

/// The selector byte for `set` (0 ML-KEM-768, 1 ML-KEM-1024) and operation `op` (0-4).
inline std::uint8_t mlkem_selector(bool mlkem1024, std::uint8_t op) {
  return static_cast<std::uint8_t>((mlkem1024 ? 1 : 0) | (op << 1));
}

}  // namespace hush::fuzz

// hush internal: ML-KEM (FIPS 203, final) for the ML-KEM-768 and ML-KEM-1024 parameter sets, and
// the two ways Signal uses it: the incremental ML-KEM-768 encapsulation of SPQR (signal-v4-wire.md
// §4.5) and libsignal's "Kyber1024" (key type 0x08, §2.1).
//
// Keys, ciphertexts and shared secrets are byte strings in FIPS 203's layouts (ek = t-hat || rho;
// dk = dk_pke || ek || H(ek) || z; c = c1 || c2). Inputs are checked as FIPS 203 §7 requires:
// sizes, the encapsulation key's modulus check and the decapsulation key's hash check, each
// refused with a typed error (kInvalidKey for a key, kInvalidMessage for a ciphertext of the wrong
// length). A ciphertext of the right length is never refused: decapsulation rejects implicitly,
// returning J(z || c) when re-encryption does not reproduce it.
//
// Constant time: no branch or memory index depends on d, z, m, dk's secret parts or a shared
// secret; the re-encryption check and the choice between K' and K-bar are branch-free. The public
// matrix is sampled by rejection from the public seed rho.
//
// Not responsible for: where keys are stored or how they travel (callers), the randomness source
// (a RandomSource is passed in), SPQR's state machine and PQXDH (the protocol layer).
// Thread-safety: re-entrant; no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal::crypto {

/// The parameter sets hush implements (FIPS 203 §8, Table 2).
enum class MlKemParameterSet : std::uint8_t {
  kMlKem768,   ///< k = 3, du = 10, dv = 4.
  kMlKem1024,  ///< k = 4, du = 11, dv = 5.
};

/// Byte sizes of a parameter set's encodings (FIPS 203 §8, Table 3).
struct MlKemSizes {
  std::size_t encapsulation_key;  ///< ek: 384k + 32.
  std::size_t decapsulation_key;  ///< dk: 768k + 96.
  std::size_t ciphertext;         ///< c: 32 (du k + dv).
};

/// The sizes for `set`.
constexpr MlKemSizes mlkem_sizes(MlKemParameterSet set) noexcept {
  return set == MlKemParameterSet::kMlKem768 ? MlKemSizes{1184, 2400, 1088}
                                             : MlKemSizes{1568, 3168, 1568};
}

/// The size of a shared secret and of each seed (d, z, m): 32 bytes.
inline constexpr std::size_t kMlKemSeedSize = 32;
/// A 32-byte seed (d, z or m) or shared secret K.
using MlKemSecret = SecretArray<kMlKemSeedSize>;

/// A key pair: the public encapsulation key and the secret decapsulation key.
struct MlKemKeyPair {
  Bytes encapsulation_key;        ///< ek, public.
  SecretBytes decapsulation_key;  ///< dk, secret (wiped when destroyed).
};

/// What encapsulation gives: the ciphertext to send and the shared secret to keep.
struct MlKemEncapsulation {
  Bytes ciphertext;           ///< c, public.
  MlKemSecret shared_secret;  ///< K, secret.
};

/// ML-KEM.KeyGen_internal (FIPS 203 Algorithm 16) from the seeds d and z: deterministic, for tests
/// and known-answer vectors. Cannot fail.
MlKemKeyPair mlkem_generate_from_seed(MlKemParameterSet set, const MlKemSecret& d,
                                      const MlKemSecret& z);
/// The size of a decapsulation key's seed form d || z.
inline constexpr std::size_t kMlKemSeedFormSize = 64;
/// Key generation from the seed form d || z of a decapsulation key (how Wycheproof and the newer
/// key formats store an ML-KEM private key): kInvalidKey unless `seed` is exactly 64 bytes.
Result<MlKemKeyPair> mlkem_generate_from_seed_form(MlKemParameterSet set, ByteView seed);
/// Key generation as FIPS 203's initial public draft (ipd) and round-3 Kyber did it: (rho, sigma) =
/// G(d) without the final standard's domain separation byte k, everything else as
/// mlkem_generate_from_seed. Only for test vectors made before FIPS 203 was final (C2SP CCTV,
/// pq-crystals round 3); never for keys in use.
MlKemKeyPair mlkem_generate_from_seed_ipd(MlKemParameterSet set, const MlKemSecret& d,
                                          const MlKemSecret& z);
/// ML-KEM.KeyGen (Algorithm 19): d and z from `random`. Fails only if `random` does
/// (kCryptoFailure).
Result<MlKemKeyPair> mlkem_generate(MlKemParameterSet set, RandomSource& random);

/// ML-KEM.Encaps_internal (Algorithm 17) with the message m: deterministic, for tests and
/// known-answer vectors. kInvalidKey if `encapsulation_key` has the wrong size or fails the modulus
/// check (§7.2).
Result<MlKemEncapsulation> mlkem_encapsulate_from_seed(MlKemParameterSet set,
                                                       ByteView encapsulation_key,
                                                       const MlKemSecret& m);
/// ML-KEM.Encaps (Algorithm 20): m from `random`. kInvalidKey as above; kCryptoFailure if `random`
/// fails.
Result<MlKemEncapsulation> mlkem_encapsulate(MlKemParameterSet set, RandomSource& random,
                                             ByteView encapsulation_key);

/// ML-KEM.Decaps (Algorithm 21): the shared secret of `ciphertext`, or the implicit-rejection
/// secret J(z || c) if it is not a valid encapsulation (never an error for a ciphertext of the
/// right length). kInvalidKey if `decapsulation_key` has the wrong size or fails the hash check
/// (§7.3); kInvalidMessage if `ciphertext` has the wrong size.
Result<MlKemSecret> mlkem_decapsulate(MlKemParameterSet set, ByteView decapsulation_key,
                                      ByteView ciphertext);

/// The encapsulation key check of §7.2 alone (size, then modulus): ok, or kInvalidKey.
Status mlkem_check_encapsulation_key(MlKemParameterSet set, ByteView encapsulation_key);
/// The decapsulation key check of §7.3 alone (size, then H(ek) == h): ok, or kInvalidKey.
Status mlkem_check_decapsulation_key(MlKemParameterSet set, ByteView decapsulation_key);

// ---- checked keys: FIPS 203's input checks once per loaded key ----
//
// FIPS 203 §7.2 and §7.3 let the input checks run ahead of time for a key that is checked once and
// then trusted. These types are the proof that a key was checked: only their `check` makes one,
// and encapsulation and decapsulation through them skip the per-call checks (and H(ek), which the
// checked encapsulation key keeps). The ByteView entry points above stay as they are (check, then
// the same code), for keys used once.

/// An ML-KEM encapsulation key that passed §7.2 (size, modulus), with its H(ek). Copyable (public).
class MlKemEncapsulationKey {
 public:
  /// Checks `encapsulation_key` (§7.2) and computes H(ek): kInvalidKey if the check fails.
  static Result<MlKemEncapsulationKey> check(MlKemParameterSet set, ByteView encapsulation_key);
  /// The parameter set the key was checked for.
  MlKemParameterSet parameter_set() const noexcept { return set_; }
  /// ek, as checked.
  ByteView bytes() const noexcept { return ek_; }
  /// H(ek) = SHA3-256(ek).
  ByteView hash() const noexcept { return hash_; }

 private:
  MlKemEncapsulationKey() = default;
  MlKemParameterSet set_ = MlKemParameterSet::kMlKem768;
  Bytes ek_;
  std::array<std::uint8_t, 32> hash_{};
};

/// An ML-KEM decapsulation key that passed §7.3 (size, H(ek) == h). Move-only, wiped.
class MlKemDecapsulationKey {
 public:
  /// Checks `decapsulation_key` (§7.3) and keeps a copy: kInvalidKey if the check fails.
  static Result<MlKemDecapsulationKey> check(MlKemParameterSet set, ByteView decapsulation_key);
  /// The parameter set the key was checked for.
  MlKemParameterSet parameter_set() const noexcept { return set_; }
  /// dk, as checked (secret).
  ByteView expose() const noexcept { return dk_.expose(); }

 private:
  MlKemDecapsulationKey() = default;
  MlKemParameterSet set_ = MlKemParameterSet::kMlKem768;
  SecretBytes dk_;
};

/// ML-KEM.Encaps_internal (Algorithm 17) on a checked key with the message m: deterministic, no
/// checks left to fail.
MlKemEncapsulation mlkem_encapsulate_from_seed(const MlKemEncapsulationKey& encapsulation_key,
                                               const MlKemSecret& m);
/// ML-KEM.Encaps on a checked key: m from `random` (kCryptoFailure if it fails).
Result<MlKemEncapsulation> mlkem_encapsulate(RandomSource& random,
                                             const MlKemEncapsulationKey& encapsulation_key);
/// ML-KEM.Decaps on a checked key: as mlkem_decapsulate without the key check; kInvalidMessage if
/// `ciphertext` has the wrong size.
Result<MlKemSecret> mlkem_decapsulate(const MlKemDecapsulationKey& decapsulation_key,
                                      ByteView ciphertext);

// ---- incremental ML-KEM-768 (SPQR's braid, signal-v4-wire.md §4.5) ----
//
// The encapsulating side receives the key in two parts: first a 64-byte header rho || H(ek), then
// the 1152-byte vector t-hat. encaps1 needs only the header and yields the first ciphertext part
// (compressed u) and the shared secret; encaps2 needs t-hat and yields the second part (compressed
// v). ct1 || ct2 is the ordinary ML-KEM-768 ciphertext of m, byte for byte.

/// Size of the header rho || H(ek).
inline constexpr std::size_t kMlKem768HeaderSize = 64;
/// Size of t-hat's encoding (ek without rho).
inline constexpr std::size_t kMlKem768VectorSize = 1152;
/// Size of ct1 = ByteEncode10(Compress10(u)).
inline constexpr std::size_t kMlKem768Ciphertext1Size = 960;
/// Size of ct2 = ByteEncode4(Compress4(v)).
inline constexpr std::size_t kMlKem768Ciphertext2Size = 128;

/// The header of an ML-KEM-768 encapsulation key: rho || SHA3-256(ek). kInvalidKey if `ek` has the
/// wrong size or fails the modulus check.
Result<std::array<std::uint8_t, kMlKem768HeaderSize>> mlkem768_header(ByteView encapsulation_key);

/// What encaps2 needs from encaps1: the coins r and the message m (secret), and the header's rho
/// and H(ek) (public, to check t-hat against). 128 bytes, wiped when destroyed. The noise vectors
/// are sampled again from r in encaps2 rather than kept (a small, serializable state).
struct MlKem768EncapsState {
  /// r || m || rho || H(ek).
  SecretArray<128> bytes;
};

/// What encaps1 gives.
struct MlKem768Encaps1 {
  std::array<std::uint8_t, kMlKem768Ciphertext1Size> ciphertext1{};  ///< ct1, public.
  MlKemSecret shared_secret;                                         ///< K, secret.
  MlKem768EncapsState state;                                         ///< For encaps2.
};

/// encaps1 with the message m (deterministic; (K, r) = G(m || H(ek)) as in Encaps). `header`
/// must be 64 bytes (else kInvalidArgument).
Result<MlKem768Encaps1> mlkem768_encaps1_from_seed(ByteView header, const MlKemSecret& m);
/// encaps1 with m from `random` (kCryptoFailure if it fails).
Result<MlKem768Encaps1> mlkem768_encaps1(RandomSource& random, ByteView header);
/// encaps2: ct2 from t-hat's encoding. kInvalidKey if `vector` has the wrong size, fails the
/// modulus check, or SHA3-256(t-hat || rho) differs from the header's hash (ek does not match the
/// header).
Result<std::array<std::uint8_t, kMlKem768Ciphertext2Size>> mlkem768_encaps2(
    ByteView vector, const MlKem768EncapsState& state);

// ---- libsignal's "Kyber1024" (key type 0x08; signal-v4-wire.md §2.1) ----
//
// Round-3 Kyber-1024 as libsignal speaks it, on ML-KEM-1024: an ML-KEM-1024 key pair is a valid
// Kyber key pair (identical layouts), and the round-3 shared secret is
// SHAKE256(K || SHA3-256(c), 32) of ML-KEM's K and the raw ciphertext c (without the type byte).
// Encapsulation hashes nothing first (round 3 replaced its random m by H(m); a random m is as
// good), so the ciphertexts are ordinary ML-KEM-1024 ciphertexts. Only implicit rejection differs
// from round 3 (J(z || c) post-processed, instead of SHAKE256(z || H(c))): garbage either way.

/// The key type byte of Kyber1024 keys and ciphertexts.
inline constexpr std::uint8_t kKyber1024Type = 0x08;
/// A typed public key: 0x08 || ek (1 + 1568).
inline constexpr std::size_t kKyber1024PublicKeySize = 1569;
/// A typed secret key: 0x08 || dk (1 + 3168).
inline constexpr std::size_t kKyber1024SecretKeySize = 3169;
/// A typed ciphertext: 0x08 || c (1 + 1568).
inline constexpr std::size_t kKyber1024CiphertextSize = 1569;

/// Kyber1024 key generation: ML-KEM-1024 key generation (kCryptoFailure if `random` fails). Round-3
/// key generation (mlkem_generate_from_seed_ipd) differs only in how the seed is hashed, which the
/// peer cannot see.
Result<MlKemKeyPair> kyber1024_generate(RandomSource& random);
/// Kyber1024 encapsulation to a raw ML-KEM-1024 key with the message m (deterministic): the
/// ciphertext is raw (no type byte). Errors as mlkem_encapsulate_from_seed.
Result<MlKemEncapsulation> kyber1024_encapsulate_from_seed(ByteView encapsulation_key,
                                                           const MlKemSecret& m);
/// Kyber1024 encapsulation with m from `random`.
Result<MlKemEncapsulation> kyber1024_encapsulate(RandomSource& random, ByteView encapsulation_key);
/// Kyber1024 decapsulation of a raw ciphertext. Errors as mlkem_decapsulate.
Result<MlKemSecret> kyber1024_decapsulate(ByteView decapsulation_key, ByteView ciphertext);
/// Kyber1024 encapsulation to a checked ML-KEM-1024 key (kyber1024_parse_public_key) with m from
/// `random`: no key check left. kInvalidArgument for a key of another parameter set; kCryptoFailure
/// if `random` fails.
Result<MlKemEncapsulation> kyber1024_encapsulate(RandomSource& random,
                                                 const MlKemEncapsulationKey& encapsulation_key);
/// Kyber1024 decapsulation with a checked ML-KEM-1024 key (kyber1024_parse_secret_key): no key
/// check left. kInvalidArgument for a key of another parameter set, kInvalidMessage for a
/// ciphertext of the wrong size.
Result<MlKemSecret> kyber1024_decapsulate(const MlKemDecapsulationKey& decapsulation_key,
                                          ByteView ciphertext);

/// 0x08 || ek. `encapsulation_key` must be 1568 bytes (a caller bug otherwise: aborts).
Bytes kyber1024_serialize_public_key(ByteView encapsulation_key);
/// The checked ek of a typed public key: kInvalidKey unless it is exactly 1569 bytes, starts with
/// 0x08 and passes the modulus check.
Result<MlKemEncapsulationKey> kyber1024_parse_public_key(ByteView serialized);
/// kyber1024_parse_public_key's checks alone (without H(ek)): ok, or kInvalidKey.
Status kyber1024_check_public_key(ByteView serialized);
/// 0x08 || dk. `decapsulation_key` must be 3168 bytes (aborts otherwise).
SecretBytes kyber1024_serialize_secret_key(ByteView decapsulation_key);
/// The checked dk of a typed secret key: kInvalidKey unless it is exactly 3169 bytes, starts with
/// 0x08 and passes the hash check.
Result<MlKemDecapsulationKey> kyber1024_parse_secret_key(ByteView serialized);
/// 0x08 || c. `ciphertext` must be 1568 bytes (aborts otherwise).
Bytes kyber1024_serialize_ciphertext(ByteView ciphertext);
/// The raw c of a typed ciphertext: kInvalidMessage unless it is exactly 1569 bytes and starts
/// with 0x08.
Result<Bytes> kyber1024_parse_ciphertext(ByteView serialized);

}  // namespace hush::internal::crypto

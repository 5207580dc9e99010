// hush internal: the polynomial layer of ML-KEM (FIPS 203 §4): arithmetic in Z_q[X]/(X^256 + 1)
// with q = 3329, the NTT and its inverse, multiplication in the NTT domain, compression,
// ByteEncode/ByteDecode, and the two samplers (SampleNTT for the public matrix, SamplePolyCBD for
// secrets).
//
// Representation: a coefficient is an int16_t congruent to the value mod q, not necessarily
// reduced; each function says what range it takes and gives. Products in the NTT domain use
// Montgomery reduction (R = 2^16): `ntt_multiply_accumulate` leaves a factor R^-1 that the caller
// removes with `to_montgomery` or `inverse_ntt` (both documented below), the way the spec's
// arithmetic is laid out in K-PKE.
//
// Constant time: nothing here branches on or indexes memory by a coefficient, except
// `sample_ntt`, whose input is the public matrix seed's XOF stream (rejection sampling of the
// public matrix is public by design). Reductions are Barrett/Montgomery without branches, and
// compression divides by q with a multiplication and a shift (no division instruction whose timing
// depends on a secret dividend: "KyberSlash").
//
// Not responsible for: hashing (the caller runs the XOF and PRF through hash.h and passes bytes),
// the K-PKE and KEM algorithms (mlkem.cpp), wiping (callers keep secret polynomials in Wiped).
// Thread-safety: re-entrant; no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <hush/secret.h>

namespace hush::internal::crypto::mlkem {

/// n: the number of coefficients of a polynomial.
inline constexpr std::size_t kN = 256;
/// q: the ML-KEM prime.
inline constexpr std::int16_t kQ = 3329;
/// Bytes of ByteEncode12 of one polynomial (384).
inline constexpr std::size_t kPolyBytes = 384;

/// A polynomial of Z_q[X]/(X^256 + 1), or its NTT representation.
struct Poly {
  std::array<std::int16_t, kN> c{};
};

/// A vector of K polynomials (K = 3 for ML-KEM-768, 4 for ML-KEM-1024).
template <std::size_t K>
struct PolyVec {
  std::array<Poly, K> p{};
};

/// A value that is overwritten with zeros when it goes out of scope (secret polynomials, the
/// message, re-encryption buffers). Not copyable; T must be trivially copyable.
template <class T>
class Wiped {
 public:
  Wiped() = default;
  ~Wiped() { secure_wipe({reinterpret_cast<std::uint8_t*>(&value), sizeof(T)}); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  /// The wrapped value.
  T value{};
};

/// Reduces every coefficient (any int16_t) to its representative in [0, q).
void poly_reduce(Poly& a) noexcept;
/// a += b, coefficientwise, without reduction (the caller keeps the sums within int16_t).
void poly_add(Poly& a, const Poly& b) noexcept;
/// a -= b, coefficientwise, without reduction.
void poly_sub(Poly& a, const Poly& b) noexcept;

/// NTT (FIPS 203 Algorithm 9) in place. Takes coefficients of absolute value below q (for example
/// CBD samples or decompressed values); gives coefficients of absolute value below q.
void ntt(Poly& a) noexcept;
/// NTT^-1 (FIPS 203 Algorithm 10) of a * R, in place: the inverse transform of a sum of products
/// from ntt_multiply_accumulate (which carries a factor R^-1). Takes coefficients of absolute
/// value below q; gives absolute values below q.
void inverse_ntt(Poly& a) noexcept;
/// Multiplies every coefficient by R (Montgomery form), which undoes the R^-1 that
/// ntt_multiply_accumulate leaves when the result stays in the NTT domain (t-hat in K-PKE.KeyGen).
/// Gives absolute values below q.
void to_montgomery(Poly& a) noexcept;

/// acc = R^-1 * (sum over i of a[i] x b[i]) in the NTT domain (MultiplyNTTs, FIPS 203 Algorithm
/// 11, summed over the vector). Takes coefficients of absolute value below q; gives absolute
/// values below q.
template <std::size_t K>
void ntt_multiply_accumulate(Poly& acc, const PolyVec<K>& a, const PolyVec<K>& b) noexcept;

/// ByteEncode12 (FIPS 203 Algorithm 5) of `a`, whose coefficients must be in [0, q).
void byte_encode12(const Poly& a, std::span<std::uint8_t, kPolyBytes> out) noexcept;
/// ByteDecode12 (FIPS 203 Algorithm 6, which reduces each 12-bit value mod q): coefficients in
/// [0, q).
void byte_decode12(std::span<const std::uint8_t, kPolyBytes> in, Poly& a) noexcept;
/// The modulus check of FIPS 203 §7.2 on one encoded polynomial: whether every 12-bit value is
/// below q (that is, ByteEncode12(ByteDecode12(in)) == in). Branch-free; the caller decides what
/// is public about the answer.
bool encoded_poly_is_reduced(std::span<const std::uint8_t, kPolyBytes> in) noexcept;

/// Compress_d then ByteEncode_d (FIPS 203 §4.2.1, Algorithm 5) for d in {1, 4, 5, 10, 11}; `a`
/// must be reduced to [0, q). `out` holds 32*d bytes.
template <int D>
void compress_encode(const Poly& a,
                     std::span<std::uint8_t, 32 * static_cast<std::size_t>(D)> out) noexcept;
/// ByteDecode_d then Decompress_d for d in {1, 4, 5, 10, 11}: coefficients in [0, q).
template <int D>
void decode_decompress(std::span<const std::uint8_t, 32 * static_cast<std::size_t>(D)> in,
                       Poly& a) noexcept;

/// SampleNTT (FIPS 203 Algorithm 7) from `stream`, the XOF's output: fills coefficients from
/// `*filled` on and advances `*filled` and `*used` (bytes consumed). Stops when the polynomial is
/// full or fewer than 3 bytes are left, so a caller that ran short can squeeze a longer prefix and
/// call again with the same counters. Branches on the stream (public).
void sample_ntt(std::span<const std::uint8_t> stream, Poly& a, std::size_t* filled,
                std::size_t* used) noexcept;

/// Bytes of PRF output SamplePolyCBD_2 takes (64 * eta with eta = 2).
inline constexpr std::size_t kCbd2Bytes = 128;
/// SamplePolyCBD_2 (FIPS 203 Algorithm 8 with eta = 2): coefficients in [-2, 2].
void sample_cbd2(std::span<const std::uint8_t, kCbd2Bytes> in, Poly& a) noexcept;

}  // namespace hush::internal::crypto::mlkem

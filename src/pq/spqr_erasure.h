// hush internal: SPQR's erasure code (signal-v4-wire.md §4.6): a systematic Reed-Solomon code over
// GF(2^16) with the reduction polynomial x^16 + x^12 + x^3 + x + 1 (0x1100B).
//
// A payload of k 32-byte blocks is read as 16k big-endian 16-bit symbols; symbol i belongs to
// polynomial i mod 16 at x = i div 16, and each of the 16 polynomials is the one of degree < k
// through its k points. Chunk j is the 16 polynomials evaluated at x = j (16 big-endian symbols,
// 32 bytes): chunks 0..k-1 are the payload itself, chunks k.. are parity, and any k distinct chunks
// give the payload back (Lagrange interpolation).
//
// The payloads are public (they travel in the clear inside SignalMessage), so nothing here needs to
// be constant time: multiplication and inversion use logarithm tables (read-only, built at
// compile time; no mutable state).
// Not responsible for: which payload a chunk belongs to, or checking that decoded bytes are
// genuine (the braid's MACs and the ML-KEM header check do that).
// Thread-safety: re-entrant; no state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <hush/bytes.h>

namespace hush::pq {

/// Bytes per chunk.
inline constexpr std::size_t kSpqrChunkSize = 32;
/// The largest payload the braid sends (the ML-KEM-768 vector t-hat): 36 chunks.
inline constexpr std::size_t kSpqrMaxPayloadSize = 1152;

/// The product of `a` and `b` in GF(2^16) mod 0x1100B.
std::uint16_t gf16_mul(std::uint16_t a, std::uint16_t b) noexcept;
/// The multiplicative inverse of `a` (0 for 0).
std::uint16_t gf16_inv(std::uint16_t a) noexcept;

/// One chunk: its index (the evaluation point) and its 32 bytes.
struct SpqrChunk {
  std::uint16_t index = 0;                          ///< x
  std::array<std::uint8_t, kSpqrChunkSize> data{};  ///< the 16 symbols at x, big-endian
};

/// Chunk `index` of `payload`, whose size must be a non-zero multiple of 32 and at most
/// kSpqrMaxPayloadSize (a caller bug otherwise: aborts).
std::array<std::uint8_t, kSpqrChunkSize> erasure_chunk(ByteView payload, std::uint16_t index);

/// The payload of `payload_size` bytes (as for erasure_chunk) from exactly payload_size / 32 chunks
/// with distinct indices (a caller bug otherwise: aborts).
Bytes erasure_decode(std::size_t payload_size, std::span<const SpqrChunk> chunks);

}  // namespace hush::pq

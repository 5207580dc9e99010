// hush internal: the wire encoding of SPQR v1's pq_ratchet field (signal-v4-wire.md §4.3):
//
//   0x01 || varint(epoch >= 1) || varint(index) || type (1 byte) [|| varint(chunk index) || chunk]
//
// The varints are protobuf's (little-endian base 128, at most 10 bytes); the chunk is present for
// the types Hdr, Ek, EkCt1Ack, Ct1 and Ct2. Trailing bytes after a complete message are ignored, as
// libsignal does.
//
// Not responsible for: whether the message fits the receiver's state (spqr.cpp).
// Thread-safety: re-entrant; no state.
#pragma once

#include <cstdint>

#include <hush/bytes.h>
#include <hush/result.h>

#include "pq/spqr_erasure.h"

namespace hush::pq {

/// The version byte of SPQR v1.
inline constexpr std::uint8_t kSpqrVersion1 = 1;

/// What a message carries besides its key index.
enum class SpqrMessageType : std::uint8_t {
  kNone = 0,      ///< nothing
  kHdr = 1,       ///< a chunk of the ML-KEM header and its MAC (ek side)
  kEk = 2,        ///< a chunk of the ML-KEM vector t-hat (ek side)
  kEkCt1Ack = 3,  ///< a chunk of t-hat, also saying ct1 arrived (ek side)
  kCt1Ack = 4,    ///< ct1 arrived, no chunk (ek side)
  kCt1 = 5,       ///< a chunk of the first ciphertext part (ct side)
  kCt2 = 6,       ///< a chunk of the second ciphertext part and its MAC (ct side)
};

/// True for the types that carry a chunk.
constexpr bool spqr_type_has_chunk(SpqrMessageType t) noexcept {
  return t == SpqrMessageType::kHdr || t == SpqrMessageType::kEk ||
         t == SpqrMessageType::kEkCt1Ack || t == SpqrMessageType::kCt1 ||
         t == SpqrMessageType::kCt2;
}

/// A decoded pq_ratchet field.
struct SpqrMessage {
  std::uint64_t epoch = 1;                        ///< the sender's braid epoch (>= 1)
  std::uint32_t index = 0;                        ///< the key index in chain epoch epoch - 1
  SpqrMessageType type = SpqrMessageType::kNone;  ///< what it carries
  SpqrChunk chunk;                                ///< meaningful when spqr_type_has_chunk(type)
};

/// The bytes of `message`.
Bytes spqr_encode_message(const SpqrMessage& message);

/// Parses a pq_ratchet field. kInvalidMessage for an empty field, a version other than 1, a
/// truncated or over-long varint, epoch 0, an index above 2^32 - 1, an unknown type, a chunk index
/// above 65535 or a short chunk.
Result<SpqrMessage> spqr_decode_message(ByteView bytes);

}  // namespace hush::pq

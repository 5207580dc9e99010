// hush internal: SPQR v1's whole state (authenticator, braid, chain) and its strict serialized
// form (signal-v4-wire.md §4.5; the braid's 11 states, each holding exactly the fields it needs).
//
// Serialized form (all integers big-endian; every length fixed by the state, so nothing is
// length-prefixed except the lists, whose counts are bounded):
//
//   u8 format (1) | u8 a2b (1 initiator, 0 responder) | u32 max_jump (25000 or 2^32 - 1)
//   auth root (32) | auth mac (32)
//   u8 braid state (1..11) | u64 epoch (1..2^62)
//   [dk (2400)] [t-hat (1152)] [header (64)] [send payload (96/160/960/1152) | u32 next chunk]
//   [ct1 (960)] [u8 n | n x (u16 chunk index | 32 bytes), n < chunks of the payload] [encaps (128)]
//   chain: u64 current epoch | next root (32) | u8 links (1..2) | per link, send then receive:
//          u32 ctr | next (32) | u16 n | n x (u32 index | key (32)), n < kSpqrKeyTrimSize
//
// Loading checks every field: sizes and counts, the decapsulation key's hash, t-hat against the
// header kept in the encapsulation state, distinct chunk and key indices (below the counter), the
// braid side against role and epoch parity, the chain's epoch against the braid's, the number of
// links, no trailing bytes; anything else is kCorruptState.
//
// Not responsible for: the transitions (spqr.cpp). Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

#include "crypto/mlkem.h"
#include "pq/spqr_chain.h"
#include "pq/spqr_erasure.h"

namespace hush::pq {

/// The braid's states (signal-v4-wire.md §4.5): 1-5 the ek side, 6-11 the ct side.
enum class SpqrBraidState : std::uint8_t {
  kKeysUnsampled = 1,
  kKeysSampled = 2,
  kHeaderSent = 3,
  kCt1Received = 4,
  kEkSentCt1Received = 5,
  kNoHeaderReceived = 6,
  kHeaderReceived = 7,
  kCt1Sampled = 8,
  kEkReceivedCt1Sampled = 9,
  kCt1Acknowledged = 10,
  kCt2Sampled = 11,
};

/// True for the states of the side that owns the ML-KEM key.
constexpr bool spqr_is_ek_side(SpqrBraidState s) noexcept {
  return static_cast<std::uint8_t>(s) <= 5;
}

/// Which optional fields a state holds, and the sizes of what it sends and receives (0: none).
struct SpqrStateLayout {
  bool dk = false;               ///< the ML-KEM-768 decapsulation key (ek side)
  bool ek_vector = false;        ///< the received t-hat (EkReceivedCt1Sampled)
  bool header = false;           ///< the received header rho || H(ek) (HeaderReceived)
  bool ct1 = false;              ///< ct1, when it is not the send payload
  bool encaps = false;           ///< the encaps1 state (ct side, before ct2)
  std::size_t send_size = 0;     ///< the payload sent in chunks
  std::size_t receive_size = 0;  ///< the payload being received in chunks
};

/// The layout of `s`.
SpqrStateLayout spqr_layout(SpqrBraidState s) noexcept;

/// The braid: its state, epoch and the fields the state's layout names (the others empty).
struct SpqrBraid {
  SpqrBraidState state = SpqrBraidState::kKeysUnsampled;        ///< where the epoch stands
  std::uint64_t epoch = 1;                                      ///< the braid epoch
  SecretBytes dk;                                               ///< 2400 bytes, or empty
  Bytes ek_vector;                                              ///< 1152 bytes, or empty
  Bytes header;                                                 ///< 64 bytes, or empty
  Bytes send_payload;                                           ///< the payload sent in chunks
  std::uint32_t send_next = 0;                                  ///< the next chunk index to send
  Bytes ct1;                                                    ///< 960 bytes, or empty
  std::vector<SpqrChunk> received;                              ///< chunks of the receive payload
  std::optional<internal::crypto::MlKem768EncapsState> encaps;  ///< encaps1's state
};

/// Everything SPQR keeps for a session.
struct SpqrStateData {
  SpqrAuthenticator auth;  ///< the braid's authenticator
  SpqrBraid braid;         ///< the braid
  SpqrChain chain;         ///< the chain of epochs
};

/// The serialized form of `state` (which must be consistent: built by spqr.cpp's transitions), in
/// a buffer sized beforehand and wiped when freed (it holds every key of the state).
SecretBytes spqr_serialize_state(const SpqrStateData& state);

/// Parses and checks a serialized state; kCorruptState on anything the format does not allow.
Result<SpqrStateData> spqr_parse_state(ByteView bytes);

/// Whether t-hat `vector` is a valid ML-KEM-768 vector whose key matches the header kept in
/// `encaps` (rho and H(ek)).
bool spqr_vector_matches(ByteView vector, const internal::crypto::MlKem768EncapsState& encaps);

}  // namespace hush::pq

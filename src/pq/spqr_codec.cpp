// SPQR v1's pq_ratchet wire codec; see spqr_codec.h.
#include "pq/spqr_codec.h"

namespace hush::pq {
namespace {

void put_varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// Protobuf's varint: at most 10 bytes, the tenth holding only bit 63.
bool get_varint(ByteView in, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (unsigned i = 0; i < 10; ++i) {
    if (pos >= in.size()) return false;
    const std::uint8_t b = in[pos++];
    if (i == 9 && b > 1) return false;
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

Bytes spqr_encode_message(const SpqrMessage& message) {
  Bytes out;
  out.reserve(4 + 3 + kSpqrChunkSize + 10);
  out.push_back(kSpqrVersion1);
  put_varint(out, message.epoch);
  put_varint(out, message.index);
  out.push_back(static_cast<std::uint8_t>(message.type));
  if (spqr_type_has_chunk(message.type)) {
    put_varint(out, message.chunk.index);
    out.insert(out.end(), message.chunk.data.begin(), message.chunk.data.end());
  }
  return out;
}

Result<SpqrMessage> spqr_decode_message(ByteView bytes) {
  if (bytes.empty()) return Error(Errc::kInvalidMessage, "spqr: empty pq_ratchet (SPQR v0)");
  if (bytes[0] != kSpqrVersion1)
    return Error(Errc::kInvalidMessage, "spqr: pq_ratchet of a version other than 1");
  std::size_t pos = 1;
  SpqrMessage m;
  std::uint64_t v = 0;
  if (!get_varint(bytes, pos, v)) return Error(Errc::kInvalidMessage, "spqr: truncated epoch");
  if (v == 0) return Error(Errc::kInvalidMessage, "spqr: epoch 0");
  m.epoch = v;
  if (!get_varint(bytes, pos, v)) return Error(Errc::kInvalidMessage, "spqr: truncated index");
  if (v > UINT32_MAX) return Error(Errc::kInvalidMessage, "spqr: index above 2^32 - 1");
  m.index = static_cast<std::uint32_t>(v);
  if (pos >= bytes.size()) return Error(Errc::kInvalidMessage, "spqr: truncated type");
  const std::uint8_t type = bytes[pos++];
  if (type > static_cast<std::uint8_t>(SpqrMessageType::kCt2))
    return Error(Errc::kInvalidMessage, "spqr: unknown message type");
  m.type = static_cast<SpqrMessageType>(type);
  if (spqr_type_has_chunk(m.type)) {
    if (!get_varint(bytes, pos, v))
      return Error(Errc::kInvalidMessage, "spqr: truncated chunk index");
    if (v > UINT16_MAX) return Error(Errc::kInvalidMessage, "spqr: chunk index above 65535");
    m.chunk.index = static_cast<std::uint16_t>(v);
    if (bytes.size() - pos < kSpqrChunkSize)
      return Error(Errc::kInvalidMessage, "spqr: truncated chunk");
    for (std::size_t i = 0; i < kSpqrChunkSize; ++i)
      m.chunk.data[i] = bytes[pos + i];
  }
  return m;
}

}  // namespace hush::pq

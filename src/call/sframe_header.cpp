// hush: the SFrame header (RFC 9605 §4.3).
//
//  0 1 2 3 4 5 6 7
// +-+-+-+-+-+-+-+-+------------+------------+
// |X|  K  |Y|  C  |   KID...   |   CTR...   |
// +-+-+-+-+-+-+-+-+------------+------------+
//
// A value below 8 lives in K (or C) with X (or Y) clear; otherwise X (Y) is set, K (C) is the
// value's length minus one, and the value follows in the fewest big-endian bytes, KID first.
#include <array>

#include <hush/sframe.h>

#include "call/sframe_suite.h"

namespace hush {

namespace {

// The number of bytes of the shortest big-endian encoding of v (v >= 8, so at least 1).
std::size_t byte_length(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (n < 8 && (v >> (8 * n)) != 0)
    ++n;
  return n;
}

// Reads one value: `small` says whether it lives in the 3 bits `bits`; otherwise `bits` + 1
// bytes follow at `at`. Returns false when the input ends early or the encoding is not the
// shortest one.
bool read_value(bool extended, std::uint8_t bits, ByteView frame, std::size_t& at,
                std::uint64_t& value) noexcept {
  if (!extended) {
    value = bits;
    return true;
  }
  const std::size_t n = std::size_t{bits} + 1;
  if (frame.size() - at < n) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v = (v << 8) | frame[at + i];
  at += n;
  // Shortest form (§4.3 "MUST be encoded with the minimum number of bytes"): values below 8 go
  // in the config byte, and no leading zero byte.
  if (v < 8 || byte_length(v) != n) return false;
  value = v;
  return true;
}

void write_value(std::uint64_t v, std::size_t n, std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
}

}  // namespace

bool is_known(SframeCipherSuite suite) noexcept {
  return internal::call::suite_params(suite).has_value();
}

std::size_t sframe_tag_size(SframeCipherSuite suite) noexcept {
  const auto p = internal::call::suite_params(suite);
  return p ? p->nt : 0;
}

Result<ParsedSframeHeader> parse_sframe_header(ByteView frame) {
  if (frame.empty()) return Error(Errc::kMalformedHeader, "parse_sframe_header: empty frame");
  const std::uint8_t config = frame[0];
  const bool x = (config & 0x80) != 0;
  const auto k = static_cast<std::uint8_t>((config >> 4) & 0x07);
  const bool y = (config & 0x08) != 0;
  const auto c = static_cast<std::uint8_t>(config & 0x07);
  std::size_t at = 1;
  ParsedSframeHeader out;
  if (!read_value(x, k, frame, at, out.header.key_id))
    return Error(Errc::kMalformedHeader, "parse_sframe_header: key id truncated or not shortest");
  if (!read_value(y, c, frame, at, out.header.counter))
    return Error(Errc::kMalformedHeader, "parse_sframe_header: counter truncated or not shortest");
  out.size = at;
  return out;
}

std::size_t encode_sframe_header(const SframeHeader& header,
                                 std::span<std::uint8_t, kSframeMaxHeaderSize> out) noexcept {
  std::uint8_t config = 0;
  std::size_t at = 1;
  if (header.key_id < 8) {
    config = static_cast<std::uint8_t>(header.key_id << 4);
  } else {
    const std::size_t n = byte_length(header.key_id);
    config = static_cast<std::uint8_t>(0x80 | ((n - 1) << 4));
    write_value(header.key_id, n, out.data() + at);
    at += n;
  }
  if (header.counter < 8) {
    config = static_cast<std::uint8_t>(config | header.counter);
  } else {
    const std::size_t n = byte_length(header.counter);
    config = static_cast<std::uint8_t>(config | 0x08 | (n - 1));
    write_value(header.counter, n, out.data() + at);
    at += n;
  }
  out[0] = config;
  return at;
}

Bytes encode_sframe_header(const SframeHeader& header) {
  std::array<std::uint8_t, kSframeMaxHeaderSize> buf{};
  const std::size_t n = encode_sframe_header(header, buf);
  return Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace hush

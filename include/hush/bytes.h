/// @file
/// Byte views, byte vectors and hex helpers for NON-secret data.
///
/// `Bytes` is a plain std::vector and is never wiped: use it only for public keys, ciphertext,
/// serialized messages and other data that is safe to leave in memory. Secrets use secret.h.
///
/// Thread-safety: free functions only; all are re-entrant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hush {

/// A read-only view of bytes owned elsewhere.
using ByteView = std::span<const std::uint8_t>;
/// An owning, growable byte buffer for non-secret data.
using Bytes = std::vector<std::uint8_t>;

/// Lowercase hex of `data` ("05ab...").
std::string to_hex(ByteView data);

/// Parses hex (either case, no separators, even length). Returns std::nullopt on any other input.
std::optional<Bytes> from_hex(std::string_view hex);

/// A view of the bytes of `s` (no copy; `s` must outlive the view).
inline ByteView as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace hush

// hush internal: SHA-256 and SHA-512 on OpenSSL 3 (algorithms fetched once per process).
//
// Not responsible for: keyed hashing (kdf.h).
// Thread-safety: free functions are re-entrant; a Sha512 object is not synchronised.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/result.h>

namespace hush::internal::crypto {

/// SHA-256 of `data`.
std::array<std::uint8_t, 32> sha256(ByteView data);
/// SHA-512 of `data`.
std::array<std::uint8_t, 64> sha512(ByteView data);

/// Incremental SHA-512 with a reusable context: `final` leaves the object ready for a new message
/// (the fingerprint iteration and libsignal's provider contract need that).
class Sha512 {
 public:
  Sha512();
  ~Sha512();
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  /// Adds `data` to the message.
  void update(ByteView data);
  /// Writes the digest of everything added since construction or the last final, then resets.
  void final(std::span<std::uint8_t, 64> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::internal::crypto

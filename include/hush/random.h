/// @file
/// The source of randomness.
///
/// Every operation that needs randomness (key generation, X3DH base keys, ratchet keys, signature
/// nonces) draws it from a `RandomSource` passed in through `Context`, so tests can make runs
/// repeatable. The library itself holds no generator state.
///
/// Thread-safety: implementations must be safe to call from several threads at once;
/// `system_random()` is.
#pragma once

#include <cstdint>
#include <span>

#include <hush/result.h>

namespace hush {

/// A cryptographically secure source of random bytes, supplied by the caller or `system_random()`.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// Fills `out` with random bytes. Fails with kCryptoFailure if no randomness is available; on
  /// failure the contents of `out` are unspecified and must not be used.
  virtual Status fill(std::span<std::uint8_t> out) = 0;
};

/// The operating system's generator through OpenSSL's `RAND_bytes`. The returned object is
/// stateless and lives for the whole program.
RandomSource& system_random() noexcept;

}  // namespace hush

/// @file
/// The source of time.
///
/// Used only for record timestamps (signed prekey creation) and age checks; never for protocol
/// decisions that a peer can influence. Passed in through `Context` so tests can fix time.
///
/// Thread-safety: implementations must be safe to call from several threads; `system_clock()` is.
#pragma once

#include <cstdint>

namespace hush {

/// A source of wall-clock time.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Milliseconds since the Unix epoch.
  virtual std::uint64_t now_ms() = 0;
};

/// The system clock (`std::chrono::system_clock`). The object is stateless and lives forever.
Clock& system_clock() noexcept;

}  // namespace hush

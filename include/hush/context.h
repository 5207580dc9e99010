/// @file
/// The environment an operation runs in.
///
/// A `Context` names the randomness, the clock and (optionally) the logger that an operation uses.
/// The library keeps no global mutable state: everything an operation needs arrives through its
/// arguments.
///
/// Deviation from the design guide (B.8): the logger lives in the Context instead of behind a
/// process-wide `set_logger()`, so that two embedders in one process cannot overwrite each other's
/// logger and the library has no global mutable state at all. A null logger means silence, which is
/// the default.
///
/// Thread-safety: a Context may be shared by threads if its RandomSource, Clock and Logger are
/// thread-safe (the defaults are; `hush/logger.h` says what a Logger must do).
#pragma once

#include <memory>

#include <hush/clock.h>
#include <hush/logger.h>
#include <hush/random.h>

namespace hush {

/// What an operation uses from its environment. The referents must outlive every call that uses
/// the Context.
struct Context {
  /// Randomness for keys and nonces.
  RandomSource& random;
  /// Wall-clock time for timestamps.
  Clock& clock;
  /// Where warnings about peer or protocol anomalies go; null (the default) logs nothing. The
  /// library never logs keys, plaintext, ciphertext or MACs, and logs addresses only redacted.
  std::shared_ptr<Logger> logger;
};

/// A Context with `system_random()`, `system_clock()` and no logger.
Context default_context();

}  // namespace hush

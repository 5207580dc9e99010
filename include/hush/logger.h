/// @file
/// Where the library's log lines go.
///
/// The library is silent unless the caller puts a `Logger` in the `Context` it passes. It then logs
/// peer and protocol anomalies (a duplicate message, a bad MAC, an untrusted identity) as one line
/// of text each: an operation name, a redacted address tag, an error name and a static location.
/// It never logs keys, plaintext, ciphertext, MACs or names in the clear, and logs nothing on
/// success paths. This header is not responsible for formatting, sinks or rotation: an
/// application forwards the lines to its own logging (`hush/spdlog_logger.h` does it for spdlog).
///
/// Thread-safety: the library calls `log()` and `enabled()` from whatever thread runs an operation,
/// and from several threads at once when threads share a Context; implementations must be
/// thread-safe.
#pragma once

#include <string_view>

namespace hush {

/// How much a log line matters. The library uses `kWarn` for peer or protocol anomalies, `kError`
/// only for its own bugs, and `kInfo` and `kDebug` sparingly; success paths log nothing.
enum class LogLevel : unsigned char {
  kDebug = 0,  ///< Detail for developing hush itself.
  kInfo = 1,   ///< Session lifecycle, rarely.
  kWarn = 2,   ///< A peer or protocol anomaly: the operation failed on its input.
  kError = 3,  ///< A bug in hush (a broken internal invariant that could be reported).
};

/// The lower-case name of `level` ("debug", "info", "warn", "error"); "unknown" otherwise.
std::string_view to_string(LogLevel level) noexcept;

/// Receives the library's log lines. Implemented by the application and set in
/// `Context::logger`; see the file comment for what is logged and for thread-safety.
class Logger {
 public:
  virtual ~Logger() = default;

  /// Takes one line at `level`. `message` has no trailing newline, holds only redacted text
  /// (operation names, error names, tags, counters) and is valid only during the call. Must not
  /// throw and must not call back into hush operations on the same store.
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;

  /// Whether lines at `level` are wanted; the library skips building a line that is not. The
  /// default accepts every level.
  virtual bool enabled(LogLevel level) const noexcept {
    (void)level;
    return true;
  }
};

}  // namespace hush

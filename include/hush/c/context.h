/// @file
/// C API: The context, what operations draw randomness, time and logging from.
///
/// A hush_context holds the system's random generator (OpenSSL's RAND_bytes), the system clock and,
/// optionally, a logging callback. Create one at start-up and pass it to every operation; free it
/// after every store and messenger that uses it. The library keeps no global state.
///
/// Not responsible for: choosing other randomness or clocks (the C++ API takes any hush::Context).
///
/// Thread-safety: a context is immutable after creation and may be shared by any number of threads,
/// provided its logging callback is thread-safe.
#ifndef HUSH_C_CONTEXT_H
#define HUSH_C_CONTEXT_H

#include <hush/c/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque: randomness, clock and logger for the operations.
typedef struct hush_context hush_context;

/// How much a log line matters (hush::LogLevel): warn for peer or protocol anomalies, error only
/// for a bug in hush.
typedef enum hush_log_level {
  HUSH_LOG_DEBUG = 0,  ///< Detail for developing hush itself.
  HUSH_LOG_INFO = 1,   ///< Session lifecycle, rarely.
  HUSH_LOG_WARN = 2,   ///< A peer or protocol anomaly: an operation failed on its input.
  HUSH_LOG_ERROR = 3   ///< A bug in hush.
} hush_log_level;

/// Receives one log line: `message` (`message_len` bytes, also NUL-terminated, valid only during
/// the call) holds only redacted text: no keys, plaintext, ciphertext or names. Called from the
/// thread running an operation; must not call into hush.
typedef void (*hush_log_fn)(void* user_data, hush_log_level level, const char* message,
                            size_t message_len);

/// Creates a context with the system's randomness and clock and no logger (the library is then
/// silent). Stores `*out` (free it with hush_context_free). Errors: HUSH_ERR_NULL_ARGUMENT,
/// HUSH_ERR_OUT_OF_MEMORY.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_context_new(hush_context** out, hush_error* error);

/// As hush_context_new, with `log` receiving every line at `min_level` (a hush_log_level value) or
/// above, with
/// `user_data` as its first argument. `log` may be NULL (no logger). `user_data` must stay valid
/// until the context is freed.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_context_new_with_logger(
    hush_log_fn log, void* user_data, int min_level, hush_context** out, hush_error* error);

/// Frees `context`; NULL is ignored. Every store and messenger using it must be freed first.
HUSH_C_API void hush_context_free(hush_context* context);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_CONTEXT_H

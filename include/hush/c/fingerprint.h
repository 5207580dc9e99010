/// @file
/// C API: Safety numbers (Signal's, byte-compatible with libsignal).
///
/// Two people compare a 60-digit number (read aloud or side by side), or one scans the other's
/// code; if they match, no one in the middle substituted a key. Compute one from both identity keys
/// and stable identifiers (hush_fingerprint_compute), or ask a messenger for the one with a person
/// (hush_messenger_safety_number). Computing costs 2 x 5200 SHA-512 iterations (a few
/// milliseconds); the display and compare functions then work on the computed object.
///
/// Not responsible for: recording that a user verified a number (trust the identity:
/// hush_session_trust_identity).
///
/// Thread-safety: a hush_fingerprint is immutable and may be read from several threads.
#ifndef HUSH_C_FINGERPRINT_H
#define HUSH_C_FINGERPRINT_H

#include <hush/c/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque: a pair's safety number, displayable and scannable.
typedef struct hush_fingerprint hush_fingerprint;

/// How hush_fingerprint_display writes the number.
typedef enum hush_fingerprint_format {
  HUSH_FINGERPRINT_DIGITS = 0,  ///< 60 digits, nothing else.
  HUSH_FINGERPRINT_GROUPED = 1  ///< 12 groups of 5 digits separated by single spaces (71 chars).
} hush_fingerprint_format;

/// The buffer size hush_fingerprint_display needs for any format, terminating NUL included.
#define HUSH_FINGERPRINT_DISPLAY_MAX 72

/// Computes the safety number (Signal's version 1, 5200 iterations) of our identity key
/// `local_key` with our stable identifier `local_id` and the peer's `remote_key` and `remote_id`
/// (each id `*_id_len` bytes; keys HUSH_PUBLIC_KEY_SIZE bytes). Stores `*out` (free it with
/// hush_fingerprint_free). Errors: HUSH_ERR_INVALID_KEY, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_fingerprint_compute(
    const char* local_id, size_t local_id_len, const uint8_t* local_key, size_t local_key_len,
    const char* remote_id, size_t remote_id_len, const uint8_t* remote_key, size_t remote_key_len,
    hush_fingerprint** out, hush_error* error);

/// Writes the number in `format` (a hush_fingerprint_format value), NUL-terminated, to `out`
/// (capacity `out_cap`) and its length without the NUL to `*out_len`; both sides show the same
/// text. HUSH_ERR_BUFFER_TOO_SMALL (with the length in `*out_len`: the capacity needed is one more)
/// when the text and its NUL do not fit. Other errors: HUSH_ERR_INVALID_ARGUMENT (an unknown
/// format), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_fingerprint_display(const hush_fingerprint* fingerprint, int format, char* out, size_t out_cap,
                         size_t* out_len, hush_error* error);

/// Writes our scannable code (the bytes to put in a QR code) to `out` (capacity `out_cap`) and its
/// size to `*out_len`. HUSH_ERR_BUFFER_TOO_SMALL (size needed in `*out_len`),
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_fingerprint_scannable(const hush_fingerprint* fingerprint, uint8_t* out, size_t out_cap,
                           size_t* out_len, hush_error* error);

/// Compares our code with one scanned from the peer's screen (`scanned_len` bytes; untrusted
/// input), in constant time: stores 1 in `*matches` when it shows the same two keys from the
/// other side, else 0. Errors: HUSH_ERR_FINGERPRINT_VERSION_MISMATCH,
/// HUSH_ERR_FINGERPRINT_IDENTIFIER_MISMATCH, HUSH_ERR_INVALID_PROTOBUF (not a safety-number code),
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_fingerprint_compare_scanned(const hush_fingerprint* fingerprint, const uint8_t* scanned,
                                 size_t scanned_len, int* matches, hush_error* error);

/// Frees `fingerprint`; NULL is ignored.
HUSH_C_API void hush_fingerprint_free(hush_fingerprint* fingerprint);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_FINGERPRINT_H

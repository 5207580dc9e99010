/// @file
/// C API: what every other C header uses: the export macros, status codes, the error struct,
/// library-owned byte buffers, addresses and the version.
///
/// Conventions of the whole C API (C99; no C++ types, no exceptions cross it):
/// - Every fallible function returns a hush_status (HUSH_OK is 0) and takes a
///   `hush_error* error` as its last argument, which may be NULL. On failure the struct receives
///   the code and a message a person can read; on success its code is set to HUSH_OK and its
///   message emptied. The caller owns the struct (on its stack, typically); the library keeps no
///   error state of its own.
/// - Every buffer goes with an explicit length. Caller-provided output buffers take a capacity and
///   a `size_t*` that receives the bytes written; when the capacity is too small (or the buffer is
///   NULL) the call fails with HUSH_ERR_BUFFER_TOO_SMALL, writes nothing, and the `size_t*`
///   receives the size needed (a size query). Variable outputs of operations that cannot be
///   repeated (an encryption advances the ratchet) are library-allocated objects freed only with
///   their hush_*_free function, which wipes any secret they hold. Nothing the library returns is
///   to be freed with free() or another allocator.
/// - Handles are opaque pointers. A NULL handle, or a NULL pointer where data is required, is
///   HUSH_ERR_NULL_ARGUMENT (never a crash); a data pointer may be NULL when its length is 0.
/// - Untrusted input (wire bytes, bundles, envelopes, scanned codes) gets a typed error, never a
///   crash.
///
/// Not responsible for: anything protocol-specific (see the other headers under hush/c/).
///
/// Thread-safety: hush_status_name and hush_status_description are pure; a hush_bytes may be read
/// from several threads at once and must be freed once, by one thread.
#ifndef HUSH_C_COMMON_H
#define HUSH_C_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
/// Marks a function of the C API as exported from the shared library (symbol version HUSH_C_1.0,
/// or HUSH_C_1.1 for the functions of group.h and sframe.h).
#define HUSH_C_API __attribute__((visibility("default")))
/// Makes the compiler warn when a caller ignores a returned hush_status.
#define HUSH_C_MUST_CHECK __attribute__((warn_unused_result))
#else
/// Marks a function of the C API as exported from the shared library (symbol version HUSH_C_1.0,
/// or HUSH_C_1.1 for the functions of group.h and sframe.h).
#define HUSH_C_API
/// Makes the compiler warn when a caller ignores a returned hush_status.
#define HUSH_C_MUST_CHECK
#endif

/// The version of the C ABI these headers describe (symbol versions HUSH_C_1.0 to HUSH_C_1.2).
#define HUSH_C_ABI_VERSION_MAJOR 1
/// The minor version of the C ABI (additions only; see docs/c-api.md).
#define HUSH_C_ABI_VERSION_MINOR 2

/// What a call did. Values 1 to 35 are the library's error codes (hush::Errc, with the same
/// numbers and names); values from 100 are errors of the C boundary itself. Values are stable:
/// never renumbered, never reused.
typedef enum hush_status {
  HUSH_OK = 0,                       ///< "ok": the call succeeded.
  HUSH_ERR_INVALID_ARGUMENT = 1,     ///< "invalid_argument": an argument is not usable.
  HUSH_ERR_INVALID_MESSAGE = 2,      ///< "invalid_message": malformed, or does not authenticate.
  HUSH_ERR_INVALID_PROTOBUF = 3,     ///< "invalid_protobuf": the bytes do not parse.
  HUSH_ERR_INVALID_VERSION = 4,      ///< "invalid_version": a newer protocol version.
  HUSH_ERR_LEGACY_MESSAGE = 5,       ///< "legacy_message": an older protocol version.
  HUSH_ERR_INVALID_KEY = 6,          ///< "invalid_key": a malformed or unusable key.
  HUSH_ERR_INVALID_KEY_ID = 7,       ///< "invalid_key_id": an unknown or already used prekey.
  HUSH_ERR_INVALID_SIGNATURE = 8,    ///< "invalid_signature": a signature does not verify.
  HUSH_ERR_NO_SESSION = 9,           ///< "no_session": no usable session (or no keys) for a peer.
  HUSH_ERR_UNTRUSTED_IDENTITY = 10,  ///< "untrusted_identity": the peer's identity key changed.
  HUSH_ERR_DUPLICATE_MESSAGE = 11,   ///< "duplicate_message": already decrypted.
  HUSH_ERR_TOO_FAR_IN_FUTURE = 12,   ///< "too_far_in_future": the counter jumps too far ahead.
  HUSH_ERR_CORRUPT_STATE = 13,       ///< "corrupt_state": stored data is damaged.
  HUSH_ERR_STORE_FAILURE = 14,       ///< "store_failure": the store could not read or write.
  HUSH_ERR_CRYPTO_FAILURE = 15,      ///< "crypto_failure": the crypto backend failed.
  HUSH_ERR_TRANSPORT_FAILURE = 16,   ///< "transport_failure": a transport or directory failed.
  HUSH_ERR_LIMIT_EXCEEDED = 17,      ///< "limit_exceeded": an input exceeds a documented limit.
  HUSH_ERR_UNSUPPORTED = 18,         ///< "unsupported": this version cannot do that.
  HUSH_ERR_WRONG_STORAGE_KEY = 19,   ///< "wrong_storage_key": the database has another key.
  HUSH_ERR_FINGERPRINT_VERSION_MISMATCH = 20,     ///< "fingerprint_version_mismatch".
  HUSH_ERR_FINGERPRINT_IDENTIFIER_MISMATCH = 21,  ///< "fingerprint_identifier_mismatch".
  HUSH_ERR_IN_TRANSACTION = 22,     ///< "in_transaction": encryption inside a transaction.
  HUSH_ERR_SENDER_MISMATCH = 23,    ///< "sender_mismatch": the envelope names another sender.
  HUSH_ERR_STORE_ROLLED_BACK = 24,  ///< "store_rolled_back": the store went back to an old copy.
  HUSH_ERR_STALE_DEVICE_LIST = 25,  ///< "stale_device_list": older than a list already seen.
  HUSH_ERR_UNKNOWN_DEVICE = 26,     ///< "unknown_device": not on its person's device list.
  HUSH_ERR_MALFORMED_HEADER = 27,   ///< "malformed_header": an SFrame header is malformed.
  HUSH_ERR_UNKNOWN_KEY_ID = 28,     ///< "unknown_key_id": no SFrame key for the key id.
  HUSH_ERR_AUTHENTICATION_FAILED = 29,  ///< "authentication_failed": a frame does not authenticate.
  HUSH_ERR_REPLAYED_FRAME = 30,     ///< "replayed_frame": a frame's counter was already accepted.
  HUSH_ERR_FRAME_TOO_LARGE = 31,    ///< "frame_too_large": a frame or its metadata is too large.
  HUSH_ERR_COUNTER_EXHAUSTED = 32,  ///< "counter_exhausted": an SFrame sender needs a new key.
  HUSH_ERR_DIGEST_MISMATCH = 33,    ///< "digest_mismatch": an attachment blob is not the one named.
  HUSH_ERR_ATTACHMENT_TOO_LARGE = 34,  ///< "attachment_too_large": over the attachment limit.
  HUSH_ERR_ATTACHMENT_CORRUPT = 35,    ///< "attachment_corrupt": a segment does not authenticate.
  HUSH_ERR_NOT_GROUP_ADMIN = 36,       ///< "not_group_admin": a group change by a non-admin.
  HUSH_ERR_STALE_GROUP_REVISION = 37,  ///< "stale_group_revision": not a newer group revision.
  HUSH_ERR_NOT_GROUP_MEMBER = 38,      ///< "not_group_member": not a current member's device.
  HUSH_ERR_UNKNOWN_GROUP = 39,         ///< "unknown_group": no group with that id is held.
  HUSH_ERR_INVALID_KEM_KEY = 40,  ///< "invalid_kem_key": a Kyber key of the wrong type or length.
  HUSH_ERR_INVALID_KEM_CIPHERTEXT = 41,  ///< "invalid_kem_ciphertext": a Kyber ciphertext of the
                                         ///< wrong type or length.
  HUSH_ERR_POST_QUANTUM_REQUIRED = 42,   ///< "post_quantum_required": a v3 (X3DH) bundle, session
                                         ///< or message where post-quantum sessions are required.
  HUSH_ERR_UNVERIFIED_GROUP = 47,      ///< "unverified_group": a group state whose creator proof or
                                       ///< admin certificates do not verify (or are missing).
  HUSH_ERR_UNKNOWN_CALL = 51,          ///< "unknown_call": no call with that id is held.
  HUSH_ERR_CALL_IN_PROGRESS = 52,      ///< "call_in_progress": already in a call.
  HUSH_ERR_CALL_PARTY_UNTRUSTED = 53,  ///< "call_party_untrusted": the person has an unresolved
                                       ///< identity change.
  HUSH_ERR_INVALID_CALL_STATE = 54,    ///< "invalid_call_state": not allowed in the call's state.
  HUSH_ERR_CALL_ENDED = 55,            ///< "call_ended": the call ended (keys wiped), or no key.
  HUSH_ERR_INVALID_CALL_MESSAGE = 56,  ///< "invalid_call_message": a malformed call message.
  HUSH_ERR_NULL_ARGUMENT = 100,        ///< "null_argument": a required pointer was NULL.
  HUSH_ERR_BUFFER_TOO_SMALL = 101,     ///< "buffer_too_small": see the size out-parameter.
  HUSH_ERR_OUT_OF_MEMORY = 102,        ///< "out_of_memory": an allocation failed.
  HUSH_ERR_INTERNAL = 103              ///< "internal_error": a bug in hush; please report it.
} hush_status;

/// The size of hush_error's message buffer, terminating NUL included.
#define HUSH_ERROR_MESSAGE_SIZE 256

/// Why a call failed: the code and a message a person can read (English, one line, naming the
/// function, what went wrong and the library's static location, e.g. "hush_session_decrypt: this
/// message was already decrypted (duplicate_message; decrypt: message key already used or
/// dropped)"). Messages never contain keys, plaintext or names. Owned by the caller; the layout is
/// part of the ABI.
typedef struct hush_error {
  hush_status code;                       ///< HUSH_OK after a successful call.
  char message[HUSH_ERROR_MESSAGE_SIZE];  ///< NUL-terminated; empty after a successful call.
} hush_error;

/// The stable snake_case name of `status`, a hush_status value ("duplicate_message"; taken as an
/// int, so any value is safe); "unknown_error" for a value that is not one. The string is static.
HUSH_C_API const char* hush_status_name(int status);

/// A sentence describing `status`, a hush_status value ("this message was already decrypted");
/// static.
HUSH_C_API const char* hush_status_description(int status);

/// "MAJOR.MINOR.PATCH" of the library actually loaded; static, NUL-terminated.
HUSH_C_API const char* hush_version_string(void);

/// A device: a person's name (any bytes, `name_len` of them) and a device id (1 and up). The
/// layout is part of the ABI. Where the library hands one to a callback, `name` is also
/// NUL-terminated and valid only during the call.
typedef struct hush_address {
  const char* name;    ///< The person's name; need not be NUL-terminated.
  size_t name_len;     ///< The length of `name` in bytes.
  uint32_t device_id;  ///< The device (1 and up).
} hush_address;

/// A byte buffer the library allocated (a ciphertext, a plaintext, a bundle). Opaque; read it with
/// hush_bytes_data and hush_bytes_size; free it with hush_bytes_free, which wipes it.
typedef struct hush_bytes hush_bytes;

/// The bytes of `bytes` (NULL for a NULL handle or an empty buffer). Valid until hush_bytes_free.
HUSH_C_API const uint8_t* hush_bytes_data(const hush_bytes* bytes);

/// The number of bytes in `bytes` (0 for a NULL handle).
HUSH_C_API size_t hush_bytes_size(const hush_bytes* bytes);

/// Wipes and frees `bytes`; NULL is ignored.
HUSH_C_API void hush_bytes_free(hush_bytes* bytes);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_COMMON_H

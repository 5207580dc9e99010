/// @file
/// C API: SFrame (RFC 9605), end-to-end encryption of media frames (added in HUSH_C_1.1).
///
/// A hush_sframe_sender encrypts the frames of one sender under one base key and key id; a
/// hush_sframe_receiver holds the base keys of the senders it listens to, by key id, and decrypts
/// their frames, refusing replays. Both derive the frame key and salt from the base key (RFC 9605
/// §4.4.2) and speak the five cipher suites of §4.5 (hush_sframe_suite). A frame is
/// `header || ciphertext || tag`; the header carries the key id and the counter in clear and is
/// authenticated together with the application's metadata (which the receiver must pass
/// unchanged).
///
/// Not responsible for: choosing, distributing or rotating base keys and key ids (the
/// application's job, e.g. over hush sessions or groups: a fresh base key per sender and call, a
/// new one when someone leaves; call keys derived by hush itself are still to come), packetising
/// frames, jitter buffers. A frame refused with HUSH_ERR_UNKNOWN_KEY_ID changes nothing and may be
/// offered again after hush_sframe_receiver_add_key.
///
/// What a server (an SFU) that forwards frames can still do: see every frame's size, timing, key
/// id and counter, and read the metadata (authenticated, not encrypted); drop, delay, reorder or
/// duplicate frames (duplicates and frames older than the replay window are refused:
/// HUSH_ERR_REPLAYED_FRAME); send bytes of its own (refused: HUSH_ERR_AUTHENTICATION_FAILED, but
/// the short tags of the _64 and _32 suites can be guessed by brute force: prefer the GCM suites).
/// It cannot read media or alter a frame unnoticed. SFrame has no per-sender authentication:
/// everyone holding a base key (every participant of the call) can forge frames under its key id.
///
/// Thread-safety: a sender or a receiver is not synchronised: use each from one thread at a time
/// (they hold counters); distinct ones may be used from distinct threads. Free each once.
#ifndef HUSH_C_SFRAME_H
#define HUSH_C_SFRAME_H

#include <hush/c/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The SFrame cipher suites (RFC 9605 §4.5); the value is the IANA registry's identifier.
typedef enum hush_sframe_suite {
  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80 = 1,  ///< AES-128-CTR + HMAC-SHA256, 10-byte tag.
  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_64 = 2,  ///< AES-128-CTR + HMAC-SHA256, 8-byte tag.
  HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_32 = 3,  ///< AES-128-CTR + HMAC-SHA256, 4-byte tag.
  HUSH_SFRAME_AES_128_GCM_SHA256_128 = 4,      ///< AES-128-GCM, 16-byte tag.
  HUSH_SFRAME_AES_256_GCM_SHA512_128 = 5       ///< AES-256-GCM, 16-byte tag.
} hush_sframe_suite;

/// The shortest base key accepted, in bytes.
#define HUSH_SFRAME_MIN_BASE_KEY_SIZE 16
/// The longest base key accepted, in bytes.
#define HUSH_SFRAME_MAX_BASE_KEY_SIZE 64
/// The most bytes encryption adds to a plaintext (the longest header and the largest tag).
#define HUSH_SFRAME_MAX_OVERHEAD 33
/// The largest plaintext encrypted and the largest frame decrypted, in bytes (4 MiB).
#define HUSH_SFRAME_MAX_FRAME_BYTES 4194304
/// The largest metadata an SFrame operation takes, in bytes.
#define HUSH_SFRAME_MAX_METADATA_BYTES 4096

/// Opaque: encrypts one sender's frames under one key id and base key.
typedef struct hush_sframe_sender hush_sframe_sender;
/// Opaque: decrypts frames of the key ids whose base keys it holds, refusing replays.
typedef struct hush_sframe_receiver hush_sframe_receiver;

/// A sender for `key_id` that derives its key and salt from `base_key` (`base_key_len` bytes,
/// HUSH_SFRAME_MIN_BASE_KEY_SIZE to HUSH_SFRAME_MAX_BASE_KEY_SIZE; the library keeps only what it
/// derives, wiped on free) for `suite` (a hush_sframe_suite value, taken as an int), numbering its
/// first frame `next_counter`: 0 for a new key; a program that resumes a key after a restart passes
/// a counter it stored before using it (hush_sframe_sender_next_counter), never one already used.
/// Stores `*out` (free it with hush_sframe_sender_free). Errors: HUSH_ERR_INVALID_ARGUMENT (an
/// unknown suite), HUSH_ERR_INVALID_KEY (a base key of another length), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_sframe_sender_new(int suite, uint64_t key_id, const uint8_t* base_key, size_t base_key_len,
                       uint64_t next_counter, hush_sframe_sender** out, hush_error* error);

/// Encrypts `plaintext` (`plaintext_len` bytes) as the next frame, authenticating `metadata`
/// (`metadata_len` bytes, may be NULL and 0) with it, and stores `header || ciphertext || tag` in
/// `*frame` (free it with hush_bytes_free). The counter advances on success only. Errors:
/// HUSH_ERR_FRAME_TOO_LARGE (beyond HUSH_SFRAME_MAX_FRAME_BYTES or
/// HUSH_SFRAME_MAX_METADATA_BYTES), HUSH_ERR_COUNTER_EXHAUSTED (the last counter was used: a new
/// key id and base key are needed), HUSH_ERR_CRYPTO_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_sframe_sender_encrypt(
    hush_sframe_sender* sender, const uint8_t* metadata, size_t metadata_len,
    const uint8_t* plaintext, size_t plaintext_len, hush_bytes** frame, hush_error* error);

/// Stores in `*out` the counter the next frame will carry (store it, ahead of use, to resume after
/// a restart). Errors: HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_sframe_sender_next_counter(const hush_sframe_sender* sender, uint64_t* out, hush_error* error);

/// Wipes and frees `sender`; NULL is ignored.
HUSH_C_API void hush_sframe_sender_free(hush_sframe_sender* sender);

/// A receiver with no keys for `suite` (a hush_sframe_suite value, taken as an int). Stores `*out`
/// (free it with hush_sframe_receiver_free). Errors: HUSH_ERR_INVALID_ARGUMENT (an unknown suite),
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_sframe_receiver_new(int suite,
                                                                  hush_sframe_receiver** out,
                                                                  hush_error* error);

/// Adds the base key of `key_id` (`base_key_len` bytes, HUSH_SFRAME_MIN_BASE_KEY_SIZE to
/// HUSH_SFRAME_MAX_BASE_KEY_SIZE), with an empty replay window. Removing a key id and adding the
/// same base key again forgets which frames were seen: never reuse a key id for the same base key.
/// Errors (nothing changes): HUSH_ERR_INVALID_ARGUMENT (the key id already has a key: remove it
/// first), HUSH_ERR_INVALID_KEY (a base key of another length), HUSH_ERR_LIMIT_EXCEEDED (more than
/// 256 key ids), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_sframe_receiver_add_key(hush_sframe_receiver* receiver, uint64_t key_id,
                             const uint8_t* base_key, size_t base_key_len, hush_error* error);

/// Forgets the key of `key_id` and wipes it. Errors: HUSH_ERR_UNKNOWN_KEY_ID (none is held),
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_sframe_receiver_remove_key(hush_sframe_receiver* receiver, uint64_t key_id, hush_error* error);

/// Checks and decrypts `frame` (`frame_len` bytes; untrusted input) with `metadata` (the bytes the
/// sender passed; may be NULL and 0) and stores the plaintext in `*plaintext` (free it with
/// hush_bytes_free, which wipes it). Only a success changes state (the counter is marked as seen).
/// Errors, in the order they are checked: HUSH_ERR_FRAME_TOO_LARGE, HUSH_ERR_MALFORMED_HEADER,
/// HUSH_ERR_UNKNOWN_KEY_ID, HUSH_ERR_REPLAYED_FRAME (a counter already accepted, or 128 or more
/// behind the highest accepted one), HUSH_ERR_AUTHENTICATION_FAILED (altered, truncated, another
/// key or other metadata); HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_sframe_receiver_decrypt(
    hush_sframe_receiver* receiver, const uint8_t* metadata, size_t metadata_len,
    const uint8_t* frame, size_t frame_len, hush_bytes** plaintext, hush_error* error);

/// Wipes and frees `receiver` and every key it holds; NULL is ignored.
HUSH_C_API void hush_sframe_receiver_free(hush_sframe_receiver* receiver);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_SFRAME_H

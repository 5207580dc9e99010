/// @file
/// C API: One-to-one sessions (X3DH and the Double Ratchet, Signal protocol v3) over a store.
///
/// Alice processes Bob's bundle (hush_session_process_bundle) and encrypts; her first messages are
/// prekey messages (HUSH_MESSAGE_PREKEY) until Bob answers, then whisper messages
/// (HUSH_MESSAGE_WHISPER). The type is not in the bytes: the transport carries it beside them, and
/// the receiver passes both to hush_session_decrypt. Each operation is one store transaction: one
/// that fails (a bad MAC, a duplicate, an untrusted identity, a store error) changes nothing.
///
/// What a relay (or anyone who can inject messages) can still do: withhold, delay, reorder and
/// duplicate messages (a duplicate is refused: HUSH_ERR_DUPLICATE_MESSAGE), and, for a person we
/// have never talked to, hand out its own bundle (trust on first use: compare safety numbers). It
/// cannot read messages, forge them, or make a known person's device accept another identity key.
///
/// Group messages (sender keys) are in group.h, SFrame media frames in sframe.h; sessions carry
/// their distribution messages and base keys.
///
/// Not responsible for: transport, bundle publication (bundle.h), people with several devices
/// (messenger.h does the fan-out).
///
/// Thread-safety: operations may run concurrently on one store from several threads (its
/// transactions serialise them); a plaintext or ciphertext hush_bytes is owned by the caller.
#ifndef HUSH_C_SESSION_H
#define HUSH_C_SESSION_H

#include <hush/c/common.h>
#include <hush/c/context.h>
#include <hush/c/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kind of a one-to-one message, carried by the transport beside the bytes.
typedef enum hush_message_type {
  HUSH_MESSAGE_WHISPER = 2,  ///< A SignalMessage (an established session).
  HUSH_MESSAGE_PREKEY = 3    ///< A PreKeySignalMessage (starts a session at the receiver).
} hush_message_type;

/// Runs X3DH against `bundle` (`bundle_len` bytes, from hush_bundle_make; untrusted input) of the
/// device `remote`, and stores the new session (its first messages are prekey messages). The
/// person's identity is pinned if none was. Errors: HUSH_ERR_INVALID_SIGNATURE,
/// HUSH_ERR_UNTRUSTED_IDENTITY (the bundle's identity is not the one trusted for the name),
/// HUSH_ERR_INVALID_KEY, HUSH_ERR_INVALID_MESSAGE, HUSH_ERR_INVALID_PROTOBUF,
/// HUSH_ERR_LIMIT_EXCEEDED, HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_session_process_bundle(
    const hush_context* context, hush_store* store, const hush_address* remote,
    const uint8_t* bundle, size_t bundle_len, hush_error* error);

/// Encrypts `plaintext` (`plaintext_len` bytes) for `remote` and advances the session; the
/// advanced state is durable before this returns. Stores the message type in `*type` and the
/// ciphertext in `*ciphertext` (free it with hush_bytes_free). Errors: HUSH_ERR_NO_SESSION,
/// HUSH_ERR_UNTRUSTED_IDENTITY, HUSH_ERR_LIMIT_EXCEEDED (plaintext above 16 MiB),
/// HUSH_ERR_STORE_ROLLED_BACK, HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE,
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_session_encrypt(const hush_context* context, hush_store* store, const hush_address* remote,
                     const uint8_t* plaintext, size_t plaintext_len, hush_message_type* type,
                     hush_bytes** ciphertext, hush_error* error);

/// Decrypts a message of `type` (a hush_message_type value, taken as an int so that any value a
/// caller passes is defined behaviour) (`ciphertext_len` bytes; untrusted input) from `remote`; a
/// prekey message sets up the session first. Stores the plaintext in `*plaintext` (free it with
/// hush_bytes_free, which wipes it). Errors: HUSH_ERR_INVALID_ARGUMENT (an unknown type),
/// HUSH_ERR_INVALID_MESSAGE (malformed, or does not authenticate), HUSH_ERR_INVALID_PROTOBUF,
/// HUSH_ERR_INVALID_VERSION, HUSH_ERR_LEGACY_MESSAGE, HUSH_ERR_INVALID_KEY,
/// HUSH_ERR_INVALID_KEY_ID, HUSH_ERR_NO_SESSION, HUSH_ERR_DUPLICATE_MESSAGE,
/// HUSH_ERR_TOO_FAR_IN_FUTURE, HUSH_ERR_UNTRUSTED_IDENTITY, HUSH_ERR_LIMIT_EXCEEDED,
/// HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_session_decrypt(
    const hush_context* context, hush_store* store, const hush_address* remote, int type,
    const uint8_t* ciphertext, size_t ciphertext_len, hush_bytes** plaintext, hush_error* error);

/// Stores 1 in `*exists` if there is a session with `remote` that can encrypt, else 0. Errors:
/// HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_session_exists(hush_store* store,
                                                             const hush_address* remote,
                                                             int* exists, hush_error* error);

/// Stores the protocol version of the current session with `remote` in `*version` (HUSH_C_1.2): 3
/// (X3DH), 4 (post-quantum: PQXDH and SPQR), or 0 without one. Errors: HUSH_ERR_STORE_FAILURE,
/// HUSH_ERR_CORRUPT_STATE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_session_version(hush_store* store,
                                                              const hush_address* remote,
                                                              uint32_t* version, hush_error* error);

/// Trusts `identity_key` (HUSH_PUBLIC_KEY_SIZE bytes) for the person `name` (`name_len` bytes),
/// for example after the user compared a changed safety number, and closes the sessions made with
/// another identity (the next send needs a new bundle). Errors: HUSH_ERR_INVALID_KEY,
/// HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_session_trust_identity(
    hush_store* store, const char* name, size_t name_len, const uint8_t* identity_key,
    size_t identity_key_len, hush_error* error);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_SESSION_H

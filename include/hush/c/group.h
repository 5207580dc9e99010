/// @file
/// C API: Group messaging with sender keys (added in HUSH_C_1.1).
///
/// A group is named by a hush_group handle, in one of two wire formats: libsignal-protocol-c
/// 2.3.3's (hush_group_new_legacy: any name of 1 to HUSH_MAX_GROUP_NAME_BYTES bytes) or current
/// libsignal's (hush_group_new_current: a distribution id, a UUID in its lowercase text form, which
/// travels in every message; hush_group_new_random makes a fresh one, hush_group_name reads it). A
/// legacy group and a current group are distinct even if their names are the same text.
///
/// Each member creates its chain for the group (hush_group_create_distribution) and sends the
/// distribution message to every other member over their 1:1 sessions (session.h, messenger.h): it
/// holds the chain key, so it must never travel in clear. Each member that receives it calls
/// hush_group_process_distribution. The member then encrypts each group message once
/// (hush_group_encrypt); the server fans the one ciphertext out, and every member decrypts it with
/// hush_group_decrypt, naming the sender. When a member leaves, the others call
/// hush_group_rotate_sender_key and distribute their new chains to those who stay. Each operation
/// is one store transaction: one that fails (a bad signature, a duplicate, a store error) changes
/// nothing.
///
/// What a server (or anyone who can inject messages) can still do: withhold, delay, reorder,
/// duplicate and drop group messages (a duplicate is refused: HUSH_ERR_DUPLICATE_MESSAGE), deliver
/// a message to some members and not others, and deliver a message under another sender's name
/// (refused: HUSH_ERR_NO_SESSION or HUSH_ERR_INVALID_MESSAGE). It cannot read group messages or
/// forge them. Every member holding a sender's chain reads what that sender sends with it; only the
/// sender can sign. Sender keys do not say who relayed a distribution message: accept them only
/// from authenticated 1:1 sessions, and pass the session's sender as `sender`.
///
/// Not responsible for: membership (who receives a distribution message), transport.
///
/// Thread-safety: a hush_group is an immutable value and may be shared by threads; operations may
/// run concurrently on one store (its transactions serialise them); free a handle once.
#ifndef HUSH_C_GROUP_H
#define HUSH_C_GROUP_H

#include <hush/c/common.h>
#include <hush/c/context.h>
#include <hush/c/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The longest legacy group name, in bytes.
#define HUSH_MAX_GROUP_NAME_BYTES 1024
/// The length of a distribution id's text form ("d1d1d1d1-7000-11eb-b32a-33b8a8a487a6").
#define HUSH_DISTRIBUTION_ID_TEXT_SIZE 36

/// Opaque: a group as sender keys see it (its wire format and its name). Immutable.
typedef struct hush_group hush_group;

/// A group in libsignal-protocol-c 2.3.3's format named `name` (`name_len` bytes, 1 to
/// HUSH_MAX_GROUP_NAME_BYTES, any bytes). Stores `*out` (free it with hush_group_free). Errors:
/// HUSH_ERR_INVALID_ARGUMENT (an empty or too long name), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_new_legacy(const char* name, size_t name_len,
                                                               hush_group** out, hush_error* error);

/// A group in current libsignal's format named by the distribution id `distribution_id`
/// (`distribution_id_len` bytes: the canonical lowercase text form of a UUID, 8-4-4-4-12 hex
/// digits, no NUL needed). Stores `*out` (free it with hush_group_free). Errors:
/// HUSH_ERR_INVALID_ARGUMENT (not a lowercase UUID), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_new_current(const char* distribution_id,
                                                                size_t distribution_id_len,
                                                                hush_group** out,
                                                                hush_error* error);

/// A new group in current libsignal's format, named by a fresh random (version 4) distribution id
/// (read it with hush_group_name to tell the other members). Stores `*out` (free it with
/// hush_group_free). Errors: HUSH_ERR_CRYPTO_FAILURE (no randomness), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_new_random(const hush_context* context,
                                                               hush_group** out, hush_error* error);

/// Writes the group's name, NUL-terminated, to `out` (capacity `out_cap`) and its length without
/// the NUL to `*out_len`: the legacy name (which may itself hold NUL bytes: use `*out_len`), or the
/// distribution id's text form (HUSH_DISTRIBUTION_ID_TEXT_SIZE characters). Stores in `*is_legacy`
/// (may be NULL) 1 for a legacy-format group, else 0. HUSH_ERR_BUFFER_TOO_SMALL (with the length
/// in `*out_len`: the capacity needed is one more) when the name and its NUL do not fit. Other
/// errors: HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_name(const hush_group* group, char* out,
                                                         size_t out_cap, size_t* out_len,
                                                         int* is_legacy, hush_error* error);

/// Frees `group`; NULL is ignored.
HUSH_C_API void hush_group_free(hush_group* group);

/// Our distribution message for `group`, as `self` (our own address): the newest chain we hold for
/// the group at its current iteration, or a new chain (stored in one transaction) if we hold none.
/// Calling it again gives the same chain. Stores the message in `*distribution` (free it with
/// hush_bytes_free, which wipes it: it holds the chain key; send it only inside a 1:1 session).
/// Errors: HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_CRYPTO_FAILURE,
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_create_distribution(
    const hush_context* context, hush_store* store, const hush_address* self,
    const hush_group* group, hush_bytes** distribution, hush_error* error);

/// Starts a new chain of ours for `group` (older chains are no longer used to encrypt) and stores
/// its distribution message in `*distribution` (free it with hush_bytes_free): after a member
/// leaves, send it to those who stay, and the one who left cannot read what follows. Errors: as
/// hush_group_create_distribution.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_rotate_sender_key(
    const hush_context* context, hush_store* store, const hush_address* self,
    const hush_group* group, hush_bytes** distribution, hush_error* error);

/// Stores the chain of `sender` in `group` from the distribution message `distribution`
/// (`distribution_len` bytes; untrusted input, received over the 1:1 session with `sender`). A
/// chain already held is kept as it is, never restarted. Errors: HUSH_ERR_INVALID_MESSAGE
/// (malformed, of the other format, or naming another distribution id), HUSH_ERR_INVALID_KEY,
/// HUSH_ERR_INVALID_PROTOBUF, HUSH_ERR_LEGACY_MESSAGE, HUSH_ERR_INVALID_VERSION,
/// HUSH_ERR_LIMIT_EXCEEDED, HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_group_process_distribution(
    hush_store* store, const hush_address* sender, const hush_group* group,
    const uint8_t* distribution, size_t distribution_len, hush_error* error);

/// Encrypts `plaintext` (`plaintext_len` bytes) for `group` with our newest chain (as `self`),
/// signs it and advances the chain; the advanced chain is durable before this returns. Stores the
/// message, the same for every member, in `*ciphertext` (free it with hush_bytes_free). Errors:
/// HUSH_ERR_NO_SESSION (no chain of ours for the group: call hush_group_create_distribution
/// first), HUSH_ERR_LIMIT_EXCEEDED (plaintext above 16 MiB, or the chain exhausted),
/// HUSH_ERR_IN_TRANSACTION, HUSH_ERR_STORE_ROLLED_BACK, HUSH_ERR_STORE_FAILURE,
/// HUSH_ERR_CORRUPT_STATE, HUSH_ERR_CRYPTO_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_group_encrypt(const hush_context* context, hush_store* store, const hush_address* self,
                   const hush_group* group, const uint8_t* plaintext, size_t plaintext_len,
                   hush_bytes** ciphertext, hush_error* error);

/// Decrypts a group message (`ciphertext_len` bytes; untrusted input) from `sender` in `group`.
/// Stores the plaintext in `*plaintext` (free it with hush_bytes_free, which wipes it). Errors:
/// HUSH_ERR_NO_SESSION (no chain of that sender in that group with the message's chain id),
/// HUSH_ERR_INVALID_MESSAGE (a bad signature, undecryptable, malformed, of the other format, or
/// naming another distribution id), HUSH_ERR_INVALID_PROTOBUF, HUSH_ERR_LEGACY_MESSAGE,
/// HUSH_ERR_INVALID_VERSION, HUSH_ERR_DUPLICATE_MESSAGE, HUSH_ERR_TOO_FAR_IN_FUTURE,
/// HUSH_ERR_LIMIT_EXCEEDED, HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE,
/// HUSH_ERR_CRYPTO_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_group_decrypt(const hush_context* context, hush_store* store, const hush_address* sender,
                   const hush_group* group, const uint8_t* ciphertext, size_t ciphertext_len,
                   hush_bytes** plaintext, hush_error* error);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_GROUP_H

/// @file
/// C API: Stores, where a device's keys, sessions and trusted identities live.
///
/// A hush_store is either a durable SQLite database (hush::SqliteStore: one file, every operation
/// one transaction, optionally sealed at rest with a 32-byte storage key) or an in-memory store
/// (hush::InMemoryProtocolStore: lost when freed; for tests and examples). Creating a store gives
/// the device a fresh identity key pair and registration id. Trust is on first use per person: the
/// first identity key seen for a name is pinned, and another one is refused
/// (HUSH_ERR_UNTRUSTED_IDENTITY) until the application trusts it (hush_session_trust_identity).
///
/// Not responsible for: where the database file lives or how the storage key is kept (the
/// caller's job: the library keeps its own copy, wiped when the store is freed).
///
/// Thread-safety: a store may be used from several threads at once (its transactions serialise the
/// operations); free it once, after every messenger using it.
#ifndef HUSH_C_STORE_H
#define HUSH_C_STORE_H

#include <hush/c/common.h>
#include <hush/c/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The size of a storage key (encryption at rest).
#define HUSH_STORAGE_KEY_SIZE 32
/// The size of a serialized public key (an identity key): 0x05 followed by 32 bytes.
#define HUSH_PUBLIC_KEY_SIZE 33

/// Opaque: a device's store (SQLite or in memory).
typedef struct hush_store hush_store;

/// Creates the SQLite database `path` (`path_len` bytes, no NUL inside; the file is created with
/// mode 0600 and must not be a hush database already), and its rollback counter PATH-generation
/// beside it (hush/sqlite_store.h), for a new device with a fresh identity and registration id.
/// With `storage_key_len` 32 the database is sealed with `storage_key`, and can only be opened with
/// it; with 0 (and `storage_key` NULL) it is not sealed. Stores `*out` (free it with
/// hush_store_free). Errors: HUSH_ERR_INVALID_ARGUMENT (a hush database is already there, a key of
/// another length, a NUL in the path), HUSH_ERR_CORRUPT_STATE (the file exists and is not an empty
/// SQLite database), HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_store_create_sqlite(
    const hush_context* context, const char* path, size_t path_len, const uint8_t* storage_key,
    size_t storage_key_len, hush_store** out, hush_error* error);

/// Opens an existing SQLite database, with its storage key if it is sealed (else NULL, 0).
/// Stores `*out`. Errors: HUSH_ERR_INVALID_ARGUMENT (no hush database at `path`, or a key for an
/// unsealed one), HUSH_ERR_WRONG_STORAGE_KEY, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_UNSUPPORTED (written
/// by a newer hush), HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_store_open_sqlite(
    const hush_context* context, const char* path, size_t path_len, const uint8_t* storage_key,
    size_t storage_key_len, hush_store** out, hush_error* error);

/// Creates an in-memory store for a new device with a fresh identity and registration id (nothing
/// is kept when it is freed). Stores `*out`. Errors: HUSH_ERR_CRYPTO_FAILURE,
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_store_new_in_memory(const hush_context* context,
                                                                  hush_store** out,
                                                                  hush_error* error);

/// Writes our identity key (HUSH_PUBLIC_KEY_SIZE bytes) to `out` (capacity `out_cap`) and its size
/// to `*out_len`; HUSH_ERR_BUFFER_TOO_SMALL (with the size needed in `*out_len`) if `out_cap` is
/// smaller. Other errors: HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_store_identity_key(hush_store* store, uint8_t* out,
                                                                 size_t out_cap, size_t* out_len,
                                                                 hush_error* error);

/// Stores our registration id in `*out`. Errors: HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_store_registration_id(hush_store* store,
                                                                    uint32_t* out,
                                                                    hush_error* error);

/// Closes and frees `store`, wiping the keys it held in memory; NULL is ignored.
HUSH_C_API void hush_store_free(hush_store* store);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_STORE_H

/// @file
/// C API: Prekeys and prekey bundles (the keys a device publishes so that others can start a
/// session with it), and the helpers a key directory (a server) needs to serve them.
///
/// Without a messenger: generate a signed prekey and one-time prekeys into the store
/// (hush_prekeys_generate), make a bundle (hush_bundle_make), publish its bytes however the
/// application does, and have the peer process it (hush_session_process_bundle in session.h). With
/// a messenger (messenger.h), hush_messenger_maintain_keys does all of this through the directory
/// callbacks; a directory then needs hush_published_keys_* to turn what a device published into
/// bundles, and hush_device_list_version to keep only the newest device list of a person.
///
/// Bundles and published keys are in hush's format (proto/envelope.proto). A bundle's signature is
/// checked when it is processed, so a directory cannot forge one; it can withhold keys, hand out a
/// one-time prekey twice (the second session then fails to start) or, for a person we have never
/// talked to, hand out its own keys (trust on first use: compare safety numbers, fingerprint.h).
///
/// Group keys (sender keys) are in group.h and SFrame media keys in sframe.h; they use no bundles.
///
/// Not responsible for: publishing or fetching (the application's I/O).
///
/// Thread-safety: the functions may be called from several threads on one store; a
/// hush_published_keys is immutable and may be read from several threads.
#ifndef HUSH_C_BUNDLE_H
#define HUSH_C_BUNDLE_H

#include <hush/c/common.h>
#include <hush/c/context.h>
#include <hush/c/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The largest bundle in bytes (hush::kMaxBundleBytes): what a directory's fetch callback gets as
/// capacity.
#define HUSH_MAX_BUNDLE_BYTES 4096
/// The largest signed device list in bytes (hush::kMaxDeviceListBytes).
#define HUSH_MAX_DEVICE_LIST_BYTES 2048

/// Generates a signed prekey with id `signed_pre_key_id` (replacing any with that id) and
/// `one_time_count` one-time prekeys with fresh ids, and stores them in one transaction. Stores
/// the first one-time prekey id in `*first_pre_key_id` (the others follow it; 0 when
/// `one_time_count` is 0). Errors: HUSH_ERR_INVALID_ARGUMENT (the id space is exhausted),
/// HUSH_ERR_LIMIT_EXCEEDED (`one_time_count` above 1000), HUSH_ERR_STORE_FAILURE,
/// HUSH_ERR_CRYPTO_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_prekeys_generate(const hush_context* context, hush_store* store, uint32_t signed_pre_key_id,
                      uint32_t one_time_count, uint32_t* first_pre_key_id, hush_error* error);

/// Makes our bundle for device `device_id`: our identity and registration id, signed prekey
/// `signed_pre_key_id`, and one-time prekey `pre_key_id` (0 for none). Nothing is consumed.
/// Stores the serialized bundle in `*out` (free it with hush_bytes_free). Errors:
/// HUSH_ERR_INVALID_KEY_ID (a prekey is missing), HUSH_ERR_STORE_FAILURE, HUSH_ERR_CORRUPT_STATE,
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_bundle_make(hush_store* store, uint32_t device_id,
                                                          uint32_t signed_pre_key_id,
                                                          uint32_t pre_key_id, hush_bytes** out,
                                                          hush_error* error);

/// Opaque: keys a device published (hush::PublishedKeys), parsed.
typedef struct hush_published_keys hush_published_keys;

/// Parses what a device published through the directory's publish callback (untrusted input).
/// Stores `*out` (free it with hush_published_keys_free). Errors: HUSH_ERR_LIMIT_EXCEEDED,
/// HUSH_ERR_INVALID_PROTOBUF, HUSH_ERR_INVALID_MESSAGE, HUSH_ERR_INVALID_KEY,
/// HUSH_ERR_INVALID_KEM_KEY (a Kyber prekey), HUSH_ERR_INVALID_SIGNATURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_published_keys_parse(const uint8_t* data,
                                                                   size_t data_len,
                                                                   hush_published_keys** out,
                                                                   hush_error* error);

/// How many one-time prekeys `keys` carries (0 for NULL). A directory adds them to those it holds
/// for the device, replacing one with the same id (a repeated publish).
HUSH_C_API size_t hush_published_keys_pre_key_count(const hush_published_keys* keys);

/// The identity key `keys` carries (HUSH_PUBLIC_KEY_SIZE bytes) into `out`; a directory drops the
/// one-time prekeys it holds for a device that publishes another identity (a reinstall).
/// HUSH_ERR_BUFFER_TOO_SMALL (size needed in `*out_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_published_keys_identity_key(const hush_published_keys* keys, uint8_t* out, size_t out_cap,
                                 size_t* out_len, hush_error* error);

/// The one-time prekey number `index` (0 .. count-1) of `keys`: its id in `*id` and its public key
/// (HUSH_PUBLIC_KEY_SIZE bytes) in `out`. Errors: HUSH_ERR_INVALID_ARGUMENT (index out of range),
/// HUSH_ERR_BUFFER_TOO_SMALL (size needed in `*out_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_published_keys_pre_key(const hush_published_keys* keys, size_t index, uint32_t* id,
                            uint8_t* out, size_t out_cap, size_t* out_len, hush_error* error);

/// The bundle a directory hands out for the device that published `keys`, with the one-time
/// prekey (`pre_key_id`, `pre_key` of `pre_key_len` bytes) taken from this or an earlier publish of
/// the same device, or none (`pre_key` NULL and `pre_key_len` 0). Stores the serialized bundle in
/// `*out`. Errors: HUSH_ERR_INVALID_KEY (a malformed prekey), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_published_keys_bundle(
    const hush_published_keys* keys, uint32_t pre_key_id, const uint8_t* pre_key,
    size_t pre_key_len, hush_bytes** out, hush_error* error);

/// The size of a signed Kyber prekey as the hush_published_keys_*kyber* functions write and
/// hush_published_keys_bundle_v2 reads it: the serialized Kyber public key (1569 bytes) followed by
/// the identity key's signature over it (64 bytes). A directory keeps these bytes as they are.
#define HUSH_SIGNED_KYBER_PRE_KEY_SIZE 1633

/// How many one-time Kyber prekeys `keys` carries (0 for NULL; HUSH_C_1.2). A directory adds them
/// to those it holds for the device, replacing one with the same id (a repeated publish).
HUSH_C_API size_t hush_published_keys_kyber_pre_key_count(const hush_published_keys* keys);

/// The one-time Kyber prekey number `index` (0 .. count-1) of `keys` (HUSH_C_1.2): its id in `*id`
/// and the signed key (HUSH_SIGNED_KYBER_PRE_KEY_SIZE bytes) in `out`. Errors:
/// HUSH_ERR_INVALID_ARGUMENT (index out of range), HUSH_ERR_BUFFER_TOO_SMALL (size needed in
/// `*out_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_published_keys_kyber_pre_key(const hush_published_keys* keys, size_t index, uint32_t* id,
                                  uint8_t* out, size_t out_cap, size_t* out_len, hush_error* error);

/// The last-resort Kyber prekey of `keys` (HUSH_C_1.2): its id in `*id` and the signed key
/// (HUSH_SIGNED_KYBER_PRE_KEY_SIZE bytes) in `out`; when `keys` carries none (keep the one held),
/// HUSH_OK with `*id` and `*out_len` 0. Errors: HUSH_ERR_BUFFER_TOO_SMALL (size needed in
/// `*out_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_published_keys_last_resort_kyber_pre_key(
    const hush_published_keys* keys, uint32_t* id, uint8_t* out, size_t out_cap, size_t* out_len,
    hush_error* error);

/// As hush_published_keys_bundle, with a signed Kyber prekey (HUSH_C_1.2): `kyber_pre_key_id` and
/// `kyber_pre_key` (HUSH_SIGNED_KYBER_PRE_KEY_SIZE bytes, as the functions above wrote it) from
/// this or an earlier publish of the same device, or none (`kyber_pre_key` NULL and
/// `kyber_pre_key_len` 0: a version-3 bundle). Errors: HUSH_ERR_INVALID_KEY (a malformed prekey),
/// HUSH_ERR_INVALID_KEM_KEY (a malformed Kyber prekey), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_published_keys_bundle_v2(
    const hush_published_keys* keys, uint32_t pre_key_id, const uint8_t* pre_key,
    size_t pre_key_len, uint32_t kyber_pre_key_id, const uint8_t* kyber_pre_key,
    size_t kyber_pre_key_len, hush_bytes** out, hush_error* error);

/// Frees `keys`; NULL is ignored.
HUSH_C_API void hush_published_keys_free(hush_published_keys* keys);

/// Parses a signed device list a device published (untrusted input), checks its signature under
/// the identity key it names, and stores its version in `*version`. A directory keeps a person's
/// list only if its version is higher than the one it holds (and the name is the person's:
/// compare with the name in `*name_out`, `name_cap` bytes, length in `*name_len`). Errors:
/// HUSH_ERR_LIMIT_EXCEEDED, HUSH_ERR_INVALID_PROTOBUF, HUSH_ERR_INVALID_MESSAGE,
/// HUSH_ERR_INVALID_KEY, HUSH_ERR_INVALID_SIGNATURE, HUSH_ERR_BUFFER_TOO_SMALL (for the name; size
/// needed in `*name_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_device_list_version(const uint8_t* list,
                                                                  size_t list_len,
                                                                  uint64_t* version, char* name_out,
                                                                  size_t name_cap, size_t* name_len,
                                                                  hush_error* error);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_BUNDLE_H

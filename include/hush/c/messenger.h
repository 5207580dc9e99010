/// @file
/// C API: The messenger, which carries a conversation between people, each with one or more
/// devices, through a transport and a key directory the application gives as C callbacks.
///
/// hush_messenger_send encrypts a message for every device of a person (and a copy for our other
/// devices), fetching device lists and bundles from the directory and handing envelopes to the
/// transport; the caller delivers envelopes that arrive to hush_messenger_receive. The messenger
/// keeps an outbox (hush_messenger_flush sends what the transport could not take), heals broken
/// sessions, publishes and rotates prekeys (hush_messenger_maintain_keys: call it at start-up and
/// now and then), and refuses to send to a person whose identity key changed until the application
/// approves it (hush_messenger_approve_identity, after the user compared safety numbers).
///
/// Callbacks run synchronously, on the thread that called the messenger, and must not call back
/// into it. Each returns a hush_callback_result; any other value counts as HUSH_CALLBACK_FAILED. A
/// callback must not unwind through the library (no longjmp, no C++ exception).
///
/// What the server (transport and directory) can still do: withhold, delay, reorder or replay
/// envelopes (each message is shown once), withhold the newest device list, hand out its own keys
/// for a person we have never talked to (trust on first use: compare safety numbers), and see who
/// talks to whom and when. It cannot read or forge messages, add a device to a person, or bring a
/// removed device back. The messenger does not do groups or calls: group.h (over the same store)
/// and sframe.h do; a distribution message or a base key travels as an ordinary message.
///
/// Not responsible for: networking, threads or timers (the application's).
///
/// Thread-safety: a messenger is not synchronised: call it from one thread at a time. Its store may
/// be shared with other messengers and threads. A hush_received is owned by the caller.
#ifndef HUSH_C_MESSENGER_H
#define HUSH_C_MESSENGER_H

#include <hush/c/common.h>
#include <hush/c/context.h>
#include <hush/c/fingerprint.h>
#include <hush/c/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a transport or directory callback reports.
typedef enum hush_callback_result {
  HUSH_CALLBACK_OK = 0,         ///< Done.
  HUSH_CALLBACK_NOT_FOUND = 1,  ///< (fetches) The directory holds nothing for that device or name.
  HUSH_CALLBACK_FAILED = 2      ///< The server could not be reached (a transport failure).
} hush_callback_result;

/// Carries envelopes to devices. Copied by hush_messenger_new; `user_data` must outlive the
/// messenger. The layout is part of the ABI.
typedef struct hush_transport {
  /// Passed as the first argument of every callback.
  void* user_data;
  /// Queues `envelope` (`envelope_len` bytes, valid during the call) for `recipient`. Returns
  /// HUSH_CALLBACK_OK, or HUSH_CALLBACK_FAILED (the message then waits in the outbox).
  int (*send)(void* user_data, const hush_address* recipient, const uint8_t* envelope,
              size_t envelope_len);
} hush_transport;

/// The key directory (the "server" role): publishes our keys and device list, hands out peers'.
/// Copied by hush_messenger_new; `user_data` must outlive the messenger. Every callback is
/// required. The layout is part of the ABI.
typedef struct hush_key_directory {
  /// Passed as the first argument of every callback.
  void* user_data;
  /// Records what `self` published (`keys`, `keys_len` bytes; parse it with
  /// hush_published_keys_parse): replaces its identity and signed prekey, adds its one-time
  /// prekeys (one with an id already held replaces it). Returns OK or FAILED.
  int (*publish)(void* user_data, const hush_address* self, const uint8_t* keys, size_t keys_len);
  /// Stores in `*count` how many one-time prekeys of `self` the directory still holds (0 if it
  /// knows none). Returns OK or FAILED.
  int (*available_pre_keys)(void* user_data, const hush_address* self, uint32_t* count);
  /// Writes a bundle for `remote` (hush_published_keys_bundle), consuming one of its one-time
  /// prekeys if any is left, to `out` (capacity `out_cap`, HUSH_MAX_BUNDLE_BYTES) and its size to
  /// `*out_len`. Returns OK, NOT_FOUND (no keys for `remote`) or FAILED.
  int (*fetch_bundle)(void* user_data, const hush_address* remote, uint8_t* out, size_t out_cap,
                      size_t* out_len);
  /// Records the signed device list (`list`, `list_len` bytes) of the person `name` (`name_len`
  /// bytes, also NUL-terminated) if its version is higher than the one held
  /// (hush_device_list_version). Returns OK or FAILED.
  int (*publish_device_list)(void* user_data, const char* name, size_t name_len,
                             const uint8_t* list, size_t list_len);
  /// Writes the signed device list of the person `name` to `out` (capacity `out_cap`,
  /// HUSH_MAX_DEVICE_LIST_BYTES) and its size to `*out_len`. Returns OK, NOT_FOUND (none
  /// published) or FAILED.
  int (*fetch_device_list)(void* user_data, const char* name, size_t name_len, uint8_t* out,
                           size_t out_cap, size_t* out_len);
} hush_key_directory;

/// The key directory with Kyber prekeys (HUSH_C_1.2; use it with hush_messenger_new_v2): as
/// hush_key_directory, and it also keeps the signed Kyber prekeys a device publishes
/// (hush_published_keys_kyber_pre_key, hush_published_keys_last_resort_kyber_pre_key) and puts
/// one in every bundle it hands out (hush_published_keys_bundle_v2), so that hush users get
/// post-quantum (Signal v4) sessions. Copied by hush_messenger_new_v2; `user_data` must outlive
/// the messenger. Every callback is required. The layout is part of the ABI.
typedef struct hush_key_directory_v2 {
  /// Passed as the first argument of every callback.
  void* user_data;
  /// Records what `self` published (`keys`, `keys_len` bytes; parse it with
  /// hush_published_keys_parse): replaces its identity, its signed prekey and, when the keys carry
  /// one, its last-resort Kyber prekey; adds its one-time prekeys and one-time Kyber prekeys (one
  /// with an id already held replaces it). Returns OK or FAILED.
  int (*publish)(void* user_data, const hush_address* self, const uint8_t* keys, size_t keys_len);
  /// Stores in `*one_time` how many one-time prekeys and in `*kyber_one_time` how many one-time
  /// Kyber prekeys of `self` the directory still holds (0 and 0 if it knows none). Returns OK or
  /// FAILED.
  int (*available_pre_keys)(void* user_data, const hush_address* self, uint32_t* one_time,
                            uint32_t* kyber_one_time);
  /// Writes a bundle for `remote` (hush_published_keys_bundle_v2), consuming one of its one-time
  /// prekeys if any is left and one of its one-time Kyber prekeys if any is left (else carrying its
  /// last-resort Kyber prekey, not consumed), to `out` (capacity `out_cap`,
  /// HUSH_MAX_BUNDLE_BYTES) and its size to `*out_len`. Returns OK, NOT_FOUND (no keys for
  /// `remote`) or FAILED.
  int (*fetch_bundle)(void* user_data, const hush_address* remote, uint8_t* out, size_t out_cap,
                      size_t* out_len);
  /// As hush_key_directory's publish_device_list.
  int (*publish_device_list)(void* user_data, const char* name, size_t name_len,
                             const uint8_t* list, size_t list_len);
  /// As hush_key_directory's fetch_device_list.
  int (*fetch_device_list)(void* user_data, const char* name, size_t name_len, uint8_t* out,
                           size_t out_cap, size_t* out_len);
} hush_key_directory_v2;

/// hush_messenger_new_v2 flag: post-quantum sessions only. A device whose bundle has no Kyber
/// prekey, or a version-3 message, is refused with HUSH_ERR_POST_QUANTUM_REQUIRED.
#define HUSH_MESSENGER_REQUIRE_POST_QUANTUM 1u

/// Opaque: a messenger for one device of ours.
typedef struct hush_messenger hush_messenger;

/// Opaque: a message hush_messenger_receive decrypted.
typedef struct hush_received hush_received;

/// Creates a messenger for our device `self` (our name and device id; the name is copied) whose
/// keys are in `store`, with the default key policy (100 one-time prekeys, a new signed prekey
/// weekly). `context` and `store` must outlive the messenger; `transport` and `directory` are
/// copied. Stores `*out` (free it with hush_messenger_free). Errors: HUSH_ERR_INVALID_ARGUMENT (a
/// directory or transport callback is NULL, or device id 0), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status
hush_messenger_new(const hush_context* context, hush_store* store, const hush_transport* transport,
                   const hush_key_directory* directory, const hush_address* self,
                   hush_messenger** out, hush_error* error);

/// As hush_messenger_new, with a key directory that serves Kyber prekeys (HUSH_C_1.2): the
/// messenger publishes one-time and last-resort Kyber prekeys (replenished and rotated by
/// hush_messenger_maintain_keys), so that two hush users get post-quantum (Signal v4) sessions;
/// a person we had one with is never moved back to version 3 by the directory. `flags` is 0 or
/// HUSH_MESSENGER_REQUIRE_POST_QUANTUM. (With hush_messenger_new, a directory of the 1.0 layout
/// cannot report one-time Kyber prekeys: the messenger makes none, and publishes only its
/// last-resort one, which such a directory may ignore.) Errors: as hush_messenger_new, and
/// HUSH_ERR_INVALID_ARGUMENT for an unknown flag.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_new_v2(
    const hush_context* context, hush_store* store, const hush_transport* transport,
    const hush_key_directory_v2* directory, const hush_address* self, uint32_t flags,
    hush_messenger** out, hush_error* error);

/// Publishes our keys as needed (everything the first time; new one-time prekeys when the
/// directory runs low; a new signed prekey when due) and, for device 1 of a new person, the first
/// device list. Errors: HUSH_ERR_TRANSPORT_FAILURE (the directory), HUSH_ERR_UNKNOWN_DEVICE (this
/// device was removed), HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_maintain_keys(hush_messenger* messenger,
                                                                      hush_error* error);

/// Sends `plaintext` to every device of the person `person` (`person_len` bytes) and a copy to our
/// other devices; the message is kept in the outbox until delivered. Stores how many devices got
/// it now in `*sent` and how many wait in the outbox in `*queued` (either may be NULL). Fails as a
/// whole, sending nothing, with: HUSH_ERR_UNTRUSTED_IDENTITY (the person's identity changed:
/// compare safety numbers, then hush_messenger_approve_identity), HUSH_ERR_NO_SESSION (the person
/// is unknown to the directory), HUSH_ERR_STALE_DEVICE_LIST, HUSH_ERR_UNKNOWN_DEVICE,
/// HUSH_ERR_LIMIT_EXCEEDED (too large, or the outbox is full), HUSH_ERR_INVALID_ARGUMENT (sending
/// to ourselves), HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_send(hush_messenger* messenger,
                                                             const char* person, size_t person_len,
                                                             const uint8_t* plaintext,
                                                             size_t plaintext_len, size_t* sent,
                                                             size_t* queued, hush_error* error);

/// Sends what the outbox holds for sending (what the transport did not take, resends peers asked
/// for) and forgets what was delivered long enough ago. Stores the number sent now in `*sent` and
/// still queued in `*queued` (either may be NULL). Errors: HUSH_ERR_STORE_FAILURE,
/// HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_flush(hush_messenger* messenger,
                                                              size_t* sent, size_t* queued,
                                                              hush_error* error);

/// Decrypts an envelope that arrived (`envelope_len` bytes; untrusted input). Stores the message in
/// `*out` (free it with hush_received_free), or NULL when the envelope carried nothing to show (a
/// message already shown, or a retry request, which this answers); both are HUSH_OK. Errors:
/// HUSH_ERR_INVALID_MESSAGE, HUSH_ERR_INVALID_PROTOBUF, HUSH_ERR_LIMIT_EXCEEDED,
/// HUSH_ERR_UNKNOWN_DEVICE, HUSH_ERR_UNTRUSTED_IDENTITY, HUSH_ERR_DUPLICATE_MESSAGE,
/// HUSH_ERR_NO_SESSION, HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT, and the other errors of
/// hush_session_decrypt. A message that does not decrypt from a listed device also makes the
/// messenger ask that device to send it again.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_receive(hush_messenger* messenger,
                                                                const uint8_t* envelope,
                                                                size_t envelope_len,
                                                                hush_received** out,
                                                                hush_error* error);

/// Whether an identity change is pending for the person `name` (`name_len` bytes): an operation
/// failed with HUSH_ERR_UNTRUSTED_IDENTITY because they offered another identity key than the one
/// trusted. Stores 1 in `*pending` and writes the offered key (HUSH_PUBLIC_KEY_SIZE bytes) to
/// `offered` (capacity `offered_cap`, size in `*offered_len`); or stores 0 and writes no key. The
/// safety number to compare before approving is hush_fingerprint_compute(our name, our identity
/// key, their name, the offered key). A pending change is kept in the store, so freeing the
/// messenger (or a restart) does not forget it: it stays until hush_messenger_approve_identity or
/// hush_messenger_dismiss_identity_change. Errors: HUSH_ERR_BUFFER_TOO_SMALL (size needed in
/// `*offered_len`), HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_identity_change(
    hush_messenger* messenger, const char* name, size_t name_len, int* pending, uint8_t* offered,
    size_t offered_cap, size_t* offered_len, hush_error* error);

/// Trusts the identity key the person `name` now offers (the one that made an operation fail with
/// HUSH_ERR_UNTRUSTED_IDENTITY; see hush_messenger_identity_change), after the user compared the
/// new safety number: sessions with the
/// old one are closed, and sending resumes. Errors: HUSH_ERR_INVALID_ARGUMENT (no identity change
/// is pending for `name`), HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_approve_identity(hush_messenger* messenger,
                                                                         const char* name,
                                                                         size_t name_len,
                                                                         hush_error* error);

/// Forgets the identity change pending for the person `name` (`name_len` bytes) and keeps the
/// identity trusted before: for when the user did not confirm the new safety number (a server that
/// lies about someone's keys would otherwise block sending to them until its key is approved).
/// Sending to the person resumes with the trusted identity; a bundle, list or message under the
/// other key is refused again and noted again as a change. Not an error if none is pending.
/// Added in HUSH_C_1.1. Errors: HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_dismiss_identity_change(
    hush_messenger* messenger, const char* name, size_t name_len, hush_error* error);

/// The safety number with the person `name` (names as stable identifiers). Stores `*out` (free it
/// with hush_fingerprint_free). Errors: HUSH_ERR_NO_SESSION (no identity known for them),
/// HUSH_ERR_STORE_FAILURE, HUSH_ERR_NULL_ARGUMENT.
HUSH_C_API HUSH_C_MUST_CHECK hush_status hush_messenger_safety_number(hush_messenger* messenger,
                                                                      const char* name,
                                                                      size_t name_len,
                                                                      hush_fingerprint** out,
                                                                      hush_error* error);

/// Frees `messenger`; NULL is ignored. Its store and context stay open.
HUSH_C_API void hush_messenger_free(hush_messenger* messenger);

/// The sending device (authenticated by the session): its name (valid until the message is
/// freed, `name_len` bytes, also NUL-terminated) and device id. NULL handle: fills an empty
/// address.
HUSH_C_API void hush_received_sender(const hush_received* message, hush_address* sender);

/// The person the conversation is with: the sender's name, or, for a copy of a message another
/// device of ours sent, its recipient. Stores the length in `*len` (may be NULL); the string is
/// also NUL-terminated and valid until the message is freed. NULL handle: "".
HUSH_C_API const char* hush_received_conversation(const hush_received* message, size_t* len);

/// 1 for a copy of a message another device of ours sent, else 0.
HUSH_C_API int hush_received_sent_by_us(const hush_received* message);

/// When the sender says it sent the message (its clock), milliseconds since the Unix epoch.
HUSH_C_API uint64_t hush_received_sent_ms(const hush_received* message);

/// The message id (16 bytes, authenticated; the same on every device). Stores the length in
/// `*len` (may be NULL). Valid until the message is freed.
HUSH_C_API const uint8_t* hush_received_message_id(const hush_received* message, size_t* len);

/// The plaintext. Stores its length in `*len` (may be NULL). Valid until the message is freed.
HUSH_C_API const uint8_t* hush_received_plaintext(const hush_received* message, size_t* len);

/// Wipes and frees `message`; NULL is ignored.
HUSH_C_API void hush_received_free(hush_received* message);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // HUSH_C_MESSENGER_H

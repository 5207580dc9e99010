// hush C API: status names and descriptions, the error struct, hush_bytes, the version.
#include <cstdio>
#include <cstring>

#include "c/c_internal.h"

namespace hush::c_api {
namespace {

struct StatusText {
  hush_status status;
  const char* name;
  const char* description;
};

// One entry per hush_status. Names are hush::to_string's (checked by the C API tests);
// descriptions say in plain words what happened and, where there is one, what to do.
constexpr StatusText kStatusTexts[] = {
    {HUSH_OK, "ok", "success"},
    {HUSH_ERR_INVALID_ARGUMENT, "invalid_argument", "an argument is not usable"},
    {HUSH_ERR_INVALID_MESSAGE, "invalid_message",
     "the message is malformed or does not authenticate (tampered with, or not for this session)"},
    {HUSH_ERR_INVALID_PROTOBUF, "invalid_protobuf", "the data does not parse"},
    {HUSH_ERR_INVALID_VERSION, "invalid_version",
     "the data is of a newer protocol version than this library speaks"},
    {HUSH_ERR_LEGACY_MESSAGE, "legacy_message",
     "the message is of an old protocol version that is no longer accepted"},
    {HUSH_ERR_INVALID_KEY, "invalid_key", "a key is malformed or unusable"},
    {HUSH_ERR_INVALID_KEY_ID, "invalid_key_id",
     "a prekey it names does not exist (unknown, or already used)"},
    {HUSH_ERR_INVALID_SIGNATURE, "invalid_signature", "a signature does not verify"},
    {HUSH_ERR_NO_SESSION, "no_session", "there is no usable session or no keys for this peer"},
    {HUSH_ERR_UNTRUSTED_IDENTITY, "untrusted_identity",
     "the peer's identity key differs from the one trusted for them; compare safety numbers "
     "before trusting the new one"},
    {HUSH_ERR_DUPLICATE_MESSAGE, "duplicate_message", "this message was already decrypted"},
    {HUSH_ERR_TOO_FAR_IN_FUTURE, "too_far_in_future",
     "the message is too far ahead of the last one received"},
    {HUSH_ERR_CORRUPT_STATE, "corrupt_state", "stored data is damaged or not what hush wrote"},
    {HUSH_ERR_STORE_FAILURE, "store_failure", "the store could not read or write"},
    {HUSH_ERR_CRYPTO_FAILURE, "crypto_failure", "the cryptographic backend failed"},
    {HUSH_ERR_TRANSPORT_FAILURE, "transport_failure",
     "the transport or the key directory could not be reached"},
    {HUSH_ERR_LIMIT_EXCEEDED, "limit_exceeded", "an input exceeds a documented limit"},
    {HUSH_ERR_UNSUPPORTED, "unsupported", "this version of hush cannot do that"},
    {HUSH_ERR_WRONG_STORAGE_KEY, "wrong_storage_key",
     "the database is sealed with another storage key (or needs one)"},
    {HUSH_ERR_FINGERPRINT_VERSION_MISMATCH, "fingerprint_version_mismatch",
     "the scanned code is of another safety-number version"},
    {HUSH_ERR_FINGERPRINT_IDENTIFIER_MISMATCH, "fingerprint_identifier_mismatch",
     "the scanned code is for other people"},
    {HUSH_ERR_IN_TRANSACTION, "in_transaction",
     "encryption is not allowed inside an open transaction"},
    {HUSH_ERR_SENDER_MISMATCH, "sender_mismatch",
     "the envelope names another sender than the one the transport authenticated"},
    {HUSH_ERR_STORE_ROLLED_BACK, "store_rolled_back",
     "the store was put back to an older copy of itself; reopen it"},
    {HUSH_ERR_STALE_DEVICE_LIST, "stale_device_list",
     "the device list is older than one already seen"},
    {HUSH_ERR_UNKNOWN_DEVICE, "unknown_device", "the device is not on its person's device list"},
    {HUSH_ERR_MALFORMED_HEADER, "malformed_header",
     "the frame's SFrame header is truncated or not in its one encoding"},
    {HUSH_ERR_UNKNOWN_KEY_ID, "unknown_key_id",
     "no key is held for the frame's key id (the frame may be offered again once it is added)"},
    {HUSH_ERR_AUTHENTICATION_FAILED, "authentication_failed",
     "the frame does not authenticate (altered or truncated, another key, or other metadata)"},
    {HUSH_ERR_REPLAYED_FRAME, "replayed_frame",
     "the frame was already accepted, or is older than the replay window"},
    {HUSH_ERR_FRAME_TOO_LARGE, "frame_too_large", "the frame or its metadata exceeds its limit"},
    {HUSH_ERR_COUNTER_EXHAUSTED, "counter_exhausted",
     "the sender used its last frame counter; a new key id and base key are needed"},
    {HUSH_ERR_DIGEST_MISMATCH, "digest_mismatch",
     "the downloaded attachment is not the one the message names (other size or digest)"},
    {HUSH_ERR_ATTACHMENT_TOO_LARGE, "attachment_too_large",
     "the attachment is larger than the attachment size limit"},
    {HUSH_ERR_ATTACHMENT_CORRUPT, "attachment_corrupt",
     "the attachment does not decrypt (wrong key, or altered, reordered, truncated or extended)"},
    {HUSH_ERR_NOT_GROUP_ADMIN, "not_group_admin",
     "the group change was made by someone who is not one of the group's admins"},
    {HUSH_ERR_STALE_GROUP_REVISION, "stale_group_revision",
     "the group change is not newer than the group held (a replay, or it lost a race)"},
    {HUSH_ERR_NOT_GROUP_MEMBER, "not_group_member",
     "the device is not a current member of the group (or we are not)"},
    {HUSH_ERR_UNKNOWN_GROUP, "unknown_group", "no group with that id is held"},
    {HUSH_ERR_INVALID_KEM_KEY, "invalid_kem_key",
     "a Kyber (KEM) public key has the wrong type byte or length, or is not a valid key"},
    {HUSH_ERR_INVALID_KEM_CIPHERTEXT, "invalid_kem_ciphertext",
     "a Kyber (KEM) ciphertext has the wrong type byte or length"},
    {HUSH_ERR_POST_QUANTUM_REQUIRED, "post_quantum_required",
     "post-quantum (PQXDH, version 4) sessions are required, and this bundle, session or message "
     "is version 3 (X3DH)"},
    {HUSH_ERR_UNVERIFIED_GROUP, "unverified_group",
     "a group state that does not prove who made the group, or names an admin its creator did not "
     "certify"},
    {HUSH_ERR_UNKNOWN_CALL, "unknown_call",
     "no call with that id is held (it ended, or never was)"},
    {HUSH_ERR_CALL_IN_PROGRESS, "call_in_progress", "this device is already in a call"},
    {HUSH_ERR_CALL_PARTY_UNTRUSTED, "call_party_untrusted",
     "the person has an unresolved identity change: approve or dismiss it before calling them or "
     "letting them join"},
    {HUSH_ERR_INVALID_CALL_STATE, "invalid_call_state",
     "the call is not in a state that allows this (answering a call not ringing, a participant "
     "list not from the host, not the host)"},
    {HUSH_ERR_CALL_ENDED, "call_ended",
     "the call ended (its keys are wiped), or we hold no key for it yet"},
    {HUSH_ERR_INVALID_CALL_MESSAGE, "invalid_call_message",
     "a call message is malformed (a missing field, an id or key of the wrong size, a bad "
     "participant list)"},
    {HUSH_ERR_NULL_ARGUMENT, "null_argument", "a required pointer argument is NULL"},
    {HUSH_ERR_BUFFER_TOO_SMALL, "buffer_too_small",
     "the output buffer is too small (the size needed is in the length argument)"},
    {HUSH_ERR_OUT_OF_MEMORY, "out_of_memory", "the library ran out of memory"},
    {HUSH_ERR_INTERNAL, "internal_error", "an unexpected internal error (a bug in hush)"},
};

const StatusText* find(int status) noexcept {
  for (const StatusText& t : kStatusTexts)
    if (static_cast<int>(t.status) == status) return &t;
  return nullptr;
}

/// Library error codes are 1..kLastLibraryCode; the C boundary's own start at 100.
constexpr int kLastLibraryCode = 99;

}  // namespace

hush_status to_status(Errc code) noexcept {
  // Every library code passes through with its number, also one newer than this table (its name
  // then comes from hush::to_string); the C API tests require a table entry for each.
  const int n = static_cast<int>(code);
  return n >= 1 && n <= kLastLibraryCode ? static_cast<hush_status>(n) : HUSH_ERR_INTERNAL;
}

hush_status Call::ok() const noexcept {
  if (error_ != nullptr) {
    error_->code = HUSH_OK;
    error_->message[0] = '\0';
  }
  return HUSH_OK;
}

hush_status Call::fail(hush_status status, const char* detail) const noexcept {
  if (error_ != nullptr) {
    error_->code = status;
    // "function: description (name; detail)"; truncated, never overflowing, always terminated.
    std::snprintf(error_->message, sizeof(error_->message), "%s: %s (%s%s%s)", function_,
                  hush_status_description(status), hush_status_name(status),
                  detail != nullptr && *detail != '\0' ? "; " : "", detail ? detail : "");
  }
  return status;
}

hush_status Call::fail(const Error& error) const noexcept {
  return fail(to_status(error.code()), error.where());
}

std::optional<Address> to_address(const hush_address* address) {
  if (address == nullptr || !present(address->name, address->name_len)) return std::nullopt;
  return Address{std::string(address->name, address->name_len), DeviceId{address->device_id}};
}

hush_bytes* new_bytes(ByteView data) {
  return new hush_bytes{SecretBytes::copy_of(data)};
}

hush_bytes* new_bytes(SecretBytes data) {
  return new hush_bytes{std::move(data)};
}

hush_status write_out(const Call& call, ByteView data, std::uint8_t* out, std::size_t out_cap,
                      std::size_t* out_len) {
  if (out_len == nullptr) return call.null_argument("out_len");
  *out_len = data.size();
  if (out == nullptr || out_cap < data.size())
    return call.fail(HUSH_ERR_BUFFER_TOO_SMALL, "the size needed is in *out_len");
  if (!data.empty()) std::memcpy(out, data.data(), data.size());
  return call.ok();
}

}  // namespace hush::c_api

extern "C" {

const char* hush_status_name(int status) {
  if (const auto* t = hush::c_api::find(status)) return t->name;
  if (status >= 1 && status <= hush::c_api::kLastLibraryCode)
    return hush::to_string(static_cast<hush::Errc>(status)).data();  // a literal: NUL-terminated
  return "unknown_error";
}

const char* hush_status_description(int status) {
  if (const auto* t = hush::c_api::find(status)) return t->description;
  if (status >= 1 && status <= hush::c_api::kLastLibraryCode &&
      hush::to_string(static_cast<hush::Errc>(status)) != "unknown_error")
    return "the library reported an error (see its name)";
  return "an unknown error code";
}

const char* hush_version_string(void) {
  // version_string() views a string literal, which is NUL-terminated.
  return hush::version_string().data();
}

const uint8_t* hush_bytes_data(const hush_bytes* bytes) {
  if (bytes == nullptr || bytes->bytes.empty()) return nullptr;
  return bytes->bytes.expose().data();
}

size_t hush_bytes_size(const hush_bytes* bytes) {
  return bytes == nullptr ? 0 : bytes->bytes.size();
}

void hush_bytes_free(hush_bytes* bytes) {
  delete bytes;  // SecretBytes wipes itself
}

}  // extern "C"

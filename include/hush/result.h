/// @file
/// The error model.
///
/// Every failure that untrusted input (wire bytes, bundles, stored records) can cause is returned
/// as a value: `Result<T>` holds either a `T` or an `Error`, and `Status` is `Result<void>`.
/// Exceptions are not used for protocol failures; `std::bad_alloc` propagates (the library is
/// exception-neutral). The member names follow `std::expected` so that a move to C++23 is an alias
/// swap.
///
/// Not responsible for: logging (see context.h) or turning errors into user-facing text.
///
/// Thread-safety: `Error`, `Result` and `Status` are plain values; distinct objects may be used
/// from distinct threads.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace hush {

/// Every error the library reports. Values are stable (never renumbered); `to_string()` gives each
/// a stable snake_case name that scripts may match on (hush-cli prints `error: <name>`).
enum class Errc : std::uint8_t {
  kInvalidArgument =
      1,  ///< "invalid_argument": the caller passed something unusable (not peer input).
  kInvalidMessage = 2,  ///< "invalid_message": bad MAC, undecryptable, malformed or missing fields.
  kInvalidProtobuf = 3,   ///< "invalid_protobuf": the protobuf body does not parse.
  kInvalidVersion = 4,    ///< "invalid_version": a version newer than 3, or inner/outer mismatch.
  kLegacyMessage = 5,     ///< "legacy_message": a version older than 3.
  kInvalidKey = 6,        ///< "invalid_key": a key of the wrong length or type, or a low-order key.
  kInvalidKeyId = 7,      ///< "invalid_key_id": unknown (or already used) prekey or signed prekey.
  kInvalidSignature = 8,  ///< "invalid_signature": a signed prekey signature does not verify.
  kNoSession = 9,         ///< "no_session": no usable session with that address.
  kUntrustedIdentity =
      10,  ///< "untrusted_identity": the peer's identity differs from the trusted one.
  kDuplicateMessage =
      11,  ///< "duplicate_message": that message was already decrypted (or its key dropped).
  kTooFarInFuture = 12,    ///< "too_far_in_future": the counter jumps more than the limit ahead.
  kCorruptState = 13,      ///< "corrupt_state": a stored record does not parse or breaks a limit.
  kStoreFailure = 14,      ///< "store_failure": a store could not read or write.
  kCryptoFailure = 15,     ///< "crypto_failure": the crypto backend failed (not input-driven).
  kTransportFailure = 16,  ///< "transport_failure": a caller-supplied transport failed.
  kLimitExceeded = 17,     ///< "limit_exceeded": an input or request exceeds a documented limit.
  kUnsupported = 18,       ///< "unsupported": a valid request this version cannot serve.
  kWrongStorageKey = 19,   ///< "wrong_storage_key": a sealed database needs another storage key.
  kFingerprintVersionMismatch =
      20,  ///< "fingerprint_version_mismatch": scanned code of another version.
  kFingerprintIdentifierMismatch =
      21,                 ///< "fingerprint_identifier_mismatch": (v0) other identifiers.
  kInTransaction = 22,    ///< "in_transaction": encryption inside an open transaction (a rollback
                          ///< could reuse its message key); encrypt outside, or use EncryptOptions.
  kSenderMismatch = 23,   ///< "sender_mismatch": an envelope names another sender than the one
                          ///< the transport authenticated.
  kStoreRolledBack = 24,  ///< "store_rolled_back": the store was put back to an older copy of
                          ///< itself while open; reopen it (sessions are then restarted).
  kStaleDeviceList = 25,  ///< "stale_device_list": a device list older than one already seen for
                          ///< the person (or another list with the same version): a rollback.
  kUnknownDevice = 26,    ///< "unknown_device": a device that is not on its person's signed
                          ///< device list (never added, or removed).
  kMalformedHeader = 27,  ///< "malformed_header": an SFrame header is truncated or not in its
                          ///< one (shortest) encoding.
  kUnknownKeyId = 28,     ///< "unknown_key_id": no SFrame key is held for the frame's key id.
  kAuthenticationFailed = 29,  ///< "authentication_failed": a frame does not authenticate (wrong
                               ///< key, altered or truncated, or other metadata).
  kReplayedFrame = 30,     ///< "replayed_frame": a frame's counter was already accepted for its key
                           ///< id, or is older than the replay window.
  kFrameTooLarge = 31,     ///< "frame_too_large": a frame or its metadata exceeds its limit.
  kCounterExhausted = 32,  ///< "counter_exhausted": an SFrame sender used its last counter; a
                           ///< new key is needed.
  kDigestMismatch = 33,    ///< "digest_mismatch": a downloaded attachment blob is not the one its
                           ///< pointer names (other size or SHA-256): the store served other bytes.
  kAttachmentTooLarge = 34,  ///< "attachment_too_large": over kMaxAttachmentBytes.
  kAttachmentCorrupt = 35,   ///< "attachment_corrupt": an attachment segment does not authenticate
                             ///< (wrong key, altered, reordered, truncated or extended).
  kNotGroupAdmin = 36,       ///< "not_group_admin": a group change by someone who is not one of the
                             ///< group's admins (or a member doing more than leaving).
  kStaleGroupRevision = 37,  ///< "stale_group_revision": a group change whose revision is not
                             ///< higher than the one held (a replay, or a change that lost a race).
  kNotGroupMember = 38,  ///< "not_group_member": a group message or key from a device that is not a
                         ///< current member's, or an operation on a group we are not a member of.
  kUnknownGroup = 39,    ///< "unknown_group": no group with that id is held.
  kInvalidKemKey = 40,   ///< "invalid_kem_key": a KEM (Kyber) public key of the wrong type byte or
                         ///< length, or one that fails ML-KEM's modulus check.
  kInvalidKemCiphertext = 41,  ///< "invalid_kem_ciphertext": a KEM ciphertext of the wrong type
                               ///< byte or length.
  kPostQuantumRequired = 42,   ///< "post_quantum_required": a bundle without a Kyber prekey, or a
                              ///< session or message of version 3, where post-quantum (v4) sessions
                              ///< are required.
  kUnverifiedGroup = 47,     ///< "unverified_group": a group state whose id does not commit to the
                             ///< creator it names, with an admin the creator did not certify (or a
                             ///< certificate that does not verify), or without a proof where one is
                             ///< needed (a group this device does not hold yet).
  kUnknownCall = 51,         ///< "unknown_call": no call with that id is held (it ended, or
                             ///< never was).
  kCallInProgress = 52,      ///< "call_in_progress": this device is already in a call.
  kCallPartyUntrusted = 53,  ///< "call_party_untrusted": the person has an unresolved identity
                             ///< change: approve or dismiss it before calling them or letting
                             ///< them join.
  kInvalidCallState = 54,    ///< "invalid_call_state": the call is not in a state that allows
                             ///< this (answering a call not ringing, a participant list not from
                             ///< the host, not the host).
  kCallEnded = 55,           ///< "call_ended": the call ended (its keys are wiped), or we hold no
                             ///< key for it yet.
  kInvalidCallMessage = 56,  ///< "invalid_call_message": a malformed call message (a missing
                             ///< field, an id or key of the wrong size, a bad participant list).
};

/// The stable snake_case name of `code` ("duplicate_message", ...); "unknown_error" for values that
/// are not enumerators.
std::string_view to_string(Errc code) noexcept;

/// An error code plus a static description of where it arose ("decrypt_message: mac").
/// `where` never contains user data, keys or peer-controlled strings. Trivially copyable.
class Error {
 public:
  /// `where` must be a string literal (or otherwise have static storage duration).
  constexpr Error(Errc code, const char* where) noexcept : code_(code), where_(where) {}
  /// The error code.
  constexpr Errc code() const noexcept { return code_; }
  /// A static, human-readable location and cause; never null.
  constexpr const char* where() const noexcept { return where_ ? where_ : ""; }
  /// Errors compare equal when their codes are equal (the description is not compared).
  friend constexpr bool operator==(const Error& a, const Error& b) noexcept {
    return a.code_ == b.code_;
  }

 private:
  Errc code_;
  const char* where_;
};

namespace detail {
/// Aborts the process: used when `value()` is called on an error (a caller bug, never
/// input-driven).
[[noreturn]] void result_value_on_error(const Error& e) noexcept;
}  // namespace detail

/// Holds either a value of type `T` (which may be move-only) or an `Error`.
/// Accessing the value of an error result aborts the process (a caller bug).
template <class T>
class [[nodiscard]] Result {
 public:
  /// The type of the value a successful result holds.
  using value_type = T;
  /// A successful result.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  /// A failed result.
  Result(Error error) : v_(std::in_place_index<1>, error) {}  // NOLINT: implicit by design

  /// True when a value is held.
  bool has_value() const noexcept { return v_.index() == 0; }
  /// True when a value is held.
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; aborts on an error result.
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  /// The value; aborts on an error result.
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  /// The value, moved out; aborts on an error result.
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  /// The value, as value(); aborts on an error result, so check the result first.
  T& operator*() & { return value(); }
  /// The value, as value(); aborts on an error result, so check the result first.
  const T& operator*() const& { return value(); }
  /// The value, moved out, as value(); aborts on an error result, so check the result first.
  T&& operator*() && { return std::move(*this).value(); }
  /// A member of the value; aborts on an error result, so check the result first.
  T* operator->() { return &value(); }
  /// A member of the value; aborts on an error result, so check the result first.
  const T* operator->() const { return &value(); }

  /// The error; must only be called on a failed result (aborts otherwise).
  const Error& error() const {
    if (has_value()) detail::result_value_on_error(Error(Errc::kInvalidArgument, "Result::error"));
    return std::get<1>(v_);
  }
  /// The value, or `fallback` on an error result.
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) detail::result_value_on_error(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

/// `Result<void>`: success, or an `Error`.
template <>
class [[nodiscard]] Result<void> {
 public:
  /// A status holds no value.
  using value_type = void;
  /// A successful status.
  Result() noexcept = default;
  /// A failed status.
  Result(Error error) noexcept : error_(error), ok_(false) {}  // NOLINT: implicit by design
  /// True on success.
  bool has_value() const noexcept { return ok_; }
  /// True on success.
  explicit operator bool() const noexcept { return ok_; }
  /// Aborts on a failed status (a caller bug).
  void value() const {
    if (!ok_) detail::result_value_on_error(error_);
  }
  /// The error; must only be called on a failed status (aborts otherwise).
  const Error& error() const {
    if (ok_) detail::result_value_on_error(Error(Errc::kInvalidArgument, "Status::error"));
    return error_;
  }

 private:
  Error error_{Errc::kInvalidArgument, ""};
  bool ok_ = true;
};

/// Success or an `Error`.
using Status = Result<void>;

/// A successful `Status`.
inline Status ok_status() noexcept {
  return Status();
}

}  // namespace hush

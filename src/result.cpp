// hush: error names and the abort path of Result::value().
#include <cstdio>
#include <cstdlib>
#include <string>

#include <hush/result.h>

namespace hush {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kInvalidMessage:
      return "invalid_message";
    case Errc::kInvalidProtobuf:
      return "invalid_protobuf";
    case Errc::kInvalidVersion:
      return "invalid_version";
    case Errc::kLegacyMessage:
      return "legacy_message";
    case Errc::kInvalidKey:
      return "invalid_key";
    case Errc::kInvalidKeyId:
      return "invalid_key_id";
    case Errc::kInvalidSignature:
      return "invalid_signature";
    case Errc::kNoSession:
      return "no_session";
    case Errc::kUntrustedIdentity:
      return "untrusted_identity";
    case Errc::kDuplicateMessage:
      return "duplicate_message";
    case Errc::kTooFarInFuture:
      return "too_far_in_future";
    case Errc::kCorruptState:
      return "corrupt_state";
    case Errc::kStoreFailure:
      return "store_failure";
    case Errc::kCryptoFailure:
      return "crypto_failure";
    case Errc::kTransportFailure:
      return "transport_failure";
    case Errc::kLimitExceeded:
      return "limit_exceeded";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kWrongStorageKey:
      return "wrong_storage_key";
    case Errc::kFingerprintVersionMismatch:
      return "fingerprint_version_mismatch";
    case Errc::kFingerprintIdentifierMismatch:
      return "fingerprint_identifier_mismatch";
    case Errc::kInTransaction:
      return "in_transaction";
    case Errc::kSenderMismatch:
      return "sender_mismatch";
    case Errc::kStoreRolledBack:
      return "store_rolled_back";
    case Errc::kStaleDeviceList:
      return "stale_device_list";
    case Errc::kUnknownDevice:
      return "unknown_device";
    case Errc::kMalformedHeader:
      return "malformed_header";
    case Errc::kUnknownKeyId:
      return "unknown_key_id";
    case Errc::kAuthenticationFailed:
      return "authentication_failed";
    case Errc::kReplayedFrame:
      return "replayed_frame";
    case Errc::kFrameTooLarge:
      return "frame_too_large";
    case Errc::kCounterExhausted:
      return "counter_exhausted";
    case Errc::kDigestMismatch:
      return "digest_mismatch";
    case Errc::kAttachmentTooLarge:
      return "attachment_too_large";
    case Errc::kAttachmentCorrupt:
      return "attachment_corrupt";
    case Errc::kNotGroupAdmin:
      return "not_group_admin";
    case Errc::kStaleGroupRevision:
      return "stale_group_revision";
    case Errc::kNotGroupMember:
      return "not_group_member";
    case Errc::kUnknownGroup:
      return "unknown_group";
    case Errc::kInvalidKemKey:
      return "invalid_kem_key";
    case Errc::kInvalidKemCiphertext:
      return "invalid_kem_ciphertext";
    case Errc::kPostQuantumRequired:
      return "post_quantum_required";
    case Errc::kUnverifiedGroup:
      return "unverified_group";
    case Errc::kUnknownCall:
      return "unknown_call";
    case Errc::kCallInProgress:
      return "call_in_progress";
    case Errc::kCallPartyUntrusted:
      return "call_party_untrusted";
    case Errc::kInvalidCallState:
      return "invalid_call_state";
    case Errc::kCallEnded:
      return "call_ended";
    case Errc::kInvalidCallMessage:
      return "invalid_call_message";
  }
  return "unknown_error";
}

namespace detail {
void result_value_on_error(const Error& e) noexcept {
  // A caller used the value of a failed Result: a programming error, never input-driven.
  std::fprintf(stderr, "hush: value() called on an error result (%s: %s)\n",
               std::string(to_string(e.code())).c_str(), e.where());
  std::abort();
}
}  // namespace detail

}  // namespace hush

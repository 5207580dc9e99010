/// @file
/// Safety numbers, byte-compatible with libsignal-protocol-c (wire spec §9).
///
/// Two users compare a 60-digit number (read aloud, or shown side by side) or scan each other's
/// code; if the numbers match, no one in the middle substituted a key. Each side's half is
/// SHA-512 iterated `iterations` times (5200 in Signal) over its identity key and a stable
/// identifier (a phone number, a handle); both sides compute the same number.
///
/// Not responsible for: choosing stable identifiers (the application's) or recording that a user
/// verified a number (mark the identity trusted in your IdentityKeyStore).
///
/// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/result.h>

namespace hush {

/// The iteration count Signal uses.
inline constexpr std::uint32_t kFingerprintIterations = 5200;

/// A pair's safety number in both forms.
struct Fingerprint {
  /// 60 digits: the two 30-digit halves, the smaller first, so both sides show the same number.
  std::string displayable;
  /// The scannable form (CombinedFingerprints protobuf): ours first, theirs second.
  Bytes scannable;
};

/// The 60 digits of `displayable` in 12 groups of 5 separated by single spaces, as Signal shows
/// them ("12345 67890 ..."); any other length is grouped the same way (the last group shorter).
std::string group_safety_number(std::string_view displayable);

/// Computes the safety number of `local` (our identity key and stable identifier) and `remote`.
/// `scannable_version` 1 (Signal's current) carries the first 32 bytes of each hash; 0 carries the
/// identity keys and identifiers. kInvalidArgument for another version or 0 iterations.
Result<Fingerprint> make_fingerprint(std::uint32_t iterations, std::string_view local_id,
                                     const IdentityKey& local_key, std::string_view remote_id,
                                     const IdentityKey& remote_key,
                                     std::uint32_t scannable_version = 1);

/// Compares our scannable fingerprint with one scanned from the other side's screen: true when
/// theirs shows our half as their remote and their half as our remote (in constant time), false
/// for any other content. Errors: kFingerprintVersionMismatch (another version),
/// kFingerprintIdentifierMismatch (version 0 with other identifiers), kInvalidProtobuf.
Result<bool> compare_scannable_fingerprints(ByteView ours, ByteView scanned);

}  // namespace hush

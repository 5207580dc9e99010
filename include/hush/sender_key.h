/// @file
/// The names and stored state of sender keys (groups).
///
/// A sender key is one member's sending chain in one group: a chain id, a chain key that advances
/// with every message (an iteration counter), and a signing key pair whose public half the other
/// members hold and whose private half only the sender holds. Each member sends its chain to the
/// others once (a SenderKeyDistributionMessage, over 1:1 sessions) and then encrypts each group
/// message once for everybody (group.h).
///
/// Two wire formats are spoken, and the format is a property of the group (SenderKeyGroup):
///  - kLegacy: libsignal-protocol-c 2.3.3's; a group is named by any string (its "group id");
///  - kCurrent: current libsignal's (0.103); a group is named by a distribution id, a UUID, which
///    travels in every message.
/// The chain KDF, the cipher and the signature are the same in both (wire spec §2.4-2.5, v4 wire
/// spec §5). A legacy group and a current group are distinct even if their names are the same text.
///
/// A SenderKeyRecord holds the chains of one (sender, group), newest first, at most
/// kMaxSenderKeyStates, each with at most kMaxSenderKeySkippedKeys keys of messages not yet
/// received. It is opaque: the library reads and changes it; applications store and load it through
/// a SenderKeyStore (store.h). `serialize()` holds secrets; `deserialize()` treats its input as
/// untrusted (anything wrong is kCorruptState).
///
/// Not responsible for: the operations (group.h), persistence (store.h), or group membership (who
/// receives which distribution message is the application's business).
///
/// Thread-safety: DistributionId and SenderKeyGroup are immutable values; a SenderKeyRecord is
/// move-only and not synchronised.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <hush/bytes.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

/// Which wire format a group's sender keys use.
enum class SenderKeyFormat : std::uint8_t {
  kLegacy = 1,   ///< libsignal-protocol-c 2.3.3's: no distribution id; groups named by any string.
  kCurrent = 2,  ///< Current libsignal's: a distribution id (UUID) in every message.
};

/// A distribution id: the UUID that names a group (one sender's chains in it) in the current
/// format.
class DistributionId {
 public:
  /// The all-zero id.
  DistributionId() = default;
  /// From its 16 bytes.
  explicit DistributionId(const std::array<std::uint8_t, 16>& bytes) noexcept : bytes_(bytes) {}
  /// Parses the canonical lowercase text form (8-4-4-4-12 hex digits, e.g.
  /// "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6"); anything else (upper case included) is
  /// kInvalidArgument.
  static Result<DistributionId> parse(std::string_view text);
  /// A random (version 4) UUID. Fails only if `random` fails.
  static Result<DistributionId> generate(RandomSource& random);
  /// The canonical lowercase text form.
  std::string to_string() const;
  /// The 16 bytes.
  const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
  /// Ordered and compared by their 16 bytes.
  friend auto operator<=>(const DistributionId&, const DistributionId&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

/// A group as sender keys see it: its wire format and its name (for kLegacy, the group id string;
/// for kCurrent, the distribution id in its text form).
class SenderKeyGroup {
 public:
  /// A libsignal-protocol-c 2.3.3 group named `name`: 1 to kMaxGroupNameBytes bytes, else
  /// kInvalidArgument.
  static Result<SenderKeyGroup> legacy(std::string_view name);
  /// A current-format group with distribution id `id`.
  static SenderKeyGroup current(const DistributionId& id);
  /// The group's wire format.
  SenderKeyFormat format() const noexcept { return format_; }
  /// The name: the legacy group id, or the distribution id's text form.
  const std::string& name() const noexcept { return name_; }
  /// The distribution id (kCurrent only).
  std::optional<DistributionId> distribution_id() const noexcept {
    if (format_ != SenderKeyFormat::kCurrent) return std::nullopt;
    return id_;
  }
  /// Equal when both the format and the name are equal.
  friend bool operator==(const SenderKeyGroup& a, const SenderKeyGroup& b) noexcept {
    return a.format_ == b.format_ && a.name_ == b.name_;
  }
  /// Ordered by format, then by name (for use as a map key).
  friend bool operator<(const SenderKeyGroup& a, const SenderKeyGroup& b) noexcept {
    if (a.format_ != b.format_) return a.format_ < b.format_;
    return a.name_ < b.name_;
  }

 private:
  SenderKeyGroup() = default;
  SenderKeyFormat format_ = SenderKeyFormat::kLegacy;
  std::string name_;
  DistributionId id_;
};

namespace internal {
struct SenderKeyRecordData;
struct SenderKeyRecordAccess;
}  // namespace internal

/// The sender-key chains of one (sender, group), newest first. Move-only; wiped on destruction.
class SenderKeyRecord {
 public:
  /// An empty record (no chain).
  SenderKeyRecord();
  ~SenderKeyRecord();
  /// Takes the chains over; the source may then only be destroyed or assigned to.
  SenderKeyRecord(SenderKeyRecord&&) noexcept;
  /// Wipes this record's chains and takes the other's over.
  SenderKeyRecord& operator=(SenderKeyRecord&&) noexcept;
  SenderKeyRecord(const SenderKeyRecord&) = delete;
  SenderKeyRecord& operator=(const SenderKeyRecord&) = delete;
  /// An explicit deep copy.
  SenderKeyRecord clone() const;

  /// Versioned protobuf holding every chain, secrets included. Store it as a secret.
  SecretBytes serialize() const;
  /// Parses a stored record. Any malformation, unknown format version or broken limit is
  /// kCorruptState; larger than kMaxSenderKeyRecordBytes is kLimitExceeded.
  static Result<SenderKeyRecord> deserialize(ByteView data);

  /// The number of chains held (0 to kMaxSenderKeyStates).
  std::size_t state_count() const noexcept;
  /// True when the newest chain is our own (we can encrypt with it).
  bool can_encrypt() const noexcept;

 private:
  friend struct internal::SenderKeyRecordAccess;
  std::unique_ptr<internal::SenderKeyRecordData> d_;
};

}  // namespace hush

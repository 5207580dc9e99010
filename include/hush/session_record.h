/// @file
/// The stored state of the sessions with one remote address.
///
/// A SessionRecord holds the current session state (root key, sending chain, up to
/// kMaxReceiverChains receiving chains with their skipped message keys, the unacknowledged-prekey
/// data) and up to kMaxArchivedStates older states, newest first (wire spec §5.1). It is opaque:
/// the library reads and changes it; applications store and load it through a SessionStore.
///
/// `serialize()` produces versioned protobuf (proto/storage.proto) holding secrets; `deserialize()`
/// treats its input as untrusted: every length, count and limit is checked and anything wrong is
/// kCorruptState.
///
/// Not responsible for: persistence (store.h) or the protocol logic (session.h).
///
/// Thread-safety: move-only, not synchronised; one record must not be used by two threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

namespace internal {
struct RecordData;
struct RecordAccess;
}  // namespace internal

/// All session states with one remote address. Move-only; wiped on destruction.
class SessionRecord {
 public:
  /// An empty record (no session).
  SessionRecord();
  ~SessionRecord();
  /// Takes the sessions over; the source may then only be destroyed or assigned to.
  SessionRecord(SessionRecord&&) noexcept;
  /// Takes the sessions over (this record's old state is wiped); the source may then only be
  /// destroyed or assigned to.
  SessionRecord& operator=(SessionRecord&&) noexcept;
  SessionRecord(const SessionRecord&) = delete;
  SessionRecord& operator=(const SessionRecord&) = delete;
  /// An explicit deep copy.
  SessionRecord clone() const;

  /// Versioned protobuf holding every state, secrets included. Store it as a secret.
  SecretBytes serialize() const;
  /// Parses a stored record. Any malformation, unknown format version or broken limit is
  /// kCorruptState; larger than kMaxSessionRecordBytes is kLimitExceeded.
  static Result<SessionRecord> deserialize(ByteView data);

  /// True when there is a current state (a session that can encrypt).
  bool has_current_state() const noexcept;
  /// The number of archived (previous) states.
  std::size_t previous_state_count() const noexcept;
  /// The session version of the current state (3), or nullopt without one.
  std::optional<std::uint32_t> current_version() const noexcept;
  /// The remote identity key of the current state, or nullopt without one.
  std::optional<IdentityKey> remote_identity() const noexcept;
  /// The remote registration id of the current state (0 without one).
  std::uint32_t remote_registration_id() const noexcept;
  /// True when the current state still wraps messages in PreKeySignalMessages because the peer has
  /// not yet answered.
  bool has_unacknowledged_prekey() const noexcept;

 private:
  friend struct internal::RecordAccess;
  std::unique_ptr<internal::RecordData> d_;
};

}  // namespace hush

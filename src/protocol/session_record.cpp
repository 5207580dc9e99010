// hush: SessionRecord (see session_record.h) and its versioned storage form.
#include <hush/limits.h>
#include <hush/session_record.h>

#include "proto_util.h"
#include "protocol/ratchet/session_state.h"
#include "protocol/record_access.h"
#include "storage.pb.h"

namespace hush {

namespace {
constexpr std::uint32_t kRecordFormat = 1;

void wipe_record(storage::SessionRecord& p) {
  if (p.has_current()) internal::wipe_secrets(*p.mutable_current());
  for (auto& s : *p.mutable_previous())
    internal::wipe_secrets(s);
}
}  // namespace

SessionRecord::SessionRecord() : d_(std::make_unique<internal::RecordData>()) {}
SessionRecord::~SessionRecord() = default;
SessionRecord::SessionRecord(SessionRecord&&) noexcept = default;
SessionRecord& SessionRecord::operator=(SessionRecord&&) noexcept = default;

SessionRecord SessionRecord::clone() const {
  SessionRecord out;
  *out.d_ = d_->clone();
  return out;
}

SecretBytes SessionRecord::serialize() const {
  storage::SessionRecord p;
  p.set_format(kRecordFormat);
  if (d_->current) d_->current->to_proto(*p.mutable_current());
  for (const auto& s : d_->previous)
    s.to_proto(*p.add_previous());
  for (const auto& k : d_->retired_base_keys)
    p.add_retired_base_keys(internal::to_field(k.u()));
  SecretBytes out = internal::serialize_to_secret(p);
  wipe_record(p);
  return out;
}

Result<SessionRecord> SessionRecord::deserialize(ByteView data) {
  if (data.size() > kMaxSessionRecordBytes)
    return Error(Errc::kLimitExceeded, "SessionRecord: larger than kMaxSessionRecordBytes");
  storage::SessionRecord p;
  const bool parsed = internal::parse_from(p, data);
  struct Wiper {
    storage::SessionRecord& p;
    ~Wiper() { wipe_record(p); }
  } wiper{p};
  if (!parsed) return Error(Errc::kCorruptState, "SessionRecord: protobuf");
  if (!p.has_format() || p.format() != kRecordFormat)
    return Error(Errc::kCorruptState, "SessionRecord: unknown format");
  if (static_cast<std::size_t>(p.previous_size()) > kMaxArchivedStates)
    return Error(Errc::kCorruptState, "SessionRecord: too many archived states");
  SessionRecord out;
  if (p.has_current()) {
    auto s = internal::SessionState::from_proto(p.current());
    if (!s) return s.error();
    out.d_->current = std::move(*s);
  }
  for (const auto& ps : p.previous()) {
    auto s = internal::SessionState::from_proto(ps);
    if (!s) return s.error();
    out.d_->previous.push_back(std::move(*s));
  }
  if (static_cast<std::size_t>(p.retired_base_keys_size()) > kMaxRetiredBaseKeys)
    return Error(Errc::kCorruptState, "SessionRecord: too many retired base keys");
  for (const auto& k : p.retired_base_keys()) {
    std::array<std::uint8_t, 32> u{};
    if (!internal::read_fixed(k, u))
      return Error(Errc::kCorruptState, "SessionRecord: retired base key");
    out.d_->retired_base_keys.push_back(PublicKey::from_u(u));
  }
  return out;
}

bool SessionRecord::has_current_state() const noexcept {
  return d_->current.has_value();
}

std::size_t SessionRecord::previous_state_count() const noexcept {
  return d_->previous.size();
}

std::optional<std::uint32_t> SessionRecord::current_version() const noexcept {
  if (!d_->current) return std::nullopt;
  return d_->current->version;
}

std::optional<IdentityKey> SessionRecord::remote_identity() const noexcept {
  if (!d_->current) return std::nullopt;
  return d_->current->remote_identity;
}

std::uint32_t SessionRecord::remote_registration_id() const noexcept {
  return d_->current ? d_->current->remote_registration_id : 0;
}

bool SessionRecord::has_unacknowledged_prekey() const noexcept {
  return d_->current && d_->current->pending_pre_key.has_value();
}

}  // namespace hush

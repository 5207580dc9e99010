// hush: group names and SenderKeyRecord (sender_key.h), and the group message key derivation.
#include <hush/limits.h>
#include <hush/sender_key.h>

#include <algorithm>
#include <array>

#include "crypto/field25519.h"
#include "crypto/signature.h"
#include "group/sender_key_state.h"
#include "proto_util.h"
#include "storage.pb.h"

namespace hush {

using internal::SenderKeyRecordAccess;
using internal::SenderKeyRecordData;
using internal::SenderKeyState;

namespace {
constexpr std::uint32_t kRecordFormat = 1;
constexpr std::array<std::size_t, 4> kDashes = {8, 13, 18, 23};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not the canonical form
}
}  // namespace

Result<DistributionId> DistributionId::parse(std::string_view text) {
  if (text.size() != 36)
    return Error(Errc::kInvalidArgument, "DistributionId::parse: not a 36-character UUID");
  std::array<std::uint8_t, 16> bytes{};
  std::size_t out = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (std::find(kDashes.begin(), kDashes.end(), i) != kDashes.end()) {
      if (text[i] != '-') return Error(Errc::kInvalidArgument, "DistributionId::parse: dashes");
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return Error(Errc::kInvalidArgument, "DistributionId::parse: not lowercase hex");
    bytes[out++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return DistributionId(bytes);
}

Result<DistributionId> DistributionId::generate(RandomSource& random) {
  std::array<std::uint8_t, 16> bytes{};
  if (auto st = random.fill(bytes); !st) return st.error();
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return DistributionId(bytes);
}

std::string DistributionId::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[bytes_[i] >> 4]);
    s.push_back(kHex[bytes_[i] & 0x0F]);
  }
  return s;
}

Result<SenderKeyGroup> SenderKeyGroup::legacy(std::string_view name) {
  if (name.empty() || name.size() > kMaxGroupNameBytes)
    return Error(Errc::kInvalidArgument, "SenderKeyGroup::legacy: name of 1 to 1024 bytes");
  SenderKeyGroup g;
  g.format_ = SenderKeyFormat::kLegacy;
  g.name_ = std::string(name);
  return g;
}

SenderKeyGroup SenderKeyGroup::current(const DistributionId& id) {
  SenderKeyGroup g;
  g.format_ = SenderKeyFormat::kCurrent;
  g.name_ = id.to_string();
  g.id_ = id;
  return g;
}

// ---- SenderKeyRecord ----

SenderKeyRecord::SenderKeyRecord() : d_(std::make_unique<SenderKeyRecordData>()) {}
SenderKeyRecord::~SenderKeyRecord() = default;
SenderKeyRecord::SenderKeyRecord(SenderKeyRecord&&) noexcept = default;
SenderKeyRecord& SenderKeyRecord::operator=(SenderKeyRecord&&) noexcept = default;

SenderKeyRecord SenderKeyRecord::clone() const {
  SenderKeyRecord r;
  r.d_->states.reserve(d_->states.size());
  for (const SenderKeyState& s : d_->states)
    r.d_->states.push_back(s.clone());
  return r;
}

std::size_t SenderKeyRecord::state_count() const noexcept {
  return d_->states.size();
}

bool SenderKeyRecord::can_encrypt() const noexcept {
  return !d_->states.empty() && d_->states.front().signing_private.has_value();
}

SecretBytes SenderKeyRecord::serialize() const {
  storage::SenderKeyRecord pb;
  pb.set_format(kRecordFormat);
  for (const SenderKeyState& s : d_->states) {
    storage::SenderKeyState* ps = pb.add_states();
    ps->set_chain_id(s.chain_id);
    ps->set_iteration(s.chain.index);
    ps->set_chain_key(internal::to_field(s.chain.key.expose()));
    ps->set_signing_public(internal::to_field(s.signing_public.u()));
    if (s.signing_private) ps->set_signing_private(internal::to_field(s.signing_private->expose()));
    ps->set_signing_edwards(internal::to_field(s.signing_edwards));
    for (std::uint32_t c : s.skipped.counters())
      ps->add_skipped_iterations(c);
    if (!s.skipped.empty()) ps->set_skipped_seeds(internal::to_field(s.skipped.seeds()));
  }
  SecretBytes out = internal::serialize_to_secret(pb);
  for (auto& ps : *pb.mutable_states()) {
    internal::wipe(ps.mutable_chain_key());
    internal::wipe(ps.mutable_signing_private());
    internal::wipe(ps.mutable_skipped_seeds());
  }
  return out;
}

namespace {
Result<SenderKeyState> state_from(const storage::SenderKeyState& ps) {
  const Error corrupt(Errc::kCorruptState, "SenderKeyRecord::deserialize: state");
  if (!ps.has_chain_id() || !ps.has_iteration() || !ps.has_chain_key() || !ps.has_signing_public())
    return corrupt;
  SenderKeyState s;
  s.chain_id = ps.chain_id();
  s.chain.index = ps.iteration();
  if (!internal::read_secret(ps.chain_key(), s.chain.key)) return corrupt;
  std::array<std::uint8_t, 32> u{};
  if (!internal::read_fixed(ps.signing_public(), u)) return corrupt;
  s.signing_public = PublicKey::from_u(u);
  if (!internal::read_fixed(ps.signing_edwards(), s.signing_edwards)) return corrupt;
  if (ps.has_signing_private()) {
    auto priv = PrivateKey::parse(as_bytes(ps.signing_private()));
    if (!priv) return corrupt;
    s.signing_private = std::move(*priv);
  }
  const std::size_t n = static_cast<std::size_t>(ps.skipped_iterations_size());
  if (n > kMaxSenderKeySkippedKeys || ps.skipped_seeds().size() != n * 32) return corrupt;
  s.skipped.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t it = ps.skipped_iterations(static_cast<int>(i));
    // Ascending, and below the chain's next iteration (a skipped key is of a message before it).
    if ((i > 0 && it <= s.skipped.counter(i - 1)) || it >= s.chain.index) return corrupt;
    s.skipped.push_back(it, as_bytes(ps.skipped_seeds()).subspan(i * 32, 32));
  }
  return s;
}
}  // namespace

Result<SenderKeyRecord> SenderKeyRecord::deserialize(ByteView data) {
  if (data.size() > kMaxSenderKeyRecordBytes)
    return Error(Errc::kLimitExceeded, "SenderKeyRecord::deserialize: larger than the limit");
  storage::SenderKeyRecord pb;
  struct Wipe {
    storage::SenderKeyRecord& pb;
    ~Wipe() {
      for (auto& ps : *pb.mutable_states()) {
        internal::wipe(ps.mutable_chain_key());
        internal::wipe(ps.mutable_signing_private());
        internal::wipe(ps.mutable_skipped_seeds());
      }
    }
  } wipe{pb};
  if (!internal::parse_from(pb, data))
    return Error(Errc::kCorruptState, "SenderKeyRecord::deserialize: protobuf");
  if (pb.format() != kRecordFormat)
    return Error(Errc::kCorruptState, "SenderKeyRecord::deserialize: unknown format");
  if (static_cast<std::size_t>(pb.states_size()) > kMaxSenderKeyStates)
    return Error(Errc::kCorruptState, "SenderKeyRecord::deserialize: too many states");
  SenderKeyRecord r;
  for (const auto& ps : pb.states()) {
    auto s = state_from(ps);
    if (!s) return s.error();
    r.d_->states.push_back(std::move(*s));
  }
  return r;
}

namespace internal {

Result<SenderKeyGroup> stored_sender_key_group(std::uint32_t format, std::string_view name) {
  if (format == static_cast<std::uint32_t>(SenderKeyFormat::kLegacy)) {
    auto g = SenderKeyGroup::legacy(name);
    if (g) return g;
  } else if (format == static_cast<std::uint32_t>(SenderKeyFormat::kCurrent)) {
    auto id = DistributionId::parse(name);
    if (id) return SenderKeyGroup::current(*id);
  }
  return Error(Errc::kCorruptState, "sender key store: group");
}

Status set_received_signing_key(SenderKeyState& state, const PublicKey& signing_public) {
  std::array<std::uint8_t, 32> y{};
  if (!crypto::montgomery_to_edwards(signing_public.u(), y))
    return Error(Errc::kInvalidKey, "sender key: a signing key without an Edwards form");
  state.signing_public = signing_public;
  state.signing_edwards = y;
  state.signing_private.reset();
  return ok_status();
}

void set_own_signing_key(SenderKeyState& state, KeyPair pair) {
  state.signing_public = pair.public_key;
  state.signing_edwards = crypto::edwards_public(pair.private_key.expose());
  state.signing_private = std::move(pair.private_key);
}

bool retire_own_chains(SenderKeyRecord& record) {
  bool any = false;
  for (SenderKeyState& s : SenderKeyRecordAccess::data(record).states) {
    if (s.signing_private) any = true;
    s.signing_private.reset();
  }
  return any;
}

SenderMessageKey SenderMessageKey::from_seed(crypto::Crypto& c, ByteView seed) {
  static constexpr std::array<std::uint8_t, 12> kInfo = {'W', 'h', 'i', 's', 'p', 'e',
                                                         'r', 'G', 'r', 'o', 'u', 'p'};
  SecretArray<48> okm;
  crypto::hkdf_sha256(c.extract, c.hmac, seed, {}, kInfo, okm.expose_mut());
  SenderMessageKey k;
  std::copy_n(okm.expose().begin(), 16, k.iv.expose_mut().begin());
  std::copy_n(okm.expose().begin() + 16, 32, k.cipher_key.expose_mut().begin());
  return k;
}

}  // namespace internal
}  // namespace hush

// hush: sender-key message and distribution message wire encoding, in libsignal-protocol-c
// 2.3.3's layout and in current libsignal's (group.h).
//
// Parsing checks, in order: size bounds, the version nibble (before any protobuf is read), the
// protobuf, field presence, lengths of ids and keys. The signature is not checked here;
// group_decrypt checks it with the chain's signing key.
#include <hush/group.h>
#include <hush/limits.h>
#include <hush/messages.h>

#include <algorithm>

#include "crypto/signature.h"
#include "group/group_messages.h"
#include "proto_util.h"
#include "wire.pb.h"

namespace hush {

namespace {

// Smallest SenderKeyMessage: version byte, at least one protobuf byte, the signature
// (libsignal-protocol-c: length > 65).
constexpr std::size_t kMinSenderKeyMessageBytes = 1 + 1 + Signature::kSize;

Status check_version(std::uint8_t version_byte, const char* legacy_where,
                     const char* future_where) {
  const std::uint8_t version = version_byte >> 4;
  if (version < kProtocolVersion) return Error(Errc::kLegacyMessage, legacy_where);
  if (version > kProtocolVersion) return Error(Errc::kInvalidVersion, future_where);
  return ok_status();
}

Result<DistributionId> read_distribution_id(const std::string& field, const char* where) {
  std::array<std::uint8_t, 16> bytes{};
  if (!internal::read_fixed(field, bytes)) return Error(Errc::kInvalidMessage, where);
  return DistributionId(bytes);
}

std::string distribution_field(const SenderKeyGroup& group) {
  return internal::to_field(group.distribution_id().value_or(DistributionId()).bytes());
}

template <class Pb>
Bytes with_version(const Pb& pb) {
  Bytes out(1 + pb.ByteSizeLong());
  out[0] = kVersionByte;
  pb.SerializeWithCachedSizesToArray(out.data() + 1);
  return out;
}

}  // namespace

Result<SenderKeyMessage> SenderKeyMessage::parse(SenderKeyFormat format, ByteView serialized) {
  if (serialized.size() > kMaxMessageBytes)
    return Error(Errc::kLimitExceeded, "SenderKeyMessage: larger than kMaxMessageBytes");
  if (serialized.size() < kMinSenderKeyMessageBytes)
    return Error(Errc::kInvalidMessage, "SenderKeyMessage: too short");
  if (auto st = check_version(serialized[0], "SenderKeyMessage: legacy version",
                              "SenderKeyMessage: unknown version");
      !st)
    return st.error();
  const ByteView body = serialized.subspan(1, serialized.size() - 1 - Signature::kSize);
  SenderKeyMessage m;
  if (format == SenderKeyFormat::kLegacy) {
    wire::LegacySenderKeyMessage pb;
    if (!internal::parse_from(pb, body))
      return Error(Errc::kInvalidProtobuf, "SenderKeyMessage: protobuf");
    if (!pb.has_id() || !pb.has_iteration() || !pb.has_ciphertext())
      return Error(Errc::kInvalidMessage, "SenderKeyMessage: missing field");
    m.chain_id_ = pb.id();
    m.iteration_ = pb.iteration();
    m.ciphertext_.assign(pb.ciphertext().begin(), pb.ciphertext().end());
  } else if (format == SenderKeyFormat::kCurrent) {
    wire::SenderKeyMessage pb;
    if (!internal::parse_from(pb, body))
      return Error(Errc::kInvalidProtobuf, "SenderKeyMessage: protobuf");
    if (!pb.has_distribution_uuid() || !pb.has_chain_id() || !pb.has_iteration() ||
        !pb.has_ciphertext())
      return Error(Errc::kInvalidMessage, "SenderKeyMessage: missing field");
    auto id = read_distribution_id(pb.distribution_uuid(), "SenderKeyMessage: distribution id");
    if (!id) return id.error();
    m.distribution_id_ = *id;
    m.chain_id_ = pb.chain_id();
    m.iteration_ = pb.iteration();
    m.ciphertext_.assign(pb.ciphertext().begin(), pb.ciphertext().end());
  } else {
    return Error(Errc::kInvalidArgument, "SenderKeyMessage: unknown format");
  }
  m.format_ = format;
  m.serialized_.assign(serialized.begin(), serialized.end());
  return m;
}

Result<SenderKeyDistributionMessage> SenderKeyDistributionMessage::parse(SenderKeyFormat format,
                                                                         ByteView serialized) {
  if (serialized.size() > kMaxSenderKeyDistributionBytes)
    return Error(Errc::kLimitExceeded,
                 "SenderKeyDistributionMessage: larger than kMaxSenderKeyDistributionBytes");
  if (serialized.size() < 2)
    return Error(Errc::kInvalidMessage, "SenderKeyDistributionMessage: too short");
  if (auto st = check_version(serialized[0], "SenderKeyDistributionMessage: legacy version",
                              "SenderKeyDistributionMessage: unknown version");
      !st)
    return st.error();
  const ByteView body = serialized.subspan(1);
  SenderKeyDistributionMessage m;
  // The fields both layouts share, read from whichever was parsed.
  const std::string* chain_key = nullptr;
  const std::string* signing_key = nullptr;
  wire::LegacySenderKeyDistributionMessage legacy;
  wire::SenderKeyDistributionMessage current;
  struct Wipe {
    wire::LegacySenderKeyDistributionMessage& a;
    wire::SenderKeyDistributionMessage& b;
    ~Wipe() {
      internal::wipe(a.mutable_chain_key());
      internal::wipe(b.mutable_chain_key());
    }
  } wipe{legacy, current};
  if (format == SenderKeyFormat::kLegacy) {
    if (!internal::parse_from(legacy, body))
      return Error(Errc::kInvalidProtobuf, "SenderKeyDistributionMessage: protobuf");
    if (!legacy.has_id() || !legacy.has_iteration() || !legacy.has_chain_key() ||
        !legacy.has_signing_key())
      return Error(Errc::kInvalidMessage, "SenderKeyDistributionMessage: missing field");
    m.chain_id_ = legacy.id();
    m.iteration_ = legacy.iteration();
    chain_key = &legacy.chain_key();
    signing_key = &legacy.signing_key();
  } else if (format == SenderKeyFormat::kCurrent) {
    if (!internal::parse_from(current, body))
      return Error(Errc::kInvalidProtobuf, "SenderKeyDistributionMessage: protobuf");
    if (!current.has_distribution_uuid() || !current.has_chain_id() || !current.has_iteration() ||
        !current.has_chain_key() || !current.has_signing_key())
      return Error(Errc::kInvalidMessage, "SenderKeyDistributionMessage: missing field");
    auto id = read_distribution_id(current.distribution_uuid(),
                                   "SenderKeyDistributionMessage: distribution id");
    if (!id) return id.error();
    m.distribution_id_ = *id;
    m.chain_id_ = current.chain_id();
    m.iteration_ = current.iteration();
    chain_key = &current.chain_key();
    signing_key = &current.signing_key();
  } else {
    return Error(Errc::kInvalidArgument, "SenderKeyDistributionMessage: unknown format");
  }
  if (!internal::read_secret(*chain_key, m.chain_key_))
    return Error(Errc::kInvalidKey, "SenderKeyDistributionMessage: chain key not 32 bytes");
  auto key = PublicKey::parse(as_bytes(*signing_key));
  if (!key) return Error(Errc::kInvalidKey, "SenderKeyDistributionMessage: signing key");
  m.signing_key_ = *key;
  m.format_ = format;
  m.serialized_ = SecretBytes::copy_of(serialized);
  return m;
}

SenderKeyDistributionMessage SenderKeyDistributionMessage::clone() const {
  SenderKeyDistributionMessage m;
  m.serialized_ = serialized_.clone();
  m.chain_key_ = chain_key_.clone();
  m.distribution_id_ = distribution_id_;
  m.signing_key_ = signing_key_;
  m.chain_id_ = chain_id_;
  m.iteration_ = iteration_;
  m.format_ = format_;
  return m;
}

namespace internal {

Result<SenderKeyMessage> GroupMessageBuilder::sender_key_message(
    RandomSource& random, const SenderKeyGroup& group, std::uint32_t chain_id,
    std::uint32_t iteration, Bytes ciphertext, const PrivateKey& signing_key,
    const std::array<std::uint8_t, 32>& signing_edwards) {
  Bytes out;
  if (group.format() == SenderKeyFormat::kLegacy) {
    wire::LegacySenderKeyMessage pb;
    pb.set_id(chain_id);
    pb.set_iteration(iteration);
    pb.set_ciphertext(to_field(ciphertext));
    out = with_version(pb);
  } else {
    wire::SenderKeyMessage pb;
    pb.set_distribution_uuid(distribution_field(group));
    pb.set_chain_id(chain_id);
    pb.set_iteration(iteration);
    pb.set_ciphertext(to_field(ciphertext));
    out = with_version(pb);
  }
  SecretArray<64> nonce_random;
  if (auto st = random.fill(nonce_random.expose_mut()); !st) return st.error();
  const auto signature = crypto::curve25519_sign_with_edwards(signing_key.expose(), signing_edwards,
                                                              out, nonce_random.expose());
  out.insert(out.end(), signature.begin(), signature.end());
  SenderKeyMessage m;
  m.serialized_ = std::move(out);
  m.ciphertext_ = std::move(ciphertext);
  m.distribution_id_ = group.distribution_id();
  m.chain_id_ = chain_id;
  m.iteration_ = iteration;
  m.format_ = group.format();
  return m;
}

SenderKeyDistributionMessage GroupMessageBuilder::distribution_message(
    const SenderKeyGroup& group, std::uint32_t chain_id, std::uint32_t iteration,
    const SecretArray<32>& chain_key, const PublicKey& signing_key) {
  const auto key = signing_key.serialize();
  SenderKeyDistributionMessage m;
  if (group.format() == SenderKeyFormat::kLegacy) {
    wire::LegacySenderKeyDistributionMessage pb;
    pb.set_id(chain_id);
    pb.set_iteration(iteration);
    pb.set_chain_key(to_field(chain_key.expose()));
    pb.set_signing_key(to_field(key));
    SecretBytes out(1 + pb.ByteSizeLong());
    out.expose_mut()[0] = kVersionByte;
    pb.SerializeWithCachedSizesToArray(out.expose_mut().data() + 1);
    wipe(pb.mutable_chain_key());
    m.serialized_ = std::move(out);
  } else {
    wire::SenderKeyDistributionMessage pb;
    pb.set_distribution_uuid(distribution_field(group));
    pb.set_chain_id(chain_id);
    pb.set_iteration(iteration);
    pb.set_chain_key(to_field(chain_key.expose()));
    pb.set_signing_key(to_field(key));
    SecretBytes out(1 + pb.ByteSizeLong());
    out.expose_mut()[0] = kVersionByte;
    pb.SerializeWithCachedSizesToArray(out.expose_mut().data() + 1);
    wipe(pb.mutable_chain_key());
    m.serialized_ = std::move(out);
  }
  m.chain_key_ = chain_key.clone();
  m.distribution_id_ = group.distribution_id();
  m.signing_key_ = signing_key;
  m.chain_id_ = chain_id;
  m.iteration_ = iteration;
  m.format_ = group.format();
  return m;
}

}  // namespace internal
}  // namespace hush

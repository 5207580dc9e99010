// hush: SignalMessage and PreKeySignalMessage wire encoding (wire spec §2).
//
// Parsing checks, in order: size bounds, the version nibble (before any protobuf is read),
// the protobuf, field presence, key encodings. Error mapping follows libsignal-protocol-c where its
// codes say what was wrong, and is more specific where they do not (a version above 3 is
// kInvalidVersion for both message kinds; see result.h).
#include <hush/limits.h>
#include <hush/messages.h>
#include <algorithm>

#include "crypto/ct.h"
#include "messages_internal.h"
#include "proto_util.h"
#include "wire.pb.h"

namespace hush {

namespace {

// A Kyber1024 ciphertext: type byte 0x08 and 1568 bytes (signal-v4-wire.md §2.1).
constexpr std::size_t kKyberCiphertextSize = 1569;
constexpr std::uint8_t kKyberTypeByte = 0x08;

// Smallest SignalMessage: version byte, at least one protobuf byte, 8-byte MAC (libsignal: > 9).
constexpr std::size_t kMinSignalMessageBytes = 1 + 1 + kMacSize;

Status check_version(std::uint8_t version_byte, const char* legacy_where,
                     const char* future_where) {
  const std::uint8_t version = version_byte >> 4;
  if (version < kProtocolVersion) return Error(Errc::kLegacyMessage, legacy_where);
  if (version > kPqProtocolVersion) return Error(Errc::kInvalidVersion, future_where);
  return ok_status();
}

}  // namespace

Result<SignalMessage> SignalMessage::parse(ByteView serialized) {
  if (serialized.size() > kMaxMessageBytes)
    return Error(Errc::kLimitExceeded, "SignalMessage: larger than kMaxMessageBytes");
  if (serialized.size() < kMinSignalMessageBytes)
    return Error(Errc::kInvalidMessage, "SignalMessage: too short");
  if (auto st = check_version(serialized[0], "SignalMessage: legacy version",
                              "SignalMessage: unknown version");
      !st)
    return st.error();
  wire::SignalMessage pb;
  if (!internal::parse_from(pb, serialized.subspan(1, serialized.size() - 1 - kMacSize)))
    return Error(Errc::kInvalidProtobuf, "SignalMessage: protobuf");
  if (!pb.has_ratchet_key() || !pb.has_counter() || !pb.has_ciphertext())
    return Error(Errc::kInvalidMessage, "SignalMessage: missing field");
  auto ratchet_key = PublicKey::parse(as_bytes(pb.ratchet_key()));
  if (!ratchet_key) return Error(Errc::kInvalidKey, "SignalMessage: ratchet key");
  SignalMessage m;
  m.serialized_.assign(serialized.begin(), serialized.end());
  m.ciphertext_.assign(pb.ciphertext().begin(), pb.ciphertext().end());
  m.ratchet_key_ = *ratchet_key;
  m.counter_ = pb.counter();
  m.previous_counter_ = pb.previous_counter();
  m.version_ = static_cast<std::uint8_t>(serialized[0] >> 4);
  if (m.version_ == kPqProtocolVersion) {
    // Optional for the parser (signal-v4-wire.md §3.2); the session demands pq_ratchet.
    m.pq_ratchet_.assign(pb.pq_ratchet().begin(), pb.pq_ratchet().end());
    if (pb.has_addresses()) {
      m.addresses_.assign(pb.addresses().begin(), pb.addresses().end());
      m.has_addresses_ = true;
    }
  }
  return m;
}

Result<PreKeySignalMessage> PreKeySignalMessage::parse(ByteView serialized) {
  if (serialized.size() > kMaxMessageBytes)
    return Error(Errc::kLimitExceeded, "PreKeySignalMessage: larger than kMaxMessageBytes");
  if (serialized.size() < 2) return Error(Errc::kInvalidMessage, "PreKeySignalMessage: too short");
  if (auto st = check_version(serialized[0], "PreKeySignalMessage: legacy version",
                              "PreKeySignalMessage: unknown version");
      !st)
    return st.error();
  wire::PreKeySignalMessage pb;
  if (!internal::parse_from(pb, serialized.subspan(1)))
    return Error(Errc::kInvalidProtobuf, "PreKeySignalMessage: protobuf");
  if (!pb.has_signed_pre_key_id() || !pb.has_base_key() || !pb.has_identity_key() ||
      !pb.has_message())
    return Error(Errc::kInvalidMessage, "PreKeySignalMessage: missing field");
  auto base_key = PublicKey::parse(as_bytes(pb.base_key()));
  if (!base_key) return Error(Errc::kInvalidKey, "PreKeySignalMessage: base key");
  auto identity_key = PublicKey::parse(as_bytes(pb.identity_key()));
  if (!identity_key) return Error(Errc::kInvalidKey, "PreKeySignalMessage: identity key");
  const ByteView inner = as_bytes(pb.message());
  if (!inner.empty() && (inner[0] >> 4) != (serialized[0] >> 4))
    return Error(Errc::kInvalidVersion, "PreKeySignalMessage: inner version differs");
  auto message = SignalMessage::parse(inner);
  if (!message) return message.error();
  PreKeySignalMessage m;
  m.serialized_.assign(serialized.begin(), serialized.end());
  m.message_ = std::move(*message);
  m.base_key_ = *base_key;
  m.identity_key_ = *identity_key;
  if (pb.has_pre_key_id()) m.pre_key_id_ = PreKeyId{pb.pre_key_id()};
  m.signed_pre_key_id_ = SignedPreKeyId{pb.signed_pre_key_id()};
  m.registration_id_ = pb.registration_id();
  m.version_ = static_cast<std::uint8_t>(serialized[0] >> 4);
  if (m.version_ == kPqProtocolVersion) {
    // libsignal: "Kyber pre key must be present for this session version" (§2.4 step 3).
    if (!pb.has_kyber_pre_key_id() || !pb.has_kyber_ciphertext())
      return Error(Errc::kInvalidMessage, "PreKeySignalMessage: version 4 without Kyber fields");
    const ByteView ct = as_bytes(pb.kyber_ciphertext());
    if (ct.size() != kKyberCiphertextSize || ct[0] != kKyberTypeByte)
      return Error(Errc::kInvalidKemCiphertext,
                   "PreKeySignalMessage: Kyber ciphertext of the wrong type or length");
    m.kyber_pre_key_id_ = KyberPreKeyId{pb.kyber_pre_key_id()};
    m.kyber_ciphertext_.assign(ct.begin(), ct.end());
  }
  return m;
}

Result<CiphertextMessage> CiphertextMessage::parse(MessageType type, ByteView serialized) {
  switch (type) {
    case MessageType::kWhisper: {
      auto m = SignalMessage::parse(serialized);
      if (!m) return m.error();
      return CiphertextMessage(std::move(*m));
    }
    case MessageType::kPreKey: {
      auto m = PreKeySignalMessage::parse(serialized);
      if (!m) return m.error();
      return CiphertextMessage(std::move(*m));
    }
  }
  return Error(Errc::kInvalidArgument, "CiphertextMessage::parse: message type");
}

namespace internal {

std::array<std::uint8_t, kMacSize> compute_mac(crypto::HmacSha256& hmac, ByteView mac_key,
                                               const IdentityKey& sender,
                                               const IdentityKey& receiver, ByteView mac_input) {
  hmac.init(mac_key);
  hmac.update(sender.serialize());
  hmac.update(receiver.serialize());
  hmac.update(mac_input);
  SecretArray<32> full;
  hmac.final(full.expose_mut());
  std::array<std::uint8_t, kMacSize> mac{};
  std::copy_n(full.expose().begin(), kMacSize, mac.begin());
  return mac;
}

bool verify_mac(crypto::HmacSha256& hmac, ByteView mac_key, const IdentityKey& sender,
                const IdentityKey& receiver, const SignalMessage& message) {
  const auto expected = compute_mac(hmac, mac_key, sender, receiver, message.mac_input());
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  // Fuzzing builds only (see crypto/fuzzing.h): every MAC verifies, so that fuzzed messages reach
  // the ratchet and the decryption. The MAC is still computed, to keep the same code path.
  (void)constant_time_equals(expected, message.mac());
  return true;
#else
  return crypto::declassified(constant_time_equals(expected, message.mac()));
#endif
}

SignalMessage MessageBuilder::signal_message(crypto::HmacSha256& hmac, ByteView mac_key,
                                             const IdentityKey& sender, const IdentityKey& receiver,
                                             const PublicKey& ratchet_key, std::uint32_t counter,
                                             std::uint32_t previous_counter, Bytes ciphertext,
                                             const V4Fields& v4) {
  wire::SignalMessage pb;
  const auto key = ratchet_key.serialize();
  pb.set_ratchet_key(to_field(key));
  pb.set_counter(counter);
  pb.set_previous_counter(previous_counter);
  pb.set_ciphertext(to_field(ciphertext));
  if (v4.version == kPqProtocolVersion) {
    pb.set_pq_ratchet(to_field(v4.pq_ratchet));
    if (v4.addresses) pb.set_addresses(to_field(*v4.addresses));
  }
  const std::size_t body = pb.ByteSizeLong();
  SignalMessage m;
  m.serialized_.resize(1 + body + kMacSize);
  m.serialized_[0] = v4.version == kPqProtocolVersion ? kPqVersionByte : kVersionByte;
  pb.SerializeWithCachedSizesToArray(m.serialized_.data() + 1);
  const auto mac =
      compute_mac(hmac, mac_key, sender, receiver, ByteView(m.serialized_).first(1 + body));
  std::copy(mac.begin(), mac.end(), m.serialized_.begin() + static_cast<std::ptrdiff_t>(1 + body));
  m.ciphertext_ = std::move(ciphertext);
  m.ratchet_key_ = ratchet_key;
  m.counter_ = counter;
  m.previous_counter_ = previous_counter;
  m.version_ = v4.version;
  if (v4.version == kPqProtocolVersion) {
    m.pq_ratchet_.assign(v4.pq_ratchet.begin(), v4.pq_ratchet.end());
    if (v4.addresses) {
      m.addresses_.assign(v4.addresses->begin(), v4.addresses->end());
      m.has_addresses_ = true;
    }
  }
  return m;
}

PreKeySignalMessage MessageBuilder::prekey_message(
    std::uint32_t registration_id, std::optional<PreKeyId> pre_key_id,
    SignedPreKeyId signed_pre_key_id, const PublicKey& base_key, const IdentityKey& identity_key,
    SignalMessage message, std::optional<KyberPreKeyId> kyber_pre_key_id,
    ByteView kyber_ciphertext) {
  wire::PreKeySignalMessage pb;
  pb.set_registration_id(registration_id);
  if (pre_key_id) pb.set_pre_key_id(to_uint(*pre_key_id));
  pb.set_signed_pre_key_id(to_uint(signed_pre_key_id));
  pb.set_base_key(to_field(base_key.serialize()));
  pb.set_identity_key(to_field(identity_key.serialize()));
  pb.set_message(to_field(message.serialized()));
  const std::uint8_t version = message.message_version();
  if (kyber_pre_key_id) {
    pb.set_kyber_pre_key_id(to_uint(*kyber_pre_key_id));
    pb.set_kyber_ciphertext(to_field(kyber_ciphertext));
  }
  const std::size_t body = pb.ByteSizeLong();
  PreKeySignalMessage m;
  m.serialized_.resize(1 + body);
  m.serialized_[0] = version == kPqProtocolVersion ? kPqVersionByte : kVersionByte;
  pb.SerializeWithCachedSizesToArray(m.serialized_.data() + 1);
  m.message_ = std::move(message);
  m.base_key_ = base_key;
  m.identity_key_ = identity_key;
  m.pre_key_id_ = pre_key_id;
  m.signed_pre_key_id_ = signed_pre_key_id;
  m.registration_id_ = registration_id;
  m.version_ = version;
  m.kyber_pre_key_id_ = kyber_pre_key_id;
  m.kyber_ciphertext_.assign(kyber_ciphertext.begin(), kyber_ciphertext.end());
  return m;
}

}  // namespace internal
}  // namespace hush

// hush internal: call messages (see call_message.h).
#include "call/call_message.h"
#include "call/call_message_proto.h"

#include <algorithm>

#include <hush/limits.h>

#include "content.pb.h"
#include "proto_util.h"

namespace hush::internal {

namespace {

// The largest epoch: epoch * 256 + 254 must fit a key id (64 bits).
constexpr std::uint64_t kMaxCallEpoch = (std::uint64_t{1} << 56) - 2;

bool has_payload(CallMessageType t) {
  return t == CallMessageType::kOffer || t == CallMessageType::kAnswer ||
         t == CallMessageType::kSignal || t == CallMessageType::kHangup;
}

bool has_list(CallMessageType t) {
  return t == CallMessageType::kOffer || t == CallMessageType::kParticipants;
}

Status read_participants(const content::CallMessage& m, std::vector<CallParticipant>& out) {
  if (static_cast<std::size_t>(m.participants_size()) > kMaxCallParticipants)
    return Error(Errc::kLimitExceeded, "call message: too many participants");
  out.reserve(static_cast<std::size_t>(m.participants_size()));
  for (const content::CallParticipant& p : m.participants()) {
    if (!p.has_name() || !p.has_device() || !p.has_index())
      return Error(Errc::kInvalidCallMessage, "call message: participant field missing");
    if (p.name().size() > kMaxAddressNameBytes)
      return Error(Errc::kLimitExceeded, "call message: participant name too long");
    if (p.name().empty() || p.device() == 0)
      return Error(Errc::kInvalidCallMessage, "call message: empty name or device 0");
    if (p.index() >= kMaxCallIndices)
      return Error(Errc::kInvalidCallMessage, "call message: participant index too large");
    if (!out.empty() && !(out.back().index < p.index()))
      return Error(Errc::kInvalidCallMessage, "call message: indices not strictly ascending");
    for (const CallParticipant& q : out)
      if (q.device.name == p.name())
        return Error(Errc::kInvalidCallMessage, "call message: a person listed twice");
    out.push_back(CallParticipant{Address{p.name(), DeviceId{p.device()}}, p.index()});
  }
  if (out.empty() || out.front().index != 0)
    return Error(Errc::kInvalidCallMessage, "call message: no host in the participant list");
  return ok_status();
}

}  // namespace

void call_message_to_proto(const CallMessageParts& parts, content::CallMessage& out) {
  out.set_call_id(to_field(parts.id));
  out.set_type(static_cast<std::uint32_t>(parts.type));
  if (!parts.payload.empty()) out.set_payload(to_field(parts.payload));
  for (const CallParticipant& p : parts.participants) {
    content::CallParticipant* q = out.add_participants();
    q->set_name(p.device.name);
    q->set_device(to_uint(p.device.device_id));
    q->set_index(p.index);
  }
  if (parts.key) {
    out.mutable_key()->set_epoch(parts.key->epoch);
    out.mutable_key()->set_key(to_field(parts.key->key.expose()));
  }
  if (parts.list_version != 0) out.set_list_version(parts.list_version);
}

void wipe_call_message(content::CallMessage& message) {
  if (message.has_key()) wipe(message.mutable_key()->mutable_key());
}

Result<CallMessageParts> read_call_message(const content::CallMessage& m) {
  CallMessageParts out;
  if (!m.has_call_id() || !m.has_type() || !read_fixed(m.call_id(), out.id))
    return Error(Errc::kInvalidCallMessage, "call message: call id");
  if (m.type() < 1 || m.type() > 9) return Error(Errc::kInvalidCallMessage, "call message: type");
  out.type = static_cast<CallMessageType>(m.type());
  if (m.has_payload()) {
    if (!has_payload(out.type))
      return Error(Errc::kInvalidCallMessage, "call message: a payload on a type without one");
    if (m.payload().size() > kMaxCallPayloadBytes)
      return Error(Errc::kLimitExceeded, "call message: payload too large");
    out.payload.assign(m.payload().begin(), m.payload().end());
  }
  if (has_list(out.type)) {
    if (auto st = read_participants(m, out.participants); !st) return st.error();
  } else if (m.participants_size() > 0) {
    return Error(Errc::kInvalidCallMessage, "call message: a list on a type without one");
  }
  if (out.type == CallMessageType::kKey) {
    if (!m.has_key() || !m.key().has_epoch() || !m.key().has_key())
      return Error(Errc::kInvalidCallMessage, "call message: key missing");
    if (m.key().key().size() != kCallBaseKeyBytes)
      return Error(Errc::kInvalidCallMessage, "call message: key size");
    if (m.key().epoch() > kMaxCallEpoch)
      return Error(Errc::kInvalidCallMessage, "call message: epoch too large");
    out.key = CallKeyParts{m.key().epoch(), SecretBytes::copy_of(as_bytes(m.key().key()))};
  } else if (m.has_key()) {
    return Error(Errc::kInvalidCallMessage, "call message: a key on a type without one");
  }
  out.list_version = m.list_version();
  return out;
}

Result<CallMessageParts> parse_call_message(ByteView bytes) {
  content::CallMessage m;
  struct Wiper {
    content::CallMessage& m;
    ~Wiper() { wipe_call_message(m); }
  } wiper{m};
  if (!parse_from(m, bytes)) return Error(Errc::kInvalidProtobuf, "call message: protobuf");
  return read_call_message(m);
}

SecretBytes serialize_call_message(const CallMessageParts& parts) {
  content::CallMessage m;
  call_message_to_proto(parts, m);
  SecretBytes out = serialize_to_secret(m);
  wipe_call_message(m);
  return out;
}

}  // namespace hush::internal

// hush internal: the Messenger's Envelope (see envelope.h).
#include "messenger/envelope.h"

#include <algorithm>

#include <hush/limits.h>

#include "envelope.pb.h"
#include "proto_util.h"

namespace hush::internal {

Bytes build_envelope(const Address& sender, const CiphertextMessage& message,
                     const EnvelopeId& id) {
  envelope::Envelope e;
  e.set_format(kEnvelopeFormat);
  e.set_sender_name(sender.name);
  e.set_sender_device(to_uint(sender.device_id));
  e.set_type(static_cast<std::uint32_t>(message.type()));
  e.set_body(to_field(message.serialized()));
  e.set_message_id(to_field(id));
  Bytes bytes(e.ByteSizeLong());
  e.SerializeWithCachedSizesToArray(bytes.data());
  return bytes;
}

Bytes build_group_envelope(const Address& sender, const GroupIdBytes& group, ByteView message,
                           const EnvelopeId& id) {
  envelope::Envelope e;
  e.set_format(kEnvelopeFormat);
  e.set_sender_name(sender.name);
  e.set_sender_device(to_uint(sender.device_id));
  e.set_type(kGroupEnvelopeType);
  e.set_body(to_field(message));
  e.set_message_id(to_field(id));
  e.set_group_id(to_field(group));
  Bytes bytes(e.ByteSizeLong());
  e.SerializeWithCachedSizesToArray(bytes.data());
  return bytes;
}

Result<EnvelopeParts> parse_envelope(ByteView bytes) {
  if (bytes.size() > kMaxEnvelopeBytes) return Error(Errc::kLimitExceeded, "envelope: too large");
  envelope::Envelope e;
  if (!parse_from(e, bytes)) return Error(Errc::kInvalidProtobuf, "envelope: protobuf");
  if (!e.has_format() || e.format() != kEnvelopeFormat)
    return Error(Errc::kInvalidMessage, "envelope: unknown format");
  if (!e.has_sender_name() || !e.has_sender_device() || !e.has_type() || !e.has_body() ||
      !e.has_message_id())
    return Error(Errc::kInvalidMessage, "envelope: missing field");
  if (e.sender_name().size() > kMaxAddressNameBytes)
    return Error(Errc::kLimitExceeded, "envelope: sender name too long");
  if (e.sender_name().empty() || e.sender_device() == 0)
    return Error(Errc::kInvalidMessage, "envelope: empty sender");
  if (e.message_id().size() != kEnvelopeIdBytes)
    return Error(Errc::kInvalidMessage, "envelope: envelope id");
  EnvelopeParts out;
  if (e.type() == kGroupEnvelopeType) {
    GroupIdBytes g{};
    if (!e.has_group_id() || !read_fixed(e.group_id(), g))
      return Error(Errc::kInvalidMessage, "envelope: group id");
    out.group = g;
  } else if (e.type() != static_cast<std::uint32_t>(MessageType::kWhisper) &&
             e.type() != static_cast<std::uint32_t>(MessageType::kPreKey)) {
    return Error(Errc::kInvalidMessage, "envelope: message type");
  } else if (e.has_group_id()) {
    return Error(Errc::kInvalidMessage, "envelope: group id on a 1:1 message");
  }
  out.sender = Address{e.sender_name(), DeviceId{e.sender_device()}};
  if (!out.group) out.type = static_cast<MessageType>(e.type());
  out.body.assign(e.body().begin(), e.body().end());
  std::copy(e.message_id().begin(), e.message_id().end(), out.id.begin());
  return out;
}

}  // namespace hush::internal

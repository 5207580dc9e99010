// hush internal: a call message to and from its protobuf (proto/content.proto CallMessage), for
// the Content that carries it (content.cpp). Kept apart from call_message.h so that the generated
// protobuf namespace stays out of the headers most code includes.
//
// Thread-safety: plain functions.
#pragma once

#include "call/call_message.h"
#include "content.pb.h"

namespace hush::internal {

/// Fills `out` from `parts` (the key is a secret: the caller wipes the message).
void call_message_to_proto(const CallMessageParts& parts, content::CallMessage& out);

/// Overwrites the key a CallMessage holds.
void wipe_call_message(content::CallMessage& message);

/// Reads a call message. Errors: kInvalidCallMessage (a missing call id or type, an id of the
/// wrong size, an unknown type, a payload, list or key where the type has none, no list on an
/// offer or list, no key on a key message, a key of another size than kCallBaseKeyBytes, an
/// epoch beyond 2^56-2, an empty name or device 0, indices not strictly ascending or not below
/// kMaxCallIndices, a device or a person listed twice, no host (index 0)), kLimitExceeded (a
/// payload over kMaxCallPayloadBytes, more than kMaxCallParticipants participants, a name over
/// kMaxAddressNameBytes).
Result<CallMessageParts> read_call_message(const content::CallMessage& message);

}  // namespace hush::internal

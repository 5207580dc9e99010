// hush internal: AttachmentPointer <-> its protobuf message (proto/attachment.proto), for the
// pointer's own format and for the pointers a Messenger Content carries.
//
// Not responsible for: where the message travels. Thread-safety: plain functions.
#pragma once

#include <hush/attachment.h>
#include <hush/result.h>

#include "attachment.pb.h"

namespace hush::internal {

/// The generated message (named in full: hush::internal::attachment is the blob format's).
using PointerMessage = ::hush::attachment::AttachmentPointer;

/// Fills `m` from `p` (the key included: wipe it with wipe_pointer_message when done).
void pointer_to_message(const AttachmentPointer& p, PointerMessage& m);
/// Checks and converts a parsed message (untrusted); errors as AttachmentPointer::parse.
Result<AttachmentPointer> pointer_from_message(const PointerMessage& m);
/// Overwrites the key in `m` (best effort, as proto_util.h's wipe).
void wipe_pointer_message(PointerMessage& m);

}  // namespace hush::internal

/// @file
/// Umbrella header. Includes the whole public API.
///
/// hush is an end-to-end encryption library wire-compatible with Signal protocol version 3
/// (libsignal-protocol-c 2.3.3): X3DH prekey bundles and the Double Ratchet.
#pragma once

#include <hush/address.h>
#include <hush/attachment.h>
#include <hush/bytes.h>
#include <hush/call.h>
#include <hush/clock.h>
#include <hush/context.h>
#include <hush/device_list.h>
#include <hush/fingerprint.h>
#include <hush/group.h>
#include <hush/in_memory_store.h>
#include <hush/keys.h>
#include <hush/limits.h>
#include <hush/link.h>
#include <hush/messages.h>
#include <hush/messenger.h>
#include <hush/prekey.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>
#include <hush/sender_key.h>
#include <hush/session.h>
#include <hush/session_record.h>
#include <hush/sframe.h>
#include <hush/sqlite_store.h>
#include <hush/store.h>
#include <hush/transport.h>
#include <hush/version.h>

/// @namespace hush
/// The whole public API of the library (the C++ one; `hush::detail` is internal). Start with
/// hush::Messenger (messenger.h), or, without a Messenger, with the operations in session.h.

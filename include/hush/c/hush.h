/// @file
/// C API: Umbrella header. Includes every header of the C API.
///
/// hush is an end-to-end encryption library wire-compatible with Signal protocol version 3. This C
/// API (C99) is a thin layer over the C++ API for programs in C and for other languages' foreign
/// function interfaces (Python's ctypes, Go's cgo, Rust, Swift): opaque handles, status codes with
/// a message a person can read (hush_error), explicit lengths on every buffer, and nothing to free
/// except with the hush_*_free functions. common.h states the conventions.
///
/// - context.h     randomness, clock and logging (hush_context)
/// - store.h       SQLite (sealed at rest with a storage key) and in-memory stores (hush_store)
/// - bundle.h      prekeys, bundles, and the helpers a key directory needs
/// - session.h     one-to-one sessions: process a bundle, encrypt, decrypt
/// - messenger.h   people with several devices over a transport and a directory given as callbacks
/// - fingerprint.h safety numbers: compute, display, compare a scanned code
/// - group.h       groups with sender keys, in both wire formats (added in HUSH_C_1.1)
/// - sframe.h      SFrame (RFC 9605) media frame encryption (added in HUSH_C_1.1)
///
/// Call keys derived by hush (issue 13: base keys for SFrame from a group's state) do not exist in
/// the C++ API yet; they will be added as new functions when it has them.
///
/// ABI stability: every C symbol carries the symbol version of the release that added it:
/// HUSH_C_1.0, HUSH_C_1.1 for the functions of group.h and sframe.h, or HUSH_C_1.2 for Kyber
/// prekeys in directories and the messenger (hush_key_directory_v2, hush_messenger_new_v2, the
/// hush_published_keys_*kyber* functions, hush_session_version).
/// Within HUSH_C_1.x, functions and enum values are only added (in a new version node, HUSH_C_1.1
/// and so on), never changed or removed, and the layouts of hush_error, hush_address,
/// hush_transport, hush_key_directory and hush_key_directory_v2 stay as they are; a change that
/// breaks a program built against an earlier 1.x is a new major version (HUSH_C_2.0). docs/c-api.md
/// has the details.
///
/// Thread-safety: each header says what may be shared; the library has no global mutable state.
#ifndef HUSH_C_HUSH_H
#define HUSH_C_HUSH_H

#include <hush/c/bundle.h>
#include <hush/c/common.h>
#include <hush/c/context.h>
#include <hush/c/fingerprint.h>
#include <hush/c/group.h>
#include <hush/c/messenger.h>
#include <hush/c/session.h>
#include <hush/c/sframe.h>
#include <hush/c/store.h>

#endif  // HUSH_C_HUSH_H

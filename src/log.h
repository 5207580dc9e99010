// hush internal: logging helpers that keep secrets and user data out of logs (design guide B.8).
//
// The library logs only through the logger in the caller's Context (null: silent). Warnings are for
// peer or protocol anomalies; success paths log nothing. Addresses appear only as `redact()` tags
// and ratchet keys only as `key_tag()`s; keys, plaintext, ciphertext and MACs never appear.
#pragma once

#include <string>

#include <hush/address.h>
#include <hush/context.h>
#include <hush/keys.h>
#include <hush/result.h>

namespace hush::internal {

/// "d<device>:<8 hex>" where the hex is an HMAC of the name under a per-process random key:
/// consistent within a run, not linkable across runs.
std::string redact(const Address& address);

/// The first 4 bytes of SHA-256 of a public key, in hex (for ratchet keys only).
std::string key_tag(const PublicKey& key);

/// Logs a warning about a failed operation (its error name and static location) if a logger is set.
void warn_failure(const Context& ctx, const char* operation, const Address& remote,
                  const Error& error);

}  // namespace hush::internal

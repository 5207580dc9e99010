// hush internal: the two halves of seal_link_message (link.h) apart: serializing contents without
// checking them, and sealing any plaintext. Tests and fuzz targets use them to make link messages
// that seal_link_message refuses to make (missing fields, too many contacts, inconsistent keys)
// and check that LinkRequest::open refuses them.
//
// Not responsible for: the rules of LinkContents (src/protocol/link.cpp checks them).
// Thread-safety: re-entrant.
#pragma once

#include <hush/bytes.h>
#include <hush/link.h>
#include <hush/random.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush::internal {

/// The LinkContents protobuf (proto/envelope.proto) of `contents`, unchecked (secret: the identity
/// private key is in it).
SecretBytes serialize_link_contents(const LinkContents& contents);

/// Seals `plaintext` (any bytes) for `code` exactly as seal_link_message seals serialized
/// contents: version byte, a fresh X25519 public key, AES-256-GCM. kLimitExceeded if the message
/// would exceed kMaxLinkMessageBytes; kInvalidArgument if the code's key is low-order;
/// kCryptoFailure if `random` fails.
Result<Bytes> seal_link_plaintext(RandomSource& random, const LinkCode& code, ByteView plaintext);

}  // namespace hush::internal

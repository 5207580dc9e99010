// hush internal: building SignalMessage / PreKeySignalMessage for sending, and the MAC (wire spec
// §0.4, §2.1): HMAC-SHA256(macKey, senderIdentity33 || receiverIdentity33 || version || protobuf),
// truncated to 8 bytes, compared in constant time.
#pragma once

#include <cstdint>
#include <optional>

#include <hush/messages.h>

#include "crypto/kdf.h"

namespace hush::internal {

/// The version of a message being built and, for version 4, its extra fields.
struct V4Fields {
  std::uint8_t version = kProtocolVersion;
  ByteView pq_ratchet;                ///< version 4: the SPQR message (field 5)
  std::optional<ByteView> addresses;  ///< version 4: field 6, if sent
};

struct MessageBuilder {
  /// Serializes a SignalMessage (version byte, protobuf with every field, MAC) from its parts.
  static SignalMessage signal_message(crypto::HmacSha256& hmac, ByteView mac_key,
                                      const IdentityKey& sender, const IdentityKey& receiver,
                                      const PublicKey& ratchet_key, std::uint32_t counter,
                                      std::uint32_t previous_counter, Bytes ciphertext,
                                      const V4Fields& v4 = {});

  /// Wraps `message` in a PreKeySignalMessage of the message's version (preKeyId present only if
  /// given; the Kyber fields in version 4).
  static PreKeySignalMessage prekey_message(
      std::uint32_t registration_id, std::optional<PreKeyId> pre_key_id,
      SignedPreKeyId signed_pre_key_id, const PublicKey& base_key, const IdentityKey& identity_key,
      SignalMessage message, std::optional<KyberPreKeyId> kyber_pre_key_id = std::nullopt,
      ByteView kyber_ciphertext = {});
};

/// Computes the 8-byte MAC of `mac_input` (the message without its MAC) as sent by `sender` to
/// `receiver`.
std::array<std::uint8_t, kMacSize> compute_mac(crypto::HmacSha256& hmac, ByteView mac_key,
                                               const IdentityKey& sender,
                                               const IdentityKey& receiver, ByteView mac_input);

/// True when `message`'s MAC is right for a message from `sender` to `receiver` (constant time).
bool verify_mac(crypto::HmacSha256& hmac, ByteView mac_key, const IdentityKey& sender,
                const IdentityKey& receiver, const SignalMessage& message);

}  // namespace hush::internal

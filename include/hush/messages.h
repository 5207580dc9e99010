/// @file
/// Signal protocol wire messages, version 3 (X3DH, libsignal-protocol-c) and version 4 (PQXDH and
/// SPQR, libsignal 0.103).
///
/// SignalMessage (a.k.a. WhisperMessage) is `0x33 || protobuf || mac[8]`; PreKeySignalMessage is
/// `0x33 || protobuf` with a complete SignalMessage inside (wire spec §2). Version 4 messages start
/// with 0x44 and carry more fields (signal-v4-wire.md §3). Parsing is strict and
/// treats its input as hostile: version bytes are checked before the protobuf is read, required
/// fields must be present, keys must be 33 bytes with type 0x05, and sizes are bounded
/// (kMaxMessageBytes). Parsing does not check the MAC; decryption does (session.h), in constant
/// time.
///
/// The message type is not on the wire: the transport must say whether bytes are a prekey message
/// or a whisper message (MessageType).
///
/// Not responsible for: encryption or MAC computation (session.h does those with session keys).
///
/// Thread-safety: parsed messages are immutable values and may be shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>

#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/prekey.h>
#include <hush/result.h>

namespace hush {

namespace internal {
struct MessageBuilder;
}  // namespace internal

/// Which kind of message a byte string is; carried by the transport (libsignal's type constants).
enum class MessageType : std::uint8_t {
  kWhisper = 2,  ///< SignalMessage (CIPHERTEXT_SIGNAL_TYPE).
  kPreKey = 3,   ///< PreKeySignalMessage (PREKEY_TYPE).
};

/// The protocol version hush speaks, and the version byte it puts on messages (`3 << 4 | 3`).
inline constexpr std::uint8_t kProtocolVersion = 3;
/// The version byte of every message hush sends.
inline constexpr std::uint8_t kVersionByte = 0x33;
/// The post-quantum protocol version (PQXDH and SPQR, libsignal 0.103's "version 4").
inline constexpr std::uint8_t kPqProtocolVersion = 4;
/// The version byte of version-4 messages (`4 << 4 | 4`).
inline constexpr std::uint8_t kPqVersionByte = 0x44;
/// The size of a SignalMessage's `addresses` field: sender ServiceId (17) and device (1), then the
/// recipient's (signal-v4-wire.md §3.4).
inline constexpr std::size_t kAddressesSize = 36;
/// The size of a SignalMessage's truncated HMAC-SHA256.
inline constexpr std::size_t kMacSize = 8;

/// A parsed SignalMessage (wire spec §2.1; signal-v4-wire.md §3.2 for version 4):
/// `message SignalMessage { ratchetKey = 1; counter = 2; previousCounter = 3; ciphertext = 4;
/// pq_ratchet = 5; addresses = 6; }` (5 and 6 in version 4 only).
class SignalMessage {
 public:
  /// Parses `serialized` (version byte, protobuf, 8-byte MAC). Errors: kInvalidMessage (too short,
  /// missing ratchetKey/counter/ciphertext), kLegacyMessage (version < 3), kInvalidVersion
  /// (version > 4), kInvalidProtobuf (body does not parse), kInvalidKey (bad ratchet key),
  /// kLimitExceeded (larger than kMaxMessageBytes).
  static Result<SignalMessage> parse(ByteView serialized);

  /// The exact bytes received or sent, MAC included.
  ByteView serialized() const noexcept { return serialized_; }
  /// The message version (high nibble of the version byte): 3 or 4 for a parsed message.
  std::uint8_t message_version() const noexcept { return version_; }
  /// The sender's current ratchet public key.
  const PublicKey& ratchet_key() const noexcept { return ratchet_key_; }
  /// The index of the message key in the sending chain (from 0).
  std::uint32_t counter() const noexcept { return counter_; }
  /// The counter of the last message of the sender's previous chain (informational; never relied
  /// upon when receiving; wire spec §4.4).
  std::uint32_t previous_counter() const noexcept { return previous_counter_; }
  /// The AES-256-CBC ciphertext.
  ByteView ciphertext() const noexcept { return ciphertext_; }
  /// Version 4: the SPQR message (`pq_ratchet`, empty if absent); always empty in version 3.
  ByteView pq_ratchet() const noexcept { return pq_ratchet_; }
  /// Version 4: the `addresses` field if present (any length; the receiver compares it); never
  /// present in version 3.
  std::optional<ByteView> addresses() const noexcept {
    return has_addresses_ ? std::optional<ByteView>(ByteView(addresses_)) : std::nullopt;
  }
  /// The 8-byte MAC (the last 8 bytes of `serialized()`).
  ByteView mac() const noexcept { return serialized().last(kMacSize); }
  /// The bytes the MAC covers after the two identity keys (`serialized()` without the MAC).
  ByteView mac_input() const noexcept { return serialized().first(serialized_.size() - kMacSize); }

 private:
  friend struct internal::MessageBuilder;
  friend class PreKeySignalMessage;
  SignalMessage() = default;
  Bytes serialized_;
  Bytes ciphertext_;
  Bytes pq_ratchet_;
  Bytes addresses_;
  PublicKey ratchet_key_;
  std::uint32_t counter_ = 0;
  std::uint32_t previous_counter_ = 0;
  std::uint8_t version_ = kProtocolVersion;
  bool has_addresses_ = false;
};

/// A parsed PreKeySignalMessage (wire spec §2.2; signal-v4-wire.md §3.2 for version 4):
/// `message PreKeySignalMessage { registrationId = 5; preKeyId = 1; signedPreKeyId = 6; baseKey =
/// 2; identityKey = 3; message = 4; kyber_pre_key_id = 7; kyber_ciphertext = 8; }` (7 and 8 in
/// version 4 only, where they are required).
class PreKeySignalMessage {
 public:
  /// Parses `serialized`. Errors: kInvalidMessage (too short, missing signedPreKeyId, baseKey,
  /// identityKey or message; version 4 without kyber_pre_key_id and kyber_ciphertext),
  /// kInvalidKemCiphertext (a Kyber ciphertext not of 1569 bytes with type byte 0x08),
  /// kLegacyMessage (version < 3), kInvalidVersion (version > 4 or the inner message's version
  /// differs), kInvalidProtobuf, kInvalidKey, kLimitExceeded, and any error of the inner
  /// SignalMessage::parse.
  static Result<PreKeySignalMessage> parse(ByteView serialized);

  /// The exact bytes received or sent.
  ByteView serialized() const noexcept { return serialized_; }
  /// The message version (3: X3DH, 4: PQXDH).
  std::uint8_t message_version() const noexcept { return version_; }
  /// The sender's registration id (0 if absent; it is not authenticated, wire spec §14).
  std::uint32_t registration_id() const noexcept { return registration_id_; }
  /// The one-time prekey the sender used, if any.
  std::optional<PreKeyId> pre_key_id() const noexcept { return pre_key_id_; }
  /// The signed prekey the sender used.
  SignedPreKeyId signed_pre_key_id() const noexcept { return signed_pre_key_id_; }
  /// The sender's ephemeral X3DH key.
  const PublicKey& base_key() const noexcept { return base_key_; }
  /// The sender's identity key.
  const IdentityKey& identity_key() const noexcept { return identity_key_; }
  /// The SignalMessage carried inside.
  const SignalMessage& message() const noexcept { return message_; }
  /// Version 4: the Kyber prekey the sender encapsulated to; nullopt in version 3.
  std::optional<KyberPreKeyId> kyber_pre_key_id() const noexcept { return kyber_pre_key_id_; }
  /// Version 4: the Kyber ciphertext (1569 bytes, type byte 0x08); empty in version 3.
  ByteView kyber_ciphertext() const noexcept { return kyber_ciphertext_; }

 private:
  friend struct internal::MessageBuilder;
  PreKeySignalMessage() = default;
  Bytes serialized_;
  SignalMessage message_;
  PublicKey base_key_;
  IdentityKey identity_key_;
  std::optional<PreKeyId> pre_key_id_;
  std::optional<KyberPreKeyId> kyber_pre_key_id_;
  Bytes kyber_ciphertext_;
  SignedPreKeyId signed_pre_key_id_{};
  std::uint32_t registration_id_ = 0;
  std::uint8_t version_ = kProtocolVersion;
};

/// Either kind of one-to-one message, as returned by `encrypt_message`.
class CiphertextMessage {
 public:
  /// Wraps a SignalMessage.
  CiphertextMessage(SignalMessage m) : v_(std::move(m)) {}  // NOLINT: implicit by design
  /// Wraps a PreKeySignalMessage.
  CiphertextMessage(PreKeySignalMessage m) : v_(std::move(m)) {}  // NOLINT: implicit by design

  /// Parses `serialized` as a message of type `type` (see the two parse functions for errors).
  static Result<CiphertextMessage> parse(MessageType type, ByteView serialized);

  /// Which kind this is.
  MessageType type() const noexcept {
    return v_.index() == 0 ? MessageType::kWhisper : MessageType::kPreKey;
  }
  /// The exact wire bytes.
  ByteView serialized() const noexcept {
    return std::visit([](const auto& m) { return m.serialized(); }, v_);
  }
  /// The SignalMessage, or null if this is a prekey message.
  const SignalMessage* signal_message() const noexcept { return std::get_if<0>(&v_); }
  /// The PreKeySignalMessage, or null if this is a whisper message.
  const PreKeySignalMessage* prekey_message() const noexcept { return std::get_if<1>(&v_); }

 private:
  std::variant<SignalMessage, PreKeySignalMessage> v_;
};

}  // namespace hush

// hush interop tests: a peer that speaks Signal v3 through libsignal-protocol-c 2.3.3 (Debian's
// libsignal-protocol-c-dev), used only as the other end of a conversation with hush.
//
// An LscPeer owns a `signal_context` (whose crypto provider runs on hush's internal crypto:
// HMAC-SHA256, SHA-512 and AES-256-CBC from src/crypto, randomness from a RandomSource) and a
// `signal_protocol_store_context` backed by its own in-memory stores: sessions keyed by
// (name, device), one-time prekeys, signed prekeys, and an identity store with trust on first use
// (an identity is trusted if none is stored for the address, or if it equals the stored one).
//
// Protocol operations return libsignal's error codes (0 = SG_SUCCESS, negative = SG_ERR_*) so
// that tests can assert them. Harness failures (a libsignal call that cannot fail on valid input,
// such as key generation or serialization, failing anyway) throw std::runtime_error.
//
// libsignal-protocol-c is GPL: this file only calls its public API as a test peer.
//
// Thread-safety: one LscPeer must not be used by two threads at once (libsignal is given a
// recursive mutex per peer, but the harness itself is not synchronised).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <hush/address.h>
#include <hush/bytes.h>
#include <hush/keys.h>
#include <hush/prekey.h>

namespace hush::interop {

// libsignal's error codes and message type constants, repeated here so that test files need not
// include libsignal's C headers (lsc_peer.cpp checks them against the headers at compile time).
inline constexpr int kSgSuccess = 0;
inline constexpr int kSgErrInval = -22;
inline constexpr int kSgErrUnknown = -1000;
inline constexpr int kSgErrDuplicateMessage = -1001;
inline constexpr int kSgErrInvalidKey = -1002;
inline constexpr int kSgErrInvalidKeyId = -1003;
inline constexpr int kSgErrInvalidMessage = -1005;
inline constexpr int kSgErrInvalidVersion = -1006;
inline constexpr int kSgErrLegacyMessage = -1007;
inline constexpr int kSgErrNoSession = -1008;
inline constexpr int kSgErrUntrustedIdentity = -1010;
inline constexpr int kSgErrInvalidProtoBuf = -1100;

/// CIPHERTEXT_SIGNAL_TYPE (a SignalMessage, "whisper").
inline constexpr int kLscWhisperType = 2;
/// CIPHERTEXT_PREKEY_TYPE (a PreKeySignalMessage).
inline constexpr int kLscPreKeyType = 3;

/// The result of LscPeer::encrypt.
struct LscCiphertext {
  /// libsignal's result code (0 on success; `type` and `serialized` are meaningful only then).
  int rc = 0;
  /// kLscWhisperType or kLscPreKeyType.
  int type = 0;
  /// The exact wire bytes.
  Bytes serialized;
};

/// The result of LscPeer::decrypt.
struct LscPlaintext {
  /// libsignal's result code (0 on success).
  int rc = 0;
  /// The plaintext (empty unless rc == 0).
  Bytes plaintext;
};

/// What libsignal's parser says about a SignalMessage (signal_message_deserialize).
struct LscWhisperInfo {
  int rc = 0;
  std::uint8_t version = 0;
  std::uint32_t counter = 0;
  /// The sender's ratchet key, 33 bytes.
  Bytes ratchet_key;
  /// The ciphertext body.
  Bytes body;
};

/// What libsignal's parser says about a PreKeySignalMessage (pre_key_signal_message_deserialize).
struct LscPreKeyInfo {
  int rc = 0;
  std::uint8_t version = 0;
  std::uint32_t registration_id = 0;
  std::optional<std::uint32_t> pre_key_id;
  std::uint32_t signed_pre_key_id = 0;
  /// 33 bytes each.
  Bytes base_key;
  Bytes identity_key;
  /// The inner SignalMessage as libsignal parsed it.
  LscWhisperInfo inner;
  /// The inner SignalMessage's serialized bytes.
  Bytes inner_serialized;
};

/// A device running libsignal-protocol-c with in-memory stores.
class LscPeer {
 public:
  /// A device `name`/`device_id` with a fresh identity, registration id, signed prekey (id 1) and
  /// `prekey_count` one-time prekeys with ids from `prekey_start` (libsignal's key_helper).
  /// Randomness comes from hush::system_random(), or, if `seed` is given, from a deterministic
  /// HMAC-SHA256 counter-mode generator (repeatable runs; not for production).
  static LscPeer create(std::string name, std::uint32_t device_id, std::uint32_t prekey_start,
                        std::uint32_t prekey_count, std::optional<std::uint64_t> seed = {});

  LscPeer(LscPeer&&) noexcept;
  LscPeer& operator=(LscPeer&&) noexcept;
  LscPeer(const LscPeer&) = delete;
  LscPeer& operator=(const LscPeer&) = delete;
  ~LscPeer();

  /// Our address (name, device id).
  Address address() const;
  /// Our identity public key.
  IdentityKey identity_key() const;
  /// Our identity public key in the 33-byte wire form.
  Bytes identity_key_bytes() const;
  /// Our registration id (1..16380).
  std::uint32_t registration_id() const;
  /// The id of our signed prekey (1).
  std::uint32_t signed_pre_key_id() const;

  /// Our bundle in hush's type, with one-time prekey `prekey_id` if given (throws if we do not
  /// hold that prekey).
  PreKeyBundle bundle(std::optional<std::uint32_t> prekey_id) const;

  /// Runs session_builder_process_pre_key_bundle for `remote` on `bundle` (converted to libsignal's
  /// session_pre_key_bundle). Returns libsignal's code; a key libsignal cannot decode gives its
  /// decode error.
  int process_bundle(const Address& remote, const PreKeyBundle& bundle);

  /// session_cipher_encrypt to `remote`.
  LscCiphertext encrypt(const Address& remote, ByteView plaintext);
  /// Decrypts `serialized` from `remote` as a message of type `type` (kLscPreKeyType or
  /// kLscWhisperType). A parse failure gives the parser's code.
  LscPlaintext decrypt(const Address& remote, int type, ByteView serialized);

  /// True when the session store holds a record for `remote`.
  bool has_session(const Address& remote) const;
  /// The current state's session version (3), or nullopt when libsignal reports no session.
  std::optional<std::uint32_t> session_version(const Address& remote);
  /// The current state's remote registration id, or nullopt on failure.
  std::optional<std::uint32_t> remote_registration_id(const Address& remote);
  /// The serialized session record stored for `remote` (libsignal's RecordStructure), if any.
  std::optional<Bytes> session_record(const Address& remote) const;
  /// The stored (trusted) identity for `remote`, if any (33 bytes).
  std::optional<Bytes> stored_identity(const Address& remote) const;

  /// The number of one-time prekeys left in the store.
  std::size_t pre_key_count() const;
  /// True when the one-time prekey `id` is still in the store.
  bool has_pre_key(std::uint32_t id) const;

  /// Parses `serialized` with libsignal's SignalMessage parser.
  LscWhisperInfo inspect_whisper(ByteView serialized) const;
  /// Parses `serialized` with libsignal's PreKeySignalMessage parser.
  LscPreKeyInfo inspect_prekey(ByteView serialized) const;

  /// group_session_builder_create_session for `group` (libsignal-protocol-c's group id) as our
  /// own address: our SenderKeyDistributionMessage (type 5), made on first use.
  LscCiphertext group_create_distribution(std::string_view group);
  /// group_session_builder_process_session: stores `sender`'s chain in `group` from a serialized
  /// SenderKeyDistributionMessage. Returns libsignal's code (a parse failure gives the parser's).
  int group_process_distribution(std::string_view group, const Address& sender,
                                 ByteView serialized);
  /// group_cipher_encrypt with our chain in `group`: a SenderKeyMessage (type 4).
  LscCiphertext group_encrypt(std::string_view group, ByteView plaintext);
  /// group_cipher_decrypt of a serialized SenderKeyMessage from `sender` in `group`.
  LscPlaintext group_decrypt(std::string_view group, const Address& sender, ByteView serialized);

  /// The log lines libsignal emitted (level and text), oldest first; cleared by clear_log().
  std::string log() const;
  void clear_log();

 private:
  struct Impl;
  explicit LscPeer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush::interop

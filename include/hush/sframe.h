/// @file
/// SFrame (RFC 9605), end-to-end encryption of media frames.
///
/// An SframeSender encrypts the frames of one sender under one base key and key id; an
/// SframeReceiver holds the base keys of the senders it listens to, by key id, and decrypts their
/// frames, refusing replays. Both derive the frame key and salt from the base key (RFC 9605
/// §4.4.2) and speak the five cipher suites of §4.5. A frame is `header || ciphertext || tag`; the
/// header (§4.3) carries the key id and the counter in clear, and is authenticated together with
/// the application's metadata.
///
/// Not responsible for: choosing, distributing or rotating base keys and key ids (the application,
/// e.g. over hush sessions: a fresh base key per sender and call, a new one when someone leaves),
/// packetising frames, jitter buffers, or retrying frames whose key has not arrived yet (a frame
/// refused as kUnknownKeyId changes nothing and may be offered again after add_key).
///
/// What a server (an SFU) that forwards frames can still do, by design of SFrame:
///  - see every frame's size and timing, its key id (who sends, and which key generation) and its
///    counter (how many frames that key has sent: the frame rate, and gaps), and read the metadata
///    (authenticated, not encrypted);
///  - drop, delay, reorder or duplicate frames: duplicates within the replay window, and frames
///    older than it, are refused (kReplayedFrame); a dropped frame is simply missing;
///  - send bytes of its own: without a key they are refused (kAuthenticationFailed), but the short
///    tags of the AES_128_CTR_HMAC_SHA256_64 and _32 suites can be guessed by brute force (about
///    once per 2^32 tries for _32, RFC 9605 §7.5): prefer the GCM suites where bandwidth allows.
/// It cannot read media or alter a frame, its header or its metadata without the receiver refusing
/// it. SFrame has no per-sender authentication (§7.2): whoever holds a receiver's copy of a base
/// key (every participant of the call) can forge frames under that key id.
///
/// Thread-safety: parse and encode functions are re-entrant. An SframeSender or SframeReceiver is
/// not synchronised: use one per thread, or serialise calls (they hold counters and OpenSSL state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <hush/bytes.h>
#include <hush/result.h>
#include <hush/secret.h>

namespace hush {

/// The SFrame cipher suites (RFC 9605 §4.5, IANA "SFrame Cipher Suites"); the value is the
/// registry's identifier.
enum class SframeCipherSuite : std::uint16_t {
  kAes128CtrHmacSha256_80 = 0x0001,  ///< AES-128-CTR + HMAC-SHA256, 10-byte tag; HKDF-SHA256.
  kAes128CtrHmacSha256_64 = 0x0002,  ///< AES-128-CTR + HMAC-SHA256, 8-byte tag; HKDF-SHA256.
  kAes128CtrHmacSha256_32 = 0x0003,  ///< AES-128-CTR + HMAC-SHA256, 4-byte tag; HKDF-SHA256.
  kAes128GcmSha256_128 = 0x0004,     ///< AES-128-GCM, 16-byte tag; HKDF-SHA256.
  kAes256GcmSha512_128 = 0x0005,     ///< AES-256-GCM, 16-byte tag; HKDF-SHA512.
};

/// True for the five suites above (a value read from elsewhere may be none of them).
bool is_known(SframeCipherSuite suite) noexcept;

/// The size of the suite's authentication tag (AEAD.Nt): 10, 8, 4, 16 or 16 bytes.
std::size_t sframe_tag_size(SframeCipherSuite suite) noexcept;

/// An SFrame header's two values (RFC 9605 §4.3).
struct SframeHeader {
  std::uint64_t key_id = 0;   ///< KID: which base key encrypted the frame.
  std::uint64_t counter = 0;  ///< CTR: the frame's number under that key (part of the nonce).
  /// Headers are equal when both values are.
  friend bool operator==(const SframeHeader&, const SframeHeader&) = default;
};

/// The longest header: the config byte, an 8-byte key id and an 8-byte counter.
inline constexpr std::size_t kSframeMaxHeaderSize = 17;

/// The most bytes encryption adds to a plaintext: the longest header and the largest tag.
inline constexpr std::size_t kSframeMaxOverhead = kSframeMaxHeaderSize + 16;

/// A parsed header and how many bytes of the input it took.
struct ParsedSframeHeader {
  SframeHeader header;   ///< The key id and counter.
  std::size_t size = 0;  ///< The encoded header's length (1 to 17 bytes).
};

/// Reads the header at the start of `frame` (the bytes after it are not looked at).
/// kMalformedHeader if `frame` ends inside the header, or if a value is not in its shortest
/// encoding (a value below 8 not in the config byte, or a leading zero byte): every header has
/// exactly one encoding, so re-encoding a parsed header gives back the same bytes.
Result<ParsedSframeHeader> parse_sframe_header(ByteView frame);

/// Writes the shortest encoding of `header` (RFC 9605 §4.3) to the start of `out`; returns its
/// length (1 to 17).
std::size_t encode_sframe_header(const SframeHeader& header,
                                 std::span<std::uint8_t, kSframeMaxHeaderSize> out) noexcept;

/// The shortest encoding of `header`, as a byte vector.
Bytes encode_sframe_header(const SframeHeader& header);

/// Encrypts one sender's frames under one key id and base key, numbering them with a counter that
/// never repeats (RFC 9605 §7.4, §9.1). Move-only; the derived key and salt are wiped when the
/// sender is destroyed (the base key itself is not kept). A moved-from sender may only be
/// destroyed or assigned to.
class SframeSender {
 public:
  /// A sender for `key_id` that derives its key and salt from `base_key` for `suite`, and numbers
  /// its first frame `next_counter` (0 for a new key; an application that stores its sender
  /// resumes from a counter it stored before using it). kInvalidArgument for an unknown suite;
  /// kInvalidKey for a base key outside kMinSframeBaseKeyBytes..kMaxSframeBaseKeyBytes.
  static Result<SframeSender> create(SframeCipherSuite suite, std::uint64_t key_id,
                                     SecretBytes base_key, std::uint64_t next_counter = 0);

  ~SframeSender();
  /// Takes the keys and the counter over; the source may then only be destroyed or assigned to.
  SframeSender(SframeSender&&) noexcept;
  /// Wipes this sender's keys and takes the other's over.
  SframeSender& operator=(SframeSender&&) noexcept;
  SframeSender(const SframeSender&) = delete;
  SframeSender& operator=(const SframeSender&) = delete;

  /// Encrypts `plaintext` as the next frame, authenticating `metadata` with it (the receiver must
  /// pass the same metadata), and returns `header || ciphertext || tag`. kFrameTooLarge beyond
  /// kMaxSframeFrameBytes or kMaxSframeMetadataBytes; kCounterExhausted once counter 2^64-1 has
  /// been used (a new key id and base key are needed). The counter advances on success.
  Result<Bytes> encrypt(ByteView metadata, ByteView plaintext);

  /// As encrypt(), into `out`, which needs room for plaintext.size() + kSframeMaxOverhead bytes
  /// (kInvalidArgument otherwise, before anything is used up); returns the frame's length. No
  /// allocation. `out` must not overlap `plaintext`.
  Result<std::size_t> encrypt_into(ByteView metadata, ByteView plaintext,
                                   std::span<std::uint8_t> out);

  /// The counter the next frame will carry (store it, ahead of use, to resume after a restart).
  std::uint64_t next_counter() const noexcept;
  /// The key id every frame carries.
  std::uint64_t key_id() const noexcept;
  /// The cipher suite.
  SframeCipherSuite suite() const noexcept;

 private:
  struct Impl;
  explicit SframeSender(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// Decrypts frames from the senders whose base keys it holds, by key id, with a replay window per
/// key id (kSframeReplayWindow counters). All keys use the receiver's one cipher suite. Move-only;
/// derived keys are wiped when removed or when the receiver is destroyed. A moved-from receiver
/// may only be destroyed or assigned to.
class SframeReceiver {
 public:
  /// A receiver for `suite` with no keys. An unknown suite gives a receiver whose add_key always
  /// fails with kInvalidArgument.
  explicit SframeReceiver(SframeCipherSuite suite);
  ~SframeReceiver();
  /// Takes the keys and replay windows over; the source may then only be destroyed or assigned to.
  SframeReceiver(SframeReceiver&&) noexcept;
  /// Wipes this receiver's keys and takes the other's over.
  SframeReceiver& operator=(SframeReceiver&&) noexcept;
  SframeReceiver(const SframeReceiver&) = delete;
  SframeReceiver& operator=(const SframeReceiver&) = delete;

  /// Adds the base key of `key_id`, with an empty replay window. kInvalidArgument if the key id
  /// already has a key (remove it first: replacing a key in place would silently reset its
  /// window) or the suite is unknown; kInvalidKey for a base key outside
  /// kMinSframeBaseKeyBytes..kMaxSframeBaseKeyBytes; kLimitExceeded beyond
  /// kMaxSframeReceiverKeys. Nothing changes on failure.
  /// Removing a key id and adding the same base key again forgets which frames were seen, so an
  /// application that rotates keys should never reuse a key id for the same base key.
  Status add_key(std::uint64_t key_id, SecretBytes base_key);

  /// Forgets the key of `key_id` and wipes it. kUnknownKeyId if there is none.
  Status remove_key(std::uint64_t key_id);

  /// True if a key is held for `key_id`.
  bool has_key(std::uint64_t key_id) const noexcept;
  /// How many key ids have keys.
  std::size_t key_count() const noexcept;
  /// The cipher suite.
  SframeCipherSuite suite() const noexcept;

  /// Checks and decrypts `frame` with `metadata` (the same bytes the sender passed) and returns
  /// the plaintext. Errors, in the order they are checked: kFrameTooLarge (frame or metadata
  /// over their limits), kMalformedHeader, kUnknownKeyId, kReplayedFrame (counter already
  /// accepted, or kSframeReplayWindow or more behind the highest accepted one),
  /// kAuthenticationFailed (shorter than a tag, or does not authenticate). Only a success changes
  /// state (it marks the counter as seen).
  Result<SecretBytes> decrypt(ByteView metadata, ByteView frame);

  /// As decrypt(), into `out` (room for frame.size() bytes, else kInvalidArgument); returns the
  /// plaintext's length. No allocation. On failure `out` holds no plaintext. `out` must not
  /// overlap `frame`.
  Result<std::size_t> decrypt_into(ByteView metadata, ByteView frame, std::span<std::uint8_t> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hush

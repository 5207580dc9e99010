// hush chat example: the wire protocol between hush-chat and hush-relay.
//
// Framing. A frame is a 4-byte big-endian length N followed by N bytes of payload, with
// 1 <= N <= kMaxFrameBytes. A peer that announces a longer (or empty) frame is disconnected at
// once, before anything is allocated for it.
//
// Payload. One kind byte, then the fields of that kind in a fixed order. A field is a u32 (4 bytes,
// big-endian), a u64 (8 bytes, big-endian), or a byte string (a u32 length, then that many bytes).
// Nothing may follow the last field; every byte string has its own limit (kMaxNameBytes for
// handles and reasons, exactly kTokenBytes for a token, the frame for a body). We chose this
// over a protobuf of our own because it is a dozen lines to read and to check by hand, and every
// field is bounded before it is copied. Anything that does not decode is a protocol error: the
// relay closes the connection, the client drops it and says so.
//
//   client -> relay                              relay -> client
//   kHello    req, handle, token                 kWelcome  req, account, idle_seconds, code
//   kRecover  req, handle, new token, code       kWelcome  (as for kHello; account 2)
//   kPublish  req, PublishedKeys bytes           kOk       req
//   kCount    req                                kCountIs  req, count
//   kFetch    req, handle                        kBundle   req, PreKeyBundle bytes
//   kSend     req, recipient, envelope           kOk       req (the envelope is on disk)
//   kAck      delivery id                        (no reply)
//   kPing     req                                kOk       req
//                                                kDeliver  delivery id, sender, envelope
//   any request may instead get                  kError    req, reason (a short snake_case word)
//
// `req` is a number the client picks to match replies to requests. The relay speaks only after a
// kHello (or kRecover) has been answered with kWelcome (the handle is then bound to this
// connection); it forwards envelopes with kDeliver, oldest first, and keeps each until the
// recipient acknowledges it with kAck, so an envelope survives a client crash and is delivered
// again on reconnect. The sender of a kDeliver is the handle of the connection the relay received
// the envelope on (never what the envelope says about itself).
//
// kWelcome: `account` is 0 for a known account, 1 for one registered now, 2 for one taken back
// with kRecover; `code` is empty, or (account 1 and 2) the account's new recovery code, which the
// relay keeps only as a salted hash; `idle_seconds` is how long the relay lets a connection say
// nothing before it closes it (0: never), so that the client can send kPing in time.
// Envelopes, bundles and published keys are hush's own formats (hush::Messenger,
// hush::PreKeyBundle, hush::PublishedKeys); the relay never sees a key it could decrypt with, nor
// a plaintext.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hush_chat {

using Bytes = std::vector<std::uint8_t>;

/// The largest frame payload either side accepts. A chat message is at most kMaxTextBytes; a
/// publish of 1000 one-time prekeys is about 45 KB; 256 KiB bounds both with room to spare.
inline constexpr std::size_t kMaxFrameBytes = std::size_t{256} << 10;
/// The largest message text hush-chat sends.
inline constexpr std::size_t kMaxTextBytes = std::size_t{64} << 10;
/// The longest handle or error reason on the wire.
inline constexpr std::size_t kMaxNameBytes = 64;
/// The length of an account token (random bytes a client keeps, binding its handle at the relay).
inline constexpr std::size_t kTokenBytes = 32;
/// The longest handle a client may register (a subset of kMaxNameBytes).
inline constexpr std::size_t kMaxHandleBytes = 32;
/// The length of a recovery code: 160 random bits, far beyond guessing (so the relay may keep it as
/// a fast salted hash), and 32 base32 characters to write down.
inline constexpr std::size_t kRecoveryCodeBytes = 20;

/// What a payload is. Values are stable on the wire.
enum class Kind : std::uint8_t {
  // client -> relay
  kHello = 1,
  kPublish = 2,
  kCount = 3,
  kFetch = 4,
  kSend = 5,
  kAck = 6,
  kRecover = 7,
  kPing = 8,
  // relay -> client
  kWelcome = 16,
  kOk = 17,
  kCountIs = 18,
  kBundle = 19,
  kDeliver = 20,
  kError = 21,
};

/// The name of a kind ("SEND"), or "?" for a value that is not one.
std::string_view kind_name(std::uint8_t kind);

/// True for kinds a client sends.
constexpr bool from_client(Kind k) {
  return static_cast<std::uint8_t>(k) < 16;
}

/// One decoded payload. Only the fields of its kind are meaningful (see the table above):
/// `req` the request number, `id` the delivery id, `number` account or count, `idle_seconds` the
/// relay's idle timeout, `name` a handle, recipient, sender or reason, `body` a token, keys, bundle
/// or envelope, `code` a recovery code (empty, or exactly kRecoveryCodeBytes).
struct Message {
  Kind kind = Kind::kError;
  std::uint32_t req = 0;
  std::uint64_t id = 0;
  std::uint32_t number = 0;
  std::uint32_t idle_seconds = 0;
  std::string name;
  Bytes body;
  Bytes code;
};

/// The payload of `m` (without the frame's length prefix).
Bytes encode(const Message& m);
/// Decodes a payload (untrusted input); nullopt if it is not exactly one valid message.
std::optional<Message> decode(const std::uint8_t* data, std::size_t size);
inline std::optional<Message> decode(const Bytes& payload) {
  return decode(payload.data(), payload.size());
}

/// The 4-byte length prefix of a payload of `size` bytes.
void put_length(std::uint8_t out[4], std::uint32_t size);
/// The length a prefix announces, or nullopt if it is 0 or above kMaxFrameBytes.
std::optional<std::uint32_t> read_length(const std::uint8_t in[4]);

/// True for a handle hush-chat and hush-relay accept: 1 to kMaxHandleBytes characters from
/// [A-Za-z0-9_.-].
bool valid_handle(std::string_view handle);

/// Lowercase hex of `size` bytes.
std::string hex(const std::uint8_t* data, std::size_t size);

/// A recovery code as people write it down: base32 (RFC 4648: A-Z, 2-7), in eight groups of four
/// separated by '-'. `code` must be kRecoveryCodeBytes long.
std::string format_recovery_code(const Bytes& code);
/// The code in `text` (as format_recovery_code writes it; case, '-' and spaces do not matter), or
/// nullopt if it is not exactly one code.
std::optional<Bytes> parse_recovery_code(std::string_view text);

}  // namespace hush_chat

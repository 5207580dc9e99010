// hush chat example: the wire protocol between hush-chat and hush-relay.
//
// Framing. A frame is a 4-byte big-endian length N followed by N bytes of payload, with
// 1 <= N <= kMaxFrameBytes. A peer that announces a longer (or empty) frame is disconnected at
// once, before anything is allocated for it.
//
// Payload. One kind byte, then the fields of that kind in a fixed order. A field is a u32 (4 bytes,
// big-endian), a u64 (8 bytes, big-endian), or a byte string (a u32 length, then that many bytes).
// Nothing may follow the last field; every field has its own bound (kMaxNameBytes for handles and
// reasons, exactly kTokenBytes for a token, exactly kMailboxBytes for a mailbox, 1..kMaxDeviceId
// for a device, kMaxListBytes for a device list, kMaxLinkMessageBytes for a link message, the
// frame for a body). We chose this over a protobuf of our own because it is a dozen lines to read
// and to check by hand, and every field is bounded before it is copied. Anything that does not
// decode is a protocol error: the relay closes the connection, the client drops it and says so.
//
//   client -> relay                                  relay -> client
//   kHello      req, handle, device, token           kWelcome  req, account, idle_seconds, code
//   kRecover    req, handle, new token, code         kWelcome  (as for kHello; account 2)
//   kPublish    req, PublishedKeys bytes             kOk       req
//   kCount      req                                  kCountIs  req, count, kyber count
//   kFetch      req, handle, device                  kBundle   req, PreKeyBundle bytes
//   kSend       req, recipient, device, envelope     kOk       req (the envelope is on disk)
//   kAck        delivery id                          (no reply)
//   kPing       req                                  kOk       req
//   kPublishList req, SignedDeviceList bytes         kOk       req
//   kFetchList  req, handle                          kList     req, SignedDeviceList bytes (empty:
//                                                              none published)
//   kAddDevice  req, device, token                   kOk       req
//   kRemoveDevice req, device                        kOk       req
//   kLinkWait   req, mailbox                         kWelcome  req, account 3, idle_seconds; later
//                                                    kLinkMessage req (the wait's), link message
//   kLinkPost   req, mailbox, link message           kOk       req (forwarded, or kept to forward)
//   kBlobPut    req, size (u64)                      kBlobId   req, blob id (a new upload)
//   kBlobChunk  req, blob id, bytes                  kOk       req (appended; the last one
//                                                              completes the blob)
//   kBlobGet    req, blob id, offset (u64)           kBlobData req, up to kBlobChunkBytes from
//                                                              offset (empty: the end)
//   kBlobDelete req, blob id                         kOk       req (deleted: its uploader only)
//   kCallJoin   req, call id (16 bytes)              kCallToken req, token (for the call's UDP
//                                                              media, sfu.h)
//                                                    kDeliver  delivery id, sender, sender's
//                                                              device, envelope
//   any request may instead get                      kError    req, reason (a short snake_case
//                                                              word)
//
// `req` is a number the client picks to match replies to requests. An account is a device of a
// handle: (handle, device) with its own token, keys and queue. The relay speaks only after a
// kHello (or kRecover) has been answered with kWelcome (the device is then bound to this
// connection); it forwards envelopes with kDeliver, oldest first, and keeps each until the
// recipient device acknowledges it with kAck, so an envelope survives a client crash and is
// delivered again on reconnect. The sender of a kDeliver is the (handle, device) of the
// connection the relay received the envelope on (never what the envelope says about itself).
//
// kCountIs: how many one-time prekeys and one-time Kyber prekeys of the connection's device the
// relay still holds (hush::KeyDirectory::available_pre_keys).
//
// kWelcome: `account` is 0 for a known device, 1 for a handle registered now (its device 1), 2 for
// a handle taken back with kRecover (device 1, under the new token), 3 for a connection now
// waiting at a link mailbox; `code` is empty, or (account 1 and 2) the handle's new recovery code,
// which the relay keeps only as a salted hash; `idle_seconds` is how long the relay lets a
// connection say nothing before it closes it (0: never), so that the client can send kPing in
// time.
//
// Devices: kAddDevice registers the token of a new device of the connection's handle (the device
// must be on the handle's newest device list, and have no token yet); kRemoveDevice revokes a
// device's token and drops its keys and queue (the device must be off the newest list already).
// kPublishList keeps the newest signed device list of the connection's handle (a higher version
// under the handle's identity, or any version under a new identity right after a recovery).
//
// Linking: kLinkWait is the one request allowed before kHello (with kPing while waiting): the
// connection waits at a 16-byte mailbox; a device of any handle posts a link message there with
// kLinkPost, and the relay forwards it once (kLinkMessage) and forgets it. A waiting connection
// may then say kHello as the new device.
//
// Blobs (attachments, hush/attachment.h): kBlobPut starts an upload of `size` bytes (at most the
// library's attachment limit, as ciphertext) under an id the relay picks (32 random hex digits);
// the uploading device then sends the bytes in order in kBlobChunk frames of exactly
// kBlobChunkBytes (the last one the rest; anything else is invalid_blob_chunk and changes
// nothing); the blob can be fetched (by any device that knows its id) once complete, piece by
// piece with kBlobGet (unknown_blob, blob_incomplete, invalid_blob_offset), and deleted by its
// uploader's handle with kBlobDelete. A blob is hush's attachment ciphertext: the relay never
// sees its key.
//
// Envelopes, bundles, published keys, device lists and link messages are hush's own formats
// (hush::Messenger, hush::PreKeyBundle, hush::PublishedKeys, hush::SignedDeviceList,
// hush::seal_link_message); the relay never sees a key it could decrypt with, nor a plaintext.
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
/// The highest device id on the wire. hush never reuses a device id (each link takes the next), so
/// this bounds how many devices a handle may link over its whole life: one a day for 27 years.
inline constexpr std::uint32_t kMaxDeviceId = 10000;
/// The length of a link mailbox id (hush::LinkMailbox).
inline constexpr std::size_t kMailboxBytes = 16;
/// The largest signed device list on the wire: hush's own bound (hush::kMaxDeviceListBytes, 2048:
/// 32 devices and a long name) with room to spare; relay.cpp checks the two agree.
inline constexpr std::size_t kMaxListBytes = 4096;
/// The largest link message on the wire. hush allows far larger ones (10000 contacts and 1 MiB of
/// application data), but hush-chat's carry a handle and a token, and one contact costs about 80
/// bytes: 192 KiB is some 2300 contacts, and stays well inside a frame.
inline constexpr std::size_t kMaxLinkMessageBytes = std::size_t{192} << 10;

/// The most bytes of a blob in one kBlobChunk or kBlobData frame (well inside a frame).
inline constexpr std::size_t kBlobChunkBytes = std::size_t{128} << 10;
/// The length of a blob id: 16 random bytes in lowercase hex.
inline constexpr std::size_t kBlobIdChars = 32;

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
  kPublishList = 9,
  kFetchList = 10,
  kAddDevice = 11,
  kRemoveDevice = 12,
  kLinkWait = 13,
  kLinkPost = 14,
  kBlobPut = 32,
  kBlobChunk = 33,
  kBlobGet = 34,
  kBlobDelete = 35,
  kCallJoin = 40,
  // relay -> client
  kWelcome = 16,
  kOk = 17,
  kCountIs = 18,
  kBundle = 19,
  kDeliver = 20,
  kError = 21,
  kList = 22,
  kLinkMessage = 23,
  kBlobId = 48,
  kBlobData = 49,
  kCallToken = 56,
};

/// The name of a kind ("SEND"), or "?" for a value that is not one.
std::string_view kind_name(std::uint8_t kind);

/// True for kinds a client sends (1..15, and 32..47: blobs, calls).
constexpr bool from_client(Kind k) {
  const auto v = static_cast<std::uint8_t>(k);
  return v < 16 || (v >= 32 && v < 48);
}

/// True for a blob id as the relay makes them: kBlobIdChars of 0-9 a-f.
bool valid_blob_id(std::string_view id);

/// One decoded payload. Only the fields of its kind are meaningful (see the table above):
/// `req` the request number, `id` the delivery id (a blob's size or offset for the blob kinds),
/// `number` account or count, `kyber_count` the one-time Kyber prekey count, `idle_seconds` the
/// relay's idle timeout, `device` a device id (1..kMaxDeviceId), `name` a handle, recipient, sender
/// reason or blob id, `body` a token, blob bytes, keys, bundle, envelope, device list or link
/// message, `code` a recovery code (empty, or exactly kRecoveryCodeBytes), `mailbox` a link mailbox
/// (exactly kMailboxBytes).
struct Message {
  Kind kind = Kind::kError;
  std::uint32_t req = 0;
  std::uint64_t id = 0;
  std::uint32_t number = 0;
  std::uint32_t idle_seconds = 0;
  std::uint32_t kyber_count = 0;
  std::uint32_t device = 1;
  std::string name;
  Bytes body;
  Bytes code;
  Bytes mailbox;
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

/// The handle in its one canonical form, ASCII lowercase: handles are compared without regard to
/// case ("Bob" and "bob" are one person), so hush-chat and hush-relay turn every handle they are
/// given (at registration and at every lookup) into this form first.
std::string normalize_handle(std::string_view handle);

/// Lowercase hex of `size` bytes.
std::string hex(const std::uint8_t* data, std::size_t size);

/// A recovery code as people write it down: base32 (RFC 4648: A-Z, 2-7), in eight groups of four
/// separated by '-'. `code` must be kRecoveryCodeBytes long.
std::string format_recovery_code(const Bytes& code);
/// The code in `text` (as format_recovery_code writes it; case, '-' and spaces do not matter), or
/// nullopt if it is not exactly one code.
std::optional<Bytes> parse_recovery_code(std::string_view text);

}  // namespace hush_chat

// hush chat example: the wire protocol (see frame.h).
#include "frame.h"

#include <algorithm>

namespace hush_chat {

namespace {

// The fields of each kind, in order: 'r' req (u32), 'i' delivery id (u64), 'n' number (u32),
// 'k' idle_seconds (u32), 'q' kyber_count (u32), 'd' device (u32, 1..kMaxDeviceId), 's' name
// (bytes, at most kMaxNameBytes), 't' token (exactly kTokenBytes), 'c' code (bytes: none or exactly
// kRecoveryCodeBytes), 'm' mailbox (exactly kMailboxBytes), 'L' device list (body, at most
// kMaxListBytes), 'M' link message (body, 1..kMaxLinkMessageBytes), 'B' blob bytes (body, at most
// kBlobChunkBytes), 'b' body (bytes).
std::string_view layout(Kind k) {
  switch (k) {
    case Kind::kHello:
      return "rsdt";
    case Kind::kPublish:
      return "rb";
    case Kind::kCount:
      return "r";
    case Kind::kFetch:
      return "rsd";
    case Kind::kSend:
      return "rsdb";
    case Kind::kAck:
      return "i";
    case Kind::kRecover:
      return "rstc";
    case Kind::kPing:
      return "r";
    case Kind::kPublishList:
      return "rL";
    case Kind::kFetchList:
      return "rs";
    case Kind::kAddDevice:
      return "rdt";
    case Kind::kRemoveDevice:
      return "rd";
    case Kind::kLinkWait:
      return "rm";
    case Kind::kLinkPost:
      return "rmM";
    case Kind::kWelcome:
      return "rnkc";
    case Kind::kOk:
      return "r";
    case Kind::kCountIs:
      return "rnq";
    case Kind::kBundle:
      return "rb";
    case Kind::kDeliver:
      return "isdb";
    case Kind::kError:
      return "rs";
    case Kind::kList:
      return "rL";
    case Kind::kLinkMessage:
      return "rM";
    case Kind::kBlobPut:
      return "ri";
    case Kind::kBlobChunk:
      return "rsB";
    case Kind::kBlobGet:
      return "rsi";
    case Kind::kBlobDelete:
      return "rs";
    case Kind::kBlobId:
      return "rs";
    case Kind::kBlobData:
      return "rB";
    case Kind::kCallJoin:
      return "rm";
    case Kind::kCallToken:
      return "rt";
  }
  return {};
}

bool known_kind(std::uint8_t k) {
  return (k >= 1 && k <= 14) || (k >= 16 && k <= 23) || (k >= 32 && k <= 35) ||
         (k >= 48 && k <= 49) || k == 40 || k == 56;
}

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_u64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_bytes(Bytes& out, const std::uint8_t* data, std::size_t size) {
  put_u32(out, static_cast<std::uint32_t>(size));
  out.insert(out.end(), data, data + size);
}

// Reads fields from a payload, never past its end.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}
  bool u32(std::uint32_t& v) {
    if (left_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v = v << 8 | p_[i];
    skip(4);
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (left_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v = v << 8 | p_[i];
    skip(8);
    return true;
  }
  // A byte string of at most `max` bytes (exactly `max` if `exact`).
  bool bytes(Bytes& out, std::size_t max, bool exact) {
    std::uint32_t n = 0;
    if (!u32(n) || n > left_ || n > max || (exact && n != max)) return false;
    out.assign(p_, p_ + n);
    skip(n);
    return true;
  }
  bool done() const { return left_ == 0; }

 private:
  void skip(std::size_t n) {
    p_ += n;
    left_ -= n;
  }
  const std::uint8_t* p_;
  std::size_t left_;
};

}  // namespace

std::string_view kind_name(std::uint8_t kind) {
  switch (kind) {
    case 1:
      return "HELLO";
    case 2:
      return "PUBLISH";
    case 3:
      return "COUNT";
    case 4:
      return "FETCH";
    case 5:
      return "SEND";
    case 6:
      return "ACK";
    case 7:
      return "RECOVER";
    case 8:
      return "PING";
    case 9:
      return "PUBLISH_LIST";
    case 10:
      return "FETCH_LIST";
    case 11:
      return "ADD_DEVICE";
    case 12:
      return "REMOVE_DEVICE";
    case 13:
      return "LINK_WAIT";
    case 14:
      return "LINK_POST";
    case 16:
      return "WELCOME";
    case 17:
      return "OK";
    case 18:
      return "COUNT_IS";
    case 19:
      return "BUNDLE";
    case 20:
      return "DELIVER";
    case 21:
      return "ERROR";
    case 22:
      return "LIST";
    case 23:
      return "LINK_MESSAGE";
    case 32:
      return "BLOB_PUT";
    case 33:
      return "BLOB_CHUNK";
    case 34:
      return "BLOB_GET";
    case 35:
      return "BLOB_DELETE";
    case 48:
      return "BLOB_ID";
    case 49:
      return "BLOB_DATA";
    case 40:
      return "CALL_JOIN";
    case 56:
      return "CALL_TOKEN";
    default:
      return "?";
  }
}

Bytes encode(const Message& m) {
  Bytes out;
  out.reserve(16 + m.name.size() + m.body.size());
  out.push_back(static_cast<std::uint8_t>(m.kind));
  for (char f : layout(m.kind)) {
    switch (f) {
      case 'r':
        put_u32(out, m.req);
        break;
      case 'i':
        put_u64(out, m.id);
        break;
      case 'n':
        put_u32(out, m.number);
        break;
      case 'k':
        put_u32(out, m.idle_seconds);
        break;
      case 'q':
        put_u32(out, m.kyber_count);
        break;
      case 'd':
        put_u32(out, m.device);
        break;
      case 'm':
        put_bytes(out, m.mailbox.data(), m.mailbox.size());
        break;
      case 's':
        put_bytes(out, reinterpret_cast<const std::uint8_t*>(m.name.data()), m.name.size());
        break;
      case 'c':
        put_bytes(out, m.code.data(), m.code.size());
        break;
      default:
        put_bytes(out, m.body.data(), m.body.size());
        break;
    }
  }
  return out;
}

std::optional<Message> decode(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > kMaxFrameBytes || !known_kind(data[0])) return std::nullopt;
  Message m;
  m.kind = static_cast<Kind>(data[0]);
  Reader r(data + 1, size - 1);
  Bytes name;
  for (char f : layout(m.kind)) {
    bool ok = false;
    switch (f) {
      case 'r':
        ok = r.u32(m.req);
        break;
      case 'i':
        ok = r.u64(m.id);
        break;
      case 'n':
        ok = r.u32(m.number);
        break;
      case 'k':
        ok = r.u32(m.idle_seconds);
        break;
      case 'q':
        ok = r.u32(m.kyber_count);
        break;
      case 'd':
        ok = r.u32(m.device) && m.device >= 1 && m.device <= kMaxDeviceId;
        break;
      case 'm':
        ok = r.bytes(m.mailbox, kMailboxBytes, true);
        break;
      case 'L':
        ok = r.bytes(m.body, kMaxListBytes, false);
        break;
      case 'M':
        ok = r.bytes(m.body, kMaxLinkMessageBytes, false) && !m.body.empty();
        break;
      case 'B':
        ok = r.bytes(m.body, kBlobChunkBytes, false);
        break;
      case 's':
        ok = r.bytes(name, kMaxNameBytes, false);
        break;
      case 'c':
        ok = r.bytes(m.code, kRecoveryCodeBytes, false) &&
             (m.code.empty() || m.code.size() == kRecoveryCodeBytes);
        break;
      case 't':
        ok = r.bytes(m.body, kTokenBytes, true);
        break;
      default:
        ok = r.bytes(m.body, kMaxFrameBytes, false);
        break;
    }
    if (!ok) return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  m.name.assign(name.begin(), name.end());
  return m;
}

void put_length(std::uint8_t out[4], std::uint32_t size) {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
}

std::optional<std::uint32_t> read_length(const std::uint8_t in[4]) {
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = n << 8 | in[i];
  if (n == 0 || n > kMaxFrameBytes) return std::nullopt;
  return n;
}

bool valid_handle(std::string_view handle) {
  if (handle.empty() || handle.size() > kMaxHandleBytes) return false;
  for (char c : handle) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_blob_id(std::string_view id) {
  if (id.size() != kBlobIdChars) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string normalize_handle(std::string_view handle) {
  std::string out(handle);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xF]);
  }
  return out;
}

namespace {
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kCodeChars = kRecoveryCodeBytes * 8 / 5;  // 160 bits, 5 per character
static_assert(kRecoveryCodeBytes * 8 % 5 == 0, "a recovery code is a whole number of characters");
}  // namespace

std::string format_recovery_code(const Bytes& code) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t chars = 0;
  for (std::uint8_t b : code) {
    acc = (acc << 8 | b) & 0xFFFF;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      if (chars > 0 && chars % 4 == 0) out.push_back('-');
      out.push_back(kBase32[(acc >> bits) & 31]);
      ++chars;
    }
  }
  return out;
}

std::optional<Bytes> parse_recovery_code(std::string_view text) {
  Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t chars = 0;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    std::uint32_t v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<std::uint32_t>(c - 'A');
    } else if (c >= '2' && c <= '7') {
      v = static_cast<std::uint32_t>(c - '2' + 26);
    } else {
      return std::nullopt;
    }
    if (++chars > kCodeChars) return std::nullopt;
    acc = (acc << 5 | v) & 0xFFFF;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  if (chars != kCodeChars) return std::nullopt;
  return out;
}

}  // namespace hush_chat

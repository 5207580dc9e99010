// hush chat tests: a hostile client of hush-relay, speaking the frame protocol (examples/chat/
// frame.h) directly, for the attacks chat_test.sh checks the relay and hush-chat against.
//
// usage: hush_chat_hostile --relay HOST:PORT (--handle NAME | --as DIR) COMMAND ARGS...
//        hush_chat_hostile --as DIR secrets
//   --handle NAME   say HELLO as NAME's device 1 with a new random token (registers NAME if it is
//                   free)
//   --as DIR        say HELLO with the handle, device and token stolen from hush-chat's DIR
//                   (sealed: with HUSH_CHAT_STORAGE_KEY set to its key)
// commands, one per run (each prints one result line, parsed by chat_test.sh):
//   fetch NAME N          N bundle fetches of NAME
//                         -> "fetch: OK bundles, REFUSED refused (REASON)"
//   send CLAIM TO N [forge] [copies:K] [TEXT]
//                         N messages for TO from a throwaway identity whose envelopes name CLAIM
//                         as their sender (Messenger over an in-memory store; the bundle is
//                         fetched through this connection); "forge" breaks each Signal message's
//                         MAC; "copies:K" uploads a 100-byte file "same.bin" once and attaches its
//                         pointer K times to each message -> "send: OK sent, REFUSED refused
//                         (REASON)"
//   group TO NAME...      a group "evil" of us, TO and the made-up members NAME... (no handles:
//                         too long, or with bidi controls); its change goes to TO's devices
//                         -> "group: OK sent, REFUSED refused (REASON)"
//   idle S                say nothing, for at most S seconds, until the relay closes the
//                         connection -> "idle: closed after T.T s" or "idle: still open after S s"
//   publish               publish keys with one-time prekeys 1..5 twice, fetch our own bundle
//                         (using one), publish them again, then another identity, then a device
//                         list under another identity, then our own list twice (the same version)
//                         -> "publish: counts A B C D, other identity: REASON, other identity's
//                            list: REASON, list: OK, same version again: REASON"
//   link-flood            post link messages to fresh mailboxes until the relay refuses
//                         -> "link-flood: N posted, then REASON"
//   blobs                 blob requests out of order and out of bounds: an empty and a huge
//                         upload, a fetch of an unfinished blob, pieces of the wrong sizes, a
//                         complete upload fetched in pieces and past its end, a piece for a
//                         finished blob, a malformed id, a read in the middle of a blob, a delete
//                         -> "blobs: empty R, huge R, unfinished R, odd pieces R/R/R/R then R, ..."
//   blob-full             (a relay with --blob-quota 1048576) uploads until refused
//                         -> "blob-full: over R, unfinished upload then R, N one-byte blobs, then
//                         R"
//   blob-make             a finished and an unfinished upload -> "blob-make: ID ID"
//   blob-poke ID ID       a piece for and a delete of each (another handle's)
//                         -> "blob-poke: R/R R/R"
//   secrets               (no connection) print what a link must never show the relay, in hex:
//                         "token HEX" and "identity-private HEX" of DIR
// Exit status: 0 when the command ran (whatever the relay answered), 1 on a usage or connection
// error, or a relay that refused the HELLO.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <hush/hush.h>
#include <hush/sqlite_store.h>

#include "frame.h"

namespace {

using hush_chat::Bytes;
using hush_chat::Kind;
using hush_chat::Message;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "hush_chat_hostile: %s\n", why.c_str());
  std::exit(1);
}

// One blocking connection to the relay.
class Link {
 public:
  explicit Link(const std::string& relay) {
    const auto colon = relay.rfind(':');
    if (colon == std::string::npos) fail("--relay HOST:PORT");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(relay.c_str() + colon + 1)));
    if (::inet_pton(AF_INET, relay.substr(0, colon).c_str(), &addr.sin_addr) != 1)
      fail("--relay: an IPv4 address");
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
      fail("cannot connect to " + relay);
    set_timeout(30);
  }
  ~Link() { ::close(fd_); }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void set_timeout(int seconds) {
    timeval tv{};
    tv.tv_sec = seconds;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const Message& m) {
    const Bytes payload = hush_chat::encode(m);
    Bytes frame(4);
    hush_chat::put_length(frame.data(), static_cast<std::uint32_t>(payload.size()));
    frame.insert(frame.end(), payload.begin(), payload.end());
    if (!write_all(frame)) fail("cannot write to the relay");
  }

  // The next frame that is not a delivery (deliveries are acknowledged and set aside); nullopt
  // when the relay closed the connection or said nothing in time.
  std::optional<Message> receive() {
    for (;;) {
      std::uint8_t header[4];
      if (!read_all(header, 4)) return std::nullopt;
      const auto n = hush_chat::read_length(header);
      if (!n) fail("the relay sent a frame out of bounds");
      Bytes payload(*n);
      if (!read_all(payload.data(), payload.size())) return std::nullopt;
      auto m = hush_chat::decode(payload);
      if (!m) fail("the relay sent a malformed frame");
      if (m->kind != Kind::kDeliver) return m;
      Message ack;
      ack.kind = Kind::kAck;
      ack.id = m->id;
      send(ack);
    }
  }

  // Sends a request and returns its reply (fails if there is none).
  Message request(Message m) {
    m.req = ++next_req_;
    send(m);
    auto reply = receive();
    if (!reply) fail("no reply from the relay");
    return *reply;
  }

 private:
  bool write_all(const Bytes& b) {
    std::size_t done = 0;
    while (done < b.size()) {
      const ssize_t n = ::send(fd_, b.data() + done, b.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool read_all(std::uint8_t* p, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::recv(fd_, p + done, size - done, 0);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  int fd_ = -1;
  std::uint32_t next_req_ = 0;
};

std::string reason_of(const Message& m) {
  return m.kind == Kind::kError
             ? m.name
             : std::string(hush_chat::kind_name(static_cast<std::uint8_t>(m.kind)));
}

// The refusals of a run, counted by reason: "N refused (a, b)".
struct Tally {
  std::size_t ok = 0;
  std::size_t refused = 0;
  std::map<std::string, std::size_t> reasons;
  void count(bool good, const Message& reply) {
    if (good) {
      ++ok;
    } else {
      ++refused;
      ++reasons[reason_of(reply)];
    }
  }
  std::string why() const {
    std::string out;
    for (const auto& [r, n] : reasons)
      out += (out.empty() ? "" : ", ") + r;
    return out.empty() ? "-" : out;
  }
};

// A throwaway device whose envelopes name `claim` (device 1), fetching bundles and the
// recipient's device list through `link`; its own device list (for `claim`) it signs itself.
class Impostor final : public hush::Transport, public hush::KeyDirectory {
 public:
  Impostor(Link& link, const std::string& claim)
      : link_(link),
        claim_(claim),
        ctx_(hush::default_context()),
        store_(hush::generate_identity_key_pair(ctx_.random).value(),
               hush::generate_registration_id(ctx_.random).value()),
        messenger_(ctx_, store_, *this, *this, hush::Address{claim, hush::DeviceId{1}}) {
    hush::DeviceList list;
    list.name = claim;
    list.identity = store_.identity_key_pair().value().public_key;
    list.devices = {hush::DeviceId{1}};
    own_list_ = hush::SignedDeviceList::sign(ctx_.random, std::move(list),
                                             store_.identity_key_pair().value())
                    .value()
                    .serialized();
  }
  // The envelopes carrying `text` for `to`'s devices; empty if the bundle fetch was refused (then
  // `refusal` holds the reply).
  std::vector<hush::OutgoingEnvelope> make(const std::string& to, const std::string& text,
                                           Message& refusal,
                                           std::span<const hush::AttachmentPointer> files = {}) {
    envelopes_.clear();
    hush::SendOptions options;
    options.attachments = files;
    auto sent = messenger_.send(to, hush::as_bytes(text), options);
    if (!sent) {
      refusal = last_;
      return {};
    }
    return envelopes_;
  }
  // The envelopes of a new group "evil" of us, `to` and the made-up `others` (the group change,
  // for `to`'s devices).
  std::vector<hush::OutgoingEnvelope> make_group(const std::string& to,
                                                 const std::vector<std::string>& others) {
    envelopes_.clear();
    std::vector<std::string> members{to};
    members.insert(members.end(), others.begin(), others.end());
    auto made = messenger_.create_group("evil", members);
    if (!made) fail("create_group: " + std::string(hush::to_string(made.error().code())));
    return envelopes_;
  }
  // Our own device list (signed by our throwaway identity), for publishing under our handle.
  const Bytes& own_list() const { return own_list_; }
  hush::Status send(const hush::Address& to, hush::ByteView envelope) override {
    envelopes_.push_back(hush::OutgoingEnvelope{to, Bytes(envelope.begin(), envelope.end())});
    return hush::ok_status();
  }
  hush::Status publish_device_list(std::string_view, hush::ByteView) override {
    return hush::ok_status();
  }
  hush::Result<std::optional<Bytes>> fetch_device_list(std::string_view name) override {
    if (name == claim_) return std::optional<Bytes>(own_list_);
    // (A made-up member: no list, and nothing the relay would close the connection over.)
    if (!hush_chat::valid_handle(name)) return std::optional<Bytes>();
    Message m;
    m.kind = Kind::kFetchList;
    m.name = std::string(name);
    last_ = link_.request(m);
    if (last_.kind != Kind::kList)
      return hush::Error(hush::Errc::kTransportFailure, "hostile: the relay refused a list");
    if (last_.body.empty()) return std::optional<Bytes>();
    return std::optional<Bytes>(last_.body);
  }
  hush::Status publish(const hush::Address&, const hush::PublishedKeys&) override {
    return hush::ok_status();
  }
  hush::Result<hush::AvailablePreKeys> available_pre_keys(const hush::Address&) override {
    return hush::AvailablePreKeys{100, 100};
  }
  hush::Result<hush::PreKeyBundle> fetch(const hush::Address& remote) override {
    Message m;
    m.kind = Kind::kFetch;
    m.name = remote.name;
    m.device = hush::to_uint(remote.device_id);
    last_ = link_.request(m);
    if (last_.kind != Kind::kBundle)
      return hush::Error(hush::Errc::kTransportFailure, "hostile: the relay refused a fetch");
    return hush::PreKeyBundle::parse(last_.body);
  }

 private:
  Link& link_;
  std::string claim_;
  hush::Context ctx_;
  hush::InMemoryProtocolStore store_;
  hush::Messenger messenger_;
  Bytes own_list_;
  std::vector<hush::OutgoingEnvelope> envelopes_;
  Message last_;
};

// Uploads blobs through the connection, as hush-chat does (pieces of exactly kBlobChunkBytes).
class RelayBlobs final : public hush::BlobStore {
 public:
  explicit RelayBlobs(Link& link) : link_(link) {}
  hush::Result<std::string> put(hush::ByteSource& blob, std::uint64_t size) override {
    Message begin;
    begin.kind = Kind::kBlobPut;
    begin.id = size;
    const Message id = link_.request(begin);
    if (id.kind != Kind::kBlobId) return hush::Error(hush::Errc::kTransportFailure, "BLOB_PUT");
    for (std::uint64_t sent = 0; sent < size;) {
      Message m;
      m.kind = Kind::kBlobChunk;
      m.name = id.name;
      m.body.resize(static_cast<std::size_t>(
          std::min<std::uint64_t>(hush_chat::kBlobChunkBytes, size - sent)));
      for (std::size_t got = 0; got < m.body.size();) {
        auto n = blob.read(std::span<std::uint8_t>(m.body).subspan(got));
        if (!n) return n.error();
        if (*n == 0) return hush::Error(hush::Errc::kInvalidArgument, "short blob");
        got += *n;
      }
      sent += m.body.size();
      if (link_.request(m).kind != Kind::kOk)
        return hush::Error(hush::Errc::kTransportFailure, "BLOB_CHUNK");
    }
    return id.name;
  }
  hush::Status get(std::string_view, hush::ByteSink&) override {
    return hush::Error(hush::Errc::kTransportFailure, "not here");
  }

 private:
  Link& link_;
};

// 100 bytes of memory, read once.
class Hundred final : public hush::ByteSource {
 public:
  hush::Result<std::size_t> read(std::span<std::uint8_t> buffer) override {
    const std::size_t n = std::min(buffer.size(), left_);
    std::fill_n(buffer.begin(), n, std::uint8_t{0x5A});
    left_ -= n;
    return n;
  }

 private:
  std::size_t left_ = 100;
};

// Protobuf, as far as forge() needs it: the value of length-delimited field `number` in
// data[begin, end), as {offset, length}; nullopt if absent or malformed.
std::optional<std::pair<std::size_t, std::size_t>> field(const Bytes& data, std::size_t begin,
                                                         std::size_t end, std::uint32_t number) {
  auto varint = [&](std::size_t& at, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; at < end && shift < 64; shift += 7) {
      const std::uint8_t b = data[at++];
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  std::size_t at = begin;
  while (at < end) {
    std::uint64_t key = 0, v = 0;
    if (!varint(at, key)) return std::nullopt;
    switch (key & 7) {
      case 0:
        if (!varint(at, v)) return std::nullopt;
        break;
      case 2:
        if (!varint(at, v) || v > end - at) return std::nullopt;
        if (key >> 3 == number) return std::make_pair(at, static_cast<std::size_t>(v));
        at += static_cast<std::size_t>(v);
        break;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

// Breaks the MAC of the Signal message in an envelope: the envelope's body (field 5) is a
// PreKeySignalMessage (a version byte, then a protobuf whose field 4 is the SignalMessage) or a
// SignalMessage, and a SignalMessage ends with its 8-byte MAC.
void forge(Bytes& envelope) {
  const auto body = field(envelope, 0, envelope.size(), 5);
  if (!body || body->second < 10) fail("unexpected envelope layout: cannot forge");
  std::size_t last = body->first + body->second - 1;  // a SignalMessage's last MAC byte
  if (auto inner = field(envelope, body->first + 1, body->first + body->second, 4);
      inner && inner->second >= 9)
    last = inner->first + inner->second - 1;
  envelope[last] ^= 0x01;
}

hush::PublishedKeys make_keys(const hush::Context& ctx, const hush::IdentityKeyPair& identity,
                              const std::vector<hush::PreKeyRecord>& pre_keys) {
  auto spk = hush::generate_signed_pre_key(ctx, identity, hush::SignedPreKeyId{1}).value();
  hush::PublishedKeys keys;
  keys.registration_id = 1;
  keys.identity_key = identity.public_key;
  keys.signed_pre_key_id = spk.id;
  keys.signed_pre_key = spk.key_pair.public_key;
  keys.signed_pre_key_signature = spk.signature;
  for (const auto& r : pre_keys)
    keys.pre_keys.emplace_back(r.id, r.key_pair.public_key);
  return keys;
}

std::uint32_t count_pre_keys(Link& link) {
  Message m;
  m.kind = Kind::kCount;
  const Message reply = link.request(m);
  if (reply.kind != Kind::kCountIs) fail("COUNT refused: " + reason_of(reply));
  return reply.number;
}

std::string publish(Link& link, const hush::PublishedKeys& keys) {
  Message m;
  m.kind = Kind::kPublish;
  m.body = keys.serialize();
  return reason_of(link.request(m));
}

// The blob requests (BLOB_PUT, BLOB_CHUNK, BLOB_GET, BLOB_DELETE), one message each.
Message blob_put(Link& link, std::uint64_t size) {  // the reply: BLOB_ID, or an error
  Message m;
  m.kind = Kind::kBlobPut;
  m.id = size;
  return link.request(m);
}
std::string blob_chunk(Link& link, const std::string& id, std::size_t n,
                       std::uint8_t fill = 0x42) {  // "OK" or the reason
  Message m;
  m.kind = Kind::kBlobChunk;
  m.name = id;
  m.body.assign(n, fill);
  return reason_of(link.request(m));
}
Message blob_get(Link& link, const std::string& id, std::uint64_t offset) {
  Message m;
  m.kind = Kind::kBlobGet;
  m.name = id;
  m.id = offset;
  return link.request(m);
}
std::string blob_delete(Link& link, const std::string& id) {  // "OK" or the reason
  Message m;
  m.kind = Kind::kBlobDelete;
  m.name = id;
  return reason_of(link.request(m));
}

std::size_t number(const char* s) {
  char* end = nullptr;
  const unsigned long n = std::strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0') fail(std::string("not a number: ") + s);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string relay, handle, as;
  int i = 1;
  for (; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--relay") {
      relay = argv[i + 1];
    } else if (arg == "--handle") {
      handle = argv[i + 1];
    } else if (arg == "--as") {
      as = argv[i + 1];
    } else {
      break;
    }
  }
  if ((relay.empty() && !(i < argc && std::string(argv[i]) == "secrets")) ||
      (handle.empty() == as.empty()) || i >= argc)
    fail("usage: hush_chat_hostile --relay HOST:PORT (--handle NAME | --as DIR) COMMAND ARGS...");
  const std::string command = argv[i];
  const std::vector<std::string> args(argv + i + 1, argv + argc);
  const hush::Context ctx = hush::default_context();

  Bytes token(hush_chat::kTokenBytes);
  std::uint32_t device = 1;
  if (!as.empty()) {
    // What a thief who copied hush-chat's state directory has (and its storage key, if sealed).
    hush::SqliteStoreOptions options;
    hush::Bytes key;  // (options only views it)
    if (const char* hex = std::getenv("HUSH_CHAT_STORAGE_KEY"); hex && *hex) {
      auto bytes = hush::from_hex(hex);
      if (!bytes || bytes->size() != 32) fail("HUSH_CHAT_STORAGE_KEY: 64 hex digits");
      key = std::move(*bytes);
      options.storage_key = key;
    }
    auto store = hush::SqliteStore::open(as + "/hush.db", options);
    if (!store)
      fail("cannot open " + as + "/hush.db: " + std::string(hush::to_string(store.error().code())));
    auto h = (*store)->app_data("chat/handle");
    auto t = (*store)->app_data("chat/token");
    auto d = (*store)->app_data("chat/device");
    if (!h || !*h || !t || !*t || !d) fail("no chat account in " + as);
    handle.assign((**h).begin(), (**h).end());
    token = **t;
    if (*d) {
      device = 0;
      for (std::uint8_t b : **d)
        device = device << 8 | b;
    }
    if (command == "secrets") {
      auto identity = (*store)->identity_key_pair();
      if (!identity) fail("no identity in " + as);
      std::printf("token %s\n", hush::to_hex(token).c_str());
      std::printf("identity-private %s\n", hush::to_hex(identity->private_key.expose()).c_str());
      return 0;
    }
  } else if (!ctx.random.fill(token)) {
    fail("no randomness");
  }

  Link link(relay);
  Message hello;
  hello.kind = Kind::kHello;
  hello.name = handle;
  hello.device = device;
  hello.body = token;
  const Message welcome = link.request(hello);
  if (welcome.kind != Kind::kWelcome) fail("HELLO " + handle + " refused: " + reason_of(welcome));

  if (command == "fetch" && args.size() == 2) {
    Tally t;
    for (std::size_t k = 0, n = number(args[1].c_str()); k < n; ++k) {
      Message m;
      m.kind = Kind::kFetch;
      m.name = args[0];
      const Message reply = link.request(m);
      t.count(reply.kind == Kind::kBundle, reply);
    }
    std::printf("fetch: %zu bundles, %zu refused (%s)\n", t.ok, t.refused, t.why().c_str());
  } else if (command == "send" && args.size() >= 3) {
    const std::string& claim = args[0];
    const std::string& to = args[1];
    const std::size_t n = number(args[2].c_str());
    bool forged = false;
    std::size_t copies = 0;
    std::string text = "from a hostile client";
    for (std::size_t k = 3; k < args.size(); ++k) {
      if (args[k] == "forge") {
        forged = true;
      } else if (args[k].rfind("copies:", 0) == 0) {
        copies = number(args[k].c_str() + 7);
      } else {
        text = args[k];
      }
    }
    Impostor impostor(link, claim);
    if (claim == handle && as.empty()) {
      // Under our own (new) name: our device list, so that the recipient can tell our device is
      // ours.
      Message list;
      list.kind = Kind::kPublishList;
      list.body = impostor.own_list();
      if (link.request(list).kind != Kind::kOk) fail("our own device list was refused");
    }
    // One blob, and its pointer `copies` times (a receiver must not save it `copies` times).
    std::vector<hush::AttachmentPointer> files;
    if (copies > 0) {
      RelayBlobs blobs(link);
      Hundred source;
      auto pointer = hush::upload_attachment(ctx, blobs, source, 100, "", "same.bin");
      if (!pointer) fail("cannot upload the file");
      for (std::size_t k = 0; k < copies; ++k)
        files.push_back(pointer->clone());
    }
    Tally t;
    for (std::size_t k = 1; k <= n; ++k) {
      Message refusal;
      auto envelopes = impostor.make(to, text + " " + std::to_string(k), refusal, files);
      if (envelopes.empty()) {
        t.count(false, refusal);
        continue;
      }
      for (auto& e : envelopes) {  // (one per device of `to`; the tests' have one)
        if (forged) forge(e.envelope);
        Message m;
        m.kind = Kind::kSend;
        m.name = e.recipient.name;
        m.device = hush::to_uint(e.recipient.device_id);
        m.body = std::move(e.envelope);
        const Message reply = link.request(m);
        t.count(reply.kind == Kind::kOk, reply);
      }
    }
    std::printf("send: %zu sent, %zu refused (%s)\n", t.ok, t.refused, t.why().c_str());
  } else if (command == "group" && args.size() >= 2) {
    // A group "evil" of us, args[0] and the made-up members args[1..] (names that are no handles).
    Impostor impostor(link, handle);
    Message list;
    list.kind = Kind::kPublishList;
    list.body = impostor.own_list();
    if (link.request(list).kind != Kind::kOk) fail("our own device list was refused");
    const std::vector<std::string> others(args.begin() + 1, args.end());
    Tally t;
    for (auto& e : impostor.make_group(args[0], others)) {
      if (e.recipient.name != args[0]) continue;
      Message m;
      m.kind = Kind::kSend;
      m.name = e.recipient.name;
      m.device = hush::to_uint(e.recipient.device_id);
      m.body = std::move(e.envelope);
      const Message reply = link.request(m);
      t.count(reply.kind == Kind::kOk, reply);
    }
    std::printf("group: %zu sent, %zu refused (%s)\n", t.ok, t.refused, t.why().c_str());
  } else if (command == "idle" && args.size() == 1) {
    const auto seconds = static_cast<int>(number(args[0].c_str()));
    link.set_timeout(seconds);
    const auto start = std::chrono::steady_clock::now();
    const bool closed = !link.receive();
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (closed && took < seconds - 0.5) {
      std::printf("idle: closed after %.1f s\n", took);
    } else {
      std::printf("idle: still open after %d s\n", seconds);
    }
  } else if (command == "publish" && args.empty()) {
    auto identity = hush::generate_identity_key_pair(ctx.random).value();
    auto pre_keys = hush::generate_pre_keys(ctx, hush::PreKeyId{1}, 5).value();
    const hush::PublishedKeys keys = make_keys(ctx, identity, pre_keys);
    std::vector<std::uint32_t> counts;
    if (publish(link, keys) != "OK") fail("publish refused");
    counts.push_back(count_pre_keys(link));
    if (publish(link, keys) != "OK") fail("repeated publish refused");
    counts.push_back(count_pre_keys(link));
    Message fetch;
    fetch.kind = Kind::kFetch;
    fetch.name = handle;
    if (link.request(fetch).kind != Kind::kBundle) fail("cannot fetch our own bundle");
    counts.push_back(count_pre_keys(link));
    if (publish(link, keys) != "OK") fail("third publish refused");
    counts.push_back(count_pre_keys(link));
    auto other = hush::generate_identity_key_pair(ctx.random).value();
    const std::string why = publish(link, make_keys(ctx, other, pre_keys));
    // Device lists: one under another identity, then ours, then ours again (the same version).
    auto list_of = [&](const hush::IdentityKeyPair& key) {
      hush::DeviceList list;
      list.name = handle;
      list.identity = key.public_key;
      list.devices = {hush::DeviceId{1}};
      Message m;
      m.kind = Kind::kPublishList;
      m.body = hush::SignedDeviceList::sign(ctx.random, std::move(list), key).value().serialized();
      return reason_of(link.request(m));
    };
    const std::string other_list = list_of(other);
    const std::string own_list = list_of(identity);
    const std::string again = list_of(identity);
    std::printf(
        "publish: counts %u %u %u %u, other identity: %s, other identity's list: %s, list: %s, "
        "same version again: %s\n",
        counts[0], counts[1], counts[2], counts[3], why.c_str(), other_list.c_str(),
        own_list.c_str(), again.c_str());
  } else if (command == "blobs" && args.empty()) {
    auto put = [&](std::uint64_t size) { return blob_put(link, size); };
    auto chunk = [&](const std::string& id, std::size_t n) { return blob_chunk(link, id, n); };
    auto get = [&](const std::string& id, std::uint64_t offset) {
      return blob_get(link, id, offset);
    };
    auto data_or_reason = [&](const Message& r) {
      return r.kind == Kind::kBlobData ? std::to_string(r.body.size()) : reason_of(r);
    };
    auto del = [&](const std::string& id) { return blob_delete(link, id); };
    const std::string empty = reason_of(put(0));
    const std::string huge = reason_of(put(std::uint64_t{1} << 40));
    const Message first = put(10);
    if (first.kind != Kind::kBlobId) fail("BLOB_PUT refused: " + reason_of(first));
    const std::string unfinished = data_or_reason(get(first.name, 0));
    // Every piece is exactly min(kBlobChunkBytes, what is missing): longer, shorter and empty ones
    // are refused and change nothing (the right one is still taken after them).
    // (Each request in a statement of its own: the operands of + are evaluated in any order.)
    std::string odd = chunk(first.name, 11);
    odd += "/" + chunk(first.name, 4);
    odd += "/" + chunk(first.name, 1);
    odd += "/" + chunk(first.name, 0);
    const std::string right = chunk(first.name, 10);
    std::string read = data_or_reason(get(first.name, 0));
    read += "+" + data_or_reason(get(first.name, 10));
    const std::string past = data_or_reason(get(first.name, 11));
    const std::string finished = chunk(first.name, 1);
    const std::string bad = data_or_reason(get("../../relay.db", 0));
    // A blob of three pieces: a short piece in the middle is refused; a read in the second piece
    // returns the rest of the blob from there.
    const std::uint64_t big_size = 2 * hush_chat::kBlobChunkBytes + 1000;
    const Message big = put(big_size);
    if (big.kind != Kind::kBlobId) fail("BLOB_PUT refused: " + reason_of(big));
    std::string pieces = chunk(big.name, hush_chat::kBlobChunkBytes);
    pieces += "/" + chunk(big.name, 1000);
    pieces += "/" + chunk(big.name, hush_chat::kBlobChunkBytes);
    pieces += "/" + chunk(big.name, 1000);
    const std::string middle = data_or_reason(get(big.name, hush_chat::kBlobChunkBytes + 500));
    const std::string deleted = del(big.name);
    std::string gone = data_or_reason(get(big.name, 0));
    gone += "/" + del(big.name);
    std::printf(
        "blobs: empty %s, huge %s, unfinished %s, odd pieces %s then %s, read %s bytes, past end "
        "%s, finished %s, bad id %s, pieces %s, middle %s, delete %s then %s\n",
        empty.c_str(), huge.c_str(), unfinished.c_str(), odd.c_str(), right.c_str(), read.c_str(),
        past.c_str(), finished.c_str(), bad.c_str(), pieces.c_str(), middle.c_str(),
        deleted.c_str(), gone.c_str());
  } else if (command == "blob-full" && args.empty()) {
    // Against a relay started with --blob-quota 1048576 (8 pieces of 128 KiB).
    auto put = [&](std::uint64_t size) { return blob_put(link, size); };
    auto chunk = [&](const std::string& id, std::size_t n) { return blob_chunk(link, id, n); };
    const Message a = put(10);
    if (a.kind != Kind::kBlobId || chunk(a.name, 10) != "OK") fail("blob a refused");
    const Message b = put(10);  // left unfinished
    if (b.kind != Kind::kBlobId) fail("blob b refused");
    // Over the quota: refused, and b's upload is still there to finish.
    const std::string over = reason_of(put(1000000));
    const std::string b_after = chunk(b.name, 10);
    // Every blob counts as at least one piece: after a and b, six one-byte blobs fill the rest.
    std::size_t small = 0;
    std::string then = "-";
    for (int k = 0; k < 10; ++k) {
      const Message m = put(1);
      if (m.kind != Kind::kBlobId) {
        then = reason_of(m);
        break;
      }
      if (chunk(m.name, 1) != "OK") fail("a one-byte piece was refused");
      ++small;
    }
    std::printf("blob-full: over %s, unfinished upload then %s, %zu one-byte blobs, then %s\n",
                over.c_str(), b_after.c_str(), small, then.c_str());
  } else if (command == "blob-make" && args.empty()) {
    // An unfinished upload and a finished blob, for blob-poke from another handle.
    const Message done = blob_put(link, 10);
    if (done.kind != Kind::kBlobId) fail("BLOB_PUT refused: " + reason_of(done));
    if (blob_chunk(link, done.name, 10) != "OK") fail("a blob's piece was refused");
    const Message open = blob_put(link, 10);
    if (open.kind != Kind::kBlobId) fail("BLOB_PUT refused: " + reason_of(open));
    std::printf("blob-make: %s %s\n", done.name.c_str(), open.name.c_str());
  } else if (command == "blob-poke" && args.size() == 2) {
    // Another handle's blobs: no piece goes into its upload, and neither can be deleted.
    std::string out;
    for (const std::string& id : args) {
      out += " " + blob_chunk(link, id, 10, 0x43);
      out += "/" + blob_delete(link, id);
    }
    std::printf("blob-poke:%s\n", out.c_str());
  } else if (command == "link-flood" && args.empty()) {
    std::size_t posted = 0;
    std::string why = "-";
    for (std::size_t k = 0; k < 1000; ++k) {
      Message m;
      m.kind = Kind::kLinkPost;
      m.mailbox.assign(hush_chat::kMailboxBytes, 0);
      if (!ctx.random.fill(m.mailbox)) fail("no randomness");
      m.body.assign(1000, 0x5A);
      const Message reply = link.request(m);
      if (reply.kind != Kind::kOk) {
        why = reason_of(reply);
        break;
      }
      ++posted;
    }
    std::printf("link-flood: %zu posted, then %s\n", posted, why.c_str());
  } else {
    fail("unknown command or wrong arguments: " + command);
  }
  return 0;
}

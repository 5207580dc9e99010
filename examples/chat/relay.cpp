// hush-relay: the server of the chat example. It stores the keys and signed device lists clients
// publish, hands out one bundle (with one one-time prekey) per fetch, queues envelopes per
// recipient device in SQLite and forwards them to the device while it is connected (and again
// when it reconnects, until it acknowledges them), and carries link messages from an existing
// device to a new one. It holds no user's private key and never sees a plaintext: what it stores
// and forwards are hush's public key formats, signed device lists, sealed link messages,
// envelopes whose bodies are Signal messages, and blobs: files encrypted by their senders
// (hush/attachment.h), whose keys travel only inside the envelopes.
//
// One thread, Asio. Everything from the network is untrusted: frames are bounded (frame.h), every
// field is checked, a client that breaks the protocol is disconnected, and the database bounds
// every queue (relay_db.h). Accounts are per device: a handle belongs to the first client that
// says HELLO with it as device 1, whose random account token is recorded and required from then
// on (compared in constant time). At registration the relay makes a recovery code, sends it to the
// client once and keeps only a salted hash of it: with the code (RECOVER), a client that lost its
// state takes the handle back as device 1 under a new token; the handle's other devices are
// removed, and the envelopes queued for device 1 are kept (the new device cannot read them, and
// asks their senders to send them again). A device of the handle adds another (ADD_DEVICE, for a
// device on the handle's signed list) and removes one (REMOVE_DEVICE, once off the list). (That is
// the example's whole account system: no passwords, no TLS. It binds only 127.0.0.1.)
//
// Linking: a new device waits at a 16-byte mailbox (LINK_WAIT, before any HELLO); a device posts
// a sealed link message there (LINK_POST); the relay forwards it once and forgets it. At most
// kMaxMailboxes mailboxes exist at once (kMaxMailboxesPerHandle posted by one handle), each for at
// most kMailboxSeconds, holding one message of at most kMaxLinkMessageBytes, in memory only.
//
// What it defends against, beyond malformed input: a client that drains another's one-time
// prekeys (bundle fetches are rate-limited per requesting handle: a token bucket of
// --fetch-burst fetches, one more every --fetch-interval seconds); a client that floods a mailbox
// (one sender may fill at most a quarter of a recipient device's queue, so others still get
// through); a client that claims another sender (a delivery names the device the envelope came
// from, never what the envelope says, and hush-chat refuses an envelope that names someone
// else); a connection that holds a slot and says nothing (closed after --idle-timeout seconds;
// the WELCOME tells clients the timeout, and hush-chat pings at a third of it); a repeated publish
// (it replaces the one-time prekeys the relay holds, and never puts back one it handed out); a
// token holder who tries to swap the handle's identity (keys and device lists under another
// identity are refused: only a recovery changes it); a rolled-back device list (only a higher
// version is kept); and link mailboxes used as storage (bounded in number, size and lifetime).
//
// What it cannot defend against: metadata (it sees who writes to whom, when and how much, to how
// many devices, and every client's address); a relay operator who lies (withholds, delays, drops
// or replays envelopes, hands out its own keys and lists for a handle, withholds a newer device
// list, or takes a handle over by resetting its token: hush makes each of these visible or
// harmless to message content, but the relay cannot prove its own honesty); many accounts acting
// together (accounts are free, so rate limits and shares are per handle, and a Sybil can still
// drain prekeys or fill a mailbox, only slower); an attacker who reads the database (the account
// tokens are in it, so they can act as any device at this relay, though not read or forge
// messages); and everything TLS would give (on 127.0.0.1 only).
//
// Calls: the relay is also the calls' SFU (sfu.h): on UDP at the TCP port's number it forwards
// each media datagram of a call to the call's other devices that joined it, with a token each got
// over its TCP connection (CALL_JOIN). The media are SFrame frames under keys that travel only
// inside envelopes: it forwards what it cannot read. --capture-udp FILE records what it forwards.
//
// --impersonate HANDLE makes the relay a man in the middle for that handle: whoever fetches
// HANDLE's bundle or device list (except HANDLE itself) gets the relay's own keys, and a list
// signed by them, instead.
// It exists to demonstrate that hush detects this (see --help and tests/chat/).
//
// Output: the first line on stdout is `listening 127.0.0.1:PORT`; then one line per event.
// --record FILE appends every frame in and out, as `conn N in|out KIND LENGTH HEX`, for tests
// that check what crossed the wire (recovery codes are blanked in it: zero bytes of their length).
#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hush/hush.h>

#include "asio.h"
#include "connection.h"
#include "frame.h"
#include "relay_db.h"
#include "sfu.h"

namespace hush_chat {
namespace {

constexpr std::string_view kUsage =
    R"(usage: hush-relay --db PATH [--port N] [--record FILE] [--impersonate HANDLE]...
                  [--idle-timeout S] [--fetch-burst N] [--fetch-interval S] [--queue-limit N]
                  [--max-blob-bytes N] [--blob-days N] [--blob-quota N]
       hush-relay --db PATH --dump

The relay of the hush chat example (hush-chat is the client). Listens on 127.0.0.1 only, port N
(0, the default, picks a free port). The first line on standard output is
`listening 127.0.0.1:PORT`; events follow, one per line. Stops on SIGINT or SIGTERM.

It stores published public keys, signed device lists, queued envelopes and blobs (files, encrypted
by their senders) in the SQLite database PATH (created if missing), forwards envelopes to their recipients' devices, and carries link
messages from a device to a new one (in memory, once). Accounts are per device: a handle's device
1 registers it (and gets a recovery code), its other devices are added by a device of the handle.
It never holds a user's private key and never sees a plaintext.

options:
  --db PATH              the relay's database
  --port N               the TCP port (default 0: any free port)
  --record FILE          append every frame received and sent to FILE (one line each:
                         `conn N in|out KIND LENGTH HEX`), to check what crossed the wire
                         (recovery codes blanked)
  --idle-timeout S       close a connection that sends nothing for S seconds (default 120; 0:
                         never). WELCOME tells the client, which pings in time.
  --fetch-burst N        bundle fetches one account may make at once (default 20)
  --fetch-interval S     ... and then one more every S seconds (default 30)
  --queue-limit N        envelopes queued per recipient device (default 1000); one sender may hold
                         at most a quarter of them (and of the 16 MiB per recipient device)
  --max-blob-bytes N     the largest blob (a file's ciphertext) taken (default: that of hush's
                         largest attachment, 2 GiB of file)
  --blob-days N          keep a finished blob N days after its upload (default 30); an
                         unfinished upload is deleted after an idle hour. Blobs take at most
                         8 GiB and 1000 blobs per handle, 64 GiB and 10000 blobs in all (each
                         counted as at least 128 KiB)
  --blob-quota N         the bytes of blobs one handle may keep (default 8 GiB; the tests make it
                         small)
  --impersonate HANDLE   FOR DEMONSTRATIONS AND TESTS ONLY: act as a man in the middle for HANDLE,
                         handing out a bundle of the relay's own keys (made once, kept in the
                         database) and a device list signed by them to anyone but HANDLE
                         who fetches HANDLE's bundle or list. It exists to show that
                         hush detects this: a client that already knows HANDLE refuses to send
                         (untrusted_identity), and a new one sees a safety number that differs from
                         the one HANDLE sees. May be repeated.
  --capture-udp FILE     append every call media datagram forwarded (UDP, on the TCP port's
                         number) to FILE, each as a 4-byte big-endian length and the bytes, to
                         show what the relay saw of a call
  --dump                 print every table of the database (blobs in hex) and exit
)";

constexpr std::size_t kMaxConnections = 256;
constexpr std::size_t kMaxBacklog = std::size_t{8} << 20;
// Deliveries sent and not yet acknowledged, per connection.
constexpr std::size_t kWindow = 16;
constexpr auto kHelloTimeout = std::chrono::seconds(10);
// A connection that says nothing this long is closed: it holds one of kMaxConnections slots, and
// a client that went away without closing (a laptop that slept) would hold it forever. Two
// minutes is long for a live client to be silent: hush-chat pings every 40 seconds.
constexpr std::uint32_t kIdleTimeoutSeconds = 120;
// Bundle fetches per requesting account: a burst of 20, then one every 30 seconds. hush-chat
// fetches a bundle only to start a session (the first message to someone, after /reset or
// /trust), so 20 at once covers writing to a whole contact list after a start, and one every 30
// seconds is more than a person types. A client that fetches more is draining one-time prekeys
// (each fetch uses one of the target's; hush-chat publishes 100 and tops up below 20).
constexpr std::uint32_t kFetchBurst = 20;
constexpr std::uint32_t kFetchIntervalSeconds = 30;
// Link mailboxes, in memory. A mailbox lives while a new device waits at it, or while a posted
// link message waits for its device: 64 at once is far more than people link devices at one
// relay, and bounds the memory to 64 x kMaxLinkMessageBytes (12 MiB).
constexpr std::size_t kMaxMailboxes = 64;
// One handle may have this many posted link messages waiting at once: a user links one device at
// a time, and a hostile account cannot take every mailbox.
constexpr std::size_t kMaxMailboxesPerHandle = 4;
// How long a mailbox lives: ten minutes to type or scan a code on the other device. A waiting
// connection is closed then ("link timed out"), and a message nobody took is forgotten.
constexpr std::uint32_t kMailboxSeconds = 600;

using Clock = std::chrono::steady_clock;

struct Options {
  std::string db;
  std::uint16_t port = 0;
  std::string record;
  std::string capture_udp;  // --capture-udp
  std::set<std::string> impersonate;
  bool dump = false;
  std::uint32_t idle_timeout_seconds = kIdleTimeoutSeconds;
  std::uint32_t fetch_burst = kFetchBurst;
  std::uint32_t fetch_interval_seconds = kFetchIntervalSeconds;
  QueueLimits queue;
  // The largest blob (attachment ciphertext) taken: by default that of hush's largest attachment.
  std::uint64_t max_blob_bytes = hush::attachment_ciphertext_size(hush::kMaxAttachmentBytes);
  // How long blobs are kept (--blob-days for finished ones).
  RelayDb::BlobPolicy blob_policy;
};

std::uint32_t number_option(const std::string& name, const std::string& v, std::uint32_t min,
                            std::uint32_t max);

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "hush-relay: %s\n(hush-relay --help for usage)\n", message.c_str());
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_db = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else if (arg == "--db") {
      o.db = value();
      have_db = true;
    } else if (arg == "--port") {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n > 65535 || v[0] == '-')
        usage_error("--port must be a number from 0 to 65535");
      o.port = static_cast<std::uint16_t>(n);
    } else if (arg == "--record") {
      o.record = value();
    } else if (arg == "--capture-udp") {
      o.capture_udp = value();
    } else if (arg == "--impersonate") {
      const std::string h = normalize_handle(value());
      if (!valid_handle(h)) usage_error("--impersonate: not a valid handle: " + h);
      o.impersonate.insert(h);
    } else if (arg == "--dump") {
      o.dump = true;
    } else if (arg == "--idle-timeout") {
      o.idle_timeout_seconds = number_option("--idle-timeout", value(), 0, 86400);
    } else if (arg == "--fetch-burst") {
      o.fetch_burst = number_option("--fetch-burst", value(), 1, 1000000);
    } else if (arg == "--fetch-interval") {
      o.fetch_interval_seconds = number_option("--fetch-interval", value(), 1, 86400);
    } else if (arg == "--max-blob-bytes") {
      o.max_blob_bytes = number_option("--max-blob-bytes", value(), 1, 0xFFFFFFFFu);
    } else if (arg == "--blob-days") {
      o.blob_policy.finished_seconds =
          std::uint64_t{number_option("--blob-days", value(), 1, 3650)} * 86400;
    } else if (arg == "--blob-quota") {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-' || n < kBlobChunkBytes ||
          n > kMaxBlobBytesPerHandle)
        usage_error("--blob-quota must be a number of bytes from " +
                    std::to_string(kBlobChunkBytes) + " to " +
                    std::to_string(kMaxBlobBytesPerHandle));
      o.blob_policy.bytes_per_handle = n;
    } else if (arg == "--queue-limit") {
      o.queue.envelopes = number_option("--queue-limit", value(), 1, kMaxQueuedEnvelopes);
    } else {
      usage_error("unknown argument: " + std::string(arg));
    }
  }
  if (!have_db || o.db.empty()) usage_error("--db PATH is required");
  return o;
}

std::uint32_t number_option(const std::string& name, const std::string& v, std::uint32_t min,
                            std::uint32_t max) {
  char* end = nullptr;
  const unsigned long n = std::strtoul(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || v[0] == '-' || n < min || n > max)
    usage_error(name + " must be a number from " + std::to_string(min) + " to " +
                std::to_string(max));
  return static_cast<std::uint32_t>(n);
}

void log_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// --record: every frame, in and out.
class Recorder {
 public:
  explicit Recorder(const std::string& path) {
    if (path.empty()) return;
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) usage_error("cannot open --record file '" + path + "'");
  }
  ~Recorder() {
    if (file_) std::fclose(file_);
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  void frame(std::uint64_t conn, bool in, const Bytes& payload) {
    if (!file_) return;
    // A recovery code is the one thing the relay must not keep: blank it (same length).
    Bytes shown = payload;
    if (auto m = decode(payload); m && !m->code.empty()) {
      std::fill(m->code.begin(), m->code.end(), std::uint8_t{0});
      shown = encode(*m);
    }
    std::fprintf(file_, "conn %llu %s %s %zu %s\n", static_cast<unsigned long long>(conn),
                 in ? "in" : "out", kind_name(shown.empty() ? 0 : shown[0]).data(), shown.size(),
                 hex(shown.data(), shown.size()).c_str());
    std::fflush(file_);
  }
  void event(std::uint64_t conn, const std::string& what) {
    if (!file_) return;
    std::fprintf(file_, "conn %llu %s\n", static_cast<unsigned long long>(conn), what.c_str());
    std::fflush(file_);
  }

 private:
  std::FILE* file_ = nullptr;
};

class Relay;

// A device account: (handle, device).
using DeviceKey = std::pair<std::string, std::uint32_t>;

std::string device_name(const std::string& handle, std::uint32_t device) {
  return handle + ":" + std::to_string(device);
}

// One client connection.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Relay& relay, std::uint64_t id, std::shared_ptr<Connection> conn)
      : relay_(relay),
        id_(id),
        conn_(std::move(conn)),
        hello_timer_(relay_io()),
        idle_timer_(relay_io()) {}
  void start();
  void close(const std::string& reason) { conn_->close(reason); }
  void stop_timers() {
    hello_timer_.cancel();
    idle_timer_.cancel();
  }
  // Sends what is queued for us, up to kWindow unacknowledged deliveries.
  void pump();
  // Forwards a link message to this connection, which waits at a mailbox.
  void link_message(const Bytes& message);
  const std::string& handle() const { return handle_; }
  std::uint32_t device() const { return device_; }
  std::uint64_t id() const { return id_; }
  const std::optional<Bytes>& waiting_at() const { return mailbox_; }

 private:
  asio::io_context& relay_io();
  void watch_idle(Clock::duration wait);
  void on_frame(const Bytes& payload);
  void dispatch(const Message& m);
  void hello(const Message& m);
  void link_wait(const Message& m);
  void link_post(const Message& m);
  void blob(const Message& m);
  void call_join(const Message& m);
  void welcome(std::uint32_t req, std::uint32_t account, const Bytes& code);
  void send(const Message& m);
  void reply(Kind kind, std::uint32_t req, std::uint32_t number = 0) {
    Message m;
    m.kind = kind;
    m.req = req;
    m.number = number;
    send(m);
  }
  void error(std::uint32_t req, const std::string& reason) {
    Message m;
    m.kind = Kind::kError;
    m.req = req;
    m.name = reason;
    send(m);
  }
  std::string who() const {
    return "conn " + std::to_string(id_) +
           (handle_.empty() ? "" : " (" + device_name(handle_, device_) + ")");
  }

  Relay& relay_;
  std::uint64_t id_;
  std::shared_ptr<Connection> conn_;
  asio::steady_timer hello_timer_;
  asio::steady_timer idle_timer_;
  Clock::time_point last_heard_ = Clock::now();
  std::string handle_;
  std::uint32_t device_ = 0;
  std::uint64_t last_sent_ = 0;
  std::set<std::uint64_t> in_flight_;
  // LINK_WAIT: the mailbox this connection waits at, and the request to answer.
  std::optional<Bytes> mailbox_;
  std::uint32_t mailbox_req_ = 0;
};

class Relay {
 public:
  Relay(asio::io_context& io, const Options& options, RelayDb& db, Recorder& recorder)
      : io_(io),
        options_(options),
        db_(db),
        recorder_(recorder),
        acceptor_(io),
        retry_(io),
        udp_(io) {}

  std::uint16_t listen() {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    accept();
    const std::uint16_t port = acceptor_.local_endpoint().port();
    listen_udp(port);
    return port;
  }

  // ---- calls: the UDP media switch (sfu.h) ----

  // Call media: UDP on the TCP port's number. If another program holds that UDP port (with
  // --port 0 the TCP port is free, the UDP one need not be), the relay serves everything but
  // call media, and says so.
  void listen_udp(std::uint16_t port) {
    const asio::ip::udp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    asio::error_code ec;
    udp_.open(endpoint.protocol(), ec);
    if (!ec) udp_.bind(endpoint, ec);
    if (ec) {
      // (Said after the "listening" line, which comes first.)
      udp_problem_ =
          "relay: no call media: cannot listen on UDP 127.0.0.1:" + std::to_string(port) + ": " +
          ec.message();
      udp_.close(ec);
      return;
    }
    if (!options_.capture_udp.empty()) {
      capture_.reset(std::fopen(options_.capture_udp.c_str(), "ab"));
      if (!capture_) usage_error("cannot open --capture-udp " + options_.capture_udp);
    }
    receive_datagram();
  }

  void receive_datagram() {
    udp_.async_receive_from(asio::buffer(datagram_), udp_from_,
                            [this](const asio::error_code& ec, std::size_t n) {
                              if (ec == asio::error::operation_aborted || !udp_.is_open()) return;
                              if (!ec) forward_datagram(n);
                              receive_datagram();
                            });
  }

  void forward_datagram(std::size_t n) {
    if (!udp_from_.address().is_v4()) return;
    const Endpoint from{udp_from_.address().to_v4().to_uint(), udp_from_.port()};
    if (switch_.on_datagram(from, datagram_.data(), n, targets_) != SwitchVerdict::kForwarded)
      return;
    for (const Endpoint& to : targets_) {
      asio::error_code ignored;  // a lost datagram is just missing
      udp_.send_to(asio::buffer(datagram_.data(), n),
                   asio::ip::udp::endpoint(asio::ip::address_v4(to.address), to.port), 0, ignored);
      if (capture_) {
        const std::uint8_t len[4] = {0, 0, static_cast<std::uint8_t>(n >> 8),
                                     static_cast<std::uint8_t>(n)};
        std::fwrite(len, 1, 4, capture_.get());
        std::fwrite(datagram_.data(), 1, n, capture_.get());
        std::fflush(capture_.get());
      }
    }
  }

  CallSwitch& call_switch() { return switch_; }
  // Why there is no call media, if there is none.
  const std::string& udp_problem() const { return udp_problem_; }

  void stop() {
    asio::error_code ignored;
    acceptor_.close(ignored);
    udp_.close(ignored);
    retry_.cancel();
    for (auto& [id, s] : sessions_)
      s->close("relay stopping");
  }

  // The relay's own keys for `handle`, made once and kept in the database, and a device list
  // signed by them.
  void prepare_impostor(const std::string& handle) {
    const hush::Context ctx = hush::default_context();
    std::unique_ptr<hush::InMemoryProtocolStore> store;
    if (auto saved = db_.impostor(handle)) {
      auto restored = hush::InMemoryProtocolStore::deserialize(*saved);
      if (restored) store = std::move(*restored);
    }
    if (!store) {
      auto identity = hush::generate_identity_key_pair(ctx.random);
      auto registration_id = hush::generate_registration_id(ctx.random);
      if (!identity || !registration_id) usage_error("cannot make impostor keys");
      auto spk = hush::generate_signed_pre_key(ctx, *identity, hush::SignedPreKeyId{1});
      if (!spk) usage_error("cannot make impostor keys");
      store = std::make_unique<hush::InMemoryProtocolStore>(std::move(*identity), *registration_id);
      if (!store->store_signed_pre_key(*spk)) usage_error("cannot make impostor keys");
      const hush::SecretBytes snapshot = store->serialize();
      db_.set_impostor(handle, Bytes(snapshot.expose().begin(), snapshot.expose().end()));
    }
    auto identity = store->identity_key_pair();
    if (!identity) usage_error("cannot read the impostor keys");
    hush::DeviceList list;
    list.name = handle;
    list.identity = identity->public_key;
    list.version = 1;
    list.devices = {hush::DeviceId{1}};
    list.next_device_id = hush::DeviceId{2};
    auto signed_list = hush::SignedDeviceList::sign(ctx.random, std::move(list), *identity);
    if (!signed_list) usage_error("cannot sign the impostor's device list");
    const auto key = identity->public_key.serialize();
    impostors_[handle] = Impostor{std::move(store), signed_list->serialized()};
    log_line("relay: --impersonate " + handle + ": handing out the relay's own keys (identity " +
             hex(key.data(), key.size()) + ") to whoever fetches " + handle +
             "'s bundle or device list");
  }

  // The impostor's bundle for (handle, device), if the relay impersonates `handle`.
  std::optional<Bytes> impostor_bundle(const std::string& handle, std::uint32_t device) const {
    auto it = impostors_.find(handle);
    if (it == impostors_.end()) return std::nullopt;
    auto bundle = hush::make_bundle(*it->second.store, hush::DeviceId{device},
                                    hush::SignedPreKeyId{1}, std::nullopt);
    if (!bundle) return std::nullopt;
    return bundle->serialize();
  }
  const Bytes* impostor_list(const std::string& handle) const {
    auto it = impostors_.find(handle);
    return it == impostors_.end() ? nullptr : &it->second.list;
  }

  // `session` is now the one connection of its device; an older one is closed.
  void bind(const std::shared_ptr<Session>& session) {
    auto& slot = online_[DeviceKey{session->handle(), session->device()}];
    if (auto old = slot.lock(); old && old != session) old->close("replaced by a new connection");
    slot = session;
  }

  // Closes the connection of (handle, device), if there is one.
  void disconnect(const std::string& handle, std::uint32_t device, const std::string& why) {
    auto it = online_.find(DeviceKey{handle, device});
    if (it == online_.end()) return;
    if (auto s = it->second.lock()) s->close(why);
  }

  // Takes one of `requester`'s fetch tokens (a bucket of --fetch-burst, refilled one per
  // --fetch-interval seconds); false if none is left.
  bool take_fetch_token(const std::string& requester) {
    const auto now = Clock::now();
    const double burst = options_.fetch_burst;
    auto [it, fresh] = fetch_buckets_.try_emplace(requester, Bucket{burst, now});
    Bucket& b = it->second;
    const double refilled = std::chrono::duration<double>(now - b.last).count() /
                            static_cast<double>(options_.fetch_interval_seconds);
    b.tokens = std::min(burst, b.tokens + refilled);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  // Envelopes were queued for (handle, device): deliver them if it is connected.
  void notify(const std::string& handle, std::uint32_t device) {
    auto it = online_.find(DeviceKey{handle, device});
    if (it == online_.end()) return;
    if (auto s = it->second.lock()) s->pump();
  }

  // ---- link mailboxes ----

  enum class Wait { kWaiting, kDelivered, kBusy, kFull };
  // `session` waits at `mailbox`; a message posted there already is forwarded at once.
  Wait wait_at(const Bytes& mailbox, const std::shared_ptr<Session>& session) {
    expire_mailboxes();
    auto it = mailboxes_.find(mailbox);
    if (it == mailboxes_.end()) {
      if (mailboxes_.size() >= kMaxMailboxes) return Wait::kFull;
      mailboxes_[mailbox] = Mailbox{session, std::nullopt, {}, Clock::now() + mailbox_lifetime()};
      return Wait::kWaiting;
    }
    if (it->second.waiter.lock()) return Wait::kBusy;
    if (it->second.message) {
      const Bytes message = std::move(*it->second.message);
      mailboxes_.erase(it);
      session->link_message(message);
      return Wait::kDelivered;
    }
    it->second.waiter = session;
    return Wait::kWaiting;
  }

  enum class Post { kForwarded, kKept, kOccupied, kFull, kHandleFull };
  // A device of `poster` posts a link message to `mailbox`: forwarded to its waiter, or kept for
  // one until the mailbox expires.
  Post post_to(const Bytes& mailbox, const std::string& poster, const Bytes& message) {
    expire_mailboxes();
    auto it = mailboxes_.find(mailbox);
    if (it != mailboxes_.end()) {
      if (it->second.message) return Post::kOccupied;
      if (auto waiter = it->second.waiter.lock()) {
        mailboxes_.erase(it);
        waiter->link_message(message);
        return Post::kForwarded;
      }
      mailboxes_.erase(it);  // its waiter left
    }
    if (mailboxes_.size() >= kMaxMailboxes) return Post::kFull;
    const auto mine = std::count_if(mailboxes_.begin(), mailboxes_.end(),
                                    [&](const auto& m) { return m.second.poster == poster; });
    if (static_cast<std::size_t>(mine) >= kMaxMailboxesPerHandle) return Post::kHandleFull;
    mailboxes_[mailbox] = Mailbox{{}, message, poster, Clock::now() + mailbox_lifetime()};
    return Post::kKept;
  }

  static Clock::duration mailbox_lifetime() { return std::chrono::seconds(kMailboxSeconds); }

  void closed(const std::shared_ptr<Session>& session, const std::string& reason) {
    recorder_.event(session->id(), "close " + reason);
    log_line("relay: conn " + std::to_string(session->id()) +
             (session->handle().empty()
                  ? ""
                  : " (" + device_name(session->handle(), session->device()) + ")") +
             " closed: " + reason);
    if (!session->handle().empty()) {
      switch_.leave(device_name(session->handle(), session->device()));
      auto it = online_.find(DeviceKey{session->handle(), session->device()});
      if (it != online_.end() && it->second.lock() == session) online_.erase(it);
    }
    if (const auto& mailbox = session->waiting_at()) {
      auto it = mailboxes_.find(*mailbox);
      if (it != mailboxes_.end() && !it->second.message) mailboxes_.erase(it);
    }
    sessions_.erase(session->id());
  }

  asio::io_context& io() { return io_; }
  RelayDb& db() { return db_; }
  Recorder& recorder() { return recorder_; }
  const Options& options() const { return options_; }

 private:
  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {  // out of descriptors, say: try again a little later rather than spin
        log_line("relay: accept failed: " + ec.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const asio::error_code& e) {
          if (!e) accept();
        });
        return;
      }
      if (sessions_.size() >= kMaxConnections) {
        asio::error_code ignored;
        socket.close(ignored);
        log_line("relay: connection refused: too many connections");
      } else {
        const std::uint64_t id = ++next_id_;
        auto conn = std::make_shared<Connection>(std::move(socket), kMaxBacklog);
        recorder_.event(id, "open " + conn->peer());
        auto session = std::make_shared<Session>(*this, id, conn);
        sessions_[id] = session;
        session->start();
      }
      accept();
    });
  }

  // Forgets the mailboxes past their lifetime (their waiters' own timers close those).
  void expire_mailboxes() {
    const auto now = Clock::now();
    for (auto it = mailboxes_.begin(); it != mailboxes_.end();) {
      if (it->second.expires <= now) {
        it = mailboxes_.erase(it);
      } else {
        ++it;
      }
    }
  }

  struct Impostor {
    std::unique_ptr<hush::InMemoryProtocolStore> store;
    Bytes list;
  };
  struct Mailbox {
    std::weak_ptr<Session> waiter;
    std::optional<Bytes> message;  // posted, waiting for its device
    std::string poster;            // the handle that posted it
    Clock::time_point expires;
  };

  asio::io_context& io_;
  const Options& options_;
  RelayDb& db_;
  Recorder& recorder_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;
  std::map<DeviceKey, std::weak_ptr<Session>> online_;
  std::map<std::string, Impostor> impostors_;
  std::map<Bytes, Mailbox> mailboxes_;  // at most kMaxMailboxes
  // Per handle (so at most kMaxAccounts), in memory: a restart refills every bucket.
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  std::map<std::string, Bucket> fetch_buckets_;
  // Calls (sfu.h).
  asio::ip::udp::socket udp_;
  CallSwitch switch_;
  std::array<std::uint8_t, kMaxDatagramBytes + 1> datagram_{};  // one more: too long is seen
  asio::ip::udp::endpoint udp_from_;
  std::vector<Endpoint> targets_;
  std::string udp_problem_;
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> capture_;
};

asio::io_context& Session::relay_io() {
  return relay_.io();
}

void Session::start() {
  std::weak_ptr<Session> weak = shared_from_this();
  conn_->start(
      [weak](Bytes payload) {
        if (auto s = weak.lock()) s->on_frame(payload);
      },
      [weak](const std::string& reason) {
        if (auto s = weak.lock()) {
          s->stop_timers();
          s->relay_.closed(s, reason);
        }
      });
  hello_timer_.expires_after(kHelloTimeout);
  hello_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec && s->handle_.empty()) s->close("no HELLO in time");
  });
  const std::uint32_t idle = relay_.options().idle_timeout_seconds;
  if (idle > 0) watch_idle(std::chrono::seconds(idle));
}

// Wakes when the connection may have been silent for the idle timeout: closes it if it was, else
// sleeps until it might be (every frame received moves last_heard_).
void Session::watch_idle(Clock::duration wait) {
  std::weak_ptr<Session> weak = shared_from_this();
  idle_timer_.expires_after(wait);
  idle_timer_.async_wait([weak](const asio::error_code& ec) {
    auto s = weak.lock();
    if (!s || ec || !s->conn_->is_open()) return;
    const auto idle = std::chrono::seconds(s->relay_.options().idle_timeout_seconds);
    const auto quiet = Clock::now() - s->last_heard_;
    if (quiet >= idle) {
      s->close("idle for " + std::to_string(idle.count()) + " s");
      return;
    }
    s->watch_idle(idle - quiet);
  });
}

void Session::welcome(std::uint32_t req, std::uint32_t account, const Bytes& code) {
  Message m;
  m.kind = Kind::kWelcome;
  m.req = req;
  m.number = account;
  m.idle_seconds = relay_.options().idle_timeout_seconds;
  m.code = code;
  send(m);
}

void Session::send(const Message& m) {
  const Bytes payload = encode(m);
  relay_.recorder().frame(id_, false, payload);
  conn_->send(payload);
}

void Session::link_message(const Bytes& message) {
  Message m;
  m.kind = Kind::kLinkMessage;
  m.req = mailbox_req_;
  m.body = message;
  log_line("relay: " + who() + ": link message (" + std::to_string(message.size()) +
           " bytes) forwarded and forgotten");
  send(m);
  mailbox_.reset();
  // It may say HELLO as its new device now; until then the usual HELLO timeout runs.
  std::weak_ptr<Session> weak = shared_from_this();
  hello_timer_.expires_after(kHelloTimeout);
  hello_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec && s->handle_.empty()) s->close("no HELLO in time");
  });
}

void Session::on_frame(const Bytes& payload) {
  relay_.recorder().frame(id_, true, payload);
  last_heard_ = Clock::now();
  auto m = decode(payload);
  if (!m || !from_client(m->kind)) {
    close("malformed frame");
    return;
  }
  // Handles are compared without regard to case: one canonical form for registration and lookup
  // alike ("Bob" registers, and finds, bob).
  m->name = normalize_handle(m->name);
  if (handle_.empty() && m->kind != Kind::kHello && m->kind != Kind::kRecover &&
      m->kind != Kind::kLinkWait && !(m->kind == Kind::kPing && mailbox_)) {
    close("request before HELLO");
    return;
  }
  try {
    dispatch(*m);
  } catch (const DbError& e) {
    log_line("relay: database error: " + std::string(e.what()));
    if (m->kind != Kind::kAck) error(m->req, "relay_failure");
  }
}

void Session::hello(const Message& m) {
  RelayDb& db = relay_.db();
  if (!handle_.empty() || mailbox_) {
    close("second HELLO");
    return;
  }
  if (!valid_handle(m.name)) {
    error(m.req, "invalid_handle");
    conn_->close_after_writes("invalid handle");
    return;
  }
  if (m.kind == Kind::kRecover) {
    if (m.code.size() != kRecoveryCodeBytes) {
      close("malformed frame");
      return;
    }
    const auto r = db.recover(m.name, m.body, m.code);
    if (r.result != RelayDb::Recovery::kRecovered) {
      const bool unknown = r.result == RelayDb::Recovery::kUnknownHandle;
      log_line("relay: " + who() + ": RECOVER " + m.name +
               " refused: " + (unknown ? "no such handle" : "wrong recovery code"));
      error(m.req, unknown ? "unknown_handle" : "wrong_recovery_code");
      // One guess per connection. (160 random bits need no more than that against guessing.)
      conn_->close_after_writes(unknown ? "unknown handle" : "wrong recovery code");
      return;
    }
    handle_ = m.name;
    device_ = 1;
    hello_timer_.cancel();
    relay_.bind(shared_from_this());  // closes the lost device's connection, if it has one
    for (std::uint32_t d : r.removed)
      relay_.disconnect(handle_, d, "its handle was recovered");
    log_line("relay: " + who() + ": recovered " + handle_ +
             ": new token and recovery code; its keys and prekeys dropped, " +
             std::to_string(r.removed.size()) + " other devices removed, " +
             std::to_string(r.kept) + " queued envelopes kept");
    welcome(m.req, 2, r.recovery_code);
    pump();
    return;
  }
  const auto hello = db.hello(m.name, m.device, m.body);
  const auto account = hello.account;
  if (account != RelayDb::Account::kNew && account != RelayDb::Account::kKnown) {
    std::string why = "the handle belongs to another client";
    std::string reason = "handle_taken";
    std::string closing = "handle taken";
    if (account == RelayDb::Account::kFull) {
      why = closing = "too many accounts";
      reason = "relay_full";
    } else if (account == RelayDb::Account::kUnknownDevice) {
      why = closing = "no such device";
      reason = "unknown_device";
    } else if (m.device != 1) {
      why = closing = "wrong token";
      reason = "wrong_token";
    }
    log_line("relay: " + who() + ": HELLO " + device_name(m.name, m.device) + " refused: " + why);
    error(m.req, reason);
    conn_->close_after_writes(closing);
    return;
  }
  handle_ = m.name;
  device_ = m.device;
  hello_timer_.cancel();
  relay_.bind(shared_from_this());
  const bool is_new = account == RelayDb::Account::kNew;
  log_line("relay: " + who() + ": " + (is_new ? "registered " : "connected ") +
           device_name(handle_, device_));
  welcome(m.req, is_new ? 1 : 0, hello.recovery_code);
  pump();
}

void Session::link_wait(const Message& m) {
  if (!handle_.empty() || mailbox_) {
    close("LINK_WAIT after HELLO or LINK_WAIT");
    return;
  }
  mailbox_ = m.mailbox;
  mailbox_req_ = m.req;
  hello_timer_.cancel();
  const auto waiting = relay_.wait_at(m.mailbox, shared_from_this());
  switch (waiting) {
    case Relay::Wait::kFull:
    case Relay::Wait::kBusy: {
      const bool busy = waiting == Relay::Wait::kBusy;
      mailbox_.reset();
      log_line("relay: " + who() + ": LINK_WAIT refused: " +
               (busy ? "someone waits at that mailbox" : "too many mailboxes"));
      error(m.req, busy ? "mailbox_busy" : "relay_busy");
      conn_->close_after_writes(busy ? "mailbox busy" : "too many mailboxes");
      return;
    }
    case Relay::Wait::kDelivered:
      return;  // link_message() said so
    case Relay::Wait::kWaiting:
      break;
  }
  log_line("relay: " + who() + ": waiting at a link mailbox (for at most " +
           std::to_string(kMailboxSeconds) + " s)");
  welcome(m.req, 3, {});
  std::weak_ptr<Session> weak = shared_from_this();
  hello_timer_.expires_after(Relay::mailbox_lifetime());
  hello_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec && s->mailbox_) s->close("link timed out");
  });
}

void Session::link_post(const Message& m) {
  const char* reason = nullptr;
  switch (relay_.post_to(m.mailbox, handle_, m.body)) {
    case Relay::Post::kForwarded:
      log_line("relay: " + who() + ": link message (" + std::to_string(m.body.size()) +
               " bytes) posted to a waiting device");
      reply(Kind::kOk, m.req);
      return;
    case Relay::Post::kKept:
      log_line("relay: " + who() + ": link message (" + std::to_string(m.body.size()) +
               " bytes) kept until its device comes (at most " + std::to_string(kMailboxSeconds) +
               " s)");
      reply(Kind::kOk, m.req);
      return;
    case Relay::Post::kOccupied:
      reason = "mailbox_busy";
      break;
    case Relay::Post::kFull:
      reason = "relay_busy";
      break;
    case Relay::Post::kHandleFull:
      reason = "too_many_links";
      break;
  }
  log_line("relay: " + who() + ": LINK_POST refused: " + reason);
  error(m.req, reason);
}

// Blobs: attachments' ciphertext (relay_db.h). The relay picks the id (16 random bytes, in hex),
// takes the announced size in order from the uploading device, and serves a finished blob to any
// device that names its id (an id is unguessable; whoever it was sent to, end to end, knows it).
void Session::blob(const Message& m) {
  RelayDb& db = relay_.db();
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  if (m.kind == Kind::kBlobPut) {
    if (m.id == 0) {  // (hush's blobs are never empty: a header and a tag at least)
      error(m.req, "invalid_blob_size");
      return;
    }
    if (m.id > relay_.options().max_blob_bytes) {
      log_line("relay: " + who() + ": BLOB_PUT of " + std::to_string(m.id) +
               " bytes refused: over the blob limit");
      error(m.req, "blob_too_large");
      return;
    }
    Bytes raw(kBlobIdChars / 2);
    if (!hush::system_random().fill(raw)) {
      error(m.req, "relay_failure");
      return;
    }
    const std::string id = hex(raw.data(), raw.size());
    if (db.blob_begin(handle_, device_, id, m.id, now, relay_.options().blob_policy) ==
        RelayDb::BlobBegin::kFull) {
      log_line("relay: " + who() + ": BLOB_PUT refused: too many blobs");
      error(m.req, "blob_store_full");
      return;
    }
    Message r;
    r.kind = Kind::kBlobId;
    r.req = m.req;
    r.name = id;
    send(r);
    return;
  }
  if (!valid_blob_id(m.name)) {
    error(m.req, "unknown_blob");
    return;
  }
  if (m.kind == Kind::kBlobDelete) {
    if (!db.blob_delete(handle_, m.name)) {
      error(m.req, "unknown_blob");  // (none, or another handle's: the same answer)
      return;
    }
    log_line("relay: " + who() + ": blob " + m.name + " deleted by its uploader");
    reply(Kind::kOk, m.req);
    return;
  }
  if (m.kind == Kind::kBlobChunk) {
    switch (db.blob_append(handle_, device_, m.name, m.body, now)) {
      case RelayDb::BlobAppend::kAppended:
        reply(Kind::kOk, m.req);
        return;
      case RelayDb::BlobAppend::kCompleted:
        log_line("relay: " + who() + ": blob " + m.name + " stored");
        reply(Kind::kOk, m.req);
        return;
      case RelayDb::BlobAppend::kUnknown:
        error(m.req, "unknown_blob");
        return;
      case RelayDb::BlobAppend::kComplete:
        error(m.req, "blob_complete");
        return;
      case RelayDb::BlobAppend::kInvalidChunk:
        error(m.req, "invalid_blob_chunk");
        return;
    }
    return;
  }
  Bytes data;
  switch (db.blob_read(m.name, m.id, kBlobChunkBytes, &data)) {
    case RelayDb::BlobRead::kOk:
      break;
    case RelayDb::BlobRead::kUnknown:
      error(m.req, "unknown_blob");
      return;
    case RelayDb::BlobRead::kIncomplete:
      error(m.req, "blob_incomplete");
      return;
    case RelayDb::BlobRead::kBadOffset:
      error(m.req, "invalid_blob_offset");
      return;
  }
  if (m.id == 0) log_line("relay: " + who() + ": fetching blob " + m.name);
  Message r;
  r.kind = Kind::kBlobData;
  r.req = m.req;
  r.body = std::move(data);
  send(r);
}

// Calls: a token for the call's UDP media (sfu.h), bound to this device.
void Session::call_join(const Message& m) {
  if (handle_.empty()) return error(m.req, "hello_first");
  CallKey call{};
  std::copy(m.mailbox.begin(), m.mailbox.end(), call.begin());
  auto token = relay_.call_switch().grant(device_name(handle_, device_), call);
  if (!token) return error(m.req, "call_full");
  Message r;
  r.kind = Kind::kCallToken;
  r.req = m.req;
  r.body.assign(token->begin(), token->end());
  send(r);
}

void Session::dispatch(const Message& m) {
  RelayDb& db = relay_.db();
  switch (m.kind) {
    case Kind::kHello:
    case Kind::kRecover:
      hello(m);
      return;
    case Kind::kLinkWait:
      link_wait(m);
      return;
    case Kind::kLinkPost:
      link_post(m);
      return;
    case Kind::kBlobPut:
    case Kind::kBlobChunk:
    case Kind::kBlobGet:
    case Kind::kBlobDelete:
      blob(m);
      return;
    case Kind::kCallJoin:
      call_join(m);
      return;
    case Kind::kPublish: {
      auto keys = hush::PublishedKeys::parse(m.body);
      if (!keys) {
        error(m.req, std::string(hush::to_string(keys.error().code())));
        return;
      }
      if (hush::to_uint(keys->device_id) != device_) {
        error(m.req, "wrong_device");
        return;
      }
      const auto r = db.publish(handle_, device_, *keys);
      if (!r.accepted) {
        log_line("relay: " + who() + ": publish refused: another identity than the handle's");
        error(m.req, "identity_locked");
        return;
      }
      log_line("relay: " + who() + ": published keys (+" + std::to_string(r.added) +
               " one-time prekeys, +" + std::to_string(r.kyber_added) + " one-time Kyber prekeys" +
               (keys->last_resort_kyber_pre_key ? ", a last-resort Kyber prekey" : "") + "; " +
               std::to_string(r.replaced) + " repeated, " + std::to_string(r.spent) +
               " already handed out, " + std::to_string(r.over) + " over the limit)");
      reply(Kind::kOk, m.req);
      return;
    }
    case Kind::kCount: {
      Message counts;
      counts.kind = Kind::kCountIs;
      counts.req = m.req;
      counts.number = db.count_pre_keys(handle_, device_);
      counts.kyber_count = db.count_kyber_pre_keys(handle_, device_);
      send(counts);
      return;
    }
    case Kind::kPing:
      reply(Kind::kOk, m.req);
      return;
    case Kind::kFetch: {
      if (!valid_handle(m.name)) {
        error(m.req, "invalid_handle");
        return;
      }
      if (!relay_.take_fetch_token(handle_)) {
        log_line("relay: " + who() + ": FETCH " + device_name(m.name, m.device) +
                 " refused: too many bundle requests");
        error(m.req, "rate_limited");
        return;
      }
      Message out;
      out.kind = Kind::kBundle;
      out.req = m.req;
      // (The impostor lies to everyone but the handle itself, which would notice its own keys
      // missing.)
      std::optional<Bytes> fake;
      if (m.name != handle_) fake = relay_.impostor_bundle(m.name, m.device);
      if (fake) {
        log_line("relay: " + who() + ": FETCH " + device_name(m.name, m.device) +
                 " -> the relay's OWN bundle (--impersonate " + m.name + ")");
        out.body = std::move(*fake);
      } else if (auto bundle = db.fetch_bundle(m.name, m.device)) {
        log_line("relay: " + who() + ": FETCH " + device_name(m.name, m.device) + " -> its bundle");
        out.body = std::move(*bundle);
      } else {
        error(m.req, db.has_device(m.name, m.device) ? "no_keys" : "unknown_handle");
        return;
      }
      send(out);
      return;
    }
    case Kind::kPublishList: {
      auto list = hush::SignedDeviceList::parse(m.body);
      if (!list) {
        error(m.req, std::string(hush::to_string(list.error().code())));
        return;
      }
      if (list->list().name != handle_) {
        error(m.req, "wrong_handle");
        return;
      }
      switch (db.publish_list(handle_, *list)) {
        case RelayDb::ListResult::kIdentityLocked:
          log_line("relay: " + who() + ": device list refused: another identity than the handle's");
          error(m.req, "identity_locked");
          return;
        case RelayDb::ListResult::kStale:
          log_line("relay: " + who() + ": device list refused: not newer than the one held");
          error(m.req, "stale_device_list");
          return;
        case RelayDb::ListResult::kAccepted:
          break;
      }
      std::string devices;
      for (hush::DeviceId d : list->list().devices)
        devices += (devices.empty() ? "" : ",") + std::to_string(hush::to_uint(d));
      log_line("relay: " + who() + ": device list of " + handle_ + " version " +
               std::to_string(list->list().version) + ": devices " + devices);
      reply(Kind::kOk, m.req);
      return;
    }
    case Kind::kFetchList: {
      if (!valid_handle(m.name)) {
        error(m.req, "invalid_handle");
        return;
      }
      Message out;
      out.kind = Kind::kList;
      out.req = m.req;
      if (const Bytes* fake = m.name != handle_ ? relay_.impostor_list(m.name) : nullptr) {
        log_line("relay: " + who() + ": FETCH_LIST " + m.name +
                 " -> the relay's OWN list (--impersonate " + m.name + ")");
        out.body = *fake;
      } else if (auto list = db.device_list(m.name)) {
        out.body = std::move(*list);
      }
      send(out);
      return;
    }
    case Kind::kAddDevice: {
      switch (db.add_device(handle_, m.device, m.body)) {
        case RelayDb::AddDevice::kAdded:
          log_line("relay: " + who() + ": added device " + device_name(handle_, m.device));
          reply(Kind::kOk, m.req);
          return;
        case RelayDb::AddDevice::kNotListed:
          error(m.req, "not_listed");
          return;
        case RelayDb::AddDevice::kExists:
          error(m.req, "device_exists");
          return;
        case RelayDb::AddDevice::kFull:
          error(m.req, "too_many_devices");
          return;
      }
      return;
    }
    case Kind::kRemoveDevice: {
      if (m.device == device_) {
        error(m.req, "own_device");
        return;
      }
      switch (db.remove_device(handle_, m.device)) {
        case RelayDb::RemoveDevice::kRemoved:
          log_line("relay: " + who() + ": removed device " + device_name(handle_, m.device) +
                   ": token revoked, keys and queue dropped");
          relay_.disconnect(handle_, m.device, "device removed");
          reply(Kind::kOk, m.req);
          return;
        case RelayDb::RemoveDevice::kStillListed:
          error(m.req, "still_listed");
          return;
        case RelayDb::RemoveDevice::kUnknown:
          error(m.req, "unknown_device");
          return;
      }
      return;
    }
    case Kind::kSend: {
      if (!valid_handle(m.name) || !db.has_device(m.name, m.device)) {
        error(m.req, "unknown_device");
        return;
      }
      if (m.body.empty()) {
        error(m.req, "empty_envelope");
        return;
      }
      std::uint64_t id = 0;
      const std::string to = device_name(m.name, m.device);
      switch (db.enqueue(m.name, m.device, handle_, device_, m.body, relay_.options().queue, &id)) {
        case RelayDb::Enqueue::kQueueFull:
          log_line("relay: " + who() + ": envelope for " + to + " refused: queue full");
          error(m.req, "queue_full");
          return;
        case RelayDb::Enqueue::kSenderShareFull:
          log_line("relay: " + who() + ": envelope for " + to +
                   " refused: the sender's share of the queue is full");
          error(m.req, "sender_share_full");
          return;
        case RelayDb::Enqueue::kOk:
          break;
      }
      log_line("relay: " + who() + ": envelope #" + std::to_string(id) + " for " + to + " (" +
               std::to_string(m.body.size()) + " bytes) queued");
      reply(Kind::kOk, m.req);
      relay_.notify(m.name, m.device);
      return;
    }
    case Kind::kAck:
      if (in_flight_.erase(m.id) == 1) {
        if (db.ack(handle_, device_, m.id))
          log_line("relay: " + who() + ": envelope #" + std::to_string(m.id) + " delivered");
        pump();
      }
      return;
    default:
      close("unexpected message");
      return;
  }
}

void Session::pump() {
  if (handle_.empty()) return;
  try {
    while (conn_->is_open() && in_flight_.size() < kWindow) {
      auto batch = relay_.db().pending(handle_, device_, last_sent_, kWindow - in_flight_.size());
      if (batch.empty()) return;
      for (auto& p : batch) {
        Message m;
        m.kind = Kind::kDeliver;
        m.id = p.id;
        m.name = std::move(p.sender);
        m.device = p.sender_device;
        m.body = std::move(p.envelope);
        send(m);
        in_flight_.insert(p.id);
        last_sent_ = p.id;
      }
    }
  } catch (const DbError& e) {
    log_line("relay: database error: " + std::string(e.what()));
  }
}

int run(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  std::unique_ptr<RelayDb> db;
  try {
    db = RelayDb::open(options.db, options.dump);
  } catch (const DbError& e) {
    std::fprintf(stderr, "hush-relay: %s\n", e.what());
    return 1;
  }
  if (options.dump) {
    db->dump(stdout);
    return 0;
  }
  try {  // (and at every upload: blob_begin)
    db->blob_expire(static_cast<std::uint64_t>(std::time(nullptr)), options.blob_policy);
  } catch (const DbError& e) {
    std::fprintf(stderr, "hush-relay: %s\n", e.what());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  Recorder recorder(options.record);
  asio::io_context io;
  Relay relay(io, options, *db, recorder);
  std::uint16_t port = 0;
  try {
    port = relay.listen();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "hush-relay: cannot listen on 127.0.0.1:%u: %s\n", options.port, e.what());
    return 1;
  }
  log_line("listening 127.0.0.1:" + std::to_string(port));
  if (!relay.udp_problem().empty()) log_line(relay.udp_problem());
  for (const std::string& h : options.impersonate)
    relay.prepare_impostor(h);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (ec) return;
    log_line("relay: stopping");
    relay.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace
}  // namespace hush_chat

int main(int argc, char** argv) {
  try {
    return hush_chat::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-relay: %s\n", e.what());
    return 1;
  }
}

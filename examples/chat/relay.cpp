// hush-relay: the server of the chat example. It stores the keys clients publish, hands out one
// bundle (with one one-time prekey) per fetch, queues envelopes per recipient in SQLite and
// forwards them to the recipient while it is connected (and again when it reconnects, until it
// acknowledges them). It holds no user's private key and never sees a plaintext: what it stores
// and forwards are hush's public key formats and envelopes whose bodies are Signal messages.
//
// One thread, Asio. Everything from the network is untrusted: frames are bounded (frame.h), every
// field is checked, a client that breaks the protocol is disconnected, and the database bounds
// every queue (relay_db.h). A handle belongs to the first client that says HELLO with it: the
// client's random account token is recorded and required from then on. (That is the example's
// whole account system: no passwords, no TLS. It binds only 127.0.0.1.)
//
// --impersonate HANDLE makes the relay a man in the middle for that handle: whoever fetches
// HANDLE's bundle gets a bundle of the relay's own keys instead. It exists to demonstrate that
// hush detects this (see --help and tests/chat/).
//
// Output: the first line on stdout is `listening 127.0.0.1:PORT`; then one line per event.
// --record FILE appends every frame in and out, as `conn N in|out KIND LENGTH HEX`, for tests
// that check what crossed the wire.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

namespace hush_chat {
namespace {

constexpr std::string_view kUsage =
    R"(usage: hush-relay --db PATH [--port N] [--record FILE] [--impersonate HANDLE]...
       hush-relay --db PATH --dump

The relay of the hush chat example (hush-chat is the client). Listens on 127.0.0.1 only, port N
(0, the default, picks a free port). The first line on standard output is
`listening 127.0.0.1:PORT`; events follow, one per line. Stops on SIGINT or SIGTERM.

It stores published public keys and queued envelopes in the SQLite database PATH (created if
missing) and forwards envelopes to their recipients. It never holds a user's private key and never
sees a plaintext.

options:
  --db PATH              the relay's database
  --port N               the TCP port (default 0: any free port)
  --record FILE          append every frame received and sent to FILE (one line each:
                         `conn N in|out KIND LENGTH HEX`), to check what crossed the wire
  --impersonate HANDLE   FOR DEMONSTRATIONS AND TESTS ONLY: act as a man in the middle for HANDLE,
                         handing out a bundle of the relay's own keys (made once, kept in the
                         database) to anyone who fetches HANDLE's bundle. It exists to show that
                         hush detects this: a client that already knows HANDLE refuses to send
                         (untrusted_identity), and a new one sees a safety number that differs from
                         the one HANDLE sees. May be repeated.
  --dump                 print every table of the database (blobs in hex) and exit
)";

constexpr std::size_t kMaxConnections = 256;
constexpr std::size_t kMaxBacklog = std::size_t{8} << 20;
// Deliveries sent and not yet acknowledged, per connection.
constexpr std::size_t kWindow = 16;
constexpr auto kHelloTimeout = std::chrono::seconds(10);

struct Options {
  std::string db;
  std::uint16_t port = 0;
  std::string record;
  std::set<std::string> impersonate;
  bool dump = false;
};

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
    } else if (arg == "--impersonate") {
      const std::string h = value();
      if (!valid_handle(h)) usage_error("--impersonate: not a valid handle: " + h);
      o.impersonate.insert(h);
    } else if (arg == "--dump") {
      o.dump = true;
    } else {
      usage_error("unknown argument: " + std::string(arg));
    }
  }
  if (!have_db || o.db.empty()) usage_error("--db PATH is required");
  return o;
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
    std::fprintf(file_, "conn %llu %s %s %zu %s\n", static_cast<unsigned long long>(conn),
                 in ? "in" : "out", kind_name(payload.empty() ? 0 : payload[0]).data(),
                 payload.size(), hex(payload.data(), payload.size()).c_str());
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

// One client connection.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Relay& relay, std::uint64_t id, std::shared_ptr<Connection> conn)
      : relay_(relay), id_(id), conn_(std::move(conn)), hello_timer_(relay_io()) {}
  void start();
  void close(const std::string& reason) { conn_->close(reason); }
  // Sends what is queued for us, up to kWindow unacknowledged deliveries.
  void pump();
  const std::string& handle() const { return handle_; }
  std::uint64_t id() const { return id_; }

 private:
  asio::io_context& relay_io();
  void on_frame(const Bytes& payload);
  void dispatch(const Message& m);
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
    return "conn " + std::to_string(id_) + (handle_.empty() ? "" : " (" + handle_ + ")");
  }

  Relay& relay_;
  std::uint64_t id_;
  std::shared_ptr<Connection> conn_;
  asio::steady_timer hello_timer_;
  std::string handle_;
  std::uint64_t last_sent_ = 0;
  std::set<std::uint64_t> in_flight_;
};

class Relay {
 public:
  Relay(asio::io_context& io, const Options& options, RelayDb& db, Recorder& recorder)
      : io_(io), options_(options), db_(db), recorder_(recorder), acceptor_(io), retry_(io) {}

  std::uint16_t listen() {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    accept();
    return acceptor_.local_endpoint().port();
  }

  void stop() {
    asio::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    for (auto& [id, s] : sessions_)
      s->close("relay stopping");
  }

  // The bundle of the relay's own keys for `handle`, made once and kept in the database.
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
    auto bundle =
        hush::make_bundle(*store, hush::DeviceId{1}, hush::SignedPreKeyId{1}, std::nullopt);
    if (!bundle) usage_error("cannot make the impostor bundle");
    impostor_bundles_[handle] = bundle->serialize();
    const auto key = bundle->identity_key.serialize();
    log_line("relay: --impersonate " + handle + ": handing out the relay's own keys (identity " +
             hex(key.data(), key.size()) + ") to whoever fetches " + handle + "'s bundle");
  }

  const Bytes* impostor_bundle(const std::string& handle) const {
    auto it = impostor_bundles_.find(handle);
    return it == impostor_bundles_.end() ? nullptr : &it->second;
  }

  // `session` is now the one connection of its handle; an older one is closed.
  void bind(const std::shared_ptr<Session>& session) {
    auto& slot = online_[session->handle()];
    if (auto old = slot.lock(); old && old != session) old->close("replaced by a new connection");
    slot = session;
  }

  // Envelopes were queued for `handle`: deliver them if it is connected.
  void notify(const std::string& handle) {
    auto it = online_.find(handle);
    if (it == online_.end()) return;
    if (auto s = it->second.lock()) s->pump();
  }

  void closed(const std::shared_ptr<Session>& session, const std::string& reason) {
    recorder_.event(session->id(), "close " + reason);
    log_line("relay: conn " + std::to_string(session->id()) +
             (session->handle().empty() ? "" : " (" + session->handle() + ")") +
             " closed: " + reason);
    if (!session->handle().empty()) {
      auto it = online_.find(session->handle());
      if (it != online_.end() && it->second.lock() == session) online_.erase(it);
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

  asio::io_context& io_;
  const Options& options_;
  RelayDb& db_;
  Recorder& recorder_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;
  std::map<std::string, std::weak_ptr<Session>> online_;
  std::map<std::string, Bytes> impostor_bundles_;
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
          s->hello_timer_.cancel();
          s->relay_.closed(s, reason);
        }
      });
  hello_timer_.expires_after(kHelloTimeout);
  hello_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec && s->handle_.empty()) s->close("no HELLO in time");
  });
}

void Session::send(const Message& m) {
  const Bytes payload = encode(m);
  relay_.recorder().frame(id_, false, payload);
  conn_->send(payload);
}

void Session::on_frame(const Bytes& payload) {
  relay_.recorder().frame(id_, true, payload);
  const auto m = decode(payload);
  if (!m || !from_client(m->kind)) {
    close("malformed frame");
    return;
  }
  if (handle_.empty() && m->kind != Kind::kHello) {
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

void Session::dispatch(const Message& m) {
  RelayDb& db = relay_.db();
  switch (m.kind) {
    case Kind::kHello: {
      if (!handle_.empty()) {
        close("second HELLO");
        return;
      }
      if (!valid_handle(m.name)) {
        error(m.req, "invalid_handle");
        conn_->close_after_writes("invalid handle");
        return;
      }
      const auto account = db.hello(m.name, m.body);
      if (account == RelayDb::Account::kWrongToken || account == RelayDb::Account::kFull) {
        const bool taken = account == RelayDb::Account::kWrongToken;
        log_line("relay: " + who() + ": HELLO " + m.name + " refused: " +
                 (taken ? "the handle belongs to another client" : "too many accounts"));
        error(m.req, taken ? "handle_taken" : "relay_full");
        conn_->close_after_writes(taken ? "handle taken" : "relay full");
        return;
      }
      handle_ = m.name;
      hello_timer_.cancel();
      relay_.bind(shared_from_this());
      const bool is_new = account == RelayDb::Account::kNew;
      log_line("relay: " + who() + ": " + (is_new ? "registered " : "connected ") + handle_);
      reply(Kind::kWelcome, m.req, is_new ? 1 : 0);
      pump();
      return;
    }
    case Kind::kPublish: {
      auto keys = hush::PublishedKeys::parse(m.body);
      if (!keys) {
        error(m.req, std::string(hush::to_string(keys.error().code())));
        return;
      }
      const std::size_t added = db.publish(handle_, *keys);
      log_line("relay: " + who() + ": published keys (+" + std::to_string(added) +
               " one-time prekeys)");
      reply(Kind::kOk, m.req);
      return;
    }
    case Kind::kCount:
      reply(Kind::kCountIs, m.req, db.count_pre_keys(handle_));
      return;
    case Kind::kFetch: {
      if (!valid_handle(m.name)) {
        error(m.req, "invalid_handle");
        return;
      }
      Message out;
      out.kind = Kind::kBundle;
      out.req = m.req;
      if (const Bytes* fake = relay_.impostor_bundle(m.name)) {
        log_line("relay: " + who() + ": FETCH " + m.name +
                 " -> the relay's OWN bundle (--impersonate " + m.name + ")");
        out.body = *fake;
      } else if (auto bundle = db.fetch_bundle(m.name)) {
        log_line("relay: " + who() + ": FETCH " + m.name + " -> its bundle");
        out.body = std::move(*bundle);
      } else {
        error(m.req, "unknown_handle");
        return;
      }
      send(out);
      return;
    }
    case Kind::kSend: {
      if (!valid_handle(m.name) || !db.has_account(m.name)) {
        error(m.req, "unknown_handle");
        return;
      }
      if (m.body.empty()) {
        error(m.req, "empty_envelope");
        return;
      }
      std::uint64_t id = 0;
      if (db.enqueue(m.name, handle_, m.body, &id) == RelayDb::Enqueue::kQueueFull) {
        error(m.req, "queue_full");
        return;
      }
      log_line("relay: " + who() + ": envelope #" + std::to_string(id) + " for " + m.name + " (" +
               std::to_string(m.body.size()) + " bytes) queued");
      reply(Kind::kOk, m.req);
      relay_.notify(m.name);
      return;
    }
    case Kind::kAck:
      if (in_flight_.erase(m.id) == 1) {
        if (db.ack(handle_, m.id))
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
      auto batch = relay_.db().pending(handle_, last_sent_, kWindow - in_flight_.size());
      if (batch.empty()) return;
      for (auto& p : batch) {
        Message m;
        m.kind = Kind::kDeliver;
        m.id = p.id;
        m.name = std::move(p.sender);
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

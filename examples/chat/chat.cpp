// hush-chat: the client of the chat example, an interactive terminal chat over hush-relay, built
// on hush's public API alone (hush::Messenger, hush::SqliteStore).
//
// State: DIR/hush.db (hush::SqliteStore) holds our identity, prekeys, sessions and peers'
// identities, and in its application table our handle, our relay account token, the
// conversation log and the held messages (held.h). With HUSH_CHAT_STORAGE_KEY (64 hex digits) the
// database is sealed with that key (SqliteStoreOptions::storage_key): private keys, sessions and
// all of the application table (log included) are encrypted at rest. A received plaintext is
// written to the log inside the transaction that commits the session it advanced
// (ReceiveOptions::before_commit + put_app_data), and only then acknowledged to the relay: a crash
// can never lose a message (the relay delivers it again; the library answers duplicate_message; it
// is already in the log). A database found restored from an older copy (rollback_check) is
// reported at start: the library has restarted every session.
//
// The relay is untrusted: it carries envelopes and hands out bundles, and hush checks both. It
// names the sender of each delivery by the account it received the envelope from, and we pass
// that to the Messenger (ReceiveOptions::authenticated_name): an envelope that names somebody
// else is dropped unread (sender_mismatch), so no account can pose as another. An identity key
// that differs from the trusted one (a peer that reinstalled, or a relay in the middle) stops
// sending to that peer, is shown in a box with both keys and both safety numbers, and holds that
// peer's incoming messages, durably and bounded (held.h), until the user types /trust. A forged
// message (one that does not authenticate) is invalid_message: dropped, never held.
//
// Output lines (stable, for scripts and tests; colours only on a terminal):
//   * registered NAME at HOST:PORT | * connected to HOST:PORT as NAME
//   * recovered NAME at HOST:PORT   (--recover: the handle is ours again, under our new identity)
//   * recovery code for NAME: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX; write it down: ...
//   [me -> PEER] TEXT               a message we sent (the relay has it on disk)
//   [PEER] TEXT                     a message we received
//   * safety number with PEER: DDDDD DDDDD ... (12 groups of 5 digits)
//   !! ... WARNING: PEER's identity key has CHANGED ...   (a box of lines starting with "!!")
//   ! ...                           an error (e.g. "! message to bob not sent: untrusted_identity",
//                                   "! dropped a message from mallory: it names alice as its
//                                   sender (sender_mismatch)", "! another message from alice is
//                                   held until you /trust alice", "! this state was restored from
//                                   an older copy: ...")
// Exit status: 0; 1 usage, start-up or connection error; 2 a scripted command failed (the script
// went on); 3 a /wait timed out.
//
// Files: chat.cpp (this: commands, deliveries, the Messenger's transport and directory),
// held.{h,cpp} (held messages), net.{h,cpp} (the I/O thread, keepalive pings),
// terminal.{h,cpp} (line editing, output), frame.{h,cpp} (wire), connection.{h,cpp} (framed Asio
// connection).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hush/hush.h>

#include "frame.h"
#include "held.h"
#include "net.h"
#include "terminal.h"

namespace hush_chat {
namespace {

constexpr std::string_view kUsage =
    R"(usage: hush-chat --state DIR --relay HOST:PORT [--handle NAME] [--recover CODE]
                 [--script FILE] [--timeout S]

An end-to-end encrypted chat client (hush, Signal protocol v3) over hush-relay. The first start
with a new DIR creates DIR/hush.db with a new identity, registers NAME at the relay, shows NAME's
recovery code once, and publishes our keys; later starts reuse DIR (--handle may then be left out).

  --state DIR        our state directory (created if missing)
  --relay HOST:PORT  the relay (hush-relay prints its port)
  --handle NAME      our handle: 1 to 32 of A-Z a-z 0-9 _ . -
  --recover CODE     take NAME back after losing its state: with a new DIR, --handle NAME and the
                     recovery code shown when NAME was registered (or last recovered). The relay
                     then binds NAME to this DIR, forgets the old keys, and shows a new code; your
                     contacts see your new identity as an identity change.
  --script FILE      run the commands in FILE (one per line, # comments), then quit; without it,
                     commands come from standard input (edited on the terminal if it is one)
  --timeout S        how long to wait for the relay's replies (default 10 seconds)

environment:
  HUSH_CHAT_STORAGE_KEY  64 hex digits (a 32-byte key): DIR/hush.db is created sealed with it,
                     and must then always be opened with it (private keys, sessions, the
                     conversation log and held messages are encrypted at rest). Keep the key
                     somewhere else than DIR (a password manager, the OS keystore).

commands:
  /msg NAME TEXT     send TEXT to NAME (then plain lines go to NAME too)
  /verify NAME       show the safety number with NAME: compare it with NAME's, in person
  /trust NAME        accept NAME's new identity key after an identity change (compare first!)
  /history [N]       show the last N (default 20) messages of the conversation log
  /reset NAME        forget the session with NAME (NAME's identity stays trusted); the next
                     message fetches a new bundle. For demonstrations and tests.
  /wait N [S]        (scripts) wait until N messages have arrived since start (at most S
                     seconds, default 30)
  /sync              (scripts) show everything the relay has queued for us by now
  /help              this text
  /quit              leave (also Ctrl-D, Ctrl-C)
)";

constexpr std::string_view kHandleKey = "chat/handle";
constexpr std::string_view kTokenKey = "chat/token";
// Set once the relay has welcomed this state's account: --recover is for a new state only (a
// recovery drops the account's queued envelopes and keys).
constexpr std::string_view kRegisteredKey = "chat/registered";
constexpr std::string_view kLogNextKey = "chat/log/next";
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kMaintenanceInterval = std::chrono::hours(1);
constexpr auto kCloseTimeout = std::chrono::seconds(3);
constexpr std::size_t kMaxInputLine = std::size_t{80} << 10;

struct Options {
  std::string state;
  std::string host;
  std::string port;
  std::string handle;
  std::string script;
  std::optional<Bytes> recover;
  std::chrono::milliseconds timeout{10000};
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "hush-chat: %s\n(hush-chat --help for usage)\n", message.c_str());
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::string relay;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else if (arg == "--state") {
      o.state = value();
    } else if (arg == "--relay") {
      relay = value();
    } else if (arg == "--handle") {
      o.handle = value();
      if (!valid_handle(o.handle)) usage_error("--handle: 1 to 32 of A-Z a-z 0-9 _ . -");
    } else if (arg == "--recover") {
      o.recover = parse_recovery_code(value());
      if (!o.recover)
        usage_error("--recover: a recovery code is 32 of A-Z 2-7 (in groups, as it was shown)");
    } else if (arg == "--script") {
      o.script = value();
    } else if (arg == "--timeout") {
      const std::string v = value();
      char* end = nullptr;
      const long s = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || s < 1 || s > 3600)
        usage_error("--timeout: seconds, from 1 to 3600");
      o.timeout = std::chrono::seconds(s);
    } else {
      usage_error("unknown argument: " + std::string(arg));
    }
  }
  if (o.state.empty()) usage_error("--state DIR is required");
  if (o.recover && o.handle.empty()) usage_error("--recover needs --handle NAME");
  const auto colon = relay.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == relay.size())
    usage_error("--relay HOST:PORT is required");
  o.host = relay.substr(0, colon);
  o.port = relay.substr(colon + 1);
  if (!std::all_of(o.port.begin(), o.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      o.port.size() > 5)
    usage_error("--relay: the port must be a number");
  return o;
}

std::string code_name(const hush::Error& e) {
  return std::string(hush::to_string(e.code()));
}

std::string text_of(hush::ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

hush::Bytes u64_bytes(std::uint64_t v) {
  hush::Bytes out(8);
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  return out;
}

std::optional<std::uint64_t> read_u64(const hush::Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint8_t x : b)
    v = v << 8 | x;
  return v;
}

// "12345 67890 ..." : the 60 digits in 12 groups of five, as Signal shows them.
std::string grouped(const std::string& digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (!out.empty()) out += ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

std::string key_hex(const hush::PublicKey& key) {
  const auto bytes = key.serialize();
  return hush::to_hex(bytes);
}

std::vector<std::string> split_words(std::string_view s, std::size_t max_words) {
  // The first max_words-1 words, then the rest of the line (trimmed) as the last.
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size() && words.size() + 1 < max_words) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    if (i == s.size()) break;
    const std::size_t end = std::min(s.find(' ', i), s.size());
    words.emplace_back(s.substr(i, end - i));
    i = end;
  }
  while (i < s.size() && s[i] == ' ')
    ++i;
  if (i < s.size()) words.emplace_back(s.substr(i));
  return words;
}

// ---- the state directory ----

// Locks DIR (so that one hush-chat at a time uses it) and opens or creates DIR/hush.db.
class StateDir {
 public:
  explicit StateDir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      usage_error("cannot create '" + path + "': " + std::strerror(errno));
    fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) usage_error("cannot open '" + path + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      usage_error("'" + path + "' is in use by another hush-chat");
  }
  ~StateDir() { ::close(fd_); }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

 private:
  int fd_ = -1;
};

// HUSH_CHAT_STORAGE_KEY: the key DIR/hush.db is sealed with, if set. Our copy is wiped when done
// (the store keeps its own).
class StorageKey {
 public:
  StorageKey() {
    const char* hex = std::getenv("HUSH_CHAT_STORAGE_KEY");
    if (hex == nullptr || *hex == '\0') return;
    auto bytes = hush::from_hex(hex);
    if (!bytes || bytes->size() != 32) {
      if (bytes) hush::secure_wipe(*bytes);
      usage_error("HUSH_CHAT_STORAGE_KEY must be 64 hex digits (a 32-byte key)");
    }
    key_ = std::move(*bytes);
  }
  ~StorageKey() { hush::secure_wipe(key_); }
  StorageKey(const StorageKey&) = delete;
  StorageKey& operator=(const StorageKey&) = delete;
  bool set() const { return !key_.empty(); }
  hush::SqliteStoreOptions options() const {
    hush::SqliteStoreOptions o;
    o.storage_key = key_;
    return o;
  }

 private:
  hush::Bytes key_;
};

// What the relay's refusal reasons mean, for the user.
std::string describe_refusal(const std::string& reason) {
  if (reason == "rate_limited") return "the relay refused: too many bundle requests";
  if (reason == "queue_full") return "the relay refused: the recipient's mailbox is full";
  if (reason == "sender_share_full")
    return "the relay refused: too many of our messages already wait in the recipient's mailbox";
  if (reason == "identity_locked")
    return "the relay refused: another identity is published for our handle";
  if (reason == "wrong_recovery_code") return "the relay refused: wrong recovery code";
  return "the relay refused: " + printable(reason);
}

// ---- the conversation log (in the store's application table) ----
//
// chat/log/next: the number of entries (u64); chat/log/N: direction ('i' in, 'o' out), the
// peer's name length (one byte), the name, the text.

hush::Status log_append(hush::SqliteStore& store, char direction, const std::string& peer,
                        hush::ByteView text) {
  auto next = store.app_data(kLogNextKey);
  if (!next) return next.error();
  const std::uint64_t n = *next ? read_u64(**next).value_or(0) : 0;
  hush::Bytes entry;
  entry.push_back(static_cast<std::uint8_t>(direction));
  const std::size_t len = std::min<std::size_t>(peer.size(), 255);
  entry.push_back(static_cast<std::uint8_t>(len));
  entry.insert(entry.end(), peer.begin(), peer.begin() + static_cast<std::ptrdiff_t>(len));
  entry.insert(entry.end(), text.begin(), text.end());
  if (auto st = store.put_app_data("chat/log/" + std::to_string(n), entry); !st) return st;
  return store.put_app_data(kLogNextKey, u64_bytes(n + 1));
}

// ---- the client ----

class Client;

// The Messenger's transport and key directory: requests to the relay.
class RelayLink final : public hush::Transport, public hush::KeyDirectory {
 public:
  explicit RelayLink(Client& client) : client_(client) {}
  hush::Status send(const hush::Address& recipient, hush::ByteView envelope) override;
  hush::Status publish(const hush::Address& self, const hush::PublishedKeys& keys) override;
  hush::Result<std::uint32_t> available_pre_keys(const hush::Address& self) override;
  hush::Result<hush::PreKeyBundle> fetch(const hush::Address& remote) override;

 private:
  Client& client_;
};

class Client {
 public:
  explicit Client(Options options)
      : options_(std::move(options)),
        term_(options_.script.empty() && ::isatty(STDIN_FILENO)),
        net_(events_),
        ctx_(hush::default_context()),
        link_(*this) {}

  int run();
  // Sends a request and waits for its reply (setting other events aside); a refusal is returned
  // as the kError reply, its reason also kept in last_refusal_.
  hush::Result<Message> request(Message m);

 private:
  // An envelope as the relay delivered it: its delivery id and the account it came from.
  struct Delivery {
    std::uint64_t id = 0;
    std::string from;
    Bytes envelope;
  };

  // Start-up.
  bool open_state();
  bool connect_to_relay(bool first);
  // Events.
  std::optional<Event> next_event(std::optional<Clock::time_point> deadline);
  void handle_event(Event ev);
  void handle_frame(const Bytes& payload);
  void on_disconnect(const std::string& why);
  void schedule_reconnect();
  void protocol_violation(const std::string& what);
  void take_input(const Bytes& data);
  // Deliveries.
  void on_deliver(std::uint64_t id, const std::string& from, const Bytes& envelope);
  void process(const Delivery& d);
  bool names_its_sender(const Delivery& d);
  void hold(const Delivery& d, bool first);
  void release_held(const std::string& peer, bool at_start);
  void show_message(const hush::ReceivedMessage& m);
  void ack(std::uint64_t id);
  // Commands.
  void execute(const std::string& line);
  bool cmd_msg(const std::string& to, const std::string& text);
  bool cmd_verify(const std::string& who);
  bool cmd_trust(const std::string& who);
  bool cmd_reset(const std::string& who);
  bool cmd_history(const std::string& count);
  bool cmd_wait(const std::vector<std::string>& args);
  bool cmd_sync();
  void show_identity_change(const hush::IdentityChangeEvent& change, bool incoming);
  void quit();
  // Output.
  void info(const std::string& s) { term_.print("* " + s, Terminal::Style::kInfo); }
  void error(const std::string& s) { term_.print("! " + s, Terminal::Style::kError); }

  Options options_;
  Terminal term_;
  EventQueue events_;
  Net net_;
  hush::Context ctx_;
  RelayLink link_;
  std::unique_ptr<StateDir> dir_;
  std::unique_ptr<hush::SqliteStore> store_;
  std::unique_ptr<hush::Messenger> messenger_;
  std::string handle_;
  Bytes token_;

  std::uint64_t generation_ = 0;
  bool connected_ = false;
  std::uint64_t disconnect_handled_ = 0;
  std::uint32_t next_req_ = 0;
  std::string last_refusal_;      // why the last request failed, for the user
  std::string last_error_code_;   // the relay's reason, if it answered kError
  bool recover_pending_ = false;  // --recover: the first connection says kRecover, not kHello
  bool registered_ = false;       // the relay has welcomed this state's account (kRegisteredKey)
  std::deque<Event> deferred_;

  std::deque<std::string> lines_;
  std::string input_;
  bool input_ended_ = false;
  bool quit_ = false;
  int exit_code_ = 0;
  std::uint64_t received_ = 0;    // messages read
  std::uint64_t deliveries_ = 0;  // envelopes the relay delivered
  std::string current_peer_;
  std::unique_ptr<HeldMessages> held_;
  Clock::time_point next_maintenance_{};
  std::optional<Clock::time_point> reconnect_at_;
  std::chrono::seconds backoff_{1};
};

// ---- RelayLink ----

hush::Status RelayLink::send(const hush::Address& recipient, hush::ByteView envelope) {
  Message m;
  m.kind = Kind::kSend;
  m.name = recipient.name;
  m.body.assign(envelope.begin(), envelope.end());
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kOk) return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::ok_status();
}

hush::Status RelayLink::publish(const hush::Address&, const hush::PublishedKeys& keys) {
  Message m;
  m.kind = Kind::kPublish;
  m.body = keys.serialize();
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kOk) return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::ok_status();
}

hush::Result<std::uint32_t> RelayLink::available_pre_keys(const hush::Address&) {
  Message m;
  m.kind = Kind::kCount;
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind != Kind::kCountIs)
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return reply->number;
}

hush::Result<hush::PreKeyBundle> RelayLink::fetch(const hush::Address& remote) {
  Message m;
  m.kind = Kind::kFetch;
  m.name = remote.name;
  auto reply = client_.request(std::move(m));
  if (!reply) return reply.error();
  if (reply->kind == Kind::kError && reply->name == "unknown_handle")
    return hush::Error(hush::Errc::kNoSession, "relay: unknown handle");
  // (rate_limited and the rest: transport_failure, with the reason in last_refusal_.)
  if (reply->kind != Kind::kBundle)
    return hush::Error(hush::Errc::kTransportFailure, "relay: refused");
  return hush::PreKeyBundle::parse(reply->body);  // untrusted: checked by the library
}

// ---- requests and events ----

hush::Result<Message> Client::request(Message m) {
  last_refusal_.clear();
  last_error_code_.clear();
  if (!connected_) {
    last_refusal_ = "not connected to the relay";
    return hush::Error(hush::Errc::kTransportFailure, "relay: not connected");
  }
  m.req = ++next_req_;
  const Kind asked = m.kind;
  net_.send(generation_, encode(m));
  const auto deadline = Clock::now() + options_.timeout;
  for (;;) {
    auto ev = events_.pop(deadline);
    if (!ev) {
      last_refusal_ = "the relay did not answer in time";
      return hush::Error(hush::Errc::kTransportFailure, "relay: no reply");
    }
    const bool current = ev->generation == generation_;
    if (ev->type == Event::Type::kFrame && current) {
      auto reply = decode(ev->data);
      if (!reply || from_client(reply->kind)) {
        protocol_violation("a malformed frame");
        return hush::Error(hush::Errc::kTransportFailure, "relay: protocol violation");
      }
      if (reply->kind == Kind::kDeliver) {
        deferred_.push_back(std::move(*ev));
        continue;
      }
      if (reply->req != m.req) continue;  // a late reply to a request that timed out
      if (reply->kind == Kind::kError) {
        last_error_code_ = reply->name;
        last_refusal_ = describe_refusal(reply->name);
        return *reply;
      }
      const bool expected =
          ((asked == Kind::kHello || asked == Kind::kRecover) && reply->kind == Kind::kWelcome) ||
          (asked == Kind::kCount && reply->kind == Kind::kCountIs) ||
          (asked == Kind::kFetch && reply->kind == Kind::kBundle) ||
          ((asked == Kind::kPublish || asked == Kind::kSend || asked == Kind::kPing) &&
           reply->kind == Kind::kOk);
      if (!expected) {
        protocol_violation("a reply of the wrong kind");
        return hush::Error(hush::Errc::kTransportFailure, "relay: protocol violation");
      }
      return *reply;
    }
    if (ev->type == Event::Type::kClosed && current) {
      connected_ = false;
      last_refusal_ = "lost the connection to the relay";
      deferred_.push_back(std::move(*ev));
      return hush::Error(hush::Errc::kTransportFailure, "relay: connection lost");
    }
    if (ev->type == Event::Type::kFrame || ev->type == Event::Type::kClosed ||
        ev->type == Event::Type::kConnected || ev->type == Event::Type::kConnectFailed)
      continue;  // an old connection's
    deferred_.push_back(std::move(*ev));
  }
}

std::optional<Event> Client::next_event(std::optional<Clock::time_point> deadline) {
  if (!deferred_.empty()) {
    Event e = std::move(deferred_.front());
    deferred_.pop_front();
    return e;
  }
  return events_.pop(deadline);
}

void Client::protocol_violation(const std::string& what) {
  error("the relay sent " + what + "; disconnecting");
  net_.close(generation_, false);
  connected_ = false;
}

void Client::handle_event(Event ev) {
  switch (ev.type) {
    case Event::Type::kFrame:
      if (ev.generation == generation_ && connected_) handle_frame(ev.data);
      return;
    case Event::Type::kClosed:
      if (ev.generation == generation_ && disconnect_handled_ != generation_) {
        disconnect_handled_ = generation_;
        connected_ = false;
        on_disconnect(ev.text);
      }
      return;
    case Event::Type::kInput:
      take_input(ev.data);
      return;
    case Event::Type::kInputEnd:
      if (!input_.empty()) lines_.push_back(std::move(input_));
      input_.clear();
      input_ended_ = true;
      return;
    case Event::Type::kSignal:
      quit_ = true;
      return;
    default:
      return;  // an old connection attempt's
  }
}

void Client::take_input(const Bytes& data) {
  if (term_.interactive()) {
    std::vector<std::string> lines;
    if (!term_.feed(data.data(), data.size(), lines)) quit_ = true;
    for (auto& l : lines)
      lines_.push_back(std::move(l));
    return;
  }
  input_.append(data.begin(), data.end());
  std::size_t nl = 0;
  while ((nl = input_.find('\n')) != std::string::npos) {
    std::string line = input_.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines_.push_back(std::move(line));
    input_.erase(0, nl + 1);
  }
  if (input_.size() > kMaxInputLine) {
    error("input line too long; ignored");
    input_.clear();
  }
}

void Client::handle_frame(const Bytes& payload) {
  auto m = decode(payload);
  if (!m || from_client(m->kind)) {
    protocol_violation("a malformed frame");
    return;
  }
  if (m->kind != Kind::kDeliver) return;  // a late reply to a request that timed out
  if (!valid_handle(m->name)) {
    protocol_violation("a delivery with an invalid sender");
    return;
  }
  on_deliver(m->id, m->name, m->body);
}

void Client::on_disconnect(const std::string& why) {
  error("lost the connection to the relay (" + printable(why) + ")");
  if (!term_.interactive()) {
    exit_code_ = 1;
    quit_ = true;
    return;
  }
  schedule_reconnect();
}

void Client::schedule_reconnect() {
  info("reconnecting in " + std::to_string(backoff_.count()) + " s; commands fail meanwhile");
  reconnect_at_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, std::chrono::seconds(30));
}

// ---- start-up ----

bool Client::open_state() {
  dir_ = std::make_unique<StateDir>(options_.state);
  const std::string path = options_.state + "/hush.db";
  const StorageKey key;  // (exits with a usage error if HUSH_CHAT_STORAGE_KEY is malformed)
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists) {
    auto store = hush::SqliteStore::open(path, key.options());
    if (!store) {
      std::string why;
      if (store.error().code() == hush::Errc::kWrongStorageKey)
        why = key.set() ? " (HUSH_CHAT_STORAGE_KEY is not the key it was sealed with)"
                        : " (it is sealed: set HUSH_CHAT_STORAGE_KEY to its key)";
      else if (store.error().code() == hush::Errc::kInvalidArgument && key.set())
        why = " (it is not sealed: unset HUSH_CHAT_STORAGE_KEY, or start a new state with it)";
      std::fprintf(stderr, "hush-chat: cannot open '%s': %s%s\n", path.c_str(),
                   code_name(store.error()).c_str(), why.c_str());
      return false;
    }
    store_ = std::move(*store);
  } else {
    auto identity = hush::generate_identity_key_pair(ctx_.random);
    auto registration_id = hush::generate_registration_id(ctx_.random);
    if (!identity || !registration_id) {
      std::fprintf(stderr, "hush-chat: cannot generate an identity\n");
      return false;
    }
    auto store =
        hush::SqliteStore::create(path, std::move(*identity), *registration_id, key.options());
    if (!store) {
      std::fprintf(stderr, "hush-chat: cannot create '%s': %s\n", path.c_str(),
                   code_name(store.error()).c_str());
      return false;
    }
    store_ = std::move(*store);
  }
  if (store_->rollback_check().rolled_back)
    error(
        "this state was restored from an older copy: every session was restarted; messages "
        "read since that copy are missing from /history, and the next message to each "
        "contact starts a new session");
  auto handle = store_->app_data(kHandleKey);
  auto token = store_->app_data(kTokenKey);
  auto registered = store_->app_data(kRegisteredKey);
  if (!handle || !token || !registered) {
    std::fprintf(stderr, "hush-chat: cannot read '%s'\n", path.c_str());
    return false;
  }
  if (*handle && *token) {
    handle_ = text_of(**handle);
    token_ = **token;
    if (!options_.handle.empty() && options_.handle != handle_) {
      std::fprintf(stderr, "hush-chat: '%s' belongs to %s, not %s\n", options_.state.c_str(),
                   printable(handle_).c_str(), options_.handle.c_str());
      return false;
    }
    if (!valid_handle(handle_) || token_.size() != kTokenBytes) {
      std::fprintf(stderr, "hush-chat: '%s' has damaged chat data\n", path.c_str());
      return false;
    }
    if (options_.recover && *registered) {
      std::fprintf(stderr,
                   "hush-chat: '%s' is %s's working state: --recover is for a new state, after "
                   "losing the old one (it would drop what the relay holds for %s)\n",
                   options_.state.c_str(), handle_.c_str(), handle_.c_str());
      return false;
    }
  } else {
    // A new state (or one whose creation was interrupted before this point).
    if (options_.handle.empty()) {
      std::fprintf(stderr, "hush-chat: a new state needs --handle NAME\n");
      return false;
    }
    handle_ = options_.handle;
    token_.assign(kTokenBytes, 0);
    if (!ctx_.random.fill(token_)) {
      std::fprintf(stderr, "hush-chat: no randomness\n");
      return false;
    }
    const auto st2 = store_->run_transaction([&]() -> hush::Status {
      if (auto s = store_->put_app_data(kHandleKey, hush::as_bytes(handle_)); !s) return s;
      return store_->put_app_data(kTokenKey, token_);
    });
    if (!st2) {
      std::fprintf(stderr, "hush-chat: cannot write '%s': %s\n", path.c_str(),
                   code_name(st2.error()).c_str());
      return false;
    }
  }
  recover_pending_ = options_.recover.has_value();
  registered_ = registered->has_value();
  held_ = std::make_unique<HeldMessages>(*store_);
  if (auto st2 = held_->load(); !st2) {
    std::fprintf(stderr, "hush-chat: cannot read the held messages in '%s': %s\n", path.c_str(),
                 code_name(st2.error()).c_str());
    return false;
  }
  messenger_ = std::make_unique<hush::Messenger>(ctx_, *store_, link_, link_,
                                                 hush::Address{handle_, hush::DeviceId{1}});
  return true;
}

bool Client::connect_to_relay(bool first) {
  const std::string where = options_.host + ":" + options_.port;
  generation_ = net_.connect(options_.host, options_.port, kConnectTimeout);
  connected_ = false;
  const auto deadline = Clock::now() + kConnectTimeout + std::chrono::seconds(1);
  for (;;) {
    auto ev = events_.pop(deadline);
    if (!ev) {
      error("cannot connect to the relay at " + where + ": timed out");
      return false;
    }
    if (ev->generation == generation_ && ev->type == Event::Type::kConnected) break;
    if (ev->generation == generation_ && ev->type == Event::Type::kConnectFailed) {
      error("cannot connect to the relay at " + where + ": " + printable(ev->text));
      return false;
    }
    if (ev->type == Event::Type::kInput || ev->type == Event::Type::kInputEnd ||
        ev->type == Event::Type::kSignal)
      deferred_.push_back(std::move(*ev));
  }
  connected_ = true;
  Message hello;
  hello.kind = recover_pending_ ? Kind::kRecover : Kind::kHello;
  hello.name = handle_;
  hello.body = token_;
  if (recover_pending_) hello.code = *options_.recover;
  auto reply = request(std::move(hello));
  if (!reply || reply->kind != Kind::kWelcome) {
    error("the relay refused " + handle_ + ": " +
          (!last_error_code_.empty() ? printable(last_error_code_)
           : last_refusal_.empty()   ? std::string("no welcome")
                                     : last_refusal_));
    if (last_error_code_ == "handle_taken")
      error(handle_ + " is registered at this relay by another client (if it is yours and you " +
            "lost its state, start a new state with --handle " + handle_ + " --recover CODE)");
    if (last_error_code_ == "wrong_recovery_code")
      error("that is not " + handle_ + "'s recovery code (only the latest one works)");
    net_.close(generation_, false);
    connected_ = false;
    return false;
  }
  if (reply->number == 1) {
    info("registered " + handle_ + " at " + where);
  } else if (reply->number == 2) {
    info("recovered " + handle_ + " at " + where);
  } else {
    info("connected to " + where + " as " + handle_);
  }
  recover_pending_ = false;
  if (reply->code.size() == kRecoveryCodeBytes) {
    // Shown once and not kept: whoever has it can take the handle.
    info("recovery code for " + handle_ + ": " + format_recovery_code(reply->code) +
         "; write it down: it is the only way to take " + handle_ +
         " back after losing this device");
    hush::secure_wipe(reply->code);
  }
  if (!registered_) {
    if (auto st = store_->put_app_data(kRegisteredKey, u64_bytes(1)); !st) {
      error("cannot write our state: " + code_name(st.error()));
    } else {
      registered_ = true;
    }
  }
  if (reply->idle_seconds > 0) {
    // A third of the relay's idle timeout: two pings may be late before it gives up on us.
    const auto interval = std::max<std::chrono::milliseconds>(
        std::chrono::milliseconds(500),
        std::chrono::milliseconds(std::uint64_t{reply->idle_seconds} * 1000 / 3));
    net_.keep_alive(generation_, interval);
  }
  backoff_ = std::chrono::seconds(1);
  reconnect_at_.reset();
  if (auto st = messenger_->maintain_keys(); !st) {
    error("cannot publish our keys: " + code_name(st.error()) +
          (last_refusal_.empty() ? "" : " (" + last_refusal_ + ")"));
    if (first && !connected_) return false;
  }
  next_maintenance_ = Clock::now() + kMaintenanceInterval;
  return true;
}

// ---- deliveries ----

void Client::ack(std::uint64_t id) {
  if (!connected_) return;
  Message m;
  m.kind = Kind::kAck;
  m.id = id;
  net_.send(generation_, encode(m));
}

void Client::on_deliver(std::uint64_t id, const std::string& from, const Bytes& envelope) {
  ++deliveries_;
  const Delivery d{id, from, envelope};
  if (held_->count(from) > 0) {
    // Behind a held message: keep the order, read them in turn after /trust.
    if (held_->contains(from, id)) {
      ack(id);  // held already; our acknowledgement was lost
      return;
    }
    if (names_its_sender(d)) hold(d, false);
    return;
  }
  process(d);
}

// An envelope that names another sender than the account the relay received it from is dropped
// (and acknowledged) unread: hush would refuse it anyway (sender_mismatch), and it must never
// show as anyone's message or raise an identity change.
bool Client::names_its_sender(const Delivery& d) {
  auto named = hush::Messenger::envelope_sender(d.envelope);
  if (!named) {
    ack(d.id);
    error("dropped a message from " + d.from + ": " + code_name(named.error()));
    return false;
  }
  if (named->name != d.from || named->device_id != hush::DeviceId{1}) {
    ack(d.id);
    error("dropped a message from " + d.from + ": it names " + printable(named->name) +
          " as its sender (sender_mismatch)");
    return false;
  }
  return true;
}

void Client::show_message(const hush::ReceivedMessage& m) {
  ++received_;
  term_.print("[" + printable(m.sender.name) + "] " + printable(text_of(m.plaintext.expose())),
              Terminal::Style::kIncoming);
}

void Client::process(const Delivery& d) {
  hush::ReceiveOptions options;
  // Who sent it is what the relay says (the account of the connection it came on), not what the
  // envelope says: an envelope naming another sender is refused before anything is decrypted.
  options.authenticated_name = d.from;
  options.authenticated_device = hush::DeviceId{1};
  // The message goes into the log in the transaction that commits the session.
  options.before_commit = [&](const hush::Address& sender, hush::ByteView,
                              hush::ByteView plaintext) {
    return log_append(*store_, 'i', sender.name, plaintext);
  };
  auto r = messenger_->receive(d.envelope, options);
  if (r) {
    ack(d.id);
    show_message(*r);
    return;
  }
  const hush::Errc code = r.error().code();
  if (code == hush::Errc::kDuplicateMessage) {
    ack(d.id);
    info("a message from " + d.from + " came twice; the copy was ignored");
    return;
  }
  if (code == hush::Errc::kSenderMismatch) {
    names_its_sender(d);  // says so, and acknowledges
    return;
  }
  if (code == hush::Errc::kUntrustedIdentity) {
    // The message authenticated under another identity key than the one we trust for d.from.
    if (auto change = messenger_->identity_change(d.from)) {
      show_identity_change(*change, true);
      hold(d, true);
      return;
    }
  }
  if (code == hush::Errc::kStoreFailure) {
    error("cannot store a message from " + d.from + " (store_failure); it will come again");
    return;
  }
  ack(d.id);
  error("dropped a message from " + d.from + ": " + code_name(r.error()));
}

// Keeps `d` in the store until /trust, then acknowledges it: a held message never occupies the
// relay's window of unacknowledged deliveries.
void Client::hold(const Delivery& d, bool first) {
  auto dropped = held_->hold(d.from, d.id, d.envelope);
  if (!dropped) {
    error("cannot keep a held message from " + d.from + " (" + code_name(dropped.error()) +
          "); it will come again");
    return;  // not acknowledged: the relay delivers it again on the next connection
  }
  ack(d.id);
  for (const auto& x : *dropped) {
    if (x.per_peer) {
      error("too many messages held from " + x.entry.peer + ": dropped the oldest (at most " +
            std::to_string(HeldMessages::kMaxPerPeer) + " per person wait for /trust)");
    } else {
      error("too many held messages: dropped the oldest, from " + x.entry.peer + " (at most " +
            std::to_string(HeldMessages::kMaxTotal) + " wait for /trust)");
    }
  }
  if (!first) error("another message from " + d.from + " is held until you /trust " + d.from);
}

// Reads the messages held from `peer`, oldest first, until one meets an identity change again (it
// and the rest stay held). At start, that re-raises the change the held messages wait for (the
// Messenger forgets pending changes on restart).
void Client::release_held(const std::string& peer, bool at_start) {
  while (auto entry = held_->oldest(peer)) {
    auto envelope = held_->envelope(*entry);
    if (!envelope) {
      error("cannot read a message held from " + peer + ": " + code_name(envelope.error()));
      return;
    }
    hush::ReceiveOptions options;
    options.authenticated_name = peer;
    options.authenticated_device = hush::DeviceId{1};
    // Logged, and no longer held, in the transaction that commits the session.
    options.before_commit = [&](const hush::Address& sender, hush::ByteView,
                                hush::ByteView plaintext) -> hush::Status {
      if (auto st = log_append(*store_, 'i', sender.name, plaintext); !st) return st;
      return held_->remove(entry->seq);
    };
    auto r = messenger_->receive(*envelope, options);
    if (r) {
      show_message(*r);
      continue;
    }
    (void)held_->load();  // the transaction rolled back: what remove() did in memory too
    const hush::Errc code = r.error().code();
    if (code == hush::Errc::kUntrustedIdentity) {
      if (auto change = messenger_->identity_change(peer)) {
        show_identity_change(*change, true);
        if (at_start)
          info(std::to_string(held_->count(peer)) + " message(s) from " + peer +
               " are held, unread, until you /trust " + peer);
        return;
      }
    }
    if (code == hush::Errc::kStoreFailure) {
      error("cannot store a message held from " + peer + " (store_failure); it stays held");
      return;
    }
    // Anything else will never decrypt: let it go.
    if (auto st = held_->remove(entry->seq); !st) {
      error("cannot forget a message held from " + peer + ": " + code_name(st.error()));
      return;
    }
    if (code == hush::Errc::kDuplicateMessage) {
      info("a message held from " + peer + " came twice; the copy was ignored");
    } else {
      error("dropped a message held from " + peer + ": " + code_name(r.error()));
    }
  }
}

void Client::show_identity_change(const hush::IdentityChangeEvent& change, bool incoming) {
  const std::string& who = change.person;
  auto ours = store_->identity_key_pair();
  std::string old_number = "(none)";
  std::string new_number = "(unknown)";
  if (auto n = messenger_->safety_number(change.person)) old_number = grouped(n->displayable);
  if (ours) {
    if (auto n = hush::make_fingerprint(hush::kFingerprintIterations, handle_, ours->public_key,
                                        who, change.offered))
      new_number = grouped(n->displayable);
  }
  const std::string bar(78, '=');
  std::vector<std::string> lines = {
      bar,
      "WARNING: " + who + "'s identity key has CHANGED",
      "  trusted key:        " + (change.trusted ? key_hex(*change.trusted) : "(none)"),
      "  offered key:        " + key_hex(change.offered),
      "  old safety number:  " + old_number,
      "  new safety number:  " + new_number,
      incoming ? "A message from " + who + " came with the new key; it is held, unread."
               : "The relay handed out the new key for " + who + ".",
      "Either " + who + " reinstalled, or someone in the middle (the relay?) substitutes keys.",
      "Nothing is sent to " + who + " now. Compare the new safety number with " + who,
      "in person (or on a call you trust); only if it matches, type /trust " + who + ".",
      bar,
  };
  std::string box;
  for (const auto& l : lines) {
    if (!box.empty()) box += '\n';
    box += "!! " + l;
  }
  term_.print(box, Terminal::Style::kAlarm);
}

// ---- commands ----

void Client::execute(const std::string& raw) {
  const std::string_view line = [&] {
    std::string_view v = raw;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
      v.remove_suffix(1);
    return v;
  }();
  if (line.empty() || line.front() == '#') return;
  bool ok = true;
  if (line.front() != '/') {
    if (current_peer_.empty()) {
      error("to send, type /msg NAME TEXT (/help for the commands)");
      ok = false;
    } else {
      ok = cmd_msg(current_peer_, std::string(line));
    }
  } else {
    const auto words = split_words(line, 3);
    const std::string& cmd = words[0];
    const auto arg = [&](std::size_t i) { return i < words.size() ? words[i] : std::string(); };
    if (cmd == "/msg" || cmd == "/m") {
      ok = cmd_msg(arg(1), arg(2));
    } else if (cmd == "/verify" && words.size() == 2) {
      ok = cmd_verify(arg(1));
    } else if (cmd == "/trust" && words.size() == 2) {
      ok = cmd_trust(arg(1));
    } else if (cmd == "/reset" && words.size() == 2) {
      ok = cmd_reset(arg(1));
    } else if (cmd == "/history" && words.size() <= 2) {
      ok = cmd_history(arg(1));
    } else if (cmd == "/sync" && words.size() == 1) {
      ok = cmd_sync();
    } else if (cmd == "/wait") {
      ok = cmd_wait(split_words(line, 4));
    } else if ((cmd == "/quit" || cmd == "/exit") && words.size() == 1) {
      quit_ = true;
    } else if (cmd == "/help") {
      term_.print(std::string(kUsage.substr(kUsage.find("commands:"))));
    } else {
      error("unknown command or wrong arguments: " + printable(line.substr(0, 80)) +
            " (/help for the commands)");
      ok = false;
    }
  }
  if (!ok && !term_.interactive() && exit_code_ == 0) exit_code_ = 2;
}

bool Client::cmd_msg(const std::string& to, const std::string& text) {
  if (!valid_handle(to)) {
    error("usage: /msg NAME TEXT (NAME: 1 to 32 of A-Z a-z 0-9 _ . -)");
    return false;
  }
  if (text.empty()) {
    error("usage: /msg NAME TEXT");
    return false;
  }
  if (text.size() > kMaxTextBytes) {
    error("message too long (at most " + std::to_string(kMaxTextBytes) + " bytes)");
    return false;
  }
  current_peer_ = to;
  const hush::Address peer{to, hush::DeviceId{1}};
  // An identity change seen on a message from the peer is pending: the session we have is with
  // the old key, and nothing may go out until the user decided.
  if (auto change = messenger_->identity_change(peer.name)) {
    show_identity_change(*change, false);
    error("message to " + to + " not sent: untrusted_identity");
    return false;
  }
  auto id = messenger_->send(peer, hush::as_bytes(text));
  if (!id) {
    if (id.error().code() == hush::Errc::kUntrustedIdentity) {
      if (auto change = messenger_->identity_change(peer.name))
        show_identity_change(*change, false);
    }
    std::string why = code_name(id.error());
    if (id.error().code() == hush::Errc::kNoSession && last_error_code_ == "unknown_handle")
      why += " (" + to + " is not registered at the relay)";
    else if (!last_refusal_.empty())
      why += " (" + last_refusal_ + ")";
    error("message to " + to + " not sent: " + why);
    return false;
  }
  if (auto st = store_->run_transaction(
          [&] { return log_append(*store_, 'o', to, hush::as_bytes(text)); });
      !st)
    error("sent, but cannot write the log: " + code_name(st.error()));
  term_.print("[me -> " + to + "] " + printable(text), Terminal::Style::kOutgoing);
  return true;
}

bool Client::cmd_verify(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /verify NAME");
    return false;
  }
  const hush::Address peer{who, hush::DeviceId{1}};
  auto number = messenger_->safety_number(peer.name);
  if (!number) {
    if (number.error().code() == hush::Errc::kNoSession) {
      error("no identity known for " + who + " yet: exchange a message first");
    } else {
      error("cannot compute the safety number: " + code_name(number.error()));
    }
    return false;
  }
  info("safety number with " + who + ": " + grouped(number->displayable));
  if (messenger_->identity_change(peer.name))
    error(who + " has offered another identity key since: see the warning, and /trust " + who +
          " only after comparing the new number");
  return true;
}

bool Client::cmd_trust(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /trust NAME");
    return false;
  }
  const hush::Address peer{who, hush::DeviceId{1}};
  auto change = messenger_->identity_change(peer.name);
  if (!change) {
    error("no identity change is pending for " + who + " (one shows when a message to or from " +
          who + " meets a new key)");
    return false;
  }
  if (auto st = messenger_->approve_identity(peer.name, change->offered); !st) {
    error("cannot trust the new key: " + code_name(st.error()));
    return false;
  }
  std::string number;
  if (auto n = messenger_->safety_number(peer.name)) number = grouped(n->displayable);
  info(who + "'s new identity key " + key_hex(change->offered) +
       " is trusted now; safety number: " + number);
  // The messages held for this moment, in order (one may meet yet another change).
  release_held(who, false);
  return true;
}

bool Client::cmd_reset(const std::string& who) {
  if (!valid_handle(who)) {
    error("usage: /reset NAME");
    return false;
  }
  // The current session is archived (late messages still decrypt); the peer's identity stays
  // stored, and trusted.
  if (auto st = messenger_->reset_session(hush::Address{who, hush::DeviceId{1}}); !st) {
    error("cannot reset: " + code_name(st.error()));
    return false;
  }
  info("forgot the session with " + who + " (" + who +
       "'s identity stays trusted); the next message fetches a new bundle");
  return true;
}

bool Client::cmd_history(const std::string& count) {
  std::size_t n = 20;
  if (!count.empty()) {
    char* end = nullptr;
    const long v = std::strtol(count.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 10000) {
      error("usage: /history [N]");
      return false;
    }
    n = static_cast<std::size_t>(v);
  }
  auto next = store_->app_data(kLogNextKey);
  if (!next) {
    error("cannot read the log: " + code_name(next.error()));
    return false;
  }
  const std::uint64_t total = *next ? read_u64(**next).value_or(0) : 0;
  const std::uint64_t first = total > n ? total - n : 0;
  info("the last " + std::to_string(total - first) + " of " + std::to_string(total) + " messages:");
  for (std::uint64_t i = first; i < total; ++i) {
    auto e = store_->app_data("chat/log/" + std::to_string(i));
    if (!e || !*e || (*e)->size() < 2) continue;
    const hush::Bytes& b = **e;
    const std::size_t len = b[1];
    if (b.size() < 2 + len) continue;
    const std::string peer = printable(text_of(hush::ByteView(b).subspan(2, len)));
    const std::string text = printable(text_of(hush::ByteView(b).subspan(2 + len)));
    term_.print(b[0] == 'o' ? "  [me -> " + peer + "] " + text : "  [" + peer + "] " + text);
  }
  return true;
}

bool Client::cmd_wait(const std::vector<std::string>& args) {
  auto number = [](const std::string& s, long max) -> std::optional<long> {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0 || v > max) return std::nullopt;
    return v;
  };
  const auto n = args.size() >= 2 ? number(args[1], 1000000) : std::nullopt;
  const auto s = args.size() == 3 ? number(args[2], 3600) : std::optional<long>(30);
  if (!n || !s || args.size() > 3) {
    error("usage: /wait N [SECONDS]");
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(*s);
  while (received_ < static_cast<std::uint64_t>(*n) && !quit_) {
    auto ev = next_event(deadline);
    if (!ev) {
      error("/wait " + std::to_string(*n) + ": timed out after " + std::to_string(*s) + " s with " +
            std::to_string(received_) + " messages");
      if (!term_.interactive()) {
        exit_code_ = 3;
        quit_ = true;
      }
      return false;
    }
    handle_event(std::move(*ev));
  }
  return true;
}

// Round trips to the relay: it sends what it has queued for us (up to its window of unacknowledged
// deliveries) before it answers a later request on the same ordered stream. So after a round trip
// that brought no delivery, everything it had is here, and has been shown.
bool Client::cmd_sync() {
  for (;;) {
    const std::uint64_t before = deliveries_;
    Message m;
    m.kind = Kind::kCount;
    auto reply = request(std::move(m));
    if (!reply || reply->kind != Kind::kCountIs) {
      error("/sync: " + (last_refusal_.empty() ? std::string("failed") : last_refusal_));
      return false;
    }
    while (!quit_) {
      auto ev = next_event(Clock::now());
      if (!ev) break;
      handle_event(std::move(*ev));
    }
    if (quit_ || deliveries_ == before) return true;
  }
}

void Client::quit() {
  if (!connected_) return;
  // Write what is queued (acknowledgements), then wait for the relay to close its side.
  net_.close(generation_, true);
  const auto deadline = Clock::now() + kCloseTimeout;
  for (;;) {
    auto ev = events_.pop(deadline);
    if (!ev) return;
    if (ev->type == Event::Type::kClosed && ev->generation == generation_) return;
  }
}

int Client::run() {
  if (!open_state()) return 1;
  ::signal(SIGPIPE, SIG_IGN);
  if (!options_.script.empty()) {
    std::ifstream in(options_.script);
    if (!in) {
      std::fprintf(stderr, "hush-chat: cannot read '%s'\n", options_.script.c_str());
      return 1;
    }
    std::string line;
    while (std::getline(in, line))
      lines_.push_back(line);
    input_ended_ = true;
  }
  net_.start(options_.script.empty());
  if (!connect_to_relay(true)) {
    net_.stop();
    return 1;
  }
  // Messages held since an earlier run: read what can be read now, and show again the identity
  // change the others wait for.
  for (const std::string& peer : held_->peers())
    release_held(peer, true);
  if (term_.interactive()) info("type /help for the commands; /msg NAME TEXT to write to NAME");
  term_.start();
  while (!quit_) {
    while (!quit_ && !lines_.empty()) {
      // What has already arrived is shown first.
      while (!quit_) {
        auto ev = next_event(Clock::now());
        if (!ev) break;
        handle_event(std::move(*ev));
      }
      if (quit_) break;
      const std::string line = std::move(lines_.front());
      lines_.pop_front();
      execute(line);
    }
    if (quit_ || (input_ended_ && lines_.empty())) break;
    std::optional<Clock::time_point> deadline;  // none: wait for input
    if (connected_) deadline = next_maintenance_;
    if (reconnect_at_) deadline = deadline ? std::min(*deadline, *reconnect_at_) : *reconnect_at_;
    auto ev = next_event(deadline);
    if (ev) {
      handle_event(std::move(*ev));
      continue;
    }
    const auto now = Clock::now();
    if (reconnect_at_ && now >= *reconnect_at_) {
      reconnect_at_.reset();
      if (!connect_to_relay(false)) schedule_reconnect();
    }
    if (connected_ && now >= next_maintenance_) {
      if (auto st = messenger_->maintain_keys(); !st)
        error("key maintenance failed: " + code_name(st.error()));
      next_maintenance_ = now + kMaintenanceInterval;
    }
  }
  quit();
  net_.stop();
  return exit_code_;
}

}  // namespace
}  // namespace hush_chat

int main(int argc, char** argv) {
  // Asio makes standard input non-blocking, and that flag is shared with whoever else uses the
  // terminal (the shell, after us): put it back as it was.
  const int stdin_flags = ::fcntl(STDIN_FILENO, F_GETFL);
  int code = 1;
  try {
    hush_chat::Client client(hush_chat::parse_options(argc, argv));
    code = client.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-chat: %s\n", e.what());
  }
  if (stdin_flags != -1) ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
  std::fflush(stdout);
  return code;
}

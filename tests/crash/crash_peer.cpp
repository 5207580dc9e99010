// hush crash tests: the child process. It runs a two-party conversation between alice and bob, each
// on its own SqliteStore in DIR, and can be killed (SIGKILL) at any instant; started again on the
// same DIR it carries on where the files say it stopped.
//
//   crash_peer DIR run       run (or resume) the conversation until it is complete
//   crash_peer DIR verify    check the invariants below and a final exchange; exit 0 if they hold
//
// The "network" is two append-only logs, DIR/a2b.log and DIR/b2a.log, one line per message
// ("<type> <hex>"); a message is *emitted* once its line is complete. A receiver keeps its delivery
// pointer (how many lines it has taken) in DIR/<name>.ack, written after its decrypt commits, as an
// app would acknowledge a message to its server only after storing it: a crash in between makes it
// take the same message again. The decrypt hook stores the plaintext and a count in the receiver's
// database (app data) inside the decrypt's transaction.
//
// With HUSH_CRASH_AT=n the process kills itself at its n-th write: every store write, every
// transaction just before and just after its commit, every log append and every ack, so repeated
// runs with n = 1, 2, 3... cover every write point of the conversation.
//
// Invariants (checked while running, exit 3 on a violation, and by `verify`):
//   * no (ratchet key, counter) is emitted twice by one sender (no message key or IV reuse);
//   * every emitted message decrypts exactly once: line j of a2b.log was stored by bob as "a<j>",
//     and bob's count of decrypted messages equals the number of lines (likewise for alice);
//   * a retry of a taken message gives the plaintext, or duplicate_message with the plaintext
//     already stored;
//   * the sessions stay usable: `verify` ends with a fresh exchange both ways.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <hush/hush.h>

namespace {

[[noreturn]] void violation(const std::string& what) {
  std::fprintf(stderr, "crash_peer: INVARIANT VIOLATED: %s\n", what.c_str());
  std::exit(3);
}

[[noreturn]] void fatal(const std::string& what, const hush::Error& e) {
  std::fprintf(stderr, "crash_peer: %s failed: %s (%s)\n", what.c_str(),
               std::string(hush::to_string(e.code())).c_str(), e.where());
  std::exit(3);
}

// Counts write points and kills the process at the chosen one.
struct CrashPoints {
  long target = 0;  // 0: never
  long count = 0;
  void point() {
    if (target > 0 && ++count == target) ::kill(::getpid(), SIGKILL);
  }
};
CrashPoints* g_crash = nullptr;  // the one instance, owned by main()
void crash_point() {
  g_crash->point();
}

// A ProtocolStore that forwards to a SqliteStore and passes a crash point at every write.
class CrashingStore final : public hush::ProtocolStore {
 public:
  explicit CrashingStore(std::unique_ptr<hush::SqliteStore> inner) : inner_(std::move(inner)) {}
  hush::SqliteStore& inner() { return *inner_; }

  hush::Status put_app_data(std::string_view key, hush::ByteView value) {
    crash_point();
    return inner_->put_app_data(key, value);
  }

  hush::Result<hush::IdentityKeyPair> identity_key_pair() override {
    return inner_->identity_key_pair();
  }
  hush::Result<std::uint32_t> local_registration_id() override {
    return inner_->local_registration_id();
  }
  hush::Result<hush::IdentityChange> save_identity(std::string_view name,
                                                   const hush::IdentityKey& k) override {
    crash_point();
    return inner_->save_identity(name, k);
  }
  hush::Result<bool> is_trusted_identity(std::string_view name, const hush::IdentityKey& k,
                                         hush::Direction d) override {
    return inner_->is_trusted_identity(name, k, d);
  }
  hush::Result<std::optional<hush::IdentityKey>> identity(std::string_view name) override {
    return inner_->identity(name);
  }
  hush::Result<std::vector<std::pair<std::string, hush::IdentityKey>>> identities() override {
    return inner_->identities();
  }
  hush::Result<std::optional<hush::PreKeyRecord>> load_pre_key(hush::PreKeyId id) override {
    return inner_->load_pre_key(id);
  }
  hush::Status store_pre_key(const hush::PreKeyRecord& r) override {
    crash_point();
    return inner_->store_pre_key(r);
  }
  hush::Status remove_pre_key(hush::PreKeyId id) override {
    crash_point();
    return inner_->remove_pre_key(id);
  }
  hush::Result<std::vector<hush::PreKeyId>> pre_key_ids() override { return inner_->pre_key_ids(); }
  hush::Result<hush::PreKeyId> next_pre_key_id() override { return inner_->next_pre_key_id(); }
  hush::Result<std::optional<hush::SignedPreKeyRecord>> load_signed_pre_key(
      hush::SignedPreKeyId id) override {
    return inner_->load_signed_pre_key(id);
  }
  hush::Status store_signed_pre_key(const hush::SignedPreKeyRecord& r) override {
    crash_point();
    return inner_->store_signed_pre_key(r);
  }
  hush::Status remove_signed_pre_key(hush::SignedPreKeyId id) override {
    crash_point();
    return inner_->remove_signed_pre_key(id);
  }
  hush::Result<std::vector<hush::SignedPreKeyId>> signed_pre_key_ids() override {
    return inner_->signed_pre_key_ids();
  }
  hush::Result<bool> has_accepted_base_key(const hush::PublicKey& k) override {
    return inner_->has_accepted_base_key(k);
  }
  hush::Status record_accepted_base_key(hush::SignedPreKeyId id,
                                        const hush::PublicKey& k) override {
    crash_point();
    return inner_->record_accepted_base_key(id, k);
  }
  hush::Result<std::optional<hush::KyberPreKeyRecord>> load_kyber_pre_key(
      hush::KyberPreKeyId id) override {
    return inner_->load_kyber_pre_key(id);
  }
  hush::Status store_kyber_pre_key(const hush::KyberPreKeyRecord& r) override {
    crash_point();
    return inner_->store_kyber_pre_key(r);
  }
  hush::Status remove_kyber_pre_key(hush::KyberPreKeyId id) override {
    crash_point();
    return inner_->remove_kyber_pre_key(id);
  }
  hush::Result<std::vector<hush::KyberPreKeyId>> kyber_pre_key_ids() override {
    return inner_->kyber_pre_key_ids();
  }
  hush::Result<hush::KyberPreKeyId> next_kyber_pre_key_id() override {
    return inner_->next_kyber_pre_key_id();
  }
  hush::Result<bool> has_last_resort_use(hush::KyberPreKeyId id, hush::SignedPreKeyId spk,
                                         const hush::PublicKey& k) override {
    return inner_->has_last_resort_use(id, spk, k);
  }
  hush::Status record_last_resort_use(hush::KyberPreKeyId id, hush::SignedPreKeyId spk,
                                      const hush::PublicKey& k) override {
    crash_point();
    return inner_->record_last_resort_use(id, spk, k);
  }
  hush::Result<std::optional<hush::SessionRecord>> load_session(const hush::Address& a) override {
    return inner_->load_session(a);
  }
  hush::Status store_session(const hush::Address& a, hush::SessionRecord r) override {
    crash_point();
    return inner_->store_session(a, std::move(r));
  }
  hush::Result<std::vector<hush::DeviceId>> session_devices(std::string_view name) override {
    return inner_->session_devices(name);
  }
  hush::Result<std::vector<hush::Address>> session_addresses() override {
    return inner_->session_addresses();
  }
  hush::Result<std::optional<hush::SenderKeyRecord>> load_sender_key(
      const hush::Address& a, const hush::SenderKeyGroup& g) override {
    return inner_->load_sender_key(a, g);
  }
  hush::Status store_sender_key(const hush::Address& a, const hush::SenderKeyGroup& g,
                                hush::SenderKeyRecord r) override {
    crash_point();
    return inner_->store_sender_key(a, g, std::move(r));
  }
  hush::Status remove_sender_key(const hush::Address& a, const hush::SenderKeyGroup& g) override {
    crash_point();
    return inner_->remove_sender_key(a, g);
  }
  hush::Result<std::optional<hush::SecretBytes>> load_messenger_record(
      hush::MessengerRecordKind kind, std::string_view key) override {
    return inner_->load_messenger_record(kind, key);
  }
  hush::Status store_messenger_record(hush::MessengerRecordKind kind, std::string_view key,
                                      hush::ByteView value) override {
    crash_point();
    return inner_->store_messenger_record(kind, key, value);
  }
  hush::Status remove_messenger_record(hush::MessengerRecordKind kind,
                                       std::string_view key) override {
    crash_point();
    return inner_->remove_messenger_record(kind, key);
  }
  hush::Result<std::vector<std::string>> messenger_record_keys(
      hush::MessengerRecordKind kind) override {
    return inner_->messenger_record_keys(kind);
  }
  int transaction_depth() override { return inner_->transaction_depth(); }
  hush::Status record_key_use() override {
    crash_point();
    return inner_->record_key_use();
  }
  hush::Status run_transaction(const std::function<hush::Status()>& body) override {
    hush::Status st = inner_->run_transaction([&]() -> hush::Status {
      hush::Status inner = body();
      if (inner) crash_point();  // the body is done, the commit has not happened
      return inner;
    });
    if (st) crash_point();  // committed, not yet returned
    return st;
  }

 private:
  std::unique_ptr<hush::SqliteStore> inner_;
};

// ---- files: logs and acks ----

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(all.substr(start, nl - start));
  return lines;  // a partial last line (a torn append) is not a message: it was never emitted
}

// Cuts a torn last line off a log, so the next append starts a line of its own.
void repair_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t keep = all.empty()                            ? 0
                           : all.rfind('\n') == std::string::npos ? 0
                                                                  : all.rfind('\n') + 1;
  if (keep != all.size() && ::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) std::exit(4);
}

void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
  if (fd < 0) std::exit(4);
  const std::string data = line + "\n";
  // Two writes with a crash point between them: a torn line is a real possibility.
  const std::size_t half = data.size() / 2;
  crash_point();
  if (::write(fd, data.data(), half) != static_cast<ssize_t>(half)) std::exit(4);
  crash_point();
  if (::write(fd, data.data() + half, data.size() - half) !=
      static_cast<ssize_t>(data.size() - half))
    std::exit(4);
  ::close(fd);
}

long read_ack(const std::string& path) {
  std::ifstream in(path);
  long v = 0;
  in >> v;
  return v;
}

void write_ack(const std::string& path, long value) {
  crash_point();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << value << '\n';
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::exit(4);
}

// ---- the conversation ----

struct Side {
  std::string name;    // "alice" / "bob"
  std::string letter;  // "a" / "b"
  hush::Address address;
  std::unique_ptr<CrashingStore> store;
};

hush::Context& context() {
  static hush::Context ctx = hush::default_context();
  return ctx;
}

std::unique_ptr<CrashingStore> open_store(const std::string& path) {
  auto s = hush::SqliteStore::open(path);
  if (!s) fatal("open " + path, s.error());
  return std::make_unique<CrashingStore>(std::move(*s));
}

// Who sends how many, in turn: enough turns for every message to ride a fresh ratchet step.
std::vector<std::pair<int, int>> script() {
  std::vector<std::pair<int, int>> s;
  for (int turn = 0; turn < 60; ++turn)
    s.emplace_back(turn % 2, 1 + (turn * 7) % 3);
  return s;
}

std::string hex_line(const hush::CiphertextMessage& m) {
  return std::to_string(static_cast<int>(m.type())) + " " + hush::to_hex(m.serialized());
}

hush::CiphertextMessage parse_line(const std::string& line) {
  std::istringstream f(line);
  int type = 0;
  std::string hex;
  f >> type >> hex;
  auto bytes = hush::from_hex(hex);
  if (!bytes) violation("unreadable log line");
  auto m = hush::CiphertextMessage::parse(static_cast<hush::MessageType>(type), *bytes);
  if (!m) violation("emitted message does not parse");
  return std::move(*m);
}

std::string inbox_key(const Side& from, long j) {
  return "inbox/" + from.letter + "/" + std::to_string(j);
}
std::string count_key(const Side& from) {
  return "count/" + from.letter;
}

long app_count(CrashingStore& s, const std::string& key) {
  auto v = s.inner().app_data(key);
  if (!v) fatal("app data", v.error());
  if (!*v) return 0;
  return std::stol(std::string((*v)->begin(), (*v)->end()));
}

// `to` takes message j from `from`'s log and decrypts it; the plaintext and the count are stored in
// the same transaction. Returns after the ack is written.
void receive(const std::string& dir, Side& to, Side& from, const std::string& log, long j) {
  const std::vector<std::string> lines = read_lines(log);
  const hush::CiphertextMessage m = parse_line(lines.at(static_cast<std::size_t>(j)));
  const std::string expected = from.letter + std::to_string(j);
  hush::DecryptOptions options;
  options.before_commit = [&](hush::ByteView plaintext) -> hush::Status {
    if (std::string(plaintext.begin(), plaintext.end()) != expected)
      violation("line " + std::to_string(j) + " decrypted to the wrong plaintext");
    if (auto st = to.store->put_app_data(inbox_key(from, j), plaintext); !st) return st;
    const std::string n = std::to_string(app_count(*to.store, count_key(from)) + 1);
    return to.store->put_app_data(count_key(from), hush::as_bytes(n));
  };
  auto p = hush::decrypt_message(context(), *to.store, from.address, m, options);
  if (!p) {
    if (p.error().code() != hush::Errc::kDuplicateMessage)
      fatal("decrypt line " + std::to_string(j), p.error());
    // A retry after a crash between commit and ack: the plaintext must already be stored.
    auto stored = to.store->inner().app_data(inbox_key(from, j));
    if (!stored || !*stored || std::string((*stored)->begin(), (*stored)->end()) != expected)
      violation("duplicate_message for line " + std::to_string(j) +
                " without its stored plaintext");
  }
  write_ack(dir + "/" + to.name + ".ack", j + 1);
}

void send(Side& from, Side& to, const std::string& log, long i) {
  const std::string text = from.letter + std::to_string(i);
  auto m = hush::encrypt_message(context(), *from.store, to.address, hush::as_bytes(text));
  if (!m && m.error().code() == hush::Errc::kNoSession) {
    // A kill between the generation counter's write and the commit makes the next open take the
    // database for a restored copy and restart its sessions (sqlite_store.h): safe, and the sender
    // starts a new session from a fresh bundle. Nothing else here leaves a side without a session.
    std::fprintf(stderr, "crash_peer: %s restarts its session with %s\n", from.name.c_str(),
                 to.name.c_str());
    auto bundle = hush::make_bundle(to.store->inner(), hush::DeviceId{1}, hush::SignedPreKeyId{1},
                                    std::nullopt);
    if (!bundle) fatal("bundle after a restart", bundle.error());
    if (auto st = hush::process_prekey_bundle(context(), *from.store, to.address, *bundle); !st)
      fatal("new session after a restart", st.error());
    m = hush::encrypt_message(context(), *from.store, to.address, hush::as_bytes(text));
  }
  if (!m) fatal("encrypt", m.error());
  append_line(log, hex_line(*m));
}

struct Conversation {
  std::string dir;
  Side alice{"alice", "a", hush::Address{"alice", hush::DeviceId{1}}, nullptr};
  Side bob{"bob", "b", hush::Address{"bob", hush::DeviceId{1}}, nullptr};
  std::string a2b, b2a;

  explicit Conversation(std::string d)
      : dir(std::move(d)), a2b(dir + "/a2b.log"), b2a(dir + "/b2a.log") {
    alice.store = open_store(dir + "/alice.db");
    bob.store = open_store(dir + "/bob.db");
  }

  // One step; false when the conversation is complete.
  bool step() {
    const long a_sent = static_cast<long>(read_lines(a2b).size());
    const long b_sent = static_cast<long>(read_lines(b2a).size());
    const long bob_took = read_ack(dir + "/bob.ack");
    const long alice_took = read_ack(dir + "/alice.ack");
    if (bob_took < a_sent) return receive(dir, bob, alice, a2b, bob_took), true;
    if (alice_took < b_sent) return receive(dir, alice, bob, b2a, alice_took), true;
    long a_due = 0, b_due = 0;
    for (const auto& [who, n] : script()) {
      (who == 0 ? a_due : b_due) += n;
      if (who == 0 && a_sent < a_due) return send(alice, bob, a2b, a_sent), true;
      if (who == 1 && b_sent < b_due) return send(bob, alice, b2a, b_sent), true;
    }
    return false;
  }
};

// Sets up DIR: two databases and a session from alice to bob (no messages yet).
int setup(const std::string& dir) {
  hush::Context& ctx = context();
  for (const char* name : {"alice", "bob"}) {
    auto id = hush::generate_identity_key_pair(ctx.random);
    auto reg = hush::generate_registration_id(ctx.random);
    if (!id || !reg) return 4;
    auto spk = hush::generate_signed_pre_key(ctx, *id, hush::SignedPreKeyId{1});
    auto s = hush::SqliteStore::create(dir + "/" + name + ".db", std::move(*id), *reg);
    if (!spk || !s) return 4;
    if (!(*s)->store_signed_pre_key(*spk) || !hush::replenish_pre_keys(ctx, **s, 2)) return 4;
  }
  auto alice = hush::SqliteStore::open(dir + "/alice.db");
  auto bob = hush::SqliteStore::open(dir + "/bob.db");
  auto bundle =
      hush::make_bundle(**bob, hush::DeviceId{1}, hush::SignedPreKeyId{1}, hush::PreKeyId{1});
  if (!bundle) return 4;
  if (!hush::process_prekey_bundle(ctx, **alice, hush::Address{"bob", hush::DeviceId{1}}, *bundle))
    return 4;
  return 0;
}

void check_unique_keys(const std::string& log, const char* sender) {
  std::set<std::pair<std::string, std::uint32_t>> seen;
  for (const std::string& line : read_lines(log)) {
    const hush::CiphertextMessage m = parse_line(line);
    const hush::SignalMessage& s =
        m.prekey_message() ? m.prekey_message()->message() : *m.signal_message();
    if (!seen.insert({hush::to_hex(s.ratchet_key().serialize()), s.counter()}).second)
      violation(std::string(sender) + " emitted two messages with one message key");
  }
}

int verify(Conversation& c) {
  check_unique_keys(c.a2b, "alice");
  check_unique_keys(c.b2a, "bob");
  for (auto [to, from, log] : {std::tuple<Side*, Side*, std::string>{&c.bob, &c.alice, c.a2b},
                               std::tuple<Side*, Side*, std::string>{&c.alice, &c.bob, c.b2a}}) {
    const long lines = static_cast<long>(read_lines(log).size());
    if (read_ack(c.dir + "/" + to->name + ".ack") != lines)
      violation(to->name + " did not take every message");
    if (app_count(*to->store, count_key(*from)) != lines)
      violation(to->name + " decrypted " + std::to_string(app_count(*to->store, count_key(*from))) +
                " times for " + std::to_string(lines) + " messages");
    for (long j = 0; j < lines; ++j) {
      auto v = to->store->inner().app_data(inbox_key(*from, j));
      if (!v || !*v || std::string((*v)->begin(), (*v)->end()) != from->letter + std::to_string(j))
        violation(to->name + " has no plaintext for line " + std::to_string(j));
    }
  }
  // The sessions still work, both ways.
  for (int i = 0; i < 3; ++i) {
    auto m =
        hush::encrypt_message(context(), *c.alice.store, c.bob.address, hush::as_bytes("after"));
    if (!m) fatal("final encrypt", m.error());
    if (!hush::decrypt_message(context(), *c.bob.store, c.alice.address, *m))
      violation("final decrypt");
    auto r =
        hush::encrypt_message(context(), *c.bob.store, c.alice.address, hush::as_bytes("reply"));
    if (!r) fatal("final encrypt", r.error());
    if (!hush::decrypt_message(context(), *c.alice.store, c.bob.address, *r))
      violation("final decrypt");
  }
  std::printf("verified: %zu + %zu messages\n", read_lines(c.a2b).size(), read_lines(c.b2a).size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: crash_peer DIR setup|run|verify\n", stderr);
    return 64;
  }
  CrashPoints crash;
  if (const char* at = std::getenv("HUSH_CRASH_AT")) crash.target = std::atol(at);
  g_crash = &crash;
  const std::string dir = argv[1], mode = argv[2];
  if (mode == "setup") return setup(dir);
  repair_log(dir + "/a2b.log");
  repair_log(dir + "/b2a.log");
  Conversation c(dir);
  if (mode == "run") {
    while (c.step()) {
    }
    return 0;
  }
  if (mode == "verify") return verify(c);
  return 64;
}

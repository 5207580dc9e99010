// hush-cli: a scriptable Signal-protocol peer built on hush's public API alone.
//
// Each invocation loads all its state from `--state DIR`, does one operation, saves the state and
// exits, so scripts (and tests) can interleave two or more peers in any order. Run `hush-cli
// --help` for the commands. Exit codes: 0 success, 1 usage or I/O error, 2 protocol error (the last
// line of stderr is then `error: <name>`, the library's stable error name). A failed command prints
// nothing on stdout and leaves the state unchanged. Output is printed after the commit: if writing
// it fails (a full disk behind stdout), the command exits 1 with its state change made; a
// decrypted plaintext can then be printed again with `received`, and an encrypted message that
// was not printed is simply lost (its message key is never used again).
//
// Several devices of one person: each device is a state directory holding the person's identity
// key pair, and the person's signed device list (hush/device_list.h) says which devices exist.
// `init` makes device 1 and the first list; `link-code` (in the new device's directory), `link`
// (on an existing device) and `link --accept` (in the new one) add a device as hush/link.h
// describes, the link message travelling through the script; `devices` shows and imports lists,
// `unlink` removes a device. Peers address a device with `--peer NAME --device N`.
//
// Files: main.cpp (arguments and commands), json.{h,cpp} (flat JSON), state.{h,cpp} (storage:
// one SqliteStore database per state directory, and the kept link request), devices.{h,cpp}
// (device lists: the rules for accepting one, ours and the peers').
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <hush/hush.h>

#include "devices.h"
#include "group.h"
#include "json.h"
#include "state.h"

namespace hush_cli {
namespace {

constexpr std::string_view kUsage = R"(usage: hush-cli --state DIR <command> [options]

A scriptable Signal-protocol peer: version 4 (PQXDH and SPQR, as libsignal 0.103 speaks it) with
peers whose bundles carry a Kyber prekey, version 3 (X3DH, libsignal-protocol-c) with the others.
Each invocation opens its state in DIR (an SQLite database, DIR/hush.db), does one operation as
one transaction and exits; output is printed only after the new state is committed. Keys and
message bodies are lowercase hex.

A person (a name) may have several devices, each with a DIR of its own: all hold the person's
identity key, and the person's device list, signed with it, says which devices exist. init makes
device 1 and the first list; link-code, link and link --accept add a device.

commands:
  init [--registration-id N] [--device-id N] [--name S] [--prekeys N] [--kyber-prekeys N]
       [--require-pq] [--force]
      Create DIR (if missing) with a new identity, signed prekey 1, N one-time prekeys
      (default 100, at most 10000), N one-time Kyber prekeys (--kyber-prekeys, ids 1..N, default
      100, at most 1000) and a last-resort Kyber prekey (id N + 1). --require-pq: post-quantum
      sessions only (process-bundle refuses a bundle without a Kyber prekey with
      post_quantum_required; decrypt refuses a version-3 prekey message with legacy_message).
      Refuses an initialised DIR unless --force (new identity).
      The name (1 to 1024 bytes) defaults to the last component of DIR. As device 1 (the
      default) it also makes the person's first device list (version 1, devices [1]); with
      --device-id N, N > 1 (for older scripts), it makes none, and that state cannot link or
      unlink devices. Prints a JSON summary.
  identity
      Print our name, registration id, device id, identity key, signed prekey id, prekeys left
      and our device list's version (0: none) as JSON.
  bundle [--prekey-id N | --no-prekey] [--last-resort-kyber | --no-kyber]
      Print our prekey bundle as one JSON line; offers the lowest-numbered one-time prekey left
      unless told otherwise, and the lowest one-time Kyber prekey left, else the last-resort one
      (kyber_prekey_id, kyber_prekey: 1569 bytes, type byte 0x08 first, kyber_prekey_signature);
      --last-resort-kyber offers the last-resort one, --no-kyber none (an X3DH-only bundle).
      Consumes nothing.
  process-bundle --peer NAME [--device N]
      Read a bundle JSON line on stdin and start a session with it as initiator: PQXDH (version
      4) when it has a Kyber prekey, else X3DH (version 3; refused with post_quantum_required
      under init --require-pq, or when the person already had a version-4 session with us).
      --device defaults to the bundle's device_id.
  encrypt --peer NAME [--device N] [--count K]
      Read plaintext on stdin; print K (default 1) messages, one JSON line each:
      {"type":"prekey"|"whisper","body":"<hex>"}.
  decrypt --peer NAME [--device N] [--type prekey|whisper]
      Read one message on stdin (a JSON line as printed by encrypt, or bare hex with --type) of
      version 3 or 4; write the plaintext to stdout. --device is the sender's device (a message
      does not say). A version-3 prekey message is refused with legacy_message under init
      --require-pq, or when the person already had a version-4 session with us.
  received [--type prekey|whisper]
      Read a message on stdin, as for decrypt, that was already decrypted; write its plaintext
      again (for a decrypt that was interrupted before it printed; the last 64 are kept).
  session-info --peer NAME [--device N]
      Print what is known about the session with the peer's device as JSON: version (3 or 4; 0
      without a session), spqr_epoch for version 4; trusted_identity is the person's (one
      identity for every device of NAME).
  trust --peer NAME --identity-key HEX
      Trust that identity for the person NAME, met before (a bundle, message or device list
      brought an identity for NAME; a first contact is trusted on first use), on every device of
      that name (after untrusted_identity); sessions made with another identity are closed, so
      sending needs a new process-bundle, and a device list of NAME under another identity is
      dropped.
  safety-number --peer NAME
      Print the safety number with the person NAME as JSON: peer, identity_key (the one trusted
      for NAME), safety_number (60 digits in 12 groups of 5, as Signal shows them) and scannable
      (hex). Our name (init --name) and NAME are the identifiers: the other side must know us by
      our name, and NAME must be theirs, or the numbers differ. Compare the digits with the
      other side's, in person or on a call you trust.
  reset --peer NAME [--device N]
      Close the session with every device of NAME (or with device N only), so the next encrypt
      needs a new process-bundle; the identity stays trusted, and closed states still decrypt
      late messages. Prints {"peer":NAME,"closed":[device ids]}; with no open session to close,
      fails.
  peers
      Print one JSON line per person we know (a trusted identity or a session), in name order:
      name, identity_key ("" if none), sessions (the device ids with a stored session) and
      device_list_version (0: none stored). Prints nothing if there is none.

devices of a person:
  link-code [--force]
      In a new DIR (created if missing): make a link request, keep it in DIR/link-request (mode
      0600: it is secret) and print {"code":"HUSHLINK1-...","mailbox":"<hex>"}. Give the code to
      an existing device of the person. --force replaces a request kept before.
  link --code CODE [--data HEX]
      On an existing device: give the new device the next device id, sign and store our new
      device list (one version up; at most 32 devices), and seal a link message for CODE with
      our name, the device id, the identity key pair, the list, the identities we trust for our
      contacts, and the application data HEX if given. Prints {"device_id":N,"mailbox":"<hex>",
      "message":"<hex>","device_list":"<hex>"}. The message opens only with the code's request.
  link --accept [--registration-id N] [--prekeys N]
      In the DIR of link-code: read the JSON printed by link (or the message alone, as hex) on
      stdin, open the message with the kept request, and create DIR/hush.db as that device of
      the person: the identity, a registration id of its own, signed prekey 1, N one-time
      prekeys (default 100), the contacts' identities and the device list. The request is then
      wiped and removed. Prints the JSON summary init prints, with the number of contacts and
      the application data (hex) if the link carried any.
  devices [--peer NAME] [--import]
      Print our device list, or the one stored for NAME, as JSON: name, identity_key, version,
      devices, next_device_id, and device_list (the signed list, hex). With --import, first
      read a signed list (hex) on stdin and store it as the newest of NAME (without --peer:
      ours, from another of our devices), after the checks the Messenger makes: its signature
      (invalid_signature); it names NAME (invalid_message); its identity is the one trusted for
      NAME, or with none trusted yet it becomes the trusted one (untrusted_identity); it is not
      older than the stored list under that identity, and a list of the same version is the same
      list (stale_device_list). Sessions with devices that left the list are closed.
  unlink --device N
      Remove our device N from our device list (one version up), sign and store the list, and
      print it as devices does. Refuses this device and a device not on the list
      (invalid_argument).

--device (except for unlink) is a device of the peer NAME; device ids go from 1 to 4294967295.
It defaults to 1 (except for process-bundle). Once a device list is stored for NAME (devices
--import), process-bundle, encrypt and decrypt refuse a device of NAME not on it
(unknown_device). Options may appear anywhere.
With HUSH_CLI_STORAGE_KEY set to 64 hex digits, DIR/hush.db is encrypted at rest with that key.
exit status: 0 success, 1 usage or I/O error, 2 protocol error (last stderr line: error: <name>).
)";

// ---- arguments ----

struct OptionSpec {
  std::string_view name;
  bool takes_value;
};

constexpr OptionSpec kOptions[] = {
    {"state", true},
    {"registration-id", true},
    {"device-id", true},
    {"name", true},
    {"prekeys", true},
    {"force", false},
    {"prekey-id", true},
    {"no-prekey", false},
    {"peer", true},
    {"device", true},
    {"count", true},
    {"type", true},
    {"identity-key", true},
    {"help", false},
    {"code", true},
    {"data", true},
    {"accept", false},
    {"import", false},
    {"group", true},
    {"legacy", false},
    {"kyber-prekeys", true},
    {"require-pq", false},
    {"last-resort-kyber", false},
    {"no-kyber", false},
};

struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> options;  // besides --state
};

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"init",
       {"registration-id", "device-id", "name", "prekeys", "kyber-prekeys", "require-pq", "force"}},
      {"identity", {}},
      {"bundle", {"prekey-id", "no-prekey", "last-resort-kyber", "no-kyber"}},
      {"process-bundle", {"peer", "device"}},
      {"encrypt", {"peer", "device", "count"}},
      {"decrypt", {"peer", "device", "type"}},
      {"received", {"type"}},
      {"session-info", {"peer", "device"}},
      {"trust", {"peer", "identity-key"}},
      {"safety-number", {"peer"}},
      {"reset", {"peer", "device"}},
      {"peers", {}},
      {"link-code", {"force"}},
      {"link", {"code", "data", "accept", "registration-id", "prekeys"}},
      {"devices", {"peer", "import"}},
      {"unlink", {"device"}},
  };
  static const std::vector<CommandSpec> kAll = [] {
    std::vector<CommandSpec> all = kCommands;
    for (const auto& [name, options] : group_commands())
      all.push_back(CommandSpec{name, options});
    return all;
  }();
  return kAll;
}

struct Args {
  std::string command;
  std::map<std::string, std::string, std::less<>> values;
  std::set<std::string, std::less<>> flags;

  bool has(std::string_view name) const {
    return values.find(name) != values.end() || flags.find(name) != flags.end();
  }
  const std::string* get(std::string_view name) const {
    const auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
  const std::string& require(std::string_view name) const {
    const std::string* v = get(name);
    if (!v) fail_usage(command + " needs --" + std::string(name));
    return *v;
  }
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.size() > 2 && arg.substr(0, 2) == "--") {
      std::string_view name = arg.substr(2);
      std::optional<std::string_view> inline_value;
      if (const auto eq = name.find('='); eq != std::string_view::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const auto* spec = std::find_if(std::begin(kOptions), std::end(kOptions),
                                      [&](const OptionSpec& o) { return o.name == name; });
      if (spec == std::end(kOptions)) fail_usage("unknown option --" + std::string(name));
      if (args.has(name)) fail_usage("option --" + std::string(name) + " given twice");
      if (spec->takes_value) {
        if (inline_value) {
          args.values.emplace(name, *inline_value);
        } else if (i + 1 < argc) {
          args.values.emplace(name, argv[++i]);
        } else {
          fail_usage("option --" + std::string(name) + " needs a value");
        }
      } else {
        if (inline_value) fail_usage("option --" + std::string(name) + " takes no value");
        args.flags.emplace(name);
      }
    } else if (arg == "-h") {
      args.flags.emplace("help");
    } else if (arg.size() > 1 && arg[0] == '-') {
      fail_usage("unknown option " + std::string(arg));
    } else if (args.command.empty()) {
      if (arg.empty()) fail_usage("empty command");
      args.command = arg;
    } else {
      fail_usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  return args;
}

void check_options(const Args& args) {
  const auto cmd = std::find_if(commands().begin(), commands().end(),
                                [&](const CommandSpec& c) { return c.name == args.command; });
  if (cmd == commands().end()) fail_usage("unknown command '" + args.command + "'");
  auto check_one = [&](const std::string& name) {
    if (name == "state") return;
    if (std::find(cmd->options.begin(), cmd->options.end(), name) == cmd->options.end()) {
      fail_usage("option --" + name + " is not valid for " + args.command);
    }
  };
  for (const auto& [name, value] : args.values)
    check_one(name);
  for (const auto& name : args.flags)
    check_one(name);
  if (!args.get("state")) fail_usage(args.command + " needs --state DIR");
}

std::uint32_t parse_u32(const Args& args, std::string_view name, std::uint32_t min,
                        std::uint32_t max) {
  const std::string& text = args.require(name);
  std::uint64_t n = 0;
  const bool digits =
      !text.empty() && text.size() <= 10 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    for (char c : text)
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!digits || n < min || n > max) {
    fail_usage("--" + std::string(name) + " must be a number from " + std::to_string(min) + " to " +
               std::to_string(max) + ", not '" + text + "'");
  }
  return static_cast<std::uint32_t>(n);
}

std::optional<std::uint32_t> optional_u32(const Args& args, std::string_view name,
                                          std::uint32_t min, std::uint32_t max) {
  if (!args.get(name)) return std::nullopt;
  return parse_u32(args, name, min, max);
}

constexpr std::uint32_t kU32Max = 0xFFFFFFFFu;

const std::string& peer_name(const Args& args) {
  const std::string& name = args.require("peer");
  if (name.empty() || name.size() > hush::kMaxAddressNameBytes || !is_valid_utf8(name)) {
    fail_usage("--peer must be valid UTF-8 of 1 to " + std::to_string(hush::kMaxAddressNameBytes) +
               " bytes");
  }
  return name;
}

// The peer's device: --device, else `default_device` (device ids start at 1).
hush::Address peer_address(const Args& args, std::uint32_t default_device) {
  const std::string& name = peer_name(args);
  const std::uint32_t device = optional_u32(args, "device", 1, kU32Max).value_or(default_device);
  if (device == 0) fail_usage("device 0 is not a device id (they start at 1)");
  return hush::Address{name, hush::DeviceId{device}};
}

// ---- values ----

std::string key_hex(const hush::PublicKey& key) {
  const auto bytes = key.serialize();
  return hush::to_hex(bytes);
}

std::string_view type_name(hush::MessageType type) {
  return type == hush::MessageType::kPreKey ? "prekey" : "whisper";
}

hush::MessageType parse_type(std::string_view name, std::string_view where) {
  if (name == "prekey") return hush::MessageType::kPreKey;
  if (name == "whisper") return hush::MessageType::kWhisper;
  fail_usage(std::string(where) + " must be \"prekey\" or \"whisper\", not \"" + std::string(name) +
             "\"");
}

// ---- standard input and output ----

// Which of the standard descriptors were closed when we started (see guard_standard_fds).
bool g_std_closed[3] = {false, false, false};

// Puts /dev/null on any closed standard descriptor, so that no file we open lands on it (output
// meant for stdout could otherwise end up in a state file), and remembers that it was closed:
// reading a closed stdin or writing to a closed stdout is then an error rather than silence.
void guard_standard_fds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    g_std_closed[fd] = true;
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd != fd) {
      if (null_fd >= 0) ::close(null_fd);
      std::_Exit(1);  // cannot even protect the descriptor table
    }
  }
}

constexpr std::size_t kMaxBundleInput = std::size_t{64} << 10;
// A message of kMaxMessageBytes in hex inside a JSON line.
constexpr std::size_t kMaxMessageInput = 2 * hush::kMaxMessageBytes + 4096;

// Reads all of stdin (binary) into a wiped buffer; more than `limit` bytes is a usage error.
hush::SecretBytes read_stdin(std::size_t limit) {
  if (g_std_closed[STDIN_FILENO]) fail_usage("standard input is closed");
  hush::SecretBytes buf(std::min<std::size_t>(limit + 1, std::size_t{64} << 10));
  std::size_t len = 0;
  for (;;) {
    if (len == buf.size()) {
      if (len > limit)
        fail_usage("standard input is larger than " + std::to_string(limit) + " bytes");
      hush::SecretBytes bigger(std::min(limit + 1, buf.size() * 2));
      std::memcpy(bigger.expose_mut().data(), buf.expose().data(), len);
      buf = std::move(bigger);
    }
    const ssize_t n = ::read(STDIN_FILENO, buf.expose_mut().data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_usage(std::string("cannot read standard input: ") + std::strerror(errno));
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  if (len > limit) fail_usage("standard input is larger than " + std::to_string(limit) + " bytes");
  buf.truncate(len);
  return buf;
}

std::string_view as_text(const hush::SecretBytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.expose().data()), bytes.size()};
}

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

void write_stdout(hush::ByteView data) {
  if (data.empty()) return;
  if (g_std_closed[STDOUT_FILENO]) fail_usage("cannot write standard output: it is closed");
  while (!data.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_usage(std::string("cannot write standard output: ") + std::strerror(errno));
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}

// ---- JSON input ----

JsonObject parse_json(std::string_view text, std::string_view what,
                      const std::vector<std::string_view>& allowed) {
  auto parsed = JsonObject::parse(text);
  if (const auto* error = std::get_if<JsonError>(&parsed)) {
    const std::string why = error->kind == JsonError::Kind::kSyntax
                                ? " is not valid JSON: "
                                : " is not a flat JSON object: ";
    fail_usage(std::string(what) + why + error->detail);
  }
  auto& obj = std::get<JsonObject>(parsed);
  for (const auto& [key, value] : obj.members()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      fail_usage(std::string(what) + " has an unknown field \"" + key + "\"");
    }
  }
  return std::move(obj);
}

std::optional<std::uint32_t> json_u32(const JsonObject& obj, std::string_view key,
                                      std::string_view what) {
  const JsonValue* v = obj.find(key);
  if (!v) return std::nullopt;
  const auto n = json_to_u32(*v);
  if (!n) {
    fail_usage(std::string(what) + " field \"" + std::string(key) +
               "\" must be an integer from 0 to 4294967295");
  }
  return n;
}

std::optional<std::string> json_string(const JsonObject& obj, std::string_view key,
                                       std::string_view what) {
  const JsonValue* v = obj.find(key);
  if (!v) return std::nullopt;
  if (v->kind != JsonValue::Kind::kString) {
    fail_usage(std::string(what) + " field \"" + std::string(key) + "\" must be a string");
  }
  return v->text;
}

hush::Bytes hex_bytes(std::string_view hex, std::string_view what) {
  auto bytes = hush::from_hex(hex);
  if (!bytes) fail_usage(std::string(what) + " is not hex");
  return std::move(*bytes);
}

hush::PreKeyBundle parse_bundle(std::string_view text) {
  constexpr std::string_view kWhat = "the bundle";
  const JsonObject obj =
      parse_json(text, kWhat,
                 {"registration_id", "device_id", "identity_key", "signed_prekey_id",
                  "signed_prekey", "signed_prekey_signature", "prekey_id", "prekey",
                  "kyber_prekey_id", "kyber_prekey", "kyber_prekey_signature"});
  auto need_u32 = [&](std::string_view key) {
    const auto n = json_u32(obj, key, kWhat);
    if (!n) fail_usage("the bundle has no \"" + std::string(key) + "\"");
    return *n;
  };
  auto need_hex = [&](std::string_view key) {
    const auto s = json_string(obj, key, kWhat);
    if (!s) fail_usage("the bundle has no \"" + std::string(key) + "\"");
    return hex_bytes(*s, "the bundle's \"" + std::string(key) + "\"");
  };

  hush::PreKeyBundle bundle;
  bundle.registration_id = need_u32("registration_id");
  bundle.device_id = hush::DeviceId{need_u32("device_id")};
  bundle.signed_pre_key_id = hush::SignedPreKeyId{need_u32("signed_prekey_id")};
  bundle.identity_key =
      check(hush::PublicKey::parse(need_hex("identity_key")), "bundle identity_key");
  bundle.signed_pre_key =
      check(hush::PublicKey::parse(need_hex("signed_prekey")), "bundle signed_prekey");
  bundle.signed_pre_key_signature =
      check(hush::Signature::parse(need_hex("signed_prekey_signature")),
            "bundle signed_prekey_signature");
  // prekey_id and prekey are passed on as given; the library refuses one without the other.
  if (const auto id = json_u32(obj, "prekey_id", kWhat)) bundle.pre_key_id = hush::PreKeyId{*id};
  if (obj.find("prekey")) {
    bundle.pre_key = check(hush::PublicKey::parse(need_hex("prekey")), "bundle prekey");
  }
  // The Kyber prekey (PQXDH): passed on as given; the library refuses a partial one.
  if (const auto id = json_u32(obj, "kyber_prekey_id", kWhat))
    bundle.kyber_pre_key_id = hush::KyberPreKeyId{*id};
  if (obj.find("kyber_prekey")) {
    bundle.kyber_pre_key =
        check(hush::KyberPublicKey::parse(need_hex("kyber_prekey")), "bundle kyber_prekey");
  }
  if (obj.find("kyber_prekey_signature")) {
    bundle.kyber_pre_key_signature =
        check(hush::Signature::parse(need_hex("kyber_prekey_signature")),
              "bundle kyber_prekey_signature");
  }
  return bundle;
}

// Reads a message: a JSON line {"type","body"} (type from the line) or bare hex (type from --type).
hush::CiphertextMessage read_message(const Args& args) {
  const hush::SecretBytes input = read_stdin(kMaxMessageInput);
  const std::string_view text = trim(as_text(input));
  std::optional<hush::MessageType> type;
  if (const std::string* t = args.get("type")) type = parse_type(*t, "--type");
  hush::Bytes body;
  if (text.empty()) {
    fail_usage(
        "no message on standard input (a JSON line as encrypt prints it, or hex with "
        "--type)");
  }
  if (text.front() == '{') {
    constexpr std::string_view kWhat = "the message";
    const JsonObject obj = parse_json(text, kWhat, {"type", "body"});
    const auto type_text = json_string(obj, "type", kWhat);
    const auto body_text = json_string(obj, "body", kWhat);
    if (!type_text || !body_text) fail_usage("the message needs \"type\" and \"body\"");
    const hush::MessageType line_type = parse_type(*type_text, "the message's \"type\"");
    if (type && *type != line_type) {
      fail_usage("--type " + *args.get("type") + " contradicts the message's type \"" + *type_text +
                 "\"");
    }
    type = line_type;
    body = hex_bytes(*body_text, "the message's \"body\"");
  } else {
    auto hex = hush::from_hex(text);
    if (!hex) {
      fail_usage(
          "standard input is not a message (a JSON line as encrypt prints it, or hex with "
          "--type)");
    }
    if (!type) fail_usage("a bare hex message needs --type prekey|whisper");
    body = std::move(*hex);
  }
  return check(hush::CiphertextMessage::parse(*type, body), "decrypt");
}

// ---- commands ----

std::string default_name(const std::string& dir) {
  std::string_view s = dir;
  while (s.size() > 1 && s.back() == '/')
    s.remove_suffix(1);
  if (const auto slash = s.find_last_of('/'); slash != std::string_view::npos && s.size() > 1) {
    s = s.substr(slash + 1);
  }
  if (s == "/" || s == "." || s == ".." || !is_valid_utf8(s)) return "";
  return std::string(s);
}

constexpr std::uint32_t kMaxInitPreKeys = 10000;
// Kyber prekeys are 4.8 KB each in the database (and take a key generation each).
constexpr std::uint32_t kMaxInitKyberPreKeys = 1000;
constexpr std::uint32_t kMaxCount = 10000;
// encrypt --count K: at most this much plaintext in total (K copies).
constexpr std::uint64_t kMaxTotalPlaintext = std::uint64_t{64} << 20;

// What init and link --accept print.
JsonWriter state_summary(const State& state, std::uint32_t registration_id,
                         const hush::IdentityKey& identity_key,
                         const std::vector<hush::PreKeyId>& pre_key_ids,
                         std::uint64_t device_list_version, std::uint32_t kyber_pre_key_count) {
  JsonWriter out;
  out.add_number("registration_id", registration_id)
      .add_number("device_id", state.meta.device_id)
      .add_string("name", state.meta.name)
      .add_string("identity_key", key_hex(identity_key))
      .add_number("signed_prekey_id", state.meta.signed_pre_key_id);
  if (!pre_key_ids.empty()) out.add_number("first_prekey_id", hush::to_uint(pre_key_ids.front()));
  out.add_number("prekey_count", pre_key_ids.size())
      .add_number("kyber_prekey_count", kyber_pre_key_count)
      .add_number("last_resort_kyber_prekey_id", state.meta.last_resort_kyber_pre_key_id)
      .add_number("device_list_version", device_list_version);
  return out;
}

// Generates `count` one-time Kyber prekeys and a last-resort one into the fresh `store` with
// hush::replenish_kyber_pre_keys (as the Messenger makes them): a new store's ids start at 1, so
// they are 1..count and count + 1 (what the metadata records).
void make_kyber_pre_keys(const hush::Context& ctx, hush::SqliteStore& store, std::uint32_t count,
                         std::string_view what) {
  check(hush::replenish_kyber_pre_keys(ctx, store, count, /*last_resort=*/true), what);
}

int cmd_init(const Args& args, const std::string& dir_path) {
  const auto registration_id = optional_u32(args, "registration-id", 1, kU32Max);
  const std::uint32_t device_id = optional_u32(args, "device-id", 1, kU32Max).value_or(1);
  const std::uint32_t prekeys = optional_u32(args, "prekeys", 0, kMaxInitPreKeys).value_or(100);
  const std::uint32_t kyber_prekeys =
      optional_u32(args, "kyber-prekeys", 0, kMaxInitKyberPreKeys).value_or(100);
  std::string name = args.get("name") ? *args.get("name") : default_name(dir_path);
  if (!args.get("name") && name.empty()) {
    fail_usage("cannot take a name from '" + dir_path + "': give --name");
  }
  // The name is the person's: device lists and link messages carry it.
  if (name.empty() || name.size() > hush::kMaxAddressNameBytes || !is_valid_utf8(name)) {
    fail_usage("--name must be valid UTF-8 of 1 to " + std::to_string(hush::kMaxAddressNameBytes) +
               " bytes");
  }

  StateDir dir(dir_path, StateDir::Mode::kCreate);
  if (dir.initialised() && !args.has("force")) {
    // A file that is not a state of ours is no reason to say "initialised".
    try {
      (void)dir.open();
    } catch (const Failure& f) {
      fail_usage(std::string(f.what()) + "; init --force would replace it with a new state");
    }
    fail_usage("'" + dir_path +
               "' is already initialised (use --force to start over with a new identity)");
  }
  if (dir.has_link_request() && !args.has("force")) {
    fail_usage("'" + dir_path +
               "' waits for a link (link --accept; or --force to drop the request and init)");
  }
  const hush::Context ctx = hush::default_context();
  hush::IdentityKeyPair identity = check(hush::generate_identity_key_pair(ctx.random), "init");
  const std::uint32_t reg_id = registration_id
                                   ? *registration_id
                                   : check(hush::generate_registration_id(ctx.random), "init");
  constexpr hush::SignedPreKeyId kSignedPreKeyId{1};
  const hush::SignedPreKeyRecord signed_pre_key =
      check(hush::generate_signed_pre_key(ctx, identity, kSignedPreKeyId), "init");
  const hush::IdentityKey identity_key = identity.public_key;
  // Device 1 of a new person: the person's first device list. A device made with another id
  // (older scripts did that) gets none: only a link gives a device a list that names it.
  std::optional<hush::SignedDeviceList> first_list;
  if (device_id == 1) first_list = first_device_list(name, identity);

  std::vector<hush::PreKeyId> ids;
  Metadata meta{name, device_id, hush::to_uint(kSignedPreKeyId)};
  meta.last_resort_kyber_pre_key_id = kyber_prekeys + 1;  // ids 1..N one-time, N + 1 last resort
  meta.require_pq = args.has("require-pq");
  const State state = dir.create(meta, std::move(identity), reg_id, [&](hush::SqliteStore& store) {
    check(store.store_signed_pre_key(signed_pre_key), "init");
    make_kyber_pre_keys(ctx, store, kyber_prekeys, "init");
    if (prekeys > 0) ids = check(hush::replenish_pre_keys(ctx, store, prekeys), "init");
    if (first_list) {
      check(store.store_messenger_record(hush::MessengerRecordKind::kDeviceList, name,
                                         first_list->serialized()),
            "init");
    }
  });
  if (dir.has_link_request()) dir.remove_link_request();  // --force: the request is dropped
  write_stdout(
      hush::as_bytes(state_summary(state, reg_id, identity_key, ids,
                                   first_list ? first_list->list().version : 0, kyber_prekeys + 1)
                         .line()));
  return 0;
}

int cmd_identity(const std::string& dir_path) {
  StateDir dir(dir_path, StateDir::Mode::kRead);
  const State state = dir.open();
  const hush::IdentityKeyPair identity = check(state.store->identity_key_pair(), "identity");
  const std::uint32_t reg_id = check(state.store->local_registration_id(), "identity");
  const auto ids = check(state.store->pre_key_ids(), "identity");
  const auto list = stored_device_list(*state.store, state.meta.name);
  JsonWriter out;
  out.add_string("name", state.meta.name)
      .add_number("registration_id", reg_id)
      .add_number("device_id", state.meta.device_id)
      .add_string("identity_key", key_hex(identity.public_key))
      .add_number("signed_prekey_id", state.meta.signed_pre_key_id)
      .add_number("prekeys_left", ids.size())
      .add_number("device_list_version", list ? list->list().version : 0);
  write_stdout(hush::as_bytes(out.line()));
  return 0;
}

int cmd_bundle(const Args& args, const std::string& dir_path) {
  if (args.has("prekey-id") && args.has("no-prekey")) {
    fail_usage("--prekey-id and --no-prekey exclude each other");
  }
  if (args.has("last-resort-kyber") && args.has("no-kyber")) {
    fail_usage("--last-resort-kyber and --no-kyber exclude each other");
  }
  const auto chosen = optional_u32(args, "prekey-id", 0, kU32Max);
  StateDir dir(dir_path, StateDir::Mode::kRead);
  const State state = dir.open();
  std::optional<hush::PreKeyId> pre_key_id;
  if (chosen) {
    pre_key_id = hush::PreKeyId{*chosen};
  } else if (!args.has("no-prekey")) {
    const auto ids = check(state.store->pre_key_ids(), "bundle");
    if (!ids.empty()) pre_key_id = *std::min_element(ids.begin(), ids.end());
  }
  // The Kyber prekey: the lowest one-time one left, else the last-resort one (none in a state
  // made before hush-cli had Kyber prekeys, or with --no-kyber: an X3DH-only bundle).
  std::optional<hush::KyberPreKeyId> kyber_id;
  const std::uint32_t last_resort = state.meta.last_resort_kyber_pre_key_id;
  if (!args.has("no-kyber") && last_resort != 0) {
    kyber_id = hush::KyberPreKeyId{last_resort};
    if (!args.has("last-resort-kyber")) {
      for (const hush::KyberPreKeyId id : check(state.store->kyber_pre_key_ids(), "bundle")) {
        if (hush::to_uint(id) != last_resort) {
          kyber_id = id;
          break;
        }
      }
    }
  }
  const hush::PreKeyBundle bundle = check(
      hush::make_bundle(*state.store, hush::DeviceId{state.meta.device_id},
                        hush::SignedPreKeyId{state.meta.signed_pre_key_id}, pre_key_id, kyber_id),
      "bundle");
  JsonWriter out;
  out.add_number("registration_id", bundle.registration_id)
      .add_number("device_id", hush::to_uint(bundle.device_id))
      .add_string("identity_key", key_hex(bundle.identity_key))
      .add_number("signed_prekey_id", hush::to_uint(bundle.signed_pre_key_id))
      .add_string("signed_prekey", key_hex(bundle.signed_pre_key))
      .add_string("signed_prekey_signature", hush::to_hex(bundle.signed_pre_key_signature.view()));
  if (bundle.pre_key_id && bundle.pre_key) {
    out.add_number("prekey_id", hush::to_uint(*bundle.pre_key_id))
        .add_string("prekey", key_hex(*bundle.pre_key));
  }
  if (bundle.kyber_pre_key_id && bundle.kyber_pre_key && bundle.kyber_pre_key_signature) {
    out.add_number("kyber_prekey_id", hush::to_uint(*bundle.kyber_pre_key_id))
        .add_string("kyber_prekey", hush::to_hex(bundle.kyber_pre_key->serialize()))
        .add_string("kyber_prekey_signature", hush::to_hex(bundle.kyber_pre_key_signature->view()));
  }
  write_stdout(hush::as_bytes(out.line()));
  return 0;
}

int cmd_process_bundle(const Args& args, const std::string& dir_path) {
  args.require("peer");
  const hush::SecretBytes input = read_stdin(kMaxBundleInput);
  const hush::PreKeyBundle bundle = parse_bundle(as_text(input));
  const hush::Address peer = peer_address(args, hush::to_uint(bundle.device_id));
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  check_listed(*state.store, peer, "process-bundle");
  hush::BundleOptions options;
  options.require_post_quantum = state.meta.require_pq;
  check(hush::process_prekey_bundle(hush::default_context(), *state.store, peer, bundle, options),
        "process-bundle");
  return 0;
}

int cmd_encrypt(const Args& args, const std::string& dir_path) {
  const hush::Address peer = peer_address(args, 1);
  const std::uint32_t count = optional_u32(args, "count", 1, kMaxCount).value_or(1);
  const hush::SecretBytes plaintext = read_stdin(hush::kMaxPlaintextBytes);
  if (std::uint64_t{count} * plaintext.size() > kMaxTotalPlaintext) {
    fail_usage("--count " + std::to_string(count) + " copies of the plaintext exceed " +
               std::to_string(kMaxTotalPlaintext) + " bytes");
  }
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  check_listed(*state.store, peer, "encrypt");
  const hush::Context ctx = hush::default_context();
  std::string out;
  // All K messages in one transaction (encrypt_messages): nothing is saved unless all of them
  // succeed, and nothing is printed before the advanced sending chain is committed (a ciphertext
  // shown before would, after a crash, have its message key used again for the next plaintext).
  const std::vector<hush::OutgoingMessage> batch(count,
                                                 hush::OutgoingMessage{peer, plaintext.expose()});
  hush::EncryptBatchOptions options;
  options.local_address = hush::Address{state.meta.name, hush::DeviceId{state.meta.device_id}};
  const auto messages = check(hush::encrypt_messages(ctx, *state.store, batch, options), "encrypt");
  for (const hush::CiphertextMessage& message : messages) {
    out += JsonWriter()
               .add_string("type", type_name(message.type()))
               .add_string("body", hush::to_hex(message.serialized()))
               .line();
  }
  write_stdout(hush::as_bytes(out));
  return 0;
}

int cmd_decrypt(const Args& args, const std::string& dir_path) {
  const hush::Address peer = peer_address(args, 1);
  const hush::CiphertextMessage message = read_message(args);
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  // As the Messenger does: a device its person's list does not name is refused unread.
  check_listed(*state.store, peer, "decrypt");
  // The plaintext is kept in the same transaction as the new session state, so a decrypt that
  // dies after its commit but before printing loses nothing: `received` shows it again.
  hush::DecryptOptions options;
  options.before_commit = [&](hush::ByteView plaintext) {
    StateDir::keep_plaintext(*state.store, message.serialized(), plaintext);
    return hush::ok_status();
  };
  options.local_address = hush::Address{state.meta.name, hush::DeviceId{state.meta.device_id}};
  options.require_post_quantum = state.meta.require_pq;
  const hush::SecretBytes plaintext =
      check(hush::decrypt_message(hush::default_context(), *state.store, peer, message, options),
            "decrypt");
  write_stdout(plaintext.expose());
  return 0;
}

int cmd_received(const Args& args, const std::string& dir_path) {
  const hush::CiphertextMessage message = read_message(args);
  StateDir dir(dir_path, StateDir::Mode::kRead);
  State state = dir.open();
  const auto plaintext = StateDir::kept_plaintext(*state.store, message.serialized());
  if (!plaintext) fail_usage("that message was not decrypted here (or is no longer kept)");
  write_stdout(*plaintext);
  return 0;
}

int cmd_session_info(const Args& args, const std::string& dir_path) {
  const hush::Address peer = peer_address(args, 1);
  StateDir dir(dir_path, StateDir::Mode::kRead);
  const State state = dir.open();
  const hush::SessionInfo info = check(hush::session_info(*state.store, peer), "session-info");
  // Trust is per person: every device of the peer's name shares one identity.
  const auto trusted = check(state.store->identity(peer.name), "session-info");
  JsonWriter out;
  out.add_bool("exists", info.exists)
      .add_number("version", info.version)
      .add_bool("has_unacknowledged_prekey", info.has_unacknowledged_prekey)
      .add_number("previous_states", info.previous_states)
      .add_string("remote_identity", info.remote_identity ? key_hex(*info.remote_identity) : "")
      .add_number("remote_registration_id", info.remote_registration_id)
      .add_string("trusted_identity", trusted ? key_hex(*trusted) : "");
  if (info.version == hush::kPqProtocolVersion) out.add_number("spqr_epoch", info.spqr_epoch);
  write_stdout(hush::as_bytes(out.line()));
  return 0;
}

int cmd_trust(const Args& args, const std::string& dir_path) {
  const hush::Address peer = peer_address(args, 1);  // the name is what counts
  const hush::Bytes key_bytes = hex_bytes(args.require("identity-key"), "--identity-key");
  const hush::IdentityKey key = check(hush::PublicKey::parse(key_bytes), "trust --identity-key");
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  hush::SqliteStore& store = *state.store;
  check(store.run_transaction([&]() -> hush::Status {
    // A name never met is more likely a typing error than a key verified in advance.
    if (!check(store.identity(peer.name), "trust")) {
      fail_usage("no identity is known for '" + peer.name +
                 "' (a first bundle, message or device list is trusted on first use; trust "
                 "replaces an identity met before)");
    }
    // Trust is per person: this trusts the key for every device of the name, and closes the
    // sessions of any of them made with another key.
    check(hush::trust_identity(store, peer.name, key), "trust");
    // A device list signed by the old identity no longer says which devices the person has.
    if (const auto list = stored_device_list(store, peer.name);
        list && !(list->list().identity == key)) {
      check(store.remove_messenger_record(hush::MessengerRecordKind::kDeviceList, peer.name),
            "trust");
    }
    return hush::ok_status();
  }),
        "trust");
  return 0;
}

int cmd_safety_number(const Args& args, const std::string& dir_path) {
  const std::string& peer = peer_name(args);
  StateDir dir(dir_path, StateDir::Mode::kRead);
  const State state = dir.open();
  constexpr std::string_view kWhat = "safety-number";
  const auto theirs = check(state.store->identity(peer), kWhat);
  if (!theirs) {
    fail_usage("no identity is known for '" + peer +
               "' (a bundle, message or device list of theirs brings one)");
  }
  const hush::IdentityKeyPair ours = check(state.store->identity_key_pair(), kWhat);
  // The names are the stable identifiers, as the Messenger uses them: both sides must use the
  // same names for each other (ours is the one init --name gave, theirs the one --peer gives).
  const hush::Fingerprint fingerprint =
      check(hush::make_fingerprint(hush::kFingerprintIterations, state.meta.name, ours.public_key,
                                   peer, *theirs),
            kWhat);
  write_stdout(hush::as_bytes(
      JsonWriter()
          .add_string("peer", peer)
          .add_string("identity_key", key_hex(*theirs))
          .add_string("safety_number", hush::group_safety_number(fingerprint.displayable))
          .add_string("scannable", hush::to_hex(fingerprint.scannable))
          .line()));
  return 0;
}

int cmd_reset(const Args& args, const std::string& dir_path) {
  const std::string& peer = peer_name(args);
  const auto device = optional_u32(args, "device", 1, kU32Max);
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  hush::SqliteStore& store = *state.store;
  constexpr std::string_view kWhat = "reset";
  std::vector<std::uint64_t> closed;
  check(store.run_transaction([&]() -> hush::Status {
    std::vector<hush::DeviceId> devices;
    if (device) {
      devices.push_back(hush::DeviceId{*device});
    } else {
      devices = check(store.session_devices(peer), kWhat);
    }
    for (const hush::DeviceId d : devices) {
      const hush::Address address{peer, d};
      if (!check(hush::session_info(store, address), kWhat).exists) continue;
      check(hush::reset_session(store, address), kWhat);
      closed.push_back(hush::to_uint(d));
    }
    return hush::ok_status();
  }),
        kWhat);
  if (closed.empty()) {
    fail_usage("no open session with '" + peer + "'" +
               (device ? " device " + std::to_string(*device) : std::string()));
  }
  write_stdout(hush::as_bytes(
      JsonWriter().add_string("peer", peer).add_number_array("closed", closed).line()));
  return 0;
}

int cmd_peers(const std::string& dir_path) {
  StateDir dir(dir_path, StateDir::Mode::kRead);
  const State state = dir.open();
  hush::SqliteStore& store = *state.store;
  constexpr std::string_view kWhat = "peers";
  // Everyone with a trusted identity or a session, in name order (bytewise).
  std::map<std::string, std::optional<hush::IdentityKey>> people;
  for (auto& [name, key] : check(store.identities(), kWhat))
    people.insert_or_assign(name, key);
  std::map<std::string, std::vector<std::uint64_t>> sessions;
  for (const hush::Address& a : check(store.session_addresses(), kWhat)) {
    people.try_emplace(a.name);
    sessions[a.name].push_back(hush::to_uint(a.device_id));
  }
  std::string out;
  for (const auto& [name, key] : people) {
    if (name == state.meta.name) continue;  // ourselves (our other devices)
    // Names come from --peer (checked) and bundles' owners; one that is not UTF-8 cannot be JSON.
    if (!is_valid_utf8(name)) continue;
    const auto list = stored_device_list(store, name);
    out += JsonWriter()
               .add_string("name", name)
               .add_string("identity_key", key ? key_hex(*key) : "")
               .add_number_array("sessions", sessions[name])
               .add_number("device_list_version", list ? list->list().version : 0)
               .line();
  }
  write_stdout(hush::as_bytes(out));
  return 0;
}

// ---- devices of a person ----

// A signed device list in hex on stdin, with surrounding whitespace.
constexpr std::size_t kMaxDeviceListInput = 2 * hush::kMaxDeviceListBytes + 64;
// The JSON line `link` prints: the link message and the list in hex, and a little more.
constexpr std::size_t kMaxLinkInput =
    2 * hush::kMaxLinkMessageBytes + 2 * hush::kMaxDeviceListBytes + 4096;

std::string mailbox_hex(const hush::LinkMailbox& mailbox) {
  return hush::to_hex(hush::ByteView(mailbox.data(), mailbox.size()));
}

// A device list as `devices` prints it.
std::string device_list_line(const hush::SignedDeviceList& signed_list) {
  const hush::DeviceList& list = signed_list.list();
  std::vector<std::uint64_t> devices;
  devices.reserve(list.devices.size());
  for (const hush::DeviceId d : list.devices)
    devices.push_back(hush::to_uint(d));
  // A name that is not UTF-8 cannot be written as JSON text; a list that carries one was refused
  // before it was stored (names come from --peer and --name, both checked).
  if (!is_valid_utf8(list.name)) fail_usage("the device list's name is not UTF-8");
  return JsonWriter()
      .add_string("name", list.name)
      .add_string("identity_key", key_hex(list.identity))
      .add_number("version", list.version)
      .add_number_array("devices", devices)
      .add_number("next_device_id", hush::to_uint(list.next_device_id))
      .add_string("device_list", hush::to_hex(signed_list.serialized()))
      .line();
}

hush::Address self_address(const State& state) {
  return hush::Address{state.meta.name, hush::DeviceId{state.meta.device_id}};
}

int cmd_link_code(const Args& args, const std::string& dir_path) {
  StateDir dir(dir_path, StateDir::Mode::kCreate);
  if (dir.initialised()) {
    fail_usage("'" + dir_path +
               "' is initialised: link-code makes a new device, in a directory of its own");
  }
  const hush::LinkRequest request =
      check(hush::LinkRequest::create(hush::system_random()), "link-code");
  dir.keep_link_request(request.serialize(), args.has("force"));
  write_stdout(hush::as_bytes(JsonWriter()
                                  .add_string("code", request.code())
                                  .add_string("mailbox", mailbox_hex(request.mailbox()))
                                  .line()));
  return 0;
}

int cmd_link_offer(const Args& args, const std::string& dir_path) {
  for (const std::string_view accept_only : {"registration-id", "prekeys"}) {
    if (args.has(accept_only)) fail_usage("--" + std::string(accept_only) + " goes with --accept");
  }
  const hush::LinkCode code = check(hush::LinkCode::parse(args.require("code")), "link --code");
  hush::SecretBytes application_data;
  if (const std::string* data = args.get("data")) {
    hush::Bytes bytes = hex_bytes(*data, "--data");
    if (bytes.size() > hush::kMaxLinkApplicationDataBytes) {
      hush::secure_wipe(bytes);
      fail_usage("--data is larger than " + std::to_string(hush::kMaxLinkApplicationDataBytes) +
                 " bytes");
    }
    application_data = hush::SecretBytes::copy_of(bytes);
    hush::secure_wipe(bytes);
  }
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  hush::SqliteStore& store = *state.store;
  const hush::Address self = self_address(state);
  constexpr std::string_view kWhat = "link";
  std::optional<hush::SignedDeviceList> list;
  hush::DeviceId added{0};
  hush::Bytes message;
  // The new list and the link message in one transaction: a failed seal keeps no list.
  check(store.run_transaction([&]() -> hush::Status {
    hush::DeviceList next = own_list_to_change(store, self);
    if (next.devices.size() >= hush::kMaxDevicesPerPerson)
      fail_protocol(hush::Errc::kLimitExceeded, "the person has the most devices allowed", kWhat);
    if (hush::to_uint(next.next_device_id) == kU32Max)
      fail_protocol(hush::Errc::kLimitExceeded, "device ids exhausted", kWhat);
    added = next.next_device_id;
    next.devices.push_back(added);
    std::sort(next.devices.begin(), next.devices.end());
    next.next_device_id = hush::DeviceId{hush::to_uint(added) + 1};
    next.version += 1;
    list = store_own_list(store, self, std::move(next));
    auto contacts = check(store.identities(), kWhat);
    // Beyond the limit the new device learns the rest by trust on first use (as the Messenger).
    if (contacts.size() > hush::kMaxLinkContacts) contacts.resize(hush::kMaxLinkContacts);
    const hush::LinkContents contents{self.name,
                                      added,
                                      check(store.identity_key_pair(), kWhat),
                                      *list,
                                      std::move(contacts),
                                      std::move(application_data)};
    message = check(hush::seal_link_message(hush::system_random(), code, contents), kWhat);
    return hush::ok_status();
  }),
        kWhat);
  write_stdout(hush::as_bytes(JsonWriter()
                                  .add_number("device_id", hush::to_uint(added))
                                  .add_string("mailbox", mailbox_hex(code.mailbox))
                                  .add_string("message", hush::to_hex(message))
                                  .add_string("device_list", hush::to_hex(list->serialized()))
                                  .line()));
  return 0;
}

// What link --accept reads: the JSON line link printed, or the link message alone in hex.
struct LinkInput {
  hush::Bytes message;
  std::optional<hush::Bytes> mailbox;
  std::optional<std::uint32_t> device_id;
  std::optional<hush::Bytes> device_list;
};

LinkInput parse_link_input(std::string_view text) {
  LinkInput in;
  if (text.empty()) fail_usage("no link on standard input (the JSON line link printed)");
  if (text.front() != '{') {
    in.message = hex_bytes(text, "the link message");
    return in;
  }
  constexpr std::string_view kWhat = "the link";
  const JsonObject obj =
      parse_json(text, kWhat, {"device_id", "mailbox", "message", "device_list"});
  const auto message = json_string(obj, "message", kWhat);
  if (!message) fail_usage("the link has no \"message\"");
  in.message = hex_bytes(*message, "the link's \"message\"");
  if (const auto mailbox = json_string(obj, "mailbox", kWhat))
    in.mailbox = hex_bytes(*mailbox, "the link's \"mailbox\"");
  in.device_id = json_u32(obj, "device_id", kWhat);
  if (const auto list = json_string(obj, "device_list", kWhat))
    in.device_list = hex_bytes(*list, "the link's \"device_list\"");
  return in;
}

int cmd_link_accept(const Args& args, const std::string& dir_path) {
  for (const std::string_view offer_only : {"code", "data"}) {
    if (args.has(offer_only))
      fail_usage("--" + std::string(offer_only) + " and --accept exclude each other");
  }
  const auto registration_id = optional_u32(args, "registration-id", 1, kU32Max);
  const std::uint32_t prekeys = optional_u32(args, "prekeys", 0, kMaxInitPreKeys).value_or(100);
  const hush::SecretBytes input = read_stdin(kMaxLinkInput);
  const LinkInput in = parse_link_input(trim(as_text(input)));

  StateDir dir(dir_path, StateDir::Mode::kWrite);
  if (dir.initialised()) fail_usage("'" + dir_path + "' is already initialised");
  const hush::SecretBytes kept = dir.load_link_request();
  auto restored = hush::LinkRequest::deserialize(kept.expose());
  if (!restored) fail_usage("'" + dir_path + "/link-request' is damaged (make a new link-code)");
  const hush::LinkRequest request = std::move(*restored);
  const hush::LinkMailbox& mailbox = request.mailbox();
  if (in.mailbox &&
      !std::equal(in.mailbox->begin(), in.mailbox->end(), mailbox.begin(), mailbox.end())) {
    fail_usage("the link is for another mailbox than this directory's link code");
  }
  constexpr std::string_view kWhat = "link --accept";
  hush::LinkContents contents = check(request.open(in.message), kWhat);
  // The fields beside the sealed message are unauthenticated copies: they must agree with it.
  if ((in.device_id && *in.device_id != hush::to_uint(contents.device_id)) ||
      (in.device_list && *in.device_list != contents.device_list.serialized())) {
    fail_protocol(hush::Errc::kInvalidMessage,
                  "the link's device_id or device_list is not the sealed message's", kWhat);
  }
  if (!is_valid_utf8(contents.name))
    fail_protocol(hush::Errc::kInvalidMessage, "the name is not UTF-8", kWhat);

  const hush::Context ctx = hush::default_context();
  const std::uint32_t reg_id =
      registration_id ? *registration_id : check(hush::generate_registration_id(ctx.random), kWhat);
  constexpr hush::SignedPreKeyId kSignedPreKeyId{1};
  const hush::SignedPreKeyRecord signed_pre_key =
      check(hush::generate_signed_pre_key(ctx, contents.identity, kSignedPreKeyId), kWhat);
  std::vector<hush::PreKeyId> ids;
  constexpr std::uint32_t kLinkedKyberPreKeys = 100;
  Metadata meta{contents.name, hush::to_uint(contents.device_id), hush::to_uint(kSignedPreKeyId)};
  meta.last_resort_kyber_pre_key_id = kLinkedKyberPreKeys + 1;
  const State state =
      dir.create(meta, contents.identity.clone(), reg_id, [&](hush::SqliteStore& store) {
        check(store.store_signed_pre_key(signed_pre_key), kWhat);
        make_kyber_pre_keys(ctx, store, kLinkedKyberPreKeys, kWhat);
        if (prekeys > 0) ids = check(hush::replenish_pre_keys(ctx, store, prekeys), kWhat);
        check(hush::import_link(store, contents), kWhat);
      });
  // The database holds the identity now; the request (which opens the link message, and so the
  // identity key pair, for whoever also has the message) goes.
  dir.remove_link_request();
  JsonWriter out = state_summary(state, reg_id, contents.identity.public_key, ids,
                                 contents.device_list.list().version, kLinkedKyberPreKeys + 1);
  out.add_number("contacts", contents.contacts.size());
  if (!contents.application_data.empty())
    out.add_string("application_data", hush::to_hex(contents.application_data.expose()));
  write_stdout(hush::as_bytes(out.line()));
  return 0;
}

int cmd_link(const Args& args, const std::string& dir_path) {
  if (args.has("accept")) return cmd_link_accept(args, dir_path);
  if (!args.has("code")) fail_usage("link needs --code CODE (or --accept)");
  return cmd_link_offer(args, dir_path);
}

int cmd_devices(const Args& args, const std::string& dir_path) {
  const std::string* peer = args.get("peer") ? &peer_name(args) : nullptr;
  if (!args.has("import")) {
    StateDir dir(dir_path, StateDir::Mode::kRead);
    State state = dir.open();
    const std::string& person = peer ? *peer : state.meta.name;
    const auto list = stored_device_list(*state.store, person);
    if (!list) {
      if (peer) fail_usage("no device list is stored for '" + person + "' (devices --import)");
      fail_usage("this state has no device list of ours (made by init --device-id N, N > 1)");
    }
    write_stdout(hush::as_bytes(device_list_line(*list)));
    return 0;
  }
  const hush::SecretBytes input = read_stdin(kMaxDeviceListInput);
  const std::string_view text = trim(as_text(input));
  if (text.empty()) fail_usage("no device list on standard input (hex, as devices prints it)");
  const hush::Bytes bytes = hex_bytes(text, "the device list");
  const hush::SignedDeviceList list =
      check(hush::SignedDeviceList::parse(bytes), "devices --import");
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  const std::string& person = peer ? *peer : state.meta.name;
  const hush::Address self = self_address(state);
  import_device_list(*state.store, self, person, list);
  if (person == self.name && !list.list().contains(self.device_id)) {
    std::fprintf(stderr,
                 "hush-cli: note: this device (%u) is not on our device list: it was "
                 "unlinked, and can no longer link or unlink devices\n",
                 hush::to_uint(self.device_id));
  }
  write_stdout(hush::as_bytes(device_list_line(list)));
  return 0;
}

int cmd_unlink(const Args& args, const std::string& dir_path) {
  const hush::DeviceId device{parse_u32(args, "device", 1, kU32Max)};
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  hush::SqliteStore& store = *state.store;
  const hush::Address self = self_address(state);
  constexpr std::string_view kWhat = "unlink";
  if (device == self.device_id)
    fail_protocol(hush::Errc::kInvalidArgument, "this device itself (unlink it from another)",
                  kWhat);
  std::optional<hush::SignedDeviceList> list;
  check(store.run_transaction([&]() -> hush::Status {
    hush::DeviceList next = own_list_to_change(store, self);
    const auto it = std::find(next.devices.begin(), next.devices.end(), device);
    if (it == next.devices.end())
      fail_protocol(hush::Errc::kInvalidArgument, "the device is not on our device list", kWhat);
    next.devices.erase(it);
    next.version += 1;
    list = store_own_list(store, self, std::move(next));
    return hush::ok_status();
  }),
        kWhat);
  write_stdout(hush::as_bytes(device_list_line(*list)));
  return 0;
}

int run(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (args.has("help") || args.command == "help") {
    write_stdout(hush::as_bytes(kUsage));
    write_stdout(hush::as_bytes(kGroupUsage));
    return 0;
  }
  if (args.command.empty()) fail_usage("no command given");
  check_options(args);
  // Output is printed after the state is committed; a command whose output could not be printed
  // at all must fail before it changes anything.
  if (g_std_closed[STDOUT_FILENO] && args.command != "process-bundle" && args.command != "trust" &&
      args.command != "process-distribution")
    fail_usage("cannot write standard output: it is closed");
  const std::string& dir = *args.get("state");
  const std::string& c = args.command;
  if (c == "init") return cmd_init(args, dir);
  if (c == "identity") return cmd_identity(dir);
  if (c == "bundle") return cmd_bundle(args, dir);
  if (c == "process-bundle") return cmd_process_bundle(args, dir);
  if (c == "encrypt") return cmd_encrypt(args, dir);
  if (c == "decrypt") return cmd_decrypt(args, dir);
  if (c == "received") return cmd_received(args, dir);
  if (c == "session-info") return cmd_session_info(args, dir);
  if (c == "trust") return cmd_trust(args, dir);
  if (c == "safety-number") return cmd_safety_number(args, dir);
  if (c == "reset") return cmd_reset(args, dir);
  if (c == "peers") return cmd_peers(dir);
  if (c == "link-code") return cmd_link_code(args, dir);
  if (c == "link") return cmd_link(args, dir);
  if (c == "devices") return cmd_devices(args, dir);
  if (c == "unlink") return cmd_unlink(args, dir);
  for (const auto& [name, options] : group_commands()) {
    if (c == name) {
      const GroupCommandContext context{args.values, args.flags, &read_stdin, &write_stdout};
      return run_group_command(c, context, dir);
    }
  }
  fail_usage("unknown command '" + c + "'");
}

}  // namespace
}  // namespace hush_cli

int main(int argc, char** argv) {
  // The database holds private keys: files this program creates are for its user only.
  ::umask(077);
  // A closed stdout must be a write error (exit 1), not a silent death.
  ::signal(SIGPIPE, SIG_IGN);
  hush_cli::guard_standard_fds();
  try {
    return hush_cli::run(argc, argv);
  } catch (const hush_cli::Failure& f) {
    std::fprintf(stderr, "hush-cli: %s\n", f.what());
    if (f.error_code()) {
      std::fprintf(stderr, "error: %s\n", std::string(hush::to_string(*f.error_code())).c_str());
    }
    return f.exit_code();
  } catch (const std::bad_alloc&) {
    std::fputs("hush-cli: out of memory\n", stderr);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-cli: %s\n", e.what());
    return 1;
  }
}

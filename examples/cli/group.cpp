// hush-cli: the group commands (see group.h).
//
// A group's format is chosen per command: without --legacy, current libsignal's, and the group is
// its distribution id (a lowercase UUID); with --legacy, libsignal-protocol-c 2.3.3's, and the
// group is any string (1 to 1024 bytes of UTF-8). Each command is one transaction: a failed one
// prints nothing and changes nothing, and output is printed only after the commit.
#include "group.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <hush/hush.h>

#include "devices.h"
#include "json.h"
#include "state.h"

namespace hush_cli {
namespace {

constexpr std::string_view kDistributionType = "senderkey_distribution";
constexpr std::string_view kMessageType = "senderkey";
constexpr std::uint32_t kMaxGroupCount = 10000;
// group-encrypt --count K: at most this much plaintext in total (K copies).
constexpr std::uint64_t kMaxGroupTotalPlaintext = std::uint64_t{64} << 20;
// A sender-key message of kMaxMessageBytes in hex inside a JSON line.
constexpr std::size_t kMaxGroupMessageInput = 2 * hush::kMaxMessageBytes + 4096;
constexpr std::size_t kMaxDistributionInput = 4096;

const std::string* get(const GroupCommandContext& c, std::string_view name) {
  const auto it = c.values.find(name);
  return it == c.values.end() ? nullptr : &it->second;
}

const std::string& require(const GroupCommandContext& c, std::string_view command,
                           std::string_view name) {
  const std::string* v = get(c, name);
  if (!v) fail_usage(std::string(command) + " needs --" + std::string(name));
  return *v;
}

std::uint32_t number(const std::string& text, std::string_view name, std::uint32_t min,
                     std::uint32_t max) {
  std::uint64_t n = 0;
  const bool digits =
      !text.empty() && text.size() <= 10 &&
      std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (digits) {
    for (char ch : text)
      n = n * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (!digits || n < min || n > max) {
    fail_usage("--" + std::string(name) + " must be a number from " + std::to_string(min) + " to " +
               std::to_string(max) + ", not '" + text + "'");
  }
  return static_cast<std::uint32_t>(n);
}

// The group named by --group, in the format --legacy chooses.
hush::SenderKeyGroup group_of(const GroupCommandContext& c, std::string_view command) {
  const std::string& name = require(c, command, kGroupOption);
  if (c.flags.count(kLegacyOption) != 0) {
    if (name.empty() || name.size() > hush::kMaxGroupNameBytes || !is_valid_utf8(name)) {
      fail_usage("--group must be valid UTF-8 of 1 to " + std::to_string(hush::kMaxGroupNameBytes) +
                 " bytes");
    }
    return check(hush::SenderKeyGroup::legacy(name), command);
  }
  auto id = hush::DistributionId::parse(name);
  if (!id) {
    fail_usage(
        "--group must be a distribution id, a lowercase UUID such as "
        "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6 (or use --legacy for a named group)");
  }
  return hush::SenderKeyGroup::current(*id);
}

// The sender's device: --peer NAME and --device N (default 1).
hush::Address peer_of(const GroupCommandContext& c, std::string_view command) {
  const std::string& name = require(c, command, "peer");
  if (name.empty() || name.size() > hush::kMaxAddressNameBytes || !is_valid_utf8(name)) {
    fail_usage("--peer must be valid UTF-8 of 1 to " + std::to_string(hush::kMaxAddressNameBytes) +
               " bytes");
  }
  std::uint32_t device = 1;
  if (const std::string* d = get(c, "device")) device = number(*d, "device", 1, 0xFFFFFFFFu);
  return hush::Address{name, hush::DeviceId{device}};
}

hush::Address self_of(const State& state) {
  return hush::Address{state.meta.name, hush::DeviceId{state.meta.device_id}};
}

std::string_view trimmed(std::string_view s) {
  const auto ws = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

// Reads stdin: a JSON line {"type":TYPE,"body":HEX} as the commands print, or bare hex.
hush::Bytes read_body(const GroupCommandContext& c, std::string_view type, std::size_t limit) {
  const hush::SecretBytes input = c.read_stdin(limit);
  const std::string_view text =
      trimmed({reinterpret_cast<const char*>(input.expose().data()), input.size()});
  std::string_view hex = text;
  std::string body;
  const std::string what = "the " + std::string(type) + " message";
  if (text.empty()) {
    fail_usage("no " + std::string(type) + " message on standard input (a JSON line as " +
               (type == kDistributionType ? "create-distribution" : "group-encrypt") +
               " prints it, or its hex)");
  }
  if (!text.empty() && text.front() == '{') {
    auto parsed = JsonObject::parse(text);
    if (const auto* error = std::get_if<JsonError>(&parsed)) {
      fail_usage(what +
                 (error->kind == JsonError::Kind::kSyntax ? " is not valid JSON: "
                                                          : " is not a flat JSON object: ") +
                 error->detail);
    }
    const JsonObject* obj = &std::get<JsonObject>(parsed);
    for (const auto& [key, value] : obj->members()) {
      if (key != "type" && key != "body")
        fail_usage(what + " has an unknown field \"" + key + "\"");
    }
    const JsonValue* t = obj->find("type");
    const JsonValue* b = obj->find("body");
    if (!t || !b || t->kind != JsonValue::Kind::kString || b->kind != JsonValue::Kind::kString)
      fail_usage(what + " needs \"type\" and \"body\" strings");
    if (t->text != type) {
      fail_usage("expected a message of type \"" + std::string(type) + "\", not \"" + t->text +
                 "\"");
    }
    body = b->text;
    hex = body;
  }
  auto bytes = hush::from_hex(hex);
  if (!bytes) fail_usage(what + " is not hex");
  return std::move(*bytes);
}

std::string line(std::string_view type, hush::ByteView body) {
  // Both values are plain ASCII: no escaping needed.
  return "{\"type\":\"" + std::string(type) + "\",\"body\":\"" + hush::to_hex(body) + "\"}\n";
}

int create_distribution(const GroupCommandContext& c, const std::string& dir_path) {
  const hush::SenderKeyGroup group = group_of(c, "create-distribution");
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  const auto skdm = check(hush::create_sender_key_distribution(hush::default_context(),
                                                               *state.store, self_of(state), group),
                          "create-distribution");
  c.write_stdout(hush::as_bytes(line(kDistributionType, skdm.serialized())));
  return 0;
}

int process_distribution(const GroupCommandContext& c, const std::string& dir_path) {
  const hush::SenderKeyGroup group = group_of(c, "process-distribution");
  const hush::Address peer = peer_of(c, "process-distribution");
  const hush::Bytes body = read_body(c, kDistributionType, kMaxDistributionInput);
  const auto skdm = check(hush::SenderKeyDistributionMessage::parse(group.format(), body),
                          "process-distribution");
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  check_listed(*state.store, peer, "process-distribution");
  check(hush::process_sender_key_distribution(*state.store, peer, group, skdm),
        "process-distribution");
  return 0;
}

int group_encrypt(const GroupCommandContext& c, const std::string& dir_path) {
  const hush::SenderKeyGroup group = group_of(c, "group-encrypt");
  std::uint32_t count = 1;
  if (const std::string* k = get(c, "count")) count = number(*k, "count", 1, kMaxGroupCount);
  const hush::SecretBytes plaintext = c.read_stdin(hush::kMaxPlaintextBytes);
  if (std::uint64_t{count} * plaintext.size() > kMaxGroupTotalPlaintext) {
    fail_usage("--count " + std::to_string(count) + " copies of the plaintext exceed " +
               std::to_string(kMaxGroupTotalPlaintext) + " bytes");
  }
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  // All K messages in one transaction: nothing is saved unless all succeed, and nothing is
  // printed before the advanced chain is committed.
  const std::vector<hush::ByteView> batch(count, plaintext.expose());
  const auto messages = check(hush::group_encrypt_messages(hush::default_context(), *state.store,
                                                           self_of(state), group, batch),
                              "group-encrypt");
  std::string out;
  for (const hush::SenderKeyMessage& m : messages)
    out += line(kMessageType, m.serialized());
  c.write_stdout(hush::as_bytes(out));
  return 0;
}

int group_decrypt(const GroupCommandContext& c, const std::string& dir_path) {
  const hush::SenderKeyGroup group = group_of(c, "group-decrypt");
  const hush::Address peer = peer_of(c, "group-decrypt");
  const hush::Bytes body = read_body(c, kMessageType, kMaxGroupMessageInput);
  const auto message = check(hush::SenderKeyMessage::parse(group.format(), body), "group-decrypt");
  StateDir dir(dir_path, StateDir::Mode::kWrite);
  State state = dir.open();
  check_listed(*state.store, peer, "group-decrypt");
  const hush::SecretBytes plaintext =
      check(hush::group_decrypt(hush::default_context(), *state.store, peer, group, message),
            "group-decrypt");
  c.write_stdout(plaintext.expose());
  return 0;
}

}  // namespace

const std::vector<std::pair<std::string_view, std::vector<std::string_view>>>& group_commands() {
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kCommands = {
      {"create-distribution", {kGroupOption, kLegacyOption}},
      {"process-distribution", {kGroupOption, kLegacyOption, "peer", "device"}},
      {"group-encrypt", {kGroupOption, kLegacyOption, "count"}},
      {"group-decrypt", {kGroupOption, kLegacyOption, "peer", "device"}},
  };
  return kCommands;
}

const std::string_view kGroupUsage = R"(
groups (sender keys):
  Without --legacy a group is in current libsignal's format and G is its distribution id, a
  lowercase UUID; with --legacy it is in libsignal-protocol-c 2.3.3's format and G is any name
  (1 to 1024 bytes). Send the distribution message to every member over 1:1 sessions (encrypt):
  it holds the chain key.
  create-distribution --group G [--legacy]
      Print our sender key distribution message for G (made on first use, then the same chain
      at its current iteration): {"type":"senderkey_distribution","body":"<hex>"}.
  process-distribution --group G --peer NAME [--device N] [--legacy]
      Read the distribution message of NAME's device in G on stdin (the JSON line, or bare hex)
      and keep its chain. A chain already held is kept as it is (never restarted).
  group-encrypt --group G [--count K] [--legacy]
      Read plaintext on stdin; print K (default 1) messages, one JSON line each:
      {"type":"senderkey","body":"<hex>"} (one ciphertext for every member).
  group-decrypt --group G --peer NAME [--device N] [--legacy]
      Read a group message of NAME's device on stdin (the JSON line, or bare hex); write the
      plaintext. Errors: duplicate_message, invalid_message (bad signature or ciphertext),
      no_session (no chain of that sender in G), too_far_in_future.
)";

int run_group_command(std::string_view command, const GroupCommandContext& context,
                      const std::string& dir_path) {
  if (command == "create-distribution") return create_distribution(context, dir_path);
  if (command == "process-distribution") return process_distribution(context, dir_path);
  if (command == "group-encrypt") return group_encrypt(context, dir_path);
  if (command == "group-decrypt") return group_decrypt(context, dir_path);
  fail_usage("unknown command '" + std::string(command) + "'");
}

}  // namespace hush_cli

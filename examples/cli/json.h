// hush-cli: a tiny strict JSON reader and writer for flat objects.
//
// hush-cli exchanges one-line JSON objects whose values are strings, numbers or booleans (bundles,
// messages, command results). The reader accepts exactly one such object (RFC 8259 syntax, valid
// UTF-8, surrounding whitespace allowed) and refuses everything else: nested values, arrays, null,
// duplicate keys, trailing text. The writer produces the same subset on one line, and arrays of
// numbers (output only: `devices` prints a device list's ids).
//
// Not responsible for: what the keys mean (main.cpp checks which keys a command accepts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hush_cli {

/// One value of a flat JSON object.
struct JsonValue {
  enum class Kind : std::uint8_t { kString, kNumber, kBool };
  Kind kind = Kind::kString;
  /// kString: the decoded UTF-8 text; kNumber: the number literal exactly as written.
  std::string text;
  /// kBool: the value.
  bool boolean = false;
};

/// A parsed flat JSON object; keys are unique and kept in input order.
class JsonObject {
 public:
  /// Parses `text` as exactly one flat object. On failure returns nullopt and sets `*error` to a
  /// short reason ("duplicate key \"x\"", "expected ':'", ...).
  static std::optional<JsonObject> parse(std::string_view text, std::string* error);

  /// The value of `key`, or null if absent.
  const JsonValue* find(std::string_view key) const;
  /// The members in input order.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

 private:
  std::vector<std::pair<std::string, JsonValue>> members_;
};

/// The value of a number literal if it is a non-negative integer without fraction or exponent that
/// fits in 32 bits ("0", "42"); nullopt otherwise.
std::optional<std::uint32_t> json_to_u32(const JsonValue& value);

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// Builds one flat JSON object on one line, members in the order they are added. String values
/// and keys must be valid UTF-8 (control characters are escaped).
class JsonWriter {
 public:
  JsonWriter& add_string(std::string_view key, std::string_view value);
  JsonWriter& add_number(std::string_view key, std::uint64_t value);
  JsonWriter& add_bool(std::string_view key, bool value);
  /// An array of numbers ([1,2,3]; [] when empty).
  JsonWriter& add_number_array(std::string_view key, const std::vector<std::uint64_t>& values);
  /// The object followed by "\n".
  std::string line() const { return out_ + "}\n"; }

 private:
  void key(std::string_view k);
  std::string out_ = "{";
};

}  // namespace hush_cli

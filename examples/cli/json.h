// hush-cli: strict reading and writing of flat one-line JSON objects, on nlohmann-json.
//
// hush-cli exchanges one-line JSON objects whose values are strings, numbers or booleans (bundles,
// messages, command results). The reader accepts exactly one such object (RFC 8259 syntax, valid
// UTF-8, surrounding whitespace allowed) and refuses everything else with a typed error: nested
// values, arrays, null, duplicate keys, trailing text. It reads through nlohmann-json's SAX
// interface (Debian's nlohmann-json3-dev), which stops at the first value it refuses, so a nested
// or huge input is never built as a tree; the caller bounds the input's size (main.cpp reads at
// most a limit per command). The writer produces the same subset on one line, members in the
// order they are added, and arrays of numbers (output only: `devices` prints a device list's ids).
//
// Not responsible for: what the keys mean (main.cpp checks which keys a command accepts), or how
// much input is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace hush_cli {

/// One value of a flat JSON object.
struct JsonValue {
  enum class Kind : std::uint8_t { kString, kNumber, kBool };
  Kind kind = Kind::kString;
  /// kString: the decoded UTF-8 text.
  std::string text;
  /// kNumber: the value when the literal is a non-negative integer without fraction or exponent
  /// that fits in 64 bits ("0", "42"); nullopt for any other number ("-1", "1.5", "1e3").
  std::optional<std::uint64_t> unsigned_integer;
  /// kBool: the value.
  bool boolean = false;
};

/// Why a text is not a flat JSON object.
struct JsonError {
  enum class Kind : std::uint8_t {
    kSyntax,        ///< Not JSON (RFC 8259), invalid UTF-8, or text after the object.
    kNotAnObject,   ///< JSON, but not an object at the top.
    kNested,        ///< A member's value is an object or an array.
    kNull,          ///< A member's value is null.
    kDuplicateKey,  ///< A key appears twice.
  };
  Kind kind = Kind::kSyntax;
  /// A short reason for a person ("duplicate key \"x\"", "syntax error ... at line 1, column 5").
  std::string detail;
};

/// A parsed flat JSON object; keys are unique and kept in input order.
class JsonObject {
 public:
  /// Parses `text` as exactly one flat object.
  static std::variant<JsonObject, JsonError> parse(std::string_view text);

  /// The value of `key`, or null if absent.
  const JsonValue* find(std::string_view key) const;
  /// The members in input order.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

 private:
  friend class FlatObjectReader;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

/// The value of a number that is a non-negative integer without fraction or exponent that fits in
/// 32 bits ("0", "42"); nullopt otherwise.
std::optional<std::uint32_t> json_to_u32(const JsonValue& value);

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF): text
/// that a JSON string can carry.
bool is_valid_utf8(std::string_view text);

/// Builds one flat JSON object on one line, members in the order they are added, with no spaces.
/// String values and keys must be valid UTF-8 (control characters are escaped; other characters,
/// "/" and non-ASCII included, are written as they are).
class JsonWriter {
 public:
  JsonWriter& add_string(std::string_view key, std::string_view value);
  JsonWriter& add_number(std::string_view key, std::uint64_t value);
  JsonWriter& add_bool(std::string_view key, bool value);
  /// An array of numbers ([1,2,3]; [] when empty).
  JsonWriter& add_number_array(std::string_view key, const std::vector<std::uint64_t>& values);
  /// The object followed by "\n".
  std::string line() const;

 private:
  nlohmann::ordered_json object_ = nlohmann::ordered_json::object();
};

}  // namespace hush_cli

// hush-cli: strict reading and writing of flat JSON objects, on nlohmann-json (see json.h).
#include "json.h"

#include <limits>

namespace hush_cli {

using nlohmann::json;

// Builds a JsonObject from nlohmann-json's SAX events, refusing (and so stopping the parse at)
// anything but one flat object of strings, numbers and booleans.
class FlatObjectReader final : public nlohmann::json_sax<json> {
 public:
  explicit FlatObjectReader(JsonObject& out) : out_(out) {}

  const std::optional<JsonError>& error() const { return error_; }

  bool null() override {
    if (!started_) return refuse(JsonError::Kind::kNotAnObject, "expected an object");
    return refuse(JsonError::Kind::kNull, "null is not supported");
  }
  bool boolean(bool value) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kBool;
    v.boolean = value;
    return member(std::move(v));
  }
  bool number_integer(number_integer_t) override {
    // A negative integer (non-negative ones arrive as number_unsigned).
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    return member(std::move(v));
  }
  bool number_unsigned(number_unsigned_t value) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    v.unsigned_integer = value;
    return member(std::move(v));
  }
  bool number_float(number_float_t, const string_t&) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    return member(std::move(v));
  }
  bool string(string_t& value) override {
    JsonValue v;
    v.kind = JsonValue::Kind::kString;
    v.text = std::move(value);
    return member(std::move(v));
  }
  bool binary(binary_t&) override {
    return refuse(JsonError::Kind::kSyntax, "binary values are not JSON");
  }
  bool start_object(std::size_t) override {
    if (started_) return refuse(JsonError::Kind::kNested, "nested values are not supported");
    started_ = true;
    return true;
  }
  bool key(string_t& value) override {
    for (const auto& m : out_.members_) {
      if (m.first == value)
        return refuse(JsonError::Kind::kDuplicateKey, "duplicate key \"" + value + "\"");
    }
    key_ = std::move(value);
    return true;
  }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override {
    if (!started_) return refuse(JsonError::Kind::kNotAnObject, "expected an object, not an array");
    return refuse(JsonError::Kind::kNested, "nested values are not supported");
  }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." without the tag.
    std::string_view what = e.what();
    if (const auto tag = what.find("] "); tag != std::string_view::npos)
      what.remove_prefix(tag + 2);
    return refuse(JsonError::Kind::kSyntax, std::string(what));
  }

 private:
  bool member(JsonValue v) {
    if (!started_) return refuse(JsonError::Kind::kNotAnObject, "expected an object");
    out_.members_.emplace_back(std::move(key_), std::move(v));
    key_.clear();
    return true;
  }
  bool refuse(JsonError::Kind kind, std::string detail) {
    if (!error_) error_ = JsonError{kind, std::move(detail)};
    return false;
  }

  JsonObject& out_;
  bool started_ = false;
  std::string key_;
  std::optional<JsonError> error_;
};

std::variant<JsonObject, JsonError> JsonObject::parse(std::string_view text) {
  // nlohmann-json's lexer takes a NUL byte for the end of the input, and would accept what
  // follows one unread. JSON has no place for a raw NUL (in a string it is a control character).
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    return JsonError{JsonError::Kind::kSyntax, "a NUL byte at offset " + std::to_string(nul)};
  JsonObject obj;
  FlatObjectReader reader(obj);
  // Strict: exactly one value, surrounding whitespace only; comments are not JSON.
  const bool ok = json::sax_parse(text.begin(), text.end(), &reader, json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok || reader.error()) {
    if (reader.error()) return *reader.error();
    return JsonError{JsonError::Kind::kSyntax, "not JSON"};
  }
  return obj;
}

const JsonValue* JsonObject::find(std::string_view key) const {
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

std::optional<std::uint32_t> json_to_u32(const JsonValue& value) {
  if (value.kind != JsonValue::Kind::kNumber || !value.unsigned_integer) return std::nullopt;
  if (*value.unsigned_integer > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*value.unsigned_integer);
}

bool is_valid_utf8(std::string_view text) {
  // nlohmann-json's serializer checks UTF-8 strictly (RFC 3629: no overlongs, no surrogates, at
  // most U+10FFFF) and throws on the first ill-formed byte.
  try {
    (void)json(std::string(text)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

JsonWriter& JsonWriter::add_string(std::string_view key, std::string_view value) {
  object_[std::string(key)] = std::string(value);
  return *this;
}

JsonWriter& JsonWriter::add_number(std::string_view key, std::uint64_t value) {
  object_[std::string(key)] = value;
  return *this;
}

JsonWriter& JsonWriter::add_bool(std::string_view key, bool value) {
  object_[std::string(key)] = value;
  return *this;
}

JsonWriter& JsonWriter::add_number_array(std::string_view key,
                                         const std::vector<std::uint64_t>& values) {
  object_[std::string(key)] = values;
  return *this;
}

std::string JsonWriter::line() const {
  // Compact (no indentation, no spaces), UTF-8 written as it is.
  return object_.dump() + "\n";
}

}  // namespace hush_cli

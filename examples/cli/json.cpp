// hush-cli: a tiny strict JSON reader and writer for flat objects (see json.h).
#include "json.h"

#include <cstddef>
#include <limits>

namespace hush_cli {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
std::uint8_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const std::uint8_t b0 = byte_at(s, i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  const std::uint8_t b1 = byte_at(s, i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    const std::uint8_t b = byte_at(s, i + k);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool object(std::vector<std::pair<std::string, JsonValue>>& members) {
    skip_ws();
    if (!consume('{')) return fail_bool("expected '{'");
    skip_ws();
    if (!consume('}')) {
      for (;;) {
        skip_ws();
        std::string key;
        if (!string(key)) return false;
        for (const auto& m : members) {
          if (m.first == key) return fail_bool("duplicate key \"" + key + "\"");
        }
        skip_ws();
        if (!consume(':')) return fail_bool("expected ':'");
        skip_ws();
        JsonValue value;
        if (!this->value(value)) return false;
        members.emplace_back(std::move(key), std::move(value));
        skip_ws();
        if (consume(',')) continue;
        if (consume('}')) break;
        return fail_bool("expected ',' or '}'");
      }
    }
    skip_ws();
    if (pos_ != s_.size()) return fail_bool("unexpected text after the object");
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool fail_bool(std::string reason) {
    if (error_.empty()) error_ = std::move(reason) + " at offset " + std::to_string(pos_);
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() && is_ws(s_[pos_]))
      ++pos_;
  }
  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consume_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  bool value(JsonValue& v) {
    if (pos_ >= s_.size()) return fail_bool("expected a value");
    const char c = s_[pos_];
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      return string(v.text);
    }
    if (c == '-' || is_digit(c)) {
      v.kind = JsonValue::Kind::kNumber;
      return number(v.text);
    }
    if (consume_word("true")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = true;
      return true;
    }
    if (consume_word("false")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = false;
      return true;
    }
    if (c == '{' || c == '[') return fail_bool("nested values are not supported");
    if (consume_word("null")) return fail_bool("null is not supported");
    return fail_bool("expected a string, number or boolean");
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(std::string& out) {
    const std::size_t start = pos_;
    consume('-');
    if (consume('0')) {
      // a leading zero stands alone
    } else if (pos_ < s_.size() && is_digit(s_[pos_])) {
      while (pos_ < s_.size() && is_digit(s_[pos_]))
        ++pos_;
    } else {
      return fail_bool("malformed number");
    }
    if (consume('.')) {
      if (pos_ >= s_.size() || !is_digit(s_[pos_])) return fail_bool("malformed number");
      while (pos_ < s_.size() && is_digit(s_[pos_]))
        ++pos_;
    }
    if (consume('e') || consume('E')) {
      if (!consume('+')) consume('-');
      if (pos_ >= s_.size() || !is_digit(s_[pos_])) return fail_bool("malformed number");
      while (pos_ < s_.size() && is_digit(s_[pos_]))
        ++pos_;
    }
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(std::uint32_t& out) {
    if (s_.size() - pos_ < 4) return fail_bool("truncated \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex_value(s_[pos_++]);
      if (h < 0) return fail_bool("malformed \\u escape");
      out = out << 4 | static_cast<std::uint32_t>(h);
    }
    return true;
  }

  bool string(std::string& out) {
    if (!consume('"')) return fail_bool("expected a string");
    out.clear();
    for (;;) {
      if (pos_ >= s_.size()) return fail_bool("unterminated string");
      const std::uint8_t b = byte_at(s_, pos_);
      if (b == '"') {
        ++pos_;
        return true;
      }
      if (b < 0x20) return fail_bool("control character in string");
      if (b == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) return fail_bool("unterminated string");
        const char e = s_[pos_++];
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail_bool("unpaired surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              std::uint32_t low = 0;
              if (!consume('\\') || !consume('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF) {
                return fail_bool("unpaired surrogate");
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default:
            return fail_bool("invalid escape");
        }
        continue;
      }
      const std::size_t len = utf8_sequence_length(s_, pos_);
      if (len == 0) return fail_bool("invalid UTF-8");
      out.append(s_.substr(pos_, len));
      pos_ += len;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
};

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto b = static_cast<std::uint8_t>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (b < 0x20) {
          out += "\\u00";
          out.push_back(kHex[b >> 4]);
          out.push_back(kHex[b & 0x0F]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::optional<JsonObject> JsonObject::parse(std::string_view text, std::string* error) {
  Parser parser(text);
  JsonObject obj;
  if (!parser.object(obj.members_)) {
    if (error) *error = parser.error();
    return std::nullopt;
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
  if (value.kind != JsonValue::Kind::kNumber) return std::nullopt;
  const std::string& t = value.text;
  if (t.empty() || t.size() > 10) return std::nullopt;
  if (t.size() > 1 && t[0] == '0') return std::nullopt;
  std::uint64_t n = 0;
  for (char c : t) {
    if (!is_digit(c)) return std::nullopt;  // sign, fraction or exponent
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void JsonWriter::key(std::string_view k) {
  if (out_.size() > 1) out_.push_back(',');
  append_escaped(out_, k);
  out_.push_back(':');
}

JsonWriter& JsonWriter::add_string(std::string_view k, std::string_view value) {
  key(k);
  append_escaped(out_, value);
  return *this;
}

JsonWriter& JsonWriter::add_number(std::string_view k, std::uint64_t value) {
  key(k);
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::add_bool(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::add_number_array(std::string_view k,
                                         const std::vector<std::uint64_t>& values) {
  key(k);
  out_.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out_.push_back(',');
    out_ += std::to_string(values[i]);
  }
  out_.push_back(']');
  return *this;
}

}  // namespace hush_cli

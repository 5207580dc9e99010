// hush-cli's JSON (examples/cli/json.{h,cpp}, on nlohmann-json): the writer's output is
// byte-for-byte what hush-cli's own writer printed before nlohmann-json replaced it (the expected
// line below was printed by that writer, for every ASCII character, multi-byte UTF-8, and each
// kind of value), and the reader takes exactly one flat object, refusing the rest with a typed
// error.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "json.h"

using hush_cli::is_valid_utf8;
using hush_cli::json_to_u32;
using hush_cli::JsonError;
using hush_cli::JsonObject;
using hush_cli::JsonValue;
using hush_cli::JsonWriter;

namespace {

// The line the writer of before printed for the members written in the test below.
const std::string kGolden =
    "{\"ascii\":"
    "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010"
    "\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u"
    "001e\\u001f "
    "!\\\"#$%&'()*+,-./"
    "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f"
    "\",\"utf8\":\"\xc3"
    "\xa9"
    "\xe2"
    "\x82"
    "\xac"
    "\xf0"
    "\x9f"
    "\x98"
    "\x80"
    "\xef"
    "\xbf"
    "\xbf"
    "\",\"\":\"\",\"k\\\"\\\\\\n\":\"v\",\"zero\":0,\"max\":18446744073709551615,\"t\":true,\"f\":"
    "false,\"empty\":[],\"ids\":[1,2,4294967295]}\n";

JsonObject parsed(std::string_view text) {
  auto r = JsonObject::parse(text);
  if (const auto* e = std::get_if<JsonError>(&r)) FAIL("refused: " << e->detail);
  return std::get<JsonObject>(std::move(r));
}

JsonError refused(std::string_view text) {
  auto r = JsonObject::parse(text);
  REQUIRE(std::holds_alternative<JsonError>(r));
  return std::get<JsonError>(std::move(r));
}

}  // namespace

TEST_CASE("hush-cli JSON lines are byte-identical to the writer of before", "[cli][json]") {
  std::string all;
  for (int c = 1; c < 0x80; ++c)
    all.push_back(static_cast<char>(c));
  const std::string out =
      JsonWriter()
          .add_string("ascii", all)
          .add_string("utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf")
          .add_string("", "")
          .add_string("k\"\\\n", "v")
          .add_number("zero", 0)
          .add_number("max", 18446744073709551615ull)
          .add_bool("t", true)
          .add_bool("f", false)
          .add_number_array("empty", {})
          .add_number_array("ids", {1, 2, 4294967295ull})
          .line();
  CHECK(out == kGolden);
  CHECK(JsonWriter().line() == "{}\n");
  // What the writer prints, the reader reads back.
  const JsonObject back = parsed(JsonWriter()
                                     .add_string("ascii", all)
                                     .add_number("n", 4294967295u)
                                     .add_bool("b", true)
                                     .line());
  REQUIRE(back.members().size() == 3);
  CHECK(back.find("ascii")->text == all);
  CHECK(json_to_u32(*back.find("n")) == 4294967295u);
  CHECK(back.find("b")->boolean);
}

TEST_CASE("hush-cli JSON reader takes one flat object", "[cli][json]") {
  const JsonObject o = parsed(
      " {\n \"s\" : \"wh\\u0069s\\u00e9\\ud83d\\ude00\\/\" , \"n\":42,\"z\":0,\"neg\":-1,"
      "\"f\":1.5,\"e\":1e3,\"big\":4294967296,\"t\":true,\"no\":false}\r\n");
  REQUIRE(o.members().size() == 9);
  CHECK(o.members()[0].first == "s");  // input order
  CHECK(o.find("s")->kind == JsonValue::Kind::kString);
  CHECK(o.find("s")->text == "whis\xc3\xa9\xf0\x9f\x98\x80/");
  CHECK(json_to_u32(*o.find("n")) == 42u);
  CHECK(json_to_u32(*o.find("z")) == 0u);
  for (const char* k : {"neg", "f", "e", "big", "s", "t"})
    CHECK_FALSE(json_to_u32(*o.find(k)));
  CHECK(o.find("t")->boolean);
  CHECK_FALSE(o.find("no")->boolean);
  CHECK(o.find("absent") == nullptr);
  CHECK(parsed("{}").members().empty());
}

TEST_CASE("hush-cli JSON reader refuses the rest with a typed error", "[cli][json]") {
  using K = JsonError::Kind;
  CHECK(refused("").kind == K::kSyntax);
  CHECK(refused("   ").kind == K::kSyntax);
  CHECK(refused("{").kind == K::kSyntax);
  CHECK(refused("{\"a\":1,}").kind == K::kSyntax);
  CHECK(refused("{\"a\":01}").kind == K::kSyntax);
  CHECK(refused("{\"a\":1} x").kind == K::kSyntax);
  CHECK(refused("{\"a\":1}{}").kind == K::kSyntax);
  CHECK(refused("{'a':1}").kind == K::kSyntax);
  CHECK(refused("{\"a\":1 /* c */}").kind == K::kSyntax);
  CHECK(refused("{\"a\":\"\x01\"}").kind == K::kSyntax);              // control character
  CHECK(refused("{\"a\":\"\xc0\xaf\"}").kind == K::kSyntax);          // overlong
  CHECK(refused("{\"a\":\"\xed\xa0\x80\"}").kind == K::kSyntax);      // surrogate
  CHECK(refused("{\"a\":\"\xf4\x90\x80\x80\"}").kind == K::kSyntax);  // beyond U+10FFFF
  CHECK(refused("{\"a\":\"\\udc00\"}").kind == K::kSyntax);           // unpaired surrogate
  CHECK(refused("{\"a\":\"\\ud800x\"}").kind == K::kSyntax);
  CHECK(refused("{\"a\":\"\\q\"}").kind == K::kSyntax);
  CHECK(refused(std::string("{\"a\":1}\0", 8)).kind == K::kSyntax);
  CHECK(refused("[1]").kind == K::kNotAnObject);
  CHECK(refused("\"text\"").kind == K::kNotAnObject);
  CHECK(refused("42").kind == K::kNotAnObject);
  CHECK(refused("null").kind == K::kNotAnObject);
  CHECK(refused("{\"a\":{}}").kind == K::kNested);
  CHECK(refused("{\"a\":[1]}").kind == K::kNested);
  CHECK(refused("{\"a\":null}").kind == K::kNull);
  const JsonError dup = refused("{\"a\":1,\"b\":2,\"a\":1}");
  CHECK(dup.kind == K::kDuplicateKey);
  CHECK(dup.detail == "duplicate key \"a\"");
  // Deep nesting stops at the first nested value: nothing is built for the rest.
  CHECK(refused("{\"a\":" + std::string(100000, '[')).kind == K::kNested);
  CHECK(refused(std::string(100000, '[')).kind == K::kNotAnObject);
  // A syntax error says where.
  CHECK(refused("{\"a\" 1}").detail.find("line 1, column 6") != std::string::npos);
}

TEST_CASE("hush-cli checks UTF-8 as JSON strings need it", "[cli][json]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("alice"));
  CHECK(is_valid_utf8("\xc3\xa9mile \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  CHECK(is_valid_utf8(std::string("nul\0inside", 10)));
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc3"));          // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));  // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));
}

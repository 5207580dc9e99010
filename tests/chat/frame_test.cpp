// hush chat example: the wire protocol's codec (examples/chat/frame.h) on valid and hostile input.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "frame.h"
#include "terminal.h"

using namespace hush_chat;

namespace {

Message make(Kind kind) {
  Message m;
  m.kind = kind;
  m.req = 0x01020304;
  m.id = 0x0102030405060708ull;
  m.number = 7;
  m.idle_seconds = 120;
  m.kyber_count = 9;
  m.device = 3;
  m.name = "alice";
  const bool token = kind == Kind::kHello || kind == Kind::kRecover || kind == Kind::kAddDevice ||
                     kind == Kind::kCallToken;
  m.body = token ? Bytes(kTokenBytes, 0xAB) : Bytes{1, 2, 3};
  if (kind == Kind::kRecover || kind == Kind::kWelcome) m.code = Bytes(kRecoveryCodeBytes, 0xCD);
  if (kind == Kind::kLinkWait || kind == Kind::kLinkPost || kind == Kind::kCallJoin)
    m.mailbox = Bytes(kMailboxBytes, 0xEF);
  return m;
}

const Kind kAll[] = {
    Kind::kHello,     Kind::kPublish,      Kind::kCount,      Kind::kFetch,       Kind::kSend,
    Kind::kAck,       Kind::kRecover,      Kind::kPing,       Kind::kPublishList, Kind::kFetchList,
    Kind::kAddDevice, Kind::kRemoveDevice, Kind::kLinkWait,   Kind::kLinkPost,    Kind::kWelcome,
    Kind::kOk,        Kind::kCountIs,      Kind::kBundle,     Kind::kDeliver,     Kind::kError,
    Kind::kList,      Kind::kLinkMessage,  Kind::kBlobPut,    Kind::kBlobChunk,   Kind::kBlobGet,
    Kind::kBlobId,    Kind::kBlobData,     Kind::kBlobDelete, Kind::kCallJoin,    Kind::kCallToken};

bool known(int k) {
  return (k >= 1 && k <= 14) || (k >= 16 && k <= 23) || (k >= 32 && k <= 35) ||
         (k >= 48 && k <= 49) || k == 40 || k == 56;
}

}  // namespace

TEST_CASE("every kind survives encode and decode", "[chat][frame]") {
  for (Kind k : kAll) {
    const Message m = make(k);
    const Bytes wire = encode(m);
    const auto back = decode(wire);
    REQUIRE(back);
    CHECK(back->kind == k);
    CHECK(encode(*back) == wire);  // the fields of its kind, and only those, are kept
    CHECK(kind_name(static_cast<std::uint8_t>(k)) != "?");
  }
  const auto send = decode(encode(make(Kind::kSend)));
  CHECK(send->req == 0x01020304);
  CHECK(send->name == "alice");
  CHECK(send->body == Bytes{1, 2, 3});
  const auto deliver = decode(encode(make(Kind::kDeliver)));
  CHECK(deliver->id == 0x0102030405060708ull);
  const auto counts = decode(encode(make(Kind::kCountIs)));
  CHECK(counts->number == 7);
  CHECK(counts->kyber_count == 9);
  const auto welcome = decode(encode(make(Kind::kWelcome)));
  CHECK(welcome->number == 7);
  CHECK(welcome->idle_seconds == 120);
  CHECK(welcome->code == Bytes(kRecoveryCodeBytes, 0xCD));
  const auto recover = decode(encode(make(Kind::kRecover)));
  CHECK(recover->name == "alice");
  CHECK(recover->body == Bytes(kTokenBytes, 0xAB));
  CHECK(recover->code == Bytes(kRecoveryCodeBytes, 0xCD));
  const auto hello = decode(encode(make(Kind::kHello)));
  CHECK(hello->device == 3);
  CHECK(hello->body == Bytes(kTokenBytes, 0xAB));
  CHECK(decode(encode(make(Kind::kSend)))->device == 3);
  CHECK(decode(encode(make(Kind::kDeliver)))->device == 3);
  CHECK(decode(encode(make(Kind::kFetch)))->device == 3);
  const auto add = decode(encode(make(Kind::kAddDevice)));
  CHECK(add->device == 3);
  CHECK(add->body == Bytes(kTokenBytes, 0xAB));
  const auto post = decode(encode(make(Kind::kLinkPost)));
  CHECK(post->mailbox == Bytes(kMailboxBytes, 0xEF));
  CHECK(post->body == Bytes{1, 2, 3});
  CHECK(decode(encode(make(Kind::kLinkWait)))->mailbox == Bytes(kMailboxBytes, 0xEF));
  CHECK(decode(encode(make(Kind::kList)))->body == Bytes{1, 2, 3});
}

TEST_CASE("device ids, mailboxes, device lists and link messages are bounded", "[chat][frame]") {
  for (Kind k : {Kind::kHello, Kind::kFetch, Kind::kSend, Kind::kAddDevice, Kind::kRemoveDevice,
                 Kind::kDeliver}) {
    Message m = make(k);
    m.device = 1;
    CHECK(decode(encode(m)));
    m.device = kMaxDeviceId;
    CHECK(decode(encode(m)));
    m.device = 0;  // no device 0 on the wire
    CHECK_FALSE(decode(encode(m)));
    m.device = kMaxDeviceId + 1;
    CHECK_FALSE(decode(encode(m)));
  }
  for (Kind k : {Kind::kLinkWait, Kind::kLinkPost}) {
    Message m = make(k);
    m.mailbox.pop_back();
    CHECK_FALSE(decode(encode(m)));
    m.mailbox.assign(kMailboxBytes + 1, 1);
    CHECK_FALSE(decode(encode(m)));
  }
  for (Kind k : {Kind::kPublishList, Kind::kList}) {
    Message m = make(k);
    m.body.clear();  // (a LIST of none is empty)
    CHECK(decode(encode(m)));
    m.body.assign(kMaxListBytes, 1);
    CHECK(decode(encode(m)));
    m.body.push_back(1);
    CHECK_FALSE(decode(encode(m)));
  }
  for (Kind k : {Kind::kLinkPost, Kind::kLinkMessage}) {
    Message m = make(k);
    m.body.assign(kMaxLinkMessageBytes, 1);
    CHECK(decode(encode(m)));
    m.body.push_back(1);
    CHECK_FALSE(decode(encode(m)));
    m.body.clear();  // a link message is never empty
    CHECK_FALSE(decode(encode(m)));
  }
  for (Kind k : {Kind::kBlobChunk, Kind::kBlobData}) {
    Message m = make(k);
    m.body.assign(kBlobChunkBytes, 1);
    CHECK(decode(encode(m)));
    m.body.push_back(1);  // a blob travels in pieces of at most kBlobChunkBytes
    CHECK_FALSE(decode(encode(m)));
  }
  Message add = make(Kind::kAddDevice);
  add.body.pop_back();  // a token is exactly kTokenBytes
  CHECK_FALSE(decode(encode(add)));
}

TEST_CASE("a recovery code field is empty or exactly kRecoveryCodeBytes", "[chat][frame]") {
  Message welcome = make(Kind::kWelcome);
  welcome.code.clear();
  CHECK(decode(encode(welcome)));  // a known account: no code
  welcome.code.assign(kRecoveryCodeBytes - 1, 1);
  CHECK_FALSE(decode(encode(welcome)));
  welcome.code.assign(kRecoveryCodeBytes + 1, 1);
  CHECK_FALSE(decode(encode(welcome)));
}

TEST_CASE("recovery codes are written and read back", "[chat][frame]") {
  Bytes code(kRecoveryCodeBytes);
  for (std::size_t i = 0; i < code.size(); ++i)
    code[i] = static_cast<std::uint8_t>(i * 37 + 11);
  const std::string text = format_recovery_code(code);
  REQUIRE(text.size() == 8 * 4 + 7);
  for (std::size_t i = 0; i < text.size(); ++i)
    CHECK((i % 5 == 4 ? text[i] == '-'
                      : (text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= '2' && text[i] <= '7')));
  CHECK(parse_recovery_code(text) == code);
  std::string loose;  // lower case, spaces instead of dashes
  for (char c : text)
    loose.push_back(c == '-' ? ' ' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  CHECK(parse_recovery_code(loose) == code);
  CHECK(format_recovery_code(Bytes(kRecoveryCodeBytes, 0)) ==
        "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA");
  CHECK(format_recovery_code(Bytes(kRecoveryCodeBytes, 0xFF)) ==
        "7777-7777-7777-7777-7777-7777-7777-7777");
  CHECK_FALSE(parse_recovery_code(text.substr(0, text.size() - 1)));            // a character short
  CHECK_FALSE(parse_recovery_code(text + "A"));                                 // one too many
  CHECK_FALSE(parse_recovery_code("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAA1"));  // not base32
  CHECK_FALSE(parse_recovery_code(""));
}

TEST_CASE("truncated, extended and unknown payloads are refused", "[chat][frame]") {
  for (Kind k : kAll) {
    const Bytes wire = encode(make(k));
    for (std::size_t n = 0; n < wire.size(); ++n)
      CHECK_FALSE(decode(wire.data(), n));
    Bytes longer = wire;
    longer.push_back(0);
    CHECK_FALSE(decode(longer));
  }
  for (int k = 0; k < 256; ++k) {
    if (!known(k)) CHECK_FALSE(decode(Bytes{static_cast<std::uint8_t>(k), 0, 0, 0, 0, 0, 0, 0, 0}));
  }
  // A token must be exactly kTokenBytes; a name at most kMaxNameBytes.
  Message hello = make(Kind::kHello);
  hello.body.pop_back();
  CHECK_FALSE(decode(encode(hello)));
  Message fetch = make(Kind::kFetch);
  fetch.name.assign(kMaxNameBytes, 'x');
  CHECK(decode(encode(fetch)));
  fetch.name.push_back('x');
  CHECK_FALSE(decode(encode(fetch)));
  // A length field that points past the end.
  Bytes lying = encode(make(Kind::kSend));
  lying[1 + 4 + 3] = 0xFF;  // the recipient's length
  CHECK_FALSE(decode(lying));
  CHECK_FALSE(decode(Bytes(kMaxFrameBytes + 1, 5)));
}

TEST_CASE("random payloads never crash the decoder", "[chat][frame]") {
  std::mt19937 rng(4);
  for (int i = 0; i < 20000; ++i) {
    Bytes b(rng() % 64);
    for (auto& x : b)
      x = static_cast<std::uint8_t>(rng());
    if (!b.empty() && i % 2) b[0] = static_cast<std::uint8_t>(1 + rng() % 23);
    if (auto m = decode(b)) CHECK(encode(*m) == b);  // what decodes is exactly one message
  }
}

TEST_CASE("frame lengths are bounded", "[chat][frame]") {
  std::uint8_t h[4];
  put_length(h, 5);
  CHECK(read_length(h) == 5u);
  put_length(h, static_cast<std::uint32_t>(kMaxFrameBytes));
  CHECK(read_length(h) == kMaxFrameBytes);
  put_length(h, static_cast<std::uint32_t>(kMaxFrameBytes + 1));
  CHECK_FALSE(read_length(h));
  put_length(h, 0);
  CHECK_FALSE(read_length(h));
  const std::uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  CHECK_FALSE(read_length(huge));
}

TEST_CASE("handles", "[chat][frame]") {
  CHECK(valid_handle("alice"));
  CHECK(valid_handle("Bob_2.x-y"));
  CHECK(valid_handle(std::string(kMaxHandleBytes, 'a')));
  CHECK_FALSE(valid_handle(std::string(kMaxHandleBytes + 1, 'a')));
  CHECK_FALSE(valid_handle(""));
  CHECK_FALSE(valid_handle("a b"));
  CHECK_FALSE(valid_handle("a\x1b[31m"));
  CHECK_FALSE(
      valid_handle("al\xc3\xaf"
                   "ce"));
}

TEST_CASE("handles are compared without regard to case", "[chat][frame]") {
  CHECK(normalize_handle("Bob_2.X-y") == "bob_2.x-y");
  const auto chunk = decode(encode(make(Kind::kBlobChunk)));
  CHECK(chunk->name == "alice");
  CHECK(chunk->body == Bytes{1, 2, 3});
  CHECK(decode(encode(make(Kind::kBlobGet)))->id == 0x0102030405060708ull);
  CHECK(from_client(Kind::kBlobPut));
  CHECK(from_client(Kind::kBlobGet));
  CHECK(from_client(Kind::kBlobDelete));
  CHECK(decode(encode(make(Kind::kBlobDelete)))->name == "alice");
  CHECK_FALSE(from_client(Kind::kBlobData));
  CHECK_FALSE(from_client(Kind::kBlobId));
  CHECK(from_client(Kind::kCallJoin));
  CHECK_FALSE(from_client(Kind::kCallToken));
  CHECK(valid_blob_id("0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(valid_blob_id("0123456789abcdef0123456789abcdeF"));
  CHECK_FALSE(valid_blob_id("../etc/passwd"));
  CHECK_FALSE(valid_blob_id(""));
  CHECK(normalize_handle("BOB") == normalize_handle("bob"));
  CHECK(normalize_handle("bob") == "bob");
  CHECK(normalize_handle("") == "");
  // Only ASCII letters change: anything else (refused by valid_handle anyway) is left alone.
  CHECK(normalize_handle("\xc3\x89mile @Z") == "\xc3\x89mile @z");
}

// Hidden: writes chat_frame_fuzzer's seeds (fuzz/README.md, "Seeds"): every kind, framed.
TEST_CASE("write the chat frame fuzz seeds", "[.corpus]") {
  const char* dir = std::getenv("HUSH_FUZZ_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') {
    WARN("HUSH_FUZZ_CORPUS_DIR is not set; nothing written");
    return;
  }
  const auto out = std::filesystem::path(dir) / "chat_frame";
  std::filesystem::create_directories(out);
  for (Kind k : kAll) {
    const Bytes payload = encode(make(k));
    Bytes frame(4);
    put_length(frame.data(), static_cast<std::uint32_t>(payload.size()));
    frame.insert(frame.end(), payload.begin(), payload.end());
    std::ofstream f(out / std::string(kind_name(static_cast<std::uint8_t>(k))), std::ios::binary);
    f.write(reinterpret_cast<const char*>(frame.data()),
            static_cast<std::streamsize>(frame.size()));
    REQUIRE(f.good());
  }
}

// Names and texts from peers are printed through printable(): no control characters, and none of
// the invisible or bidirectional formatting characters that make one name look like another.
TEST_CASE("printable hides controls and bidi and invisible characters") {
  CHECK(printable("bob") == "bob");
  CHECK(printable("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // é ✓ kept
  CHECK(printable("a\x1b[2Jb") == "a?[2Jb");
  CHECK(printable("a\xc2\x9b"
                  "b") == "a??b");  // C1 control (CSI), byte by byte
  CHECK(printable("\xff") == "?");
  // U+202E (right-to-left override), U+2066 (isolate), U+200B (zero width space), U+200F (RLM),
  // U+202A, U+2069: one '?' each.
  CHECK(printable("bob\xe2\x80\xae"
                  "gpj.exe") == "bob?gpj.exe");
  CHECK(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "?x?");
  CHECK(printable("a\xe2\x80\x8b"
                  "b\xe2\x80\x8f"
                  "c\xe2\x80\xaa") == "a?b?c?");
  // Their neighbours are ordinary characters: U+2010 (hyphen), U+2030 (per mille), U+2070.
  CHECK(printable("\xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0") ==
        "\xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0");
}

// The C API's error paths: NULL handles, short buffers and garbage input each give a typed status
// and a message a person can read, never a crash; and a failed call changes nothing. Also the
// messenger over C callbacks through an identity change (the callbacks forward to the tests'
// in-process relay, support/loopback.h).
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <hush/c/hush.h>
#include <hush/hush.h>
#include <catch2/catch.hpp>

#include "support/loopback.h"

namespace {

struct Error {
  hush_error e{};
  Error() {
    e.code = HUSH_ERR_INTERNAL;
    std::strcpy(e.message, "untouched");
  }
  hush_error* operator&() { return &e; }
  std::string message() const { return e.message; }
};

// A context, two in-memory stores and a session from alice to bob with one message each way.
struct Pair {
  hush_context* ctx = nullptr;
  hush_store* alice = nullptr;
  hush_store* bob = nullptr;
  hush_address alice_addr{"alice", 5, 1};
  hush_address bob_addr{"bob", 3, 1};

  Pair() {
    REQUIRE(hush_context_new(&ctx, nullptr) == HUSH_OK);
    REQUIRE(hush_store_new_in_memory(ctx, &alice, nullptr) == HUSH_OK);
    REQUIRE(hush_store_new_in_memory(ctx, &bob, nullptr) == HUSH_OK);
    std::uint32_t first = 0;
    REQUIRE(hush_prekeys_generate(ctx, bob, 1, 2, &first, nullptr) == HUSH_OK);
    hush_bytes* bundle = nullptr;
    REQUIRE(hush_bundle_make(bob, 1, 1, first, &bundle, nullptr) == HUSH_OK);
    REQUIRE(hush_session_process_bundle(ctx, alice, &bob_addr, hush_bytes_data(bundle),
                                        hush_bytes_size(bundle), nullptr) == HUSH_OK);
    hush_bytes_free(bundle);
  }
  ~Pair() {
    hush_store_free(alice);
    hush_store_free(bob);
    hush_context_free(ctx);
  }
  // Alice encrypts `text`; returns (type, bytes).
  std::pair<hush_message_type, std::vector<std::uint8_t>> encrypt(const std::string& text) {
    hush_message_type type{};
    hush_bytes* wire = nullptr;
    REQUIRE(hush_session_encrypt(ctx, alice, &bob_addr,
                                 reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                 &type, &wire, nullptr) == HUSH_OK);
    std::vector<std::uint8_t> bytes(hush_bytes_data(wire),
                                    hush_bytes_data(wire) + hush_bytes_size(wire));
    hush_bytes_free(wire);
    return {type, bytes};
  }
  // Bob encrypts `text` and Alice decrypts it.
  void reply(const std::string& text) {
    hush_message_type type{};
    hush_bytes* wire = nullptr;
    REQUIRE(hush_session_encrypt(ctx, bob, &alice_addr,
                                 reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                                 &type, &wire, nullptr) == HUSH_OK);
    hush_bytes* plain = nullptr;
    REQUIRE(hush_session_decrypt(ctx, alice, &bob_addr, type, hush_bytes_data(wire),
                                 hush_bytes_size(wire), &plain, nullptr) == HUSH_OK);
    CHECK(hush_bytes_size(plain) == text.size());
    hush_bytes_free(plain);
    hush_bytes_free(wire);
  }
  hush_status decrypt(int type, const std::vector<std::uint8_t>& bytes, std::string* text,
                      hush_error* error) {
    hush_bytes* plain = nullptr;
    const hush_status st = hush_session_decrypt(ctx, bob, &alice_addr, type, bytes.data(),
                                                bytes.size(), &plain, error);
    if (st == HUSH_OK && text != nullptr)
      text->assign(reinterpret_cast<const char*>(hush_bytes_data(plain)), hush_bytes_size(plain));
    if (st != HUSH_OK) CHECK(plain == nullptr);
    hush_bytes_free(plain);
    return st;
  }
};

// The status is `expected`, recorded in the error with a message naming the function and code.
void check_error(hush_status got, hush_status expected, const Error& error, const char* function) {
  CHECK(hush_status_name(got) == std::string(hush_status_name(expected)));
  CHECK(error.e.code == expected);
  INFO(error.message());
  CHECK(error.message().rfind(std::string(function) + ": ", 0) == 0);
  CHECK(error.message().find(std::string("(") + hush_status_name(expected)) != std::string::npos);
}

}  // namespace

TEST_CASE("C API status names are the library's error names", "[c_api]") {
  // Every code the library has (hush::to_string knows it) has its own entry here: a new Errc
  // needs a HUSH_ERR_ constant in include/hush/c/common.h and a description in src/c/common.cpp.
  int named = 0;
  for (int i = 1; i < 100; ++i) {
    INFO(i);
    const auto name = hush::to_string(static_cast<hush::Errc>(i));
    CHECK(name == hush_status_name(i));
    if (name == "unknown_error") continue;
    ++named;
    CHECK(std::string(hush_status_description(i)) != "an unknown error code");
    CHECK(std::string(hush_status_description(i)) !=
          "the library reported an error (see its name)");
  }
  CHECK(named >= 32);
  for (hush_status s : {HUSH_ERR_NULL_ARGUMENT, HUSH_ERR_BUFFER_TOO_SMALL, HUSH_ERR_OUT_OF_MEMORY,
                        HUSH_ERR_INTERNAL}) {
    CHECK(std::string(hush_status_name(s)) != "unknown_error");
  }
  CHECK(std::string(hush_status_name(77)) == "unknown_error");
  CHECK(std::string(hush_status_name(-5)) == "unknown_error");
  CHECK(std::string(hush_status_description(123456)) == "an unknown error code");
  CHECK(std::string(hush_status_name(HUSH_OK)) == "ok");
  CHECK(std::string(hush_version_string()).find('.') != std::string::npos);
}

TEST_CASE("C API success clears the error", "[c_api]") {
  Error error;
  hush_context* ctx = nullptr;
  REQUIRE(hush_context_new(&ctx, &error) == HUSH_OK);
  CHECK(error.e.code == HUSH_OK);
  CHECK(error.message().empty());
  hush_context_free(ctx);
}

TEST_CASE("C API NULL handles and pointers give null_argument", "[c_api]") {
  Pair p;
  std::uint8_t buf[64];
  std::size_t len = 0;
  hush_bytes* bytes = nullptr;
  hush_message_type type{};
  {
    Error e;
    check_error(hush_context_new(nullptr, &e), HUSH_ERR_NULL_ARGUMENT, e, "hush_context_new");
  }
  {
    Error e;
    hush_store* s = nullptr;
    check_error(hush_store_new_in_memory(nullptr, &s, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_store_new_in_memory");
    CHECK(s == nullptr);
  }
  {
    Error e;
    hush_store* s = nullptr;
    check_error(hush_store_open_sqlite(p.ctx, nullptr, 4, nullptr, 0, &s, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_store_open_sqlite");
    CHECK(e.message().find("path") != std::string::npos);
  }
  {
    Error e;
    check_error(hush_store_identity_key(nullptr, buf, sizeof buf, &len, &e), HUSH_ERR_NULL_ARGUMENT,
                e, "hush_store_identity_key");
  }
  {
    Error e;
    check_error(
        hush_session_encrypt(p.ctx, nullptr, &p.bob_addr,
                             reinterpret_cast<const std::uint8_t*>("x"), 1, &type, &bytes, &e),
        HUSH_ERR_NULL_ARGUMENT, e, "hush_session_encrypt");
    CHECK(e.message().find("store") != std::string::npos);
  }
  {
    Error e;  // a plaintext pointer that is NULL with a length
    check_error(hush_session_encrypt(p.ctx, p.alice, &p.bob_addr, nullptr, 5, &type, &bytes, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_session_encrypt");
  }
  {
    Error e;  // an address whose name is NULL with a length
    const hush_address bad{nullptr, 3, 1};
    check_error(
        hush_session_encrypt(p.ctx, p.alice, &bad, reinterpret_cast<const std::uint8_t*>("x"), 1,
                             &type, &bytes, &e),
        HUSH_ERR_NULL_ARGUMENT, e, "hush_session_encrypt");
  }
  {
    Error e;
    check_error(
        hush_session_decrypt(p.ctx, p.bob, nullptr, HUSH_MESSAGE_WHISPER, buf, 4, &bytes, &e),
        HUSH_ERR_NULL_ARGUMENT, e, "hush_session_decrypt");
  }
  {
    Error e;
    check_error(hush_messenger_send(nullptr, "bob", 3, buf, 1, nullptr, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_messenger_send");
  }
  {
    Error e;
    hush_received* got = nullptr;
    check_error(hush_messenger_receive(nullptr, buf, 1, &got, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_messenger_receive");
  }
  {
    Error e;
    int matches = 7;
    check_error(hush_fingerprint_compare_scanned(nullptr, buf, 1, &matches, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_fingerprint_compare_scanned");
  }
  // A NULL error pointer is allowed, and the free functions and accessors take NULL.
  CHECK(hush_store_identity_key(nullptr, buf, sizeof buf, &len, nullptr) == HUSH_ERR_NULL_ARGUMENT);
  hush_bytes_free(nullptr);
  hush_store_free(nullptr);
  hush_context_free(nullptr);
  hush_messenger_free(nullptr);
  hush_received_free(nullptr);
  hush_fingerprint_free(nullptr);
  hush_published_keys_free(nullptr);
  CHECK(hush_bytes_size(nullptr) == 0);
  CHECK(hush_bytes_data(nullptr) == nullptr);
  CHECK(hush_published_keys_pre_key_count(nullptr) == 0);
  CHECK(hush_received_plaintext(nullptr, &len) == nullptr);
  CHECK(len == 0);
  CHECK(std::string(hush_received_conversation(nullptr, nullptr)).empty());
  hush_address sender{"x", 1, 9};
  hush_received_sender(nullptr, &sender);
  CHECK(sender.name_len == 0);
  CHECK(sender.device_id == 0);
}

TEST_CASE("C API short buffers give buffer_too_small with the size needed", "[c_api]") {
  Pair p;
  std::uint8_t key[HUSH_PUBLIC_KEY_SIZE + 5];
  std::memset(key, 0xAA, sizeof key);
  std::size_t len = 0;
  {
    Error e;
    check_error(hush_store_identity_key(p.alice, key, HUSH_PUBLIC_KEY_SIZE - 1, &len, &e),
                HUSH_ERR_BUFFER_TOO_SMALL, e, "hush_store_identity_key");
    CHECK(len == HUSH_PUBLIC_KEY_SIZE);
    CHECK(key[0] == 0xAA);  // nothing written
  }
  {
    Error e;  // a size query: no buffer at all
    check_error(hush_store_identity_key(p.alice, nullptr, 0, &len, &e), HUSH_ERR_BUFFER_TOO_SMALL,
                e, "hush_store_identity_key");
    CHECK(len == HUSH_PUBLIC_KEY_SIZE);
  }
  REQUIRE(hush_store_identity_key(p.alice, key, sizeof key, &len, nullptr) == HUSH_OK);
  CHECK(len == HUSH_PUBLIC_KEY_SIZE);
  CHECK(key[0] == 0x05);

  std::uint8_t bob_key[HUSH_PUBLIC_KEY_SIZE];
  REQUIRE(hush_store_identity_key(p.bob, bob_key, sizeof bob_key, &len, nullptr) == HUSH_OK);
  hush_fingerprint* fp = nullptr;
  REQUIRE(hush_fingerprint_compute("alice", 5, key, HUSH_PUBLIC_KEY_SIZE, "bob", 3, bob_key,
                                   sizeof bob_key, &fp, nullptr) == HUSH_OK);
  char text[HUSH_FINGERPRINT_DISPLAY_MAX];
  {
    Error e;  // 60 digits need 61 bytes with the NUL
    check_error(hush_fingerprint_display(fp, HUSH_FINGERPRINT_DIGITS, text, 60, &len, &e),
                HUSH_ERR_BUFFER_TOO_SMALL, e, "hush_fingerprint_display");
    CHECK(len == 60);
  }
  REQUIRE(hush_fingerprint_display(fp, HUSH_FINGERPRINT_DIGITS, text, 61, &len, nullptr) ==
          HUSH_OK);
  CHECK(std::strlen(text) == 60);
  REQUIRE(hush_fingerprint_display(fp, HUSH_FINGERPRINT_GROUPED, text, sizeof text, &len,
                                   nullptr) == HUSH_OK);
  CHECK(len == 71);
  CHECK(text[5] == ' ');
  {
    Error e;
    check_error(hush_fingerprint_display(fp, 9, text, sizeof text, &len, &e),
                HUSH_ERR_INVALID_ARGUMENT, e, "hush_fingerprint_display");
  }
  {
    Error e;
    std::uint8_t code[4];
    check_error(hush_fingerprint_scannable(fp, code, sizeof code, &len, &e),
                HUSH_ERR_BUFFER_TOO_SMALL, e, "hush_fingerprint_scannable");
    CHECK(len > sizeof code);
  }
  hush_fingerprint_free(fp);
}

TEST_CASE("C API garbage input gives typed errors and changes nothing", "[c_api]") {
  Pair p;
  auto first = p.encrypt("first");
  std::mt19937 rng(20261206);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);

  for (int i = 0; i < 200; ++i) {
    std::vector<std::uint8_t> junk(length(rng));
    for (auto& b : junk)
      b = static_cast<std::uint8_t>(byte(rng));
    if (i % 4 == 0 && !junk.empty()) junk[0] = 0x33;  // the right version byte, a bad body
    INFO("garbage " << i << " of " << junk.size() << " bytes");
    for (hush_message_type type : {HUSH_MESSAGE_WHISPER, HUSH_MESSAGE_PREKEY}) {
      Error e;
      const hush_status st = p.decrypt(type, junk, nullptr, &e);
      CHECK(st != HUSH_OK);
      CHECK(st < HUSH_ERR_NULL_ARGUMENT);  // a library error code, not a boundary failure
      CHECK(e.e.code == st);
      CHECK(std::string(hush_status_name(st)) != "unknown_error");
    }
    {
      Error e;
      const hush_status st =
          hush_session_process_bundle(p.ctx, p.alice, &p.bob_addr, junk.data(), junk.size(), &e);
      CHECK(st != HUSH_OK);
      CHECK(e.e.code == st);
    }
    {
      Error e;
      hush_published_keys* keys = nullptr;
      CHECK(hush_published_keys_parse(junk.data(), junk.size(), &keys, &e) != HUSH_OK);
      CHECK(keys == nullptr);
    }
    {
      Error e;
      std::uint64_t version = 0;
      char name[16];
      std::size_t name_len = 0;
      CHECK(hush_device_list_version(junk.data(), junk.size(), &version, name, sizeof name,
                                     &name_len, &e) != HUSH_OK);
    }
  }
  {
    Error e;  // an unknown message type
    check_error(p.decrypt(7, first.second, nullptr, &e), HUSH_ERR_INVALID_ARGUMENT, e,
                "hush_session_decrypt");
  }
  // None of it changed Bob's state: the real message still decrypts, once.
  std::string text;
  REQUIRE(p.decrypt(first.first, first.second, &text, nullptr) == HUSH_OK);
  CHECK(text == "first");
  {
    Error e;
    check_error(p.decrypt(first.first, first.second, nullptr, &e), HUSH_ERR_DUPLICATE_MESSAGE, e,
                "hush_session_decrypt");
    CHECK(e.message() ==
          "hush_session_decrypt: this message was already decrypted (duplicate_message; " +
              e.message().substr(e.message().find("; ") + 2));
  }
  // Bob answers, so Alice's next message is a whisper message; with a flipped bit in its MAC it
  // does not authenticate, and the untampered one still decrypts.
  p.reply("answer");
  auto second = p.encrypt("second");
  REQUIRE(second.first == HUSH_MESSAGE_WHISPER);
  auto tampered = second.second;
  tampered.back() ^= 1;
  {
    Error e;
    check_error(p.decrypt(second.first, tampered, nullptr, &e), HUSH_ERR_INVALID_MESSAGE, e,
                "hush_session_decrypt");
  }
  REQUIRE(p.decrypt(second.first, second.second, &text, nullptr) == HUSH_OK);
  CHECK(text == "second");
}

TEST_CASE("C API stores refuse bad paths and keys", "[c_api]") {
  hush_context* ctx = nullptr;
  REQUIRE(hush_context_new(&ctx, nullptr) == HUSH_OK);
  hush_store* s = nullptr;
  {
    Error e;
    const char path[] = "/nonexistent-dir/hush.db";
    check_error(hush_store_open_sqlite(ctx, path, sizeof path - 1, nullptr, 0, &s, &e),
                HUSH_ERR_INVALID_ARGUMENT, e, "hush_store_open_sqlite");
  }
  {
    Error e;  // a NUL inside the path
    const char path[] = "/tmp/a\0b.db";
    check_error(hush_store_create_sqlite(ctx, path, sizeof path - 1, nullptr, 0, &s, &e),
                HUSH_ERR_INVALID_ARGUMENT, e, "hush_store_create_sqlite");
  }
  {
    Error e;  // a storage key of the wrong length
    const char path[] = "/tmp/hush-c-api-test-never-created.db";
    const std::uint8_t key[5] = {1, 2, 3, 4, 5};
    check_error(hush_store_create_sqlite(ctx, path, sizeof path - 1, key, sizeof key, &s, &e),
                HUSH_ERR_INVALID_ARGUMENT, e, "hush_store_create_sqlite");
  }
  CHECK(s == nullptr);
  hush_context_free(ctx);
}

TEST_CASE("C API messenger refuses missing callbacks", "[c_api]") {
  Pair p;
  hush_transport transport{nullptr, nullptr};
  hush_key_directory directory{};
  hush_messenger* m = nullptr;
  Error e;
  check_error(hush_messenger_new(p.ctx, p.alice, &transport, &directory, &p.alice_addr, &m, &e),
              HUSH_ERR_INVALID_ARGUMENT, e, "hush_messenger_new");
  CHECK(m == nullptr);
}

TEST_CASE("C API logger callback receives redacted warnings", "[c_api]") {
  std::vector<std::string> lines;
  auto log = [](void* user_data, hush_log_level level, const char* message, std::size_t len) {
    if (level >= HUSH_LOG_WARN)
      static_cast<std::vector<std::string>*>(user_data)->emplace_back(message, len);
  };
  hush_context* ctx = nullptr;
  REQUIRE(hush_context_new_with_logger(log, &lines, HUSH_LOG_WARN, &ctx, nullptr) == HUSH_OK);
  Pair p;
  auto first = p.encrypt("first");
  hush_bytes* plain = nullptr;
  REQUIRE(hush_session_decrypt(ctx, p.bob, &p.alice_addr, first.first, first.second.data(),
                               first.second.size(), &plain, nullptr) == HUSH_OK);
  hush_bytes_free(plain);
  CHECK(lines.empty());  // success logs nothing
  CHECK(hush_session_decrypt(ctx, p.bob, &p.alice_addr, first.first, first.second.data(),
                             first.second.size(), &plain, nullptr) == HUSH_ERR_DUPLICATE_MESSAGE);
  REQUIRE_FALSE(lines.empty());
  for (const auto& line : lines) {
    CHECK(line.find("alice") == std::string::npos);  // names are redacted
  }
  hush_context_free(ctx);
  Error e;
  hush_context* bad = nullptr;
  check_error(hush_context_new_with_logger(log, &lines, 9, &bad, &e), HUSH_ERR_INVALID_ARGUMENT, e,
              "hush_context_new_with_logger");
}

namespace {

// A directory that answers every fetch with garbage (or claims more bytes than it may write).
struct LyingDirectory {
  int mode = 0;  // 0: random bytes; 1: a length above the capacity
  int calls = 0;
  static LyingDirectory& self(void* user_data) { return *static_cast<LyingDirectory*>(user_data); }
  static int publish(void* u, const hush_address*, const std::uint8_t*, std::size_t) {
    ++self(u).calls;
    return HUSH_CALLBACK_OK;
  }
  static int available(void* u, const hush_address*, std::uint32_t* count) {
    ++self(u).calls;
    *count = 1000;
    return HUSH_CALLBACK_OK;
  }
  static int garbage(LyingDirectory& d, std::uint8_t* out, std::size_t cap, std::size_t* len) {
    ++d.calls;
    if (d.mode == 1) {
      *len = cap + 1;
      return HUSH_CALLBACK_OK;
    }
    const std::size_t n = cap < 100 ? cap : 100;
    for (std::size_t i = 0; i < n; ++i)
      out[i] = static_cast<std::uint8_t>(i * 37 + 11);
    *len = n;
    return HUSH_CALLBACK_OK;
  }
  static int fetch_bundle(void* u, const hush_address*, std::uint8_t* out, std::size_t cap,
                          std::size_t* len) {
    return garbage(self(u), out, cap, len);
  }
  static int publish_list(void* u, const char*, std::size_t, const std::uint8_t*, std::size_t) {
    ++self(u).calls;
    return HUSH_CALLBACK_OK;
  }
  static int fetch_list(void* u, const char*, std::size_t, std::uint8_t* out, std::size_t cap,
                        std::size_t* len) {
    return garbage(self(u), out, cap, len);
  }
};

int drop_everything(void*, const hush_address*, const std::uint8_t*, std::size_t) {
  return HUSH_CALLBACK_OK;
}

}  // namespace

TEST_CASE("C API messenger refuses what a lying directory serves", "[c_api]") {
  for (int mode : {0, 1}) {
    INFO("mode " << mode);
    Pair p;
    LyingDirectory lying;
    lying.mode = mode;
    hush_transport transport{nullptr, drop_everything};
    hush_key_directory directory{&lying,
                                 LyingDirectory::publish,
                                 LyingDirectory::available,
                                 LyingDirectory::fetch_bundle,
                                 LyingDirectory::publish_list,
                                 LyingDirectory::fetch_list};
    hush_messenger* m = nullptr;
    REQUIRE(hush_messenger_new(p.ctx, p.alice, &transport, &directory, &p.alice_addr, &m,
                               nullptr) == HUSH_OK);
    Error e;
    const hush_status st = hush_messenger_send(
        m, "bob", 3, reinterpret_cast<const std::uint8_t*>("hi"), 2, nullptr, nullptr, &e);
    CHECK(st != HUSH_OK);
    CHECK(st < HUSH_ERR_NULL_ARGUMENT);
    CHECK(e.e.code == st);
    CHECK(e.message().rfind("hush_messenger_send: ", 0) == 0);
    if (mode == 1) CHECK(st == HUSH_ERR_LIMIT_EXCEEDED);
    CHECK(lying.calls > 0);
    // Garbage in an envelope is refused the same way.
    hush_received* got = nullptr;
    const std::uint8_t junk[] = {0x0a, 0x03, 'b', 'o', 'b', 0x10, 0x01, 0xff};
    CHECK(hush_messenger_receive(m, junk, sizeof junk, &got, nullptr) != HUSH_OK);
    CHECK(got == nullptr);
    hush_messenger_free(m);
  }
}

TEST_CASE("C API prekey generation is bounded", "[c_api]") {
  Pair p;
  std::uint32_t first = 99;
  Error e;
  check_error(hush_prekeys_generate(p.ctx, p.alice, 2, 1001, &first, &e), HUSH_ERR_LIMIT_EXCEEDED,
              e, "hush_prekeys_generate");
  CHECK(first == 0);
  REQUIRE(hush_prekeys_generate(p.ctx, p.alice, 2, 0, &first, nullptr) == HUSH_OK);
  CHECK(first == 0);
  hush_bytes* bundle = nullptr;
  REQUIRE(hush_bundle_make(p.alice, 1, 2, 0, &bundle, nullptr) == HUSH_OK);
  CHECK(hush_bytes_size(bundle) > 0);
  hush_bytes_free(bundle);
  Error missing;
  check_error(hush_bundle_make(p.alice, 1, 77, 0, &bundle, &missing), HUSH_ERR_INVALID_KEY_ID,
              missing, "hush_bundle_make");
  CHECK(bundle == nullptr);
}

namespace {

// The tests' in-process relay and directory (support/loopback.h) behind the C callbacks.
struct CNetwork {
  hush::test::LoopbackNetwork net;
  hush::test::LoopbackNetwork::Port port{net};

  static CNetwork& of(void* u) { return *static_cast<CNetwork*>(u); }
  static hush::Address address(const hush_address* a) {
    return {std::string(a->name, a->name_len), hush::DeviceId{a->device_id}};
  }
  static int copy(const hush::Bytes& bytes, std::uint8_t* out, std::size_t cap, std::size_t* len) {
    if (bytes.size() > cap) return HUSH_CALLBACK_FAILED;
    std::memcpy(out, bytes.data(), bytes.size());
    *len = bytes.size();
    return HUSH_CALLBACK_OK;
  }
  static int send(void* u, const hush_address* to, const std::uint8_t* e, std::size_t n) {
    return of(u).port.send(address(to), hush::ByteView(e, n)) ? HUSH_CALLBACK_OK
                                                              : HUSH_CALLBACK_FAILED;
  }
  static int publish(void* u, const hush_address* self, const std::uint8_t* k, std::size_t n) {
    auto keys = hush::PublishedKeys::parse(hush::ByteView(k, n));
    return keys && of(u).net.publish(address(self), *keys) ? HUSH_CALLBACK_OK
                                                           : HUSH_CALLBACK_FAILED;
  }
  static int available(void* u, const hush_address* self, std::uint32_t* count) {
    auto n = of(u).net.available_pre_keys(address(self));
    if (!n) return HUSH_CALLBACK_FAILED;
    *count = n->one_time;
    return HUSH_CALLBACK_OK;
  }
  static int fetch(void* u, const hush_address* remote, std::uint8_t* out, std::size_t cap,
                   std::size_t* len) {
    auto bundle = of(u).net.fetch(address(remote));
    if (!bundle)
      return bundle.error().code() == hush::Errc::kNoSession ? HUSH_CALLBACK_NOT_FOUND
                                                             : HUSH_CALLBACK_FAILED;
    return copy(bundle->serialize(), out, cap, len);
  }
  static int publish_list(void* u, const char* name, std::size_t name_len, const std::uint8_t* l,
                          std::size_t n) {
    return of(u).net.publish_device_list(std::string_view(name, name_len), hush::ByteView(l, n))
               ? HUSH_CALLBACK_OK
               : HUSH_CALLBACK_FAILED;
  }
  static int fetch_list(void* u, const char* name, std::size_t name_len, std::uint8_t* out,
                        std::size_t cap, std::size_t* len) {
    auto list = of(u).net.fetch_device_list(std::string_view(name, name_len));
    if (!list) return HUSH_CALLBACK_FAILED;
    if (!*list) return HUSH_CALLBACK_NOT_FOUND;
    return copy(**list, out, cap, len);
  }
  hush_transport transport() { return {this, send}; }
  hush_key_directory directory() {
    return {this, publish, available, fetch, publish_list, fetch_list};
  }
};

// One device: an in-memory store and a messenger on `net`.
struct CUser {
  hush_store* store = nullptr;
  hush_messenger* messenger = nullptr;
  std::string name;
  CUser(hush_context* ctx, CNetwork& net, std::string person) : name(std::move(person)) {
    const hush_transport t = net.transport();
    const hush_key_directory d = net.directory();
    const hush_address self{name.c_str(), name.size(), 1};
    REQUIRE(hush_store_new_in_memory(ctx, &store, nullptr) == HUSH_OK);
    REQUIRE(hush_messenger_new(ctx, store, &t, &d, &self, &messenger, nullptr) == HUSH_OK);
    REQUIRE(hush_messenger_maintain_keys(messenger, nullptr) == HUSH_OK);
  }
  ~CUser() {
    hush_messenger_free(messenger);
    hush_store_free(store);
  }
  hush_status send(const std::string& to, const std::string& text, hush_error* error = nullptr) {
    return hush_messenger_send(messenger, to.data(), to.size(),
                               reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                               nullptr, nullptr, error);
  }
  // Receives everything queued for this device; returns the texts shown.
  std::vector<std::string> drain(CNetwork& net) {
    std::vector<std::string> shown;
    auto& queue = net.net.queue({name, hush::DeviceId{1}});
    while (!queue.empty()) {
      hush_received* got = nullptr;
      Error e;
      const hush_status st =
          hush_messenger_receive(messenger, queue.front().data(), queue.front().size(), &got, &e);
      queue.pop_front();
      INFO(e.message());
      REQUIRE(st == HUSH_OK);
      if (got == nullptr) continue;
      std::size_t len = 0;
      const std::uint8_t* text = hush_received_plaintext(got, &len);
      shown.emplace_back(reinterpret_cast<const char*>(text), len);
      hush_received_free(got);
    }
    return shown;
  }
};

}  // namespace

TEST_CASE("C API messenger stops at an identity change until it is approved", "[c_api]") {
  hush_context* ctx = nullptr;
  REQUIRE(hush_context_new(&ctx, nullptr) == HUSH_OK);
  {
    CNetwork net;
    CUser carol(ctx, net, "carol");
    auto dave = std::make_unique<CUser>(ctx, net, "dave");
    REQUIRE(carol.send("dave", "before") == HUSH_OK);
    CHECK(dave->drain(net) == std::vector<std::string>{"before"});

    // Dave reinstalls: a new identity and device list under the same name.
    dave.reset();
    dave = std::make_unique<CUser>(ctx, net, "dave");
    {
      Error e;
      check_error(carol.send("dave", "to the new phone?", &e), HUSH_ERR_UNTRUSTED_IDENTITY, e,
                  "hush_messenger_send");
      CHECK(e.message().find("compare safety numbers") != std::string::npos);
    }
    CHECK(net.net.queue({"dave", hush::DeviceId{1}}).empty());
    // The change is pending with the key the new phone offers; the number to compare is computed
    // from it, and matches what the new phone shows.
    std::uint8_t offered[HUSH_PUBLIC_KEY_SIZE];
    std::size_t offered_len = 0;
    int pending = 0;
    {
      Error e;  // a short buffer first
      check_error(hush_messenger_identity_change(carol.messenger, "dave", 4, &pending, offered, 8,
                                                 &offered_len, &e),
                  HUSH_ERR_BUFFER_TOO_SMALL, e, "hush_messenger_identity_change");
      CHECK(offered_len == HUSH_PUBLIC_KEY_SIZE);
      CHECK(pending == 0);
    }
    REQUIRE(hush_messenger_identity_change(carol.messenger, "dave", 4, &pending, offered,
                                           sizeof offered, &offered_len, nullptr) == HUSH_OK);
    REQUIRE(pending == 1);
    std::uint8_t new_key[HUSH_PUBLIC_KEY_SIZE];
    std::uint8_t carol_key[HUSH_PUBLIC_KEY_SIZE];
    std::size_t len = 0;
    REQUIRE(hush_store_identity_key(dave->store, new_key, sizeof new_key, &len, nullptr) ==
            HUSH_OK);
    REQUIRE(hush_store_identity_key(carol.store, carol_key, sizeof carol_key, &len, nullptr) ==
            HUSH_OK);
    CHECK(std::memcmp(offered, new_key, sizeof new_key) == 0);
    {
      hush_fingerprint* to_compare = nullptr;
      hush_fingerprint* on_new_phone = nullptr;
      REQUIRE(hush_fingerprint_compute("carol", 5, carol_key, sizeof carol_key, "dave", 4, offered,
                                       offered_len, &to_compare, nullptr) == HUSH_OK);
      REQUIRE(hush_fingerprint_compute("dave", 4, new_key, sizeof new_key, "carol", 5, carol_key,
                                       sizeof carol_key, &on_new_phone, nullptr) == HUSH_OK);
      char a[HUSH_FINGERPRINT_DISPLAY_MAX];
      char b[HUSH_FINGERPRINT_DISPLAY_MAX];
      REQUIRE(hush_fingerprint_display(to_compare, HUSH_FINGERPRINT_DIGITS, a, sizeof a, &len,
                                       nullptr) == HUSH_OK);
      REQUIRE(hush_fingerprint_display(on_new_phone, HUSH_FINGERPRINT_DIGITS, b, sizeof b, &len,
                                       nullptr) == HUSH_OK);
      CHECK(std::string(a) == std::string(b));
      hush_fingerprint_free(to_compare);
      hush_fingerprint_free(on_new_phone);
    }
    REQUIRE(hush_messenger_identity_change(carol.messenger, "erin", 4, &pending, offered,
                                           sizeof offered, &offered_len, nullptr) == HUSH_OK);
    CHECK(pending == 0);
    {
      Error e;  // nothing pending for a person we never heard of
      check_error(hush_messenger_approve_identity(carol.messenger, "erin", 4, &e),
                  HUSH_ERR_INVALID_ARGUMENT, e, "hush_messenger_approve_identity");
    }
    // Dismissed (the user did not confirm the number): the change is forgotten, the trusted key
    // kept, and the next send to the new key raises it again.
    REQUIRE(hush_messenger_dismiss_identity_change(carol.messenger, "dave", 4, nullptr) == HUSH_OK);
    REQUIRE(hush_messenger_identity_change(carol.messenger, "dave", 4, &pending, offered,
                                           sizeof offered, &offered_len, nullptr) == HUSH_OK);
    CHECK(pending == 0);
    {
      Error e;
      check_error(carol.send("dave", "still the new phone?", &e), HUSH_ERR_UNTRUSTED_IDENTITY, e,
                  "hush_messenger_send");
      check_error(hush_messenger_dismiss_identity_change(nullptr, "dave", 4, &e),
                  HUSH_ERR_NULL_ARGUMENT, e, "hush_messenger_dismiss_identity_change");
    }
    REQUIRE(hush_messenger_identity_change(carol.messenger, "dave", 4, &pending, offered,
                                           sizeof offered, &offered_len, nullptr) == HUSH_OK);
    REQUIRE(pending == 1);
    CHECK(std::memcmp(offered, new_key, sizeof new_key) == 0);
    CHECK(net.net.queue({"dave", hush::DeviceId{1}}).empty());
    // The user compares the new safety number and approves; sending resumes.
    REQUIRE(hush_messenger_approve_identity(carol.messenger, "dave", 4, nullptr) == HUSH_OK);
    REQUIRE(hush_messenger_identity_change(carol.messenger, "dave", 4, &pending, offered,
                                           sizeof offered, &offered_len, nullptr) == HUSH_OK);
    CHECK(pending == 0);
    REQUIRE(carol.send("dave", "welcome back") == HUSH_OK);
    CHECK(dave->drain(net) == std::vector<std::string>{"welcome back"});
    // And both sides now show the same safety number for the new identity.
    hush_fingerprint* at_carol = nullptr;
    hush_fingerprint* at_dave = nullptr;
    REQUIRE(hush_messenger_safety_number(carol.messenger, "dave", 4, &at_carol, nullptr) ==
            HUSH_OK);
    REQUIRE(hush_messenger_safety_number(dave->messenger, "carol", 5, &at_dave, nullptr) ==
            HUSH_OK);
    std::uint8_t code[512];
    std::size_t code_len = 0;
    int matches = 0;
    REQUIRE(hush_fingerprint_scannable(at_dave, code, sizeof code, &code_len, nullptr) == HUSH_OK);
    REQUIRE(hush_fingerprint_compare_scanned(at_carol, code, code_len, &matches, nullptr) ==
            HUSH_OK);
    CHECK(matches == 1);
    hush_fingerprint_free(at_carol);
    hush_fingerprint_free(at_dave);
  }
  hush_context_free(ctx);
}

TEST_CASE("C API groups refuse null handles and bad names", "[c_api][group]") {
  Pair p;
  const char* uuid = "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6";
  hush_group* group = nullptr;
  REQUIRE(hush_group_new_current(uuid, std::strlen(uuid), &group, nullptr) == HUSH_OK);
  const std::uint8_t text[] = {'h', 'i'};
  {
    Error e;
    hush_group* g = nullptr;
    check_error(hush_group_new_legacy(nullptr, 3, &g, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_group_new_legacy");
    CHECK(g == nullptr);
  }
  {
    Error e;
    hush_group* g = nullptr;
    check_error(hush_group_new_legacy("", 0, &g, &e), HUSH_ERR_INVALID_ARGUMENT, e,
                "hush_group_new_legacy");
    CHECK(g == nullptr);
    const std::string long_name(HUSH_MAX_GROUP_NAME_BYTES + 1, 'g');
    check_error(hush_group_new_legacy(long_name.data(), long_name.size(), &g, &e),
                HUSH_ERR_INVALID_ARGUMENT, e, "hush_group_new_legacy");
    CHECK(g == nullptr);
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "not a uuid", "D1D1D1D1-7000-11EB-B32A-33B8A8A487A6",
           "d1d1d1d1-7000-11eb-b32a-33b8a8a487a", "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6x",
           std::string("d1d1d1d1-7000-11eb-b32a-33b8a8a487a6\0", 37)}) {
    INFO(bad);
    Error e;
    hush_group* g = nullptr;
    check_error(hush_group_new_current(bad.data(), bad.size(), &g, &e), HUSH_ERR_INVALID_ARGUMENT,
                e, "hush_group_new_current");
    CHECK(g == nullptr);
  }
  {
    Error e;
    check_error(hush_group_new_current(uuid, std::strlen(uuid), nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_new_current");
  }
  {
    Error e;
    hush_bytes* out = nullptr;
    check_error(hush_group_create_distribution(p.ctx, p.alice, &p.alice_addr, nullptr, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_create_distribution");
    CHECK(out == nullptr);
    CHECK(e.message().find("group") != std::string::npos);
    check_error(hush_group_create_distribution(p.ctx, nullptr, &p.alice_addr, group, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_create_distribution");
    check_error(hush_group_rotate_sender_key(nullptr, p.alice, &p.alice_addr, group, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_rotate_sender_key");
    check_error(hush_group_create_distribution(p.ctx, p.alice, &p.alice_addr, group, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_create_distribution");
    CHECK(out == nullptr);
  }
  {
    Error e;
    const hush_address no_name{nullptr, 3, 1};
    check_error(hush_group_process_distribution(p.bob, &no_name, group, text, 2, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_process_distribution");
    check_error(hush_group_process_distribution(p.bob, &p.alice_addr, group, nullptr, 2, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_process_distribution");
    check_error(hush_group_process_distribution(nullptr, &p.alice_addr, group, text, 2, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_process_distribution");
  }
  {
    Error e;
    hush_bytes* out = nullptr;
    check_error(hush_group_encrypt(p.ctx, p.alice, &p.alice_addr, nullptr, text, 2, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_encrypt");
    check_error(hush_group_encrypt(p.ctx, p.alice, &p.alice_addr, group, nullptr, 2, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_encrypt");
    CHECK(out == nullptr);
    // No chain of ours yet: no_session, and nothing is created by trying.
    check_error(hush_group_encrypt(p.ctx, p.alice, &p.alice_addr, group, text, 2, &out, &e),
                HUSH_ERR_NO_SESSION, e, "hush_group_encrypt");
    CHECK(out == nullptr);
    check_error(hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, nullptr, text, 2, &out, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_decrypt");
    check_error(hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, group, text, 2, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_decrypt");
  }
  {
    // The name, with a size query first; and a random group's name is a UUID that names it again.
    Error e;
    std::size_t len = 0;
    int is_legacy = -1;
    check_error(hush_group_name(group, nullptr, 0, &len, &is_legacy, &e), HUSH_ERR_BUFFER_TOO_SMALL,
                e, "hush_group_name");
    CHECK(len == HUSH_DISTRIBUTION_ID_TEXT_SIZE);
    char name[HUSH_DISTRIBUTION_ID_TEXT_SIZE + 1];
    check_error(hush_group_name(group, name, HUSH_DISTRIBUTION_ID_TEXT_SIZE, &len, &is_legacy, &e),
                HUSH_ERR_BUFFER_TOO_SMALL, e, "hush_group_name");
    REQUIRE(hush_group_name(group, name, sizeof name, &len, &is_legacy, &e) == HUSH_OK);
    CHECK(std::string(name) == uuid);
    CHECK(is_legacy == 0);
    check_error(hush_group_name(nullptr, name, sizeof name, &len, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_name");
    check_error(hush_group_name(group, name, sizeof name, nullptr, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_group_name");
    hush_group* random = nullptr;
    hush_group* again = nullptr;
    check_error(hush_group_new_random(nullptr, &random, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_group_new_random");
    REQUIRE(hush_group_new_random(p.ctx, &random, &e) == HUSH_OK);
    REQUIRE(hush_group_name(random, name, sizeof name, &len, nullptr, &e) == HUSH_OK);
    CHECK(std::string(name) != uuid);
    CHECK(name[14] == '4');  // a version 4 UUID
    REQUIRE(hush_group_new_current(name, len, &again, &e) == HUSH_OK);
    hush_group* legacy = nullptr;
    REQUIRE(hush_group_new_legacy("club", 4, &legacy, &e) == HUSH_OK);
    REQUIRE(hush_group_name(legacy, name, sizeof name, &len, &is_legacy, &e) == HUSH_OK);
    CHECK(std::string(name) == "club");
    CHECK(is_legacy == 1);
    hush_group_free(random);
    hush_group_free(again);
    hush_group_free(legacy);
  }
  hush_group_free(group);
  hush_group_free(nullptr);
}

TEST_CASE("C API groups refuse garbage and messages of the other format", "[c_api][group]") {
  Pair p;
  const char* uuid = "0f0e0d0c-0b0a-4908-8706-050403020100";
  hush_group* current = nullptr;
  hush_group* legacy = nullptr;
  REQUIRE(hush_group_new_current(uuid, std::strlen(uuid), &current, nullptr) == HUSH_OK);
  // The same text names a distinct legacy group.
  REQUIRE(hush_group_new_legacy(uuid, std::strlen(uuid), &legacy, nullptr) == HUSH_OK);
  hush_bytes* dist = nullptr;
  REQUIRE(hush_group_create_distribution(p.ctx, p.alice, &p.alice_addr, current, &dist, nullptr) ==
          HUSH_OK);
  const std::vector<std::uint8_t> dist_bytes(hush_bytes_data(dist),
                                             hush_bytes_data(dist) + hush_bytes_size(dist));
  hush_bytes_free(dist);
  {
    // A current-format distribution message is no legacy one.
    Error e;
    const hush_status st = hush_group_process_distribution(
        p.bob, &p.alice_addr, legacy, dist_bytes.data(), dist_bytes.size(), &e);
    CHECK(st != HUSH_OK);
    CHECK(std::string(hush_status_name(st)) != "unknown_error");
  }
  REQUIRE(hush_group_process_distribution(p.bob, &p.alice_addr, current, dist_bytes.data(),
                                          dist_bytes.size(), nullptr) == HUSH_OK);
  hush_bytes* wire = nullptr;
  const std::uint8_t text[] = {'o', 'k'};
  REQUIRE(hush_group_encrypt(p.ctx, p.alice, &p.alice_addr, current, text, 2, &wire, nullptr) ==
          HUSH_OK);
  const std::vector<std::uint8_t> message(hush_bytes_data(wire),
                                          hush_bytes_data(wire) + hush_bytes_size(wire));
  hush_bytes_free(wire);

  std::mt19937 rng(20261206);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);
  for (int i = 0; i < 100; ++i) {
    std::vector<std::uint8_t> junk(length(rng));
    for (auto& b : junk)
      b = static_cast<std::uint8_t>(byte(rng));
    if (i % 4 == 0 && !junk.empty()) junk[0] = 0x33;
    INFO("garbage " << i << " of " << junk.size() << " bytes");
    hush_bytes* out = nullptr;
    Error e;
    hush_status st = hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, current, junk.data(),
                                        junk.size(), &out, &e);
    CHECK(st != HUSH_OK);
    CHECK(out == nullptr);
    CHECK(std::string(hush_status_name(st)) != "unknown_error");
    st = hush_group_process_distribution(p.bob, &p.alice_addr, current, junk.data(), junk.size(),
                                         &e);
    CHECK(st != HUSH_OK);
    CHECK(std::string(hush_status_name(st)) != "unknown_error");
  }
  {
    // The message in the legacy group of the same name does not decrypt.
    Error e;
    hush_bytes* out = nullptr;
    CHECK(hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, legacy, message.data(), message.size(),
                             &out, &e) != HUSH_OK);
    CHECK(out == nullptr);
  }
  // None of that changed anything: the real message still decrypts, once.
  hush_bytes* out = nullptr;
  REQUIRE(hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, current, message.data(), message.size(),
                             &out, nullptr) == HUSH_OK);
  CHECK(hush_bytes_size(out) == 2);
  hush_bytes_free(out);
  out = nullptr;
  Error e;
  check_error(hush_group_decrypt(p.ctx, p.bob, &p.alice_addr, current, message.data(),
                                 message.size(), &out, &e),
              HUSH_ERR_DUPLICATE_MESSAGE, e, "hush_group_decrypt");
  hush_group_free(current);
  hush_group_free(legacy);
}

TEST_CASE("C API SFrame refuses null handles and bad suites and keys", "[c_api][sframe]") {
  std::uint8_t key[HUSH_SFRAME_MAX_BASE_KEY_SIZE + 1] = {};
  for (std::size_t i = 0; i < sizeof key; ++i)
    key[i] = static_cast<std::uint8_t>(i);
  const std::uint8_t text[] = {'f'};
  {
    Error e;
    hush_sframe_sender* s = nullptr;
    for (int suite : {0, 6, -1, 0x10004}) {
      INFO(suite);
      check_error(hush_sframe_sender_new(suite, 1, key, 16, 0, &s, &e), HUSH_ERR_INVALID_ARGUMENT,
                  e, "hush_sframe_sender_new");
      CHECK(s == nullptr);
    }
    for (std::size_t len :
         {std::size_t{0}, std::size_t{15}, std::size_t{HUSH_SFRAME_MAX_BASE_KEY_SIZE + 1}}) {
      INFO(len);
      check_error(
          hush_sframe_sender_new(HUSH_SFRAME_AES_128_GCM_SHA256_128, 1, key, len, 0, &s, &e),
          HUSH_ERR_INVALID_KEY, e, "hush_sframe_sender_new");
      CHECK(s == nullptr);
    }
    check_error(
        hush_sframe_sender_new(HUSH_SFRAME_AES_128_GCM_SHA256_128, 1, nullptr, 16, 0, &s, &e),
        HUSH_ERR_NULL_ARGUMENT, e, "hush_sframe_sender_new");
    check_error(
        hush_sframe_sender_new(HUSH_SFRAME_AES_128_GCM_SHA256_128, 1, key, 16, 0, nullptr, &e),
        HUSH_ERR_NULL_ARGUMENT, e, "hush_sframe_sender_new");
    hush_bytes* frame = nullptr;
    check_error(hush_sframe_sender_encrypt(nullptr, nullptr, 0, text, 1, &frame, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_sframe_sender_encrypt");
    CHECK(frame == nullptr);
    std::uint64_t counter = 0;
    check_error(hush_sframe_sender_next_counter(nullptr, &counter, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_sframe_sender_next_counter");
  }
  {
    Error e;
    hush_sframe_receiver* r = nullptr;
    check_error(hush_sframe_receiver_new(9, &r, &e), HUSH_ERR_INVALID_ARGUMENT, e,
                "hush_sframe_receiver_new");
    CHECK(r == nullptr);
    REQUIRE(hush_sframe_receiver_new(HUSH_SFRAME_AES_256_GCM_SHA512_128, &r, &e) == HUSH_OK);
    check_error(hush_sframe_receiver_add_key(r, 1, key, 15, &e), HUSH_ERR_INVALID_KEY, e,
                "hush_sframe_receiver_add_key");
    check_error(hush_sframe_receiver_add_key(r, 1, key, sizeof key, &e), HUSH_ERR_INVALID_KEY, e,
                "hush_sframe_receiver_add_key");
    check_error(hush_sframe_receiver_add_key(nullptr, 1, key, 16, &e), HUSH_ERR_NULL_ARGUMENT, e,
                "hush_sframe_receiver_add_key");
    check_error(hush_sframe_receiver_remove_key(r, 1, &e), HUSH_ERR_UNKNOWN_KEY_ID, e,
                "hush_sframe_receiver_remove_key");
    REQUIRE(hush_sframe_receiver_add_key(r, 1, key, 32, &e) == HUSH_OK);
    check_error(hush_sframe_receiver_add_key(r, 1, key, 32, &e), HUSH_ERR_INVALID_ARGUMENT, e,
                "hush_sframe_receiver_add_key");
    hush_bytes* plain = nullptr;
    check_error(hush_sframe_receiver_decrypt(r, nullptr, 0, nullptr, 4, &plain, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_sframe_receiver_decrypt");
    check_error(hush_sframe_receiver_decrypt(r, nullptr, 0, text, 0, &plain, &e),
                HUSH_ERR_MALFORMED_HEADER, e, "hush_sframe_receiver_decrypt");
    const std::uint8_t other_kid[] = {0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_error(
        hush_sframe_receiver_decrypt(r, nullptr, 0, other_kid, sizeof other_kid, &plain, &e),
        HUSH_ERR_UNKNOWN_KEY_ID, e, "hush_sframe_receiver_decrypt");
    const std::uint8_t kid_one[] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_error(hush_sframe_receiver_decrypt(r, nullptr, 0, kid_one, sizeof kid_one, &plain, &e),
                HUSH_ERR_AUTHENTICATION_FAILED, e, "hush_sframe_receiver_decrypt");
    check_error(hush_sframe_receiver_decrypt(r, nullptr, 0, kid_one, sizeof kid_one, nullptr, &e),
                HUSH_ERR_NULL_ARGUMENT, e, "hush_sframe_receiver_decrypt");
    CHECK(plain == nullptr);
    REQUIRE(hush_sframe_receiver_remove_key(r, 1, &e) == HUSH_OK);
    hush_sframe_receiver_free(r);
    hush_sframe_receiver_free(nullptr);
    hush_sframe_sender_free(nullptr);
  }
}

TEST_CASE("C API SFrame sender resumes from a stored counter", "[c_api][sframe]") {
  std::uint8_t key[32];
  for (std::size_t i = 0; i < sizeof key; ++i)
    key[i] = static_cast<std::uint8_t>(0xa0 + i);
  const std::uint8_t meta[] = {'m'};
  const std::uint8_t text[] = {'v', 'i', 'd'};
  hush_sframe_sender* s = nullptr;
  hush_sframe_receiver* r = nullptr;
  REQUIRE(hush_sframe_sender_new(HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80, 7, key, sizeof key, 0, &s,
                                 nullptr) == HUSH_OK);
  REQUIRE(hush_sframe_receiver_new(HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80, &r, nullptr) == HUSH_OK);
  REQUIRE(hush_sframe_receiver_add_key(r, 7, key, sizeof key, nullptr) == HUSH_OK);
  hush_bytes* frame = nullptr;
  REQUIRE(hush_sframe_sender_encrypt(s, meta, 1, text, 3, &frame, nullptr) == HUSH_OK);
  CHECK(hush_bytes_size(frame) <= 3 + HUSH_SFRAME_MAX_OVERHEAD);
  std::uint64_t next = 0;
  REQUIRE(hush_sframe_sender_next_counter(s, &next, nullptr) == HUSH_OK);
  CHECK(next == 1);
  hush_sframe_sender_free(s);
  // A sender resumed at the stored counter carries on; the receiver accepts both frames.
  REQUIRE(hush_sframe_sender_new(HUSH_SFRAME_AES_128_CTR_HMAC_SHA256_80, 7, key, sizeof key, next,
                                 &s, nullptr) == HUSH_OK);
  hush_bytes* second = nullptr;
  REQUIRE(hush_sframe_sender_encrypt(s, meta, 1, text, 3, &second, nullptr) == HUSH_OK);
  for (hush_bytes* f : {frame, second}) {
    hush_bytes* plain = nullptr;
    REQUIRE(hush_sframe_receiver_decrypt(r, meta, 1, hush_bytes_data(f), hush_bytes_size(f), &plain,
                                         nullptr) == HUSH_OK);
    CHECK(hush_bytes_size(plain) == 3);
    hush_bytes_free(plain);
  }
  {
    // Other metadata: the frame does not authenticate.
    hush_bytes* third = nullptr;
    REQUIRE(hush_sframe_sender_encrypt(s, meta, 1, text, 3, &third, nullptr) == HUSH_OK);
    Error e;
    hush_bytes* plain = nullptr;
    check_error(hush_sframe_receiver_decrypt(r, text, 3, hush_bytes_data(third),
                                             hush_bytes_size(third), &plain, &e),
                HUSH_ERR_AUTHENTICATION_FAILED, e, "hush_sframe_receiver_decrypt");
    CHECK(plain == nullptr);
    hush_bytes_free(third);
  }
  hush_bytes_free(frame);
  hush_bytes_free(second);
  hush_sframe_sender_free(s);
  hush_sframe_receiver_free(r);
}

namespace {

// A key directory with Kyber prekeys written with the C helpers alone (hush_published_keys_*,
// HUSH_C_1.2), as a C server would: it keeps the bytes the helpers give and builds bundles from
// them. Envelopes and device lists go through the tests' loopback network.
struct CDirectoryV2 {
  CNetwork net;
  struct Device {
    hush_published_keys* keys = nullptr;  // the newest publish (identity, signed prekey)
    std::deque<std::pair<std::uint32_t, std::vector<std::uint8_t>>> pre_keys;
    std::deque<std::pair<std::uint32_t, std::vector<std::uint8_t>>> kyber_pre_keys;
    std::uint32_t last_resort_id = 0;
    std::vector<std::uint8_t> last_resort;
  };
  std::map<std::pair<std::string, std::uint32_t>, Device> devices;
  bool strip_kyber = false;  // a lying directory: bundles without Kyber prekeys
  ~CDirectoryV2() {
    for (auto& [address, d] : devices)
      hush_published_keys_free(d.keys);
  }
  static CDirectoryV2& of(void* u) { return *static_cast<CDirectoryV2*>(u); }
  static std::pair<std::string, std::uint32_t> key(const hush_address* a) {
    return {std::string(a->name, a->name_len), a->device_id};
  }
  static int publish(void* u, const hush_address* self, const std::uint8_t* k, std::size_t n) {
    hush_published_keys* keys = nullptr;
    if (hush_published_keys_parse(k, n, &keys, nullptr) != HUSH_OK) return HUSH_CALLBACK_FAILED;
    Device& d = of(u).devices[key(self)];
    for (std::size_t i = 0; i < hush_published_keys_pre_key_count(keys); ++i) {
      std::uint32_t id = 0;
      std::vector<std::uint8_t> bytes(HUSH_PUBLIC_KEY_SIZE);
      std::size_t len = 0;
      if (hush_published_keys_pre_key(keys, i, &id, bytes.data(), bytes.size(), &len, nullptr) !=
          HUSH_OK)
        return HUSH_CALLBACK_FAILED;
      d.pre_keys.emplace_back(id, bytes);
    }
    for (std::size_t i = 0; i < hush_published_keys_kyber_pre_key_count(keys); ++i) {
      std::uint32_t id = 0;
      std::vector<std::uint8_t> bytes(HUSH_SIGNED_KYBER_PRE_KEY_SIZE);
      std::size_t len = 0;
      if (hush_published_keys_kyber_pre_key(keys, i, &id, bytes.data(), bytes.size(), &len,
                                            nullptr) != HUSH_OK)
        return HUSH_CALLBACK_FAILED;
      d.kyber_pre_keys.emplace_back(id, bytes);
    }
    std::uint32_t id = 0;
    std::vector<std::uint8_t> bytes(HUSH_SIGNED_KYBER_PRE_KEY_SIZE);
    std::size_t len = 0;
    if (hush_published_keys_last_resort_kyber_pre_key(keys, &id, bytes.data(), bytes.size(), &len,
                                                      nullptr) != HUSH_OK)
      return HUSH_CALLBACK_FAILED;
    if (len != 0) {
      d.last_resort_id = id;
      d.last_resort = bytes;
    }
    hush_published_keys_free(d.keys);
    d.keys = keys;
    return HUSH_CALLBACK_OK;
  }
  static int available(void* u, const hush_address* self, std::uint32_t* one_time,
                       std::uint32_t* kyber) {
    auto it = of(u).devices.find(key(self));
    *one_time =
        it == of(u).devices.end() ? 0 : static_cast<std::uint32_t>(it->second.pre_keys.size());
    *kyber = it == of(u).devices.end()
                 ? 0
                 : static_cast<std::uint32_t>(it->second.kyber_pre_keys.size());
    return HUSH_CALLBACK_OK;
  }
  static int fetch(void* u, const hush_address* remote, std::uint8_t* out, std::size_t cap,
                   std::size_t* len) {
    auto it = of(u).devices.find(key(remote));
    if (it == of(u).devices.end()) return HUSH_CALLBACK_NOT_FOUND;
    Device& d = it->second;
    std::pair<std::uint32_t, std::vector<std::uint8_t>> pre{0, {}};
    if (!d.pre_keys.empty()) {
      pre = d.pre_keys.front();
      d.pre_keys.pop_front();
    }
    std::pair<std::uint32_t, std::vector<std::uint8_t>> kyber{d.last_resort_id, d.last_resort};
    if (!d.kyber_pre_keys.empty()) {
      kyber = d.kyber_pre_keys.front();
      d.kyber_pre_keys.pop_front();
    }
    if (of(u).strip_kyber) kyber = {0, {}};
    hush_bytes* bundle = nullptr;
    if (hush_published_keys_bundle_v2(
            d.keys, pre.first, pre.second.empty() ? nullptr : pre.second.data(), pre.second.size(),
            kyber.first, kyber.second.empty() ? nullptr : kyber.second.data(), kyber.second.size(),
            &bundle, nullptr) != HUSH_OK)
      return HUSH_CALLBACK_FAILED;
    const std::size_t n = hush_bytes_size(bundle);
    const std::uint8_t* data = hush_bytes_data(bundle);
    int result = HUSH_CALLBACK_FAILED;
    if (n <= cap) {
      std::memcpy(out, data, n);
      *len = n;
      result = HUSH_CALLBACK_OK;
    }
    hush_bytes_free(bundle);
    return result;
  }
  static int publish_list(void* u, const char* name, std::size_t name_len, const std::uint8_t* l,
                          std::size_t n) {
    return CNetwork::publish_list(&of(u).net, name, name_len, l, n);
  }
  static int fetch_list(void* u, const char* name, std::size_t name_len, std::uint8_t* out,
                        std::size_t cap, std::size_t* len) {
    return CNetwork::fetch_list(&of(u).net, name, name_len, out, cap, len);
  }
  hush_key_directory_v2 directory() {
    return {this, publish, available, fetch, publish_list, fetch_list};
  }
};

}  // namespace

TEST_CASE("C API messenger talks Signal v4 through a directory with Kyber prekeys", "[c_api]") {
  hush_context* ctx = nullptr;
  REQUIRE(hush_context_new(&ctx, nullptr) == HUSH_OK);
  {
    CDirectoryV2 dir;
    const hush_transport t = dir.net.transport();
    const hush_key_directory_v2 d = dir.directory();
    struct Device {
      hush_store* store = nullptr;
      hush_messenger* messenger = nullptr;
    };
    auto make = [&](const std::string& name, std::uint32_t flags) {
      Device out;
      const hush_address self{name.c_str(), name.size(), 1};
      REQUIRE(hush_store_new_in_memory(ctx, &out.store, nullptr) == HUSH_OK);
      REQUIRE(hush_messenger_new_v2(ctx, out.store, &t, &d, &self, flags, &out.messenger,
                                    nullptr) == HUSH_OK);
      REQUIRE(hush_messenger_maintain_keys(out.messenger, nullptr) == HUSH_OK);
      return out;
    };
    Device alice = make("alice", 0);
    Device bob = make("bob", 0);
    Device strict = make("strict", HUSH_MESSENGER_REQUIRE_POST_QUANTUM);
    {
      Error e;
      hush_messenger* m = nullptr;
      const hush_address self{"x", 1, 1};
      check_error(hush_messenger_new_v2(ctx, alice.store, &t, &d, &self, 2, &m, &e),
                  HUSH_ERR_INVALID_ARGUMENT, e, "hush_messenger_new_v2");
    }
    // bob published 100 one-time Kyber prekeys and a last-resort one.
    const auto& held = dir.devices[{"bob", 1}];
    CHECK(held.kyber_pre_keys.size() == 100);
    CHECK(held.last_resort.size() == HUSH_SIGNED_KYBER_PRE_KEY_SIZE);
    const std::string hi = "hello in v4";
    REQUIRE(hush_messenger_send(alice.messenger, "bob", 3,
                                reinterpret_cast<const std::uint8_t*>(hi.data()), hi.size(),
                                nullptr, nullptr, nullptr) == HUSH_OK);
    CHECK(held.kyber_pre_keys.size() == 99);
    const hush_address bob_address{"bob", 3, 1};
    std::uint32_t version = 0;
    REQUIRE(hush_session_version(alice.store, &bob_address, &version, nullptr) == HUSH_OK);
    CHECK(version == 4);
    auto& queue = dir.net.net.queue({"bob", hush::DeviceId{1}});
    REQUIRE(queue.size() == 1);
    hush_received* got = nullptr;
    REQUIRE(hush_messenger_receive(bob.messenger, queue.front().data(), queue.front().size(), &got,
                                   nullptr) == HUSH_OK);
    queue.pop_front();
    REQUIRE(got != nullptr);
    hush_received_free(got);
    const hush_address alice_address{"alice", 5, 1};
    REQUIRE(hush_session_version(bob.store, &alice_address, &version, nullptr) == HUSH_OK);
    CHECK(version == 4);

    // A directory that strips the Kyber prekeys: the strict device refuses bob's bundle.
    dir.strip_kyber = true;
    std::size_t sent = 9;
    std::size_t queued = 0;
    REQUIRE(hush_messenger_send(strict.messenger, "bob", 3,
                                reinterpret_cast<const std::uint8_t*>(hi.data()), hi.size(), &sent,
                                &queued, nullptr) == HUSH_OK);
    CHECK(sent == 0);
    CHECK(queued == 1);
    const hush_address strict_to_bob{"bob", 3, 1};
    REQUIRE(hush_session_version(strict.store, &strict_to_bob, &version, nullptr) == HUSH_OK);
    CHECK(version == 0);
    dir.strip_kyber = false;
    REQUIRE(hush_messenger_flush(strict.messenger, &sent, &queued, nullptr) == HUSH_OK);
    CHECK(sent == 1);
    REQUIRE(hush_session_version(strict.store, &strict_to_bob, &version, nullptr) == HUSH_OK);
    CHECK(version == 4);
    {
      Error e;
      check_error(hush_session_version(nullptr, &bob_address, &version, &e), HUSH_ERR_NULL_ARGUMENT,
                  e, "hush_session_version");
      hush_bytes* bundle = nullptr;
      const std::uint8_t short_key[10] = {};
      check_error(hush_published_keys_bundle_v2(held.keys, 0, nullptr, 0, 1, short_key,
                                                sizeof short_key, &bundle, &e),
                  HUSH_ERR_INVALID_KEM_KEY, e, "hush_published_keys_bundle_v2");
      std::uint32_t id = 0;
      std::size_t len = 0;
      check_error(hush_published_keys_kyber_pre_key(held.keys, 1000, &id, nullptr, 0, &len, &e),
                  HUSH_ERR_INVALID_ARGUMENT, e, "hush_published_keys_kyber_pre_key");
    }
    for (Device* dev : {&alice, &bob, &strict}) {
      hush_messenger_free(dev->messenger);
      hush_store_free(dev->store);
    }
  }
  hush_context_free(ctx);
}

// hush integration tests: the library logs peer anomalies through the Context's Logger, at warn
// level, and never logs keys, plaintext, ciphertext, MACs or names in the clear (design guide
// B.8); the opt-in spdlog adapter carries the same lines.
#include <catch2/catch.hpp>

#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <hush/spdlog_logger.h>
#include "support/test_support.h"

using namespace hush;
using hush::test::Party;

namespace {

// Keeps every line with its level.
class CapturingLogger final : public Logger {
 public:
  void log(LogLevel level, std::string_view message) noexcept override {
    const std::lock_guard lock(mutex_);
    lines_.emplace_back(level, std::string(message));
  }
  std::vector<std::pair<LogLevel, std::string>> lines() const {
    const std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

// Wants nothing: the library must not even build a line for it.
class SilentLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) noexcept override { ++calls; }
  bool enabled(LogLevel) const noexcept override { return false; }
  int calls = 0;
};

// A session with anomalies (a duplicate, a bad MAC, an unknown peer, an untrusted identity),
// logged to `logger`. Returns every string that must never appear in a log line: names, the
// plaintexts, identity keys (public and private) and every 8 bytes of every ciphertext.
std::vector<std::string> run_session_with_anomalies(const std::shared_ptr<Logger>& logger) {
  auto alice = Party::create("alice-with-a-long-name", 301);
  auto bob = Party::create("bob-with-a-long-name", 302);
  alice.ctx->logger = logger;
  bob.ctx->logger = logger;

  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  std::vector<Bytes> wire;
  auto m0 = test::encrypt(alice, bob, "secret plaintext zero");
  wire.emplace_back(m0.serialized().begin(), m0.serialized().end());
  REQUIRE(test::decrypt(bob, alice, m0));
  REQUIRE_FALSE(test::decrypt(bob, alice, m0));
  auto m1 = test::encrypt(bob, alice, "secret plaintext one");
  wire.emplace_back(m1.serialized().begin(), m1.serialized().end());
  Bytes bad(m1.serialized().begin(), m1.serialized().end());
  bad.back() ^= 1;
  REQUIRE_FALSE(test::decrypt(alice, bob, *CiphertextMessage::parse(MessageType::kWhisper, bad)));
  REQUIRE(test::decrypt(alice, bob, m1));
  REQUIRE_FALSE(encrypt_message(*alice.ctx, *alice.store, Address{"nobody", DeviceId{1}},
                                as_bytes("secret plaintext two")));
  auto mallory = Party::create("bob-with-a-long-name", 303);
  REQUIRE_FALSE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, mallory.bundle()));

  std::vector<std::string> forbidden = {"alice-with-a-long-name", "bob-with-a-long-name", "nobody",
                                        "secret plaintext"};
  for (const Party* p : {&alice, &bob, &mallory}) {
    auto id = p->store->identity_key_pair();
    forbidden.push_back(to_hex(id->public_key.serialize()));
    forbidden.push_back(to_hex(id->public_key.u()).substr(0, 16));
    forbidden.push_back(to_hex(id->private_key.expose()).substr(0, 16));
  }
  for (const auto& w : wire) {
    const std::string h = to_hex(w);
    for (std::size_t i = 0; i + 16 <= h.size(); i += 16)
      forbidden.push_back(h.substr(i, 16));
  }
  return forbidden;
}

void check_log(const std::string& log, const std::vector<std::string>& forbidden) {
  INFO(log);
  CHECK(log.find("duplicate_message") != std::string::npos);
  CHECK(log.find("invalid_message") != std::string::npos);
  CHECK(log.find("untrusted_identity") != std::string::npos);
  for (const auto& f : forbidden) {
    INFO("forbidden: " << f);
    CHECK(log.find(f) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("log lines are warnings that carry no secrets and no clear addresses", "[integration]") {
  auto logger = std::make_shared<CapturingLogger>();
  const auto forbidden = run_session_with_anomalies(logger);

  const auto lines = logger->lines();
  REQUIRE(lines.size() >= 4);
  std::string log;
  for (const auto& [level, line] : lines) {
    INFO(line);
    CHECK(level == LogLevel::kWarn);
    CHECK(line.find('\n') == std::string::npos);
    // "<operation> with d<device>:<8 hex> failed: <error name> (<static location>)"
    CHECK(line.find(" with d1:") != std::string::npos);
    CHECK(line.find(" failed: ") != std::string::npos);
    log += line + "\n";
  }
  check_log(log, forbidden);
}

TEST_CASE("a logger that wants no level is never called", "[integration]") {
  auto logger = std::make_shared<SilentLogger>();
  (void)run_session_with_anomalies(logger);
  CHECK(logger->calls == 0);
}

TEST_CASE("the spdlog adapter forwards the same lines at spdlog's levels", "[integration]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("[%l] %v");
  auto target = std::make_shared<spdlog::logger>("hush-test", sink);
  target->set_level(spdlog::level::trace);
  const auto forbidden = run_session_with_anomalies(std::make_shared<SpdlogLogger>(target));

  const std::string log = out.str();
  CHECK(log.find("[warning] decrypt_signal_message with d1:") != std::string::npos);
  check_log(log, forbidden);

  SECTION("levels map one to one, and spdlog's level filters") {
    CHECK(SpdlogLogger::spdlog_level(LogLevel::kDebug) == spdlog::level::debug);
    CHECK(SpdlogLogger::spdlog_level(LogLevel::kInfo) == spdlog::level::info);
    CHECK(SpdlogLogger::spdlog_level(LogLevel::kWarn) == spdlog::level::warn);
    CHECK(SpdlogLogger::spdlog_level(LogLevel::kError) == spdlog::level::err);
    target->set_level(spdlog::level::err);
    const SpdlogLogger adapter(target);
    CHECK_FALSE(adapter.enabled(LogLevel::kWarn));
    CHECK(adapter.enabled(LogLevel::kError));
    CHECK_FALSE(SpdlogLogger(nullptr).enabled(LogLevel::kError));
    SpdlogLogger(nullptr).log(LogLevel::kError, "dropped");  // no target: nothing happens
  }
}

TEST_CASE("log levels have stable names", "[integration]") {
  CHECK(to_string(LogLevel::kDebug) == "debug");
  CHECK(to_string(LogLevel::kInfo) == "info");
  CHECK(to_string(LogLevel::kWarn) == "warn");
  CHECK(to_string(LogLevel::kError) == "error");
  CHECK(to_string(static_cast<LogLevel>(9)) == "unknown");
}

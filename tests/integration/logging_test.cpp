// hush integration tests: the library logs peer anomalies through the Context's logger, and never
// logs keys, plaintext, ciphertext, MACs or addresses in the clear (design guide B.8).
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "support/test_support.h"

using namespace hush;
using hush::test::Party;

TEST_CASE("log output carries no secrets and no clear addresses", "[integration]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("hush-test", sink);
  logger->set_level(spdlog::level::trace);

  auto alice = Party::create("alice-with-a-long-name", 301);
  auto bob = Party::create("bob-with-a-long-name", 302);
  alice.ctx->logger = logger;
  bob.ctx->logger = logger;

  REQUIRE(process_prekey_bundle(*alice.ctx, *alice.store, bob.address, bob.bundle()));
  std::vector<Bytes> wire;
  auto m0 = test::encrypt(alice, bob, "secret plaintext zero");
  wire.emplace_back(m0.serialized().begin(), m0.serialized().end());
  REQUIRE(test::decrypt(bob, alice, m0));
  // Provoke warnings: a duplicate, a bad MAC, an unknown peer, an untrusted identity.
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

  const std::string log = out.str();
  INFO(log);
  CHECK(log.find("duplicate_message") != std::string::npos);
  CHECK(log.find("invalid_message") != std::string::npos);
  CHECK(log.find("untrusted_identity") != std::string::npos);

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
  for (const auto& f : forbidden) {
    INFO("forbidden: " << f);
    CHECK(log.find(f) == std::string::npos);
  }
}

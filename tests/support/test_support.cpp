// hush tests: shared helpers (see test_support.h).
#include "support/test_support.h"

#include <catch2/catch.hpp>

#include "crypto/kdf.h"

namespace hush::test {

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (int i = 0; i < 8; ++i)
    key_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seed >> (8 * i));
}

Status SeededRandom::fill(std::span<std::uint8_t> out) {
  internal::crypto::HmacSha256 hmac;
  while (!out.empty()) {
    std::array<std::uint8_t, 8> block{};
    for (int i = 0; i < 8; ++i)
      block[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    std::array<std::uint8_t, 32> chunk{};
    hmac.mac(key_, block, chunk);
    const std::size_t n = std::min(out.size(), chunk.size());
    std::copy_n(chunk.begin(), n, out.begin());
    out = out.subspan(n);
  }
  return ok_status();
}

Party Party::create(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys) {
  Party p;
  p.address = Address{name, DeviceId{1}};
  p.random = std::make_unique<SeededRandom>(seed);
  p.clock = std::make_unique<FixedClock>();
  p.ctx = std::make_unique<Context>(Context{*p.random, *p.clock, nullptr});
  auto identity = generate_identity_key_pair(*p.random);
  REQUIRE(identity);
  auto reg = generate_registration_id(*p.random);
  REQUIRE(reg);
  auto spk = generate_signed_pre_key(*p.ctx, *identity, p.signed_pre_key_id);
  REQUIRE(spk);
  p.store = std::make_unique<InMemoryProtocolStore>(std::move(*identity), *reg);
  REQUIRE(p.store->store_signed_pre_key(*spk));
  if (pre_keys > 0) REQUIRE(replenish_pre_keys(*p.ctx, *p.store, pre_keys));
  return p;
}

PreKeyBundle Party::bundle(std::optional<PreKeyId> pre_key) const {
  auto b = make_bundle(*store, address.device_id, signed_pre_key_id, pre_key);
  REQUIRE(b);
  return std::move(*b);
}

PreKeyBundle Party::bundle() const {
  auto ids = store->pre_key_ids();
  REQUIRE(ids);
  return bundle(ids->empty() ? std::nullopt : std::optional<PreKeyId>(ids->front()));
}

Bytes Party::snapshot() const {
  SecretBytes s = store->serialize();
  return Bytes(s.expose().begin(), s.expose().end());
}

CiphertextMessage encrypt(Party& from, const Party& to, const std::string& text) {
  auto m = encrypt_message(*from.ctx, *from.store, to.address, as_bytes(text));
  REQUIRE(m);
  return std::move(*m);
}

Result<std::string> decrypt(Party& to, const Party& from, const CiphertextMessage& msg) {
  auto p = decrypt_message(*to.ctx, *to.store, from.address, msg);
  if (!p) return p.error();
  return std::string(p->expose().begin(), p->expose().end());
}

}  // namespace hush::test

// hush tests: shared helpers: a seeded RandomSource, a fixed Clock, and a "party" (a device with an
// in-memory store, identity, signed prekey and one-time prekeys) for two-party scenarios.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <hush/hush.h>

namespace hush::test {

/// A deterministic RandomSource (HMAC-SHA256 in counter mode over a seed). Not for production.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed);
  Status fill(std::span<std::uint8_t> out) override;

 private:
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t counter_ = 0;
};

/// A clock that says what it is told.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::uint64_t ms = 1'700'000'000'000) : ms_(ms) {}
  std::uint64_t now_ms() override { return ms_; }
  void set(std::uint64_t ms) { ms_ = ms; }

 private:
  std::uint64_t ms_;
};

/// One device: its address, a seeded context and an in-memory store with keys generated.
struct Party {
  Address address;
  std::unique_ptr<SeededRandom> random;
  std::unique_ptr<FixedClock> clock;
  std::unique_ptr<Context> ctx;
  std::unique_ptr<InMemoryProtocolStore> store;
  SignedPreKeyId signed_pre_key_id{1};

  /// A device named `name` with device id 1, seed `seed`, one signed prekey (id 1) and
  /// `pre_keys` one-time prekeys (ids 1..pre_keys).
  static Party create(const std::string& name, std::uint64_t seed, std::uint32_t pre_keys = 10);

  /// Our bundle offering one-time prekey `pre_key` (or none).
  PreKeyBundle bundle(std::optional<PreKeyId> pre_key) const;
  /// Our bundle offering the lowest one-time prekey left (none if none left).
  PreKeyBundle bundle() const;

  /// A byte-for-byte snapshot of the store (to assert that a failed operation changed nothing).
  Bytes snapshot() const;
};

/// Encrypts `text` from `from` to `to`; REQUIREs success.
CiphertextMessage encrypt(Party& from, const Party& to, const std::string& text);
/// Decrypts `msg` at `to` from `from`; returns the plaintext as a string or the error.
Result<std::string> decrypt(Party& to, const Party& from, const CiphertextMessage& msg);

}  // namespace hush::test

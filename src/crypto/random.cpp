// hush: the system random source (OpenSSL RAND_bytes).
#include <algorithm>
#include <climits>

#include <openssl/err.h>
#include <openssl/rand.h>

#include <hush/random.h>

#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#include <mutex>

#include "crypto/fuzzing.h"
#endif

namespace hush {

namespace {
class SystemRandom final : public RandomSource {
 public:
  Status fill(std::span<std::uint8_t> out) override {
    while (!out.empty()) {
      const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
      if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
        ERR_clear_error();
        return Error(Errc::kCryptoFailure, "system_random: RAND_bytes");
      }
      out = out.subspan(n);
    }
    return ok_status();
  }
};
}  // namespace

#if !defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)

RandomSource& system_random() noexcept {
  // Stateless: the object holds no data, so sharing it is not shared mutable state.
  static SystemRandom instance;
  return instance;
}

#else  // Fuzzing builds only (see crypto/fuzzing.h): a deterministic, resettable stream.

namespace {
class FuzzingRandom final : public RandomSource {
 public:
  Status fill(std::span<std::uint8_t> out) override {
    std::lock_guard lock(mutex_);
    for (auto& b : out) {
      // splitmix64, one output byte per step: simple, and every seed gives a distinct stream.
      std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      b = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
    return ok_status();
  }
  void reset(std::uint64_t seed) noexcept {
    std::lock_guard lock(mutex_);
    state_ = seed;
  }

 private:
  std::mutex mutex_;
  std::uint64_t state_ = 0;
};

FuzzingRandom& fuzzing_random() noexcept {
  static FuzzingRandom instance;
  return instance;
}
}  // namespace

RandomSource& system_random() noexcept {
  return fuzzing_random();
}

void internal::fuzzing_reset_random(std::uint64_t seed) noexcept {
  fuzzing_random().reset(seed);
}

#endif  // FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

}  // namespace hush

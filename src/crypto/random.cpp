// hush: the system random source (OpenSSL RAND_bytes).
#include <algorithm>
#include <climits>

#include <openssl/err.h>
#include <openssl/rand.h>

#include <hush/random.h>

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

RandomSource& system_random() noexcept {
  // Stateless: the object holds no data, so sharing it is not shared mutable state.
  static SystemRandom instance;
  return instance;
}

}  // namespace hush

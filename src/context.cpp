// hush: the default clock and context.
#include <chrono>

#include <hush/context.h>

namespace hush {

namespace {
class SystemClock final : public Clock {
 public:
  std::uint64_t now_ms() override {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
};
}  // namespace

Clock& system_clock() noexcept {
  static SystemClock instance;  // stateless
  return instance;
}

Context default_context() {
  return Context{system_random(), system_clock(), nullptr};
}

}  // namespace hush

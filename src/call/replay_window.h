// hush internal: a sliding anti-replay window over 64-bit counters (RFC 3711 §3.3.2, applied to
// the SFrame counter as RFC 9605 §9.3 suggests).
//
// Remembers the highest accepted counter and which of the kSframeReplayWindow counters below it
// were accepted. check() says whether a counter may be accepted; accept() records it and is
// called only after the frame authenticated, so forged frames move nothing.
//
// Not responsible for: authenticating counters (the caller accepts only authentic ones).
// Thread-safety: a value type, not synchronised.
#pragma once

#include <array>
#include <cstdint>

#include <hush/limits.h>

namespace hush::internal::call {

class ReplayWindow {
 public:
  static_assert(kSframeReplayWindow == 128, "the bitmap below holds 128 counters");

  /// True if `counter` was not accepted yet and is within the window (or above it).
  bool check(std::uint64_t counter) const noexcept {
    if (!any_ || counter > top_) return true;
    const std::uint64_t behind = top_ - counter;
    if (behind >= kSframeReplayWindow) return false;  // too old to tell from a replay
    return !bit(behind);
  }

  /// Records `counter` as accepted; check(counter) must have returned true.
  void accept(std::uint64_t counter) noexcept {
    if (!any_) {
      any_ = true;
      top_ = counter;
      bits_ = {1, 0};
      return;
    }
    if (counter > top_) {
      shift(counter - top_);
      top_ = counter;
      bits_[0] |= 1;
      return;
    }
    const std::uint64_t behind = top_ - counter;
    bits_[behind / 64] |= std::uint64_t{1} << (behind % 64);
  }

 private:
  // Bit i (0 = top_) of the 128-bit map: bits_[0] holds 0..63, bits_[1] 64..127.
  bool bit(std::uint64_t i) const noexcept { return ((bits_[i / 64] >> (i % 64)) & 1) != 0; }

  void shift(std::uint64_t by) noexcept {
    if (by >= 128) {
      bits_ = {0, 0};
    } else if (by >= 64) {
      bits_ = {0, bits_[0] << (by - 64)};
    } else if (by > 0) {
      bits_ = {bits_[0] << by, (bits_[1] << by) | (bits_[0] >> (64 - by))};
    }
  }

  bool any_ = false;
  std::uint64_t top_ = 0;
  std::array<std::uint64_t, 2> bits_{0, 0};
};

}  // namespace hush::internal::call

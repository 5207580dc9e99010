// hush chat example: signal helpers shared by the calls' media (media.cpp, hush-callcheck) and the
// library's codec test (tests/integration/call_codec_test.cpp): the video test pattern and the
// audio correlation. Header-only, no dependencies.
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hush_chat {

/// The luma of the test pattern at (`row`, `col`) of frame `frame` of a `width` x `height`
/// picture: a diagonal gradient with a bright 24x24 square moving across it.
constexpr std::uint8_t pattern_luma(int frame, int row, int col, int width, int height) {
  const int sx = (frame * 3) % (width - 24), sy = (frame * 2) % (height - 24);
  const bool square = col >= sx && col < sx + 24 && row >= sy && row < sy + 24;
  return static_cast<std::uint8_t>(square ? 235 : 16 + (col + row + frame) % 200);
}

/// The best normalised cross-correlation of `y` against `x` over lags 0..`max_lag` samples (`y`
/// later), over their common length; -1 if either is silent.
template <class T>
double best_correlation(std::span<const T> x, std::span<const T> y, int max_lag) {
  double best = -1;
  for (int lag = 0; lag <= max_lag; ++lag) {
    double xy = 0, xx = 0, yy = 0;
    const auto l = static_cast<std::size_t>(lag);
    for (std::size_t i = 0; i + l < y.size() && i < x.size(); ++i) {
      const double a = static_cast<double>(x[i]), b = static_cast<double>(y[i + l]);
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    if (xx > 0 && yy > 0) best = std::max(best, xy / std::sqrt(xx * yy));
  }
  return best;
}

}  // namespace hush_chat

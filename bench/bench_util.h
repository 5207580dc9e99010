// hush benchmarks: what the benchmark programs share. A benchmark's set-up has no error path
// worth handling: a failure is a bug in the benchmark, which stops with the library's reason.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <utility>

#include <hush/result.h>

namespace hush_bench {

/// The value of `r`; stops the benchmark with the error's location if there is none.
template <class T>
T must(hush::Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "bench: %s\n", r.error().where());
    std::abort();
  }
  return std::move(r).value();
}

/// Stops the benchmark with the error's location if `s` failed.
inline void must(const hush::Status& s) {
  if (!s) {
    std::fprintf(stderr, "bench: %s\n", s.error().where());
    std::abort();
  }
}

}  // namespace hush_bench

// hush internal: hooks that exist only in fuzzing builds.
//
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION is defined by fuzz/CMakeLists.txt for the separate
// `hush_fuzz` library (and the fuzz targets that link it), never for `hush`, `hush_internal` or
// anything installed. In such a build `system_random()` is a deterministic generator and
// SignalMessage MACs always verify (src/messages.cpp), so that fuzzed inputs replay exactly and
// reach the ratchet. A library built this way is insecure by design.
#pragma once

#include <cstdint>

#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)

namespace hush::internal {

/// Restarts `system_random()`'s deterministic stream from `seed` (fuzzing builds only).
void fuzzing_reset_random(std::uint64_t seed) noexcept;

}  // namespace hush::internal

#endif  // FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

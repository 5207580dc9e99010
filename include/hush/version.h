// hush: library version.
//
// Thread-safety: constants and a pure function.
#pragma once

#include <string_view>

#define HUSH_VERSION_MAJOR 0
#define HUSH_VERSION_MINOR 1
#define HUSH_VERSION_PATCH 0

namespace hush {

/// "MAJOR.MINOR.PATCH" of the library actually linked (may differ from the header's macros when
/// linking a shared library built from other sources).
std::string_view version_string() noexcept;

}  // namespace hush

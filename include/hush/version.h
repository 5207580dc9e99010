/// @file
/// Library version.
///
/// This file is the one place the version lives: the build reads it for the CMake package, the
/// pkg-config file and the shared library's name. @ref versioning "The version policy" says what
/// each number promises.
///
/// Thread-safety: constants and a pure function.
#pragma once

#include <string_view>

/// The major version of these headers: it moves when an upgrade can break a program that used
/// the library as documented (docs/versioning.md; while it is 0, a minor release may break).
#define HUSH_VERSION_MAJOR 0
/// The minor version of these headers: it moves when something is added.
#define HUSH_VERSION_MINOR 1
/// The patch version of these headers: it moves for bug and security fixes only.
#define HUSH_VERSION_PATCH 0

namespace hush {

/// "MAJOR.MINOR.PATCH" of the library actually linked (may differ from the header's macros when
/// linking a shared library built from other sources).
std::string_view version_string() noexcept;

}  // namespace hush

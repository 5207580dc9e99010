#!/usr/bin/env bash
# Installs hush from the build tree into a temporary prefix, then configures, builds and runs a
# downstream project that uses find_package(hush) and hush::hush.
set -euo pipefail
build_dir=$1
sanitize=${2:-}
flags=()
if [[ -n $sanitize ]]; then flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize"); fi
source_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/hush/hushConfig.cmake" || test -n "$(find "$work/prefix" -name hushConfig.cmake)"
cmake -S "$source_dir/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"

# Then, without CMake and without hush for a dependency:
#   - examples/quickstart/quickstart.cpp compiled with nothing but pkg-config's flags for hush
#     (with --static for a static libhush), and run;
#   - a CMake project with find_package(hush QUIET) (consumer_quiet/) while libsodium's .pc is
#     hidden: a static hush, which needs libsodium, is then not found (the reason given) and
#     configuration goes on; with REQUIRED it stops with that reason. A shared hush is found.
cxxflags=()
if [[ -n $sanitize ]]; then cxxflags=(-fsanitize="$sanitize"); fi
repo=$(cd "$source_dir/../.." && pwd)
pc=$(find "$work/prefix" -name hush.pc)
test -n "$pc"
libdir=$(cd "$(dirname "$pc")/.." && pwd)
if compgen -G "$libdir/libhush.so*" >/dev/null; then kind=shared; else kind=static; fi
echo "install: a $kind libhush in $libdir"

# pkg-config alone. hush.pc names no spdlog, and its private requirements are there for a static
#    libhush only (a shared one carries its dependencies).
export PKG_CONFIG_PATH=$(dirname "$pc")
pkg-config --exists --print-errors hush
version=$(sed -n 's/^#define HUSH_VERSION_\(MAJOR\|MINOR\|PATCH\) \+\([0-9]\+\)$/\2/p' \
  "$repo/include/hush/version.h" | paste -sd.)
test "$(pkg-config --modversion hush)" = "$version"
test -z "$(pkg-config --print-requires hush)"
if pkg-config --static --libs hush | grep -q spdlog; then
  echo "hush.pc names spdlog" >&2
  exit 1
fi
libs=(--libs)
if [[ $kind == static ]]; then
  pkg-config --print-requires-private hush | grep -q libsodium
  libs=(--static --libs)
else
  test -z "$(pkg-config --print-requires-private hush)"
fi
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
"${CXX:-c++}" -std=c++20 "${cxxflags[@]}" "$repo/examples/quickstart/quickstart.cpp" \
  -o "$work/quickstart" $(pkg-config --cflags "${libs[@]}" hush)
echo "pkg-config: c++ -std=c++20 quickstart.cpp \$(pkg-config --cflags ${libs[*]} hush) builds:"
LD_LIBRARY_PATH=$libdir "$work/quickstart"

# find_package(hush QUIET) with libsodium's .pc hidden (an empty pkg-config search path).
mkdir "$work/no-pc"
quiet() {
  PKG_CONFIG_LIBDIR="$work/no-pc" PKG_CONFIG_PATH="" cmake -S "$source_dir/consumer_quiet" \
    -B "$work/quiet-$1" -DCMAKE_PREFIX_PATH="$work/prefix" "${@:2}" >"$work/quiet-$1.log" 2>&1
}
if ! quiet quiet; then
  cat "$work/quiet-quiet.log" >&2
  echo "find_package(hush QUIET) aborted the configuration" >&2
  exit 1
fi
if [[ $kind == static ]]; then
  grep -q "hush-quiet: not found: .*libsodium" "$work/quiet-quiet.log" || {
    cat "$work/quiet-quiet.log" >&2
    echo "find_package(hush QUIET) did not report hush as not found for want of libsodium" >&2
    exit 1
  }
  if quiet required -DHUSH_REQUIRED=ON; then
    echo "find_package(hush REQUIRED) went on without libsodium" >&2
    exit 1
  fi
  grep -q "libsodium" "$work/quiet-required.log"
else
  grep -q "hush-quiet: found" "$work/quiet-quiet.log"
fi
sed -n 's/^-- hush-quiet: //p' "$work/quiet-quiet.log"

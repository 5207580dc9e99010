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

#!/usr/bin/env bash
# Installs hush from the build tree into a temporary prefix, then builds and runs a C99 program
# (-Wall -Wextra -Werror -pedantic) that uses only the installed C API (include/hush/c/):
#   1. through find_package(hush) and hush::hush, whichever kind of library the build made;
#   2. if the installed library is shared: with nothing but `cc -I... -L... -lhush` (no CMake),
#      and its symbols are checked: every C function as HUSH_C_1.0, the C++ API still exported;
#      and the Python example (examples/python/two_parties.py, ctypes) runs on the installed
#      libhush.so. CI's release stage builds hush shared, so this part runs there; its
#      sanitizer stage builds it static and checks the static install.
# Usage: c_api_test.sh BUILD_DIR [SANITIZERS]   (SANITIZERS as for install_test.sh)
set -euo pipefail
build_dir=$1
sanitize=${2:-}
san_flags=()
flags=()
if [[ -n $sanitize ]]; then
  san_flags=(-fsanitize="$sanitize")
  flags=(-DCMAKE_C_FLAGS="-fsanitize=$sanitize" -DCMAKE_CXX_FLAGS="-fsanitize=$sanitize")
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -f "$prefix/include/hush/c/hush.h"

cmake -S "$here/c_consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" "${flags[@]}" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/c_consumer"

shared=$(find "$prefix" -name 'libhush.so' | head -n 1)
if [[ -n $shared ]]; then
  libdir=$(dirname "$shared")
  cc -std=c99 -Wall -Wextra -Werror -pedantic "${san_flags[@]}" -I"$prefix/include" \
    "$here/c_consumer/main.c" -L"$libdir" -lhush -o "$work/plain"
  LD_LIBRARY_PATH=$libdir "$work/plain"
  # The program binds to the versioned symbols.
  readelf --dyn-syms -W "$work/plain" | grep -q 'hush_session_encrypt@HUSH_C_1.0'
  bash "$here/../c_api/check_symbols.sh" "$shared" "$prefix/include/hush/c"
  py_env=()
  if [[ $sanitize == *address* ]]; then
    py_env=(LD_PRELOAD="$(cc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
  fi
  env "${py_env[@]}" python3 "$here/../../examples/python/two_parties.py" "$shared" |
    tee "$work/python.out"
  grep -q "all Python checks passed" "$work/python.out"
else
  echo "c_api_test: the build installs a static libhush; the plain cc link, the symbol" \
    "versions and Python on the installed library are checked in a shared build (CI's release" \
    "stage; and on the build tree by hush_c_symbol_versions and hush_python_example)"
fi

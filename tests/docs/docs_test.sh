#!/usr/bin/env bash
# The API reference builds with no Doxygen warning (every public declaration documented), as
# `cmake --build build --target docs` builds it, into a directory of its own; and a control: a
# public header with an undocumented function fails it.
# Doxygen checks the members of a file (a C function, a macro) only when the file itself is
# documented, so every public header must open with a `/// @file` block (which is also where it
# says what it is for and what is thread-safe).
# Usage: docs_test.sh DOXYGEN BUILD_DIR SOURCE_DIR   (BUILD_DIR holds the configured Doxyfile)
set -euo pipefail
doxygen=$1
doxyfile=$(cd "$2" && pwd)/Doxyfile
source_dir=$(cd "$3" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

undocumented=$(find "$source_dir/include/hush" -name '*.h' -exec grep -LE '^(///|//!|/\*\*|/\*!) *[@\]file' {} + || true)
if [[ -n $undocumented ]]; then
  echo "public headers without a '/// @file' block:" >&2
  echo "$undocumented" >&2
  exit 1
fi

if ! { echo "@INCLUDE = $doxyfile"; echo "OUTPUT_DIRECTORY = $work/out"; } |
  "$doxygen" - >"$work/log" 2>&1; then
  cat "$work/log" >&2
  echo "the API reference does not build without warnings (see above)" >&2
  exit 1
fi
for page in index.html classhush_1_1Messenger.html messenger_8h.html versioning.html; do
  test -s "$work/out/html/$page" || {
    echo "the API reference has no $page" >&2
    exit 1
  }
done
echo "API reference: $(find "$work/out/html" -name '*.html' | wc -l) pages, no warnings"

# Control: an undocumented public function is an error.
mkdir -p "$work/probe"
printf '#pragma once\nnamespace hush {\nint undocumented_probe(int x);\n}\n' >"$work/probe/probe.h"
if { echo "@INCLUDE = $doxyfile"; echo "OUTPUT_DIRECTORY = $work/out2"; echo "INPUT += $work/probe"; } |
  "$doxygen" - >"$work/log2" 2>&1; then
  cat "$work/log2" >&2
  echo "control: an undocumented public function did not fail the API reference" >&2
  exit 1
fi
grep -q "undocumented_probe.*is not documented" "$work/log2"
echo "control: an undocumented public function fails the API reference"

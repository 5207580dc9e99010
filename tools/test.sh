#!/usr/bin/env bash
# Builds hush with warnings as errors and runs every test (ctest). Installs missing Debian
# packages first. Used by .ci/run; safe to run by hand (as root, or with the packages present).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
  tools/install-deps.sh --test
fi

build=${HUSH_TEST_BUILD_DIR:-build-test}
jobs=$(nproc)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" -j"$jobs" --output-on-failure --timeout 900

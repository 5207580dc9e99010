#!/usr/bin/env bash
# Builds hush and runs every test (ctest), three times over:
#   1. an optimised build with warnings as errors: the whole suite;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build: the whole suite;
#   3. a ThreadSanitizer build: the concurrency tests.
# Installs missing Debian packages first (as root). Used by .ci/run; safe to run by hand.
# HUSH_TEST_STAGES="release asan tsan" selects stages (all by default).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
  tools/install-deps.sh --test
fi

jobs=$(nproc)
stages=${HUSH_TEST_STAGES:-release asan tsan}
started=$SECONDS

stage() {
  printf '\n==== %s (%ds elapsed) ====\n' "$1" $((SECONDS - started))
}

for s in $stages; do
  case $s in
    release)
      stage "release build, whole suite"
      cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON
      cmake --build build-test -j"$jobs"
      ctest --test-dir build-test -j"$jobs" --output-on-failure --timeout 900
      ;;
    asan)
      stage "AddressSanitizer + UndefinedBehaviorSanitizer build, whole suite"
      cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON \
        -DHUSH_SANITIZE="address;undefined"
      cmake --build build-asan -j"$jobs"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build-asan -j"$jobs" --output-on-failure --timeout 900
      ;;
    tsan)
      stage "ThreadSanitizer build, concurrency tests"
      cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON \
        -DHUSH_SANITIZE=thread -DHUSH_BUILD_INTEROP_TESTS=OFF -DHUSH_BUILD_EXAMPLES=OFF
      cmake --build build-tsan -j"$jobs" --target hush_concurrency_tests hush_store_worker
      TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -j"$jobs" --output-on-failure \
        --timeout 900 -R hush_concurrency_tests
      ;;
    *)
      echo "unknown stage: $s" >&2
      exit 2
      ;;
  esac
done
stage "all stages passed"

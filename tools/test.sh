#!/usr/bin/env bash
# Builds hush and runs every test (ctest), three times over, then the fuzz targets:
#   1. an optimised build with warnings as errors, hush as a shared library (what the C API, the
#      Python example and programs linked without CMake load; the install tests then check the
#      installed shared library): the whole suite (with the constant-time check, tests/ct/, under
#      valgrind memcheck);
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build, hush as a static library (the
#      default; the install tests check the static install and `pkg-config --static`): the whole
#      suite;
#   3. a ThreadSanitizer build: the concurrency tests;
#   4. a clang libFuzzer build (ASan + UBSan): every fuzz target on a copy of its checked-in seeds
#      (fuzz/run_all.sh), one per CPU at a time, sharing a budget of HUSH_FUZZ_BUDGET seconds
#      (default 300: 13 s for each of the 23 targets of today; more targets get less each, never
#      under 10 s, so new targets do not lengthen the run); HUSH_FUZZ_SECONDS=N runs each N s.
# Installs missing Debian packages first (as root). Used by .ci/run; safe to run by hand.
# HUSH_TEST_STAGES="release asan tsan fuzz" selects stages (all by default).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
  tools/install-deps.sh --test
fi

jobs=$(nproc)
stages=${HUSH_TEST_STAGES:-release asan tsan fuzz}
started=$SECONDS

stage() {
  printf '\n==== %s (%ds elapsed) ====\n' "$1" $((SECONDS - started))
}

for s in $stages; do
  case $s in
    release)
      stage "release build, whole suite"
      cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON \
        -DBUILD_SHARED_LIBS=ON
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
    fuzz)
      stage "libFuzzer build (clang, ASan + UBSan), every fuzz target"
      cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUSH_WARNINGS_AS_ERRORS=ON \
        -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHUSH_BUILD_FUZZERS=ON \
        -DHUSH_BUILD_TESTS=OFF -DHUSH_BUILD_EXAMPLES=OFF
      cmake --build build-fuzz -j"$jobs" --target hush_fuzzers
      if [[ -n ${HUSH_FUZZ_SECONDS:-} ]]; then
        fuzz/run_all.sh "$HUSH_FUZZ_SECONDS" build-fuzz
      else
        fuzz/run_all.sh --budget "${HUSH_FUZZ_BUDGET:-300}" build-fuzz
      fi
      ;;
    *)
      echo "unknown stage: $s" >&2
      exit 2
      ;;
  esac
done
stage "all stages passed"

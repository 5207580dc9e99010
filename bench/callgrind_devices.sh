#!/usr/bin/env bash
# Instruction counts per operation of hush_devices_bench under callgrind (bench/README.md, "People
# and devices"): for each benchmark below only the timed operation is collected (--toggle-collect
# on its out-of-line function), and the count is divided by the number of calls. Every benchmark
# runs 256 iterations (HUSH_BENCH_ITERATIONS): one cycle of its untimed upkeep.
#   bench/callgrind_devices.sh [build dir with hush_devices_bench (Release, -g): build-prof]
set -euo pipefail

build="${1:-build-prof}"
exe="$build/bench/hush_devices_bench"
[[ -x "$exe" ]] || { echo "callgrind_devices: no $exe" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# benchmark name, and the function that runs its timed operation once
runs=(
  "encrypt_message/memory encrypt_once"
  "encrypt_messages/memory/bob:1 encrypt_batch_once"
  "encrypt_messages/memory/bob:4 encrypt_batch_once"
  "encrypt_messages/memory/bob:32 encrypt_batch_once"
  "send/memory/bob:1/alice:1 send_once"
  "send/memory/bob:4/alice:1 send_once"
  "send/memory/bob:32/alice:1 send_once"
  "send/memory/bob:1/alice:4 send_once"
  "send/memory/bob:4/alice:4 send_once"
  "send/memory/bob:32/alice:4 send_once"
  "decrypt_message/memory decrypt_once"
  "receive/memory receive_once"
)

printf '%-32s %12s %6s %12s\n' benchmark instructions calls per_call
for r in "${runs[@]}"; do
  name="${r%% *}"
  fn="${r##* }"
  file="$out/$(echo "$name" | tr '/:' '__').out"
  HUSH_BENCH_ITERATIONS=256 valgrind --tool=callgrind --callgrind-out-file="$file" --toggle-collect="*::${fn}(*" \
    "$exe" --benchmark_filter="^${name}(/iterations:[0-9]+)?(/real_time)?\$" >/dev/null 2>&1
  total=$(callgrind_annotate "$file" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  # The calls: the "(Nx)" of the benchmark's caller line ("<") above the function's own line ("*").
  calls=$(callgrind_annotate --threshold=100 --tree=caller "$file" 2>/dev/null | awk -v fn="devices_bench.cpp:(anonymous namespace)::${fn}(" '
    / < .*::BM_/ { if (match($0, /\(([0-9,]+)x\)/)) { c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c); n += c } next }
    / < / { next }
    / \* / { if (!done && index($0, fn) > 0) { print n; done = 1 } n = 0; next }
    { n = 0 }')
  printf '%-32s %12s %6s %12s\n' "$name" "$total" "$calls" "$((total / calls))"
done

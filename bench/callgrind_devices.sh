#!/usr/bin/env bash
# Instruction counts per operation of hush_devices_bench under callgrind (bench/README.md, "People
# and devices"): for each benchmark below only the timed operation is collected (--toggle-collect
# on its out-of-line function), and the count is divided by the number of calls. Every benchmark
# runs 256 iterations (HUSH_BENCH_ITERATIONS): one cycle of its untimed upkeep. Valgrind counts
# no time spent in the kernel (SQLite's writes and fsyncs). Takes about half an hour.
#   bench/callgrind_devices.sh [build dir with hush_devices_bench (Release, -g): build-prof]
set -euo pipefail

build="${1:-build-prof}"
exe="$build/bench/hush_devices_bench"
[[ -x "$exe" ]] || { echo "callgrind_devices: no $exe" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

declare -A per  # instructions per call, by benchmark
# benchmark name, and the function that runs its timed operation once
runs=()
for store in memory sqlite; do
  runs+=(
    "encrypt_message/$store encrypt_once"
    "encrypt_messages/$store/bob:1 encrypt_batch_once"
    "encrypt_messages/$store/bob:4 encrypt_batch_once"
    "encrypt_messages/$store/bob:32 encrypt_batch_once"
    "send/$store/bob:1/alice:1 send_once"
    "send/$store/bob:4/alice:1 send_once"
    "send/$store/bob:32/alice:1 send_once"
    "send/$store/bob:1/alice:4 send_once"
    "send/$store/bob:4/alice:4 send_once"
    "send/$store/bob:32/alice:4 send_once"
    "send_outbox_full/$store/bob:1 send_once"
    "send_outbox_full/$store/bob:32 send_once"
    "decrypt_message/$store decrypt_once"
    "receive/$store receive_once"
  )
done

printf '%-32s %12s %6s %12s\n' benchmark instructions calls per_call
for r in "${runs[@]}"; do
  name="${r%% *}"
  fn="${r##* }"
  file="$out/$(echo "$name" | tr '/:' '__').out"
  HUSH_BENCH_ITERATIONS=256 valgrind --tool=callgrind --callgrind-out-file="$file" --toggle-collect="*::${fn}(*" \
    "$exe" --benchmark_filter="^${name}(/iterations:[0-9]+)?(/real_time)?\$" >/dev/null 2>&1
  total=$(callgrind_annotate "$file" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  # The calls: the "(Nx)" of the benchmark's caller lines ("<") above the function's own line ("*").
  calls=$(callgrind_annotate --threshold=100 --tree=caller "$file" 2>/dev/null | awk -v fn="devices_bench.cpp:(anonymous namespace)::${fn}(" '
    / < .*devices_bench.cpp:/ { if (match($0, /\(([0-9,]+)x\)/)) { c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c); n += c } next }
    / < / { next }
    / \* / { if (!done && index($0, fn) > 0) { print n; done = 1 } n = 0; next }
    { n = 0 }')
  [[ -n "$calls" && "$calls" -gt 0 ]] || { echo "callgrind_devices: no calls counted for $name" >&2; exit 1; }
  per[$name]=$((total / calls))
  printf '%-32s %12s %6s %12s\n' "$name" "$total" "$calls" "${per[$name]}"
done

# The ratios bench/README.md records (per device: the slope from 1 to 32 devices).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
for store in memory sqlite; do
  enc=${per[encrypt_message/$store]}
  s1=${per[send/$store/bob:1/alice:1]}
  s4=${per[send/$store/bob:4/alice:1]}
  s32=${per[send/$store/bob:32/alice:1]}
  slope=$(((s32 - s1) / 31))
  batch=$(((${per[encrypt_messages/$store/bob:32]} - ${per[encrypt_messages/$store/bob:1]}) / 31))
  copy=$(((${per[send/$store/bob:32/alice:4]} - s32) / 3))
  echo "-- $store"
  echo "  send per device (slope 1..32)  $slope = $(ratio $slope "$enc") encrypt_message" \
    "(1..4: $(((s4 - s1) / 3)), 4..32: $(((s32 - s4) / 28)))"
  echo "  send fixed part                $((s1 - slope)) = $(ratio $((s1 - slope)) "$enc") encrypt_message"
  echo "  send to 32 / send to 1         $(ratio "$s32" "$s1")"
  echo "  encrypt_messages per device    $batch = $(ratio $batch "$enc") encrypt_message;" \
    "send per device / it: $(ratio $slope $batch)"
  echo "  per copy (alice 4 - alice 1)   $copy = $(ratio $copy "$enc") encrypt_message"
  echo "  outbox full / pruned           to 1: $(ratio "${per[send_outbox_full/$store/bob:1]}" "$s1")," \
    "to 32: $(ratio "${per[send_outbox_full/$store/bob:32]}" "$s32")"
  echo "  receive / decrypt_message      $(ratio "${per[receive/$store]}" "${per[decrypt_message/$store]}")"
done
echo "-- sqlite / memory"
for name in encrypt_message encrypt_messages/@/bob:32 send/@/bob:1/alice:1 send/@/bob:32/alice:1 \
  receive decrypt_message; do
  m="${name/@/memory}"; q="${name/@/sqlite}"
  [[ "$name" == *@* ]] || { m="$name/memory"; q="$name/sqlite"; }
  echo "  $(printf '%-28s' "${name/\/@/}") $(ratio "${per[$q]}" "${per[$m]}")"
done

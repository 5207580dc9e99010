#!/usr/bin/env bash
# Runs every hush fuzz target for SECONDS seconds, each on a scratch copy of its checked-in corpus
# (fuzz/corpus/<target>/ is never modified), and fails if any target crashes, leaks, times out or
# is missing. Runs $HUSH_FUZZ_JOBS targets at a time (default: the number of CPUs; each target is
# one process). CI (tools/test.sh) runs it with --budget.
#
#   fuzz/run_all.sh SECONDS BUILD_DIR
#   fuzz/run_all.sh --budget TOTAL BUILD_DIR
#
# With --budget, TOTAL seconds of fuzzing are shared evenly by the targets (TOTAL / number of
# targets each, rounded down, but never under 10 seconds): CI's fuzz stage then costs the same
# however many targets there are, until there are more than TOTAL / 10.
#
# BUILD_DIR is a build configured with -DHUSH_BUILD_FUZZERS=ON (the targets are in BUILD_DIR/fuzz).
# $HUSH_FUZZ_ONLY (target names without _fuzzer, separated by spaces) runs only those targets, e.g.
# `HUSH_FUZZ_ONLY=call_session fuzz/run_all.sh 10 build-fuzz`; an unknown name is an error.
# Inputs that crash are kept in $HUSH_FUZZ_ARTIFACTS (default BUILD_DIR/fuzz-artifacts), named
# <target>-crash-<sha1> and so on; replay one with `BUILD_DIR/fuzz/<target> FILE`.
set -euo pipefail

budget=
if [[ $# -eq 3 && $1 == --budget && $2 =~ ^[0-9]+$ ]]; then
  budget=$2
  shift
elif [[ $# -ne 2 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS BUILD_DIR   or   $0 --budget TOTAL_SECONDS BUILD_DIR" >&2
  exit 2
fi
seconds=$1
build_dir=$(cd "$2" && pwd)
corpus_root="$(cd "$(dirname "$0")" && pwd)/corpus"
artifacts=${HUSH_FUZZ_ARTIFACTS:-$build_dir/fuzz-artifacts}
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)

# target:corpus (decrypt_no_fuzzer_mode runs on the decrypt seeds).
targets=(
  signal_message:signal_message
  prekey_message:prekey_message
  session_record:session_record
  stored_records:stored_records
  prekey_bundle:prekey_bundle
  bundle_wire:bundle_wire
  fingerprint:fingerprint
  device_list:device_list
  link_message:link_message
  envelope:envelope
  content:content
  call_message:call_message
  call_session:call_session
  chat_frame:chat_frame
  sender_key_message:sender_key_message
  sender_key_distribution:sender_key_distribution
  decrypt:decrypt
  decrypt_no_fuzzer_mode:decrypt
  interaction:interaction
  mlkem:mlkem
  sframe:sframe
  spqr:spqr
  attachment_pointer:attachment_pointer
)

if [[ -n ${HUSH_FUZZ_ONLY:-} ]]; then
  selected=()
  for wanted in $HUSH_FUZZ_ONLY; do
    found=
    for entry in "${targets[@]}"; do
      [[ ${entry%%:*} == "$wanted" ]] && selected+=("$entry") && found=1
    done
    if [[ -z $found ]]; then
      echo "run_all: HUSH_FUZZ_ONLY names an unknown target: $wanted" >&2
      exit 2
    fi
  done
  targets=("${selected[@]}")
fi

if [[ -n $budget ]]; then
  min_seconds=10
  seconds=$((budget / ${#targets[@]}))
  ((seconds >= min_seconds)) || seconds=$min_seconds
  echo "run_all: a budget of ${budget}s over ${#targets[@]} targets: ${seconds}s each"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/hush-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Runs one target; its exit status goes to $scratch/<name>.status.
run_one() {
  local name=$1 corpus=$2
  local binary="$build_dir/fuzz/${name}_fuzzer"
  local work="$scratch/$name"
  mkdir -p "$work"
  if [[ -d $corpus_root/$corpus ]]; then
    cp "$corpus_root/$corpus"/* "$work"/ 2>/dev/null || true
  fi
  local status=0
  "$binary" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=3072 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work" >"$scratch/$name.log" 2>&1 ||
    status=$?
  echo "$status" >"$scratch/$name.status"
}

jobs=${HUSH_FUZZ_JOBS:-$(nproc)}
failed=()
running=0
for entry in "${targets[@]}"; do
  name=${entry%%:*}
  corpus=${entry#*:}
  if [[ ! -x $build_dir/fuzz/${name}_fuzzer ]]; then
    echo "run_all: missing $build_dir/fuzz/${name}_fuzzer (build the hush_fuzzers target)" >&2
    failed+=("$name (missing)")
    continue
  fi
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  printf '==== %s: %ss on %s seeds\n' "$name" "$seconds" "$(find "$corpus_root/$corpus" -type f | wc -l)"
  run_one "$name" "$corpus" &
  running=$((running + 1))
done
wait || true

for entry in "${targets[@]}"; do
  name=${entry%%:*}
  [[ -f $scratch/$name.status ]] || continue
  status=$(cat "$scratch/$name.status")
  log="$scratch/$name.log"
  printf '==== %s (exit %s)\n' "$name" "$status"
  grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' "$log" || true
  if [[ $status -ne 0 ]]; then
    echo "run_all: $name FAILED (exit $status); the end of its log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$name")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_all: failed: ${failed[*]}; inputs in $artifacts" >&2
  exit 1
fi
echo "run_all: all ${#targets[@]} targets ran ${seconds}s without a failure"

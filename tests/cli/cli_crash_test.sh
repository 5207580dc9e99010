#!/usr/bin/env bash
# hush-cli under kill -9: every encrypt and decrypt is killed at random instants and retried.
#
# usage: bash tests/cli/cli_crash_test.sh path/to/hush-cli [rounds]
#
# A message counts as emitted only if its encrypt exited 0 having printed its line. Whatever the
# kills, every emitted message must then decrypt at bob to exactly its own plaintext: either the
# decrypt succeeds, or (when an earlier, killed decrypt had committed) it says duplicate_message
# and `received` prints the plaintext. A message key used twice would show up as a wrong
# plaintext or an undecryptable message; a lost state as a failed decrypt; and both sessions must
# still work at the end.
set -uo pipefail

CLI=${1:?usage: cli_crash_test.sh path/to/hush-cli [rounds]}
ROUNDS=${2:-40}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
A=$WORK/alice B=$WORK/bob T=$WORK/tmp
mkdir "$T"

die() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
# run_killed DIR IN OUT MAX_US ARGS... : runs hush-cli with stdin IN and stdout OUT, kills it after
# a random delay of up to MAX_US microseconds; prints the exit status (137 when killed).
run_killed() {
  local dir=$1 in=$2 out=$3 max_us=$4
  shift 4
  "$CLI" --state "$dir" "$@" <"$in" >"$out" 2>"$T/err" &
  local pid=$!
  sleep "$(printf '%d.%06d' $((max_us / 1000000)) $((RANDOM * RANDOM % (max_us + 1) % 1000000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  echo $?
}

"$CLI" --state "$A" init --prekeys 1 >/dev/null || die "init alice"
"$CLI" --state "$B" init --prekeys 5 >/dev/null || die "init bob"
"$CLI" --state "$B" bundle >"$T/bundle" || die "bundle"
# How long one command takes here, in microseconds (sanitizer builds are much slower). Kills land
# within that time at first; each kill of the same command widens the window by a tenth, so every
# command completes in the end.
t0=$(date +%s%N)
for _ in 1 2 3; do "$CLI" --state "$B" identity >/dev/null || die "identity"; done
COMMAND_US=$((($(date +%s%N) - t0) / 3000))
((COMMAND_US > 400000)) && COMMAND_US=400000
"$CLI" --state "$A" process-bundle --peer bob <"$T/bundle" || die "process-bundle"

kills=0 emitted=0 recovered=0 restarts=0
for ((round = 0; round < ROUNDS; ++round)); do
  # Alice sends one message, her encrypt killed at random until one run completes.
  printf 'message %d from alice' "$round" >"$T/plain$round"
  window=$COMMAND_US
  for ((try = 0; ; ++try)); do
    rc=$(run_killed "$A" "$T/plain$round" "$T/line$round" "$window" encrypt --peer bob)
    window=$((window + window / 10 + 1))
    if [[ $rc == 0 ]]; then
      [[ -s $T/line$round ]] || die "encrypt exited 0 without output"
      break
    fi
    if [[ $rc == 2 ]] && grep -q "error: no_session" "$T/err"; then
      # Killed between its generation counter's write and its commit (a window of microseconds),
      # an encrypt leaves the next open to take the database for a restored copy, which restarts
      # the sessions (sqlite_store.h): safe; alice starts a new session from a fresh bundle.
      "$CLI" --state "$B" bundle --no-prekey >"$T/restart_bundle" || die "bundle"
      "$CLI" --state "$A" process-bundle --peer bob <"$T/restart_bundle" || die "restart"
      ((++restarts))
      continue
    fi
    ((rc == 137)) || die "encrypt failed (exit $rc): $(cat "$T/err")"
    ((++kills))
    ((try < 200)) || die "encrypt never completed"
  done
  ((++emitted))
  # Bob takes it, his decrypt killed at random until one run completes.
  window=$COMMAND_US
  for ((try = 0; ; ++try)); do
    rc=$(run_killed "$B" "$T/line$round" "$T/got$round" "$window" decrypt --peer alice)
    window=$((window + window / 10 + 1))
    if [[ $rc == 0 ]]; then
      cmp -s "$T/got$round" "$T/plain$round" || die "round $round: wrong plaintext"
      break
    fi
    if [[ $rc == 2 ]]; then
      # An earlier run committed and died before printing: the plaintext was kept.
      grep -q "error: duplicate_message" "$T/err" || die "round $round: decrypt: $(cat "$T/err")"
      "$CLI" --state "$B" received <"$T/line$round" >"$T/got$round" || die "round $round: not received"
      cmp -s "$T/got$round" "$T/plain$round" || die "round $round: wrong kept plaintext"
      ((++recovered))
      break
    fi
    ((rc == 137)) || die "round $round: decrypt failed (exit $rc): $(cat "$T/err")"
    ((++kills))
    ((try < 200)) || die "decrypt never completed"
  done
  # Every few rounds bob answers (a ratchet step), uninterrupted.
  if ((round % 3 == 2)); then
    printf 'reply %d' "$round" | "$CLI" --state "$B" encrypt --peer alice >"$T/reply" || die "reply"
    "$CLI" --state "$A" decrypt --peer bob <"$T/reply" >/dev/null || die "alice cannot read the reply"
  fi
done
# The sessions still work both ways.
printf 'final' | "$CLI" --state "$A" encrypt --peer bob >"$T/final" || die "final encrypt"
"$CLI" --state "$B" decrypt --peer alice <"$T/final" >/dev/null || die "final decrypt"
printf 'final reply' | "$CLI" --state "$B" encrypt --peer alice >"$T/final2" || die "final reply"
"$CLI" --state "$A" decrypt --peer bob <"$T/final2" >/dev/null || die "final reply decrypt"
printf 'ALL CLI CRASH CHECKS PASSED: %d messages, %d commands killed, %d plaintexts recovered, %d sessions restarted\n' \
  "$emitted" "$kills" "$recovered" "$restarts"

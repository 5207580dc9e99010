#!/usr/bin/env bash
# hush-cli script test: groups (sender keys) in both formats. Alice, bob and carol each create a
# distribution message, process the others', and send group messages; the script checks reordered
# delivery, duplicates, forged and damaged messages, unknown senders, the format and group checks,
# --count, the jump limit (legacy: 2,000), and that every failing command prints nothing and changes
# nothing.
#
# usage: bash tests/cli/cli_group_test.sh path/to/hush-cli
set -euo pipefail

CLI=${1:?usage: cli_group_test.sh path/to/hush-cli}
[[ -x $CLI ]] || { echo "FAIL: '$CLI' is not an executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
A=$WORK/alice B=$WORK/bob C=$WORK/carol M=$WORK/mallory
T=$WORK/tmp
mkdir "$T"

# shellcheck source=tests/cli/cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

UUID=d1d1d1d1-7000-11eb-b32a-33b8a8a487a6
OTHER_UUID=00000000-0000-4000-8000-000000000000
LEGACY="the family"

for d in "$A" "$B" "$C" "$M"; do
  cli "$d" init --prekeys 1 >/dev/null
done
ok "alice, bob, carol and mallory initialised"

# run_format NAME GROUP_ARGS... : the scenario for one format.
run_format() {
  local fmt=$1
  shift
  local G=("$@")
  step "$fmt: distribution messages"
  local skdm_a skdm_b
  skdm_a=$(cli "$A" create-distribution "${G[@]}")
  [[ $(jget type "$skdm_a") == senderkey_distribution ]] || die "type of $skdm_a"
  [[ $(jget body "$skdm_a") =~ ^33([0-9a-f][0-9a-f])+$ ]] || die "body of $skdm_a"
  expect_eq "$fmt: create-distribution again gives the same chain" \
    "$(cli "$A" create-distribution "${G[@]}")" "$skdm_a"
  printf '%s\n' "$skdm_a" >"$T/skdm_a"
  jget body "$skdm_a" >"$T/skdm_a.hex"
  cli "$B" process-distribution "${G[@]}" --peer alice <"$T/skdm_a"
  cli "$C" process-distribution "${G[@]}" --peer alice <"$T/skdm_a.hex"
  ok "$fmt: bob (JSON line) and carol (bare hex) processed alice's"
  skdm_b=$(cli "$B" create-distribution "${G[@]}")
  printf '%s\n' "$skdm_b" >"$T/skdm_b"
  cli "$A" process-distribution "${G[@]}" --peer bob <"$T/skdm_b"
  cli "$C" process-distribution "${G[@]}" --peer bob <"$T/skdm_b"

  step "$fmt: group messages, in order and reordered"
  printf 'hello group' >"$T/plain"
  cli "$A" group-encrypt "${G[@]}" --count 4 <"$T/plain" >"$T/msgs"
  expect_eq "$fmt: --count 4 prints four lines" "$(wc -l <"$T/msgs")" 4
  for i in 1 2 3 4; do
    sed -n "${i}p" "$T/msgs" >"$T/m$i"
    [[ $(jget type "$(cat "$T/m$i")") == senderkey ]] || die "type of message $i"
  done
  for i in 1 2 3 4; do
    expect_eq "$fmt: bob reads message $i" "$(cli "$B" group-decrypt "${G[@]}" --peer alice <"$T/m$i")" "hello group"
  done
  for i in 4 2 1 3; do
    expect_eq "$fmt: carol reads message $i (reordered)" \
      "$(cli "$C" group-decrypt "${G[@]}" --peer alice --device 1 <"$T/m$i")" "hello group"
  done
  printf 'from bob' >"$T/plain_b"
  cli "$B" group-encrypt "${G[@]}" <"$T/plain_b" >"$T/mb"
  expect_eq "$fmt: alice reads bob's" "$(cli "$A" group-decrypt "${G[@]}" --peer bob <"$T/mb")" "from bob"
  jget body "$(cat "$T/mb")" >"$T/mb.hex"
  expect_eq "$fmt: carol reads bob's (bare hex)" "$(cli "$C" group-decrypt "${G[@]}" --peer bob <"$T/mb.hex")" "from bob"

  step "$fmt: refusals print nothing and change nothing"
  expect_fail 2 duplicate_message "$T/m2" "$B" group-decrypt "${G[@]}" --peer alice
  expect_fail 2 duplicate_message "$T/m3" "$C" group-decrypt "${G[@]}" --peer alice
  # A flipped bit in the signature (the last hex digit of the body).
  local body bad
  cli "$B" group-encrypt "${G[@]}" <"$T/plain_b" >"$T/mb2"
  body=$(jget body "$(cat "$T/mb2")")
  bad=${body:0:${#body}-1}$(printf '%x' $(((0x${body: -1} ^ 1))))
  printf '%s\n' "$bad" >"$T/bad_sig"
  expect_fail 2 invalid_message "$T/bad_sig" "$A" group-decrypt "${G[@]}" --peer bob
  # bob's message claimed by alice: alice's chain has another chain id.
  expect_fail 2 no_session "$T/mb2" "$C" group-decrypt "${G[@]}" --peer alice
  # mallory has no chain of alice's.
  expect_fail 2 no_session "$T/m1" "$M" group-decrypt "${G[@]}" --peer alice
  # Nothing on standard input says so (a usage error, not a protocol one).
  : >"$T/empty"
  expect_fail 1 "" "$T/empty" "$B" group-decrypt "${G[@]}" --peer alice
  grep -q "no senderkey message on standard input" "$T/fail.err" ||
    die "group-decrypt with empty stdin: $(cat "$T/fail.err")"
  expect_fail 1 "" "$T/empty" "$B" process-distribution "${G[@]}" --peer alice
  grep -q "no senderkey_distribution message on standard input" "$T/fail.err" ||
    die "process-distribution with empty stdin: $(cat "$T/fail.err")"
  # A distribution message opens every message of its chain from its iteration on (here 0).
  cli "$M" process-distribution "${G[@]}" --peer alice <"$T/skdm_a"
  expect_eq "$fmt: whoever holds the distribution message reads from its iteration" \
    "$(cli "$M" group-decrypt "${G[@]}" --peer alice <"$T/m4")" "hello group"
  expect_eq "$fmt: the genuine message still reads after the refusals" \
    "$(cli "$A" group-decrypt "${G[@]}" --peer bob <"$T/mb2")" "from bob"
  # A distribution message again never restarts the chain: old messages stay duplicates.
  cli "$B" process-distribution "${G[@]}" --peer alice <"$T/skdm_a"
  expect_fail 2 duplicate_message "$T/m1" "$B" group-decrypt "${G[@]}" --peer alice
  # Wrong type of line, not hex.
  expect_fail 1 "" "$T/skdm_a" "$B" group-decrypt "${G[@]}" --peer alice
  printf 'zz\n' >"$T/nothex"
  expect_fail 1 "" "$T/nothex" "$B" group-decrypt "${G[@]}" --peer alice
  expect_fail 1 "" "$T/m1" "$B" process-distribution "${G[@]}" --peer alice
}

run_format legacy --group "$LEGACY" --legacy
run_format current --group "$UUID"

step "the format and the group are checked"
expect_fail 1 "" /dev/null "$A" create-distribution --group "D1D1D1D1-7000-11EB-B32A-33B8A8A487A6"
expect_fail 1 "" /dev/null "$A" create-distribution --group "family"
expect_fail 1 "" /dev/null "$A" create-distribution --group ""
expect_fail 1 "" /dev/null "$A" create-distribution --legacy --group ""
expect_fail 1 "" /dev/null "$A" create-distribution
expect_fail 1 "" /dev/null "$A" group-decrypt --group "$UUID"
printf 'x' >"$T/x"
expect_fail 2 no_session "$T/x" "$C" group-encrypt --group "$OTHER_UUID"
# A current message to the legacy group of the same text, and to another distribution id.
cli "$A" group-encrypt --group "$UUID" <"$T/x" >"$T/cur"
expect_fail 2 invalid_message "$T/cur" "$B" group-decrypt --group "$OTHER_UUID" --peer alice
expect_fail 2 "" "$T/cur" "$B" group-decrypt --group "$UUID" --legacy --peer alice
cli "$A" create-distribution --group "$OTHER_UUID" >"$T/skdm_other"
expect_fail 2 invalid_message "$T/skdm_other" "$B" process-distribution --group "$UUID" --peer alice
expect_eq "the current message still reads" "$(cli "$B" group-decrypt --group "$UUID" --peer alice <"$T/cur")" "x"

step "a jump beyond 2,000 is too far in the legacy format"
# 2,001 messages bob never sees, then one more: iteration 2,001 is 2,001 ahead of bob's chain
# for carol (fresh group).
cli "$C" create-distribution --legacy --group jump >"$T/skdm_jump"
cli "$B" process-distribution --legacy --group jump --peer carol <"$T/skdm_jump"
cli "$C" group-encrypt --legacy --group jump --count 2002 <"$T/x" >"$T/jump"
tail -n 1 "$T/jump" >"$T/far"
sed -n 2001p "$T/jump" >"$T/edge"
expect_fail 2 too_far_in_future "$T/far" "$B" group-decrypt --legacy --group jump --peer carol
expect_eq "2,000 ahead is accepted" "$(cli "$B" group-decrypt --legacy --group jump --peer carol <"$T/edge")" "x"
expect_eq "and then the one after it" "$(cli "$B" group-decrypt --legacy --group jump --peer carol <"$T/far")" "x"

step "help lists the group commands"
"$CLI" --help | grep -q "group-decrypt --group G --peer NAME" || die "--help lacks group-decrypt"
ok "--help lists the group commands"

printf '\nall group checks passed\n'

# shellcheck shell=bash
# Shared helpers of the hush-cli script tests (sourced by cli_test.sh and cli_devices_test.sh).
#
# The sourcing script sets CLI (the hush-cli binary) and T (a scratch directory) first, and runs
# under `set -euo pipefail`. Every check prints what it checked, and a failure exits non-zero
# saying what failed.

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
die() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# A fingerprint of a state directory: its listing (no leftover temporary, WAL or journal files),
# the database file (in WAL mode a rolled-back transaction never touches it, and every command
# checkpoints its committed changes into it when it closes) and a kept link request.
state_sum() {
  if [[ -d $1 ]]; then
    ls -A "$1"
    if [[ -f $1/hush.db ]]; then sha256sum <"$1/hush.db"; fi
    if [[ -f $1/link-request ]]; then sha256sum <"$1/link-request"; fi
  else
    echo "no directory"
  fi
}

# cli DIR ARGS... : runs hush-cli on DIR (stdin and stdout passed through); any failure is fatal.
cli() {
  local dir=$1 rc=0
  shift
  "$CLI" --state "$dir" "$@" 2>"$T/cli.err" || rc=$?
  ((rc == 0)) || die "'hush-cli $*' on $(basename "$dir") exited $rc; stderr: $(cat "$T/cli.err")"
}

# expect_fail EXIT ERROR_NAME STDIN_FILE DIR ARGS... : the command must exit EXIT, print nothing on
# stdout, end stderr with "error: ERROR_NAME" (unless ERROR_NAME is empty) and leave DIR unchanged.
expect_fail() {
  local want=$1 name=$2 input=$3 dir=$4 rc=0 before after last
  shift 4
  before=$(state_sum "$dir")
  "$CLI" --state "$dir" "$@" <"$input" >"$T/fail.out" 2>"$T/fail.err" || rc=$?
  after=$(state_sum "$dir")
  ((rc == want)) || die "'hush-cli $*' on $(basename "$dir") exited $rc, expected $want; stderr: $(cat "$T/fail.err")"
  [[ ! -s $T/fail.out ]] || die "'hush-cli $*' failed but printed on stdout: $(head -c 200 "$T/fail.out")"
  [[ -s $T/fail.err ]] || die "'hush-cli $*' failed without a message on stderr"
  if [[ -n $name ]]; then
    last=$(tail -n 1 "$T/fail.err")
    [[ $last == "error: $name" ]] || die "'hush-cli $*': last stderr line is '$last', expected 'error: $name'"
  fi
  [[ $before == "$after" ]] || die "'hush-cli $*' failed but changed the state of $(basename "$dir")"
  ok "$(basename "$dir"): hush-cli $* -> exit $want${name:+ (error: $name)}, stdout empty, state unchanged"
}

# jget KEY JSON : the value of KEY in a flat one-line JSON object (string unquoted).
jget() {
  if [[ $2 =~ \"$1\":\"([^\"]*)\" ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  elif [[ $2 =~ \"$1\":([^,\}\"]*) ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  else
    die "no field '$1' in: $2"
  fi
}
jhas() { [[ $2 =~ \"$1\": ]]; }
# jarray KEY JSON : the numbers of the array KEY in a one-line JSON object, comma-separated.
jarray() {
  [[ $2 =~ \"$1\":\[([0-9,]*)\] ]] || die "no number array '$1' in: $2"
  printf '%s' "${BASH_REMATCH[1]}"
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  [[ $2 == "$3" ]] || die "$1: got '$2', expected '$3'"
  ok "$1 = $3"
}

# expect_same_file WHAT ACTUAL EXPECTED : byte-for-byte equality.
expect_same_file() {
  cmp -s "$2" "$3" || die "$1: the bytes differ ($(wc -c <"$2") vs $(wc -c <"$3") bytes)"
  ok "$1 ($(wc -c <"$3") bytes, identical)"
}

# A message line for a type and hex body, and edits of hex bodies.
msg_json() { printf '{"type":"%s","body":"%s"}\n' "$1" "$2"; }
flip_last_byte() { printf '%s%02x' "${1:0:${#1}-2}" $((0x${1: -2} ^ 0x01)); }
with_version_byte() { printf '%s%s' "$2" "${1:2}"; }

# check_message_line LINE TYPE [VERSION] : LINE must be exactly {"type":"TYPE","body":"VV<hex>"},
# VV the version byte: 44 (version 4, the default: hush to hush) or 33 (version 3).
check_message_line() {
  [[ $1 =~ ^\{\"type\":\"$2\",\"body\":\"${3:-44}([0-9a-f][0-9a-f])+\"\}$ ]] ||
    die "not a $2 message line: ${1:0:120}"
}

# deliver FROM_NAME TO_DIR MESSAGE_FILE EXPECTED_PLAINTEXT_FILE [DECRYPT_OPTION...] : decrypt
# (with the options, such as --device N) and compare.
deliver() {
  local from=$1 to=$2 message=$3 expected=$4
  shift 4
  cli "$to" decrypt --peer "$from" "$@" <"$message" >"$T/plain"
  expect_same_file "$(basename "$to") decrypts $(basename "$message") from $from${*:+ $*}" \
    "$T/plain" "$expected"
}

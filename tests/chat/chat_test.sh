#!/usr/bin/env bash
# hush chat example, end to end: hush-relay and hush-chat processes on loopback.
#
# usage: bash tests/chat/chat_test.sh EXAMPLES_DIR SCENARIO
#   EXAMPLES_DIR holds hush-relay and hush-chat; SCENARIO is one of
#   conversation  two clients talk both ways, concurrently; messages queued while the recipient
#                 is offline arrive when it connects, in order, and once only; both sides show
#                 the same safety number; the log survives a restart
#   acid          after a conversation (and with one envelope still queued), neither the relay's
#                 database (the raw files and every row) nor the relay's traffic (every frame, in
#                 and out, recorded with --record) contains any of the plaintexts, while the same
#                 search finds them in the clients' own databases
#   mitm-known    alice and bob have talked; the relay turns man in the middle (--impersonate bob)
#                 and alice's session is gone (/reset): her message is refused with
#                 untrusted_identity, shown loudly, and nothing reaches the relay
#   mitm-new      the relay impersonates bob from the start: carol's first message goes out
#                 (trust on first use), but carol's safety number for bob differs from bob's
#                 for carol; and bob's real answer is then flagged at carol as an identity change
#   robustness    a relay fed oversized, empty, truncated, malformed and out-of-order frames, a
#                 wrong token and random bytes drops each such connection and keeps serving
#
# Synchronisation is by conditions with timeouts (the relay's "listening" line, the clients'
# /wait and /sync, process exits), never by fixed sleeps. Prints each check; exits non-zero at
# the first failure, saying what failed (HUSH_CHAT_TEST_KEEP=1 keeps the files). Needs bash,
# coreutils, grep and sed.
set -euo pipefail
export LC_ALL=C  # bytes, not characters, in ${#s}, ${s:i:n} and grep

BIN=${1:?usage: chat_test.sh EXAMPLES_DIR SCENARIO}
SCENARIO=${2:?usage: chat_test.sh EXAMPLES_DIR SCENARIO}
RELAY=$BIN/hush-relay
CHAT=$BIN/hush-chat
[[ -x $RELAY && -x $CHAT ]] || { echo "FAIL: no hush-relay / hush-chat in '$BIN'" >&2; exit 1; }

# Generous: CI machines are small and loaded, and sanitizer builds are slow.
WAIT=90

WORK=$(mktemp -d)
RELAY_PID=""
PORT=""
cleanup() {
  if [[ -n $RELAY_PID ]]; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
  fi
  if [[ -n ${HUSH_CHAT_TEST_KEEP:-} ]]; then
    echo "files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# ---- helpers ----

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
die() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
show() {  # a file, for a failure message
  printf -- '--- %s:\n' "$1" >&2
  cat "$1" >&2 || true
}

# start_relay NAME [ARGS...]: starts hush-relay on $WORK/relay.db (port 0), recording its traffic
# in $WORK/NAME.rec and its output in $WORK/NAME.log; sets PORT and RELAY_PID.
start_relay() {
  local name=$1
  shift
  "$RELAY" --db "$WORK/relay.db" --port 0 --record "$WORK/$name.rec" "$@" \
    >"$WORK/$name.log" 2>&1 &
  RELAY_PID=$!
  local deadline=$((SECONDS + WAIT)) first=""
  while ((SECONDS < deadline)); do
    first=$(head -n 1 "$WORK/$name.log" 2>/dev/null || true)
    [[ $first == listening\ 127.0.0.1:* ]] && break
    kill -0 "$RELAY_PID" 2>/dev/null || { show "$WORK/$name.log"; die "hush-relay exited at start"; }
    sleep 0.05
  done
  [[ $first =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] || die "hush-relay did not say where it listens"
  PORT=${BASH_REMATCH[1]}
  ok "relay $name listening on 127.0.0.1:$PORT"
}

# stop_relay NAME: SIGTERM; the relay must stop cleanly (exit 0) and release its database.
stop_relay() {
  local rc=0
  kill -TERM "$RELAY_PID"
  wait "$RELAY_PID" || rc=$?
  RELAY_PID=""
  ((rc == 0)) || { show "$WORK/$1.log"; die "hush-relay exited $rc on SIGTERM"; }
  ok "relay $1 stopped cleanly"
}

# chat NAME STATE EXPECTED_RC [--handle H] <<< SCRIPT: runs hush-chat with the script from stdin;
# output in $WORK/NAME.out.
chat() {
  local name=$1 state=$2 want=$3 rc=0
  shift 3
  cat >"$WORK/$name.script"
  "$CHAT" --state "$WORK/$state" --relay "127.0.0.1:$PORT" --script "$WORK/$name.script" \
    --timeout "$WAIT" "$@" \
    >"$WORK/$name.out" 2>&1 </dev/null || rc=$?
  ((rc == want)) || { show "$WORK/$name.out"; die "hush-chat $name exited $rc, expected $want"; }
}

# chat_bg NAME STATE [--handle H] <<< SCRIPT: the same in the background; sets BG_PID.
chat_bg() {
  local name=$1 state=$2
  shift 2
  cat >"$WORK/$name.script"
  "$CHAT" --state "$WORK/$state" --relay "127.0.0.1:$PORT" --script "$WORK/$name.script" \
    --timeout "$WAIT" "$@" \
    >"$WORK/$name.out" 2>&1 </dev/null &
  BG_PID=$!
}

# wait_bg NAME EXPECTED_RC
wait_bg() {
  local rc=0
  wait "$BG_PID" || rc=$?
  ((rc == $2)) || { show "$WORK/$1.out"; die "hush-chat $1 exited $rc, expected $2"; }
}

has_line() { grep -qxF -- "$2" "$1"; }
expect_line() {
  has_line "$1" "$2" || { show "$1"; die "$(basename "$1"): no line '$2'"; }
}
expect_grep() {
  grep -qF -- "$2" "$1" || { show "$1"; die "$(basename "$1"): nothing matches '$2'"; }
}
expect_no_grep() {
  if grep -qF -- "$2" "$1"; then
    show "$1"
    die "$(basename "$1"): unexpected '$2'"
  fi
}

# The message lines ("[...] ...") of an output file, in order.
messages() { grep '^\[' "$1" || true; }

expect_messages() {  # FILE EXPECTED_LINES (newline-separated)
  local got
  got=$(messages "$1")
  [[ $got == "$2" ]] || { show "$1"; die "$(basename "$1"): messages are
$got
expected
$2"; }
}

# The safety number FILE shows for PEER (last one).
safety() { sed -n "s/^\* safety number with $2: //p" "$1" | tail -n 1; }

expect_safety_format() {
  [[ $1 =~ ^([0-9]{5} ){11}[0-9]{5}$ ]] || die "not a 60-digit safety number in 12 groups: '$1'"
}

hexof() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# pieces TEXT OUT: writes to OUT (one per line) every 16-byte window of TEXT at 8-byte steps, and
# the same in hex to OUT.hex. SQLite splits a long value over overflow pages, so a raw file may
# hold a plaintext in pieces: any stretch of it of 24 bytes or more contains a whole window.
pieces() {
  local t=$1 i
  : >"$2"
  : >"$2.hex"
  for ((i = 0; i + 16 <= ${#t}; i += 8)); do
    printf '%s\n' "${t:i:16}" >>"$2"
    hexof "${t:i:16}" >>"$2.hex"
    printf '\n' >>"$2.hex"
  done
}

register() {  # STATE HANDLE
  chat "register-$2" "$1" 0 --handle "$2" </dev/null
  expect_line "$WORK/register-$2.out" "* registered $2 at 127.0.0.1:$PORT"
}

# ---- scenarios ----

conversation() {
  step "a relay and two clients; both register"
  start_relay relay
  register alice alice
  register bob bob
  ok "alice and bob registered (keys published)"

  step "alice and bob talk, both running at once"
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice hi alice, bob here
/wait 2 $WAIT
/msg alice see you
/verify alice
EOF
  chat alice alice 0 <<EOF
/msg bob hello bob, it is alice
/wait 1 $WAIT
/msg bob how are you?
/wait 2 $WAIT
/verify bob
EOF
  wait_bg bob 0
  expect_messages "$WORK/alice.out" "[me -> bob] hello bob, it is alice
[bob] hi alice, bob here
[me -> bob] how are you?
[bob] see you"
  expect_messages "$WORK/bob.out" "[alice] hello bob, it is alice
[me -> alice] hi alice, bob here
[alice] how are you?
[me -> alice] see you"
  ok "four messages, both ways, in order, each side's view as expected"
  local a b
  a=$(safety "$WORK/alice.out" bob)
  b=$(safety "$WORK/bob.out" alice)
  expect_safety_format "$a"
  [[ $a == "$b" ]] || die "safety numbers differ: alice sees '$a', bob sees '$b'"
  ok "both sides show the same safety number: $a"

  step "messages for an offline recipient wait at the relay, then arrive in order, once"
  chat alice2 alice 0 <<EOF
/msg bob one
/msg bob two
/msg bob three
EOF
  chat bob2 bob 0 <<EOF
/wait 3 $WAIT
EOF
  expect_messages "$WORK/bob2.out" "[alice] one
[alice] two
[alice] three"
  chat bob3 bob 0 <<EOF
/sync
EOF
  expect_messages "$WORK/bob3.out" ""
  ok "three queued messages delivered on reconnect, in order; not delivered again"

  step "commands on standard input (a pipe, and a file) instead of --script"
  printf '/msg bob through a pipe\n' |
    "$CHAT" --state "$WORK/alice" --relay "127.0.0.1:$PORT" --timeout "$WAIT" >"$WORK/pipe.out" 2>&1 ||
    { show "$WORK/pipe.out"; die "hush-chat with commands on a pipe failed"; }
  printf '/msg bob from a file\n/quit\n/msg bob never sent\n' >"$WORK/commands.txt"
  "$CHAT" --state "$WORK/alice" --relay "127.0.0.1:$PORT" --timeout "$WAIT" \
    <"$WORK/commands.txt" >"$WORK/file.out" 2>&1 ||
    { show "$WORK/file.out"; die "hush-chat with commands in a file failed"; }
  chat bob-stdin bob 0 <<EOF
/wait 2 $WAIT
/sync
EOF
  expect_messages "$WORK/bob-stdin.out" "[alice] through a pipe
[alice] from a file"
  ok "both delivered, nothing after /quit"

  step "the conversation log survives restarts"
  chat bob4 bob 0 <<EOF
/history 100
EOF
  for line in "  [alice] hello bob, it is alice" "  [me -> alice] see you" "  [alice] three"; do
    expect_line "$WORK/bob4.out" "$line"
  done
  ok "bob's /history shows the stored conversation"

  step "usage errors"
  chat wrong-handle alice 1 --handle mallory </dev/null
  expect_grep "$WORK/wrong-handle.out" "belongs to alice"
  chat unknown-peer alice 2 <<EOF
/msg nobody hello?
EOF
  expect_line "$WORK/unknown-peer.out" "! message to nobody not sent: no_session (nobody is not registered at the relay)"
  ok "a state keeps its handle; a message to an unknown handle is refused"
  stop_relay relay
}

acid() {
  local -a plain=(
    "acid-1: the eagle lands at midnight"
    "acid-2: bob answers, password swordfish"
    "acid-3: ünïcødé ✓ and emoji 🔐 in a message"
    "acid-4: $(printf 'long-%04d ' $(seq 1 300))end"
    "acid-5: bob again, after the ratchet turned"
    "acid-6: left queued at the relay for bob"
  )
  step "a conversation through a recording relay"
  start_relay relay
  register alice alice
  register bob bob
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice ${plain[1]}
/wait 3 $WAIT
/msg alice ${plain[4]}
EOF
  chat alice alice 0 <<EOF
/msg bob ${plain[0]}
/wait 1 $WAIT
/msg bob ${plain[2]}
/msg bob ${plain[3]}
/wait 2 $WAIT
EOF
  wait_bg bob 0
  chat alice2 alice 0 <<EOF
/msg bob ${plain[5]}
EOF
  local n
  n=$(messages "$WORK/bob.out" | grep -c '^\[alice\]' || true)
  ((n == 3)) || { show "$WORK/bob.out"; die "bob read $n messages, expected 3"; }
  ok "six plaintexts sent (prekey and whisper messages, both ways); the last one is still queued"
  stop_relay relay

  local dump=$WORK/relay.dump
  "$RELAY" --db "$WORK/relay.db" --dump >"$dump"
  expect_line "$dump" "table queue: 1 rows"
  ok "the relay's database still holds the queued envelope"
  local files=("$WORK"/relay.db*)
  local bytes
  bytes=$(cat "${files[@]}" | wc -c)  # (wc reads everything: no early close under pipefail)
  local sends delivers
  sends=$(grep -c '^conn [0-9]* in SEND ' "$WORK/relay.rec" || true)
  delivers=$(grep -c '^conn [0-9]* out DELIVER ' "$WORK/relay.rec" || true)
  ((sends == 6 && delivers == 5)) || die "recorded $sends SEND and $delivers DELIVER frames, expected 6 and 5"
  ok "the traffic record holds every frame: $sends SEND, $delivers DELIVER, $(wc -l <"$WORK/relay.rec") lines"

  step "the search works: it finds what is there"
  expect_grep "$dump" "handle=alice"
  grep -qaF "alice" "$WORK/relay.db" || die "the raw relay database does not contain 'alice'"
  grep -qF "$(hexof alice)" "$WORK/relay.rec" || die "the record does not contain hex('alice')"
  local i=0 p
  for p in "${plain[@]}"; do
    pieces "$p" "$WORK/pieces.$i"
    grep -qaF -f "$WORK/pieces.$i" "$WORK"/alice/hush.db* ||
      die "alice's own database does not contain '${p:0:40}'"
    i=$((i + 1))
  done
  ok "handles are found in the relay's files; every plaintext is found in alice's own log"

  step "the acid test: no plaintext at the relay"
  i=0
  for p in "${plain[@]}"; do
    local w=$WORK/pieces.$i
    if grep -qaF -f "$w" "${files[@]}"; then die "relay database files contain '${p:0:40}'"; fi
    if grep -qaF -f "$w" "$dump" || grep -qF -f "$w.hex" "$dump"; then
      die "a relay database row contains '${p:0:40}'"
    fi
    if grep -qaF -f "$w" "$WORK/relay.rec" || grep -qF -f "$w.hex" "$WORK/relay.rec"; then
      die "the relay's traffic contains '${p:0:40}'"
    fi
    i=$((i + 1))
  done
  ok "relay database: $bytes bytes in ${#files[@]} file(s), $(grep -c '' "$dump") dumped lines; traffic: $(wc -c <"$WORK/relay.rec") bytes of record"
  ok "0 of ${#plain[@]} plaintexts found (searched whole, and in every 16-byte piece, as text and hex)"
}

mitm_known() {
  step "alice and bob talk through an honest relay"
  start_relay honest
  register alice alice
  register bob bob
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice hi alice
/verify alice
EOF
  chat alice alice 0 <<EOF
/msg bob hi bob
/wait 1 $WAIT
/verify bob
EOF
  wait_bg bob 0
  local good
  good=$(safety "$WORK/alice.out" bob)
  [[ $good == "$(safety "$WORK/bob.out" alice)" ]] || die "safety numbers differ through the honest relay"
  ok "they share the safety number $good"
  stop_relay honest

  step "the relay turns man in the middle for bob; alice's session is gone"
  start_relay evil --impersonate bob
  local fake
  fake=$(sed -n 's/.*--impersonate bob: .*(identity \([0-9a-f]*\)).*/\1/p' "$WORK/evil.log")
  [[ -n $fake ]] || { show "$WORK/evil.log"; die "the relay did not name its impostor key"; }
  chat alice2 alice 2 <<EOF
/reset bob
/msg bob the secret plan, for bob only
/msg bob are you there?
/verify bob
EOF
  expect_line "$WORK/alice2.out" "!! WARNING: bob's identity key has CHANGED"
  expect_line "$WORK/alice2.out" "!!   offered key:        $fake"
  expect_line "$WORK/alice2.out" "!!   old safety number:  $good"
  expect_line "$WORK/alice2.out" "! message to bob not sent: untrusted_identity"
  [[ $(grep -c "^! message to bob not sent: untrusted_identity$" "$WORK/alice2.out") == 2 ]] ||
    die "both attempts must be refused"
  expect_messages "$WORK/alice2.out" ""
  [[ $(safety "$WORK/alice2.out" bob) == "$good" ]] || die "alice's safety number for bob changed"
  ok "alice is refused with untrusted_identity (twice), warned with both keys, and still trusts bob's real key"
  if grep -q '^conn [0-9]* in SEND ' "$WORK/evil.rec"; then die "an envelope reached the relay"; fi
  expect_grep "$WORK/evil.rec" " out BUNDLE "
  ok "the lying relay handed out its bundle but received no envelope"
  chat bob2 bob 0 <<EOF
/sync
EOF
  expect_messages "$WORK/bob2.out" ""
  ok "bob receives nothing"
  stop_relay evil
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  expect_line "$WORK/relay.dump" "table queue: 0 rows"
}

mitm_new() {
  step "a relay that impersonates bob from the start"
  start_relay evil --impersonate bob
  register bob bob
  register carol carol
  step "carol has never talked to bob: trust on first use accepts the relay's key"
  chat carol carol 0 <<EOF
/msg bob hello bob, carol here
/verify bob
EOF
  expect_line "$WORK/carol.out" "[me -> bob] hello bob, carol here"
  ok "carol's message went out"
  chat bob bob 0 <<EOF
/sync
/msg carol hi carol, this is the real bob
/verify carol
EOF
  expect_grep "$WORK/bob.out" "! dropped a message from carol: "
  ok "bob cannot read what carol encrypted to the relay's keys"
  local c b
  c=$(safety "$WORK/carol.out" bob)
  b=$(safety "$WORK/bob.out" carol)
  expect_safety_format "$c"
  expect_safety_format "$b"
  [[ $c != "$b" ]] || die "the safety numbers are equal: the substitution went unseen"
  ok "the safety numbers differ: carol sees $c"
  ok "                              bob sees $b"

  step "bob's real answer reaches carol: an identity change, held unread"
  chat carol2 carol 0 <<EOF
/sync
EOF
  expect_line "$WORK/carol2.out" "!! WARNING: bob's identity key has CHANGED"
  expect_line "$WORK/carol2.out" "!! A message from bob came with the new key; it is held, unread."
  expect_messages "$WORK/carol2.out" ""
  ok "carol is warned, and the message waits for /trust"
  stop_relay evil
}

# frame HEX_PAYLOAD: a frame (length prefix + payload) as bytes on stdout.
frame() {
  local hex=$1 n=$((${#1} / 2))
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
  printf "$(sed 's/../\\x&/g' <<<"$hex")"
}
u32() { printf '%08x' "$1"; }
str() { printf '%08x%s' "${#1}" "$(hexof "$1")"; }

# poke WHAT REASON [--close]: sends stdin's bytes on a new connection; the relay must close it and
# log "closed: REASON" once more than before. With --close we close our side first (for a frame
# cut short); otherwise the relay must close it by itself (we read until it does, bounded).
poke() {
  local what=$1 expect=$2 before
  before=$(grep -c "closed: $expect\$" "$WORK/relay.log" || true)
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  cat >&3 || true
  if [[ ${3:-} != --close ]]; then
    timeout "$WAIT" cat <&3 >/dev/null || die "$what: the relay did not close the connection"
  fi
  exec 3<&-
  local deadline=$((SECONDS + WAIT))
  until (($(grep -c "closed: $expect\$" "$WORK/relay.log" || true) > before)); do
    ((SECONDS < deadline)) || { show "$WORK/relay.log"; die "$what: no new 'closed: $expect' in the log"; }
    sleep 0.05
  done
  ok "$what: connection closed ($expect)"
}

robustness() {
  start_relay relay
  register alice alice
  register bob bob
  step "bad frames each cost their sender the connection"
  printf '\xff\xff\xff\xff' | poke "a 4 GiB length prefix" "frame length out of bounds"
  printf '\x00\x04\x00\x01' | poke "a length just above the limit" "frame length out of bounds"
  printf '\x00\x00\x00\x00' | poke "an empty frame" "frame length out of bounds"
  printf '\x00\x00\x00\x10abc' | poke "a frame cut short" "closed by peer in a frame" --close
  frame 63 | poke "an unknown kind" "malformed frame"
  frame "03$(u32 1)00" | poke "a trailing byte" "malformed frame"
  frame "04$(u32 1)$(str bob)" | poke "a request before HELLO" "request before HELLO"
  frame "11$(u32 1)" | poke "a relay-to-client kind from a client" "malformed frame"
  frame "01$(u32 1)$(str 'bad handle!')$(u32 32)$(printf '%064d' 0)" | poke "an invalid handle" "invalid handle"
  frame "01$(u32 1)$(str alice)$(u32 32)$(printf '%064d' 0)" | poke "alice's handle with a wrong token" "handle taken"
  frame "01$(u32 1)$(str alice)$(u32 31)$(printf '%062d' 0)" | poke "a short token" "malformed frame"
  { printf '\x00\x01\x00\x00'; head -c 65536 /dev/urandom; } | poke "a frame of 64 KiB of random bytes" "malformed frame"
  expect_grep "$WORK/relay.log" "HELLO alice refused: the handle belongs to another client"

  step "the relay still serves its real clients"
  chat_bg bob bob <<EOF
/wait 1 $WAIT
EOF
  chat alice alice 0 <<EOF
/msg bob still works
EOF
  wait_bg bob 0
  expect_messages "$WORK/bob.out" "[alice] still works"
  ok "a message still goes through"
  stop_relay relay
}

case $SCENARIO in
  conversation) conversation ;;
  acid) acid ;;
  mitm-known) mitm_known ;;
  mitm-new) mitm_new ;;
  robustness) robustness ;;
  *) die "unknown scenario '$SCENARIO'" ;;
esac
printf '\nPASS: %s\n' "$SCENARIO"

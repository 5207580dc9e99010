#!/usr/bin/env bash
# hush chat example, end to end: hush-relay and hush-chat processes on loopback.
#
# usage: bash tests/chat/chat_test.sh EXAMPLES_DIR SCENARIO [HOSTILE]
#   EXAMPLES_DIR holds hush-relay and hush-chat; HOSTILE is the hostile client
#   (tests/chat/hostile_client.cpp, needed by hostile and limits); SCENARIO is one of
#   conversation  two clients talk both ways, concurrently; messages queued while the recipient
#                 is offline arrive when it connects, in order, and once only; both sides show
#                 the same safety number and say they talk post-quantum Signal v4; the log
#                 survives a restart; a relay database without the Kyber tables gets them
#   acid          after a conversation (and with one envelope still queued), neither the relay's
#                 database (the raw files and every row) nor the relay's traffic (every frame, in
#                 and out, recorded with --record) contains any of the plaintexts, while the same
#                 search finds them in the clients' own databases
#   sealed        the acid test with HUSH_CHAT_STORAGE_KEY set: the same search finds none of the
#                 plaintexts (nor the conversation log) in the clients' raw database files either;
#                 /history still shows them; a wrong or missing key is a clear start-up error
#   rollback      bob's database is put back to an older copy: hush-chat warns at start, and
#                 bob's next message (a new session) still reaches alice
#   mitm-known    alice and bob have talked; the relay turns man in the middle (--impersonate bob)
#                 and alice's session is gone (/reset): her message is refused with
#                 untrusted_identity, shown loudly, and nothing reaches the relay; the change
#                 stays pending across a restart, until /keep bob (the relay honest again)
#   mitm-new      the relay impersonates bob from the start: carol's first message goes out
#                 (trust on first use), but carol's safety number for bob differs from bob's
#                 for carol; and bob's real answer is then flagged at carol as an identity change
#   robustness    a relay fed oversized, empty, truncated, malformed and out-of-order frames, a
#                 wrong token, unknown or out-of-range devices, a second waiter at a link mailbox
#                 and random bytes drops each such connection and keeps serving
#   hostile       envelopes that name alice but come from mallory's account are dropped unread
#                 (sender_mismatch: no message, no identity change); 20 forged envelopes from
#                 alice's account (a stolen token) are dropped as invalid_message and do not stop
#                 carol's message behind them
#   limits        a relay with small limits: one sender fills only its share of bob's mailbox
#                 and carol still gets through; a fetch flood is refused after the burst (and
#                 hush-chat says so); an idle connection is closed while an idle hush-chat is
#                 kept alive by its pings; a repeated publish replaces one-time prekeys instead
#                 of doubling them, never puts back one handed out, and cannot change the identity
#                 (keys or device list); a device list is not replaced by the same version; link
#                 messages waiting at mailboxes are bounded per handle
#   devices       alice links a second device (hush-chat --link, its code typed as /link CODE on
#                 her first): bob's messages show on both, the phone's on bob's side as
#                 [alice:2] and on alice's first as a copy; /devices on every side; /unlink 2
#                 takes the phone off her list and off the relay (its token refused), and bob's
#                 next message goes to device 1 only
#   healing       bob reinstalls (--recover) while alice writes to him; the relay keeps his queue,
#                 his new device cannot read it and asks again; after alice's /trust bob her
#                 device sends both again by itself, and bob's new device shows each once
#   offline       the relay stops while alice's hush-chat runs: what she types is queued (and she
#                 is told); when the relay is back she reconnects and sends it, once
#   edges         what a new user met (issue 14): handles are one person whatever their case
#                 (--handle Bob is bob; /msg BOB reaches bob; a BOB registration is refused);
#                 typed lines (standard input) are sent as typed: a line starting with # is a
#                 message, leading spaces stay, //text sends /text; a line over the input limit
#                 is refused whole (neither head nor tail sent), typed or in a script; a failed
#                 /msg nobody does not change who plain lines go to; --relay HOST without a port
#                 says what is missing
#   link-relay    what the relay saw of a link (its record and database): the mailbox, but not
#                 the code's secret, the new device's token inside the link message, or the
#                 identity private key; its database keeps nothing of the link
#   recovery      alice loses her state and takes her handle back with her recovery code (kept
#                 only as a hash at the relay; the old code and the old device stop working);
#                 her 53 messages from the new identity are held at bob (bounded: the 3 oldest
#                 dropped), acknowledged, and do not stop carol's message behind them; after a
#                 restart they are still held, and /trust alice reads them in order
#   groups        alice makes #family with bob and carol, all three talk, alice sends a file (bob
#                 and carol save the same bytes; a second one is saved beside it); marks, send
#                 times and receipts; after carol's removal alice's next message reaches bob and
#                 nothing of it carol; the relay holds the file as ciphertext only (and refuses one
#                 over its limit); unknown group or person, missing or too large file, non-admin
#                 change: clear errors; dave added reads from then on only; bob leaves
#   calls         alice calls bob, who has two devices: both ring, the tablet answers and the
#                 laptop stops ringing; 3 s of Opus voice and VP8 video both ways through the
#                 relay's UDP switch; none of the encoder outputs is in the relay's capture of
#                 what it forwarded (hush-callcheck capture), each side's decoded audio matches
#                 what the other sent (hush-callcheck audio), video frames decode; wrong commands
#                 (/answer with nothing ringing, a second /call, /hangup after the end) are refused
#   group_calls   alice calls #team: bob answers, then carol; each of the three decodes the two
#                 others' voice (hush-callcheck audio) and video; none of the three's encoder
#                 outputs is in the relay's capture; carol hangs up (after 10 video frames of each,
#                 /wait call video) and alice and bob go on (10 more frames), under key epochs the
#                 relay's capture never showed while carol sent (hush-callcheck rekeyed); the
#                 joining, the leaving and the host's lists as each side shows them
#
# Synchronisation is by conditions with timeouts (the relay's "listening" line, the clients'
# /wait and /sync, process exits), never by fixed sleeps. Prints each check; exits non-zero at
# the first failure, saying what failed (HUSH_CHAT_TEST_KEEP=1 keeps the files). Needs bash,
# coreutils, grep and sed.
set -euo pipefail
export LC_ALL=C  # bytes, not characters, in ${#s}, ${s:i:n} and grep

BIN=${1:?usage: chat_test.sh EXAMPLES_DIR SCENARIO [HOSTILE]}
SCENARIO=${2:?usage: chat_test.sh EXAMPLES_DIR SCENARIO [HOSTILE]}
HOSTILE=${3:-}
RELAY=$BIN/hush-relay
CHAT=$BIN/hush-chat
[[ -x $RELAY && -x $CHAT ]] || { echo "FAIL: no hush-relay / hush-chat in '$BIN'" >&2; exit 1; }

# Generous: CI machines are small and loaded, and sanitizer builds are slow.
WAIT=90

WORK=$(mktemp -d)
RELAY_PID=""
PORT=""
cleanup() {
  if [[ -n ${OTHER_RELAY_PID:-} ]]; then  # (a relay set aside while another runs)
    kill "$OTHER_RELAY_PID" 2>/dev/null || true
    wait "$OTHER_RELAY_PID" 2>/dev/null || true
  fi
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

# The storage key of state STATE (for HUSH_CHAT_STORAGE_KEY): $KEY_STATE, empty (none) if unset.
key_of() {
  local v="KEY_${1//[^A-Za-z0-9_]/_}"
  printf '%s' "${!v:-}"
}

# chat NAME STATE EXPECTED_RC [--handle H] <<< SCRIPT: runs hush-chat with the script from stdin;
# output in $WORK/NAME.out.
# Options every hush-chat of a scenario gets (acid: --receipts none, so that it counts frames of
# messages alone).
CHAT_ARGS=()
chat() {
  local name=$1 state=$2 want=$3 rc=0
  shift 3
  cat >"$WORK/$name.script"
  HUSH_CHAT_STORAGE_KEY=$(key_of "$state") \
    "$CHAT" --state "$WORK/$state" --relay "127.0.0.1:$PORT" --script "$WORK/$name.script" \
    --timeout "$WAIT" "$@" "${CHAT_ARGS[@]}" \
    >"$WORK/$name.out" 2>&1 </dev/null || rc=$?
  ((rc == want)) || { show "$WORK/$name.out"; die "hush-chat $name exited $rc, expected $want"; }
}

# chat_bg NAME STATE [--handle H] <<< SCRIPT: the same in the background; sets BG_PID.
chat_bg() {
  local name=$1 state=$2
  shift 2
  cat >"$WORK/$name.script"
  HUSH_CHAT_STORAGE_KEY=$(key_of "$state") \
    "$CHAT" --state "$WORK/$state" --relay "127.0.0.1:$PORT" --script "$WORK/$name.script" \
    --timeout "$WAIT" "$@" "${CHAT_ARGS[@]}" \
    >"$WORK/$name.out" 2>&1 </dev/null &
  BG_PID=$!
}

# hostile NAME ARGS...: runs the hostile client against the relay (output in $WORK/NAME.out).
hostile() {
  local name=$1
  shift
  [[ -x $HOSTILE ]] || die "this scenario needs the hostile client (third argument)"
  "$HOSTILE" --relay "127.0.0.1:$PORT" "$@" >"$WORK/$name.out" 2>&1 ||
    { show "$WORK/$name.out"; die "the hostile client $name failed"; }
}

# wait_for FILE PATTERN COUNT: until FILE has COUNT lines matching the grep PATTERN (bounded).
wait_for() {
  local deadline=$((SECONDS + WAIT)) n=0
  while :; do
    n=$(grep -c -- "$2" "$1" 2>/dev/null) || true  # (nothing yet when the file is not there)
    ((${n:-0} >= $3)) && return 0
    ((SECONDS < deadline)) || { show "$1"; die "$(basename "$1"): fewer than $3 lines match '$2'"; }
    sleep 0.05
  done
}

# A random storage key (64 hex digits).
new_key() { head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# wait_bg NAME EXPECTED_RC
wait_bg() {
  local rc=0
  wait "$BG_PID" || rc=$?
  ((rc == $2)) || { show "$WORK/$1.out"; die "hush-chat $1 exited $rc, expected $2"; }
}

# A message line ends with its send time and, for ours, its mark ("  (✓ 14:31)"): the checks of
# what a line says leave that out (the groups scenario checks the stamps themselves).
strip_stamps() {
  sed -E 's/  \((queued |✓ |✓✓ |✓✓ read )?([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2}\)$//' "$@"
}
has_line() { grep -qxF -- "$2" <(strip_stamps "$1"); }
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
messages() { grep '^\[' "$1" | strip_stamps || true; }

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

# The recovery code FILE shows for HANDLE (last one).
recovery_code() {
  sed -n "s/^\* recovery code for $2: \([A-Z2-7-]*\); write it down: .*/\1/p" "$1" | tail -n 1
}

# The bytes of a recovery code (base32, RFC 4648, with dashes), in hex.
code_hex() {
  local s=${1//-/} alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 acc=0 bits=0 out="" c v i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    v=${alphabet%%"$c"*}
    v=${#v}
    acc=$(((acc << 5 | v) & 0xFFFF))
    bits=$((bits + 5))
    if ((bits >= 8)); then
      bits=$((bits - 8))
      out+=$(printf '%02x' $(((acc >> bits) & 255)))
    fi
  done
  printf '%s' "$out"
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
  expect_line "$WORK/alice.out" "* encryption with bob: post-quantum (Signal v4)"
  expect_line "$WORK/bob.out" "* encryption with alice: post-quantum (Signal v4)"
  ok "both sides talk post-quantum Signal v4 (PQXDH with the Kyber prekeys the relay served)"

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
  expect_line "$WORK/unknown-peer.out" "! message to nobody not sent: nobody is not registered at the relay (no_session)"
  ok "a state keeps its handle; a message to an unknown handle is refused"
  stop_relay relay

  step "a relay database from before Kyber prekeys gets their tables when opened"
  python3 - "$WORK/relay.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("DROP TABLE device_kyber_prekeys; DROP TABLE device_spent_kyber_prekeys;")
db.close()
PY
  start_relay relay-upgraded
  chat alice-upgraded alice 0 <<EOF
/reset bob
/msg bob after the upgrade
/verify bob
EOF
  expect_line "$WORK/alice-upgraded.out" "* encryption with bob: post-quantum (Signal v4)"
  chat bob-upgraded bob 0 <<EOF
/wait 1 $WAIT
EOF
  expect_messages "$WORK/bob-upgraded.out" "[alice] after the upgrade"
  local held
  held=$(python3 - "$WORK/relay.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM device_kyber_prekeys WHERE handle='alice'").fetchone()[0])
PY
)
  ((held > 0)) || die "alice's one-time Kyber prekeys were not stored again after the upgrade"
  ok "tables made again; alice published $held one-time Kyber prekeys again; bob's bundle still v4"
  stop_relay relay-upgraded
}

# acid [sealed]: with "sealed", alice and bob run with storage keys, and the clients' own database
# files must not hold the plaintexts either.
acid() {
  local sealed=${1:-}
  if [[ -n $sealed ]]; then
    KEY_alice=$(new_key)
    KEY_bob=$(new_key)
  fi
  local -a plain=(
    "acid-1: the eagle lands at midnight"
    "acid-2: bob answers, password swordfish"
    "acid-3: ünïcødé ✓ and emoji 🔐 in a message"
    "acid-4: $(printf 'long-%04d ' $(seq 1 300))end"
    "acid-5: bob again, after the ratchet turned"
    "acid-6: left queued at the relay for bob"
  )
  # (Without receipts: the frame counts below are those of the six messages.)
  CHAT_ARGS=(--receipts none)
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
  expect_line "$dump" "table inbox: 1 rows"
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
    i=$((i + 1))
  done
  if [[ -z $sealed ]]; then
    i=0
    for p in "${plain[@]}"; do
      grep -qaF -f "$WORK/pieces.$i" "$WORK"/alice/hush.db* ||
        die "alice's own database does not contain '${p:0:40}'"
      i=$((i + 1))
    done
    ok "handles are found in the relay's files; every plaintext is found in alice's own log"
  fi

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
  if [[ -n $sealed ]]; then
    step "sealed with HUSH_CHAT_STORAGE_KEY: the clients' own files hold no plaintext either"
    grep -qaF "chat/log/" "$WORK"/alice/hush.db* || die "alice's database has no log entries to search"
    local own=("$WORK"/alice/hush.db* "$WORK"/bob/hush.db*)
    i=0
    for p in "${plain[@]}"; do
      if grep -qaF -f "$WORK/pieces.$i" "${own[@]}"; then
        die "a client's sealed database contains '${p:0:40}'"
      fi
      i=$((i + 1))
    done
    ok "0 of ${#plain[@]} plaintexts in alice's and bob's ${#own[@]} database files ($(cat "${own[@]}" | wc -c) bytes), though their logs are there"
    start_relay relay2
    chat history alice 0 <<EOF
/history 10
EOF
    expect_line "$WORK/history.out" "  [me -> bob] ${plain[0]}"
    expect_line "$WORK/history.out" "  [bob] ${plain[4]}"
    ok "with the key, alice's /history shows the conversation"
    step "a wrong, a missing or a malformed key is a clear start-up error"
    KEY_alice=$(new_key) chat wrong-key alice 1 </dev/null
    expect_grep "$WORK/wrong-key.out" "HUSH_CHAT_STORAGE_KEY is not the key it was sealed with (wrong_storage_key)"
    KEY_alice="" chat no-key alice 1 </dev/null
    expect_grep "$WORK/no-key.out" "it is sealed: set HUSH_CHAT_STORAGE_KEY to its key (wrong_storage_key)"
    KEY_alice=12ab chat bad-key alice 1 </dev/null
    expect_grep "$WORK/bad-key.out" "HUSH_CHAT_STORAGE_KEY must be 64 hex digits"
    ok "each refused, saying why"
    stop_relay relay2
  fi
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
  wait_for "$WORK/evil.log" ': --impersonate bob: ' 1  # (said after the "listening" line)
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
  local refused="! message to bob not sent: their identity key changed, and the new one is not trusted yet (untrusted_identity); compare safety numbers, then /trust bob"
  expect_line "$WORK/alice2.out" "$refused"
  [[ $(grep -cxF -- "$refused" "$WORK/alice2.out") == 2 ]] ||
    die "both attempts must be refused"
  expect_messages "$WORK/alice2.out" ""
  [[ $(safety "$WORK/alice2.out" bob) == "$good" ]] || die "alice's safety number for bob changed"
  ok "alice is refused with untrusted_identity (twice), warned with both keys, and still trusts bob's real key"
  if grep -q '^conn [0-9]* in SEND ' "$WORK/evil.rec"; then die "an envelope reached the relay"; fi
  expect_grep "$WORK/evil.rec" " out LIST "
  ok "the lying relay handed out its device list for bob but received no envelope"
  chat bob2 bob 0 <<EOF
/sync
EOF
  expect_messages "$WORK/bob2.out" ""
  ok "bob receives nothing"
  stop_relay evil
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  expect_line "$WORK/relay.dump" "table inbox: 0 rows"

  step "the change stays pending across a restart, until alice keeps bob's real key (/keep)"
  start_relay honest2
  chat alice3 alice 2 <<EOF
/msg bob after a restart, through an honest relay
EOF
  expect_line "$WORK/alice3.out" "$refused"
  expect_messages "$WORK/alice3.out" ""
  ok "restarted, alice still refuses to write to bob (the pending change was kept)"
  chat alice4 alice 0 <<EOF
/keep bob
/msg bob the relay is honest again
EOF
  expect_grep "$WORK/alice4.out" "* kept bob's trusted identity key "
  expect_messages "$WORK/alice4.out" "[me -> bob] the relay is honest again"
  chat bob3 bob 0 <<EOF
/wait 1 $WAIT
EOF
  expect_messages "$WORK/bob3.out" "[alice] the relay is honest again"
  chat alice5 alice 2 <<EOF
/keep bob
EOF
  expect_line "$WORK/alice5.out" "! no identity change is pending for bob"
  ok "after /keep bob the real bob gets alice's message; a second /keep has nothing to keep"
  stop_relay honest2
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
  frame "04$(u32 1)$(str bob)$(u32 1)" | poke "a request before HELLO" "request before HELLO"
  frame "0e$(u32 1)$(u32 16)$(printf '%032d' 0)$(u32 3)414243" | poke "a LINK_POST before HELLO" "request before HELLO"
  frame "08$(u32 1)" | poke "a PING before HELLO (not waiting at a mailbox)" "request before HELLO"
  frame "0d$(u32 1)$(u32 15)$(printf '%030d' 0)" | poke "a LINK_WAIT with a short mailbox" "malformed frame"
  frame "01$(u32 1)$(str alice)$(u32 0)$(u32 32)$(printf '%064d' 0)" | poke "a HELLO for device 0" "malformed frame"
  frame "01$(u32 1)$(str alice)$(u32 10001)$(u32 32)$(printf '%064d' 0)" | poke "a HELLO for a device id above the limit" "malformed frame"
  frame "01$(u32 1)$(str alice)$(u32 2)$(u32 32)$(printf '%064d' 0)" | poke "a HELLO for a device alice never added" "no such device"
  frame "01$(u32 1)$(str carol)$(u32 2)$(u32 32)$(printf '%064d' 0)" | poke "a HELLO registering a new handle as device 2" "no such device"
  # One waiter per link mailbox: a second LINK_WAIT at a mailbox someone waits at is refused.
  exec 5<>"/dev/tcp/127.0.0.1/$PORT"
  frame "0d$(u32 1)$(u32 16)$(printf '%032d' 7)" >&5
  wait_for "$WORK/relay.log" ': waiting at a link mailbox' 1
  frame "0d$(u32 1)$(u32 16)$(printf '%032d' 7)" | poke "a second LINK_WAIT at the same mailbox" "mailbox busy"
  expect_grep "$WORK/relay.log" "LINK_WAIT refused: someone waits at that mailbox"
  exec 5<&-
  frame "11$(u32 1)" | poke "a relay-to-client kind from a client" "malformed frame"
  frame "01$(u32 1)$(str 'bad handle!')$(u32 1)$(u32 32)$(printf '%064d' 0)" | poke "an invalid handle" "invalid handle"
  frame "01$(u32 1)$(str alice)$(u32 1)$(u32 32)$(printf '%064d' 0)" | poke "alice's handle with a wrong token" "handle taken"
  frame "01$(u32 1)$(str alice)$(u32 1)$(u32 31)$(printf '%062d' 0)" | poke "a short token" "malformed frame"
  { printf '\x00\x01\x00\x00'; head -c 65536 /dev/urandom; } | poke "a frame of 64 KiB of random bytes" "malformed frame"
  frame "07$(u32 1)$(str alice)$(u32 32)$(printf '%064d' 0)$(u32 0)" | poke "a RECOVER without a code" "malformed frame"
  frame "07$(u32 1)$(str alice)$(u32 32)$(printf '%064d' 0)$(u32 19)$(printf '%038d' 0)" | poke "a RECOVER with a short code" "malformed frame"
  frame "07$(u32 1)$(str alice)$(u32 32)$(printf '%064d' 0)$(u32 20)$(printf '%040d' 0)" | poke "a RECOVER with a wrong code" "wrong recovery code"
  expect_grep "$WORK/relay.log" "RECOVER alice refused: wrong recovery code"
  expect_grep "$WORK/relay.log" "HELLO alice:1 refused: the handle belongs to another client"

  step "blob requests out of order and out of bounds"
  hostile blobber --handle blobber blobs
  expect_line "$WORK/blobber.out" "blobs: empty invalid_blob_size, huge blob_too_large, unfinished blob_incomplete, odd pieces invalid_blob_chunk/invalid_blob_chunk/invalid_blob_chunk/invalid_blob_chunk then OK, read 10+0 bytes, past end invalid_blob_offset, finished blob_complete, bad id unknown_blob, pieces OK/invalid_blob_chunk/OK/OK, middle 131072, delete OK then unknown_blob/unknown_blob"
  ok "refused each with its own reason (pieces of another size change nothing), and kept the connection"

  step "a full blob store: a refused upload changes nothing; every blob counts as a piece"
  OTHER_RELAY_PID=$RELAY_PID
  local main_port=$PORT
  mkdir -p "$WORK/quota"
  "$RELAY" --db "$WORK/quota/relay.db" --port 0 --blob-quota 1048576 >"$WORK/quota.log" 2>&1 &
  RELAY_PID=$!
  local deadline=$((SECONDS + WAIT))
  until [[ $(head -n 1 "$WORK/quota.log" 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]]; do
    ((SECONDS < deadline)) || die "the quota relay did not start"
    sleep 0.05
  done
  PORT=${BASH_REMATCH[1]}
  hostile quota --handle quota blob-full
  expect_line "$WORK/quota.out" "blob-full: over blob_store_full, unfinished upload then OK, 6 one-byte blobs, then blob_store_full"
  stop_relay quota
  RELAY_PID=$OTHER_RELAY_PID PORT=$main_port OTHER_RELAY_PID=""
  ok "refused (blob_store_full), the unfinished upload kept; 1 MiB holds 8 blobs, however small"

  step "another handle's blobs: no piece appended, no delete"
  hostile blobmaker --handle blobmaker blob-make
  read -r _ done_id open_id < <(grep '^blob-make: ' "$WORK/blobmaker.out") || die "blob-make printed no ids"
  hostile blobpoker --handle blobpoker blob-poke "$done_id" "$open_id"
  expect_line "$WORK/blobpoker.out" "blob-poke: unknown_blob/unknown_blob unknown_blob/unknown_blob"
  ok "refused (unknown_blob)"

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

rollback() {
  step "alice and bob talk; a copy of bob's state is taken; they talk on"
  start_relay relay
  register alice alice
  register bob bob
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice hi alice
EOF
  chat alice alice 0 <<EOF
/msg bob hi bob
/wait 1 $WAIT
EOF
  wait_bg bob 0
  mkdir "$WORK/bob-copy"
  local f
  for f in "$WORK"/bob/hush.db*; do
    [[ $f == *-generation* ]] || cp "$f" "$WORK/bob-copy/"
  done
  chat bob2 bob 0 <<EOF
/msg alice after the copy
EOF
  chat alice2 alice 0 <<EOF
/wait 1 $WAIT
EOF
  expect_messages "$WORK/alice2.out" "[bob] after the copy"
  ok "the copy holds bob's database (not its generation counter, which stays where it is)"

  step "bob's database is put back to the copy"
  rm -f "$WORK"/bob/hush.db-wal "$WORK"/bob/hush.db-shm
  cp "$WORK"/bob-copy/* "$WORK/bob/"
  chat bob3 bob 0 <<EOF
/msg alice from the restored copy
EOF
  expect_line "$WORK/bob3.out" "! this state was restored from an older copy: every session was restarted; messages read since that copy are missing from /history, and the next message to each contact starts a new session"
  ok "hush-chat warns at start"
  chat alice3 alice 0 <<EOF
/wait 1 $WAIT
EOF
  expect_messages "$WORK/alice3.out" "[bob] from the restored copy"
  chat bob4 bob 0 <<EOF
/sync
EOF
  expect_no_grep "$WORK/bob4.out" "restored from an older copy"
  ok "bob's next message (a new session) reaches alice; the next start has no warning"
  stop_relay relay
}

hostile_scenario() {
  start_relay relay
  register alice alice
  register bob bob
  register carol carol
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice hi alice
EOF
  chat alice alice 0 <<EOF
/msg bob hi bob
/wait 1 $WAIT
EOF
  wait_bg bob 0
  ok "bob knows alice's identity"

  step "mallory's account sends envelopes that name alice (and dave) as their sender"
  hostile mallory --handle mallory send alice bob 3
  expect_line "$WORK/mallory.out" "send: 3 sent, 0 refused (-)"
  hostile mallory2 --handle mallory2 send dave bob 1
  expect_line "$WORK/mallory2.out" "send: 1 sent, 0 refused (-)"
  chat bob2 bob 0 <<EOF
/sync
EOF
  [[ $(grep -c "^! dropped a message from mallory: it names alice as its sender (sender_mismatch)$" "$WORK/bob2.out") == 3 ]] ||
    { show "$WORK/bob2.out"; die "bob must drop the three envelopes naming alice (sender_mismatch)"; }
  expect_line "$WORK/bob2.out" "! dropped a message from mallory2: it names dave as its sender (sender_mismatch)"
  expect_no_grep "$WORK/bob2.out" "!!"
  expect_messages "$WORK/bob2.out" ""
  ok "refused (sender_mismatch) and shown as nobody's message; no identity change for alice"
  stop_relay relay
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  expect_line "$WORK/relay.dump" "table inbox: 0 rows"
  ok "and acknowledged: nothing left at the relay"

  step "20 forged envelopes from alice's account (a stolen token), then a message from carol"
  start_relay relay2
  hostile forger --as "$WORK/alice" send alice bob 20 forge
  expect_line "$WORK/forger.out" "send: 20 sent, 0 refused (-)"
  chat carol carol 0 <<EOF
/msg bob hello bob, carol here
EOF
  chat bob3 bob 0 <<EOF
/wait 1 $WAIT
/sync
EOF
  [[ $(grep -c "^! dropped a message from alice: the message is damaged or forged, or cannot be read with the keys we have (invalid_message)$" "$WORK/bob3.out") == 20 ]] ||
    { show "$WORK/bob3.out"; die "bob must drop the 20 forged envelopes as invalid_message"; }
  expect_no_grep "$WORK/bob3.out" "!!"
  expect_messages "$WORK/bob3.out" "[carol] hello bob, carol here"
  ok "all 20 dropped as invalid_message, none held, no identity change; carol's message arrives"
  chat alice2 alice 0 <<EOF
/sync
/msg bob still me
EOF
  chat bob4 bob 0 <<EOF
/wait 1 $WAIT
EOF
  expect_messages "$WORK/bob4.out" "[alice] still me"
  ok "alice and bob still talk"
  stop_relay relay2
}

limits() {
  start_relay relay --idle-timeout 2 --fetch-burst 5 --fetch-interval 3600 --queue-limit 20
  register bob bob
  register carol carol

  step "one sender floods bob's mailbox (20 envelopes, the relay's --queue-limit)"
  hostile flood --handle mallory send mallory bob 20
  expect_line "$WORK/flood.out" "send: 5 sent, 15 refused (sender_share_full)"
  ok "the relay took 5 (a quarter of 20) and refused the rest"
  chat carol carol 0 <<EOF
/msg bob carol gets through
EOF
  expect_messages "$WORK/carol.out" "[me -> bob] carol gets through"
  chat bob bob 0 <<EOF
/wait 6 $WAIT
EOF
  expect_line "$WORK/bob.out" "[carol] carol gets through"
  ok "carol's message still reaches bob, after mallory's 5"

  step "a fetch flood: drainer asks for bob's bundle 8 times"
  hostile fetcher --handle drainer fetch bob 8
  expect_line "$WORK/fetcher.out" "fetch: 5 bundles, 3 refused (rate_limited)"
  expect_grep "$WORK/relay.log" "(drainer:1): FETCH bob:1 refused: too many bundle requests"
  ok "refused after the burst of 5"
  chat carol2 carol 0 <<EOF
/reset bob
/msg bob two
/reset bob
/msg bob three
/reset bob
/msg bob four
/reset bob
/msg bob five
/reset bob
/msg bob six
EOF
  [[ $(grep -c '^\[me -> bob\]' "$WORK/carol2.out") == 4 ]] || { show "$WORK/carol2.out"; die "carol's fetches 2 to 5 must succeed"; }
  expect_line "$WORK/carol2.out" "* queued: [me -> bob] six (the relay refused: too many bundle requests); it will be sent later"
  ok "per requester: carol's own burst was untouched by drainer's; her sixth fetch is refused, she is told why, and the message is kept for later"
  chat bob-drain bob 0 <<EOF
/sync
EOF

  step "an idle connection is closed; an idle hush-chat is kept alive"
  hostile idler --handle idler idle 20
  [[ $(cat "$WORK/idler.out") =~ ^idle:\ closed\ after\ ([0-9]+)\.[0-9]\ s$ ]] &&
    ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] < 10)) || { show "$WORK/idler.out"; die "the idle connection was not closed after about 2 s"; }
  expect_grep "$WORK/relay.log" "(idler:1) closed: idle for 2 s"
  ok "a connection that said nothing for 2 s (--idle-timeout 2) was closed"
  local pings
  pings=$(grep -c ' in PING ' "$WORK/relay.rec" || true)
  chat_bg bob2 bob <<EOF
/wait 1 $WAIT
EOF
  wait_for "$WORK/relay.rec" ' in PING ' $((pings + 5))
  chat dave dave 0 --handle dave <<EOF
/msg bob after a long silence
EOF
  wait_bg bob2 0
  expect_messages "$WORK/bob2.out" "[dave] after a long silence"
  expect_no_grep "$WORK/relay.log" "(bob:1) closed: idle"
  ok "bob said nothing for more than 2 s but pinged, and stayed connected"

  step "a repeated publish of the same one-time prekeys"
  hostile publisher --handle publisher publish
  expect_line "$WORK/publisher.out" "publish: counts 5 5 4 4, other identity: identity_locked, other identity's list: identity_locked, list: OK, same version again: stale_device_list"
  ok "5 held, 5 after the repeat (replaced, not doubled), 4 after a fetch, still 4 after another repeat"
  ok "(the handed-out prekey is not put back), and another identity is refused, for keys and device lists;"
  ok "a device list is kept, and the same version again refused"

  step "link mailboxes are bounded: one account posts link messages to fresh mailboxes"
  hostile linker --handle linker link-flood
  expect_line "$WORK/linker.out" "link-flood: 4 posted, then too_many_links"
  hostile linker2 --handle linker2 link-flood
  expect_line "$WORK/linker2.out" "link-flood: 4 posted, then too_many_links"
  ok "4 waiting link messages per handle, then too_many_links (and the next handle has its own 4)"
  stop_relay relay
}

recovery() {
  # (Without receipts: the counts of queued envelopes below are those of the messages.)
  CHAT_ARGS=(--receipts none)
  start_relay relay
  register alice alice
  register bob bob
  register carol carol
  local code
  code=$(recovery_code "$WORK/register-alice.out" alice)
  [[ $code =~ ^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$ ]] || { show "$WORK/register-alice.out"; die "no recovery code shown at registration"; }
  ok "alice's recovery code, shown once at registration: $code"
  chat_bg bob bob <<EOF
/wait 1 $WAIT
/msg alice hi alice
EOF
  chat alice alice 0 <<EOF
/msg bob hi bob
/wait 1 $WAIT
EOF
  wait_bg bob 0
  ok "alice and bob talk: bob knows alice's identity"

  step "alice loses her state; a new state cannot just take the handle"
  chat alice-new alice-new 1 --handle alice </dev/null
  expect_line "$WORK/alice-new.out" "! the relay refused alice: handle_taken"
  expect_grep "$WORK/alice-new.out" "start a new state with --handle alice --recover CODE"
  chat alice-guess alice-new 1 --handle alice --recover "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH" </dev/null
  expect_line "$WORK/alice-guess.out" "! the relay refused alice: wrong_recovery_code"
  ok "refused without the code, and with a wrong one"

  step "alice recovers her handle with the code"
  chat alice-rec alice-new 0 --handle alice --recover "$code" </dev/null
  expect_line "$WORK/alice-rec.out" "* recovered alice at 127.0.0.1:$PORT"
  local code2
  code2=$(recovery_code "$WORK/alice-rec.out" alice)
  [[ -n $code2 && $code2 != "$code" ]] || { show "$WORK/alice-rec.out"; die "no new recovery code"; }
  expect_grep "$WORK/relay.log" "recovered alice: new token and recovery code"
  ok "recovered; a new code: $code2"
  chat alice-old alice 1 </dev/null
  expect_line "$WORK/alice-old.out" "! the relay refused alice: handle_taken"
  chat alice-twice alice-x 1 --handle alice --recover "$code" </dev/null
  expect_line "$WORK/alice-twice.out" "! the relay refused alice: wrong_recovery_code"
  ok "the old device's token and the old code no longer work"
  chat alice-again alice-new 1 --handle alice --recover "$code2" </dev/null
  expect_grep "$WORK/alice-again.out" "--recover is for a new state"
  ok "--recover on a working state is refused"

  step "the relay keeps only a hash of the codes"
  stop_relay relay
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  local c h raw_hex
  raw_hex=$(cat "$WORK"/relay.db* | od -An -v -tx1 | tr -d ' \n')
  for c in "$code" "$code2"; do
    h=$(code_hex "$c")
    ((${#h} == 40)) || die "cannot decode the code '$c'"
    if grep -qaF -e "$c" -e "${c//-/}" "$WORK"/relay.db* "$WORK/relay.dump" "$WORK/relay.rec" "$WORK/relay.log"; then
      die "the relay's files contain the code $c"
    fi
    # (The raw files are searched in hex too: a code's bytes may hold a zero, which no shell
    # string can.)
    if grep -qF "$h" "$WORK/relay.dump" "$WORK/relay.rec" || [[ $raw_hex == *"$h"* ]]; then
      die "the relay's files contain the bytes of the code $c"
    fi
  done
  ok "neither code (as text, or its 20 bytes, raw or in hex) is in the relay's database, dump, log or record"
  start_relay relay2

  step "the new alice writes 53 messages to bob (offline), then carol writes one"
  local i script=""
  for ((i = 1; i <= 53; i++)); do script+="/msg bob from the new alice $i"$'\n'; done
  chat alice-new2 alice-new 0 <<<"$script"
  chat carol carol 0 <<EOF
/msg bob hello bob, carol here
EOF
  chat bob2 bob 0 <<EOF
/wait 1 $WAIT
/sync
EOF
  expect_line "$WORK/bob2.out" "!! WARNING: alice's identity key has CHANGED"
  expect_line "$WORK/bob2.out" "!! A message from alice came with the new key; it is held, unread."
  expect_messages "$WORK/bob2.out" "[carol] hello bob, carol here"
  [[ $(grep -c "^! too many messages held from alice: dropped the oldest" "$WORK/bob2.out") == 3 ]] ||
    { show "$WORK/bob2.out"; die "bob must drop the 3 oldest of 53 held messages (50 per person)"; }
  ok "an identity change at bob, nothing from the new alice shown; 50 held (3 oldest dropped, with a notice)"
  ok "and carol's message, behind all 53, arrives"
  stop_relay relay2
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  expect_line "$WORK/relay.dump" "table inbox: 0 rows"
  ok "the held messages were acknowledged: the relay holds nothing for bob"
  start_relay relay3

  step "bob restarts: still held; /trust alice reads them in order"
  chat bob3 bob 0 <<EOF
/trust alice
/verify alice
/msg alice welcome back
EOF
  expect_line "$WORK/bob3.out" "!! WARNING: alice's identity key has CHANGED"
  expect_line "$WORK/bob3.out" "* 50 message(s) from alice are held, unread, until you /trust alice"
  local want=""
  for ((i = 4; i <= 53; i++)); do want+="[alice] from the new alice $i"$'\n'; done
  want+="[me -> alice] welcome back"
  expect_messages "$WORK/bob3.out" "$want"
  ok "held across the restart; after /trust alice all 50 are read, in order"
  chat alice-new3 alice-new 0 <<EOF
/wait 1 $WAIT
/verify bob
EOF
  expect_messages "$WORK/alice-new3.out" "[bob] welcome back"
  local a b
  a=$(safety "$WORK/alice-new3.out" bob)
  b=$(safety "$WORK/bob3.out" alice)
  expect_safety_format "$a"
  [[ $a == "$b" ]] || die "safety numbers differ after the recovery: '$a' and '$b'"
  ok "bob's answer reaches the new alice; their safety numbers agree: $a"
  stop_relay relay3
}


# link_code FILE: the link code a hush-chat --link printed.
link_code() { sed -n 's/^\* link code: \(HUSHLINK1-[A-Z2-7-]*\)$/\1/p' "$1" | tail -n 1; }

# link NEW_NAME NEW_STATE EXISTING_STATE <<< SCRIPT: starts hush-chat --link for NEW_STATE in the
# background (then running SCRIPT), waits for its code, types /link CODE on EXISTING_STATE (output
# in link-NEW_NAME.out), and waits until the new device says it is linked; sets BG_PID and CODE.
link() {
  local name=$1 state=$2 existing=$3
  chat_bg "$name" "$state" --link
  wait_for "$WORK/$name.out" '^\* link code: HUSHLINK1-' 1
  CODE=$(link_code "$WORK/$name.out")
  [[ -n $CODE ]] || { show "$WORK/$name.out"; die "no link code in $name.out"; }
  chat "link-$name" "$existing" 0 <<<"/link $CODE"
  wait_for "$WORK/$name.out" '^\* linked: this is device ' 1
}

devices() {
  start_relay relay
  register alice alice
  register bob bob
  chat alice0 alice 0 <<<"/msg bob hi bob"
  chat bob0 bob 0 <<<"/wait 1 $WAIT"
  ok "alice and bob talk (one device each)"

  step "alice links a second device: hush-chat --link shows a code (and a QR code), /link CODE on her first"
  link phone alice-phone alice <<END
/devices
/wait 1 $WAIT
/msg bob hi bob, from alice's phone
/devices bob
END
  local phone_pid=$BG_PID
  [[ $CODE =~ ^HUSHLINK1(-[A-Z2-7]{1,8})+$ ]] || die "not a link code: $CODE"
  grep -q $'\xe2\x96\x88' "$WORK/phone.out" || { show "$WORK/phone.out"; die "no QR code (half blocks) above the code"; }
  expect_line "$WORK/link-phone.out" "* linked device 2 of alice: it shows our conversations from now on (/devices lists them, /unlink 2 removes it)"
  expect_line "$WORK/phone.out" "* linked: this is device 2 of alice (1 trusted contact came with the link)"
  wait_for "$WORK/relay.log" '(alice:2): published keys' 1
  wait_for "$WORK/phone.out" "^\* alice's devices: 1, 2 (this device) (signed list version 2)$" 1
  ok "linked as device 2 (with alice's contact bob); it published its keys; alice's list is at version 2"

  step "bob writes to alice: both of her devices show it"
  chat bob1 bob 0 <<<"/msg alice hello alice, all of you"
  expect_messages "$WORK/bob1.out" "[me -> alice] hello alice, all of you"
  BG_PID=$phone_pid
  wait_bg phone 0
  expect_messages "$WORK/phone.out" "[bob] hello alice, all of you
[me -> bob] hi bob, from alice's phone"
  expect_line "$WORK/phone.out" "* bob's devices: 1 (signed list version 1)"
  chat alice1 alice 0 <<END
/wait 2 $WAIT
/devices
END
  expect_messages "$WORK/alice1.out" "[bob] hello alice, all of you
[me:2 -> bob] hi bob, from alice's phone"
  expect_line "$WORK/alice1.out" "* alice's devices: 1 (this device), 2 (signed list version 2)"
  ok "the phone shows bob's message; alice's first device shows it too, and the copy of what the phone sent"

  step "bob sees which device wrote; his answer reaches both of alice's devices"
  chat bob2 bob 0 <<END
/wait 1 $WAIT
/devices alice
/msg alice got it, both of you
END
  expect_messages "$WORK/bob2.out" "[alice:2] hi bob, from alice's phone
[me -> alice] got it, both of you"
  expect_line "$WORK/bob2.out" "* alice's devices: 1, 2 (signed list version 2)"
  chat phone2 alice-phone 0 <<<"/wait 1 $WAIT"
  chat alice2 alice 0 <<<"/wait 1 $WAIT"
  expect_messages "$WORK/phone2.out" "[bob] got it, both of you"
  expect_messages "$WORK/alice2.out" "[bob] got it, both of you"
  ok "[alice:2] at bob; his answer on both devices"

  step "alice unlinks her phone: off her list, refused by the relay, and sent nothing more"
  chat alice3 alice 0 <<END
/unlink 2
/devices
END
  expect_line "$WORK/alice3.out" "* unlinked device 2 of alice: off our device list, and the relay no longer accepts it"
  expect_line "$WORK/alice3.out" "* alice's devices: 1 (this device) (signed list version 3)"
  expect_grep "$WORK/relay.log" "(alice:1): removed device alice:2: token revoked, keys and queue dropped"
  chat phone3 alice-phone 1 </dev/null
  expect_line "$WORK/phone3.out" "! the relay refused alice: unknown_device"
  expect_grep "$WORK/phone3.out" "the relay no longer knows this device (alice:2)"
  local before
  before=$(grep -c ' for alice:2 ' "$WORK/relay.log" || true)
  chat bob3 bob 0 <<END
/devices alice
/msg alice only your first device now
END
  expect_line "$WORK/bob3.out" "* alice's devices: 1 (signed list version 3)"
  expect_messages "$WORK/bob3.out" "[me -> alice] only your first device now"
  chat alice4 alice 0 <<<"/wait 1 $WAIT"
  expect_messages "$WORK/alice4.out" "[bob] only your first device now"
  (($(grep -c ' for alice:2 ' "$WORK/relay.log" || true) == before)) || die "something was still sent to alice:2"
  if "$HOSTILE" --relay "127.0.0.1:$PORT" --as "$WORK/alice-phone" fetch bob 1 >"$WORK/thief.out" 2>&1; then
    show "$WORK/thief.out"
    die "the unlinked device's token still works"
  fi
  expect_grep "$WORK/thief.out" "refused: unknown_device"
  stop_relay relay
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  expect_no_grep "$WORK/relay.dump" "handle=alice device=2 "
  ok "the unlinked device is refused (its token revoked), bob's messages go to device 1 only"
}

# healing: bob reinstalls (--recover); alice's messages from while he was away reach his new
# device once, after alice trusts his new identity (hush's retry requests and resends).
healing() {
  # (Without receipts: the counts of queued envelopes below are those of the messages.)
  CHAT_ARGS=(--receipts none)
  start_relay relay
  register alice alice
  register bob bob
  local code
  code=$(recovery_code "$WORK/register-bob.out" bob)
  chat_bg bob bob <<END
/wait 1 $WAIT
/msg alice hi alice
END
  chat alice alice 0 <<END
/msg bob hi bob
/wait 1 $WAIT
END
  wait_bg bob 0
  ok "alice and bob talk"

  step "bob loses his phone; alice writes twice while he is away"
  chat alice2 alice 0 <<END
/msg bob while you were away (1)
/msg bob while you were away (2)
END
  expect_messages "$WORK/alice2.out" "[me -> bob] while you were away (1)
[me -> bob] while you were away (2)"

  step "bob reinstalls: a new state with --recover; the relay kept his queue"
  chat bob-new bob-new 0 --handle bob --recover "$code" <<<"/sync"
  expect_line "$WORK/bob-new.out" "* recovered bob at 127.0.0.1:$PORT"
  expect_grep "$WORK/relay.log" "recovered bob: new token and recovery code; its keys and prekeys dropped, 0 other devices removed, 2 queued envelopes kept"
  expect_messages "$WORK/bob-new.out" ""
  [[ $(grep -c '^! dropped a message from alice: ' "$WORK/bob-new.out") == 2 ]] ||
    { show "$WORK/bob-new.out"; die "bob's new device must fail to read the two old envelopes"; }
  ok "the new device cannot read the two (made for the lost keys), and asks alice to send them again"

  step "alice's hush-chat gets the request from bob's new identity: held until /trust bob"
  chat alice3 alice 0 <<END
/sync
/trust bob
/sync
END
  expect_line "$WORK/alice3.out" "!! WARNING: bob's identity key has CHANGED"
  expect_grep "$WORK/alice3.out" "* bob's new identity key "
  expect_messages "$WORK/alice3.out" ""
  local resends
  resends=$(grep -c '(alice:1): envelope #[0-9]* for bob:1 ' "$WORK/relay.log" || true)
  ((resends == 5)) || { show "$WORK/relay.log"; die "expected alice's 3 messages, then 2 resends, for bob:1; the relay queued $resends"; }
  ok "after /trust bob, alice's device sent both again without being asked to (no user action)"

  step "bob's new device shows them, exactly once"
  chat bob-new2 bob-new 0 <<END
/wait 2 $WAIT
/sync
END
  expect_messages "$WORK/bob-new2.out" "[alice] while you were away (1)
[alice] while you were away (2)"
  chat bob-new3 bob-new 0 <<<"/sync"
  chat alice4 alice 0 <<<"/sync"
  expect_messages "$WORK/bob-new3.out" ""
  expect_messages "$WORK/alice4.out" ""
  resends=$(grep -c '(alice:1): envelope #[0-9]* for bob:1 ' "$WORK/relay.log" || true)
  ((resends == 5)) || die "more was sent again ($resends): healing must not loop"
  chat bob-new4 bob-new 0 <<<"/msg alice back, with a new phone"
  chat alice5 alice 0 <<<"/wait 1 $WAIT"
  expect_messages "$WORK/alice5.out" "[bob] back, with a new phone"
  ok "both shown once, nothing sent again after that, and they talk on"
  stop_relay relay
}

# offline: text typed while the relay is stopped is kept, and sent (once) when it is back.
offline() {
  start_relay relay
  register alice alice
  register bob bob
  chat alice0 alice 0 <<<"/msg bob hi bob"
  chat bob0 bob 0 <<<"/wait 1 $WAIT"
  ok "alice and bob have talked"

  step "alice's hush-chat runs (commands from a pipe); the relay stops"
  mkfifo "$WORK/alice.in"
  "$CHAT" --state "$WORK/alice" --relay "127.0.0.1:$PORT" --timeout "$WAIT" \
    <"$WORK/alice.in" >"$WORK/alice.out" 2>&1 &
  local alice_pid=$!
  exec 4>"$WORK/alice.in"
  wait_for "$WORK/alice.out" '^\* connected to ' 1
  stop_relay relay
  wait_for "$WORK/alice.out" '^! lost the connection to the relay' 1
  printf '/msg bob typed while the relay was down\n' >&4
  wait_for "$WORK/alice.out" '^\* queued: ' 1
  expect_line "$WORK/alice.out" "* queued: [me -> bob] typed while the relay was down (the relay is unreachable); it will be sent when the relay is back"
  ok "the message is kept, and alice is told"

  step "the relay comes back (same port): alice's hush-chat reconnects and sends it"
  start_relay relay2 --port "$PORT"
  wait_for "$WORK/alice.out" '^\* sent 1 queued deliveries$' 1
  printf '/quit\n' >&4
  exec 4>&-
  local rc=0
  wait "$alice_pid" || rc=$?
  ((rc == 0)) || { show "$WORK/alice.out"; die "hush-chat alice exited $rc"; }
  chat bob1 bob 0 <<END
/wait 1 $WAIT
/sync
END
  expect_messages "$WORK/bob1.out" "[alice] typed while the relay was down"
  chat bob2 bob 0 <<<"/sync"
  expect_messages "$WORK/bob2.out" ""
  [[ $(grep -c ' for bob:1 ' "$WORK/relay2.log") == 1 ]] || { show "$WORK/relay2.log"; die "the message must be sent once"; }
  ok "sent once on reconnect, and bob reads it once"
  stop_relay relay2
}

# link-relay: what the relay saw of a link carries no secret of it: neither the code's secret,
# nor the new device's token (inside the link message), nor the identity private key.
link_relay() {
  [[ -x $HOSTILE ]] || die "this scenario needs the hostile client (third argument)"
  start_relay relay
  register alice alice
  register bob bob
  chat alice0 alice 0 <<<"/msg bob hi"
  KEY_alice_phone=$(new_key)
  link phone alice-phone alice <<<"/sync"
  wait_bg phone 0
  stop_relay relay
  HUSH_CHAT_STORAGE_KEY=$KEY_alice_phone "$HOSTILE" --as "$WORK/alice-phone" secrets >"$WORK/secrets.out" ||
    { show "$WORK/secrets.out"; die "cannot read the phone's secrets"; }
  local token identity raw secret mailbox
  token=$(sed -n 's/^token \([0-9a-f]*\)$/\1/p' "$WORK/secrets.out")
  identity=$(sed -n 's/^identity-private \([0-9a-f]*\)$/\1/p' "$WORK/secrets.out")
  ((${#token} == 64 && ${#identity} == 64)) || { show "$WORK/secrets.out"; die "no token and identity key"; }
  raw=$(code_hex "${CODE#HUSHLINK1-}")
  ((${#raw} == 128)) || die "the code does not decode to 64 bytes: $CODE"
  secret=${raw:64:32}
  mailbox=${raw:96:32}
  local post delivered
  post=$(grep -m1 '^conn [0-9]* in LINK_POST ' "$WORK/relay.rec" | awk '{ print $6 }')
  delivered=$(grep -m1 '^conn [0-9]* out LINK_MESSAGE ' "$WORK/relay.rec" | awk '{ print $6 }')
  [[ -n $post && -n $delivered ]] || die "no LINK_POST and LINK_MESSAGE frames in the record"
  [[ $post == *"$mailbox"* ]] || die "the search does not find the mailbox in the LINK_POST frame"
  grep -q "^conn [0-9]* in LINK_WAIT .*$mailbox" "$WORK/relay.rec" || die "no LINK_WAIT for the mailbox"
  grep -q "^conn [0-9]* in ADD_DEVICE .*$token" "$WORK/relay.rec" ||
    die "the search does not find the token where the relay must see it (ADD_DEVICE)"
  ok "the record holds the link (LINK_WAIT, LINK_POST, LINK_MESSAGE: $((${#post} / 2)) bytes), its mailbox,"
  ok "and the new device's token where the relay must see it (ADD_DEVICE)"
  local f
  for f in "$post" "$delivered"; do
    [[ $f != *"$token"* ]] || die "a link frame holds the new device's token in clear"
    [[ $f != *"$identity"* && $f != *"$secret"* ]] ||
      die "a link frame holds the identity private key or the code's secret in clear"
  done
  if grep -qF -e "$secret" -e "$identity" "$WORK/relay.rec" "$WORK/relay.log"; then
    die "the relay's record or log holds the code's secret or the identity private key"
  fi
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  local raw_db
  raw_db=$(cat "$WORK"/relay.db* | od -An -v -tx1 | tr -d ' \n')
  for f in "$secret" "$identity" "$mailbox" "${post:0:64}"; do
    if grep -qF "$f" "$WORK/relay.dump" || [[ $raw_db == *"$f"* ]]; then
      die "the relay's database holds a part of the link (it must forget it)"
    fi
  done
  ok "neither the code's secret, nor the token inside the link message, nor alice's identity private key"
  ok "crossed the relay in clear; its database kept none of them, nor the mailbox or the message"
}

# edges: the rough edges a new user met (issue 14). One of them only a terminal shows, so it was
# checked by hand under a pseudo-terminal (`script -qfec 'hush-chat ...'`) rather than here: the
# prompt is `> ` at first, stays `> ` after a failed `/msg nobody`, and is `to bob> ` after
# `/msg BOB hello` (hush-chat prints no prompt when standard input is not a terminal).
edges() {
  step "a relay; alice registers, and Bob registers as bob"
  start_relay relay
  register alice alice
  chat register-Bob bob 0 --handle Bob </dev/null
  expect_line "$WORK/register-Bob.out" "* registered bob at 127.0.0.1:$PORT"
  chat register-BOB bob-again 1 --handle BOB </dev/null
  expect_grep "$WORK/register-BOB.out" "! the relay refused bob: "
  ok "handles are compared without regard to case: Bob is bob, and BOB cannot take it again"

  step "typed lines are sent as typed; a line over the limit is refused whole"
  local long
  long=$(head -c 81921 /dev/zero | tr '\0' x)
  {
    printf '/msg nobody hello?\n'
    printf 'where does this go?\n'
    printf '/msg BOB hi Bob\n'
    printf '# not a comment when typed\n'
    printf '   three leading spaces\n'
    printf '//slash at the start\n'
    printf '%s\n' "$long"
    printf 'after the long line\n'
  } >"$WORK/typed.txt"
  local rc=0
  "$CHAT" --state "$WORK/alice" --relay "127.0.0.1:$PORT" --timeout "$WAIT" \
    <"$WORK/typed.txt" >"$WORK/typed.out" 2>&1 || rc=$?
  ((rc == 2)) || { show "$WORK/typed.out"; die "hush-chat exited $rc, expected 2 (failed commands)"; }
  expect_line "$WORK/typed.out" "! message to nobody not sent: nobody is not registered at the relay (no_session)"
  expect_line "$WORK/typed.out" "! to send, type /msg NAME TEXT (/help for the commands)"
  ok "a failed /msg nobody leaves no current recipient: the next plain line is not sent"
  expect_line "$WORK/typed.out" "! input line longer than 81920 bytes: refused whole, nothing of it sent"
  expect_messages "$WORK/typed.out" "[me -> bob] hi Bob
[me -> bob] # not a comment when typed
[me -> bob]    three leading spaces
[me -> bob] /slash at the start
[me -> bob] after the long line"
  chat bob bob 0 <<EOF
/wait 5 $WAIT
/sync
EOF
  expect_messages "$WORK/bob.out" "[alice] hi Bob
[alice] # not a comment when typed
[alice]    three leading spaces
[alice] /slash at the start
[alice] after the long line"
  expect_no_grep "$WORK/bob.out" "xxxxxxxx"
  expect_no_grep "$WORK/bob.out" "where does this go"
  ok "bob got the five, as typed, and nothing of the long line"

  step "in a --script file, # starts a comment, and a long line is refused too"
  { printf '# a comment\n/msg bob from the script\n'; printf '%s\n' "$long"; } >"$WORK/long.script"
  rc=0
  "$CHAT" --state "$WORK/alice" --relay "127.0.0.1:$PORT" --script "$WORK/long.script" \
    --timeout "$WAIT" >"$WORK/script.out" 2>&1 || rc=$?
  ((rc == 2)) || { show "$WORK/script.out"; die "hush-chat exited $rc, expected 2"; }
  expect_line "$WORK/script.out" "! input line longer than 81920 bytes: refused whole, nothing of it sent"
  expect_messages "$WORK/script.out" "[me -> bob] from the script"
  ok "the comment is not sent, the long line is refused"

  step "--relay HOST without a port is explained"
  rc=0
  "$CHAT" --state "$WORK/alice" --relay 127.0.0.1 </dev/null >"$WORK/noport.out" 2>&1 || rc=$?
  ((rc == 1)) || { show "$WORK/noport.out"; die "hush-chat exited $rc, expected 1"; }
  expect_grep "$WORK/noport.out" "--relay 127.0.0.1: the port is missing; give HOST:PORT, e.g. 127.0.0.1:"
  ok "said: $(cat "$WORK/noport.out")"
  stop_relay relay
}

# groups: alice makes #family with bob and carol; all three talk; alice sends a file (bob and carol
# save the same bytes); receipts and stamps; alice removes carol, and her next message reaches bob
# but nothing of it reaches carol; the relay holds the file only as ciphertext; rough edges.
groups() {
  start_relay relay
  register alice alice
  register bob bob
  register carol carol
  head -c 300000 /dev/urandom >"$WORK/photo.bin"
  local G1="group-1: dinner on sunday" G2="group-2: bob brings pie" G3="group-3: carol brings wine"
  local G4="group-4: secret, after carol's removal"
  local stamp_re='  \((✓ |✓✓ |✓✓ read )?[0-9]{2}:[0-9]{2}\)$'

  step "alice makes #family with bob and carol; all three talk; alice sends a file"
  chat_bg bob bob <<EOF
/wait 2 $WAIT
/g family $G2
/wait 4 $WAIT
/groups
EOF
  local bob_pid=$BG_PID
  chat_bg carol carol <<EOF
/wait 3 $WAIT
/g family $G3
EOF
  local carol_pid=$BG_PID
  chat alice alice 0 <<EOF
/group new family bob carol
/g family $G1
/send #family $WORK/photo.bin
/wait 2 $WAIT
/group remove family carol
/g family $G4
/sync
/history #family
EOF
  BG_PID=$bob_pid
  wait_bg bob 0
  BG_PID=$carol_pid
  wait_bg carol 0
  expect_line "$WORK/alice.out" "* [#family] made the group, with bob, carol (/g family TEXT writes to it)"
  expect_line "$WORK/bob.out" "* [#family] alice made the group, with bob, carol (/g family TEXT writes to it)"
  expect_line "$WORK/bob.out" "[#family] alice: $G1"
  expect_line "$WORK/bob.out" "[#family] carol: $G3"
  expect_line "$WORK/carol.out" "[#family] bob: $G2"
  expect_line "$WORK/alice.out" "[#family] bob: $G2"
  expect_line "$WORK/alice.out" "[#family] carol: $G3"
  grep -qE '^\* #family \(#\?[0-9a-f]{8}\): alice\*, bob$' "$WORK/bob.out" || { show "$WORK/bob.out"; die "bob's /groups does not show #family with its id"; }
  ok "group messages show their group and sender; the group's making and members (and id) in words"
  grep -qE "^\[me -> #family\] $G1$stamp_re" "$WORK/alice.out" || { show "$WORK/alice.out"; die "alice's message has no ✓ and time"; }
  grep -qE "^\[#family\] alice: $G1  \([0-9]{2}:[0-9]{2}\)$" "$WORK/bob.out" || { show "$WORK/bob.out"; die "bob's line has no send time"; }
  grep -qE "^✓✓ delivered: \"$G1\" to bob in #family \((delivered to|read by) [12] of 2\)$" "$WORK/alice.out" || { show "$WORK/alice.out"; die "no delivery receipt from bob"; }
  grep -qE "^✓✓ read: \"$G1\" by bob in #family \(read by [12] of 2\)$" "$WORK/alice.out" || { show "$WORK/alice.out"; die "no read receipt from bob"; }
  grep -qE "^✓✓ delivered: \"$G1\" to carol in #family \((delivered to|read by) [12] of 2\)$" "$WORK/alice.out" || { show "$WORK/alice.out"; die "alice's receipt line does not count the recipients"; }
  grep -qE "^✓✓ read: \"$G1\" by (bob|carol) in #family \(read by 2 of 2\)$" "$WORK/alice.out" || { show "$WORK/alice.out"; die "no receipt line says 'read by 2 of 2'"; }
  # The mark is the lowest of the recipients': read once both read.
  grep -qE "^  \[me -> #family\] $G1  \(✓✓ read [0-9]{2}:[0-9]{2}\), read by 2 of 2$" "$WORK/alice.out" || { show "$WORK/alice.out"; die "alice's /history does not show the read mark"; }
  ok "marks and send times on every message; receipts raise them, counted per recipient (also in /history)"
  local want
  want=$(sha256sum <"$WORK/photo.bin")
  for who in bob carol; do
    expect_grep "$WORK/$who.out" "* file from alice: \"photo.bin\" (300000 bytes) saved as $WORK/$who/files/photo.bin"
    [[ $(sha256sum <"$WORK/$who/files/photo.bin") == "$want" ]] || die "$who saved other bytes than alice sent"
  done
  ok "bob and carol saved the file, byte for byte (${want:0:16}...)"

  step "after her removal carol gets nothing more"
  expect_line "$WORK/alice.out" "* [#family] removed carol: they get nothing sent to #family from now on"
  expect_line "$WORK/bob.out" "* [#family] alice removed carol"
  expect_line "$WORK/bob.out" "[#family] alice: $G4"
  chat carol2 carol 2 <<EOF
/sync
/g family are you there?
/history #family
EOF
  expect_line "$WORK/carol2.out" "* [#family] alice removed you: you get nothing more sent to #family"
  expect_line "$WORK/carol2.out" "! we are no longer in #family (left, or removed)"
  expect_line "$WORK/carol2.out" "  [#family] alice: $G1"
  expect_no_grep "$WORK/carol.out" "$G4"
  expect_no_grep "$WORK/carol2.out" "$G4"
  ok "carol was told, cannot write to #family, and has nothing of alice's later message"

  step "rough edges: clear errors"
  truncate -s 3G "$WORK/big.bin"
  chat edges alice 2 <<EOF
/g nosuch hello
/group add nosuch bob
/group add family nobody
/send bob $WORK/missing.bin
/send bob $WORK/big.bin
/send nobody $WORK/photo.bin
/group new family bob
EOF
  expect_line "$WORK/edges.out" "! no group #nosuch (/groups lists ours)"
  expect_line "$WORK/edges.out" "! cannot add nobody to #family: nobody is not registered at the relay (no_session)"
  expect_line "$WORK/edges.out" "! file not sent: '$WORK/missing.bin': No such file or directory"
  expect_line "$WORK/edges.out" "! file not sent: '$WORK/big.bin' is 3221225472 bytes; at most 2147483648 (2 GiB) go (attachment_too_large)"
  expect_line "$WORK/edges.out" "! file not sent: nobody is not registered at the relay (no_session)"
  expect_line "$WORK/edges.out" "! we made a group called #family already"
  chat bob-admin bob 2 <<<"/group remove family alice"
  expect_line "$WORK/bob-admin.out" "! cannot remove alice from #family: only an admin may (not_group_admin)"
  ok "unknown group, unknown person, missing file, file too large, non-admin change: refused in words"

  step "a file to one person: saved next to the first, never over it"
  chat bob2 bob 0 --receipts delivered <<<"/wait 1 $WAIT" &
  local pid=$!
  chat alice2 alice 0 <<<"/send bob $WORK/photo.bin"
  wait "$pid" || die "bob's hush-chat failed"
  expect_grep "$WORK/bob2.out" "* file from alice: \"photo.bin\" (300000 bytes) saved as $WORK/bob/files/photo (1).bin"
  [[ $(sha256sum <"$WORK/bob/files/photo (1).bin") == "$want" ]] || die "bob saved other bytes than alice sent"
  chat alice-history alice 0 <<<"/history bob"
  expect_line "$WORK/alice-history.out" "  [me -> bob] file: photo.bin (300000 bytes)"
  ok "photo (1).bin, the same bytes; /history bob shows it"

  step "received files: over --max-file-bytes they wait for /save, across restarts; the quota"
  head -c 1000 /dev/urandom >"$WORK/bob/files/.hush-spool-AbCdEf"
  head -c 1000 /dev/urandom >"$WORK/bob/files/.hush-part-AbCdEf"
  chat bob3 bob 0 --max-file-bytes 1000 <<<"/wait 1 $WAIT" &
  pid=$!
  chat alice6 alice 0 <<<"/send bob $WORK/photo.bin"
  wait "$pid" || die "bob's hush-chat failed"
  [[ ! -e "$WORK/bob/files/.hush-spool-AbCdEf" && ! -e "$WORK/bob/files/.hush-part-AbCdEf" ]] || die "a download's leftovers were not removed at start"
  local n
  n=$(sed -n 's/^\* file from alice: "photo.bin" (300000 bytes) not fetched: larger than 1000 bytes (--max-file-bytes); \/save \([0-9]*\) fetches it$/\1/p' "$WORK/bob3.out")
  [[ -n $n ]] || { show "$WORK/bob3.out"; die "the large file was not announced with /save ID"; }
  [[ ! -e "$WORK/bob/files/photo (2).bin" ]] || die "the large file was saved without /save"
  # Another start: the file still waits (the record is in the state); the quota holds it back.
  chat bob4 bob 2 --files-quota 700000 <<EOF
/save
/save $n
EOF
  expect_line "$WORK/bob4.out" "* 1 received file(s) wait for /save (/save lists them)"
  expect_line "$WORK/bob4.out" "* file $n from alice: \"photo.bin\" (300000 bytes)"
  expect_line "$WORK/bob4.out" "! file from alice: \"photo.bin\" (300000 bytes) not saved: $WORK/bob/files holds 600000 bytes, and 700000 is its quota (--files-quota); /save $n tries again"
  chat bob5 bob 0 <<<"/save $n"
  expect_line "$WORK/bob5.out" "* file from alice: \"photo.bin\" (300000 bytes) saved as $WORK/bob/files/photo (2).bin"
  [[ $(sha256sum <"$WORK/bob/files/photo (2).bin") == "$want" ]] || die "bob saved other bytes than alice sent"
  chat bob6 bob 2 <<<"/save $n"
  expect_line "$WORK/bob6.out" "! /save $n: no such file waits (/save lists them)"
  ok "announced with an id, kept across a restart, held back by the quota, saved by /save $n (then gone)"
  # A download that fails (here STATE/files is not a directory) loses nothing: /save later.
  mv "$WORK/bob/files" "$WORK/bob-files"
  touch "$WORK/bob/files"
  head -c 100 /dev/urandom >"$WORK/small.bin"
  chat bob7 bob 0 <<<"/wait 1 $WAIT" &
  pid=$!
  chat alice9 alice 0 <<<"/send bob $WORK/small.bin"
  wait "$pid" || die "bob's hush-chat failed"
  n=$(sed -n 's/^! file from alice: "small.bin" (100 bytes) not saved: .*; \/save \([0-9]*\) tries again$/\1/p' "$WORK/bob7.out")
  [[ -n $n ]] || { show "$WORK/bob7.out"; die "the failed download did not say /save ID"; }
  rm "$WORK/bob/files"
  mv "$WORK/bob-files" "$WORK/bob/files"
  chat bob8 bob 0 <<<"/save $n"
  expect_line "$WORK/bob8.out" "* file from alice: \"small.bin\" (100 bytes) saved as $WORK/bob/files/small.bin"
  cmp -s "$WORK/small.bin" "$WORK/bob/files/small.bin" || die "bob saved other bytes than alice sent"
  ok "a download that failed is kept: saved by /save $n afterwards"

  step "one blob pointed to five times in a message is saved once"
  chat bob9 bob 0 <<<"/wait 1 $WAIT" &
  pid=$!
  hostile mallory --handle mallory send mallory bob 1 copies:5 "five of the same"
  expect_line "$WORK/mallory.out" "send: 1 sent, 0 refused (-)"
  wait "$pid" || die "bob's hush-chat failed"
  expect_line "$WORK/bob9.out" "* file from mallory: \"same.bin\" (100 bytes) saved as $WORK/bob/files/same.bin"
  [[ $(grep -c '^\* file from mallory: "same.bin" (100 bytes) is the file saved already as '"$WORK"'/bob/files/same.bin: not fetched again$' "$WORK/bob9.out") == 4 ]] || { show "$WORK/bob9.out"; die "the same blob was not recognised four times"; }
  [[ ! -e "$WORK/bob/files/same (1).bin" ]] || die "the same blob was saved twice"
  ok "saved once; the four other pointers to it fetched nothing"

  step "a group whose maker lists members that are no handles"
  local long
  long=$(printf 'x%.0s' {1..100})
  # (100 bytes, over the relay's name limit; and "bob" with a right-to-left override inside.)
  hostile evil --handle mallory4 group bob "$long" $'bo\xe2\x80\xaeb'
  expect_line "$WORK/evil.out" "group: 1 sent, 0 refused (-)"
  chat bob10 bob 0 <<EOF
/sync
/g evil hello evil
EOF
  expect_line "$WORK/bob10.out" "* [#evil] mallory4 made the group, with bob, bo?b, $long (/g evil TEXT writes to it)"
  grep -qE "^\[me -> #evil\] hello evil$stamp_re" "$WORK/bob10.out" || { show "$WORK/bob10.out"; die "bob's message to #evil was not sent"; }
  expect_no_grep "$WORK/bob10.out" "lost the connection"
  expect_no_grep "$WORK/bob10.out" $'\xe2\x80\xae'
  expect_no_grep "$WORK/relay.log" "malformed frame"
  ok "bob stays connected (the names never went to the relay), and sees the override as '?'"


  step "a group name taken by someone else's group; a file to a group that reaches nobody"
  chat carol3 carol 0 <<EOF
/group new family alice
/group new pair alice
EOF
  chat alice7 alice 0 <<EOF
/sync
/groups
/g family group-6: to my own family
/group leave pair
EOF
  grep -qE "^\[me -> #family\] group-6: to my own family$stamp_re" "$WORK/alice7.out" || { show "$WORK/alice7.out"; die "alice cannot write to her own #family"; }
  grep -qE '^\* #family \(#\?[0-9a-f]{8}, ours\): alice\*, bob$' "$WORK/alice7.out" || { show "$WORK/alice7.out"; die "alice's /groups does not show #family as hers"; }
  local other
  other=$(sed -n 's/^\* #family (#?\([0-9a-f]\{8\}\)): alice, carol\*$/\1/p' "$WORK/alice7.out")
  [[ -n $other ]] || { show "$WORK/alice7.out"; die "alice's /groups does not show carol's #family with its id"; }
  expect_line "$WORK/alice7.out" "* [#?$other] carol made the group, with alice (/g #?$other TEXT writes to it)"
  chat alice8 alice 2 <<EOF
/g #?$other group-7: to carol's family
/send #pair $WORK/small.bin
EOF
  expect_line "$WORK/alice8.out" "! we are no longer in #pair (left, or removed)"
  grep -qE "^\[me -> #\?$other\] group-7: to carol's family$stamp_re" "$WORK/alice8.out" || { show "$WORK/alice8.out"; die "alice cannot write to carol's #family by its id"; }
  # (#pair has nobody but carol now: the file is uploaded, then goes to no device.)
  chat carol4 carol 2 <<EOF
/sync
/send #pair $WORK/small.bin
EOF
  expect_line "$WORK/carol4.out" "[#family] alice: group-7: to carol's family"
  expect_line "$WORK/carol4.out" "! file to #pair not sent: no secure session, and no keys to start one (no_session)"
  expect_no_grep "$WORK/carol4.out" "[me -> #pair]"
  chat carol5 carol 0 <<<"/history #pair"
  expect_line "$WORK/carol5.out" "* the last 0 messages with #pair:"
  expect_grep "$WORK/relay.log" "deleted by its uploader"
  ok "alice's #family is hers by name, carol's by #?$other; the file that reached nobody: an error, not logged, its blob deleted"
  chat carol6 carol 0 <<<"/group remove family alice"
  stop_relay relay

  step "the relay holds the file as ciphertext only"
  "$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
  # The blob of a 300000-byte file: an 8-byte header, then 5 segments of up to 64 KiB, each with
  # its 16-byte tag.
  # (Three: none for the file to nobody, whose recipient was checked first.)
  [[ $(grep -c 'size=300088 received=300088' "$WORK/relay.dump") == 3 ]] || die "the relay does not hold the three blobs"
  local off h
  for off in 0 1000 65536 150000 299000; do
    h=$(od -An -v -tx1 -j "$off" -N 24 "$WORK/photo.bin" | tr -d ' \n')
    grep -qF "$h" "$WORK/relay.dump" "$WORK/relay.rec" && die "the file's bytes (at $off) are in the relay's database or traffic"
  done
  for p in "$G1" "$G2" "$G3" "$G4"; do
    grep -qaF "$p" "$WORK"/relay.db* "$WORK/relay.dump" && die "the relay's database holds '$p'"
    grep -qF "$(hexof "$p")" "$WORK/relay.rec" "$WORK/relay.dump" && die "the relay saw '$p'"
  done
  ok "three blobs of 300088 bytes; none of the file's bytes, nor a group message, in its database or traffic"

  step "the relay's blob limit"
  start_relay relay2 --max-blob-bytes 1000
  chat alice3 alice 2 <<<"/send bob $WORK/photo.bin"
  expect_line "$WORK/alice3.out" "! file not sent: the relay refused: the file is larger than it takes (blob_too_large)"
  ok "refused, in words"

  step "a newcomer reads from the time of joining; a member leaves"
  register dave dave
  chat alice4 alice 0 <<EOF
/group add family dave
/g family group-5: welcome dave
EOF
  expect_line "$WORK/alice4.out" "* [#family] added dave: they get what is sent to #family from now on"
  chat dave dave 0 <<<"/sync"
  expect_line "$WORK/dave.out" "* [#family] alice added you; with bob, dave (/g family TEXT writes to it)"
  expect_line "$WORK/dave.out" "[#family] alice: group-5: welcome dave"
  expect_no_grep "$WORK/dave.out" "$G1"
  chat bob-leave bob 0 <<EOF
/sync
/group leave family
/groups
EOF
  expect_line "$WORK/bob-leave.out" "[#family] alice: group-5: welcome dave"
  expect_line "$WORK/bob-leave.out" "* [#family] left the group"
  grep -qE '^\* #family \(#\?[0-9a-f]{8}\) \(left\): alice\*, dave$' "$WORK/bob-leave.out" || { show "$WORK/bob-leave.out"; die "bob's /groups does not show #family as left"; }
  chat alice5 alice 0 <<EOF
/sync
/groups
EOF
  expect_line "$WORK/alice5.out" "* [#family] bob left the group"
  grep -qE '^\* #family \(#\?[0-9a-f]{8}, ours\): alice\*, dave$' "$WORK/alice5.out" || { show "$WORK/alice5.out"; die "alice's /groups does not show her #family"; }
  ok "dave reads what came after his joining only; bob's leaving shows at alice"
  stop_relay relay2

  step "a file to a group that no device took: an error, nothing logged, the blob deleted"
  # (A queue of 4 envelopes per device: alice's share of dave's is one, taken by the group's
  # making; the file's message is refused.)
  start_relay relay3 --queue-limit 4
  chat alice10 alice 2 <<EOF
/group new duo dave
/send #duo $WORK/small.bin
/history #duo
EOF
  expect_line "$WORK/alice10.out" "! file to #duo not sent: the relay refused: too many of our messages already wait in the recipient's mailbox (group messages are not kept: send it again)"
  expect_line "$WORK/alice10.out" "* the last 0 messages with #duo:"
  expect_grep "$WORK/relay3.log" "deleted by its uploader"
  ok "said so; /history #duo is empty; the relay deleted the upload"
  stop_relay relay3
}

calls() {
  local check=$BIN/hush-callcheck
  [[ -x $check ]] || die "no hush-callcheck in '$BIN'"
  start_relay relay --capture-udp "$WORK/udp.cap"
  register alice alice
  register bob bob
  chat alice0 alice 0 <<<"/msg bob hi bob"
  chat bob0 bob 0 <<<"/wait 1 $WAIT"
  link tablet bob-tablet bob <<END
/wait call ringing $WAIT
/answer
/wait call ended $WAIT
END
  local tablet_pid=$BG_PID
  wait_for "$WORK/relay.log" '(bob:2): published keys' 1
  ok "bob has a laptop (device 1) and a tablet (device 2)"

  step "alice calls bob: both of his devices ring; the tablet answers, the laptop stops ringing"
  chat_bg laptop bob <<END
/wait call ringing $WAIT
/wait call ended $WAIT
/answer
END
  local laptop_pid=$BG_PID
  chat alice alice 2 --call-seconds 3 <<END
/answer
/call nobody-here
/call bob
/call bob
/wait call ended $WAIT
/hangup
END
  BG_PID=$tablet_pid
  wait_bg tablet 0
  BG_PID=$laptop_pid
  wait_bg laptop 2
  expect_line "$WORK/alice.out" "! no call rings here"
  expect_grep "$WORK/alice.out" "! call: nobody-here is not registered at the relay"
  expect_line "$WORK/alice.out" "* calling bob..."
  expect_line "$WORK/alice.out" "! already in a call (or one rings here): /hangup first"
  expect_line "$WORK/alice.out" "* call connected (bob:2 answered)"
  expect_line "$WORK/alice.out" "* media flowing (Opus voice, VP8 video) through the relay"
  expect_grep "$WORK/alice.out" "* call with bob hung up: sent "
  expect_line "$WORK/alice.out" "! no call to hang up"
  expect_line "$WORK/laptop.out" "* call from alice rings: /answer or /hangup"
  expect_line "$WORK/laptop.out" "* the call from alice was answered on another device: stopped ringing"
  expect_line "$WORK/laptop.out" "! no call rings here"
  expect_line "$WORK/tablet.out" "* call from alice rings: /answer or /hangup"
  expect_line "$WORK/tablet.out" "* answered the call from alice; connecting..."
  expect_line "$WORK/tablet.out" "* call connected"
  expect_grep "$WORK/tablet.out" "* call with alice ended: sent "
  ok "rang on both devices; answered on the tablet; the laptop stopped ringing; alice hung up"

  step "the relay forwarded ciphertext only; each side decoded what the other sent"
  [[ -s $WORK/udp.cap ]] || die "the relay forwarded no datagram"
  local f
  for f in alice/calls/call-sent-payloads.bin bob-tablet/calls/call-sent-payloads.bin; do
    "$check" capture "$WORK/$f" "$WORK/udp.cap" >"$WORK/check.out" ||
      { show "$WORK/check.out"; die "payloads of $f are in the relay's capture"; }
    expect_grep "$WORK/check.out" " 0 found in the capture"
  done
  # The search finds payloads where they are.
  if "$check" capture "$WORK/alice/calls/call-sent-payloads.bin" \
    "$WORK/alice/calls/call-sent-payloads.bin" >/dev/null; then
    die "the capture check does not find payloads where they are"
  fi
  [[ ! -e $WORK/bob/calls/call-sent.wav ]] || die "bob's laptop sent media"
  "$check" audio "$WORK/alice/calls/call-sent.wav" "$WORK/bob-tablet/calls/call-received-alice-1.wav" \
    >"$WORK/audio1.out" || { show "$WORK/audio1.out"; die "bob's tablet did not hear alice"; }
  "$check" audio "$WORK/bob-tablet/calls/call-sent.wav" "$WORK/alice/calls/call-received-bob-2.wav" \
    >"$WORK/audio2.out" || { show "$WORK/audio2.out"; die "alice did not hear bob's tablet"; }
  # Each side's generated voice is its own: alice's against bob's does not pass.
  if "$check" audio "$WORK/alice/calls/call-sent.wav" "$WORK/alice/calls/call-received-bob-2.wav" \
    >"$WORK/audio3.out"; then
    show "$WORK/audio3.out"
    die "the audio check passes two different voices"
  fi
  local frames
  # A Y4M file: one header line, then per frame "FRAME\n" and 160x120 in 4:2:0 (28800 bytes).
  local y4m=$WORK/bob-tablet/calls/call-received-alice-1.y4m
  frames=$((($(stat -c %s "$y4m") - $(head -n 1 "$y4m" | wc -c)) / 28806))
  ((frames >= 5)) || die "bob's tablet decoded $frames video frames"
  ok "$(cat "$WORK/audio1.out"); $frames video frames decoded at bob's tablet"
  stop_relay relay
}

# expect_in_order FILE LINE...: FILE has these lines (stamps stripped), in this order (others
# between them).
expect_in_order() {
  local file=$1 line k=0
  shift
  local -a want=("$@")
  while IFS= read -r line; do
    if ((k < ${#want[@]})) && [[ $line == "${want[k]}" ]]; then k=$((k + 1)); fi
  done < <(strip_stamps "$file")
  ((k == ${#want[@]})) && return 0
  show "$file"
  ((k == 0)) && die "$(basename "$file"): no line '${want[0]}'"
  die "$(basename "$file"): no line '${want[k]}' after the line '${want[k - 1]}'"
}

group_calls() {
  local check=$BIN/hush-callcheck
  [[ -x $check ]] || die "no hush-callcheck in '$BIN'"
  start_relay relay --capture-udp "$WORK/udp.cap"
  local who from pids=()
  for who in alice bob carol; do  # (at once: CI time)
    chat_bg "register-$who" "$who" --handle "$who" </dev/null
    pids+=("$BG_PID")
  done
  for who in alice bob carol; do
    BG_PID=${pids[0]}
    pids=("${pids[@]:1}")
    wait_bg "register-$who" 0
    expect_line "$WORK/register-$who.out" "* registered $who at 127.0.0.1:$PORT"
  done

  step "alice calls #team: bob answers, then carol; carol hangs up, alice and bob go on; alice ends it"
  # Bob answers first (index 1 in the call), carol once alice tells her that bob is in (index 2).
  # Carol hangs up once she has seen 10 video frames of each of the two others (a second); alice
  # (the host: her hangup ends the call) once she has seen 10 more of bob's after carol left.
  chat_bg bob bob <<END
/wait call ringing $WAIT
/answer
/wait call ended $WAIT
END
  local bob_pid=$BG_PID
  chat_bg carol carol <<END
/wait call ringing $WAIT
/wait 1 $WAIT
/answer
/wait call video 10 $WAIT
/hangup
END
  local carol_pid=$BG_PID
  chat alice alice 0 <<END
/group new team bob carol
/call #team
/wait call connected $WAIT
/msg carol bob is in
/wait call left $WAIT
/wait call video 10 $WAIT
/hangup
END
  BG_PID=$bob_pid
  wait_bg bob 0
  BG_PID=$carol_pid
  wait_bg carol 0
  expect_in_order "$WORK/alice.out" "* calling #team..." "* call connected (bob answered)" \
    "* in the call: alice, bob" "* media flowing (Opus voice, VP8 video) through the relay" \
    "* carol joined the call" "* in the call: alice, bob, carol" "* carol left the call" \
    "* in the call: alice, bob"
  expect_line "$WORK/alice.out" "* bob rings"
  expect_line "$WORK/alice.out" "* carol rings"
  expect_grep "$WORK/alice.out" "* call with #team hung up: sent "
  expect_in_order "$WORK/bob.out" "* call from alice rings: /answer or /hangup" \
    "* answered the call from alice; connecting..." "* call connected" "* in the call: alice, bob" \
    "* media flowing (Opus voice, VP8 video) through the relay" \
    "* in the call: alice, bob, carol" "* carol left the call" "* in the call: alice, bob"
  expect_grep "$WORK/bob.out" "* call with alice ended: sent "
  expect_in_order "$WORK/carol.out" "* call from alice rings: /answer or /hangup" "[alice] bob is in" \
    "* answered the call from alice; connecting..." "* call connected" \
    "* in the call: alice, bob, carol" "* media flowing (Opus voice, VP8 video) through the relay"
  expect_grep "$WORK/carol.out" "* call with alice hung up: sent "
  ok "rang at both; each answer, the leaving and the end shown, with the host's participant lists"

  step "each heard and saw the two others; the relay forwarded ciphertext only"
  local f frames y4m
  for who in alice bob carol; do
    "$check" capture "$WORK/$who/calls/call-sent-payloads.bin" "$WORK/udp.cap" >"$WORK/check.out" ||
      { show "$WORK/check.out"; die "payloads of $who are in the relay's capture"; }
    expect_grep "$WORK/check.out" " 0 found in the capture"
  done
  for who in alice bob carol; do
    for from in alice bob carol; do
      [[ $who != "$from" ]] || continue
      f=$WORK/$who/calls/call-received-$from-1
      # Carol, who came late and left first, heard only part of what the others sent: what came
      # with the 10 video frames of each she waited for (0.9 s or so).
      "$check" audio "$WORK/$from/calls/call-sent.wav" "$f.wav" 0.8 "$([[ $who == carol ]] && echo 0.5s || echo 0.5)" \
        >"$WORK/audio-$who-$from.out" || { show "$WORK/audio-$who-$from.out"; die "$who did not hear $from"; }
      y4m=$f.y4m
      frames=$((($(stat -c %s "$y4m") - $(head -n 1 "$y4m" | wc -c)) / 28806))
      ((frames >= 5)) || die "$who decoded $frames video frames of $from"
      printf '   %s <- %s: %s; %d video frames\n' "$who" "$from" "$(sed 's/ (at least.*//' "$WORK/audio-$who-$from.out")" "$frames"
    done
  done
  ok "six audio streams match what their senders sent, six videos decode; no payload in the capture"

  step "after carol left, alice and bob sent under new keys (the relay's view of the SFrame headers)"
  "$check" rekeyed "$WORK/udp.cap" 2 >"$WORK/rekeyed.out" || { show "$WORK/rekeyed.out"; die "alice and bob did not move to new keys after carol left"; }
  ok "$(cat "$WORK/rekeyed.out")"
  stop_relay relay
}

case $SCENARIO in
  edges) edges ;;
  conversation) conversation ;;
  acid) acid ;;
  sealed) acid sealed ;;
  rollback) rollback ;;
  hostile) hostile_scenario ;;
  limits) limits ;;
  recovery) recovery ;;
  mitm-known) mitm_known ;;
  mitm-new) mitm_new ;;
  robustness) robustness ;;
  devices) devices ;;
  healing) healing ;;
  offline) offline ;;
  link-relay) link_relay ;;
  groups) groups ;;
  calls) calls ;;
  group_calls) group_calls ;;
  *) die "unknown scenario '$SCENARIO'" ;;
esac
printf '\nPASS: %s\n' "$SCENARIO"

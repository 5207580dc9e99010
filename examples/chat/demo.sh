#!/usr/bin/env bash
# The chat demo: a relay, two scripted clients (alice and bob) that talk both ways through it in
# post-quantum Signal v4 sessions, each side's safety number, alice linking a second device
# (messages then show on every device of both people), a group of three (alice, bob, carol) with a
# file and receipts, from which alice removes carol (who then sees nothing more), a call (alice
# calls bob, both his devices ring, he answers on one; Opus voice and VP8 video through the relay,
# which forwards only ciphertext), bob reinstalling and getting what alice wrote meanwhile (healed:
# sent again, shown
# once), a relay that lies about bob's keys and is caught, and a search of everything the relay
# stored and everything that crossed the wire for the plaintexts: none.
#
# usage: examples/chat/demo.sh BUILD_DIR      (BUILD_DIR/examples holds hush-relay and hush-chat)
#
# Runs in a temporary directory (removed at the end; HUSH_DEMO_KEEP=1 keeps it). Exits non-zero,
# saying why, if anything is not as it should be. Needs bash, coreutils, grep and sed.
set -euo pipefail
export LC_ALL=C  # bytes, not characters, in ${#s}, ${s:i:n} and grep

BUILD=${1:?usage: demo.sh BUILD_DIR}
RELAY=$BUILD/examples/hush-relay
CHAT=$BUILD/examples/hush-chat
for p in "$RELAY" "$CHAT" "$BUILD/examples/hush-callcheck"; do
  [[ -x $p ]] || { echo "demo: $p is missing (build the examples first)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hush-chat-demo.XXXXXX")
RELAY_PID=""
cleanup() {
  if [[ -n $RELAY_PID ]]; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
  fi
  if [[ -n ${HUSH_DEMO_KEEP:-} ]]; then
    echo "demo: files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

if [[ -t 1 ]]; then
  B=$'\033[1m' R=$'\033[0m' G=$'\033[32m' E=$'\033[31m'
else
  B="" R="" G="" E=""
fi
WAIT=60

title() { printf '\n%s== %s%s\n' "$B" "$*" "$R"; }
say() { printf '   %s\n' "$*"; }
fail() {
  printf '%sdemo: FAILED: %s%s\n' "$E" "$*" "$R" >&2
  exit 1
}
indent() { sed 's/^/     /' "$@"; }

start_relay() {  # NAME [ARGS...]
  local name=$1 first="" deadline=$((SECONDS + WAIT))
  shift
  "$RELAY" --db "$WORK/relay.db" --port 0 --record "$WORK/traffic.rec" \
    --capture-udp "$WORK/udp.cap" "$@" \
    >"$WORK/$name.log" 2>&1 &
  RELAY_PID=$!
  until [[ $first =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]]; do
    kill -0 "$RELAY_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; fail "the relay did not start"; }
    ((SECONDS < deadline)) || fail "the relay did not start in time"
    sleep 0.05
    first=$(head -n 1 "$WORK/$name.log" 2>/dev/null || true)
  done
  PORT=${BASH_REMATCH[1]}
}

stop_relay() {
  kill -TERM "$RELAY_PID"
  wait "$RELAY_PID" || fail "the relay did not stop cleanly"
  RELAY_PID=""
}

# chat NAME STATE [ARGS...] <<< SCRIPT: runs a scripted hush-chat; output in $WORK/NAME.out; returns
# its exit status.
chat() {
  local name=$1 state=$2
  shift 2
  cat >"$WORK/$name.script"
  "$CHAT" --state "$WORK/$state" --relay "127.0.0.1:$PORT" --script "$WORK/$name.script" \
    --timeout "$WAIT" "$@" \
    >"$WORK/$name.out" 2>&1 </dev/null
}

safety() { sed -n "s/^\* safety number with $2: //p" "$1" | tail -n 1; }
# until FILE has a line matching PATTERN (bounded)
await() {
  local deadline=$((SECONDS + WAIT))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { cat "$1" >&2; fail "no line '$2' in $(basename "$1")"; }
    sleep 0.05
  done
}
hexof() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# Every 16-byte window of TEXT at 8-byte steps, as text (FILE) and hex (FILE.hex): SQLite may
# store a long value in pieces, and any stretch of 24 bytes or more holds a whole window.
pieces() {
  local t=$1 i
  : >"$2"
  : >"$2.hex"
  for ((i = 0; i + 16 <= ${#t}; i += 8)); do
    printf '%s\n' "${t:i:16}" >>"$2"
    printf '%s\n' "$(hexof "${t:i:16}")" >>"$2.hex"
  done
}

A1="Hi Bob! Lunch on Friday? I have news about the move."
B1="Hi Alice, Friday works. The usual place at 12:30?"
A2="Yes, the usual place. I'll book a table for two."
B2="Great, see you then. Bring the photos!"
SECRET="Bob, the door code is 4711-0815. Don't tell anyone."
B3="Alice, the photos are in: what a view from that balcony!"
P1="Writing from my new phone: the balcony is the best part."
A3="Bob? Your phone is off. Call me when you read this, please."
G1="Family dinner at ours on Sunday, 7pm. Who brings dessert?"
G2="I'll bring the apple pie from grandma's recipe."
G3="Count me in, I'll bring the wine and the old photo album."
G4="Carol's birthday surprise: we meet at 6pm, don't tell her!"
G5="Perfect, I'll keep her busy until then."
PLAIN=("$A1" "$B1" "$A2" "$B2" "$SECRET" "$B3" "$P1" "$A3" "$G1" "$G2" "$G3" "$G4" "$G5")
# A message line without its stamp ("  (✓ 14:31)": its mark and send time), to compare the text.
nostamp() { sed -E 's/  \((queued |✓ |✓✓ |✓✓ read )?([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2}\)$//'; }

title "1. A relay on 127.0.0.1 (it stores keys and envelopes in SQLite, and sees no plaintext)"
start_relay relay
say "hush-relay --db relay.db --port 0      -> listening on 127.0.0.1:$PORT"

title "2. alice and bob each start hush-chat once: a new identity, registered, keys published"
chat register-alice alice --handle alice </dev/null || fail "alice could not register"
chat register-bob bob --handle bob </dev/null || fail "bob could not register"
indent "$WORK/register-alice.out" "$WORK/register-bob.out"

title "3. They talk (two hush-chat processes at once, each with a script)"
chat bob bob <<EOF &
/wait 1 $WAIT
/msg alice $B1
/wait 2 $WAIT
/msg alice $B2
/verify alice
EOF
BOB_PID=$!
chat alice alice <<EOF || { cat "$WORK/alice.out" >&2; fail "alice's session failed"; }
/msg bob $A1
/wait 1 $WAIT
/msg bob $A2
/wait 2 $WAIT
/verify bob
EOF
wait "$BOB_PID" || { cat "$WORK/bob.out" >&2; fail "bob's session failed"; }
say "alice's screen:"
grep '^\[' "$WORK/alice.out" | indent
say "bob's screen:"
grep '^\[' "$WORK/bob.out" | indent
expected_alice=$(printf '[me -> bob] %s\n[bob] %s\n[me -> bob] %s\n[bob] %s' "$A1" "$B1" "$A2" "$B2")
expected_bob=$(printf '[alice] %s\n[me -> alice] %s\n[alice] %s\n[me -> alice] %s' "$A1" "$B1" "$A2" "$B2")
[[ $(grep '^\[' "$WORK/alice.out" | nostamp) == "$expected_alice" ]] || fail "alice's conversation is not as sent"
[[ $(grep '^\[' "$WORK/bob.out" | nostamp) == "$expected_bob" ]] || fail "bob's conversation is not as sent"

title "4. Safety numbers (from both identity keys; they compare them) and post-quantum Signal v4"
SA=$(safety "$WORK/alice.out" bob)
SB=$(safety "$WORK/bob.out" alice)
say "alice's safety number with bob:  $SA"
say "bob's safety number with alice:  $SB"
[[ -n $SA && $SA == "$SB" ]] || fail "the safety numbers differ"
say "${G}equal: no one substituted a key between them${R}"
EA=$(sed -n 's/^\* encryption with bob: //p' "$WORK/alice.out" | tail -n 1)
EB=$(sed -n 's/^\* encryption with alice: //p' "$WORK/bob.out" | tail -n 1)
say "alice's sessions with bob:       $EA"
say "bob's sessions with alice:       $EB"
[[ $EA == "post-quantum (Signal v4)" && $EB == "post-quantum (Signal v4)" ]] ||
  fail "alice and bob do not talk post-quantum (Signal v4)"
say "${G}post-quantum: PQXDH with Kyber prekeys the relay served, then SPQR${R}"

title "5. alice links a second device: every device of both people shows the conversation"
say "on her phone: hush-chat --state alice-phone --relay ... --link   (shows a code, and waits)"
chat phone alice-phone --link <<EOF &
/wait 1 $WAIT
/msg bob $P1
EOF
PHONE_PID=$!
await "$WORK/phone.out" '^\* link code: '
CODE=$(sed -n 's/^\* link code: //p' "$WORK/phone.out")
grep -v '^\* on a device' "$WORK/phone.out" | indent
say "on her laptop she types /link with that code (or scans the QR code):"
chat link alice <<<"/link $CODE" || { cat "$WORK/link.out" >&2; fail "alice could not link her phone"; }
grep '^\* linked' "$WORK/link.out" | indent
await "$WORK/phone.out" '^\* linked: this is device 2 of alice'
await "$WORK/relay.log" '(alice:2): published keys'
chat bob3 bob <<EOF || { cat "$WORK/bob3.out" >&2; fail "bob's session failed"; }
/msg alice $B3
/wait 1 $WAIT
/devices alice
EOF
wait "$PHONE_PID" || { cat "$WORK/phone.out" >&2; fail "the phone's session failed"; }
chat alice3 alice <<EOF || { cat "$WORK/alice3.out" >&2; fail "alice's session failed"; }
/wait 2 $WAIT
/devices
EOF
say "bob's screen:"
grep -e '^\[' -e "^\* alice's devices" "$WORK/bob3.out" | indent
say "alice's phone:"
grep -e '^\* linked:' -e '^\[' "$WORK/phone.out" | indent
say "alice's laptop:"
grep -e '^\[' -e "^\* alice's devices" "$WORK/alice3.out" | indent
[[ $(grep '^\[' "$WORK/phone.out" | nostamp) == "$(printf '[bob] %s\n[me -> bob] %s' "$B3" "$P1")" ]] ||
  fail "the phone's screen is not as expected"
[[ $(grep '^\[' "$WORK/alice3.out" | nostamp) == "$(printf '[bob] %s\n[me:2 -> bob] %s' "$B3" "$P1")" ]] ||
  fail "the laptop's screen is not as expected"
nostamp <"$WORK/bob3.out" | grep -qxF "[alice:2] $P1" || fail "bob did not get the phone's message"
say "${G}bob's message is on both of alice's devices; what her phone wrote shows on her laptop too${R}"

title "6. A group: alice makes #family with bob and carol; a file; receipts; carol removed"
chat register-carol carol --handle carol </dev/null || fail "carol could not register"
# A family recipe book (text on one line, so that the search below can look for its bytes too).
for i in $(seq 1 60); do
  printf 'Recipe %02d of the Miller family: %s flour, %s eggs, bake %s minutes. ' \
    "$i" "$((i * 7 % 500 + 100))g" "$((i % 5 + 1))" "$((i % 30 + 20))"
done >"$WORK/recipes.txt"
chat bob-g bob <<EOF &
/wait 2 $WAIT
/g family $G2
/wait 4 $WAIT
/g family $G5
EOF
BOB_PID=$!
chat carol-g carol <<EOF &
/wait 3 $WAIT
/g family $G3
EOF
CAROL_PID=$!
chat alice-g alice <<EOF || { cat "$WORK/alice-g.out" >&2; fail "alice's session failed"; }
/group new family bob carol
/g family $G1
/send #family $WORK/recipes.txt
/wait 2 $WAIT
/group remove family carol
/g family $G4
/wait 3 $WAIT
EOF
wait "$BOB_PID" || { cat "$WORK/bob-g.out" >&2; fail "bob's session failed"; }
wait "$CAROL_PID" || { cat "$WORK/carol-g.out" >&2; fail "carol's session failed"; }
chat carol-g2 carol <<<"/sync" || { cat "$WORK/carol-g2.out" >&2; fail "carol's session failed"; }
shown() { grep -e '^\[' -e '^\* \[#' -e '^\* file' -e '^✓✓' "$1" | sed "s|$WORK/||" | indent; }
say "alice's screen (each message ends with its mark and send time; receipts as they come):"
shown "$WORK/alice-g.out"
say "bob's screen:"
shown "$WORK/bob-g.out"
say "carol's screen, and when she starts hush-chat again later:"
shown "$WORK/carol-g.out"
shown "$WORK/carol-g2.out"
want=$(sha256sum <"$WORK/recipes.txt")
for who in bob carol; do
  [[ $(sha256sum <"$WORK/$who/files/recipes.txt") == "$want" ]] ||
    fail "$who's copy of the file differs from alice's"
done
say "SHA-256 of the file at alice, and as saved by bob and carol: ${want%% *}"
nostamp <"$WORK/bob-g.out" | grep -qxF "[#family] alice: $G4" ||
  fail "bob did not get alice's message after the removal"
if grep -qF -e "$G4" -e "$G5" "$WORK/carol-g.out" "$WORK/carol-g2.out"; then
  fail "carol got a message sent after her removal"
fi
grep -qxF "* [#family] alice removed you: you get nothing more sent to #family" "$WORK/carol-g2.out" ||
  fail "carol was not told of her removal"
grep -qF "✓✓ delivered: \"${G1:0:37}..." "$WORK/alice-g.out" || fail "alice saw no delivery receipt"
say "${G}bob and carol saved the same bytes; after her removal carol gets nothing of #family${R}"

title "7. A call: alice calls bob; both of bob's devices ring; he answers on one; 10 s of voice and video"
say "bob links a tablet (as alice did her phone); his laptop and his tablet wait for calls"
chat tablet bob-tablet --link <<EOF &
/wait call ringing $WAIT
/answer
/wait call ended $WAIT
EOF
TABLET_PID=$!
await "$WORK/tablet.out" '^\* link code: '
CODE=$(sed -n 's/^\* link code: //p' "$WORK/tablet.out")
chat link-bob bob <<<"/link $CODE" || { cat "$WORK/link-bob.out" >&2; fail "bob could not link his tablet"; }
await "$WORK/tablet.out" '^\* linked: this is device 2 of bob'
await "$WORK/relay.log" '(bob:2): published keys'
chat bob-laptop bob <<EOF &
/wait call ringing $WAIT
/wait call ended $WAIT
EOF
LAPTOP_PID=$!
say "alice types /call bob (hush-chat --call-seconds 10: she hangs up after 10 s of media):"
chat alice-call alice --call-seconds 10 <<EOF || { cat "$WORK/alice-call.out" >&2; fail "alice's call failed"; }
/call bob
/wait call ended $WAIT
EOF
wait "$TABLET_PID" || { cat "$WORK/tablet.out" >&2; fail "bob's tablet's call failed"; }
wait "$LAPTOP_PID" || { cat "$WORK/bob-laptop.out" >&2; fail "bob's laptop failed"; }
say "alice's screen:"
grep -e 'call' -e 'rings' -e 'media' "$WORK/alice-call.out" | indent
say "bob's laptop:"
grep -e 'call' -e 'rings' "$WORK/bob-laptop.out" | indent
say "bob's tablet:"
grep -e 'call' -e 'rings' -e 'media' "$WORK/tablet.out" | indent
grep -q 'answered on another device: stopped ringing' "$WORK/bob-laptop.out" ||
  fail "bob's laptop did not stop ringing"
CHECK=$BUILD/examples/hush-callcheck
say "the relay forwarded $(wc -c <"$WORK/udp.cap") bytes of UDP; are the encoder outputs in them?"
"$CHECK" capture "$WORK/alice/calls/call-sent-payloads.bin" "$WORK/udp.cap" | indent ||
  fail "alice's Opus or VP8 payloads are in the relay's capture"
"$CHECK" capture "$WORK/bob-tablet/calls/call-sent-payloads.bin" "$WORK/udp.cap" | indent ||
  fail "bob's Opus or VP8 payloads are in the relay's capture"
if "$CHECK" capture "$WORK/alice/calls/call-sent-payloads.bin" \
  "$WORK/alice/calls/call-sent-payloads.bin" >/dev/null; then
  fail "the search does not find the payloads where they are"
fi
say "what bob's tablet decoded against what alice sent, and the other way:"
"$CHECK" audio "$WORK/alice/calls/call-sent.wav" "$WORK/bob-tablet/calls/call-received-alice-1.wav" | indent ||
  fail "bob did not hear alice"
"$CHECK" audio "$WORK/bob-tablet/calls/call-sent.wav" "$WORK/alice/calls/call-received-bob-2.wav" | indent ||
  fail "alice did not hear bob"
# A Y4M file: one header line, then per frame "FRAME\n" and 160x120 in 4:2:0 (28800 bytes).
y4m=$WORK/bob-tablet/calls/call-received-alice-1.y4m
frames=$((($(stat -c %s "$y4m") - $(head -n 1 "$y4m" | wc -c)) / 28806))
say "video: $frames frames of 160x120 decoded at bob's tablet (calls/call-received-alice-1.y4m)"
((frames >= 50)) || fail "bob's tablet decoded too few video frames"
say "${G}the relay forwarded ciphertext only; each side heard the other${R}"

title "8. bob loses his phone; alice writes meanwhile; bob reinstalls and gets it (healing)"

chat alice4 alice <<<"/msg bob $A3" || fail "alice could not write"
grep '^\[' "$WORK/alice4.out" | indent
CODE_BOB=$(sed -n 's/^\* recovery code for bob: \([A-Z2-7-]*\);.*/\1/p' "$WORK/register-bob.out")
say "bob, on a new phone: hush-chat --state bob-new --handle bob --recover $CODE_BOB"
chat bob-new bob-new --handle bob --recover "$CODE_BOB" <<<"/sync" ||
  { cat "$WORK/bob-new.out" >&2; fail "bob could not recover his handle"; }
grep -e '^\* recovered' -e '^!' "$WORK/bob-new.out" | indent
say "   (his new device cannot read what was encrypted for the lost one: hush asks alice's device"
say "    to send it again, over a new session that authenticates the new identity)"
say "alice's laptop: bob's new identity shows as a change; she compares safety numbers, then:"
chat alice5 alice <<EOF || { cat "$WORK/alice5.out" >&2; fail "alice's session failed"; }
/sync
/trust bob
EOF
grep -e 'WARNING' -e "^\* bob's new identity" "$WORK/alice5.out" |
  sed -E 's/(key [0-9a-f]{10})[0-9a-f]+/\1.../' | indent
chat bob-new2 bob-new <<EOF || { cat "$WORK/bob-new2.out" >&2; fail "bob's new device did not get it"; }
/wait 1 $WAIT
/sync
EOF
chat bob-new3 bob-new <<<"/sync" || fail "bob's new device failed"
say "bob's new phone (after /trust at alice: no one had to send anything again by hand):"
grep '^\[' "$WORK/bob-new2.out" "$WORK/bob-new3.out" | sed 's/^[^:]*://' | indent
[[ $(cat "$WORK/bob-new2.out" "$WORK/bob-new3.out" | grep -c '^\[') == 1 ]] &&
  nostamp <"$WORK/bob-new2.out" | grep -qxF "[alice] $A3" || fail "bob's new device must show alice's message once"
say "${G}healed: alice's message reached bob's new device exactly once${R}"
stop_relay

title "9. The relay turns man in the middle: it hands out its own keys as bob's"
start_relay evil-relay --impersonate bob
say "hush-relay ... --impersonate bob   (a test flag: the relay lies about bob's keys)"
say "alice has lost her session with bob (/reset bob) and writes to him again:"
rc=0
chat alice2 alice <<EOF || rc=$?
/reset bob
/msg bob $SECRET
EOF
grep -e '^!' -e '^\[' "$WORK/alice2.out" | indent
grep -qxF "! message to bob not sent: their identity key changed, and the new one is not trusted yet (untrusted_identity); compare safety numbers, then /trust bob" "$WORK/alice2.out" && ((rc == 2)) ||
  fail "alice's message to the impostor was not refused"
grep -q '^\[me -> bob\]' "$WORK/alice2.out" && fail "alice's message went out"
say "${G}refused: alice knows bob's real identity key, and the relay's differs; nothing was sent${R}"
stop_relay

title "10. What the relay stored and saw (messages, group messages, files)"
files=("$WORK"/relay.db*)
"$RELAY" --db "$WORK/relay.db" --dump >"$WORK/relay.dump"
bytes=$(cat "${files[@]}" | wc -c)
rows=$(grep -c '^  ' "$WORK/relay.dump" || true)
frames=$(grep -c '^conn [0-9]* \(in\|out\) ' "$WORK/traffic.rec" || true)
traffic=$(grep '^conn [0-9]* \(in\|out\) ' "$WORK/traffic.rec" | awk '{ n += $5 } END { print n + 0 }')
first_send=$(grep -m1 '^conn [0-9]* in SEND ' "$WORK/traffic.rec" | awk '{ print $5 " bytes: " substr($6, 1, 48) "..." }')
say "the first message, as the relay received it: $first_send"
found_db=0 found_traffic=0 found_alice=0
for i in "${!PLAIN[@]}"; do
  p=${PLAIN[$i]}
  w=$WORK/pieces.$i
  pieces "$p" "$w"
  if grep -qaF -f "$w" "${files[@]}" || grep -qaF -f "$w" "$WORK/relay.dump" ||
    grep -qF -f "$w.hex" "$WORK/relay.dump"; then
    found_db=$((found_db + 1))
    say "${E}in the relay's database: $p${R}"
  fi
  if grep -qaF -f "$w" "$WORK/traffic.rec" || grep -qF -f "$w.hex" "$WORK/traffic.rec"; then
    found_traffic=$((found_traffic + 1))
    say "${E}in the relay's traffic: $p${R}"
  fi
  if ((i < 4)) && grep -qaF -f "$w" "$WORK"/alice/hush.db*; then found_alice=$((found_alice + 1)); fi
done
pieces "$(cat "$WORK/recipes.txt")" "$WORK/pieces.file"
file_found=0
if grep -qaF -f "$WORK/pieces.file" "${files[@]}" "$WORK/relay.dump" "$WORK/traffic.rec" ||
  grep -qF -f "$WORK/pieces.file.hex" "$WORK/relay.dump" "$WORK/traffic.rec"; then
  file_found=1
  say "${E}the file's bytes are in the relay's database or traffic${R}"
fi
grep -qaF -f "$WORK/pieces.file" "$WORK/bob/files/recipes.txt" ||
  fail "the search does not find the file's bytes where they are (bob's copy)"
blobs=$(sed -n 's/^table blob_chunks: \([0-9]*\) rows$/\1/p' "$WORK/relay.dump")
say "the file: at the relay as ciphertext only ($blobs stored piece(s)); its bytes found: $file_found"
say "the same search finds $found_alice of the 4 messages in alice's own database (her log)"
say "relay traffic: $frames frames, $traffic bytes, $found_traffic plaintexts found"
say "relay database: $bytes bytes, $rows rows, $found_db plaintexts found"
((found_alice == 4)) || fail "the search does not find the plaintexts where they are"
((found_db == 0 && found_traffic == 0 && file_found == 0)) || fail "the relay saw plaintext"
((blobs >= 1)) || fail "the relay stored no file"
printf '\n%sdemo: OK%s\n' "$G" "$R"

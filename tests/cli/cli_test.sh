#!/usr/bin/env bash
# hush-cli script test: several state directories talking to each other through the commands.
#
# usage: bash tests/cli/cli_test.sh path/to/hush-cli
#
# Prints each check as it goes and exits non-zero at the first failure, saying what failed. Every
# failing command is also checked to print nothing on stdout and to leave its state directory
# byte-for-byte unchanged. Needs only bash and coreutils.
set -euo pipefail

CLI=${1:?usage: cli_test.sh path/to/hush-cli}
[[ -x $CLI ]] || { echo "FAIL: '$CLI' is not an executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
A=$WORK/alice B=$WORK/bob C=$WORK/carol D=$WORK/dave E=$WORK/erin
T=$WORK/tmp
mkdir "$T"

# ---- helpers ----

# shellcheck source=tests/cli/cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

printf 'hello bob' >"$T/hello"
printf 'hello alice' >"$T/hello_alice"
: >"$T/empty"
for i in $(seq 0 255); do printf '%b' "\\x$(printf %02x "$i")"; done >"$T/binary"
printf '\0\0\nnul and newline\0' >>"$T/binary"

# ---- init ----

step "init alice, bob, carol, dave"
out=$(cli "$A" init --name alice --registration-id 1111)
expect_eq "alice registration_id" "$(jget registration_id "$out")" 1111
expect_eq "alice name" "$(jget name "$out")" alice
expect_eq "alice device_id" "$(jget device_id "$out")" 1
expect_eq "alice prekey_count" "$(jget prekey_count "$out")" 100
expect_eq "alice first_prekey_id" "$(jget first_prekey_id "$out")" 1
expect_eq "alice signed_prekey_id" "$(jget signed_prekey_id "$out")" 1
expect_eq "alice's first device list (device 1)" "$(jget device_list_version "$out")" 1
expect_eq "alice kyber_prekey_count (100 one-time and the last resort)" \
  "$(jget kyber_prekey_count "$out")" 101
expect_eq "alice last_resort_kyber_prekey_id" "$(jget last_resort_kyber_prekey_id "$out")" 101
ALICE_KEY=$(jget identity_key "$out")
[[ $ALICE_KEY =~ ^05[0-9a-f]{64}$ ]] || die "alice identity_key is not 33 bytes of 05||u: $ALICE_KEY"
ok "alice identity_key is 33 bytes starting with 05"
out=$(cli "$B" init --prekeys 5 --kyber-prekeys 2)
expect_eq "bob's default name (the directory's)" "$(jget name "$out")" bob
expect_eq "bob prekey_count" "$(jget prekey_count "$out")" 5
BOB_KEY=$(jget identity_key "$out")
cli "$C" init --prekeys 3 >/dev/null
cli "$D" init --prekeys 3 >/dev/null
mode=$(stat -c %a "$B/hush.db")
expect_eq "state file mode" "$mode" 600
expect_eq "generation counter mode" "$(stat -c %a "$B/hush.db-generation")" 600
expect_eq "state directory contents" "$(ls -A "$B" | tr '\n' ' ')" "hush.db hush.db-generation "
expect_fail 1 "" /dev/null "$B" init
out=$(cli "$B" identity)
expect_eq "bob identity_key" "$(jget identity_key "$out")" "$BOB_KEY"
expect_eq "bob prekeys_left" "$(jget prekeys_left "$out")" 5
expect_eq "bob device_id" "$(jget device_id "$out")" 1
expect_eq "bob device_list_version" "$(jget device_list_version "$out")" 1
out=$("$CLI" identity --state "$A" 2>/dev/null) || die "--state after the command failed"
expect_eq "--state may follow the command" "$(jget identity_key "$out")" "$ALICE_KEY"

# ---- bundles ----

step "bob's bundle"
cli "$B" bundle >"$T/bob_bundle1"
line=$(cat "$T/bob_bundle1")
expect_eq "bundle is one line" "$(wc -l <"$T/bob_bundle1")" 1
expect_eq "bundle identity_key" "$(jget identity_key "$line")" "$BOB_KEY"
expect_eq "bundle offers the lowest prekey" "$(jget prekey_id "$line")" 1
[[ $(jget prekey "$line") =~ ^05[0-9a-f]{64}$ ]] || die "bundle prekey is not a 33-byte key"
[[ $(jget signed_prekey "$line") =~ ^05[0-9a-f]{64}$ ]] || die "bundle signed_prekey is not a 33-byte key"
[[ $(jget signed_prekey_signature "$line") =~ ^[0-9a-f]{128}$ ]] || die "signature is not 64 bytes"
ok "keys are 33 bytes, the signature 64"
cli "$B" bundle >"$T/again"
expect_same_file "bundle does not consume the prekey" "$T/again" "$T/bob_bundle1"
line=$(cli "$B" bundle --no-prekey)
if jhas prekey_id "$line" || jhas prekey "$line"; then die "--no-prekey bundle has a prekey"; fi
ok "--no-prekey bundle has neither prekey_id nor prekey"
line=$(cli "$B" bundle --prekey-id 3)
expect_eq "bundle --prekey-id 3" "$(jget prekey_id "$line")" 3
expect_fail 2 invalid_key_id /dev/null "$B" bundle --prekey-id 99
line=$(cat "$T/bob_bundle1")
expect_eq "bundle offers the lowest one-time Kyber prekey" "$(jget kyber_prekey_id "$line")" 1
[[ $(jget kyber_prekey "$line") =~ ^08[0-9a-f]{3136}$ ]] || die "kyber_prekey is not 0x08 || 1568 bytes"
[[ $(jget kyber_prekey_signature "$line") =~ ^[0-9a-f]{128}$ ]] || die "Kyber signature not 64 bytes"
ok "the Kyber prekey is 1569 bytes (type 0x08), its signature 64"
line=$(cli "$B" bundle --last-resort-kyber)
expect_eq "bundle --last-resort-kyber" "$(jget kyber_prekey_id "$line")" 3
line=$(cli "$B" bundle --no-kyber)
if jhas kyber_prekey_id "$line" || jhas kyber_prekey "$line" || jhas kyber_prekey_signature "$line"; then
  die "--no-kyber bundle has Kyber fields"
fi
ok "--no-kyber bundle has no Kyber fields"
expect_fail 1 "" /dev/null "$B" bundle --no-kyber --last-resort-kyber

# ---- X3DH and the first messages ----

step "alice processes bob's bundle and sends prekey messages"
expect_fail 2 no_session /dev/null "$A" encrypt --peer bob
cli "$A" process-bundle --peer bob <"$T/bob_bundle1" >"$T/out"
[[ ! -s $T/out ]] || die "process-bundle printed something"
info=$(cli "$A" session-info --peer bob)
expect_eq "alice->bob exists" "$(jget exists "$info")" true
expect_eq "alice->bob version (PQXDH: both are hush)" "$(jget version "$info")" 4
expect_eq "alice->bob spqr_epoch" "$(jget spqr_epoch "$info")" 1
expect_eq "alice->bob has_unacknowledged_prekey before the reply" \
  "$(jget has_unacknowledged_prekey "$info")" true
expect_eq "alice->bob remote_identity" "$(jget remote_identity "$info")" "$BOB_KEY"
expect_eq "alice->bob previous_states" "$(jget previous_states "$info")" 0
info=$(cli "$A" session-info --peer bob --device 2)
expect_eq "alice->bob.2 exists" "$(jget exists "$info")" false
expect_fail 2 no_session /dev/null "$A" encrypt --peer dave

cli "$A" encrypt --peer bob <"$T/hello" >"$T/m1"
check_message_line "$(cat "$T/m1")" prekey
ok "alice's first message is a prekey message line"
cli "$A" encrypt --peer bob <"$T/binary" >"$T/m2"
cli "$A" encrypt --peer bob <"$T/empty" >"$T/m3"
check_message_line "$(cat "$T/m3")" prekey
info=$(cli "$B" session-info --peer alice)
expect_eq "bob has no session before the first message" "$(jget exists "$info")" false

step "bob decrypts (text, binary with NULs, empty)"
deliver alice "$B" "$T/m1" "$T/hello"
expect_eq "bob's prekeys_left after the first message" \
  "$(jget prekeys_left "$(cli "$B" identity)")" 4
deliver alice "$B" "$T/m2" "$T/binary"
deliver alice "$B" "$T/m3" "$T/empty"
info=$(cli "$B" session-info --peer alice)
expect_eq "bob->alice exists" "$(jget exists "$info")" true
expect_eq "bob->alice remote_identity" "$(jget remote_identity "$info")" "$ALICE_KEY"
expect_eq "bob->alice trusted_identity (first use)" "$(jget trusted_identity "$info")" "$ALICE_KEY"
expect_eq "bob->alice remote_registration_id" "$(jget remote_registration_id "$info")" 1111
expect_fail 2 duplicate_message "$T/m1" "$B" decrypt --peer alice
expect_fail 2 duplicate_message "$T/m3" "$B" decrypt --peer alice

step "bob replies; alice's session is acknowledged"
cli "$B" encrypt --peer alice <"$T/hello_alice" >"$T/r1"
check_message_line "$(cat "$T/r1")" whisper
ok "bob's reply is a whisper message line"
deliver bob "$A" "$T/r1" "$T/hello_alice"
info=$(cli "$A" session-info --peer bob)
expect_eq "alice->bob has_unacknowledged_prekey after the reply" \
  "$(jget has_unacknowledged_prekey "$info")" false
cli "$A" encrypt --peer bob <"$T/hello" >"$T/w1"
check_message_line "$(cat "$T/w1")" whisper
ok "alice now sends whisper messages"
deliver alice "$B" "$T/w1" "$T/hello"
expect_fail 2 duplicate_message "$T/r1" "$A" decrypt --peer bob

step "several messages with --count, delivered out of order"
cli "$A" encrypt --peer bob --count 5 <"$T/binary" >"$T/batch"
expect_eq "--count 5 lines" "$(wc -l <"$T/batch")" 5
for i in 1 2 3 4 5; do
  sed -n "${i}p" "$T/batch" >"$T/b$i"
  check_message_line "$(cat "$T/b$i")" whisper
done
cmp -s "$T/b1" "$T/b2" && die "two messages of a --count batch are identical"
ok "the 5 messages are distinct whisper lines"
for i in 5 2 4 1 3; do deliver alice "$B" "$T/b$i" "$T/binary"; done
expect_fail 2 duplicate_message "$T/b2" "$B" decrypt --peer alice
expect_fail 2 duplicate_message "$T/b5" "$B" decrypt --peer alice

# ---- malformed and tampered messages ----

step "tampered, truncated and garbage messages"
cli "$A" encrypt --peer bob <"$T/hello" >"$T/w2"
body=$(jget body "$(cat "$T/w2")")
msg_json whisper "$(flip_last_byte "$body")" >"$T/bad"
expect_fail 2 invalid_message "$T/bad" "$B" decrypt --peer alice
msg_json whisper "$(with_version_byte "$body" 13)" >"$T/bad"
expect_fail 2 legacy_message "$T/bad" "$B" decrypt --peer alice
msg_json whisper "$(with_version_byte "$body" 53)" >"$T/bad"
expect_fail 2 invalid_version "$T/bad" "$B" decrypt --peer alice
msg_json whisper "${body:0:${#body}-10}" >"$T/bad" # 5 bytes short: the ciphertext field is cut
expect_fail 2 invalid_protobuf "$T/bad" "$B" decrypt --peer alice
msg_json whisper "${body:0:16}" >"$T/bad" # 8 bytes: shorter than version byte + MAC
expect_fail 2 invalid_message "$T/bad" "$B" decrypt --peer alice
msg_json whisper "" >"$T/bad"
expect_fail 2 invalid_message "$T/bad" "$B" decrypt --peer alice
msg_json whisper "33ffffffffffffffffffff0000000000000000" >"$T/bad"
expect_fail 2 invalid_protobuf "$T/bad" "$B" decrypt --peer alice
printf '33ffffffffffffffffffffffff\n' >"$T/bad"
expect_fail 2 invalid_protobuf "$T/bad" "$B" decrypt --peer alice --type prekey
body1=$(jget body "$(cat "$T/m1")")
msg_json prekey "$(with_version_byte "$body1" 13)" >"$T/bad"
expect_fail 2 legacy_message "$T/bad" "$B" decrypt --peer alice
msg_json prekey "$(with_version_byte "$body1" 53)" >"$T/bad"
expect_fail 2 invalid_version "$T/bad" "$B" decrypt --peer alice
msg_json prekey "$(with_version_byte "$body1" 33)" >"$T/bad" # inner message still version 4
expect_fail 2 invalid_version "$T/bad" "$B" decrypt --peer alice
msg_json whisper "$body1" >"$T/bad" # a prekey message declared as whisper
expect_fail 2 "" "$T/bad" "$B" decrypt --peer alice
deliver alice "$B" "$T/w2" "$T/hello"

cli "$A" encrypt --peer bob <"$T/binary" >"$T/w3"
cli "$A" encrypt --peer bob <"$T/binary" >"$T/w3b"

step "JSON input is parsed strictly but fully"
body=$(jget body "$(cat "$T/w3")")
printf ' {\n  "body" : "%s",\n  "type" : "whis\\u0070er"\n}\n' "$body" >"$T/pretty"
cli "$B" decrypt --peer alice <"$T/pretty" >"$T/plain"
expect_same_file "reordered, spaced, escaped JSON decrypts" "$T/plain" "$T/binary"
printf '{"type":"whisper","body":"%s","type":"whisper"}\n' "$body" >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
printf '{"type":"whisper","body":"%s"} x\n' "$body" >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
printf '{"type":"whisper","body":"%s","extra":1}\n' "$body" >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
printf '{"type":"whisper","body":["%s"]}\n' "$body" >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
expect_fail 2 duplicate_message "$T/w3" "$B" decrypt --peer alice

step "bare hex input with --type"
jget body "$(cat "$T/w3b")" >"$T/w3.hex"
expect_fail 1 "" "$T/w3.hex" "$B" decrypt --peer alice
expect_fail 1 "" "$T/w3b" "$B" decrypt --peer alice --type prekey
cli "$B" decrypt --peer alice --type whisper <"$T/w3.hex" >"$T/plain"
expect_same_file "bare hex decrypts" "$T/plain" "$T/binary"

step "a counter far in the future (version 4 allows libsignal's 25,000; version 3: 2000, below)"
cli "$A" encrypt --peer bob --count 2002 <"$T/hello" >"$T/many"
sed -n 2002p "$T/many" >"$T/far"
sed -n 2001p "$T/many" >"$T/edge"
deliver alice "$B" "$T/far" "$T/hello"
deliver alice "$B" "$T/edge" "$T/hello"

# ---- prekeys ----

step "carol uses a bundle whose prekey bob already consumed"
cli "$C" process-bundle --peer bob <"$T/bob_bundle1"
cli "$C" encrypt --peer bob <"$T/hello" >"$T/c1"
expect_fail 2 invalid_key_id "$T/c1" "$B" decrypt --peer carol
cli "$B" bundle >"$T/bob_bundle2"
expect_eq "bob's next bundle offers prekey" "$(jget prekey_id "$(cat "$T/bob_bundle2")")" 2
cli "$C" process-bundle --peer bob <"$T/bob_bundle2"
cli "$C" encrypt --peer bob <"$T/hello" >"$T/c2"
deliver carol "$B" "$T/c2" "$T/hello"
cli "$B" bundle --no-prekey >"$T/bob_bundle_nopk"
cli "$E" init --prekeys 0 >"$T/out"
expect_eq "init --prekeys 0 prekey_count" "$(jget prekey_count "$(cat "$T/out")")" 0
cli "$E" process-bundle --peer bob <"$T/bob_bundle_nopk"
cli "$E" encrypt --peer bob <"$T/binary" >"$T/e1"
deliver erin "$B" "$T/e1" "$T/binary"
expect_eq "bob's prekeys_left (a bundle without prekey consumes none)" \
  "$(jget prekeys_left "$(cli "$B" identity)")" 3

step "bad bundles"
line=$(cat "$T/bob_bundle2")
sig=$(jget signed_prekey_signature "$line")
printf '%s\n' "${line/$sig/$(flip_last_byte "${sig:0:64}")${sig:64}}" >"$T/badbundle"
expect_fail 2 invalid_signature "$T/badbundle" "$D" process-bundle --peer bob
pk=$(jget prekey "$line")
printf '%s\n' "${line/$pk/06${pk:2}}" >"$T/badbundle"
expect_fail 2 invalid_key "$T/badbundle" "$D" process-bundle --peer bob
printf '%s\n' "${line/$pk/${pk:0:64}}" >"$T/badbundle"
expect_fail 2 invalid_key "$T/badbundle" "$D" process-bundle --peer bob
printf '%s\n' "${line/\"prekey_id\"/\"prekey_idx\"}" >"$T/badbundle"
expect_fail 1 "" "$T/badbundle" "$D" process-bundle --peer bob
printf '%s' "${line:0:60}" >"$T/badbundle"
expect_fail 1 "" "$T/badbundle" "$D" process-bundle --peer bob
printf '%s\n%s\n' "$line" "$line" >"$T/badbundle"
expect_fail 1 "" "$T/badbundle" "$D" process-bundle --peer bob

step "process-bundle takes --device from the bundle"
cli "$D" init --force --device-id 7 --prekeys 2 >"$T/out"
DAVE_KEY=$(jget identity_key "$(cat "$T/out")")
expect_eq "init --device-id 7 makes no device list" "$(jget device_list_version "$(cat "$T/out")")" 0
cli "$D" bundle >"$T/dave_bundle"
expect_eq "dave's bundle device_id" "$(jget device_id "$(cat "$T/dave_bundle")")" 7
cli "$C" process-bundle --peer dave <"$T/dave_bundle"
expect_eq "carol->dave.7 exists" "$(jget exists "$(cli "$C" session-info --peer dave --device 7)")" true
expect_eq "carol->dave.1 exists" "$(jget exists "$(cli "$C" session-info --peer dave)")" false
cli "$C" encrypt --peer dave --device 7 <"$T/hello" >"$T/d1"
deliver carol "$D" "$T/d1" "$T/hello"

# ---- trust ----

step "trust is per person: every device of a name shares one identity"
# dave's bundle offered as bob's: a different identity for carol's "bob", refused for bob's
# device 1 and for a device carol has never seen (the bundle says device 7): a new device id is
# not a new person.
cli "$D" bundle >"$T/dave_bundle2"
expect_fail 2 untrusted_identity "$T/dave_bundle2" "$C" process-bundle --peer bob --device 1
expect_fail 2 untrusted_identity "$T/dave_bundle2" "$C" process-bundle --peer bob
expect_eq "bob.7 has no session" "$(jget exists "$(cli "$C" session-info --peer bob --device 7)")" \
  false
expect_eq "carol trusts bob's key for bob.7 too" \
  "$(jget trusted_identity "$(cli "$C" session-info --peer bob --device 7)")" "$BOB_KEY"
expect_eq "carol still trusts bob's key for bob.1" \
  "$(jget trusted_identity "$(cli "$C" session-info --peer bob)")" "$BOB_KEY"

step "alice starts over with a new identity"
cli "$A" init --force --name alice >"$T/out"
ALICE_KEY2=$(jget identity_key "$(cat "$T/out")")
[[ $ALICE_KEY2 != "$ALICE_KEY" ]] || die "init --force kept the identity"
expect_eq "alice's identity after --force" "$(jget identity_key "$(cli "$A" identity)")" "$ALICE_KEY2"
expect_eq "alice forgot bob" "$(jget exists "$(cli "$A" session-info --peer bob)")" false
cli "$B" bundle >"$T/bob_bundle3"
cli "$A" process-bundle --peer bob <"$T/bob_bundle3"
cli "$A" encrypt --peer bob <"$T/hello" >"$T/n1"
expect_fail 2 untrusted_identity "$T/n1" "$B" decrypt --peer alice
info=$(cli "$B" session-info --peer alice)
expect_eq "bob still trusts alice's old key" "$(jget trusted_identity "$info")" "$ALICE_KEY"
expect_fail 2 invalid_key "/dev/null" "$B" trust --peer alice --identity-key "06${ALICE_KEY2:2}"
expect_fail 1 "" "/dev/null" "$B" trust --peer alice --identity-key "zz"
expect_fail 1 "" "/dev/null" "$B" trust --peer alice
cli "$B" trust --peer alice --identity-key "$ALICE_KEY2" >"$T/out"
[[ ! -s $T/out ]] || die "trust printed something"
info=$(cli "$B" session-info --peer alice)
expect_eq "bob trusts alice's new key" "$(jget trusted_identity "$info")" "$ALICE_KEY2"
expect_eq "bob's old session with alice is archived" "$(jget exists "$info")" false
[[ $(jget previous_states "$info") -ge 1 ]] || die "no archived state after trust"
ok "previous_states = $(jget previous_states "$info")"
expect_fail 2 no_session "$T/hello" "$B" encrypt --peer alice
cli "$A" encrypt --peer bob <"$T/binary" >"$T/n2"
check_message_line "$(cat "$T/n2")" prekey
deliver alice "$B" "$T/n2" "$T/binary"
deliver alice "$B" "$T/n1" "$T/hello"
info=$(cli "$B" session-info --peer alice)
expect_eq "bob's new session's remote_identity" "$(jget remote_identity "$info")" "$ALICE_KEY2"
cli "$B" encrypt --peer alice <"$T/hello_alice" >"$T/r2"
check_message_line "$(cat "$T/r2")" whisper
deliver bob "$A" "$T/r2" "$T/hello_alice"
expect_eq "alice->bob acknowledged" \
  "$(jget has_unacknowledged_prekey "$(cli "$A" session-info --peer bob)")" false

# ---- concurrency ----

step "concurrent invocations on one state directory run one after the other"
pids=()
for i in 1 2 3 4 5 6; do
  "$CLI" --state "$A" encrypt --peer bob <"$T/hello" >"$T/par$i" 2>"$T/par$i.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "a concurrent encrypt failed"; done
sort "$T"/par[1-6] | uniq -d >"$T/dups"
[[ ! -s $T/dups ]] || die "concurrent encrypts produced identical messages (lost update)"
for i in 6 5 4 3 2 1; do deliver alice "$B" "$T/par$i" "$T/hello"; done

# ---- output failures leave the state unchanged ----

step "an unwritable stdout: closed is refused up front; full is reported after the commit"
cli "$A" encrypt --peer bob <"$T/hello" >"$T/w4"
before=$(state_sum "$B")
rc=0
"$CLI" --state "$B" decrypt --peer alice <"$T/w4" >&- 2>"$T/err" || rc=$?
((rc == 1)) || die "decrypt with stdout closed exited $rc, expected 1"
[[ $(state_sum "$B") == "$before" ]] || die "decrypt with stdout closed changed the state"
ok "decrypt with stdout closed -> exit 1, state unchanged"
before=$(state_sum "$A")
rc=0
"$CLI" --state "$A" encrypt --peer bob <"$T/hello" >&- 2>"$T/err" || rc=$?
((rc == 1)) || die "encrypt with stdout closed exited $rc, expected 1"
[[ $(state_sum "$A") == "$before" ]] || die "encrypt with stdout closed changed the state"
ok "encrypt with stdout closed -> exit 1, state unchanged"
# Full: the decrypt committed (the message is consumed) and kept its plaintext for `received`.
rc=0
"$CLI" --state "$B" decrypt --peer alice <"$T/w4" >/dev/full 2>"$T/err" || rc=$?
((rc == 1)) || die "decrypt with stdout full exited $rc, expected 1"
expect_fail 2 duplicate_message "$T/w4" "$B" decrypt --peer alice
cli "$B" received <"$T/w4" >"$T/again"
expect_same_file "received prints the plaintext of the interrupted decrypt" "$T/again" "$T/hello"
# Full: the encrypt committed, its message was never shown; the next one uses a new message key.
rc=0
"$CLI" --state "$A" encrypt --peer bob <"$T/hello" >/dev/full 2>"$T/err" || rc=$?
((rc == 1)) || die "encrypt with stdout full exited $rc, expected 1"
cli "$A" encrypt --peer bob <"$T/hello" >"$T/w5"
deliver alice "$B" "$T/w5" "$T/hello"
expect_fail 1 "" "$T/w5" "$A" received
ok "a message that was never decrypted here is not 'received'"

# ---- usage errors ----

step "usage and I/O errors (exit 1)"
rc=0
"$CLI" >"$T/out" 2>"$T/err" || rc=$?
if ((rc != 1)) || [[ -s $T/out ]]; then die "no arguments: exit $rc"; fi
ok "no arguments -> exit 1"
rc=0
"$CLI" identity >"$T/out" 2>"$T/err" || rc=$?
if ((rc != 1)) || [[ -s $T/out ]]; then die "no --state: exit $rc"; fi
ok "no --state -> exit 1"
"$CLI" --help >"$T/out" 2>&1 || die "--help failed"
grep -q "usage: hush-cli" "$T/out" || die "--help does not print the usage"
ok "--help prints the usage"
expect_fail 1 "" /dev/null "$B" frobnicate
expect_fail 1 "" /dev/null "$B" identity --bogus
expect_fail 1 "" /dev/null "$B" identity extra
expect_fail 1 "" /dev/null "$B" bundle --peer alice
expect_fail 1 "" /dev/null "$B" bundle --prekey-id 2 --no-prekey
expect_fail 1 "" /dev/null "$B" bundle --prekey-id two
expect_fail 1 "" "$T/hello" "$B" encrypt
expect_fail 1 "" "$T/hello" "$B" encrypt --peer alice --count 0
expect_fail 1 "" "$T/hello" "$B" encrypt --peer alice --count
expect_fail 1 "" "$T/hello" "$B" encrypt --peer alice --peer carol
expect_fail 1 "" "$T/hello" "$B" encrypt --peer alice --device -1
expect_fail 1 "" "$T/hello" "$B" encrypt --peer alice --device 0
expect_fail 1 "" /dev/null "$B" session-info --peer alice --device 0
expect_fail 1 "" "$T/hello" "$B" encrypt --peer ""
expect_fail 1 "" /dev/null "$WORK/zero" init --device-id 0
[[ ! -e $WORK/zero ]] || die "init --device-id 0 created a state directory"
expect_fail 1 "" /dev/null "$WORK/noname" init --name ""
expect_fail 1 "" /dev/null "$WORK/longname" init --name "$(printf 'n%.0s' $(seq 1025))"
[[ ! -e $WORK/noname && ! -e $WORK/longname ]] || die "init with a bad name created a directory"
ok "init refuses device 0 and names a device list cannot carry, creating nothing"
expect_fail 1 "" /dev/null "$B" trust --peer nobody --identity-key "$ALICE_KEY2"
expect_eq "trust of a name never met stores nothing" \
  "$(jget trusted_identity "$(cli "$B" session-info --peer nobody)")" ""
printf 'not hex\n' >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice --type whisper
printf '{"type":"whisper","body":"33"\n' >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
printf '{"type":"signal","body":"33"}\n' >"$T/bad"
expect_fail 1 "" "$T/bad" "$B" decrypt --peer alice
expect_fail 1 "" "$T/hello" "$WORK/nobody" encrypt --peer alice
[[ ! -e $WORK/nobody ]] || die "a command other than init created a state directory"
mkdir "$WORK/frank"
cli "$WORK/frank" init --prekeys 1 >/dev/null
ok "init accepts an existing, empty directory"
cp "$WORK/frank/hush.db" "$T/frank_state"
head -c 100 "$T/frank_state" >"$WORK/frank/hush.db"
expect_fail 1 "" /dev/null "$WORK/frank" identity
{ printf 'definitely not SQLite'; tail -c +22 "$T/frank_state"; } >"$WORK/frank/hush.db"
expect_fail 1 "" /dev/null "$WORK/frank" bundle
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$T/huge"
expect_fail 1 "" "$T/huge" "$B" encrypt --peer alice

step "encryption at rest (HUSH_CLI_STORAGE_KEY)"
KEY=$(printf '%064x' 42)
HUSH_CLI_STORAGE_KEY=$KEY cli "$WORK/gina" init --prekeys 2 >/dev/null
HUSH_CLI_STORAGE_KEY=$KEY cli "$WORK/gina" bundle >"$T/gina_bundle"
expect_fail 1 "" /dev/null "$WORK/gina" identity
HUSH_CLI_STORAGE_KEY=$(printf '%064x' 43) expect_fail 1 "" /dev/null "$WORK/gina" identity
cli "$A" process-bundle --peer gina <"$T/gina_bundle"
cli "$A" encrypt --peer gina <"$T/hello" >"$T/g1"
HUSH_CLI_STORAGE_KEY=$KEY cli "$WORK/gina" decrypt --peer alice <"$T/g1" >"$T/out"
expect_same_file "a sealed peer decrypts" "$T/out" "$T/hello"

step "rough edges a new user met (issue 14)"
H=$WORK/hana I=$WORK/ivan
cli "$H" init --prekeys 2 >/dev/null
cli "$I" init --prekeys 2 >/dev/null
# expect_err TEXT : the last failure's stderr says TEXT.
expect_err() {
  grep -qF -- "$1" "$T/fail.err" || die "stderr does not say '$1': $(cat "$T/fail.err")"
  ok "stderr says: $1"
}
expect_fail 1 "" "$T/empty" "$H" decrypt --peer ivan
expect_err "no message on standard input"
printf 'garbage\n' >"$T/bad"
expect_fail 1 "" "$T/bad" "$H" decrypt --peer ivan
expect_err "standard input is not a message"
expect_fail 1 "" "$T/bad" "$H" received
expect_err "standard input is not a message"
printf 'abcd\n' >"$T/bad"
expect_fail 1 "" "$T/bad" "$H" decrypt --peer ivan
expect_err "needs --type"
mkdir "$WORK/notours"
printf 'a text file, not a database\n' >"$WORK/notours/hush.db"
expect_fail 1 "" /dev/null "$WORK/notours" init
expect_err "is not a hush database"
if grep -q "already initialised" "$T/fail.err"; then die "a foreign file is called initialised"; fi
printf 'a file\n' >"$WORK/afile"
expect_fail 1 "" /dev/null "$WORK/afile" init
expect_err "is a file, not a state directory"
expect_fail 1 "" /dev/null "$WORK/ivan2" init --device-id 0
expect_err "--device-id must be a number from 1"
expect_fail 1 "" /dev/null "$H" trust --peer nobody --identity-key "$ALICE_KEY2"
expect_err "no identity is known for 'nobody'"
cli "$I" bundle | cli "$H" process-bundle --peer ivan
cli "$H" encrypt --peer ivan <"$T/hello" >"$T/h1"
deliver hana "$I" "$T/h1" "$T/hello"
expect_fail 2 duplicate_message "$T/h1" "$I" decrypt --peer hana
expect_err "hush-cli: decrypt: message key already used"
if grep -q "decrypt: decrypt:" "$T/fail.err"; then die "a doubled prefix: $(cat "$T/fail.err")"; fi
ok "no doubled 'decrypt: decrypt:'"

step "safety-number, reset and peers"
sn_h=$(cli "$H" safety-number --peer ivan)
sn_i=$(cli "$I" safety-number --peer hana)
[[ $(jget safety_number "$sn_h") =~ ^([0-9]{5} ){11}[0-9]{5}$ ]] ||
  die "not 60 digits in 12 groups of 5: $sn_h"
expect_eq "both sides show the same safety number" "$(jget safety_number "$sn_h")" \
  "$(jget safety_number "$sn_i")"
expect_eq "hana's safety-number names ivan's key" "$(jget identity_key "$sn_h")" \
  "$(jget identity_key "$(cli "$I" identity)")"
expect_fail 1 "" /dev/null "$H" safety-number --peer nobody
expect_err "no identity is known for 'nobody'"
expect_fail 1 "" /dev/null "$H" safety-number
IVAN_KEY=$(jget identity_key "$(cli "$I" identity)")
expect_eq "hana's peers" "$(cli "$H" peers)" \
  "{\"name\":\"ivan\",\"identity_key\":\"$IVAN_KEY\",\"sessions\":[1],\"device_list_version\":0}"
cli "$WORK/lonely" init --prekeys 0 >/dev/null
expect_eq "no peers, no output" "$(cli "$WORK/lonely" peers | wc -c)" 0
expect_eq "reset closes the session" "$(cli "$H" reset --peer ivan)" \
  '{"peer":"ivan","closed":[1]}'
expect_eq "no session after reset" "$(jget exists "$(cli "$H" session-info --peer ivan)")" false
expect_fail 1 "" /dev/null "$H" reset --peer ivan
expect_err "no open session with 'ivan'"
expect_fail 1 "" /dev/null "$H" reset --peer ivan --device 0
expect_fail 2 no_session "$T/hello" "$H" encrypt --peer ivan
cli "$I" encrypt --peer hana <"$T/hello" >"$T/i1"
deliver ivan "$H" "$T/i1" "$T/hello"
ok "a late message from ivan still decrypts after the reset (the closed state is kept)"
expect_eq "the identity stays trusted after reset" \
  "$(jget trusted_identity "$(cli "$H" session-info --peer ivan)")" "$IVAN_KEY"

# ---- version 3 beside version 4, and no downgrade ----

step "an X3DH bundle gives a version-3 session (libsignal-protocol-c's); --require-pq refuses it"
J=$WORK/judy K=$WORK/ken L=$WORK/leo
cli "$J" init --prekeys 2 --kyber-prekeys 1 >/dev/null
cli "$K" init --prekeys 2 --kyber-prekeys 1 >/dev/null
cli "$L" init --prekeys 2 --kyber-prekeys 1 --require-pq >/dev/null
cli "$K" bundle --no-kyber >"$T/ken_v3"
expect_fail 2 post_quantum_required "$T/ken_v3" "$L" process-bundle --peer ken
cli "$J" process-bundle --peer ken <"$T/ken_v3"
expect_eq "judy->ken version" "$(jget version "$(cli "$J" session-info --peer ken)")" 3
if jhas spqr_epoch "$(cli "$J" session-info --peer ken)"; then die "a v3 session has spqr_epoch"; fi
cli "$J" encrypt --peer ken --count 2003 <"$T/hello" >"$T/v3many"
sed -n 1p "$T/v3many" >"$T/v3first"
check_message_line "$(cat "$T/v3first")" prekey 33
# leo requires post-quantum: judy's version-3 prekey message (sent as if to leo) is refused.
expect_fail 2 legacy_message "$T/v3first" "$L" decrypt --peer judy
deliver judy "$K" "$T/v3first" "$T/hello"
sed -n 2003p "$T/v3many" >"$T/v3far" # 2001 ahead of the next expected counter (1)
expect_fail 2 too_far_in_future "$T/v3far" "$K" decrypt --peer judy
sed -n 2002p "$T/v3many" >"$T/v3edge"
deliver judy "$K" "$T/v3edge" "$T/hello"
deliver judy "$K" "$T/v3far" "$T/hello"
ok "version 3: the forward jump stays 2000"

step "a person who used version 4 cannot be moved back to version 3"
cli "$K" bundle >"$T/ken_v4"
cli "$L" process-bundle --peer ken <"$T/ken_v4"
cli "$L" encrypt --peer ken <"$T/hello" >"$T/l1"
deliver leo "$K" "$T/l1" "$T/hello"
cli "$K" bundle --no-kyber >"$T/ken_stripped"
expect_fail 2 post_quantum_required "$T/ken_stripped" "$L" process-bundle --peer ken
cli "$K" encrypt --peer leo <"$T/hello" >"$T/k1"
deliver ken "$L" "$T/k1" "$T/hello"
expect_eq "leo->ken still version 4" "$(jget version "$(cli "$L" session-info --peer ken)")" 4

printf '\nALL CLI CHECKS PASSED\n'

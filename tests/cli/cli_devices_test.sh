#!/usr/bin/env bash
# hush-cli script test: several devices of one person. Alice's device 1 links a device 2 (link-code,
# link, link --accept), bob talks to both, lists are imported, rolled back, forged and unlinked, and
# a person's 33rd device is refused.
#
# usage: bash tests/cli/cli_devices_test.sh path/to/hush-cli
#
# Prints each check as it goes and exits non-zero at the first failure, saying what failed. Every
# failing command is also checked to print nothing on stdout and to leave its state directory
# (database and kept link request) byte-for-byte unchanged. Needs only bash and coreutils.
set -euo pipefail

CLI=${1:?usage: cli_devices_test.sh path/to/hush-cli}
[[ -x $CLI ]] || { echo "FAIL: '$CLI' is not an executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
A1=$WORK/alice1 A2=$WORK/alice2 A3=$WORK/alice3 B=$WORK/bob M=$WORK/mallory D=$WORK/dave
T=$WORK/tmp
mkdir "$T"

# shellcheck source=tests/cli/cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# hexfile FILE VALUE : VALUE and a newline in FILE.
hexfile() { printf '%s\n' "$2" >"$1"; }

# expect_list WHAT JSON NAME VERSION DEVICES NEXT : a `devices` line with these values.
expect_list() {
  expect_eq "$1: name" "$(jget name "$2")" "$3"
  expect_eq "$1: version" "$(jget version "$2")" "$4"
  expect_eq "$1: devices" "$(jarray devices "$2")" "$5"
  expect_eq "$1: next_device_id" "$(jget next_device_id "$2")" "$6"
}

printf 'hello alice' >"$T/to_alice"
printf 'hello bob, from alice 2' >"$T/from_alice2"
printf 'hello again' >"$T/again"

# ---- device 1 ----

step "init makes device 1 and the person's first device list"
out=$(cli "$A1" init --name alice --prekeys 5)
expect_eq "alice.1 device_id" "$(jget device_id "$out")" 1
expect_eq "alice.1 device_list_version" "$(jget device_list_version "$out")" 1
ALICE_KEY=$(jget identity_key "$out")
out=$(cli "$A1" devices)
expect_list "alice's first list" "$out" alice 1 1 2
expect_eq "the list's identity is alice's" "$(jget identity_key "$out")" "$ALICE_KEY"
LIST1=$(jget device_list "$out")
[[ $LIST1 =~ ^([0-9a-f][0-9a-f])+$ ]] || die "device_list is not hex: $LIST1"
hexfile "$T/list1" "$LIST1"
out=$(cli "$B" init --name bob --prekeys 5)
BOB_KEY=$(jget identity_key "$out")
expect_fail 1 "" /dev/null "$B" devices --peer alice
ok "no list is stored for a peer before one is imported"

# ---- linking alice's device 2 ----

step "link-code in a new directory keeps a secret request, mode 0600"
out=$(cli "$A2" link-code)
CODE=$(jget code "$out")
MAILBOX=$(jget mailbox "$out")
[[ $CODE =~ ^HUSHLINK1(-[A-Z2-7]+)+$ ]] || die "not a link code: $CODE"
[[ $MAILBOX =~ ^[0-9a-f]{32}$ ]] || die "mailbox is not 16 bytes of hex: $MAILBOX"
ok "code $CODE"
expect_eq "new directory contents" "$(ls -A "$A2" | tr '\n' ' ')" "link-request "
expect_eq "request file mode" "$(stat -c %a "$A2/link-request")" 600
expect_eq "new directory mode" "$(stat -c %a "$A2")" 700
expect_fail 1 "" /dev/null "$A2" link-code
expect_fail 1 "" /dev/null "$A2" identity
expect_fail 1 "" /dev/null "$A2" init --name alice
expect_fail 1 "" /dev/null "$A1" link-code
expect_fail 1 "" /dev/null "$A2" link --accept

step "link on alice's device 1: device 2, list version 2, a sealed message"
expect_fail 2 invalid_argument /dev/null "$A1" link --code HUSHLINK1-AAAAAAAA
expect_fail 1 "" /dev/null "$A1" link
expect_fail 1 "" /dev/null "$A1" link --code "$CODE" --accept
expect_fail 1 "" /dev/null "$A1" link --code "$CODE" --prekeys 3
expect_fail 1 "" /dev/null "$A1" link --code "$CODE" --data xyz
cli "$A1" link --code "$CODE" >"$T/link"
line=$(cat "$T/link")
expect_eq "link device_id" "$(jget device_id "$line")" 2
expect_eq "link mailbox (the code's)" "$(jget mailbox "$line")" "$MAILBOX"
LINK_MESSAGE=$(jget message "$line")
[[ $LINK_MESSAGE =~ ^01([0-9a-f][0-9a-f])+$ ]] || die "link message is not hex of version 1"
out=$(cli "$A1" devices)
expect_list "alice.1 after link" "$out" alice 2 1,2 3
LIST2=$(jget device_list "$out")
expect_eq "link's device_list is the stored list" "$(jget device_list "$line")" "$LIST2"
hexfile "$T/list2" "$LIST2"
expect_eq "alice.1 identity shows the list version" \
  "$(jget device_list_version "$(cli "$A1" identity)")" 2

step "a tampered or mismatched link is refused; the new directory keeps only its request"
printf '{"device_id":2,"mailbox":"%s","message":"%s"}\n' "$MAILBOX" \
  "$(flip_last_byte "$LINK_MESSAGE")" >"$T/badlink"
expect_fail 2 invalid_message "$T/badlink" "$A2" link --accept
hexfile "$T/badlink" "${LINK_MESSAGE:0:200}"
expect_fail 2 invalid_message "$T/badlink" "$A2" link --accept
printf '{"device_id":3,"mailbox":"%s","message":"%s"}\n' "$MAILBOX" "$LINK_MESSAGE" >"$T/badlink"
expect_fail 2 invalid_message "$T/badlink" "$A2" link --accept
printf '{"message":"%s","device_list":"%s"}\n' "$LINK_MESSAGE" "$LIST1" >"$T/badlink"
expect_fail 2 invalid_message "$T/badlink" "$A2" link --accept
printf '{"mailbox":"%032x","message":"%s"}\n' 7 "$LINK_MESSAGE" >"$T/badlink"
expect_fail 1 "" "$T/badlink" "$A2" link --accept
printf '{"message":"%s","extra":1}\n' "$LINK_MESSAGE" >"$T/badlink"
expect_fail 1 "" "$T/badlink" "$A2" link --accept
[[ ! -e $A2/hush.db ]] || die "a refused link left a database"
expect_eq "directory after the refusals" "$(ls -A "$A2" | tr '\n' ' ')" "link-request "

step "link --accept makes alice's device 2"
out=$(cli "$A2" link --accept --prekeys 5 <"$T/link")
expect_eq "alice.2 device_id" "$(jget device_id "$out")" 2
expect_eq "alice.2 name" "$(jget name "$out")" alice
expect_eq "alice.2 identity_key (the person's)" "$(jget identity_key "$out")" "$ALICE_KEY"
expect_eq "alice.2 device_list_version" "$(jget device_list_version "$out")" 2
expect_eq "alice.2 prekey_count" "$(jget prekey_count "$out")" 5
expect_eq "alice.2 contacts" "$(jget contacts "$out")" 0
if jhas application_data "$out"; then die "application_data without --data"; fi
[[ $(jget registration_id "$out") != "$(jget registration_id "$(cli "$A1" identity)")" ]] ||
  die "alice.2 has alice.1's registration id"
ok "alice.2 has a registration id of its own"
expect_eq "the request is gone" "$(ls -A "$A2" | tr '\n' ' ')" "hush.db hush.db-generation "
expect_eq "alice.2 database mode" "$(stat -c %a "$A2/hush.db")" 600
expect_fail 1 "" "$T/link" "$A2" link --accept
out=$(cli "$A2" devices)
expect_list "alice.2's list" "$out" alice 2 1,2 3
expect_eq "alice.2's list is alice.1's" "$(jget device_list "$out")" "$LIST2"
out=$(cli "$A2" identity)
expect_eq "alice.2 identity device_id" "$(jget device_id "$out")" 2
expect_eq "alice.2 identity device_list_version" "$(jget device_list_version "$out")" 2

# ---- bob and alice's two devices ----

step "bob encrypts to both of alice's devices, both decrypt"
cli "$A1" bundle >"$T/a1_bundle"
cli "$A2" bundle >"$T/a2_bundle"
expect_eq "alice.2's bundle device_id" "$(jget device_id "$(cat "$T/a2_bundle")")" 2
expect_eq "alice.2's bundle identity" "$(jget identity_key "$(cat "$T/a2_bundle")")" "$ALICE_KEY"
cli "$B" process-bundle --peer alice <"$T/a1_bundle"
cli "$B" process-bundle --peer alice <"$T/a2_bundle"
info=$(cli "$B" session-info --peer alice --device 2)
expect_eq "bob->alice.2 exists" "$(jget exists "$info")" true
expect_eq "bob->alice.2 remote_identity" "$(jget remote_identity "$info")" "$ALICE_KEY"
expect_eq "bob->alice.2 trusted_identity (the person's)" "$(jget trusted_identity "$info")" \
  "$ALICE_KEY"
cli "$B" encrypt --peer alice --device 1 <"$T/to_alice" >"$T/b_a1"
cli "$B" encrypt --peer alice --device 2 <"$T/to_alice" >"$T/b_a2"
cmp -s "$T/b_a1" "$T/b_a2" && die "the two devices got the same ciphertext"
expect_fail 2 "" "$T/b_a1" "$A2" decrypt --peer bob
deliver bob "$A1" "$T/b_a1" "$T/to_alice"
deliver bob "$A2" "$T/b_a2" "$T/to_alice"

step "alice's device 2 writes to bob; bob decrypts it as alice's device 2"
cli "$A2" encrypt --peer bob <"$T/from_alice2" >"$T/a2_b"
check_message_line "$(cat "$T/a2_b")" whisper
expect_fail 2 "" "$T/a2_b" "$B" decrypt --peer alice
deliver alice "$B" "$T/a2_b" "$T/from_alice2" --device 2
cli "$B" encrypt --peer alice --device 2 <"$T/again" >"$T/b_a2w"
check_message_line "$(cat "$T/b_a2w")" whisper
deliver bob "$A2" "$T/b_a2w" "$T/again"

# ---- importing lists ----

step "bob imports alice's list (identity already trusted)"
out=$(cli "$B" devices --peer alice --import <"$T/list2")
expect_list "bob's copy of alice's list" "$out" alice 2 1,2 3
expect_eq "bob's copy, signed bytes" "$(jget device_list "$(cli "$B" devices --peer alice)")" "$LIST2"
before=$(state_sum "$B")
cli "$B" devices --peer alice --import <"$T/list2" >/dev/null
[[ $(state_sum "$B") == "$before" ]] || die "importing the stored list again changed the state"
ok "importing the stored list again succeeds and changes nothing"

step "a rollback (the version-1 list after version 2) is refused"
listed=$(cli "$B" devices --peer alice)
expect_fail 2 stale_device_list "$T/list1" "$B" devices --peer alice --import
expect_eq "bob's copy after the rollback" "$(cli "$B" devices --peer alice)" "$listed"
expect_fail 2 stale_device_list "$T/list1" "$A2" devices --import

step "a list signed by another identity, or naming someone else, or forged"
cli "$M" init --name alice --prekeys 0 >/dev/null
MLIST=$(jget device_list "$(cli "$M" devices)")
hexfile "$T/mlist" "$MLIST"
expect_fail 2 untrusted_identity "$T/mlist" "$B" devices --peer alice --import
expect_fail 2 untrusted_identity "$T/mlist" "$A1" devices --import
expect_fail 2 invalid_message "$T/list2" "$B" devices --peer carol --import
expect_fail 2 invalid_message "$T/list2" "$M" devices --peer bob --import
hexfile "$T/badlist" "$(flip_last_byte "$LIST2")"
expect_fail 2 invalid_signature "$T/badlist" "$B" devices --peer alice --import
hexfile "$T/badlist" "00"
expect_fail 2 invalid_protobuf "$T/badlist" "$B" devices --peer alice --import
hexfile "$T/badlist" "not hex"
expect_fail 1 "" "$T/badlist" "$B" devices --peer alice --import
head -c 5000 /dev/zero | tr '\0' 'a' >"$T/badlist"
expect_fail 1 "" "$T/badlist" "$B" devices --peer alice --import
expect_eq "bob's copy after the refusals" "$(cli "$B" devices --peer alice)" "$listed"

step "a first list trusts its identity on first use"
cli "$D" init --name dave --prekeys 0 >/dev/null
expect_eq "dave trusts nobody for alice yet" \
  "$(jget trusted_identity "$(cli "$D" session-info --peer alice)")" ""
out=$(cli "$D" devices --peer alice --import <"$T/list2")
expect_list "dave's copy of alice's list" "$out" alice 2 1,2 3
expect_eq "dave trusts alice's key now" \
  "$(jget trusted_identity "$(cli "$D" session-info --peer alice)")" "$ALICE_KEY"
cli "$M" bundle >"$T/m_bundle"
expect_fail 2 untrusted_identity "$T/m_bundle" "$D" process-bundle --peer alice

step "with a list stored, devices not on it are refused (unknown_device)"
expect_fail 2 unknown_device "$T/to_alice" "$B" encrypt --peer alice --device 3
expect_fail 2 unknown_device "$T/a2_bundle" "$B" process-bundle --peer alice --device 3
expect_fail 2 unknown_device "$T/a2_b" "$B" decrypt --peer alice --device 5
info=$(cli "$B" session-info --peer alice --device 3)
expect_eq "session-info still answers for an unlisted device" "$(jget exists "$info")" false

# ---- contacts and application data travel with a link ----

step "device 3: the link carries alice's contacts and application data"
out=$(cli "$A3" link-code)
CODE3=$(jget code "$out")
cli "$A1" link --code "$CODE3" --data 00ff10 >"$T/link3"
expect_eq "link device_id" "$(jget device_id "$(cat "$T/link3")")" 3
# alice.1 knows bob (he wrote to her): his identity goes to the new device.
jget message "$(cat "$T/link3")" >"$T/link3.hex"
out=$(cli "$A3" link --accept --prekeys 0 <"$T/link3.hex")
expect_eq "alice.3 device_id" "$(jget device_id "$out")" 3
expect_eq "alice.3 contacts" "$(jget contacts "$out")" 1
expect_eq "alice.3 application_data" "$(jget application_data "$out")" 00ff10
expect_eq "alice.3 trusts bob's key" \
  "$(jget trusted_identity "$(cli "$A3" session-info --peer bob)")" "$BOB_KEY"
expect_list "alice.3's list" "$(cli "$A3" devices)" alice 3 1,2,3 4
LIST3=$(jget device_list "$(cli "$A1" devices)")
hexfile "$T/list3" "$LIST3"
out=$(cli "$B" devices --peer alice --import <"$T/list3")
expect_list "bob's copy, version 3" "$out" alice 3 1,2,3 4
out=$(cli "$A2" devices --import <"$T/list3")
expect_list "alice.2 learns its own person's list" "$out" alice 3 1,2,3 4

# ---- unlink ----

step "unlink"
expect_fail 2 invalid_argument /dev/null "$A1" unlink --device 1
expect_fail 2 invalid_argument /dev/null "$A1" unlink --device 9
expect_fail 1 "" /dev/null "$A1" unlink
expect_fail 1 "" /dev/null "$A1" unlink --device 0
out=$(cli "$A1" unlink --device 2)
expect_list "alice.1 after unlinking device 2" "$out" alice 4 1,3 4
expect_eq "unlink prints the stored list" "$(cli "$A1" devices)" "$out"
hexfile "$T/list4" "$(jget device_list "$out")"
out=$(cli "$B" devices --peer alice --import <"$T/list4")
expect_list "bob's copy after the unlink" "$out" alice 4 1,3 4
expect_eq "bob's session with the removed device is closed" \
  "$(jget exists "$(cli "$B" session-info --peer alice --device 2)")" false
expect_fail 2 unknown_device "$T/to_alice" "$B" encrypt --peer alice --device 2
cli "$A2" encrypt --peer bob <"$T/again" >"$T/a2_b2"
expect_fail 2 unknown_device "$T/a2_b2" "$B" decrypt --peer alice --device 2
cli "$B" encrypt --peer alice --device 1 <"$T/again" >"$T/b_a1w"
deliver bob "$A1" "$T/b_a1w" "$T/again"
expect_fail 2 stale_device_list "$T/list3" "$B" devices --peer alice --import
cli "$A2" devices --import <"$T/list4" >/dev/null
grep -q "not on our device list" "$T/cli.err" || die "no note that alice.2 was unlinked"
ok "alice.2 imports the list without it, and is told"
out=$(cli "$WORK/spare" link-code)
expect_fail 2 unknown_device /dev/null "$A2" link --code "$(jget code "$out")"
expect_fail 2 unknown_device /dev/null "$A2" unlink --device 3

# ---- trust and lists ----

step "trusting a new identity for a person drops the list signed by the old one"
cli "$B" trust --peer alice --identity-key "$(jget identity_key "$(cli "$M" identity)")"
expect_fail 1 "" /dev/null "$B" devices --peer alice
out=$(cli "$B" devices --peer alice --import <"$T/mlist")
expect_list "bob's copy of the new identity's list" "$out" alice 1 1 2
cli "$B" trust --peer alice --identity-key "$ALICE_KEY"
out=$(cli "$B" devices --peer alice --import <"$T/list4")
expect_list "bob's copy after trusting alice's key again" "$out" alice 4 1,3 4

# ---- the most devices ----

step "a person's 33rd device is refused"
# alice has devices 1 and 3; one code serves every link (the existing side keeps no record of it).
for ((i = 0; i < 30; ++i)); do cli "$A1" link --code "$CODE3" >/dev/null; done
out=$(cli "$A1" devices)
expect_eq "alice's device count" "$(jarray devices "$out" | awk -F, '{print NF}')" 32
expect_eq "alice's list version" "$(jget version "$out")" 34
expect_fail 2 limit_exceeded /dev/null "$A1" link --code "$CODE3"
expect_eq "alice's list after the refusal" "$(cli "$A1" devices)" "$out"
cli "$A1" unlink --device 33 >/dev/null
out=$(cli "$A1" link --code "$CODE3")
expect_eq "after an unlink the next link gets a new id (ids are never reused)" \
  "$(jget device_id "$out")" 34

# ---- a sealed state and older states ----

step "link --accept honours HUSH_CLI_STORAGE_KEY"
KEY=$(printf '%064x' 42)
out=$(cli "$WORK/sealed" link-code)
cli "$A1" unlink --device 34 >/dev/null
cli "$A1" link --code "$(jget code "$out")" >"$T/link_sealed"
HUSH_CLI_STORAGE_KEY=$KEY cli "$WORK/sealed" link --accept --prekeys 1 <"$T/link_sealed" >/dev/null
expect_fail 1 "" /dev/null "$WORK/sealed" identity
out=$(HUSH_CLI_STORAGE_KEY=$KEY cli "$WORK/sealed" identity)
expect_eq "the sealed device's id" "$(jget device_id "$out")" 35

step "a state made with init --device-id N (N > 1) has no list to change"
out=$(cli "$WORK/old7" init --name erin --device-id 7 --prekeys 0)
expect_eq "no list for device 7" "$(jget device_list_version "$out")" 0
expect_fail 1 "" /dev/null "$WORK/old7" devices
out=$(cli "$WORK/spare2" link-code)
expect_fail 1 "" /dev/null "$WORK/old7" link --code "$(jget code "$out")"
expect_fail 1 "" /dev/null "$WORK/old7" unlink --device 1

step "link-code --force replaces a kept request; init --force drops one"
old=$(sha256sum <"$WORK/spare2/link-request")
cli "$WORK/spare2" link-code --force >/dev/null
[[ $(sha256sum <"$WORK/spare2/link-request") != "$old" ]] || die "link-code --force kept the old request"
ok "link-code --force made a new request"
cli "$WORK/spare2" init --force --name zoe --prekeys 0 >/dev/null
expect_eq "init --force removed the request" "$(ls -A "$WORK/spare2" | tr '\n' ' ')" \
  "hush.db hush.db-generation "

printf '\nALL CLI DEVICE CHECKS PASSED\n'

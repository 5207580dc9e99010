#!/usr/bin/env bash
# Checks a shared libhush's C ABI: every function the C headers declare is exported with the
# symbol version of the release that added it (HUSH_C_1.0, or HUSH_C_1.1 or HUSH_C_1.2 for exactly
# the functions listed below), no other hush_* symbol is exported, the version nodes chain (1.2
# inherits 1.1, which inherits 1.0), and
# the C++ API is still exported (unversioned). Usage: check_symbols.sh LIBRARY INCLUDE_DIR/hush/c
set -euo pipefail
lib=$1
headers=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Functions declared in the headers (a declaration starts with HUSH_C_API and may span lines).
perl -0777 -ne 'while (/HUSH_C_API[^;(]*?\b(hush_\w+)\s*\(/g) { print "$1\n" }' "$headers"/*.h |
  sort -u >"$work/declared"
# Defined dynamic symbols: NAME@@VERSION (or NAME alone when unversioned).
readelf --dyn-syms -W "$lib" | awk '$7 != "UND" && NF >= 8 { print $8 }' | sort -u >"$work/defined"

# The functions added in HUSH_C_1.1 (group.h, sframe.h, one in messenger.h); every other one is HUSH_C_1.0. A function
# moved between versions breaks programs linked against the old one: this list only grows.
cat >"$work/v1_1" <<'NAMES'
hush_group_create_distribution
hush_group_decrypt
hush_group_encrypt
hush_group_free
hush_group_new_current
hush_group_new_legacy
hush_group_new_random
hush_group_name
hush_group_process_distribution
hush_group_rotate_sender_key
hush_messenger_dismiss_identity_change
hush_sframe_receiver_add_key
hush_sframe_receiver_decrypt
hush_sframe_receiver_free
hush_sframe_receiver_new
hush_sframe_receiver_remove_key
hush_sframe_sender_encrypt
hush_sframe_sender_free
hush_sframe_sender_new
hush_sframe_sender_next_counter
NAMES
sort -o "$work/v1_1" "$work/v1_1"
# The functions added in HUSH_C_1.2 (Kyber prekeys for directories and the messenger: Signal v4).
cat >"$work/v1_2" <<'NAMES'
hush_messenger_new_v2
hush_published_keys_bundle_v2
hush_published_keys_kyber_pre_key
hush_published_keys_kyber_pre_key_count
hush_published_keys_last_resort_kyber_pre_key
hush_session_version
NAMES
sort -o "$work/v1_2" "$work/v1_2"

status=0
count=$(wc -l <"$work/declared")
if missing=$(comm -23 "$work/v1_1" "$work/declared") && [[ -n $missing ]]; then
  echo "listed as HUSH_C_1.1 but not declared in a C header: $missing" >&2
  status=1
fi
if missing=$(comm -23 "$work/v1_2" "$work/declared") && [[ -n $missing ]]; then
  echo "listed as HUSH_C_1.2 but not declared in a C header: $missing" >&2
  status=1
fi
if [[ $count -lt 40 ]]; then
  echo "only $count declarations found in $headers: the pattern is broken" >&2
  status=1
fi
while read -r f; do
  version=HUSH_C_1.0
  if grep -qx "$f" "$work/v1_1"; then version=HUSH_C_1.1; fi
  if grep -qx "$f" "$work/v1_2"; then version=HUSH_C_1.2; fi
  if ! grep -qx "$f@@$version" "$work/defined"; then
    echo "not exported as $f@@$version: $(grep -E "^$f(@|$)" "$work/defined" || echo missing)" >&2
    status=1
  fi
done <"$work/declared"
# No C symbol beyond the declared ones (a helper leaking into the ABI).
grep -E '^hush_' "$work/defined" | sed 's/@.*//' | sort -u | comm -23 - "$work/declared" >"$work/extra" || true
if [[ -s $work/extra ]]; then
  echo "exported but not declared in a C header:" >&2
  cat "$work/extra" >&2
  status=1
fi
# HUSH_C_1.1 builds on HUSH_C_1.0 (a verneed on 1.1 implies 1.0 is there).
if ! readelf -V -W "$lib" | grep -A1 'Name: HUSH_C_1.1' | grep -q 'Parent 1: HUSH_C_1.0'; then
  echo "the version node HUSH_C_1.1 does not name HUSH_C_1.0 as its parent" >&2
  status=1
fi
if ! readelf -V -W "$lib" | grep -A1 'Name: HUSH_C_1.2' | grep -q 'Parent 1: HUSH_C_1.1'; then
  echo "the version node HUSH_C_1.2 does not name HUSH_C_1.1 as its parent" >&2
  status=1
fi
# The C++ API stays exported as before, without a symbol version.
for sym in _ZN4hush15encrypt_message _ZN4hush9Messenger4send _ZN4hush11SqliteStore4open; do
  if ! grep -q "^$sym" "$work/defined"; then
    echo "C++ symbol $sym... is no longer exported" >&2
    status=1
  elif grep "^$sym" "$work/defined" | grep -q "@"; then
    echo "C++ symbol $sym... got a symbol version" >&2
    status=1
  fi
done
if [[ $status -eq 0 ]]; then
  v11=$(wc -l <"$work/v1_1")
  v12=$(wc -l <"$work/v1_2")
  echo "$count C functions exported: $((count - v11 - v12)) as HUSH_C_1.0, $v11 as HUSH_C_1.1," \
    "$v12 as HUSH_C_1.2;" \
    "C++ symbols exported unversioned"
fi
exit $status

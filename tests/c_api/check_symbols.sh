#!/usr/bin/env bash
# Checks a shared libhush's C ABI: every function the C headers declare is exported with the
# symbol version HUSH_C_1.0, no other hush_* symbol is exported, and the C++ API is still exported
# (unversioned). Usage: check_symbols.sh LIBRARY INCLUDE_DIR/hush/c
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

status=0
count=$(wc -l <"$work/declared")
if [[ $count -lt 40 ]]; then
  echo "only $count declarations found in $headers: the pattern is broken" >&2
  status=1
fi
while read -r f; do
  if ! grep -qx "$f@@HUSH_C_1.0" "$work/defined"; then
    echo "not exported as $f@@HUSH_C_1.0: $(grep -E "^$f(@|$)" "$work/defined" || echo missing)" >&2
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
  echo "$count C functions exported as HUSH_C_1.0; C++ symbols exported unversioned"
fi
exit $status

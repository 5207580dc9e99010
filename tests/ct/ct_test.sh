#!/usr/bin/env bash
# The constant-time check (ct_check.cpp) under valgrind memcheck.
#   ct_test.sh CT_CHECK SUPPRESSIONS
# First the control: an early-exit comparison of secrets must be reported (the check can fail).
# Then the check itself: no report, and every result right.
set -euo pipefail
check=${1:?usage: ct_test.sh CT_CHECK SUPPRESSIONS}
supp=${2:?usage: ct_test.sh CT_CHECK SUPPRESSIONS}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
memcheck=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins=yes
          --suppressions="$supp")

rc=0
"${memcheck[@]}" "$check" --control >"$out" 2>&1 || rc=$?
if ((rc != 99)) || ! grep -q "Conditional jump or move depends on uninitialised value" "$out" ||
   ! grep -q "leaky_equals" "$out"; then
  cat "$out"
  echo "FAIL: memcheck did not report the control's early-exit comparison of secrets (exit $rc)"
  exit 1
fi
echo "ok: the control's secret-dependent branch is reported (in leaky_equals)"

rc=0
"${memcheck[@]}" "$check" >"$out" 2>&1 || rc=$?
cat "$out"
if ((rc != 0)); then
  echo "FAIL: secret-dependent branches, indexes or results (exit $rc); see above"
  exit 1
fi
echo "ok: no secret-dependent branch or memory access, every result right"

#!/usr/bin/env bash
# The public headers are clean for whoever includes them:
#   - each header under include/hush/ (recursively) compiles alone, as the first and only include
#     of a translation unit, with -Wall -Wextra -Wpedantic -Werror;
#   - none of them reaches a third-party header: every file the compiler opens is one of hush's
#     own or belongs to the C or C++ standard library (Debian packages libc6-dev, linux-libc-dev,
#     libstdc++-N-dev, libgcc-N-dev). OpenSSL, libsodium, protobuf, SQLite and spdlog stay out.
# The one exception is hush/spdlog_logger.h, the adapter an application opts into: it compiles
# alone as well, and may reach spdlog and fmt (and nothing else outside the standard library).
# A control run checks that the check catches a header that includes <sqlite3.h>.
# Usage: public_headers_test.sh REPO_DIR   (CXX picks the compiler; c++ by default)
set -euo pipefail
repo=$(cd "$1" && pwd)
cxx=${CXX:-c++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check INCLUDE_DIR HEADER ALLOWED_EXTRA_PACKAGES_REGEX: compiles `#include <HEADER>` alone and
# fails (naming the file and its package) if it reaches a header of another package.
check() {
  local include_dir=$1 header=$2 extra=$3 log=$work/compile.log
  if ! echo "#include <$header>" |
    "$cxx" -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -H -I"$include_dir" -x c++ - \
      2>"$log"; then
    echo "$header does not compile alone:" >&2
    grep -v '^\.' "$log" >&2
    return 1
  fi
  local outside=()
  while IFS= read -r f; do
    f=$(realpath "$f")
    case $f in "$include_dir"/*) ;; *) outside+=("$f") ;; esac
  done < <(sed -n 's/^\.\+ //p' "$log" | sort -u)
  ((${#outside[@]})) || return 0
  local bad
  bad=$(dpkg -S "${outside[@]}" 2>&1 | sed 's/:[a-z0-9]*: /: /' |
    grep -Ev "^(libc6-dev|linux-libc-dev|libstdc\+\+-[0-9]+-dev|libgcc-[0-9]+-dev${extra}): " || true)
  if [[ -n $bad ]]; then
    echo "$header reaches headers outside hush and the standard library:" >&2
    echo "$bad" >&2
    return 1
  fi
}

count=0
while IFS= read -r h; do
  rel=${h#"$repo/include/"}
  if [[ $rel == hush/spdlog_logger.h ]]; then
    check "$repo/include" "$rel" "|libspdlog-dev|libfmt-dev"
  else
    check "$repo/include" "$rel" ""
  fi
  count=$((count + 1))
done < <(find "$repo/include/hush" -name '*.h' | sort)
echo "public headers: $count compile alone; none but hush/spdlog_logger.h reaches a third-party header"

# Control: a header that includes <sqlite3.h> is caught.
mkdir -p "$work/include/hush"
printf '#pragma once\n#include <sqlite3.h>\n' >"$work/include/hush/leaky.h"
if check "$work/include" hush/leaky.h "" 2>"$work/control.log"; then
  echo "control: a header including <sqlite3.h> was not caught" >&2
  exit 1
fi
grep -q libsqlite3-dev "$work/control.log"
echo "control: a header including <sqlite3.h> is caught (libsqlite3-dev)"

#!/usr/bin/env bash
# Installs the Debian 12 packages hush needs that are missing (run as root; uses apt-get).
#   tools/install-deps.sh           what building the library and examples needs (the chat
#                                   example needs standalone Asio, header-only: libasio-dev,
#                                   and libqrencode-dev for link codes as QR codes, libopus-dev
#                                   and libvpx-dev for calls' voice and video; hush-cli
#                                   needs nlohmann-json3-dev, header-only, for its JSON)
#   tools/install-deps.sh --test    also what the test suite needs (Catch2, Doxygen for the API
#                                   reference and its test, spdlog for the tests
#                                   of the opt-in spdlog adapter, clang-format, clang
#                                   with libFuzzer for the fuzz targets, and the peer library
#                                   libsignal-protocol-c for interop tests only, valgrind for
#                                   the constant-time check), and the Node peer: Debian's nodejs
#                                   and npm if there is no node/npm, then `npm ci` in tests/node
#                                   (@signalapp/libsignal-client 0.103.0 from the lockfile, for
#                                   interop tests only)
#   tools/install-deps.sh --bench   also what bench/ needs (Google Benchmark, and the peers
#                                   libsignal-protocol-c and libolm, for benchmarks only)
set -euo pipefail

packages=(g++ make cmake pkg-config libssl-dev libsodium-dev libprotobuf-dev protobuf-compiler
          libsqlite3-dev libasio-dev libqrencode-dev nlohmann-json3-dev libopus-dev libvpx-dev)
case "${1:-}" in
  "") ;;
  --test)
    packages+=(catch2 doxygen libspdlog-dev libsignal-protocol-c-dev clang-format clang
               libclang-rt-14-dev valgrind)
    # A node and npm already on the machine (node 20 here) are used as they are.
    command -v node >/dev/null || packages+=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
    ;;
  --bench) packages+=(libbenchmark-dev libsignal-protocol-c-dev libolm-dev) ;;
  *)
    echo "usage: $0 [--test | --bench]" >&2
    exit 2
    ;;
esac
# The test suite runs the C API's Python example (examples/python: python3, standard library only).
if [[ ${1:-} == --test ]]; then
  packages+=(python3)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi

if [[ ${1:-} == --test ]]; then
  # The Node peer for the interop tests, exactly as the lockfile pins it.
  echo "install-deps: npm ci in tests/node"
  (cd "$(dirname "$0")/../tests/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

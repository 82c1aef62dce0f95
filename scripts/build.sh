#!/usr/bin/env bash
# Configures and builds one tree: scripts/build.sh [release|asan|fuzz] [TARGET...]
# (all targets by default).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
jobs=$(nproc)
case "$kind" in
  release) cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
           cmake --build build -j "$jobs" "${targets[@]}" ;;
  asan)    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAPFS_SANITIZE=ON \
                 -DMAPFS_BUILD_BENCH=OFF >/dev/null
           cmake --build build-asan -j "$jobs" "${targets[@]}" ;;
  fuzz)    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMAPFS_FUZZ=ON >/dev/null
           cmake --build build-fuzz -j "$jobs" "${targets[@]}" ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac

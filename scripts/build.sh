#!/usr/bin/env bash
# Configures and builds one tree: scripts/build.sh [release|asan|fuzz].
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=$(nproc)
case "$kind" in
  release) cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
           cmake --build build -j "$jobs" ;;
  asan)    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMAPFS_SANITIZE=ON \
                 -DMAPFS_BUILD_BENCH=OFF >/dev/null
           cmake --build build-asan -j "$jobs" ;;
  fuzz)    cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMAPFS_FUZZ=ON >/dev/null
           cmake --build build-fuzz -j "$jobs" ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The test command (README, .ci/run): installs dependencies, builds the release,
# sanitizer and fuzzer trees, runs GoogleTest via ctest in both, each fuzzer for
# a fixed count, checks the Debian package, and runs the pytest integration
# suite that mounts for real.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
scripts/build.sh asan
scripts/build.sh fuzz

echo "== unit tests (release)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== unit tests (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)"

echo "== fuzzers (fixed run count)"
for fuzzer in build-fuzz/tests/fuzz/*_fuzz; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus=$(mktemp -d)
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  log=$(mktemp)
  # An input that runs over 10 s is a hang and fails with its bytes; the
  # outer limit stops a fuzzer stuck in its own out-of-memory report.
  if ! timeout 900 "$fuzzer" -runs="${MAPFS_FUZZ_RUNS:-200000}" -max_len=4096 -seed=1 \
      -timeout=10 -artifact_prefix="build-fuzz/$name-" "$corpus" >"$log" 2>&1; then
    # Enough to reproduce: the stack and the crashing input (base64).
    echo "$name failed:"
    tail -n 60 "$log"
    rm -rf "$corpus" "$log"
    exit 1
  fi
  tail -n 2 "$log"
  rm -rf "$corpus" "$log"
done

echo "== Debian package (build, install, native client via find_package and pkg-config, remove)"
scripts/package_test.sh build

echo "== Python module tests (pytest)"
PYTHONPATH="$PWD/build/python" /usr/bin/python3 -m pytest -q python/tests

echo "== integration tests (pytest, real mounts)"
export MAPFS_BIN="$PWD/build/cli/mapfs"
/usr/bin/python3 -m pytest -q integration

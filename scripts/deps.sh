#!/usr/bin/env bash
# Installs what mapfs needs to build and test, from Debian 12's apt only. Idempotent.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libcli11-dev libxxhash-dev libsimdjson-dev nlohmann-json3-dev libboost-dev
  libfmt-dev libspdlog-dev libfuse3-dev fuse3 liblmdb-dev
  python3-pytest python3-numpy python3-dev pybind11-dev squashfs-tools squashfuse
  dpkg-dev file man-db
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

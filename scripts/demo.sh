#!/usr/bin/env bash
# README command 1: installs dependencies, builds mapfs, builds the bundled
# sample (sample/people.jsonl with sample/schema.yaml) into a segment keyed by
# name, mounts it, and shows it with ls, cat and numpy, and reads it from Python
# (import mapfs). Unmounts on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release mapfs mapfs_python

mapfs=build/cli/mapfs
out=build/sample
mnt=$out/mnt
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then fusermount3 -u "$mnt"; fi

show() { printf '\n$ %s\n' "$*"; "$@"; }

show $mapfs build --schema sample/schema.yaml --type Person --input sample/people.jsonl \
  --output $out/people.mapfs --key name
show $mapfs mount $out/people.mapfs $mnt
trap 'fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"' EXIT
show ls $mnt
show ls -l "$mnt/Ada Lovelace"
show cat "$mnt/Ada Lovelace/age"
show cat "$mnt/Ada Lovelace/home/x"
show cat "$mnt/Ada Lovelace/@json"
show cat "$mnt/@info"
show /usr/bin/python3 -c "import numpy as np; print(np.load('$mnt/Ada Lovelace/embedding', mmap_mode='r'))"
show env PYTHONPATH=build/python /usr/bin/python3 -c "import mapfs; people = mapfs.open('$out/people.mapfs'); ada = people['Ada Lovelace']; print(ada.age, sorted(ada.tags), ada.embedding.shape)"
printf '\nThe mount is removed on exit; to keep one: %s mount %s DIR\n' "$mapfs" "$out/people.mapfs"

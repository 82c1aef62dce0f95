#!/usr/bin/env bash
# README command 1: installs dependencies, builds mapfs, and shows the bundled
# sample: each record of sample/people.jsonl is packed with sample/schema.yaml
# and printed back as JSON through a zero-copy view.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
echo "== mapfs pack --schema sample/schema.yaml --type Person sample/people.jsonl"
build/cli/mapfs pack --schema sample/schema.yaml --type Person sample/people.jsonl

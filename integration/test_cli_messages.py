"""Errors in a user's words (docs/cli.md): a file that is not a segment says
so, and every error about a damaged segment names the file."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "sample", "schema.yaml")
PEOPLE = os.path.join(ROOT, "sample", "people.jsonl")


def run(mapfs_bin, *args):
    return subprocess.run([mapfs_bin, *map(str, args)], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("content", [b"", b"MAPF", b"structs: {}\n" * 20, b"\0" * 4096])
@pytest.mark.parametrize("command, code", [(["get", "{}", "0"], 2), (["inspect", "{}"], 2),
                                           (["dump", "{}"], 2), (["verify", "{}"], 1)])
def test_a_file_that_is_not_a_segment_says_so(mapfs_bin, tmp_path, content, command, code):
    path = tmp_path / "schema.yaml"
    path.write_bytes(content)
    r = run(mapfs_bin, *[a.format(path) for a in command])
    assert r.returncode == code, r.stderr
    assert r.stderr == f"mapfs: {path}: not a mapfs segment (no magic)\n"


def test_a_truncated_segment_still_says_where(mapfs_bin, tmp_path):
    seg = tmp_path / "p.mapfs"
    assert run(mapfs_bin, "build", "--schema", SCHEMA, "--type", "Person", "--input", PEOPLE,
               "--output", seg).returncode == 0
    seg.write_bytes(seg.read_bytes()[:100])
    r = run(mapfs_bin, "get", seg, "0")
    assert r.returncode == 2
    assert r.stderr == f"mapfs: {seg}: offset 100: file shorter than the 128-byte header\n"


def data_section(mapfs_bin, seg):
    r = run(mapfs_bin, "inspect", seg)
    m = re.search(r"^\s+data\s+offset (\d+)\s+size (\d+)", r.stdout, re.M)
    assert m, r.stdout
    return int(m[1]), int(m[2])


def test_every_error_about_a_damaged_record_names_the_file(mapfs_bin, tmp_path):
    seg = tmp_path / "p.mapfs"
    assert run(mapfs_bin, "build", "--schema", SCHEMA, "--type", "Person", "--input", PEOPLE,
               "--output", seg).returncode == 0
    good = seg.read_bytes()
    start, size = data_section(mapfs_bin, seg)
    bad = tmp_path / "bad.mapfs"
    record_damage = []
    # Every byte of the records, flipped: a dump (which renders every record
    # and does not check the section checksums) either still works or names
    # the file.
    for at in range(start, start + size):
        data = bytearray(good)
        data[at] ^= 0xFF
        bad.write_bytes(bytes(data))
        r = run(mapfs_bin, "dump", bad)
        if r.returncode == 0:
            continue
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith(f"mapfs: {bad}: "), r.stderr
        assert r.stderr.count("\n") == 1
        if "record offset" in r.stderr or "checksum mismatch in block" in r.stderr:
            record_damage.append(data)
    assert record_damage
    # `get` of the damaged record names the file too.
    for data in record_damage[:5]:
        bad.write_bytes(bytes(data))
        failed = [run(mapfs_bin, "get", bad, i) for i in range(4)]
        failed = [r for r in failed if r.returncode != 0]
        assert failed
        for r in failed:
            assert r.returncode == 2, r.stderr
            assert re.match(rf"mapfs: {re.escape(str(bad))}: .*offset \d+: ", r.stderr), r.stderr

"""Block checksums end to end (docs/format.md, "Block checksums"): a byte
flipped inside a segment is never served as data — `mapfs get` and `mapfs
dump` fail with a Corruption message naming the block, a mount answers EIO
for the nodes whose blocks hold it — while records in other blocks read as
before. Ends with a small corruption sweep over sampled flips."""
import errno
import random
import re
import subprocess

import pytest

from mapfs_testlib import build_segment, mounted

SCHEMA = """structs:
  Doc:
    fields:
      name: str
      n: uint64
      text: str
"""
COUNT = 400
BLOCK = 65536


def marker(i):
    return f"marker-{i:05d}-"


def records():
    # ~500 bytes a record: 400 records span four 64 KiB blocks.
    return [{"name": f"doc{i}", "n": i, "text": marker(i) + "y" * 470} for i in range(COUNT)]


def run(mapfs_bin, *args):
    return subprocess.run([mapfs_bin, *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def sections(mapfs_bin, seg):
    r = run(mapfs_bin, "inspect", seg)
    assert r.returncode == 0, r.stderr
    found = {m[1]: (int(m[2]), int(m[3]))
             for m in re.finditer(r"^\s+(\w+)\s+offset (\d+)\s+size (\d+)", r.stdout, re.M)}
    assert "data" in found and "block_checksums" in found, r.stdout
    return found


@pytest.fixture(scope="module")
def docs(mapfs_bin, tmp_path_factory):
    return build_segment(mapfs_bin, tmp_path_factory.mktemp("integrity"), SCHEMA, "Doc",
                         records(), key="name", name="docs")


def flip(good, at, path):
    data = bytearray(good)
    data[at] ^= 0x10
    path.write_bytes(bytes(data))
    return path


def read_or_errno(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        return e.errno


def test_get_of_a_flipped_record_fails_and_other_records_read(mapfs_bin, docs, tmp_path):
    good = docs.read_bytes()
    at = good.index(marker(200).encode()) + 3
    bad = flip(good, at, tmp_path / "bad.mapfs")
    r = run(mapfs_bin, "get", bad, "doc200", "text")
    assert r.returncode == 2, r.stdout
    assert r.stdout == ""
    assert re.fullmatch(rf"mapfs: {re.escape(str(bad))}: offset \d+: checksum mismatch in block "
                        rf"{at // BLOCK} \(bytes \d+\.\.\d+\)\n", r.stderr), r.stderr
    # A record in another block reads as in the good file.
    far = 0 if at // BLOCK > 0 else COUNT - 1
    r = run(mapfs_bin, "get", bad, f"doc{far}", "n")
    assert (r.returncode, r.stdout) == (0, f"{far}\n"), r.stderr
    assert run(mapfs_bin, "verify", bad).returncode != 0


def test_mount_gives_eio_for_the_flipped_record_only(mapfs_bin, docs, tmp_path):
    good = docs.read_bytes()
    at = good.index(marker(200).encode()) + 3
    bad = flip(good, at, tmp_path / "bad.mapfs")
    with mounted(mapfs_bin, bad, tmp_path / "mnt") as m:
        assert read_or_errno(m.path / "doc200" / "text") == errno.EIO
        assert read_or_errno(m.path / "doc200" / "@json") == errno.EIO
        far = 0 if at // BLOCK > 0 else COUNT - 1
        assert read_or_errno(m.path / f"doc{far}" / "n") == f"{far}\n".encode()
        text = read_or_errno(m.path / f"doc{far}" / "text")
        assert text == (marker(far) + "y" * 470).encode()
        # Again: the daemon's segment remembers its proven blocks, and the bad
        # one stays bad.
        assert read_or_errno(m.path / "doc200" / "text") == errno.EIO
        assert read_or_errno(m.path / f"doc{far}" / "n") == f"{far}\n".encode()
        assert m.alive()
        assert "checksum mismatch in block" in m.log_text()


def test_sweep_every_sampled_flip_is_an_error_never_data(mapfs_bin, docs, tmp_path):
    """Flips sampled bytes of the data and index sections, one copy per flip,
    all mounted at once from a directory source; reads every record through the
    mount, `mapfs dump` and `mapfs get`: each answer is an error or the good
    file's bytes, and every flip is noticed."""
    good = docs.read_bytes()
    secs = sections(mapfs_bin, docs)
    first = secs["data"][0]
    end = secs["block_checksums"][0]
    rng = random.Random(12)
    flips = sorted(rng.sample(range(first, end), 10))
    # A flip in each index section too.
    for name in ("record_offsets", "directory", "entries"):
        off, size = secs[name]
        flips.append(off + size // 2)
    src = tmp_path / "src"
    src.mkdir()
    for n, at in enumerate(flips):
        flip(good, at, src / f"f{n}.mapfs")
    want_dump = run(mapfs_bin, "dump", docs).stdout.splitlines()
    assert len(want_dump) == COUNT
    counts = {"error": 0, "served": 0}
    with mounted(mapfs_bin, src, tmp_path / "mnt") as m:
        for n, at in enumerate(flips):
            errors = 0
            for i in range(COUNT):
                got = read_or_errno(m.path / f"f{n}" / f"doc{i}" / "text")
                if got == errno.EIO:
                    errors += 1
                    continue
                assert got == (marker(i) + "y" * 470).encode(), (at, i, got)
                counts["served"] += 1
            r = run(mapfs_bin, "dump", src / f"f{n}.mapfs")
            lines = r.stdout.splitlines()
            assert lines == want_dump[:len(lines)], at
            if r.returncode != 0:
                assert "checksum mismatch in block" in r.stderr, r.stderr
                errors += 1
            for i in (0, COUNT // 2, COUNT - 1):
                r = run(mapfs_bin, "get", src / f"f{n}.mapfs", f"doc{i}", "n")
                if r.returncode != 0:
                    assert "checksum mismatch in block" in r.stderr, r.stderr
                    errors += 1
                else:
                    assert r.stdout == f"{i}\n"
            assert errors > 0, f"flip at {at} unnoticed"
            counts["error"] += errors
        assert m.alive()
    print(f"sweep: {len(flips)} flips, {counts['error']} errors, "
          f"{counts['served']} good reads, 0 bad bytes served")

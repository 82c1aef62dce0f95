"""Hot reload of a single-file mount: the root's names are cached by the
kernel as long as any entry (cache_timeout), and a replacement invalidates
each name the kernel was handed from the old version, so that a name gone,
changed or added shows the new version within about a second and nothing of
the old one is served once the new one is seen (docs/layout.md, "Replaced
sources"). Every mount is unmounted in a fixture or finally."""
import errno
import json
import os
import re
import subprocess
import time

import pytest

from mapfs_testlib import build_replacement, build_segment, mounted, wait_for

SCHEMA = """structs:
  Person:
    fields: {key: str, id: uint64, name: str}
"""

WITHIN = 1.5  # seconds: about one, with room for a loaded machine


def old_version():
    return [{"key": f"k{i}", "id": i, "name": f"old-{i}"} for i in range(5)]


def new_version():
    """k1 is gone, k2 changed (a longer name), k5 added; k0, k3 and k4 keep
    their bytes (under new inodes)."""
    records = [r for r in old_version() if r["key"] != "k1"]
    records[1] = {"key": "k2", "id": 2, "name": "new-2-longer"}
    return records + [{"key": "k5", "id": 5, "name": "new-5"}]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def missing(path):
    try:
        os.stat(path)
    except OSError as e:
        assert e.errno == errno.ENOENT, e
        return True
    return False


@pytest.fixture
def people(mapfs_bin, tmp_path):
    return build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Person", old_version(),
                         key="key", name="people")


@pytest.mark.parametrize("walk", ["lookups", "listing"])
def test_root_names_show_the_new_version_at_once(mapfs_bin, people, tmp_path, walk):
    with mounted(mapfs_bin, people, tmp_path / "mnt") as m:
        root = m.path
        # Hand the kernel the root's names: by lookups, or by a readdirplus.
        if walk == "listing":
            assert sorted(n for n in os.listdir(root) if not n.startswith("@")) == [
                f"k{i}" for i in range(5)]
        for i in range(5):
            assert read(root / f"k{i}" / "name") == f"old-{i}".encode()
            assert os.stat(root / f"k{i}" / "name").st_size == len(f"old-{i}")
        assert missing(root / "k5")
        # Past the old one-second limit: only an invalidation drops them now.
        time.sleep(1.2)
        assert read(root / "k2" / "name") == b"old-2"

        build_replacement(mapfs_bin, people, SCHEMA, "Person", new_version(), key="key")
        replaced = time.monotonic()
        # Until the new k2 shows, each read is one whole version; from then
        # on, never the old one again.
        seen_new = False
        while time.monotonic() - replaced < WITHIN and not seen_new:
            got = read(root / "k2" / "name")
            assert got in (b"old-2", b"new-2-longer"), got
            seen_new = got == b"new-2-longer"
            if not seen_new:
                time.sleep(0.01)
        assert seen_new, f"k2 not changed within {WITHIN} s"
        # The gone name goes with the same invalidation pass; the listing
        # (the root, invalidated last) then shows the new version.
        wait_for(lambda: missing(root / "k1"), WITHIN, "k1 gone")
        wait_for(lambda: sorted(n for n in os.listdir(root) if not n.startswith("@")) ==
                 ["k0", "k2", "k3", "k4", "k5"], WITHIN, "the new listing")
        assert read(root / "k2" / "name") == b"new-2-longer"
        assert os.stat(root / "k2" / "name").st_size == len("new-2-longer")
        assert json.loads(read(root / "k2" / "@json"))["name"] == "new-2-longer"
        for i in (0, 3, 4):
            assert read(root / f"k{i}" / "name") == f"old-{i}".encode()
        assert os.stat(root / "@segment").st_size == os.stat(people).st_size
        # The added name was a cached miss: misses at the root last a second.
        wait_for(lambda: read(root / "k5" / "name") == b"new-5", WITHIN, "k5 added")
        assert time.monotonic() - replaced < 2 * WITHIN
        assert m.alive()


def test_root_names_are_cached_long_without_replacements(mapfs_bin, people, tmp_path):
    """A name the kernel was handed is not looked up again a second later
    (the request counts the daemon logs when unmounted)."""
    mnt = tmp_path / "mnt"
    with mounted(mapfs_bin, people, mnt) as m:
        for _ in range(3):
            for i in range(5):
                os.stat(m.path / f"k{i}")
            time.sleep(0.7)
    counts = served(tmp_path / "mnt.log")
    # Five names, looked up once; not again in each later round.
    assert counts["lookup"] <= 5, counts


def served(log_path):
    """The request counts of the daemon's `requests served:` line, by kind."""
    found = re.search(r"requests served: (.*)", log_path.read_text(errors="replace"))
    assert found
    return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in found.group(1).split(", "))}


def test_a_walk_slower_than_a_second_looks_up_nothing_it_listed(mapfs_bin, tmp_path):
    """A cold walk of a single-file mount costs what one of a directory
    mount does: the root's listed names do not expire under a slow walk."""
    count = 300
    seg = build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Person",
                        [{"key": f"k{i}", "id": i, "name": f"n{i}"} for i in range(count)],
                        key="key", name="many")
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert len(os.listdir(m.path)) == count + 3  # readdirplus: every name handed over
        time.sleep(1.3)
        out = subprocess.run(["find", str(m.path), "-type", "f"], capture_output=True,
                             text=True, check=True).stdout.split()
        assert len(out) == count * 4 + 3  # key, id, name and @json per record
    counts = served(tmp_path / "mnt.log")
    assert counts["lookup"] == 0, counts


DATASET_SCHEMA = """structs:
  Item:
    fields: {name: str, v: int64}
"""


def build_dataset(mapfs_bin, tmp_path, out, shards, n, offset):
    schema = tmp_path / "ds-schema.yaml"
    schema.write_text(DATASET_SCHEMA)
    data = tmp_path / f"ds-{offset}.jsonl"
    data.write_text("".join(json.dumps({"name": f"item-{i}", "v": i + offset}) + "\n"
                            for i in range(n)))
    subprocess.run([mapfs_bin, "build", "--schema", str(schema), "--type", "Item", "--input",
                    str(data), "--output", str(out), "--shards", str(shards), "-q", "--key",
                    "name"], check=True, capture_output=True, timeout=120)


def test_a_dataset_mounted_as_source_drops_the_names_it_gave(mapfs_bin, tmp_path):
    ds = tmp_path / "items"
    build_dataset(mapfs_bin, tmp_path, ds, 3, n=30, offset=0)
    with mounted(mapfs_bin, ds, tmp_path / "mnt") as m:
        for i in (3, 12, 25):
            assert read(m.path / f"item-{i}" / "v") == f"{i}\n".encode()
        assert sorted(os.listdir(m.path / "@shards")) == ["0", "1", "2"]
        time.sleep(1.2)  # past the old one-second limit
        build_dataset(mapfs_bin, tmp_path, ds, 2, n=20, offset=1000)
        wait_for(lambda: read(m.path / "item-12" / "v") == b"1012\n", WITHIN, "item-12 changed")
        wait_for(lambda: missing(m.path / "item-25"), WITHIN, "item-25 gone")
        assert read(m.path / "item-3" / "v") == b"1003\n"
        assert sorted(os.listdir(m.path / "@shards")) == ["0", "1"]
        assert json.loads(read(m.path / "@info"))["shards"] == 2
        assert m.alive()

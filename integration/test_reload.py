"""Hot reload: a segment replaced by rename is served within 2 s by
`mapfs mount FILE`, `mapfs mount DIR` and config mounts; a reader with a file
open keeps the version it opened; a replacement that fails validation is
refused (logged, the old version keeps serving); files renamed into or
removed from a directory source come and go; and readers racing many
replacements only ever see one complete version. Every mount is unmounted
in a fixture or finally."""
import errno
import mmap
import os
import subprocess
import textwrap
import threading
import time

import pytest

from mapfs_testlib import (build_replacement, build_segment, mounted, mounted_config,
                           replace_with_bytes, wait_for)

SCHEMA = """structs:
  Person:
    fields: {key: str, id: uint64, name: str}
"""

RELOAD_WITHIN = 2.0  # seconds, the contract
KEYS = [f"k{i}" for i in range(5)]


def version(v, prefix=""):
    """Records of version "A" (names alpha-<i>) or "B" (beta-<i>-long, longer,
    plus a key only B has), so a torn or stale read shows."""
    if v == "A":
        return [{"key": k, "id": i, "name": f"{prefix}alpha-{i}"} for i, k in enumerate(KEYS)]
    return ([{"key": k, "id": 100 + i, "name": f"{prefix}beta-{i}-long"}
             for i, k in enumerate(KEYS)] + [{"key": "only-b", "id": 999, "name": "b"}])


def name_of(v, i, prefix=""):
    return (f"{prefix}alpha-{i}" if v == "A" else f"{prefix}beta-{i}-long").encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def read_fd(fd):
    """Everything from offset 0 of an open file descriptor."""
    chunks, offset = [], 0
    while True:
        b = os.pread(fd, 1 << 16, offset)
        if not b:
            return b"".join(chunks)
        chunks.append(b)
        offset += len(b)


def get_json(mapfs_bin, seg, key):
    """A record's @json text, as `mapfs get` prints it."""
    r = subprocess.run([mapfs_bin, "get", str(seg), key], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def shows(path, want):
    """A check for wait_for: `path` now reads exactly `want`."""
    return lambda: read(path) == want


def replace(mapfs_bin, target, v, prefix=""):
    build_replacement(mapfs_bin, target, SCHEMA, "Person", version(v, prefix), key="key")


def entries(path):
    """The names in a directory, without mapfs's @ entries."""
    return [n for n in os.listdir(path) if not n.startswith("@")]


def assert_missing(path):
    with pytest.raises(OSError) as e:
        os.stat(path)
    assert e.value.errno == errno.ENOENT, e.value


@pytest.fixture
def people(mapfs_bin, tmp_path):
    """tmp_path/src/people.mapfs at version A."""
    return build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Person", version("A"), key="key",
                         name="people")


def test_file_mount_serves_each_replacement_within_2s(mapfs_bin, people, tmp_path):
    """A single-file mount's root is the collection itself: each name under it
    switches to the new version on its own, within a second (docs/layout.md,
    "Replaced sources"), and everything below one name is one version."""
    with mounted(mapfs_bin, people, tmp_path / "mnt") as m:
        # Fill the kernel's caches: names, attributes, pages and a miss.
        assert read(m.path / "k1" / "name") == b"alpha-1"
        assert read(m.path / "k1" / "@json") == get_json(mapfs_bin, people, "k1")
        assert read(m.path / "k4" / "name") == b"alpha-4"
        assert_missing(m.path / "only-b")
        for v in ("B", "A", "B"):
            replace(mapfs_bin, people, v)
            wait_for(shows(m.path / "k1" / "name", name_of(v, 1)), RELOAD_WITHIN,
                     f"version {v} of k1/name")
            want = read(people)
            # The same record directory: the same version as k1/name.
            assert read(m.path / "k1" / "@json") == get_json(mapfs_bin, people, "k1")
            wait_for(shows(m.path / "k4" / "name", name_of(v, 4)), RELOAD_WITHIN,
                     f"version {v} of k4/name")
            wait_for(shows(m.path / "@segment", want), RELOAD_WITHIN, f"version {v} of @segment")
            assert os.stat(m.path / "@segment").st_size == len(want)
            if v == "B":
                wait_for(lambda: read(m.path / "only-b" / "name") == b"b", RELOAD_WITHIN,
                         "a key only the new version has")
            else:
                wait_for(lambda: not os.path.exists(m.path / "only-b"), RELOAD_WITHIN,
                         "a key the new version lacks")
        assert m.alive()


def test_listed_tree_serves_each_replacement_within_2s(mapfs_bin, people, tmp_path):
    """As above, but the tree was listed first (ls: readdirplus hands the
    kernel every entry's attributes), and listings must follow too."""
    with mounted(mapfs_bin, people, tmp_path / "mnt") as m:
        assert sorted(entries(m.path)) == KEYS
        assert sorted(os.listdir(m.path / "k1")) == ["@json", "id", "key", "name"]
        assert read(m.path / "k1" / "name") == b"alpha-1"
        for v in ("B", "A"):
            replace(mapfs_bin, people, v)
            wait_for(shows(m.path / "k1" / "name", name_of(v, 1)), RELOAD_WITHIN,
                     f"version {v} of k1/name after a listing")
            assert read(m.path / "k1" / "@json") == get_json(mapfs_bin, people, "k1")
            wait_for(shows(m.path / "k3" / "id", f"{(100 if v == 'B' else 0) + 3}\n".encode()),
                     RELOAD_WITHIN, f"version {v} of k3/id (each name switches on its own)")
            want = sorted(KEYS + (["only-b"] if v == "B" else []))
            wait_for(lambda: sorted(entries(m.path)) == want, RELOAD_WITHIN,
                     f"the listing of version {v}")
            assert sorted(entries(m.path)) == want
        assert m.alive()


def test_open_files_keep_the_version_they_opened(mapfs_bin, people, tmp_path):
    old_segment = read(people)
    old_json = get_json(mapfs_bin, people, "k2")
    with mounted(mapfs_bin, people, tmp_path / "mnt") as m:
        fds = {p: os.open(m.path / p, os.O_RDONLY) for p in ("k2/name", "k2/@json", "@segment")}
        mapped_fd = os.open(m.path / "@segment", os.O_RDONLY)
        mapped = mmap.mmap(mapped_fd, 0, prot=mmap.PROT_READ)
        try:
            # Nothing is read before the replacement: the kernel holds no page yet.
            replace(mapfs_bin, people, "B")
            wait_for(shows(m.path / "k2" / "name", name_of("B", 2)), RELOAD_WITHIN,
                     "the new version for a fresh open")
            assert read_fd(fds["k2/name"]) == b"alpha-2"
            assert read_fd(fds["k2/@json"]) == old_json
            assert read_fd(fds["@segment"]) == old_segment
            assert mapped[:] == old_segment      # a mapping keeps its version too
            # And a fresh open of each sees the new version.
            assert read(m.path / "k2" / "@json") == get_json(mapfs_bin, people, "k2")
            wait_for(shows(m.path / "@segment", read(people)), RELOAD_WITHIN,
                     "the new @segment for a fresh open (each name switches on its own)")
        finally:
            mapped.close()
            for fd in [*fds.values(), mapped_fd]:
                os.close(fd)


def bad_bytes(kind, good):
    if kind == "truncated":
        return good[:len(good) // 2]
    return os.urandom(len(good))


@pytest.mark.parametrize("source,kind", [("file", "truncated"), ("file", "random"),
                                         ("dir", "truncated")])
def test_invalid_replacement_is_refused_and_old_version_serves(mapfs_bin, people, tmp_path,
                                                                source, kind):
    mount_source = people if source == "file" else people.parent
    base = tmp_path / "mnt" if source == "file" else tmp_path / "mnt" / "people"
    good_b = tmp_path / "b" / "people.mapfs"
    build_segment(mapfs_bin, good_b.parent, SCHEMA, "Person", version("B"), key="key",
                  name="people")
    with mounted(mapfs_bin, mount_source, tmp_path / "mnt") as m:
        assert read(base / "k3" / "name") == b"alpha-3"
        replace_with_bytes(people, bad_bytes(kind, read(good_b)))
        line = wait_for(lambda: [l for l in m.log_text().splitlines()
                                 if "refused" in l and str(people) in l], 5,
                        "a log line saying the replacement was refused")
        assert line
        # The old version still serves, fresh opens included.
        for _ in range(3):
            assert read(base / "k3" / "name") == b"alpha-3"
            assert read(base / "k0" / "@json").count(b"alpha-0") == 1
            time.sleep(0.05)
        assert_missing(base / "only-b")
        assert m.alive()
        # A valid replacement after the refused one is served again.
        replace(mapfs_bin, people, "B")
        wait_for(shows(base / "k3" / "name", name_of("B", 3)), RELOAD_WITHIN,
                 "a valid replacement after a refused one")
        assert read(base / "@segment") == read(people)


def test_directory_source_files_appear_change_and_disappear(mapfs_bin, people, tmp_path):
    src = people.parent
    with mounted(mapfs_bin, src, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == ["people"]
        assert_missing(m.path / "more")                  # a cached miss
        replace(mapfs_bin, src / "more.mapfs", "A", prefix="more-")
        wait_for(lambda: "more" in os.listdir(m.path), RELOAD_WITHIN,
                 "a segment renamed into the directory is listed")
        assert sorted(os.listdir(m.path)) == ["more", "people"]
        wait_for(shows(m.path / "more" / "k2" / "name", b"more-alpha-2"), RELOAD_WITHIN,
                 "the new collection's records")
        replace(mapfs_bin, people, "B")
        wait_for(shows(m.path / "people" / "k2" / "name", name_of("B", 2)), RELOAD_WITHIN,
                 "a replaced file of the directory")
        assert read(m.path / "more" / "k2" / "name") == b"more-alpha-2"
        # Renamed out of the directory, back in, then deleted.
        os.rename(src / "more.mapfs", tmp_path / "away.mapfs")
        wait_for(lambda: os.listdir(m.path) == ["people"], RELOAD_WITHIN,
                 "a segment renamed away leaves the listing")
        os.rename(tmp_path / "away.mapfs", src / "more.mapfs")
        wait_for(shows(m.path / "more" / "k0" / "name", b"more-alpha-0"), RELOAD_WITHIN,
                 "a segment renamed back in")
        os.unlink(src / "more.mapfs")
        wait_for(lambda: os.listdir(m.path) == ["people"], RELOAD_WITHIN,
                 "a removed segment leaves the listing")
        wait_for(lambda: not os.path.exists(m.path / "more"), RELOAD_WITHIN,
                 "a removed segment's collection is gone")
        assert read(m.path / "people" / "k2" / "name") == name_of("B", 2)
        assert m.alive()


def two_source_config(mapfs_bin, tmp_path, options="{threads: 4}"):
    """A config mount with `people` (a file) and `archive` (a directory holding
    places.mapfs), both at version A; returns (config, mountpoint, people,
    places)."""
    people = build_segment(mapfs_bin, tmp_path / "src", SCHEMA, "Person", version("A"),
                           key="key", name="people")
    places = build_segment(mapfs_bin, tmp_path / "archive", SCHEMA, "Person",
                           version("A", "place-"), key="key", name="places")
    for p in (tmp_path / "archive").iterdir():   # only the segment in the directory
        if p != places:
            p.unlink()
    mnt = tmp_path / "mnt"
    cfg = tmp_path / "mounts.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        mounts:
          catalog:
            mountpoint: {mnt}
            sources:
              people: {people}
              archive: {tmp_path / "archive"}
            options: {options}
        """))
    return cfg, mnt, people, places


def test_config_mount_reloads_file_and_directory_sources(mapfs_bin, tmp_path):
    cfg, mnt, people, places = two_source_config(mapfs_bin, tmp_path)
    with mounted_config(mapfs_bin, cfg, [mnt]) as m:
        assert read(mnt / "people" / "k0" / "name") == b"alpha-0"
        assert read(mnt / "archive" / "places" / "k0" / "name") == b"place-alpha-0"
        replace(mapfs_bin, people, "B")
        wait_for(shows(mnt / "people" / "k0" / "name", name_of("B", 0)), RELOAD_WITHIN,
                 "the file source's new version")
        assert read(mnt / "archive" / "places" / "k0" / "name") == b"place-alpha-0"
        replace(mapfs_bin, places, "B", prefix="place-")
        wait_for(shows(mnt / "archive" / "places" / "k0" / "name", b"place-beta-0-long"),
                 RELOAD_WITHIN, "the directory source's new version")
        assert read(mnt / "people" / "k0" / "name") == name_of("B", 0)
        assert m.alive()


def replaced_mappings(pid, path):
    """The lines of the daemon's memory map that map a replaced (deleted) `path`."""
    with open(f"/proc/{pid}/maps") as f:
        return [line for line in f if line.rstrip().endswith(f"{path} (deleted)")]


@pytest.mark.parametrize("kind", ["config", "file"])
def test_a_segment_mapped_across_a_replacement_is_released_at_its_last_close(
        mapfs_bin, people, tmp_path, kind):
    """A native client maps @segment, the source is rebuilt, the client keeps
    its old mapping and then drops it: the daemon unmaps the old version right
    then (the replaced file's disk space comes back), not whenever the kernel
    next prunes its caches. Covers a collection under the root of a config
    mount and a single-file mount, whose root is the collection."""
    if kind == "config":
        cfg, mnt, people, _ = two_source_config(mapfs_bin, tmp_path)
        mount, segment = mounted_config(mapfs_bin, cfg, [mnt]), mnt / "people" / "@segment"
    else:
        mount, segment = mounted(mapfs_bin, people, tmp_path / "mnt"), tmp_path / "mnt" / "@segment"
    old = read(people)
    with mount as m:
        fd = os.open(segment, os.O_RDONLY)
        mapped = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        try:
            assert mapped[:] == old
            replace(mapfs_bin, people, "B")
            new = read(people)
            wait_for(shows(segment, new), RELOAD_WITHIN, "the new @segment for a fresh open")
            assert mapped[:] == old
            assert replaced_mappings(m.proc.pid, people), "the old version is held while mapped"
        finally:
            mapped.close()
            os.close(fd)
        wait_for(lambda: not replaced_mappings(m.proc.pid, people), RELOAD_WITHIN,
                 "the old version unmapped after the client's last close")
        assert read(segment) == new
        assert m.alive()


@pytest.mark.parametrize("kind", ["config", "file"])
def test_readers_see_whole_versions_while_segments_are_replaced(mapfs_bin, tmp_path, kind):
    """4 reader threads open and read files (and list their collections) for
    ~3-4 s while the writer replaces the sources by rename, alternating
    between versions A and B whose every read file differs (in length too).
    Each read must be one of the two complete contents, each listing one of
    the two key sets; each new version must show within 2 s. `config`: a
    config mount of two sources (a file and a directory), both replaced each
    round; `file`: `mapfs mount FILE`."""
    cfg, mnt, people, places = two_source_config(mapfs_bin, tmp_path)
    # Both versions of both segments, built once; each replacement renames a
    # fresh copy into place.
    built = {}
    for v in ("A", "B"):
        d = tmp_path / f"version-{v}"
        built[("people", v)] = build_segment(mapfs_bin, d, SCHEMA, "Person", version(v),
                                             key="key", name="people")
        built[("places", v)] = build_segment(mapfs_bin, d, SCHEMA, "Person",
                                             version(v, "place-"), key="key", name="places")
    if kind == "config":
        mount = mounted_config(mapfs_bin, cfg, [mnt])
        colls = {"people": mnt / "people", "places": mnt / "archive" / "places"}
        targets = {"people": people, "places": places}
    else:
        mount = mounted(mapfs_bin, people, mnt)
        colls = {"people": mnt}
        targets = {"people": people}
    files = {}     # path -> {content: version}
    listings = {}  # directory -> {names without @ entries: version}
    for coll, base in colls.items():
        prefix = "place-" if coll == "places" else ""
        for i, k in enumerate(KEYS):
            files[base / k / "name"] = {name_of(v, i, prefix): v for v in "AB"}
            files[base / k / "@json"] = {
                get_json(mapfs_bin, built[(coll, v)], k): v for v in "AB"}
        listings[base] = {frozenset(KEYS): "A", frozenset(KEYS + ["only-b"]): "B"}
    for choices in files.values():
        assert len(choices) == 2
        assert len({len(c) for c in choices}) == 2  # a torn read cannot match
    paths = list(files)
    dirs = list(listings)

    stop = threading.Event()
    errors = []
    seen = {"A": 0, "B": 0}
    lock = threading.Lock()

    def reader(t):
        n = t
        counts = {"A": 0, "B": 0}
        while not stop.is_set():
            n += 7
            try:
                if n % 5 == 0:
                    d = dirs[n % len(dirs)]
                    got = frozenset(entries(d))
                    v = listings[d].get(got)
                    if v is None:
                        errors.append(f"{d}: listed {sorted(got)}")
                        break
                else:
                    path = paths[n % len(paths)]
                    got = read(path)
                    v = files[path].get(got)
                    if v is None:
                        errors.append(f"{path}: read {got!r}, expected one of "
                                      f"{list(files[path])}")
                        break
            except OSError as e:
                errors.append(f"{e.filename}: {e}")
                break
            counts[v] += 1
        with lock:
            for v in counts:
                seen[v] += counts[v]

    with mount as m:
        for path, choices in files.items():
            assert choices[read(path)] == "A"
        readers = [threading.Thread(target=reader, args=(t,)) for t in range(4)]
        for t in readers:
            t.start()
        try:
            late = []
            rounds = 0
            while rounds < 7 and not errors:
                v = "B" if rounds % 2 == 0 else "A"
                rounds += 1
                for coll, target in targets.items():
                    replace_with_bytes(target, read(built[(coll, v)]))
                swapped = time.monotonic()
                for base in colls.values():
                    path = base / "k0" / "name"
                    try:
                        wait_for(lambda: files[path].get(read(path)) == v, RELOAD_WITHIN,
                                 f"{path} at version {v}")
                    except AssertionError as e:
                        late.append(f"round {rounds}: {e}")
                if late:
                    break
                # Let the readers run on this version a while (7 rounds: >= 3.5 s).
                time.sleep(max(0.0, 0.5 - (time.monotonic() - swapped)))
        finally:
            stop.set()
            for t in readers:
                t.join(timeout=30)
        assert not errors, errors[:5]
        assert not late, late
        assert rounds == 7, rounds
        assert seen["A"] > 0 and seen["B"] > 0, seen
        assert m.alive()
        # After the last round every file shows that round's version.
        final = "B" if rounds % 2 == 1 else "A"
        for path, choices in files.items():
            wait_for(lambda: choices.get(read(path)) == final, RELOAD_WITHIN,
                     f"{path} at the last version")
        for d, choices in listings.items():
            assert choices[frozenset(entries(d))] == final

"""`mapfs mount` for real: every field type's file, @json, numpy, @segment,
escaping, multimaps, approximate maps, concurrency, read-only, corruption,
and the mount's lifecycle. Every mount is unmounted in a fixture/finally."""
import base64
import errno
import json
import mmap
import os
import signal
import stat
import subprocess
import time

import numpy as np
import pytest

from mapfs_testlib import (build_garbled_records, build_segment, decode_name, mounted,
                           run_concurrently, unmount)

SCHEMA = """structs:
  Point:
    typecode: P
    fields: {x: float64, y: float64}
  Rec:
    fields:
      id: uint64
      name: str
      i8: int8
      i64: int64
      f32: float32
      f64: float64
      ok: bool
      blob: bytes
      day: date
      at: datetime
      money: decimal
      tags: frozenset<int64>
      words: list<str>
      pair: tuple<str, int64>
      attrs: dict<str, object>
      counts: dict<int64, str>
      home: Point
      grid: ndarray<float64>
      mask: ndarray<bool>
      extra: object
"""

# Inputs already in their rendered form, so @json must equal them exactly
# (absent fields render as null).
RECORDS = [
    {"id": 1, "name": "Ada", "i8": -5, "i64": 9007199254740993, "f32": 0.1, "f64": 42.0,
     "ok": True, "blob": base64.b64encode(b"\x00\x01\xff").decode(), "day": "1815-12-10",
     "at": "2024-05-06T07:08:09.123456Z", "money": "1234.50", "tags": [1, 2, 3],
     "words": ["a", "b/c"], "pair": ["x", 2], "attrs": {"k": "v", "n": 1, "l": [1, 2.5]},
     "counts": {"-1": "minus", "7": "seven"}, "home": {"x": 51.5, "y": -0.1276},
     "grid": [[0.5, 1.0], [-2.0, 3.25]], "mask": [True, False, True], "extra": "str"},
    {"id": 2, "name": "Bob", "f64": "NaN", "f32": "-Infinity", "money": "-1E+3",
     "tags": [], "words": [], "extra": 7, "grid": [], "home": {"x": -0.0, "y": 1e+16}},
    {"id": 3, "name": "", "f64": 1.5e-05, "extra": {"d": {"deep": [True]}}},
]

FIELD_TEXT = {  # record 0: field -> exact file content
    "id": b"1\n", "name": b"Ada", "i8": b"-5\n", "i64": b"9007199254740993\n", "f32": b"0.1\n",
    "f64": b"42.0\n", "ok": b"true\n", "blob": b"\x00\x01\xff", "day": b"1815-12-10\n",
    "at": b"2024-05-06T07:08:09.123456Z\n", "money": b"1234.50\n", "extra": b"str",
}


def expected_json(rec):
    fields = ["id", "name", "i8", "i64", "f32", "f64", "ok", "blob", "day", "at", "money",
              "tags", "words", "pair", "attrs", "counts", "home", "grid", "mask", "extra"]
    return {f: rec.get(f) for f in fields}


def normalize(v):
    """NaN != NaN in Python: compare JSON documents through their text."""
    return json.dumps(v, sort_keys=True)


@pytest.fixture
def array_mount(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        yield m, seg


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_every_field_type_has_its_content_and_exact_size(array_mount):
    m, _ = array_mount
    rec = m.path / "0"
    for field, text in FIELD_TEXT.items():
        assert read(rec / field) == text, field
        assert os.stat(rec / field).st_size == len(text), field
    assert read(m.path / "1" / "f64") == b"NaN\n"
    assert read(m.path / "1" / "f32") == b"-Infinity\n"
    assert read(m.path / "1" / "money") == b"-1E+3\n"
    assert read(m.path / "1" / "extra") == b"7\n"
    assert read(m.path / "1" / "home" / "x") == b"-0.0\n"
    assert read(m.path / "1" / "home" / "y") == b"1e+16\n"
    assert read(m.path / "2" / "name") == b""
    assert read(m.path / "2" / "f64") == b"1.5e-05\n"
    for p in (m.path).rglob("*"):
        if p.is_file() and p.name != "@segment":
            assert os.stat(p).st_size == len(read(p)), p


def test_containers_are_directories(array_mount):
    m, _ = array_mount
    rec = m.path / "0"
    assert sorted(os.listdir(rec / "tags")) == ["1", "2", "3", "@json"]
    assert read(rec / "tags" / "2") == b"2\n"
    assert read(rec / "words" / "1") == b"b/c"
    assert read(rec / "pair" / "0") == b"x" and read(rec / "pair" / "1") == b"2\n"
    assert sorted(os.listdir(rec / "attrs")) == ["@json", "k", "l", "n"]
    assert read(rec / "attrs" / "l" / "1") == b"2.5\n"
    assert sorted(os.listdir(rec / "counts")) == ["-1", "7", "@json"]
    assert read(rec / "counts" / "-1") == b"minus"
    assert read(rec / "home" / "x") == b"51.5\n"
    assert read(m.path / "2" / "extra" / "d" / "deep" / "0") == b"true\n"
    # Absent fields do not appear.
    assert "blob" not in os.listdir(m.path / "1")
    with pytest.raises(FileNotFoundError):
        os.stat(m.path / "1" / "blob")


def test_json_equals_the_input_under_the_rendering_rules(array_mount):
    m, _ = array_mount
    for i, rec in enumerate(RECORDS):
        text = read(m.path / str(i) / "@json")
        assert text.endswith(b"\n") and text.count(b"\n") == 1
        assert normalize(json.loads(text)) == normalize(expected_json(rec))
    assert json.loads(read(m.path / "0" / "home" / "@json")) == RECORDS[0]["home"]
    assert json.loads(read(m.path / "0" / "tags" / "@json")) == [1, 2, 3]
    assert json.loads(read(m.path / "0" / "attrs" / "@json")) == RECORDS[0]["attrs"]


def test_ndarrays_load_with_numpy_mmap(array_mount):
    m, _ = array_mount
    grid = np.load(m.path / "0" / "grid", mmap_mode="r")
    assert grid.dtype == np.float64 and grid.shape == (2, 2)
    assert np.array_equal(grid, np.array(RECORDS[0]["grid"]))
    mask = np.load(m.path / "0" / "mask", mmap_mode="r")
    assert mask.dtype == np.bool_ and list(mask) == [True, False, True]
    empty = np.load(m.path / "1" / "grid")
    assert empty.shape == (0,)


def test_segment_file_is_byte_identical_and_mmappable(array_mount):
    m, seg = array_mount
    want = read(seg)
    assert read(m.path / "@segment") == want
    assert os.stat(m.path / "@segment").st_size == len(want)
    with open(m.path / "@segment", "rb") as f:
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mm:
            assert mm[:] == want
    info = json.loads(read(m.path / "@info"))
    assert info["kind"] == "array" and info["record_count"] == 3
    assert info["size"] == len(want)
    assert "Rec:" in read(m.path / "@schema").decode()


def test_native_client_reads_records_zero_copy(mapfs_bin, tmp_path):
    client = os.path.join(os.path.dirname(os.path.dirname(mapfs_bin)), "integration",
                          "native_client", "mapfs_native_client")
    if not os.path.exists(client):
        pytest.fail(f"native client not built at {client}")
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS, key="name")
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        out = subprocess.run([client, str(m.path / "@segment"), "Ada", "Nobody"],
                             capture_output=True, timeout=30)
        lines = out.stdout.decode().splitlines()
        assert out.returncode == 1  # one key missing
        assert lines[1] == "null"
        assert lines[0].encode() + b"\n" == read(m.path / "Ada" / "@json")


HOSTILE = ["a/b", "%", ".", "..", "@x", "", "k" * 300, "line\nbreak", "\x00nul", "%2F",
           "caf\u00e9", "\u00ff\u00fe"]


def test_hostile_keys_round_trip(mapfs_bin, tmp_path):
    records = [{"id": i, "name": k} for i, k in enumerate(HOSTILE)]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", records, key="name")
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        names = [n for n in os.listdir(bytes(m.path)) if not n.startswith(b"@")]
        assert len(names) == len(HOSTILE)
        found = {}
        for n in names:
            assert len(n) <= 255 and b"/" not in n
            key = read(m.path.__bytes__() + b"/" + n + b"/name")
            found[key.decode()] = n
            if b"%~" not in n:
                assert decode_name(n) == key
        assert sorted(found) == sorted(HOSTILE)
        assert os.path.isdir(os.path.join(bytes(m.path), b"%2E."))  # the key ".."
        assert read(m.path / "%" / "id") == b"5\n"                # the empty key


def test_multimap_shows_records_in_input_order(mapfs_bin, tmp_path):
    records = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "a"}]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", records, key="name", multi=True)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert sorted(os.listdir(m.path)) == ["@info", "@schema", "@segment", "a", "b"]
        assert sorted(os.listdir(m.path / "a")) == ["0", "1", "@json"]
        assert read(m.path / "a" / "1" / "id") == b"3\n"
        assert [r["id"] for r in json.loads(read(m.path / "a" / "@json"))] == [1, 3]


def test_approximate_map_is_lookup_only(mapfs_bin, tmp_path):
    records = [{"id": i, "name": f"k{i % 5}"} for i in range(20)]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", records, key="name", multi=True,
                        approx=True)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert sorted(os.listdir(m.path)) == ["@info", "@schema", "@segment"]
        # A key's directory holds its own records only, never those of keys
        # whose hash collides with it (docs/layout.md).
        ids = [int(read(m.path / "k3" / str(i) / "id")) for i in
               range(len(os.listdir(m.path / "k3")) - 1)]
        assert ids == [3, 8, 13, 18]
        assert [r["id"] for r in json.loads(read(m.path / "k3" / "@json"))] == ids
        assert not os.path.exists(m.path / "nope")


def test_concurrent_readers_see_the_same_bytes(mapfs_bin, tmp_path):
    records = [{"id": i, "name": f"n{i}", "words": [str(j) for j in range(i % 7)]}
               for i in range(500)]
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", records)
    with mounted(mapfs_bin, seg, tmp_path / "mnt", options="threads=4") as m:
        def reader(t):
            for i in range(t, 500, 3):
                assert read(m.path / str(i) / "name") == f"n{i}".encode()
                assert json.loads(read(m.path / str(i) / "@json"))["id"] == i
                assert len(os.listdir(m.path / str(i) / "words")) == i % 7 + 1

        run_concurrently(reader, 8)


def test_writes_are_refused(array_mount):
    m, _ = array_mount
    for action in (lambda: open(m.path / "0" / "name", "wb"),
                   lambda: open(m.path / "new", "w"),
                   lambda: os.mkdir(m.path / "d"),
                   lambda: os.unlink(m.path / "0" / "name"),
                   lambda: os.rename(m.path / "0", m.path / "9"),
                   lambda: os.chmod(m.path / "0" / "name", 0o777)):
        with pytest.raises(OSError) as e:
            action()
        assert e.value.errno == errno.EROFS


def test_missing_names_are_enoent(array_mount):
    m, _ = array_mount
    for p in ("3", "00", "-1", "0/nofield", "0/tags/4", "@nothing"):
        with pytest.raises(FileNotFoundError):
            os.stat(m.path / p)


def test_corrupt_segment_gives_eio_and_the_daemon_lives(mapfs_bin, tmp_path):
    seg = build_garbled_records(mapfs_bin, tmp_path, SCHEMA)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        eio = 0
        for i in range(200):
            try:
                read(m.path / str(i) / "@json")
                for name in os.listdir(m.path / str(i)):
                    p = m.path / str(i) / name
                    if os.path.isfile(p):
                        read(p)
            except OSError as e:
                assert e.errno in (errno.EIO, errno.ENOENT), e
                eio += e.errno == errno.EIO
        assert eio > 0
        assert m.alive()
        assert "@info" in os.listdir(m.path)
        log = m.log_text()
        assert str(seg) in log and "offset" in log


def test_directory_source_has_one_collection_per_file(mapfs_bin, tmp_path):
    src = tmp_path / "src"
    build_segment(mapfs_bin, src, SCHEMA, "Rec", RECORDS, name="people")
    build_segment(mapfs_bin, src, SCHEMA, "Rec", RECORDS, key="name", name="by_name")
    with mounted(mapfs_bin, src, tmp_path / "mnt") as m:
        assert sorted(os.listdir(m.path)) == ["by_name", "people"]
        assert read(m.path / "by_name" / "Ada" / "id") == b"1\n"
        assert read(m.path / "people" / "1" / "name") == b"Bob"


def test_background_mount_returns_when_ready_and_unmounts_cleanly(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        r = subprocess.run([mapfs_bin, "mount", str(seg), str(mnt)], capture_output=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        assert read(mnt / "0" / "name") == b"Ada"
        subprocess.run(["fusermount3", "-u", str(mnt)], check=True, timeout=30)
        assert not os.path.ismount(mnt)
    finally:
        unmount(mnt)


SCRIPT = "#!/bin/sh\necho ran\n"


def mount_flags(mountpoint):
    """The options column of /proc/mounts for `mountpoint`."""
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1] == str(mountpoint):
                return set(fields[3].split(","))
    raise AssertionError(f"{mountpoint} is not in /proc/mounts")


def test_a_script_in_a_field_cannot_run_on_a_default_mount(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", [{"id": 1, "name": SCRIPT}])
    with mounted(mapfs_bin, seg, tmp_path / "mnt", options="mode=0555") as m:
        script = m.path / "0" / "name"
        assert read(script) == SCRIPT.encode()
        assert stat.S_IMODE(os.stat(script).st_mode) == 0o555  # executable bits, yet:
        assert "noexec" in mount_flags(m.path)
        with pytest.raises(PermissionError) as e:
            subprocess.run([str(script)], capture_output=True, timeout=30)
        assert e.value.errno == errno.EACCES


def test_exec_option_allows_running_files(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", [{"id": 1, "name": SCRIPT}])
    with mounted(mapfs_bin, seg, tmp_path / "mnt", options="mode=0555,exec") as m:
        assert "noexec" not in mount_flags(m.path)
        r = subprocess.run([str(m.path / "0" / "name")], capture_output=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, b"ran\n"), r.stderr


def test_setuid_mode_is_refused(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run([mapfs_bin, "mount", str(seg), str(mnt), "-o", "mode=4555"],
                       capture_output=True, timeout=30)
    assert r.returncode == 2
    assert b"mount option 'mode=4555'" in r.stderr and b"setuid" in r.stderr, r.stderr
    assert not os.path.ismount(mnt)


def test_mount_errors_are_clear(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cases = [([str(tmp_path / "missing.mapfs"), str(mnt)], "missing.mapfs"),
             ([str(seg), str(seg)], "not a directory"),
             ([str(seg), str(tmp_path / "nowhere")], "nowhere"),
             ([str(seg), str(mnt), "-o", "threads=0"], "threads=0"),
             ([str(seg), str(mnt), "-o", "bogus"], "bogus"),
             ([str(seg), str(mnt), "--threads", "257"], "--threads: 'threads' must be")]
    try:
        for args, needle in cases:
            r = subprocess.run([mapfs_bin, "mount", *args], capture_output=True, timeout=30)
            assert r.returncode != 0, args
            assert needle in r.stderr.decode(), (args, r.stderr)
            assert not os.path.ismount(mnt)
        with mounted(mapfs_bin, seg, mnt):
            r = subprocess.run([mapfs_bin, "mount", str(seg), str(mnt)], capture_output=True,
                               timeout=30)
            assert r.returncode != 0 and b"already" in r.stderr
    finally:
        unmount(mnt)


def test_sigterm_exits_cleanly_and_unmounts(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        m.proc.send_signal(signal.SIGTERM)
        assert m.proc.wait(timeout=15) == 0
        assert not os.path.ismount(m.path)


def test_stale_mount_is_cleaned_never_hangs(mapfs_bin, tmp_path):
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    mnt = tmp_path / "mnt"
    with mounted(mapfs_bin, seg, mnt) as m:
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait(timeout=15)
        with pytest.raises(OSError) as e:
            os.stat(mnt / "0")
        assert e.value.errno == errno.ENOTCONN
        with mounted(mapfs_bin, seg, mnt) as again:
            assert read(again.path / "0" / "name") == b"Ada"
            assert "stale" in again.log_text()


def test_debug_option_logs_requests_in_the_foreground(mapfs_bin, tmp_path):
    """`-o debug` (without -f) keeps the daemon in the foreground, where its
    standard error shows every FUSE request."""
    seg = build_segment(mapfs_bin, tmp_path, SCHEMA, "Rec", RECORDS)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    log = tmp_path / "debug.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([mapfs_bin, "mount", str(seg), str(mnt), "-o", "debug"],
                                stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not os.path.ismount(mnt):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the mount did not come up"
            time.sleep(0.02)
        assert os.listdir(mnt)
        assert proc.poll() is None, "the daemon detached, so its debug output is lost"
        deadline = time.monotonic() + 5
        while "opcode: READDIR" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.02)
    finally:
        unmount(mnt)
        proc.wait(timeout=15)
    assert proc.returncode == 0


def test_source_truncated_in_place_costs_eio_not_the_daemon(mapfs_bin, tmp_path):
    """Rewriting a mounted file in place (not by rename) shrinks it under the
    daemon's mapping: reads of it fail with EIO and a log line (without the
    truncation guard, the daemon would die of SIGBUS), the daemon stays up,
    and a rebuild renamed over it is served again."""
    small_schema = "structs:\n  R:\n    fields: {id: uint64, name: str}\n"
    records = [{"id": i, "name": f"name-{i:05d}-" + "x" * 40} for i in range(3000)]
    seg = build_segment(mapfs_bin, tmp_path / "src", small_schema, "R", records)
    assert os.path.getsize(seg) > 8 * 4096
    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert (m.path / "0" / "name").read_bytes() == records[0]["name"].encode()
        os.truncate(seg, 4096)  # what `cp other.mapfs seg` does first
        errors = 0
        for i in range(0, 3000, 7):
            try:
                with open(m.path / str(i) / "name", "rb") as f:
                    f.read()
            except OSError as e:
                assert e.errno in (errno.EIO, errno.ENOENT), e
                errors += 1
        assert errors > 0, "no read reached the truncated pages"
        assert m.alive(), m.log_text()
        os.statvfs(m.path)  # the daemon answers
        # The damaged version as a whole answers EIO, never bytes it may have
        # read from the filler.
        with pytest.raises(OSError) as e:
            os.listdir(m.path)
        assert e.value.errno == errno.EIO
        deadline = time.monotonic() + 5
        while "rewritten in place" not in m.log_text():
            assert time.monotonic() < deadline, m.log_text()
            time.sleep(0.05)
        # The fix: a rebuild renamed over the file.
        new = build_segment(mapfs_bin, tmp_path / "new", small_schema, "R",
                            [{"id": 1, "name": "rebuilt"}])
        os.rename(new, seg)
        deadline = time.monotonic() + 5
        while True:
            try:
                if (m.path / "0" / "name").read_bytes() == b"rebuilt":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, m.log_text()
            time.sleep(0.05)
        assert m.alive()

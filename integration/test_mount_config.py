"""`mapfs mount --config FILE [NAME...] [-f]` for real (docs/mounts.md): every
mount of a YAML file with its sources (segment files, directories of them,
shm:// arrays), its options, name selection, the foreground and background
lifecycles, every documented configuration error at its FILE:LINE:COL, and
sources and mountpoints that fail before anything is mounted. Also the
mount(8) helper form `mapfs SOURCE MOUNTPOINT -o opts` behind
`mount -t fuse.mapfs`. Every mount is unmounted in a fixture or finally."""
import json
import os
import shutil
import signal
import stat
import subprocess
import textwrap
import uuid

import numpy as np
import pytest

from mapfs_testlib import (build_segment, mounted, mounted_config, pids_running, unmount,
                           wait_for, _is_live_mount)

SCHEMA = """structs:
  Person:
    fields: {key: str, id: uint64, name: str}
  Point:
    fields: {x: float64, y: float64}
"""

PEOPLE = [{"key": "ada", "id": 1, "name": "Ada"}, {"key": "bob", "id": 2, "name": "Bob"}]
POINTS = [{"x": 1.5, "y": -2.0}, {"x": 0.25, "y": 8.0}]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def entries(path):
    """The names in a directory, in listing order, without mapfs's @ entries."""
    return [n for n in os.listdir(path) if not n.startswith("@")]


@pytest.fixture
def data(mapfs_bin, tmp_path):
    """Segments in tmp_path/data: people.mapfs (keyed), points.mapfs (an
    array) and segdir/ with two segments; the config lives in tmp_path/conf."""
    d = tmp_path / "data"
    people = build_segment(mapfs_bin, d, SCHEMA, "Person", PEOPLE, key="key", name="people")
    points = build_segment(mapfs_bin, d, SCHEMA, "Point", POINTS, name="points")
    segdir = d / "segdir"
    build_segment(mapfs_bin, d / "stage", SCHEMA, "Person", PEOPLE[:1], key="key", name="first")
    build_segment(mapfs_bin, d / "stage", SCHEMA, "Point", POINTS[1:], name="second")
    segdir.mkdir()
    for name in ("first", "second"):
        shutil.copyfile(d / "stage" / f"{name}.mapfs", segdir / f"{name}.mapfs")
    (tmp_path / "conf").mkdir()
    return {"people": people, "points": points, "segdir": segdir, "conf": tmp_path / "conf"}


def write_config(path, text):
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def two_mounts(data, tmp_path, options='{threads: 2, cache_timeout: 60, allow_other: false}'):
    """The contract's example: `catalog` (absolute paths, a file and a
    directory source) and `scratch` (paths relative to the config file)."""
    shutil.copyfile(data["points"], data["conf"] / "points.mapfs")
    cfg = write_config(data["conf"] / "mounts.yaml", f"""
        mounts:
          catalog:
            mountpoint: {tmp_path / "mnt1"}
            sources:
              people: {data["people"]}
              archive: {data["segdir"]}
            options: {options}
          scratch:
            mountpoint: mnt2
            sources: {{points: points.mapfs}}
        """)
    (tmp_path / "mnt1").mkdir()
    (data["conf"] / "mnt2").mkdir()
    return cfg, tmp_path / "mnt1", data["conf"] / "mnt2"


def run_mapfs(mapfs_bin, *args, cwd=None, timeout=30):
    return subprocess.run([mapfs_bin, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def get_json(mapfs_bin, seg, key):
    r = run_mapfs(mapfs_bin, "get", str(seg), key)
    assert r.returncode == 0, r.stderr
    return r.stdout.encode()


def test_foreground_config_mounts_every_mount_and_source(mapfs_bin, data, tmp_path):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    before = pids_running(mapfs_bin)
    # From "/", so relative paths can only resolve against the config's directory.
    with mounted_config(mapfs_bin, cfg, [mnt1, mnt2], cwd="/") as m:
        # One process serves both mounts.
        assert pids_running(mapfs_bin) - before == {m.proc.pid}
        assert entries(mnt1) == ["people", "archive"]      # file order
        people = mnt1 / "people"
        assert {"@schema", "@info", "@segment", "ada", "bob"} <= set(os.listdir(people))
        assert read(people / "ada" / "name") == b"Ada"
        assert read(people / "bob" / "@json") == get_json(mapfs_bin, data["people"], "bob")
        assert read(people / "@segment") == read(data["people"])
        assert json.loads(read(people / "@info"))["record_count"] == 2
        assert "Person:" in read(people / "@schema").decode()
        assert sorted(entries(mnt1 / "archive")) == ["first", "second"]
        assert read(mnt1 / "archive" / "first" / "ada" / "id") == b"1\n"
        assert read(mnt1 / "archive" / "second" / "0" / "y") == b"8.0\n"
        assert entries(mnt2) == ["points"]
        assert read(mnt2 / "points" / "1" / "x") == b"0.25\n"
        assert m.alive()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_unmounts_every_mount_and_exits_zero(mapfs_bin, data, tmp_path, sig):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    with mounted_config(mapfs_bin, cfg, [mnt1, mnt2]) as m:
        assert read(mnt2 / "points" / "0" / "x") == b"1.5\n"
        m.proc.send_signal(sig)
        assert m.proc.wait(timeout=15) == 0, m.log_text()
        assert not os.path.ismount(mnt1) and not os.path.ismount(mnt2)


def test_background_returns_when_ready_and_daemon_ends_with_its_mounts(mapfs_bin, data,
                                                                        tmp_path):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    before = pids_running(mapfs_bin)
    daemons = set()
    try:
        r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg))
        assert r.returncode == 0, r.stderr
        daemons = pids_running(mapfs_bin) - before
        # Ready when the command returns: no waiting.
        assert _is_live_mount(mnt1) and _is_live_mount(mnt2)
        assert read(mnt1 / "people" / "ada" / "name") == b"Ada"
        assert read(mnt2 / "points" / "0" / "y") == b"-2.0\n"
        assert daemons, "no daemon process was left to serve the mounts"
        subprocess.run(["fusermount3", "-u", str(mnt1)], check=True, timeout=30)
        assert not os.path.ismount(mnt1)
        assert read(mnt2 / "points" / "1" / "y") == b"8.0\n"   # the other mount still serves
        assert daemons & pids_running(mapfs_bin), "the daemon exited with a mount left"
        subprocess.run(["fusermount3", "-u", str(mnt2)], check=True, timeout=30)
        wait_for(lambda: not daemons & pids_running(mapfs_bin), 10,
                 "the daemon exits once all its mounts are gone")
    finally:
        unmount(mnt1)
        unmount(mnt2)
        for pid in daemons & pids_running(mapfs_bin):
            os.kill(pid, signal.SIGKILL)


def test_options_apply_to_every_node(mapfs_bin, data, tmp_path):
    cfg, mnt1, mnt2 = two_mounts(
        data, tmp_path,
        options='{threads: 3, mode: "0440", uid: 1234, gid: 5678, cache_timeout: 60, '
                'allow_other: false}')
    with mounted_config(mapfs_bin, cfg, [mnt1, mnt2]):
        dirs = [mnt1, mnt1 / "people", mnt1 / "people" / "ada", mnt1 / "archive",
                mnt1 / "archive" / "second", mnt1 / "archive" / "second" / "0"]
        files = [mnt1 / "people" / "ada" / "name", mnt1 / "people" / "ada" / "@json",
                 mnt1 / "people" / "@info", mnt1 / "people" / "@segment",
                 mnt1 / "archive" / "second" / "0" / "x"]
        for d in dirs:
            st = os.stat(d)
            assert stat.S_ISDIR(st.st_mode), d
            assert stat.S_IMODE(st.st_mode) == 0o550, (d, oct(st.st_mode))
            assert (st.st_uid, st.st_gid) == (1234, 5678), d
        for f in files:
            st = os.stat(f)
            assert stat.S_ISREG(st.st_mode), f
            assert stat.S_IMODE(st.st_mode) == 0o440, (f, oct(st.st_mode))
            assert (st.st_uid, st.st_gid) == (1234, 5678), f
        assert read(mnt1 / "people" / "ada" / "name") == b"Ada"
        # scratch has no options: the defaults (0444, the mounting user).
        st = os.stat(mnt2 / "points" / "0" / "x")
        assert stat.S_IMODE(st.st_mode) == 0o444
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


def test_named_mount_only(mapfs_bin, data, tmp_path):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    with mounted_config(mapfs_bin, cfg, [mnt2], names=["scratch"]) as m:
        assert read(mnt2 / "points" / "0" / "x") == b"1.5\n"
        assert not os.path.ismount(mnt1)
        assert m.alive()
    assert not os.path.ismount(mnt2)


def test_relative_config_name_and_paths(mapfs_bin, data, tmp_path):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    with mounted_config(mapfs_bin, os.path.relpath(cfg, tmp_path), [mnt2], names=["scratch"],
                        cwd=tmp_path):
        assert entries(mnt2) == ["points"]
        assert read(mnt2 / "points" / "1" / "y") == b"8.0\n"


def assert_nothing_mounted(*paths):
    for p in paths:
        assert not os.path.ismount(p), f"{p} was mounted"


def test_unknown_mount_name_mounts_nothing(mapfs_bin, data, tmp_path):
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    try:
        r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg), "scratch", "nosuch")
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "'nosuch'" in r.stderr
        assert "catalog" in r.stderr and "scratch" in r.stderr   # the known mounts
        assert_nothing_mounted(mnt1, mnt2)
        r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg), "scratch", "scratch")
        assert r.returncode != 0 and "scratch" in r.stderr, r.stderr
        assert_nothing_mounted(mnt1, mnt2)
    finally:
        unmount(mnt1)
        unmount(mnt2)


def test_mount_options_on_the_command_line_are_refused_with_a_config(mapfs_bin, data,
                                                                      tmp_path):
    """-o cannot say which mount it is for; it is refused, not dropped."""
    cfg, mnt1, mnt2 = two_mounts(data, tmp_path)
    try:
        r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg), "-o", "allow_other")
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "-o does not apply with --config" in r.stderr
        assert_nothing_mounted(mnt1, mnt2)
    finally:
        unmount(mnt1)
        unmount(mnt2)


def test_missing_config_file_is_an_error(mapfs_bin, tmp_path):
    missing = tmp_path / "nothere.yaml"
    r = run_mapfs(mapfs_bin, "mount", "--config", str(missing))
    assert r.returncode != 0 and str(missing) in r.stderr, (r.returncode, r.stderr)


def with_options(options):
    """A mount of three sources whose options line (line 8) is `options`."""
    return """\
mounts:
  catalog:
    mountpoint: {mnt}
    sources:
      people: {src}
      by_name: {src}
      archive: {src}
    options: %s
""" % options


# Each documented error (docs/mounts.md, "Errors") from a file built so that
# exactly that error is at exactly that position. {mnt} and {src} are
# replaced by real paths; the expected text has {cfg} for the file's name.
CONFIG_ERRORS = {
    "empty": ("# only a comment\n",
              "{cfg}:1:1: empty mount configuration (expected a mapping with 'mounts')"),
    "unknown_key": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    source: {{people: {src}}}
""", "{cfg}:4:5: unknown key 'source' (expected mountpoint, sources, options)"),
    "no_sources": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    options: {{threads: 2}}
""", "{cfg}:2:3: mount 'catalog' has no 'sources'"),
    "duplicate_mount": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    sources:
      people: {src}
      by_name: {src}
  catalog:
    mountpoint: {mnt}2
    sources: {{people: {src}}}
""", "{cfg}:7:3: duplicate mount 'catalog' (first defined at {cfg}:2:3)"),
    "duplicate_source": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    sources:
      people: {src}
      people: {src}
""", "{cfg}:6:7: duplicate source 'people' in mount 'catalog' (first defined at {cfg}:5:7)"),
    "reserved_source_name": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    sources:
      "@json": {src}
""", "{cfg}:5:7: source name '@json' starts with '@' (names starting with '@' are reserved); "
     "it must be usable as a file name"),
    "shared_mountpoint": ("""\
mounts:
  catalog:
    mountpoint: {mnt}
    sources:
      people: {src}
      by_name: {src}
    options: {{threads: 2}}
  # a second mount on the same directory
  s: {{mountpoint: {mnt}, sources: {{p: {src}}}}}
""", "{cfg}:9:19: mountpoint {mnt} is already used by mount 'catalog' ({cfg}:2:3)"),
    "bad_uid": (with_options('{{uid: -1}}'),
     "{cfg}:8:20: 'uid' must be an integer from 0 to 4294967294, got '-1'"),
    "bad_mode": (with_options('{{mode: "0888"}}'),
     "{cfg}:8:21: 'mode' must be octal permission bits from 0 to 0777 (such as \"0444\"), "
     "got '0888'"),
    "setuid_mode": (with_options('{{mode: "4555"}}'),
     "{cfg}:8:21: 'mode' must be permission bits from 0 to 0777, got '4555': setuid, setgid "
     "and sticky bits are not allowed"),
    "bad_threads": (with_options('{{threads: 0}}'),
     "{cfg}:8:24: 'threads' must be an integer from 1 to 256, got '0'"),
    "unknown_option": (with_options('{{allow_others: true}}'),
     "{cfg}:8:15: unknown option 'allow_others' (expected allow_other, default_permissions, "
     "uid, gid, mode, cache_timeout, threads, render_cache_mb, open, exec, passthrough, debug)"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_config_error_is_reported_at_its_position_and_mounts_nothing(mapfs_bin, data,
                                                                       tmp_path, case):
    text, message = CONFIG_ERRORS[case]
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (tmp_path / "mnt2").mkdir()
    cfg = data["conf"] / "mounts.yaml"
    cfg.write_text(text.format(mnt=mnt, src=data["people"]))
    try:
        for args in (["mount", "--config", str(cfg)], ["mount", "--config", str(cfg), "-f"]):
            r = run_mapfs(mapfs_bin, *args)
            assert r.returncode == 2, (args, r.returncode, r.stderr)
            assert message.format(cfg=cfg, mnt=mnt) in r.stderr, r.stderr
            assert_nothing_mounted(mnt, tmp_path / "mnt2")
    finally:
        unmount(mnt)
        unmount(tmp_path / "mnt2")


def test_missing_source_fails_at_its_position_and_mounts_nothing(mapfs_bin, data, tmp_path):
    missing = tmp_path / "data" / "missing.mapfs"
    mnt1, mnt2 = tmp_path / "mnt1", tmp_path / "mnt2"
    mnt1.mkdir()
    mnt2.mkdir()
    # The first mount is fine; the second's source is missing: neither mounts.
    cfg = write_config(data["conf"] / "mounts.yaml", f"""
        mounts:
          good: {{mountpoint: {mnt1}, sources: {{people: {data["people"]}}}}}
          catalog:
            sources:
              people: {missing}
            mountpoint: {mnt2}
        """)
    try:
        r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg))
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert f"{cfg}:5:15: " in r.stderr and str(missing) in r.stderr, r.stderr
        assert "No such file or directory" in r.stderr, r.stderr
        assert_nothing_mounted(mnt1, mnt2)
    finally:
        unmount(mnt1)
        unmount(mnt2)


def test_invalid_source_or_mountpoint_mounts_nothing(mapfs_bin, data, tmp_path):
    junk = tmp_path / "data" / "junk.mapfs"
    junk.write_bytes(os.urandom(4096))
    missing_shm = f"mapfs-none-{uuid.uuid4().hex}"
    mnt1, mnt2 = tmp_path / "mnt1", tmp_path / "mnt2"
    mnt1.mkdir()
    mnt2.mkdir()
    cases = [
        # Not a segment: the position of its value and its path.
        (f"""
        mounts:
          good: {{mountpoint: {mnt1}, sources: {{people: {data["people"]}}}}}
          catalog:
            mountpoint: {mnt2}
            sources:
              junk: {junk}
        """, [f"{data['conf'] / 'mounts.yaml'}:6:13: ", str(junk)]),
        # The second mount's mountpoint does not exist.
        (f"""
        mounts:
          good: {{mountpoint: {mnt1}, sources: {{people: {data["people"]}}}}}
          catalog:
            mountpoint: {tmp_path / "nowhere"}
            sources: {{people: {data["people"]}}}
        """, [str(tmp_path / "nowhere")]),
        # A shared array that does not exist.
        (f"""
        mounts:
          good: {{mountpoint: {mnt1}, sources: {{people: {data["people"]}}}}}
          catalog:
            mountpoint: {mnt2}
            sources:
              none: shm://{missing_shm}
        """, [f"{data['conf'] / 'mounts.yaml'}:6:13: ", missing_shm]),
    ]
    try:
        for text, needles in cases:
            cfg = write_config(data["conf"] / "mounts.yaml", text)
            r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg))
            assert r.returncode == 1, (r.returncode, r.stderr)
            for n in needles:
                assert n in r.stderr, (n, r.stderr)
            assert_nothing_mounted(mnt1, mnt2)
    finally:
        unmount(mnt1)
        unmount(mnt2)


def test_mountpoint_already_mounted_fails_and_mounts_nothing(mapfs_bin, data, tmp_path):
    mnt1, busy = tmp_path / "mnt1", tmp_path / "busy"
    mnt1.mkdir()
    cfg = write_config(data["conf"] / "mounts.yaml", f"""
        mounts:
          good: {{mountpoint: {mnt1}, sources: {{people: {data["people"]}}}}}
          catalog: {{mountpoint: {busy}, sources: {{points: {data["points"]}}}}}
        """)
    try:
        with mounted(mapfs_bin, data["people"], busy) as other:
            r = run_mapfs(mapfs_bin, "mount", "--config", str(cfg))
            assert r.returncode == 1, (r.returncode, r.stderr)
            assert str(busy) in r.stderr, r.stderr
            assert_nothing_mounted(mnt1)
            # The mount that was there is untouched.
            assert read(busy / "ada" / "name") == b"Ada" and other.alive()
    finally:
        unmount(mnt1)


@pytest.fixture
def shm_name(mapfs_bin):
    """A shared array shm://NAME of 8 float64 zeros, removed afterwards."""
    name = f"mapfs-config-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    r = run_mapfs(mapfs_bin, "shm", "create", f"shm://{name}", "--shape", "8",
                  "--dtype", "float64")
    assert r.returncode == 0, r.stderr
    yield name
    run_mapfs(mapfs_bin, "shm", "remove", f"shm://{name}")
    try:
        os.unlink(f"/dev/shm/{name}")
    except FileNotFoundError:
        pass


def test_shm_sources_are_npy_files(mapfs_bin, data, tmp_path, shm_name):
    mnt = tmp_path / "mnt"
    cfg = write_config(data["conf"] / "mounts.yaml", f"""
        mounts:
          arrays:
            mountpoint: {mnt}
            sources:
              people: {data["people"]}
              frames: shm://{shm_name}
              grid.npy: shm://{shm_name}
        """)
    with mounted_config(mapfs_bin, cfg, [mnt]):
        assert entries(mnt) == ["people", "frames.npy", "grid.npy"]
        for name in ("frames.npy", "grid.npy"):
            a = np.load(mnt / name, mmap_mode="r")
            assert a.dtype == np.dtype("<f8") and a.shape == (8,)
            assert not a.any()
            del a
        assert read(mnt / "people" / "bob" / "name") == b"Bob"


# --- the mount(8) helper form: `mapfs SOURCE MOUNTPOINT -o opts` ----------

MOUNT_FUSE = "/sbin/mount.fuse3"


@pytest.fixture
def people_mnt(mapfs_bin, data, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    yield data["people"], mnt
    unmount(mnt)


def assert_read_only_mount_of_people(mnt):
    assert _is_live_mount(mnt)
    assert read(mnt / "ada" / "name") == b"Ada"
    with pytest.raises(OSError) as e:
        open(mnt / "ada" / "name", "wb")
    assert e.value.errno == 30  # EROFS
    # The kernel's view of the mount is read-only too.
    assert os.statvfs(mnt).f_flag & os.ST_RDONLY


def test_helper_form_without_subcommand_mounts_in_background(mapfs_bin, people_mnt):
    src, mnt = people_mnt
    # What mount.fuse3 passes: rw (when ro is not given) and the generic flags.
    r = run_mapfs(mapfs_bin, str(src), str(mnt), "-o",
                  "rw,dev,suid,nodev,nosuid,exec,noexec,allow_other")
    assert r.returncode == 0, r.stderr
    assert_read_only_mount_of_people(mnt)
    subprocess.run(["fusermount3", "-u", str(mnt)], check=True, timeout=30)
    assert not os.path.ismount(mnt)


def test_mount_fuse3_runs_the_helper_form(mapfs_bin, people_mnt):
    if not os.access(MOUNT_FUSE, os.X_OK):
        pytest.skip(f"{MOUNT_FUSE} is not installed (package fuse3)")
    src, mnt = people_mnt
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(mapfs_bin)) + ":"
               + os.environ.get("PATH", "/usr/bin:/bin"))
    # Exactly what mount(8) runs for `mount -t fuse.mapfs SRC MNT -o ro,allow_other`;
    # mount(8) itself drops PATH from its helpers' environment (see below).
    r = subprocess.run([MOUNT_FUSE, str(src), str(mnt), "-o", "ro,allow_other", "-t",
                        "fuse.mapfs"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert_read_only_mount_of_people(mnt)
    subprocess.run(["umount", str(mnt)], check=True, timeout=30)
    assert not os.path.ismount(mnt)


def test_mount_t_fuse_with_the_command_path(mapfs_bin, people_mnt):
    """mount(8) runs its helpers with a fixed PATH, so the binary under test
    is named in the source (`mount -t fuse 'CMD#SRC'`); mount.fuse3 then runs
    `CMD SRC MNT -o ...` as for `-t fuse.mapfs`."""
    if not os.access(MOUNT_FUSE, os.X_OK):
        pytest.skip(f"{MOUNT_FUSE} is not installed (package fuse3)")
    src, mnt = people_mnt
    r = subprocess.run(["mount", "-t", "fuse", f"{os.path.abspath(mapfs_bin)}#{src}", str(mnt),
                        "-o", "ro,allow_other,nodev,nosuid"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert_read_only_mount_of_people(mnt)
    subprocess.run(["umount", str(mnt)], check=True, timeout=30)
    assert not os.path.ismount(mnt)


def test_fstab_entry(mapfs_bin, people_mnt, tmp_path):
    """An fstab line (here in an alternative fstab, `mount -T`) mounts by its
    mountpoint alone; the type is `fuse` with the command named in the source,
    for the reason above."""
    if not os.access(MOUNT_FUSE, os.X_OK):
        pytest.skip(f"{MOUNT_FUSE} is not installed (package fuse3)")
    src, mnt = people_mnt
    fstab = tmp_path / "fstab"
    fstab.write_text(f"{os.path.abspath(mapfs_bin)}#{src} {mnt} fuse ro,allow_other,nodev 0 0\n")
    r = subprocess.run(["mount", "-T", str(fstab), str(mnt)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert_read_only_mount_of_people(mnt)
    subprocess.run(["umount", str(mnt)], check=True, timeout=30)
    assert not os.path.ismount(mnt)


def test_mount_t_fuse_mapfs(mapfs_bin, people_mnt):
    """`mount -t fuse.mapfs` itself: mount.fuse3 runs `mapfs` from the shell's
    default PATH, so this runs only where that `mapfs` is the one under test
    (an installed package; scripts/package_test.sh checks it there)."""
    if not os.access(MOUNT_FUSE, os.X_OK):
        pytest.skip(f"{MOUNT_FUSE} is not installed (package fuse3)")
    found = shutil.which("mapfs", path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                       "/sbin:/bin")
    if not found or not os.path.samefile(found, mapfs_bin):
        pytest.skip("mount(8) finds `mapfs` only on the default PATH, where the binary under "
                    f"test is not ({found or 'no mapfs there'})")
    src, mnt = people_mnt
    r = subprocess.run(["mount", "-t", "fuse.mapfs", str(src), str(mnt), "-o", "ro,allow_other"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert_read_only_mount_of_people(mnt)
    subprocess.run(["umount", str(mnt)], check=True, timeout=30)
    assert not os.path.ismount(mnt)

"""Unix conventions of the `mapfs` command (docs/cli.md): unknown commands,
the mount(8) helper form only where mount(8) uses it, exit statuses, and
--help on every command."""
import os
import re
import subprocess

import pytest

from mapfs_testlib import unmount

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "sample", "schema.yaml")
PEOPLE = os.path.join(ROOT, "sample", "people.jsonl")
COMMANDS = ["build", "dump", "get", "inspect", "mount", "pack", "shm", "verify"]


def run(mapfs_bin, *args, **kw):
    return subprocess.run([mapfs_bin, *map(str, args)], capture_output=True, text=True,
                          timeout=60, **kw)


def build(mapfs_bin, out, *extra, input_path=PEOPLE):
    return run(mapfs_bin, "build", "--schema", SCHEMA, "--type", "Person",
               "--input", input_path, "--output", out, *extra)


@pytest.fixture
def by_name(mapfs_bin, tmp_path):
    out = tmp_path / "people.mapfs"
    r = build(mapfs_bin, out, "--key", "name")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture
def by_id(mapfs_bin, tmp_path):
    out = tmp_path / "by_id.mapfs"
    r = build(mapfs_bin, out, "--key", "id")
    assert r.returncode == 0, r.stderr
    return out


# --- unknown commands --------------------------------------------------------

def assert_unknown(r, name):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith(f"mapfs: unknown command '{name}'"), r.stderr
    listed = re.search(r"^commands: (.*)$", r.stderr, re.M)
    assert listed, r.stderr
    assert listed.group(1).split(", ") == COMMANDS
    assert r.stdout == ""


def test_a_mistyped_command_is_unknown_and_lists_the_commands(mapfs_bin):
    assert_unknown(run(mapfs_bin, "frobnicate"), "frobnicate")


def test_a_mistyped_command_with_arguments_does_not_mount(mapfs_bin, by_name, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        # `SOURCE MOUNTPOINT` without -o is not what mount(8) runs.
        assert_unknown(run(mapfs_bin, by_name, mnt), str(by_name))
        assert_unknown(run(mapfs_bin, "dmp", by_name), "dmp")
        assert not os.path.ismount(mnt)
    finally:
        unmount(mnt)


def test_the_helper_shape_with_a_missing_source_says_why_it_is_not_a_mount(mapfs_bin,
                                                                          tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    missing = tmp_path / "missing.mapfs"
    r = run(mapfs_bin, missing, mnt, "-o", "ro")
    assert_unknown(r, str(missing))
    assert f"(not a mount: {missing}: No such file or directory)" in r.stderr


def test_the_helper_shape_with_a_file_as_mountpoint_is_not_a_mount(mapfs_bin, by_name):
    r = run(mapfs_bin, by_name, by_name, "-o", "ro")
    assert_unknown(r, str(by_name))
    assert f"(not a mount: {by_name}: not a directory)" in r.stderr


def test_invoked_as_mount_fuse_mapfs_mounts(mapfs_bin, by_name, tmp_path):
    helper = tmp_path / "mount.fuse.mapfs"
    helper.symlink_to(mapfs_bin)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        # mount(8)'s helper calling convention: -n (no mtab) and -t are dropped.
        r = subprocess.run([str(helper), str(by_name), str(mnt), "-n", "-o", "ro",
                            "-t", "fuse.mapfs"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(mnt)
        with open(mnt / "Ada Lovelace" / "age") as f:
            assert f.read() == "36\n"
    finally:
        unmount(mnt)
    assert not os.path.ismount(mnt)


def test_help_as_a_command(mapfs_bin):
    r = run(mapfs_bin, "help")
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout and "build" in r.stdout
    r = run(mapfs_bin, "help", "dump")
    assert r.returncode == 0, r.stderr
    assert "Usage: mapfs dump" in r.stdout


def test_get_help_shows_each_key_form_with_an_example(mapfs_bin):
    r = run(mapfs_bin, "get", "--help")
    assert r.returncode == 0, r.stderr
    assert "mapfs get people.mapfs -1" in r.stdout  # a negative array index
    assert "mapfs get pairs.mapfs '[\"k0\", 42]'" in r.stdout  # a generic key as JSON
    assert "mapfs get by_id.mapfs 42" in r.stdout  # a uint key


# --- exit statuses -----------------------------------------------------------

def test_success_is_0(mapfs_bin, by_name):
    assert run(mapfs_bin, "get", by_name, "Ada Lovelace").returncode == 0
    assert run(mapfs_bin, "verify", by_name).returncode == 0
    assert run(mapfs_bin, "--version").returncode == 0


def test_a_missing_key_is_1(mapfs_bin, by_name, by_id, tmp_path):
    r = run(mapfs_bin, "get", by_name, "Nobody")
    assert r.returncode == 1, r.stderr
    assert r.stderr == f"mapfs: {by_name}: no record for key Nobody\n"
    assert run(mapfs_bin, "get", by_id, "99").returncode == 1
    arr = tmp_path / "arr.mapfs"
    assert build(mapfs_bin, arr).returncode == 0
    assert run(mapfs_bin, "get", arr, "4").returncode == 1


def test_a_failed_check_is_1(mapfs_bin, by_name, tmp_path):
    data = bytearray(by_name.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.mapfs"
    bad.write_bytes(bytes(data))
    r = run(mapfs_bin, "verify", bad)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith(f"mapfs: {bad}: ")


def test_verify_of_a_missing_file_is_2(mapfs_bin, by_name, tmp_path):
    r = run(mapfs_bin, "verify", by_name, tmp_path / "nope.mapfs")
    assert r.returncode == 2, r.stderr
    assert r.stderr == f"mapfs: {tmp_path / 'nope.mapfs'}: No such file or directory\n"
    assert r.stdout.startswith(f"{by_name}: OK")


@pytest.mark.parametrize("args, message", [
    (["build", "--type", "Person", "--input", PEOPLE, "--output", "x.mapfs"],
     "mapfs build: --schema is required"),
    (["build", "--schema", SCHEMA, "--type", "Person", "--input", PEOPLE, "--output", "x",
      "--bogus"], "mapfs build: The following argument was not expected: --bogus"),
    (["get"], "mapfs get: file is required"),
    ([], "mapfs: A subcommand is required"),
    (["--bogus"], "mapfs: A subcommand is required"),
    (["shm", "create", "shm://x", "--shape", "3", "--dtype"],
     "mapfs shm create: --dtype: 1 required TEXT missing"),
])
def test_a_command_line_error_is_2(mapfs_bin, tmp_path, args, message):
    r = run(mapfs_bin, *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(message + "\n"), r.stderr
    assert "--help" in r.stderr
    assert not (tmp_path / "x.mapfs").exists()


def test_input_and_configuration_errors_are_2(mapfs_bin, by_name, tmp_path):
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_text('{"id": 1}\n{"id": "x"}\n')
    r = build(mapfs_bin, tmp_path / "o.mapfs", input_path=bad_line)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"mapfs: {bad_line}:2: ")

    r = build(mapfs_bin, tmp_path / "o.mapfs", input_path=tmp_path / "nope.jsonl")
    assert r.returncode == 2, r.stderr

    bad_schema = tmp_path / "s.yaml"
    bad_schema.write_text("structs:\n  P:\n    fields: {x: nosuchtype}\n")
    r = run(mapfs_bin, "build", "--schema", bad_schema, "--type", "P", "--input", PEOPLE,
            "--output", tmp_path / "o.mapfs")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"mapfs: {bad_schema}:3:")

    r = build(mapfs_bin, tmp_path / "o.mapfs", "--type", "Nobody")
    assert r.returncode == 2, r.stderr
    r = build(mapfs_bin, tmp_path / "o.mapfs", "--multi")
    assert r.returncode == 2 and "--multi and --approx need --key" in r.stderr

    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"name": "a"}\n{"name": "a"}\n')
    r = build(mapfs_bin, tmp_path / "o.mapfs", "--key", "name", input_path=dup)
    assert r.returncode == 2, r.stderr
    assert not (tmp_path / "o.mapfs").exists()

    # A get whose key cannot be a key of the file, or whose file is not there.
    assert run(mapfs_bin, "get", tmp_path / "nope.mapfs", "0").returncode == 2
    r = run(mapfs_bin, "pack", "--schema", SCHEMA, "--type", "Person", bad_line)
    assert r.returncode == 2 and f"{bad_line}:2:" in r.stderr


# --- --help everywhere -------------------------------------------------------

@pytest.mark.parametrize("command", [[c] for c in COMMANDS] +
                         [["shm", s] for s in ("create", "list", "info", "remove")])
def test_help_on_every_command_exits_0(mapfs_bin, command):
    r = run(mapfs_bin, *command, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{command[-1]}") or "Usage: mapfs " + " ".join(command) in \
        r.stdout, r.stdout
    assert r.stderr == ""


def test_top_level_help_lists_every_command(mapfs_bin):
    r = run(mapfs_bin, "--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert re.search(rf"^\s+{c}\s", r.stdout, re.M), (c, r.stdout)
    assert "Exit status" in r.stdout

"""What `mapfs build` says and leaves behind (docs/cli.md): a summary line,
a progress line on a terminal, stale temp files of killed builds removed by
the next build (never a running build's), and a full disk reported against
the file being written."""
import os
import pty
import re
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "sample", "schema.yaml")
PEOPLE = os.path.join(ROOT, "sample", "people.jsonl")
SUMMARY = re.compile(r"^mapfs: built (?P<out>.+): (?P<records>[\d,]+) records?"
                     r"(, (?P<keys>[\d,]+) keys?)?, (?P<size>[\d.]+ (bytes|kB|MB)) in "
                     r"(?P<secs>\d+\.\d) s\n$")


def build_cmd(mapfs_bin, out, *extra, input_path=PEOPLE):
    return [mapfs_bin, "build", "--schema", SCHEMA, "--type", "Person", "--input",
            str(input_path), "--output", str(out), *extra]


def lines(n, start=0):
    return "".join(f'{{"id": {i}, "name": "person {i}", "age": {i % 100}, '
                   f'"tags": [{i % 7}, {i % 11}], "aliases": ["alias {i}"]}}\n'
                   for i in range(start, start + n))


def temp_files(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + ".tmp-"))


def test_a_build_ends_with_a_summary_line(mapfs_bin, tmp_path):
    out = tmp_path / "people.mapfs"
    r = subprocess.run(build_cmd(mapfs_bin, out, "--key", "name"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    m = SUMMARY.match(r.stderr)
    assert m, r.stderr
    assert m["out"] == str(out)
    assert (m["records"], m["keys"]) == ("4", "4")
    size = os.path.getsize(out)
    assert m["size"] == (f"{size:,} bytes" if size < 1000 else f"{size / 1000:.1f} kB")
    assert r.stdout == ""


def test_the_summary_counts_keys_of_a_multimap_and_nothing_for_an_array(mapfs_bin, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text(lines(2500))
    out = tmp_path / "multi.mapfs"
    r = subprocess.run(build_cmd(mapfs_bin, out, "--key", "age", "--multi", input_path=data),
                       capture_output=True, text=True, timeout=60)
    m = SUMMARY.match(r.stderr)
    assert m, r.stderr
    assert (m["records"], m["keys"]) == ("2,500", "100")
    r = subprocess.run(build_cmd(mapfs_bin, tmp_path / "a.mapfs", input_path=data),
                       capture_output=True, text=True, timeout=60)
    m = SUMMARY.match(r.stderr)
    assert m and m["keys"] is None, r.stderr


def test_quiet_prints_nothing(mapfs_bin, tmp_path):
    r = subprocess.run(build_cmd(mapfs_bin, tmp_path / "p.mapfs", "--quiet"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert (r.stdout, r.stderr) == ("", "")


def test_a_terminal_sees_a_progress_line_for_a_long_build(mapfs_bin, tmp_path):
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(build_cmd(mapfs_bin, tmp_path / "p.mapfs", input_path="-"),
                                stdin=subprocess.PIPE, stderr=slave, stdout=subprocess.DEVNULL)
        os.close(slave)
        slave = -1
        # Slow input: the build lasts over a second.
        proc.stdin.write(lines(3000).encode())
        proc.stdin.flush()
        time.sleep(1.5)
        proc.stdin.write(lines(3000, start=3000).encode())
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    text = seen.decode()
    assert re.search(r"\rmapfs build: [\d,]+ records, \d+ records/s", text.replace("\x1b[K", "")), text
    # The progress line is erased before the summary.
    summary = text.rsplit("\x1b[K", 1)[-1].replace("\r\n", "\n")
    assert SUMMARY.match(summary), text


def test_a_killed_build_leaves_a_temp_file_that_the_next_build_removes(mapfs_bin, tmp_path):
    out = tmp_path / "p.mapfs"
    proc = subprocess.Popen(build_cmd(mapfs_bin, out, input_path="-"), stdin=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    proc.stdin.write(lines(5000).encode())
    proc.stdin.flush()
    deadline = time.time() + 30
    while not temp_files(out) and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    proc.stdin.close()
    left = temp_files(out)
    assert len(left) == 1, left
    # A temp file of another output, and a file that only looks like one, stay.
    other = tmp_path / "other.mapfs.tmp-abc123"
    other.write_text("x")
    longer = tmp_path / (out.name + ".tmp-abc1234")
    longer.write_text("x")
    r = subprocess.run(build_cmd(mapfs_bin, out), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert temp_files(out) == [longer.name]
    assert other.exists()


def test_a_running_build_keeps_its_temp_file(mapfs_bin, tmp_path):
    out = tmp_path / "p.mapfs"
    slow = subprocess.Popen(build_cmd(mapfs_bin, out, "--quiet", input_path="-"),
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        slow.stdin.write(lines(100).encode())
        slow.stdin.flush()
        deadline = time.time() + 30
        while not temp_files(out) and time.time() < deadline:
            time.sleep(0.05)
        mine = temp_files(out)
        assert len(mine) == 1
        # Another build of the same output runs to the end meanwhile.
        r = subprocess.run(build_cmd(mapfs_bin, out), capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        assert temp_files(out) == mine
        slow.stdin.write(lines(100, start=100).encode())
        slow.stdin.close()
        assert slow.wait(timeout=60) == 0, slow.stderr.read()
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
    assert temp_files(out) == []
    r = subprocess.run([mapfs_bin, "get", str(out), "199"], capture_output=True, text=True)
    assert '"name":"person 199"' in r.stdout


@pytest.fixture
def tiny_fs(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(d)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {r.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_a_full_disk_is_reported_against_the_output(mapfs_bin, tmp_path, tiny_fs):
    data = tmp_path / "big.jsonl"
    data.write_text(lines(20000))
    out = tiny_fs / "p.mapfs"
    r = subprocess.run(build_cmd(mapfs_bin, out, "--key", "name", input_path=data),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.endswith(": No space left on device\n"), r.stderr
    assert r.stderr.startswith(f"mapfs: {out}.tmp-") or \
        r.stderr.startswith(f"mapfs: temp file in {tiny_fs}:"), r.stderr
    assert str(data) not in r.stderr
    assert os.listdir(tiny_fs) == []

"""Helpers for the mount integration suites: build segments with the CLI,
mount them in the foreground in the background, always unmount.

    with mounted(mapfs_bin, seg, tmp_path / "mnt") as m:
        assert open(m.path / "0" / "name").read() == "Ada"
"""
import contextlib
import json
import os
import pathlib
import signal
import subprocess
import time

MOUNT_TIMEOUT = 15.0


def build_segment(mapfs_bin, workdir, schema_yaml, type_name, records, *, key=None,
                  multi=False, approx=False, name="coll"):
    """Writes schema + JSONL (records: dicts or ready-made lines) and builds
    workdir/<name>.mapfs with `mapfs build`. Returns its path."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    schema = workdir / f"{name}.schema.yaml"
    schema.write_text(schema_yaml)
    data = workdir / f"{name}.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    out = workdir / f"{name}.mapfs"
    cmd = [mapfs_bin, "build", "--schema", str(schema), "--type", type_name,
           "--input", str(data), "--output", str(out)]
    if key:
        cmd += ["--key", key]
    if multi:
        cmd.append("--multi")
    if approx:
        cmd.append("--approx")
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return out


def unmount(path):
    """Unmounts `path` if mounted: fusermount3 -u, falling back to umount -l."""
    path = str(path)
    if not os.path.ismount(path) and not _is_stale(path):
        return
    for cmd in (["fusermount3", "-u", path], ["fusermount3", "-u", "-z", path],
                ["umount", "-l", path]):
        subprocess.run(cmd, capture_output=True, timeout=30)
        if not os.path.ismount(path) and not _is_stale(path):
            return


def _is_live_mount(path):
    # A dead daemon's mount still looks like a mount point, and the kernel may
    # answer stat from its cache; statvfs always reaches the daemon.
    try:
        os.statvfs(path)
    except OSError:
        return False
    return os.path.ismount(path)


def _is_stale(path):
    try:
        os.stat(path)
        return False
    except OSError as e:
        return e.errno == 107  # ENOTCONN


def decode_name(name: bytes) -> bytes:
    """The key a listed name stands for (docs/layout.md, "Names"); indexed
    names of long keys are returned as they are."""
    if b"%~" in name:
        return name
    if name == b"%":
        return b""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i:i + 1] == b"%":
            out.append(int(name[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(name[i])
            i += 1
    return bytes(out)


class Mount:
    def __init__(self, path, proc, log):
        self.path = pathlib.Path(path)
        self.proc = proc
        self._log = log

    def log_text(self):
        with open(self._log, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None


@contextlib.contextmanager
def mounted(mapfs_bin, source, mountpoint, options=None, extra_args=()):
    """Mounts `source` with `mapfs mount -f` as a child process, waits until
    the mount is up, yields a Mount, and always unmounts and reaps it."""
    mountpoint = pathlib.Path(mountpoint)
    mountpoint.mkdir(parents=True, exist_ok=True)
    log = str(mountpoint) + ".log"
    cmd = [mapfs_bin, "mount", "-f", str(source), str(mountpoint)]
    if options:
        cmd += ["-o", options]
    cmd += list(extra_args)
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while not _is_live_mount(mountpoint):
            if proc.poll() is not None:
                raise RuntimeError(f"mapfs mount exited {proc.returncode}: "
                                   + open(log, errors="replace").read())
            if time.monotonic() > deadline:
                raise RuntimeError("mount did not come up: " + open(log, errors="replace").read())
            time.sleep(0.02)
        yield Mount(mountpoint, proc, log)
    finally:
        unmount(mountpoint)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=15)
            unmount(mountpoint)

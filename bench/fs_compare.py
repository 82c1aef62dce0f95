#!/usr/bin/python3
"""Filesystem comparison (docs/performance.md): the same records as a tree of files on
tmpfs (the kernel's own speed), as a squashfs image under squashfuse_ll (the
fastest read-only FUSE image), and as one segment mounted by mapfs.

Reports, in one run, medians of cold and warm runs and their ratios to
tmpfs and squashfuse_ll: a `find` walk, `ls -l` of the collection (scandir +
stat of every record), stat and cat of random fields, @json reads, @segment
sequential read and mmap, and listing a 1M-name collection. For mapfs, also
the FUSE requests one cold run of each operation sends (from the counts the
daemon logs when a mount ends), and what each costs beyond tmpfs's time:
the kernel round trip is the floor of a cold operation.

    sudo /usr/bin/python3 bench/fs_compare.py --mapfs build/cli/mapfs [--records 100000]

Needs root (tmpfs mounts, drop_caches), mksquashfs and squashfuse_ll.
"""
import argparse
import contextlib
import json
import mmap
import re
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCHEMA = """structs:
  Rec:
    fields: {id: uint64, name: str, age: int32, score: float64, city: str}
"""
CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Oslo"]


def record(i):
    return {"id": i, "name": f"person-{i:07d}", "age": 18 + i % 80,
            "score": round((i * 7919 % 10007) / 100.0, 2), "city": CITIES[i % len(CITIES)]}


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def wait_mounted(path, proc=None, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.statvfs(path)
            if os.path.ismount(path):
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            sys.exit(f"mount of {path} failed")
        if time.monotonic() > deadline:
            sys.exit(f"mount of {path} timed out")
        time.sleep(0.02)


def unmount(path):
    for cmd in (["fusermount3", "-u", path], ["umount", path], ["umount", "-l", path]):
        if not os.path.ismount(path):
            return
        subprocess.run(cmd, capture_output=True)


class Fs:
    """One mounted filesystem under test; remount() makes it cold. `log` is
    the daemon's log file, for mapfs."""

    def __init__(self, name, root, mount, umount=None, log=None):
        self.name, self.root, self._mount, self._umount = name, root, mount, umount
        self.log = log

    def last_requests(self):
        """Requests the last mount that ended served, by kind (mapfs only)."""
        with open(self.log, errors="replace") as f:
            lines = re.findall(r"requests served: (.*)", f.read())
        return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in lines[-1].split(", "))}

    def remount(self):
        if self._umount:
            self._umount()
            self._mount()
        drop_caches()


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def op_find(root):
    subprocess.run(["find", root], stdout=subprocess.DEVNULL, check=True)


def op_ls_l(coll):
    subprocess.run(["ls", "-l", coll], stdout=subprocess.DEVNULL, check=True)


def op_stat(paths):
    for p in paths:
        os.stat(p)


def op_cat(paths):
    # What cat(1) does: open, read to the end, close. Python's buffered open()
    # would also call isatty(), an ioctl that FUSE sends to the daemon and
    # tmpfs answers in the kernel; no file tool does that, so it is left out.
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            while os.read(fd, 65536):
                pass
        finally:
            os.close(fd)


def op_read_seq(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass


def op_mmap(path):
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        n = len(m)
        s = 0
        for off in range(0, n, 4096):
            s += m[off]
        return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mapfs", default="build/cli/mapfs")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=10_000, help="random fields for stat/cat")
    ap.add_argument("--names", type=int, default=1_000_000, help="size of the listing test")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--dir-mount", action="store_true",
                    help="mount the segment's directory (the collection is its `coll` entry) "
                         "instead of the segment itself, whose root names expire after 1 s")
    ap.add_argument("--mapfs-options", action="append", default=None,
                    help="one mapfs variant per use (e.g. threads=1, open); default: default")
    args = ap.parse_args()
    mapfs = os.path.abspath(args.mapfs)
    variants = args.mapfs_options or [""]
    work = tempfile.mkdtemp(prefix="mapfs-bench-")
    mounts = []
    procs = []
    try:
        # Inputs and the segment.
        jsonl = os.path.join(work, "recs.jsonl")
        with open(jsonl, "w") as f:
            for i in range(args.records):
                f.write(json.dumps(record(i)) + "\n")
        with open(os.path.join(work, "schema.yaml"), "w") as f:
            f.write(SCHEMA)
        os.mkdir(os.path.join(work, "segs"))
        seg = os.path.join(work, "segs", "coll.mapfs")
        subprocess.run([mapfs, "build", "--schema", os.path.join(work, "schema.yaml"), "--type",
                        "Rec", "--input", jsonl, "--output", seg], check=True)
        source = os.path.dirname(seg) if args.dir_mount else seg

        fss = []
        for k, opts in enumerate(variants):
            mnt = os.path.join(work, f"mapfs{k}")
            os.mkdir(mnt)
            log = mnt + ".log"

            def mount_mapfs(mnt=mnt, opts=opts, log=log):
                cmd = [mapfs, "mount", "-f", source, mnt] + (["-o", opts] if opts else [])
                with open(log, "a") as logf:
                    p = subprocess.Popen(cmd, stderr=logf)
                procs.append(p)
                wait_mounted(mnt, p)

            def umount_mapfs(mnt=mnt):
                unmount(mnt)
                for p in procs:
                    if p.poll() is None and mnt in p.args:
                        p.wait(timeout=30)

            mount_mapfs()
            mounts.append(mnt)
            root = os.path.join(mnt, "coll") if args.dir_mount else mnt
            fss.append(Fs("mapfs" + (f"[{opts}]" if opts else ""), root, mount_mapfs,
                          umount_mapfs, log))

        # The same tree on tmpfs, copied from the mount (same names, bytes).
        tmpfs = os.path.join(work, "tmpfs")
        os.mkdir(tmpfs)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=75%", "tmpfs", tmpfs], check=True)
        mounts.append(tmpfs)
        print("copying the tree to tmpfs...", file=sys.stderr)
        subprocess.run(["cp", "-r", fss[0].root + "/.", tmpfs], check=True)
        # squashfs image of that tree, under squashfuse_ll.
        img = os.path.join(work, "tree.sqfs")
        print("building the squashfs image...", file=sys.stderr)
        subprocess.run(["mksquashfs", tmpfs, img, "-noappend", "-quiet", "-no-progress"],
                       check=True, stdout=subprocess.DEVNULL)
        sq = os.path.join(work, "squashfs")
        os.mkdir(sq)

        def mount_sq():
            subprocess.run(["squashfuse_ll", img, sq], check=True)
            wait_mounted(sq)

        mount_sq()
        mounts.append(sq)
        fss = [Fs("tmpfs", tmpfs, lambda: None), Fs("squashfuse_ll", sq, mount_sq,
                                                     lambda: unmount(sq))] + fss

        rng = random.Random(42)
        fields = ["id", "name", "age", "score", "city"]
        picks = [(rng.randrange(args.records), rng.choice(fields)) for _ in range(args.sample)]
        json_picks = [rng.randrange(args.records) for _ in range(args.sample)]

        ops = [
            ("find walk", lambda r: op_find(r)),
            ("ls -l collection", lambda r: op_ls_l(r)),
            ("stat fields", lambda r: op_stat([f"{r}/{i}/{f}" for i, f in picks])),
            ("cat fields", lambda r: op_cat([f"{r}/{i}/{f}" for i, f in picks])),
            ("cat @json", lambda r: op_cat([f"{r}/{i}/@json" for i in json_picks])),
            ("@segment read", lambda r: op_read_seq(f"{r}/@segment")),
            ("@segment mmap", lambda r: op_mmap(f"{r}/@segment")),
        ]
        results = {}  # (op, mode, fs) -> median seconds
        requests = {}  # (op, fs) -> requests of one cold run, by kind
        for name, fn in ops:
            for fs in fss:
                cold = []
                for _ in range(args.cold_repeat):
                    fs.remount()
                    cold.append(timed(lambda: fn(fs.root)))
                warm = [timed(lambda: fn(fs.root)) for _ in range(args.repeat)]
                results[(name, "cold", fs.name)] = statistics.median(cold)
                results[(name, "warm", fs.name)] = statistics.median(warm)
                print(f"{name:18s} {fs.name:22s} cold {statistics.median(cold)*1e3:9.1f} ms"
                      f"  warm {statistics.median(warm)*1e3:9.1f} ms", file=sys.stderr)
                if fs.log:
                    # One more cold run alone on its mount, to count its requests.
                    fs.remount()
                    fn(fs.root)
                    fs.remount()
                    requests[(name, fs.name)] = fs.last_requests()

        # Listing a collection of args.names names (mapfs only: the target is absolute).
        big_jsonl = os.path.join(work, "big.jsonl")
        with open(big_jsonl, "w") as f:
            for i in range(args.names):
                f.write('{"id": %d}\n' % i)
        big = os.path.join(work, "big.mapfs")
        subprocess.run([mapfs, "build", "--schema", os.path.join(work, "schema.yaml"), "--type",
                        "Rec", "--input", big_jsonl, "--output", big, "--key", "id"], check=True)
        bigm = os.path.join(work, "big")
        os.mkdir(bigm)
        p = subprocess.Popen([mapfs, "mount", "-f", big, bigm])
        procs.append(p)
        wait_mounted(bigm, p)
        mounts.append(bigm)
        count = [0]

        def list_big():
            count[0] = sum(1 for _ in os.scandir(bigm))

        list_cold = timed(list_big)
        list_warm = statistics.median(timed(list_big) for _ in range(args.repeat))

        print()
        print(f"records: {args.records}, sample: {args.sample}, repeat: warm {args.repeat}, "
              f"cold {args.cold_repeat}; medians; ratio = fs / reference (lower is faster)")
        header = f"{'operation':18s} {'mode':5s} {'tmpfs ms':>9s} {'sqfuse ms':>9s}"
        for fs in fss[2:]:
            header += f" | {fs.name:>22s} ms  x tmpfs  x sqfuse"
        print(header)
        for name, _ in ops:
            for mode in ("cold", "warm"):
                t = results[(name, mode, "tmpfs")]
                s = results[(name, mode, "squashfuse_ll")]
                line = f"{name:18s} {mode:5s} {t*1e3:9.1f} {s*1e3:9.1f}"
                for fs in fss[2:]:
                    m = results[(name, mode, fs.name)]
                    line += f" | {m*1e3:25.1f} {m/t:8.2f} {m/s:8.2f}"
                print(line)
        print(f"listing {count[0]} names (scandir): cold {list_cold:.3f} s, warm {list_warm:.3f} s")
        print()
        print("FUSE requests of one cold run (find: per directory, of "
              f"{args.records + 1}); us/req = (mapfs cold - tmpfs cold) / requests")
        for fs in fss[2:]:
            for name, _ in ops:
                r = requests[(name, fs.name)]
                extra = results[(name, "cold", fs.name)] - results[(name, "cold", "tmpfs")]
                kinds = ", ".join(f"{k} {v}" for k, v in r.items() if v and k != "total")
                per_dir = f" ({r['total'] / (args.records + 1):.2f}/dir)" if name == "find walk" else ""
                print(f"{fs.name:12s} {name:18s} {r['total']:8d}{per_dir}  "
                      f"{extra / max(r['total'], 1) * 1e6:7.1f} us/req  [{kinds}]")
    finally:
        for m in reversed(mounts):
            unmount(m)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        with contextlib.suppress(Exception):
            shutil.rmtree(work)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Filesystem comparison (docs/performance.md): the same records as a tree of files on
tmpfs (the kernel's own speed), as a squashfs image under squashfuse_ll (the
fastest read-only FUSE image), and as one segment mounted by mapfs.

Reports, in one run, medians of cold and warm runs and their ratios to
tmpfs and squashfuse_ll: a `find` walk, `ls -l` of the collection (scandir +
stat of every record), stat and cat of random fields, @json reads, @segment
sequential read and mmap, and listing a 1M-name collection. For mapfs, also
the FUSE requests one cold run of each operation sends (from the counts the
daemon logs when a mount ends), the fewest the kernel could do it with, and
what they cost at the measured time of one round trip (mapfs's cheapest
request, a GETATTR): the kernel round trip is the floor of a cold operation.

    sudo /usr/bin/python3 bench/fs_compare.py --mapfs build/cli/mapfs [--records 100000]

The measurements run on one CPU (--cpu), the daemons included, so the
figures do not depend on how the scheduler spreads them. Needs root (tmpfs
mounts, drop_caches), mksquashfs and squashfuse_ll.
"""
import argparse
import contextlib
import json
import math
import mmap
import os
import re
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


def read_log_requests(log):
    """The request counts of the last mount that ended with log file `log`."""
    with open(log, errors="replace") as f:
        lines = re.findall(r"requests served: (.*)", f.read())
    return {k: int(v) for k, v in (item.rsplit(" ", 1) for item in lines[-1].split(", "))}


class Fs:
    """One mounted filesystem under test; remount() makes it cold. `log` is
    the daemon's log file, for mapfs."""

    def __init__(self, name, root, mount, umount=None, log=None):
        self.name, self.root, self._mount, self._umount = name, root, mount, umount
        self.log = log

    def last_requests(self):
        """Requests the last mount that ended served, by kind (mapfs only)."""
        return read_log_requests(self.log)

    def stop(self):
        if self._umount:
            self._umount()

    def remount(self):
        if self._umount:
            self._umount()
            self._mount()
        drop_caches()


class Phases:
    """Wall time of each setup and measurement phase, for the report."""

    def __init__(self):
        self.done, self._name, self._start = [], None, None

    def start(self, name):
        self.stop()
        print(f"{name}...", file=sys.stderr)
        self._name, self._start = name, time.monotonic()

    def stop(self):
        if self._name:
            self.done.append((self._name, time.monotonic() - self._start))
            self._name = None


# What the kernel's FUSE client is given by a listing and a read at most:
# glibc's readdir asks getdents for 32 KiB, so a reply holds that much of
# fuse_direntplus entries (152 bytes + the name, 8-aligned), and a read
# request is at most 1 MiB (libfuse's max_write, the kernel's max_pages).
LISTING_REPLY = 32768
READ_REQUEST = 1 << 20


def listing_requests(names):
    """The fewest READDIRPLUS requests a cold listing of `names` takes: full
    replies, then the empty one that tells the kernel the listing ended."""
    size = sum((152 + len(os.fsencode(n)) + 7) // 8 * 8 for n in names)
    return math.ceil(size / LISTING_REPLY) + 1


def tree_listing_requests(root):
    """listing_requests of every directory under `root` (root included)."""
    total, dirs = 0, [root]
    while dirs:
        d = dirs.pop()
        names = []
        with os.scandir(d) as it:
            for e in it:
                names.append(e.name)
                if e.is_dir(follow_symlinks=False):
                    dirs.append(e.path)
        total += listing_requests(names)
    return total


def rss_anon_kb(pid):
    """A process's anonymous resident memory, KiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"RssAnon:\s+(\d+)", f.read()).group(1))


def fstat_loop(path, count):
    """Seconds of `count` fstat calls on one open file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return timed(lambda: [os.fstat(fd) for _ in range(count)])
    finally:
        os.close(fd)


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
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)),
                    help="the CPU every measurement and daemon runs on (default: the last "
                         "one); -1 lets them run anywhere")
    ap.add_argument("--round-trips", type=int, default=200_000,
                    help="fstat calls that time one FUSE round trip")
    ap.add_argument("--dir-mount", action="store_true",
                    help="mount the segment's directory (the collection is its `coll` entry) "
                         "instead of the segment itself")
    ap.add_argument("--mapfs-options", action="append", default=None,
                    help="one mapfs variant per use (e.g. threads=1, open); default: default")
    args = ap.parse_args()
    mapfs = os.path.abspath(args.mapfs)
    variants = args.mapfs_options or [""]
    work = tempfile.mkdtemp(prefix="mapfs-bench-")
    mounts = []
    procs = []
    phases = Phases()
    started = time.monotonic()
    try:
        # Inputs and the segment.
        phases.start("building the segment")
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

        # A cold @segment read also reads the segment from its own filesystem:
        # that file's cold read (the disk's rate) bounds mapfs's. Read before
        # any mount maps it: the kernel does not drop pages a process maps.
        phases.start("reading the segment file itself")
        source_cold = {}
        for name, fn in (("@segment read", op_read_seq), ("@segment mmap", op_mmap)):
            cold = []
            for _ in range(args.cold_repeat):
                drop_caches()
                cold.append(timed(lambda: fn(seg)))
            source_cold[name] = statistics.median(cold)


        def mapfs_fs(name, opts):
            """An Fs of a mapfs mount of `source` with -o `opts` (mounted)."""
            mnt = os.path.join(work, name)
            os.mkdir(mnt)
            log = mnt + ".log"

            def mount_mapfs():
                cmd = [mapfs, "mount", "-f", source, mnt] + (["-o", opts] if opts else [])
                with open(log, "a") as logf:
                    p = subprocess.Popen(cmd, stderr=logf)
                procs.append(p)
                wait_mounted(mnt, p)

            def umount_mapfs():
                unmount(mnt)
                for p in procs:
                    if p.poll() is None and mnt in p.args:
                        p.wait(timeout=30)

            mount_mapfs()
            mounts.append(mnt)
            root = os.path.join(mnt, "coll") if args.dir_mount else mnt
            fs = Fs("mapfs" + (f"[{opts}]" if opts else ""), root, mount_mapfs, umount_mapfs,
                    log)
            fs.mount_dir = mnt
            return fs

        fss = [mapfs_fs(f"mapfs{k}", opts) for k, opts in enumerate(variants)]

        # The same tree on tmpfs, copied from the mount (same names, bytes).
        phases.start("copying the tree to tmpfs")
        tmpfs = os.path.join(work, "tmpfs")
        os.mkdir(tmpfs)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=75%", "tmpfs", tmpfs], check=True)
        mounts.append(tmpfs)
        subprocess.run(["cp", "-r", fss[0].root + "/.", tmpfs], check=True)
        # squashfs image of that tree, under squashfuse_ll. Without
        # -no-duplicates, mksquashfs compares every file with those of the
        # same size and checksum: hundreds of thousands of small fields of a
        # few sizes took it more than 25 minutes at 100k records, 11 s without.
        phases.start("building the squashfs image")
        img = os.path.join(work, "tree.sqfs")
        subprocess.run(["mksquashfs", tmpfs, img, "-noappend", "-no-duplicates", "-no-xattrs",
                        "-quiet", "-no-progress"], check=True, stdout=subprocess.DEVNULL)
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

        # The fewest requests each cold operation could be served with: every
        # listing in full replies, one LOOKUP per name first used, one READ
        # per 1 MiB of a file first read (a cached page needs none).
        phases.start("counting the fewest requests of each operation")
        seg_reads = math.ceil(os.path.getsize(seg) / READ_REQUEST)
        pick_dirs = len({i for i, _ in picks})
        pick_files = len(set(picks))
        json_dirs = len(set(json_picks))
        minimum = {
            "find walk": 1 + tree_listing_requests(tmpfs),  # + the root's GETATTR
            "ls -l collection": 1 + listing_requests(os.listdir(tmpfs)),
            "stat fields": pick_dirs + pick_files,
            "cat fields": pick_dirs + 2 * pick_files,
            "cat @json": 3 * json_dirs,
            "@segment read": 1 + seg_reads,
            "@segment mmap": 1 + seg_reads,
        }

        load_before = open("/proc/loadavg").read().split()[:3]
        if args.cpu >= 0:
            # Every later process inherits it: the tools and, as each cold run
            # remounts, the daemons.
            os.sched_setaffinity(0, {args.cpu})

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
            phases.start(f"measuring {name}")
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

        # The daemon's own memory (anonymous: not the mapped segment) after
        # one cold walk of the whole tree, and after a second one.
        phases.start("walking the tree twice for the daemon's memory")
        walked = fss[2]
        walked.remount()
        daemon = [p for p in procs if p.poll() is None and walked.mount_dir in p.args][-1]
        rss_kb = [rss_anon_kb(daemon.pid)]
        for _ in range(2):
            op_find(walked.root)
            drop_caches()  # the kernel forgets the inodes: the daemon gets FORGETs
            rss_kb.append(rss_anon_kb(daemon.pid))

        # One round trip: fstat of an open file of a mount that caches no
        # attributes sends a GETATTR, mapfs's cheapest request, whenever the
        # kernel's jiffy has moved on; tmpfs's fstat is the rest of the call.
        phases.start("timing one FUSE round trip")
        rt = mapfs_fs("roundtrip", ",".join(filter(None, [variants[0], "cache_timeout=0"])))
        t_fuse = fstat_loop(os.path.join(rt.root, "0", "id"), args.round_trips)
        t_tmpfs = fstat_loop(os.path.join(tmpfs, "0", "id"), args.round_trips)
        rt.stop()
        rt_requests = rt.last_requests()["getattr"]
        round_trip = (t_fuse - t_tmpfs) / max(rt_requests, 1)

        # Listing a collection of args.names names (mapfs only: the target is absolute).
        phases.start(f"listing {args.names} names")
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
        phases.stop()

        print()
        print(f"records: {args.records}, sample: {args.sample}, repeat: warm {args.repeat}, "
              f"cold {args.cold_repeat}; medians; ratio = fs / reference (lower is faster); "
              f"CPU: {args.cpu if args.cpu >= 0 else 'any'}")
        print(f"load average (1, 5, 15 min) before the measurements: {' '.join(load_before)}, "
              f"after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
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
        size = os.path.getsize(seg)
        for name in ("@segment read", "@segment mmap"):
            print(f"{name}: {size / 1e6:.1f} MB, cold " + ", ".join(
                f"{fs.name} {size / results[(name, 'cold', fs.name)] / 1e9:.2f} GB/s"
                for fs in fss) + f"; the segment file itself {size / source_cold[name] / 1e9:.2f} GB/s")
        print(f"{walked.name} daemon memory (RssAnon): mounted {rss_kb[0] / 1024:.1f} MiB, after "
              f"one walk of the tree {rss_kb[1] / 1024:.1f} MiB, after two "
              f"{rss_kb[2] / 1024:.1f} MiB")
        print(f"listing {count[0]} names (scandir): cold {list_cold:.3f} s, warm {list_warm:.3f} s")
        print()
        print(f"One FUSE round trip (fstat, cache_timeout=0, {rt_requests} GETATTRs): "
              f"{round_trip * 1e6:.2f} us")
        print("FUSE requests of one cold run: sent, the fewest the operation could take, and "
              "sent x round trip against\nthe time mapfs takes beyond tmpfs (cold)")
        print(f"{'':12s} {'operation':18s} {'sent':>8s} {'fewest':>8s} {'x':>5s} "
              f"{'sent x rt ms':>12s} {'beyond ms':>10s}  kinds")
        for fs in fss[2:]:
            for name, _ in ops:
                r = requests[(name, fs.name)]
                extra = results[(name, "cold", fs.name)] - results[(name, "cold", "tmpfs")]
                kinds = ", ".join(f"{k} {v}" for k, v in r.items() if v and k != "total")
                per_dir = (f" ({r['total'] / (args.records + 1):.2f}/dir)"
                           if name == "find walk" else "")
                print(f"{fs.name:12s} {name:18s} {r['total']:8d} {minimum[name]:8d} "
                      f"{r['total'] / minimum[name]:5.2f} {r['total'] * round_trip * 1e3:12.1f} "
                      f"{extra * 1e3:10.1f}  [{kinds}]{per_dir}")
        print()
        print("phases: " + ", ".join(f"{n} {t:.0f} s" for n, t in phases.done) +
              f"; whole run {time.monotonic() - started:.0f} s")
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

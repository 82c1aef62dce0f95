"""Datasets mounted for real (docs/layout.md, "Datasets"): a dataset directory
as the mount source and inside a directory source shows one collection; a
new manifest switches every shard at once under live readers; a bad one is
refused naming the shard."""
import json
import mmap
import os
import pathlib
import subprocess
import threading

import pytest

from mapfs_testlib import mounted, wait_for

SCHEMA = """\
structs:
  Item:
    fields:
      name: str
      v: int64
"""

N = 200
RELOAD_WITHIN = 5.0


def build(mapfs_bin, tmp_path, out, shards, offset=0, *, key="name", n=N):
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    data = tmp_path / f"items-{offset}.jsonl"
    data.write_text("".join(json.dumps({"name": f"item-{i}", "v": i + offset}) + "\n"
                            for i in range(n)))
    args = [mapfs_bin, "build", "--schema", str(schema), "--type", "Item", "--input", str(data),
            "--output", str(out), "--shards", str(shards), "-q"]
    if key:
        args += ["--key", key]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads((pathlib.Path(out) / "dataset.json").read_text())


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_a_dataset_mounts_as_one_collection(mapfs_bin, tmp_path):
    ds = tmp_path / "items"
    manifest = build(mapfs_bin, tmp_path, ds, 4)
    with mounted(mapfs_bin, ds, tmp_path / "mnt") as m:
        names = os.listdir(m.path)
        assert names[:4] == ["@info", "@schema", "@dataset", "@shards"]
        assert sorted(names[4:]) == sorted(f"item-{i}" for i in range(N))
        for i in (0, 17, N - 1):
            assert read(m.path / f"item-{i}" / "v") == f"{i}\n".encode()
            assert os.stat(m.path / f"item-{i}" / "name").st_size == len(f"item-{i}")
            assert json.loads(read(m.path / f"item-{i}" / "@json")) == {"name": f"item-{i}",
                                                                         "v": i}
        assert not os.path.exists(m.path / f"item-{N}")
        info = json.loads(read(m.path / "@info"))
        assert info["shards"] == 4 and info["record_count"] == N and info["kind"] == "mapping"
        assert read(m.path / "@dataset") == read(ds / "dataset.json")
        assert os.stat(m.path / "@dataset").st_size == os.stat(ds / "dataset.json").st_size
        assert sorted(os.listdir(m.path / "@shards")) == ["0", "1", "2", "3"]
        for i, shard in enumerate(manifest["shards"]):
            seg = m.path / "@shards" / str(i) / "@segment"
            assert os.listdir(seg.parent) == ["@info", "@schema", "@segment"]
            assert os.stat(seg).st_size == shard["size"]
            with open(seg, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mm:
                assert mm[:] == read(ds / shard["file"])
            assert json.loads(read(seg.parent / "@info"))["record_count"] == shard["record_count"]
        # The CLI reads a shard served by the mount as any segment.
        p = subprocess.run([mapfs_bin, "inspect", str(m.path / "@shards" / "0" / "@segment")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert m.alive()


def test_an_array_dataset_lists_records_by_dataset_index(mapfs_bin, tmp_path):
    ds = tmp_path / "arr"
    build(mapfs_bin, tmp_path, ds, 3, key=None, n=50)
    with mounted(mapfs_bin, ds, tmp_path / "mnt") as m:
        assert os.listdir(m.path)[4:] == [str(i) for i in range(50)]
        for i in (0, 16, 17, 33, 49):
            assert read(m.path / str(i) / "name") == f"item-{i}".encode()


def test_a_republished_dataset_switches_every_shard_at_once(mapfs_bin, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    ds = root / "items"
    build(mapfs_bin, tmp_path, ds, 4)
    keys = [f"item-{i}" for i in range(0, N, 7)]
    with mounted(mapfs_bin, root, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == ["items"]
        held = os.open(m.path / "items" / "item-5" / "@json", os.O_RDONLY)
        seen, errors, stop = [], [], threading.Event()

        def reader():
            # Each read is one whole version: a record of the old or of the new.
            while not stop.is_set():
                for k in keys:
                    try:
                        seen.append((k, json.loads(read(m.path / "items" / k / "@json"))["v"]))
                    except OSError as e:
                        errors.append(e)

        t = threading.Thread(target=reader)
        t.start()
        try:
            build(mapfs_bin, tmp_path, ds, 3, offset=1000)
            wait_for(lambda: read(m.path / "items" / "item-5" / "v") == b"1005\n",
                     RELOAD_WITHIN, "the new version of item-5")
            for i in range(N):
                assert read(m.path / "items" / f"item-{i}" / "v") == f"{i + 1000}\n".encode()
            assert sorted(os.listdir(m.path / "items" / "@shards")) == ["0", "1", "2"]
            assert json.loads(read(m.path / "items" / "@info"))["shards"] == 3
            # The file opened before the switch still reads the old version.
            assert json.loads(os.pread(held, 4096, 0)) == {"name": "item-5", "v": 5}
        finally:
            stop.set()
            t.join()
            os.close(held)
        assert not errors, errors[:3]
        assert seen, "the reader read during the switch"
        for k, v in seen:
            i = int(k.split("-")[1])
            assert v in (i, i + 1000), (k, v)
        assert "serving the new version" in m.log_text()
        assert m.alive()


def test_a_manifest_naming_a_missing_shard_is_refused(mapfs_bin, tmp_path):
    ds = tmp_path / "items"
    manifest = build(mapfs_bin, tmp_path, ds, 2)
    with mounted(mapfs_bin, ds, tmp_path / "mnt") as m:
        assert read(m.path / "item-3" / "v") == b"3\n"
        gone = manifest["shards"][1]["file"]
        bad = dict(manifest)
        bad["shards"] = [dict(s) for s in manifest["shards"]]
        bad["shards"][1]["file"] = "shard-missing.mapfs"
        (ds / ".tmp").write_text(json.dumps(bad))
        os.rename(ds / ".tmp", ds / "dataset.json")
        wait_for(lambda: "shard-missing.mapfs" in m.log_text(), RELOAD_WITHIN,
                 "the refusal naming the shard")
        assert "replacement refused" in m.log_text()
        assert read(m.path / "item-3" / "v") == b"3\n"
        assert (ds / gone).exists()
        assert m.alive()


def test_a_dataset_whose_shard_is_broken_answers_eio_in_a_directory_mount(mapfs_bin, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    manifest = build(mapfs_bin, tmp_path, root / "items", 2)
    shard = root / "items" / manifest["shards"][0]["file"]
    with open(shard, "r+b") as f:
        f.truncate(64)
    with mounted(mapfs_bin, root, tmp_path / "mnt") as m:
        assert os.listdir(m.path) == ["items"]
        with pytest.raises(OSError) as e:
            os.listdir(m.path / "items")
        assert e.value.errno == 5
        with pytest.raises(OSError):
            read(m.path / "items" / "@info")
        assert m.alive()

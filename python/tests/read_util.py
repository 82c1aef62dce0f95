"""Shared code of the read tests: build segments with the `mapfs` CLI and ask it
for the JSON of a key (the reference the module must match)."""
import json
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample"


def mapfs_bin():
    return os.environ.get("MAPFS_BIN") or str(REPO / "build" / "cli" / "mapfs")


def build_segment(workdir, schema_yaml, type_name, records, *, key=None, multi=False,
                  approx=False, name="coll"):
    """Writes the schema and records (dicts or JSON lines) and builds
    workdir/<name>.mapfs with `mapfs build`; returns its path."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    schema = workdir / f"{name}.schema.yaml"
    schema.write_text(schema_yaml)
    data = workdir / f"{name}.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return build_from_files(schema, data, type_name, workdir / f"{name}.mapfs", key=key,
                            multi=multi, approx=approx)


def build_from_files(schema, data, type_name, out, *, key=None, multi=False, approx=False):
    cmd = [mapfs_bin(), "build", "--schema", str(schema), "--type", type_name,
           "--input", str(data), "--output", str(out)]
    if key:
        cmd += ["--key", key]
    if multi:
        cmd.append("--multi")
    if approx:
        cmd.append("--approx")
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return pathlib.Path(out)


def cli_get(path, key):
    """The exact stdout of `mapfs get FILE KEY`, without its newline."""
    out = subprocess.run([mapfs_bin(), "get", str(path), str(key)], check=True,
                         capture_output=True, timeout=60)
    text = out.stdout.decode("utf-8")
    assert text.endswith("\n")
    return text[:-1]

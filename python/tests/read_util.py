"""Shared code of the read tests: build segments with the `mapfs` CLI and ask it
for the JSON of a key (the reference the module must match)."""
import pathlib
import subprocess

import mapfs_testlib
from build_util import mapfs_bin
from mapfs_testlib import build_command

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample"


def build_segment(workdir, schema_yaml, type_name, records, *, key=None, multi=False,
                  approx=False, name="coll", extra=()):
    """Writes the schema and records (dicts or JSON lines) and builds
    workdir/<name>.mapfs with `mapfs build`; returns its path."""
    return mapfs_testlib.build_segment(mapfs_bin(), workdir, schema_yaml, type_name, records,
                                       key=key, multi=multi, approx=approx, name=name,
                                       extra=extra)


def build_from_files(schema, data, type_name, out, *, key=None, multi=False, approx=False):
    subprocess.run(build_command(mapfs_bin(), schema, data, type_name, out, key=key, multi=multi,
                                 approx=approx), check=True, capture_output=True, timeout=300)
    return pathlib.Path(out)


def cli_get(path, key):
    """The exact stdout of `mapfs get FILE KEY`, without its newline."""
    out = subprocess.run([mapfs_bin(), "get", str(path), str(key)], check=True,
                         capture_output=True, timeout=60)
    text = out.stdout.decode("utf-8")
    assert text.endswith("\n")
    return text[:-1]

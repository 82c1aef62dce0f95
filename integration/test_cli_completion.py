"""The bash completion (packaging/mapfs.bash-completion): it offers every
subcommand and, for each, exactly the long options its --help lists."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPLETION = os.path.join(ROOT, "packaging", "mapfs.bash-completion")


def complete(*words):
    """What completing the last of `words` (after `mapfs`) offers."""
    script = (f"source {COMPLETION}\n"
              f"COMP_WORDS=(mapfs {' '.join(repr(w) for w in words)})\n"
              f"COMP_CWORD={len(words)}\n"
              "_mapfs\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.split("\n") if w)


def help_options(mapfs_bin, *command):
    r = subprocess.run([mapfs_bin, *command, "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    # The option lines: "  -o,--output TEXT  ..." or "  --multi  ...".
    return sorted(set(re.findall(r"^\s+(?:-\w,)?(--[a-z][a-z-]*)", r.stdout, re.M)))


def test_the_command_word_offers_every_subcommand(mapfs_bin):
    r = subprocess.run([mapfs_bin, "frobnicate"], capture_output=True, text=True)
    listed = re.search(r"^commands: (.*)$", r.stderr, re.M).group(1).split(", ")
    assert complete("") == sorted(listed + ["help", "--help", "--version"])
    assert complete("b") == ["build"]


@pytest.mark.parametrize("command", [["build"], ["dump"], ["get"], ["inspect"], ["verify"],
                                     ["pack"], ["mount"], ["shm", "create"]])
def test_each_command_offers_the_options_of_its_help(mapfs_bin, command):
    offered = complete(*command, "--")
    assert offered == help_options(mapfs_bin, *command)


def test_option_values(mapfs_bin):
    assert complete("shm", "create", "x", "--dtype", "ui") == ["uint16", "uint32", "uint64",
                                                               "uint8"]
    assert complete("mount", "a", "b", "-o", "al") == ["allow_other"]
    assert complete("mount", "--log-level", "w") == ["warn"]
    assert complete("shm", "") == ["--help", "create", "info", "list", "remove"]
    # File names are bash's own completion (complete -o default).
    assert complete("build", "--schema", "") == []

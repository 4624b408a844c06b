"""The `autosnap snap` commands, run as a user would run them."""

from __future__ import annotations

import subprocess

from helpers import AUTOSNAP


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUTOSNAP, *args], capture_output=True, text=True, timeout=600)


def test_check_prints_one_snap_id_for_equivalent_snaps():
    r = run("snap", "check", "dup c3 add", "dup c3 swap add")
    assert r.returncode == 0, r.stderr
    ids = [line.split()[0] for line in r.stdout.splitlines()]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_check_of_invalid_snap_exits_2_naming_position_1():
    r = run("snap", "check", "add")
    assert r.returncode == 2
    assert "position 1 'add'" in r.stderr
    assert r.stdout == ""


def test_check_with_width_prints_params_and_macs():
    r = run("snap", "check", "dup c3 c3 add", "--width", "8", "--input", "24x46")
    assert r.returncode == 0, r.stderr
    assert "params=" in r.stdout and "macs=" in r.stdout


def test_sample_is_reproducible_and_valid():
    a = run("snap", "sample", "-n", "50", "--seed", "4", "--max-len", "8")
    b = run("snap", "sample", "-n", "50", "--seed", "4", "--max-len", "8")
    assert a.returncode == 0 and a.stdout == b.stdout
    lines = a.stdout.splitlines()
    assert len(lines) == 50
    check = run("snap", "check", "--max-len", "8", *lines)
    assert check.returncode == 0
    assert len({line.split()[0] for line in check.stdout.splitlines()}) == 50


def test_sample_beyond_the_space_is_a_usage_error():
    r = run("snap", "sample", "-n", "6", "--max-len", "1")
    assert r.returncode == 2 and "found only 5 of 6" in r.stderr


def test_draw_writes_a_png(tmp_path):
    out = tmp_path / "block.png"
    r = run("snap", "draw", "dup c3 swap s5 cat", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_of_invalid_snap_exits_2(tmp_path):
    r = run("snap", "draw", "c3 zz", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "position 2 'zz'" in r.stderr


def test_every_option_has_help_and_every_command_an_example():
    import argparse

    from autosnap.cli import build_parser

    missing, commands = [], []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}")
            elif not action.help:
                missing.append(f"{name} {action.option_strings or action.dest}")
        if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            commands.append((name, parser.epilog or ""))

    walk(build_parser(), "autosnap")
    assert missing == []
    assert len(commands) >= 11 and all("example:\n  autosnap " in e for _, e in commands), commands


def test_version_and_bad_arguments_exit_2_with_a_message(tmp_path):
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("autosnap ")
    for args, message in [
        (("snap", "sample", "-n", "-1"), "expected a positive whole number, got '-1'"),
        (("snap", "draw", "c3", "--out", str(tmp_path / "x.bmp2")), "unknown image format"),
        (("export", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "e")),
         "no such file or folder"),
    ]:  # fmt: skip
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "x.bmp2").exists()

"""The SNAP-Bench stages: the closed space as proposal tables, and its children as one
table (autosnap.search.bench; the rules are workflow/rules/bench.smk)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

import autosnap
from autosnap.progress import log
from autosnap.search.bench import bench_config, bench_table, members, noise_members, noise_ratio
from autosnap.search.bench import proposals as bench_proposals_of
from autosnap.tables import CHILD_COLUMNS, TEST_COLUMNS, read_table, write_table


def bench_proposals(out: str | Path, bench: dict | None, noise: bool) -> int:
    """Write the members to train with one seed: all of them, or (`noise`) the share
    trained again with each noise seed. Returns how many."""
    cfg = bench_config(bench)
    snaps = members(cfg)
    if noise:
        snaps = [snaps[i] for i in noise_members(cfg, len(snaps))]
    write_table(bench_proposals_of(snaps), out)
    log.info("SNAP-Bench: %d members up to %d symbols to %s", len(snaps), cfg.max_len, out)
    return len(snaps)


def code_version(folder: str | Path) -> str:
    """autosnap's version, and the git commit of `folder` where it is a checkout."""
    try:
        r = subprocess.run(["git", "-C", str(folder), "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=30)  # fmt: skip
        commit = r.stdout.strip() if r.returncode == 0 else ""
    except OSError:
        commit = ""
    return f"{autosnap.__version__}+{commit}" if commit else autosnap.__version__


def collect_bench(
    children: Sequence[str | Path], out: str | Path, first_seed: int, config: dict, version: str
) -> pd.DataFrame:
    """Join every child table of every seed into SNAP-Bench's table; its Parquet metadata
    (DataFrame.attrs) holds the budget, data config, seeds, noise ratio and code version."""
    rows = pd.concat([read_table(p, CHILD_COLUMNS + TEST_COLUMNS) for p in children],
                     ignore_index=True)  # fmt: skip
    table = bench_table(rows, first_seed)
    noise = noise_ratio(rows, first_seed)
    table.attrs = {
        "train": config["train"], "data": config["data"], "bench": config["bench"],
        "first_seed": first_seed, "noise": noise, "code_version": version,
        "members": len(table), "trainings": len(rows),
        "train_seconds": float(rows["train_seconds"].sum()),
    }  # fmt: skip
    write_table(table, out)
    log.info(
        "SNAP-Bench: %d members, %d trainings, between/within sd %.2f (%.4f / %.4f)",
        len(table), len(rows), noise["ratio"], noise["between_sd"], noise["within_sd"],
    )  # fmt: skip
    return table

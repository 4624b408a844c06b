"""The SNAP-Bench stages: the closed space as proposal tables, and its children as one
table (autosnap.space.bench; the rules are workflow/rules/bench.smk)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

import autosnap
from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.errors import InputError
from autosnap.progress import log
from autosnap.space.bench import (
    bench_config,
    bench_table,
    denoised_table,
    members,
    noise_members,
    noise_ratio,
    top_members,
)
from autosnap.space.bench import proposals as bench_proposals_of
from autosnap.tables import CHILD_COLUMNS, TEST_COLUMNS, read_table, write_table
from autosnap.training.config import TrainConfig


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


def read_bench(path: str | Path, config: dict) -> pd.DataFrame:
    """A finished SNAP-Bench table, refused (naming the key) when it was trained on other
    data or with another budget than `config`'s, defaults filled in on both sides: new
    seeds would not be comparable with its values."""
    table = read_table(path)
    for section, cls in (("data", DataConfig), ("train", TrainConfig)):
        made = asdict(from_dict(cls, table.attrs.get(section), f"{path}: {section}"))
        given = asdict(from_dict(cls, config[section], section))
        # epochs counts only without steps (training.trainer)
        ignore = {"seed"} | ({"epochs"} if given.get("steps", 0) > 0 else set())
        differ = sorted(k for k in given if k not in ignore and given[k] != made[k])
        if differ:
            key = differ[0]
            raise InputError(f"{path}: made with other {section}.{key} ({made[key]!r}, the "
                             f"config has {given[key]!r})")  # fmt: skip
    return table


def bench_top_proposals(table: str | Path, out: str | Path, config: dict) -> int:
    """Write the top share of a SNAP-Bench table (bench.top_fraction) as proposals."""
    bench = bench_config(config["bench"])
    first = read_bench(table, config)
    space = len(members(bench))
    if len(first) != space:  # the workflow planned one training slot per top member
        raise InputError(f"{table}: {len(first)} members, but the bench section's space "
                         f"(max_len {bench.max_len}, symbols {list(bench.symbols) or 'all'}) "
                         f"has {space}")  # fmt: skip
    snaps = top_members(first, bench.top_fraction)
    write_table(bench_proposals_of(snaps), out)
    log.info("SNAP-Bench de-noising: the top %d members to %s", len(snaps), out)
    return len(snaps)


def collect_denoised(table: str | Path, children: Sequence[str | Path], out: str | Path,
                     config: dict, version: str) -> pd.DataFrame:  # fmt: skip
    """SNAP-Bench's table with the top share's new seeds pooled in (bench.denoised_table);
    its metadata adds the de-noising settings and the code version that trained them."""
    first = read_bench(table, config)
    rows = pd.concat([read_table(p, CHILD_COLUMNS + TEST_COLUMNS) for p in children],
                     ignore_index=True)  # fmt: skip
    denoised = denoised_table(first, rows)
    bench = bench_config(config["bench"])
    denoised.attrs = {**first.attrs, "top_fraction": bench.top_fraction,
                      "top_seeds": list(bench.top_seeds),
                      "top_members": int(rows["snap_id"].nunique()), "top_trainings": len(rows),
                      "top_train_seconds": float(rows["train_seconds"].sum()),
                      "top_code_version": version}  # fmt: skip
    write_table(denoised, out)
    top = denoised[denoised["seeds"] > 1 + len(bench.noise_seeds)]
    log.info("SNAP-Bench de-noised: %d members with %d+ seeds, value sd within a member %.4f",
             len(top), 1 + len(bench.top_seeds), float(top["value_sd"].mean()))  # fmt: skip
    return denoised

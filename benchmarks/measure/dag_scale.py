"""How Snakemake's planning grows with the search: `snakemake -n` wall time and peak
memory for 100, 1,000 and 5,000 children (rounds x K), one child per job and chunks of
4, in a fresh folder.

    python -m benchmarks run benchmarks/experiments/dag_scale.yaml

Each point is planned twice: with the workflow as shipped (`groups: yes`, what a dry run
and a cluster run plan) and with its `group:` directives removed (`groups: no`, what a
local run plans: Snakemake ignores groups there). The difference is the cost of
Snakemake's group validation, which walks every ancestor of every grouped job and so
grows with the square of the number of grouped jobs (see benchmarks/README.md).

Writes benchmarks/results/dag_scale.csv (with seconds per 1,000 children, so growth
worse than linear shows as a rising column).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.measure import machine, publish

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
ROOT = HERE.parent
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def copy_workflow(work: Path, groups: bool) -> None:
    """The workflow, config and resources in `work`, without `group:` if not groups."""
    shutil.rmtree(work, ignore_errors=True)
    for name in ("workflow", "config", "resources"):
        shutil.copytree(ROOT / name, work / name)
    if not groups:
        for smk in (work / "workflow/rules").glob("*.smk"):
            text = re.sub(r"\n        group:\n            .*", "", smk.read_text())
            smk.write_text(text)


def measure(rounds: int, k: int, chunk: int, work: Path, groups: bool) -> dict:
    cfg = yaml.safe_load((ROOT / "config/full.yaml").read_text())
    cfg["search"].update(rounds=rounds, children=k)
    cfg["resources"]["chunk"] = chunk
    (work / "scale.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run(
        ["/usr/bin/time", "-v", SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", "scale.yaml"],
        cwd=work, capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = (float(g) if g else 0.0 for g in wall.groups())
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    jobs = int(re.search(r"^total\s+(\d+)", r.stdout, re.M).group(1))
    n = rounds * k
    seconds = 3600 * h + 60 * m + s
    return {"children": n, "rounds": rounds, "k": k, "chunk": chunk, "jobs": jobs,
            "groups": "yes" if groups else "no",
            "seconds": seconds, "max_rss_mb": rss_kb / 1024,
            "seconds_per_1000_children": 1000 * seconds / n, "machine": machine()}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["4x25", "10x100", "20x250"],
                   help="ROUNDSxK per point")  # fmt: skip
    p.add_argument("--chunks", type=int, nargs="+", default=[1, 4])
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "wf"
        for groups in (True, False):
            copy_workflow(work, groups)
            for chunk in args.chunks:
                for size in args.sizes:
                    rounds, k = (int(v) for v in size.split("x"))
                    rows.append(measure(rounds, k, chunk, work, groups))
                    print(rows[-1])
    df = pd.DataFrame(rows)
    publish(df, args.out, "dag_scale")


if __name__ == "__main__":
    main()

"""python -m benchmarks run EXPERIMENT.yaml: run (or resume) a pinned experiment and
write its results folder (benchmarks/results/<experiment>/)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks import experiment, harness
from benchmarks.provenance import Run

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run or resume an experiment")
    run.add_argument("experiment", help="a file of benchmarks/experiments/")
    run.add_argument("--cores", type=int, default=2, help="searches side by side (default 2)")
    run.add_argument("--out", help="results folder (default benchmarks/results/<experiment>)")
    run.add_argument("--work", help="finished searches, for resuming (default "
                     "benchmarks/work/<experiment>)")  # fmt: skip
    run.add_argument("--allow-dirty", action="store_true",
                     help="run on uncommitted changes (the result is not to be cited)")  # fmt: skip
    args = ap.parse_args(argv)
    exp = experiment.load(args.experiment)
    out = Path(args.out) if args.out else HERE / "results" / exp.name
    record = Run(exp.digest, args.allow_dirty)
    record.record["command"] = "python -m benchmarks " + " ".join(argv or sys.argv[1:])
    done = harness.run(exp, out, args.cores, Path(args.work) if args.work else None)
    print(record.write(out, experiment=os.path.relpath(exp.path, HERE.parent), **done))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m benchmarks run EXPERIMENT.yaml: run (or resume) a pinned experiment and
write its results folder (benchmarks/results/<experiment>/); python -m benchmarks
results: rewrite docs/results.md from the results folders."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autosnap.errors import InputError
from benchmarks import experiment, harness, results_page
from benchmarks.provenance import Run

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run the command; a bad experiment, table or tree is one line on stderr, exit 2."""
    try:
        return _main(argv)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
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
    run.epilog = "After --: more arguments of a measurement (say --run PATH, the run it reads)."
    res = sub.add_parser("results", help="rewrite docs/results.md from benchmarks/results/")
    res.add_argument("--page", default=str(HERE.parent / "docs" / "results.md"))
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = ap.parse_args(argv[:cut]), argv[cut + 1 :]
    if args.command == "results":
        print(results_page.write(Path(args.page)))
        return 0
    exp = experiment.load(args.experiment)
    out = Path(args.out) if args.out else HERE / "results" / exp.name
    record = Run(exp.digest, args.allow_dirty)
    record.record["command"] = "python -m benchmarks " + " ".join(argv)
    if isinstance(exp, experiment.Measurement):
        done = harness.measure(exp, out, tuple(extra))
    else:
        done = harness.run(exp, out, args.cores, Path(args.work) if args.work else None)
    print(record.write(out, experiment=os.path.relpath(exp.path, HERE.parent), **done))
    return 0


if __name__ == "__main__":
    sys.exit(main())

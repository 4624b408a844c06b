"""The `autosnap` command line: one sub-command per stage, each a thin call into the package.

Exit codes: 0 success, 2 bad input (an invalid SNAP, a missing file, a bad argument).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from autosnap import __version__
from autosnap.errors import InputError
from autosnap.progress import setup_logging
from autosnap.search import strategies
from autosnap.space.snap import DEFAULT_MAX_LEN, Snap, sample_snaps

USAGE_ERROR = 2
MAX_LEN_HELP = f"longest SNAP accepted (default {DEFAULT_MAX_LEN})"
#: Image formats `snap draw` writes (matplotlib's).
DRAW_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


class UsageError(InputError):
    """A bad command-line argument."""


def _shape(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 48x92, got '{text}'") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got '{text}'")
    return h, w


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'")
    return int(text)


def cmd_snap_check(args: argparse.Namespace) -> int:
    """Print canonical string and snap_id per SNAP (and cost with --width/--input)."""
    status = 0
    for text in args.snaps:
        try:
            snap = Snap.parse(text, args.max_len)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            status = USAGE_ERROR
            continue
        line = f"{snap.snap_id}  {snap.canonical}  {snap.text}"
        if args.width is not None:
            from autosnap.models.snapnet import SnapNet, count_macs, count_params

            net = SnapNet(
                snap, outputs=args.outputs, width=args.width, stages=args.stages, blocks=args.blocks
            )
            h, w = args.input
            line += f"  params={count_params(net)} macs={count_macs(net, (1, h, w))}"
        print(line)
    return status


def cmd_snap_sample(args: argparse.Namespace) -> int:
    """Print N valid SNAPs with pairwise different snap_ids, the same for the same seed."""
    try:
        snaps = sample_snaps(args.n, args.seed, max_len=args.max_len, min_len=args.min_len)
    except ValueError as e:
        raise UsageError(str(e)) from e
    for s in snaps:
        print(s.text)
    return 0


def cmd_snap_draw(args: argparse.Namespace) -> int:
    """Draw the block of a SNAP as a graph."""
    from autosnap.space.draw import save_block_drawing

    snap = Snap.parse(args.snap, args.max_len)
    if Path(args.out).suffix.lower() not in DRAW_FORMATS:
        raise UsageError(f"{args.out}: unknown image format, expected one of "
                         f"{', '.join(DRAW_FORMATS)}")  # fmt: skip
    print(save_block_drawing(snap, args.out))
    return 0


def _sections(config: str | None, *names: str) -> list[dict | None]:
    """Sections of a config file, read once and checked whole against the workflow's
    schema (a misspelt section fails here too; None without a file: all defaults)."""
    from autosnap.config import load_config
    from autosnap.search.config import search_config

    data = load_config(config) if config else {}
    if "search" in data:  # its strategy and sections, checked by the registry
        search_config(data["search"], f"{config}: search")
    return [data.get(name) for name in names]


def cmd_data_make(args: argparse.Namespace) -> int:
    """Render the simulated data set of a config's `data:` section."""
    from autosnap.data.prepare import prepare_data

    for name, path in prepare_data(*_sections(args.config, "data"), args.out).items():
        print(f"{name}: {path}")
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    """Cut patches from real images and a pose table into the same tables."""
    from autosnap.config import from_dict
    from autosnap.data.config import DataConfig
    from autosnap.data.importer import import_dataset
    from autosnap.data.pose_table import import_files

    (data,) = _sections(args.config, "data")
    given = {"patch": list(args.patch) if args.patch else None, "seed": args.seed}
    data = {**(data or {}), "source": "import", "images": args.images, "poses": args.poses,
            **{k: v for k, v in given.items() if v is not None}}  # fmt: skip
    cfg = from_dict(DataConfig, data, "data")
    import_files(cfg, "autosnap data import")
    for name, path in import_dataset(cfg, args.out).items():
        print(f"{name}: {path}")
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    """Import a config's own data, count it, draw its poses, warn about the patch size."""
    from autosnap.config import from_dict
    from autosnap.data.check import check_data
    from autosnap.data.config import DataConfig

    (data,) = _sections(args.config, "data")
    if (data or {}).get("source") != "import":
        raise UsageError(f"{args.config}: data.source is not 'import'; `data check` looks at "
                         "your own images (data.images, data.poses)")  # fmt: skip
    cfg = from_dict(DataConfig, data, "data")
    counts, figure, warnings = check_data(cfg, args.out, args.config, args.sample)
    print(counts.to_string(index=False))
    totals = counts.groupby("split", sort=False)[["images", "patches"]].sum()
    print("per split: " + ", ".join(f"{s} {r.images} images / {r.patches} patches"
                                    for s, r in totals.iterrows()))  # fmt: skip
    for line in warnings:
        print(f"warning: {line}")
    print(f"poses drawn on {min(args.sample, int(totals['images'].sum()))} images: {figure}")
    return 0


def cmd_data_example(args: argparse.Namespace) -> int:
    """Write an example set in the import format: radiographs and their pose table."""
    from autosnap.data.example import write_example_set

    table = write_example_set(args.out, args.n, seed=args.seed)
    print(f"{args.out}: {len(table)} images in images/, poses.csv "
          f"({table['split'].value_counts().to_dict()})")  # fmt: skip
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train children: one SNAP (--snap) or slots of a proposals table in one process."""
    from autosnap.pipeline import stages

    train, search = _sections(args.config, "train", "search")
    # `or None`: 0 threads and an empty device mean "as the config says", as before.
    overrides = {"device": args.device or None, "threads": args.threads or None,
                 "seed": args.seed}  # fmt: skip
    if args.snap:
        outs = [args.out]
        row = stages.train_snap(args.snap, args.out, args.data, train, search, args.evaluate,
                                args.round, args.slot, **overrides)  # fmt: skip
        rows = [row]
    else:
        if "{slot}" not in args.out:
            raise UsageError("with --proposals, --out must contain {slot}")
        outs = [args.out.format(slot=s) for s in args.slots]
        max_len = stages.search_config(search).max_len
        rows = stages.train_children(args.proposals, args.slots, outs, args.data, train,
                                     max_len, args.evaluate, **overrides)  # fmt: skip
    for out, row in zip(outs, rows, strict=True):
        print(f"{out}: {row['status']} value={row['value']:.4f}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit the value model on a history table; write the model and a metrics row."""
    from autosnap.pipeline import stages

    search, vm = _sections(args.config, "search", "value_model")
    row = stages.fit_value_model(args.history, search, vm, args.out, args.metrics, args.round)
    print(f"{args.out}: tau={row['kendall_tau']:.3f} recon={row['recon_acc']:.3f}")
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    """Propose K new SNAPs for a round with the configured (or given) strategy."""
    from autosnap.pipeline import stages

    (search,) = _sections(args.config, "search")
    search = dict(search or {})
    if args.k:
        search["children"] = args.k
    df = stages.propose_round(search, args.round, args.out, args.history, args.model,
                              args.strategy)  # fmt: skip
    print(f"{args.out}: {len(df)} proposals ({df['origin'].value_counts().to_dict()})")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """History of rounds 0..r: the previous history plus this round's children."""
    from autosnap.pipeline import stages

    df = stages.collect(args.tables, args.out)
    print(f"{args.out}: {len(df)} children, best value {df['value'].max():.4f}")
    return 0


def _run_checkpoint(final: Path, candidate: str | None) -> tuple[Path, list[str]]:
    """In a run's final/ folder: the recommended model (the summary's pick), or the
    given candidate's seed of lowest validation error; with why it was picked."""
    import pandas as pd

    from autosnap.pipeline.recommend import from_summary, recommend
    from autosnap.tables import read_table

    if candidate is None:
        pick = from_summary(read_table(final / "summary.parquet"), str(final / "summary.parquet"))
    else:
        runs = [read_table(p) for p in sorted((final / candidate).glob("seed_*.parquet"))]
        if not runs:
            known = sorted(p.name for p in final.iterdir() if p.is_dir())
            raise UsageError(f"{final}: no candidate '{candidate}' (found {', '.join(known)})")
        pick = recommend(pd.concat(runs, ignore_index=True), str(final / candidate))
    path = pick.checkpoint(final.parent)
    if not path.is_file() or path.stat().st_size == 0:
        raise UsageError(f"{path}: no trained checkpoint")
    return path, [] if candidate else pick.lines(final.parent)


def _checkpoint_of(source: str, args: argparse.Namespace) -> tuple[Path, list[str]]:
    """A checkpoint file as given; in a run folder (results/ or the project folder) the
    recommended model (or --candidate's); a SNAP is trained on the config's final budget
    first. Returns the checkpoint and why it was picked (run folders only)."""
    path = Path(source)
    if path.is_file():
        return path, []
    if not path.exists() and ("/" in source or path.suffix in (".pt", ".pth")):
        raise UsageError(f"{source}: no such file or folder (expected a checkpoint, a run's "
                         "results folder, or a SNAP)")  # fmt: skip
    if path.is_dir():
        final = next((p for p in (path / "final", path / "results" / "final") if p.is_dir()), None)
        if final is None:
            raise UsageError(f"{path}: no final/ folder; expected a run's results folder")
        return _run_checkpoint(final, args.candidate)
    from autosnap.pipeline.final import retrain

    train, final, search = _sections(args.config, "train", "final", "search")
    return retrain(source, Path(args.out), args.data, train, final, search, args.seed), []


def cmd_export(args: argparse.Namespace) -> int:
    """Write the trained network as TorchScript, ONNX, a standalone module and a card."""
    from autosnap.deploy.export import ExportError, export_model

    checkpoint, why = _checkpoint_of(args.source, args)
    data = Path(args.data)
    test = data / "test.parquet"
    try:
        files = export_model(checkpoint, args.out, test if test.exists() else None,
                             train=data / "train.parquet", selection=why)  # fmt: skip
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: exported {checkpoint} ({', '.join(files)})")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Estimate poses on new images with an exported model, from first guesses."""
    from autosnap.deploy.predict import predict_poses

    df = predict_poses(args.model, args.images, args.guesses, args.out, args.iterations,
                       args.mm_per_px, args.tolerance_px, args.all_iterations,
                       args.invert)  # fmt: skip
    last = df.drop_duplicates("file", keep="last")
    print(f"{args.out}: {len(last)} images, {args.iterations} iterations; "
          f"{int(last['converged'].sum())} converged (last move < {args.tolerance_px:g} px), "
          f"median last move {last['moved_px'].median():.3f} px")  # fmt: skip
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Per round: children done, failed, waiting, best so far, the predictor's tau."""
    from autosnap.pipeline.status import final_table, format_status, search_status, timing

    print(format_status(*search_status(args.results)))
    if when := timing(args.results):
        print(when)
    final = final_table(args.results)
    if final:
        print(f"\n{final}")
    return 0


def _add_snap(sub: argparse._SubParsersAction) -> None:
    """`snap check|sample|draw`: the SNAP language on the command line."""
    snap = sub.add_parser("snap", help="parse, sample and draw SNAPs").add_subparsers(
        dest="snap_command", required=True
    )
    check = snap.add_parser("check", help="canonical string and snap_id of SNAPs")
    check.add_argument("snaps", nargs="+", metavar="SNAP", help='for example "dup c3 c3 add"')
    check.add_argument("--max-len", type=_positive, default=DEFAULT_MAX_LEN, help=MAX_LEN_HELP)
    check.add_argument("--width", type=_positive, help="C0: with it, print parameters and MACs")
    check.add_argument("--input", type=_shape, default=(48, 92), help="HxW (default 48x92)")
    check.add_argument("--stages", type=_positive, default=3, help="S (default 3)")
    check.add_argument("--blocks", type=_positive, default=1, help="B (default 1)")
    check.add_argument("--outputs", type=_positive, default=12, help="head outputs (default 12)")
    check.set_defaults(func=cmd_snap_check)

    sample = snap.add_parser("sample", help="random valid SNAPs, unique by snap_id")
    sample.add_argument("-n", type=_positive, default=10, help="how many (default 10)")
    sample.add_argument("--seed", type=int, default=0, help="same seed, same list (default 0)")
    sample.add_argument("--max-len", type=_positive, default=DEFAULT_MAX_LEN, help=MAX_LEN_HELP)
    sample.add_argument("--min-len", type=_positive, default=1, help="fewest symbols (default 1)")
    sample.set_defaults(func=cmd_snap_sample)

    draw = snap.add_parser("draw", help="draw the block of a SNAP as a graph")
    draw.add_argument("snap", metavar="SNAP", help='for example "dup c3 c3 add"')
    draw.add_argument("--out", required=True, help="image file (.png, .svg, .pdf)")
    draw.add_argument("--max-len", type=_positive, default=DEFAULT_MAX_LEN, help=MAX_LEN_HELP)
    draw.set_defaults(func=cmd_snap_draw)


def _add_data(sub: argparse._SubParsersAction) -> None:
    """`data make|import|check|example`: the data set, simulated or your own."""
    data = sub.add_parser("data", help="make or import the pose-estimation data set")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    make = data_sub.add_parser("make", help="render simulated fluoroscopy patches")
    make.add_argument("--config", help="YAML config; its data: section (default: defaults)")
    make.add_argument("--out", default="results/data", help="output folder")
    make.set_defaults(func=cmd_data_make)
    imp = data_sub.add_parser("import", help="real images plus a pose table")
    imp.add_argument("--images", required=True, help="folder of PNG/TIFF/DICOM/.npy images")
    imp.add_argument("--poses", required=True, help="CSV or Parquet: file,col,row,angle_deg,...")
    imp.add_argument(
        "--out",
        required=True,
        help="output folder (not the workflow's results/data, which prepare_data owns)",
    )
    imp.add_argument("--config", help="YAML config; its data: section (patch, seed, "
                     "patches_per_image, perturbations, min_images_per_split)")  # fmt: skip
    imp.add_argument("--patch", type=_shape, help="HxW (default: data.patch, 48x92)")
    imp.add_argument("--seed", type=int, help="seed of the split and perturbations "
                     "(default: data.seed, 0)")  # fmt: skip
    imp.set_defaults(func=cmd_data_import)
    chk = data_sub.add_parser("check", help="import your images, count them, draw their "
                              "poses: run it before a search")  # fmt: skip
    chk.add_argument("config", help="YAML config with data.source: import")
    chk.add_argument("--out", default="data_check", help="folder for the tables and poses.png "
                     "(default data_check)")  # fmt: skip
    chk.add_argument("--sample", type=_positive, default=8, help="images drawn (default 8)")
    chk.set_defaults(func=cmd_data_check)
    ex = data_sub.add_parser("example", help="write an example set in the import format")
    ex.add_argument("--out", required=True, help="folder (gets images/ and poses.csv)")
    ex.add_argument("-n", type=_positive, default=24, help="how many images (default 24)")
    ex.add_argument("--seed", type=int, default=0, help="same seed, same set (default 0)")
    ex.set_defaults(func=cmd_data_example)


def _add_train(sub: argparse._SubParsersAction) -> None:
    """`train`: children trained and scored outside the workflow."""
    tr = sub.add_parser("train", help="train and score children (SNAPNet with a SNAP block)")
    what = tr.add_mutually_exclusive_group(required=True)
    what.add_argument("--snap", help="one SNAP, for example 'dup c3 c3 add'")
    what.add_argument("--proposals", help="proposals table; train the rows of --slots")
    tr.add_argument("--slots", type=int, nargs="+", default=[], help="slots to train")
    tr.add_argument("--data", default="results/data", help="folder of the data tables")
    tr.add_argument("--config", help="YAML config; its train: section")
    tr.add_argument("--out", required=True, help="result table; with --proposals a {slot} path")
    tr.add_argument("--evaluate", default="val", choices=["val", "test"],
                    help="split the value is scored on (default val)")  # fmt: skip
    tr.add_argument("--seed", type=int, help="training seed (default: train.seed)")
    tr.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: train.device)")
    tr.add_argument("--threads", type=int, help="CPU threads (default: train.threads)")
    tr.add_argument("--round", type=int, default=0, help="round recorded with --snap")
    tr.add_argument("--slot", type=int, default=0, help="slot recorded with --snap")
    tr.set_defaults(func=cmd_train)


def _add_fit(sub: argparse._SubParsersAction) -> None:
    """`fit`: the value model on a history."""
    fit = sub.add_parser("fit", help="fit the auto-encoder value model on a history")
    fit.add_argument("--history", required=True, help="history table (rounds 0..r)")
    fit.add_argument("--config", help="YAML config; its search: and value_model: sections")
    fit.add_argument("--out", required=True, help="model file (.pt)")
    fit.add_argument("--metrics", required=True, help="metrics table (.parquet)")
    fit.add_argument("--round", type=int, default=0, help="round r (seeds the fit; default 0)")
    fit.set_defaults(func=cmd_fit)


def _add_propose(sub: argparse._SubParsersAction) -> None:
    """`propose`: a round's proposals with the configured (or given) strategy."""
    prop = sub.add_parser("propose", help="propose K new SNAPs for a round")
    prop.add_argument("--history", help="history table (none in round 0)")
    prop.add_argument("--model", help="value model (strategy autosnap)")
    prop.add_argument("--config", help="YAML config; its search: section")
    prop.add_argument("--strategy", help="a registered strategy (default: search.strategy): "
                      f"{', '.join(strategies.names())}, or a plug-in's")  # fmt: skip
    prop.add_argument("--round", type=int, required=True, help="the round proposed for")
    prop.add_argument("--k", type=int, help="number of proposals (default: search.children)")
    prop.add_argument("--out", required=True, help="proposals table (.parquet or .csv)")
    prop.set_defaults(func=cmd_propose)


def _add_export(sub: argparse._SubParsersAction) -> None:
    """`export`: a trained network as files a user deploys."""
    exp = sub.add_parser("export", help="export a trained network (TorchScript, ONNX, module)")
    exp.add_argument("source", metavar="SNAP_OR_RUN",
                     help="a checkpoint (.pt), a run's results folder (its recommended model) "
                     "or a SNAP (trained first with the config's final budget)")  # fmt: skip
    exp.add_argument("--candidate", help="in a run's folder: this final candidate (best2, "
                     "i3posnet, ...) instead of the recommended one, its seed of lowest "
                     "validation error")  # fmt: skip
    exp.add_argument("--out", required=True, help="output folder")
    exp.add_argument("--data", default="results/data", help="data folder (test patches)")
    exp.add_argument("--config", help="YAML config (for a SNAP: train, final, search)")
    exp.add_argument("--seed", type=int, help="training seed for a SNAP (default: final.seeds[0])")
    exp.set_defaults(func=cmd_export)


def _add_predict(sub: argparse._SubParsersAction) -> None:
    """`predict`: poses on new images with an exported model."""
    pred = sub.add_parser("predict", help="poses on new images with an exported model")
    pred.add_argument("model", help="an `autosnap export` folder")
    pred.add_argument("--images", required=True, help="folder of PNG/TIFF/DICOM/.npy images")
    pred.add_argument(
        "--guesses",
        required=True,
        help="CSV or Parquet: file, col, row, angle_deg (first guess per image)",
    )
    pred.add_argument("--iterations", type=int, default=3, help="crop-predict loops (default 3)")
    pred.add_argument("--mm-per-px", type=float, help="the images' pixel size at the instrument "
                      "(or a mm_per_px column in --guesses); patches are resampled to the "
                      "training pixel size of the model card")  # fmt: skip
    pred.add_argument("--invert", action="store_true", help="invert the images after "
                      "reading, as data.invert did for the training data")  # fmt: skip
    pred.add_argument(
        "--tolerance-px",
        type=float,
        default=0.5,
        help="an image has converged when its last iteration moved the pose less (default 0.5)",
    )
    pred.add_argument(
        "--all-iterations",
        action="store_true",
        help="a row per iteration (0: the guess), not only the last",
    )
    pred.add_argument("--out", required=True, help="pose table (.parquet or .csv)")
    pred.set_defaults(func=cmd_predict)


def _add_collect(sub: argparse._SubParsersAction) -> None:
    """`collect`: child tables into a history."""
    col = sub.add_parser("collect", help="concatenate child tables into a history")
    col.add_argument("tables", nargs="+", help="child or history tables")
    col.add_argument("--out", required=True, help="history table (.parquet or .csv)")
    col.set_defaults(func=cmd_collect)


def cmd_measure(args: argparse.Namespace) -> int:
    """Parameters, MACs and latency of SNAPs or baselines on this machine."""
    import torch

    from autosnap.training.config import train_config
    from autosnap.training.device import describe_device, select_device
    from autosnap.training.measure import architecture, measure

    data, train = _sections(args.config, "data", "train")
    patch = tuple(args.patch or (data or {}).get("patch") or (24, 46))
    cfg = train_config(train, threads=args.threads or None)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    device = select_device(args.device or cfg.device)
    print(f"patch {patch[0]}x{patch[1]}, batch {args.batch}, {describe_device(device)}, "
          f"median of {args.runs} forward passes after a warm-up")  # fmt: skip
    print(f"{'network':>30} {'params':>9} {'MMACs':>8} {'latency':>10}")
    for text in args.networks:
        m = measure(architecture(text), patch, cfg, device, args.batch, args.runs)
        print(f"{text:>30} {m['params']:>9,d} {m['macs'] / 1e6:>8.1f} {m['latency_ms']:>7.2f} ms")
    return 0


def _add_measure(sub: argparse._SubParsersAction) -> None:
    """`measure`: what a network costs where it will run, before any training."""
    me = sub.add_parser("measure", help="parameters and latency of SNAPs or baselines here")
    me.add_argument("networks", nargs="+", help="SNAPs ('dup c3 c3 add') or baseline names "
                    "(i3posnet, resnet)")  # fmt: skip
    me.add_argument("--config", help="YAML config: data.patch and train's network size")
    me.add_argument("--patch", type=int, nargs=2, metavar=("H", "W"),
                    help="patch size (default: data.patch)")  # fmt: skip
    me.add_argument("--device", help="cpu, cuda, cuda:N (default: train.device)")
    me.add_argument("--batch", type=int, default=1, help="inputs per forward pass (default 1)")
    me.add_argument("--runs", type=int, default=20, help="timed passes (default 20)")
    me.add_argument("--threads", type=int, default=0, help="CPU threads (default: train.threads)")
    me.set_defaults(func=cmd_measure)


def _add_status(sub: argparse._SubParsersAction) -> None:
    """`status`: how a search stands."""
    st = sub.add_parser("status", help="how a search is doing (also while it runs)")
    st.add_argument("results", nargs="?", default="results", help="default: results")
    st.set_defaults(func=cmd_status)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one function per sub-command adds its parser."""
    parser = argparse.ArgumentParser(
        prog="autosnap", description="Neural architecture search with SNAPs."
    )
    parser.add_argument("--version", action="version", version=f"autosnap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_snap, _add_data, _add_train, _add_fit, _add_propose, _add_export,
                _add_predict, _add_collect, _add_status, _add_measure):  # fmt: skip
        add(sub)
    _add_examples(parser)
    return parser


#: One example per sub-command, shown at the end of its --help.
EXAMPLES = {
    "snap check": "autosnap snap check 'dup c3 c3 add' 'dup c3 swap c3 add' --width 16",
    "snap sample": "autosnap snap sample -n 20 --seed 1 --max-len 8",
    "snap draw": "autosnap snap draw 'dup c3 c3 add' --out block.svg",
    "data make": "autosnap data make --config config/smoke.yaml --out results/data",
    "data import": "autosnap data import --images xrays/ --poses poses.csv --out my_data",
    "data check": "autosnap data check config/own_data.yaml",
    "data example": "autosnap data example --out resources/example_data",
    "train": "autosnap train --snap 'dup c3 c3 add' --config config/smoke.yaml --out child.csv",
    "fit": "autosnap fit --history results/round_0/history.parquet --config config/smoke.yaml "
    "--out vm.pt --metrics vm.parquet",
    "propose": "autosnap propose --round 1 --history results/round_0/history.parquet "
    "--model results/round_0/value_model.pt --config config/smoke.yaml --out props.parquet",
    "collect": "autosnap collect results/round_0/children/*.parquet --out history.parquet",
    "status": "autosnap status results   (or: watch -n 10 autosnap status)",
    "measure": "autosnap measure i3posnet 'dup c3 c3 add' --config config/config.yaml --device cpu",
    "export": "autosnap export results --out exported/",
    "predict": "autosnap predict results/export --images xrays/ --guesses guesses.csv "
    "--out poses.csv",
}


def _add_examples(parser: argparse.ArgumentParser, name: str = "") -> None:
    """Give every sub-command its example (EXAMPLES) as the end of its help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                full = f"{name} {sub_name}".strip()
                if full in EXAMPLES:
                    sub.epilog = f"example:\n  {EXAMPLES[full]}"
                    sub.formatter_class = argparse.RawDescriptionHelpFormatter
                _add_examples(sub, full)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    setup_logging()
    try:
        return func(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())

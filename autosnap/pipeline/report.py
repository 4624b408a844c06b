"""The search report: figures a person reads at a glance, each with its table.

Writes into one folder: PNG figures, CSV tables behind them, and index.html that shows
both (open it in a browser; `snakemake --report` packs the same files)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from autosnap.data.dataset import load_split  # noqa: E402
from autosnap.data.encoding import normalise_images, targets_to_landmarks  # noqa: E402
from autosnap.data.figures import save  # noqa: E402
from autosnap.errors import InputError  # noqa: E402
from autosnap.pipeline.recommend import from_summary  # noqa: E402
from autosnap.pipeline.status import (  # noqa: E402
    column,
    marked_candidates,
    mean_sd,
    thousands,
)
from autosnap.search.config import search_config  # noqa: E402
from autosnap.search.fidelity import curve_of, top_rung  # noqa: E402
from autosnap.search.history import evaluated, ranked  # noqa: E402
from autosnap.search.predictors.value_model import ValueModel, load_model  # noqa: E402
from autosnap.search.rank import kendall  # noqa: E402
from autosnap.search.trace import best_so_far, proposal_tau  # noqa: E402
from autosnap.space.draw import draw_block  # noqa: E402
from autosnap.space.snap import Snap  # noqa: E402
from autosnap.tables import read_table  # noqa: E402
from autosnap.training.checkpoint import load_checkpoint  # noqa: E402

ORIGIN_COLOURS = {"random": "#999999", "ascent": "#d62728", "mutation": "#ff7f0e",
                  "evolution": "#2ca02c", "cli": "#1f77b4"}  # fmt: skip


def progress_table(history: pd.DataFrame) -> pd.DataFrame:
    """One row per child in training order, with the best value so far (with rungs, of
    the children trained the whole budget: a short training's value is another measure)."""
    df = history.sort_values(["round", "slot"]).reset_index(drop=True)
    df.insert(0, "child", np.arange(1, len(df) + 1))
    whole = df["value"].where(df.index.isin(top_rung(df).index))
    df["best_so_far"] = best_so_far(df.assign(value=whole))["best_so_far"]
    return df


def mm(value: pd.Series | float) -> pd.Series | float:
    """The mean landmark error in mm that a value (−log10 of it) stands for."""
    return 10.0 ** (-value)


def plot_progress(table: pd.DataFrame, path: Path) -> Path:
    """Every child's validation landmark error by round, and the best so far, in mm."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for origin, g in table[table["status"] == "ok"].groupby("origin"):
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(g))
        ax1.scatter(g["round"] + jitter, mm(g["value"]), s=18, label=origin,
                    color=ORIGIN_COLOURS.get(origin, "#1f77b4"))  # fmt: skip
    failed = table[table["status"] != "ok"]
    if len(failed):
        ax1.scatter(failed["round"], np.full(len(failed), mm(table["value"].min())), marker="x",
                    color="black", label=f"failed ({len(failed)})")  # fmt: skip
    ax1.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax1.set_xlabel("round")
    ax1.set_ylabel("landmark error on validation (mm)")
    ax1.set_yscale("log")
    ax1.set_title("every child by round (lower is better)")
    ax1.legend(fontsize=8, title="proposed by", title_fontsize=8)
    ax2.plot(table["child"], mm(table["best_so_far"]), drawstyle="steps-post", color="#d62728")
    ax2.set_xlabel("children trained")
    ax2.set_ylabel("best validation error so far (mm)")
    ax2.set_title("search progress")
    for _, g in table.groupby("round"):
        ax2.axvline(g["child"].min() - 0.5, color="#cccccc", lw=0.8)
    return save(fig, path)


def next_round_tau(metrics: pd.DataFrame, history: pd.DataFrame,
                   proposals: pd.DataFrame | None) -> pd.DataFrame:  # fmt: skip
    """`metrics` with `tau_next`: each round's model's predicted values of the next
    round's proposals against what those children scored (what the model was used for;
    the held-out tau measures it on children like its training set)."""
    out = metrics.copy()
    out["tau_next"] = np.nan
    if proposals is None or proposals.empty:
        return out
    for i, r in out["round"].items():
        out.loc[i, "tau_next"] = proposal_tau(proposals[proposals["round"] == r + 1],
                                              history[history["round"] == r + 1])  # fmt: skip
    return out


def plot_predictor(metrics: pd.DataFrame, path: Path) -> Path:
    """Per round: the tau that matters (next round's children), the held-out tau and rho
    (drawn only where measured: `value_model.holdout` 0 skips them) and reconstruction."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for i, (col, label) in enumerate((
        ("tau_next", "Kendall tau (next round's children)"),
        ("kendall_tau", "Kendall tau (held out)"),
        ("spearman_rho", "Spearman rho (held out)"),
        ("recon_acc", "reconstruction"),
    )):  # fmt: skip
        if metrics[col].notna().any():  # one colour per series, whichever are drawn
            ax.plot(metrics["round"], metrics[col], "o-", color=f"C{i}", label=label)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("round (model fitted after it)")
    ax.set_ylabel("rank correlation / accuracy")
    ax.set_ylim(-1, 1.05)
    ax.set_title("value model quality")
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_final(summary: pd.DataFrame, path: Path) -> Path:
    """Test errors of every candidate, found and baseline, mean ± sd over seeds (their
    cost is in the Pareto figure)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ok = summary[summary["seeds_ok"] > 0]
    colours = ["#d62728" if c.startswith("best") else "#1f77b4" for c in ok["candidate"]]
    for ax, metric, label in ((axes[0], "landmark_err_mm", "landmark error on test (mm)"),
                              (axes[1], "angle_err_deg", "angle error on test (deg)")):  # fmt: skip
        ax.bar(ok["candidate"], ok[f"{metric}_mean"], yerr=ok[f"{metric}_std"].fillna(0),
               color=colours, capsize=4)  # fmt: skip
        ax.set_ylabel(f"{label}, mean ± sd over seeds")
    fig.suptitle("final comparison (red: found, blue: baselines)")
    return save(fig, path)


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The final comparison in a line per candidate: the block, the test landmark error
    in mm (mean ± sd over the seeds), parameters and latency."""
    val = column(summary, "val_landmark_err_mm_mean")
    val_sd = column(summary, "val_landmark_err_mm_std")

    def cells(mean: pd.Series, sd: pd.Series, digits: int = 3) -> list[str]:
        return [mean_sd(m, s, digits, "", "") for m, s in zip(mean, sd, strict=True)]

    return pd.DataFrame({
        "candidate": marked_candidates(summary),
        "block": summary["snap"].where(summary["candidate"] != "i3posnet", "i3PosNet-like"),
        "validation error (mm)": cells(val, val_sd),
        "landmark error (mm)": cells(summary["landmark_err_mm_mean"],
                                     summary["landmark_err_mm_std"]),
        "angle error (deg)": cells(summary["angle_err_deg_mean"], summary["angle_err_deg_std"],
                                   2),
        "parameters": summary["params"],
        "latency (ms)": summary["latency_ms"].round(2),
        "seeds ok": [f"{o}/{n}" for o, n in zip(summary["seeds_ok"], summary["seeds"],
                                                 strict=True)],
    })  # fmt: skip


def plot_best_blocks(history: pd.DataFrame, summary: pd.DataFrame, path: Path
                     ) -> tuple[Path, pd.DataFrame]:  # fmt: skip
    """The found blocks the final stage retrained (its best1..N), with their search
    values; the search's best three when none was retrained."""
    found = summary[summary["candidate"].str.fullmatch(r"best\d+") & (summary["snap"] != "")]
    ok = evaluated(history).drop_duplicates("snap_id")
    best = (found[["candidate", "snap_id"]].merge(ok, on="snap_id") if len(found)
            else ranked(history).head(3).assign(candidate=""))  # fmt: skip
    fig, axes = plt.subplots(1, max(len(best), 1), figsize=(4 * max(len(best), 1), 6))
    axes = np.atleast_1d(axes)
    for ax, (_, r) in zip(axes, best.iterrows(), strict=False):
        title = (
            f"{r['candidate']}: {r['snap']}\nsearch: value {r['value']:.3f}, "
            f"{r['landmark_err_mm']:.3f} mm"
        )
        draw_block(Snap.parse(r["snap"], 64), ax, title=title.lstrip(": "))
    save(fig, path)
    return path, best[["candidate", "snap", "snap_id", "value", "landmark_err_mm", "params",
                       "macs"]]  # fmt: skip


def plot_strategies(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Best value so far per strategy (the search and the random-search baseline)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, t in tables.items():
        colour = ORIGIN_COLOURS["random"] if name == "random search" else "#d62728"
        ax.plot(t["child"], t["best_so_far"], drawstyle="steps-post", label=name, color=colour)
    ax.set_xlabel("children trained")
    ax.set_ylabel("best validation value so far")
    ax.set_title("search vs random search, same budget")
    ax.legend()
    return save(fig, path)


def latent_table(history: pd.DataFrame, proposals: pd.DataFrame | None, model) -> pd.DataFrame:
    """Every successful child in the value model's latent space, projected on the two
    principal axes of the codes, with its true and predicted value and (for ascent
    proposals) where its seed SNAP sits."""
    ok = evaluated(history).reset_index(drop=True)
    z = model.encode([s.split() for s in ok["snap"]]).numpy()
    mean = z.mean(axis=0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    axes = vt[:2].T

    def project(codes: np.ndarray) -> np.ndarray:
        return (codes - mean) @ axes

    xy = project(z)
    df = ok[["round", "slot", "snap", "origin", "value"]].copy()
    df["predicted"] = model.predict_latent(torch.from_numpy(z))
    df["pc1"], df["pc2"] = xy[:, 0], xy[:, 1]
    df["parent"] = ""
    if proposals is not None and len(proposals):
        parents = proposals.set_index(["round", "slot"])["parent"]
        keys = zip(df["round"], df["slot"], strict=True)
        df["parent"] = [parents.get(key, "") or "" for key in keys]
    has = df["parent"] != ""
    df["parent_pc1"] = df["parent_pc2"] = np.nan
    if has.any():
        pz = project(model.encode([p.split() for p in df.loc[has, "parent"]]).numpy())
        df.loc[has, "parent_pc1"], df.loc[has, "parent_pc2"] = pz[:, 0], pz[:, 1]
    return df


def plot_latent(table: pd.DataFrame, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
    lo, hi = np.nanmin(table[["value", "predicted"]]), np.nanmax(table[["value", "predicted"]])
    for ax, col, title in ((axes[0], "value", "true value (validation)"),
                           (axes[1], "predicted", "value predicted by the model")):  # fmt: skip
        arrows = table[table["parent_pc1"].notna()]
        for _, r in arrows.iterrows():
            ax.annotate("", (r["pc1"], r["pc2"]), (r["parent_pc1"], r["parent_pc2"]),
                        arrowprops={"arrowstyle": "->", "color": "#888888", "lw": 0.8})  # fmt: skip
        sc = ax.scatter(table["pc1"], table["pc2"], c=table[col], cmap="viridis", vmin=lo,
                        vmax=hi, s=30, edgecolor="k", linewidth=0.3)  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("latent PC 1")
    axes[0].set_ylabel("latent PC 2")
    fig.colorbar(sc, ax=axes, label="value = −log10(landmark error mm)")
    fig.suptitle("children in the last value model's latent space (arrows: ascent from seed)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def pareto_front(x: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Mask of the points no other point beats in both cost and error."""
    x, err = np.asarray(x, float), np.asarray(err, float)
    return np.array([not np.any((x <= x[i]) & (err <= err[i]) & ((x < x[i]) | (err < err[i])))
                     for i in range(len(x))])  # fmt: skip


def plot_pareto(summary: pd.DataFrame, path: Path) -> tuple[Path, pd.DataFrame]:
    ok = summary[summary["seeds_ok"] > 0].reset_index(drop=True)
    table = ok[["candidate", "snap", "landmark_err_mm_mean", "landmark_err_mm_std", "params",
                "latency_ms"]].copy()  # fmt: skip
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, cost, label in ((axes[0], "params", "parameters"),
                            (axes[1], "latency_ms", "latency, batch 1 (ms)")):  # fmt: skip
        front = pareto_front(ok[cost], ok["landmark_err_mm_mean"])
        table[f"pareto_{cost}"] = front
        colours = ["#d62728" if c.startswith("best") else "#1f77b4" for c in ok["candidate"]]
        ax.errorbar(ok[cost], ok["landmark_err_mm_mean"], yerr=ok["landmark_err_mm_std"].fillna(0),
                    fmt="none", ecolor="#999999")  # fmt: skip
        ax.scatter(ok[cost], ok["landmark_err_mm_mean"], c=colours, zorder=3)
        f = ok[front].sort_values(cost)
        ax.plot(f[cost], f["landmark_err_mm_mean"], "--", color="#444444", label="Pareto front")
        for i, r in ok.iterrows():  # labels staggered: twin candidates share a point
            ax.annotate(r["candidate"], (r[cost], r["landmark_err_mm_mean"]), fontsize=8,
                        xytext=(4, 4 - 10 * (i % 2)), textcoords="offset points")  # fmt: skip
        if cost == "params":  # log scale, every tick labelled (rarely a decade apart)
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel("landmark error on test (mm)")
        ax.legend(fontsize=8)
    axes[0].set_title("error vs size")
    axes[1].set_title("error vs latency")
    save(fig, path)
    return path, table


def prediction_examples(checkpoint: str | Path, test: str | Path, path: Path, n: int = 8
                        ) -> tuple[Path, pd.DataFrame]:  # fmt: skip
    """Test patches with the true (green) and predicted (red) landmarks of a trained net."""
    ck = load_checkpoint(checkpoint)
    images, landmarks, mm = load_split(test)
    images, landmarks, mm = images[:n], landmarks[:n], mm[:n]
    with torch.no_grad():
        y = ck.model(torch.from_numpy(normalise_images(images))).numpy()
    pred = targets_to_landmarks(y, *images.shape[2:])
    err = np.linalg.norm(pred - landmarks, axis=-1).mean(axis=1) * mm
    cols = 4
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(3.2 * cols, 1.9 * n / cols))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i, 0], cmap="gray")
        ax.scatter(*landmarks[i].T, s=14, c="#2ca02c", marker="o", label="true")
        ax.scatter(*pred[i].T, s=14, c="#d62728", marker="x", label="predicted")
        ax.set_title(f"test {i}: {err[i]:.3f} mm", fontsize=8)
    np.atleast_1d(axes).ravel()[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{ck.arch.text} (seed {ck.metrics.get('seed')}) on test patches", fontsize=9)
    save(fig, path)
    table = pd.DataFrame({"sample": range(len(images)), "landmark_err_mm": err,
                          "true": landmarks.reshape(len(images), -1).tolist(),
                          "predicted": pred.reshape(len(images), -1).tolist()})  # fmt: skip
    return path, table


def _message_figure(text: str, path: Path) -> Path:
    """A figure that says why the expected picture is missing."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@dataclass
class Report:
    """The sections of one report as they are written: figure, caption, table each."""

    out: Path
    sections: list[tuple[str, str, str, pd.DataFrame]] = field(default_factory=list)

    def add(self, title: str, stem: str, caption: str, table: pd.DataFrame) -> None:
        """A section: its figure `stem`.png, a one-line caption, and its table (the CSV
        keeps every column; the page leaves out empty ones and raw arrays)."""
        table.to_csv(self.out / f"{stem}.csv", index=False)
        self.sections.append((title, stem, caption, shown_table(table)))


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """A table as a person reads it: no column without a value, no raw arrays, counts of
    parameters and MACs as 278k."""
    arrays = [
        c for c in table.columns if table[c].map(lambda v: isinstance(v, list | np.ndarray)).any()
    ]
    shown = table.drop(columns=arrays).dropna(axis=1, how="all").copy()
    for col in ("params", "macs", "parameters"):
        if col in shown.columns:
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else thousands(v))
    return shown


def section_final(rep: Report, summary: pd.DataFrame) -> None:
    """The answer: found blocks against the baselines, on the test split."""
    plot_final(summary, rep.out / "final.png")
    rep.add(
        "Final comparison on the test split",
        "final",
        "Found blocks (red) against the hand-designed baselines (blue), retrained on "
        "several seeds: the validation error picks the model to export (*), the test error "
        "measures it. Lower is better. The search itself ranked blocks on a shorter "
        "training, so its numbers below are higher than these.",
        headline_table(summary),
    )


def section_blocks(rep: Report, history: pd.DataFrame, summary: pd.DataFrame) -> None:
    """The found blocks that the final stage retrained, as graphs."""
    _, best = plot_best_blocks(history, summary, rep.out / "blocks.png")
    rep.add(
        "The blocks retrained",
        "blocks",
        "The found blocks the final stage retrained (best1 first), as graphs, with their "
        "validation error in the search's short training.",
        best,
    )


def section_search(rep: Report, history: pd.DataFrame, random_history: pd.DataFrame | None
                   ) -> pd.DataFrame:  # fmt: skip
    """How the search got there, and against a random search when there is one."""
    prog = progress_table(history).drop(columns=["error"])
    plot_progress(prog, rep.out / "progress.png")
    rep.add(
        "Search progress",
        "progress",
        "Left: every child's validation landmark error by round, coloured by what "
        "proposed it; right: the best so far. A falling step is a better block found.",
        prog,
    )
    if random_history is not None:
        rand = progress_table(random_history).drop(columns=["error"])
        tables = {"search": prog, "random search": rand}
        plot_strategies(tables, rep.out / "strategies.png")
        both = pd.concat([t.assign(strategy=k) for k, t in tables.items()], ignore_index=True)
        rep.add(
            "Search against random search",
            "strategies",
            "Best value so far of the search and of a random search with the same budget "
            "(higher is better): the search should climb faster.",
            both[["strategy", "child", "round", "snap", "value", "best_so_far"]],
        )
    return prog


def rung_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per round and rung: the children that reached it, the epochs spent (a child
    continued from a rung is counted once per epoch), the epochs a flat search of the same
    K spends, and the Kendall tau between the rung's values and the last rung's, over the
    children that reached the last (pooled over the rounds; the last rung's own is 1)."""
    curves = [curve_of(c) for c in history["curve"].fillna("")]
    epochs = sorted({e for c in curves for e in c})
    last = epochs[-1]
    done = [c for c in curves if last in c]
    rows = []
    for r, rnd in history.groupby("round"):
        mine = [curve_of(c) for c in rnd["curve"].fillna("")]
        spent = sum(max(c, default=0) for c in mine)
        for e in epochs:
            tau = kendall([c[e] for c in done], [c[last] for c in done])
            rows.append({"round": r, "epochs": e, "children": sum(e in c for c in mine),
                         "epochs_spent": spent if e == last else np.nan,
                         "epochs_flat": len(rnd) * last if e == last else np.nan,
                         "tau_with_last": tau})  # fmt: skip
    return pd.DataFrame(rows)


def plot_rungs(history: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """Learning curves per round (the children that reached the last rung solid), and
    the epochs spent per round against a flat search of the same K."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, history["round"].nunique()))
    last = int(table["epochs"].max())
    for colour, (r, rnd) in zip(colours, history.groupby("round"), strict=True):
        for text in rnd["curve"].fillna(""):
            c = curve_of(text)
            on = last in c
            label = f"round {r}" if text == rnd["curve"].iloc[0] else None
            ax1.plot(list(c), mm(pd.Series(list(c.values()))), color=colour,
                     lw=1.4 if on else 0.8, ls="-" if on else ":", marker="o" if on else ".",
                     label=label)  # fmt: skip
    ax1.set_xlabel("epochs trained")
    ax1.set_ylabel("landmark error on validation (mm)")
    ax1.set_yscale("log")
    ax1.set_title("learning curves (solid: promoted to the last rung)")
    ax1.legend(fontsize=8)
    spent = table.dropna(subset=["epochs_spent"])
    x = np.arange(len(spent))
    ax2.bar(x - 0.2, spent["epochs_flat"], 0.4, color="#cccccc", label="flat search, same K")
    ax2.bar(x + 0.2, spent["epochs_spent"], 0.4, color="#d62728", label="with rungs")
    ax2.set_xticks(x, [str(r) for r in spent["round"]])
    ax2.set_xlabel("round")
    ax2.set_ylabel("child-epochs trained")
    ax2.set_title("training spent per round")
    ax2.legend(fontsize=8)
    return save(fig, path)


def section_rungs(rep: Report, history: pd.DataFrame) -> None:
    """Successive halving: the curves, what it saved, and whether its early ranking held."""
    if "curve" not in history.columns or not history["curve"].fillna("").astype(bool).any():
        return
    table = rung_table(history)
    plot_rungs(history, table, rep.out / "rungs.png")
    rep.add(
        "Successive halving",
        "rungs",
        "Left: every child's validation error after each rung it reached; the best of a "
        "rung went on. Right: child-epochs trained per round, against a search that trains "
        "every child the whole budget. tau_with_last: how well a rung's values ranked the "
        "children that reached the last rung, over all rounds (1: the same order); a low "
        "tau says early "
        "stopping cannot be trusted on this task.",
        table,
    )


def section_predictor(rep: Report, history: pd.DataFrame, fit_metrics: pd.DataFrame | None,
                      proposals: pd.DataFrame | None, value_model) -> None:  # fmt: skip
    """The value model: its ranking per round, and the latent space."""
    if fit_metrics is not None and len(fit_metrics):
        fit_metrics = next_round_tau(fit_metrics, history, proposals)
        plot_predictor(fit_metrics, rep.out / "predictor.png")
        rep.add(
            "The value model per round",
            "predictor",
            "How well each round's model ranked the next round's children (Kendall tau: 1 "
            "perfect, 0 no better than chance) and how well it reconstructs SNAPs. A "
            "negative tau after round 0 is common: fitted on a handful of random children, "
            "the model has not yet learnt the ranking; it should rise as rounds add "
            "children. One that stays negative means the model misleads the search.",
            fit_metrics,
        )
    if value_model is None:
        return
    if not isinstance(value_model, ValueModel):  # the workflow declared the figure
        lat = pd.DataFrame({"note": ["value_model.kind bag: no latent space"]})
        _message_figure("latent space: the bag-of-symbols model has none", rep.out / "latent.png")
    elif len(evaluated(history)) >= 3:
        lat = latent_table(history, proposals, value_model)
        plot_latent(lat, rep.out / "latent.png")
        lat = lat.drop(columns=["parent_pc1", "parent_pc2"])  # drawn as arrows
    else:  # the workflow declared the figure; say why it is empty
        lat = pd.DataFrame({"note": ["fewer than 3 successful children"]})
        _message_figure("latent space: fewer than 3 successful children", rep.out / "latent.png")
    rep.add(
        "The latent space",
        "latent",
        "The children's codes in the value model's latent space (two principal "
        "directions), coloured by value, with the ascent steps to new proposals (`parent`: "
        "the SNAP the ascent started at; empty for children no ascent proposed).",
        lat,
    )


def section_cost(rep: Report, summary: pd.DataFrame, checkpoint: str | Path | None,
                 test: str | Path | None) -> None:  # fmt: skip
    """Error against cost, and the recommended model on test patches."""
    _, pareto = plot_pareto(summary, rep.out / "pareto.png")
    rep.add(
        "Error against cost (Pareto front)",
        "pareto",
        "Test error against parameters and latency: a candidate on the dashed front is "
        "beaten by no other in both error and cost.",
        pareto,
    )
    if checkpoint is None or test is None:
        return
    if Path(checkpoint).exists() and Path(checkpoint).stat().st_size > 0:
        _, examples = prediction_examples(checkpoint, test, rep.out / "examples.png")
    else:  # no recommendation, or its candidate failed; the final table says why
        examples = pd.DataFrame({"note": [f"{checkpoint}: no trained network"]})
        _message_figure(f"{checkpoint}: no trained network (see the final table)",
                        rep.out / "examples.png")  # fmt: skip
    rep.add(
        "The recommended model on test patches",
        "examples",
        "The exported model's predicted (red crosses) and true (green) landmarks on test "
        "patches, with each patch's mean error.",
        examples,
    )


def answer_html(summary: pd.DataFrame, facts: dict[str, str]) -> list[str]:
    """The top of the page: the recommended model in one line and why, the export, and
    the run's facts."""
    try:
        pick = from_summary(summary, "the final summary")
    except InputError as e:
        lines = [f"<p><b>No model recommended:</b> {html.escape(str(e))}</p>"]
    else:
        row = summary.set_index("candidate").loc[pick.candidate]
        what = "the i3PosNet-like network" if pick.candidate == "i3posnet" else pick.snap
        lines = [
            f"<p style='font-size:1.2em'><b>Recommended: {html.escape(pick.candidate)}</b> "
            f"(<code>{html.escape(what)}</code>): test landmark error "
            f"{row['landmark_err_mm_mean']:.3f} ± {np.nan_to_num(row['landmark_err_mm_std']):.3f}"
            f" mm, {thousands(row['params'])} parameters, {row['latency_ms']:.2f} ms per patch."
            "</p>",
            "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in pick.lines("results")) + "</ul>",
            "<p><a href='../export/'>the exported model</a> · "
            "<a href='../export/MODEL_CARD.md'>its model card</a></p>",
        ]  # fmt: skip
    if facts:
        items = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in facts.items())  # fmt: skip
        lines.append(f"<table class='facts'>{items}</table>")
    return lines


def write_report(
    history: pd.DataFrame,
    fit_metrics: pd.DataFrame | None,
    summary: pd.DataFrame,
    out_dir: str | Path,
    data_figures: Sequence[str | Path] = (),
    random_history: pd.DataFrame | None = None,
    proposals: pd.DataFrame | None = None,
    value_model=None,
    checkpoint: str | Path | None = None,
    test: str | Path | None = None,
    facts: dict[str, str] | None = None,
) -> Path:
    """All figures and tables into `out_dir`, plus index.html showing them, the answer
    first. The optional inputs add their sections: the random-search comparison, the
    latent space (needs the value model and the proposals' parents), example
    predictions (the recommended checkpoint and the test split), the run's facts."""
    rep = Report(Path(out_dir))
    rep.out.mkdir(parents=True, exist_ok=True)
    section_final(rep, summary)
    section_blocks(rep, history, summary)
    section_search(rep, history, random_history)
    section_rungs(rep, history)
    section_predictor(rep, history, fit_metrics, proposals, value_model)
    section_cost(rep, summary, checkpoint, test)
    parts = ["<html><head><meta charset='utf-8'><title>autosnap report</title><style>"
             "body{font-family:sans-serif;max-width:1200px;margin:auto} .table{overflow-x:auto}"
             " table{font-size:12px;border-collapse:collapse} td,th{border:1px solid #ccc;"
             "padding:2px 6px;white-space:nowrap} .caption{color:#444;font-style:italic}"
             " .facts th{text-align:left}</style></head><body><h1>autosnap search report</h1>",
             *answer_html(summary, facts or {})]  # fmt: skip
    for i, (title, stem, caption, table) in enumerate(rep.sections):
        figure = f"<img src='{stem}.png' style='max-width:100%'>"
        rows = table.head(50).to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}")
        shown = [f"<p class='caption'>{html.escape(caption)}</p>",
                 f"<div class='table'>{rows}</div>",
                 f"<p><a href='{stem}.csv'>{stem}.csv</a> ({len(table)} rows)</p>"]  # fmt: skip
        # the answer's table comes first; elsewhere the figure is what one reads
        parts += [f"<h2>{title}</h2>", *(shown + [figure] if i == 0 else [figure, *shown])]
    if data_figures:
        parts.append("<h2>The data</h2><p class='caption'>Example patches with their true "
                     "landmarks (key below the figure) and the full image the first was cut "
                     "from; for simulated data also the anatomy backgrounds.</p>")  # fmt: skip
    for path in data_figures:  # relative to out_dir
        parts.append(f"<img src='{html.escape(str(path))}' width='100%'>")
    parts.append("</body></html>")
    index = rep.out / "index.html"
    index.write_text("\n".join(parts))
    return index


def report_from_files(
    history: str | Path,
    summary: str | Path,
    out_dir: str | Path,
    search: dict | None,
    metrics: list[str | Path] = (),
    proposals: list[str | Path] = (),
    model: str | Path | None = None,
    random_history: str | Path | None = None,
    data_figures: Sequence[str | Path] = (),
    test: str | Path | None = None,
    facts: dict[str, str] | None = None,
) -> Path:
    """write_report from the files a run leaves (what the workflow's report rule has):
    the value-model metrics and proposals of every round, concatenated; `search` is the
    `search:` section the value model's grammar comes from. The example predictions are
    the recommended model's (the summary's pick, in the summary's results folder)."""
    grammar = search_config(search).grammar
    summary_table = read_table(summary)
    try:
        checkpoint = from_summary(summary_table).checkpoint(Path(summary).parent.parent)
    except InputError:
        checkpoint = Path(summary).parent / "no_recommended_model"

    def concat(paths: list[str | Path]) -> pd.DataFrame | None:
        return pd.concat([read_table(p) for p in paths], ignore_index=True) if paths else None

    return write_report(
        read_table(history),
        concat(list(metrics)),
        summary_table,
        out_dir,
        data_figures=data_figures,
        random_history=read_table(random_history) if random_history else None,
        proposals=concat(list(proposals)),
        value_model=load_model(model, grammar) if model else None,
        checkpoint=checkpoint,
        test=test,
        facts=facts,
    )

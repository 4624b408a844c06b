"""The trained winner as files a user deploys without autosnap.

`export_model` writes, from a checkpoint (autosnap.training.checkpoint):

- model.torchscript.pt: TorchScript (traced), `torch.jit.load` and call (torch 2.13
  deprecates TorchScript; it is written for the C++/LibTorch users who still need it);
- model.onnx: ONNX with a dynamic batch size (torch's dynamo exporter);
- model.py + weights.pt: a standalone PyTorch module file that rebuilds the network
  with torch alone (its layer code is copied from autosnap's, so it cannot drift);
- MODEL_CARD.md and model_card.json: architecture, why it was picked, the instruments
  it was trained on, training config, test metrics, the input normalisation and the
  landmark definition (`autosnap predict` reads the JSON);
- export_check.csv: each format's largest difference from the PyTorch output on the
  same patches (the test split's when given). Any above the tolerance is an error.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from autosnap.data.dataset import load_split
from autosnap.data.encoding import NORMALISATION, OUTPUTS, normalise_images
from autosnap.errors import InputError
from autosnap.models import i3posnet, snapnet
from autosnap.models.factory import NETWORKS
from autosnap.progress import log
from autosnap.sim.fluoro import LANDMARKS_MM
from autosnap.training.checkpoint import Checkpoint, load_checkpoint

TOLERANCE = 1e-4
LANDMARK_NAMES = ["reference point (0, 0)", "axis +1.5 mm", "axis +3 mm (towards the tip)",
                  "axis -1.5 mm", "across +1.5 mm", "across -1.5 mm"]  # fmt: skip


class ExportError(Exception):
    """An exported format disagrees with the PyTorch model beyond the tolerance."""


def check_inputs(ck: Checkpoint, test: str | Path | None, n: int = 64) -> tuple[torch.Tensor, str]:
    """Patches to compare the formats on: the first `n` of the test split, or (without
    one) seeded random inputs of the network's shape."""
    h, w = ck.input_shape
    if test is None:
        return torch.randn(n, 1, h, w, generator=torch.Generator().manual_seed(0)), "random"
    images, _, _ = load_split(test)
    if images.shape[2:] != (h, w):
        raise InputError(f"{test}: patches are {images.shape[2:]}, the network expects {(h, w)}")
    return torch.from_numpy(normalise_images(images[:n])), f"{test} (first {min(n, len(images))})"


def standalone_source(ck: Checkpoint) -> str:
    """A module file that rebuilds the network with torch alone: autosnap's own layer
    code (inspect.getsource) plus the architecture as data, and build()."""
    h, w = ck.input_shape
    head = textwrap.dedent(f'''\
        """{ck.arch.text}: the network exported by autosnap, rebuilt with torch alone.

            import torch
            from model import build
            net = build()
            net.load_state_dict(torch.load("weights.pt"))
            landmarks = net.eval()(patches)  # (N, 1, {h}, {w}) -> (N, 12), see MODEL_CARD.md
        """

        from __future__ import annotations

        from types import SimpleNamespace

        import torch
        from torch import nn

        ''')  # fmt: skip
    parts = [head, inspect.getsource(snapnet.conv_bn_relu)]
    if ck.kind == "hand":
        cls = NETWORKS[ck.arch.name]
        parts += [
            f"I3POSNET_CHANNELS = {i3posnet.I3POSNET_CHANNELS}\n",
            f"I3POSNET_HIDDEN = {i3posnet.I3POSNET_HIDDEN}\n",
            inspect.getsource(cls),
            f"\ndef build() -> nn.Module:\n    return {cls.__name__}({(h, w)}, 12)\n",
        ]
    else:
        nodes = ", ".join(f"SimpleNamespace(op={n.op!r}, inputs={n.inputs!r})"
                          for n in ck.arch.dag.nodes)  # fmt: skip
        parts += [inspect.getsource(f) for f in (snapnet.separable, snapnet.make_op)]
        parts += [inspect.getsource(snapnet.SnapBlock), inspect.getsource(snapnet.SnapNet)]
        cfg = ck.train
        parts.append(
            f"\n# The SNAP '{ck.arch.text}' as its block graph (node 0 is the block input).\n"
            f"SNAP = SimpleNamespace(text={ck.arch.text!r}, dag=SimpleNamespace(nodes=[{nodes}]))"
            f"\n\n\ndef build() -> nn.Module:\n    return SnapNet(SNAP, outputs=12, "
            f"width={cfg.width}, stages={cfg.stages}, blocks={cfg.blocks})\n"
        )
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)


def _run_standalone(out: Path, x: torch.Tensor) -> np.ndarray:
    """The standalone module's output, computed in a fresh Python that cannot import
    autosnap (so a hidden dependency fails here, not at the user's)."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x.numpy())
        code = textwrap.dedent(f"""\
            import sys
            sys.modules["autosnap"] = None  # importing autosnap now raises
            sys.path.insert(0, {str(out)!r})
            import numpy as np, torch
            from model import build
            net = build()
            net.load_state_dict(torch.load({str(out / "weights.pt")!r}))
            with torch.no_grad():
                y = net.eval()(torch.from_numpy(np.load({str(Path(tmp) / "x.npy")!r})))
            np.save({str(Path(tmp) / "y.npy")!r}, y.numpy())
            """)  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            raise ExportError(f"{out / 'model.py'} does not run on its own:\n{done.stderr}")
        return np.load(Path(tmp) / "y.npy")


def _export_onnx(model: torch.nn.Module, x: torch.Tensor, path: Path, metadata: dict) -> None:
    """One self-contained .onnx file with a dynamic batch size and `metadata` (the
    model's metadata_props: what a deployment needs besides the graph)."""
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns about torchvision ops we do not use
    try:
        torch.onnx.export(model, (x[:2],), path, dynamo=True, verbose=False,
                          external_data=False, input_names=["patch"],
                          output_names=["landmarks"],
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}})  # fmt: skip
    finally:
        quiet.setLevel(level)
    import onnx

    proto = onnx.load(path)
    onnx.helper.set_model_props(proto, {k: str(v) for k, v in metadata.items()})
    onnx.save(proto, path)


def trained_instruments(train: str | Path | None) -> list[str]:
    """The instruments of a training split (its `instrument` column); [] when unknown."""
    if train is None or not Path(train).exists():
        return []
    names = pd.read_parquet(train, columns=["instrument"])["instrument"].dropna()
    return sorted(str(n) for n in names.unique() if str(n))


def model_card(ck: Checkpoint, checks: pd.DataFrame, source: str, instruments: list[str],
               selection: list[str]) -> tuple[str, dict]:  # fmt: skip
    h, w = ck.input_shape
    m = ck.metrics
    card = {
        "architecture": ck.arch.text,
        "selection": selection,
        "instruments": instruments,
        "kind": "SNAPNet" if ck.kind == "snap" else "hand-designed",
        "snap_id": ck.arch.snap_id,
        "checkpoint": source,
        "input_shape": [1, h, w],
        "mm_per_px": ck.mm_per_px,
        "normalisation": NORMALISATION,
        "outputs": OUTPUTS,
        "landmarks_mm": {
            n: list(map(float, v)) for n, v in zip(LANDMARK_NAMES, LANDMARKS_MM, strict=True)
        },  # fmt: skip
        "train": dataclasses.asdict(ck.train),
        "test_metrics": {
            k: (float(v) if isinstance(v, int | float | np.number) else v) for k, v in m.items()
        },  # fmt: skip
        "files": {
            "torchscript": "model.torchscript.pt",
            "onnx": "model.onnx",
            "module": "model.py",
            "weights": "weights.pt",
        },  # fmt: skip
    }
    canonical = "" if ck.kind == "hand" else f" (canonical `{ck.arch.canonical}`)"
    spacing = "unknown" if ck.mm_per_px is None else f"{ck.mm_per_px:.4f} mm/px"
    lines = [
        f"# Model card: {ck.arch.text}", "",
        f"- Architecture: {card['kind']} `{ck.arch.text}`{canonical}, snap_id `{ck.arch.snap_id}`",
        f"- Trained by autosnap's final stage, seed {m.get('seed')}, on {m.get('device')}; "
        f"checkpoint `{source}`",
        f"- Parameters {m.get('params')}, MACs {m.get('macs')} per patch, latency "
        f"{m.get('latency_ms', float('nan')):.2f} ms (batch 1, measured where it trained)",
        f"- Trained on the instrument(s): {', '.join(instruments) or 'unknown'}; "
        "`autosnap predict` warns about others", "",
        *(["## Why this model", "", *selection, ""] if selection else []),
        "## Test metrics (the data set's test split)", "",
        f"- landmark error {m.get('landmark_err_mm', float('nan')):.4f} mm, position error "
        f"{m.get('position_err_mm', float('nan')):.4f} mm, angle error "
        f"{m.get('angle_err_deg', float('nan')):.3f} deg", "",
        "Measured on simulated fluoroscopy unless the data set was imported from real "
        "images; expect larger errors on real X-ray images until retrained on them.", "",
        "## Input", "", f"(N, 1, {h}, {w}) float32. {NORMALISATION}.", "",
        f"Pixel size of the training patches at the instrument: {spacing}. Images at another "
        "pixel size are resampled to it: `autosnap predict --mm-per-px`.", "",
        "## Output", "", f"{OUTPUTS}. Landmarks in the instrument frame (mm, along the "
        "axis from head to tip, across it):", "",
        "| # | landmark | axis mm | across mm |", "|---|---|---|---|",
        *[f"| {i} | {n} | {v[0]:g} | {v[1]:g} |" for i, (n, v) in
          enumerate(zip(LANDMARK_NAMES, LANDMARKS_MM, strict=True))],
        "", "Position and axis angle follow from the landmarks by a total-least-squares line "
        "through the four on-axis landmarks (i3PosNet); `autosnap predict` iterates "
        "crop, predict and reconstruct.", "",
        "## Training config", "", "```yaml", yaml.safe_dump(card["train"]).strip(), "```", "",
        "## Export checks (max |difference| from PyTorch)", "",
        "| format | file | max abs diff | tolerance | ok |", "|---|---|---|---|---|",
        *[f"| {r.format} | {r.file} | {r.max_abs_diff:.2e} | {r.tolerance:g} | {r.ok} |"
          for r in checks.itertuples()], "", f"Compared on {checks['inputs'].iloc[0]}.",
    ]  # fmt: skip
    return "\n".join(lines) + "\n", card


def export_model(
    checkpoint: str | Path, out_dir: str | Path, test: str | Path | None = None,
    tolerance: float = TOLERANCE, train: str | Path | None = None,
    selection: Sequence[str] = (),
) -> dict[str, Path]:  # fmt: skip
    """Write all formats and the model card into `out_dir`; raise ExportError when a
    format's output differs from PyTorch's by more than `tolerance`. `train` (the
    training split) names the instruments the model knows; `selection`, why a run
    picked it (autosnap.pipeline.recommend)."""
    ck = load_checkpoint(checkpoint)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x, inputs = check_inputs(ck, test)
    model = ck.model.float().eval()
    with torch.no_grad():
        ref = model(x).numpy()
    checks = []

    def check(fmt: str, file: str, y: np.ndarray) -> None:
        diff = float(np.abs(np.asarray(y) - ref).max())
        checks.append({"format": fmt, "file": file, "max_abs_diff": diff, "tolerance": tolerance,
                       "inputs": inputs, "ok": diff <= tolerance})  # fmt: skip
        log.info("%s: max |difference| from PyTorch %.2e", file, diff)

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch deprecates TorchScript
        ts = out / "model.torchscript.pt"
        torch.jit.trace(model, x[:1]).save(ts)
        check("torchscript", ts.name, torch.jit.load(ts)(x))

    import onnxruntime as ort

    _export_onnx(model, x, out / "model.onnx", {
        "architecture": ck.arch.text, "mm_per_px": ck.mm_per_px,
        "input": f"(N, 1, {ck.input_shape[0]}, {ck.input_shape[1]}) float32; {NORMALISATION}",
        "output": OUTPUTS,
    })  # fmt: skip
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    check("onnx", "model.onnx", session.run(None, {"patch": x.numpy()})[0])

    (out / "model.py").write_text(standalone_source(ck))
    torch.save(model.state_dict(), out / "weights.pt")
    check("standalone module", "model.py + weights.pt", _run_standalone(out, x))

    table = pd.DataFrame(checks)
    table.to_csv(out / "export_check.csv", index=False)
    text, card = model_card(ck, table, str(checkpoint), trained_instruments(train),
                            list(selection))  # fmt: skip
    (out / "MODEL_CARD.md").write_text(text)
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    bad = table[~table["ok"]]
    if len(bad):
        raise ExportError(f"{out}: outputs differ from PyTorch beyond {tolerance}:\n"
                          f"{bad.to_string(index=False)}")  # fmt: skip
    return {p.name: p for p in sorted(out.iterdir())}

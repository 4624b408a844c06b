"""Data preparation, the first stage: a config's `data:` section rendered as simulated
fluoroscopy (or cut from the user's images) into the train/val/test tables, with figures.

Apart from autosnap.pipeline.stages because it draws: matplotlib costs every job that imports it
about 0.5 s, and a search round's jobs (collect, fit, propose, train) draw nothing.
"""

from __future__ import annotations

from pathlib import Path

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import Renderer, make_dataset
from autosnap.data.figures import anatomy_figure, data_examples, examples_figure
from autosnap.data.importer import fill_spacing, import_dataset, pose_landmarks, read_image
from autosnap.data.pose_table import read_poses
from autosnap.sim.anatomy import ct_overview
from autosnap.tables import read_table


def prepare_data(data: dict | None, out_dir: str | Path) -> dict[str, Path]:
    """Render the simulated data set of a `data:` section into `out_dir` (or, with
    `source: import`, cut it from the user's images), with `examples.png` showing a full
    image and example patches, and (simulated) `anatomy.png` the backgrounds alone."""
    cfg = from_dict(DataConfig, data, "data")
    if cfg.source == "import":
        return _import_data(cfg, Path(out_dir))
    renderer = Renderer.create(cfg)
    paths = make_dataset(cfg, out_dir, renderer)
    paths["examples"] = data_examples(
        renderer, read_table(paths["train"]), Path(out_dir) / "examples.png", seed=cfg.seed
    )
    overview = None if renderer.ct is None else ct_overview(*renderer.ct)
    paths["anatomy"] = anatomy_figure(renderer, Path(out_dir) / "anatomy.png", overview)
    return paths


def _import_data(cfg: DataConfig, out_dir: Path) -> dict[str, Path]:
    """`data.source: import`: the tables from the user's images and pose table, and the
    examples figure with the first image of the pose table."""
    paths = import_dataset(cfg, out_dir)
    first = fill_spacing(read_poses(Path(cfg.poses)).head(1), Path(cfg.images),
                         Path(cfg.poses)).iloc[0]  # fmt: skip
    full = read_image(Path(cfg.images) / str(first.file), cfg.invert)
    train = read_table(paths["train"])
    title = (f"imported {first.file}, {full.shape[0]}x{full.shape[1]} px, "
             f"{first.mm_per_px:.2f} mm/px; {len(train)} train patches")  # fmt: skip
    paths["examples"] = examples_figure(full, pose_landmarks(first), title, train,
                                        out_dir / "examples.png", outline=False)  # fmt: skip
    return paths

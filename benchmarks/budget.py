"""The budget every strategy benchmark gives autosnap: the demo config's.

A benchmark that trained the model less than the demo would measure a weaker search
than the one users run, so the budget is read from `config/config.yaml` (its
`value_model:` section over the defaults), not written down a second time. What the
demo config turns on of this project's additions (`autosnap.search.config.ADDITIONS`)
is not budget: a benchmark's `autosnap` is AutoSNAP's engine and each variant
(`variants.py`) adds its own components, whatever the demo runs.
"""

from __future__ import annotations

from pathlib import Path

from autosnap.config import load_config
from autosnap.search.config import ADDITIONS, ValueModelConfig, value_model_config

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "config.yaml"


def without_additions(cfg: dict) -> dict:
    """`cfg` without the keys of the additions to AutoSNAP's engine: its budget alone."""
    out = dict(cfg)
    for section, keys in ADDITIONS.items():
        if out.get(section):
            out[section] = {k: v for k, v in out[section].items() if k not in keys}
    return out


#: The `--value-model` option of every strategy benchmark (`value_model_section`).
VALUE_MODEL_HELP = ("a config whose value_model: keys are laid over the searched config's "
                    "(the demo's unless --config names another; say budget_800.yaml or "
                    "hidden_64.yaml): the same search with another value model")  # fmt: skip


def value_model_section(config: str | Path = DEMO_CONFIG,
                        overlay: str | Path | None = None) -> dict:  # fmt: skip
    """The budget keys of `config`'s `value_model:` section, with the ones `overlay`
    (another config, say budget_800.yaml) writes laid over them: the one reading of every
    benchmark's `--value-model`, so one file means one model in all of them."""
    section = dict(without_additions(load_config(config)).get("value_model") or {})
    if overlay is not None:
        section.update(without_additions(load_config(overlay)).get("value_model") or {})
    return section


def demo_value_model(overlay: str | Path | None = None) -> ValueModelConfig:
    """The demo config's value model (its budget), with `overlay`'s keys over it."""
    return value_model_config(value_model_section(DEMO_CONFIG, overlay))

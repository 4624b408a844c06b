"""The value model's budget every strategy benchmark gives autosnap: the demo config's.

A benchmark that trained the model less than the demo would measure a weaker search
than the one users run, so the budget is read from `config/config.yaml` (its
`value_model:` section over the defaults), not written down a second time.
"""

from __future__ import annotations

from pathlib import Path

from autosnap.config import load_config
from autosnap.search.config import ValueModelConfig, value_model_config

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "config.yaml"


def demo_value_model(config: str | Path = DEMO_CONFIG) -> ValueModelConfig:
    """The `value_model:` section of `config` (default: the demo config)."""
    return value_model_config(load_config(config).get("value_model"))

"""Rule report: figures and tables of the search into results/report/."""

from pathlib import Path

import pandas as pd

from autosnap.progress import log_to_file
from autosnap.report import write_report
from autosnap.stages import search_config

log_to_file(snakemake.log[0])
inp = snakemake.input
metrics = [pd.read_parquet(p) for p in inp.metrics]
proposals = [pd.read_parquet(p) for p in inp.proposals]
model = None
if inp.get("model"):
    from autosnap.value_model import ValueModel

    model = ValueModel.load(inp.model, search_config(snakemake.params.search).grammar)
random_history = inp.get("random_history")
write_report(
    pd.read_parquet(inp.history),
    pd.concat(metrics, ignore_index=True) if metrics else None,
    pd.read_parquet(inp.summary),
    Path(snakemake.output.index).parent,
    data_examples="../data/examples.png",
    random_history=pd.read_parquet(random_history) if random_history else None,
    proposals=pd.concat(proposals, ignore_index=True) if proposals else None,
    value_model=model,
    checkpoint=inp.checkpoint,
    test=inp.test,
)

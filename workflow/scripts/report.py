"""Rule report: figures and tables of the search into results/report/."""

from pathlib import Path

import pandas as pd

from autosnap.progress import log_to_file
from autosnap.report import write_report

log_to_file(snakemake.log[0])
metrics = [pd.read_parquet(p) for p in snakemake.input.metrics]
write_report(
    pd.read_parquet(snakemake.input.history),
    pd.concat(metrics, ignore_index=True) if metrics else None,
    pd.read_parquet(snakemake.input.summary),
    Path(snakemake.output.index).parent,
    data_examples="../data/examples.png",
)

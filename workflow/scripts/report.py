"""Rule report: figures and tables of the search into results/report/."""

from pathlib import Path

from autosnap.pipeline.report import report_from_files
from autosnap.pipeline.status import run_facts
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
inp = snakemake.input
report_from_files(
    inp.history,
    inp.summary,
    Path(snakemake.output.index).parent,
    snakemake.params.search,
    metrics=list(inp.metrics),
    proposals=list(inp.proposals),
    model=inp.get("model"),
    random_history=inp.get("random_history"),
    data_figures=[f"../data/{Path(f).name}" for f in inp.data_figures],
    test=inp.test,
    facts=run_facts("results", inp.history),
)

"""Rule bench_table: every SNAP-Bench child into one table, with its budget as metadata."""

from autosnap.pipeline import tabulate
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
cfg = snakemake.params.config
tabulate.collect_bench(
    list(snakemake.input),
    snakemake.output[0],
    cfg["train"]["seed"],
    cfg,
    tabulate.code_version(snakemake.scriptdir),
)

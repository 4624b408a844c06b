"""Rule bench_denoised: SNAP-Bench's table with the top share's new seeds pooled in."""

from autosnap.pipeline import tabulate
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
tabulate.collect_denoised(
    snakemake.input.table,
    list(snakemake.input.children),
    snakemake.output[0],
    snakemake.params.config,
    tabulate.code_version(snakemake.scriptdir),
)

"""Rule final: one candidate, one seed, full budget, test split."""

from pathlib import Path

from autosnap import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.final_run(
    snakemake.wildcards.candidate,
    int(snakemake.wildcards.seed),
    snakemake.input.history,
    Path(snakemake.input[0]).parent,
    {**snakemake.params.train, "threads": snakemake.threads},
    snakemake.params.final,
    snakemake.params.search,
    snakemake.output[0],
    cache_dir=snakemake.params.cache,
)

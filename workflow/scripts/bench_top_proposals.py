"""Rule bench_top_proposals: SNAP-Bench's best members (bench.top_fraction) as proposals."""

from autosnap.pipeline import tabulate
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
tabulate.bench_top_proposals(snakemake.input[0], snakemake.output[0], snakemake.params.config)

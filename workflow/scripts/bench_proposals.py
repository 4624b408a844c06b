"""Rule bench_proposals: SNAP-Bench's members (or its noise share) as a proposals table."""

from autosnap.pipeline import tabulate
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
tabulate.bench_proposals(snakemake.output[0], snakemake.params.bench, snakemake.params.noise)

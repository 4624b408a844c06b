"""Rule promote: the children of a rung that continue to the next."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.promote(list(snakemake.input), snakemake.params.n, snakemake.output[0])

"""Rule collect: the history of rounds 0..r."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.collect(list(snakemake.input), snakemake.output[0])

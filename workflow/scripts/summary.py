"""Rule summary: the final table, mean and spread over seeds."""

from autosnap.pipeline.final import summarise
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
summarise(list(snakemake.input), snakemake.output[0])

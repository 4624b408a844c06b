"""Rule prepare_data: render the simulated data set."""

from autosnap import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.prepare_data(snakemake.params.data, snakemake.params.folder)

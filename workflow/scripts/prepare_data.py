"""Rule prepare_data: render the simulated data set."""

from autosnap.data.prepare import prepare_data
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
prepare_data(snakemake.params.data, snakemake.params.folder)

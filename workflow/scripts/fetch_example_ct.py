"""Rule fetch_example_ct: the public chest CT, downloaded once and checked."""

from autosnap.progress import log_to_file
from autosnap.sim.example_ct import fetch_example_ct

log_to_file(snakemake.log[0])
fetch_example_ct(snakemake.output[0])

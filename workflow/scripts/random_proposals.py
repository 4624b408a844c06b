"""Rule random_proposals: every proposal of the random-search baseline."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.random_search_proposals(snakemake.params.search, snakemake.output[0])

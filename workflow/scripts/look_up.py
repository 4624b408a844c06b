"""Rule look_up: a round's children from evaluate.table instead of training."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.look_up_children(
    snakemake.input.proposals,
    snakemake.input.table,
    list(snakemake.output),
    snakemake.params.seed,
)

"""Rules sample_initial and propose: the proposals of a round."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
stages.propose_round(
    snakemake.params.search,
    snakemake.params.round,
    snakemake.output[0],
    history=snakemake.input.get("history"),
    model=snakemake.input.get("model"),
)

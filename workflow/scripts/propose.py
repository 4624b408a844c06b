"""Rules sample_initial and propose: the proposals of a round."""

import re

from autosnap import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
round_ = int(re.search(r"round_(\d+)", snakemake.output[0]).group(1))
stages.propose_round(
    snakemake.params.search,
    round_,
    snakemake.output[0],
    history=snakemake.input.get("history"),
    model=snakemake.input.get("model"),
)

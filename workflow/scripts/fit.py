"""Rule fit: the value model after a round."""

import re

import torch

from autosnap import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
stages.fit(
    snakemake.input[0],
    snakemake.params.search,
    snakemake.params.value_model,
    snakemake.output.model,
    snakemake.output.metrics,
    int(re.search(r"round_(\d+)", snakemake.output.model).group(1)),
)

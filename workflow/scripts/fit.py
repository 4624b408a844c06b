"""Rule fit: the value model after a round."""

import torch

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
stages.fit_value_model(
    snakemake.input.history,
    snakemake.params.search,
    snakemake.params.value_model,
    snakemake.output.model,
    snakemake.output.metrics,
    snakemake.params.round,
    snakemake.input.get("pretrained"),
)

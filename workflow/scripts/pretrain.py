"""Rule pretrain: the auto-encoder's reconstruction pretraining, once per grammar."""

import torch

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
stages.pretrain(snakemake.params.search, snakemake.params.value_model, snakemake.output[0])

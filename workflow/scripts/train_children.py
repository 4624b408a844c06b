"""Rules train_child_*: train a chunk of slots in one process."""

from pathlib import Path

from autosnap import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
train = {**snakemake.params.train, "threads": snakemake.threads}
stages.train_slots(
    snakemake.input.proposals,
    snakemake.params.slots,
    list(snakemake.output),
    Path(snakemake.input[0]).parent,
    train,
    snakemake.params.max_len,
    cache_dir=snakemake.params.cache,
)

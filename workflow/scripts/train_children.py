"""Rules train_child_*, train_random_* and train_bench_*: train a chunk of slots in one
process."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file
from autosnap.training.device import job_device

log_to_file(snakemake.log[0])
stages.train_children(
    snakemake.input.proposals,
    snakemake.params.slots,
    list(snakemake.output),
    snakemake.params.data,
    snakemake.params.train,
    snakemake.params.max_len,
    cache_dir=snakemake.params.cache,
    attempt=snakemake.resources.attempt,
    test=snakemake.params.test,
    until=snakemake.params.until,
    threads=snakemake.threads,
    # a job that booked a GPU trains on it or fails: never on the CPU in silence
    device=job_device(snakemake.params.train.get("device", "auto"), snakemake.resources),
)

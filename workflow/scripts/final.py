"""Rule final: one candidate, one seed, full budget, test split."""

from pathlib import Path

from autosnap.pipeline.final import final_run
from autosnap.progress import log_to_file
from autosnap.training.device import job_device

log_to_file(snakemake.log[0])
final_run(
    snakemake.wildcards.candidate,
    int(snakemake.wildcards.seed),
    snakemake.input.get("history"),
    snakemake.params.data,
    snakemake.params.train,
    snakemake.params.final,
    snakemake.params.search,
    snakemake.output.table,
    cache_dir=snakemake.params.cache,
    weights=snakemake.output.weights,
    random_history=snakemake.input.get("random_history"),
    attempt=snakemake.resources.attempt,
    threads=snakemake.threads,
    # a job that booked a GPU trains on it or fails: never on the CPU in silence
    device=job_device(snakemake.params.train.get("device", "auto"), snakemake.resources),
)
if not Path(snakemake.output.weights).exists():
    # A failed candidate has no network; its row says why. The empty file keeps the
    # DAG whole (the report and export skip it).
    Path(snakemake.output.weights).touch()

"""Rule collect: the history of rounds 0..r (with rungs: each child at its last rung)."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
rungs = getattr(snakemake.params, "rungs", [])  # the random search (random_history) has none
if rungs:
    stages.collect_rungs(
        snakemake.input.get("previous"),
        snakemake.input.proposals,
        [snakemake.input[f"rung_{i}"] for i in range(len(rungs))],
        rungs,
        snakemake.output[0],
    )
else:
    stages.collect(list(snakemake.input), snakemake.output[0])

"""Rule collect: the history of rounds 0..r (with rungs: each child at its last rung)."""

from autosnap.pipeline import stages
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
if snakemake.params.rungs:
    stages.collect_rungs(
        snakemake.input.get("previous"),
        snakemake.input.proposals,
        [snakemake.input[f"rung_{i}"] for i in range(len(snakemake.params.rungs))],
        snakemake.params.rungs,
        snakemake.output[0],
    )
else:
    stages.collect(list(snakemake.input), snakemake.output[0])

"""Rule export: TorchScript, ONNX, a standalone module and a model card of the model
the final summary recommends."""

from pathlib import Path

from autosnap.deploy.export import export_model
from autosnap.pipeline.recommend import from_summary
from autosnap.progress import log, log_to_file
from autosnap.tables import read_table

log_to_file(snakemake.log[0])
pick = from_summary(read_table(snakemake.input.summary), snakemake.input.summary)
results = Path(snakemake.input.summary).parent.parent
why = pick.lines(results)
for line in why:
    log.info("%s", line)
export_model(
    pick.checkpoint(results),
    snakemake.output[0],
    snakemake.input.test,
    train=snakemake.input.train,
    selection=why,
)

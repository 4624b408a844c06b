"""Rule export: TorchScript, ONNX, a standalone module and a model card of the winner."""

from autosnap.deploy.export import export_model
from autosnap.progress import log_to_file

log_to_file(snakemake.log[0])
export_model(snakemake.input.checkpoint, snakemake.output[0], snakemake.input.test)

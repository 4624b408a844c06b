"""autosnap's benchmarks: pinned experiments (experiments/*.yaml) run by one harness,
each into its own results folder with the provenance of the run.

    python -m benchmarks run benchmarks/experiments/NAME.yaml [--cores 2]
"""

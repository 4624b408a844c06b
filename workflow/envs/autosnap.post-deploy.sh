#!/usr/bin/env bash
# Snakemake runs this once after creating the rule environment, from the directory
# snakemake was started in (the repository root): install this repository's package.
set -euo pipefail
python -m pip install --quiet -e ".[workflow]"

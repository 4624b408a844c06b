# SNAP-Bench (config/snapbench.yaml): `snakemake --configfile config/snapbench.yaml bench`
# trains every member of the closed space through the training rules (training.smk,
# BENCH_SETS) and joins them into results/bench/table.parquet.


rule bench:
    input:
        "results/bench/table.parquet",


rule bench_proposals:
    output:
        "results/bench/seed_{seed}/proposals.parquet",
    log:
        "results/logs/bench/proposals_{seed}.log",
    conda:
        CONDA_ENV
    params:
        bench=config["bench"],
        noise=lambda wildcards: int(wildcards.seed) != config["train"]["seed"],
    script:
        "../scripts/bench_proposals.py"


rule bench_table:
    input:
        bench_children,
    output:
        "results/bench/table.parquet",
    log:
        "results/logs/bench/table.log",
    conda:
        CONDA_ENV
    params:
        config={k: config[k] for k in ("train", "data", "bench")},
    script:
        "../scripts/bench_table.py"

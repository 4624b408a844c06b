# SNAP-Bench (config/snapbench.yaml): `snakemake --configfile config/snapbench.yaml bench`
# trains every member of the closed space through the training rules (training.smk,
# BENCH_SETS) and joins them into results/bench/table.parquet. With bench.top_fraction
# and top_seeds it trains the table's best share again (BENCH_TOP_SETS) and pools the
# seeds into results/bench/denoised.parquet; bench.table starts from a finished table.


rule bench:
    input:
        bench_targets(),


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


rule bench_top_proposals:
    input:
        BENCH_TABLE,
    output:
        "results/bench/top_seed_{seed}/proposals.parquet",
    log:
        "results/logs/bench/top_proposals_{seed}.log",
    conda:
        CONDA_ENV
    params:
        config={k: config[k] for k in ("train", "data", "bench")},
    script:
        "../scripts/bench_top_proposals.py"


rule bench_denoised:
    input:
        table=BENCH_TABLE,
        children=bench_top_children,
    output:
        "results/bench/denoised.parquet",
    log:
        "results/logs/bench/denoised.log",
    conda:
        CONDA_ENV
    params:
        config={k: config[k] for k in ("train", "data", "bench")},
    script:
        "../scripts/bench_denoised.py"

rule final:
    input:
        DATA,
        history=f"results/round_{LAST}/history.parquet",
    output:
        "results/final/{candidate}/seed_{seed}.parquet",
    log:
        "results/logs/final/{candidate}_seed_{seed}.log",
    benchmark:
        "results/benchmarks/final/{candidate}_seed_{seed}.tsv"
    wildcard_constraints:
        candidate="|".join(FINAL.candidates),
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: child_threads()
    resources:
        **child_resources(),
    params:
        train=config["train"],
        final=config["final"],
        search=config["search"],
        cache=CHILD_CACHE,
    script:
        "../scripts/final.py"


rule summary:
    input:
        expand(
            "results/final/{candidate}/seed_{seed}.parquet",
            candidate=FINAL.candidates,
            seed=FINAL.seeds,
        ),
    output:
        "results/final/summary.parquet",
    log:
        "results/logs/final/summary.log",
    benchmark:
        "results/benchmarks/final/summary.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/summary.py"

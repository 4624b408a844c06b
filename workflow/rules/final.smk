rule final:
    input:
        DATA,
        unpack(final_inputs),
    output:
        table="results/final/{candidate}/seed_{seed}.parquet",
        weights="results/final/{candidate}/seed_{seed}.pt",
    log:
        "results/logs/final/{candidate}_seed_{seed}.log",
    benchmark:
        "results/benchmarks/final/{candidate}_seed_{seed}.tsv"
    wildcard_constraints:
        candidate="|".join(FINAL.candidates),
        seed=r"\d+",
    group:
        "final"
    conda:
        CONDA_ENV
    threads: child_threads()
    resources:
        **child_resources("final"),
    params:
        train=config["train"],
        final=config["final"],
        search=config["search"],
        cache=CHILD_CACHE,
        data=data_folder,
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


# The deployable model: the final candidate (baselines included) of lowest mean
# validation error over its seeds, and its seed of lowest validation error
# (autosnap/pipeline/recommend.py). Picked without the test split, which the model card
# and the report quote. Every checkpoint is an input: which one is known from the summary.
rule export:
    input:
        summary="results/final/summary.parquet",
        checkpoints=expand(
            "results/final/{candidate}/seed_{seed}.pt",
            candidate=FINAL.candidates,
            seed=FINAL.seeds,
        ),
        train="results/data/train.parquet",
        test="results/data/test.parquet",
    output:
        directory("results/export"),
    log:
        "results/logs/export.log",
    benchmark:
        "results/benchmarks/export.tsv"
    conda:
        CONDA_ENV
    resources:
        **site_resources(gpu=False),
    script:
        "../scripts/export.py"

# The random-search baseline (final.random_search): the search's budget of children, all
# random. Random proposals do not depend on results, so all rounds are drawn at once
# and trained in chunks like the search's; round 0 is the search's own round 0, so the
# child cache trains it once for both.
RANDOM_SLOTS = ROUNDS * K
RANDOM_CHUNKS = [
    list(range(i, min(i + CHUNK, RANDOM_SLOTS))) for i in range(0, RANDOM_SLOTS, CHUNK)
]


rule random_proposals:
    output:
        "results/random/proposals.parquet",
    log:
        "results/logs/random/proposals.log",
    benchmark:
        "results/benchmarks/random/proposals.tsv"
    conda:
        CONDA_ENV
    params:
        search=config["search"],
    script:
        "../scripts/random_proposals.py"


for chunk_index, chunk_slots in enumerate(RANDOM_CHUNKS):

    rule:
        name:
            f"train_random_{chunk_index}"
        input:
            DATA,
            proposals="results/random/proposals.parquet",
        output:
            expand("results/random/children/{slot}.parquet", slot=chunk_slots),
        log:
            f"results/logs/random/train_random_{chunk_index}.log",
        benchmark:
            f"results/benchmarks/random/train_random_{chunk_index}.tsv"
        group:
            "children_random"
        conda:
            CONDA_ENV
        threads: child_threads()
        resources:
            **child_resources(),
        params:
            **TRAIN_PARAMS,
            slots=chunk_slots,
            cache=CHILD_CACHE,
        script:
            "../scripts/train_children.py"


rule random_history:
    input:
        expand("results/random/children/{slot}.parquet", slot=range(RANDOM_SLOTS)),
    output:
        "results/random/history.parquet",
    log:
        "results/logs/random/history.log",
    benchmark:
        "results/benchmarks/random/history.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/collect.py"

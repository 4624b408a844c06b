wildcard_constraints:
    round=r"\d+",


rule sample_initial:
    output:
        "results/round_0/proposals.parquet",
    log:
        "results/logs/round_0/sample_initial.log",
    benchmark:
        "results/benchmarks/round_0/sample_initial.tsv"
    conda:
        CONDA_ENV
    params:
        search=config["search"],
    script:
        "../scripts/propose.py"


# One training job per chunk of slots (resources.chunk; 1: one job per slot): a job
# trains its slots in one process, so torch's start-up is paid once per chunk.
for chunk_index, chunk_slots in enumerate(CHUNKS):

    rule:
        name:
            f"train_child_{chunk_index}"
        input:
            DATA,
            proposals="results/round_{round}/proposals.parquet",
        output:
            expand("results/round_{{round}}/children/{slot}.parquet", slot=chunk_slots),
        log:
            f"results/logs/round_{{round}}/train_child_{chunk_index}.log",
        benchmark:
            f"results/benchmarks/round_{{round}}/train_child_{chunk_index}.tsv"
        group:
            "children_{round}"
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


rule collect:
    input:
        history_inputs,
    output:
        "results/round_{round}/history.parquet",
    log:
        "results/logs/round_{round}/collect.log",
    benchmark:
        "results/benchmarks/round_{round}/collect.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/collect.py"


rule fit:
    input:
        "results/round_{round}/history.parquet",
    output:
        model="results/round_{round}/value_model.pt",
        metrics="results/round_{round}/value_model.parquet",
    log:
        "results/logs/round_{round}/fit.log",
    benchmark:
        "results/benchmarks/round_{round}/fit.tsv"
    conda:
        CONDA_ENV
    threads: 2
    params:
        search=config["search"],
        value_model=config["value_model"],
    script:
        "../scripts/fit.py"


rule propose:
    input:
        unpack(propose_inputs),
    output:
        "results/round_{round}/proposals.parquet",
    log:
        "results/logs/round_{round}/propose.log",
    benchmark:
        "results/benchmarks/round_{round}/propose.tsv"
    wildcard_constraints:
        round=r"[1-9]\d*",
    conda:
        CONDA_ENV
    params:
        search=config["search"],
    script:
        "../scripts/propose.py"

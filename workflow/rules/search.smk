wildcard_constraints:
    round=r"\d+",


rule sample_initial:
    output:
        "results/round_0/proposals.parquet",
    log:
        "results/logs/round_0/sample_initial.log",
    benchmark:
        "results/benchmarks/round_0/sample_initial.tsv"
    priority: SEARCH_PRIORITY
    conda:
        CONDA_ENV
    params:
        search=config["search"],
        round=0,
    script:
        "../scripts/propose.py"


rule collect:
    input:
        unpack(history_inputs),
    output:
        "results/round_{round}/history.parquet",
    log:
        "results/logs/round_{round}/collect.log",
    benchmark:
        "results/benchmarks/round_{round}/collect.tsv"
    priority: SEARCH_PRIORITY
    conda:
        CONDA_ENV
    params:
        rungs=RUNG_EPOCHS,
    script:
        "../scripts/collect.py"


# search.fidelity: which children of rung i - 1 continue to rung i (light, in the
# Snakemake process, between the rungs' training jobs).
if RUNG_EPOCHS:

    rule promote:
        input:
            promote_inputs,
        output:
            "results/round_{round}/rung_{rung}/proposals.parquet",
        log:
            "results/logs/round_{round}/promote_{rung}.log",
        wildcard_constraints:
            rung=r"[1-9]\d*",
        priority: SEARCH_PRIORITY
        localrule: True
        conda:
            CONDA_ENV
        params:
            n=lambda wildcards: RUNG_SIZES[int(wildcards.rung)],
        script:
            "../scripts/promote.py"


rule pretrain:
    output:
        PRETRAINED,
    log:
        "results/logs/pretrain.log",
    benchmark:
        "results/benchmarks/pretrain.tsv"
    priority: SEARCH_PRIORITY
    conda:
        CONDA_ENV
    threads: 1
    params:
        search=config["search"],
        value_model=config["value_model"],
    script:
        "../scripts/pretrain.py"


rule fit:
    input:
        unpack(fit_inputs),
    output:
        model="results/round_{round}/value_model.pt",
        metrics="results/round_{round}/value_model.parquet",
    log:
        "results/logs/round_{round}/fit.log",
    benchmark:
        "results/benchmarks/round_{round}/fit.tsv"
    priority: SEARCH_PRIORITY
    conda:
        CONDA_ENV
    # One thread: a second made the demo's fit no faster (20.6 against 20.1 s), and the
    # free core runs a baseline's final training beside it (see SEARCH_PRIORITY).
    threads: 1
    params:
        search=config["search"],
        value_model=config["value_model"],
        round=round_of,
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
    priority: SEARCH_PRIORITY
    conda:
        CONDA_ENV
    params:
        search=config["search"],
        round=round_of,
    script:
        "../scripts/propose.py"


# evaluate.table: a round's children looked up in the table, all in one light job (in
# the Snakemake process itself, as the other light rules of workflow/Snakefile).
if TABLE:

    rule look_up:
        input:
            proposals="results/round_{round}/proposals.parquet",
            table=TABLE,
        output:
            expand(
                "results/round_{{round}}/children/{slot}.parquet",
                slot=range(K),
            ),
        log:
            "results/logs/round_{round}/look_up.log",
        priority: SEARCH_PRIORITY
        localrule: True
        conda:
            CONDA_ENV
        params:
            seed=config["train"]["seed"],
        script:
            "../scripts/look_up.py"

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
        round=0,
    script:
        "../scripts/propose.py"


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


rule pretrain:
    output:
        PRETRAINED,
    log:
        "results/logs/pretrain.log",
    benchmark:
        "results/benchmarks/pretrain.tsv"
    conda:
        CONDA_ENV
    threads: 2
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
    conda:
        CONDA_ENV
    threads: 2
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
    conda:
        CONDA_ENV
    params:
        search=config["search"],
        round=round_of,
    script:
        "../scripts/propose.py"

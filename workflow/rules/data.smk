rule prepare_data:
    output:
        DATA,
        examples=report(
            "results/data/examples.png",
            caption="../report/data.rst",
            category="Data",
        ),
    log:
        "results/logs/prepare_data.log",
    benchmark:
        "results/benchmarks/prepare_data.tsv"
    conda:
        CONDA_ENV
    params:
        data=config["data"],
    script:
        "../scripts/prepare_data.py"

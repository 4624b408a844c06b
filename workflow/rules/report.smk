# index.html and every figure in it with its CSV table (report_outputs), so
# `snakemake --report` has the same figures.
rule report:
    input:
        unpack(report_inputs),
    output:
        **report_outputs(),
        index="results/report/index.html",
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        CONDA_ENV
    params:
        search=config["search"],
    script:
        "../scripts/report.py"

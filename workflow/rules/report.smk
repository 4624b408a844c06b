rule report:
    input:
        history=f"results/round_{LAST}/history.parquet",
        summary="results/final/summary.parquet",
        examples="results/data/examples.png",
        metrics=(
            expand("results/round_{r}/value_model.parquet", r=range(LAST))
            if USES_MODEL
            else []
        ),
    output:
        index="results/report/index.html",
        progress=report(
            "results/report/progress.png",
            caption="../report/progress.rst",
            category="Search",
        ),
        final=report(
            "results/report/final.png",
            caption="../report/final.rst",
            category="Final",
        ),
        blocks=report(
            "results/report/best_blocks.png",
            caption="../report/blocks.rst",
            category="Search",
        ),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/report.py"

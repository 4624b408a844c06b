# Figures that exist for every config; the others (strategies, predictor, latent) are
# in index.html when their inputs exist.
rule report:
    input:
        unpack(report_inputs),
    output:
        index="results/report/index.html",
        progress=figure("progress", "Search"),
        blocks=figure("blocks", "Search"),
        final=figure("final", "Final"),
        pareto=figure("pareto", "Final"),
        examples=figure("examples", "Final"),
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

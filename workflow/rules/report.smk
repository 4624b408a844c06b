def report_inputs(wildcards):
    """What the report shows beyond the history and the final table, when it exists."""
    inputs = {
        "history": f"results/round_{LAST}/history.parquet",
        "summary": "results/final/summary.parquet",
        "examples": "results/data/examples.png",
        "checkpoint": f"results/final/best1/seed_{FINAL.seeds[0]}.pt",
        "test": "results/data/test.parquet",
        "metrics": [],
        "proposals": [],
    }
    if USES_MODEL and LAST > 0:
        inputs["metrics"] = expand(
            "results/round_{r}/value_model.parquet", r=range(LAST)
        )
        inputs["model"] = f"results/round_{LAST - 1}/value_model.pt"
        inputs["proposals"] = expand(
            "results/round_{r}/proposals.parquet", r=range(1, LAST + 1)
        )
    if FINAL.random_search:
        inputs["random_history"] = "results/random/history.parquet"
    return inputs


def figure(name, category):
    return report(
        f"results/report/{name}.png",
        caption=f"../report/{name}.rst",
        category=category,
    )


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

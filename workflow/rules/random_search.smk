# The random-search baseline (final.random_search): the search's budget of children, all
# random. Random proposals do not depend on results, so all rounds are drawn at once
# and trained in chunks like the search's (rules/training.smk). Its round 0 is the
# search's own round 0 (same seed, same SNAPs): those children are the search's, taken
# as they are, so no child is trained by two jobs at once.
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


rule random_history:
    input:
        [] if RUNG_EPOCHS else round_children(0),
        expand("results/random/children/{slot}.parquet", slot=RANDOM_OWN),
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

# Child training, written once for every set of children: the search's rounds and the
# random-search baseline (final.random_search). One job per chunk of slots (chunks()):
# a job trains its slots in one process, so torch's start-up is paid once per chunk.
# Jobs of one set form a group, so a cluster runs them as one submission per group.
# SNAP-Bench's sets (BENCH_SETS, only with bench.max_len, and the de-noising seeds'
# BENCH_TOP_SETS) train with a seed of their own and score the test split too. Rerun
# triggers (profiles/default): only the config sections a rule reads are its params, so
# editing another section, a script or a docstring retrains nothing.
#
# With search.fidelity each round trains in rungs: rung i's jobs (train_rung{i}_*) train
# the children rule promote picked to that rung's epochs, continuing the cached
# trainings of rung i - 1; each rung's jobs are a group of their own.
ROUND_SETS = (
    [
        (
            f"train_rung{i}",
            f"round_{{round}}/rung_{i}",
            "children_{round}" if i == 0 else f"rung{i}_{{round}}",
            range(n),
            config["train"],
            False,
            epochs,
            (
                "results/round_{round}/proposals.parquet"
                if i == 0
                else f"results/round_{{round}}/rung_{i}/proposals.parquet"
            ),
        )
        for i, (epochs, n) in enumerate(zip(RUNG_EPOCHS, RUNG_SIZES))
    ]
    if RUNG_EPOCHS
    else [
        (
            "train_child",
            "round_{round}",
            "children_{round}",
            # a table search looks its children up instead (rule look_up)
            range(0 if TABLE else K),
            config["train"],
            False,
            None,
            "results/round_{round}/proposals.parquet",
        )
    ]
)
TRAINING_SETS = (
    ROUND_SETS
    + [
        # rule name prefix, folder under results/ (and logs/, benchmarks/), group, slots,
        # train section, also scored on test, epochs (None: the budget), proposals
        (
            "train_random",
            "random",
            "children_random",
            RANDOM_OWN,
            config["train"],
            False,
            None,
            "results/random/proposals.parquet",
        ),
    ]
    + [
        (
            f"{prefix}_{seed}",
            folder,
            # the top seeds wait for the table: a group of their own
            prefix.replace("train", "children"),
            range(n),
            {**config["train"], "seed": seed},
            True,
            None,
            f"results/{folder}/proposals.parquet",
        )
        for prefix, sets in (
            ("train_bench", BENCH_SETS),
            ("train_bench_top", BENCH_TOP_SETS),
        )
        for folder, seed, n in sets
    ]
)


for prefix, folder, group_name, slots, train, test, until, proposals in TRAINING_SETS:
    for chunk_index, chunk_slots in enumerate(chunks(slots)):

        rule:
            name:
                f"{prefix}_{chunk_index}"
            input:
                DATA,
                proposals=proposals,
            output:
                expand(
                    f"results/{folder}/children/{{slot}}.parquet",
                    slot=chunk_slots,
                    allow_missing=True,
                ),
            log:
                f"results/logs/{folder}/{prefix}_{chunk_index}.log",
            benchmark:
                f"results/benchmarks/{folder}/{prefix}_{chunk_index}.tsv"
            priority: SEARCH_PRIORITY if prefix == "train_child" else 0
            group:
                group_name
            conda:
                CONDA_ENV
            threads: child_threads()
            resources:
                **child_resources(group_name),
            params:
                train=train,
                max_len=SEARCH.max_len,
                test=test,
                until=until,
                slots=chunk_slots,
                cache=CHILD_CACHE,
                data=data_folder,
            script:
                "../scripts/train_children.py"

# Helpers shared by the rules: rounds, slots and chunks from the validated config. The
# config sections are torch-free dataclasses, so building the DAG does not load torch.
import os

from autosnap.config import ConfigError, from_dict
from autosnap.data.config import DataConfig
from autosnap.data.pose_table import import_files
from autosnap.models.baselines import BASELINES
from autosnap.space.bench import bench_config, members, noise_members
from autosnap.search.config import check_pair, search_config, value_model_config
from autosnap.training.config import FinalConfig

SEARCH = search_config(config["search"], f"{CONFIG_FILES}: search")
FINAL = from_dict(FinalConfig, config["final"], "final")
ROUNDS = SEARCH.rounds
K = SEARCH.children
LAST = ROUNDS - 1
USES_MODEL = SEARCH.needs_model
#: search.fidelity: successive halving inside each round (autosnap.search.fidelity):
#: rung i trains RUNG_SIZES[i] children to RUNG_EPOCHS[i] epochs (empty: off).
RUNG_EPOCHS = list(SEARCH.fidelity.rungs)
RUNG_SIZES = SEARCH.fidelity.sizes(K) if RUNG_EPOCHS else []
VALUE_MODEL = value_model_config(config["value_model"])
check_pair(SEARCH, VALUE_MODEL)
#: evaluate.table: the children are looked up in this table (rule look_up), not trained,
#: and the run ends with the search's last history (no final comparison, no report).
TABLE = config["evaluate"]["table"]
if RUNG_EPOCHS:
    try:
        SEARCH.fidelity.check_budget(config["train"]["epochs"])
    except ValueError as e:
        raise ConfigError(f"{CONFIG_FILES}: search.fidelity.rungs: {e}") from None
    if TABLE:
        raise ConfigError(
            f"{CONFIG_FILES}: search.fidelity: a table search has final values only; "
            "rungs need trained children (leave evaluate.table empty)"
        )
#: The auto-encoder pretrained once per grammar (value_model.pretrain_steps > 0).
PRETRAINED = "results/value_model/pretrained.pt"
# The random-search baseline has the search's budget of children (final.random_search);
# without rungs its round 0 is the search's round 0, taken as trained (RANDOM_OWN).
RANDOM_SLOTS = ROUNDS * K
#: The random search's own slots: with rungs the search's round 0 trained most children
#: on a part of the budget, so the random search trains its round 0 too (the child cache
#: takes the children of the search's last rung, trained the whole budget, as trained).
RANDOM_OWN = range(0 if RUNG_EPOCHS else K, RANDOM_SLOTS)
#: Trainings (or look-ups) of a whole run: the search's children, the random search's,
#: and the final runs (`autosnap status` estimates the time left from them).
TRAININGS = (
    ROUNDS * (sum(RUNG_SIZES) if RUNG_EPOCHS else K)
    + (len(RANDOM_OWN) if FINAL.random_search else 0)
    + len(FINAL.candidates) * len(FINAL.seeds) * (not TABLE)
)
# For --software-deployment-method conda (relative to the rule files); without that flag
# rules run in the environment snakemake itself runs in.
CONDA_ENV = "../envs/autosnap.yaml"
# The search's chain (sample, train, collect, pretrain, fit, propose) goes before the jobs that
# need only the data (the baselines' final trainings, the random search): those fill
# the cores the chain leaves free (a fit uses one) instead of delaying its rounds.
SEARCH_PRIORITY = 1
DATA_DIR = "results/data"
EXAMPLE_CT = "resources/ct/cxr.nii.gz"
DATA = multiext(f"{DATA_DIR}/", "train.parquet", "val.parquet", "test.parquet")
# With data.source import, the pose table and every image it names, checked now: a
# wrong path fails before any job, naming the key, instead of leaving the data of an
# earlier run in place (Snakemake keeps outputs whose inputs are missing).
IMPORTED = (
    import_files(from_dict(DataConfig, config["data"], "data"), CONFIG_FILES)
    if config["data"]["source"] == "import"
    else []
)
# SNAP-Bench (bench.max_len > 0, config/snapbench.yaml): the members trained with the
# train section's seed, and the noise share with each bench.noise_seeds (folder, seed,
# how many). Enumerating the space takes a fraction of a second, and only then.
BENCH = bench_config(config["bench"])
BENCH_SETS = []
if BENCH.max_len and not BENCH.table:
    _n = len(members(BENCH))
    BENCH_SETS = [
        (f"bench/seed_{config['train']['seed']}", config["train"]["seed"], _n)
    ] + [
        (f"bench/seed_{s}", s, len(noise_members(BENCH, _n))) for s in BENCH.noise_seeds
    ]
# De-noising (bench.top_fraction, top_seeds): the best share of the table, trained again
# with each top seed. Which members they are is known once the table is; how many, now.
BENCH_TABLE = BENCH.table or "results/bench/table.parquet"
BENCH_TOP_SETS = []
if BENCH.max_len and BENCH.top_fraction > 0 and BENCH.top_seeds:
    if config["train"]["seed"] in BENCH.top_seeds:
        raise ValueError(
            f"bench.top_seeds {list(BENCH.top_seeds)} repeat train.seed "
            f"{config['train']['seed']}: a seed trains a member once"
        )
    _n_top = round(BENCH.top_fraction * len(members(BENCH)))
    BENCH_TOP_SETS = [(f"bench/top_seed_{s}", s, _n_top) for s in BENCH.top_seeds]
# Finished children by what determines their result (autosnap.training.child_cache): a
# chunk interrupted half-way keeps its finished children, and no architecture trains twice.
CHILD_CACHE = "results/cache/children"


def chunks(slots):
    """`slots` in chunks of resources.chunk, one training job each: a job trains its
    slots in one process, so torch's start-up is paid once per chunk."""
    slots, size = list(slots), config["resources"]["chunk"]
    return [slots[i : i + size] for i in range(0, len(slots), size)]


def data_inputs(wildcards):
    """The user's files the data set is made from: with data.source import, the pose
    table and each image it names; with a CT as anatomy, the volume (the example CT's
    path is made by fetch_example_ct). prepare_data waits for them and reruns when one
    changes: by content for files up to Snakemake's checksum size (1 MB by default),
    by modification time above it, and when the set of files changes."""
    data = config["data"]
    if data["source"] == "import":
        return {"poses": data["poses"], "images": [str(f) for f in IMPORTED]}
    if data["anatomy"] != "procedural":
        return {"anatomy": data["anatomy"]}
    return {}


def data_figure_paths():
    """The data's pictures: example patches always; the anatomy backgrounds alone when
    they are simulated (procedural or projected from a CT)."""
    names = (
        ["examples"]
        if config["data"]["source"] == "import"
        else ["examples", "anatomy"]
    )
    return {name: f"{DATA_DIR}/{name}.png" for name in names}


def data_figures():
    """data_figure_paths as report items with their captions."""
    return {
        name: report(path, caption=f"../report/data_{name}.rst", category="Data")
        for name, path in data_figure_paths().items()
    }


def round_of(wildcards):
    return int(wildcards.round)


def data_folder(wildcards, input):
    """The data folder of a job that reads the data tables (its first input)."""
    return os.path.dirname(input[0])


def output_folder(wildcards, output):
    return os.path.dirname(output[0])


def child_threads():
    """Threads of one training job: train.threads, or one (2 children on 2 cores)."""
    return max(1, config["train"]["threads"])


def site_resources(gpu):
    """The cluster's settings (resources.* of site.yaml) as the Slurm plugin names them:
    account and partition, QoS and extra sbatch flags for every job, node constraint for
    the training (GPU) jobs; empty values leave the choice to the profile and Slurm."""
    res = config["resources"]
    site = {
        "slurm_account": res["slurm_account"],
        "slurm_partition": res["gpu_partition" if gpu else "cpu_partition"],
        "qos": res["qos"],
        "slurm_extra": res["slurm_extra"],
    }
    if gpu:
        site["constraint"] = res["constraint"]
    return {k: v for k, v in site.items() if v}


def group_size(group):
    """How many jobs of `group` one Slurm job runs (the profile's group-components;
    known once Snakemake executes, so read when a job's resources are)."""
    settings = getattr(workflow, "group_settings", None)
    return settings.group_components.get(group, 1) if settings else 1


def child_runtime(group):
    """Minutes a training job asks for, per attempt: resources.child_runtime_min for each
    child of its chunk, times the attempt (a job killed for its time would die the same
    way), but never so much that its group job (the members run one after another, so
    their runtimes add up) passes resources.max_job_minutes, the partition's limit. A
    group whose first attempt cannot fit is an error before anything is submitted."""
    res = config["resources"]
    chunk = len(chunks(range(K))[0])
    base, limit = res["child_runtime_min"] * chunk, res["max_job_minutes"]

    def runtime(wildcards, attempt):
        members = group_size(group)
        if not limit:
            return base * attempt
        if base * members > limit:
            raise ValueError(
                f"{CONFIG_FILES}: a '{group}' group job would ask Slurm for {members} jobs "
                f"x {base} min (resources.child_runtime_min {res['child_runtime_min']} x "
                f"chunk {chunk}) = {base * members} min, over resources.max_job_minutes "
                f"{limit}: lower the group size in the profile (group-components: "
                f"{group}=N), resources.chunk or child_runtime_min"
            )
        return min(base * attempt, limit // members)

    return runtime


def child_resources(group):
    """Resources of a job that trains networks in `group`: memory and time (each retry,
    with --retries as in profiles/slurm, asks for as much again; child_runtime keeps a
    group within the partition's limit), GPUs, and `attempt`, which the child cache reads
    to tell a retry (a death that may be the child's fault) from a new run. `trainings`
    counts training processes: profiles/slurm allows one per Slurm job, so a group job
    asks for one child's CPUs, memory and GPU and the sum of their runtimes, which is
    how the Slurm plugin runs a group's members (one after another). With
    resources.gres the GPUs are asked for as that generic resource instead of --gpus."""
    res = config["resources"]
    mem, gpus = res["child_mem_mb"], res["gpus_per_child"]
    out = {
        "mem_mb": lambda wildcards, attempt: mem * attempt,
        "runtime": child_runtime(group),
        "attempt": lambda wildcards, attempt: attempt,
        "trainings": 1,
        **site_resources(gpu=bool(gpus or res["gres"])),
    }
    if res["gres"]:
        out["gres"] = res["gres"]
    elif gpus:
        out["gpu"] = gpus
        if res["gpu_model"]:
            out["gpu_model"] = res["gpu_model"]
    return out


def final_targets():
    """What a whole run makes (the default target): the final comparison, the report and the
    exported winner; a table search (evaluate.table) ends with its last history."""
    if TABLE:
        return [f"results/round_{LAST}/history.parquet"]
    return [
        "results/final/summary.parquet",
        "results/report/index.html",
        "results/export",
    ]


def round_children(round_):
    """Round r's child tables (with rungs: every rung's, the last rung's last)."""
    if RUNG_EPOCHS:
        return [p for i in range(len(RUNG_EPOCHS)) for p in rung_children(round_, i)]
    return expand("results/round_{r}/children/{slot}.parquet", r=round_, slot=range(K))


def rung_children(round_, rung):
    return expand(
        "results/round_{r}/rung_{i}/children/{slot}.parquet",
        r=round_,
        i=rung,
        slot=range(RUNG_SIZES[rung]),
    )


def history_inputs(wildcards):
    """Round r's history: round r-1's history plus round r's children (with rungs: its
    proposals and every rung's children, by rung)."""
    r = int(wildcards.round)
    inputs = {"previous": f"results/round_{r - 1}/history.parquet"} if r > 0 else {}
    if not RUNG_EPOCHS:
        return {**inputs, "children": round_children(r)}
    inputs["proposals"] = f"results/round_{r}/proposals.parquet"
    for i in range(len(RUNG_EPOCHS)):
        inputs[f"rung_{i}"] = rung_children(r, i)
    return inputs


def promote_inputs(wildcards):
    """The children of the rung before: those that compete to continue."""
    return rung_children(int(wildcards.round), int(wildcards.rung) - 1)


def fit_inputs(wildcards):
    """Round r's history, and the pretrained auto-encoder every fit starts from."""
    inputs = {"history": f"results/round_{wildcards.round}/history.parquet"}
    if VALUE_MODEL.pretrain_steps > 0:
        inputs["pretrained"] = PRETRAINED
    return inputs


def propose_inputs(wildcards):
    r = int(wildcards.round)
    inputs = {"history": f"results/round_{r - 1}/history.parquet"}
    if USES_MODEL:
        inputs["model"] = f"results/round_{r - 1}/value_model.pt"
    return inputs


def final_inputs(wildcards):
    """The history a candidate is taken from: the search's for best1..bestN, the random
    search's for `random`; none for a baseline, so the baselines train beside the search
    (on a free core, or at once on a cluster) instead of after it."""
    if wildcards.candidate in BASELINES:
        return {}
    if wildcards.candidate == "random":
        return {"random_history": "results/random/history.parquet"}
    return {"history": f"results/round_{LAST}/history.parquet"}


def report_inputs(wildcards):
    """What the report shows beyond the history and the final table, when it exists."""
    inputs = {
        "history": f"results/round_{LAST}/history.parquet",
        "summary": "results/final/summary.parquet",
        "data_figures": list(data_figure_paths().values()),
        # the recommended model's predictions: which it is, the summary says
        "checkpoints": expand(
            "results/final/{candidate}/seed_{seed}.pt",
            candidate=FINAL.candidates,
            seed=FINAL.seeds,
        ),
        "test": f"{DATA_DIR}/test.parquet",
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


def figure(name, category, suffix="png"):
    """A report item (a figure, or the CSV table behind it) with its caption from
    workflow/report/."""
    return report(
        f"results/report/{name}.{suffix}",
        caption=f"../report/{name}.rst",
        category=category,
        subcategory="tables" if suffix == "csv" else "figures",
    )


def report_outputs():
    """Every figure of results/report/ and its table, as outputs of the report rule, so
    `snakemake --report` shows what index.html shows. Which figures a run has is known
    from the config: the value model's only with a strategy that fits one and more than
    one round, the comparison with random search only with final.random_search."""
    names = [("progress", "Search"), ("blocks", "Search")]
    if RUNG_EPOCHS:
        names.append(("rungs", "Search"))
    if USES_MODEL and LAST > 0:
        names += [("predictor", "Search"), ("latent", "Search")]
    if FINAL.random_search:
        names.append(("strategies", "Search"))
    names += [("final", "Final"), ("pareto", "Final"), ("examples", "Final")]
    out = {}
    for name, category in names:
        out[name] = figure(name, category)
        out[f"{name}_table"] = figure(name, category, "csv")
    return out


def bench_children(wildcards):
    """Every SNAP-Bench child table (rule bench_table)."""
    if not BENCH_SETS:
        raise ValueError("SNAP-Bench is off: set bench.max_len (config/snapbench.yaml)")
    return [f"results/{folder}/children/{slot}.parquet" for folder, _, n in BENCH_SETS
            for slot in range(n)]  # fmt: skip


def bench_top_children(wildcards):
    """Every child table of the de-noising seeds (rule bench_denoised)."""
    return [f"results/{folder}/children/{slot}.parquet" for folder, _, n in BENCH_TOP_SETS
            for slot in range(n)]  # fmt: skip


def bench_targets():
    """What target bench makes: the table (unless given), and the de-noised one."""
    out = [] if BENCH.table else ["results/bench/table.parquet"]
    return out + (["results/bench/denoised.parquet"] if BENCH_TOP_SETS else [])

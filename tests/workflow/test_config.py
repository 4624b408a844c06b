"""What Snakemake checks before any job: the plan of every config, a bad config's one-line
error, lint and format, and the schema's defaults and descriptions."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from helpers import AUTOSNAP, BIN, ROOT, planned, snakemake, workdir

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "config", ["config.yaml", "smoke.yaml", "full.yaml", "i3posnet.yaml", "own_data.yaml"]
)
def test_dry_run_of_every_config(config, tmp_path):
    """Each config plans its whole search in a fresh folder (never the checkout, where a
    user's own run may have finished everything)."""
    r = snakemake(workdir(tmp_path), "-n", "--configfile", f"config/{config}")
    assert r.returncode == 0, r.stdout + r.stderr
    demo = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg = yaml.safe_load((ROOT / "config" / config).read_text())
    rounds = {**demo["search"], **cfg.get("search", {})}["rounds"]
    assert f"round_{rounds - 1}/proposals.parquet" in r.stdout


def test_cluster_jobs_get_their_configs_threads_whatever_machine_submits_them(tmp_path):
    """Through profiles/slurm a training job asks for train.threads (4 in full.yaml),
    also when the machine that runs Snakemake (a 2-CPU head job, this test's machine)
    has fewer cores: the workflow profile must not cap threads with `cores`."""
    cwd = workdir(tmp_path)
    full = yaml.safe_load((cwd / "config/full.yaml").read_text())
    assert full["train"]["threads"] == 4
    r = snakemake(cwd, "-n", "--profile", "profiles/slurm", "--configfile", "config/full.yaml",
                  "config/site.example.yaml")  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    jobs = r.stdout.split("rule ")[1:]
    training = [j for j in jobs if j.startswith(("train_child_", "final:"))]
    assert training and all("threads: 4" in j for j in training), training[0]
    assert all("threads:" not in j for j in jobs if j.startswith(("propose:", "collect:")))


def test_a_ct_anatomy_is_fetched_once_and_is_an_input_of_the_data(tmp_path):
    """config/i3posnet.yaml projects the example CT: without it on disk, the plan fetches
    it first, and prepare_data waits for it (and reruns when the volume changes)."""
    cwd = workdir(tmp_path)
    r = snakemake(cwd, "-n", "--configfile=config/i3posnet.yaml", "results/data/train.parquet")
    assert r.returncode == 0, r.stdout + r.stderr
    plan = r.stdout
    assert plan.index("rule fetch_example_ct:") < plan.index("rule prepare_data:")
    assert "resources/ct/cxr.nii.gz" in plan[plan.index("rule prepare_data:") :]


def test_the_baselines_train_beside_the_search_not_after_it(tmp_path):
    """A baseline's final runs need only the data: they can take a free core (or a
    cluster slot) while the search runs; the search's best waits for its last round."""
    cwd = workdir(tmp_path)
    smoke = "--configfile=config/smoke.yaml"
    baselines = planned(cwd, smoke, "results/final/i3posnet/seed_0.parquet",
                        "results/final/resnet/seed_0.parquet")  # fmt: skip
    assert baselines == {"prepare_data": 1, "final": 2}, baselines
    best = planned(cwd, smoke, "results/final/best1/seed_0.parquet")
    assert best["final"] == 1 and best["fit"] >= 1 and "train_random_0" not in best, best
    random = planned(cwd, smoke, "results/final/random/seed_0.parquet")
    assert random["random_history"] == 1 and "fit" not in random, random


@pytest.mark.parametrize(
    "text, line",
    [
        ("train:\n  epoch: 3\n", "train.epoch: unknown key (did you mean 'epochs'?)"),
        ("serach:\n  rounds: 2\n", "serach: unknown key (did you mean 'search'?)"),
        ("search:\n  rounds: two\n", "search.rounds: expected integer, got 'two'"),
        (
            "search:\n  strategy: bayes\n",
            "search.strategy: no strategy 'bayes', expected one of autosnap, bananas",
        ),
        (
            "search:\n  top: 4\n",
            "search.top: moved to search.autosnap.top (bananas: search.bananas.top)",
        ),
        (
            "search:\n  evolution: {populaton: 4}\n",
            "search.evolution.populaton: unknown key (did you mean 'population'?)",
        ),
    ],
)
def test_a_bad_config_is_one_line_naming_file_and_key_in_snakemake_and_the_cli(
    tmp_path, text, line
):
    """The same one-line message (no schema dump) before any job, and from the CLI."""
    cwd = workdir(tmp_path)
    (cwd / "bad.yaml").write_text(text)
    r = snakemake(cwd, "-n", "--configfile", "bad.yaml")
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert f"bad.yaml: {line}" in out, out
    assert len(out.splitlines()) < 15 and "properties" not in out, out
    assert not (cwd / "results").exists()
    cli = [AUTOSNAP, "propose", "--config", str(cwd / "bad.yaml"), "--round", "0", "--out",
           str(cwd / "p.parquet")]  # fmt: skip
    r = subprocess.run(cli, capture_output=True, text=True)
    assert r.returncode == 2 and f"bad.yaml: {line}" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (cwd / "p.parquet").exists()


@pytest.mark.parametrize(
    "text, line",
    [
        ("value_model:\n  kind: bag\n", "value_model.kind: bag has no latent space"),
        (
            "search:\n  strategy: bananas\n  bananas: {candidates: 2}\n",
            "search.bananas.candidates: the pool of mutations needs at least search.children",
        ),
    ],
)
def test_settings_that_contradict_each_other_fail_before_any_job(tmp_path, text, line):
    """Keys valid alone but not together (the demo's pool has ascent decodes, which a
    bag-of-symbols model cannot make): one short message naming them, no job run."""
    cwd = workdir(tmp_path)
    (cwd / "bad.yaml").write_text(text)
    r = snakemake(cwd, "-n", "--configfile", "bad.yaml")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and line in out, out
    assert len(out.splitlines()) < 15 and not (cwd / "results").exists(), out


def test_lint_and_format_are_clean(tmp_path):
    r = snakemake(workdir(tmp_path), "--lint")
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(BIN / "snakefmt"), "--check", "workflow"], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_schema_key_has_a_description():
    schema = yaml.safe_load((ROOT / "autosnap/config.schema.yaml").read_text())
    missing = []

    def walk(node: dict, where: str) -> None:
        for key, sub in node.get("properties", {}).items():
            if not sub.get("description"):
                missing.append(f"{where}{key}")
            walk(sub, f"{where}{key}.")

    walk(schema, "")
    assert missing == []


def test_schema_defaults_equal_the_package_defaults():
    """One set of defaults: the schema's must match the config dataclasses'."""
    import dataclasses
    from dataclasses import fields

    from autosnap.data.config import DataConfig
    from autosnap.search import strategies
    from autosnap.search.config import SearchConfig, ValueModelConfig
    from autosnap.space.bench import BenchConfig
    from autosnap.training.config import FinalConfig, TrainConfig

    schema = yaml.safe_load((ROOT / "autosnap/config.schema.yaml").read_text())
    props = schema["properties"]

    def defaults(obj) -> dict:
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    for section, cls in [("data", DataConfig), ("train", TrainConfig), ("search", SearchConfig),
                         ("value_model", ValueModelConfig), ("final", FinalConfig),
                         ("bench", BenchConfig)]:  # fmt: skip
        ours = defaults(cls())
        if section == "search":  # the shared keys, then each strategy's own section
            del ours["sections"]
            search = props["search"]["properties"]
            ours["fidelity"] = defaults(ours["fidelity"])
            fidelity = search["fidelity"]["properties"]
            assert ours["fidelity"] == {k: v["default"] for k, v in fidelity.items()}
            sections = {k for k, v in search.items() if v.get("type") == "object"} - {"fidelity"}
            assert sections == {n for n in strategies.names() if fields(strategies.get(n).Config)}
            for name in sections:
                theirs = {k: v.get("default") for k, v in search[name]["properties"].items()}
                assert theirs == defaults(strategies.get(name).Config()), name
                ours[name] = {}
            ours["fidelity"] = {}
        if section == "data":
            ours["geometry"] = defaults(ours["geometry"])
            theirs = {k: v.get("default") for k, v in props["data"]["properties"].items()}
            geometry = props["data"]["properties"]["geometry"]["properties"]
            theirs["geometry"] = {k: v["default"] for k, v in geometry.items()}
        else:
            theirs = {k: v.get("default") for k, v in props[section]["properties"].items()}
        assert theirs == ours, section


def test_a_group_job_stays_within_the_partitions_time_limit(tmp_path):
    """With resources.max_job_minutes (the partition's limit) a group job's runtime, the
    sum of its members', stays within it on every attempt; a group whose first attempt
    cannot fit is refused before submission, in a line naming the keys to change."""
    cwd = workdir(tmp_path)
    site = yaml.safe_load((cwd / "config/site.example.yaml").read_text())
    full = yaml.safe_load((cwd / "config/full.yaml").read_text())
    per_job = full["resources"]["child_runtime_min"] * full["resources"]["chunk"]
    profile = yaml.safe_load((cwd / "profiles/slurm/config.yaml").read_text())
    members = int(dict(g.split("=") for g in profile["group-components"])["children_{round}"])
    limit = site["resources"]["max_job_minutes"]
    assert per_job * members <= limit < 2 * per_job * members  # a retry would not fit
    r = snakemake(cwd, "-n", "--profile", "profiles/slurm", "--configfile", "config/full.yaml",
                  "config/site.example.yaml")  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    groups = r.stdout.split("Group job ")[1:]
    train = [g for g in groups if g.startswith("children_0")]
    assert train, r.stdout[-3000:]
    for group in train:
        runtimes = [int(x) for x in re.findall(r"runtime=(\d+)", group)]
        assert sum(runtimes) <= limit, group[:2000]
    # a retry (attempt 2) asks for twice the time, capped at the group's share
    tight = tmp_path / "tight.yaml"
    tight.write_text(yaml.safe_dump({"resources": {"max_job_minutes": per_job * members - 1}}))
    r = snakemake(cwd, "-n", "--profile", "profiles/slurm", "--configfile", "config/full.yaml",
                  "config/site.example.yaml", str(tight))  # fmt: skip
    assert r.returncode != 0
    line = next(x for x in (r.stdout + r.stderr).splitlines() if "max_job_minutes" in x)
    assert f"= {per_job * members} min, over resources.max_job_minutes" in line, line
    assert re.search(r"group-components: (children_\{round\}|children_random|final)=N", line)


def test_site_settings_reach_the_slurm_jobs(tmp_path):
    """QoS, node constraint, gres and extra sbatch flags of site.yaml are the Slurm
    plugin's resources of the jobs that should carry them."""
    cwd = workdir(tmp_path)
    site = {
        "qos": "long",
        "constraint": "a100",
        "gres": "gpu:a100:1",
        "slurm_extra": "--mail-type=FAIL",
        "gpu_partition": "gpu",
        "cpu_partition": "cpu",
    }
    (cwd / "site.yaml").write_text(yaml.safe_dump({"resources": site}))
    r = snakemake(cwd, "-n", "--profile", "profiles/slurm", "--configfile", "config/full.yaml",
                  "site.yaml")  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    jobs = r.stdout.split("rule ")[1:]
    training = [j for j in jobs if j.startswith("train_child_")]
    data = next(j for j in jobs if j.startswith("prepare_data"))
    for job in training:
        for part in ("qos=long", "constraint=a100", "gres=gpu:a100:1",
                     "slurm_extra=--mail-type=FAIL", "slurm_partition=gpu"):  # fmt: skip
            assert part in job, job[:1500]
        assert "gpu=1" not in job  # gres books the GPU, not --gpus as well
    assert "qos=long" in data and "constraint" not in data and "slurm_partition=cpu" in data


def test_the_catalog_test_config_is_the_smoke_search(tmp_path):
    """`.test/config/config.yaml` (the workflow catalog's `--directory .test` run) is
    config/smoke.yaml laid over config/config.yaml, and plans the smoke search."""

    def merge(base: dict, over: dict) -> dict:
        out = dict(base)
        for k, v in over.items():
            both = isinstance(v, dict) and isinstance(out.get(k), dict)
            out[k] = merge(out[k], v) if both else v
        return out

    demo, smoke = (yaml.safe_load((ROOT / f"config/{n}.yaml").read_text()) for n in
                   ("config", "smoke"))  # fmt: skip
    assert yaml.safe_load((ROOT / ".test/config/config.yaml").read_text()) == merge(demo, smoke)
    catalog = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())
    assert catalog["usage"]["software-stack-deployment"]["conda"] and catalog["usage"]["report"]
    cwd = workdir(tmp_path)
    shutil.copytree(ROOT / ".test", cwd / ".test")
    r = snakemake(cwd, "-n", "--directory", ".test")
    assert r.returncode == 0 and "round_1/proposals.parquet" in r.stdout, r.stderr[-3000:]

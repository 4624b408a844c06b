"""The package's layering: imports run downward only, and what the workflow needs to
build its DAG does not load torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "autosnap"
#: Layers from the bottom; a module may import modules of a lower layer and of its own
#: unit (a folder, or the shared modules), never a sibling unit of its layer or above.
LAYERS = [
    {"errors", "config", "tables", "progress", "seeds", "__init__"},
    {"sim", "space"},
    {"data", "models", "search"},
    {"training"},
    {"pipeline", "deploy"},
    {"cli"},
]
SHARED = LAYERS[0]


def unit_of(module: str) -> str:
    """`autosnap.data.dataset` -> `data`; `autosnap.tables` -> `tables`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(unit: str) -> int:
    (index,) = [i for i, units in enumerate(LAYERS) if unit in units]
    return index


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def autosnap_imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(imported autosnap module, imported inside a function?) for every import."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module]
                if child.module == "autosnap":  # `from autosnap.pipeline import stages`
                    # (`from autosnap import __version__` imports the package itself)
                    names = ["autosnap" if a.name.startswith("__") else f"autosnap.{a.name}"
                             for a in child.names]  # fmt: skip
                found.extend((n, inner) for n in names if n.split(".")[0] == "autosnap")
            elif isinstance(child, ast.Import):
                found.extend((a.name, inner) for a in child.names if a.name.startswith("autosnap"))
            visit(child, inner)

    visit(tree, False)
    return found


def test_every_module_belongs_to_a_layer():
    units = {unit_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units <= set().union(*LAYERS), units - set().union(*LAYERS)


def test_imports_run_downward_only():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = module_name(path)
        mine = unit_of(me)
        for target, in_function in autosnap_imports(ast.parse(path.read_text())):
            theirs = unit_of(target)
            same_unit = theirs == mine or (mine in SHARED and theirs in SHARED)
            if not same_unit and layer_of(theirs) >= layer_of(mine):
                bad.append(f"{me} imports {target} (layer {layer_of(theirs)} >= {layer_of(mine)})")
            if in_function and mine != "cli":
                bad.append(f"{me} imports {target} inside a function")
    assert not bad, "\n".join(bad)


def test_the_layer_check_finds_an_upward_import():
    """The check itself can fail: an upward and a function-level import are found."""
    tree = ast.parse("from autosnap.training.trainer import x\ndef f():\n    import autosnap.sim\n")
    assert autosnap_imports(tree) == [("autosnap.training.trainer", False), ("autosnap.sim", True)]
    assert layer_of(unit_of("autosnap.training.trainer")) > layer_of(unit_of("autosnap.data.pose"))


def loads(code: str, module: str) -> bool:
    """Whether running `code` in a fresh interpreter loads `module` (the code must run)."""
    probe = f"{code}\nimport sys\nprint({module!r} in sys.modules)\n"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.strip().splitlines()[-1]
    assert out in ("True", "False"), r.stdout
    return out == "True"


def test_configs_strategies_and_the_dag_helpers_do_not_load_torch():
    """What the workflow reads to build its DAG (common.smk, executed here with the
    validated demo config as Snakemake would) stays torch-free."""
    code = f"""
import yaml
from snakemake.io import expand, multiext, report
from snakemake.utils import validate

import autosnap.config, autosnap.search.strategies  # noqa: F401

config = yaml.safe_load(open({str(ROOT / "config/config.yaml")!r}))
validate(config, {str(ROOT / "autosnap/config.schema.yaml")!r})
helpers = {{"config": config, "expand": expand, "multiext": multiext, "report": report,
           "CONFIG_FILES": "config.yaml"}}
exec(open({str(ROOT / "workflow/rules/common.smk")!r}).read(), helpers)
assert helpers["chunks"](range(5)) and helpers["FINAL"].candidates
"""
    assert not loads(code, "torch")


def test_a_search_rounds_jobs_do_not_load_matplotlib():
    """Rules collect, fit, propose and train_children import autosnap.pipeline.stages, and draw
    nothing: matplotlib (about 0.5 s a job) stays with data preparation and the report."""
    assert not loads("import autosnap.pipeline.stages", "matplotlib")

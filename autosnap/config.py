"""Configs: one schema for the whole file (config.schema.yaml, shipped in the package so
the CLI checks a file exactly as the workflow does, also after a wheel install), and
typed sections (dataclasses filled from YAML dicts with errors naming the key)."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml

from autosnap.errors import InputError

T = TypeVar("T")


class ConfigError(InputError):
    """A config key that is unknown, missing or of the wrong type (names the key)."""


#: The schema of a config file; the workflow validates with it and fills its defaults.
SCHEMA = files("autosnap") / "config.schema.yaml"

_AUTOSNAP = "search.autosnap."
#: Keys that moved, with their new place: a config that still has one fails in one line.
MOVED = {
    f"search.{key}": f"moved to {where}: each strategy's keys are in its own section"
    for key, where in {
        "top": f"{_AUTOSNAP}top (bananas: search.bananas.top)",
        "candidates": f"{_AUTOSNAP}candidates (bananas: search.bananas.candidates)",
        "population": f"search.evolution.population (autosnap's pool: {_AUTOSNAP}population)",
        "tournament": f"search.evolution.tournament (autosnap's pool: {_AUTOSNAP}tournament)",
        "ensemble": "search.bananas.ensemble",
        **{
            k: _AUTOSNAP + k
            for k in (
                "step",
                "growth",
                "max_steps",
                "per_parent",
                "beta",
                "trust_radius",
                "sources",
                "source_credit",
                "credit_rule",
                "scores",
            )
        },  # fmt: skip
    }.items()
}


@functools.cache
def _validator() -> Any:
    return _validator_of(yaml.safe_load(SCHEMA.read_text()))


def _validator_of(schema: dict) -> Any:
    import jsonschema

    return jsonschema.validators.validator_for(schema)(schema)


def _node(schema: dict, path: list) -> dict:
    """The schema of the value at `path` (for the keys a mapping there may have)."""
    for key in path:
        props = schema.get("properties", {})
        schema = props.get(key, {}) if isinstance(key, str) else schema.get("items", {})
    return schema


def _hint(key: str, known: list[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1)
    return f"did you mean '{near[0]}'?" if near else f"expected one of {', '.join(known)}"


def check_config(data: Any, source: str) -> None:
    """Raise ConfigError with one line naming `source` (the file or files), the key path,
    what was expected and, for a misspelt key, the nearest known one."""
    search = data.get("search") if isinstance(data, dict) else None
    known = sorted(_node(_validator().schema, ["search"]).get("properties", {}))
    for key in search if isinstance(search, dict) else ():
        if f"search.{key}" in MOVED:
            raise ConfigError(f"{source}: search.{key}: {MOVED[f'search.{key}']}")
        if key not in known and not isinstance(search[key], dict):  # not a plug-in's section
            raise ConfigError(f"{source}: search.{key}: unknown key ({_hint(key, known)})")
    check_against(data, source, _validator())


def check_against(data: Any, source: str, validator: Any | dict,
                  error: type[InputError] = ConfigError) -> None:  # fmt: skip
    """`check_config` for any JSON schema (a validator, or the schema as a dict): the
    first error in one line, as `error`."""
    if isinstance(validator, dict):
        validator = _validator_of(validator)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    e = errors[0]
    path = [str(p) for p in e.absolute_path]
    where = ".".join(path) or "the file"
    if e.validator == "additionalProperties":
        known = sorted(_node(validator.schema, list(e.absolute_path)).get("properties", {}))
        unknown = sorted(set(e.instance) - set(known))
        key = unknown[0]
        raise error(f"{source}: {'.'.join([*path, key])}: unknown key ({_hint(key, known)})")
    if e.validator == "type":
        expected = (
            e.validator_value
            if isinstance(e.validator_value, str)
            else " or ".join(e.validator_value)
        )
        raise error(f"{source}: {where}: expected {expected}, got {e.instance!r}")
    bounds = {"minimum": "at least", "exclusiveMinimum": "more than",
              "maximum": "at most", "exclusiveMaximum": "less than"}  # fmt: skip
    if e.validator in bounds:
        raise error(f"{source}: {where}: expected {bounds[e.validator]} "
                    f"{e.validator_value}, got {e.instance!r}")  # fmt: skip
    if e.validator == "required":
        missing = next(k for k in e.validator_value if k not in e.instance)
        raise error(f"{source}: {'.'.join([*path, missing])}: missing")
    if e.validator == "enum":
        options = ", ".join(map(str, e.validator_value))
        raise error(f"{source}: {where}: expected one of {options}, got {e.instance!r}")
    raise error(f"{source}: {where}: {e.message}")


def load_config(path: str | Path) -> dict[str, Any]:
    """A config file checked against the schema (every section, unknown ones refused)."""
    data = load_yaml(path)
    check_config(data, str(path))
    return data


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict (an empty file is an empty dict)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config sections")
    return data


def _check(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(tp):
            try:
                return _check(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: expected {tp}, got {value!r}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected nothing, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)[:1]
        return origin(_check(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if (tp is dict or origin is dict) and isinstance(value, dict):
        return dict(value)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str) -> T:
    """Build dataclass `cls` from `data`; missing keys take the defaults, unknown keys and
    wrong types raise ConfigError naming `where.key`."""
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}, expected some of {sorted(names)}")
    kwargs = {k: _check(v, hints[k], f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from e

"""Command-line options read from the workflow's config schema, the one place where each
option's type, description, default and allowed values are written.

A stage's CLI module names its options as ``{dest: "section.key"}``; the parser takes
everything else from the schema, and the workflow's rules turn the same mapping into the
flags of each ``seqsal <stage>`` call (:func:`config_to_flags`).
"""

from __future__ import annotations

import argparse
import json
import shlex
from functools import lru_cache
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "config.schema.yaml"
_TYPES = {"integer": int, "number": float, "string": str}


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The config schema (``seqsal/config.schema.yaml``) as a dict.

    Returns
    -------
    schema : dict
        The JSON schema; ``workflow/schemas/config.schema.yaml`` links to the same file.
    """
    import yaml

    return yaml.safe_load(SCHEMA.read_text())


def schema_entry(key: str) -> dict:
    """The schema of one config key.

    Parameters
    ----------
    key : str
        A dotted config key, e.g. ``"seqlets.alpha"``.

    Returns
    -------
    entry : dict
        Its ``type``, ``description``, ``default`` and constraints.
    """
    entry = load_schema()
    for part in key.split("."):
        entry = entry["properties"][part]
    return entry


def to_flag(dest: str) -> str:
    """``--dest-name`` for the argument ``dest_name``.

    Parameters
    ----------
    dest : str

    Returns
    -------
    flag : str
    """
    return "--" + dest.replace("_", "-")


def _argument(entry: dict) -> dict:
    """``add_argument`` keywords for one schema entry."""
    types = entry["type"] if isinstance(entry["type"], list) else [entry["type"]]
    kind = next(t for t in types if t != "null")
    keywords = {"default": entry["default"], "help": entry["description"]}
    if kind == "boolean":
        return {**keywords, "action": argparse.BooleanOptionalAction}
    if kind == "object":
        return {**keywords, "type": json.loads, "metavar": "JSON"}
    if kind == "array":  # a fixed length (ism_window: START END), or one or more
        fixed = entry.get("maxItems") if entry.get("minItems") == entry.get("maxItems") else None
        keywords["nargs"] = fixed or "+"
        entry = entry["items"]
        kind = entry["type"]
    keywords["type"] = _TYPES[kind]
    choices = [value for value in entry.get("enum", []) if value is not None]
    if choices:
        keywords["choices"] = choices
    return keywords


def add_options(parser: argparse.ArgumentParser, options: dict) -> None:
    """Add one option per config key, typed and defaulted by the schema.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A stage's subcommand parser.
    options : dict
        ``{dest: "section.key"}``: the argument's name (``--dest`` on the command line)
        and the config key it stands for.
    """
    for dest, key in options.items():
        parser.add_argument(to_flag(dest), dest=dest, **_argument(schema_entry(key)))


def options_to_kwargs(args: argparse.Namespace, options: dict) -> dict:
    """The parsed values of ``options``, keyed by ``dest``: a stage function's keywords.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    options : dict
        ``{dest: "section.key"}``, as given to :func:`add_options`.

    Returns
    -------
    kwargs : dict
        ``{dest: value}``.
    """
    return {dest: getattr(args, dest) for dest in options}


def config_value(config: dict, key: str):
    """The value of a dotted key in a (validated, defaulted) config dict.

    Parameters
    ----------
    config : dict
    key : str
        e.g. ``"seqlets.alpha"``.

    Returns
    -------
    value : object
    """
    for part in key.split("."):
        config = config[part]
    return config


def config_to_flags(config: dict, options: dict) -> str:
    """The command-line flags that pass a config's values of ``options`` to a stage.

    Parameters
    ----------
    config : dict
        The workflow's config, validated (defaults filled in).
    options : dict
        ``{dest: "section.key"}`` of a stage's CLI module.

    Returns
    -------
    flags : str
        Shell-quoted flags; a null or empty value gives no flag (the schema default is
        null or empty too), a boolean gives ``--flag`` or ``--no-flag``.
    """
    flags = []
    for dest, key in options.items():
        value, flag = config_value(config, key), to_flag(dest)
        if value is None or value == []:
            continue
        if isinstance(value, bool):
            flags.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, dict):
            flags.append(f"{flag} {shlex.quote(json.dumps(value))}")
        elif isinstance(value, list):
            flags.append(f"{flag} " + " ".join(shlex.quote(str(v)) for v in value))
        else:
            flags.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(flags)

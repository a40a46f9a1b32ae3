"""Command-line options read from the workflow's config schema, the one place where each
option's type, description, default and allowed values are written.

A stage's CLI module names its options as ``{dest: "section.key"}``; the parser takes
everything else from the schema, and the workflow's rules turn the same mapping into the
flags of each ``seqsal <stage>`` call (:func:`config_to_flags`).
"""

from __future__ import annotations

import argparse
import json
import math
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
    # argparse reads % in a help text as a format: a description says "14%"
    keywords = {"default": entry["default"], "help": entry["description"].replace("%", "%%")}
    if kind == "boolean":
        return {**keywords, "action": argparse.BooleanOptionalAction}
    if kind == "object":
        return {**keywords, "type": json_object, "metavar": "JSON"}
    if kind == "array":  # a fixed length (ism_window: START END), or one or more
        fixed = entry.get("maxItems") if entry.get("minItems") == entry.get("maxItems") else None
        keywords["nargs"] = fixed or "+"
        entry = entry["items"]
        kind = entry["type"]
    keywords["type"] = checked(kind, entry) if kind != "string" else str
    choices = [value for value in entry.get("enum", []) if value is not None]
    if choices:
        keywords["choices"] = choices
    return keywords


_BOUNDS = {
    "minimum": (lambda value, bound: value >= bound, ">="),
    "exclusiveMinimum": (lambda value, bound: value > bound, ">"),
    "maximum": (lambda value, bound: value <= bound, "<="),
    "exclusiveMaximum": (lambda value, bound: value < bound, "<"),
}


def checked(kind: str, entry: dict | None = None):
    """An argparse ``type`` for a number: the text read as ``kind`` (``"integer"`` or
    ``"number"``), finite, within the bounds of its schema ``entry``; anything else is
    refused in argparse's one line, ``argument --x: expected ..., found ...``.

    Parameters
    ----------
    kind : str
        ``"integer"`` or ``"number"``.
    entry : dict or None, optional
        The schema entry whose ``minimum``, ``maximum``, ``exclusiveMinimum`` and
        ``exclusiveMaximum`` hold. Default is None (any finite value).

    Returns
    -------
    convert : callable
        ``str -> int or float``.
    """
    noun = "an integer" if kind == "integer" else "a finite number"
    bounds = [(key, (entry or {})[key]) for key in _BOUNDS if key in (entry or {})]
    # a lower bound above 1 is the workflow's advice (input.width >= 20), not what the
    # stage needs to compute: the command takes down to 1 (tiny test inputs), never less
    bounds = [(k, min(b, 1) if "inimum" in k else b) for k, b in bounds]

    def convert(text):
        try:
            value = _TYPES[kind](text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, found {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {noun}, found {text!r}")
        for key, bound in bounds:
            holds, sign = _BOUNDS[key]
            if not holds(value, bound):
                raise argparse.ArgumentTypeError(f"expected {noun} {sign} {bound}, found {text!r}")
        return value

    return convert


def json_object(text: str) -> dict:
    """An argparse ``type``: a JSON object (``--hparams '{"n_filters": 16}'``), finite.

    Parameters
    ----------
    text : str

    Returns
    -------
    value : dict
    """

    def refuse(constant):
        raise ValueError(f"{constant} is not a finite number")

    try:
        value = json.loads(text, parse_constant=refuse)
    except ValueError as error:  # JSONDecodeError is one
        raise argparse.ArgumentTypeError(
            f"expected a JSON object, found {text!r} ({error})"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, found {text!r}")
    return value


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


def config_to_flags(config: dict, options: dict) -> list:
    """The command-line arguments that pass a config's values of ``options`` to a stage.

    Parameters
    ----------
    config : dict
        The workflow's config, validated (defaults filled in).
    options : dict
        ``{dest: "section.key"}`` of a stage's CLI module.

    Returns
    -------
    arguments : list of str
        One item per argument, never a shell string: a rule passes them as
        ``{params.options:q}``, which quotes each item. A null or empty value gives no
        flag (the schema default is null or empty too), a boolean gives ``--flag`` or
        ``--no-flag``, an object its JSON, a list one argument per item.
    """
    arguments = []
    for dest, key in options.items():
        name, value = to_flag(dest)[2:], config_value(config, key)
        if value is False:  # the schema's default may be true: say no
            name, value = f"no-{name}", True
        arguments += flag_arguments(name, value)
    return arguments


def flag_arguments(name: str, value) -> list:
    """``--name`` and its value as arguments: nothing for null, empty or false, the bare
    flag for true, one argument per item of a list, JSON for an object.

    Parameters
    ----------
    name : str
        The flag without its dashes, e.g. ``"null-attributions"``.
    value : object

    Returns
    -------
    arguments : list of str
    """
    if value is None or value == [] or value is False:
        return []
    if value is True:
        return [f"--{name}"]
    if isinstance(value, dict):
        return [f"--{name}", json.dumps(value)]
    if isinstance(value, (list, tuple)):
        return [f"--{name}", *(str(v) for v in value)]
    if str(value).startswith("-"):  # argparse would read "-x.bed" as an option
        return [f"--{name}={value}"]
    return [f"--{name}", str(value)]

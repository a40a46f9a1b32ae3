"""Check a workflow config against its JSON schema, one clear line per problem."""

from __future__ import annotations

import math
from collections.abc import Hashable

import yaml

from .inputs import genomic_names, input_errors, is_oriented, label_errors  # noqa: F401
from .intervals import is_interval

# A name that becomes part of a path (a target's attribution folder): letters, digits and
# ._+- only, not starting with . or - (so never "..", a hidden file or an option). The
# look-ahead ends the match at the end of the text, before a final newline too, in
# Python's and ECMAScript's regular expressions alike.
NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9._+-]*(?![\\s\\S])"
NAME_RULE = "a name of letters, digits and . _ + - (not starting with . or -)"
# The most values (mappings, lists and scalars) a config may hold: a YAML alias repeated
# inside aliases (a "billion laughs") expands past any real config long before this.
MAX_CONFIG_VALUES = 20_000
MAX_CONFIG_BYTES = 1 << 20  # a config file a person wrote

_EXPECTED = {
    "pattern": lambda v: NAME_RULE if v == NAME_PATTERN else f"text matching {v}",
    "type": lambda v: f"a value of type {' or '.join(v) if isinstance(v, list) else v}",
    "enum": lambda v: f"one of {v}",
    "minimum": lambda v: f"a number >= {v}",
    "maximum": lambda v: f"a number <= {v}",
    "exclusiveMinimum": lambda v: f"a number > {v}",
    "exclusiveMaximum": lambda v: f"a number < {v}",
    "minItems": lambda v: f"a list of at least {v} item(s)",
    "maxItems": lambda v: f"a list of at most {v} item(s)",
    "additionalProperties": lambda v: "only the keys of the schema",
}


def config_errors(config: dict, schema) -> list:
    """Every schema violation of ``config`` as ``key: expected ..., found ...``.

    Parameters
    ----------
    config : dict
        The workflow's config.
    schema : str, Path or dict
        The JSON schema (YAML file or loaded).

    Returns
    -------
    errors : list of str
        Empty when ``config`` is valid.
    """
    from jsonschema import Draft202012Validator

    size = size_error(config)
    if size:
        return [size]
    schema = _load_schema(schema)
    errors = [
        f"config {key}: expected a finite number, found {value!r}"
        for key, value in _leaves(config)
        if isinstance(value, float) and not math.isfinite(value)
    ]
    found = Draft202012Validator(schema).iter_errors(config)
    for error in sorted(found, key=lambda e: [str(p) for p in e.path]):
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            unknown = sorted(set(error.instance) - set(allowed))
            errors.append(f"config {key}: expected only the keys {allowed}, found {unknown}")
            continue
        describe = _EXPECTED.get(error.validator)
        expected = describe(error.validator_value) if describe else error.message
        errors.append(f"config {key}: expected {expected}, found {error.instance!r}")
    return errors


def _leaves(value, key=""):
    """``(dotted key, value)`` of every scalar in a config (list items keep their key)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    else:
        yield key, value


def size_error(config) -> str | None:
    """A config that holds more than :data:`MAX_CONFIG_VALUES` values (a YAML alias bomb
    reads as a few lines and expands to billions), said before anything walks it.

    Parameters
    ----------
    config : dict

    Returns
    -------
    line : str or None
        None when the config is of a size a person writes.
    """
    count, stack = 0, [config]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_CONFIG_VALUES:
            return (
                f"config: expected at most {MAX_CONFIG_VALUES} values, found more (a YAML "
                "alias repeated inside aliases?)"
            )
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _load_schema(schema) -> dict:
    if isinstance(schema, dict):
        return schema
    with open(schema) as handle:
        return yaml.safe_load(handle)


def typed_config(config: dict, schema) -> dict:
    """``config`` with the numbers, booleans and nulls that ``snakemake --config`` gave as
    text read as such.

    Snakemake reads a nested value (``--config 'model={prior: {consistency: 0.5}}'``)
    with YAML's base loader, which leaves every scalar a string. Where the schema admits
    a number, a boolean or null at a key, or sets no type there (``model.hparams``), a
    string that YAML reads as one of those (or, for a number, that Python reads as a
    float: ``1e-3``) is replaced by it, as a config file would have read it. Keys whose
    schema admits only text keep it, so a contig named ``1`` stays ``"1"``.

    Parameters
    ----------
    config : dict
        The workflow's config.
    schema : str, Path or dict
        The JSON schema (YAML file or loaded).

    Returns
    -------
    config : dict
        A new dict; ``config`` is left as it is.
    """
    return _typed(config, _load_schema(schema))


_JSON_TYPES = {bool: {"boolean"}, int: {"integer", "number"}, float: {"number"}}


def _typed(value, schema: dict):
    if isinstance(value, dict):
        extra = schema.get("additionalProperties")
        default = extra if isinstance(extra, dict) else {}
        properties = schema.get("properties", {})
        return {k: _typed(v, properties.get(k, default)) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [_typed(v, items if isinstance(items, dict) else {}) for v in value]
    kinds = schema.get("type", [])
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    if not isinstance(value, str) or (kinds and not kinds - {"string", "array", "object"}):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str) and (not kinds or "number" in kinds):
        try:
            parsed = float(value)
        except ValueError:
            return value
    found = {"null"} if parsed is None else _JSON_TYPES.get(type(parsed), set())
    return parsed if found and (not kinds or found & kinds) else value


FILE_KEYS = (
    "input.bed",
    "input.fasta",
    "input.table",
    "input.labels",
    "input.blacklist",
    "model.checkpoint",
    "split.test_names",
    "truth",
    "variants.file",
    "evaluate.compare_to",
    "tracks.annotation",
)


def early_errors(config: dict) -> list:
    """What can be known wrong before any job runs: files named in the config that are
    not there, a motif database that does not exist, a target that is not a label.

    Parameters
    ----------
    config : dict
        The workflow's validated config (defaults filled in), paths relative to the
        working directory.

    Returns
    -------
    errors : list of str
        ``key: expected ..., found ...``, one per problem.
    """
    from pathlib import Path

    from .errors import InputError
    from .io.meme import database_parts, is_database_file, jaspar_release

    def value(key):
        section, _, name = key.rpartition(".")
        return (config[section] if section else config)[name]

    errors = []
    paths = [(key, value(key)) for key in FILE_KEYS]
    paths += [("evaluate.seed_models", path) for path in config["evaluate"]["seed_models"]]
    paths += [("model.distill.teachers", path) for path in config["model"]["distill"]["teachers"]]
    for side in ("irrelevant", "relevant"):
        paths += [
            (f"model.prior.{side}", item)
            for item in config["model"]["prior"][side]
            if not is_interval(item)
        ]
    for database in database_parts(config["motifs"]["database"]):
        if is_database_file(database):
            paths.append(("motifs.database", database))
            continue
        try:
            jaspar_release(database)
        except InputError as error:
            errors.append(str(error))
        except ModuleNotFoundError:  # Snakemake's own environment (--sdm conda): the job checks
            pass
    for key in ("signal", "signal_minus"):
        paths += [(f"input.{key}", path) for path in config["input"][key] or ()]
    for key, path in paths:
        if path and not Path(path).is_file():
            found = "a directory" if Path(path).is_dir() else "no such file"
            errors.append(f"{key}: expected a file, found {found}: {path!r}")
    errors += _annotation_errors(config)
    keys = ("labels", "table", "bed_targets", "signal", "signal_minus", "negatives")
    errors += label_errors(
        config["input"]["mode"],
        checkpoint=config["model"]["checkpoint"],
        **{key: config["input"][key] for key in keys},
    )
    return errors + _target_errors(config) + _strand_errors(config) + _hparams_errors(config)


def _annotation_errors(config: dict) -> list:
    """A gene annotation outside genome mode, or of a format IGV is not given."""
    from .errors import InputError
    from .io.annotation import annotation_format

    annotation = config["tracks"]["annotation"]
    if not annotation:
        return []
    if config["input"]["mode"] == "library":
        return [
            "tracks.annotation: expected genome mode (genes on the reference), found library "
            "mode, whose contigs are the library's sequences"
        ]
    try:
        annotation_format(annotation)
    except InputError as error:
        return [str(error)]
    return []


def _hparams_errors(config: dict) -> list:
    """``model.hparams`` that do not build the architecture, or build one that does not
    run on the regions' length (a negative kernel size, a pool wider than the input),
    found by building it and running it once on zeros, before any job runs."""
    model = config["model"]
    if not model["hparams"] or model["checkpoint"] or model["arch"] == "auto":
        return []  # the defaults build; a checkpoint brings its own; auto refuses any
    from .errors import InputError, last_line

    try:
        import torch

        from .models import build_model
    except ModuleNotFoundError:  # Snakemake's own environment (--sdm conda): train checks
        return []
    length = config["input"]["width"] + 2 * config["input"]["flank"]
    try:
        with torch.no_grad():
            build_model(model["arch"], input_length=length, n_outputs=1, **model["hparams"])(
                torch.zeros(1, 4, length)
            )
    except InputError as error:
        return [str(error)]
    except Exception as error:  # torch's own checks raise RuntimeError, ValueError, ...
        return [
            f"model.hparams: expected hyperparameters that build {model['arch']} for "
            f"{length} bp inputs, found {model['hparams']!r} ({last_line(error)})"
        ]
    return []


def _strand_errors(config: dict) -> list:
    """Strand averaging asked for on oriented data, where the two strands differ."""
    if not is_oriented(config["input"]["oriented"], config["input"]["mode"]):
        return []
    return [
        strand_error(key)
        for key in ("model.rc_average", "attribute.rc_average")
        if config[key.split(".")[0]][key.split(".")[1]]
    ]


def strand_error(key: str) -> str:
    """The line refusing strand averaging (``key``) on oriented sequences.

    Parameters
    ----------
    key : str
        ``model.rc_average`` or ``attribute.rc_average``.

    Returns
    -------
    line : str
    """
    return (
        f"{key}: expected false for oriented sequences (input.oriented), found true; set "
        "input.oriented: false if both strands of your sequences act alike"
    )


def _target_errors(config: dict) -> list:
    """``attribute.target`` names that are not among the configured label columns."""
    target = config["attribute"]["target"]
    named = [t for t in (target if isinstance(target, list) else [target]) if isinstance(t, str)]
    columns = config["input"]["targets"]
    if named and columns is None:  # the label columns, from the table's header
        header = _header(config["input"]["table"] or config["input"]["labels"]) or []
        first = header[0] if header else None
        names = config["input"]["name_column"] or ("name" if "name" in header else first)
        skip = (names, config["input"]["sequence_column"])
        columns = [c for c in header if c not in skip]
    missing = [t for t in named if columns and t not in columns and not t.isdigit()]
    if not missing:
        return []
    return [f"attribute.target: expected label columns {columns}, found {missing}"]


def _header(path):
    """The first line's fields of a TSV (plain or gzip), or None when it cannot be read."""
    import gzip
    from pathlib import Path

    if not path or not Path(path).is_file():
        return None
    with open(path, "rb") as handle:
        opener = gzip.open if handle.read(2) == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return handle.readline().rstrip("\r\n").split("\t")
    except (OSError, UnicodeDecodeError, EOFError):
        return None  # the reader of that file says what is wrong with it


def read_config_file(path) -> dict:
    """A config file's keys, or one line saying where its YAML is broken.

    Snakemake reads ``--configfile`` itself and says only "not valid JSON or YAML";
    this names the line and column (``python -m seqsal.config FILE``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    config : dict

    Raises
    ------
    InputError
        ``FILE, line L, column C: expected YAML, found ...``, or a file that is not
        UTF-8 text or not a mapping of keys.
    """
    from pathlib import Path

    from .errors import InputError
    from .io.text import check_regular_file

    check_regular_file(path, "a config file (YAML)")
    size = Path(path).stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise InputError(
            f"{path}: expected a config file of at most {MAX_CONFIG_BYTES} bytes, found "
            f"{size}; is it the file you meant?"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = Path(path).read_bytes()[: error.start].count(b"\n") + 1
        raise InputError(
            f"{path}, line {line}: expected text (UTF-8), found bytes that are not"
        ) from None
    try:
        config = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        raise InputError(f"{path}{_yaml_problem(error)}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path}: expected YAML, found {str(error).splitlines()[0]}") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InputError(
            f"{path}: expected config keys (a YAML mapping), found a {type(config).__name__}"
        )
    return config


class _DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one mapping (``problem`` is the key)."""


class _Alias(yaml.MarkedYAMLError):
    """A YAML alias (``*name``): a config has no need of them, and nested ones expand a
    few lines into billions of values."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the
    last one silently, so the first value a user wrote would be ignored) and aliases."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Alias(problem=event.anchor, problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the safe loader itself refuses it, with its mark
            if key in seen:
                raise _DuplicateKey(problem=key, problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error) -> str:
    """``, line L, column C: expected YAML, found ...`` from a PyYAML error with marks."""

    def at(mark):
        return f"line {mark.line + 1}, column {mark.column + 1}"

    mark = error.problem_mark or error.context_mark
    if isinstance(error, _DuplicateKey):
        return f", {at(mark)}: expected each key once, found {error.problem!r} a second time"
    if isinstance(error, _Alias):
        return f", {at(mark)}: expected values written out, found the YAML alias *{error.problem}"
    problem = error.problem or error.context or "no detail"
    found = problem[6:] if problem.startswith("found ") else f"a syntax error: {problem}"
    line = f", {at(mark)}: expected YAML, found {found}"
    if error.context and error.context_mark and error.problem_mark:
        line += f" ({error.context} at {at(error.context_mark)})"
    return line


def schema_markdown(schema) -> str:
    """The config keys of ``schema`` as Markdown (``config/README.md``): one table per
    section, key, default and meaning, in the schema's order.

    Parameters
    ----------
    schema : str, Path or dict
        The JSON schema (YAML file or loaded).

    Returns
    -------
    text : str
    """
    import json

    if not isinstance(schema, dict):
        with open(schema) as handle:
            schema = yaml.safe_load(handle)

    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    def row(key, spec) -> str:
        default = "" if "properties" in spec else f"`{cell(json.dumps(spec.get('default')))}`"
        return f"| `{key}` | {default} | {cell(spec.get('description', ''))} |"

    lines = [
        "# Configuring seqsal",
        "",
        "`config/config.yaml` is the default run, the embedded demo; it needs no edits.",
        "For your data, write a config file of your own with only the keys you change and",
        "run `snakemake --cores N --configfile my.yaml` (a key given on the command line",
        "with `--config` wins over both). `python -m seqsal.config my.yaml` checks a file",
        "without starting a run. `config/examples/` holds configs for the real data sets.",
        "Threads, memory and the SLURM executor are not here: they live in",
        "`config/profiles/<name>/config.yaml`. docs/configuration.md explains when to change what.",
        "",
        "This file is generated from `workflow/schemas/config.schema.yaml` (a test keeps it",
        "in step).",
    ]
    top = [(k, v) for k, v in schema["properties"].items() if v.get("type") != "object"]
    sections = [(k, v) for k, v in schema["properties"].items() if v.get("type") == "object"]
    for title, keys in [("Top-level keys", top)] + [
        (f"`{name}:` {section.get('description', '')}", list(section["properties"].items()))
        for name, section in sections
    ]:
        lines += ["", f"## {title}", "", "| key | default | meaning |", "|---|---|---|"]
        for key, spec in keys:
            lines.append(row(key, spec))
            for sub, entry in spec.get("properties", {}).items():  # a group: model.prior
                lines.append(row(f"{key}.{sub}", entry))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m seqsal.config FILE...``: check config files before a run.

    Each file's broken YAML (line and column) or schema problems (key, expected, found),
    one line each.

    Parameters
    ----------
    argv : list of str or None, optional
        The files. Default is None: the command line.

    Returns
    -------
    status : int
        0 when every file is a valid config, else 1.
    """
    import argparse
    import sys
    from importlib.resources import files

    from .errors import InputError, one_line

    parser = argparse.ArgumentParser(
        prog="python -m seqsal.config", description=main.__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a config file (YAML)")
    schema = str(files(__package__) / "config.schema.yaml")
    problems = []
    for path in parser.parse_args(argv).files:
        try:
            problems += [f"{path}: {p}" for p in config_errors(read_config_file(path), schema)]
        except (InputError, OSError) as error:
            problems.append(one_line(error) or f"{path}: {error}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

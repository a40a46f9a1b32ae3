"""Check a workflow config against its JSON schema, one clear line per problem."""

from __future__ import annotations

import yaml

_EXPECTED = {
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

    if not isinstance(schema, dict):
        with open(schema) as handle:
            schema = yaml.safe_load(handle)
    errors = []
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


def input_errors(mode: str, *, bed=None, fasta=None, table=None) -> list:
    """What a mode lacks among its input files, as ``key: expected ..., found ...``.

    Parameters
    ----------
    mode : str
        ``simulate``, ``genome`` or ``library`` (``input.mode``).
    bed, fasta, table : str or None, optional
        ``input.bed``, ``input.fasta``, ``input.table``. Default is None.

    Returns
    -------
    errors : list of str
        Empty when the mode has what it needs (the demo makes its own files).
    """
    if mode == "genome" and not (bed and fasta):
        return [
            f"input.bed, input.fasta: expected both in genome mode, found "
            f"bed={bed!r}, fasta={fasta!r}"
        ]
    if mode == "library" and not (table or fasta):
        return ["input.table, input.fasta: expected one of them in library mode, found neither"]
    return []

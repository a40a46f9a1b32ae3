"""The schema is the one place defaults live: config.yaml and the functions agree with it."""

import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from seqsal.cli import STAGES, build_parser, stage_module
from seqsal.cli.options import config_to_flags
from seqsal.motifs import cluster_seqlets, match_motifs
from seqsal.seqlets import call_seqlets
from seqsal.train import TrainingOptions, split_regions

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def schema_defaults(schema=None):
    schema = schema or yaml.safe_load(SCHEMA.read_text())
    return {
        key: schema_defaults(value) if "properties" in value else value["default"]
        for key, value in schema["properties"].items()
    }


def test_config_yaml_is_valid_and_equals_the_schema_defaults_but_the_demo_files():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    validate(config, str(SCHEMA))
    defaults = schema_defaults()
    assert config.pop("truth") == "results/simulate/truth.bed" and defaults.pop("truth") is None
    variants, default_variants = config["variants"], defaults["variants"]
    assert variants.pop("file") == "results/simulate/variants.vcf"
    assert default_variants.pop("file") is None
    assert config == defaults


def test_every_schema_key_has_type_description_default():
    def walk(schema, path):
        for key, value in schema["properties"].items():
            assert {"type", "description", "default"} <= set(value), path + key
            if "properties" in value:
                assert value.get("additionalProperties") is False, path + key
                walk(value, path + key + ".")

    walk(yaml.safe_load(SCHEMA.read_text()), "")


def _defaults(function):
    return {
        k: v.default
        for k, v in inspect.signature(function).parameters.items()
        if v.default is not inspect.Parameter.empty
    }


def test_schema_defaults_equal_function_and_cli_defaults():
    d = schema_defaults()
    pairs = [
        (d["seqlets"]["window"], _defaults(call_seqlets)["window"]),
        (d["seqlets"]["alpha"], _defaults(call_seqlets)["alpha"]),
        (d["seqlets"]["null_size"], _defaults(call_seqlets)["null_size"]),
        (d["motifs"]["max_q"], _defaults(match_motifs)["max_q"]),
        (d["motifs"]["min_seqlets"], _defaults(cluster_seqlets)["min_seqlets"]),
        (d["motifs"]["min_similarity"], _defaults(cluster_seqlets)["min_similarity"]),
        (d["split"]["test_fraction"], _defaults(split_regions)["test_fraction"]),
        (d["split"]["valid_fraction"], _defaults(split_regions)["valid_fraction"]),
        (d["model"]["max_epochs"], _defaults(TrainingOptions)["max_epochs"]),
        (d["model"]["patience"], _defaults(TrainingOptions)["patience"]),
        (d["model"]["batch_size"], _defaults(TrainingOptions)["batch_size"]),
        (d["model"]["learning_rate"], _defaults(TrainingOptions)["learning_rate"]),
        (d["model"]["arch"], _defaults(TrainingOptions)["arch"]),
    ]
    for schema_value, function_value in pairs:
        assert schema_value == function_value
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    cli = {name: {a.dest: a.default for a in p._actions} for name, p in sub.items()}
    assert cli["seqlets"]["window"] == d["seqlets"]["window"]
    assert cli["seqlets"]["null_size"] == d["seqlets"]["null_size"]
    assert cli["motifs"]["min_seqlets"] == d["motifs"]["min_seqlets"]
    assert cli["motifs"]["database"] == d["motifs"]["database"]
    assert cli["train"]["max_epochs"] == d["model"]["max_epochs"]
    assert cli["simulate"]["n_regions"] == d["simulate"]["n_regions"]
    assert cli["simulate"]["motifs"] == d["simulate"]["motifs"]
    assert cli["evaluate"]["max_regions"] == d["evaluate"]["max_regions"]


def _leaf_keys(schema, prefix=""):
    for key, value in schema["properties"].items():
        if "properties" in value:
            yield from _leaf_keys(value, prefix + key + ".")
        else:
            yield prefix + key


# Keys no CLI option stands for: the workflow itself reads them.
WORKFLOW_KEYS = {
    "shard_size": "how many encode/attribute jobs (common.smk shard_ids)",
    "seqlets.null_regions": "the share of regions `attribute --shuffled` gets (null_fraction)",
    "attribute.methods": "one run per method: each rule job passes its own --method",
    "attribute.target": "one run per target: each rule job passes its own --target",
    "truth": "an input file of the evaluate rule, passed as --truth",
    "variants.file": "an input file of the variants rule, passed as --variants",
}


def _stage_functions(module):
    """The function(s) a stage's ``run`` calls (regions: one per mode)."""
    names = (module.STAGE,) if isinstance(module.STAGE, str) else module.STAGE
    for name in names:
        path, function = name.split(":")
        yield getattr(importlib.import_module(path), function)


def _group_parameters(module) -> dict:
    """The options a stage function takes in its option groups (``GROUPS``: a keyword,
    a type, a prefix): ``{prefix + field: the type's signature parameter}``."""
    parameters = {}
    for keyword in getattr(module, "GROUPS", {}):
        prefix = module.GROUPS[keyword][1]
        for name, parameter in inspect.signature(module.group_type(keyword)).parameters.items():
            parameters[prefix + name] = parameter
    return parameters


def test_every_schema_key_reaches_one_cli_option_and_its_function_with_one_default():
    schema = yaml.safe_load(SCHEMA.read_text())
    defaults = schema_defaults(schema)
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    covered = set()
    for stage in STAGES:
        module = stage_module(stage)
        cli = {a.dest: a.default for a in sub[stage]._actions}
        functions = list(_stage_functions(module))
        parameters = set().union(*(inspect.signature(f).parameters for f in functions))
        grouped = _group_parameters(module)
        for dest, key in module.OPTIONS.items():
            covered.add(key)
            default = defaults
            for part in key.split("."):
                default = default[part]
            assert cli[dest] == default, f"seqsal {stage} --{dest} vs {key}"
            if dest in getattr(module, "READ_BY_CLI", ()):
                continue  # read or loaded by the CLI itself, not passed on
            if dest in grouped:  # a field of one of the function's option groups
                value = grouped[dest].default
                assert value == default or (value in (None, ()) and default in ({}, [])), key
                continue
            assert dest in parameters, f"{module.STAGE} has no parameter {dest} ({key})"
            for function in functions:
                value = _defaults(function).get(dest, default)
                if value in (None, ()) and default in ({}, []):
                    continue  # None or () stands for an empty container
                assert value == default, f"{function.__qualname__}({dest}=) vs {key}"
    assert covered | set(WORKFLOW_KEYS) == set(_leaf_keys(schema))
    assert not covered & set(WORKFLOW_KEYS)


def test_config_flags_parse_back_to_the_config_values():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["model"]["tasks"] = {"activity": "regression"}
    config["attribute"]["ism_window"] = [10, 20]
    config["tracks"]["hypothetical"] = True
    config["model"]["rc_augment"] = False
    config["evaluate"]["nuisance"] = ["adapter:0:20"]
    parser = build_parser()
    for stage in STAGES:
        module = stage_module(stage)
        flags = config_to_flags(config, module.OPTIONS)
        required = [
            a for a in parser._subparsers._group_actions[0].choices[stage]._actions if a.required
        ]
        filler = sum(([a.option_strings[0], "x"] for a in required), [])
        args = parser.parse_args([stage, *flags, *filler])
        for dest, key in module.OPTIONS.items():
            value = config
            for part in key.split("."):
                value = value[part]
            got = getattr(args, dest)
            assert got == value or (got is None and value == []), (stage, dest, got, value)


def test_config_errors_name_key_expected_and_found():
    from seqsal.config import config_errors

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert config_errors(config, SCHEMA) == []
    config["seqlets"]["alpha"] = 2
    config["input"]["mode"] = "bam"
    config["model"]["colour"] = "red"
    assert config_errors(config, SCHEMA) == [
        "config input.mode: expected one of ['simulate', 'genome', 'library'], found 'bam'",
        "config model: expected only the keys ['arch', 'augment', 'auto_epochs', 'batch_size', "
        "'checkpoint', 'distill', 'ensemble', 'hparams', 'learning_rate', 'lr_schedule', "
        "'max_epochs', 'mutation_rate', 'patience', 'prior', 'rc_augment', 'rc_average', "
        "'standardize', 'tasks', 'weight_decay'], found ['colour']",
        "config seqlets.alpha: expected a number <= 1, found 2",
    ]


def test_nested_command_line_values_are_read_as_a_config_file_would_read_them():
    """``snakemake --config 'model={prior: {consistency: 0.5}}'`` gives Snakemake's
    config text ('0.5'), where the same line in a config file gives a number."""
    from seqsal.config import config_errors, typed_config

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    given = {
        **config,
        "input": {**config["input"], "targets": ["1", "2"], "oriented": "null"},
        "split": {**config["split"], "test_chroms": ["1", "X"], "test_fraction": "0.2"},
        "model": {
            **config["model"],
            "hparams": {"n_filters": "16", "filters": ["4", "5"], "first_activation": "exp"},
            "learning_rate": "1e-3",
            "rc_average": "true",
            "prior": {**config["model"]["prior"], "consistency": "0.5"},
        },
        "attribute": {**config["attribute"], "ism_window": ["3", "9"], "target": "1"},
        "seqlets": {**config["seqlets"], "window": "ten"},
    }
    typed = typed_config(given, SCHEMA)
    assert typed["model"]["hparams"] == {
        "n_filters": 16,
        "filters": [4, 5],
        "first_activation": "exp",
    }
    assert typed["model"]["learning_rate"] == 0.001 and typed["model"]["rc_average"] is True
    assert typed["model"]["prior"]["consistency"] == 0.5 and typed["split"]["test_fraction"] == 0.2
    assert typed["attribute"]["ism_window"] == [3, 9] and typed["attribute"]["target"] == 1
    assert typed["input"]["oriented"] is None
    # text where the schema admits only text: contig and target names stay names
    assert typed["split"]["test_chroms"] == ["1", "X"] and typed["input"]["targets"] == ["1", "2"]
    # what is not a number stays as given, for the check to name
    assert config_errors(typed, SCHEMA) == [
        "config seqlets.window: expected a value of type integer, found 'ten'"
    ]
    assert given["model"]["learning_rate"] == "1e-3"  # the config given is left as it is


def test_each_mode_names_the_input_files_it_lacks():
    from seqsal.config import input_errors

    assert input_errors("simulate") == []
    assert input_errors("genome", bed="a.bed", fasta="ref.fa") == []
    assert input_errors("library", table="lib.tsv") == input_errors("library", fasta="l.fa") == []
    (genome,) = input_errors("genome", bed="a.bed")
    assert (
        genome
        == "input.bed, input.fasta: expected both in genome mode, found bed='a.bed', fasta=None"
    )
    (library,) = input_errors("library", bed="a.bed")
    assert library.startswith("input.table, input.fasta: expected one of them in library mode")


def test_what_can_be_known_wrong_is_found_before_any_job(tmp_path):
    from seqsal.config import early_errors

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["truth"] = config["variants"]["file"] = None  # the demo's: the workflow makes them
    assert early_errors(config) == []
    table = tmp_path / "lib.tsv"
    table.write_text("name\tsequence\ttask1\ttask2\ns1\tACGT\t1\t0\n")
    config["input"].update(mode="library", table=str(table), fasta=str(tmp_path / "no.fa"))
    config["model"]["checkpoint"] = str(tmp_path)
    config["motifs"]["database"] = "jaspar2099_vertebrates"
    config["attribute"]["target"] = ["task1", "task9"]
    config["variants"]["file"] = str(tmp_path / "mine.vcf")
    database, *errors = early_errors(config)
    assert database.startswith("motifs.database: expected a JASPAR release pyjaspar ships (")
    assert "JASPAR2024" in database and database.endswith(
        "found JASPAR2099 in 'jaspar2099_vertebrates'"
    )
    assert errors == [
        f"input.fasta: expected a file, found no such file: '{tmp_path / 'no.fa'}'",
        f"model.checkpoint: expected a file, found a directory: '{tmp_path}'",
        f"variants.file: expected a file, found no such file: '{tmp_path / 'mine.vcf'}'",
        "attribute.target: expected label columns ['task1', 'task2'], found ['task9']",
    ]
    config["motifs"]["database"] = str(tmp_path / "mine.meme")
    assert f"motifs.database: expected a file, found no such file: '{tmp_path / 'mine.meme'}'" in (
        early_errors(config)
    )
    # several collections: each is checked
    config["motifs"]["database"] = f"jaspar2024_plants, {tmp_path / 'mine.meme'}"
    assert sum("motifs.database" in e for e in early_errors(config)) == 1
    # strand averaging on oriented sequences (library mode's default) is refused
    config["model"]["rc_average"] = True
    assert early_errors(config)[-1] == (
        "model.rc_average: expected false for oriented sequences (input.oriented), found "
        "true; set input.oriented: false if both strands of your sequences act alike"
    )
    config["input"]["oriented"] = False
    assert not any("rc_average" in e for e in early_errors(config))


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "model:\n  max_epochs: [1, 2\nseed: 3\n",
            ", line 3, column 5: expected YAML, found a syntax error: expected ',' or ']', but got "
            "':' (while parsing a flow sequence at line 2, column 15)",
        ),
        ("model:\n\tmax_epochs: 3\n", ", line 2, column 1: expected YAML, found character '\\t'"),
        (
            "seed: 1\nmodel: {}\nseed: 2\n",
            ", line 3, column 1: expected each key once, found 'seed'",
        ),
        ("- seed\n", ": expected config keys (a YAML mapping), found a list"),
        ("seed: '\xff'\n".encode("latin-1"), ", line 1: expected text (UTF-8), found bytes"),
    ],
)
def test_broken_config_yaml_names_its_line(tmp_path, text, line):
    from seqsal.config import read_config_file
    from seqsal.errors import InputError

    path = tmp_path / "my.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError) as raised:
        read_config_file(path)
    assert str(raised.value).startswith(f"{path}{line}") and "\n" not in str(raised.value)


def test_config_check_command_says_every_problem_once(tmp_path, capsys):
    from seqsal.config import main

    assert main([str(ROOT / "config" / "config.yaml")]) == 0
    assert read_config_equals_yaml(ROOT / "config" / "config.yaml")
    broken, wrong = tmp_path / "broken.yaml", tmp_path / "wrong.yaml"
    broken.write_text("seed: [\n")
    wrong.write_text("seqlets: {alpha: 2}\n")
    assert main([str(broken), str(wrong), str(tmp_path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{broken}, line 2, column 1: expected YAML, found a syntax error")
    assert lines[1] == f"{wrong}: config seqlets.alpha: expected a number <= 1, found 2"
    assert lines[2] == f"{tmp_path}: expected a config file (YAML), found a directory"


def read_config_equals_yaml(path):
    """seqsal's config reader gives what PyYAML gives on a valid file."""
    from seqsal.config import read_config_file

    return read_config_file(path) == yaml.safe_load(Path(path).read_text())


def test_config_readme_is_the_schema_and_the_catalog_file_parses():
    from seqsal.config import schema_markdown

    for page in ("config/README.md", "docs/config-reference.md"):  # the repo's and the site's
        assert (ROOT / page).read_text() == schema_markdown(SCHEMA), (
            f"{page} is out of step with the schema: regenerate it with "
            'python -c "from seqsal.config import schema_markdown as m; '
            f"open('{page}', 'w').write(m('seqsal/config.schema.yaml'))\""
        )
    catalog = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())
    assert set(catalog["usage"]) >= {"mandatory-flags", "software-stack-deployment", "report"}
    assert "MIT License" in (ROOT / "LICENSE").read_text()


@pytest.mark.parametrize(
    "oriented, mode, names, expected",
    [
        (None, "library", ["chr1:100-200", "chr2:5-105(+)", "chr1:100-200_shuffled"], False),
        (None, "library", ["enhancer_1", "enhancer_2", "chr1:1-100"], True),  # a library
        (None, "library", None, True),
        (True, "library", ["chr1:100-200"], True),  # the user's word wins
        (None, "genome", ["enhancer_1"], False),
        (None, "simulate", None, False),
    ],
)
def test_orientation_follows_the_datas_origin(oriented, mode, names, expected):
    """input.oriented null: a library is oriented unless most of its names are genome
    coordinates (peaks cut from a genome, bedtools getfasta's names); genomic regions
    never are; a value given is kept."""
    from seqsal.inputs import is_oriented

    assert is_oriented(oriented, mode, names) is expected


@pytest.mark.parametrize(
    "mode, keys, expected",
    [
        ("genome", {}, "input: expected labels to train on, found none in genome mode"),
        ("genome", {"checkpoint": "model.pt"}, None),  # a trained model needs no labels
        ("genome", {"negatives": "gc_matched"}, None),
        ("genome", {"signal": ["a.bw"]}, None),
        ("library", {"negatives": "gc_matched"}, "input.negatives: expected dinucleotide_shuffle"),
        ("genome", {"negatives": "dinucleotide_shuffle"}, "input.negatives: expected gc_matched"),
        ("genome", {"negatives": "gc_matched", "labels": "l.tsv"}, "expected no labels"),
        ("library", {"signal": ["a.bw"], "table": "t.tsv"}, "input.signal: expected genome mode"),
        ("genome", {"signal": ["a.bw"], "signal_minus": []}, None),
        ("genome", {"signal": ["a.bw"], "signal_minus": ["b.bw", "c.bw"]}, "one minus-strand"),
        ("simulate", {}, None),
    ],
)
def test_where_labels_come_from_is_checked_before_any_job(mode, keys, expected):
    from seqsal.inputs import label_errors

    errors = label_errors(mode, **keys)
    assert (expected is None and errors == []) or (len(errors) == 1 and expected in errors[0])

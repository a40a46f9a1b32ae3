"""No config value reaches a shell: every placeholder of every rule is quoted, and every
string key of the schema, given a hostile value, is refused in one line naming the key or
reaches its command as exactly one argument."""

import ast
import copy
import re
import shlex
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from test_workflow import snakemake_command

from seqsal.config import config_errors

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def shell_commands(path: Path) -> dict:
    """``{rule: shell command}`` of a rule file: each ``shell:`` directive's string
    literals, joined as Python joins them."""
    commands, rule, lines = {}, None, path.read_text().splitlines()
    for i, line in enumerate(lines):
        found = re.match(r"(?:rule|checkpoint) (\w+):", line)
        rule = found.group(1) if found else rule
        if line.strip() == "shell:":
            literals = []
            for text in lines[i + 1 :]:
                if not text.strip().startswith(('"', "'")):
                    break
                literals.append(text.strip())
            commands[rule] = ast.literal_eval("".join(literals))
    return commands


def test_every_rule_quotes_every_placeholder():
    rules = {rule: command for path in RULES for rule, command in shell_commands(path).items()}
    declared = [
        name
        for path in RULES
        for name in re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.M)
    ]
    assert sorted(rules) == sorted(declared)  # every rule runs a shell command we read
    unquoted = [
        (rule, field, spec)
        for rule, command in rules.items()
        for _, field, spec, _ in string.Formatter().parse(command)
        if field is not None and not (spec or "").endswith("q")
    ]
    assert unquoted == []


def string_keys(schema=None, prefix=""):
    """``(dotted key, entry)`` of every config key whose value, or whose items, may be text."""
    schema = schema or yaml.safe_load(SCHEMA.read_text())
    for name, entry in schema["properties"].items():
        key = f"{prefix}{name}"
        if "properties" in entry:
            yield from string_keys(entry, f"{key}.")
            continue
        kinds = entry.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        items = entry.get("items", {}).get("type", [])
        items = [items] if isinstance(items, str) else items
        if "string" in kinds or "string" in items:
            yield key, entry


def hostile(key: str) -> str:
    """Text that a shell would run, split or expand, tagged with its key (no ``/``, so
    that it can be a file name, and no braces, Snakemake's wildcards in a path)."""
    tag = f"@@{key}@@"
    return f"-{tag} a'b\"c $(touch PWNED) `touch PWNED`;|&<>*?~#!..\\\n\tx é\u2028{tag}"


def put(config: dict, key: str, value) -> None:
    *sections, name = key.split(".")
    for section in sections:
        config = config.setdefault(section, {})
    config[name] = value


def hostile_config(keys) -> dict:
    config = {}
    for key, entry in keys:
        kinds = entry.get("type", [])
        listed = "array" in ([kinds] if isinstance(kinds, str) else kinds)
        put(config, key, [hostile(key)] if listed else hostile(key))
    return config


def merged(base: dict, overlay: dict) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def printed_commands(output: str) -> list:
    """The argument lists of the commands a dry run printed (``-p``): a command whose
    quoted value holds a newline goes on until its quotes close."""
    commands = []
    for chunk in output.split("Shell command: ")[1:]:
        lines, text = chunk.split("\n"), ""  # not splitlines: U+2028 is no line end here
        for line in lines:
            text = f"{text}\n{line}" if text else line
            try:
                commands.append(shlex.split(text))
                break
            except ValueError:  # a quote still open: the value goes on
                continue
    return [c for c in commands if c and c[0] == "seqsal"]


def dry_run(workdir: Path, overlay: dict):
    """A dry run printing its commands, with ``overlay`` on the default config, taking
    out every key it refuses in a config line until it plans: the keys refused and the
    commands planned."""
    refused, overlay = set(), copy.deepcopy(overlay)  # the caller's stays whole
    for _ in range(20):
        command, env = snakemake_command(
            workdir,
            "-n",
            "-p",
            "--cores",
            "1",
            "--rerun-triggers",
            "mtime",
            config=yaml.safe_dump(overlay, allow_unicode=True),
        )
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        if done.returncode == 0:
            return refused, printed_commands(done.stdout + done.stderr)
        lines = [line for line in done.stderr.splitlines() if line.startswith("config ")]
        named = {k for k, _ in KEYS for line in lines if line.startswith(f"config {k}")}
        assert lines and named, done.stdout[-1000:] + done.stderr[-2000:]
        for key in named:
            *sections, name = key.split(".")
            section = overlay
            for part in sections:
                section = section.get(part, {})
            section.pop(name, None)
        refused |= named
    raise AssertionError("the dry run still refused the config after 20 rounds")


KEYS = list(string_keys())


def make_files(folder: Path, keys) -> None:
    """The files that file keys name, under their hostile names, holding valid content."""
    bed = "chr1\t0\t300\tr1\t0\t+\n"
    fasta = ">chr1\n" + "ACGT" * 100 + "\n"
    content = {"input.fasta": fasta, "input.bed": bed, "truth": bed}
    for key, _ in keys:
        value = hostile(key)
        (folder / value).write_text(content.get(key, "name\ty\nr1\t1\n"))


def test_every_string_key_is_refused_or_one_argument(tmp_path):
    # the checkpoint's outputs, as a finished regions job leaves them: the dry run then
    # plans every job after it, in simulate mode (the default) and in genome mode
    assert len(KEYS) > 40
    modes = {
        "simulate": {},
        "genome": {
            "input": {
                "mode": "genome",
                "bed": hostile("input.bed"),
                "fasta": hostile("input.fasta"),
            }
        },
    }
    reached, refused_all = set(), {}
    for mode, base in modes.items():
        workdir = tmp_path / mode
        workdir.mkdir()
        keys = [(k, e) for k, e in KEYS if k not in ("input.mode",)]
        overlay = merged(hostile_config(keys), base)
        # what the schema refuses is known without a run: the same check the workflow runs
        lines = config_errors(merged(DEFAULT, overlay), SCHEMA)
        schema_refused = {k for k, _ in keys for line in lines if line.startswith(f"config {k}")}
        for key in schema_refused:
            *sections, name = key.split(".")
            section = overlay
            for part in sections:
                section = section[part]
            section.pop(name)
        make_files(workdir, keys)
        for phase in ("before", "after"):
            if phase == "after":  # as a finished regions checkpoint leaves its outputs
                for name in (
                    "simulate/genome.fa",
                    "simulate/regions.bed",
                    "simulate/labels.tsv",
                    "simulate/truth.bed",
                    "simulate/variants.vcf",
                ):
                    (workdir / "results" / name).parent.mkdir(parents=True, exist_ok=True)
                    (workdir / "results" / name).write_text("")
                regions = workdir / "results" / "regions"
                regions.mkdir(parents=True, exist_ok=True)
                (regions / "regions.bed").write_text("chr1\t0\t200\tr1\t0\t+\n")
                for name in ("rejected.tsv", "labels.tsv", "library.fa", "summary.json"):
                    (regions / name).write_text("")
            refused, commands = dry_run(workdir, overlay)
            refused_all[mode] = schema_refused | refused
            stages = {command[1] for command in commands}
            assert (
                stages == ({"simulate", "regions"} if mode == "simulate" else {"regions"})
                if (phase == "before")
                else stages >= {"encode", "train", "attribute", "tracks", "evaluate", "report"}
            )
            for command in commands:
                for key, _ in keys:
                    value = hostile(key)
                    tag = f"@@{key}@@"
                    hits = [arg for arg in command if tag in arg]
                    # the value itself, or --flag=value (it starts with "-"); inside JSON
                    # only for an object (model.tasks)
                    form = re.compile(r"(--[a-z-]+=)?" + re.escape(value))
                    whole = [arg for arg in hits if form.fullmatch(arg)]
                    assert len(whole) == len(hits) or all(a.startswith("{") for a in hits), hits
                    reached |= {key} if whole else set()
            assert not (workdir / "PWNED").exists()
    # every other key was refused in a line naming it; input.mode is set per run above,
    # and its own hostile value is refused by the schema
    neither = {k for k, _ in KEYS} - reached - set().union(*refused_all.values())
    assert neither == {"input.mode"}
    mode = config_errors(merged(DEFAULT, {"input": {"mode": hostile("input.mode")}}), SCHEMA)
    assert [line.split(":")[0] for line in mode] == ["config input.mode"]


def test_a_target_that_would_run_a_command_is_refused_before_any_job(tmp_path):
    """The probe's case: a further target named like a command substitution becomes a
    folder name; the config check refuses it, with or without a label header."""
    command, env = snakemake_command(
        tmp_path, "-n", "--config", 'attribute={target: [0, "$(touch PWNED)", ../../x]}'
    )
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode != 0 and not (tmp_path / "PWNED").exists()
    lines = done.stderr.strip().splitlines()
    assert "config attribute.target.1: expected a name of letters" in lines[0]
    assert "config attribute.target.2: expected a name of letters" in lines[1]


def test_every_subcommand_help_renders(capsys):
    from seqsal.cli import STAGES, main

    for stage in STAGES:
        with pytest.raises(SystemExit) as exited:
            main([stage, "--help"])
        assert exited.value.code == 0 and f"usage: seqsal {stage}" in capsys.readouterr().out


def test_a_value_that_starts_with_a_dash_is_a_value_to_the_command():
    """A file named ``-x.bed`` or a negative number reaches the stage as its value, not
    as an option argparse does not know."""
    from seqsal.cli import build_parser
    from seqsal.cli.options import flag_arguments

    parser = build_parser()
    for name, value in (("truth", "-x.bed"), ("truth", "-a b.bed")):
        args = parser.parse_args(
            ["tracks", *flag_arguments(name, value), "--out-dir", "o"]
            + [
                f"--{k}=x"
                for k in (
                    "attributions",
                    "regions",
                    "seqlets",
                    "seqlet-motifs",
                    "motifs-tsv",
                    "motifs-meme",
                    "onehot",
                    "fasta",
                )
            ]
        )
        assert args.truth == value

from snakemake.utils import validate

import json
import os
import re
import sys

from seqsal.cli import stage_module
from seqsal.cli.options import config_to_flags
from seqsal.cli.options import flag_arguments as flag  # a CLI option as arguments
from seqsal.intervals import is_interval
from seqsal.io.annotation import annotation_format
from seqsal.config import (
    config_errors,
    early_errors,
    input_errors,
    size_error,
    typed_config,
)

SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
# `--config 'model={prior: {consistency: 0.5}}'` arrives as text: read it as a config file
# would; then one line per problem, naming the key, instead of a schema dump; then fill
# the defaults.
SIZE = size_error(config)  # before anything walks it: a YAML alias bomb expands
if SIZE:
    sys.exit(SIZE)
config.update(typed_config(config, SCHEMA))
PROBLEMS = config_errors(config, SCHEMA)
if PROBLEMS:
    sys.exit("\n".join(PROBLEMS))
validate(config, schema="../schemas/config.schema.yaml")

MODE = config["input"]["mode"]
DEMO = "results/simulate"
INPUT = config["input"]

PROBLEMS += [
    f"config {problem}"
    for problem in input_errors(
        MODE, bed=INPUT["bed"], fasta=INPUT["fasta"], table=INPUT["table"]
    )
]
# the demo's own files (made by the simulate rule) are not used in other modes
DEMO_FILES = {"truth": config, "file": config["variants"]}
for key, section in DEMO_FILES.items():
    if MODE != "simulate" and str(section[key] or "").startswith(DEMO):
        name = "truth" if key == "truth" else f"variants.{key}"
        print(
            f"config {name}: {section[key]} is the demo's; not used in {MODE} mode",
            file=sys.stderr,
        )
        section[key] = None
# a distilled model is compared with its (first) teacher unless told otherwise
if config["model"]["distill"]["teachers"] and not config["evaluate"]["compare_to"]:
    config["evaluate"]["compare_to"] = config["model"]["distill"]["teachers"][0]
# files, the motif database and targets, checked before any job runs
EARLY = config
if MODE == "simulate":
    EARLY = {**config, "truth": None, "variants": {**config["variants"], "file": None}}
PROBLEMS += [f"config {problem}" for problem in early_errors(EARLY)]
if PROBLEMS:
    sys.exit("\n".join(PROBLEMS))


# the input files the regions rule reads (and Snakemake watches), by their keys
SOURCE_KEYS = ("bed", "fasta", "table", "labels", "blacklist", "signal", "signal_minus")


def source_inputs():
    """The files the regions rule reads, by mode."""
    if MODE == "simulate":
        files = {
            "bed": f"{DEMO}/regions.bed",
            "fasta": f"{DEMO}/genome.fa",
            "labels": f"{DEMO}/labels.tsv",
        }
    else:
        files = {k: INPUT[k] for k in SOURCE_KEYS if INPUT[k]}
    if MODE == "library":
        files.pop("bed", None)
    return files


def has_labels():
    return MODE == "simulate" or any(
        (INPUT[k] for k in ("labels", "table", "bed_targets", "negatives", "signal"))
    )


def fasta_path():
    """The reference every stage after regions reads."""
    if MODE == "library":
        return "results/regions/library.fa"
    return source_inputs()["fasta"]


def labels_input(wildcards):
    """Named input for rules that take labels: nothing when there are none."""
    return {"labels": "results/regions/labels.tsv"} if has_labels() else {}


def regions_outputs():
    outputs = {
        "regions": "results/regions/regions.bed",
        "rejected": "results/regions/rejected.tsv",
        "summary": "results/regions/summary.json",
    }
    if has_labels():
        outputs["labels"] = "results/regions/labels.tsv"
    if MODE == "library":
        outputs["library"] = "results/regions/library.fa"
    return outputs


def count_regions(path) -> int:
    """Data lines of a BED file."""
    with open(path) as handle:
        skip = ("#", "track", "browser")
        return sum(1 for line in handle if line.strip() and not line.startswith(skip))


def shard_ids():
    """Shard names: ``shard_size`` regions each, counted once the regions checkpoint is
    done (so a dry run lists the per-shard jobs only after it)."""
    n_regions = count_regions(checkpoints.regions.get().output.regions)
    n_shards = max(1, -(-n_regions // config["shard_size"]))
    return [f"{i:03d}" for i in range(n_shards)]


def shard_files(stage):
    """An input function: every shard of ``stage``."""
    return lambda wildcards: expand(f"results/{stage}/{{shard}}.npz", shard=shard_ids())


def null_shards(wildcards):
    """The seqlet null's shards, when ``seqlets.null_model`` is ``shuffle``."""
    if config["seqlets"]["null_model"] != "shuffle":
        return []
    return shard_files("attribute/null")(wildcards)


def null_fraction(regions):
    """Share of the regions shuffled for the seqlet null: about ``seqlets.null_regions``."""
    return min(1.0, config["seqlets"]["null_regions"] / max(count_regions(regions), 1))


def gpus():
    """GPUs per train/attribute job: one when the config's device is ``cuda`` (the SLURM
    executor turns the ``gpu`` resource into ``--gpus``)."""
    return 1 if config["device"] == "cuda" else 0


def attribute_targets():
    """``attribute.target`` as a list: the first is the one the later stages read."""
    target = config["attribute"]["target"]
    return target if isinstance(target, list) else [target]


def options(stage, exclude=()):
    """The flags of ``seqsal <stage>`` that stand for config keys (its CLI module's
    ``OPTIONS``, typed and defaulted by the schema), from this run's config; ``exclude``
    names those the rule passes from its inputs."""
    keys = stage_module(stage).OPTIONS
    return config_to_flags(config, {k: v for k, v in keys.items() if k not in exclude})


def attribute_run(run):
    """``--method --target`` and the attribute options of one attribution run, as
    arguments: ``""`` (the first method on the first target), ``null/`` (the same on
    shuffled regions, the seqlet null) or a further run's folder, ``<method>/`` or
    ``<method>@<target>/``."""
    methods, targets = config["attribute"]["methods"], attribute_targets()
    method, target = further_runs().get(run.rstrip("/"), (methods[0], targets[0]))
    return ["--method", method, "--target", str(target), *options("attribute")]


def further_runs():
    """``{folder: (method, target)}`` of every attribution after the first: the further
    methods on the first target (folder: the method), then every method on each further
    target (folder: ``<method>@<target>``)."""
    methods, targets = config["attribute"]["methods"], attribute_targets()
    runs = {m: (m, targets[0]) for m in methods[1:]}
    runs.update({f"{m}@{t}": (m, t) for t in targets[1:] for m in methods})
    return runs


def also_options(files):
    """``--also METHOD SHARD...`` per further method, from its shard paths
    (``results/attribute/<method>/<shard>.npz``), as arguments."""
    by_method = {}
    for path in files:
        by_method.setdefault(os.path.basename(os.path.dirname(path)), []).append(
            str(path)
        )
    return [arg for m, paths in by_method.items() for arg in ("--also", m, *paths)]


def run_folders():
    """The ``{run}`` wildcard's values: the first run (``""``), the seqlet null and every
    further run, each folder with its trailing slash."""
    return ["", "null/"] + [f"{run}/" for run in further_runs()]


def method_shard_files():
    """An input function: the attribution shards of every further run."""
    return lambda wildcards: expand(
        "results/attribute/{run}/{shard}.npz",
        run=list(further_runs()),
        shard=shard_ids(),
    )


def method_bigwigs():
    return [f"results/tracks/attribution_{run}.bw" for run in further_runs()]


def optional_tracks():
    """The hypothetical bigWigs, the bedGraph and the gene annotation's copy, when the
    tracks config asks for them."""
    files = []
    if config["tracks"]["hypothetical"]:
        files += [f"results/tracks/hypothetical_{base}.bw" for base in "ACGT"]
    if config["tracks"]["bedgraph"]:
        files.append("results/tracks/attribution.bedGraph")
    if config["tracks"]["annotation"]:
        genes = f"results/tracks/annotation.{annotation_format(config['tracks']['annotation'])}.gz"
        files += [genes, f"{genes}.tbi"]
    return files


VARIANT_OUTPUTS = [
    "results/variants/variants.tsv",
    "results/variants/variants.vcf.gz",
    "results/variants/variants.vcf.gz.tbi",
    "results/variants/rejected.tsv",
    "results/tracks/variant_effects.bed",
]


def variant_inputs():
    """What the tracks and report rules read of the variants stage, when it runs."""
    if not config["variants"]["file"]:
        return {}
    return {
        "variants": "results/variants/variants.tsv",
        "variant_maps": "results/variants/maps.npz",
        "variant_track": "results/tracks/variant_effects.bed",
    }


def train_inputs(wildcards):
    """An input function: the teachers of ``model.distill``, the BED files of
    ``model.prior`` (``NAME:START:END`` intervals need none) and the regions, which
    place them and keep overlapping regions in one split."""
    prior = config["model"]["prior"]
    beds = [
        i
        for side in ("irrelevant", "relevant")
        for i in prior[side]
        if not is_interval(i)
    ]
    inputs = {
        "teachers": config["model"]["distill"]["teachers"],
        "regions": "results/regions/regions.bed",
    }
    if beds:
        inputs["prior_beds"] = beds
    return inputs


def final_outputs(wildcards):
    """An input function: everything a run leaves, every shard included."""
    outputs = [
        "results/regions/regions.bed",
        "results/regions/rejected.tsv",
        "results/train/model.pt",
        "results/train/metrics.json",
        "results/train/curves.png",
        "results/seqlets/seqlets.bed",
        "results/motifs/motifs.meme",
        "results/motifs/motifs.tsv",
        "results/motifs/seqlet_motifs.tsv",
        "results/tracks/attribution.bw",
        "results/tracks/seqlets.bed",
        "results/tracks/seqlets.bed.gz",
        "results/tracks/seqlets.bed.gz.tbi",
        "results/tracks/motif_hits.bed",
        "results/tracks/igv_session.xml",
        "results/evaluate/faithfulness.tsv",
        "results/evaluate/summary.json",
        "results/report/report.html",
    ]
    if config["variants"]["file"]:
        outputs += VARIANT_OUTPUTS
    shards = [shard_files(stage)(wildcards) for stage in ("encode", "attribute")]
    shards.append(method_shard_files()(wildcards))  # a lost shard is redone
    return outputs + sum(shards, []) + method_bigwigs() + optional_tracks()

from snakemake.utils import validate

import os
import shlex

validate(config, schema="../schemas/config.schema.yaml")

MODE = config["input"]["mode"]
SHARDS = [f"{i:03d}" for i in range(config["shards"])]
DEMO = "results/simulate"

if MODE == "genome":
    for key in ("bed", "fasta"):
        if not config["input"][key]:
            raise ValueError(
                f"config input.{key}: expected a path in genome mode, found null"
            )
for key, value in (("input.table", config["input"]["table"]),
                   ("split.group_by", config["split"]["group_by"])):
    if value is not None:
        raise ValueError(
            f"config {key}: expected null (library mode and grouped splits are not "
            f"available yet), found {value!r}"
        )
if MODE != "simulate" and str(config["truth"] or "").startswith(DEMO):
    raise ValueError(
        f"config truth: expected your own BED of known sites or null outside the demo, "
        f"found the demo's {config['truth']}"
    )


def fasta_path():
    return f"{DEMO}/genome.fa" if MODE == "simulate" else config["input"]["fasta"]


def bed_path():
    return f"{DEMO}/regions.bed" if MODE == "simulate" else config["input"]["bed"]


def labels_path():
    return f"{DEMO}/labels.tsv" if MODE == "simulate" else config["input"]["labels"]


def labels_input(wildcards):
    """Named input for rules that take labels: nothing when there are none."""
    return {"labels": labels_path()} if labels_path() else {}


def flag(name, value):
    """A CLI option, or nothing when the value is null/empty; lists become several args."""
    if value is None or value == [] or value is False:
        return ""
    if isinstance(value, list):
        return f"--{name} " + " ".join(shlex.quote(str(v)) for v in value)
    return f"--{name} {shlex.quote(str(value))}"


def shard_files(stage):
    return expand(f"results/{stage}/{{shard}}.npz", shard=SHARDS)


def final_outputs():
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
        "results/tracks/igv_session.xml",
        "results/evaluate/faithfulness.tsv",
        "results/evaluate/summary.json",
        "results/report/report.html",
    ]
    return outputs + shard_files("encode") + shard_files("attribute")

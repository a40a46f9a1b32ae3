"""``seqsal regions``: validate, resize and name the regions; list every row not used."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import InputError
from .options import add_options

HELP = "validate and resize regions; report rejected rows"
STAGE = ("seqsal.regions:build_genome_regions", "seqsal.regions:build_library_regions")  # by mode
OPTIONS = {
    "mode": "input.mode",
    "bed": "input.bed",
    "fasta": "input.fasta",
    "table": "input.table",
    "sequence_column": "input.sequence_column",
    "name_column": "input.name_column",
    "labels": "input.labels",
    "bed_targets": "input.bed_targets",
    "targets": "input.targets",
    "group_by": "split.group_by",
    "split_column": "split.column",
    "width": "input.width",
    "width_policy": "input.width_policy",
    "flank": "input.flank",
    "out_of_bounds": "input.out_of_bounds",
    "negatives": "input.negatives",
    "seed": "seed",
}
READ_BY_CLI = (
    "mode",
    "bed",
    "fasta",
    "table",
    "sequence_column",
    "name_column",
    "labels",
    "bed_targets",
)
READ_BY_CLI += ("targets", "group_by", "split_column")

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal regions``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    add_options(parser, OPTIONS)
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Read the regions (genome mode) or the library, call the stage, write its files.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..io.atomic import write_tsv
    from ..io.bed import write_bed
    from ..io.fasta import write_fasta
    from ..regions import build_genome_regions, build_library_regions

    out, shaping = Path(args.out_dir), _shaping(args)
    if _mode(args) == "library":
        sequences, labels = _read_library(args)
        library, regions, rejected, labels = build_library_regions(
            sequences,
            labels=labels,
            negatives=args.negatives,
            seed=args.seed,
            source=args.table or args.fasta,
            label_source=args.labels,
            **shaping,
        )
        write_fasta(library, out / "library.fa")
    else:
        bed, sizes, labels = _read_genome(args)
        regions, rejected, labels = build_genome_regions(
            bed, sizes, labels=labels, source=args.bed, label_source=args.labels, **shaping
        )
    _require_regions(args, regions, rejected)
    write_bed(regions, out / "regions.bed")
    write_tsv(rejected, out / "rejected.tsv")
    if labels is not None:
        write_tsv(labels.loc[regions["name"]].rename_axis("name").reset_index(), out / "labels.tsv")
    log.info("kept %d regions, rejected %d rows", len(regions), len(rejected))


def _mode(args) -> str:
    """``genome`` or ``library`` (the demo's regions are genome mode), its files checked."""
    from ..config import input_errors

    mode = "genome" if args.mode == "simulate" else args.mode
    problems = input_errors(mode, bed=args.bed, fasta=args.fasta, table=args.table)
    if problems:
        raise InputError(problems[0])
    return mode


def _require_regions(args, regions, rejected) -> None:
    if regions.empty:
        first = rejected["reason"].iloc[0] if len(rejected) else "none"
        raise InputError(
            f"{args.bed or args.table or args.fasta}: expected usable regions, "
            f"found none ({len(rejected)} rejected; first reason: {first})"
        )


def _shaping(args) -> dict:
    keys = ("width", "width_policy", "flank", "out_of_bounds")
    return {key: getattr(args, key) for key in keys}


def _labels(args, path, exclude=()):
    from ..io.tables import read_label_table

    helpers = (args.group_by, args.split_column)
    return read_label_table(
        path, targets=args.targets, exclude=exclude, helpers=helpers, name_column=args.name_column
    )


def _read_genome(args):
    """The BED, the reference's contig sizes, and the label table (or None)."""
    from ..io.bed import read_bed
    from ..io.fasta import contig_sizes, open_fasta

    bed = read_bed(args.bed, label_columns=args.bed_targets or ())
    labels = _labels(args, args.labels) if args.labels and not args.bed_targets else None
    return bed, contig_sizes(open_fasta(args.fasta)), labels


def _read_library(args):
    """The sequences and labels (or None) of a library table or FASTA."""
    from ..io.fasta import read_sequences
    from ..io.tables import read_library_table

    if args.table:
        sequences = read_library_table(
            args.table, sequence_column=args.sequence_column, name_column=args.name_column
        )
        labels = _labels(args, args.table, exclude=[args.sequence_column])
    else:
        sequences = read_sequences(args.fasta)
        labels = _labels(args, args.labels) if args.labels else None
    return sequences, labels

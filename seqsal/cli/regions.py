"""``seqsal regions``: validate, resize and name the regions; list every row not used."""

from __future__ import annotations

import json
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
    "negative_ratio": "input.negative_ratio",
    "blacklist": "input.blacklist",
    "signal": "input.signal",
    "signal_minus": "input.signal_minus",
    "signal_stat": "input.signal_stat",
    "signal_window": "input.signal_window",
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
# genome mode's signal and negatives: read by the CLI, each step a function of its own
READ_BY_CLI += ("negative_ratio", "blacklist", "signal", "signal_minus", "signal_stat")
READ_BY_CLI += ("signal_window",)

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
    from ..io.atomic import write_text, write_tsv
    from ..io.bed import write_bed
    from ..io.fasta import write_fasta
    from ..regions import build_library_regions

    out, shaping, summary = Path(args.out_dir), _shaping(args), {}
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
        regions, rejected, labels, summary = _genome(args, shaping)
    _require_regions(args, regions, rejected)
    write_bed(regions, out / "regions.bed")
    write_tsv(rejected, out / "rejected.tsv")
    if labels is not None:
        write_tsv(labels.loc[regions["name"]].rename_axis("name").reset_index(), out / "labels.tsv")
    summary = {"n_regions": len(regions), "n_rejected": len(rejected), **summary}
    summary["targets"] = [] if labels is None else [str(c) for c in labels.columns]
    write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")
    log.info("kept %d regions, rejected %d rows", len(regions), len(rejected))


def _genome(args, shaping) -> tuple:
    """Genome mode: the BED's regions, then the GC-matched negatives and the signal
    labels where asked for; the regions, rejected rows, labels and what was done."""
    import pandas as pd

    from ..io.fasta import contig_sizes
    from ..regions import build_genome_regions

    bed, fasta, labels = _read_genome(args)
    sizes, summary = contig_sizes(fasta), {}
    tracks = _signal_tracks(args, sizes)
    bed, untracked = _on_tracked_contigs(args, bed, tracks)
    regions, rejected, labels = build_genome_regions(
        bed, sizes, labels=labels, source=args.bed, label_source=args.labels, **shaping
    )
    rejected = pd.concat([untracked, rejected]).sort_values(["source", "line"], kind="stable")
    if args.negatives == "gc_matched" and len(regions):  # none: said next, in one line
        regions, labels, summary["negatives"] = _gc_negatives(args, regions, fasta, sizes, tracks)
    if tracks:
        targets, summary["signal"] = _signal_labels(args, regions, tracks, sizes)
        labels = targets if labels is None else _with_signal(labels, targets, args)
    return regions, rejected.reset_index(drop=True), labels, summary


def _with_signal(labels, targets, args):
    """The table's (or the BED's) labels of the regions kept, then the signal's."""
    clash = sorted(set(labels.columns) & set(targets.columns))
    if clash:
        source = args.labels or args.bed
        raise InputError(
            f"input.signal: expected target names other than the labels' ({source}), found "
            f"{', '.join(clash)} in both: rename the track file"
        )
    return labels.reindex(targets.index).join(targets)


def _mode(args) -> str:
    """``genome`` or ``library`` (the demo's regions are genome mode), its files checked."""
    from ..inputs import input_errors, label_errors

    mode = "genome" if args.mode == "simulate" else args.mode
    problems = input_errors(mode, bed=args.bed, fasta=args.fasta, table=args.table)
    keys = ("labels", "table", "bed_targets", "signal", "signal_minus", "negatives")
    problems += label_errors(mode, checkpoint=True, **{k: getattr(args, k) for k in keys})
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
    """The BED, the open reference, and the label table (or None)."""
    from ..io.bed import read_bed
    from ..io.fasta import open_fasta

    bed = read_bed(args.bed, label_columns=args.bed_targets or ())
    labels = _labels(args, args.labels) if args.labels and not args.bed_targets else None
    return bed, open_fasta(args.fasta), labels


def _signal_tracks(args, sizes) -> dict:
    """``{target: (plus path, minus path or None, contigs or None)}`` of ``input.signal``;
    every file checked against the reference now, before any region is read in it."""
    import pandas as pd

    from ..io.signal import signal_contigs
    from ..regions import track_name, unique_names

    paths = list(args.signal or [])
    minus = list(args.signal_minus or [None] * len(paths))
    names = unique_names(pd.Series([track_name(p) for p in paths], dtype=str)).tolist()
    tracks = {}
    for name, plus, other in zip(names, paths, minus):
        covered = [signal_contigs(path, sizes) for path in (plus, other) if path]
        known = [c for c in covered if c is not None]
        tracks[name] = (plus, other, set.intersection(*known) if known else None)
    return tracks


def _on_tracked_contigs(args, bed, tracks) -> tuple:
    """The BED rows on contigs every bigWig covers, and a rejected row for each other."""
    import pandas as pd

    from ..io.bed import REJECTED_COLUMNS

    off = pd.Series(False, index=bed.index)
    reasons = pd.Series("", index=bed.index)
    for plus, minus, contigs in tracks.values():
        if contigs is not None:
            missing = ~bed["chrom"].isin(contigs) & ~off
            reasons[missing] = f"contig not in signal track {minus or plus}"
            off |= missing
    rejected = bed[off].assign(source=args.bed, reason=reasons[off])[REJECTED_COLUMNS]
    return bed[~off].reset_index(drop=True), rejected


def _gc_negatives(args, regions, fasta, sizes, tracks) -> tuple:
    """The regions and GC-matched negatives, sorted, with ``bound`` labels (none with
    signal, which labels both), and the match's figures (logged)."""
    import numpy as np
    import pandas as pd

    from ..io.bed import read_bed, sort_bed
    from ..io.fasta import read_contig
    from ..negatives import gc_matched_negatives

    for _, _, contigs in tracks.values():  # negatives where every track has data
        sizes = {c: n for c, n in sizes.items() if contigs is None or c in contigs}
    blacklist = read_bed(args.blacklist) if args.blacklist else None
    negatives, stats = gc_matched_negatives(
        regions,
        sizes,
        lambda chrom: read_contig(fasta, chrom),
        ratio=args.negative_ratio,
        blacklist=blacklist,
        seed=args.seed,
    )
    log.info(
        "%d GC-matched negatives from %d candidate windows: mean GC %.3f (regions %.3f), "
        "Kolmogorov-Smirnov statistic %.3f",
        stats["n_negatives"],
        stats["n_candidates"],
        stats["gc_negatives"] or 0,
        stats["gc_positives"] or 0,
        stats["gc_ks"] or 0,
    )
    labels = pd.DataFrame(
        {"bound": np.r_[np.ones(len(regions)), np.zeros(len(negatives))].astype(np.float32)},
        index=[*regions["name"], *negatives["name"]],
    )
    both = sort_bed(pd.concat([regions, negatives], ignore_index=True))
    return both, None if tracks else labels, stats


def _signal_labels(args, regions, tracks, sizes) -> tuple:
    """One target per signal track, indexed by region name, and what was summed."""
    from ..io.signal import signal_sums
    from ..regions import signal_targets, signal_windows

    window = args.signal_window or args.width
    windows = signal_windows(regions, sizes, window)
    sums = {}
    for name, (plus, minus, _) in tracks.items():
        sums[name] = tuple(
            None if p is None else signal_sums(p, windows, sizes)[0] for p in (plus, minus)
        )
        log.info("%s: signal summed over %d windows of %d bp", plus, len(windows), window)
    targets = signal_targets(sums, regions["strand"], stat=args.signal_stat, window=window)
    targets.index = regions["name"].to_numpy()
    files = {name: [p for p in (plus, minus) if p] for name, (plus, minus, _) in tracks.items()}
    return targets, {"files": files, "stat": args.signal_stat, "window": window}


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

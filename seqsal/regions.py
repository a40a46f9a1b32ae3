"""Validate, resize and name regions; report every input row that is not used.

Two inputs lead to the same ``regions.bed``: genomic regions on a reference (genome
mode), or a library of sequences (library mode), where each sequence becomes a contig of
a library FASTA written by this stage, so that every later stage works unchanged.

Width policy: ``center`` (default) takes ``width`` bases around each region's center (a
narrowPeak's summit when given); a window that runs past its contig is rejected. ``pad``
keeps regions no longer than ``width`` and rejects longer ones; in library mode shorter
sequences are padded with ``N`` on both sides. ``flank`` adds context on both sides.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .encode import dinucleotide_shuffle
from .errors import InputError
from .io.bed import BED_COLUMNS, REJECTED_COLUMNS, sort_bed

POLICIES = ("center", "pad")
log = logging.getLogger("seqsal")
PAD_COLUMNS = ["pad_left", "pad_right"]


def _unreadable(names) -> np.ndarray:
    """Which names hold a character other than printable ASCII: BED readers (bedtools
    refuses a non-ASCII name) and genome browsers cannot take them."""
    names = pd.Series(names, dtype=object).astype(str)
    return ~names.str.fullmatch(r"[ -~]+").to_numpy(bool)


def _unreadable_reason(kind: str, name: str) -> str:
    return f"{kind} {name!r} is not printable ASCII, which BED readers refuse; rename it"


def _suggest_contig(chrom: str, sizes: dict) -> str:
    if chrom.startswith("chr") and chrom[3:] in sizes:
        return f"; did you mean {chrom[3:]!r} (drop the 'chr' prefix)?"
    if "chr" + chrom in sizes:
        return f"; did you mean {'chr' + chrom!r} (add the 'chr' prefix)?"
    return ""


def resize_regions(regions: pd.DataFrame, *, width: int) -> pd.DataFrame:
    """Return a copy of ``regions`` resized to ``width`` bases around each center.

    The center is the ``summit`` column where it is >= 0, else the interval's midpoint.

    Parameters
    ----------
    regions : pandas.DataFrame
    width : int

    Returns
    -------
    regions : pandas.DataFrame
    """
    resized = regions.copy()
    center = (regions["start"] + regions["end"]) // 2
    if "summit" in regions:
        center = center.where(regions["summit"] < 0, regions["summit"])
    resized["start"] = center - width // 2
    resized["end"] = resized["start"] + width
    return resized


def prepare_regions(
    bed: pd.DataFrame,
    sizes: dict,
    *,
    width: int = 200,
    policy: str = "center",
    flank: int = 0,
    out_of_bounds: str = "reject",
    labels: pd.DataFrame | None = None,
    source: str = "bed",
    label_source: str = "labels",
):
    """Check regions against the reference, resize them and match them to labels.

    Parameters
    ----------
    bed : pandas.DataFrame
        As returned by :func:`seqsal.io.read_bed` (with its ``line`` column).
    sizes : dict
        ``{contig: length}`` of the reference.
    width : int, optional
        Bases per region after resizing. Default is 200.
    policy : str, optional
        ``center`` or ``pad`` (see the module docstring). Default is "center".
    flank : int, optional
        Extra bases of context on each side. Default is 0.
    out_of_bounds : str, optional
        A window that runs past its contig's end is ``reject``-ed, or clipped to the
        contig and ``pad``-ded with N (the ``pad_left``/``pad_right`` columns say how
        many N the encoder adds before and after it, on the + strand). Default is "reject".
    labels : pandas.DataFrame or None, optional
        Label table indexed by name (:func:`seqsal.io.read_labels`). Default is None.
    source, label_source : str, optional
        File names used in messages and in ``rejected``. Defaults are "bed", "labels".

    Returns
    -------
    regions : pandas.DataFrame
        BED6 + ``pad_left, pad_right`` of the regions kept, in input order, with unique
        names.
    rejected : pandas.DataFrame
        Columns ``source, line, name, reason``: every input row not used.

    Raises
    ------
    InputError
        When a chromosome is absent from the reference.
    """
    _validate_policy(policy, width, flank, out_of_bounds)
    missing = ~bed["chrom"].isin(list(sizes))
    if missing.any():
        row = bed[missing].iloc[0]
        raise InputError(
            f"{source}, line {row['line']}: expected a chromosome of the FASTA index "
            f"({', '.join(list(sizes)[:5])}{', ...' if len(sizes) > 5 else ''}), found "
            f"{row['chrom']!r}{_suggest_contig(row['chrom'], sizes)}"
        )
    regions = resize_regions(bed, width=width + 2 * flank)
    regions["name"] = unique_names(regions["name"])
    rejected = []
    if policy == "pad":
        longer = (bed["end"] - bed["start"]) > width
        for row in bed[longer].itertuples():
            rejected.append(
                (
                    source,
                    row.line,
                    row.name,
                    f"region of {row.end - row.start} bp is longer than width {width}",
                )
            )
    else:
        longer = pd.Series(False, index=bed.index)
    lengths = regions["chrom"].map(sizes)
    regions["pad_left"] = (-regions["start"]).clip(lower=0)
    regions["pad_right"] = (regions["end"] - lengths).clip(lower=0)
    outside = ((regions["pad_left"] > 0) | (regions["pad_right"] > 0)) & ~longer
    if out_of_bounds == "pad":
        regions["start"] = regions["start"].clip(lower=0)
        regions["end"] = np.minimum(regions["end"], lengths)
        outside &= regions["end"] <= regions["start"]  # nothing of the contig is left
    for row, length in zip(regions[outside].itertuples(), lengths[outside]):
        rejected.append(
            (
                source,
                row.line,
                row.name,
                f"window {row.chrom}:{row.start}-{row.end} runs past the contig end (0-{length})",
            )
        )
    keep = ~(outside | longer).to_numpy()
    for kind in ("chrom", "name"):
        unreadable = _unreadable(regions[kind]) & keep
        for row in regions[unreadable].itertuples():
            label = "contig" if kind == "chrom" else "name"
            reason = _unreadable_reason(label, getattr(row, kind))
            rejected.append((source, row.line, row.name, reason))
        keep &= ~unreadable
    if labels is not None:
        keep &= _match_labels(regions, labels, keep, source, label_source, rejected)
    kept = regions[keep].reset_index(drop=True)
    rejected = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    return kept[BED_COLUMNS + PAD_COLUMNS], rejected.sort_values(["source", "line"], kind="stable")


def prepare_library(
    sequences: dict,
    *,
    width: int = 200,
    policy: str = "center",
    flank: int = 0,
    out_of_bounds: str = "reject",
    labels: pd.DataFrame | None = None,
    source: str = "library",
    label_source: str = "labels",
):
    """Turn a sequence library into regions on a library FASTA.

    Parameters
    ----------
    sequences : dict
        ``{name: sequence}``, in file order (line numbers in ``rejected`` count records).
    width, policy, flank, out_of_bounds, labels, source, label_source
        As in :func:`prepare_regions`; a sequence shorter than the window is padded with
        N in the library FASTA under ``width_policy: pad`` or ``out_of_bounds: pad``.

    Returns
    -------
    library : dict
        ``{name: sequence}`` to write as the reference: the sequences, N-padded to the
        window where the policy pads.
    regions : pandas.DataFrame
        BED6 + ``pad_left, pad_right`` (zeros), one region per sequence kept, on the
        contig of the same name, strand ``+``.
    rejected : pandas.DataFrame
        Columns ``source, line, name, reason``.
    """
    _validate_policy(policy, width, flank, out_of_bounds)
    window = width + 2 * flank
    library, rows, rejected = {}, [], []
    unreadable = _unreadable(list(sequences))
    for record, (name, sequence) in enumerate(sequences.items(), start=1):
        length = len(sequence)
        if unreadable[record - 1]:
            rejected.append((source, record, name, _unreadable_reason("name", name)))
        elif length == 0:
            rejected.append((source, record, name, "empty sequence"))
        elif policy == "pad" and length > width + 2 * flank:
            rejected.append(
                (source, record, name, f"sequence of {length} bp is longer than width {width}")
            )
        elif policy == "center" and length < window and out_of_bounds == "reject":
            rejected.append(
                (
                    source,
                    record,
                    name,
                    f"sequence of {length} bp is shorter than "
                    f"the window of {window} bp (use width_policy: pad)",
                )
            )
        else:
            pad = max(0, window - length)
            library[name] = "N" * (pad // 2) + sequence + "N" * (pad - pad // 2)
            start = (len(library[name]) - window) // 2
            rows.append((name, start, start + window, name, 0, "+", record))
    regions = pd.DataFrame(rows, columns=BED_COLUMNS + ["line"])
    keep = np.ones(len(regions), dtype=bool)
    if labels is not None:
        names = list(sequences)
        keep &= _match_labels(regions, labels, keep, source, label_source, rejected, names)
    rejected = pd.DataFrame(rejected, columns=REJECTED_COLUMNS).sort_values(
        ["source", "line"], kind="stable"
    )
    regions = regions[keep].reset_index(drop=True)
    regions[PAD_COLUMNS] = 0  # library sequences are padded in the library FASTA itself
    library = {name: library[name] for name in regions["name"]}
    return library, regions[BED_COLUMNS + PAD_COLUMNS], rejected


def add_shuffled_negatives(sequences: dict, *, seed: int = 0):
    """Add a dinucleotide-shuffled copy of each sequence as a negative.

    Parameters
    ----------
    sequences : dict
        ``{name: sequence}``.
    seed : int, optional
        Seed of the shuffles. Default is 0.

    Returns
    -------
    sequences : dict
        The sequences, then ``{name}_shuffled`` copies (upper case), in the same order.
    labels : pandas.DataFrame
        Indexed by name, one column ``bound``: 1 for a sequence, 0 for its shuffle.
    """
    rng = np.random.default_rng(seed)
    shuffled = {
        f"{name}_shuffled": dinucleotide_shuffle(seq.upper(), rng=rng)
        for name, seq in sequences.items()
    }
    labels = pd.DataFrame(
        {"bound": [1.0] * len(sequences) + [0.0] * len(shuffled)}, index=[*sequences, *shuffled]
    )
    return {**sequences, **shuffled}, labels


def _validate_policy(policy: str, width: int, flank: int, out_of_bounds: str) -> None:
    if policy not in POLICIES:
        raise InputError(f"input.width_policy: expected one of {POLICIES}, found {policy!r}")
    if out_of_bounds not in ("reject", "pad"):
        raise InputError(
            f"input.out_of_bounds: expected 'reject' or 'pad', found {out_of_bounds!r}"
        )
    if width < 1 or flank < 0:
        raise InputError(
            f"input.width, input.flank: expected width >= 1 and flank >= 0, "
            f"found {width} and {flank}"
        )


def _match_labels(regions, labels, keep, source, label_source, rejected, names=None):
    """Which regions have every label; adds a rejected row for each one that does not,
    and for each labelled name that is not among ``names`` (the input's; default: the
    regions'), so that a row rejected for itself is not reported again by its label."""
    values = labels.reindex(regions["name"])
    has_row = regions["name"].isin(labels.index).to_numpy()
    missing = values.isna().to_numpy()
    numbers = values.select_dtypes("number")  # the targets (split helpers are text)
    infinite = pd.DataFrame(False, index=values.index, columns=values.columns)
    infinite[numbers.columns] = np.isinf(numbers.to_numpy(float))
    complete = ~(missing | infinite.to_numpy()).any(axis=1)
    for i, row in enumerate(regions.itertuples()):
        if not keep[i]:
            continue
        if not has_row[i]:
            rejected.append((source, row.line, row.name, f"no label in {label_source}"))
        elif missing[i].any():
            empty = ", ".join(values.columns[missing[i]])
            rejected.append(
                (source, row.line, row.name, f"label {empty} missing in {label_source}")
            )
        elif not complete[i]:
            bad = infinite.iloc[i].to_numpy()
            found = ", ".join(f"{c}={values.iloc[i][c]}" for c in values.columns[bad])
            reason = f"label not a finite number in {label_source}: {found}"
            rejected.append((source, row.line, row.name, reason))
    lines = {name: i + 2 for i, name in enumerate(labels.index)}
    names = regions["name"] if names is None else names
    for name in labels.index[~labels.index.isin(names)]:
        rejected.append((label_source, lines[name], name, f"name not in {source}"))
    return complete


def unique_names(names: pd.Series) -> pd.Series:
    """Suffix repeated names with ``_2``, ``_3`` ... so every region's name is unique.

    Parameters
    ----------
    names : pandas.Series of str

    Returns
    -------
    names : pandas.Series of str
    """
    counts = names.groupby(names).cumcount().to_numpy()
    suffix = np.where(counts > 0, "_" + (counts + 1).astype(str), "")
    return names.str.cat(pd.Series(suffix, index=names.index))


def build_genome_regions(
    bed: pd.DataFrame,
    sizes: dict,
    *,
    labels: pd.DataFrame | None = None,
    width: int = 200,
    width_policy: str = "center",
    flank: int = 0,
    out_of_bounds: str = "reject",
    source: str = "bed",
    label_source: str | None = None,
):
    """The regions stage in genome mode: name, check, resize and label BED regions.

    Parameters
    ----------
    bed : pandas.DataFrame
        As returned by :func:`seqsal.io.bed.read_bed`; columns after ``line`` are labels
        read from the BED (``input.bed_targets``), used when ``labels`` is None.
    sizes : dict
        ``{contig: length}`` of the reference.
    labels : pandas.DataFrame or None, optional
        Labels indexed by region name. Default is None: the BED's label columns, if any.
    width, width_policy, flank, out_of_bounds
        As in :func:`prepare_regions` (``width_policy`` is its ``policy``).
    source : str, optional
        The BED's path, named in ``rejected.tsv`` and in errors. Default is "bed".
    label_source : str or None, optional
        The labels' path. Default is None: ``source``.

    Returns
    -------
    regions : pandas.DataFrame
        BED6 + ``pad_left``, ``pad_right`` of the regions kept, sorted as ``bedtools
        sort`` sorts (:func:`seqsal.io.bed.sort_bed`).
    rejected : pandas.DataFrame
        Every row not used, with its reason (:data:`~seqsal.io.bed.REJECTED_COLUMNS`).
    labels : pandas.DataFrame or None
        The labels the regions were matched against.
    """
    names = unique_names(bed["name"])
    renamed = bed["name"] != names
    if renamed.any():
        log.warning(
            "%s: %d duplicate region names made unique (first: %r on line %d)",
            source,
            renamed.sum(),
            bed["name"][renamed].iloc[0],
            bed["line"][renamed].iloc[0],
        )
        bed = bed.assign(name=names)
    if labels is None and len(bed.columns) > 8:  # by position: column 5 is named score twice
        labels = bed.iloc[:, 8:].set_axis(bed["name"].to_numpy())
    regions, rejected = prepare_regions(
        bed,
        sizes,
        width=width,
        policy=width_policy,
        flank=flank,
        out_of_bounds=out_of_bounds,
        labels=labels,
        source=source,
        label_source=label_source or source,
    )
    return sort_bed(regions), rejected, labels


def build_library_regions(
    sequences: dict,
    *,
    labels: pd.DataFrame | None = None,
    negatives: str | None = None,
    width: int = 200,
    width_policy: str = "center",
    flank: int = 0,
    out_of_bounds: str = "reject",
    seed: int = 0,
    source: str = "library",
    label_source: str | None = None,
):
    """The regions stage in library mode: each sequence a contig of a library FASTA.

    Parameters
    ----------
    sequences : dict
        ``{name: sequence}`` in file order.
    labels : pandas.DataFrame or None, optional
        Labels indexed by sequence name. Default is None.
    negatives : str or None, optional
        ``dinucleotide_shuffle``: add a shuffled copy of each sequence and the target
        ``bound`` (1 for a sequence, 0 for its shuffle); needs ``labels`` None. Default
        is None.
    width, width_policy, flank, out_of_bounds
        As in :func:`prepare_library` (``width_policy`` is its ``policy``).
    seed : int, optional
        Seed of the shuffled negatives. Default is 0.
    source : str, optional
        The library's path, named in ``rejected.tsv`` and in errors. Default is "library".
    label_source : str or None, optional
        The labels' path. Default is None: ``source``.

    Returns
    -------
    library : dict
        ``{contig: sequence}`` of the library FASTA.
    regions, rejected : pandas.DataFrame
        As from :func:`build_genome_regions`.
    labels : pandas.DataFrame or None
        The labels, with ``bound`` when ``negatives`` made them.
    """
    if negatives:
        if labels is not None:
            raise InputError(
                "input.negatives: expected no labels (seqsal makes them: bound = 1 "
                "for each sequence, 0 for its shuffled copy), found labels"
            )
        sequences, labels = add_shuffled_negatives(sequences, seed=seed)
    library, regions, rejected = prepare_library(
        sequences,
        width=width,
        policy=width_policy,
        flank=flank,
        out_of_bounds=out_of_bounds,
        labels=labels,
        source=source,
        label_source=label_source or source,
    )
    return library, sort_bed(regions), rejected, labels


SIGNAL_STATS = ("log1p_sum", "sum", "mean")
TRACK_SUFFIXES = (".gz", ".bw", ".bigwig", ".bedgraph", ".bg", ".bdg")


def track_name(path) -> str:
    """A signal file's target name: its file name without the track's suffixes.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    name : str
    """
    from pathlib import Path

    name = Path(path).name
    while name.lower().endswith(TRACK_SUFFIXES) and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def signal_windows(regions: pd.DataFrame, sizes: dict, window: int) -> pd.DataFrame:
    """The central ``window`` bases of each region's whole window (its N padding
    included, so a clipped window keeps its centre), clipped to the contig.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``regions.bed``'s columns.
    sizes : dict
    window : int

    Returns
    -------
    windows : pandas.DataFrame
        ``chrom, start, end``.
    """
    centre = (regions["start"] - regions["pad_left"] + regions["end"] + regions["pad_right"]) // 2
    start = centre - window // 2
    lengths = regions["chrom"].map(sizes)
    return pd.DataFrame(
        {
            "chrom": regions["chrom"],
            "start": start.clip(lower=0),
            "end": np.minimum(start + window, lengths),
        }
    )


def signal_targets(sums: dict, strands, *, stat: str = "log1p_sum", window: int) -> pd.DataFrame:
    """Targets from signal summed over each region's window.

    Parameters
    ----------
    sums : dict
        ``{target: (plus, minus)}``: each a float array (n,) of window sums; ``minus`` is
        None for an unstranded track.
    strands : array-like of str, shape=(n,)
        Each region's strand: ``-`` takes the minus track's sum, ``+`` the plus track's,
        ``.`` both.
    stat : str, optional
        ``log1p_sum``, ``sum`` or ``mean`` (the sum over ``window``). Default is
        "log1p_sum".
    window : int
        Bases summed.

    Returns
    -------
    targets : pandas.DataFrame
        One column per target, rows in the regions' order.

    Raises
    ------
    InputError
        ``log1p_sum`` of a track with negative sums (a log-ratio track, not counts).
    """
    if stat not in SIGNAL_STATS:
        raise InputError(f"input.signal_stat: expected one of {SIGNAL_STATS}, found {stat!r}")
    strands = np.asarray(strands, dtype=str)
    columns = {}
    for name, (plus, minus) in sums.items():
        total = plus
        if minus is not None:
            total = np.where(strands == "-", minus, np.where(strands == "+", plus, plus + minus))
        if stat == "log1p_sum":
            if (total < 0).any():
                raise InputError(
                    f"input.signal_stat: expected counts (sums >= 0) for log1p_sum, found a "
                    f"sum of {total.min():.3g} in track {name}: set input.signal_stat: mean "
                    f"or sum for a signed track"
                )
            total = np.log1p(total)
        elif stat == "mean":
            total = total / window
        columns[name] = total.astype(np.float32)
    return pd.DataFrame(columns)

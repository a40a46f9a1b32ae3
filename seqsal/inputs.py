"""What a run reads, checked before it is read: the files each input mode needs, where
its labels come from, and whether its sequences act in the orientation given."""

from __future__ import annotations

import re


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


def label_errors(
    mode: str,
    *,
    labels=None,
    table=None,
    bed_targets=None,
    signal=None,
    signal_minus=None,
    negatives=None,
    checkpoint=None,
) -> list:
    """What is wrong with where the labels come from, as ``key: expected ..., found ...``:
    keys that do not go together or with the mode, and (given the checkpoint key) a run
    that would have nothing to train on.

    Parameters
    ----------
    mode : str
        ``input.mode``.
    labels, table, bed_targets, signal, signal_minus, negatives : optional
        The ``input.*`` keys of those names.
    checkpoint : str, bool or None, optional
        ``model.checkpoint``, or True where training is not this caller's concern.
        Default is None: a model is to be trained.

    Returns
    -------
    errors : list of str
    """
    errors = []
    if signal and mode != "genome":
        errors.append(f"input.signal: expected genome mode (tracks on a reference), found {mode}")
    if signal_minus and len(signal_minus) != len(signal or []):
        errors.append(
            f"input.signal_minus: expected one minus-strand track per input.signal file "
            f"({len(signal or [])}), found {len(signal_minus)}"
        )
    kinds = {"dinucleotide_shuffle": "library", "gc_matched": "genome"}
    if negatives and mode != "simulate" and kinds[negatives] != mode:
        other = "gc_matched" if mode == "genome" else "dinucleotide_shuffle"
        errors.append(
            f"input.negatives: expected {other} in {mode} mode, found {negatives} (for "
            f"{kinds[negatives]} mode)"
        )
    if negatives and (labels or bed_targets or (table and mode == "library")):
        errors.append(
            f"input.negatives: expected no labels of the regions' own with {negatives} (the "
            "negatives have no value in them), found input.labels, input.bed_targets or a "
            "table's label columns; labels a negative can have come from input.signal"
        )
    if mode != "simulate" and not checkpoint and not (labels or table or bed_targets or signal):
        if not negatives:
            errors.append(
                f"input: expected labels to train on, found none in {mode} mode: set "
                + (
                    "input.signal (bigWig or bedGraph tracks), input.labels (a table), "
                    "input.bed_targets (BED columns) or input.negatives: gc_matched (the "
                    "regions against GC-matched background)"
                    if mode == "genome"
                    else "input.labels (a table) or input.negatives: dinucleotide_shuffle"
                )
                + ", or model.checkpoint to explain a trained model"
            )
    return errors


# a sequence named by where it lies on a genome (bedtools getfasta: chr1:100-200 or
# chr1:100-200(+)), or the shuffled copy of one (input.negatives)
GENOMIC_NAME = re.compile(r"^[^\s:]+:\d+-\d+(\([+.-]\))?(_shuffled)?$")


def is_oriented(oriented, mode: str, names=None) -> bool:
    """Whether the sequences act in the orientation given (``input.oriented``).

    Parameters
    ----------
    oriented : bool or None
        ``input.oriented``; None follows the data's origin.
    mode : str
        ``input.mode``: library constructs (MPRA, STARR-seq) are oriented, genomic
        regions (and the demo's) are not.
    names : sequence of str or None, optional
        The library's sequence names: a library whose names are mostly genome coordinates
        (:func:`genomic_names`) was cut from a genome (peaks), and is not oriented.
        Default is None: the mode alone decides.

    Returns
    -------
    oriented : bool
    """
    if oriented is not None:
        return bool(oriented)
    return mode == "library" and not (names is not None and genomic_names(names))


def genomic_names(names) -> bool:
    """Whether most names (at least half) are genome coordinates (:data:`GENOMIC_NAME`).

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    genomic : bool
    """
    names = list(names)
    return bool(names) and 2 * sum(bool(GENOMIC_NAME.match(str(n))) for n in names) >= len(names)

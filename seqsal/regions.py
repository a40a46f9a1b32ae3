"""Validate, resize and name regions; report every input row that is not used."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .io import BED_COLUMNS, REJECTED_COLUMNS, InputError


def _suggest_contig(chrom: str, sizes: dict) -> str:
    if chrom.startswith("chr") and chrom[3:] in sizes:
        return f"; did you mean {chrom[3:]!r} (drop the 'chr' prefix)?"
    if "chr" + chrom in sizes:
        return f"; did you mean {'chr' + chrom!r} (add the 'chr' prefix)?"
    return ""


def resize_regions(regions: pd.DataFrame, *, width: int) -> pd.DataFrame:
    """Return a copy of ``regions`` resized to ``width`` bases around each center."""
    resized = regions.copy()
    center = (regions["start"] + regions["end"]) // 2
    resized["start"] = center - width // 2
    resized["end"] = resized["start"] + width
    return resized


def prepare_regions(
    bed: pd.DataFrame,
    sizes: dict,
    *,
    width: int = 200,
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
        Bases per region after resizing around the center. Default is 200.
    labels : pandas.DataFrame or None, optional
        Label table indexed by name (:func:`seqsal.io.read_labels`). Default is None.
    source, label_source : str, optional
        File names used in messages and in ``rejected``. Defaults are "bed", "labels".

    Returns
    -------
    regions : pandas.DataFrame
        BED6 of the regions kept, in input order, with unique names.
    rejected : pandas.DataFrame
        Columns ``source, line, name, reason``: every input row not used.

    Raises
    ------
    InputError
        When a chromosome is absent from the reference.
    """
    missing = ~bed["chrom"].isin(list(sizes))
    if missing.any():
        row = bed[missing].iloc[0]
        raise InputError(
            f"{source}, line {row['line']}: expected a chromosome of the FASTA index "
            f"({', '.join(list(sizes)[:5])}{', ...' if len(sizes) > 5 else ''}), found "
            f"{row['chrom']!r}{_suggest_contig(row['chrom'], sizes)}"
        )
    regions = resize_regions(bed, width=width)
    regions["name"] = _unique_names(regions["name"])
    rejected = []
    lengths = regions["chrom"].map(sizes)
    outside = (regions["start"] < 0) | (regions["end"] > lengths)
    for row, length in zip(regions[outside].itertuples(), lengths[outside]):
        rejected.append(
            (
                source,
                row.line,
                row.name,
                f"window {row.chrom}:{row.start}-{row.end} runs past the contig end (0-{length})",
            )
        )
    keep = ~outside.to_numpy()
    if labels is not None:
        rejected += _match_labels(regions, labels, keep, source, label_source)
        known = labels.reindex(regions["name"]).notna().all(axis=1).to_numpy()
        keep &= known
        lines = {name: i + 2 for i, name in enumerate(labels.index)}
        for name in labels.index[~labels.index.isin(regions["name"])]:
            rejected.append((label_source, lines[name], name, f"name not in {source}"))
    kept = regions[keep].reset_index(drop=True)
    rejected = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    return kept[BED_COLUMNS], rejected.sort_values(["source", "line"], kind="stable")


def _match_labels(regions, labels, keep, source, label_source) -> list:
    """Rejected rows for kept regions that have no label or a missing label value."""
    values = labels.reindex(regions["name"])
    rows = []
    for row, has_row, value in zip(
        regions.itertuples(), regions["name"].isin(labels.index), values.itertuples(index=False)
    ):
        if not keep[row.Index]:
            continue
        if not has_row:
            rows.append((source, row.line, row.name, f"no label in {label_source}"))
        elif any(pd.isna(v) for v in value):
            empty = ", ".join(c for c, v in zip(labels.columns, value) if pd.isna(v))
            rows.append((source, row.line, row.name, f"label {empty} missing in {label_source}"))
    return rows


def _unique_names(names: pd.Series) -> pd.Series:
    """Suffix repeated names with ``_2``, ``_3`` ... so every region's name is unique."""
    counts = names.groupby(names).cumcount().to_numpy()
    suffix = np.where(counts > 0, "_" + (counts + 1).astype(str), "")
    return names.str.cat(pd.Series(suffix, index=names.index))

"""BED files: the user's regions (BED3/BED6/narrowPeak, validated line by line), seqsal's
own ``regions.bed`` (read whole or one shard), seqlet tables, and the BED, bedGraph and
tabix files written for genome browsers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import NO_QUOTES, write_text
from .text import text_lines

BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]
PAD_COLUMNS = ["pad_left", "pad_right"]  # N added before/after a region clipped at a contig end
REJECTED_COLUMNS = ["source", "line", "name", "reason"]
# seqlets.bed: BED6, then the region, attribution sum, p-value and q-value
SEQLET_COLUMNS = [
    "chrom",
    "start",
    "end",
    "name",
    "score",
    "strand",
    "region",
    "attr_sum",
    "p_value",
    "q_value",
]


def _bed_fields(path):
    """Yield ``(line number, fields)`` for each data line of a BED file."""
    for number, raw in text_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        yield number, line.rstrip("\t").split("\t")


def _parse_int(value: str, *, path, number: int, column: str) -> int:
    try:
        parsed = int(value)
    except ValueError:
        raise InputError(
            f"{path}, line {number}: expected an integer {column}, found {value!r}"
        ) from None
    if parsed < 0:
        raise InputError(f"{path}, line {number}: expected {column} >= 0, found {parsed}")
    return parsed


NARROWPEAK_NAMES = {5: "score", 7: "signalValue", 8: "pValue", 9: "qValue"}


def _parse_float(value: str, *, path, number: int, column: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(
            f"{path}, line {number}, column {column}: expected a number, found {value!r}"
        ) from None


def read_bed(path, *, label_columns=()) -> pd.DataFrame:
    """Read a BED3/BED6/narrowPeak file into a validated DataFrame.

    Comment, ``track`` and ``browser`` lines and blank lines are skipped; Windows line
    endings and trailing tabs are accepted. A missing name becomes ``chrom:start-end``,
    a missing strand ``.``. A narrowPeak's 10th column (summit offset) is kept.

    Parameters
    ----------
    path : str or Path
        The BED file (plain or gzip).
    label_columns : sequence of int, optional
        1-based columns to read as numeric labels (e.g. 7, a narrowPeak's signalValue).
        Default is none.

    Returns
    -------
    regions : pandas.DataFrame
        Columns ``chrom, start, end, name, score, strand, summit, line`` and one column
        per label column (named as in narrowPeak, else ``column_<k>``). ``summit`` is the
        absolute summit position, or -1; ``line`` the 1-based line number in ``path``.
    """
    rows = []
    for number, fields in _bed_fields(path):
        if len(fields) < 3:
            raise InputError(
                f"{path}, line {number}: expected at least 3 tab-separated columns "
                f"(chrom, start, end), found {len(fields)}: {fields!r}"
            )
        chrom = fields[0]
        if not chrom.strip():
            raise InputError(
                f"{path}, line {number}: expected a chromosome name, found an empty field"
            )
        if not chrom.isprintable() or any(c.isspace() for c in chrom):
            raise InputError(
                f"{path}, line {number}: expected a chromosome name without spaces or "
                f"control characters (as a FASTA names it), found {chrom!r}"
            )
        start = _parse_int(fields[1], path=path, number=number, column="start")
        end = _parse_int(fields[2], path=path, number=number, column="end")
        if end <= start:
            raise InputError(
                f"{path}, line {number}: expected end > start, found start={start} end={end}"
            )
        name = fields[3] if len(fields) > 3 and fields[3] not in ("", ".") else None
        strand = fields[5] if len(fields) > 5 else "."
        if strand not in ("+", "-", "."):
            raise InputError(
                f"{path}, line {number}: expected strand '+', '-' or '.', found {strand!r}"
            )
        peak = fields[9] if len(fields) > 9 else "-1"
        summit = start + int(peak) if peak.lstrip("-").isdigit() and int(peak) >= 0 else -1
        if summit >= end:
            raise InputError(
                f"{path}, line {number}: expected a summit offset below "
                f"{end - start} (column 10), found {peak}"
            )
        labels = []
        for k in label_columns:
            if k > len(fields):
                raise InputError(
                    f"{path}, line {number}: expected a label in column {k}, "
                    f"found {len(fields)} columns"
                )
            labels.append(_parse_float(fields[k - 1], path=path, number=number, column=k))
        rows.append(
            (
                chrom,
                start,
                end,
                name or f"{chrom}:{start}-{end}",
                0,
                strand,
                summit,
                number,
                *labels,
            )
        )
    if not rows:
        raise InputError(f"{path}: expected at least one region, found none")
    names = [NARROWPEAK_NAMES.get(k, f"column_{k}") for k in label_columns]
    return pd.DataFrame(rows, columns=BED_COLUMNS + ["summit", "line"] + names)


def _column_line(path) -> bytes:
    """The file's first line when it names the columns (``#chrom ...``), else ``b""``."""
    with open(path, "rb") as handle:
        first = handle.readline()
    return first if first.startswith(b"#") else b""


def read_regions(path, *, shard: int = 0, n_shards: int = 1) -> pd.DataFrame:
    """Read seqsal's own ``regions.bed`` (BED6 + pads, validated upstream), or one shard.

    Shard ``k`` of ``n`` holds the ``k``-th of ``n`` contiguous, nearly equal slices (as
    ``numpy.array_split``); only its rows are parsed, so memory follows the shard size.

    Parameters
    ----------
    path : str or Path
    shard : int, optional
        Default is 0.
    n_shards : int, optional
        Default is 1.

    Returns
    -------
    regions : pandas.DataFrame
        ``chrom, start, end, name, score, strand, pad_left, pad_right``.
    """
    first = _column_line(path)
    header = int(bool(first))
    offset, rows = len(first), None
    if n_shards > 1:
        counts = _newline_counts(path)
        size, extra = divmod(int(counts.sum()) - header, n_shards)
        offset = _line_offset(path, counts, header + shard * size + min(shard, extra))
        rows = size + (shard < extra)
    with open(path, "rb") as handle:
        handle.seek(offset)  # the shard's first line: the lines before it are never parsed
        regions = pd.read_csv(
            handle, sep="\t", header=None, nrows=rows, dtype={0: str, 3: str}, quoting=NO_QUOTES
        )
    regions.columns = (BED_COLUMNS + PAD_COLUMNS)[: regions.shape[1]]
    for column in PAD_COLUMNS:
        if column not in regions:
            regions[column] = 0
    return regions.astype(
        {"start": np.int64, "end": np.int64, "pad_left": np.int64, "pad_right": np.int64}
    )


_BLOCK = 1 << 24


def _newline_counts(path) -> np.ndarray:
    """Lines per block of ``_BLOCK`` bytes (a last line without a newline counts)."""
    counts, last = [], b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            counts.append(block.count(b"\n"))
            last = block[-1:]
    if last != b"\n":
        counts.append(1)
    return np.array(counts or [0], dtype=np.int64)


def _line_offset(path, counts: np.ndarray, line: int) -> int:
    """Byte offset of 0-based ``line``, from :func:`_newline_counts`."""
    if line == 0:
        return 0
    block = int(np.searchsorted(np.cumsum(counts), line))  # holds the line-th newline
    before = int(counts[:block].sum())
    with open(path, "rb") as handle:
        handle.seek(block * _BLOCK)
        data = np.frombuffer(handle.read(_BLOCK), dtype=np.uint8)
    return block * _BLOCK + int(np.flatnonzero(data == 10)[line - before - 1]) + 1


def sort_bed(bed: pd.DataFrame) -> pd.DataFrame:
    """Sort as ``LC_COLLATE=C sort -k1,1 -k2,2n``, ties broken by end, name, then strand
    (``+`` first: a motif hit on both strands of one interval).

    Parameters
    ----------
    bed : pandas.DataFrame
        ``chrom, start, end`` (and ``name``, ``strand`` where present).

    Returns
    -------
    bed : pandas.DataFrame
        Sorted, with a fresh index.
    """
    ties = [bed[column].to_numpy() for column in ("strand", "name") if column in bed]
    order = np.lexsort(
        (
            *ties,
            bed["end"].to_numpy(),
            bed["start"].to_numpy(),
            np.char.encode(bed["chrom"].to_numpy().astype(str), "utf-8"),  # C sort: bytes
        )
    )
    return bed.iloc[order].reset_index(drop=True)


def read_seqlets(path) -> pd.DataFrame:
    """Read ``seqlets.bed`` (BED6 + region, attribution sum, p-value, q-value).

    Parameters
    ----------
    path : str or Path
        A file written by ``seqsal seqlets``.

    Returns
    -------
    seqlets : pandas.DataFrame
        One row per seqlet, the columns of :data:`SEQLET_COLUMNS`.
    """
    return pd.read_csv(
        path,
        sep="\t",
        header=None,
        skiprows=int(bool(_column_line(path))),
        names=SEQLET_COLUMNS,
        dtype={"chrom": str, "name": str, "region": str},
        quoting=NO_QUOTES,
    )


def write_tabix(bed_path) -> None:
    """bgzip a sorted BED file beside itself (``.gz``) and index it with tabix
    (``.gz.tbi``), atomically.

    Parameters
    ----------
    bed_path : str or Path
    """
    import shutil
    import tempfile

    import pysam

    bed_path = Path(bed_path)
    with tempfile.TemporaryDirectory(dir=bed_path.parent) as scratch:
        copy = Path(scratch) / bed_path.name
        shutil.copyfile(bed_path, copy)
        pysam.tabix_index(str(copy), preset="bed", force=True)
        os.replace(f"{copy}.gz.tbi", f"{bed_path}.gz.tbi")
        os.replace(f"{copy}.gz", f"{bed_path}.gz")


def bedgraph_text(frame: pd.DataFrame) -> str:
    """bedGraph lines, one per base, of a per-base frame (``chrom, start, value``).

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    text : str
    """
    bedgraph = pd.DataFrame(
        {
            "chrom": frame["chrom"],
            "start": frame["start"],
            "end": frame["start"] + 1,
            "value": frame["value"],
        }
    )
    return bedgraph.to_csv(
        sep="\t", header=False, index=False, float_format="%.6g", quoting=NO_QUOTES
    )


def write_bedgraph(track, path, *, name: str = "attribution") -> None:
    """Write a :class:`~seqsal.tracks.Track` as bedGraph text (one line per base), atomically.

    Parameters
    ----------
    track : seqsal.tracks.Track
    path : str or Path
    name : str, optional
        The track line's name. Default is "attribution".
    """
    write_text(f'track type=bedGraph name="{name}"\n' + bedgraph_text(track.to_frame()), path)


def bed_text(bed: pd.DataFrame) -> str:
    """BED lines of a DataFrame (its columns in order, no header).

    Parameters
    ----------
    bed : pandas.DataFrame

    Returns
    -------
    text : str
    """
    return bed.to_csv(sep="\t", header=False, index=False, lineterminator="\n", quoting=NO_QUOTES)


def write_bed(bed: pd.DataFrame, path, *, column_names: bool = False) -> None:
    """Write a BED DataFrame, sorted as ``bedtools sort`` sorts, atomically. No ``track``
    line: stock ``bgzip`` + ``tabix -p bed`` index the file as it is, and IGV and igv.js
    draw the ``itemRgb`` column's colours without one.

    Parameters
    ----------
    bed : pandas.DataFrame
    path : str or Path
    column_names : bool, optional
        Start with ``#chrom<TAB>start<TAB>...``, naming every column (for files with
        columns beyond BED6; BED tools skip ``#`` lines). Default is False.
    """
    header = ""
    if column_names:
        header = "#" + "\t".join(bed.columns) + "\n"
    write_text(header + bed_text(sort_bed(bed)), path)

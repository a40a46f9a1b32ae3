"""Signal tracks (bigWig, bedGraph) summed over windows: labels from the files labs have.

A window's sum is the integral of the track over its bases; bases without data count
as 0, as peers that train on coverage count them (chrombpnet, CREsted). Memory stays
bounded whatever the genome: a bigWig is read per contig in spans of at most
:data:`SPAN` bases around the windows (pyBigWig's per-base ``values``, summed by a
cumulative sum), a bedGraph in chunks of :data:`CHUNK` lines, each chunk's intervals
added to the windows they overlap.
"""

from __future__ import annotations

import logging
import zlib

import numpy as np
import pandas as pd

from ..errors import InputError
from .text import check_regular_file, is_gzip

SPAN = 1 << 22  # bases of a bigWig read at once: 4 Mb, 32 MiB of float64 sums
GAP = 1 << 16  # windows further apart than this are read as separate spans
CHUNK = 1_000_000  # bedGraph lines per chunk
BIGWIG_MAGIC = (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26")  # little-, big-endian
HEADER_LINES = ("track", "browser", "#")

log = logging.getLogger("seqsal")


def is_bigwig(path) -> bool:
    """Whether a file starts with bigWig's magic number (either byte order).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bigwig : bool
    """
    with open(path, "rb") as handle:
        return handle.read(4) in BIGWIG_MAGIC


def signal_contigs(path, sizes: dict):
    """The contigs a bigWig covers (None for a bedGraph, which lists none), checked
    against the reference's lengths.

    Parameters
    ----------
    path : str or Path
    sizes : dict
        ``{contig: length}`` of the reference.

    Returns
    -------
    contigs : set of str or None

    Raises
    ------
    InputError
        On a file that is no signal track, or a contig of another length.
    """
    check_regular_file(path, "a bigWig or bedGraph signal track")
    if not is_bigwig(path):
        return None
    with _open_bigwig(path) as track:
        lengths = track.chroms()
    for name, length in lengths.items():
        if name in sizes and length != sizes[name]:
            raise _other_assembly(path, name, length, sizes)
    return set(lengths)


def _open_bigwig(path):
    import pyBigWig

    try:
        track = pyBigWig.open(str(path))
    except RuntimeError:
        track = None
    if track is None or not track.isBigWig():
        raise InputError(f"{path}: expected a bigWig, found a file pyBigWig cannot open")
    return track


def signal_sums(path, windows: pd.DataFrame, sizes: dict) -> tuple:
    """The sum of a signal track over each window.

    Parameters
    ----------
    path : str or Path
        A bigWig, or a bedGraph (plain or gzip; sorted by contig, then start, intervals
        not overlapping, as ``bedGraphToBigWig`` requires); told apart by their bytes.
    windows : pandas.DataFrame
        ``chrom, start, end``: 0-based half-open, within their contigs.
    sizes : dict
        ``{contig: length}`` of the reference: a contig the track gives another length
        is another assembly.

    Returns
    -------
    sums : numpy.ndarray, shape=(n,), dtype=float64
    absent : numpy.ndarray, shape=(n,), dtype=bool
        Windows on a contig the bigWig does not list (a bedGraph lists none: a contig it
        has no line for sums to 0).

    Raises
    ------
    InputError
        On a file that is neither, a contig of another length, or a bedGraph line that is
        not ``chrom start end value``, out of order or overlapping the one before.
    """
    check_regular_file(path, "a bigWig or bedGraph signal track")
    chrom = windows["chrom"].astype(str).to_numpy()
    start = windows["start"].to_numpy(np.int64)
    end = windows["end"].to_numpy(np.int64)
    if is_bigwig(path):
        return _bigwig_sums(path, chrom, start, end, sizes)
    return _bedgraph_sums(path, chrom, start, end, sizes)


def _other_assembly(path, chrom, length, sizes) -> InputError:
    return InputError(
        f"{path}: expected contig {chrom} of {sizes[chrom]:,} bp as in the FASTA, found "
        f"{length:,} bp: is the track on another assembly?"
    )


def _bigwig_sums(path, chrom, start, end, sizes) -> tuple:
    sums, absent = np.zeros(len(chrom)), np.zeros(len(chrom), bool)
    with _open_bigwig(path) as track:
        lengths = track.chroms()
        for name, rows in pd.Series(chrom).groupby(chrom, sort=False).indices.items():
            if name not in lengths:
                absent[rows] = True
                continue
            if name in sizes and lengths[name] != sizes[name]:
                raise _other_assembly(path, name, lengths[name], sizes)
            rows = rows[np.argsort(start[rows], kind="stable")]
            for span in _spans(start[rows], end[rows]):
                lo, hi = int(start[rows[span]].min()), int(end[rows[span]].max())
                values = np.nan_to_num(track.values(name, lo, hi, numpy=True))
                total = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
                here = rows[span]
                sums[here] = total[end[here] - lo] - total[start[here] - lo]
    return sums, absent


def _spans(starts: np.ndarray, ends: np.ndarray) -> list:
    """Slices of windows (sorted by start) read together: at most :data:`SPAN` bases
    (one longer window alone), no gap over :data:`GAP` inside."""
    spans, first, reach = [], 0, None
    for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
        if reach is not None and (s > reach + GAP or max(reach, e) - starts[first] > SPAN):
            spans.append(slice(first, i))
            first, reach = i, None
        reach = e if reach is None else max(reach, e)
    if len(starts):
        spans.append(slice(first, len(starts)))
    return spans


def interval_sums(iv_start, iv_end, value, win_start, win_end) -> np.ndarray:
    """The integral over each window of a step function given as intervals.

    Parameters
    ----------
    iv_start, iv_end, value : numpy.ndarray, shape=(m,)
        Intervals sorted by start, not overlapping, and their values.
    win_start, win_end : numpy.ndarray, shape=(n,)

    Returns
    -------
    sums : numpy.ndarray, shape=(n,), dtype=float64
    """
    if not len(iv_start):
        return np.zeros(len(win_start))
    whole = np.concatenate([[0.0], np.cumsum((iv_end - iv_start) * value)])

    def integral(x):  # from the contig's start to x
        i = np.searchsorted(iv_end, x, side="right")  # intervals wholly before x
        j = np.minimum(i, len(iv_start) - 1)
        partial = np.where(i < len(iv_start), np.clip(x - iv_start[j], 0, None) * value[j], 0.0)
        return whole[i] + partial

    return integral(win_end) - integral(win_start)


def _bedgraph_sums(path, chrom, start, end, sizes) -> tuple:
    sums = np.zeros(len(chrom))
    rows_of = pd.Series(chrom).groupby(chrom, sort=False).indices
    seen, last = set(), (None, 0)  # contigs done; the previous line's contig and end
    skip = _header_lines(path)
    reader = pd.read_csv(
        path,
        sep="\t",
        header=None,
        skiprows=skip,
        usecols=range(4),
        names=["chrom", "start", "end", "value"],
        dtype=str,
        chunksize=CHUNK,
        compression="gzip" if is_gzip(path) else None,
        keep_default_na=False,
    )
    try:
        with reader as chunks:
            for number, chunk in enumerate(chunks):
                first_line = skip + number * CHUNK + 1
                table = _checked_chunk(path, chunk, first_line, last, seen, sizes)
                if len(table):
                    last = (table["chrom"].iloc[-1], int(table["end"].iloc[-1]))
                _add_chunk(table, rows_of, start, end, sums, seen)
    except InputError:
        raise
    except (ValueError, pd.errors.ParserError, OSError, EOFError, zlib.error) as error:
        raise InputError(
            f"{path}: expected a bigWig or a bedGraph (chrom, start, end, value), found a "
            f"file that is neither ({str(error).splitlines()[0]})"
        ) from None
    unseen = sorted(set(rows_of) - seen)
    if unseen:
        n = sum(len(rows_of[name]) for name in unseen)
        log.warning(
            "%s: no line on %s (%d windows): their signal is 0", path, ", ".join(unseen[:5]), n
        )
    return sums, np.zeros(len(chrom), bool)


def _add_chunk(table, rows_of, start, end, sums, seen) -> None:
    """Add a chunk's intervals to the sums of the windows on their contigs (in place)."""
    for name, at in table.groupby("chrom", sort=False).indices.items():
        seen.add(name)
        rows = rows_of.get(name)
        if rows is not None:
            part = table.iloc[at]
            sums[rows] += interval_sums(
                part["start"].to_numpy(np.int64),
                part["end"].to_numpy(np.int64),
                part["value"].to_numpy(np.float64),
                start[rows],
                end[rows],
            )


def _header_lines(path) -> int:
    """The ``track``, ``browser`` and ``#`` lines a bedGraph starts with."""
    from contextlib import closing

    from .text import text_lines

    with closing(text_lines(path)) as lines:  # closed at the first data line
        for number, line in lines:
            if not line.startswith(HEADER_LINES):
                return number - 1
    return 0


def _checked_chunk(path, chunk, first_line, last, seen, sizes) -> pd.DataFrame:
    """A chunk of bedGraph lines as numbers, each checked, or the first bad line named."""
    numbers = {k: pd.to_numeric(chunk[k], errors="coerce") for k in ("start", "end", "value")}
    starts, ends = numbers["start"].to_numpy(float), numbers["end"].to_numpy(float)
    values = numbers["value"].to_numpy(float)
    names = chunk["chrom"].to_numpy(str)
    previous_chrom = np.concatenate([[last[0]], names[:-1]])
    previous_end = np.concatenate([[last[1]], ends[:-1]])
    same = names == previous_chrom
    lengths = np.array([sizes.get(c, np.inf) for c in names]) if len(names) else np.zeros(0)
    # the first line of a run of one contig, coming back to a contig left before
    run = ~same
    repeated = pd.Series(names).where(run).duplicated().to_numpy()
    again = run & (np.isin(names, list(seen)) | repeated)
    not_whole = np.isnan(starts) | np.isnan(ends) | (starts % 1 != 0) | (ends % 1 != 0)
    unsorted = "lines sorted by start, none overlapping the one before (sort -k1,1 -k2,2n)"
    problems = [
        (not_whole, "integer start and end"),
        (~np.isfinite(values), "a finite value in column 4"),
        ((starts < 0) | (ends <= starts), "0 <= start < end"),
        (ends > lengths, "an end within the contig's length in the FASTA"),
        (same & (starts < previous_end), unsorted),
        (again, "each contig's lines together (sort -k1,1 -k2,2n)"),
    ]
    for bad, expected in problems:
        if bad.any():
            i = int(np.argmax(bad))
            found = "\t".join(chunk.iloc[i].astype(str))
            raise InputError(f"{path}, line {first_line + i}: expected {expected}, found {found!r}")
    return pd.DataFrame({"chrom": names, "start": starts, "end": ends, "value": values})

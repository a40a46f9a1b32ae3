"""FASTA: the reference opened with pyfaidx, contigs and windows read as one-hot, and
sequence libraries read and written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..encode import all_iupac, ascii_upper, encode_regions, encode_windows
from ..errors import InputError, SequenceError
from .atomic import write_text
from .bed import PAD_COLUMNS
from .text import check_regular_file, is_plain_gzip, text_lines


def open_fasta(path):
    """Open a FASTA file with pyfaidx, building its index when missing.

    Raises
    ------
    InputError
        When the file is absent, plain gzip (pyfaidx needs bgzip), or its index cannot
        be written.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    fasta : pyfaidx.Fasta
        Raw (str) records, upper-cased.
    """
    import pyfaidx

    path = Path(path)
    check_regular_file(path, "a FASTA file")
    first = next(text_lines(path), (1, ""))[1]
    if first.strip() and not first.startswith(">"):
        raise InputError(f"{path}, line 1: expected a FASTA header ('>name'), found {first[:40]!r}")
    if is_plain_gzip(path):
        raise InputError(
            f"{path}: expected plain or bgzip-compressed FASTA, found plain gzip; "
            f"recompress it with `zcat {path} | bgzip > {path}`"
        )
    try:
        return pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True)
    except OSError as error:
        raise InputError(
            f"{path}: cannot write its index {path}.fai ({error.strerror}); "
            "copy the FASTA to a writable folder or index it with `samtools faidx`"
        ) from None
    except pyfaidx.FastaIndexingError as error:  # no sequence, lines of unequal width
        first = (str(error).split(". ") or [""])[0].replace(str(path), "it")
        raise InputError(
            f"{path}: expected a FASTA file pyfaidx can index, found: {first}"
        ) from None
    except ValueError as error:
        if "Duplicate key" in str(error):
            raise InputError(f"{path}: expected unique sequence names, found {error}") from None
        raise InputError(f"{path}: expected a valid FASTA file, found: {error}") from None


def contig_sizes(fasta) -> dict:
    """Return ``{contig: length}`` in FASTA order for an open pyfaidx.Fasta.

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        Opened by :func:`open_fasta`.

    Returns
    -------
    sizes : dict
    """
    return {name: len(record) for name, record in fasta.records.items()}


def read_contig(fasta, chrom: str) -> np.ndarray:
    """One whole contig of an open pyfaidx.Fasta as upper-case ASCII codes (uint8).

    A plain FASTA is read straight from its bytes with the index's line layout; a bgzip
    one through pyfaidx.

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        Opened by :func:`open_fasta`.
    chrom : str

    Returns
    -------
    codes : numpy.ndarray of uint8, shape=(length,)
    """
    record = fasta.faidx.index[chrom]
    if fasta.faidx._bgzf or record.lenc == 0:
        codes = np.frombuffer(fasta[chrom][:].encode("latin-1"), dtype=np.uint8).copy()
    else:
        n_full, rest = divmod(record.rlen, record.lenc)
        raw = np.fromfile(
            fasta.filename, dtype=np.uint8, offset=record.offset, count=n_full * record.lenb + rest
        )
        codes = np.empty(record.rlen, dtype=np.uint8)
        codes[: n_full * record.lenc].reshape(n_full, record.lenc)[:] = raw[
            : n_full * record.lenb
        ].reshape(n_full, record.lenb)[:, : record.lenc]
        codes[n_full * record.lenc :] = raw[n_full * record.lenb :]
    return ascii_upper(codes)


def window_width(regions: pd.DataFrame) -> int:
    """Bases of the widest window (N padding included): the one-hot's length.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``start, end, pad_left, pad_right``.

    Returns
    -------
    width : int
    """
    pads = regions.reindex(columns=PAD_COLUMNS, fill_value=0).to_numpy()
    widths = (regions["end"] - regions["start"]).to_numpy() + pads.sum(axis=1)
    return int(widths.max()) if len(regions) else 0


def iter_onehot(fasta, regions: pd.DataFrame, *, chunk: int = 8192):
    """One-hot windows of ``regions`` (:func:`fetch_onehot`) in blocks of ``chunk``
    consecutive rows, in order, so that they need never be in memory together.

    Each contig is read once when the regions come contig by contig (a sorted BED);
    otherwise a contig is read again wherever the regions return to it.

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        Opened by :func:`open_fasta`.
    regions : pandas.DataFrame
    chunk : int, optional
        Rows per block. Default is 8192.

    Yields
    ------
    X : numpy.ndarray, shape=(B, 4, L), dtype=uint8
    """
    cache = {}
    for start in range(0, len(regions), chunk):
        yield fetch_onehot(fasta, regions.iloc[start : start + chunk], chunk=chunk, cache=cache)


def fetch_onehot(fasta, regions: pd.DataFrame, *, chunk: int = 8192, cache=None) -> np.ndarray:
    """One-hot windows of ``regions`` from an open FASTA, each on its own strand.

    Each contig is read once, whole; its windows are encoded ``chunk`` at a time, so
    memory beyond the result stays small. Regions clipped at a contig end get their
    ``pad_left``/``pad_right`` N back. ``cache`` (a dict) keeps the last contig read
    for the next call.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        In the order of ``regions`` (all of one width ``L``).

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        Opened by :func:`open_fasta`.
    regions : pandas.DataFrame
        ``chrom, start, end, strand, name`` and the pads.
    chunk : int, optional
        Default is 8192.
    cache : dict or None, optional
        Default is None.
    """
    pads = regions.reindex(columns=PAD_COLUMNS, fill_value=0).to_numpy()
    X = np.empty((len(regions), 4, window_width(regions)), dtype=np.uint8)
    padded = pads.any(axis=1)
    if padded.any():
        try:
            X[padded] = _padded_onehot(fasta, regions[padded], pads[padded])
        except SequenceError as error:
            row = regions[padded].iloc[error.row]
            raise _bad_base(fasta, row["chrom"], row["name"], error) from None
    starts, strands = regions["start"].to_numpy(), regions["strand"].to_numpy()
    unpadded = regions[~padded]
    for chrom, where in unpadded.groupby("chrom", sort=False).indices.items():
        if cache is None or chrom not in cache:
            contig = read_contig(fasta, chrom)
            clean = all_iupac(contig)  # then no window needs checking
            if cache is not None:
                cache.clear()
                cache[chrom] = contig, clean
        else:
            contig, clean = cache[chrom]
        rows = np.flatnonzero(~padded)[where]
        for block in np.array_split(rows, -(-len(rows) // chunk)):
            together = block[-1] - block[0] + 1 == len(block)  # sorted input: write in place
            try:
                encoded = encode_windows(
                    contig,
                    starts[block],
                    width=X.shape[-1],
                    strands=strands[block],
                    out=X[block[0] : block[-1] + 1] if together else None,
                    check=not clean,
                )
            except SequenceError as error:
                raise _bad_base(
                    fasta, chrom, regions["name"].iloc[block[error.row]], error
                ) from None
            if not together:
                X[block] = encoded
    return X


def _bad_base(fasta, chrom, name, error) -> InputError:
    return InputError(
        f"{fasta.filename}, contig {chrom}, region {name}: expected IUPAC "
        f"nucleotide codes, found {error.found!r} at offset {error.offset}"
    )


def _padded_onehot(fasta, regions: pd.DataFrame, pads: np.ndarray) -> np.ndarray:
    """One-hot windows of regions clipped at a contig end, N-padded back to full width."""
    sequences = [
        ("N" * int(left)) + sequence + ("N" * int(right))
        for sequence, (left, right) in zip(fetch_sequences(fasta, regions), pads)
    ]
    return encode_regions(sequences, regions["strand"].to_numpy())


def fetch_sequences(fasta, regions: pd.DataFrame) -> list:
    """Fetch each region's + strand sequence (upper case), checking every window is whole.

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        Opened by :func:`open_fasta`.
    regions : pandas.DataFrame
        ``chrom, start, end``.

    Returns
    -------
    sequences : list of str

    Raises
    ------
    InputError
        When a window runs past its contig.
    """
    sequences = []
    for chrom, start, end, name in regions[["chrom", "start", "end", "name"]].itertuples(
        index=False
    ):
        sequence = fasta[chrom][int(start) : int(end)]
        if len(sequence) != end - start:
            raise InputError(
                f"{fasta.filename}: expected {end - start} bases for region {name} "
                f"({chrom}:{start}-{end}), found {len(sequence)}"
            )
        sequences.append(sequence.upper())
    return sequences


def read_sequences(path) -> dict:
    """Read a whole FASTA (plain or gzip) into ``{first word of header: sequence}``.

    For sequence libraries, where every record is one sequence. Lowercase is kept (the
    encoder upper-cases); characters outside the IUPAC codes are refused with their line.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    sequences : dict
        In file order.
    """
    import re

    sequences, name, chunks, first_line = {}, None, [], {}
    bad = re.compile(r"[^ACGTNRYSWKMBDHVacgtnryswkmbdhv]")
    for number, raw in text_lines(path):  # 1 MiB a line: a longer sequence wraps
        line = raw.strip(" \t\r\n")  # ASCII white space: a name keeps any other character
        if line.startswith(">"):
            if name is not None:
                sequences[name] = "".join(chunks)
            name, chunks = re.split(r"[ \t]+", line[1:].strip(" \t"))[0], []
            if not name or name in first_line:
                found = f"{name!r} again (first on line {first_line.get(name)})" if name else "none"
                raise InputError(
                    f"{path}, line {number}: expected a unique sequence name, found {found}"
                )
            first_line[name] = number
        elif line and not line.startswith(";"):
            if name is None:
                raise InputError(
                    f"{path}, line {number}: expected a '>' header first, found {line[:20]!r}"
                )
            match = bad.search(line)
            if match:
                raise InputError(
                    f"{path}, line {number}: expected IUPAC bases in {name!r}, "
                    f"found {match.group()!r}"
                )
            chunks.append(line)
    if name is not None:
        sequences[name] = "".join(chunks)
    if not sequences:
        raise InputError(f"{path}: expected FASTA records, found none")
    return sequences


def write_fasta(sequences: dict, path, *, width: int = 80) -> None:
    """Write ``{name: sequence}`` as a FASTA file with lines of ``width`` bases.

    Parameters
    ----------
    sequences : dict
    path : str or Path
    width : int, optional
        Default is 80.
    """
    chunks = []
    for name, sequence in sequences.items():
        chunks.append(f">{name}\n")
        chunks.extend(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width))
    write_text("".join(chunks), path)

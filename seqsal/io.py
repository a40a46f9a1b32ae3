"""Reading and writing seqsal's files: BED, FASTA, label tables, shards, MEME.

Every reader validates what it reads and raises :class:`InputError` with one line that
names the file, the line or key, what was expected and what was found. Every writer
writes atomically (a temporary file in the same folder, then a rename), so an interrupted
run never leaves a truncated file that looks complete.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .encode import SequenceError, all_iupac, ascii_upper, encode_regions, encode_windows

BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]
PAD_COLUMNS = ["pad_left", "pad_right"]  # N added before/after a region clipped at a contig end
REJECTED_COLUMNS = ["source", "line", "name", "reason"]


class InputError(ValueError):
    """A user's input is malformed; the message names file, line or key, expected, found."""


# --------------------------------------------------------------------------- atomic I/O


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or Path
        The final destination. Its folder is created when missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(text: str, path) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write(text)


def write_tsv(df: pd.DataFrame, path, *, header: bool = True) -> None:
    """Write a DataFrame as tab-separated text, atomically, without the index."""
    write_text(df.to_csv(sep="\t", index=False, header=header, lineterminator="\n"), path)


def write_npz(path, *, compress: bool = False, **arrays) -> None:
    """Write arrays to an ``.npz`` file atomically (uncompressed unless ``compress``).

    Uncompressed members are written straight from the arrays' memory, without the
    copies ``numpy.savez`` makes, and can be memory-mapped by :func:`read_shards`.
    """
    if compress:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        return
    with npz_stream(path) as out:
        for key, array in arrays.items():
            out.add(key, array)


@contextlib.contextmanager
def npz_stream(path):
    """Write an uncompressed ``.npz`` member by member, atomically: yields an
    :class:`NpzStream`. On an error nothing is written."""
    import zipfile

    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        yield NpzStream(archive)


class NpzStream:
    """The members of an ``.npz`` being written: whole arrays (:meth:`add`), or one
    array's rows in order (:meth:`rows`), so that it never has to be in memory whole."""

    def __init__(self, archive):
        self.archive = archive

    def add(self, key, array) -> None:
        array = np.ascontiguousarray(array)
        with self.rows(key, array.shape, array.dtype) as append:
            append(array)

    @contextlib.contextmanager
    def rows(self, key, shape, dtype):
        """Yield ``append(block)``: rows of ``key`` (``shape``, ``dtype``), in order."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
        written = 0

        def append(block):
            nonlocal written
            block = np.ascontiguousarray(block, dtype=dtype)
            if block.shape[1:] != shape[1:] or written + len(block) > shape[0]:
                raise ValueError(f"{key}: expected rows of {shape}, found a block {block.shape}")
            data = memoryview(block.reshape(-1).view(np.uint8))
            for i in range(0, len(data), 1 << 26):
                member.write(data[i : i + (1 << 26)])
            written += len(block)

        with self.archive.open(f"{key}.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {**header, "shape": shape})
            yield append
            if written != shape[0]:
                raise ValueError(f"{key}: expected {shape[0]} rows, found {written}")


class _RowFile:
    """A ``.npy`` file written row block by row block (``rows[a:b] = values``) through
    file writes, not a memory map, so that written rows do not stay in memory."""

    def __init__(self, path, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.handle = open(path, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False}
        np.lib.format.write_array_header_1_0(self.handle, {**header, "shape": self.shape})
        self.offset = self.handle.tell()
        self.handle.truncate(self.offset + self.shape[0] * self.row_bytes)

    def __setitem__(self, rows: slice, values):
        values = np.ascontiguousarray(values, dtype=self.dtype)
        self.handle.seek(self.offset + rows.start * self.row_bytes)
        self.handle.write(memoryview(values.reshape(-1).view(np.uint8)))

    def close(self):
        self.handle.close()


@contextlib.contextmanager
def npz_writer(path):
    """Build an uncompressed ``.npz`` from arrays written block by block, in bounded memory.

    Yields ``add(key, shape, dtype)``, which returns an array-like to assign row slices
    to (``out[a:b] = values``), kept in a scratch folder beside ``path``;
    ``add(key, array=...)`` stores a whole array. On a clean exit the arrays are streamed
    into ``path`` atomically; on an error nothing is written. The result is what
    :func:`write_npz` writes.
    """
    import shutil
    import zipfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    files = []

    def add(key, shape=None, dtype=None, *, array=None):
        if array is not None:
            np.save(scratch / f"{key}.npy", array)
            return array
        files.append(_RowFile(scratch / f"{key}.npy", shape, dtype))
        return files[-1]

    try:
        yield add
        for file in files:
            file.close()
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            for file in sorted(scratch.iterdir()):
                archive.write(file, arcname=file.name)
    finally:
        for file in files:
            file.close()
        shutil.rmtree(scratch, ignore_errors=True)


class NpzRows:
    """Rows of one uncompressed ``.npz`` member, read from the file as they are asked for
    (``rows[a:b]``): unlike a memory map, rows read do not stay in memory."""

    def __init__(self, path, layout):
        self.path = path
        self.offset, self.shape, self.dtype = layout
        self.ndim = len(self.shape)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice):
        start, stop, _ = rows.indices(len(self))
        out = np.empty((max(stop - start, 0), *self.shape[1:]), dtype=self.dtype)
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + start * self.row_bytes)
            handle.readinto(memoryview(out.reshape(-1).view(np.uint8)))
        return out


def read_npz(path, *, skip=()) -> dict:
    """Read every array of an ``.npz`` file into a dict, but ``skip`` (a name or names)."""
    skip = {skip} if isinstance(skip, str) else set(skip)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files if key not in skip}


PER_FILE_KEYS = ("targets",)  # the same in every shard, not one row per region


class RowStack:
    """The rows of several arrays (memory-mapped shards) seen as one, without copying.

    As with an array, an integer gives a view of that row (of its shard: nothing is read
    until it is used); a slice, an integer array or a boolean mask gives a new in-memory
    array of the rows asked for, read from whichever shard holds them.
    """

    def __init__(self, parts):
        self.parts = list(parts)
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.shape = (int(self.offsets[-1]), *self.parts[0].shape[1:])
        self.dtype = self.parts[0].dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            index = int(index) + (len(self) if index < 0 else 0)
            k = int(np.searchsorted(self.offsets, index, side="right")) - 1
            return self.parts[k][index - self.offsets[k]]
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        for k in np.unique(which):
            chosen = which == k
            out[chosen] = self.parts[k][rows[chosen] - self.offsets[k]]
        return out


def _read_member(path, key) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data[key]


def npz_rows(path, key):
    """One ``.npz`` member as :class:`NpzRows` (read as used), or whole if compressed."""
    layout = _npz_member_layout(path, key)
    return _read_member(path, key) if layout is None else NpzRows(path, layout)


def _npz_member_layout(path, key):
    """Byte offset, shape and dtype of an uncompressed ``.npz`` member; None if compressed."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        name_length, extra_length = struct.unpack("<HH", handle.read(30)[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(handle)
        if fortran:
            return None
        return handle.tell(), shape, dtype


def _memmap_npz_member(path, key):
    """Memory-map one array stored uncompressed in an ``.npz``; None if it is compressed."""
    layout = _npz_member_layout(path, key)
    if layout is None:
        return None
    offset, shape, dtype = layout
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def read_shards(paths, *, mmap_key: str | None = None, skip=()) -> dict:
    """Read several ``.npz`` shards and concatenate their per-region arrays.

    Parameters
    ----------
    paths : list of str or Path
    mmap_key : str or None, optional
        An array (e.g. ``X``) left on disk: memory-mapped in each shard and returned as a
        :class:`RowStack`, so that only the rows used are read. Default is None.
    skip : tuple of str, optional
        Arrays not read at all. Default is none.
    """
    shards = [read_npz(path, skip=(*skip, *([mmap_key] if mmap_key else []))) for path in paths]
    data = {}
    if mmap_key:
        parts = [_memmap_npz_member(path, mmap_key) for path in paths]
        if any(part is None for part in parts):  # compressed: read that array only
            parts = [_read_member(path, mmap_key) for path in paths]
        data[mmap_key] = RowStack(parts)
    for key in shards[0]:
        if key in PER_FILE_KEYS:
            if any(not np.array_equal(s[key], shards[0][key]) for s in shards):
                raise InputError(
                    f"{paths[0]}: expected the same {key} in every shard, "
                    f"found {[s[key].tolist() for s in shards][:3]}"
                )
            data[key] = shards[0][key]
        else:  # one shard: its arrays as they are, without a copy
            parts = [s[key] for s in shards]
            data[key] = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return data


# --------------------------------------------------------------------------------- BED


def _bed_fields(path):
    """Yield ``(line number, fields)`` for each data line of a BED file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        for number, raw in enumerate(handle, start=1):
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


def read_regions(path, *, shard: int = 0, n_shards: int = 1) -> pd.DataFrame:
    """Read seqsal's own ``regions.bed`` (BED6 + pads, validated upstream), or one shard.

    Shard ``k`` of ``n`` holds the ``k``-th of ``n`` contiguous, nearly equal slices (as
    ``numpy.array_split``); only its rows are parsed, so memory follows the shard size.
    """
    offset, rows = 0, None
    if n_shards > 1:
        counts = _newline_counts(path)
        size, extra = divmod(int(counts.sum()), n_shards)
        offset = _line_offset(path, counts, shard * size + min(shard, extra))
        rows = size + (shard < extra)
    with open(path, "rb") as handle:
        handle.seek(offset)  # the shard's first line: the lines before it are never parsed
        regions = pd.read_csv(handle, sep="\t", header=None, nrows=rows, dtype={0: str, 3: str})
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


# ------------------------------------------------------------------------------- FASTA


def open_fasta(path):
    """Open a FASTA file with pyfaidx, building its index when missing.

    Raises
    ------
    InputError
        When the file is absent, plain gzip (pyfaidx needs bgzip), or its index cannot
        be written.
    """
    import pyfaidx

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: expected a FASTA file, found no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b" and not magic[3] & 0x04:  # gzip without bgzip's extra field
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
    except ValueError as error:
        if "Duplicate key" in str(error):
            raise InputError(f"{path}: expected unique sequence names, found {error}") from None
        raise InputError(f"{path}: expected a valid FASTA file, found: {error}") from None


def contig_sizes(fasta) -> dict:
    """Return ``{contig: length}`` in FASTA order for an open pyfaidx.Fasta."""
    return {name: len(record) for name, record in fasta.records.items()}


def read_contig(fasta, chrom: str) -> np.ndarray:
    """One whole contig of an open pyfaidx.Fasta as upper-case ASCII codes (uint8).

    A plain FASTA is read straight from its bytes with the index's line layout; a bgzip
    one through pyfaidx.
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
    """Bases of the widest window (N padding included): the one-hot's length."""
    pads = regions.reindex(columns=PAD_COLUMNS, fill_value=0).to_numpy()
    widths = (regions["end"] - regions["start"]).to_numpy() + pads.sum(axis=1)
    return int(widths.max()) if len(regions) else 0


def iter_onehot(fasta, regions: pd.DataFrame, *, chunk: int = 8192):
    """One-hot windows of ``regions`` (:func:`fetch_onehot`) in blocks of ``chunk``
    consecutive rows, in order, so that they need never be in memory together.

    Each contig is read once when the regions come contig by contig (a sorted BED);
    otherwise a contig is read again wherever the regions return to it.
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
    """Fetch each region's + strand sequence (upper case), checking every window is whole."""
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
    """
    import re

    opener = gzip.open if _is_gzip(path) else open
    sequences, name, chunks, first_line = {}, None, [], {}
    bad = re.compile(r"[^ACGTNRYSWKMBDHVacgtnryswkmbdhv]")
    with opener(path, "rt") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line.startswith(">"):
                if name is not None:
                    sequences[name] = "".join(chunks)
                name, chunks = (line[1:].split() or [""])[0], []
                if not name or name in first_line:
                    found = (
                        f"{name!r} again (first on line {first_line.get(name)})" if name else "none"
                    )
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


def _is_gzip(path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def write_fasta(sequences: dict, path, *, width: int = 80) -> None:
    """Write ``{name: sequence}`` as a FASTA file with lines of ``width`` bases."""
    chunks = []
    for name, sequence in sequences.items():
        chunks.append(f">{name}\n")
        chunks.extend(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width))
    write_text("".join(chunks), path)


# ------------------------------------------------------------------------------ labels


def read_table(path) -> pd.DataFrame:
    """Read a TSV with a header as text, indexed by its ``name`` column (else its first)."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    key = "name" if "name" in table.columns else table.columns[0]
    table = table.set_index(key)
    if table.index.has_duplicates:
        duplicate = table.index[table.index.duplicated()][0]
        raise InputError(
            f"{path}: expected unique names in column {key!r}, found {duplicate!r} twice"
        )
    return table


def read_library_table(path, *, sequence_column: str = "sequence") -> dict:
    """Sequences of a library table (TSV): ``{name: sequence}`` in file order."""
    table = read_table(path)
    if sequence_column not in table.columns:
        raise InputError(
            f"{path}: expected a {sequence_column!r} column, found columns {list(table.columns)}"
        )
    sequences = table[sequence_column].str.strip()
    bad = sequences.str.contains(r"[^ACGTNRYSWKMBDHVacgtnryswkmbdhv]", regex=True)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{path}, line {row + 2}, column {sequence_column!r}: expected IUPAC "
            f"bases, found {sequences.iloc[row][:30]!r}"
        )
    return dict(sequences)


def read_labels(path, *, targets=None, exclude=()) -> pd.DataFrame:
    """Read a label table keyed by region name and check that targets are numbers.

    Parameters
    ----------
    path : str or Path
        A TSV with a header; its ``name`` column (or else its first column) holds region
        names.
    targets : list of str or None, optional
        Label columns to model. Default is None: every column whose values parse as
        numbers (a column of words, such as a group, is left out).
    exclude : sequence of str, optional
        Columns never taken as targets (a sequence, group or split column). Default is
        none.

    Returns
    -------
    labels : pandas.DataFrame
        Indexed by name, one float column per target; missing values are NaN.
    """
    table = read_table(path)
    missing = [t for t in targets or [] if t not in table.columns]
    if missing:
        raise InputError(
            f"{path}: expected target column(s) {missing}, found columns {list(table.columns)}"
        )
    columns = list(targets) if targets else [c for c in table.columns if c not in exclude]
    labels = {}
    for column in columns:
        values = table[column].str.strip()
        blank = values.isin(["", "NA", "NaN", "nan", "."])
        numbers = pd.to_numeric(values.where(~blank), errors="coerce")
        bad = numbers.isna() & ~blank
        if numbers.isna().all() and not targets:
            continue
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}, line {row + 2}, column {column!r}: expected a number, "
                f"found {values.iloc[row]!r}"
            )
        labels[column] = numbers.astype(float)
    if not labels:
        raise InputError(f"{path}: expected at least one numeric label column, found none")
    return pd.DataFrame(labels)


# ------------------------------------------------------------------------------ motifs


def read_meme(path) -> dict:
    """Read a MEME v4 file into ``{"<id> <name>": PPM of shape (4, L)}``, file order."""
    motifs, key, rows, width = {}, None, [], None
    with open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line.startswith("MOTIF"):
                key, rows, width = " ".join(line.split()[1:]), [], None
            elif key is not None and line.startswith("letter-probability"):
                fields = line.replace("= ", "=").split()
                width = int(dict(f.split("=") for f in fields if "=" in f).get("w", 0))
            elif key is not None and width and len(rows) < width and line:
                try:
                    rows.append([float(value) for value in line.split()])
                except ValueError:
                    raise InputError(
                        f"{path}, line {number}: expected 4 probabilities of motif {key!r}, "
                        f"found {line!r}"
                    ) from None
                if len(rows) == width:
                    motifs[key] = np.asarray(rows).T
    if not motifs:
        raise InputError(f"{path}: expected MEME motifs, found none")
    return motifs


class MotifDatabase(dict):
    """``{"<matrix id> <TF name>": PPM (4, L)}`` with the TF family of each motif that has
    one (``families``, ``{key: "family; family"}``)."""

    def __init__(self, motifs=(), families=None):
        super().__init__(motifs)
        self.families = dict(families or {})


def load_motif_database(database: str) -> MotifDatabase:
    """Load target motifs by name (``jaspar2024_vertebrates``) or from a MEME file.

    Names have the form ``jaspar<year>_<taxon>``: the CORE collection of that JASPAR
    release shipped with pyjaspar, latest version of each matrix, for the taxonomic
    group (``vertebrates``, ``insects``, ``plants``, ``fungi``, ``nematodes``,
    ``urochordates``) or ``all``.

    Returns
    -------
    motifs : MotifDatabase
        ``{"<matrix id> <TF name>": PPM of shape (4, L)}``; JASPAR's TF families in
        ``motifs.families`` (none for a MEME file).
    """
    if Path(database).suffix or os.sep in database:
        return MotifDatabase(read_meme(database))
    prefix, _, taxon = database.partition("_")
    if not prefix.lower().startswith("jaspar") or not taxon:
        raise InputError(
            f"motifs.database: expected 'jaspar<year>_<taxon>' or a MEME file path, "
            f"found {database!r}"
        )
    from pyjaspar import jaspardb

    release = "JASPAR" + prefix[len("jaspar") :]
    try:
        db = jaspardb(release=release)
    except Exception as error:  # pyjaspar raises bare exceptions on unknown releases
        raise InputError(f"motifs.database: unknown JASPAR release {release}: {error}") from None
    query = {} if taxon == "all" else {"tax_group": [taxon]}
    records = db.fetch_motifs(collection="CORE", all_versions=False, **query)
    if not records:
        raise InputError(f"motifs.database: expected motifs for {database!r}, found none")
    motifs, by_name = MotifDatabase(), {}
    for record in records:
        key = f"{record.matrix_id} {record.name}"
        counts = np.array([record.counts[base] for base in "ACGT"], dtype=float)
        motifs[key] = counts / counts.sum(axis=0)
        if record.tf_family:
            motifs.families[key] = "; ".join(record.tf_family)
            by_name.setdefault(record.name, set()).add(motifs.families[key])
    # a family is the TF's: a matrix JASPAR left without one (e.g. MA1618 Ptf1A) takes
    # that of the same TF's other matrices, where they agree
    for key in motifs.keys() - motifs.families.keys():
        known = by_name.get(key.split(" ", 1)[1], set())
        if len(known) == 1:
            motifs.families[key] = next(iter(known))
    return motifs


def write_meme(motifs: dict, path=None, *, nsites=None):
    """Write ``{name: PPM (4, L)}`` as MEME v4; return the text when ``path`` is None."""
    lines = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        "A 0.25 C 0.25 G 0.25 T 0.25",
        "",
    ]
    for name, ppm in motifs.items():
        sites = (nsites or {}).get(name, 20)
        lines.append(f"MOTIF {name}")
        lines.append(
            f"letter-probability matrix: alength= 4 w= {ppm.shape[1]} nsites= {sites} E= 0"
        )
        lines.extend(" ".join(f"{p:.6f}" for p in column) for column in ppm.T)
        lines.append("")
    text = "\n".join(lines) + "\n"
    if path is None:
        return text
    write_text(text, path)
    return None


def save_figure(fig, path) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")

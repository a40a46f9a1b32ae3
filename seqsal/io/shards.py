"""``.npz`` shards: written member by member or row block by row block in bounded
memory, read whole, row by row (:class:`NpzRows`) or memory-mapped across shards
(:class:`RowStack`)."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from .atomic import atomic_path
from .shard_kinds import array_header, check_onehot, check_shard, intact


def write_npz(path, *, compress: bool = False, **arrays) -> None:
    """Write arrays to an ``.npz`` file atomically (uncompressed unless ``compress``).

    Uncompressed members are written straight from the arrays' memory, without the
    copies ``numpy.savez`` makes, and can be memory-mapped by :func:`read_shards`.

    Parameters
    ----------
    path : str or Path
    compress : bool, optional
        zlib-compress the members. Default is False.
    **arrays
        ``{name: array}``.
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
    :class:`NpzStream`. On an error nothing is written.

    Parameters
    ----------
    path : str or Path

    Yields
    ------
    stream : NpzStream
    """
    import zipfile

    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        yield NpzStream(archive)


class NpzStream:
    """The members of an ``.npz`` being written: whole arrays (:meth:`add`), or one
    array's rows in order (:meth:`rows`), so that it never has to be in memory whole."""

    def __init__(self, archive):
        self.archive = archive

    def add(self, key, array) -> None:
        """Add the whole ``array`` as the member ``key``.

        Parameters
        ----------
        key : str
        array : array-like
        """
        array = np.ascontiguousarray(array)
        with self.rows(key, array.shape, array.dtype) as append:
            append(array)

    @contextlib.contextmanager
    def rows(self, key, shape, dtype):
        """Yield ``append(block)``: rows of ``key`` (``shape``, ``dtype``), in order.

        Parameters
        ----------
        key : str
        shape : tuple of int
        dtype : numpy.dtype or str

        Yields
        ------
        append : callable
            ``append(block)`` writes the next rows; the context checks that all were written.
        """
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

    Parameters
    ----------
    path : str or Path

    Yields
    ------
    add : callable
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
            for file in sorted(scratch.iterdir()):  # dated 1980, as numpy's own members
                member = zipfile.ZipInfo(file.name)
                with open(file, "rb") as source, archive.open(member, "w", force_zip64=True) as out:
                    shutil.copyfileobj(source, out, 1 << 24)
    except OSError as error:
        if error.filename is None:  # the scratch files are this output's
            error.filename = str(path)
        raise
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
    """Read every array of an ``.npz`` file into a dict, but ``skip`` (a name or names).

    Parameters
    ----------
    path : str or Path
    skip : str or sequence of str, optional
        Default is none.

    Returns
    -------
    arrays : dict
    """
    skip = {skip} if isinstance(skip, str) else set(skip)
    with (
        intact(path),
        open(path, "rb") as handle,
        np.load(handle, allow_pickle=False) as data,
    ):
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
    with (
        intact(path),
        open(path, "rb") as handle,
        np.load(handle, allow_pickle=False) as data,
    ):
        return data[key]


def npz_rows(path, key):
    """One ``.npz`` member as :class:`NpzRows` (read as used), or whole if compressed.

    Parameters
    ----------
    path : str or Path
    key : str
        The member's name, without ``.npy``.

    Returns
    -------
    rows : NpzRows or numpy.ndarray
    """
    layout = _npz_member_layout(path, key)
    return _read_member(path, key) if layout is None else NpzRows(path, layout)


def onehot_rows(path):
    """An encode shard's ``X`` as :func:`npz_rows` gives it, once the shard is checked to
    be one (:func:`~seqsal.io.shard_kinds.check_shard`) and ``X`` to be one-hot.

    Parameters
    ----------
    path : str or Path
        ``results/encode/<shard>.npz``.

    Returns
    -------
    X : NpzRows or numpy.ndarray, shape=(N, 4, L), dtype=uint8
    """
    check_shard(path, "encode")
    rows = npz_rows(path, "X")
    check_onehot(rows, path)
    return rows


def _npz_member_layout(path, key):
    """Byte offset, shape and dtype of an uncompressed ``.npz`` member; None if compressed."""
    import struct
    import zipfile

    with intact(path), zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        name_length, extra_length = struct.unpack("<HH", handle.read(30)[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        shape, fortran, dtype = array_header(handle)
        if fortran:
            return None
        return handle.tell(), shape, dtype


def _memmap_npz_member(path, key):
    """Memory-map one array stored uncompressed in an ``.npz``; None if it is compressed."""
    layout = _npz_member_layout(path, key)
    if layout is None:
        return None
    offset, shape, dtype = layout
    with intact(path):  # a member cut short does not fit the file
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def check_finite(array, path, key: str) -> None:
    """Refuse an array holding NaN or infinity, a row block at a time.

    Parameters
    ----------
    array : array-like, shape=(N, ...)
        In memory or memory-mapped.
    path : str or Path
        Its shard, named in the error.
    key : str
        Its member's name.

    Raises
    ------
    InputError
        Naming the shard, the member and the first row that is not finite.
    """
    rows = max(1, (1 << 23) // max(1, int(np.prod(array.shape[1:], dtype=np.int64))))
    for start in range(0, len(array), rows):
        bad = ~np.isfinite(np.asarray(array[start : start + rows], dtype=np.float32))
        if bad.any():
            row = start + int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])
            raise InputError(
                f"{path}: expected finite {key} values, found NaN or infinity in row {row}; "
                "the shard is damaged: delete it and rerun the stage that wrote it"
            )


def read_shards(
    paths, *, mmap_key: str | None = None, skip=(), finite=(), kind: str | None = None
) -> dict:
    """Read several ``.npz`` shards and concatenate their per-region arrays.

    Parameters
    ----------
    paths : list of str or Path
    mmap_key : str or None, optional
        An array (e.g. ``X``) left on disk: memory-mapped in each shard and returned as a
        :class:`RowStack`, so that only the rows used are read. Default is None.
    skip : tuple of str, optional
        Arrays not read at all. Default is none.
    finite : tuple of str, optional
        Arrays that must hold finite numbers (:func:`check_finite`, shard by shard).
        Default is none.
    kind : str or None, optional
        ``"encode"`` or ``"attribution"``: the arrays each shard must hold, checked
        (:func:`~seqsal.io.shard_kinds.check_shard`) before anything is read. Default
        is None: ``"encode"`` when ``mmap_key`` is ``X`` (whose one-hot content is then
        checked too), ``"attribution"`` when it is ``attr``.

    Returns
    -------
    data : dict
        Per-region arrays concatenated in shard order (``mmap_key`` as a RowStack);
        per-file arrays (``targets``) once.
    """
    kind = kind or {"X": "encode", "attr": "attribution"}.get(mmap_key)
    for path in paths if kind else ():
        check_shard(path, kind)
    shards = [read_npz(path, skip=(*skip, *([mmap_key] if mmap_key else []))) for path in paths]
    data = {}
    if mmap_key:
        parts = [_memmap_npz_member(path, mmap_key) for path in paths]
        if any(part is None for part in parts):  # compressed: read that array only
            parts = [_read_member(path, mmap_key) for path in paths]
        data[mmap_key] = RowStack(parts)
        for path, part in zip(paths, parts if mmap_key == "X" else ()):
            check_onehot(part, path)
        if mmap_key in finite:
            for path, part in zip(paths, parts):
                check_finite(part, path, mmap_key)
    for path, shard in zip(paths, shards):
        for key in set(finite) & set(shard):
            check_finite(shard[key], path, key)
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


def read_attributions(paths, regions, *, skip=(), mmap_key=None):
    """Attribution shards, and ``regions`` put in the shards' order.

    Parameters
    ----------
    paths : list of str or Path
        ``results/attribute/...`` shards.
    regions : pandas.DataFrame
        ``regions.bed`` (:func:`seqsal.io.bed.read_regions`).
    skip : tuple of str, optional
        Arrays not read. Default is none.
    mmap_key : str or None, optional
        The array left on disk (see :func:`read_shards`); the others are read, float16
        storage widened to float32. Default is None.

    Returns
    -------
    data : dict
        ``hyp`` (N, 4, L), ``attr`` (N, L), ``pred`` (N, T), ``names`` (N,), less ``skip``.
    regions : pandas.DataFrame
        The row of each shard region, in the shards' order.
    """
    data = read_shards(
        paths, skip=skip, mmap_key=mmap_key, finite=("attr", "pred"), kind="attribution"
    )
    for key in ("hyp", "attr"):  # float16 storage is widened once, here
        if key in data and key != mmap_key and data[key].dtype == np.float16:
            data[key] = data[key].astype(np.float32)
    return data, regions_in_order(regions, data["names"], paths[0])


def regions_in_order(regions, names, source):
    """The row of ``regions`` of each name, in the names' order.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``regions.bed`` (:func:`seqsal.io.bed.read_regions`).
    names : numpy.ndarray of str
        A shard's region names.
    source : str or Path
        The file the names come from, named in the error.

    Returns
    -------
    regions : pandas.DataFrame
    """
    import pandas as pd

    index = pd.Index(regions["name"]).get_indexer(names)
    if (index < 0).any():
        raise InputError(
            f"{source}: expected region names of the regions file, found {names[index < 0][0]!r}"
        )
    return regions.iloc[index].reset_index(drop=True)


def read_other_attributions(paths, regions, names, first):
    """Another run's ``attr`` (memory-mapped) of the same regions in the same order.

    Parameters
    ----------
    paths : list of str or Path
        That run's shards.
    regions : pandas.DataFrame
        ``regions.bed``.
    names : numpy.ndarray of str, shape=(N,)
        The first run's region names, in its order.
    first : str or Path
        The first run's first shard, named in the error.

    Returns
    -------
    attr : RowStack, shape=(N, L)
    """
    other, _ = read_attributions(paths, regions, skip=("hyp",), mmap_key="attr")
    if not np.array_equal(other["names"], names):
        raise InputError(f"{paths[0]}: expected the regions of {first}, in the same order")
    return other["attr"]

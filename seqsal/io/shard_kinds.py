"""What each kind of ``.npz`` shard holds (docs/design.md, Stages), checked where a shard
is read: its arrays by name, dtype and shape from their headers (nothing else is read),
and an encode shard's one-hot content block by block.

A shard of another kind, or arrays that do not fit, is refused in one line naming the
file and what it holds; a shard given in the wrong place is never called damaged.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from .text import check_regular_file

# the arrays each kind must hold: names once per row, what the stages read
KINDS = {
    "encode": ("X", "names"),
    "attribution": ("attr", "pred", "names"),
}
DESCRIBED = {
    "encode": "an encode shard (X, names: results/encode/<shard>.npz)",
    "attribution": "an attribution shard (attr, pred, names: results/attribute/<shard>.npz)",
}
BLOCK = 1 << 24  # one-hot entries checked at a time (16 MB of uint8)


@contextlib.contextmanager
def intact(path):
    """Turn what a truncated or overwritten ``.npz`` raises into one line naming it and,
    under ``results/``, the stage that wrote it (a missing file is left to the caller's
    message)."""
    import zipfile

    try:
        yield
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        parts = Path(path).parts
        # a stage's own output may be deleted and made again; a file of the user's never
        advice = (
            f"delete it and rerun {parts[parts.index('results') + 1]} (snakemake remakes a "
            "missing file)"
            if "results" in parts[:-2]
            else "is it the file you meant?"
        )
        raise InputError(
            f"{path}: expected a complete .npz shard, found a damaged one "
            f"({type(error).__name__}: {error}); {advice}"
        ) from None


def array_header(handle) -> tuple:
    """``(shape, fortran_order, dtype)`` from the ``.npy`` header at the handle's position
    (format 1.0 or 2.0), leaving the handle at the first byte of data.

    Parameters
    ----------
    handle : file object
        Opened in binary mode, at the start of an ``.npy`` member.

    Returns
    -------
    header : tuple
    """
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(handle)
    return np.lib.format.read_array_header_2_0(handle)


def shard_layout(path) -> dict:
    """``{array name: (shape, dtype)}`` of an ``.npz``, from the array headers alone.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    layout : dict

    Raises
    ------
    InputError
        For a file that is not a complete ``.npz``.
    """
    check_regular_file(path, "an .npz shard")
    with intact(path), zipfile.ZipFile(path) as archive:
        layout = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                shape, _, dtype = array_header(member)
            layout[info.filename[: -len(".npy")]] = (shape, dtype)
    return layout


def kind_of(layout: dict) -> str | None:
    """The kind of shard whose arrays ``layout`` holds, or None."""
    return next((kind for kind, keys in KINDS.items() if set(keys) <= set(layout)), None)


def check_shard(path, kind: str) -> dict:
    """Refuse a shard that is not of ``kind``, or whose arrays do not fit each other.

    Parameters
    ----------
    path : str or Path
    kind : str
        ``"encode"`` or ``"attribution"``.

    Returns
    -------
    layout : dict
        As :func:`shard_layout`.

    Raises
    ------
    InputError
        One line: the file, the kind expected, what it holds.
    """
    layout = shard_layout(path)
    missing = [key for key in KINDS[kind] if key not in layout]
    if missing:
        found = kind_of(layout)
        held = DESCRIBED[found] if found else f"arrays {sorted(layout)}"
        raise InputError(f"{path}: expected {DESCRIBED[kind]}, found {held}")
    (n,), names = _shape(path, layout, "names", 1), layout["names"][1]
    if names.kind != "U":
        raise InputError(f"{path}: expected region names as text, found names of dtype {names}")
    if kind == "encode":
        shape, dtype = layout["X"]
        if dtype != np.uint8 or len(shape) != 3 or shape[1] != 4:
            raise InputError(
                f"{path}: expected X as uint8 one-hot of shape (N, 4, L), found {dtype} of "
                f"shape {shape}"
            )
        rows = {"X": shape[0]}
    else:
        attr = _shape(path, layout, "attr", 2)
        rows = {"attr": attr[0], "pred": _shape(path, layout, "pred", 2)[0]}
        if "hyp" in layout:
            hyp = _shape(path, layout, "hyp", 3)
            if hyp[1:] != (4, attr[1]):
                raise InputError(
                    f"{path}: expected hyp of shape (N, 4, {attr[1]}) beside attr {attr}, "
                    f"found {hyp}"
                )
            rows["hyp"] = hyp[0]
    wrong = {key: count for key, count in rows.items() if count != n}
    if wrong:
        raise InputError(f"{path}: expected {n} rows (one per name), found {wrong}")
    return layout


def _shape(path, layout, key, ndim) -> tuple:
    shape, dtype = layout[key]
    if len(shape) != ndim or dtype.kind not in "fuiU":
        raise InputError(f"{path}: expected {key} with {ndim} dimension(s), found {shape} {dtype}")
    return shape


def check_onehot(X, path) -> None:
    """Refuse an ``X`` that is not one-hot: every entry 0 or 1, at most one 1 per base
    (``N`` is all zeros), read a block of rows at a time.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L), dtype=uint8
        In memory, memory-mapped or :class:`~seqsal.io.shards.NpzRows`.
    path : str or Path
        Its shard, named in the error.

    Raises
    ------
    InputError
        Naming the shard and the first row that is not one-hot.
    """
    step = max(1, BLOCK // max(1, int(np.prod(X.shape[1:], dtype=np.int64))))
    for start in range(0, len(X), step):
        block = np.asarray(X[start : start + step])
        bad = (block > 1).any(axis=(1, 2)) | (block.sum(axis=1, dtype=np.int64) > 1).any(axis=1)
        if bad.any():
            row = start + int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{path}: expected X one-hot (0 or 1, at most one base per position), found "
                f"row {row} holding {np.unique(block[bad][0]).tolist()[:5]}, a position "
                f"summing to {int(block[bad][0].sum(axis=0, dtype=np.int64).max())}"
            )

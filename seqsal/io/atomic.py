"""Atomic writes: a temporary file in the same folder, then a rename, so that an
interrupted run never leaves a truncated file that looks complete."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


# TSV in this field has no quoting: a " is part of a name, never the start of a quoted field
NO_QUOTES = csv.QUOTE_NONE


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
    except OSError as error:
        if error.filename is None:  # a failed write names no file: name the output
            error.filename = str(path)
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(text: str, path) -> None:
    """Write ``text`` to ``path`` atomically.

    Parameters
    ----------
    text : str
    path : str or Path
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_tsv(df: pd.DataFrame, path, *, header: bool = True) -> None:
    """Write a DataFrame as tab-separated text, atomically, without the index.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path
    header : bool, optional
        Default is True.
    """
    text = df.to_csv(sep="\t", index=False, header=header, lineterminator="\n", quoting=NO_QUOTES)
    write_text(text, path)


def save_figure(fig, path) -> None:
    """Save a matplotlib figure as PNG, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
    """
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")

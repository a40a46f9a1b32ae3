"""seqsal's errors: each subclasses a builtin, and each message names the file, line or
argument, what was expected and what was found.

The CLI turns an :class:`InputError` (or an OSError a user can act on: :func:`one_line`)
into one line on stderr and exit status 1.
"""

from __future__ import annotations

import errno


class InputError(ValueError):
    """A user's input is malformed; the message names file, line or key, expected, found."""


class SequenceError(ValueError):
    """A sequence holds a character that is not an IUPAC nucleotide code.

    ``row`` and ``offset`` say where (sequence index, 0-based position), ``found`` what.
    """

    def __init__(self, row: int, offset: int, found: str):
        self.row, self.offset, self.found = row, offset, found
        super().__init__(
            f"expected IUPAC nucleotide codes, found {found!r} at offset {offset} of sequence {row}"
        )


class ConvergenceError(InputError):
    """DeepLIFT-SHAP attributions of some regions do not sum to their output difference.

    ``rows`` are the regions' indices, ``deltas`` their relative summation errors.
    """

    def __init__(self, message, rows, deltas):
        super().__init__(message)
        self.rows, self.deltas = rows, deltas


def one_line(error: Exception) -> str | None:
    """The one line a known failure gets: the file, what was expected, what was found.

    Parameters
    ----------
    error : Exception
        An :class:`~seqsal.errors.InputError` (its message is that line), or an OSError
        of a kind a user can act on.

    Returns
    -------
    line : str or None
        None for an error of no known kind.
    """
    if isinstance(error, InputError):
        return str(error)
    where = error.filename or "a file"
    if isinstance(error, FileNotFoundError):
        return f"{where}: expected a file, found none"
    if isinstance(error, IsADirectoryError):
        return f"{where}: expected a file, found a directory"
    if isinstance(error, PermissionError):
        return f"{where}: expected a file seqsal may read or write, found no permission"
    if isinstance(error, FileExistsError):
        return f"{where}: expected a folder (or nothing) there, found a file"
    if isinstance(error, NotADirectoryError):
        return f"{where}: expected a path through folders, found a file on the way"
    if error.errno == errno.ENOSPC:
        return f"{where}: no space left on device while writing it; free space and rerun"
    if error.errno == errno.EROFS:
        return f"{where}: expected a folder seqsal may write in, found a read-only file system"
    if error.filename is not None and error.strerror:
        return f"{where}: expected a file seqsal may read or write, found: {error.strerror}"
    return None


def last_line(error: Exception, limit: int = 160) -> str:
    """The last line of an exception's message (the one that says what went wrong, in
    torch's multi-line errors), or its type's name when it has none; cut at ``limit``.

    Parameters
    ----------
    error : Exception
    limit : int, optional
        Default is 160.

    Returns
    -------
    line : str
    """
    return (str(error).strip().splitlines() or [type(error).__name__])[-1].strip()[:limit]

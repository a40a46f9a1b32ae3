"""Text files as seqsal reads them: plain or gzip (told by its magic bytes, not its name),
UTF-8, line by line; bytes that are not text, or a damaged gzip stream, end the read with
one line naming the file and the line."""

from __future__ import annotations

import gzip
import zlib

from ..errors import InputError


def is_gzip(path) -> bool:
    """Whether a file starts with gzip's magic bytes (bgzip's too).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    gzipped : bool
    """
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def text_lines(path):
    """Yield ``(line number, line)`` of a text file, line endings kept.

    Parameters
    ----------
    path : str or Path
        Plain text or gzip-compressed text, UTF-8.

    Yields
    ------
    number : int
        1-based.
    line : str

    Raises
    ------
    InputError
        On bytes that are not UTF-8 text (a binary file), or a damaged gzip stream,
        naming the line where it happens.
    """
    opener = gzip.open if is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as handle:  # decoded line by line: errors know their line
            for number, line in enumerate(handle, start=1):
                yield number, line.decode("utf-8")
    except UnicodeDecodeError as error:
        found = error.object[error.start : error.start + 4]
        raise InputError(
            f"{path}, line {number}: expected text (UTF-8), found bytes that are not "
            f"({found!r}); is it the file you meant?"
        ) from None
    except (EOFError, OSError, zlib.error) as error:
        if isinstance(error, FileNotFoundError | IsADirectoryError | PermissionError):
            raise
        raise InputError(
            f"{path}, line {number + 1}: expected a complete gzip file, found a damaged one "
            f"({error})"
        ) from None

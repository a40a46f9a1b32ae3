"""Text files as seqsal reads them: plain or gzip (told by its magic bytes, not its name),
UTF-8, line by line; bytes that are not text, or a damaged gzip stream, end the read with
one line naming the file and the line."""

from __future__ import annotations

import gzip
import os
import zlib

from ..errors import InputError

# The longest line a text file (BED, VCF, labels, MEME, a library FASTA, whose long
# sequences wrap) may hold: a BED line of a megabyte is not a BED line, and a file
# without line ends (/dev/zero, a binary) would otherwise be read whole into memory.
# A genome FASTA is read by pyfaidx, through its index, a contig on one line included.
MAX_LINE = 1 << 20


def check_regular_file(path, what: str = "a file") -> None:
    """Refuse what is not a regular file (a device such as ``/dev/zero``, a pipe, a
    folder) before it is read: such a stream has no end, and no line ends, to stop at.

    Parameters
    ----------
    path : str or Path
    what : str, optional
        What was expected, named in the error. Default is "a file".

    Raises
    ------
    InputError
        Naming the path and what it is.
    """
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: expected {what}, found no such file") from None
    if not stat.S_ISREG(mode):
        kinds = {stat.S_ISDIR: "a directory", stat.S_ISCHR: "a character device"}
        kinds.update({stat.S_ISFIFO: "a pipe", stat.S_ISBLK: "a block device"})
        found = next((name for test, name in kinds.items() if test(mode)), "not a plain file")
        raise InputError(f"{path}: expected {what}, found {found}")


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


def is_plain_gzip(path) -> bool:
    """Whether a file is gzip without bgzip's blocks, which indexed readers (pyfaidx,
    htslib) cannot seek in.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    plain : bool
    """
    with open(path, "rb") as handle:
        magic = handle.read(4)
    return magic[:2] == b"\x1f\x8b" and not (len(magic) == 4 and magic[3] & 0x04)


def text_lines(path, *, max_line: int = MAX_LINE):
    """Yield ``(line number, line)`` of a text file, line endings kept.

    Parameters
    ----------
    path : str or Path
        Plain text or gzip-compressed text, UTF-8.
    max_line : int, optional
        The longest line read, in bytes; a longer one ends the read. Default is
        :data:`MAX_LINE` (1 MiB).

    Yields
    ------
    number : int
        1-based.
    line : str

    Raises
    ------
    InputError
        On bytes that are not UTF-8 text (a binary file), a line longer than
        ``max_line`` or a damaged gzip stream, naming the line where it happens.
    """
    check_regular_file(path)
    opener = gzip.open if is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as handle:  # decoded line by line: errors know their line
            for number, line in enumerate(iter(lambda: handle.readline(max_line + 1), b""), 1):
                if len(line) > max_line:
                    raise InputError(
                        f"{path}, line {number}: expected a line of at most {max_line} bytes, "
                        f"found a longer one ({line[:12]!r}...); is it the file you meant?"
                    )
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

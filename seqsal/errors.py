"""seqsal's errors: each subclasses a builtin, and each message names the file, line or
argument, what was expected and what was found.

The CLI turns an :class:`InputError` into one line on stderr and exit status 1.
"""

from __future__ import annotations


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

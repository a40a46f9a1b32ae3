"""One-hot encoding of DNA: (N, 4, L) uint8 in ACGT order, N and IUPAC codes as zeros."""

from __future__ import annotations

import numpy as np

ALPHABET = "ACGT"
IUPAC = set("ACGTNRYSWKMBDHV")

_LOOKUP = np.full(256, 4, dtype=np.uint8)
for _index, _base in enumerate(ALPHABET):
    _LOOKUP[ord(_base)] = _index
    _LOOKUP[ord(_base.lower())] = _index


def one_hot_encode(sequences) -> np.ndarray:
    """Encode equal-length sequences as a one-hot array.

    Parameters
    ----------
    sequences : list of str
        DNA sequences, all of the same length. Lowercase is read as uppercase; ``N`` and
        other IUPAC codes become all-zero columns.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        One-hot sequences in ACGT order.
    """
    lengths = {len(s) for s in sequences}
    if len(lengths) > 1:
        raise ValueError(f"sequences: expected one length, found lengths {sorted(lengths)}")
    length = lengths.pop() if lengths else 0
    codes = np.frombuffer("".join(sequences).encode("ascii"), dtype=np.uint8)
    index = _LOOKUP[codes].reshape(len(sequences), length)
    X = np.zeros((len(sequences), 5, length), dtype=np.uint8)
    np.put_along_axis(X, index[:, None, :], 1, axis=1)
    return X[:, :4]


def one_hot_to_sequences(X: np.ndarray) -> list:
    """Decode a one-hot array back to strings; all-zero columns become ``N``."""
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    index = np.where(X.any(axis=1), X.argmax(axis=1), 4)
    return [letters[row].tobytes().decode("ascii") for row in index]


def reverse_complement(X: np.ndarray) -> np.ndarray:
    """Reverse-complement one-hot sequences (or any (N, 4, L) array in ACGT order)."""
    return X[:, ::-1, ::-1]


def encode_regions(sequences, strands) -> np.ndarray:
    """One-hot encode + strand sequences, reverse-complementing the ``-`` strand ones.

    Parameters
    ----------
    sequences : list of str
        Each region's sequence read on the + strand of the reference.
    strands : sequence of str
        ``+``, ``-`` or ``.`` per region; ``.`` is read as ``+``.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        One-hot sequences, each on its region's own strand.
    """
    X = one_hot_encode(sequences)
    minus = np.asarray(strands) == "-"
    X[minus] = reverse_complement(X[minus])
    return np.ascontiguousarray(X)

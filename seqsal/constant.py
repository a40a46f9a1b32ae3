"""Stretches every sequence shares: a library's primers, adapters and the constant bases of
its cloning design, found from the sequences themselves.

A stretch shared by (nearly) every sequence cannot explain why their outputs differ, yet a
model's maps can give it weight and seqlets can reach into it. A k-mer is *shared* when it
occurs in at least ``share`` of the sequences; k is the shortest length at which a random
k-mer occurs in under 5% of random sequences of the regions' length (6 for a 200 bp
library, 8 for 1 kb regions), so chance k-mers are never shared, while a constant stretch
of k bases or more is, wherever it sits (a spacer of variable length moves it). Genomic
regions share none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Constant", "find_constant", "sample_rows", "shared_length"]

#: Share of the sequences a k-mer must occur in to be shared.
SHARE = 0.9

#: Rows read to find the shared k-mers (evenly spaced through the regions).
MAX_ROWS = 5000


def sample_rows(n: int, max_rows: int = MAX_ROWS) -> np.ndarray:
    """Up to ``max_rows`` evenly spaced rows of ``n``, the rows :func:`find_constant` reads.

    Parameters
    ----------
    n : int
    max_rows : int, optional
        Default is :data:`MAX_ROWS`.

    Returns
    -------
    rows : numpy.ndarray of int
    """
    if not n:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, min(n, max_rows)).astype(np.int64))


def shared_length(length: int) -> int:
    """The k-mer length for sequences of ``length`` bases: the shortest at which a random
    k-mer occurs in under 5% of random sequences (at least 6, at most 10).

    Parameters
    ----------
    length : int

    Returns
    -------
    k : int
    """
    return int(np.clip(np.ceil(np.log(max(length, 1) / 0.05) / np.log(4)), 6, 10))


def _kmer_codes(onehot: np.ndarray, k: int) -> np.ndarray:
    """Each k-mer of ``onehot`` (n, 4, W) as a base-4 integer, -1 where it holds an N."""
    present = np.asarray(onehot).sum(axis=1) > 0
    base = np.asarray(onehot).argmax(axis=1).astype(np.int64)
    n, width = base.shape
    if width < k:
        return np.full((n, 0), -1, dtype=np.int64)
    codes = np.zeros((n, width - k + 1), dtype=np.int64)
    valid = np.ones((n, width - k + 1), dtype=bool)
    for j in range(k):
        codes = codes * 4 + base[:, j : width - k + 1 + j]
        valid &= present[:, j : width - k + 1 + j]
    return np.where(valid, codes, -1)


@dataclass(frozen=True)
class Constant:
    """The k-mers shared by nearly every sequence (see the module's notes).

    Parameters
    ----------
    k : int
        Their length.
    codes : numpy.ndarray of int
        The shared k-mers as base-4 integers (A=0, C=1, G=2, T=3), sorted.
    stretches : tuple of str
        The shared k-mers joined where they overlap by k - 1 bases: the constant
        stretches as read.
    """

    k: int
    codes: np.ndarray
    stretches: tuple

    def __bool__(self) -> bool:
        return len(self.codes) > 0

    def mask(self, onehot: np.ndarray) -> np.ndarray:
        """Which bases of ``onehot`` (n, 4, W) lie in an occurrence of a shared k-mer.

        Parameters
        ----------
        onehot : numpy.ndarray, shape=(n, 4, W)

        Returns
        -------
        mask : numpy.ndarray of bool, shape=(n, W)
        """
        onehot = np.asarray(onehot)
        n, _, width = onehot.shape
        mask = np.zeros((n, width), dtype=bool)
        if not self or width < self.k:
            return mask
        hit = np.isin(_kmer_codes(onehot, self.k), self.codes)
        for j in range(self.k):  # a hit at i covers bases i .. i + k - 1
            mask[:, j : j + hit.shape[1]] |= hit
        return mask


def find_constant(X, *, share: float = SHARE, max_rows: int = MAX_ROWS) -> Constant:
    """The k-mers that at least ``share`` of the sequences hold (anywhere in them).

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
        One-hot sequences (memory-mapped: only ``max_rows`` evenly spaced rows are read).
    share : float, optional
        Default is :data:`SHARE`.
    max_rows : int, optional
        Default is :data:`MAX_ROWS`.

    Returns
    -------
    constant : Constant
    """
    k = shared_length(X.shape[-1])
    rows = sample_rows(len(X), max_rows)
    codes = _kmer_codes(np.asarray(X[rows]), k) if len(rows) else np.zeros((0, 0), np.int64)
    # each k-mer counted once per sequence: its code offset by the row, made unique
    tagged = codes + np.arange(len(codes))[:, None] * 4**k
    present = np.unique(tagged[codes >= 0]) % 4**k
    counts = np.bincount(present, minlength=4**k)
    shared = np.flatnonzero(counts >= share * max(len(rows), 1)).astype(np.int64)
    return Constant(k, shared, tuple(_join([_spell(c, k) for c in shared], k)))


def _spell(code: int, k: int) -> str:
    letters = []
    for _ in range(k):
        code, base = divmod(int(code), 4)
        letters.append("ACGT"[base])
    return "".join(reversed(letters))


def _join(kmers: list, k: int) -> list:
    """Overlapping k-mers (by k - 1 bases) joined into the stretches they spell."""
    left = set(kmers)
    stretches = []
    while left:
        stretch = left.pop()
        grown = True
        while grown:
            grown = False
            for kmer in list(left):
                if kmer[:-1] == stretch[-(k - 1) :]:
                    stretch, grown = stretch + kmer[-1], True
                elif kmer[1:] == stretch[: k - 1]:
                    stretch, grown = kmer[0] + stretch, True
                else:
                    continue
                left.discard(kmer)
        stretches.append(stretch)
    return sorted(stretches)

"""References and shuffles: each region's dinucleotide-shuffled references (seeded by
its name), and the shuffled regions whose attributions make the seqlet null."""

from __future__ import annotations

import zlib

import numpy as np
import torch

from ..encode import dinucleotide_shuffle, one_hot_encode, one_hot_to_sequences
from ..errors import InputError


def region_keys(names) -> np.ndarray:
    """A stable integer per region name (its CRC-32): seeds each region's own random
    draws, so that they do not depend on the batch, shard or order the region is in.

    Parameters
    ----------
    names : array-like of str, shape=(N,)

    Returns
    -------
    keys : numpy.ndarray of int64, shape=(N,)
    """
    return np.array([zlib.crc32(str(name).encode()) for name in names], dtype=np.int64)


def shuffled_references(X: np.ndarray, n: int, *, seed=0, keys=None) -> np.ndarray:
    """``n`` dinucleotide-shuffled copies of each one-hot sequence, shape (N, n, 4, L).

    Row ``i`` is shuffled with its own generator seeded by ``(seed, keys[i])`` (``seed``
    may be a sequence of ints; ``keys`` defaults to the row index), so that the
    references of a region depend on its key only, not on the rows beside it.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)
        One-hot sequences.
    n : int
        Shuffles per sequence.
    seed : int or sequence of int, optional
        Default is 0.
    keys : array-like of int or None, optional
        One key per row (:func:`region_keys`). Default is None: the row index.

    Returns
    -------
    references : numpy.ndarray, shape=(N, n, 4, L), dtype=float32
    """
    sequences = one_hot_to_sequences(np.asarray(X))
    keys = np.arange(len(sequences)) if keys is None else np.asarray(keys)
    out = np.zeros((len(X), n, 4, X.shape[-1]), dtype=np.float32)
    for i, sequence in enumerate(sequences):
        rng = np.random.default_rng([*np.atleast_1d(seed), keys[i]])
        shuffles = [dinucleotide_shuffle(sequence, rng=rng) for _ in range(n)]
        out[i] = one_hot_encode(shuffles)
    return out


class ShuffledRows:
    """Dinucleotide-shuffled copies of some rows of ``X``, made a batch at a time as they
    are indexed: the sequences whose attributions make the seqlet null (see
    :func:`null_sample`).

    Row ``j`` is one shuffle of ``X[rows[j]]``, seeded by ``(seed, 1, keys[j])``: a draw
    apart from that region's references.
    """

    def __init__(self, X, rows, keys, *, seed: int = 0):
        self.X, self.rows, self.keys, self.seed = X, np.asarray(rows), np.asarray(keys), seed
        self.shape = (len(self.rows), 4, X.shape[-1])
        self.ndim = 3

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, rows: slice) -> np.ndarray:
        source = np.zeros((0, *self.shape[1:]), np.float32)
        source = np.concatenate([source, *(self.X[r : r + 1] for r in self.rows[rows])])
        return shuffled_references(source, 1, seed=(self.seed, 1), keys=self.keys[rows])[:, 0]


def null_sample(keys, fraction: float, *, seed: int = 0) -> np.ndarray:
    """Rows whose shuffled copies make the seqlet null: each region is in with
    probability ``fraction``, decided by its key alone (so that the sample does not
    depend on how regions are sharded).

    Parameters
    ----------
    keys : array-like of int, shape=(N,)
        The regions' :func:`region_keys`.
    fraction : float
        Probability that a region is drawn, 0 to 1.
    seed : int, optional
        Default is 0.

    Returns
    -------
    rows : numpy.ndarray of int
        The rows drawn, ascending.
    """
    if not 0 <= fraction <= 1:
        raise InputError(f"null fraction: expected 0 to 1, found {fraction}")
    draws = [np.random.default_rng([seed, 2, key]).random() for key in np.asarray(keys)]
    return np.flatnonzero(np.asarray(draws) < fraction)


def shuffle_null_regions(X, names, fraction: float, *, seed: int = 0):
    """The seqlet null's inputs: one dinucleotide shuffle of each of some regions.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
        One-hot sequences (read row by row).
    names : numpy.ndarray of str, shape=(N,)
        Region names: they choose the regions and seed their shuffles, so that any
        sharding gives the same null.
    fraction : float
        Share of the regions shuffled.
    seed : int, optional
        Default is 0.

    Returns
    -------
    X : ShuffledRows, shape=(M, 4, L)
        The shuffled sequences, made as they are read.
    names : numpy.ndarray of str, shape=(M,)
        The names of the regions shuffled.
    keys : numpy.ndarray of int, shape=(M,)
        Their :func:`region_keys`.
    """
    keys = region_keys(names)
    rows = null_sample(keys, fraction, seed=seed)
    return ShuffledRows(X, rows, keys[rows], seed=seed), names[rows], keys[rows]


def batch_references(x, x_np, rows, run):
    """Baselines/references (B, K, 4, L) of one batch.

    Parameters
    ----------
    x : torch.Tensor, shape=(B, 4, L)
        The batch, on the device.
    x_np : numpy.ndarray, shape=(B, 4, L)
        The same batch, as read.
    rows : slice
        The batch's rows of the whole input.
    run : types.SimpleNamespace
        The run's options: ``references`` (given ones, or None), ``method``,
        ``baseline``, ``n_shuffles``, ``seed``, ``keys``.

    Returns
    -------
    references : torch.Tensor, shape=(B, K, 4, L)
    """
    if run.references is not None:
        refs = torch.as_tensor(np.asarray(run.references[rows]), device=x.device).float()
        return refs if refs.ndim == 4 else refs[:, None]
    if run.method == "integrated_gradients" and run.baseline != "shuffle":
        value = 0.0 if run.baseline == "zeros" else 0.25
        return torch.full_like(x, value)[:, None]
    keys = np.arange(rows.start, rows.stop) if run.keys is None else run.keys[rows]
    refs = shuffled_references(x_np, run.n_shuffles, seed=run.seed, keys=keys)
    return torch.as_tensor(refs, device=x.device)

"""Seqlets clustered on their contribution matrices: a greedy pass seeds clusters from the
strongest seqlets, then k-means-style rounds re-align members to their centroid (cosine
similarity maximised over shifts and both strands), merge near-duplicates and drop
clusters with too few members."""

from __future__ import annotations

import numpy as np

from ..encode import reverse_complement


def extract_windows(arrays, region_index, offset, *, width: int) -> np.ndarray:
    """Cut ``(N, 4, L)`` arrays at ``[offset, offset + width)``, zero-padded at the edges.

    ``arrays`` may be memory-mapped (:class:`seqsal.io.RowStack`): only the rows named in
    ``region_index`` are read.

    Parameters
    ----------
    arrays : array-like, shape=(N, 4, L)
    region_index, offset : numpy.ndarray of int, shape=(S,)
    width : int

    Returns
    -------
    windows : numpy.ndarray, shape=(S, 4, width)
    """
    rows, inverse = np.unique(np.asarray(region_index, dtype=np.int64), return_inverse=True)
    block = np.asarray(arrays[rows])
    length = block.shape[-1]
    pad = np.pad(block, ((0, 0), (0, 0), (width, width)))
    columns = np.asarray(offset)[:, None] + width + np.arange(width)[None, :]
    columns = np.clip(columns, 0, length + 2 * width - 1)
    return pad[inverse.reshape(-1)[:, None, None], np.arange(4)[None, :, None], columns[:, None, :]]


def _aligned_similarity(
    windows: np.ndarray, centroids: np.ndarray, max_shift: int, both_strands: bool = True
):
    """Best cosine similarity of each window to each centroid over shifts and strands
    (only as given, for oriented sequences, without ``both_strands``).

    Returns arrays of shape (n, k): similarity, shift and strand (0 = as is, 1 = reverse
    complement) of the best alignment.
    """
    n, _, width = windows.shape
    strands = [windows, reverse_complement(windows)] if both_strands else [windows]
    both = np.stack(strands, axis=1)  # (n, strands, 4, W)
    padded = np.pad(both, ((0, 0), (0, 0), (0, 0), (max_shift, max_shift)))
    c_norm = np.linalg.norm(centroids.reshape(len(centroids), -1), axis=1) + 1e-12
    best = np.full((n, len(centroids)), -np.inf)
    best_shift = np.zeros((n, len(centroids)), dtype=int)
    best_strand = np.zeros((n, len(centroids)), dtype=int)
    for s in range(-max_shift, max_shift + 1):
        view = padded[..., max_shift + s : max_shift + s + width]  # (n, 2, 4, W)
        norms = np.linalg.norm(view.reshape(n, len(strands), -1), axis=2) + 1e-12
        sim = np.einsum("nsaw,kaw->nsk", view, centroids) / norms[..., None] / c_norm
        strand = sim.argmax(axis=1)
        value = sim.max(axis=1)
        better = value > best
        best = np.where(better, value, best)
        best_shift = np.where(better, s, best_shift)
        best_strand = np.where(better, strand, best_strand)
    return best, best_shift, best_strand


def align_windows(windows, shift, strand, max_shift):
    """Apply per-window strand flips and shifts, as found by :func:`_aligned_similarity`."""
    width = windows.shape[-1]
    oriented = np.where(strand[:, None, None] == 1, reverse_complement(windows), windows)
    padded = np.pad(oriented, ((0, 0), (0, 0), (max_shift, max_shift)))
    columns = max_shift + shift[:, None] + np.arange(width)[None, :]
    return np.take_along_axis(padded, columns[:, None, :].repeat(4, axis=1), axis=2)


def _seed_centroids(
    windows, order, *, min_similarity, max_shift, max_motifs, both_strands, centroids=None
):
    """Greedy seeds: each window in ``order`` unlike every centroid so far starts one."""
    centroids = [] if centroids is None else list(centroids)
    if not centroids:
        centroids, order = [windows[order[0]]], order[1:]
    for i in order:
        if len(centroids) >= max_motifs:
            break
        sim, _, _ = _aligned_similarity(
            windows[i : i + 1], np.stack(centroids), max_shift, both_strands
        )
        if sim.max() < min_similarity:
            centroids.append(windows[i])
    return np.stack(centroids)


def cluster_seqlets(
    windows: np.ndarray,
    strength: np.ndarray,
    *,
    min_similarity: float = 0.6,
    merge_similarity: float = 0.8,
    max_shift: int = 5,
    max_motifs: int = 20,
    min_seqlets: int = 20,
    n_iter: int = 5,
    both_strands: bool = True,
):
    """Cluster seqlet contribution windows into motifs.

    Parameters
    ----------
    windows : numpy.ndarray, shape=(n, 4, W)
        Each seqlet's contributions (``hyp * X``) with flanks.
    strength : numpy.ndarray, shape=(n,)
        Seeding order: strongest (e.g. largest |attribution sum|) first.
    min_similarity : float, optional
        Cosine similarity a seqlet needs to join a motif. Default is 0.6.
    merge_similarity : float, optional
        Motifs whose centroids are this similar are merged. Default is 0.8.
    max_shift : int, optional
        Largest shift (bases) tried when aligning. Default is 5.
    max_motifs : int, optional
        Most clusters seeded. Default is 20.
    min_seqlets : int, optional
        Clusters with fewer members are dissolved. Default is 20.
    n_iter : int, optional
        Refinement rounds. Default is 5.
    both_strands : bool, optional
        Align a seqlet to a motif on either strand; False for oriented sequences, where a
        motif and its reverse complement are different elements. Default is True.

    Returns
    -------
    labels : numpy.ndarray of int, shape=(n,)
        Motif index per seqlet (0 = most seqlets), -1 for none.
    shift, strand : numpy.ndarray of int, shape=(n,)
        Alignment of each seqlet to its motif's centroid.
    """
    if len(windows) == 0:
        empty = np.zeros(0, dtype=int)
        return empty, empty, empty
    order = np.argsort(-np.asarray(strength), kind="stable")
    centroids = _seed_centroids(
        windows,
        order,
        min_similarity=min_similarity,
        max_shift=max_shift,
        max_motifs=max_motifs,
        both_strands=both_strands,
    )
    for iteration in range(n_iter):
        sim, shifts, strands = _aligned_similarity(windows, centroids, max_shift, both_strands)
        labels = np.where(sim.max(axis=1) >= min_similarity, sim.argmax(axis=1), -1)
        rows = np.arange(len(windows))
        shift, strand = shifts[rows, labels.clip(0)], strands[rows, labels.clip(0)]
        aligned = align_windows(windows, shift, strand, max_shift)
        counts = np.bincount(labels[labels >= 0], minlength=len(centroids))
        keep = np.flatnonzero(counts >= min_seqlets)
        centroids = (
            np.stack([aligned[labels == k].mean(axis=0) for k in keep])
            if len(keep)
            else centroids[:0]
        )
        centroids = _merge_centroids(
            centroids, counts[keep], merge_similarity, max_shift, both_strands
        )
        # seqlets no motif took seed again: a greedy seed can fall near a stronger motif
        # and leave a weaker one's seqlets without a centroid of their own
        left = order[labels[order] == -1]
        if iteration < n_iter - 2 and len(left) >= min_seqlets and len(centroids) < max_motifs:
            centroids = _seed_centroids(
                windows,
                left,
                min_similarity=min_similarity,
                max_shift=max_shift,
                max_motifs=max_motifs,
                both_strands=both_strands,
                centroids=centroids,
            )
        if len(centroids) == 0:
            return (
                np.full(len(windows), -1),
                np.zeros(len(windows), int),
                np.zeros(len(windows), int),
            )
    sim, shifts, strands = _aligned_similarity(windows, centroids, max_shift, both_strands)
    labels = np.where(sim.max(axis=1) >= min_similarity, sim.argmax(axis=1), -1)
    counts = np.bincount(labels[labels >= 0], minlength=len(centroids))
    rank = np.argsort(-counts, kind="stable")
    relabel = np.full(len(centroids) + 1, -1)
    relabel[rank] = np.where(counts[rank] >= min_seqlets, np.arange(len(rank)), -1)
    rows = np.arange(len(windows))
    return relabel[labels], shifts[rows, labels.clip(0)], strands[rows, labels.clip(0)]


def _merge_centroids(centroids, counts, merge_similarity, max_shift, both_strands=True):
    """Drop each centroid that aligns to a larger one above ``merge_similarity``."""
    keep = []
    for k in np.argsort(-counts, kind="stable"):
        if keep:
            sim, _, _ = _aligned_similarity(
                centroids[k : k + 1], centroids[keep], max_shift, both_strands
            )
            if sim.max() >= merge_similarity:
                continue
        keep.append(k)
    return centroids[sorted(keep)]

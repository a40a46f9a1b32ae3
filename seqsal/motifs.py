"""Group seqlets into motifs, build their PPMs and CWMs, and name them with TOMTOM.

Seqlets are clustered on their contribution matrices (``hyp * X`` around each seqlet)
with a cosine similarity maximised over shifts and both strands: a greedy pass seeds
clusters from the strongest seqlets, then a few k-means-style rounds re-align members
to their centroid, merge near-duplicate clusters and drop clusters with too few members.
Each motif's PPM (aligned sequences) and CWM (aligned contributions) are trimmed to the
span where the CWM carries weight or the PPM information, and the PPM is matched to a
motif database with memelite's TOMTOM; a motif with no match at q < ``max_q`` is
reported as novel.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .encode import reverse_complement
from .errors import InputError
from .seqlets import benjamini_hochberg

log = logging.getLogger(__name__)


def too_short_for(threshold: float, widths: dict, key: str) -> str:
    """One line naming the motifs FIMO cannot report at p-value ``threshold`` (empty
    when there are none).

    A motif's smallest FIMO p-value is that of its consensus word, 4^-width against a
    uniform background: below 1e-4, every motif of 6 bases or fewer (the -10 box
    ``TATAAT``, an E-box) has no hit at all.

    Parameters
    ----------
    threshold : float
        The p-value a hit needs.
    widths : dict
        ``{name: width}`` of the motifs, in bases.
    key : str
        The config key that set ``threshold``, named in the line.

    Returns
    -------
    line : str
    """
    short = {name: int(width) for name, width in widths.items() if 4.0**-width > threshold}
    if not short:
        return ""
    named = ", ".join(f"{name} ({width} bases)" for name, width in list(short.items())[:5])
    if len(short) > 5:
        named += f" and {len(short) - 5} more"
    enough = 10 ** np.ceil(np.log10(4.0 ** -min(short.values())))
    return (
        f"{key}: {threshold:g} is below the smallest p-value FIMO gives a motif of "
        f"{max(short.values())} bases or fewer (4^-width, at its consensus), so {named} "
        f"can have no hit; set {key} to {enough:g} to see them"
    )


# a motif database of fewer motifs gets background decoys for TOMTOM (see match_motifs)
SMALL_DATABASE = 100


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


def _align(windows, shift, strand, max_shift):
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
        aligned = _align(windows, shift, strand, max_shift)
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


def trim_span(
    cwm: np.ndarray,
    ppm: np.ndarray | None = None,
    *,
    fraction: float = 0.25,
    ic_fraction: float = 0.35,
) -> slice:
    """The span of a motif worth keeping: from the first to the last position holding
    ``fraction`` of the CWM's peak weight, widened to the first and last positions of the
    PPM (when given) holding ``ic_fraction`` of its most informative column's bits.

    Parameters
    ----------
    cwm : numpy.ndarray, shape=(4, w)
    ppm : numpy.ndarray or None, shape=(4, w), optional
        Default is None.
    fraction : float, optional
        Default is 0.25.
    ic_fraction : float, optional
        Default is 0.35.

    Returns
    -------
    span : slice
    """

    def first_to_last(values, share):
        strong = np.flatnonzero(values >= share * values.max())
        return int(strong[0]), int(strong[-1]) + 1

    start, stop = first_to_last(np.abs(cwm).sum(axis=0), fraction)
    if ppm is not None:
        ic_start, ic_stop = first_to_last(information_bits(ppm), ic_fraction)
        start, stop = min(start, ic_start), max(stop, ic_stop)
    return slice(start, stop)


def build_motifs(
    onehot: np.ndarray,
    contrib: np.ndarray,
    labels,
    shift,
    strand,
    *,
    max_shift: int = 5,
    trim_fraction: float = 0.25,
    ic_fraction: float = 0.35,
    pseudocount: float = 0.5,
    hyp=None,
    index=None,
    start=None,
):
    """Build each motif's trimmed PPM and CWM from its aligned seqlets.

    Parameters
    ----------
    onehot, contrib : numpy.ndarray, shape=(n, 4, W)
        Seqlet windows of the one-hot sequence and of the contributions.
    labels, shift, strand : numpy.ndarray of int, shape=(n,)
        As returned by :func:`cluster_seqlets`.
    max_shift : int, optional
        As given to :func:`cluster_seqlets`. Default is 5.
    trim_fraction, ic_fraction : float, optional
        See :func:`trim_span`. Defaults are 0.25 and 0.35.
    pseudocount : float, optional
        Added to each base count of the PPM. Default is 0.5.
    hyp : numpy.ndarray or None, shape=(n, 4, W), optional
        The hypothetical contributions of the windows: each motif then also gets its
        ``pattern`` (:func:`modisco_layout`), with ``index`` and ``start``, each
        window's region and first base there. Default is None.
    index, start : numpy.ndarray of int or None, shape=(n,), optional
        Default is None.

    Returns
    -------
    motifs : list of dict
        Per motif: ``ppm`` and ``cwm`` (4, w), ``n_seqlets``, ``sign`` (+1/-1),
        ``span`` (the trimmed slice of the aligned window) and, with ``hyp``,
        ``pattern``.
    """
    seqs = _align(onehot.astype(np.float32), shift, strand, max_shift)
    cwms = _align(contrib, shift, strand, max_shift)
    motifs = []
    for k in range(labels.max() + 1 if len(labels) else 0):
        members = labels == k
        cwm = cwms[members].mean(axis=0)
        counts = seqs[members].sum(axis=0) + pseudocount
        ppm = counts / counts.sum(axis=0)
        span = trim_span(cwm, ppm, fraction=trim_fraction, ic_fraction=ic_fraction)
        motifs.append(
            {
                "ppm": ppm[:, span],
                "cwm": cwm[:, span],
                "n_seqlets": int(members.sum()),
                "sign": 1 if cwm.sum() >= 0 else -1,
                "span": span,
            }
        )
    if hyp is not None:
        oriented = {"sequence": seqs, "contrib_scores": cwms}
        oriented["hypothetical_contribs"] = _align(hyp, shift, strand, max_shift)
        for motif, pattern in zip(
            motifs, modisco_layout(motifs, oriented, index, start, labels, shift, strand)
        ):
            motif["pattern"] = pattern
    return motifs


def information_bits(ppm: np.ndarray) -> np.ndarray:
    """Information content (bits, uniform background) of each column of a PPM (4, L).

    Parameters
    ----------
    ppm : numpy.ndarray, shape=(4, L)

    Returns
    -------
    bits : numpy.ndarray, shape=(L,)
    """
    ppm = ppm / ppm.sum(axis=0)
    return 2 + (ppm * np.log2(np.clip(ppm, 1e-9, 1))).sum(axis=0)


def match_motifs(
    ppms: list,
    database: dict,
    *,
    max_q: float = 0.05,
    n_matches: int = 3,
    min_bits: float = 4.0,
    decoys: dict | None = None,
) -> pd.DataFrame:
    """Match PPMs to a motif database with TOMTOM; BH q-values over each query's targets.

    Every query keeps its ``n_matches`` best matches, significant or not, so a motif left
    novel still shows its nearest database motifs. TOMTOM matches a flat query to the flat
    columns of long targets with tiny p-values, so a query with less than ``min_bits`` of
    information in all is never named.

    Parameters
    ----------
    ppms : list of numpy.ndarray, shape=(4, w)
        Query motifs.
    database : dict
        ``{"<id> <name>": PPM (4, L)}`` target motifs.
    max_q : float, optional
        A match names its query only with q below this. Default is 0.05.
    n_matches : int, optional
        Matches kept per query. Default is 3.
    min_bits : float, optional
        Least total information content (bits) of a query that may be named.
        Default is 4.0.
    decoys : dict or None, optional
        Motifs that join TOMTOM's targets as background, never reported as matches: its
        p-values take their background from the target columns, and its q-values count
        every target, so without them a database of a few motifs gives q-values that
        depend on which few motifs it holds. Default is None.

    Returns
    -------
    matches : pandas.DataFrame
        Columns ``query, rank, target, p_value, q_value, offset, strand, significant``
        (q below ``max_q`` and the query informative enough): query column ``i`` aligns
        with column ``i + offset`` of the target, read on ``strand`` (``-``: the target's
        reverse complement).
    """
    from memelite import tomtom

    rows = []
    if ppms:
        targets = list(database)
        background = [np.asarray(m, np.float64) for m in (decoys or {}).values()]
        p_values, _, offsets, _, strands = tomtom(
            [np.asarray(p, np.float64) for p in ppms],
            [np.asarray(database[t], np.float64) for t in targets] + background,
        )
        for query, p in enumerate(p_values):
            informative = information_bits(ppms[query]).sum() >= min_bits
            q = benjamini_hochberg(p)[: len(targets)]  # over every target, decoys included
            p = p[: len(targets)]
            for rank, t in enumerate(np.argsort(p, kind="stable")[:n_matches]):
                strand = "-" if strands[query, t] else "+"
                significant = bool(informative and q[t] < max_q)
                offset = int(offsets[query, t])
                rows.append((query, rank + 1, targets[t], p[t], q[t], offset, strand, significant))
    columns = ["query", "rank", "target", "p_value", "q_value", "offset", "strand", "significant"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"p_value": float, "q_value": float, "significant": bool})


def motif_table(
    motifs: list, matches: pd.DataFrame, *, n_matches: int = 3, families: dict | None = None
) -> pd.DataFrame:
    """One row per motif: id, seqlet count, sign, length, status, name, the best match's
    TF family (from ``families``, ``{target: family}``; empty when unknown), the top
    matches with their q-values (named or novel alike), then their p-values, then the
    strand each is read on (``-``: the motif is the match's reverse complement).

    Parameters
    ----------
    motifs : list of dict
        As from :func:`build_motifs`.
    matches : pandas.DataFrame
        As from :func:`match_motifs`.
    n_matches : int, optional
        Default is 3.
    families : dict or None, optional
        Default is None.

    Returns
    -------
    table : pandas.DataFrame
        ``motifs.tsv``.
    """
    rows = []
    for k, motif in enumerate(motifs):
        row = {
            "motif_id": f"motif_{k + 1}",
            "n_seqlets": motif["n_seqlets"],
            "sign": "positive" if motif["sign"] > 0 else "negative",
            "length": motif["ppm"].shape[1],
        }
        hits = matches[matches["query"] == k].sort_values("rank")
        named = bool(len(hits)) and bool(hits["significant"].iloc[0])
        row["status"] = "named" if named else "novel"
        row["name"] = hits["target"].iloc[0].split(" ", 1)[-1] if named else "novel"
        row["family"] = (families or {}).get(hits["target"].iloc[0], "") if named else ""
        for i in range(n_matches):
            hit = hits.iloc[i] if i < len(hits) else None
            row[f"match_{i + 1}"] = hit["target"] if hit is not None else ""
            row[f"match_{i + 1}_q"] = f"{hit['q_value']:.3g}" if hit is not None else ""
        for i in range(n_matches):
            hit = hits.iloc[i] if i < len(hits) else None
            row[f"match_{i + 1}_p"] = f"{hit['p_value']:.3g}" if hit is not None else ""
        for i in range(n_matches):
            row[f"match_{i + 1}_strand"] = hits["strand"].iloc[i] if i < len(hits) else ""
        rows.append(row)
    columns = ["motif_id", "n_seqlets", "sign", "length", "status", "name", "family"]
    columns += [f"match_{i + 1}{s}" for i in range(n_matches) for s in ("", "_q")]
    columns += [f"match_{i + 1}_{s}" for s in ("p", "strand") for i in range(n_matches)]
    return pd.DataFrame(rows, columns=columns)


def assign_seqlets(seqlets: pd.DataFrame, region_strands, labels, strand) -> pd.DataFrame:
    """Each seqlet's motif (or ``none``) and the motif's genome strand at that seqlet.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        The seqlets (``name`` column), in the order clustered.
    region_strands : array-like of str
        The strand of each seqlet's region.
    labels, strand : numpy.ndarray of int
        As returned by :func:`cluster_seqlets`.

    Returns
    -------
    assignments : pandas.DataFrame
        Columns ``seqlet, motif_id, strand``.
    """
    flipped = (np.asarray(region_strands) == "-") ^ (np.asarray(strand) == 1)
    assigned = np.asarray(labels) >= 0
    return pd.DataFrame(
        {
            "seqlet": seqlets["name"].to_numpy(),
            "motif_id": np.where(assigned, [f"motif_{k + 1}" for k in labels], "none"),
            "strand": np.where(assigned, np.where(flipped, "-", "+"), "."),
        }
    )


def sequence_background(X, *, block: int = 4096) -> np.ndarray:
    """ACGT frequencies of one-hot sequences, averaged with their reverse complements
    (motifs are matched on both strands), for a MEME file's background.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
        One-hot sequences (arrays or a memory-mapped stack, read ``block`` rows at a time).
    block : int, optional
        Default is 4096.

    Returns
    -------
    freqs : numpy.ndarray, shape=(4,)
        Sums to 1; uniform when ``X`` holds no base.
    """
    counts = np.zeros(4)
    for start in range(0, len(X), block):
        counts += np.asarray(X[start : start + block]).sum(axis=(0, 2), dtype=np.int64)
    counts = (counts + counts[::-1]) / 2  # ACGT reversed is its complement
    return counts / counts.sum() if counts.sum() else np.full(4, 0.25)


def modisco_layout(motifs, oriented, index, start, labels, shift, strand) -> list:
    """Each motif in modisco-lite's h5 layout, from its seqlets' aligned windows.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`build_motifs` (``span``, ``sign``).
    oriented : dict
        ``sequence``, ``contrib_scores``, ``hypothetical_contribs``: the seqlet windows
        (n, 4, W), each flipped and shifted as clustered (``_align``).
    index, start : numpy.ndarray of int, shape=(n,)
        Each window's region (row of the regions) and first base there (own strand).
    labels, shift, strand : numpy.ndarray of int, shape=(n,)
        As from :func:`cluster_seqlets`.

    Returns
    -------
    patterns : list of dict
        As :func:`seqsal.io.modisco.write_modisco_h5` takes them, one per motif.
    """
    width = next(iter(oriented.values())).shape[-1]
    patterns = []
    for k, motif in enumerate(motifs):
        members = np.flatnonzero(labels == k)
        a, b = motif["span"].start, motif["span"].stop
        rc = strand[members] == 1
        # aligned column j is column shift + j of the window, read backwards when flipped
        first = start[members] + np.where(rc, width - shift[members] - b, shift[members] + a)
        arrays = {key: v[members][:, :, a:b].transpose(0, 2, 1) for key, v in oriented.items()}
        patterns.append(
            {
                "motif_id": f"motif_{k + 1}",
                "sign": motif["sign"],
                **{key: v.mean(axis=0) for key, v in arrays.items()},
                "seqlets": {
                    "start": first,
                    "end": first + (b - a),
                    "example_idx": index[members],
                    "is_revcomp": rc,
                    **arrays,
                },
            }
        )
    return patterns


def modisco_motifs(X, hyp, *, min_seqlets: int = 20, pseudocount: float = 0.5) -> list:
    """Motifs of modisco-lite's TF-MoDISco (its defaults) on the same maps.

    Parameters
    ----------
    X, hyp : array-like, shape=(N, 4, L)
        One-hot sequences and hypothetical contributions of every region.
    min_seqlets : int, optional
        TF-MoDISco's ``final_min_cluster_size``. Default is 20.
    pseudocount : float, optional
        Added to each base count of the PPM, as in :func:`build_motifs`. Default is 0.5.

    Returns
    -------
    motifs : list of dict
        As from :func:`build_motifs`, each with its ``pattern`` (modisco-lite's own, in
        its h5 layout).

    Raises
    ------
    InputError
        When modisco-lite is not installed.
    """
    try:
        from modiscolite.tfmodisco import TFMoDISco
    except ImportError:
        raise InputError(
            "motifs.engine: expected modisco-lite installed for 'modisco' "
            "(pip install 'seqsal[modisco]'), found it missing"
        ) from None

    def channels_last(a):
        return np.ascontiguousarray(np.asarray(a, np.float32).transpose(0, 2, 1))

    log.info("TF-MoDISco (modisco-lite) on %d regions", len(X))
    positive, negative = TFMoDISco(
        one_hot=channels_last(X[:]),
        hypothetical_contribs=channels_last(hyp[:]),
        final_min_cluster_size=min_seqlets,
    )
    motifs = []
    for sign, found in ((1, positive or []), (-1, negative or [])):
        for pattern in found:
            n = len(pattern.seqlets)
            counts = pattern.sequence.T * n + pseudocount  # its sequence: the mean one-hot
            ppm, cwm = counts / counts.sum(axis=0), pattern.contrib_scores.T
            span = trim_span(cwm, ppm)
            seqlets = pattern.seqlets
            layout = {
                "motif_id": f"motif_{len(motifs) + 1}",
                "sign": sign,
                "sequence": pattern.sequence,
                "contrib_scores": pattern.contrib_scores,
                "hypothetical_contribs": pattern.hypothetical_contribs,
                "seqlets": {
                    "start": np.array([x.start for x in seqlets]),
                    "end": np.array([x.end for x in seqlets]),
                    "example_idx": np.array([x.example_idx for x in seqlets]),
                    "is_revcomp": np.array([x.is_revcomp for x in seqlets]),
                    **{
                        key: np.array([getattr(x, key) for x in seqlets])
                        for key in ("sequence", "contrib_scores", "hypothetical_contribs")
                    },
                },
            }
            motifs.append(
                {
                    "ppm": ppm[:, span],
                    "cwm": cwm[:, span],
                    "n_seqlets": n,
                    "sign": sign,
                    "span": span,
                    "pattern": layout,
                }
            )
    return motifs


def assign_by_overlap(motifs: list, index, offset, lengths) -> tuple:
    """Each of seqsal's seqlets takes the motif of the modisco seqlet it overlaps most (in
    the same region, on its own strand); none (-1) where it overlaps none.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`modisco_motifs` (their ``pattern["seqlets"]``).
    index, offset, lengths : numpy.ndarray of int, shape=(S,)
        Each seqsal seqlet's region, first base (own strand) and length.

    Returns
    -------
    labels, strand : numpy.ndarray of int, shape=(S,)
        As from :func:`cluster_seqlets`: the motif (or -1) and 1 where the motif reads
        on the region's other strand.
    """
    theirs = pd.concat(
        [
            pd.DataFrame(
                {
                    "region": m["pattern"]["seqlets"]["example_idx"],
                    "start": m["pattern"]["seqlets"]["start"],
                    "end": m["pattern"]["seqlets"]["end"],
                    "rc": m["pattern"]["seqlets"]["is_revcomp"].astype(int),
                    "motif": k,
                }
            )
            for k, m in enumerate(motifs)
        ]
        or [pd.DataFrame(columns=["region", "start", "end", "rc", "motif"])]
    )
    ours = pd.DataFrame(
        {"region": np.asarray(index), "first": np.asarray(offset), "seqlet": np.arange(len(index))}
    ).assign(last=lambda d: d["first"] + np.asarray(lengths))
    pairs = ours.merge(theirs.astype({"region": np.int64}), on="region")
    pairs["overlap"] = np.minimum(pairs["last"], pairs["end"]) - np.maximum(
        pairs["first"], pairs["start"]
    )
    best = pairs[pairs["overlap"] > 0].sort_values(["seqlet", "overlap"], ascending=[True, False])
    best = best.drop_duplicates("seqlet")
    labels = np.full(len(index), -1)
    strand = np.zeros(len(index), dtype=int)
    labels[best["seqlet"].to_numpy()] = best["motif"].to_numpy()
    strand[best["seqlet"].to_numpy()] = best["rc"].to_numpy()
    return labels, strand


def discover_motifs(
    X,
    hyp,
    seqlets: pd.DataFrame,
    regions: pd.DataFrame,
    database: dict,
    *,
    flank: int = 5,
    max_shift: int = 5,
    min_similarity: float = 0.6,
    min_seqlets: int = 20,
    max_q: float = 0.05,
    engine: str = "seqsal",
    decoys: dict | None = None,
    oriented: bool = False,
):
    """From seqlets to named motifs: cut windows, cluster, build, match.

    Parameters
    ----------
    X : numpy.ndarray or seqsal.io.RowStack, shape=(N, 4, L)
        One-hot sequences, in the order of ``regions`` (only the seqlets' rows are read).
    hyp : numpy.ndarray or seqsal.io.RowStack, shape=(N, 4, L)
        Hypothetical contributions, same order.
    seqlets : pandas.DataFrame
        the seqlets of docs/design.md (genome coordinates, ``region`` and ``attr_sum`` columns).
    regions : pandas.DataFrame
        The regions of ``X``.
    database : dict
        Target motifs for naming, ``{"<id> <name>": PPM}``; a
        :class:`seqsal.io.MotifDatabase` also gives the matches' TF families.
    flank : int, optional
        Bases added on each side of a seqlet before clustering. Default is 5.
    max_shift, min_similarity, min_seqlets
        As in :func:`cluster_seqlets`.
    max_q : float, optional
        As in :func:`match_motifs`. Default is 0.05.
    engine : str, optional
        ``seqsal`` (cluster the seqlets) or ``modisco`` (modisco-lite's TF-MoDISco on the
        same maps, which calls its own seqlets; each of ``seqlets`` then takes the motif
        of the modisco seqlet it overlaps most, see :func:`assign_by_overlap`). Default
        is "seqsal".
    decoys : dict or None, optional
        Background motifs for TOMTOM (see :func:`match_motifs`). Default is None.
    oriented : bool, optional
        The sequences act in the orientation given: the seqsal engine clusters seqlets
        as read, so that each motif keeps the orientation in which it acts. Default is
        False.

    Returns
    -------
    motifs : list of dict
        As returned by :func:`build_motifs`, plus ``match``: the best match's row of
        :func:`match_motifs` (a dict; for a novel motif its nearest, ``significant``
        False), or None when the database gave none, and ``pattern``: the
        motif in modisco-lite's h5 layout (:func:`seqsal.io.modisco.write_modisco_h5`).
    table : pandas.DataFrame
        As returned by :func:`motif_table` (``motifs.tsv``).
    assignments : pandas.DataFrame
        As returned by :func:`assign_seqlets` (``seqlet_motifs.tsv``).
    """
    from .seqlets import bed_to_offsets

    index, offset = bed_to_offsets(seqlets, regions)
    if engine == "modisco":
        motifs = modisco_motifs(X, hyp, min_seqlets=min_seqlets)
        lengths = (seqlets["end"] - seqlets["start"]).to_numpy()
        labels, strand = assign_by_overlap(motifs, index, offset, lengths)
    else:
        width = int((seqlets["end"] - seqlets["start"]).max()) + 2 * flank if len(seqlets) else 1
        onehot = extract_windows(X, index, offset - flank, width=width)
        hyp_windows = extract_windows(hyp, index, offset - flank, width=width).astype(np.float32)
        contrib = hyp_windows * onehot
        log.info("clustering %d seqlets of up to %d bp", len(seqlets), width)
        labels, shift, strand = cluster_seqlets(
            contrib,
            np.abs(seqlets["attr_sum"].to_numpy()),
            min_similarity=min_similarity,
            max_shift=max_shift,
            min_seqlets=min_seqlets,
            both_strands=not oriented,
        )
        motifs = build_motifs(
            onehot,
            contrib,
            labels,
            shift,
            strand,
            max_shift=max_shift,
            hyp=hyp_windows,
            index=index,
            start=offset - flank,
        )
    log.info(
        "%d motifs; matching them against %d database motifs (TOMTOM)", len(motifs), len(database)
    )
    matches = match_motifs([m["ppm"] for m in motifs], database, max_q=max_q, decoys=decoys)
    for k, motif in enumerate(motifs):
        best = matches[(matches["query"] == k) & (matches["rank"] == 1)]
        motif["match"] = best.iloc[0].to_dict() if len(best) else None  # named or nearest
    table = motif_table(motifs, matches, families=getattr(database, "families", None))
    assignments = assign_seqlets(seqlets, regions["strand"].to_numpy()[index], labels, strand)
    return motifs, table, assignments

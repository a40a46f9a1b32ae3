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

from ..constant import find_constant
from .build import build_motifs, information_bits, modisco_layout, trim_span
from .cluster import align_windows, cluster_seqlets, extract_windows
from .match import SMALL_DATABASE, match_motifs, motif_table, own_decoys, too_short_for
from .merge import MERGE_THRESHOLD, consensus, core_match, merge_motifs, reverse_pairs
from .modisco import assign_by_overlap, modisco_motifs

__all__ = [
    "MERGE_THRESHOLD",
    "SMALL_DATABASE",
    "align_windows",
    "assign_by_overlap",
    "assign_seqlets",
    "build_motifs",
    "cluster_seqlets",
    "consensus",
    "core_match",
    "discover_motifs",
    "extract_windows",
    "information_bits",
    "match_motifs",
    "merge_motifs",
    "modisco_layout",
    "modisco_motifs",
    "own_decoys",
    "motif_table",
    "sequence_background",
    "too_short_for",
    "trim_span",
]


log = logging.getLogger(__name__)


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


def _own_motifs(X, hyp, seqlets, index, offset, *, flank, merge_threshold, oriented, **options):
    """The seqsal engine: cut each seqlet's window (``flank`` bases each side), cluster,
    build, merge the motifs of one element, build again; the motifs, each seqlet's motif
    and strand."""
    width = int((seqlets["end"] - seqlets["start"]).max()) + 2 * flank if len(seqlets) else 1
    constant = find_constant(X)
    # the sequence windows are cut k - 1 bases wider, so that a shared k-mer cut by a
    # window's edge is still found, then cropped
    margin = constant.k - 1
    wider = extract_windows(X, index, offset - flank - margin, width=width + 2 * margin)
    onehot = wider[:, :, margin : margin + width]
    hyp_windows = extract_windows(hyp, index, offset - flank, width=width).astype(np.float32)
    shared = constant.mask(wider)[:, margin : margin + width] if constant else None
    if constant:
        log.info(
            "stretches every sequence shares, kept out of the motifs: %s (%.1f%% of the "
            "seqlets' window bases)",
            ", ".join(constant.stretches),
            100 * shared.mean(),
        )
    contrib = hyp_windows * onehot * (1 if shared is None else ~shared[:, None, :])
    log.info("clustering %d seqlets of up to %d bp", len(seqlets), width)
    strength = np.abs(seqlets["attr_sum"].to_numpy())
    labels, shift, strand = cluster_seqlets(contrib, strength, both_strands=not oriented, **options)
    build = dict(hyp=hyp_windows, index=index, start=offset - flank, constant=shared)
    motifs = build_motifs(
        onehot, contrib, labels, shift, strand, max_shift=options["max_shift"], **build
    )
    labels, shift, strand, variants = merge_motifs(
        motifs, labels, shift, strand, width=width, threshold=merge_threshold,
        both_strands=not oriented,
    )  # fmt: skip
    if len(variants) < len(motifs):
        log.info("%d motifs merged into %d (cores alike)", len(motifs), len(variants))
        # merged seqlets may sit further from their new motif's columns than max_shift
        motifs = build_motifs(onehot, contrib, labels, shift, strand, max_shift=width, **build)
    for motif, made_of in zip(motifs, variants):
        motif["variants"] = made_of
    if oriented:  # a motif and its reverse complement: were they one, read on either strand?
        for j, i in reverse_pairs(motifs, threshold=merge_threshold).items():
            motifs[j]["reverse_of"] = i
            log.warning(
                "motif_%d is the reverse complement of motif_%d: if these sequences act on "
                "either strand (genomic peaks), set input.oriented: false",
                j + 1,
                i + 1,
            )
    return motifs, labels, strand


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
    merge_threshold: float = MERGE_THRESHOLD,
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
    merge_threshold : float, optional
        Motifs whose trimmed cores align with at least this cosine similarity are one
        element, merged (:func:`merge_motifs`). Default is :data:`MERGE_THRESHOLD`.
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
    from ..seqlets import bed_to_offsets

    index, offset = bed_to_offsets(seqlets, regions)
    if engine == "modisco":
        motifs = modisco_motifs(X, hyp, min_seqlets=min_seqlets)
        lengths = (seqlets["end"] - seqlets["start"]).to_numpy()
        labels, strand = assign_by_overlap(motifs, index, offset, lengths)
    else:
        options = dict(
            flank=flank,
            max_shift=max_shift,
            min_similarity=min_similarity,
            min_seqlets=min_seqlets,
            merge_threshold=merge_threshold,
            oriented=oriented,
        )
        motifs, labels, strand = _own_motifs(X, hyp, seqlets, index, offset, **options)
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

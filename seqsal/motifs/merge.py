"""One motif per element: motifs whose trimmed cores match are merged.

Clustering compares whole seqlet windows, so one element comes back as several motifs when
its variants (``TATAAT``, ``TATACT``, ``TTATAA``), its strands or its flanks differ. Once
each motif is trimmed to its informative core, two motifs are one element when their core
CWMs align: cosine similarity at least ``threshold`` at the best offset and strand, the
cores zero-padded to their union (so a partial overlap scores by the weight it shares).
Motifs of opposite sign never merge (their cosine is negative). The smaller motif's
seqlets then join the larger, re-aligned by the offset and strand found, and the merged
motif keeps the cores it was made of as its variants.
"""

from __future__ import annotations

import numpy as np

from ..encode import reverse_complement

__all__ = ["MERGE_THRESHOLD", "consensus", "core_match", "merge_motifs"]

#: Cosine similarity of two trimmed core CWMs above which they are one element.
MERGE_THRESHOLD = 0.7


def consensus(ppm: np.ndarray) -> str:
    """The most probable base of each column of a PPM (4, w), as text."""
    return "".join("ACGT"[i] for i in np.asarray(ppm).argmax(axis=0))


def core_match(a: np.ndarray, b: np.ndarray, *, both_strands: bool = True) -> tuple:
    """How well core ``b`` aligns to core ``a``: the best cosine similarity over offsets
    (and the reverse complement), zero-padded to their union.

    Parameters
    ----------
    a, b : numpy.ndarray, shape=(4, wa) and (4, wb)
        Trimmed CWMs.
    both_strands : bool, optional
        Also try ``b``'s reverse complement. Default is True.

    Returns
    -------
    similarity : float
    offset : int
        ``a``'s column ``t`` faces ``b``'s (or its reverse complement's) ``t - offset``.
    reverse : bool
        ``b`` matched as its reverse complement.
    """
    norm = np.linalg.norm(a) * np.linalg.norm(b) + 1e-12
    best = (-np.inf, 0, False)
    for reverse in (False, True) if both_strands else (False,):
        other = reverse_complement(b[None])[0] if reverse else b
        wa, wb = a.shape[1], other.shape[1]
        for offset in range(-(wb - 1), wa):
            lo, hi = max(0, offset), min(wa, offset + wb)
            dot = float((a[:, lo:hi] * other[:, lo - offset : hi - offset]).sum())
            if dot / norm > best[0]:
                best = (dot / norm, offset, reverse)
    return best


def merge_motifs(
    motifs, labels, shift, strand, *, width: int, threshold=MERGE_THRESHOLD, both_strands=True
):
    """Merge each motif into the motif before it (larger) whose core it matches best, and
    with it into that motif's own (so variants chain: ``TCGACA`` joins ``TTGACA`` through
    ``TAGACA``).

    Parameters
    ----------
    motifs : list of dict
        As from :func:`seqsal.motifs.build_motifs` (``cwm``, ``ppm``, ``span``,
        ``n_seqlets``), largest first.
    labels, shift, strand : numpy.ndarray of int, shape=(n,)
        Each seqlet's motif and alignment (:func:`seqsal.motifs.cluster_seqlets`).
    width : int
        The seqlet windows' width.
    threshold : float, optional
        Default is :data:`MERGE_THRESHOLD`.
    both_strands : bool, optional
        Merge a motif into another's reverse complement too; False for oriented
        sequences, where a reversed element is another element. Default is True.

    Returns
    -------
    labels, shift, strand : numpy.ndarray of int, shape=(n,)
        The seqlets' motifs (numbered by size again, largest first) and alignments.
    variants : list of list of tuple
        Per merged motif, in the new order: ``(consensus, n_seqlets)`` of each motif it
        was made of, largest first.
    """
    labels, shift, strand = labels.copy(), shift.copy(), strand.copy()
    root = list(range(len(motifs)))
    steps = [[] for _ in motifs]  # the realignments from a motif's frame to its root's
    for j in range(1, len(motifs)):
        matches = [
            (*core_match(motifs[i]["cwm"], motifs[j]["cwm"], both_strands=both_strands), i)
            for i in range(j)
        ]
        similarity, offset, reverse, i = max(matches, key=lambda match: match[0])
        if similarity >= threshold:
            root[j] = root[i]
            steps[j] = [(motifs[i], motifs[j], offset, reverse), *steps[i]]
    members = [labels == j for j in range(len(motifs))]
    for j, chain in enumerate(steps):
        for kept, merged, offset, reverse in chain:
            _realign(members[j], shift, strand, kept, merged, offset, reverse, width)
        labels[members[j]] = root[j]
    kept = [i for i in range(len(motifs)) if root[i] == i]
    counts = np.array([(labels == i).sum() for i in kept])
    order = [kept[r] for r in np.argsort(-counts, kind="stable")]
    renumber = np.full(len(motifs) + 1, -1)
    renumber[order] = np.arange(len(order))
    variants = [
        sorted(
            ((consensus(motifs[j]["ppm"]), motifs[j]["n_seqlets"]) for j in range(len(motifs))
             if root[j] == i),
            key=lambda item: -item[1],
        )
        for i in order
    ]  # fmt: skip
    return renumber[labels], shift, strand, variants


def _realign(members, shift, strand, kept, merged, offset, reverse, width) -> None:
    """Re-align ``merged``'s seqlets to ``kept``'s columns (in place).

    An aligned column ``c`` is column ``shift + c`` of the seqlet's window as read on
    its strand. ``kept``'s core column ``t`` faces ``merged``'s core column ``t - offset``
    (counted on ``merged``'s reverse complement when ``reverse``).
    """
    a, b = kept["span"].start, merged["span"].start
    if not reverse:
        shift[members] -= a - b + offset
        return
    # kept's column c faces merged's aligned column b + wb - 1 + offset + a - c, which is
    # window column C - c (C below) on the seqlet's strand: on the other strand, W-1-C+c
    wb = merged["cwm"].shape[1]
    total = shift[members] + b + wb - 1 + offset + a
    shift[members] = width - 1 - total
    strand[members] = 1 - strand[members]


def reverse_pairs(motifs, *, threshold=MERGE_THRESHOLD) -> dict:
    """Motifs whose core is another's reverse complement, not its forward core: what
    oriented sequences that in fact act on either strand give (genomic peaks read with
    ``input.oriented: true``).

    Parameters
    ----------
    motifs : list of dict
        ``cwm`` each, largest first.
    threshold : float, optional
        Default is :data:`MERGE_THRESHOLD`.

    Returns
    -------
    pairs : dict
        ``{j: i}``: motif ``j`` is the reverse complement of the larger motif ``i``.
    """
    pairs = {}
    for j in range(1, len(motifs)):
        for i in range(j):
            a, b = motifs[i]["cwm"], motifs[j]["cwm"]
            forward = core_match(a, b, both_strands=False)[0]
            reverse = core_match(a, reverse_complement(b[None])[0], both_strands=False)[0]
            if reverse >= threshold and reverse > forward:
                pairs[j] = i
                break
    return pairs

"""Each motif's PPM (aligned sequences) and CWM (aligned contributions), trimmed to the
span where the CWM carries weight or the PPM information, never into a stretch every
sequence shares (:mod:`seqsal.constant`)."""

from __future__ import annotations

import numpy as np

from .cluster import align_windows


def trim_span(
    cwm: np.ndarray,
    ppm: np.ndarray | None = None,
    *,
    fraction: float = 0.25,
    ic_fraction: float = 0.35,
    constant=None,
) -> slice:
    """The span of a motif worth keeping: from the first to the last position holding
    ``fraction`` of the CWM's peak weight, widened to the first and last positions of the
    PPM (when given) holding ``ic_fraction`` of its most informative column's bits.
    Constant columns count as neither: a library's constant bases are the most
    informative columns of any PPM that reaches them, and explain nothing.

    Parameters
    ----------
    cwm : numpy.ndarray, shape=(4, w)
    ppm : numpy.ndarray or None, shape=(4, w), optional
        Default is None.
    fraction : float, optional
        Default is 0.25.
    ic_fraction : float, optional
        Default is 0.35.
    constant : numpy.ndarray of bool or None, shape=(w,), optional
        Columns that lie in a stretch every sequence shares. Default is None: none.

    Returns
    -------
    span : slice
    """
    keep = np.ones(cwm.shape[1], bool) if constant is None else ~np.asarray(constant)
    if not keep.any():  # a motif of constant bases only: trimmed as if none were
        keep[:] = True

    def first_to_last(values, share):
        strong = np.flatnonzero(values >= share * values.max())
        return int(strong[0]), int(strong[-1]) + 1

    start, stop = first_to_last(np.abs(cwm).sum(axis=0) * keep, fraction)
    bits = None if ppm is None else information_bits(ppm) * keep
    if bits is not None and bits.max() > 0:
        ic_start, ic_stop = first_to_last(bits, ic_fraction)
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
    constant=None,
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
    constant : numpy.ndarray of bool or None, shape=(n, W), optional
        The windows' bases that lie in a stretch every sequence shares
        (:meth:`seqsal.constant.Constant.mask`): a column where most members' bases do
        is kept out of the trimmed motif. Default is None: none.

    Returns
    -------
    motifs : list of dict
        Per motif: ``ppm`` and ``cwm`` (4, w), ``n_seqlets``, ``sign`` (+1/-1),
        ``span`` (the trimmed slice of the aligned window) and, with ``hyp``,
        ``pattern``.
    """
    seqs = align_windows(onehot.astype(np.float32), shift, strand, max_shift)
    cwms = align_windows(contrib, shift, strand, max_shift)
    shared = None
    if constant is not None:  # as a one-hot-shaped array, so that it aligns alike
        flags = np.repeat(np.asarray(constant, np.float32)[:, None, :], 4, axis=1)
        shared = align_windows(flags, shift, strand, max_shift)[:, 0]
    motifs = []
    for k in range(labels.max() + 1 if len(labels) else 0):
        members = labels == k
        cwm = cwms[members].mean(axis=0)
        counts = seqs[members].sum(axis=0) + pseudocount
        ppm = counts / counts.sum(axis=0)
        columns = None if shared is None else shared[members].mean(axis=0) >= 0.5
        span = trim_span(
            cwm, ppm, fraction=trim_fraction, ic_fraction=ic_fraction, constant=columns
        )
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
        oriented["hypothetical_contribs"] = align_windows(hyp, shift, strand, max_shift)
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


def modisco_layout(motifs, oriented, index, start, labels, shift, strand) -> list:
    """Each motif in modisco-lite's h5 layout, from its seqlets' aligned windows.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`build_motifs` (``span``, ``sign``).
    oriented : dict
        ``sequence``, ``contrib_scores``, ``hypothetical_contribs``: the seqlet windows
        (n, 4, W), each flipped and shifted as clustered (``align_windows``).
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

"""Attribution maps of REF and ALT around each variant, on the + strand."""

from __future__ import annotations

import numpy as np

from .place import allele_windows


def _plus_strand_window(contrib, strand, offset, flank):
    """Contributions (4, 2 flank + 1) around + strand ``offset`` of one window."""
    if strand == "-":
        contrib = contrib[::-1, ::-1]
    padded = np.pad(contrib, ((0, 0), (flank, flank)))
    return padded[:, offset : offset + 2 * flank + 1]


def variant_maps(variants, read_contig, model, *, width, oriented, target, method, flank, device):
    """Actual contributions of REF and ALT around each variant (+ strand, ``±flank``).

    Parameters
    ----------
    variants : pandas.DataFrame
        Placed variants.
    read_contig : callable
    model : torch.nn.Module
    width : int
    oriented : bool
        When False, the maps explain the mean over both strands.
    target : int
    method : str
        An attribution method of :mod:`seqsal.attribute`.
    flank : int
    device : str or torch.device

    Returns
    -------
    maps : dict
        ``ref, alt`` (V, 4, 2 flank + 1) float32, ``attr_ref, attr_alt`` (V,): the sum of
        each allele's own bases.
    """
    from ..attribute import attribute

    V = len(variants)
    maps = {k: np.zeros((V, 4, 2 * flank + 1), np.float32) for k in ("ref", "alt")}
    sums = {k: np.zeros(V, np.float32) for k in ("attr_ref", "attr_alt")}
    if not V:
        return {**maps, **sums}
    X = dict(zip(("ref", "alt"), allele_windows(variants, read_contig, width=width)))
    offsets = (variants["pos"] - variants["window_start"]).to_numpy()
    strands = variants["window_strand"].to_numpy()
    for allele in ("ref", "alt"):
        hyp, _, _ = attribute(
            model, X[allele], method=method, target=target, rc_average=not oriented, device=device
        )
        contrib = hyp * X[allele]
        length = variants[allele].str.len().to_numpy()
        for v in range(V):
            window = _plus_strand_window(contrib[v], strands[v], offsets[v], flank)
            maps[allele][v] = window
            sums[f"attr_{allele}"][v] = window[:, flank : flank + length[v]].sum()
    return {**maps, **sums}

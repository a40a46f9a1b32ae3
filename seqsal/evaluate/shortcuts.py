"""The shortcut audit: attribution in nuisance intervals (adapters, primers, padding), in
the stretches every sequence shares (found from the sequences, :mod:`seqsal.constant`),
and frequent seqlet k-mers found in artefact sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd


def shortcut_audit(
    attr: np.ndarray,
    intervals,
    *,
    kmers: pd.Series | None = None,
    artefacts=(),
    min_enrichment: float = 2.0,
    min_fraction: float = 0.05,
) -> dict:
    """How much of the attribution falls in nuisance intervals, and which frequent seqlet
    k-mers come from artefact sequences.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
    intervals : list of (name, start, end)
        Positions within each region (see :func:`parse_interval`).
    kmers : pandas.Series or None, optional
        Seqlet k-mer counts, most frequent first (see :func:`seqlet_kmers`).
    artefacts : list of str, optional
        Artefact sequences (adapters, primers, barcodes); a k-mer matches one when it
        occurs in it on either strand.
    min_enrichment, min_fraction : float, optional
        An interval is flagged when its share of the total |attribution| is at least
        ``min_fraction`` and ``min_enrichment`` times its share of the bases.

    Returns
    -------
    dict
        ``intervals`` (name, start, end, attribution_fraction, base_fraction, enrichment,
        flagged), ``artefact_kmers`` (kmer, seqlets, artefact) and ``flagged`` (any).
    """
    from ..encode import reverse_complement_sequence

    # |attribution| summed over regions per position, ~8M values at a time (no copy of
    # every region's map)
    column = np.zeros(attr.shape[1])
    block = max(1, 2**23 // attr.shape[1])
    for first in range(0, len(attr), block):
        column += np.abs(attr[first : first + block]).sum(axis=0, dtype=np.float64)
    total, length = column.sum(), len(column)
    found = []
    for name, start, end in intervals:
        share = float(column[start:end].sum() / total) if total > 0 else float("nan")
        base_share = (end - start) / length
        enrichment = share / base_share
        found.append(
            {
                "name": name,
                "start": int(start),
                "end": int(end),
                "attribution_fraction": share,
                "base_fraction": base_share,
                "enrichment": enrichment,
                "flagged": bool(share >= min_fraction and enrichment >= min_enrichment),
            }
        )
    hits = []
    if kmers is not None:
        upper = [a.upper() for a in artefacts]
        for kmer, count in kmers.items():
            for artefact in upper:
                if kmer in artefact or reverse_complement_sequence(kmer) in artefact:
                    hits.append({"kmer": kmer, "seqlets": int(count), "artefact": artefact})
                    break
    return {
        "intervals": found,
        "artefact_kmers": hits,
        "flagged": any(f["flagged"] for f in found) or bool(hits),
    }


def seqlet_kmers(X, region_index, offset, width, *, k: int = 8, top: int = 20) -> pd.Series:
    """The ``top`` most frequent k-mers (both strands counted as one, the lexically
    smaller spelling kept) in the seqlets' sequences.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
    region_index, offset, width : numpy.ndarray of int, shape=(S,)
        Each seqlet's region row, start within it and width.
    k : int, optional
        Default is 8.
    top : int, optional
        Default is 20.

    Returns
    -------
    kmers : pandas.Series
        Seqlet counts indexed by k-mer, most frequent first.
    """
    from ..encode import one_hot_to_sequences, reverse_complement_sequence

    counts: dict = {}
    for i, o, w in zip(region_index, offset, width):
        sequence = one_hot_to_sequences(np.asarray(X[i : i + 1])[:, :, max(o, 0) : o + w])[0]
        seen = set()
        for s in range(len(sequence) - k + 1):
            kmer = sequence[s : s + k]
            if "N" in kmer:
                continue
            seen.add(min(kmer, reverse_complement_sequence(kmer)))
        for kmer in seen:
            counts[kmer] = counts.get(kmer, 0) + 1
    return pd.Series(counts, dtype=int).sort_values(ascending=False, kind="stable").head(top)


def constant_audit(
    X, attr, *, min_enrichment: float = 2.0, min_fraction: float = 0.05
) -> dict | None:
    """How much attribution the stretches every sequence shares draw: they cannot explain
    why outputs differ, so a map that leans on them reads the design, not the biology.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
    attr : array-like, shape=(N, L)
    min_enrichment, min_fraction : float, optional
        Flagged as :func:`shortcut_audit` flags an interval.

    Returns
    -------
    dict or None
        ``stretches`` (as read), ``attribution_fraction``, ``base_fraction``,
        ``enrichment`` and ``flagged``, over up to :data:`seqsal.constant.MAX_ROWS`
        evenly spaced regions; None when the sequences share no stretch.
    """
    from ..constant import find_constant, sample_rows

    constant = find_constant(X)
    if not constant:
        return None
    rows = sample_rows(len(X))
    mask = constant.mask(np.asarray(X[rows]))
    weight = np.abs(np.asarray(attr[rows], dtype=np.float64))
    total = weight.sum()
    share = float(weight[mask].sum() / total) if total > 0 else float("nan")
    base_share = float(mask.mean())
    enrichment = share / base_share if base_share > 0 else float("nan")
    return {
        "stretches": list(constant.stretches),
        "attribution_fraction": share,
        "base_fraction": base_share,
        "enrichment": enrichment,
        "flagged": bool(share >= min_fraction and enrichment >= min_enrichment),
    }


def shortcut_summary(X, attr, seqlets, regions, nuisance, artefacts) -> dict:
    """The shortcut audit: attribution in nuisance intervals and in the stretches every
    sequence shares, and seqlet k-mers (of the 1,000 strongest seqlets) from artefact
    sequences."""
    from ..seqlets import bed_to_offsets

    kmers = None
    if artefacts and len(seqlets):
        top = seqlets.reindex(seqlets["attr_sum"].abs().sort_values(ascending=False).index)
        top = top.head(1000)
        index, offset = bed_to_offsets(top, regions)
        kmers = seqlet_kmers(X, index, offset, (top["end"] - top["start"]).to_numpy())
    audit = shortcut_audit(attr, list(nuisance), kmers=kmers, artefacts=list(artefacts))
    constant = constant_audit(X, attr)
    return {
        **audit,
        "flagged": audit["flagged"] or bool(constant and constant["flagged"]),
        "constant": constant,
        "artefacts_given": bool(artefacts),
    }

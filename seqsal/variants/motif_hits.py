"""Which motif instance a variant breaks or makes: FIMO p-values of the run's motifs (and
the database's) around each allele."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .place import NULL_CODE, encode_windows


def motif_disruption(
    ref_around: list, alt_around: list, flank: int, lengths, ppms: dict, *, threshold=1e-4
) -> pd.DataFrame:
    """Motif hits that overlap each variant in REF or ALT, with their p-value in both.

    Parameters
    ----------
    ref_around, alt_around : list of numpy.ndarray
        Per variant, + strand ASCII codes of each allele with ``flank`` bases each side.
    flank : int
        At least the longest motif's width minus one.
    lengths : array-like of (int, int)
        Per variant, the lengths of REF and ALT.
    ppms : dict
        ``{motif name: PPM (4, w)}``.
    threshold : float, optional
        FIMO p-value a hit needs in one of the alleles. Default is 1e-4.

    Returns
    -------
    hits : pandas.DataFrame
        ``variant`` (row index), ``motif, strand, start`` (offset from the variant's
        first base), ``p_ref, p_alt``.
    """
    from memelite import fimo

    columns = ["variant", "motif", "strand", "start", "p_ref", "p_alt"]
    if not ppms or not len(ref_around):
        return pd.DataFrame(columns=columns)
    ppms = {name: np.asarray(ppm, np.float64) for name, ppm in ppms.items()}
    alleles = {"ref": ref_around, "alt": alt_around}
    lengths = np.asarray(lengths).reshape(-1, 2)
    arrays = {k: _onehot_rows(v) for k, v in alleles.items()}
    found = []
    for j, X in enumerate(arrays.values()):
        hits = _fimo_frame(fimo(ppms, X, threshold=threshold))
        width = hits["end"] - hits["start"]
        span = lengths[hits["variant"].to_numpy(), j]
        overlap = (hits["start"] < flank + span) & (hits["start"] + width > flank)
        found.append(hits[overlap.to_numpy()])
    hits = pd.concat(found).drop_duplicates(["variant", "motif", "strand", "start"])
    if not len(hits):
        return pd.DataFrame(columns=columns)
    for allele, X in arrays.items():  # each hit's p-value in both alleles
        hits[f"p_{allele}"] = _p_at(hits, X, ppms, fimo)
    hits["start"] = hits["start"] - flank
    return hits[columns].sort_values(["variant", "p_ref"]).reset_index(drop=True)


def _onehot_rows(codes: list) -> np.ndarray:
    """Float one-hot (V, 4, max length) of ASCII code rows, N-padded on the right."""
    length = max(len(c) for c in codes)
    padded = np.full((len(codes), length), NULL_CODE, np.uint8)
    for i, c in enumerate(codes):
        padded[i, : len(c)] = c
    return encode_windows(padded, np.full(len(codes), "+")).astype(np.float32)


def _fimo_frame(found: list) -> pd.DataFrame:
    hits = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    hits = hits.rename(
        columns={"motif_name": "motif", "sequence_name": "variant", "p-value": "p_value"}
    )
    hits = hits.reindex(columns=["variant", "motif", "strand", "start", "end", "p_value"])
    return hits.astype({"variant": np.int64, "start": np.int64, "end": np.int64})


def _p_at(hits: pd.DataFrame, X: np.ndarray, ppms: dict, fimo) -> np.ndarray:
    """FIMO p-value (1 where no score) of each hit's motif, strand and start in ``X``."""
    p = np.ones(len(hits))
    for motif, rows in hits.groupby("motif").indices.items():
        variants = np.unique(hits["variant"].to_numpy()[rows])
        every = _fimo_frame(fimo({motif: ppms[motif]}, X[variants], threshold=1.0))
        every["variant"] = variants[every["variant"].to_numpy(np.int64)]
        lookup = every.set_index(["variant", "strand", "start"])["p_value"]
        lookup = lookup[~lookup.index.duplicated()]
        keys = pd.MultiIndex.from_frame(hits.iloc[rows][["variant", "strand", "start"]])
        p[rows] = lookup.reindex(keys).fillna(1.0).to_numpy()
    return p


def motif_summary(hits: pd.DataFrame, n: int, threshold: float, *, prefer=()) -> pd.DataFrame:
    """Per variant, the hit it changes most of the first tier of ``prefer`` that has one
    (none when the tiers are empty: a database hit alone is never the headline), and
    every hit.

    Parameters
    ----------
    hits : pandas.DataFrame
        :func:`motif_disruption`'s rows.
    n : int
        Variants.
    threshold : float
        The p-value a hit needs: ``breaks`` (REF passes, ALT does not), ``makes``,
        ``weakens`` or ``strengthens`` (both pass).
    prefer : sequence of collections of str, optional
        Tiers of motifs reported before the rest, e.g. this run's own motifs, then the
        database motifs they were named after.

    Returns
    -------
    summary : pandas.DataFrame
        ``n`` rows: ``motif, motif_effect, motif_p_ref, motif_p_alt, motif_hits``.
    """
    summary = pd.DataFrame(
        {
            "motif": "",
            "motif_effect": "",
            "motif_p_ref": np.nan,
            "motif_p_alt": np.nan,
            "motif_hits": "",
        },
        index=range(n),
    )
    if not len(hits):
        return summary
    hits = hits.copy()
    ref, alt = hits["p_ref"].to_numpy(float), hits["p_alt"].to_numpy(float)
    hits["effect"] = np.select(
        [(ref <= threshold) & (alt > threshold), (alt <= threshold) & (ref > threshold), alt > ref],
        ["breaks", "makes", "weakens"],
        "strengthens",
    )
    hits["change"] = np.abs(np.log10(np.maximum(alt, 1e-300)) - np.log10(np.maximum(ref, 1e-300)))
    tier = np.full(len(hits), len(prefer))
    for rank, motifs in reversed(list(enumerate(prefer))):
        tier[hits["motif"].isin(set(motifs)).to_numpy()] = rank
    hits["tier"] = tier
    hits["text"] = [
        f"{m} ({s}) {e} {r:.2g}->{a:.2g}"
        for m, s, e, r, a in zip(hits["motif"], hits["strand"], hits["effect"], ref, alt)
    ]
    ranked = hits.sort_values(["variant", "tier", "change"], ascending=[True, True, False])
    # the headline is a motif of the tiers, never a database motif alone: with hundreds of
    # database motifs, nearly every base overlaps some hit by chance (every hit is listed)
    headline = ranked[ranked["tier"] < len(prefer)]
    best = headline.drop_duplicates("variant").set_index("variant")
    summary.loc[best.index, "motif"] = best["motif"].to_numpy()
    summary.loc[best.index, "motif_effect"] = best["effect"].to_numpy()
    summary.loc[best.index, "motif_p_ref"] = best["p_ref"].to_numpy(float)
    summary.loc[best.index, "motif_p_alt"] = best["p_alt"].to_numpy(float)
    listed = ranked.groupby("variant")["text"].agg("; ".join)
    summary.loc[listed.index, "motif_hits"] = listed.to_numpy()
    return summary


def motif_tiers(motifs) -> tuple:
    """This run's motifs (``motif_<k> [name]``), then the database motifs they were named
    after (same TF name): the order in which hits explain a variant.

    Parameters
    ----------
    motifs : collection of str
        Motif keys, ``"<id> <name>"``.

    Returns
    -------
    tiers : tuple of (list, list)
    """
    own = [m for m in motifs if m.startswith("motif_")]
    names = {m.split(" ", 1)[1] for m in own if " " in m}
    matched = [m for m in motifs if m not in own and " " in m and m.split(" ", 1)[1] in names]
    return own, matched

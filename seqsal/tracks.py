"""Genome tracks from region-level results: per-base attribution and seqlet intervals.

Attributions live on each region's own strand; here they are mapped to + strand genome
coordinates. Where regions overlap, each base takes its value from the region whose
center is nearest (ties: the region listed first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
NO_MOTIF_COLOR = "#b0b0b0"


def motif_color(motif_id: str) -> str:
    """A motif's color, shared by the report and the tracks (``none`` is grey)."""
    if not motif_id.startswith("motif_"):
        return NO_MOTIF_COLOR
    return PALETTE[(int(motif_id.split("_")[1]) - 1) % len(PALETTE)]


def motif_rgb(motif_id: str) -> str:
    """:func:`motif_color` as BED's ``itemRgb`` (``r,g,b``)."""
    color = motif_color(motif_id)
    return ",".join(str(int(color[i : i + 2], 16)) for i in (1, 3, 5))


def genome_positions(regions: pd.DataFrame, length: int) -> np.ndarray:
    """Genome coordinate of each base of each region, in the region's own orientation.

    Returns
    -------
    positions : numpy.ndarray of int64, shape=(N, L)
        For a ``-`` strand region, offset 0 is its last genome base. N padding added at a
        contig end (``pad_left``/``pad_right``) has position -1.
    """
    offsets = np.arange(length)[None, :]
    minus = (regions["strand"].to_numpy() == "-")[:, None]
    starts = regions["start"].to_numpy()[:, None]
    ends = regions["end"].to_numpy()[:, None]
    pads = regions.reindex(columns=["pad_left", "pad_right"], fill_value=0).to_numpy()
    first, last = starts - pads[:, :1], ends + pads[:, 1:]  # the window, N padding included
    positions = np.where(minus, last - 1 - offsets, first + offsets).astype(np.int64)
    return np.where((positions >= starts) & (positions < ends), positions, -1)


def attribution_track(regions: pd.DataFrame, attr: np.ndarray, *, contigs) -> pd.DataFrame:
    """Per-base attribution in genome coordinates, one value per covered base.

    Parameters
    ----------
    regions : pandas.DataFrame
        BED6 regions, in the order of ``attr``.
    attr : numpy.ndarray, shape=(N, L)
        Actual attributions on each region's own strand.
    contigs : list of str
        Contig order of the reference; the output is sorted by it, then by position.

    Returns
    -------
    track : pandas.DataFrame
        Columns ``chrom, start, value``, one row per base covered by some region.
    """
    length = attr.shape[1]
    positions = genome_positions(regions, length)
    center = ((regions["start"] + regions["end"]) / 2).to_numpy()[:, None]
    rank = pd.Categorical(regions["chrom"], categories=list(contigs)).codes
    frame = pd.DataFrame(
        {
            "contig": np.repeat(rank, length),
            "start": positions.ravel(),
            "distance": np.abs(positions + 0.5 - center).ravel(),
            "value": attr.ravel().astype(np.float32),
        }
    )
    frame = frame[frame["start"] >= 0].sort_values(["contig", "start", "distance"], kind="stable")
    frame = frame.drop_duplicates(["contig", "start"], keep="first")
    return pd.DataFrame(
        {
            "chrom": np.asarray(contigs)[frame["contig"].to_numpy()],
            "start": frame["start"].to_numpy(),
            "value": frame["value"].to_numpy(),
        }
    )


def hypothetical_tracks(regions: pd.DataFrame, hyp: np.ndarray, *, contigs) -> dict:
    """Each base's hypothetical contribution on the + strand: ``{base: track}``.

    On a ``-`` strand region the model saw the complement, so the + strand base ``A``
    at a position takes the region's ``T`` channel there (and so on).
    """
    minus = (regions["strand"].to_numpy() == "-")[:, None]
    return {
        base: attribution_track(regions, np.where(minus, hyp[:, 3 - k], hyp[:, k]), contigs=contigs)
        for k, base in enumerate("ACGT")
    }


def scan_motifs(ppms: dict, X: np.ndarray, *, threshold: float = 1e-4) -> pd.DataFrame:
    """FIMO (memelite) hits of motif PPMs in one-hot sequences, on each sequence's strand.

    Parameters
    ----------
    ppms : dict
        ``{motif_id: PPM of shape (4, w)}``.
    X : numpy.ndarray, shape=(N, 4, L)
    threshold : float, optional
        Largest p-value reported. Default is 1e-4.

    Returns
    -------
    hits : pandas.DataFrame
        ``motif_id, region_index, start, end, strand, p_value``.
    """
    from memelite import fimo

    columns = ["motif_id", "region_index", "start", "end", "strand", "p_value"]
    if not ppms or not len(X):
        return pd.DataFrame(columns=columns)
    found = fimo(ppms, np.asarray(X, dtype=np.float32), threshold=threshold)
    hits = pd.concat(found, ignore_index=True)
    hits = hits.rename(
        columns={"motif_name": "motif_id", "sequence_name": "region_index", "p-value": "p_value"}
    )
    return hits[columns]


def motif_hit_track(hits: pd.DataFrame, regions: pd.DataFrame, motif_names: dict) -> pd.DataFrame:
    """BED9 of motif hits in genome coordinates, colored as in the report, sorted.

    ``hits`` are :func:`scan_motifs` rows on the regions' own strands; a hit on a ``-``
    region changes strand. Overlapping regions that find the same instance report it once.
    The score is ``100 * -log10(p)``, capped at 1000.
    """
    from .seqlets import offsets_to_genome

    index = hits["region_index"].to_numpy(np.int64)
    starts, ends = offsets_to_genome(
        regions, index, hits["start"].to_numpy(), (hits["end"] - hits["start"]).to_numpy()
    )
    minus = regions["strand"].to_numpy()[index] == "-"
    flipped = hits["strand"].map({"+": "-", "-": "+"}).to_numpy()
    motif = hits["motif_id"].astype(str).to_numpy()
    rgb = {m: motif_rgb(m) for m in set(motif)}
    bed = pd.DataFrame(
        {
            "chrom": regions["chrom"].to_numpy()[index],
            "start": starts,
            "end": ends,
            "name": [f"{m}:{motif_names.get(m, 'novel')}" for m in motif],
            "score": np.clip(
                np.round(-100 * np.log10(hits["p_value"].to_numpy(float))), 0, 1000
            ).astype(np.int64),
            "strand": np.where(minus, flipped, hits["strand"].to_numpy()),
            "thickStart": starts,
            "thickEnd": ends,
            "itemRgb": [rgb[m] for m in motif],
        }
    )
    bed = bed[bed["end"] > bed["start"]]
    return sort_bed(bed.drop_duplicates(["chrom", "start", "end", "name", "strand"]))


def sort_bed(bed: pd.DataFrame) -> pd.DataFrame:
    """Sort as ``LC_COLLATE=C sort -k1,1 -k2,2n``, ties broken by end then name."""
    order = np.lexsort(
        (
            bed["name"].to_numpy(),
            bed["end"].to_numpy(),
            bed["start"].to_numpy(),
            bed["chrom"].astype(str).to_numpy().astype(bytes),
        )
    )
    return bed.iloc[order].reset_index(drop=True)


def seqlet_track(
    seqlets: pd.DataFrame, assignments: pd.DataFrame, motif_names: dict
) -> pd.DataFrame:
    """BED9 of seqlets, named and colored by motif, strand = the motif's strand, sorted.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        DESIGN.md's seqlets (BED6+).
    assignments : pandas.DataFrame
        ``seqlet, motif_id, strand`` per seqlet (``seqlet_motifs.tsv``).
    motif_names : dict
        ``{motif_id: display name}`` (the best JASPAR match or ``novel``).
    """
    merged = seqlets.merge(
        assignments,
        left_on="name",
        right_on="seqlet",
        how="left",
        suffixes=("", "_motif"),
        validate="one_to_one",
    )
    motif = merged["motif_id"].fillna("none")
    label = [f"{m}:{motif_names.get(m, 'none')}" if m != "none" else "none" for m in motif]
    rgb = [motif_rgb(m) for m in motif]
    bed = pd.DataFrame(
        {
            "chrom": merged["chrom"],
            "start": merged["start"],
            "end": merged["end"],
            "name": [f"{lab}|{name}" for lab, name in zip(label, merged["name"])],
            "score": merged["score"],
            "strand": merged["strand_motif"].fillna("."),
            "thickStart": merged["start"],
            "thickEnd": merged["end"],
            "itemRgb": rgb,
        }
    )
    return sort_bed(bed)

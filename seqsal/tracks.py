"""Genome tracks from region-level results: per-base attribution and seqlet intervals.

Attributions live on each region's own strand; here they are mapped to + strand genome
coordinates. Where regions overlap, each base takes its value from the region whose
center is nearest (ties: the region listed first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .intervals import genome_positions as genome_positions  # importable here, as before
from .io.bed import BED_COLUMNS, sort_bed
from .io.bigwig import within_runs
from .motifs import too_short_for

log = logging.getLogger(__name__)

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
ATTRIBUTION_COLORS = {"color": "31,119,180", "altColor": "214,39,40"}  # + blue, - red


def motif_color(motif_id: str) -> str:
    """A motif's color, shared by the report and the tracks (``none`` is grey).

    Parameters
    ----------
    motif_id : str
        ``motif_<k>``, or ``none``.

    Returns
    -------
    color : str
        ``#rrggbb``.
    """
    if not motif_id.startswith("motif_"):
        return NO_MOTIF_COLOR
    return PALETTE[(int(motif_id.split("_")[1]) - 1) % len(PALETTE)]


def motif_rgb(motif_id: str) -> str:
    """:func:`motif_color` as BED's ``itemRgb`` (``r,g,b``).

    Parameters
    ----------
    motif_id : str

    Returns
    -------
    rgb : str
    """
    color = motif_color(motif_id)
    return ",".join(str(int(color[i : i + 2], 16)) for i in (1, 3, 5))


@dataclass
class Track:
    """Per-base values of a genome track, as runs of consecutive bases.

    Run ``k`` covers ``chrom[k]:start[k]`` up to ``start[k] + len(values[k])``; runs are
    sorted by contig (in the reference's order), then by start, and never overlap.
    """

    chrom: np.ndarray
    start: np.ndarray
    values: list

    def to_frame(self) -> pd.DataFrame:
        """One row per base: ``chrom, start, value``.

        Returns
        -------
        frame : pandas.DataFrame
        """
        lengths = np.array([len(v) for v in self.values], dtype=np.int64)
        return pd.DataFrame(
            {
                "chrom": np.repeat(np.asarray(self.chrom, dtype=object), lengths),
                "start": np.repeat(self.start, lengths) + within_runs(lengths),
                "value": np.concatenate(self.values) if self.values else np.zeros(0, np.float32),
            }
        )

    def symmetric_range(self, quantile: float = 0.999, sample: int = 1_000_000) -> tuple:
        """``(-m, m)``, ``m`` the ``quantile`` of |value|: one scale for every locus, with
        the negative bars as visible as the positive ones.

        Parameters
        ----------
        quantile : float, optional
            Default is 0.999 (a few outlying bases are clipped, not the scale set by them).
        sample : int, optional
            Bases the quantile is estimated from, evenly spaced. Default is 1,000,000.

        Returns
        -------
        range : tuple of float
        """
        total = sum(len(v) for v in self.values)
        step = max(1, total // sample)
        picked = [np.abs(np.asarray(v[::step], dtype=np.float64)) for v in self.values]
        values = np.concatenate(picked) if picked else np.zeros(1)
        values = values[np.isfinite(values)]
        top = float(np.quantile(values, quantile)) if len(values) else 0.0
        top = top or float(values.max(initial=0.0)) or 1.0
        return (-top, top)


def region_owners(regions: pd.DataFrame, *, contigs) -> pd.DataFrame:
    """Which region gives each covered base its value, as runs of bases.

    Where regions overlap, a base belongs to the region whose center is nearest (ties:
    the region listed first). Each contig is split between consecutive centers (linear
    time); the split is exact whenever the nearest center covers every covered base,
    which holds when a contig's regions share one width. Contigs where it does not
    hold are resolved base by base.

    Parameters
    ----------
    regions : pandas.DataFrame
        BED6 regions (``chrom``, ``start``, ``end``: genome extent, N padding excluded).
    contigs : list of str
        The reference's contig order.

    Returns
    -------
    runs : pandas.DataFrame
        ``region`` (row of ``regions``), ``rank`` (contig index), ``start``, ``end``,
        sorted by ``rank`` then ``start``.
    """
    rank = pd.Categorical(regions["chrom"], categories=list(contigs)).codes.astype(np.int64)
    if (rank < 0).any():
        raise ValueError(f"contig {regions['chrom'][rank < 0].iloc[0]!r} is not in the reference")
    starts = regions["start"].to_numpy(np.int64)
    ends = regions["end"].to_numpy(np.int64)
    doubled = starts + ends  # twice the center; base p sits at 2p + 1
    order = np.lexsort((np.arange(len(regions)), doubled, rank))
    r, c = rank[order], doubled[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]  # one region per center
    order, r, c = order[first], r[first], c[first]
    # a region owns base p while 4p + 2 < c + c_next; at equality, the lower row wins
    q, rem = np.divmod(c[:-1] + c[1:] - 2, 4)
    cut = q + (rem > 0) + ((rem == 0) & (order[:-1] < order[1:]))
    big = np.iinfo(np.int64).max // 4
    cut = np.where(r[1:] == r[:-1], cut, big)
    runs = pd.DataFrame(
        {
            "region": order,
            "rank": r,
            "start": np.maximum(np.r_[-big, np.where(cut == big, -big, cut)], starts[order]),
            "end": np.minimum(np.r_[cut, big], ends[order]),
        }
    )
    runs = runs[runs["end"] > runs["start"]]
    assigned = np.bincount(
        runs["rank"], weights=runs["end"] - runs["start"], minlength=len(contigs)
    )
    inexact = np.flatnonzero(assigned != _covered_bases(rank, starts, ends, len(contigs)))
    if len(inexact):
        runs = pd.concat(
            [runs[~runs["rank"].isin(inexact)], _owners_by_base(rank, starts, ends, inexact)]
        )
    return runs.sort_values(["rank", "start"], kind="stable").reset_index(drop=True)


def _covered_bases(rank, starts, ends, n_contigs) -> np.ndarray:
    """Bases covered by at least one region, per contig."""
    order = np.lexsort((starts, rank))
    key = rank[order] << 40  # contigs in one increasing coordinate
    s, e = key + starts[order], key + ends[order]
    reach = np.r_[0, np.maximum.accumulate(e)[:-1]]
    return np.bincount(
        rank[order], weights=np.clip(e - np.maximum(s, reach), 0, None), minlength=n_contigs
    )


def _owners_by_base(rank, starts, ends, contigs) -> pd.DataFrame:
    """:func:`region_owners` base by base, for the regions on ``contigs``."""
    rows = np.flatnonzero(np.isin(rank, contigs))
    widths = ends[rows] - starts[rows]
    region = np.repeat(rows, widths)
    position = starts[region] + within_runs(widths)
    distance = np.abs(2 * position + 1 - starts[region] - ends[region])
    order = np.lexsort((region, distance, position, rank[region]))
    region, position = region[order], position[order]
    first = (
        np.r_[True, position[1:] != position[:-1]]
        | np.r_[True, rank[region][1:] != rank[region][:-1]]
    )
    region, position = region[first], position[first]
    new = np.r_[True, (region[1:] != region[:-1]) | (position[1:] != position[:-1] + 1)]
    begin = np.flatnonzero(new)
    stop = np.r_[begin[1:], len(region)]
    return pd.DataFrame(
        {
            "region": region[begin],
            "rank": rank[region[begin]],
            "start": position[begin],
            "end": position[stop - 1] + 1,
        }
    )


def _take(runs: pd.DataFrame, regions: pd.DataFrame, rows, *, contigs) -> Track:
    """A :class:`Track` of ``rows`` (N, L, on each region's strand) over ``runs``: views,
    so that memory-mapped rows (:class:`seqsal.io.RowStack`) are read as the track is."""
    region = runs["region"].to_numpy()
    start, end = runs["start"].to_numpy(), runs["end"].to_numpy()
    pads = regions.reindex(columns=["pad_left", "pad_right"], fill_value=0).to_numpy(np.int64)
    minus = regions["strand"].to_numpy()[region] == "-"
    # offset of the run in the row: from the window's first base, or back from its last
    offset = np.where(
        minus,
        regions["end"].to_numpy(np.int64)[region] + pads[region, 1] - end,
        start - regions["start"].to_numpy(np.int64)[region] + pads[region, 0],
    )
    stop = offset + end - start
    values = [
        rows[i][a:b][::-1] if m else rows[i][a:b]
        for i, a, b, m in zip(region.tolist(), offset.tolist(), stop.tolist(), minus.tolist())
    ]
    return Track(np.asarray(contigs, dtype=object)[runs["rank"].to_numpy()], start, values)


def attribution_track(regions: pd.DataFrame, attr: np.ndarray, *, contigs, runs=None) -> Track:
    """Per-base attribution in genome coordinates, one value per covered base.

    Parameters
    ----------
    regions : pandas.DataFrame
        BED6 regions, in the order of ``attr``.
    attr : numpy.ndarray or seqsal.io.RowStack, shape=(N, L)
        Actual attributions on each region's own strand (may be memory-mapped: the track
        holds views, read when written).
    contigs : list of str
        Contig order of the reference; the output is sorted by it, then by position.
    runs : pandas.DataFrame or None, optional
        :func:`region_owners` of ``regions``, when several tracks share them. Default is
        None: computed here.

    Returns
    -------
    track : Track
        Overlaps resolved by :func:`region_owners`; bases outside every region absent.
    """
    if runs is None:
        runs = region_owners(regions, contigs=contigs)
    return _take(runs, regions, attr, contigs=contigs)


def hypothetical_tracks(regions: pd.DataFrame, hyp: np.ndarray, *, contigs, runs=None) -> dict:
    """Each base's hypothetical contribution on the + strand: ``{base: Track}``.

    On a ``-`` strand region the model saw the complement, so the + strand base ``A``
    at a position takes the region's ``T`` channel there (and so on).

    Parameters
    ----------
    regions : pandas.DataFrame
    hyp : array-like, shape=(N, 4, L)
    contigs : list of str
        The reference's contigs, in order.
    runs : pandas.DataFrame or None, optional
        :func:`region_owners` of the regions, when already made. Default is None.

    Returns
    -------
    tracks : dict
        ``{"A": Track, "C": ..., "G": ..., "T": ...}``.
    """
    if runs is None:
        runs = region_owners(regions, contigs=contigs)
    minus = (regions["strand"].to_numpy() == "-")[:, None]
    return {
        base: attribution_track(
            regions, np.where(minus, hyp[:, 3 - k], hyp[:, k]), contigs=contigs, runs=runs
        )
        for k, base in enumerate("ACGT")
    }


def page_loci(seqlets: pd.DataFrame, regions: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` regions holding the most significant seqlets (then the first regions),
    most significant first (ties: the larger attribution): ``chrom, start, end, name``.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        ``region``, ``q_value``, ``attr_sum`` per seqlet.
    regions : pandas.DataFrame
    n : int
        Regions wanted.

    Returns
    -------
    loci : pandas.DataFrame
    """
    ranked = seqlets.assign(size=-seqlets["attr_sum"].abs()).sort_values(["q_value", "size"])
    names = list(ranked["region"].drop_duplicates()[:n])
    names += [name for name in regions["name"] if name not in set(names)][: n - len(names)]
    return regions.set_index("name").loc[names].reset_index()[["chrom", "start", "end", "name"]]


def track_in(track: Track, loci: pd.DataFrame) -> pd.DataFrame:
    """The bases of ``track`` inside ``loci``, once each: ``chrom, start, value``.

    Parameters
    ----------
    track : Track
    loci : pandas.DataFrame
        ``chrom, start, end``.

    Returns
    -------
    frame : pandas.DataFrame
        Sorted by ``chrom, start``.
    """
    ends = track.start + np.array([len(v) for v in track.values], dtype=np.int64)
    frames = []
    for chrom, start, end in loci[["chrom", "start", "end"]].itertuples(index=False):
        hit = np.flatnonzero((track.chrom == chrom) & (track.start < end) & (ends > start))
        part = Track(track.chrom[hit], track.start[hit], [track.values[k] for k in hit])
        frame = part.to_frame()
        frames.append(frame[(frame["start"] >= start) & (frame["start"] < end)])
    frame = pd.concat(frames).drop_duplicates(["chrom", "start"])
    return frame.sort_values(["chrom", "start"]).reset_index(drop=True)


def bed_in(bed: pd.DataFrame, loci: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``bed`` that overlap ``loci``, once each, in their order.

    Parameters
    ----------
    bed : pandas.DataFrame
        ``chrom, start, end`` and any other columns.
    loci : pandas.DataFrame
        ``chrom, start, end``.

    Returns
    -------
    rows : pandas.DataFrame
    """
    keep = np.zeros(len(bed), dtype=bool)
    for chrom, start, end in loci[["chrom", "start", "end"]].itertuples(index=False):
        keep |= ((bed["chrom"] == chrom) & (bed["start"] < end) & (bed["end"] > start)).to_numpy()
    return bed[keep]


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

    Parameters
    ----------
    hits : pandas.DataFrame
        ``motif_id, region_index, start, end, strand, p_value``.
    regions : pandas.DataFrame
        The rows ``region_index`` refers to.
    motif_names : dict
        ``{motif_id: name}``.

    Returns
    -------
    bed : pandas.DataFrame
        BED9.
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
                np.round(-100 * np.log10(np.maximum(hits["p_value"].to_numpy(float), 1e-300))),
                0,
                1000,
            ).astype(np.int64),
            "strand": np.where(minus, flipped, hits["strand"].to_numpy()),
            "thickStart": starts,
            "thickEnd": ends,
            "itemRgb": [rgb[m] for m in motif],
        }
    )
    bed = bed[bed["end"] > bed["start"]]
    return sort_bed(bed.drop_duplicates(["chrom", "start", "end", "name", "strand"]))


def seqlet_track(
    seqlets: pd.DataFrame, assignments: pd.DataFrame, motif_names: dict
) -> pd.DataFrame:
    """BED9 of seqlets, named and colored by motif, strand = the motif's strand, sorted.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        The seqlets of docs/design.md (BED6+).
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


def build_tracks(
    regions: pd.DataFrame,
    maps: dict,
    sizes: dict,
    seqlets: pd.DataFrame,
    assignments: pd.DataFrame,
    motif_names: dict,
    ppms: dict,
    blocks,
    *,
    hyp=None,
    truth: pd.DataFrame | None = None,
    motif_hit_p: float = 1e-4,
    igv_loci: int = 12,
) -> dict:
    """The tracks stage: every track in genome coordinates, and what igv.html shows.

    Parameters
    ----------
    regions : pandas.DataFrame
        The regions, in the maps' order.
    maps : dict
        ``{track name: attr (N, L)}`` (arrays or memory-mapped stacks, read as the
        tracks are written), the first run's as ``attribution``.
    sizes : dict
        ``{contig: length}`` of the reference, in FASTA order.
    seqlets : pandas.DataFrame
        ``seqlets.bed`` (:func:`seqsal.io.bed.read_seqlets`).
    assignments : pandas.DataFrame
        ``seqlet_motifs.tsv``: each seqlet's motif.
    motif_names : dict
        ``{motif_id: name}`` of ``motifs.tsv``.
    ppms : dict
        ``{motif_id: PPM (4, w)}`` scanned for motif hits.
    blocks : iterable of numpy.ndarray, shape=(B, 4, L)
        The regions' one-hot sequences, block after block, in order.
    hyp : array-like or None, shape=(N, 4, L), optional
        Hypothetical contributions: also one track per base. Default is None.
    truth : pandas.DataFrame or None, optional
        Known sites (BED6, the config's ``truth``), shown on igv.html. Default is None.
    motif_hit_p : float, optional
        FIMO's p-value threshold for motif hits. Default is 1e-4.
    igv_loci : int, optional
        Regions shown on igv.html. Default is 12.

    Returns
    -------
    tracks : dict
        ``bigwigs`` (``{name: Track}``: the maps, then ``hypothetical_{A,C,G,T}``),
        ``ranges`` (``{map name: (-m, m)}``, a symmetric scale for the browsers),
        ``seqlets`` and ``motif_hits`` (BED9 frames, sorted), ``locus`` (where IGV
        opens, 1-based), ``loci`` (igv.html's regions) and ``page_tracks`` (their
        data there, for :func:`seqsal.io.igv.igv_page`).
    """
    from .io.bed import bed_text, bedgraph_text

    short = too_short_for(
        motif_hit_p, {name: np.shape(ppm)[-1] for name, ppm in ppms.items()}, "tracks.motif_hit_p"
    )
    if short:
        log.warning("%s (motif_hits.bed)", short)
    contigs = list(sizes)
    runs = region_owners(regions, contigs=contigs)  # shared by every track
    bigwigs = {
        name: attribution_track(regions, a, contigs=contigs, runs=runs) for name, a in maps.items()
    }
    ranges = {name: track.symmetric_range() for name, track in bigwigs.items()}
    page = [
        {"name": name, "format": "bedgraph", "track": track, "range": ranges[name]}
        for name, track in bigwigs.items()
    ]
    if hyp is not None:
        by_base = hypothetical_tracks(regions, hyp, contigs=contigs, runs=runs)
        bigwigs.update({f"hypothetical_{base}": track for base, track in by_base.items()})
    hits, done = [], 0
    for X in blocks:  # block by block: memory follows the block
        found = scan_motifs(ppms, X, threshold=motif_hit_p)
        hits.append(found.assign(region_index=found["region_index"] + done))
        done += len(X)
    motif_hits = motif_hit_track(pd.concat(hits, ignore_index=True), regions, motif_names)
    bed = seqlet_track(seqlets, assignments, motif_names)
    first = bed.iloc[0] if len(bed) else regions.iloc[0]
    loci = page_loci(seqlets, regions, igv_loci)
    for entry in page:
        entry.update(text=bedgraph_text(track_in(entry.pop("track"), loci)), **ATTRIBUTION_COLORS)
    page += [
        {"name": "seqlets", "format": "bed", "text": bed_text(bed_in(bed, loci))},
        {"name": "motif hits", "format": "bed", "text": bed_text(bed_in(motif_hits, loci))},
    ]
    if truth is not None:
        known = sort_bed(truth[BED_COLUMNS])
        page.append({"name": "known sites", "format": "bed", "text": bed_text(bed_in(known, loci))})
    return {
        "bigwigs": bigwigs,
        "ranges": ranges,
        "seqlets": bed,
        "motif_hits": motif_hits,
        "locus": f"{first['chrom']}:{max(1, first['start'] - 100)}-{first['end'] + 100}",
        "loci": loci,
        "page_tracks": page,
    }

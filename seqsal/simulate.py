"""The embedded demo: a synthetic genome with JASPAR motifs planted in labelled regions.

Each region gets 0 to ``max_sites`` motif instances, sampled from the motifs' PPMs and
planted on either strand; its label is the sum of the planted motifs' effects plus
Gaussian noise, so a CNN can learn it and attributions can be checked against the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from .io.bed import BED_COLUMNS

_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


def _text(indices: np.ndarray) -> str:
    """Base indices (0-3) as an ACGT string."""
    return _BASES[indices].tobytes().decode("ascii")


def _sample_background(rng, length: int, gc: float) -> np.ndarray:
    probabilities = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return rng.choice(4, size=length, p=probabilities).astype(np.uint8)


def _sample_site(rng, ppm: np.ndarray) -> np.ndarray:
    """Draw one instance (base indices) from a PPM of shape (4, L)."""
    cumulative = np.cumsum(ppm / ppm.sum(axis=0), axis=0)
    draws = rng.random(ppm.shape[1])
    return np.minimum((draws > cumulative).sum(axis=0), 3).astype(np.uint8)


def _sample_strong_site(rng, ppm: np.ndarray, min_score: float) -> np.ndarray:
    """Draw instances from a PPM until one scores ``min_score`` of the best log2-odds."""
    best = float(np.log2(np.maximum(ppm.max(axis=0), 1e-3) / 0.25).sum())
    for _ in range(1000):
        site = _sample_site(rng, ppm)
        if _log_odds(site, ppm) >= min_score * best:
            return site
    return ppm.argmax(axis=0).astype(np.uint8)


def _log_odds(site: np.ndarray, ppm: np.ndarray) -> float:
    probabilities = ppm[site, np.arange(ppm.shape[1])]
    return float(np.log2(np.maximum(probabilities, 1e-3) / 0.25).sum())


def simulate_demo(
    motifs: dict,
    *,
    n_regions: int = 4000,
    n_contigs: int = 8,
    contig_length: int = 250_000,
    width: int = 200,
    max_sites: int = 3,
    effects: dict | None = None,
    noise: float = 0.25,
    gc: float = 0.42,
    min_score: float = 0.7,
    seed: int = 0,
):
    """Simulate a genome, labelled regions and the planted motif instances.

    Parameters
    ----------
    motifs : dict
        ``{motif name: PPM of shape (4, L)}``: the motifs to plant.
    n_regions : int, optional
        Number of regions, spread evenly over the contigs. Default is 4000.
    n_contigs : int, optional
        Number of contigs, named ``chr1`` ... Default is 8.
    contig_length : int, optional
        Bases per contig. Default is 250000.
    width : int, optional
        Bases per region. Default is 200.
    max_sites : int, optional
        Each region gets a uniform number of sites in ``0..max_sites``. Default is 3.
    effects : dict or None, optional
        Label effect of one instance of each motif. Default is None: 1.0, 1.5, 2.0, ...
        in the order of ``motifs``.
    noise : float, optional
        Standard deviation of the label noise. Default is 0.25.
    gc : float, optional
        GC content of the background. Default is 0.42.
    min_score : float, optional
        Instances are drawn from the PPM until one reaches this fraction of the motif's
        best log2-odds score, so that planted sites stand out of the background.
        Default is 0.7.
    seed : int, optional
        Seed of the random generator; equal seeds give equal outputs. Default is 0.

    Returns
    -------
    genome : dict
        ``{contig: sequence}``.
    regions : pandas.DataFrame
        BED6 columns ``chrom, start, end, name, score, strand``.
    labels : pandas.DataFrame
        Columns ``name, activity``.
    truth : pandas.DataFrame
        BED6 of every planted instance: ``chrom, start, end, name`` (the motif),
        ``score`` (log2-odds x 10, 0-1000), ``strand``, plus the ``region`` it lies in.
    """
    names = list(motifs)
    effects = effects or {name: 1.0 + 0.5 * i for i, name in enumerate(names)}
    slot = 2 * width
    per_contig = -(-n_regions // n_contigs)
    if per_contig * slot > contig_length:
        raise InputError(
            f"simulate.contig_length: expected at least {per_contig * slot} bases for "
            f"{per_contig} regions of {width} bp per contig, found {contig_length}"
        )
    rng = np.random.default_rng(seed)
    genome, regions, labels, truth = {}, [], [], []
    for c in range(n_contigs):
        chrom = f"chr{c + 1}"
        contig = _sample_background(rng, contig_length, gc)
        n_here = min(per_contig, n_regions - len(regions))
        slots = np.sort(rng.choice(contig_length // slot, size=n_here, replace=False))
        for s in slots:
            start = int(s * slot + rng.integers(0, width))
            name = f"region_{len(regions) + 1:05d}"
            strand = "+" if rng.random() < 0.5 else "-"
            regions.append((chrom, start, start + width, name, 0, strand))
            occupied = np.zeros(width, dtype=bool)
            activity = rng.normal(0.0, noise)
            for _ in range(rng.integers(0, max_sites + 1)):
                motif = names[rng.integers(len(names))]
                ppm = motifs[motif]
                length = ppm.shape[1]
                for _attempt in range(50):
                    offset = int(rng.integers(0, width - length + 1))
                    if not occupied[offset : offset + length].any():
                        break
                else:
                    continue
                occupied[offset : offset + length] = True
                site = _sample_strong_site(rng, ppm, min_score)
                site_strand = "+" if rng.random() < 0.5 else "-"
                score = int(np.clip(10 * _log_odds(site, ppm), 0, 1000))
                if site_strand == "-":
                    site = 3 - site[::-1]
                contig[start + offset : start + offset + length] = site
                truth.append(
                    (
                        chrom,
                        start + offset,
                        start + offset + length,
                        motif,
                        score,
                        site_strand,
                        name,
                    )
                )
                activity += effects[motif]
            labels.append((name, round(float(activity), 4)))
        genome[chrom] = _text(contig)
    return (
        genome,
        pd.DataFrame(regions, columns=BED_COLUMNS),
        pd.DataFrame(labels, columns=["name", "activity"]),
        pd.DataFrame(truth, columns=BED_COLUMNS + ["region"]),
    )


def select_motifs(database: dict, names: list, *, source: str = "motifs.database") -> dict:
    """The PPMs of the TFs ``names`` in a motif database, by TF name.

    Parameters
    ----------
    database : dict
        ``{"<matrix id> <TF name>": PPM (4, L)}``, e.g. a :class:`~seqsal.io.meme.MotifDatabase`.
    names : list of str
        TF names, e.g. ``["GATA1", "TAL1::TCF3"]``.
    source : str, optional
        What the database is, named in the error. Default is "motifs.database".

    Returns
    -------
    motifs : dict
        ``{TF name: PPM (4, L)}`` in the order of ``names``.

    Raises
    ------
    InputError
        When a name is not in the database.
    """
    by_name = {key.split(" ", 1)[1]: ppm for key, ppm in database.items()}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise InputError(f"simulate.motifs: expected TF names in {source}, found {missing}")
    return {name: by_name[name] for name in names}


REPORTER_BOXES = {"minus35 TTGACA": "TTGACA", "minus10 TATAAT": "TATAAT"}


def box_ppm(consensus: str, *, weight: float = 0.85) -> np.ndarray:
    """A PPM (4, L) giving each consensus base ``weight``, the others the rest evenly.

    Parameters
    ----------
    consensus : str
        ACGT only.
    weight : float, optional
        Default is 0.85.

    Returns
    -------
    ppm : numpy.ndarray, shape=(4, len(consensus))
    """
    index = np.frombuffer(consensus.encode(), dtype=np.uint8)
    ppm = np.full((4, len(consensus)), (1 - weight) / 3)
    ppm[np.searchsorted(_BASES, index), np.arange(len(consensus))] = weight
    return ppm


def simulate_reporter(
    *,
    n_sequences: int = 4000,
    width: int = 150,
    n_backgrounds: int = 200,
    position: int = 50,
    spacing: int = 17,
    noise: float = 0.3,
    gc: float = 0.45,
    flank: str = "CGCAGCA",
    seed: int = 0,
):
    """An oriented reporter library (a promoter MPRA): two boxes at fixed positions and
    spacing, read in one orientation, on shared backgrounds, each box followed by the
    same constant flank.

    Each sequence is one of ``n_backgrounds`` random backgrounds (3% of its bases
    mutated). Box A (``TTGACA``) starts at ``position``, box B (``TATAAT``) ``spacing``
    bases after A's end; each is present in 75% of sequences with 0-2 mismatches to its
    consensus, strength ``s = 1 - mismatches / 6``. A fifth of the sequences move B to a
    wrong spacing (14-20 bases, not ``spacing``), and a tenth of the boxes are planted
    reverse-complemented, where they do nothing: the library is oriented. The output is
    ``1.0 s_A + 1.5 s_B + 1.5 s_A s_B [right spacing] + background effect + noise``, the
    background effect ~ N(0, 0.3) per background (what a model of these backgrounds can
    learn instead of the boxes). ``flank`` follows each box's place in every construct,
    unmutated (as a cloning design's constant bases do): it cannot explain the output,
    and no motif should hold it.

    Parameters
    ----------
    n_sequences : int, optional
        Default is 4000.
    width : int, optional
        Bases per sequence. Default is 150.
    n_backgrounds : int, optional
        Default is 200.
    position : int, optional
        0-based start of box A. Default is 50.
    spacing : int, optional
        Bases between the boxes where they act together. Default is 17.
    noise : float, optional
        Standard deviation of the output noise. Default is 0.3.
    gc : float, optional
        Background GC content. Default is 0.45.
    flank : str, optional
        The constant bases after each box (ACGT; empty for none). Default is "CGCAGCA".
    seed : int, optional
        Default is 0.

    Returns
    -------
    library : pandas.DataFrame
        ``name, sequence, activity, background``.
    truth : pandas.DataFrame
        BED6 of every active box (forward, in sequence coordinates: ``chrom`` is the
        sequence's name; ``name`` the box's motif id).
    elements : dict
        ``{"<id> <consensus>": PPM (4, L)}`` of the two boxes, for a MEME file.
    """
    (name_a, box_a), (name_b, box_b) = REPORTER_BOXES.items()
    need = position + len(box_a) + max(spacing, 20) + len(box_b) + len(flank)
    if len(flank) >= 14 or need > width:
        raise InputError(
            f"simulate: expected a flank under 14 bases and a width of at least {need} for "
            f"boxes at {position} spaced up to {max(spacing, 20)}, found a {len(flank)}-base "
            f"flank and a width of {width}"
        )
    rng = np.random.default_rng(seed)
    backgrounds = [_sample_background(rng, width, gc) for _ in range(n_backgrounds)]
    effects = rng.normal(0.0, 0.3, n_backgrounds)
    elements = {name: box_ppm(box) for name, box in REPORTER_BOXES.items()}
    consensus = {name: ppm.argmax(axis=0).astype(np.uint8) for name, ppm in elements.items()}
    rows, truth = [], []
    for i in range(n_sequences):
        b = int(rng.integers(n_backgrounds))
        seq = backgrounds[b].copy()
        mutated = rng.random(width) < 0.03
        seq[mutated] = rng.integers(0, 4, int(mutated.sum()))
        gap = (
            spacing
            if rng.random() >= 0.2
            else int(rng.choice([s for s in range(14, 21) if s != spacing]))
        )
        starts = {name_a: position, name_b: position + len(box_a) + gap}
        for motif, start in starts.items():  # the design's constant bases, never mutated
            end = start + len(consensus[motif])
            seq[end : end + len(flank)] = ["ACGT".index(b) for b in flank]
        strength, name = {}, f"construct_{i + 1:05d}"
        for motif, start in starts.items():
            strength[motif] = 0.0
            if rng.random() >= 0.75:
                continue
            site = consensus[motif].copy()
            k = int(rng.choice(3, p=[0.4, 0.35, 0.25]))
            at = rng.choice(len(site), size=k, replace=False)
            site[at] = (site[at] + rng.integers(1, 4, k)) % 4
            if rng.random() < 0.1:  # reverse-complemented: inactive in an oriented construct
                seq[start : start + len(site)] = 3 - site[::-1]
                continue
            seq[start : start + len(site)] = site
            strength[motif] = 1 - k / len(site)
            truth.append((name, start, start + len(site), motif.split()[0], 1000 - 100 * k, "+"))
        s_a, s_b = strength[name_a], strength[name_b]
        activity = s_a + 1.5 * s_b + 1.5 * s_a * s_b * (gap == spacing) + effects[b]
        activity += rng.normal(0.0, noise)
        rows.append(
            (
                name,
                _text(seq),
                round(float(activity), 4),
                f"bg{b + 1:02d}",
            )
        )
    library = pd.DataFrame(rows, columns=["name", "sequence", "activity", "background"])
    return library, pd.DataFrame(truth, columns=BED_COLUMNS), elements


def demo_variants(
    genome: dict,
    regions: pd.DataFrame,
    truth: pd.DataFrame,
    motifs: dict,
    *,
    n_core: int = 300,
    n_background: int = 300,
    seed: int = 0,
) -> pd.DataFrame:
    """SNVs with a known answer: at planted sites' core and far from every site.

    A core SNV replaces a planted site's consensus base, at its most informative such
    column, by the base the motif likes least; a background SNV changes a random base
    of a region at least a motif's width from every planted site.

    Parameters
    ----------
    genome : dict
        ``{contig: sequence}``.
    regions, truth : pandas.DataFrame
        :func:`simulate_demo`'s regions and planted sites.
    motifs : dict
        ``{motif name: PPM (4, w)}``, the planted ones.
    n_core, n_background : int, optional
        Default is 300 each.
    seed : int, optional
        Default is 0.

    Returns
    -------
    variants : pandas.DataFrame
        ``chrom, pos`` (1-based), ``id, ref, alt, kind`` (``core`` or ``background``),
        ``motif`` (the planted motif, ``.`` for background), sorted by position.
    """
    rng = np.random.default_rng(seed + 1)
    rows = []
    for i in rng.permutation(len(truth)):
        if len(rows) == n_core:
            break
        chrom, start, end, motif, _, strand = truth.iloc[i][BED_COLUMNS]
        ppm = motifs[motif]
        site = np.frombuffer(genome[chrom][start:end].encode(), np.uint8)
        site = np.searchsorted(_BASES, site)
        site = site if strand == "+" else 3 - site[::-1]
        consensus = np.flatnonzero(site == ppm.argmax(axis=0))
        if not len(consensus):
            continue
        bits = 2 + (ppm * np.log2(np.maximum(ppm, 1e-9))).sum(axis=0)
        column = consensus[np.argmax(bits[consensus])]
        alt = int(np.argmin(ppm[:, column]))
        pos = start + column if strand == "+" else end - 1 - column
        alt = alt if strand == "+" else 3 - alt
        rows.append((chrom, pos, genome[chrom][pos], "ACGT"[alt], "core", motif))
    margin = max(ppm.shape[1] for ppm in motifs.values())
    busy = {}
    for chrom, start, end in truth[["chrom", "start", "end"]].itertuples(index=False):
        busy.setdefault(chrom, []).append((start - margin, end + margin))
    for i in rng.permutation(len(regions)):
        if len(rows) == n_core + n_background:
            break
        chrom, start, end = regions.iloc[i][["chrom", "start", "end"]]
        pos = int(rng.integers(start, end))
        if any(a <= pos < b for a, b in busy.get(chrom, ())):
            continue
        ref = genome[chrom][pos]
        alt = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
        rows.append((chrom, pos, ref, alt, "background", "."))
    variants = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "kind", "motif"])
    variants["pos"] += 1
    variants.insert(2, "id", [f"{k}_{i + 1:04d}" for i, k in enumerate(variants["kind"])])
    return variants.sort_values(["chrom", "pos"], kind="stable").reset_index(drop=True)


def variants_vcf_text(variants: pd.DataFrame, sizes: dict) -> str:
    """:func:`demo_variants` as VCF 4.2 text, the answer in INFO (``KIND``, ``MOTIF``).

    Parameters
    ----------
    variants : pandas.DataFrame
    sizes : dict
        ``{contig: length}``.

    Returns
    -------
    text : str
    """
    header = [
        "##fileformat=VCFv4.2",
        "##source=seqsal simulate",
        "##INFO=<ID=KIND,Number=1,Type=String,Description=\"core: at a planted site's most "
        'informative consensus base; background: far from every site">',
        '##INFO=<ID=MOTIF,Number=1,Type=String,Description="The planted motif (core SNVs)">',
        *(f"##contig=<ID={c},length={n}>" for c, n in sizes.items()),
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    records = [
        f"{r.chrom}\t{r.pos}\t{r.id}\t{r.ref}\t{r.alt}\t.\tPASS\tKIND={r.kind};MOTIF={r.motif}"
        for r in variants.itertuples(index=False)
    ]
    return "\n".join(header + records) + "\n"

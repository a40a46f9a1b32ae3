"""Variant effects: what each variant does to the model's output, how surprising that
is, and which motif it breaks or makes.

Every variant is checked against the reference (its contig, its position, its REF),
then placed in a window of the model's width: the region that holds it (the one whose
centre is nearest; variants of one region share its REF window), or, outside every region
or where the longer allele would not fit in it, a window centred on it. Alleles are
written in place on the + strand: an insertion pushes the window's last bases out, a
deletion pulls in the reference that follows (N past a contig's end), so both alleles
have the model's width. A ``-`` strand region is reverse-complemented for the model as
when it was encoded; the variant keeps the + strand coordinates it came with.

For each target the model's output on REF and ALT is averaged over both strands unless
the data are oriented; Δ = ALT − REF. A single-base substitution is an ISM value: it runs
through the same fastISM machinery (:func:`seqsal.attribute.ism.substituted_outputs`).
The p-value of |Δ| is empirical, against random substitutions in the same windows
(``n_null`` of them, spread evenly). Motif disruption: FIMO (memelite) scans a short
window around each variant in REF and ALT with every motif given; each hit that
overlaps the variant in either allele is reported with its p-value in both.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from .encode import _codes_to_one_hot
from .io.bed import REJECTED_COLUMNS
from .models import (
    Ensemble,
    RCAverage,
    check_finite_outputs,
    simplified,
    strand_averaged,
)
from .motifs import too_short_for
from .progress import Progress

REF_CODE = {b: i for i, b in enumerate("ACGT")}
NULL_CODE = ord("N")
TABLE_COLUMNS = [
    "name",
    "chrom",
    "pos",
    "ref",
    "alt",
    "kind",
    "window",
    "window_strand",
    "target",
    "ref_output",
    "alt_output",
    "delta",
    "delta_probability",
    "p_value",
    "motif",
    "motif_effect",
    "motif_p_ref",
    "motif_p_alt",
    "motif_hits",
    "attr_ref",
    "attr_alt",
    "line",
]
PER_TARGET = ["ref_output", "alt_output", "delta", "p_value", "delta_probability"]
# INFO key: (column of vcf_rows, Number, Type, Description)
VCF_INFO = {
    "SEQSAL_REF": (
        "ref_output",
        ".",
        "Float",
        "Model output on REF, one per target (see ##seqsal_targets)",
    ),
    "SEQSAL_ALT": ("alt_output", ".", "Float", "Model output on ALT, one per target"),
    "SEQSAL_DELTA": ("delta", ".", "Float", "ALT minus REF output, one per target"),
    "SEQSAL_P": (
        "p_value",
        ".",
        "Float",
        "Empirical p-value of |delta| against random substitutions in its windows, one per target",
    ),
    "SEQSAL_DPROB": (
        "delta_probability",
        ".",
        "Float",
        "Change in probability, one per binary target",
    ),
    "SEQSAL_MOTIF": (
        "motif",
        "1",
        "String",
        "Motif whose hit over the variant changes most (percent-encoded)",
    ),
    "SEQSAL_EFFECT": (
        "motif_effect",
        "1",
        "String",
        "What ALT does to that hit: breaks, makes, weakens or strengthens",
    ),
    "SEQSAL_MOTIF_P": ("motif_p", "2", "Float", "FIMO p-value of that hit in REF and in ALT"),
    "SEQSAL_WINDOW": (
        "window",
        "1",
        "String",
        "Region (or centred window) the variant was scored in",
    ),
}


def variant_kind(ref: str, alt: str) -> str:
    """``snv``, ``mnv``, ``insertion``, ``deletion`` or ``indel`` (both change length).

    Parameters
    ----------
    ref, alt : str

    Returns
    -------
    kind : str
    """
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if len(ref) == 1 or len(alt) == 1:
        return "insertion" if len(alt) > len(ref) else "deletion"
    return "indel"


def check_variants(
    variants: pd.DataFrame, read_contig, sizes: dict, *, width: int, source: str = ""
) -> tuple:
    """Split variants into those the reference confirms and those it does not.

    Parameters
    ----------
    variants : pandas.DataFrame
        ``chrom, pos`` (0-based), ``ref, alt, name, line, variant`` (as written).
    read_contig : callable
        ``read_contig(chrom)``: the contig's upper-case ASCII codes (uint8).
    sizes : dict
        ``{contig: length}``.
    width : int
        The model's input length: alleles longer than half of it are refused.
    source : str, optional
        The variants' file, named in ``rejected``. Default is "".

    Returns
    -------
    kept : pandas.DataFrame
        The rows that match the reference, in input order.
    rejected : pandas.DataFrame
        ``source, line, name, reason`` (:data:`seqsal.io.bed.REJECTED_COLUMNS`).
    """
    reasons = pd.Series("", index=variants.index, dtype=object)
    for chrom, rows in variants.groupby("chrom", sort=False):
        if chrom not in sizes:
            reasons[rows.index] = _missing_contig(chrom, sizes)
            continue
        size = sizes[chrom]
        ends = rows["pos"] + rows["ref"].str.len()
        past = ends > size
        reasons[rows.index[past]] = f"past the end of {chrom} ({size} bp)"
        contig = read_contig(chrom)
        for index, pos, ref in rows.loc[~past, ["pos", "ref"]].itertuples():
            found = contig[pos : pos + len(ref)].tobytes().decode("ascii", "replace")
            if ref != found:
                reasons[index] = f"REF {ref} does not match the reference, which has {found} there"
    longest = np.maximum(variants["ref"].str.len(), variants["alt"].str.len())
    reasons[(reasons == "") & (longest > width // 2)] = (
        f"alleles longer than half the model's width ({width // 2} bases)"
    )
    bad = reasons != ""
    rows = variants[bad]
    rejected = pd.DataFrame(
        {
            "source": source,
            "line": rows["line"],
            "name": rows["variant"],
            "reason": reasons[bad],
        },
        columns=REJECTED_COLUMNS,
    )
    return variants[~bad].reset_index(drop=True), rejected.reset_index(drop=True)


def _missing_contig(chrom: str, sizes: dict) -> str:
    hint = ""
    if f"chr{chrom}" in sizes:
        hint = f"; the reference names it chr{chrom}: add the chr prefix"
    elif chrom.startswith("chr") and chrom[3:] in sizes:
        hint = f"; the reference names it {chrom[3:]}: drop the chr prefix"
    return f"contig {chrom} is not in the reference{hint}"


def place_variants(variants: pd.DataFrame, regions: pd.DataFrame, *, width: int) -> pd.DataFrame:
    """Each variant's window: the region holding both its alleles whose centre is nearest,
    else a window of ``width`` centred on it (``+`` strand).

    Parameters
    ----------
    variants : pandas.DataFrame
        Checked variants (:func:`check_variants`).
    regions : pandas.DataFrame
        ``chrom, start, end, name, strand`` (and pads): windows of ``width``.
    width : int

    Returns
    -------
    variants : pandas.DataFrame
        With ``window`` (the region's name, or ``chrom:start-end``, 1-based),
        ``window_start`` (0-based, may be negative near a contig's start) and
        ``window_strand``.
    """
    pads = regions.reindex(columns=["pad_left"], fill_value=0)["pad_left"]
    starts = (regions["start"] - pads).to_numpy(np.int64)
    names = regions["name"].astype(str).to_numpy()
    strands = regions["strand"].astype(str).to_numpy()
    pos = variants["pos"].to_numpy(np.int64)
    longest = np.maximum(variants["ref"].str.len(), variants["alt"].str.len()).to_numpy()
    centred = pos + longest // 2 - width // 2
    window_start, window, strand = (
        centred.copy(),
        np.empty(len(variants), object),
        np.full(len(variants), "+", object),
    )
    found = np.zeros(len(variants), bool)
    chroms = regions["chrom"].astype(str).to_numpy()
    for chrom, rows in variants.groupby("chrom", sort=False).indices.items():
        mine = np.flatnonzero(chroms == chrom)
        if not len(mine):
            continue
        mine = mine[np.argsort(starts[mine], kind="stable")]
        s = starts[mine]
        # windows hold [pos, pos + longest) when s <= pos and s + width >= pos + longest;
        # of those the nearest centre is beside the ideal start ``centred``
        at = np.searchsorted(s, centred[rows])
        for side in (at - 1, at):
            ok = (side >= 0) & (side < len(s))
            pick = np.where(ok, side, 0)
            start = s[pick]
            fits = ok & (start <= pos[rows]) & (start + width >= pos[rows] + longest[rows])
            better = fits & (
                ~found[rows]
                | (np.abs(start - centred[rows]) < np.abs(window_start[rows] - centred[rows]))
            )
            take = rows[better]
            window_start[take] = start[better]
            window[take] = names[mine[pick[better]]]
            strand[take] = strands[mine[pick[better]]]
            found[take] = True
    outside = ~found
    window[outside] = [
        f"{c}:{s + 1}-{s + width}"
        for c, s in zip(variants["chrom"].to_numpy()[outside], window_start[outside])
    ]
    return variants.assign(window=window, window_start=window_start, window_strand=strand)


def _window_codes(contig: np.ndarray, starts, length: int) -> np.ndarray:
    """ASCII codes (W, length) of windows of a contig; N outside it."""
    index = np.asarray(starts, np.int64)[:, None] + np.arange(length)
    inside = (index >= 0) & (index < len(contig))
    return np.where(inside, contig[np.clip(index, 0, max(len(contig) - 1, 0))], NULL_CODE).astype(
        np.uint8
    )


def _encode(codes: np.ndarray, strands) -> np.ndarray:
    """One-hot (W, 4, L) of + strand codes, ``-`` rows reverse-complemented."""
    minus = np.asarray(strands) == "-"
    codes = codes.copy()
    codes[minus] = codes[minus, ::-1]
    return _codes_to_one_hot(codes, minus, check=False)


def _alt_codes(codes: np.ndarray, offset: int, ref: str, alt: str, tail: np.ndarray):
    """One window's codes with REF at ``offset`` replaced by ALT, kept at its length by
    cutting its end or filling it from ``tail`` (the reference after the window)."""
    edited = np.concatenate(
        [codes[:offset], np.frombuffer(alt.encode(), np.uint8), codes[offset + len(ref) :], tail]
    )
    return edited[: len(codes)]


class _Scorer:
    """The model's outputs on both alleles, a block of windows at a time. An ensemble's
    members are scored one by one, each through its own fast path (fastISM finds a body
    of local layers in a member, not in the mean of several), and averaged, as its
    output is."""

    def __init__(self, model, *, oriented, width, batch_size, device, log=None):
        from .attribute import auto_batch_size

        model = simplified(model, pool_first=True).to(device).eval()
        inner = model.model if isinstance(model, RCAverage) else model
        members = list(inner.members) if isinstance(inner, Ensemble) else [inner]
        self.models = [m if oriented else strand_averaged(m) for m in members]
        self.batch_size = batch_size or auto_batch_size(self.models[0], width, device)
        self.device, self.log = device, log
        if log is not None:
            from .attribute.ism import describe_path

            each = f"each of the {len(members)} members: " if len(members) > 1 else ""
            log.info("single-base variants: %s%s", each, describe_path(self.models[0]))
        self.fast = [None] * len(self.models)  # fastISM or full: measured on the first block

    @torch.no_grad()
    def outputs(self, X: np.ndarray) -> np.ndarray:
        if not len(X):
            return np.zeros((0, 0), np.float32)

        def run(model):
            batches = range(0, len(X), self.batch_size)
            return torch.cat(
                [model(torch.as_tensor(X[i : i + self.batch_size], device=self.device).float())
                 for i in batches]
            )  # fmt: skip

        return torch.stack([run(m) for m in self.models]).mean(dim=0).float().cpu().numpy()

    def substituted(self, X: np.ndarray, seq, positions, bases) -> np.ndarray:
        from .attribute.ism import fast_path_pays, substituted_outputs

        if not len(seq):
            return np.zeros((0, 0), np.float32)
        X = torch.as_tensor(X, device=self.device).float()
        seq, positions, bases = (
            torch.as_tensor(np.asarray(a, np.int64), device=self.device)
            for a in (seq, positions, bases)
        )
        found = []
        for k, model in enumerate(self.models):
            if self.fast[k] is None:  # measured on the first block, kept for the rest
                log = self.log if k == 0 else None
                self.fast[k] = fast_path_pays(model, X, seq, positions, bases, self.batch_size, log)
            found.append(
                substituted_outputs(
                    model, X, seq, positions, bases, self.batch_size, fast=self.fast[k]
                )
            )
        return torch.stack(found).mean(dim=0).cpu().numpy()


def score_variants(
    variants: pd.DataFrame,
    read_contig,
    model,
    *,
    width: int,
    oriented: bool,
    n_null: int = 1000,
    flank: int = 0,
    block: int | None = None,
    batch_size: int | None = None,
    device="cpu",
    seed: int = 0,
    log=None,
) -> tuple:
    """The model's outputs on REF and ALT of every placed variant, and a null of random
    substitutions in the same windows.

    Parameters
    ----------
    variants : pandas.DataFrame
        Placed variants (:func:`place_variants`).
    read_contig : callable
        ``read_contig(chrom)``: upper-case ASCII codes (uint8).
    model : torch.nn.Module
        Maps (N, 4, width) one-hot input to (N, T) outputs.
    width : int
    oriented : bool
        When False, each output is the mean over both strands.
    n_null : int, optional
        Random single-base substitutions, spread evenly over the windows that hold
        variants. Default is 1000.
    flank : int, optional
        Also return each variant's allele windows of ``±flank`` + strand codes around it
        (for the motif scan). Default is 0: none.
    block : int or None, optional
        Windows one-hot encoded and cached at a time, so that memory does not grow with
        the variants. Default is None: as many as one model batch (the fastISM cache of a
        window holds every layer's activations, as a batch does).
    batch_size : int or None, optional
        Sequences per model call; None sizes it from the activations' memory (as
        :func:`seqsal.attribute.auto_batch_size`). Default is None.
    device : str or torch.device, optional
    seed : int, optional
        Seeds the null. Default is 0.
    log : logging.Logger or None, optional

    Returns
    -------
    ref, alt : numpy.ndarray, shape=(V, T), dtype=float32
        Outputs in the rows' order.
    null : numpy.ndarray, shape=(n, T), dtype=float32
        ALT − REF of the random substitutions.
    around : tuple of (list, list)
        Per variant, the + strand ASCII codes of REF and ALT with ``flank`` bases each
        side (empty lists when ``flank`` is 0).
    """
    scorer = _Scorer(
        model, oriented=oriented, width=width, batch_size=batch_size, device=device, log=log
    )
    block = block or scorer.batch_size
    rng = np.random.default_rng(seed)
    V = len(variants)
    progress = Progress(log or logging.getLogger(__name__), "variants", V, unit="variants")
    # each variant as written (chr1:10 A>G), to name one that breaks the model
    labels = (variants["variant"] if "variant" in variants else variants.index).astype(str)
    labels = labels.to_numpy()
    ref_out = alt_out = None
    nulls, ref_around, alt_around = [], [None] * V, [None] * V
    keys = variants["chrom"].astype(str) + "\t" + variants["window_start"].astype(str)
    n_windows = max(keys.nunique(), 1)
    per_window = n_null / n_windows
    owed = 0.0
    for chrom, rows in variants.groupby("chrom", sort=False).indices.items():
        contig = read_contig(chrom)
        chrom_keys = keys.to_numpy()[rows]
        unique, first, window_of = np.unique(chrom_keys, return_index=True, return_inverse=True)
        order = np.argsort(first)  # windows in input order, for reproducible blocks
        for b in range(0, len(unique), block):
            wins = order[b : b + block]
            local = np.full(len(unique), -1)
            local[wins] = np.arange(len(wins))
            starts = variants["window_start"].to_numpy()[rows][first[wins]]
            strands = variants["window_strand"].to_numpy()[rows][first[wins]]
            codes = _window_codes(contig, starts, width + width // 2)
            X = _encode(codes[:, :width], strands)
            ref_block = scorer.outputs(X)
            here = rows[local[window_of] >= 0]
            w = local[window_of[local[window_of] >= 0]]
            if ref_out is None:
                T = ref_block.shape[1]
                ref_out, alt_out = np.zeros((V, T), np.float32), np.zeros((V, T), np.float32)
            ref_out[here] = ref_block[w]
            alt_out[here] = _alt_block(variants, here, w, X, codes, starts, strands, scorer, width)
            for outputs in (ref_out, alt_out):  # a model finite on zeros may break here
                check_finite_outputs(outputs[here], names=labels[here])
            progress.update(len(here))
            owed += per_window * len(wins)
            n_here = int(owed)
            owed -= n_here
            nulls.append(_null_block(X, n_here, rng, scorer, ref_block))
            if flank:
                for v in here:
                    ref_around[v], alt_around[v] = _around(contig, variants.iloc[v], flank)
    if ref_out is None:  # no variant: the outputs' width from one empty window
        T = scorer.outputs(np.zeros((1, 4, width), np.uint8)).shape[1]
        ref_out, alt_out = np.zeros((0, T), np.float32), np.zeros((0, T), np.float32)
    nulls = [n for n in nulls if len(n)]
    null = np.concatenate(nulls) if nulls else np.zeros((0, ref_out.shape[1]), np.float32)
    return ref_out, alt_out, null, (ref_around if flank else [], alt_around if flank else [])


def _model_position(offset, strands, width):
    """Window offsets (+ strand) as positions in the model's orientation."""
    return np.where(strands == "-", width - 1 - offset, offset)


def _alt_block(variants, here, w, X, codes, starts, strands, scorer, width):
    """ALT outputs of the variants ``here`` (rows of ``variants``) in windows ``w``."""
    ref = variants["ref"].to_numpy()[here]
    alt = variants["alt"].to_numpy()[here]
    offset = variants["pos"].to_numpy()[here] - starts[w]
    snv = (np.char.str_len(ref.astype(str)) == 1) & (np.char.str_len(alt.astype(str)) == 1)
    snv &= np.isin(alt, list("ACGT"))
    out = None
    if snv.any():
        minus = strands[w[snv]] == "-"
        base = np.array([REF_CODE[a] for a in alt[snv]])
        found = scorer.substituted(
            X,
            w[snv],
            _model_position(offset[snv], strands[w[snv]], width),
            np.where(minus, 3 - base, base),
        )
        out = np.zeros((len(here), found.shape[1]), np.float32)
        out[snv] = found
    rest = np.flatnonzero(~snv)
    if len(rest):
        edited = np.stack(
            [
                _alt_codes(codes[w[i], :width], offset[i], ref[i], alt[i], codes[w[i], width:])
                for i in rest
            ]
        )
        found = scorer.outputs(_encode(edited, strands[w[rest]]))
        if out is None:
            out = np.zeros((len(here), found.shape[1]), np.float32)
        out[rest] = found
    return out


def _null_block(X, n, rng, scorer, ref_block):
    """ALT − REF of ``n`` random substitutions in the windows ``X``, at A/C/G/T bases."""
    if n <= 0:
        return np.zeros((0, ref_block.shape[1]), np.float32)
    present = X.sum(1) > 0
    seq = rng.integers(0, len(X), n)
    pos = np.array([rng.choice(np.flatnonzero(present[s])) if present[s].any() else 0 for s in seq])
    base = (X[seq, :, pos].argmax(1) + rng.integers(1, 4, n)) % 4
    return scorer.substituted(X, seq, pos, base) - ref_block[seq]


def _around(contig, row, flank):
    """+ strand codes of REF and ALT with ``flank`` reference bases on each side."""
    start = int(row.pos) - flank
    left = _window_codes(contig, [start], flank)[0]
    right = _window_codes(contig, [int(row.pos) + len(row.ref)], flank)[0]
    ref = np.frombuffer(row.ref.encode(), np.uint8)
    alt = np.frombuffer(row.alt.encode(), np.uint8)
    return np.concatenate([left, ref, right]), np.concatenate([left, alt, right])


def empirical_p(delta: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``(1 + #{|null| >= |delta|}) / (1 + n)`` per value, column by column.

    Parameters
    ----------
    delta : numpy.ndarray, shape=(V, T)
    null : numpy.ndarray, shape=(n, T)

    Returns
    -------
    p : numpy.ndarray, shape=(V, T)
    """
    p = np.ones(delta.shape, np.float64)
    for t in range(delta.shape[1]):
        ranked = np.sort(np.abs(null[:, t]))
        beyond = len(ranked) - np.searchsorted(ranked, np.abs(delta[:, t]) - 1e-7, side="left")
        p[:, t] = (1 + beyond) / (1 + len(ranked))
    return p


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
    return _encode(padded, np.full(len(codes), "+")).astype(np.float32)


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
    (of any motif when the tiers are empty), and every hit.

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
    # the headline is a motif of the tiers (when there are any): with hundreds of database
    # motifs, nearly every base overlaps some hit by chance
    headline = ranked[ranked["tier"] < len(prefer)] if any(len(t) for t in prefer) else ranked
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


def allele_windows(variants: pd.DataFrame, read_contig, *, width: int) -> tuple:
    """One-hot REF and ALT windows of placed variants, in the model's orientation.

    Parameters
    ----------
    variants : pandas.DataFrame
        Placed variants (:func:`place_variants`).
    read_contig : callable
    width : int

    Returns
    -------
    ref, alt : numpy.ndarray, shape=(V, 4, width), dtype=uint8
    """
    ref = np.zeros((len(variants), 4, width), np.uint8)
    alt = np.zeros_like(ref)
    for chrom, rows in variants.groupby("chrom", sort=False).indices.items():
        contig = read_contig(chrom)
        part = variants.iloc[rows]
        codes = _window_codes(contig, part["window_start"].to_numpy(), width + width // 2)
        strands = part["window_strand"].to_numpy()
        edited = np.stack(
            [
                _alt_codes(c[:width], int(p - s), r, a, c[width:])
                for c, p, s, r, a in zip(
                    codes, part["pos"], part["window_start"], part["ref"], part["alt"]
                )
            ]
        )
        ref[rows], alt[rows] = _encode(codes[:, :width], strands), _encode(edited, strands)
    return ref, alt


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
    from .attribute import attribute

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


def variant_effects(
    variants,
    unread,
    regions,
    read_contig,
    sizes,
    model,
    meta,
    *,
    targets,
    oriented,
    motifs,
    n_null=2000,
    motif_p=1e-4,
    max_maps=100,
    map_flank=15,
    method="grad_x_input",
    source="",
    device="cpu",
    seed=0,
    log=None,
) -> tuple:
    """Score every variant: outputs on REF and ALT, delta, p-value, motifs, maps.

    Parameters
    ----------
    variants : pandas.DataFrame
        :func:`seqsal.io.variants.read_variants`' rows.
    unread : pandas.DataFrame
        Rows the reader rejected (``source, line, name, reason``), reported with the rest.
    regions : pandas.DataFrame
        The run's regions: windows of the model's width.
    read_contig : callable
        ``read_contig(chrom)``: upper-case ASCII codes (uint8).
    sizes : dict
        ``{contig: length}``.
    model : torch.nn.Module
    meta : dict
        The checkpoint's metadata (``input_length``, ``targets``, ``tasks``).
    targets : list of int
        The outputs scored; the first ranks the maps.
    oriented : bool
    motifs : dict
        ``{motif name: PPM}`` scanned for disruption; names starting ``motif_`` (this
        run's) are reported first.
    n_null, motif_p, max_maps, map_flank : optional
        See the config's ``variants`` keys.
    method : str, optional
        The maps' attribution method. Default is "grad_x_input".
    source : str, optional
        The variants' file, named in ``rejected``. Default is "".
    device : str or torch.device, optional
    seed : int, optional
    log : logging.Logger or None, optional

    Returns
    -------
    table : pandas.DataFrame
        One row per variant x target: :data:`TABLE_COLUMNS`.
    rejected : pandas.DataFrame
        ``source, line, name, reason``, in input order.
    maps : dict
        Arrays of the top variants' maps (``names``, ``ref``, ``alt``, ``start``).
    """
    width = int(meta["input_length"])
    checked, bad = check_variants(variants, read_contig, sizes, width=width, source=source)
    rejected = pd.concat([unread, bad], ignore_index=True).sort_values("line", kind="stable")
    placed = place_variants(checked, regions, width=width)
    scan_flank = max([ppm.shape[1] for ppm in motifs.values()] + [2]) - 1
    ref, alt, null, around = score_variants(
        placed,
        read_contig,
        model,
        width=width,
        oriented=oriented,
        n_null=n_null,
        flank=scan_flank,
        device=device,
        seed=seed,
        log=log,
    )
    same = (placed["ref"] == placed["alt"]).to_numpy()
    alt[same] = ref[same]  # the same sequence: exactly no change
    if log is not None:
        log.info("scored %d variants in %d windows", len(placed), placed["window"].nunique())
    lengths = np.stack([placed["ref"].str.len(), placed["alt"].str.len()], axis=1)
    short = too_short_for(
        motif_p, {name: np.shape(ppm)[-1] for name, ppm in motifs.items()}, "variants.motif_p"
    )
    if short and log is not None:
        log.warning("%s (broken or made motifs)", short)
    hits = motif_disruption(*around, scan_flank, lengths, motifs, threshold=motif_p)
    summary = motif_summary(hits, len(placed), motif_p, prefer=motif_tiers(motifs))
    delta = alt - ref
    p = empirical_p(delta, null)
    first = targets[0] if targets else 0
    top = np.argsort(-np.abs(delta[:, first]), kind="stable")[:max_maps] if len(placed) else []
    maps = variant_maps(
        placed.iloc[top],
        read_contig,
        model,
        width=width,
        oriented=oriented,
        target=first,
        method=method,
        flank=map_flank,
        device=device,
    )
    attr = {k: np.full(len(placed), np.nan, np.float32) for k in ("attr_ref", "attr_alt")}
    for k in attr:
        attr[k][top] = maps.pop(k)
    table = _table(placed, summary, ref, alt, delta, p, attr, targets, meta)
    names = placed["name"].to_numpy(str)[top]
    maps.update(names=names, start=(placed["pos"].to_numpy()[top] + 1 - map_flank))
    maps["chrom"] = placed["chrom"].to_numpy(str)[top]
    return table, rejected.reset_index(drop=True), maps


def _table(placed, summary, ref, alt, delta, p, attr, targets, meta) -> pd.DataFrame:
    """One row per variant x target, variants in input order."""
    frames = []
    tasks = meta.get("tasks") or ["regression"] * len(meta["targets"])
    for t in targets:
        binary = tasks[t] == "binary"
        sigmoid = lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))  # noqa: E731
        frames.append(
            pd.DataFrame(
                {
                    "name": placed["name"].to_numpy(),
                    "chrom": placed["chrom"].to_numpy(),
                    "pos": placed["pos"].to_numpy() + 1,
                    "ref": placed["ref"].to_numpy(),
                    "alt": placed["alt"].to_numpy(),
                    "kind": [variant_kind(r, a) for r, a in zip(placed["ref"], placed["alt"])],
                    "window": placed["window"].to_numpy(),
                    "window_strand": placed["window_strand"].to_numpy(),
                    "target": str(meta["targets"][t]),
                    "ref_output": ref[:, t],
                    "alt_output": alt[:, t],
                    "delta": delta[:, t],
                    "delta_probability": (
                        sigmoid(alt[:, t]) - sigmoid(ref[:, t]) if binary else np.nan
                    ),
                    "p_value": p[:, t],
                    **{k: summary[k].to_numpy() for k in summary},
                    **attr,
                    "line": placed["line"].to_numpy(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table = table.reindex(columns=TABLE_COLUMNS)
    return table.sort_values(["line", "alt"], kind="stable").reset_index(drop=True)


def vcf_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant for :func:`seqsal.io.variants.write_variant_vcf`: the
    per-target columns as lists, ``pos`` 0-based.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`variant_effects`' table.

    Returns
    -------
    rows : pandas.DataFrame
    """
    keys = ["name", "chrom", "pos", "ref", "alt", "line"]
    grouped = table.groupby(keys, sort=False)
    rows = grouped.first().reset_index()
    for column in PER_TARGET:
        values = grouped[column].agg(list).to_numpy()
        rows[column] = [
            None if all(pd.isna(v) for v in vs) else [None if pd.isna(v) else float(v) for v in vs]
            for vs in values
        ]
    rows["motif_p"] = [
        None if pd.isna(r) else (float(r), float(a))
        for r, a in zip(rows["motif_p_ref"], rows["motif_p_alt"])
    ]
    for column in ("motif", "motif_effect"):
        rows[column] = rows[column].where(rows[column] != "", None)
    rows["pos"] = rows["pos"] - 1
    return rows


def delta_track(table: pd.DataFrame) -> pd.DataFrame:
    """BED9 of the first target's delta: one feature per variant over its REF bases,
    red where ALT raises the output, blue where it lowers it; score ``1000 |delta| /
    max |delta|``.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`variant_effects`' table.

    Returns
    -------
    bed : pandas.DataFrame
    """
    first = table[table["target"] == table["target"].iloc[0]] if len(table) else table
    delta = first["delta"].to_numpy(float)
    top = max(float(np.abs(delta).max()) if len(delta) else 0.0, 1e-12)
    start = first["pos"].to_numpy() - 1
    effect = [
        f"; {e} {m.split()[-1]}" if e else ""
        for e, m in zip(first["motif_effect"].fillna(""), first["motif"].fillna(""))
    ]
    return pd.DataFrame(
        {
            "chrom": first["chrom"].to_numpy(),
            "start": start,
            "end": start + first["ref"].str.len().to_numpy(),
            "name": [f"{n} delta={d:+.3g}{e}" for n, d, e in zip(first["name"], delta, effect)],
            "score": np.round(1000 * np.abs(delta) / top).astype(np.int64),
            "strand": ".",
            "thickStart": start,
            "thickEnd": start + first["ref"].str.len().to_numpy(),
            "itemRgb": np.where(
                delta > 0, "178,24,43", np.where(delta < 0, "33,102,172", "128,128,128")
            ),
        }
    )

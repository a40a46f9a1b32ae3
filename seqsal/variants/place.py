"""Variants against the reference: each checked (REF matches, the contig exists, the alleles
fit the model) and placed in a window of the model's width, and the windows as one-hot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..encode import _codes_to_one_hot
from ..io.bed import REJECTED_COLUMNS

REF_CODE = {b: i for i, b in enumerate("ACGT")}
NULL_CODE = ord("N")


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


def window_codes(contig: np.ndarray, starts, length: int) -> np.ndarray:
    """ASCII codes (W, length) of windows of a contig; N outside it."""
    index = np.asarray(starts, np.int64)[:, None] + np.arange(length)
    inside = (index >= 0) & (index < len(contig))
    return np.where(inside, contig[np.clip(index, 0, max(len(contig) - 1, 0))], NULL_CODE).astype(
        np.uint8
    )


def encode_windows(codes: np.ndarray, strands) -> np.ndarray:
    """One-hot (W, 4, L) of + strand codes, ``-`` rows reverse-complemented."""
    minus = np.asarray(strands) == "-"
    codes = codes.copy()
    codes[minus] = codes[minus, ::-1]
    return _codes_to_one_hot(codes, minus, check=False)


def alt_codes(codes: np.ndarray, offset: int, ref: str, alt: str, tail: np.ndarray):
    """One window's codes with REF at ``offset`` replaced by ALT, kept at its length by
    cutting its end or filling it from ``tail`` (the reference after the window)."""
    edited = np.concatenate(
        [codes[:offset], np.frombuffer(alt.encode(), np.uint8), codes[offset + len(ref) :], tail]
    )
    return edited[: len(codes)]


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
        codes = window_codes(contig, part["window_start"].to_numpy(), width + width // 2)
        strands = part["window_strand"].to_numpy()
        edited = np.stack(
            [
                alt_codes(c[:width], int(p - s), r, a, c[width:])
                for c, p, s, r, a in zip(
                    codes, part["pos"], part["window_start"], part["ref"], part["alt"]
                )
            ]
        )
        ref[rows], alt[rows] = (
            encode_windows(codes[:, :width], strands),
            encode_windows(edited, strands),
        )
    return ref, alt

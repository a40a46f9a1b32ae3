"""The model's outputs on REF and ALT, a block of windows at a time, through fastISM where it
pays (each member of an ensemble on its own), and the null of random substitutions."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from ..models import (
    Ensemble,
    RCAverage,
    check_finite_outputs,
    simplified,
    strand_averaged,
)
from ..progress import Progress
from .place import REF_CODE, alt_codes, encode_windows, window_codes


class _Scorer:
    """The model's outputs on both alleles, a block of windows at a time. An ensemble's
    members are scored one by one, each through its own fast path (fastISM finds a body
    of local layers in a member, not in the mean of several), and averaged, as its
    output is."""

    def __init__(self, model, *, oriented, width, batch_size, device, log=None):
        from ..attribute import auto_batch_size

        model = simplified(model, pool_first=True).to(device).eval()
        inner = model.model if isinstance(model, RCAverage) else model
        members = list(inner.members) if isinstance(inner, Ensemble) else [inner]
        self.models = [m if oriented else strand_averaged(m) for m in members]
        self.batch_size = batch_size or auto_batch_size(self.models[0], width, device)
        self.device, self.log = device, log
        if log is not None:
            from ..attribute.ism import describe_path

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
        from ..attribute.ism import fast_path_pays, substituted_outputs

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
    done_windows = 0  # the null's draws shared out exactly: n_null in all
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
            codes = window_codes(contig, starts, width + width // 2)
            X = encode_windows(codes[:, :width], strands)
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
            n_here = n_null * (done_windows + len(wins)) // n_windows
            n_here -= n_null * done_windows // n_windows
            done_windows += len(wins)
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
                alt_codes(codes[w[i], :width], offset[i], ref[i], alt[i], codes[w[i], width:])
                for i in rest
            ]
        )
        found = scorer.outputs(encode_windows(edited, strands[w[rest]]))
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
    left = window_codes(contig, [start], flank)[0]
    right = window_codes(contig, [int(row.pos) + len(row.ref)], flank)[0]
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

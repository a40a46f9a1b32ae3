"""Figures (matplotlib): training curves, motif logos, faithfulness and receptive-field
plots.

Each function returns a :class:`matplotlib.figure.Figure`; only the CLI saves them.
"""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
# a missing math font (STIXGeneral) falls back to DejaVu Sans: not worth a log line per glyph
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .encode import reverse_complement  # noqa: E402
from .motifs import information_bits  # noqa: E402


def plain(text: str) -> str:
    """Text from a user's file as matplotlib draws it literally: a ``$`` would start
    mathtext (and fail on an odd count), and a control character has no glyph (a warning
    on the console per figure); each is shown as itself or as U+FFFD.

    Parameters
    ----------
    text : str

    Returns
    -------
    text : str
    """
    shown = "".join(c if c.isprintable() else "\ufffd" for c in str(text))
    return shown.replace("$", r"\$")


def training_curves(
    history,
    y_test: np.ndarray,
    pred_test: np.ndarray,
    *,
    tasks=("regression",),
    targets=("target",),
    members=None,
) -> Figure:
    """Loss per epoch (when trained) beside, per target (up to 4), the held-out test
    regions: measured vs predicted for regression, the ROC curve for binary targets.

    Parameters
    ----------
    history : pandas.DataFrame or None
        ``epoch, train_loss, valid_loss, kept`` (the epoch whose weights were kept), and
        ``attempt`` where training started again and ``prior_on`` where a prior was used; as
        :func:`seqsal.train.train_model` returns it, or None for a loaded model.
    y_test : numpy.ndarray, shape=(n, T)
    pred_test : numpy.ndarray, shape=(n, T)
    tasks : sequence of str, optional
        Default is ("regression",).
    targets : sequence of str, optional
        Default is ("target",).
    members : sequence of pandas.DataFrame or None, optional
        An ensemble's members' histories, ``history`` the first's: the others'
        validation losses are drawn too. Default is None.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    from .metrics import auroc

    shown = min(len(tasks), 4)
    fig = Figure(figsize=(4.2 * (1 + shown), 3.6), dpi=100, layout="constrained")
    axes = fig.subplots(1, 1 + shown, squeeze=False)[0]
    if history is not None and len(history):
        axes[0].plot(history["epoch"], history["train_loss"], label="train")
        axes[0].plot(history["epoch"], history["valid_loss"], label="validation")
        others = list(members or ())[1:]
        which = "member 2" if len(others) == 1 else f"members 2-{len(others) + 1}"
        for k, other in enumerate(others):
            axes[0].plot(
                other["epoch"],
                other["valid_loss"],
                color="tab:orange",
                alpha=0.35,
                linewidth=1,
                label=None if k else f"validation, {which}",
            )
        if "attempt" in history:  # a prior held a start on the plateau: started again
            starts = history.groupby("attempt")["epoch"].min().iloc[1:]
            for k, epoch in enumerate(starts):
                axes[0].axvline(
                    epoch - 0.5,
                    color="tab:red",
                    linestyle="--",
                    label="restarted" if not k else None,
                )
            # where each restart, trained without the prior at first, took it on
            on = history["prior_on"] if "prior_on" in history else None
            came = [] if on is None else history["epoch"][on & ~on.shift(fill_value=True)]
            for k, epoch in enumerate(came):
                axes[0].axvline(
                    epoch - 0.5, color="tab:green", linestyle="-.", label=None if k else "prior on"
                )
        kept = history["epoch"][history["kept"]].iloc[0]
        axes[0].axvline(kept, color="grey", linestyle=":", label="kept")
        axes[0].legend(frameon=False)
    else:
        axes[0].text(0.5, 0.5, "loaded checkpoint: no training here", ha="center", va="center")
    title = f"Training curves (member 1 of {len(members)})" if members else "Training curves"
    axes[0].set(xlabel="epoch", ylabel="loss", title=title)
    for t, ax in enumerate(axes[1:]):
        y, p = y_test[:, t], pred_test[:, t]
        name = targets[t] if len(targets[t]) <= 40 else targets[t][:39] + "…"  # fits its panel
        if tasks[t] == "binary" and len(y):
            order = np.argsort(-p)
            positive = y[order] > 0.5
            tpr = np.r_[0, np.cumsum(positive) / max(positive.sum(), 1)]
            fpr = np.r_[0, np.cumsum(~positive) / max((~positive).sum(), 1)]
            ax.plot(fpr, tpr)
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
            ax.set(
                xlabel="false positive rate",
                ylabel="true positive rate",
                title=f"{name}\ntest ROC (AUROC {auroc(positive, p[order]):.3f})",
            )
        else:
            ax.scatter(y, p, s=4, alpha=0.4)
            if len(y) > 1:
                low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
                ax.plot([low, high], [low, high], color="grey", linestyle=":", label="y = x")
                ax.legend(frameon=False, loc="upper left", fontsize=8)
            r = np.corrcoef(y, p)[0, 1] if len(y) > 1 and np.ptp(y) and np.ptp(p) else np.nan
            ax.set(
                xlabel="measured (test)",
                ylabel="predicted",
                title=f"{name}\ntest (Pearson r {r:.3f}, n {len(y)})",
            )
    return fig


def information_content(ppm: np.ndarray) -> np.ndarray:
    """Scale a PPM (4, L) to bits: each column times its information content.

    Parameters
    ----------
    ppm : numpy.ndarray, shape=(4, L)

    Returns
    -------
    bits : numpy.ndarray, shape=(4, L)
    """
    return ppm / ppm.sum(axis=0) * information_bits(ppm)


def _draw_logo(ax, matrix: np.ndarray, title: str, ylabel: str, start: int = 0) -> None:
    import logomaker

    frame = pd.DataFrame(matrix.T, columns=list("ACGT"), index=start + np.arange(matrix.shape[1]))
    logomaker.Logo(frame, ax=ax, color_scheme="classic")
    ax.set_title(plain(title), fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xticks([])


def motif_logos(
    ppm: np.ndarray, cwm: np.ndarray, *, title: str = "", match: dict | None = None
) -> Figure:
    """Contribution (CWM) and PPM (bits) logos of a motif, forward and reverse strand.

    ``match``, when given, adds the logo of the motif's best database match, aligned as
    TOMTOM aligned it: a dict with ``label``, ``ppm`` (the target's PPM), ``offset`` and
    ``strand`` (as in :func:`seqsal.motifs.match_motifs`), and optionally ``caption``
    (default "best match").

    Parameters
    ----------
    ppm : numpy.ndarray, shape=(4, L)
    cwm : numpy.ndarray, shape=(4, L)
    title : str, optional
        Default is "".
    match : dict or None, optional
        Default is None.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    length = ppm.shape[1]
    rows = [("contribution", cwm, 0), ("PPM", ppm, 0)]  # caption, matrix, offset
    if match is not None:
        target = match["ppm"]
        if match["strand"] == "-":
            target = reverse_complement(target[None])[0]
        caption = match.get("caption", "best match")
        rows.append((f"{caption}: {match['label']}", target, int(match["offset"])))
    # every panel on one axis: the motif's columns at 0.., the match's where it aligns
    first = min(0, *(-offset for _, _, offset in rows))
    last = max(length, *(m.shape[1] - offset for _, m, offset in rows))
    fig = Figure(figsize=(8, 1.8 * len(rows)), dpi=90, layout="constrained")
    axes = fig.subplots(len(rows), 2, squeeze=False)
    for col, (strand, flip) in enumerate((("forward", False), ("reverse", True))):
        for row, (caption, matrix, offset) in enumerate(rows):
            start = -offset - first
            if flip:
                matrix = reverse_complement(matrix[None])[0]
                start = (last - first) - (start + matrix.shape[1])
            ax = axes[row, col]
            if row == 0:
                _draw_logo(ax, matrix, f"{caption} ({strand})", "contribution", start)
            else:  # probabilities, drawn in bits
                _draw_logo(ax, information_content(matrix), f"{caption} ({strand})", "bits", start)
                ax.set_ylim(0, 2)
            ax.set_xlim(-0.5, last - first - 0.5)
    if title:
        fig.suptitle(plain(title), fontsize=10)
    return fig


def attribution_logo(
    contrib: np.ndarray, *, title: str = "", positions=None, axis_label: str = ""
) -> Figure:
    """Logo of one region's actual contributions (4, L).

    Parameters
    ----------
    contrib : numpy.ndarray, shape=(4, L)
    title : str, optional
        Default is "".
    positions : array-like of int or None, shape=(L,), optional
        The coordinate shown under each column (e.g. 1-based genome positions; -1 where
        there is none, as in padding). Default is None: no axis.
    axis_label : str, optional
        Default is "".

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 1.9 if positions is not None else 1.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    _draw_logo(ax, contrib, title, "attribution")
    if positions is not None:
        positions = np.asarray(positions)
        step = _tick_step(len(positions))
        ticks = [i for i, x in enumerate(positions) if x >= 0 and x % step == 0]
        ax.set_xticks(ticks, [f"{positions[i]:,}" for i in ticks], fontsize=7)
        ax.set_xlabel(axis_label, fontsize=8)
    return fig


def allele_logos(ref: np.ndarray, alt: np.ndarray, *, title: str, start: int, label: str) -> Figure:
    """REF's contribution logo above ALT's, on one y scale, with 1-based positions.

    Parameters
    ----------
    ref, alt : numpy.ndarray, shape=(4, W)
        Actual contributions around a variant (+ strand).
    title : str
    start : int
        The 1-based position of the first column.
    label : str
        The variant, e.g. ``A>G``, shown in each panel's title.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    fig = Figure(figsize=(7, 2.8), dpi=90, layout="constrained")
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
    allele = label.split(">")
    for ax, matrix, name, which in zip(axes, (ref, alt), ("REF", "ALT"), allele):
        _draw_logo(ax, matrix, f"{name} ({which})", "attribution")
        middle = ref.shape[1] // 2
        ax.axvspan(middle - 0.5, middle + 0.5, color="#f0c000", alpha=0.3, lw=0)
    step = _tick_step(ref.shape[1])
    ticks = [i for i in range(ref.shape[1]) if (start + i) % step == 0]
    axes[1].set_xticks(ticks, [f"{start + i:,}" for i in ticks], fontsize=7)
    fig.suptitle(plain(title), fontsize=9)
    return fig


def _tick_step(length: int) -> int:
    """A round step giving 5 to 12 ticks over ``length`` columns."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if length / step <= 12:
            return step
    return 10_000


def faithfulness_curves(curves: pd.DataFrame) -> Figure:
    """Mean normalised model output against the fraction of bases deleted (left) and
    inserted into the background (right), per order (methods, random, uniform).

    Parameters
    ----------
    curves : pandas.DataFrame
        As from :func:`seqsal.evaluate.faithfulness`.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    fig = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (kind, better) in zip(axes, (("deletion", "lower"), ("insertion", "higher"))):
        for order, group in curves[curves["kind"] == kind].groupby("order", sort=False):
            style = ":" if order in ("random", "uniform") else "-"
            ax.plot(group["fraction"], group["output"], style, marker=".", label=order)
        ax.set(
            xlabel=f"fraction of bases {'deleted' if kind == 'deletion' else 'inserted'}",
            ylabel="normalised output",
            title=f"{kind.capitalize()} curves ({better} = more faithful)",
        )
        ax.legend(frameon=False, fontsize=8)
    return fig


def receptive_field(fields: pd.DataFrame) -> Figure:
    """Effective receptive field (Gaussian sigma of the impulse response) and theoretical
    receptive field per convolution depth.

    Parameters
    ----------
    fields : pandas.DataFrame
        As from :func:`seqsal.evaluate.receptive_fields`.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    fig = Figure(figsize=(5, 3.6), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.plot(fields["depth"], fields["theoretical"], "o:", label="theoretical (bases)")
    ax.plot(fields["depth"], fields["sigma"], "o-", label="effective: Gaussian sigma (bases)")
    ax.set(xlabel="convolution depth", ylabel="bases", title="Receptive field", yscale="log")
    ax.legend(frameon=False, fontsize=8)
    return fig


def draw_motif_figures(motifs: list, table: pd.DataFrame, database: dict) -> dict:
    """The logo figure of each discovered motif, beside its best match's own logo.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`seqsal.motifs.discover_motifs` (``ppm``, ``cwm``, ``n_seqlets``,
        ``match``).
    table : pandas.DataFrame
        Its ``motifs.tsv`` (``motif_id``, ``name``), same order.
    database : dict
        ``{"<id> <name>": PPM}``, holding each match's PPM.

    Returns
    -------
    figures : dict
        ``{motif_id: Figure}`` of :func:`motif_logos`.
    """
    figures = {}
    for motif_id, name, motif in zip(table["motif_id"], table["name"], motifs):
        title = f"{motif_id} ({name}, {motif['n_seqlets']} seqlets)"
        match = motif["match"]
        if match is not None:
            label = f"{match['target']}, q = {match['q_value']:.2g}"
            caption = "best match" if match.get("significant", True) else "nearest (not named)"
            match = {**match, "label": label, "caption": caption, "ppm": database[match["target"]]}
        figures[motif_id] = motif_logos(motif["ppm"], motif["cwm"], title=title, match=match)
    return figures

"""Figures (matplotlib): training curves, motif logos, deletion curves.

Each function returns a :class:`matplotlib.figure.Figure`; only the CLI saves them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .encode import reverse_complement  # noqa: E402
from .motifs import information_bits  # noqa: E402


def training_curves(
    history,
    y_test: np.ndarray,
    pred_test: np.ndarray,
    *,
    tasks=("regression",),
    targets=("target",),
) -> Figure:
    """Loss per epoch (when trained) beside, per target (up to 4), the held-out test
    regions: measured vs predicted for regression, the ROC curve for binary targets."""
    from .metrics import auroc

    shown = min(len(tasks), 4)
    fig = Figure(figsize=(4.2 * (1 + shown), 3.6), dpi=100, layout="constrained")
    axes = fig.subplots(1, 1 + shown, squeeze=False)[0]
    if history is not None and len(history):
        axes[0].plot(history["epoch"], history["train_loss"], label="train")
        axes[0].plot(history["epoch"], history["valid_loss"], label="validation")
        best = history["valid_loss"].idxmin()
        axes[0].axvline(history["epoch"][best], color="grey", linestyle=":", label="kept")
        axes[0].legend(frameon=False)
    else:
        axes[0].text(0.5, 0.5, "loaded checkpoint: no training here", ha="center", va="center")
    axes[0].set(xlabel="epoch", ylabel="loss", title="Training curves")
    for t, ax in enumerate(axes[1:]):
        y, p = y_test[:, t], pred_test[:, t]
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
                title=f"{targets[t]}: test ROC (AUROC {auroc(positive, p[order]):.3f})",
            )
        else:
            ax.scatter(y, p, s=4, alpha=0.4)
            ax.set(xlabel="measured (test)", ylabel="predicted", title=f"{targets[t]}: test")
    return fig


def information_content(ppm: np.ndarray) -> np.ndarray:
    """Scale a PPM (4, L) to bits: each column times its information content."""
    return ppm / ppm.sum(axis=0) * information_bits(ppm)


def _draw_logo(ax, matrix: np.ndarray, title: str, ylabel: str) -> None:
    import logomaker

    frame = pd.DataFrame(matrix.T, columns=list("ACGT"))
    logomaker.Logo(frame, ax=ax, color_scheme="classic")
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xticks([])


def motif_logos(ppm: np.ndarray, cwm: np.ndarray, *, title: str = "") -> Figure:
    """Contribution (CWM) and PPM (bits) logos of a motif, forward and reverse strand."""
    fig = Figure(figsize=(8, 3.6), dpi=90, layout="constrained")
    axes = fig.subplots(2, 2)
    for col, (label, flip) in enumerate((("forward", False), ("reverse", True))):
        c = reverse_complement(cwm[None])[0] if flip else cwm
        p = reverse_complement(ppm[None])[0] if flip else ppm
        _draw_logo(axes[0, col], c, f"contribution ({label})", "contribution")
        _draw_logo(axes[1, col], information_content(p), f"PPM ({label})", "bits")
        axes[1, col].set_ylim(0, 2)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def attribution_logo(contrib: np.ndarray, *, title: str = "") -> Figure:
    """Logo of one region's actual contributions (4, L)."""
    fig = Figure(figsize=(10, 1.6), dpi=90, layout="constrained")
    _draw_logo(fig.subplots(), contrib, title, "attribution")
    return fig


def faithfulness_curves(curves: pd.DataFrame) -> Figure:
    """Mean normalised model output against the fraction of bases deleted (left) and
    inserted into the background (right), per order (methods, random, uniform)."""
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
    receptive field per convolution depth."""
    fig = Figure(figsize=(5, 3.6), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.plot(fields["depth"], fields["theoretical"], "o:", label="theoretical (bases)")
    ax.plot(fields["depth"], fields["sigma"], "o-", label="effective: Gaussian sigma (bases)")
    ax.set(xlabel="convolution depth", ylabel="bases", title="Receptive field", yscale="log")
    ax.legend(frameon=False, fontsize=8)
    return fig

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


def training_curves(history, y_test: np.ndarray, pred_test: np.ndarray) -> Figure:
    """Loss per epoch (when trained) beside measured vs predicted on the test split."""
    fig = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2)
    if history is not None and len(history):
        left.plot(history["epoch"], history["train_loss"], label="train")
        left.plot(history["epoch"], history["valid_loss"], label="validation")
        best = history["valid_loss"].idxmin()
        left.axvline(history["epoch"][best], color="grey", linestyle=":", label="kept")
        left.legend(frameon=False)
    else:
        left.text(0.5, 0.5, "loaded checkpoint: no training here", ha="center", va="center")
    left.set(xlabel="epoch", ylabel="loss", title="Training curves")
    if len(y_test):
        right.scatter(y_test[:, 0], pred_test[:, 0], s=4, alpha=0.4)
    right.set(xlabel="measured (test)", ylabel="predicted", title="Held-out test regions")
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


def deletion_curves(curves: pd.DataFrame) -> Figure:
    """Mean normalised model output against the fraction of bases deleted, per order."""
    fig = Figure(figsize=(5, 3.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    for order, group in curves.groupby("order", sort=False):
        mean = group.groupby("fraction")["output"].mean()
        ax.plot(mean.index, mean.to_numpy(), marker=".", label=order)
    ax.set(
        xlabel="fraction of bases deleted",
        ylabel="normalised output",
        title="Deletion curves (lower = more faithful)",
    )
    ax.legend(frameon=False)
    return fig

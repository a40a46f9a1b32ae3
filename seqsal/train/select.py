"""``model.arch: auto``: the candidate architectures and learning rates, each trained for a
few epochs, the best on the validation split chosen."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..metrics import score_predictions
from ..models import (
    predict,
)
from .loop import Training
from .options import TrainingOptions

log = logging.getLogger(__name__)


def candidates(length: int, learning_rate: float) -> list:
    """The architectures and learning rates ``model.arch: auto`` tries.

    Parameters
    ----------
    length : int
        Bases per input: short constructs (up to 500 bp) try ``deepstarr``, longer
        regions ``bpnet``, both besides ``cnn``.
    learning_rate : float
        ``model.learning_rate``: it and a third of it are tried.

    Returns
    -------
    candidates : list of tuple
        ``(arch, learning_rate)``.
    """
    archs = ["cnn", "deepstarr" if length <= 500 else "bpnet"]
    return [(arch, rate) for arch in archs for rate in (learning_rate, learning_rate / 3)]


def select_model(
    X, y, split, *, epochs: int = 4, tasks, targets=None, options: TrainingOptions | None = None
) -> tuple:
    """``model.arch: auto``: the default candidate (:func:`candidates`' first) trains in
    full; each other candidate trains ``epochs`` epochs, and the best of them, if its
    validation loss by then beats the default's at the same epoch, trains on to early
    stopping. The lower best validation loss of the two wins, so the choice is never
    worse than the default on the validation split; the test split is never looked at.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)
    y : numpy.ndarray, shape=(N, T)
    split : numpy.ndarray of str, shape=(N,)
    epochs : int, optional
        Epochs each other candidate trains before the choice. Default is 4.
    tasks : list of str
    targets : list of str or None, optional
        Names of the targets, keying the scores. Default is None: their indices.
    options : TrainingOptions or None, optional
        How each candidate trains (``learning_rate`` is the base rate; ``arch`` is
        chosen). Default is None: :class:`TrainingOptions`' defaults.

    Returns
    -------
    model, hparams, history
        The chosen model, as from :func:`train_model`.
    selection : dict
        ``chosen`` (``arch``, ``learning_rate``), ``epochs`` and ``candidates``: per
        candidate its ``arch``, ``learning_rate``, ``epochs`` trained, best
        ``valid_loss`` and validation scores per target.
    """
    options = options or TrainingOptions()
    if options.hparams:
        raise InputError(
            "model.hparams: expected none with model.arch: auto (they belong to one "
            f"architecture), found {options.hparams}"
        )
    runs = []
    for arch, rate in candidates(X.shape[-1], options.learning_rate):
        log.info("model.arch auto: %s at learning rate %.2g", arch, rate)
        candidate = replace(options, arch=arch, learning_rate=rate)
        run = Training(X, y, split, tasks=tasks, options=candidate)
        while run.step() and (not runs or len(run.history) < epochs):  # the default: in full
            pass
        runs.append((arch, rate, run))
    early = [min(e.valid_loss for e in run.history[:epochs]) for _, _, run in runs]
    challenger = 1 + int(np.argmin(early[1:]))
    if early[challenger] < early[0]:
        log.info("model.arch auto: %s at %.2g trains on", *runs[challenger][:2])
        while runs[challenger][2].step():
            pass
    chosen = challenger if runs[challenger][2].best < runs[0][2].best else 0
    rows, results = [], []
    valid = split == "valid" if (split == "valid").any() else split == "train"
    for arch, rate, run in runs:
        results.append(run.result())
        pred = predict(results[-1][0], X[valid], device=options.device)
        scores = score_predictions(y[valid], pred, tasks)
        rows.append(
            {
                "arch": arch,
                "learning_rate": rate,
                "epochs": len(run.history),
                "valid_loss": float(run.best),
                "valid": dict(zip(targets or map(str, range(len(tasks))), scores)),
            }
        )
    arch, rate, _ = runs[chosen]
    log.info("model.arch auto: chose %s at learning rate %.2g", arch, rate)
    selection = {
        "chosen": {"arch": arch, "learning_rate": rate},
        "epochs": epochs,
        "candidates": rows,
    }
    return (*results[chosen], selection)

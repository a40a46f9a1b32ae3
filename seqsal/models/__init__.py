"""Models: the built-in architectures (:mod:`~seqsal.models.zoo`), the rewrites that make
attribution fast (:mod:`~seqsal.models.fast`), the checkpoint format of docs/design.md
(:mod:`~seqsal.models.checkpoint`), and what runs a model: :func:`predict`, the device and
the target. Every name users imported from ``seqsal.models`` is importable here.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError
from .checkpoint import TORCHSCRIPT_META, load_checkpoint, save_checkpoint
from .fast import (
    FUNCTIONAL_ACTIVATIONS,
    MONOTONE,
    BlockMax,
    DilatedConv1d,
    block_argmax,
    block_max,
    fold_batch_norm,
    simplified,
    traced,
    with_activation_layers,
)
from .zoo import (
    ACTIVATIONS,
    ALPHABET,
    ARCHITECTURES,
    CNN,
    FIRST_ACTIVATIONS,
    Basset,
    BPNet,
    DeepSTARR,
    Ensemble,
    Exp,
    RCAverage,
    Residual,
    build_model,
    ensemble_hparams,
    ensemble_of,
    first_activation_layer,
    fold_output_scale,
    own_hparams,
    strand_averaged,
)

__all__ = [
    "ACTIVATIONS",
    "ALPHABET",
    "ARCHITECTURES",
    "FIRST_ACTIVATIONS",
    "FUNCTIONAL_ACTIVATIONS",
    "MONOTONE",
    "TORCHSCRIPT_META",
    "BPNet",
    "Basset",
    "BlockMax",
    "CNN",
    "DeepSTARR",
    "DilatedConv1d",
    "Ensemble",
    "Exp",
    "RCAverage",
    "Residual",
    "block_argmax",
    "block_max",
    "build_model",
    "check_finite_outputs",
    "ensemble_hparams",
    "ensemble_of",
    "first_activation_layer",
    "fold_batch_norm",
    "fold_output_scale",
    "load_checkpoint",
    "own_hparams",
    "predict",
    "resolve_device",
    "resolve_target",
    "save_checkpoint",
    "simplified",
    "strand_averaged",
    "traced",
    "with_activation_layers",
]


def resolve_target(target, names) -> int:
    """Index of a model output given as an index or as one of the target ``names``.

    Parameters
    ----------
    target : int or str
        An index, or a name of ``names`` (a string of digits is an index).
    names : list of str
        The model's targets.

    Returns
    -------
    index : int

    Raises
    ------
    InputError
        When it names no output.
    """
    names = [str(n) for n in names]
    if isinstance(target, str) and not target.isdigit():
        if target not in names:
            raise InputError(f"attribute.target: expected one of {names}, found {target!r}")
        return names.index(target)
    index = int(target)
    if names and not 0 <= index < len(names):
        raise InputError(
            f"attribute.target: expected an index below {len(names)} (targets {names}), "
            f"found {index}"
        )
    return index


def resolve_device(device: str = "auto") -> torch.device:
    """Map ``auto`` to CUDA when available, else CPU; refuse ``cuda`` without a GPU.

    Parameters
    ----------
    device : str, optional
        ``auto``, ``cpu`` or ``cuda``. Default is "auto".

    Returns
    -------
    device : torch.device
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device: expected a CUDA GPU for 'cuda', found none; use 'auto' or 'cpu'")
    return torch.device(device)


@torch.no_grad()
def predict(
    model, X, *, batch_size: int = 256, device="cpu", source="the model", names=None
) -> np.ndarray:
    """Run ``model`` on one-hot ``X`` (N, 4, L) in batches; return outputs (N, T) float32.

    Parameters
    ----------
    model : torch.nn.Module
    X : array-like, shape=(N, 4, L)
        Read batch by batch (memory-mapped arrays are fine).
    batch_size : int, optional
        Default is 256.
    device : str or torch.device, optional
        Default is "cpu".
    source : str, optional
        The model's file, named if it gives NaN or infinity. Default is "the model".
    names : sequence of str or None, optional
        The regions' names, the first that breaks the model is named. Default is None.

    Returns
    -------
    outputs : numpy.ndarray, shape=(N, T), dtype=float32

    Raises
    ------
    InputError
        For an output that is NaN or infinite (:func:`check_finite_outputs`).
    """
    model = model.to(device).eval()
    outputs = []
    for i in range(0, len(X), batch_size):
        batch = torch.as_tensor(X[i : i + batch_size], device=device).float()
        outputs.append(model(batch).float().cpu().numpy())
        check_finite_outputs(outputs[-1], start=i, source=source, names=names)
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), np.float32)


def check_finite_outputs(values, *, start=0, source="the model", names=None, what="outputs"):
    """Refuse NaN or infinity in what a model gave for a batch (a model that is finite on
    zeros, where it was checked when loaded, can still break on real sequences).

    Parameters
    ----------
    values : numpy.ndarray, shape=(B, ...)
        One batch's outputs (or attributions), row by row.
    start : int, optional
        The batch's first row among all. Default is 0.
    source : str, optional
        The model's file, named in the error. Default is "the model".
    names : sequence of str or None, optional
        Every row's region name. Default is None: rows by number.
    what : str, optional
        What the values are. Default is "outputs".

    Raises
    ------
    InputError
        Naming the model, the first region whose values are not finite, and what it gave.
    """
    bad = ~np.isfinite(np.asarray(values, dtype=np.float32).reshape(len(values), -1))
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        found = np.asarray(values).reshape(len(values), -1)[row][bad[row]][0]
        region = f"region {names[start + row]!r}" if names is not None else f"row {start + row}"
        raise InputError(
            f"{source}: expected finite {what}, found {found} for {region}; the model breaks "
            "on this sequence (check it outside seqsal)"
        )

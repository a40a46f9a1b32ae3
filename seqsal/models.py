"""Built-in CNN architectures and the plain-dict checkpoint format of DESIGN.md."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import torch
from torch import nn

from . import __version__
from .io import InputError, atomic_path

ALPHABET = "ACGT"


class CNN(nn.Module):
    """A compact CNN: conv -> max-pool -> conv -> global mean+max pooling -> dense.

    Parameters
    ----------
    input_length : int
        Bases per input sequence.
    n_outputs : int
        Number of targets; the outputs are pre-activation (logits for binary targets).
    n_filters : int, optional
        Filters per convolution. Default is 64.
    kernel_size : int, optional
        Width of the first (motif-detecting) convolution. Default is 15.
    pool : int, optional
        Width of the max-pooling after the first convolution. Default is 4.
    hidden : int, optional
        Units of the dense layer. Default is 64.
    dropout : float, optional
        Dropout before the output layer. Default is 0.1.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        n_filters=64,
        kernel_size=15,
        pool=4,
        hidden=64,
        dropout=0.1,
    ):
        super().__init__()
        self.input_length = input_length
        self.body = nn.Sequential(
            nn.Conv1d(4, n_filters, kernel_size, padding=kernel_size // 2),
            nn.ReLU(),
            nn.MaxPool1d(pool),
            nn.Conv1d(n_filters, n_filters, 5, padding=2),
            nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.Linear(2 * n_filters, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, X):
        """Map one-hot ``X`` of shape (N, 4, L) to outputs of shape (N, n_outputs)."""
        h = self.body(X)
        return self.head(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1))


ARCHITECTURES = {"cnn": CNN}


def build_model(arch: str, **hparams) -> nn.Module:
    """Instantiate a built-in architecture by name."""
    if arch not in ARCHITECTURES:
        raise InputError(f"model.arch: expected one of {sorted(ARCHITECTURES)}, found {arch!r}")
    return ARCHITECTURES[arch](**hparams)


def save_checkpoint(model, path, *, arch, hparams, targets, tasks, metrics) -> None:
    """Save ``model`` as DESIGN.md's plain-dict checkpoint, atomically."""
    checkpoint = {
        "arch": arch,
        "hparams": dict(hparams),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "input_length": int(hparams["input_length"]),
        "alphabet": ALPHABET,
        "targets": list(targets),
        "tasks": list(tasks),
        "metrics": metrics,
        "seqsal_version": __version__,
    }
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path, *, input_length: int | None = None):
    """Load a checkpoint safely (``weights_only=True``) and rebuild its model.

    Parameters
    ----------
    path : str or Path
        A seqsal checkpoint.
    input_length : int or None, optional
        When given, the length the data has; a model built for another length is
        refused. Default is None.

    Returns
    -------
    model : torch.nn.Module
        The model in eval mode, on the CPU.
    checkpoint : dict
        The checkpoint's metadata (everything but ``state_dict``).
    """
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.simplefilter("ignore", UserWarning)
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"{path}: expected a model checkpoint, found no such file") from None
    except pickle.UnpicklingError as error:
        raise InputError(
            f"{path}: expected a plain-dict checkpoint loadable with weights_only=True, found "
            f"an untrusted pickle ({str(error).splitlines()[0]})"
        ) from None
    required = {"arch", "hparams", "state_dict", "input_length", "alphabet", "targets", "tasks"}
    if not isinstance(checkpoint, dict) or not required <= set(checkpoint):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise InputError(f"{path}: expected checkpoint keys {sorted(required)}, found {found}")
    if checkpoint["alphabet"] != ALPHABET:
        raise InputError(f"{path}: expected alphabet {ALPHABET}, found {checkpoint['alphabet']!r}")
    if input_length is not None and checkpoint["input_length"] != input_length:
        raise InputError(
            f"{path}: expected a model for input length {input_length} (the data's width), "
            f"found input length {checkpoint['input_length']}"
        )
    model = build_model(checkpoint["arch"], **checkpoint["hparams"])
    model.load_state_dict(checkpoint.pop("state_dict"))
    return model.eval(), checkpoint


def resolve_device(device: str = "auto") -> torch.device:
    """Map ``auto`` to CUDA when available, else CPU; refuse ``cuda`` without a GPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device: expected a CUDA GPU for 'cuda', found none; use 'auto' or 'cpu'")
    return torch.device(device)


@torch.no_grad()
def predict(model, X, *, batch_size: int = 256, device="cpu") -> np.ndarray:
    """Run ``model`` on one-hot ``X`` (N, 4, L) in batches; return outputs (N, T) float32."""
    model = model.to(device).eval()
    outputs = [
        model(torch.as_tensor(X[i : i + batch_size], device=device).float()).float().cpu().numpy()
        for i in range(0, len(X), batch_size)
    ]
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), np.float32)

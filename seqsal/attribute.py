"""Per-base attributions: gradient x input (default) and saliency, batched, no weight grads.

The gradient is taken w.r.t. the model's pre-activation output and corrected by
subtracting its mean over the four bases at each position, which removes the component
that points off the one-hot simplex (Majdandzic et al. 2023). The corrected gradient is
the hypothetical contribution ``hyp`` of every base; the actual contribution of the base
present is ``attr = (hyp * X).sum(axis=1)``.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

METHODS = ("grad_x_input", "saliency")


def _validate_input(X, name: str = "X") -> None:
    if X.ndim != 3 or X.shape[1] != 4:
        raise ValueError(f"{name}: expected shape (N, 4, L), found {tuple(X.shape)}")


def corrected_gradient(model, X: torch.Tensor, *, target: int = 0):
    """Gradient of output ``target`` w.r.t. float one-hot ``X``, minus its per-base mean.

    Returns
    -------
    grad : torch.Tensor, shape=(N, 4, L)
    outputs : torch.Tensor, shape=(N, T)
        The model's outputs, from the same forward pass.
    """
    X = X.detach().requires_grad_(True)
    outputs = model(X)
    (grad,) = torch.autograd.grad(outputs[:, target].sum(), X)
    return grad - grad.mean(dim=1, keepdim=True), outputs.detach()


def attribute(
    model,
    X: np.ndarray,
    *,
    method: str = "grad_x_input",
    target: int = 0,
    batch_size: int = 128,
    device="cpu",
    verbose: bool = False,
):
    """Attribute the model's output ``target`` to each base of each sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 4, L) float one-hot input to (N, T) pre-activation outputs.
    X : numpy.ndarray, shape=(N, 4, L)
        One-hot sequences.
    method : str, optional
        ``grad_x_input`` (corrected gradient, as hypothetical contributions) or
        ``saliency`` (its absolute value). Default is "grad_x_input".
    target : int, optional
        Index of the output to explain. Default is 0.
    batch_size : int, optional
        Sequences per batch; results do not depend on it. Default is 128.
    device : str or torch.device, optional
        Default is "cpu".
    verbose : bool, optional
        Show a progress bar (regions/s) on stderr. Default is False.

    Returns
    -------
    hyp : numpy.ndarray, shape=(N, 4, L), dtype=float32
        Hypothetical contributions.
    attr : numpy.ndarray, shape=(N, L), dtype=float32
        Actual contribution of each base, ``(hyp * X).sum(axis=1)``.
    pred : numpy.ndarray, shape=(N, T), dtype=float32
        The model's outputs.
    """
    _validate_input(X)
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, found {method!r}")
    model = model.to(device).eval()
    parameters = list(model.parameters())
    flags = [p.requires_grad for p in parameters]
    for parameter in parameters:  # no weight gradients (ScriptModules included)
        parameter.requires_grad_(False)
    hyp, pred = [], []
    bar = tqdm(total=len(X), disable=not verbose, desc=method, unit="region")
    try:
        for i in range(0, len(X), batch_size):
            xb = torch.as_tensor(X[i : i + batch_size], device=device).float()
            grad, outputs = corrected_gradient(model, xb, target=target)
            hyp.append((grad.abs() if method == "saliency" else grad).cpu().numpy())
            pred.append(outputs.cpu().numpy())
            bar.update(len(xb))
    finally:
        bar.close()
        for parameter, flag in zip(parameters, flags):
            parameter.requires_grad_(flag)
    hyp = np.concatenate(hyp).astype(np.float32)
    attr = (hyp * X).sum(axis=1, dtype=np.float32)
    return hyp, attr, np.concatenate(pred).astype(np.float32)

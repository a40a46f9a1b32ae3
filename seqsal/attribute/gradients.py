"""Gradient methods: the explained scalar, its gradient (fp32, or bf16 checked against
fp32), gradient x input and saliency, and integrated gradients."""

from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ..models import strand_averaged

MIN_BF16_PEARSON = 0.99  # per region, against fp32 on the first batch


class Explained(nn.Module):
    """The scalar a method explains: output ``target`` as a logit or a probability.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 4, L) one-hot input to (N, T) pre-activation outputs.
    target : int, optional
        Default is 0.
    probability : bool, optional
        Explain ``sigmoid(output)`` instead of the output. Default is False.
    rc_average : bool, optional
        Explain the mean over each sequence and its reverse complement (no-op when the
        model already averages). Default is False.
    """

    def __init__(self, model, *, target=0, probability=False, rc_average=False):
        super().__init__()
        if rc_average:
            model = strand_averaged(model)
        self.model = model
        self.target = target
        self.sigmoid = nn.Sigmoid() if probability else None

    def outputs(self, X):
        """All outputs (N, T) and the explained scalar (N,).

        Parameters
        ----------
        X : torch.Tensor, shape=(N, 4, L)

        Returns
        -------
        outputs : torch.Tensor, shape=(N, T)
        y : torch.Tensor, shape=(N,), dtype=float32
        """
        outputs = self.model(X)
        y = outputs[:, self.target].float()
        return outputs, (self.sigmoid(y) if self.sigmoid is not None else y)

    def forward(self, X):
        """The explained scalar (N,).

        Parameters
        ----------
        X : torch.Tensor, shape=(N, 4, L)

        Returns
        -------
        y : torch.Tensor, shape=(N,), dtype=float32
        """
        return self.outputs(X)[1]


def _gradient(f: Explained, X: torch.Tensor):
    """Gradient of the explained scalar w.r.t. ``X`` (in the model's dtype); also all
    outputs. Both come back in float32."""
    dtype = next(f.parameters(), X).dtype
    X = X.detach().to(dtype).requires_grad_(True)
    outputs, y = f.outputs(X)
    (grad,) = torch.autograd.grad(y.sum(), X)
    return grad.float(), outputs.detach().float()


def _relative_hyp(multipliers, references):
    """Hypothetical contributions from multipliers (B, K, 4, L) and references (B, K, 4, L).

    Base ``c`` at a position contributes ``m_c - sum_j m_j r_j``: swapping the reference's
    base for ``c`` (Shrikumar et al.'s hypothetical contributions), averaged over K.
    """
    return (multipliers - (multipliers * references).sum(2, keepdim=True)).mean(1)


def _integrated_gradients(f, X, references, steps):
    """Average gradient along the straight paths from ``references`` (B, K, 4, L) to X."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.as_tensor((nodes + 1) / 2, dtype=X.dtype, device=X.device)
    weights = torch.as_tensor(weights / 2, dtype=X.dtype, device=X.device)
    B, K = references.shape[:2]
    delta = X[:, None] - references
    total = torch.zeros_like(references)
    outputs = None
    for alpha, weight in zip(alphas, weights):
        path = (references + alpha * delta).reshape(B * K, *X.shape[1:])
        grad, _ = _gradient(f, path)
        total += weight * grad.view_as(total)
    outputs, _ = f.outputs(X)
    return _relative_hyp(total, references), outputs.detach().float()


@contextmanager
def full_fp32():
    """Run CUDA convolutions and matrix products in full fp32, not TF32.

    PyTorch lets cuDNN run fp32 convolutions in TF32 (10-bit mantissa) by default. On an
    H200 that put gradient x input of the 1 kb ``cnn`` (random weights) at a per-region
    Pearson of 0.974 against the CPU's fp32, with errors up to 41% of the largest value;
    with TF32 off, 1.000000 (relative error 5e-7). ``fp32`` means fp32 here; ``bf16`` and
    ``auto`` are the fast paths.

    Yields
    ------
    None
        TF32 is off inside the block and restored after it.
    """
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _bf16_check(f, x, grad_bf16, log):
    """None if bf16 matches fp32 on this batch (Pearson >= 0.99 per region), else the
    fp32 gradient and outputs."""
    grad32, pred32 = _gradient(f, x)
    ok = bf16_agrees(_corrected_attr(grad_bf16, x), _corrected_attr(grad32, x), log)
    return None if ok else (grad32, pred32)


def bf16_agrees(low: torch.Tensor, exact: torch.Tensor, log) -> bool:
    """Whether bf16 attributions (N, L) match fp32's on the first batch
    (:data:`MIN_BF16_PEARSON` per region); ``log`` says which is used."""
    worst = float(_pearson_rows(low, exact).min())
    ok = worst >= MIN_BF16_PEARSON
    if log is not None:
        log.info(
            "bf16 vs fp32 on the first batch: min per-region Pearson %.4f; using %s",
            worst,
            "bf16" if ok else "fp32",
        )
    return ok


def bf16_copy(f: Explained, run, *, auto_on_cpu: bool = True) -> Explained | None:
    """``f`` through a frozen bfloat16 copy of its model where ``run.precision`` asks for
    one (``bf16``, or ``auto`` on a device that runs bf16 natively, a CPU only with
    ``auto_on_cpu``); else None."""
    auto = bf16_supported(run.device) and (auto_on_cpu or run.device.type != "cpu")
    if run.precision == "fp32" or (run.precision == "auto" and not auto):
        return None
    model = copy.deepcopy(f.model).to(torch.bfloat16)
    for parameter in model.parameters():  # a ScriptModule has no requires_grad_
        parameter.requires_grad_(False)
    return Explained(model, target=f.target, probability=f.sigmoid is not None)


def _corrected_attr(grad, x):
    return ((grad - grad.mean(1, keepdim=True)) * x).sum(1)


def _pearson_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=1e-30)


def bf16_supported(device) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    supported : bool
        CUDA: ``torch.cuda.is_bf16_supported()``; CPU: oneDNN's bf16 kernels.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


@contextmanager
def gradient_step(f: Explained, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of ``grad_x_input`` or ``saliency``.

    With ``run.precision`` ``bf16`` (or ``auto`` where the device supports it) the
    gradient is taken through a bfloat16 copy of the model; ``auto`` checks the first
    batch against fp32 (:data:`MIN_BF16_PEARSON`) and falls back to fp32 for good.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    low = bf16_copy(f, run)

    def step(x, x_np, rows):
        nonlocal low
        grad, pred = _gradient(low or f, x)
        if low is not None and run.precision == "auto" and rows.start == 0:
            checked = _bf16_check(f, x, grad, run.log)
            if checked is not None:  # bf16 disagrees: fp32 from here on
                low, (grad, pred) = None, checked
        hyp = grad - grad.mean(dim=1, keepdim=True)
        return (hyp.abs() if run.method == "saliency" else hyp), pred

    yield step


@contextmanager
def integrated_gradients_step(f: Explained, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of integrated gradients.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    from .references import batch_references

    def step(x, x_np, rows):
        return _integrated_gradients(f, x, batch_references(x, x_np, rows, run), run.steps)

    yield step

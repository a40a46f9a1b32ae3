"""Grad-CAM (Selvaraju et al. 2017) on one convolution, at base resolution."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError


def _conv_layer(model: nn.Module, layer: str | None):
    convs = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv1d)}
    if layer is None:
        if not convs:
            raise InputError("grad_cam: expected a model with a Conv1d layer, found none")
        layer = list(convs)[-1]
    if layer not in convs:
        raise InputError(
            f"grad_cam_layer: expected one of the model's Conv1d layers "
            f"{list(convs)}, found {layer!r}"
        )
    return convs[layer]


def _grad_cam(f, X, conv):
    """Grad-CAM of one batch: ReLU of the gradient-weighted activations, at base resolution.

    A layer run twice per forward pass is the strand average (:class:`RCAverage`): the
    second map is of the reverse complement and is flipped back before averaging.
    """
    activations = []
    handle = conv.register_forward_hook(lambda m, i, o: activations.append(o))
    try:
        with torch.enable_grad():  # the input carries the graph: weights have no grads
            outputs, y = f.outputs(X.detach().requires_grad_(True))
            grads = torch.autograd.grad(y.sum(), activations)
    finally:
        handle.remove()
    cams = []
    for k, (A, grad) in enumerate(zip(activations, grads)):
        cam = torch.relu((grad.mean(-1, keepdim=True) * A).sum(1, keepdim=True)).detach()
        cam = F.interpolate(cam, size=X.shape[-1], mode="linear", align_corners=False)
        cams.append(cam.flip(-1) if k % 2 else cam)
    return torch.stack(cams).mean(0) * X, outputs.detach().float()


@contextmanager
def grad_cam_step(f, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of Grad-CAM on ``run.grad_cam_layer``.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    conv = _conv_layer(run.model, run.grad_cam_layer)
    yield lambda x, x_np, rows: _grad_cam(f, x, conv)

"""The receptive field of a model's convolutions: the effective one (the impulse response,
fitted with a Gaussian) against the theoretical one, per depth."""

from __future__ import annotations

import numpy as np
import pandas as pd


def receptive_fields(model, length: int, *, n_backgrounds: int = 8, seed: int = 0) -> pd.DataFrame:
    """Effective and theoretical receptive field of each layer, in forward order; of an
    ensemble, each member's, averaged per depth (its members read the input side by
    side, not one after another: chained, five 4-layer members would read as one
    20-layer stack).

    Parameters
    ----------
    model : torch.nn.Module
        A model, or an :class:`~seqsal.models.Ensemble` (strand-averaged or not).
    length : int
        Input length.
    n_backgrounds : int, optional
        Default is 8.
    seed : int, optional
        Default is 0.

    Returns
    -------
    fields : pandas.DataFrame
        ``depth, layer, sigma, theoretical`` per layer (:func:`layer_fields`); for an
        ensemble, sigma is the members' mean at each depth, ``sigma_sd`` their standard
        deviation, and ``members`` how many there are.
    """
    from ..models import Ensemble, RCAverage

    inner = model.model if isinstance(model, RCAverage) else model
    if not isinstance(inner, Ensemble):
        return layer_fields(model, length, n_backgrounds=n_backgrounds, seed=seed)
    each = pd.concat(
        [
            layer_fields(member, length, n_backgrounds=n_backgrounds, seed=seed)
            for member in inner.members
        ]
    )
    fields = each.groupby("depth", sort=True).agg(
        layer=("layer", "first"),
        sigma=("sigma", "mean"),
        theoretical=("theoretical", "first"),
        sigma_sd=("sigma", "std"),
    )
    return fields.reset_index().assign(members=len(inner.members))


def layer_fields(model, length: int, *, n_backgrounds: int = 8, seed: int = 0) -> pd.DataFrame:
    """Effective and theoretical receptive field of each layer of one model, in forward
    order.

    A layer is a convolution, or a residual block (``x + f(x)``) with its convolutions.
    The effective field is the impulse response: the gradient of the central position of
    the layer's output (summed over channels) with respect to the input, |summed over
    bases| and averaged over ``n_backgrounds`` random sequences (a neutral background,
    uniform over bases), fitted with a Gaussian (its sigma, in bases). The theoretical
    field is the span of input bases that can reach that position through the
    convolutions and poolings before it.

    Parameters
    ----------
    model, length, n_backgrounds, seed
        As in :func:`receptive_fields`; ``model`` is one model, not an ensemble.

    Returns
    -------
    fields : pandas.DataFrame
        ``depth, layer, sigma, theoretical`` per layer.
    """
    import torch

    model = model.eval()
    from ..models import Residual

    layers, residual = [], None  # (hooked name, module, its convolution's name)
    for name, module in model.named_modules():
        if residual is not None and name.startswith(f"{residual}."):
            continue  # inside the residual block just taken
        if isinstance(module, Residual):
            residual = name
            layers.append((name, module, f"{name}.conv"))
        elif isinstance(module, torch.nn.Conv1d):
            layers.append((name, module, name))
    outputs = {}
    handles = [
        m.register_forward_hook(lambda m, i, o, n=n: outputs.setdefault(n, o)) for n, m, _ in layers
    ]
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 4, (n_backgrounds, length))
    x = torch.zeros(n_backgrounds, 4, length)
    x[np.arange(n_backgrounds)[:, None], bases, np.arange(length)] = 1
    x.requires_grad_(True)
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    theoretical = _theoretical_fields(model)
    rows = []
    for depth, (name, _, last_conv) in enumerate(layers, start=1):
        out = outputs[name]
        (grad,) = torch.autograd.grad(out[:, :, out.shape[-1] // 2].sum(), x, retain_graph=True)
        profile = grad.abs().sum(1).mean(0).detach().numpy().astype(float)
        rows.append((depth, name, gaussian_sigma(profile), theoretical.get(last_conv, np.nan)))
    return pd.DataFrame(rows, columns=["depth", "layer", "sigma", "theoretical"])


def gaussian_sigma(profile: np.ndarray) -> float:
    """Sigma (in positions) of a Gaussian fitted to a non-negative profile; NaN when the
    profile is all zero or no Gaussian fits. Started from the half-maximum width.

    Parameters
    ----------
    profile : numpy.ndarray, shape=(L,)

    Returns
    -------
    sigma : float
    """
    from scipy.optimize import curve_fit

    if not profile.any():
        return float("nan")
    t = np.arange(len(profile), dtype=float)
    start = max((profile >= profile.max() / 2).sum() / 2.355, 0.5)
    try:
        (_, _, sigma), _ = curve_fit(
            lambda t, a, mu, s: a * np.exp(-((t - mu) ** 2) / (2 * s**2)),
            t,
            profile,
            p0=[profile.max(), float(profile.argmax()), start],
            maxfev=5000,
        )
    except RuntimeError:
        return float("nan")
    return abs(float(sigma))


def _theoretical_fields(model) -> dict:
    """Receptive field (bases) of each Conv1d, composing kernels, dilations and strides
    of the convolutions and poolings in the order the modules were defined."""
    import torch

    field, jump, out = 1, 1, {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv1d):
            field += (m.kernel_size[0] - 1) * m.dilation[0] * jump
            jump *= m.stride[0]
            out[name] = field
        elif isinstance(m, (torch.nn.MaxPool1d, torch.nn.AvgPool1d)):
            kernel = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            field += (kernel - 1) * jump
            jump *= stride or kernel
    return out


def growth_law(depth, sigma) -> dict:
    """Least-squares fits of ``sigma = a + b * sqrt(depth)`` and ``sigma = a + b * depth``:
    coefficients, R^2 and which fits better.

    Parameters
    ----------
    depth, sigma : array-like, shape=(n,)
        Layer depths and their effective fields.

    Returns
    -------
    fits : dict
        ``sqrt`` and ``linear`` (each ``a``, ``b``, ``r2``) and ``better``.
    """
    depth, sigma = np.asarray(depth, float), np.asarray(sigma, float)
    ok = np.isfinite(sigma)
    fits = {}
    for law, t in (("sqrt", np.sqrt(depth[ok])), ("linear", depth[ok])):
        design = np.stack([np.ones_like(t), t], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, sigma[ok], rcond=None)
        residual = sigma[ok] - design @ [a, b]
        total = ((sigma[ok] - sigma[ok].mean()) ** 2).sum()
        fits[law] = {
            "a": float(a),
            "b": float(b),
            "r2": float(1 - (residual**2).sum() / total) if total > 0 else float("nan"),
        }
    fits["better"] = "sqrt" if fits["sqrt"]["r2"] >= fits["linear"]["r2"] else "linear"
    return fits

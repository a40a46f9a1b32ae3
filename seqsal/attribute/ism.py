"""In-silico saturation mutagenesis: every position x every base, batched, and fast for
convolutional bodies (after fastISM).

A single-base change alters only a window of each convolution's output, a window that
widens layer by layer. For a model that declares its local part as ``model.body`` (an
``nn.Sequential`` of convolutions, batch norms, elementwise activations, max-pools,
dropouts and seqsal's dilated residual blocks) and the rest as ``model.finish(h)``, each
variant's activations are computed only inside that window, spliced into the activations
of the unchanged sequence, until the window covers the whole layer; from there the model
runs as usual. Nair et al. (2022) call this fastISM. Models that do not declare their
body, or hold a layer without a rule here, take the plain path: every variant in full.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from ..models import ACTIVATIONS, BlockMax, RCAverage, _Residual

ELEMENTWISE = ACTIVATIONS + (nn.BatchNorm1d, nn.Dropout, nn.Identity)


def _local_conv(conv) -> bool:
    return (
        isinstance(conv, nn.Conv1d)
        and conv.stride == (1,)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and isinstance(conv.padding, tuple)
    )


def _supported(layer) -> bool:
    if isinstance(layer, ELEMENTWISE) or _local_conv(layer):
        return True
    if isinstance(layer, nn.MaxPool1d):
        return layer.padding == 0 and layer.dilation == 1
    if isinstance(layer, BlockMax):
        return True
    return type(layer) is _Residual and _local_conv(layer.conv) and type(layer.relu) is nn.ReLU


def local_layers(model: nn.Module):
    """The model's local layers, or None where the fast path does not apply. (Batch
    norms are best folded first: :func:`seqsal.models.simplified`.)

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``body`` (an ``nn.Sequential``) and ``finish(h)``, in eval mode.

    Returns
    -------
    layers : list of torch.nn.Module or None
        The body's layers when every one has a local rule here, else None.
    """
    body = getattr(model, "body", None)
    if not isinstance(body, nn.Sequential) or not callable(getattr(model, "finish", None)):
        return None
    if model.training or not all(_supported(layer) for layer in body):
        return None
    return list(body)


def _slabs(padded, pad, seq, starts, width, start, values):
    """Input columns ``[s, s + width)`` of sequence ``seq`` for each slab start ``s``,
    with each variant's changed ``values`` (M, C, w) written in at position ``start``.

    One more column than asked for is returned: window columns that fall outside the
    slab are written there, and the caller ignores what it produces.
    """
    windows = padded.unfold(2, width + 1, 1).permute(0, 2, 1, 3)  # (B, n, C, w + 1), a view
    slab = windows[seq, starts + pad]
    index = (start - starts)[:, None] + torch.arange(values.shape[-1], device=starts.device)
    index = torch.where((index >= 0) & (index < width), index, width)
    return slab.scatter_(2, index[:, None, :].expand(-1, slab.shape[1], -1), values)


def _spliced(full, start, values):
    """Full activations (M, C, L) with each variant's window written in."""
    index = start[:, None] + torch.arange(values.shape[-1], device=start.device)
    return full.scatter_(2, index[:, None, :].expand(-1, full.shape[1], -1), values)


class _Cache:
    """The unchanged sequences' input to every local layer, padded for window slicing."""

    def __init__(self, layers, X):
        self.inputs, self.pads, self.lengths = [], [], []
        h = X
        for layer in layers:
            pad, value = self._padding(layer)
            self.inputs.append(F.pad(h, (pad, pad + 1), value=value))
            self.pads.append(pad)
            self.lengths.append(h.shape[-1])
            h = layer(h)
        self.output = h
        self.lengths.append(h.shape[-1])

    def full(self, k, seq):
        """Input of local layer ``k`` (the body's output for k = len(layers)), per variant."""
        if k == len(self.inputs):
            return self.output[seq]
        return self.inputs[k][seq, :, self.pads[k] : self.pads[k] + self.lengths[k]]

    @staticmethod
    def _padding(layer):
        conv = layer.conv if type(layer) is _Residual else layer
        if isinstance(conv, nn.Conv1d):
            return conv.dilation[0] * (conv.kernel_size[0] - 1), 0.0
        if isinstance(conv, nn.MaxPool1d):
            return conv.kernel_size + conv.stride, float("-inf")
        if isinstance(conv, BlockMax):
            return 2 * conv.kernel_size, float("-inf")
        return 0, 0.0


def _conv_window(conv, cache, k, seq, start, values):
    """The changed output window of a stride-1 convolution, and the slab it read."""
    span = conv.dilation[0] * (conv.kernel_size[0] - 1)
    p = conv.padding[0]
    width = values.shape[-1] + span
    if width >= cache.lengths[k + 1]:
        return None
    out_start = (start - (span - p)).clamp(0, cache.lengths[k + 1] - width)
    slab_start = out_start - p
    slab = _slabs(cache.inputs[k], cache.pads[k], seq, slab_start, width + span, start, values)
    out = F.conv1d(slab, conv.weight, conv.bias, dilation=conv.dilation)[..., :width]
    return out_start, out, slab


def _pool_window(pool, cache, k, seq, start, values):
    size = pool.kernel_size
    stride = size if isinstance(pool, BlockMax) else pool.stride
    width = (values.shape[-1] + size - 2) // stride + 2
    if width >= cache.lengths[k + 1]:
        return None
    # ceil((start - size + 1) / stride): the first output whose window holds ``start``
    out_start = (-((size - 1 - start) // stride)).clamp(0, cache.lengths[k + 1] - width)
    slab = _slabs(
        cache.inputs[k],
        cache.pads[k],
        seq,
        out_start * stride,
        (width - 1) * stride + size,
        start,
        values,
    )
    return out_start, F.max_pool1d(slab, size, stride)[..., :width]


def _local_step(layer, cache, k, seq, start, values):
    """Layer ``k`` on the windows; None once the window would cover the whole layer."""
    if isinstance(layer, ELEMENTWISE):
        return start, layer(values)
    if isinstance(layer, (nn.MaxPool1d, BlockMax)):
        return _pool_window(layer, cache, k, seq, start, values)
    conv = layer.conv if type(layer) is _Residual else layer
    found = _conv_window(conv, cache, k, seq, start, values)
    if found is None:
        return None
    out_start, out, slab = found
    if type(layer) is _Residual:
        offset = conv.padding[0]
        out = slab[..., offset : offset + out.shape[-1]] + layer.relu(out)
    return out_start, out


@torch.no_grad()
def variant_outputs(model, layers, X, seq, positions, bases, batch_size):
    """Model outputs (V, T) of single-base variants of the sequences ``X`` (B, 4, L).

    Variant ``v`` sets position ``positions[v]`` of sequence ``seq[v]`` to ``bases[v]``.

    Parameters
    ----------
    model : torch.nn.Module
        The model, with ``finish(h)``.
    layers : list of torch.nn.Module
        Its local layers (:func:`local_layers`).
    X : torch.Tensor, shape=(B, 4, L)
    seq, positions, bases : torch.Tensor of int, shape=(V,)
        Each variant's sequence, position and new base.
    batch_size : int
        Variants per batch.

    Returns
    -------
    outputs : torch.Tensor, shape=(V, T)
    """
    cache = _Cache(layers, X)
    outputs = []
    for i in range(0, len(positions), batch_size):
        rows = slice(i, i + batch_size)
        s, start = seq[rows], positions[rows].clone()
        values = F.one_hot(bases[rows], 4).to(X.dtype)[:, :, None]
        h = None
        for k, layer in enumerate(layers):
            if h is not None:  # the window has covered the layer: run it in full
                h = layer(h)
                continue
            window = _local_step(layer, cache, k, s, start, values)
            if window is None:  # splice the windows into the full input, run it in full
                h = layer(_spliced(cache.full(k, s), start, values))
            else:
                start, values = window
        if h is None:
            h = _spliced(cache.full(len(layers), s), start, values)
        outputs.append(model.finish(h).float())
    return torch.cat(outputs)


@torch.no_grad()
def _ism(f, X, window, batch_size, check=True, log=None):
    """Output of every single-base variant minus the mean of the four at each position."""
    B, _, L = X.shape
    start, end = window
    present = X[:, :, start:end] > 0
    todo = torch.nonzero(~present)  # (V, 3): sequence, base, position - start
    seq, base, pos = todo[:, 0], todo[:, 1], todo[:, 2] + start
    outputs, y0 = f.outputs(X)
    values = y0[:, None, None].expand(B, 4, end - start).clone()
    found = substituted_outputs(f.model, X, seq, pos, base, batch_size, check=check, log=log)
    found = found[:, f.target].float()
    values[~present] = f.sigmoid(found) if f.sigmoid is not None else found
    hyp = torch.zeros_like(X)
    hyp[:, :, start:end] = values - values.mean(1, keepdim=True)
    return hyp, outputs.float()


@torch.no_grad()
def substituted_outputs(model, X, seq, positions, bases, batch_size, *, check=True, log=None):
    """Outputs (V, T) of single-base variants of the sequences ``X`` (B, 4, L).

    Variant ``v`` sets position ``positions[v]`` of sequence ``seq[v]`` to ``bases[v]``.
    Where the model's body has local rules (:func:`local_layers`; inside a strand average
    too), each variant is computed only where it differs (fastISM), checked against the
    plain path on its first 64 variants when ``check``; otherwise every variant runs in
    full.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode; an :class:`~seqsal.models.RCAverage` sees each variant on both
        strands.
    X : torch.Tensor, shape=(B, 4, L)
    seq, positions, bases : torch.Tensor of int, shape=(V,)
    batch_size : int
        Sequences per batch of the plain path (the fast one takes four times as many).
    check : bool, optional
        Default is True.
    log : logging.Logger or None, optional
        Warned when the fast path is dropped. Default is None.

    Returns
    -------
    outputs : torch.Tensor, shape=(V, T), dtype=float32
    """
    inner = model.model if isinstance(model, RCAverage) else model
    layers = local_layers(inner)
    if layers is not None:
        found = variant_outputs(inner, layers, X, seq, positions, bases, 4 * batch_size)
        if isinstance(model, RCAverage):  # the same variant, seen on the other strand
            L = X.shape[-1]
            rc = variant_outputs(
                inner, layers, X.flip(1, 2), seq, L - 1 - positions, 3 - bases, 4 * batch_size
            )
            found = (found + rc) / 2
        if not check or _agrees(found[:64], model, X, seq[:64], positions[:64], bases[:64], log):
            return found
    return _plain_outputs(model, X, seq, positions, bases, batch_size)


def _plain_outputs(model, X, seq, positions, bases, batch_size):
    """The outputs of each single-base variant, every variant in full."""
    out = []
    for i in range(0, len(positions), batch_size):
        rows = slice(i, i + batch_size)
        batch = X[seq[rows]]
        index = torch.arange(len(batch), device=X.device)
        batch[index, :, positions[rows]] = 0
        batch[index, bases[rows], positions[rows]] = 1
        out.append(model(batch).float())
    return torch.cat(out) if out else X.new_zeros(0, 0)


def _agrees(fast, model, X, seq, positions, bases, log):
    """Whether the fast path matches the plain one on a few variants (else it is dropped)."""
    plain = _plain_outputs(model, X, seq, positions, bases, len(positions) or 1)
    if not len(plain):
        return True
    error = float((fast - plain).abs().max())
    ok = error <= 1e-4 * max(1.0, float(plain.abs().max()))
    if not ok and log is not None:
        log.warning("fast ISM differs from plain ISM by %.3g; computing variants in full", error)
    return ok


@contextmanager
def ism_step(f, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of ISM on ``run.window``; the fast
    path is checked against the plain one on the first batch.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    yield lambda x, x_np, rows: _ism(f, x, run.window, run.batch_size, rows.start == 0, run.log)

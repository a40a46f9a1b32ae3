"""Rewrites of a model that compute the same function faster, or in a form an attribution
method can read: batch norms folded, max-pool and dilated-convolution rules, activations
as layers, torch.fx tracing. Only :mod:`seqsal.attribute` and the ISM paths use them."""

from __future__ import annotations

import copy
import warnings
import weakref

import torch
from torch import nn

from .zoo import Exp, Residual


def fold_batch_norm(layer, norm):
    """A copy of ``layer`` (Conv1d or Linear) computing ``norm(layer(x))`` for an
    eval-mode batch norm: the same function with one operation fewer.

    Parameters
    ----------
    layer : torch.nn.Conv1d or torch.nn.Linear
    norm : torch.nn.BatchNorm1d
        In eval mode (its running statistics are folded in).

    Returns
    -------
    folded : torch.nn.Module
        A new layer of ``layer``'s type.
    """
    gamma = norm.weight if norm.affine else torch.ones_like(norm.running_var)
    beta = norm.bias if norm.affine else torch.zeros_like(norm.running_mean)
    scale = gamma / torch.sqrt(norm.running_var + norm.eps)
    fused = copy.deepcopy(layer)
    bias = layer.bias if layer.bias is not None else torch.zeros_like(norm.running_mean)
    shape = (-1,) + (1,) * (layer.weight.ndim - 1)
    with torch.no_grad():
        fused.weight.copy_(layer.weight * scale.view(shape))
        fused.bias = nn.Parameter((bias - norm.running_mean) * scale + beta)
    return fused.eval()


def block_max(blocks):
    """Max over the last axis and the index of its first occurrence; pairs (the common
    stride-2 pool) by one comparison, as a reduction over two values is slow.

    Parameters
    ----------
    blocks : torch.Tensor, shape=(..., k)

    Returns
    -------
    values : torch.Tensor, shape=(...)
    index : torch.Tensor of int64, shape=(...)
    """
    if blocks.shape[-1] == 2:
        second = blocks[..., 1] > blocks[..., 0]
        return torch.where(second, blocks[..., 1], blocks[..., 0]), second.long()
    return blocks.max(-1)


def block_argmax(blocks):
    """The index of the first maximum over the last axis (:func:`block_max` without the
    values: for pairs, one comparison).

    Parameters
    ----------
    blocks : torch.Tensor, shape=(..., k)

    Returns
    -------
    index : torch.Tensor of int64, shape=(...)
    """
    if blocks.shape[-1] == 2:
        return (blocks[..., 1] > blocks[..., 0]).long()
    return blocks.max(-1)[1]


class _BlockMax(torch.autograd.Function):
    """Max over blocks of ``k`` along the last axis of X (..., L), as many whole blocks
    as fit; the gradient goes to each block's first maximum, none to the tail. The tail
    is cut inside, so the backward pass writes the full-length gradient once (a slice
    outside would cost a second full-length copy)."""

    @staticmethod
    def forward(ctx, X, k):
        n = X.shape[-1] // k
        values, index = block_max(X[..., : n * k].unflatten(-1, (n, k)))
        ctx.save_for_backward(index)
        ctx.shape, ctx.k = X.shape, k
        return values

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        n, k = index.shape[-1], ctx.k
        out = grad.new_zeros(ctx.shape)
        blocks = out[..., : n * k].unflatten(-1, (n, k))
        blocks.scatter_(-1, index.unsqueeze(-1), grad.unsqueeze(-1))
        return out, None


class BlockMax(nn.Module):
    """Max-pooling over non-overlapping blocks (``MaxPool1d`` with stride = kernel size)
    as a reshape and a max: the same values and gradients, computed faster."""

    def __init__(self, kernel_size: int, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.ceil_mode = kernel_size, ceil_mode

    def forward(self, X):
        k, length = self.kernel_size, X.shape[-1]
        if self.ceil_mode and length % k:
            X = nn.functional.pad(X, (0, k - length % k), value=float("-inf"))
        return _BlockMax.apply(X, k)


class _DilatedConv(torch.autograd.Function):
    """A stride-1 convolution whose input gradient is computed as the forward
    convolution of the output gradient with the kernel flipped and transposed: the same
    values as ``conv1d``'s own backward, which is slower for dilated kernels on CPUs
    (oneDNN; gradient x input of a 1 kb BPNet 1.1-1.2x faster). No weight gradient."""

    @staticmethod
    def forward(ctx, X, weight, bias, padding, dilation):
        ctx.padding, ctx.dilation = padding, dilation
        ctx.save_for_backward(weight)
        return nn.functional.conv1d(X, weight, bias, padding=padding, dilation=dilation)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        flipped = weight.flip(-1).transpose(0, 1).contiguous()
        span = ctx.dilation * (weight.shape[-1] - 1)
        grad_X = nn.functional.conv1d(
            grad, flipped, padding=span - ctx.padding, dilation=ctx.dilation
        )
        return grad_X, None, None, None, None


class DilatedConv1d(nn.Conv1d):
    """``Conv1d`` (stride 1, zero padding given as a number, one group) whose input
    gradient, on fp32 CPU inputs while its weights need none, is :class:`_DilatedConv`'s.
    Anything else runs as ``Conv1d``."""

    #: smallest dilation at which the flipped kernel pays off (per layer on 2 cores: no
    #: gain below 8, no loss at 4)
    MIN_DILATION = 4

    @classmethod
    def applies(cls, conv) -> bool:
        return (
            type(conv) is nn.Conv1d
            and conv.dilation[0] >= cls.MIN_DILATION
            and conv.stride == (1,)
            and conv.groups == 1
            and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str)
            and conv.padding[0] <= conv.dilation[0] * (conv.kernel_size[0] - 1)
        )

    @classmethod
    def of(cls, conv: nn.Conv1d) -> DilatedConv1d:
        """``conv`` as this class, sharing its weights."""
        new = cls.__new__(cls)
        new.__dict__ = conv.__dict__.copy()
        new._parameters = dict(conv._parameters)
        return new

    def forward(self, X):
        frozen = not any(p is not None and p.requires_grad for p in (self.weight, self.bias))
        if not (frozen and X.requires_grad and X.dtype == torch.float32 and X.device.type == "cpu"):
            return super().forward(X)
        return _DilatedConv.apply(X, self.weight, self.bias, self.padding[0], self.dilation[0])


# Non-decreasing whatever their settings: pooling the maxima first gives the same values
# and gradients.
MONOTONE = (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, Exp)


def simplified(model: nn.Module, *, pool_first: bool = False) -> nn.Module:
    """An eval-mode copy of ``model`` computing the same function with fewer operations:
    batch norms folded into the layer before them, block max-pools as :class:`BlockMax`
    and, with ``pool_first``, a non-decreasing activation moved after the max-pool that
    follows it (the activation then runs on a pool's share of the values; outputs and
    gradients are the same, DeepLIFT's multipliers are not). Dilated convolutions become
    :class:`DilatedConv1d`, whose input gradient is faster on CPUs. TorchScript is
    returned as is.

    Parameters
    ----------
    model : torch.nn.Module
    pool_first : bool, optional
        Also move monotone activations after their max-pools (not for DeepLIFT). Default
        is False.

    Returns
    -------
    model : torch.nn.Module
        A new module, or ``model`` when nothing applies. The copy is kept for the next
        call on the same, unchanged model (its layers, weights and buffers, and the
        copy's), which then costs no copying.
    """
    if isinstance(model, torch.jit.ScriptModule):
        return model
    kept = _SIMPLIFIED.get(model, {}).get(pool_first)
    if kept is not None and kept[0] == _state(model) and kept[2] == _state(kept[1]):
        return kept[1]
    fast = _simplify(model, pool_first)
    _SIMPLIFIED.setdefault(model, {})[pool_first] = (_state(model), fast, _state(fast))
    return fast


#: simplified copies by model, then by ``pool_first``: (model's state, copy, copy's state)
_SIMPLIFIED = weakref.WeakKeyDictionary()


def _state(model: nn.Module) -> tuple:
    """What a copy of ``model`` must match: its layers with their settings, and each
    weight and buffer's storage and in-place version (bumped by every in-place change)."""
    lazy = nn.parameter.UninitializedTensorMixin
    tensors = [*model.parameters(), *model.buffers()]
    return (
        repr(model),
        model.training,
        [
            (id(t), None, None) if isinstance(t, lazy) else (id(t), t.data_ptr(), t._version)
            for t in tensors
        ],
    )


def _simplify(model: nn.Module, pool_first: bool) -> nn.Module:
    model = copy.deepcopy(model).eval()
    for module in list(model.modules()):
        if not isinstance(module, nn.Sequential):
            continue
        layers = []
        for layer in module:
            if (
                isinstance(layer, nn.BatchNorm1d)
                and layer.track_running_stats
                and layers
                and isinstance(layers[-1], (nn.Conv1d, nn.Linear))
            ):
                layers[-1] = fold_batch_norm(layers[-1], layer)
                continue
            if (
                isinstance(layer, nn.MaxPool1d)
                and layer.stride == layer.kernel_size
                and layer.padding == 0
                and layer.dilation == 1
                and not layer.return_indices
            ):
                layer = BlockMax(layer.kernel_size, layer.ceil_mode)
                if pool_first and layers and type(layers[-1]) in MONOTONE:
                    layers.insert(len(layers) - 1, layer)
                    continue
            layers.append(layer)
        for key in list(module._modules):
            del module._modules[key]
        for i, layer in enumerate(layers):
            module.add_module(str(i), layer)
    for module in list(model.modules()):
        for name, layer in list(module.named_children()):
            if DilatedConv1d.applies(layer):
                setattr(module, name, DilatedConv1d.of(layer))
    return model


# functions a model may call where a layer would do, and the layers they stand for
FUNCTIONAL_ACTIVATIONS = {
    torch.relu: nn.ReLU,
    nn.functional.relu: nn.ReLU,
    torch.sigmoid: nn.Sigmoid,
    nn.functional.sigmoid: nn.Sigmoid,
    torch.tanh: nn.Tanh,
    torch.exp: Exp,
    nn.functional.gelu: nn.GELU,
    nn.functional.silu: nn.SiLU,
}


class _Tracer(torch.fx.Tracer):
    """fx's tracer, keeping seqsal's own layers (a block max-pool, a residual block) whole."""

    def is_leaf_module(self, module, name):
        leaves = (BlockMax, Residual, DilatedConv1d)
        return isinstance(module, leaves) or super().is_leaf_module(module, name)


def traced(model: nn.Module):
    """``model``'s ``torch.fx`` graph module, or None where fx cannot trace it
    (TorchScript, data-dependent control flow, ...).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    graph_module : torch.fx.GraphModule or None
    """
    if isinstance(model, torch.jit.ScriptModule):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.fx.GraphModule(model, _Tracer().trace(model))
    except Exception:  # fx raises anything on a graph it cannot follow
        return None


def with_activation_layers(model: nn.Module) -> nn.Module:
    """``model`` with every functional activation (``torch.relu(h)``, ``F.sigmoid(h)``,
    ...) called as a layer instead, the same function: hooks on layers (DeepLIFT's rules)
    then see it. Returned as it is when it calls none, or fx cannot trace it.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    model : torch.nn.Module
    """
    graph_module = traced(model)
    calls = [] if graph_module is None else [
        n for n in graph_module.graph.nodes
        if n.op == "call_function" and n.target in FUNCTIONAL_ACTIVATIONS and len(n.args) == 1
        and not n.kwargs
    ]  # fmt: skip
    if not calls:
        return model
    for i, node in enumerate(calls):
        name = f"seqsal_activation_{i}"
        graph_module.add_submodule(name, FUNCTIONAL_ACTIVATIONS[node.target]())
        with graph_module.graph.inserting_after(node):
            layer = graph_module.graph.call_module(name, node.args)
        node.replace_all_uses_with(layer)
        graph_module.graph.erase_node(node)
    graph_module.recompile()
    return graph_module.eval() if not model.training else graph_module

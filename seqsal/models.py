"""Built-in CNN architectures and the plain-dict checkpoint format of docs/design.md."""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import warnings
import weakref

import numpy as np
import torch
from torch import nn

from . import __version__
from .errors import InputError
from .io.atomic import atomic_path
from .io.text import check_regular_file

ALPHABET = "ACGT"


class Exp(nn.Module):
    """The exponential, elementwise. As the first layer's activation it makes a filter
    respond to its motif far above anything else, and the maps of gradient x input
    sharper (Koo & Ploenzke 2021); see ``first_activation`` of the built-in models."""

    def forward(self, X):
        """``exp(X)``, elementwise."""
        return torch.exp(X)


# Elementwise activations: DeepLIFT rescales them, fast ISM applies them to windows.
ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
    Exp,
)

#: The activations a built-in model may put after its first convolution.
FIRST_ACTIVATIONS = {"relu": nn.ReLU, "exp": Exp}


def first_activation_layer(name: str) -> nn.Module:
    """The layer named by the ``first_activation`` hyperparameter.

    Parameters
    ----------
    name : str
        A key of :data:`FIRST_ACTIVATIONS`.

    Returns
    -------
    layer : torch.nn.Module

    Raises
    ------
    InputError
        For another name.
    """
    if name not in FIRST_ACTIVATIONS:
        raise InputError(
            f"model.hparams.first_activation: expected one of {sorted(FIRST_ACTIVATIONS)}, "
            f"found {name!r}"
        )
    return FIRST_ACTIVATIONS[name]()


class _BodyHead(nn.Module):
    """A convolutional ``body`` (local layers, see :mod:`seqsal.ism`) and what follows it,
    :meth:`finish` (by default, ``head``)."""

    def forward(self, X):
        """Map one-hot ``X`` of shape (N, 4, L) to outputs of shape (N, n_outputs)."""
        return self.finish(self.body(X))

    def finish(self, h):
        """Everything after the convolutional body."""
        return self.head(h)


class CNN(_BodyHead):
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
        Units of the dense layer; 0: none, the pooled features feed the outputs directly
        (with a ``"mean"`` pool, an additive model: each output sums local contributions,
        which keeps first-order maps faithful, but cannot require two motifs together).
        Default is 64.
    dropout : float, optional
        Dropout before the output layer. Default is 0.1.
    global_pool : str, optional
        How the positions are summarised: ``"mean+max"`` (both, concatenated),
        ``"mean"`` or ``"max"``. A global max passes the gradient to one position per
        filter, so where a sequence holds several copies of a motif gradient-based maps
        credit only the strongest; a mean credits them all. Default is ``"mean+max"``.
    first_activation : str, optional
        The first convolution's activation: ``"relu"`` or ``"exp"`` (exponential: its
        filters then answer their motif far above the rest of the sequence, and
        gradient-based maps rank planted sites higher; Koo & Ploenzke 2021). Default is
        ``"relu"``.
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
        global_pool="mean+max",
        first_activation="relu",
    ):
        super().__init__()
        if global_pool not in ("mean+max", "mean", "max"):
            raise InputError(
                f"model.hparams.global_pool: expected 'mean+max', 'mean' or 'max', "
                f"found {global_pool!r}"
            )
        self.input_length = input_length
        self.global_pool = global_pool
        self.body = nn.Sequential(
            nn.Conv1d(4, n_filters, kernel_size, padding=kernel_size // 2),
            first_activation_layer(first_activation),
            nn.MaxPool1d(pool),
            nn.Conv1d(n_filters, n_filters, 5, padding=2),
            nn.ReLU(),
        )
        pooled = len(global_pool.split("+")) * n_filters
        dense = [nn.Linear(pooled, hidden), nn.ReLU()] if hidden else []
        self.head = nn.Sequential(
            *dense, nn.Dropout(dropout), nn.Linear(hidden or pooled, n_outputs)
        )
        self.global_max = nn.AdaptiveMaxPool1d(1)  # a module, so that DeepLIFT sees it

    def finish(self, h):
        """Everything after the convolutional body.

        Parameters
        ----------
        h : torch.Tensor, shape=(N, C, L')
            The body's output.

        Returns
        -------
        outputs : torch.Tensor, shape=(N, n_outputs)
        """
        pooled = []
        if self.global_pool != "max":
            pooled.append(h.mean(dim=-1))
        if self.global_pool != "mean":
            pooled.append(self.global_max(h)[..., 0])
        return self.head(torch.cat(pooled, dim=1))


class DeepSTARR(_BodyHead):
    """DeepSTARR-like (de Almeida et al. 2022): four conv blocks (conv, batch norm, ReLU,
    max-pool) and a dense head, for short sequences (~100-500 bp).

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    filters : list of int, optional
        Filters of the four blocks. Default is (128, 60, 60, 120).
    kernels : list of int, optional
        Kernel widths of the four blocks. Default is (7, 3, 5, 3).
    hidden : int, optional
        Units of each of the two dense layers. Default is 256.
    dropout : float, optional
        Dropout after each dense layer. Default is 0.4.
    first_activation : str, optional
        The first block's activation, as in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        filters=(128, 60, 60, 120),
        kernels=(7, 3, 5, 3),
        hidden=256,
        dropout=0.4,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        blocks, channels, length = [], 4, input_length
        for i, (f, k) in enumerate(zip(filters, kernels)):
            blocks += [
                nn.Conv1d(channels, f, k, padding=k // 2),
                nn.BatchNorm1d(f),
                first_activation_layer(first_activation) if i == 0 else nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            channels, length = f, length // 2
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )


class _Residual(nn.Module):
    def __init__(self, channels, dilation, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv1d(
            channels,
            channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size // 2),
        )
        self.relu = nn.ReLU()

    def forward(self, X):
        return X + self.relu(self.conv(X))


class BPNet(_BodyHead):
    """BPNet-like (Avsec et al. 2021): a wide first conv, residual dilated convs
    (dilation 2, 4, ... 2**n_layers) and global average pooling, for long sequences.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    n_filters : int, optional
        Channels throughout. Default is 64.
    n_layers : int, optional
        Residual dilated layers. Default is 8.
    first_kernel : int, optional
        Width of the first convolution. Default is 21.
    first_activation : str, optional
        As in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        n_filters=64,
        n_layers=8,
        first_kernel=21,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        self.body = nn.Sequential(
            nn.Conv1d(4, n_filters, first_kernel, padding=first_kernel // 2),
            first_activation_layer(first_activation),
            *[_Residual(n_filters, 2 ** (i + 1)) for i in range(n_layers)],
        )
        self.head = nn.Linear(n_filters, n_outputs)

    def finish(self, h):
        """Everything after the convolutional body.

        Parameters
        ----------
        h : torch.Tensor, shape=(N, C, L')
            The body's output.

        Returns
        -------
        outputs : torch.Tensor, shape=(N, n_outputs)
        """
        return self.head(h.mean(dim=-1))


class Basset(_BodyHead):
    """Basset-like classifier (Kelley et al. 2016): three conv/batch-norm/ReLU/max-pool
    blocks and two dense layers; outputs are logits.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    filters : list of int, optional
        Default is (300, 200, 200).
    kernels : list of int, optional
        Default is (19, 11, 7).
    pools : list of int, optional
        Default is (3, 4, 4).
    hidden : int, optional
        Default is 1000.
    dropout : float, optional
        Default is 0.3.
    first_activation : str, optional
        The first block's activation, as in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        filters=(300, 200, 200),
        kernels=(19, 11, 7),
        pools=(3, 4, 4),
        hidden=1000,
        dropout=0.3,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        blocks, channels, length = [], 4, input_length
        for i, (f, k, p) in enumerate(zip(filters, kernels, pools)):
            blocks += [
                nn.Conv1d(channels, f, k, padding=k // 2),
                nn.BatchNorm1d(f),
                first_activation_layer(first_activation) if i == 0 else nn.ReLU(),
                nn.MaxPool1d(p, ceil_mode=True),
            ]
            channels, length = f, -(-length // p)
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )


ARCHITECTURES = {"cnn": CNN, "deepstarr": DeepSTARR, "bpnet": BPNet, "basset": Basset}


class Ensemble(nn.Module):
    """The mean output of ``members`` models of one built-in architecture
    (``model.ensemble``), trained from different seeds on the same split.

    Every attribution method but Grad-CAM is linear in the output, and the members
    share no unit, so the mean's map is the mean of the members' maps:
    :func:`seqsal.attribute.attribute` explains the members one by one.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    member_arch : str
        The members' architecture, a name of :data:`ARCHITECTURES`.
    members : int
        How many.
    member_hparams : dict or None, optional
        The members' other hyperparameters. Default is None: the architecture's defaults.
    """

    def __init__(self, *, input_length, n_outputs, member_arch, members, member_hparams=None):
        super().__init__()
        if member_arch not in ARCHITECTURES:
            raise InputError(
                f"model.arch: expected one of {sorted(ARCHITECTURES)} for the ensemble's "
                f"members, found {member_arch!r}"
            )
        self.input_length = input_length
        hparams = {**(member_hparams or {}), "input_length": input_length, "n_outputs": n_outputs}
        self.members = nn.ModuleList(build_model(member_arch, **hparams) for _ in range(members))

    def forward(self, X):
        """The members' mean output, shape (N, n_outputs)."""
        return torch.stack([member(X) for member in self.members]).mean(dim=0)


def ensemble_of(models, *, arch: str, hparams: dict) -> Ensemble:
    """Trained models of one architecture as an :class:`Ensemble`.

    Parameters
    ----------
    models : list of torch.nn.Module
        Built with ``build_model(arch, **hparams)``.
    arch : str
    hparams : dict
        The members' hyperparameters, ``input_length`` and ``n_outputs`` included.

    Returns
    -------
    ensemble : Ensemble
        In eval mode; its hyperparameters are :func:`ensemble_hparams`.
    """
    ensemble = Ensemble(**ensemble_hparams(arch, hparams, len(models)))
    for target, model in zip(ensemble.members, models):
        target.load_state_dict(model.state_dict())
    return ensemble.to(next(models[0].parameters()).device).eval()


def own_hparams(hparams: dict) -> dict:
    """``hparams`` without the shape every architecture takes (``input_length`` and
    ``n_outputs``): those a user set, or that an ensemble's members share."""
    return {k: v for k, v in hparams.items() if k not in ("input_length", "n_outputs")}


def ensemble_hparams(arch: str, hparams: dict, members: int) -> dict:
    """The :class:`Ensemble` hyperparameters of ``members`` models of ``arch`` built with
    ``hparams`` (``input_length`` and ``n_outputs`` included)."""
    return {
        "input_length": hparams["input_length"],
        "n_outputs": hparams["n_outputs"],
        "member_arch": arch,
        "members": members,
        "member_hparams": own_hparams(hparams),
    }


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
        leaves = (BlockMax, _Residual, DilatedConv1d)
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


class RCAverage(nn.Module):
    """Average a model's outputs over each sequence and its reverse complement."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, X):
        """Mean of ``model(X)`` and ``model(reverse complement of X)``.

        Parameters
        ----------
        X : torch.Tensor, shape=(N, 4, L)

        Returns
        -------
        outputs : torch.Tensor, shape=(N, T)
        """
        return (self.model(X) + self.model(X.flip(1, 2))) / 2


def strand_averaged(model: nn.Module) -> nn.Module:
    """``model`` averaged over both strands (as it is, when it already averages).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    model : RCAverage
    """
    return model if isinstance(model, RCAverage) else RCAverage(model)


def build_model(arch: str, **hparams) -> nn.Module:
    """Instantiate a built-in architecture by name.

    Parameters
    ----------
    arch : str
        A name of :data:`ARCHITECTURES` (``cnn``, ``deepstarr``, ``bpnet``, ``basset``).
    **hparams
        Its hyperparameters: ``input_length``, ``n_outputs`` and the architecture's own.

    Returns
    -------
    model : torch.nn.Module

    Raises
    ------
    InputError
        For an unknown name or hyperparameter.
    """
    built = {**ARCHITECTURES, "ensemble": Ensemble}
    if arch not in built:
        raise InputError(f"model.arch: expected one of {sorted(ARCHITECTURES)}, found {arch!r}")
    known = set(inspect.signature(built[arch]).parameters)
    unknown = sorted(set(hparams) - known)
    if unknown:
        raise InputError(
            f"model.hparams: expected hyperparameters of {arch} "
            f"({sorted(known - {'input_length', 'n_outputs'})}), found {unknown}"
        )
    return built[arch](**hparams)


def fold_output_scale(model: nn.Module, scale) -> nn.Module:
    """Fold ``outputs * scale`` into the last linear layer of a built-in model, so that a
    model trained on scaled targets predicts in the labels' units.

    Parameters
    ----------
    model : torch.nn.Module
        A model of :data:`ARCHITECTURES` (its ``head`` ends with a linear layer).
    scale : array-like, shape=(n_outputs,)
        Per output.

    Returns
    -------
    model : torch.nn.Module
        The same model, changed in place: its old outputs times ``scale``, exactly.
    """
    last = model.head[-1] if isinstance(model.head, nn.Sequential) else model.head
    scale = torch.tensor(np.array(scale, dtype=np.float64), dtype=last.weight.dtype)
    with torch.no_grad():
        last.weight.mul_(scale.to(last.weight.device)[:, None])
        last.bias.mul_(scale.to(last.bias.device))
    return model


TORCHSCRIPT_META = "seqsal.json"


def save_checkpoint(
    model,
    path,
    *,
    arch,
    hparams,
    targets,
    tasks,
    metrics,
    rc_average: bool = False,
    oriented: bool | None = None,
    training: dict | None = None,
) -> None:
    """Save ``model`` as the plain-dict checkpoint of docs/design.md, atomically.

    A TorchScript model (``arch == "torchscript"``) is saved as TorchScript, with its
    metadata in the archive's ``seqsal.json`` extra file.

    Parameters
    ----------
    model : torch.nn.Module
    path : str or Path
    arch : str
        The architecture's name (or ``torchscript``).
    hparams : dict
        Its hyperparameters, ``input_length`` included.
    targets : list of str
    tasks : list of str
        ``binary`` or ``regression`` per target.
    metrics : dict
        ``metrics.json``.
    rc_average : bool, optional
        The model is to be explained averaged over strands. Default is False.
    oriented : bool or None, optional
        The sequences it was trained on act in the orientation given (``input.oriented``).
        Default is None: not known.
    training : dict or None, optional
        The training modes used beyond plain fitting (``{"prior": ...}``, from
        :func:`seqsal.train.fit`'s ``meta``). Default is None: none, or not known.
    """
    inner = model.model if isinstance(model, RCAverage) else model
    meta = {
        "input_length": int(hparams["input_length"]),
        "alphabet": ALPHABET,
        "targets": list(targets),
        "tasks": list(tasks),
        "metrics": metrics,
        "rc_average": bool(rc_average),
        "oriented": oriented,
        "training": dict(training or {}),
        "seqsal_version": __version__,
    }
    with atomic_path(path) as tmp:
        if arch == "torchscript":
            with _torchscript_quietly():
                torch.jit.save(inner, tmp, _extra_files={TORCHSCRIPT_META: json.dumps(meta)})
        else:
            state = {k: v.detach().cpu() for k, v in inner.state_dict().items()}
            checkpoint = {"arch": arch, "hparams": dict(hparams), "state_dict": state, **meta}
            with open(tmp, "wb") as handle:  # a handle: the archive is named "archive",
                torch.save(checkpoint, handle)  # not after the temporary file


def load_checkpoint(path, *, input_length: int | None = None):
    """Load a seqsal checkpoint (``weights_only=True``) or a TorchScript model.

    A TorchScript file must declare its ``input_length`` and ``targets`` (and may declare
    ``tasks``) in a ``seqsal.json`` extra file (``torch.jit.save(..., _extra_files=...)``).

    Parameters
    ----------
    path : str or Path
        The checkpoint.
    input_length : int or None, optional
        When given, the length the data has; a model built for another length is
        refused. Default is None.

    Returns
    -------
    model : torch.nn.Module
        The model in eval mode, on the CPU (wrapped in :class:`RCAverage` when the
        checkpoint says so).
    checkpoint : dict
        The checkpoint's metadata (everything but ``state_dict``).
    """
    check_regular_file(path, "a model checkpoint")
    if _is_torchscript(path):
        model, checkpoint = _load_torchscript(path)
    else:
        checkpoint = _load_plain(path)
        model = _build_checkpointed(path, checkpoint)
    _check_meta(path, checkpoint)
    _check_outputs(path, model.eval(), checkpoint)
    if checkpoint.get("alphabet", ALPHABET) != ALPHABET:
        raise InputError(f"{path}: expected alphabet {ALPHABET}, found {checkpoint['alphabet']!r}")
    if input_length is not None and checkpoint["input_length"] != input_length:
        raise InputError(
            f"{path}: expected a model for input length {input_length} (the data's width), "
            f"found input length {checkpoint['input_length']}"
        )
    model = RCAverage(model) if checkpoint.get("rc_average") else model
    return model.eval(), checkpoint


@contextlib.contextmanager
def _torchscript_quietly():
    """Silence torch's deprecation notice of TorchScript: users' models come as such."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch.jit", category=DeprecationWarning)
        yield


def _is_torchscript(path) -> bool:
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/", 1)[-1].startswith("code/") for name in archive.namelist())


def _load_torchscript(path):
    extra = {TORCHSCRIPT_META: ""}
    with _torchscript_quietly():
        model = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    try:
        meta = json.loads(extra[TORCHSCRIPT_META])
        meta["input_length"], meta["targets"] = int(meta["input_length"]), list(meta["targets"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            f"{path}: expected a TorchScript model with a {TORCHSCRIPT_META} extra file declaring "
            f"input_length and targets, found {extra[TORCHSCRIPT_META][:80]!r}"
        ) from None
    meta.setdefault("tasks", ["regression"] * len(meta["targets"]))
    meta.update(arch="torchscript", hparams={"input_length": meta["input_length"]})
    return model, meta


def _load_plain(path) -> dict:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.simplefilter("ignore", UserWarning)
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch's parser of a file that is not a checkpoint raises
        # anything (UnpicklingError, RuntimeError, EOFError, KeyError, struct.error, ...)
        first = (str(error).splitlines() or [type(error).__name__])[0][:120]  # "" when empty
        raise InputError(
            f"{path}: expected a plain-dict checkpoint loadable with weights_only=True, found "
            f"an untrusted pickle or another file ({first})"
        ) from None
    required = {"arch", "hparams", "state_dict", "input_length", "alphabet", "targets", "tasks"}
    if not isinstance(checkpoint, dict) or not required <= set(checkpoint):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise InputError(f"{path}: expected checkpoint keys {sorted(required)}, found {found}")
    return checkpoint


def _build_checkpointed(path, checkpoint: dict) -> nn.Module:
    """The checkpoint's architecture with its weights; weights that do not fit it, or
    hyperparameters it does not take, are refused in one line."""
    if not isinstance(checkpoint["hparams"], dict):
        raise InputError(f"{path}: expected hparams as a dict, found {checkpoint['hparams']!r}")
    try:
        model = build_model(checkpoint["arch"], **checkpoint["hparams"])
        model.load_state_dict(checkpoint.pop("state_dict"))
    except (RuntimeError, TypeError, ValueError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[-1].strip()[:160]
        raise InputError(
            f"{path}: expected weights that fit {checkpoint['arch']} with its hparams, "
            f"found: {first}"
        ) from None
    return model


# a checkpoint's metadata that decides what is done: each of its own type, never read
# by truth value (the text "no" is true in Python)
_META_TYPES = {
    "rc_average": ((bool,), "true or false"),
    "oriented": ((bool, type(None)), "true, false or null"),
    "targets": ((list, tuple), "a list of target names"),
    "tasks": ((list, tuple), "a list of task types"),
}


def _check_meta(path, meta: dict) -> None:
    """Refuse checkpoint metadata of the wrong type: ``rc_average: "no"`` would read as
    true and strand-average silently."""
    for key, (types, expected) in _META_TYPES.items():
        if key in meta and not isinstance(meta[key], types):
            raise InputError(f"{path}: expected {key} {expected}, found {meta[key]!r}")
    for key in ("targets", "tasks"):
        if key in meta and not all(isinstance(v, str) for v in meta[key]):
            raise InputError(f"{path}: expected {key} as text, found {list(meta[key])[:5]!r}")


def _check_outputs(path, model: nn.Module, meta: dict) -> None:
    """Refuse, before any work, a model that does not run on its declared input or whose
    outputs are not (N, T) with one column per target (and one task per target)."""
    length, targets = meta["input_length"], list(meta["targets"])
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise InputError(f"{path}: expected a positive input_length, found {length!r}")
    if len(meta.get("tasks") or targets) != len(targets):
        raise InputError(
            f"{path}: expected one task per target ({len(targets)}), found {meta['tasks']!r}"
        )
    try:
        with torch.no_grad():
            outputs = model(torch.zeros(2, 4, length))
    except Exception as error:  # a user's model can raise anything on a wrong shape
        first = (str(error).strip().splitlines() or [type(error).__name__])[-1].strip()[:160]
        raise InputError(
            f"{path}: expected a model that runs on input of shape (N, 4, {length}) "
            f"(its declared input_length), found: {first}"
        ) from None
    shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
    if isinstance(shape, tuple) and len(shape) == 2 and shape[0] == 2:
        if shape[1] != len(targets):
            raise InputError(
                f"{path}: expected {len(targets)} outputs (its targets), found {shape[1]}"
            )
    else:
        raise InputError(
            f"{path}: expected outputs of shape (N, {len(targets)}) (one per target "
            f"{targets[:5]}), found {shape} for N = 2"
        )


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

"""In-silico saturation mutagenesis: every position x every base, batched, and fast for
convolutional bodies (after fastISM).

A single-base change alters only a window of each convolution's output, a window that
widens layer by layer. For a model that declares its local part as ``model.body`` (an
``nn.Sequential`` of convolutions, batch norms, elementwise activations, max-pools,
dropouts and seqsal's dilated residual blocks) and the rest as ``model.finish(h)``, each
variant's activations are computed only inside that window (cut at the sequence's ends),
spliced into the activations of the unchanged sequence, until the window covers the whole
layer; from there the model runs as usual. Variants are batched in position order, so a
batch's windows lie together. Nair et al. (2022) call this fastISM. A model that does not
declare its body gets one from its graph where ``torch.fx`` traces it: the longest chain
of layers with a rule here from the input on (modules, or ``torch.relu``-like functions),
each feeding only the next, is the body and the rest of the graph the finish. Models
with neither, or a layer without a rule in the body, take the plain path: every variant
in full. Either way the fast path is checked against the plain one before it is used.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from ..models import (
    ACTIVATIONS,
    FUNCTIONAL_ACTIVATIONS,
    BlockMax,
    RCAverage,
    Residual,
    traced,
)

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
    return type(layer) is Residual and _local_conv(layer.conv) and type(layer.relu) is nn.ReLU


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


_SPLITS = weakref.WeakKeyDictionary()


class _Split(nn.Module):
    """A traced model as ``body`` (its local chain) and ``finish`` (the rest)."""

    def __init__(self, body: nn.Sequential, finish: nn.Module):
        super().__init__()
        self.body, self.rest = body, finish

    def finish(self, h):
        return self.rest(h)

    def forward(self, X):
        return self.finish(self.body(X))


def split_local(model: nn.Module):
    """``model`` as a body of local layers and a finish: as it declares them, or as
    ``torch.fx`` finds them in its graph; None when neither gives a body.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    split : torch.nn.Module or None
        With ``body`` (an ``nn.Sequential``) and ``finish(h)``.
    """
    if isinstance(getattr(model, "body", None), nn.Sequential) and callable(
        getattr(model, "finish", None)
    ):
        return model
    if model not in _SPLITS:
        _SPLITS[model] = _traced_split(model)
    split = _SPLITS[model]
    return split.eval() if split is not None and not model.training else split


def _layer_of(node, current, modules):
    """The local layer that ``node`` applies to ``current``, its only reader, or None."""
    if node.args != (current,) or node.kwargs or len(current.users) != 1:
        return None
    if node.op == "call_module" and _supported(modules[node.target]):
        return modules[node.target]
    if node.op == "call_function" and node.target in FUNCTIONAL_ACTIVATIONS:
        return FUNCTIONAL_ACTIVATIONS[node.target]()
    return None


def _residual_at(nodes, current, modules):
    """``current + relu(conv(current))`` over the three ``nodes``, as a residual block
    (a stride-1 convolution that keeps the length), or None."""
    import operator

    if len(nodes) < 3 or len(current.users) != 2:
        return None
    conv, act, add = nodes
    if conv.op != "call_module" or conv.args != (current,) or conv.kwargs:
        return None
    module = modules[conv.target]
    same = (
        _local_conv(module)
        and module.kernel_size[0] % 2 == 1
        and module.padding[0] == module.dilation[0] * (module.kernel_size[0] // 2)
        and module.in_channels == module.out_channels
    )
    relu = (act.op == "call_module" and type(modules[act.target]) is nn.ReLU) or (
        act.op == "call_function" and FUNCTIONAL_ACTIVATIONS.get(act.target) is nn.ReLU
    )
    adds = add.op == "call_function" and add.target in (operator.add, torch.add)
    if not (same and relu and adds and act.args == (conv,) and not act.kwargs):
        return None
    if set(add.args) != {current, act} or add.kwargs or set(current.users) != {conv, add}:
        return None
    if len(conv.users) != 1 or len(act.users) != 1:
        return None
    block = Residual(module.in_channels, module.dilation[0], module.kernel_size[0])
    block.conv = module
    return block


def _traced_split(model: nn.Module):
    graph_module = traced(model)
    if graph_module is None:
        return None
    modules = dict(graph_module.named_modules())
    nodes = list(graph_module.graph.nodes)
    if [n.op for n in nodes].count("placeholder") != 1 or nodes[0].op != "placeholder":
        return None
    current, body, i = nodes[0], [], 1
    while i < len(nodes):
        layer = _layer_of(nodes[i], current, modules)
        if layer is not None:
            body.append(layer)
            current, i = nodes[i], i + 1
            continue
        residual = _residual_at(nodes[i : i + 3], current, modules)
        if residual is None:
            break
        body.append(residual)
        current, i = nodes[i + 2], i + 3
    if not body:
        return None
    graph = torch.fx.Graph()
    env = {current: graph.placeholder("h")}
    try:
        for node in nodes[nodes.index(current) + 1 :]:
            env[node] = graph.node_copy(node, lambda n: env[n])
    except KeyError:  # the rest reads an activation inside the chain (a skip connection)
        return None
    return _Split(nn.Sequential(*body), torch.fx.GraphModule(graph_module, graph))


def _slabs(padded, pad, seq, starts, width, start, values):
    """Input columns ``[s, s + width)`` of sequence ``seq`` for each slab start ``s``,
    with each variant's changed ``values`` (M, C, w) written in at position ``start``.

    One more column than asked for is returned: window columns that fall outside the
    slab are written there, and the caller ignores what it produces.
    """
    B, C, length = padded.shape
    # Every window of ``width + 1`` columns as a view of the flat storage, row ``o`` the one
    # at offset ``o``: one index_select copies the slabs, several times faster than
    # gathering them from a (B, n, C, w + 1) unfold by sequence and start.
    windows = padded.contiguous().as_strided(
        (B * C * length - (C - 1) * length - width, C, width + 1), (1, length, 1)
    )
    slab = windows.index_select(0, seq * (C * length) + starts + pad)
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
            return self.output.index_select(0, seq)
        # index_select: a copy of whole rows, faster than an advanced index
        inputs = self.inputs[k][..., self.pads[k] : self.pads[k] + self.lengths[k]]
        return inputs.index_select(0, seq)

    @staticmethod
    def _padding(layer):
        conv = layer.conv if type(layer) is Residual else layer
        if isinstance(conv, nn.Conv1d):
            return conv.dilation[0] * (conv.kernel_size[0] - 1), 0.0
        if isinstance(conv, nn.MaxPool1d):
            return conv.kernel_size + conv.stride, float("-inf")
        if isinstance(conv, BlockMax):
            return 2 * conv.kernel_size, float("-inf")
        return 0, 0.0


def _placed(first, width, length):
    """Where a batch's output windows go: each variant's ``[first, first + width)``
    clipped to the layer's ``[0, length)``, all as wide as the batch's widest; None where
    that is the whole layer. (A window that spills over an end is clipped, not run in
    full: near the ends of the sequence a variant changes less than the layer.)"""
    low, high = first.clamp(min=0), (first + width).clamp(max=length)
    width = int((high - low).max())
    if width >= length:
        return None
    return low.clamp(max=length - width), width


def _conv_window(conv, cache, k, seq, start, values):
    """The changed output window of a stride-1 convolution, and the slab it read."""
    span = conv.dilation[0] * (conv.kernel_size[0] - 1)
    p = conv.padding[0]
    placed = _placed(start - (span - p), values.shape[-1] + span, cache.lengths[k + 1])
    if placed is None:
        return None
    out_start, width = placed
    slab_start = out_start - p
    slab = _slabs(cache.inputs[k], cache.pads[k], seq, slab_start, width + span, start, values)
    out = F.conv1d(slab, conv.weight, conv.bias, dilation=conv.dilation)[..., :width]
    return out_start, out, slab


def _pool_window(pool, cache, k, seq, start, values):
    size = pool.kernel_size
    stride = size if isinstance(pool, BlockMax) else pool.stride
    # ceil((start - size + 1) / stride): the first output whose window holds ``start``
    first = -((size - 1 - start) // stride)
    placed = _placed(first, (values.shape[-1] + size - 2) // stride + 2, cache.lengths[k + 1])
    if placed is None:
        return None
    out_start, width = placed
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
    conv = layer.conv if type(layer) is Residual else layer
    found = _conv_window(conv, cache, k, seq, start, values)
    if found is None:
        return None
    out_start, out, slab = found
    if type(layer) is Residual:
        offset = conv.padding[0]
        out = out.relu_().add_(slab[..., offset : offset + out.shape[-1]])
    return out_start, out


def _full(layer, h):
    """Layer ``layer`` on ``h`` in full; a residual block's ReLU and sum in place (a
    new tensor the size of the whole layer costs more than its arithmetic)."""
    if type(layer) is Residual:
        return layer.conv(h).relu_().add_(h)
    return layer(h)


@torch.no_grad()
def variant_outputs(model, layers, X, seq, positions, bases, batch_size, cache=None):
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
    cache : _Cache or None, optional
        The unchanged sequences' activations, when already computed. Default is None.

    Returns
    -------
    outputs : torch.Tensor, shape=(V, T)
    """
    cache = cache or _Cache(layers, X)
    # in position order, a batch's windows lie together and clip alike at the ends
    order = torch.argsort(positions, stable=True)
    outputs = []
    for i in range(0, len(positions), batch_size):
        rows = order[i : i + batch_size]
        s, start = seq[rows], positions[rows]
        values = F.one_hot(bases[rows], 4).to(X.dtype)[:, :, None]
        h = None
        for k, layer in enumerate(layers):
            if h is not None:  # the window has covered the layer: run it in full
                h = _full(layer, h)
                continue
            window = _local_step(layer, cache, k, s, start, values)
            if window is None:  # splice the windows into the full input, run it in full
                h = _full(layer, _spliced(cache.full(k, s), start, values))
            else:
                start, values = window
        if h is None:
            h = _spliced(cache.full(len(layers), s), start, values)
        outputs.append(model.finish(h).float())
    return torch.cat(outputs)[torch.argsort(order)]


@torch.no_grad()
def _ism(f, X, window, batch_size, fast, log=None):
    """Output of every single-base variant minus the mean of the four at each position."""
    B, _, L = X.shape
    start, end = window
    present = X[:, :, start:end] > 0
    todo = torch.nonzero(~present)  # (V, 3): sequence, base, position - start
    seq, base, pos = todo[:, 0], todo[:, 1], todo[:, 2] + start
    outputs, y0 = f.outputs(X)
    values = y0[:, None, None].expand(B, 4, end - start).clone()
    if fast is None:  # the first batch: measure which path pays
        fast = fast_path_pays(f.model, X, seq, pos, base, batch_size, log)
    found = substituted_outputs(f.model, X, seq, pos, base, batch_size, fast=fast)
    found = found[:, f.target].float()
    values[~present] = f.sigmoid(found) if f.sigmoid is not None else found
    hyp = torch.zeros_like(X)
    hyp[:, :, start:end] = values - values.mean(1, keepdim=True)
    return hyp, outputs.float(), fast


def _local_model(model):
    """The strand average's inner model split into body and finish, and its local layers
    (None where there is no fast path)."""
    inner = model.model if isinstance(model, RCAverage) else model
    inner = split_local(inner) or inner
    return inner, local_layers(inner)


def _fast_outputs(model, inner, layers, X, seq, positions, bases, batch_size, caches=(None, None)):
    found = variant_outputs(inner, layers, X, seq, positions, bases, batch_size, caches[0])
    if isinstance(model, RCAverage):  # the same variant, seen on the other strand
        L = X.shape[-1]
        rc = variant_outputs(
            inner, layers, X.flip(1, 2), seq, L - 1 - positions, 3 - bases, batch_size, caches[1]
        )
        found = (found + rc) / 2
    return found


@torch.no_grad()
def fast_path_pays(model, X, seq, positions, bases, batch_size, log=None) -> bool:
    """Whether fastISM is exact and faster than running every variant in full, measured
    on 64 variants spread over all of them: exact to 1e-4 (relative), and its
    cost (the unchanged sequences' activations, once per sequence, then each variant's
    windows) estimated for all of them below the plain path's.

    Parameters
    ----------
    model : torch.nn.Module
    X : torch.Tensor, shape=(B, 4, L)
    seq, positions, bases : torch.Tensor of int, shape=(V,)
    batch_size : int
    log : logging.Logger or None, optional
        Told the choice. Default is None.

    Returns
    -------
    fast : bool
    """
    from time import perf_counter

    inner, layers = _local_model(model)
    if layers is None or not len(seq):
        return layers is not None
    # 64 variants spread over all (over the sequences and along each, where windows near
    # the ends are cut), not the first 64 (one sequence's first bases)
    pick = torch.linspace(0, len(seq) - 1, min(64, len(seq)), device=seq.device)
    pick = pick.round().long()
    used, local = torch.unique(seq[pick], return_inverse=True)
    n, sample = len(pick), X[used]
    args = (local, positions[pick], bases[pick])

    def caches():
        flipped = _Cache(layers, sample.flip(1, 2)) if isinstance(model, RCAverage) else None
        return _Cache(layers, sample), flipped

    def fast_outputs(caches):
        return _fast_outputs(model, inner, layers, sample, *args, 4 * batch_size, caches)

    # timed on a second run: the first makes the kernels for each window's shape, paid
    # once (1.5-2x a warm run on a BPNet-like model, where full passes then won 3 in 4)
    fast_outputs(caches())
    start = perf_counter()
    built_caches = caches()
    built = perf_counter()
    fast = fast_outputs(built_caches)
    ran = perf_counter()
    plain = _plain_outputs(model, sample, *args, batch_size)
    done = perf_counter()
    error = float((fast - plain).abs().max())
    if error > 1e-4 * max(1.0, float(plain.abs().max())):
        if log is not None:
            log.warning(
                "fast ISM differs from plain ISM by %.3g; computing variants in full", error
            )
        return False
    per_sequence, per_variant = (built - start) / len(used), (ran - built) / n
    fast_total = per_sequence * len(X) + per_variant * len(seq)
    pays = fast_total < (done - ran) / n * len(seq)
    if not pays and log is not None:
        log.info("fastISM is exact but slower than full passes on this model: using full passes")
    return pays


@torch.no_grad()
def substituted_outputs(model, X, seq, positions, bases, batch_size, *, fast=True):
    """Outputs (V, T) of single-base variants of the sequences ``X`` (B, 4, L).

    Variant ``v`` sets position ``positions[v]`` of sequence ``seq[v]`` to ``bases[v]``.
    With ``fast`` and a model whose body has local rules (:func:`split_local`,
    :func:`local_layers`; inside a strand average too), each variant is computed only where
    it differs (fastISM); otherwise every variant runs in full. :func:`fast_path_pays`
    says whether ``fast`` should be asked for.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode; an :class:`~seqsal.models.RCAverage` sees each variant on both
        strands.
    X : torch.Tensor, shape=(B, 4, L)
    seq, positions, bases : torch.Tensor of int, shape=(V,)
    batch_size : int
        Sequences per batch of the plain path (the fast one takes four times as many).
    fast : bool, optional
        Default is True.

    Returns
    -------
    outputs : torch.Tensor, shape=(V, T), dtype=float32
    """
    inner, layers = _local_model(model)
    if fast and layers is not None:
        return _fast_outputs(model, inner, layers, X, seq, positions, bases, 4 * batch_size)
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


def describe_path(model: nn.Module) -> str:
    """Which ISM path a model takes, in words for the log.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    text : str
    """
    inner = model.model if isinstance(model, RCAverage) else model
    split = split_local(inner)
    layers = local_layers(split) if split is not None else None
    if layers is None:
        return "every variant in full (no body of local layers found)"
    how = "declared" if split is inner else "found by torch.fx"
    return f"fastISM through a body of {len(layers)} local layers ({how})"


@contextmanager
def ism_step(f, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of ISM on ``run.window``; which path
    (fastISM or full passes) is measured on the first batch and kept.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    if run.log is not None:
        run.log.info("ism: %s", describe_path(f.model))
    chosen = {}

    def step(x, x_np, rows):
        hyp, pred, chosen["fast"] = _ism(
            f, x, run.window, run.batch_size, chosen.get("fast"), run.log
        )
        return hyp, pred

    yield step

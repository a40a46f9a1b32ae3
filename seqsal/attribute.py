"""Per-base attributions: six methods behind one streaming, batched engine.

Every method explains one scalar per sequence: output ``target`` of the model, as the
pre-activation value (logit, the default) or its sigmoid (``output="probability"``),
optionally averaged over both strands (``rc_average``). Every method returns the
hypothetical contribution ``hyp`` (N, 4, L) of each base at each position and the actual
contribution of the base present, ``attr = (hyp * X).sum(axis=1)`` (N, L).

- ``grad_x_input`` (default) and ``saliency``: the gradient, minus its mean over the four
  bases at each position (Majdandzic et al. 2023); saliency is its absolute value.
- ``integrated_gradients``: the gradient averaged along the straight path from a baseline
  (all-zero, uniform 0.25, or dinucleotide-shuffled copies) to the sequence, by
  Gauss-Legendre quadrature with ``steps`` nodes.
- ``deeplift_shap``: DeepLIFT's rescale rule (and Captum's max-pool rule) against
  dinucleotide-shuffled references, averaged over references. The sequence is run once
  and its activations are broadcast over its references, so only the references take a
  forward and backward pass. Every region is checked for completeness: its attributions
  must sum to its output minus the mean reference output, or the run stops naming it.
- ``ism``: every position x every base, batched; ``hyp`` is each variant's output minus
  the mean over the four bases at that position, so ``attr`` is the output's drop when
  the base present is replaced by the average base.
- ``grad_cam``: Grad-CAM (Selvaraju et al. 2017) on one convolution, interpolated to base
  resolution and placed on the base present.
"""

from __future__ import annotations

import copy
import zlib
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from .encode import dinucleotide_shuffle, one_hot_encode, one_hot_to_sequences
from .errors import ConvergenceError, InputError
from .ism import local_layers, variant_outputs
from .models import ACTIVATIONS, BlockMax, RCAverage, block_argmax, simplified, strand_averaged

METHODS = (
    "grad_x_input",
    "saliency",
    "integrated_gradients",
    "deeplift_shap",
    "ism",
    "grad_cam",
)
GRADIENT_METHODS = ("grad_x_input", "saliency", "integrated_gradients")
BASELINES = ("zeros", "uniform", "shuffle")
PRECISIONS = ("fp32", "bf16", "auto")
MIN_BF16_PEARSON = 0.99  # per region, against fp32 on the first batch


def _validate_input(X, name: str = "X") -> None:
    if X.ndim != 3 or X.shape[1] != 4:
        raise ValueError(f"{name}: expected shape (N, 4, L), found {tuple(X.shape)}")


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
        """All outputs (N, T) and the explained scalar (N,)."""
        outputs = self.model(X)
        y = outputs[:, self.target].float()
        return outputs, (self.sigmoid(y) if self.sigmoid is not None else y)

    def forward(self, X):
        """The explained scalar (N,)."""
        return self.outputs(X)[1]


# ---------------------------------------------------------------------------------------
# gradients


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


# ---------------------------------------------------------------------------------------
# DeepLIFT-SHAP

# Elementwise nonlinearities take the rescale rule; linear layers need none.
RESCALE = ACTIVATIONS
LINEAR = (
    nn.Conv1d,
    nn.Linear,
    nn.BatchNorm1d,
    nn.Dropout,
    nn.Flatten,
    nn.Identity,
    nn.AvgPool1d,
    nn.AdaptiveAvgPool1d,
    nn.ConstantPad1d,
)
MAXPOOL = (nn.MaxPool1d, nn.AdaptiveMaxPool1d, BlockMax)  # Captum's max-pool rule
SECANT_EPS = 1e-6  # below this input change, the derivative replaces the secant


class _Multiplied(torch.autograd.Function):
    """Return ``out``; send the incoming gradient to ``inp`` times ``multiplier``."""

    @staticmethod
    def forward(ctx, inp, out, multiplier):
        ctx.save_for_backward(multiplier)
        return out  # returned as is: autograd makes it a view carrying this function

    @staticmethod
    def backward(ctx, grad):
        (multiplier,) = ctx.saved_tensors
        return grad * multiplier, None, None


class _MaxPoolRule(torch.autograd.Function):
    """Captum's DeepLIFT max-pool rule for references broadcast against their sequence.

    The change of each pooled output is split into the part up to the larger of the two
    maxima, routed to the sequence's winning input, and the rest, routed to the
    reference's; each input's routed change over its own change is its multiplier.
    """

    @staticmethod
    def forward(ctx, r_in, r_out, x_in, x_out, r_index, x_index, K):
        ctx.save_for_backward(r_in, r_out, x_in, x_out, r_index, x_index)
        ctx.K = K
        return r_out

    @staticmethod
    def backward(ctx, grad):
        r_in, r_out, x_in, x_out, r_index, x_index = ctx.saved_tensors
        K = ctx.K
        BK, C, L = r_in.shape

        def route(values, index):  # scatter-add pooled values to their winning inputs
            out = torch.zeros(BK, C, L, dtype=values.dtype, device=values.device)
            return out.scatter_add_(2, index, values)

        x_out, x_index = (t.repeat_interleave(K, 0) for t in (x_out, x_index))
        top = torch.maximum(x_out, r_out)
        routed = route(grad * (top - r_out), x_index) + route(grad * (x_out - top), r_index)
        delta = x_in.repeat_interleave(K, 0) - r_in
        same = delta == 0
        multiplier = torch.where(same, route(grad, x_index), routed / delta.masked_fill(same, 1))
        return multiplier, None, None, None, None, None, None


class _BlockMaxRule(torch.autograd.Function):
    """:class:`_MaxPoolRule` for non-overlapping blocks (:class:`BlockMax`): the same
    routing, by an index within each block instead of a flat index."""

    @staticmethod
    def forward(ctx, r_in, r_out, r_blocks, x_blocks, x_out, r_index, x_index, K):
        ctx.save_for_backward(r_out, r_blocks, x_blocks, x_out, r_index, x_index)
        ctx.K, ctx.length = K, r_in.shape[-1]
        return r_out

    @staticmethod
    def backward(ctx, grad):
        r_out, r_blocks, x_blocks, x_out, r_index, x_index = ctx.saved_tensors
        K = ctx.K
        B, C, n, k = x_blocks.shape
        g = grad.view(B, K, C, n, 1)
        x_out, r_out = x_out.view(B, 1, C, n, 1), r_out.view(B, K, C, n, 1)
        jx = x_index.view(B, 1, C, n, 1).expand(B, K, C, n, 1)
        jr = r_index.view(B, K, C, n, 1)
        r_blocks = r_blocks.view(B, K, C, n, k)
        # Only the two winners of a block get a multiplier: the sequence's (jx) and the
        # reference's (jr); their changes are gathered, so nothing else is computed at
        # full width.
        top = torch.maximum(x_out, r_out)
        to_x, to_r = g * (top - r_out), g * (x_out - top)
        same = jx == jr
        delta_x = x_out - r_blocks.gather(-1, jx)
        delta_r = x_blocks[:, None].expand(B, K, C, n, k).gather(-1, jr) - r_out
        # 0/0 (no change) takes the gradient itself; the quotients where's discards are
        # never used, so the divisions need no guard
        at_x = torch.where(delta_x == 0, g, (to_x + to_r * same) / delta_x)
        at_r = torch.where(delta_r == 0, 0.0, to_r / delta_r)
        multiplier = torch.zeros(B, K, C, n, k, dtype=grad.dtype, device=grad.device)
        multiplier.scatter_(-1, jr, at_r).scatter_(-1, jx, at_x)  # jx last: it holds both
        multiplier = multiplier.view(B * K, C, n * k)
        length = ctx.length
        if n * k > length:  # ceil mode: drop the padding
            multiplier = multiplier[..., :length]
        elif n * k < length:  # floor mode: the unpooled tail gets no gradient
            multiplier = F.pad(multiplier, (0, length - n * k))
        return multiplier, None, None, None, None, None, None, None


class _DeepLift:
    """Forward hooks that record the sequence's activations, then rewrite the references'.

    In ``record`` mode each hooked module's input and output are kept in call order; in
    ``replay`` mode the module's output on the references (K per sequence) is returned
    through a function whose gradient is the DeepLIFT multiplier against the recorded
    sequence activations.
    """

    def __init__(self, f: nn.Module):
        self.modules = [m for m in f.modules() if isinstance(m, RESCALE + MAXPOOL)]
        self.handles, self.mode, self.K, self.cache, self.step = [], None, 1, [], 0

    @contextmanager
    def hooked(self):
        self.handles = [m.register_forward_hook(self._hook) for m in self.modules]
        try:
            yield self
        finally:
            for handle in self.handles:
                handle.remove()
            self.cache, self.mode = [], None

    def _hook(self, module, inputs, output):
        if self.mode == "record":
            self.cache.append((inputs[0].detach(), output.detach()))
            return None
        if self.mode != "replay":
            return None
        x_in, x_out = self.cache[self.step]
        self.step += 1
        r_in = inputs[0]
        if isinstance(module, BlockMax):
            return self._blockmax(module, r_in, output, x_in, x_out)
        if isinstance(module, MAXPOOL):
            return self._maxpool(module, r_in, output, x_in, x_out)
        shape = (-1, self.K, *r_in.shape[1:])
        delta_in = (x_in[:, None] - r_in.detach().view(shape)).view(r_in.shape)
        delta_out = (x_out[:, None] - output.detach().view(shape)).view(r_in.shape)
        if isinstance(module, nn.ReLU):
            # The secant is exact however small the change (1 or 0 when both inputs share
            # a sign, bounded in [0, 1] across the kink); only 0/0 needs the derivative.
            multiplier = delta_out.div_(delta_in)
            undefined = torch.isnan(multiplier)
            if undefined.any():
                multiplier = torch.where(
                    undefined, (r_in.detach() > 0).to(multiplier.dtype), multiplier
                )
        else:
            small = delta_in.abs() < SECANT_EPS
            multiplier = delta_out / delta_in.masked_fill(small, 1)
            if small.any():
                derivative = self._derivative(module, r_in.detach())
                multiplier = torch.where(small, derivative, multiplier)
        return _Multiplied.apply(r_in, output.detach(), multiplier)

    def _derivative(self, module, z):
        mode, self.mode = self.mode, None  # the module's own call must not be rewritten
        try:
            with torch.enable_grad():
                z = z.requires_grad_(True)
                (grad,) = torch.autograd.grad(module(z).sum(), z)
        finally:
            self.mode = mode
        return grad

    def _blockmax(self, module, r_in, r_out, x_in, x_out):
        n, k = r_out.shape[-1], module.kernel_size

        def blocks(z):
            if n * k > z.shape[-1]:
                z = F.pad(z, (0, n * k - z.shape[-1]), value=float("-inf"))
            return z[..., : n * k].unflatten(-1, (n, k))

        r_blocks, x_blocks = blocks(r_in.detach()), blocks(x_in)
        return _BlockMaxRule.apply(
            r_in,
            r_out.detach(),
            r_blocks,
            x_blocks,
            x_out,
            block_argmax(r_blocks),
            block_argmax(x_blocks),
            self.K,
        )

    def _maxpool(self, module, r_in, r_out, x_in, x_out):
        def indices(z):
            if isinstance(module, nn.AdaptiveMaxPool1d):
                return F.adaptive_max_pool1d(z, module.output_size, return_indices=True)[1]
            _, index = F.max_pool1d(
                z,
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.ceil_mode,
                return_indices=True,
            )
            return index

        return _MaxPoolRule.apply(
            r_in, r_out.detach(), x_in, x_out, indices(r_in.detach()), indices(x_in), self.K
        )


def check_deeplift_support(model: nn.Module) -> None:
    """Refuse models DeepLIFT cannot be applied to, naming the layer and why."""
    if isinstance(model, torch.jit.ScriptModule):
        raise InputError(
            "deeplift_shap: expected a seqsal checkpoint (plain dict), found a TorchScript "
            "model, whose layers cannot be hooked; use grad_x_input, integrated_gradients or ism"
        )
    for name, module in model.named_modules():
        if isinstance(module, nn.MaxPool1d) and module.dilation != 1:
            raise InputError(f"deeplift_shap: layer {name} (dilated MaxPool1d) has no rule")
        known = RESCALE + LINEAR + MAXPOOL
        is_leaf = not list(module.children())
        if is_leaf and not isinstance(module, known) and not list(module.parameters(False)):
            if type(module).__module__.startswith("torch.nn"):
                raise InputError(
                    f"deeplift_shap: layer {name} ({type(module).__name__}) has no DeepLIFT rule "
                    "in seqsal; use grad_x_input, integrated_gradients or ism"
                )


def _deeplift_shap(f, X, references, hooks: _DeepLift):
    """Hypothetical contributions, outputs and convergence deltas of one batch."""
    B, K = references.shape[:2]
    hooks.K = K
    hooks.cache, hooks.mode = [], "record"
    with torch.no_grad():
        outputs, fx = f.outputs(X)
    hooks.mode, hooks.step = "replay", 0
    R = references.reshape(B * K, *X.shape[1:]).requires_grad_(True)
    fr = f(R)
    (multipliers,) = torch.autograd.grad(fr.sum(), R)
    hooks.mode, hooks.cache = None, []
    multipliers = multipliers.view_as(references)
    hyp = _relative_hyp(multipliers, references)
    # completeness of the method itself: N columns of X (all zero) count here, though
    # the contract gives them no actual contribution
    total = (multipliers * (X[:, None] - references)).sum((2, 3)).mean(1)
    delta = total - (fx - fr.detach().view(B, K).mean(1))
    scale = torch.maximum(fx.abs(), fr.detach().view(B, K).abs().mean(1)).clamp(min=1)
    return hyp, outputs.detach().float(), delta / scale


# ---------------------------------------------------------------------------------------
# ISM and Grad-CAM


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
    inner = f.model.model if isinstance(f.model, RCAverage) else f.model
    layers = local_layers(inner)
    if layers is not None:
        found = _fast_variants(f, inner, layers, X, seq, pos, base, 4 * batch_size)
        if check and not _agrees(found[:64], f, X, seq[:64], pos[:64], base[:64], log):
            layers = None
    if layers is None:
        found = _plain_variants(f, X, seq, pos, base, batch_size)
    values[~present] = found
    hyp = torch.zeros_like(X)
    hyp[:, :, start:end] = values - values.mean(1, keepdim=True)
    return hyp, outputs.float()


def _plain_variants(f, X, seq, positions, bases, batch_size):
    """The explained scalar of each single-base variant, every variant in full."""
    out = []
    for i in range(0, len(positions), batch_size):
        rows = slice(i, i + batch_size)
        batch = X[seq[rows]]
        index = torch.arange(len(batch), device=X.device)
        batch[index, :, positions[rows]] = 0
        batch[index, bases[rows], positions[rows]] = 1
        out.append(f(batch).float())
    return torch.cat(out) if out else X.new_zeros(0)


def _fast_variants(f, inner, layers, X, seq, positions, bases, batch_size):
    """As :func:`_plain_variants`, computing each variant only where it differs."""
    y = variant_outputs(inner, layers, X, seq, positions, bases, batch_size)[:, f.target]
    if isinstance(f.model, RCAverage):  # the same variant, seen on the other strand
        L = X.shape[-1]
        rc = variant_outputs(
            inner, layers, X.flip(1, 2), seq, L - 1 - positions, 3 - bases, batch_size
        )
        y = (y + rc[:, f.target]) / 2
    return f.sigmoid(y) if f.sigmoid is not None else y


def _agrees(fast, f, X, seq, positions, bases, log):
    """Whether the fast path matches the plain one on a few variants (else it is dropped)."""
    plain = _plain_variants(f, X, seq, positions, bases, len(positions) or 1)
    if not len(plain):
        return True
    error = float((fast - plain).abs().max())
    ok = error <= 1e-4 * max(1.0, float(plain.abs().max()))
    if not ok and log is not None:
        log.warning("fast ISM differs from plain ISM by %.3g; computing variants in full", error)
    return ok


def _conv_layer(model: nn.Module, layer: str | None):
    convs = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv1d)}
    if layer is None:
        if not convs:
            raise InputError("grad_cam: expected a model with a Conv1d layer, found none")
        layer = list(convs)[-1]
    if layer not in convs:
        raise InputError(
            f"attribute.grad_cam_layer: expected one of the model's Conv1d layers "
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


# ---------------------------------------------------------------------------------------
# the engine


def region_keys(names) -> np.ndarray:
    """A stable integer per region name (its CRC-32): seeds each region's own random
    draws, so that they do not depend on the batch, shard or order the region is in."""
    return np.array([zlib.crc32(str(name).encode()) for name in names], dtype=np.int64)


def shuffled_references(X: np.ndarray, n: int, *, seed=0, keys=None) -> np.ndarray:
    """``n`` dinucleotide-shuffled copies of each one-hot sequence, shape (N, n, 4, L).

    Row ``i`` is shuffled with its own generator seeded by ``(seed, keys[i])`` (``seed``
    may be a sequence of ints; ``keys`` defaults to the row index), so that the
    references of a region depend on its key only, not on the rows beside it.
    """
    sequences = one_hot_to_sequences(np.asarray(X))
    keys = np.arange(len(sequences)) if keys is None else np.asarray(keys)
    out = np.zeros((len(X), n, 4, X.shape[-1]), dtype=np.float32)
    for i, sequence in enumerate(sequences):
        rng = np.random.default_rng([*np.atleast_1d(seed), keys[i]])
        shuffles = [dinucleotide_shuffle(sequence, rng=rng) for _ in range(n)]
        out[i] = one_hot_encode(shuffles)
    return out


class ShuffledRows:
    """Dinucleotide-shuffled copies of some rows of ``X``, made a batch at a time as they
    are indexed: the sequences whose attributions make the seqlet null (see
    :func:`null_sample`).

    Row ``j`` is one shuffle of ``X[rows[j]]``, seeded by ``(seed, 1, keys[j])``: a draw
    apart from that region's references.
    """

    def __init__(self, X, rows, keys, *, seed: int = 0):
        self.X, self.rows, self.keys, self.seed = X, np.asarray(rows), np.asarray(keys), seed
        self.shape = (len(self.rows), 4, X.shape[-1])
        self.ndim = 3

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, rows: slice) -> np.ndarray:
        source = np.zeros((0, *self.shape[1:]), np.float32)
        source = np.concatenate([source, *(self.X[r : r + 1] for r in self.rows[rows])])
        return shuffled_references(source, 1, seed=(self.seed, 1), keys=self.keys[rows])[:, 0]


def null_sample(keys, fraction: float, *, seed: int = 0) -> np.ndarray:
    """Rows whose shuffled copies make the seqlet null: each region is in with
    probability ``fraction``, decided by its key alone (so that the sample does not
    depend on how regions are sharded)."""
    if not 0 <= fraction <= 1:
        raise InputError(f"null fraction: expected 0 to 1, found {fraction}")
    draws = [np.random.default_rng([seed, 2, key]).random() for key in np.asarray(keys)]
    return np.flatnonzero(np.asarray(draws) < fraction)


def auto_batch_size(model, length: int, device, *, budget: int | None = None) -> int:
    """Sequences per batch whose activations fit a memory budget.

    The budget is a quarter of the free GPU memory, or 256 MiB on a CPU (where larger
    batches only spill out of the caches). Activations are measured on one sequence.
    """
    device = torch.device(device)
    if budget is None:
        if device.type == "cuda":
            budget = torch.cuda.mem_get_info(device)[0] // 4
        else:
            budget = 256 * 2**20
    sizes = []
    handles = [
        m.register_forward_hook(lambda m, i, o: sizes.append(o.numel() * o.element_size()))
        for m in model.modules()
        if not list(m.children()) and not isinstance(m, torch.jit.ScriptModule)
    ]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 4, length, device=device))
    finally:
        for handle in handles:
            handle.remove()
    per_sequence = 2 * max(sum(sizes), 4 * length * 4)  # kept for backward, and gradients
    size = int(np.clip(budget // per_sequence, 8, 1024))
    return 2 ** int(np.log2(size))


def _pearson_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=1e-30)


def bf16_supported(device) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def iter_attributions(
    model,
    X,
    *,
    method: str = "grad_x_input",
    target: int = 0,
    output: str = "logit",
    rc_average: bool = False,
    batch_size: int | None = None,
    precision: str = "fp32",
    baseline: str = "zeros",
    steps: int = 32,
    n_shuffles: int = 20,
    references=None,
    ism_window=None,
    grad_cam_layer: str | None = None,
    tolerance: float = 1e-3,
    seed: int = 0,
    keys=None,
    device="cpu",
    verbose: bool = False,
    log=None,
):
    """Attribute batch after batch; yield ``(rows, hyp, attr, pred)`` per batch.

    Parameters are those of :func:`attribute`. Memory is bounded by the batch: ``X`` may
    be a memory-mapped array, and each yielded batch can be written out and dropped.
    """
    _validate_input(X)
    if method not in METHODS:
        raise InputError(f"attribute.methods: expected one of {METHODS}, found {method!r}")
    if baseline not in BASELINES:
        raise InputError(f"attribute.baseline: expected one of {BASELINES}, found {baseline!r}")
    if precision not in PRECISIONS:
        raise InputError(f"attribute.precision: expected one of {PRECISIONS}, found {precision!r}")
    if output not in ("logit", "probability"):
        raise InputError(f"attribute.output: expected logit or probability, found {output!r}")
    N, _, L = X.shape
    window = (0, L) if ism_window is None else tuple(int(w) for w in ism_window)
    if not 0 <= window[0] < window[1] <= L:
        raise InputError(f"attribute.ism_window: expected 0 <= start < end <= {L}, found {window}")
    device = torch.device(device)
    model = model.to(device).eval()
    if method != "grad_cam":  # the same function, cheaper (grad_cam names a layer)
        model = simplified(model, pool_first=method != "deeplift_shap")
    f = Explained(model, target=target, probability=output == "probability", rc_average=rc_average)
    if method == "deeplift_shap":
        check_deeplift_support(model)
    conv = _conv_layer(model, grad_cam_layer) if method == "grad_cam" else None
    if batch_size is None:
        batch_size = auto_batch_size(f.model, L, device)
    per_region = {"deeplift_shap": n_shuffles, "ism": 64}.get(method, 1)
    if method == "integrated_gradients" and baseline == "shuffle":
        per_region = n_shuffles
    regions_per_batch = max(1, batch_size // per_region)
    low = None  # a bfloat16 copy of the model, for precision bf16/auto
    if precision != "fp32" and method in ("grad_x_input", "saliency"):
        if precision == "bf16" or bf16_supported(device):
            low = Explained(
                copy.deepcopy(f.model).to(torch.bfloat16).requires_grad_(False),
                target=target,
                probability=f.sigmoid is not None,
            )
    hooks = _DeepLift(f) if method == "deeplift_shap" else None
    parameters = list(f.parameters())
    flags = [p.requires_grad for p in parameters]
    for parameter in parameters:  # no weight gradients (ScriptModules included)
        parameter.requires_grad_(False)
    bar = tqdm(total=N, disable=not verbose, desc=method, unit="region", smoothing=0.1)
    try:
        with hooks.hooked() if hooks else nullcontext(), full_fp32():
            for start in range(0, N, regions_per_batch):
                rows = slice(start, min(start + regions_per_batch, N))
                x_np = np.asarray(X[rows])
                x = torch.as_tensor(x_np, device=device).float()
                if method in ("grad_x_input", "saliency"):
                    grad, pred = _gradient(low or f, x)
                    if low is not None and precision == "auto" and start == 0:
                        checked = _bf16_check(f, x, grad, log)
                        if checked is not None:  # bf16 disagrees: fp32 from here on
                            low, (grad, pred) = None, checked
                    hyp = grad - grad.mean(dim=1, keepdim=True)
                    if method == "saliency":
                        hyp = hyp.abs()
                elif method in ("integrated_gradients", "deeplift_shap"):
                    refs = _references(
                        x, x_np, baseline, method, n_shuffles, references, seed, keys, rows
                    )
                    if method == "integrated_gradients":
                        hyp, pred = _integrated_gradients(f, x, refs, steps)
                    else:
                        hyp, pred, delta = _deeplift_shap(f, x, refs, hooks)
                        _check_convergence(delta, tolerance, start, f)
                elif method == "ism":
                    hyp, pred = _ism(f, x, window, batch_size, start == 0, log)
                else:
                    hyp, pred = _grad_cam(f, x, conv)
                hyp = hyp.float()
                attr = (hyp * x).sum(1)
                yield rows, hyp.cpu().numpy(), attr.cpu().numpy(), pred.cpu().numpy()
                bar.update(rows.stop - rows.start)
    finally:
        bar.close()
        for parameter, flag in zip(parameters, flags):
            parameter.requires_grad_(flag)


@contextmanager
def full_fp32():
    """Run CUDA convolutions and matrix products in full fp32, not TF32.

    PyTorch lets cuDNN run fp32 convolutions in TF32 (10-bit mantissa) by default. On an
    H200 that put gradient x input of the 1 kb ``cnn`` (random weights) at a per-region
    Pearson of 0.974 against the CPU's fp32, with errors up to 41% of the largest value;
    with TF32 off, 1.000000 (relative error 5e-7). ``fp32`` means fp32 here; ``bf16`` and
    ``auto`` are the fast paths.
    """
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _references(x, x_np, baseline, method, n_shuffles, references, seed, keys, rows):
    """Baselines/references (B, K, 4, L) of one batch."""
    if references is not None:
        refs = torch.as_tensor(np.asarray(references[rows]), device=x.device).float()
        return refs if refs.ndim == 4 else refs[:, None]
    if method == "integrated_gradients" and baseline != "shuffle":
        value = 0.0 if baseline == "zeros" else 0.25
        return torch.full_like(x, value)[:, None]
    keys = np.arange(rows.start, rows.stop) if keys is None else keys[rows]
    refs = shuffled_references(x_np, n_shuffles, seed=seed, keys=keys)
    return torch.as_tensor(refs, device=x.device)


def _bf16_check(f, x, grad_bf16, log):
    """None if bf16 matches fp32 on this batch (Pearson >= 0.99 per region), else the
    fp32 gradient and outputs."""
    grad32, pred32 = _gradient(f, x)
    r = _pearson_rows(_corrected_attr(grad_bf16, x), _corrected_attr(grad32, x))
    worst = float(r.min())
    ok = worst >= MIN_BF16_PEARSON
    if log is not None:
        log.info(
            "bf16 vs fp32 on the first batch: min per-region Pearson %.4f; using %s",
            worst,
            "bf16" if ok else "fp32",
        )
    return None if ok else (grad32, pred32)


def _corrected_attr(grad, x):
    return ((grad - grad.mean(1, keepdim=True)) * x).sum(1)


def _check_convergence(delta, tolerance, start, f):
    bad = torch.nonzero(delta.abs() > tolerance).flatten().cpu().numpy()
    if len(bad):
        hint = _unhooked_hint(f)
        raise ConvergenceError(
            f"deeplift_shap: attributions of {len(bad)} region(s) do not sum to output minus "
            f"mean reference output (worst relative |delta| {float(delta.abs().max()):.3g} > "
            f"tolerance {tolerance:g}); {hint}",
            rows=start + bad,
            deltas=delta[bad].cpu().numpy(),
        )


def _unhooked_hint(f):
    custom = sorted(
        {
            type(m).__name__
            for m in f.modules()
            if not list(m.children())
            and not list(m.parameters(False))
            and not isinstance(m, RESCALE + LINEAR + MAXPOOL)
        }
    )
    if custom:
        return f"layers without a DeepLIFT rule: {', '.join(custom)}"
    return "the model may apply a nonlinearity as a function (e.g. F.relu), not an nn module"


def attribute(model, X, **kwargs):
    """Attribute the model's output ``target`` to each base of each sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 4, L) float one-hot input to (N, T) pre-activation outputs.
    X : numpy.ndarray, shape=(N, 4, L)
        One-hot sequences (any numeric dtype; memory-mapped arrays are read per batch).
    method : str, optional
        One of :data:`METHODS`. Default is "grad_x_input".
    target : int, optional
        Index of the output to explain. Default is 0.
    output : str, optional
        ``logit`` (the pre-activation output) or ``probability`` (its sigmoid).
        Default is "logit".
    rc_average : bool, optional
        Explain the mean of the outputs on both strands, so that each base's attribution
        averages the two. Default is False.
    batch_size : int or None, optional
        Model evaluations per batch; None picks one from the activations' memory.
        Results do not depend on it.
    precision : str, optional
        ``fp32``; ``bf16`` (a bfloat16 copy of the model); or ``auto``: bf16 where the
        device supports it and the first batch agrees with fp32 (Pearson >= 0.99 per
        region). Gradient x input and saliency only; the other methods always run in
        fp32. Default is "fp32".
    baseline : str, optional
        Integrated gradients' start: ``zeros``, ``uniform`` (0.25) or ``shuffle``.
        Default is "zeros".
    steps : int, optional
        Integrated gradients' quadrature nodes. Default is 32.
    n_shuffles : int, optional
        Dinucleotide-shuffled references per region (deeplift_shap, and integrated
        gradients with ``baseline="shuffle"``). Default is 20.
    references : numpy.ndarray or None, optional
        References (N, K, 4, L) to use instead of shuffles. Default is None.
    ism_window : tuple of int or None, optional
        ISM only on positions ``[start, end)``; elsewhere ``hyp`` is zero.
    grad_cam_layer : str or None, optional
        Grad-CAM's Conv1d (a name from ``model.named_modules()``); None: the last one.
    tolerance : float, optional
        DeepLIFT-SHAP's largest accepted ``|sum(attr) - (output - mean reference output)|``,
        relative to ``max(1, |output|)``. Default is 1e-3.
    seed : int, optional
        Seed of the shuffled references. Default is 0.
    keys : array-like of int or None, optional
        One integer per region that, with ``seed``, seeds its shuffled references
        (:func:`region_keys` of the names makes them independent of shards). Default is
        None: the row index.
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
        The model's outputs (averaged over strands with ``rc_average``).
    """
    N, _, L = X.shape
    hyp = np.zeros((N, 4, L), np.float32)
    attr = np.zeros((N, L), np.float32)
    pred = None
    for rows, h, a, p in iter_attributions(model, X, **kwargs):
        if pred is None:
            pred = np.zeros((N, p.shape[1]), np.float32)
        hyp[rows], attr[rows], pred[rows] = h, a, p
    return hyp, attr, pred if pred is not None else np.zeros((0, 0), np.float32)


def shuffled_null(X, names, fraction: float, *, seed: int = 0):
    """The seqlet null's inputs: one dinucleotide shuffle of each of some regions.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
        One-hot sequences (read row by row).
    names : numpy.ndarray of str, shape=(N,)
        Region names: they choose the regions and seed their shuffles, so that any
        sharding gives the same null.
    fraction : float
        Share of the regions shuffled.
    seed : int, optional
        Default is 0.

    Returns
    -------
    X : ShuffledRows, shape=(M, 4, L)
        The shuffled sequences, made as they are read.
    names : numpy.ndarray of str, shape=(M,)
        The names of the regions shuffled.
    keys : numpy.ndarray of int, shape=(M,)
        Their :func:`region_keys`.
    """
    keys = region_keys(names)
    rows = null_sample(keys, fraction, seed=seed)
    return ShuffledRows(X, rows, keys[rows], seed=seed), names[rows], keys[rows]

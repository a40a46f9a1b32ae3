"""DeepLIFT-SHAP: the rescale rule and Captum's max-pool rule as forward hooks, against
dinucleotide-shuffled references, with a completeness check of every region."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConvergenceError, InputError
from ..models import ACTIVATIONS, BlockMax, block_argmax
from .gradients import _relative_hyp, bf16_agrees, bf16_copy

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


def _unchanged(delta: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Where a max-pool input's change is rounding, not a change. The sequence's and the
    references' activations come from separate passes, whose sums round differently even
    where their inputs agree (a flank a shuffle kept); a quotient of two rounding errors
    there would route the gradient by chance, so such inputs take the derivative."""
    return delta.abs() <= SECANT_EPS * (1 + value.abs())


MIN_SEEN = 16  # regions run in bf16 before the share redone in fp32 may switch bf16 off


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
        same = _unchanged(delta, r_in)
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
        # no change (or only rounding) takes the gradient itself; the quotients where's
        # discards are never used, so the divisions need no guard
        at_x = torch.where(_unchanged(delta_x, x_out), g, (to_x + to_r * same) / delta_x)
        at_r = torch.where(_unchanged(delta_r, r_out), 0.0, to_r / delta_r)
        # written at full length once: the unpooled tail of floor mode gets no
        # gradient, the padding of ceil mode is dropped
        length = ctx.length
        full = torch.zeros(B, K, C, max(length, n * k), dtype=grad.dtype, device=grad.device)
        blocks = full[..., : n * k].unflatten(-1, (n, k))
        blocks.scatter_(-1, jr, at_r).scatter_(-1, jx, at_x)  # jx last: it holds both
        return full[..., :length].flatten(0, 1), None, None, None, None, None, None, None


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
            if torch.isnan(multiplier.sum()):  # one read, where a mask would write too
                multiplier = torch.where(
                    torch.isnan(multiplier), (r_in.detach() > 0).to(multiplier.dtype), multiplier
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
    """Refuse models DeepLIFT cannot be applied to, naming the layer and why.

    Parameters
    ----------
    model : torch.nn.Module
        The model (after :func:`seqsal.models.simplified`).

    Raises
    ------
    InputError
        For a TorchScript model (its layers cannot be hooked), a dilated max-pool, or a
        ``torch.nn`` layer without a DeepLIFT rule here (e.g. Softmax).
    """
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
    """Hypothetical contributions, outputs and convergence deltas of one batch (in
    float32 whatever the model's dtype)."""
    B, K = references.shape[:2]
    dtype = next(f.parameters(), X).dtype  # a model without weights runs in X's
    hooks.K = K
    hooks.cache, hooks.mode = [], "record"
    with torch.no_grad():
        outputs, fx = f.outputs(X.to(dtype))
    hooks.mode, hooks.step = "replay", 0
    R = references.reshape(B * K, *X.shape[1:]).to(dtype).requires_grad_(True)
    fr = f(R)
    (multipliers,) = torch.autograd.grad(fr.sum(), R)
    hooks.mode, hooks.cache = None, []
    multipliers = multipliers.float().view_as(references)
    hyp = _relative_hyp(multipliers, references)
    # completeness of the method itself: N columns of X (all zero) count here, though
    # the contract gives them no actual contribution
    total = (multipliers * (X[:, None] - references)).sum((2, 3)).mean(1)
    delta = total - (fx - fr.detach().view(B, K).mean(1))
    scale = torch.maximum(fx.abs(), fr.detach().view(B, K).abs().mean(1)).clamp(min=1)
    return hyp, outputs.detach().float(), delta / scale


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


@contextmanager
def deeplift_shap_step(f, run):
    """Yield ``step(x, x_np, rows) -> (hyp, pred)`` of DeepLIFT-SHAP, with the model
    hooked meanwhile (:func:`check_deeplift_support` it first); a batch whose regions
    miss completeness raises :class:`~seqsal.errors.ConvergenceError`.

    With ``run.precision`` ``bf16`` (or ``auto`` on a GPU that supports it) each batch
    runs through a bfloat16 copy of the model, and the regions whose bf16 attributions
    miss completeness are redone in fp32; ``auto`` also checks the first batch against
    fp32 (:data:`~seqsal.attribute.gradients.MIN_BF16_PEARSON`). Either falls back to
    fp32 for good where bf16 fails that check, or once more than half the regions so far
    (:data:`MIN_SEEN` at least) were redone.

    Parameters
    ----------
    f, run
        The explained scalar and the run's options: see :data:`seqsal.attribute.STEPS`.
    """
    from .references import batch_references

    # On a CPU, auto stays fp32: the rules' elementwise passes, no faster in bf16 there,
    # dominate (a 1 kb BPNet-like model: 0.76 s per 8 regions in bf16, 0.80 in fp32, and
    # 40-75% of the regions then redone)
    low = bf16_copy(f, run, auto_on_cpu=False)
    hooks, low_hooks = _DeepLift(f), _DeepLift(low) if low is not None else None
    redone = seen = 0

    def low_step(x, references, rows):
        nonlocal low, redone, seen
        hyp, pred, delta = _deeplift_shap(low, x, references, low_hooks)
        if run.precision == "auto" and rows.start == 0:
            exact = _deeplift_shap(f, x, references, hooks)
            if not bf16_agrees((hyp * x).sum(1), (exact[0] * x).sum(1), run.log):
                low = None
            return exact
        miss = delta.abs() > run.tolerance
        redone, seen = redone + int(miss.sum()), seen + len(x)
        if miss.any():
            hyp[miss], pred[miss], delta[miss] = _deeplift_shap(f, x[miss], references[miss], hooks)
        if seen >= MIN_SEEN and 2 * redone > seen:  # bf16 no longer pays
            low = None
        return hyp, pred, delta

    def step(x, x_np, rows):
        references = batch_references(x, x_np, rows, run)
        if low is not None:
            hyp, pred, delta = low_step(x, references, rows)
        else:
            hyp, pred, delta = _deeplift_shap(f, x, references, hooks)
        _check_convergence(delta, run.tolerance, rows.start, f)
        return hyp, pred

    with ExitStack() as stack:
        for each in (hooks, low_hooks):
            if each is not None:
                stack.enter_context(each.hooked())
        yield step
    if seen and run.log is not None:
        run.log.info(
            "deeplift_shap in bf16: %d of %d regions missed completeness (tolerance %g) "
            "and were redone in fp32%s",
            redone,
            seen,
            run.tolerance,
            "" if low is not None else "; more than half, so fp32 from there on",
        )

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

import inspect
import logging
import types
import weakref

import numpy as np
import torch
from tqdm import tqdm

from ..errors import ConvergenceError, InputError
from ..models import Ensemble, RCAverage, simplified, with_activation_layers
from ..progress import Progress
from .deeplift import check_deeplift_support, deeplift_shap_step
from .grad_cam import grad_cam_step
from .gradients import (
    Explained,
    bf16_supported,
    full_fp32,
    gradient_step,
    integrated_gradients_step,
)
from .ism import ism_step
from .references import (
    ShuffledRows,
    null_sample,
    region_keys,
    shuffle_null_regions,
    shuffled_references,
)

# Each method's step: ``STEPS[method](f, run)``, given the explained scalar ``f``
# (:class:`Explained`) and the run's options ``run`` (a namespace of
# :func:`iter_attributions`' keywords), is a context that yields
# ``step(x, x_np, rows) -> (hyp, pred)``: one batch (a tensor (B, 4, L) on the device, the
# same as read, and its slice of rows) to its hypothetical contributions (B, 4, L) and
# outputs (B, T).
STEPS = {
    "grad_x_input": gradient_step,
    "saliency": gradient_step,
    "integrated_gradients": integrated_gradients_step,
    "deeplift_shap": deeplift_shap_step,
    "ism": ism_step,
    "grad_cam": grad_cam_step,
}
METHODS = tuple(STEPS)
GRADIENT_METHODS = ("grad_x_input", "saliency", "integrated_gradients")
BASELINES = ("zeros", "uniform", "shuffle")
PRECISIONS = ("fp32", "bf16", "auto")
OUTPUTS = ("logit", "probability")

__all__ = [
    "BASELINES",
    "METHODS",
    "PRECISIONS",
    "ConvergenceError",
    "Explained",
    "ShuffledRows",
    "attribute",
    "auto_batch_size",
    "bf16_supported",
    "check_deeplift_support",
    "full_fp32",
    "iter_attributions",
    "null_sample",
    "region_keys",
    "shuffle_null_regions",
    "shuffled_references",
]


def _validate(X, *, method, baseline, precision, output, ism_window) -> tuple:
    """Check the input and the options; return the ISM window ``(start, end)``."""
    if X.ndim != 3 or X.shape[1] != 4:
        raise ValueError(f"X: expected shape (N, 4, L), found {tuple(X.shape)}")
    for name, value, allowed in (
        ("method", method, METHODS),
        ("baseline", baseline, BASELINES),
        ("precision", precision, PRECISIONS),
        ("output", output, OUTPUTS),
    ):
        if value not in allowed:
            raise InputError(f"{name}: expected one of {allowed}, found {value!r}")
    L = X.shape[-1]
    window = (0, L) if ism_window is None else tuple(int(w) for w in ism_window)
    if not 0 <= window[0] < window[1] <= L:
        raise InputError(f"ism_window: expected 0 <= start < end <= {L}, found {window}")
    return window


def _per_region(method: str, baseline: str, n_shuffles: int) -> int:
    """Model evaluations per region in one batch (shuffled references, ISM variants)."""
    if method == "deeplift_shap" or (method == "integrated_gradients" and baseline == "shuffle"):
        return n_shuffles
    return 64 if method == "ism" else 1


def auto_batch_size(model, length: int, device, *, budget: int | None = None) -> int:
    """Sequences per batch whose activations fit a memory budget.

    The budget is a quarter of the free GPU memory, or 256 MiB on a CPU (where larger
    batches only spill out of the caches). Activations are measured on one sequence.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 4, L) one-hot input to (N, T) outputs.
    length : int
        Input length L.
    device : str or torch.device
        Where the model runs.
    budget : int or None, optional
        Bytes of activations per batch. Default is None: as above.

    Returns
    -------
    batch_size : int
        A power of two from 8 to 1024; on a CPU, measured once per model and length.
    """
    device = torch.device(device)
    kept = device.type == "cpu" and budget is None  # a fixed budget: the choice is kept
    if kept and length in _CPU_BATCH.get(model, {}):
        return _CPU_BATCH[model][length]
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
    size = 2 ** int(np.log2(np.clip(budget // per_sequence, 8, 1024)))
    if kept:
        _CPU_BATCH.setdefault(model, {})[length] = size
    return size


#: auto_batch_size's CPU choices by model (the simplified copies kept between calls)
_CPU_BATCH = weakref.WeakKeyDictionary()


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

    Parameters are those of :func:`attribute` (``log``: a logger for the bf16 and fast
    ISM checks, or None). Memory is bounded by the batch: ``X`` may be a memory-mapped
    array, and each yielded batch can be written out and dropped.

    Yields
    ------
    rows : slice
        The batch's rows of ``X``.
    hyp : numpy.ndarray, shape=(B, 4, L), dtype=float32
    attr : numpy.ndarray, shape=(B, L), dtype=float32
    pred : numpy.ndarray, shape=(B, T), dtype=float32
        As returned by :func:`attribute`, for those rows.

    Parameters
    ----------
    model, X, method, target, output, rc_average, batch_size, precision, baseline
        As in :func:`attribute`.
    steps, n_shuffles, references, ism_window, grad_cam_layer, tolerance, seed, keys
        As in :func:`attribute`.
    device, verbose
        As in :func:`attribute`.
    log : logging.Logger or None, optional
        Where the bf16 and fast-ISM checks say what they chose. Default is None.
    """
    options = {k: v for k, v in locals().items() if k not in ("model", "X")}
    members = _members(model, method, output)
    if members is None:
        yield from _attributions(model, X, **options)
        return
    # every method but Grad-CAM is linear in the output: the mean's map is the mean of
    # the members' maps, and each member gets its own fast paths (fastISM)
    if batch_size is None:
        options["batch_size"] = auto_batch_size(members[0], X.shape[-1], device)
    if log is not None:
        log.info("%s: the %d members of the ensemble one by one, averaged", method, len(members))
    quiet = {**options, "log": None, "verbose": False}
    runs = [_attributions(m, X, **(options if i == 0 else quiet)) for i, m in enumerate(members)]
    with full_fp32():  # the runs' own switches interleave: this one restores the flags
        try:
            for batches in zip(*runs):
                rows = batches[0][0]
                yield (rows, *(np.mean([b[k] for b in batches], axis=0) for k in (1, 2, 3)))
        finally:
            for run in reversed(runs):  # each restores its model's flags
                run.close()


def _members(model, method: str, output: str):
    """The members of an :class:`~seqsal.models.Ensemble` (strand-averaged each where the
    ensemble is), to attribute one by one; None for any other model, for Grad-CAM, and
    for probabilities (the sigmoid of a mean is not the mean of the sigmoids)."""
    averaged = isinstance(model, RCAverage)
    inner = model.model if averaged else model
    if not isinstance(inner, Ensemble) or method == "grad_cam" or output != "logit":
        return None
    return [RCAverage(m) if averaged else m for m in inner.members]


def _attributions(
    model,
    X,
    *,
    method,
    target,
    output,
    rc_average,
    batch_size,
    precision,
    baseline,
    steps,
    n_shuffles,
    references,
    ism_window,
    grad_cam_layer,
    tolerance,
    seed,
    keys,
    device,
    verbose,
    log,
):
    """:func:`iter_attributions` of one model."""
    window = _validate(
        X,
        method=method,
        baseline=baseline,
        precision=precision,
        output=output,
        ism_window=ism_window,
    )
    N, _, L = X.shape
    device = torch.device(device)
    model = model.to(device).eval()
    if method != "grad_cam":  # the same function, cheaper (grad_cam names a layer)
        model = simplified(model, pool_first=method != "deeplift_shap")
    if method == "deeplift_shap":
        model = with_activation_layers(model)  # torch.relu(h) hooked as a layer too
        check_deeplift_support(model)
    f = Explained(model, target=target, probability=output == "probability", rc_average=rc_average)
    if batch_size is None:
        batch_size = auto_batch_size(f.model, L, device)
    run = types.SimpleNamespace(
        model=model,  # as given (simplified), before Explained wraps it
        method=method,
        precision=precision,
        baseline=baseline,
        steps=steps,
        n_shuffles=n_shuffles,
        references=references,
        window=window,
        grad_cam_layer=grad_cam_layer,
        tolerance=tolerance,
        seed=seed,
        keys=keys,
        batch_size=batch_size,
        device=device,
        log=log,
    )
    K = n_shuffles if references is None else np.shape(references)[1]  # given: their own
    regions_per_batch = max(1, batch_size // _per_region(method, baseline, K))
    yield from _batches(f, run, X, regions_per_batch, verbose=verbose)


def _batches(f, run, X, regions_per_batch: int, *, verbose: bool):
    """The batches of :func:`_attributions`, the weights' gradients off meanwhile."""
    N, method, device = len(X), run.method, run.device
    parameters = list(f.parameters())
    flags = [p.requires_grad for p in parameters]
    for parameter in parameters:  # no weight gradients (ScriptModules included)
        parameter.requires_grad_(False)
    bar = tqdm(total=N, disable=not verbose, desc=method, unit="region", smoothing=0.1)
    progress = Progress(run.log or logging.getLogger(__name__), method, N)
    try:
        with STEPS[method](f, run) as step, full_fp32():
            for start in range(0, N, regions_per_batch):
                rows = slice(start, min(start + regions_per_batch, N))
                x_np = np.asarray(X[rows])
                x = torch.as_tensor(x_np, device=device).float()
                hyp, pred = step(x, x_np, rows)
                hyp = hyp.float()
                attr = (hyp * x).sum(1)
                yield rows, hyp.cpu().numpy(), attr.cpu().numpy(), pred.cpu().numpy()
                bar.update(rows.stop - rows.start)
                progress.update(rows.stop - rows.start)
    finally:
        bar.close()
        for parameter, flag in zip(parameters, flags):
            parameter.requires_grad_(flag)


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
        region). Gradient x input, saliency and DeepLIFT-SHAP (whose regions that miss
        completeness in bf16 are redone in fp32; ``auto`` is fp32 on a CPU, where bf16
        is no faster for it); the other methods always run in fp32. Default is "fp32".
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


# attribute takes the keywords of iter_attributions: show them to inspect and help()
attribute.__signature__ = inspect.signature(iter_attributions).replace(return_annotation=tuple)

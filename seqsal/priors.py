"""Attribution priors: training penalties on the model's own input gradients.

Each is off unless its weight and positions are set (``model.prior``):

- **Masks** (Ross et al. 2017, "right for the right reasons"): the squared input
  gradient at positions an expert marked irrelevant (M−: adapters, barcodes, a shortcut
  the report flagged) is penalised, and the share of |gradient × input| at positions
  marked relevant (M+: known sites) is rewarded.
- **Smoothness** (Tseng et al. 2020, the Fourier attribution prior): the part of each
  positive sequence's |gradient × input| spectrum above a cut-off frequency is
  penalised, so the maps are made of motif-wide bumps rather than base-to-base noise.

The gradients are computed with ``create_graph=True``, so that the penalties can
themselves be differentiated in the weights (double backpropagation).
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import InputError
from .intervals import is_interval, parse_interval, truth_mask

#: The Fourier prior's cut-off, in cycles per base, and how softly frequencies above it
#: are penalised, and the width (in bases) of the Gaussian that smooths |attribution|
#: first. Tseng et al. used 150 of 1,000 bp, softness 0.2 and sigma 3.
SMOOTH_CUTOFF, SMOOTH_SOFTNESS, SMOOTH_SIGMA = 0.15, 0.2, 3.0


def prior_mask(items, length: int, *, regions=None, key: str = "model.prior") -> np.ndarray:
    """The positions of each region that ``items`` mark.

    Parameters
    ----------
    items : list of str
        ``NAME:START:END`` intervals within every region (see
        :func:`seqsal.evaluate.parse_interval`) and paths to BED files of intervals in
        the coordinates of ``regions`` (genome, or the library's sequence names).
    length : int
        L, the one-hot's length.
    regions : pandas.DataFrame or None, optional
        ``chrom, start, end, strand`` (and pads) per region, in the one-hot's order;
        needed when an item is a BED file. Default is None.
    key : str, optional
        The config key named in errors. Default is "model.prior".

    Returns
    -------
    mask : numpy.ndarray of bool, shape=(N, L) or (1, L)
        One row for all regions when every item is an interval.
    """
    from .io.bed import read_bed

    rows = 1 if regions is None else len(regions)
    mask = np.zeros((rows, length), dtype=bool)
    for item in items:
        if is_interval(item):
            _, start, end = parse_interval(item, length, key=key)
            mask[:, start:end] = True
        elif regions is None:
            raise InputError(
                f"{key}: expected NAME:START:END intervals (no regions were given to place "
                f"BED intervals on), found {item!r}"
            )
        else:
            mask |= truth_mask(regions, read_bed(item), length)
    return mask


def input_gradients(model, x: torch.Tensor, signs: torch.Tensor | None = None) -> tuple:
    """The outputs, and the input gradient of their combination with ``signs``,
    differentiable in the weights.

    With one output this is its gradient. With several, random ``signs`` (±1 per
    sequence and output) make one double backward pass serve them all: the squared
    gradient of the combination is, on average, the sum of theirs (the cross terms
    cancel), where one pass per output would cost as many passes as outputs.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, shape=(B, 4, L)
        One-hot (float); its own gradient is not kept.
    signs : torch.Tensor, shape=(B, T) or None, optional
        Default is None: all +1.

    Returns
    -------
    output : torch.Tensor, shape=(B, T)
    grad : torch.Tensor, shape=(B, 4, L)
        With a graph back to the weights (``create_graph=True``). Gradient x input is
        ``(grad * x).sum(1)``.
    """
    x = x.detach().requires_grad_(True)
    output = model(x)
    explained = output.sum() if signs is None else (output * signs).sum()
    (grad,) = torch.autograd.grad(explained, x, create_graph=True)
    return output, grad


def random_signs(shape, rng) -> torch.Tensor:
    """±1 at random (see :func:`input_gradients`); all +1 for a single output."""
    if shape[1] == 1:
        return torch.ones(shape)
    return torch.as_tensor(rng.choice(np.array([-1.0, 1.0], np.float32), size=shape))


def gradient_mass(grad: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Right for the right reasons (Ross et al. 2017): the squared input gradient, over
    all four bases, summed inside ``mask`` and averaged over sequences.

    All four bases count, not only the one present: a model that reads the masked
    positions only through the bases absent from a sequence would otherwise escape. The
    mass is not divided by the map's total, which would let a model meet the prior by
    attributing nothing anywhere (measured: it then learnt nothing, test AUROC 0.50).

    Parameters
    ----------
    grad : torch.Tensor, shape=(B, 4, L)
    mask : torch.Tensor of bool, shape=(B, L) or (1, L)

    Returns
    -------
    mass : torch.Tensor
        A scalar, in squared output units (standardised targets, or logits).
    """
    return ((grad**2).sum(dim=1) * mask.to(grad.dtype)).sum(dim=-1).mean()


def mask_share(attr: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean share of each map's |attribution| inside ``mask``.

    Parameters
    ----------
    attr : torch.Tensor, shape=(B, L)
    mask : torch.Tensor of bool, shape=(B, L) or (1, L)

    Returns
    -------
    share : torch.Tensor
        A scalar in [0, 1]: 0 when nothing is attributed inside the mask.
    """
    size = attr.abs()
    inside = (size * mask.to(size.dtype)).sum(dim=-1)
    return (inside / (size.sum(dim=-1) + 1e-12)).mean()


def _gaussian(sigma: float, device) -> torch.Tensor:
    radius = max(1, int(round(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    window = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return (window / window.sum()).view(1, 1, -1)


def frequency_weights(length: int, *, cutoff: float = SMOOTH_CUTOFF) -> torch.Tensor:
    """How much each frequency of a length-``length`` map counts as high: 0 up to
    ``cutoff`` cycles per base, rising softly towards 1 above it (the DC term is left
    out: it is the map's total, not its shape).

    Returns
    -------
    weights : torch.Tensor, shape=(length // 2,)
        For rFFT frequencies 1 .. length // 2.
    """
    index = torch.arange(1, length // 2 + 1, dtype=torch.float32)
    above = (index - cutoff * length).clamp(min=0)
    return 1 - 1 / (1 + SMOOTH_SOFTNESS * above)


def smoothness_penalty(attr: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
    """One minus the low-frequency share of the spectrum of each map's smoothed
    |attribution|, averaged over maps.

    A map with no attribution at all has no low-frequency share and so the largest
    penalty, 1: a model cannot meet the prior by ceasing to attribute (the form of Tseng
    et al.; as a high-frequency share, 0 for such a map, it stopped the tal_gata model
    learning: test AUROC 0.50).

    Parameters
    ----------
    attr : torch.Tensor, shape=(B, L)
    keep : torch.Tensor of bool, shape=(B,) or None, optional
        The sequences whose maps count (the positives of a binary task). Default is
        None: all.

    Returns
    -------
    penalty : torch.Tensor
        A scalar in [0, 1]; 0 when no sequence is kept.
    """
    if keep is not None:
        attr = attr[keep.to(attr.device)]
    if attr.shape[0] == 0:
        return attr.sum() * 0
    length = attr.shape[-1]
    size = attr.abs()[:, None]
    kernel = _gaussian(SMOOTH_SIGMA, attr.device)
    smooth = torch.nn.functional.conv1d(size, kernel, padding=kernel.shape[-1] // 2)[:, 0]
    spectrum = torch.fft.rfft(smooth.float(), dim=-1).abs()[:, 1 : length // 2 + 1]
    spectrum = spectrum / (spectrum.sum(dim=-1, keepdim=True) + 1e-12)
    low = 1 - frequency_weights(length).to(spectrum.device)
    return (1 - (spectrum * low).sum(dim=-1)).mean()


class Priors:
    """The attribution-prior part of the training loss (``model.prior``).

    Parameters
    ----------
    irrelevant, relevant : numpy.ndarray of bool, shape=(N, L) or (1, L), or None
        Masks of :func:`prior_mask`. None: no such mask.
    mask_weight : float
        The weight of :func:`gradient_mass` in M− and of :func:`mask_share` in M+
        (subtracted: a reward).
    smoothness : float
        The weight of the Fourier prior (:func:`smoothness_penalty`); 0 is off.
    consistency : float, optional
        The weight of :func:`consistency_penalty` between each map and the map of its
        :func:`perturbed` copy; 0 is off. Default is 0.0.
    positives : numpy.ndarray of bool, shape=(N,) or None
        The sequences whose maps the Fourier prior smooths. None: all.
    n_outputs : int, optional
        The model's outputs, combined with random signs (:func:`input_gradients`).
        Default is 1.
    both_strands : bool, optional
        The perturbed copy is also reverse-complemented (sequences that act alike on
        both strands). Default is False.
    """

    #: Share of bases the consistency prior's copy changes.
    RATE = 0.02

    def __init__(
        self,
        *,
        irrelevant,
        relevant,
        mask_weight,
        smoothness,
        positives,
        consistency=0.0,
        n_outputs=1,
        both_strands=False,
    ):
        self.irrelevant, self.relevant = irrelevant, relevant
        self.mask_weight, self.smoothness, self.positives = mask_weight, smoothness, positives
        self.consistency, self.n_outputs, self.both_strands = consistency, n_outputs, both_strands

    @property
    def active(self) -> bool:
        masked = self.irrelevant is not None or self.relevant is not None
        return bool(
            (masked and self.mask_weight > 0) or self.smoothness > 0 or self.consistency > 0
        )

    def modes(self) -> dict:
        """What the checkpoint and metrics record."""
        return {
            "irrelevant_positions": _count(self.irrelevant),
            "relevant_positions": _count(self.relevant),
            "mask_weight": float(self.mask_weight),
            "smoothness": float(self.smoothness),
            "consistency": float(self.consistency),
        }

    def forward(self, model, x: torch.Tensor, rows, flipped, rng) -> tuple:
        """The model's outputs on a batch, and the penalties.

        Parameters
        ----------
        model : torch.nn.Module
        x : torch.Tensor, shape=(B, 4, L)
            The batch as the model reads it.
        rows : numpy.ndarray of int, shape=(B,)
            The batch's rows of the training data.
        flipped : numpy.ndarray of bool, shape=(B,) or None
            Which sequences were read reverse-complemented (their masks flip too).
        rng : numpy.random.Generator
            Draws the signs of :func:`input_gradients` and the perturbed copies.

        Returns
        -------
        output : torch.Tensor, shape=(B, T)
        terms : dict
            Those in use of ``irrelevant`` (:func:`gradient_mass`), ``relevant``
            (:func:`mask_share`), ``smoothness`` and ``consistency``, and ``total``,
            the weighted sum.
        """
        signs = random_signs((len(rows), self.n_outputs), rng).to(x.device)
        output, grad = input_gradients(model, x, signs)
        grad = grad.float()
        terms, total = {}, grad.new_zeros(())
        attr = (grad * x).sum(dim=1)
        if self.mask_weight and self.irrelevant is not None:
            mask = _batch_mask(self.irrelevant, rows, flipped, grad.device)
            terms["irrelevant"] = gradient_mass(grad, mask)
            total = total + self.mask_weight * terms["irrelevant"]
        if self.mask_weight and self.relevant is not None:
            mask = _batch_mask(self.relevant, rows, flipped, grad.device)
            terms["relevant"] = mask_share(attr, mask)
            total = total - self.mask_weight * terms["relevant"]
        if self.smoothness:
            keep = None if self.positives is None else torch.as_tensor(self.positives[rows])
            terms["smoothness"] = smoothness_penalty(attr, keep)
            total = total + self.smoothness * terms["smoothness"]
        if self.consistency:
            other = perturbed(x, self.RATE, rng, reverse=self.both_strands)
            _, other_grad = input_gradients(model, other, signs)
            other_attr = (other_grad.float() * other).sum(dim=1)
            if self.both_strands:
                other_attr = other_attr.flip(-1)
            terms["consistency"] = consistency_penalty(attr, other_attr)
            total = total + self.consistency * terms["consistency"]
        terms["total"] = total
        return output, terms


def perturbed(x: torch.Tensor, rate: float, rng, *, reverse: bool) -> torch.Tensor:
    """A copy of one-hot ``x`` with a ``rate`` share of its bases replaced by random
    ones, reverse-complemented when ``reverse`` (the consistency prior's partner).

    Parameters
    ----------
    x : torch.Tensor, shape=(B, 4, L)
    rate : float
    rng : numpy.random.Generator
    reverse : bool

    Returns
    -------
    x : torch.Tensor, shape=(B, 4, L)
    """
    n, _, length = x.shape
    hit = torch.as_tensor(rng.random((n, length)) < rate, device=x.device)
    bases = torch.as_tensor(rng.integers(0, 4, (n, length)), device=x.device)
    random = torch.nn.functional.one_hot(bases, 4).permute(0, 2, 1).to(x.dtype)
    out = torch.where(hit[:, None, :], random, x)
    return out.flip((1, 2)) if reverse else out  # ACGT: complement = channels reversed


def consistency_penalty(attr: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """One minus the mean Pearson correlation, sequence by sequence, of two maps of the
    same positions; 1 where a map is flat (no attribution is no way out).

    Parameters
    ----------
    attr, other : torch.Tensor, shape=(B, L)

    Returns
    -------
    penalty : torch.Tensor
        A scalar in [0, 2].
    """
    a = attr - attr.mean(dim=-1, keepdim=True)
    b = other - other.mean(dim=-1, keepdim=True)
    r = (a * b).sum(dim=-1) / torch.sqrt((a * a).sum(dim=-1) * (b * b).sum(dim=-1) + 1e-12)
    return 1 - r.mean()


def _count(mask) -> int:
    return 0 if mask is None else int(mask.sum())


def _batch_mask(mask: np.ndarray, rows, flipped, device) -> torch.Tensor:
    """The batch's rows of a mask (a shared row when it has one), flipped with the
    sequences that were read reverse-complemented."""
    batch = np.broadcast_to(mask, (len(rows), mask.shape[1])) if len(mask) == 1 else mask[rows]
    if flipped is not None:
        batch = np.where(flipped[:, None], batch[:, ::-1], batch)
    return torch.as_tensor(np.ascontiguousarray(batch), device=device)

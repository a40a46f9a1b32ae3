"""Training augmentations that change what the model sees of each sequence
(``model.augment``; each off by default):

- **Saliency-guided masking** (the saliency-guided CutOut): in a share of each batch's
  sequences, the window(s) the model currently credits most (|gradient × input|) are
  replaced, so that the model must also learn the next-best evidence.
- **Random masking**: the same windows placed at random, the baseline it is compared with.
- **EvoAug** (Lee et al. 2023): each sequence gets one or two of random mutation,
  insertion, deletion, inversion and translocation, with EvoAug's sizes; training then
  goes on for a few epochs on the unchanged sequences (their fine-tuning).

Every augmentation keeps the sequence length. A masked window is filled with the same
window of a dinucleotide shuffle of the whole sequence (its local composition, none of
its motifs), or with N (all-zero columns).
"""

from __future__ import annotations

import numpy as np
import torch

from .encode import dinucleotide_shuffle, one_hot_encode, one_hot_to_sequences
from .errors import InputError

EVOAUG = ("mutation", "insertion", "deletion", "inversion", "translocation")
#: The EvoAug changes that move bases along the sequence.
MOVING = ("insertion", "deletion", "translocation")
#: EvoAug's sizes: the share of bases a mutation changes, and the most bases inserted,
#: deleted, inverted or shifted.
EVOAUG_RATE, EVOAUG_MAX = 0.05, 20
#: Fine-tuning on the unchanged sequences runs at this share of the learning rate.
FINETUNE_RATE = 0.1


def mutate(X, rate: float, rng) -> np.ndarray:
    """Replace a ``rate`` share of the bases of one-hot ``X`` by random bases.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)
    rate : float
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L)
        A copy; N columns stay N (all zero) only where they were not drawn.
    """
    n, _, length = X.shape
    rows, columns = np.nonzero(rng.random((n, length)) < rate)
    X = X.copy()
    X[rows, :, columns] = 0
    X[rows, rng.integers(0, 4, len(rows)), columns] = 1
    return X


def random_bases(length: int, rng, dtype=np.uint8) -> np.ndarray:
    """``length`` random bases, one-hot, shape (4, length)."""
    out = np.zeros((4, length), dtype=dtype)
    out[rng.integers(0, 4, length), np.arange(length)] = 1
    return out


def salient_starts(scores: np.ndarray, width: int, windows: int = 1) -> np.ndarray:
    """The start of each row's ``windows`` strongest non-overlapping windows.

    Parameters
    ----------
    scores : numpy.ndarray, shape=(B, L)
        |attribution| per base.
    width : int
        Bases per window (at most L).
    windows : int, optional
        Windows per row, strongest first. Default is 1.

    Returns
    -------
    starts : numpy.ndarray of int, shape=(B, windows)
    """
    cumulative = np.pad(np.cumsum(scores, axis=1), ((0, 0), (1, 0)))
    sums = cumulative[:, width:] - cumulative[:, :-width]  # (B, L - width + 1)
    starts = np.zeros((len(scores), windows), dtype=int)
    for k in range(windows):
        starts[:, k] = sums.argmax(axis=1)
        for row, start in enumerate(starts[:, k]):  # windows overlapping it are taken
            sums[row, max(0, start - width + 1) : start + width] = -np.inf
    return starts


def random_starts(rows: int, length: int, width: int, windows: int, rng) -> np.ndarray:
    """Window starts drawn uniformly, shape (rows, windows) (they may overlap)."""
    return rng.integers(0, length - width + 1, size=(rows, windows))


def fill_windows(X, starts, width: int, fill: str, rng) -> np.ndarray:
    """``X`` with each row's windows replaced.

    Parameters
    ----------
    X : numpy.ndarray, shape=(B, 4, L)
    starts : numpy.ndarray of int, shape=(B, W)
    width : int
    fill : str
        ``"shuffle"``: the same window of a dinucleotide shuffle of the row's sequence;
        ``"n"``: N (all-zero columns).
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape=(B, 4, L)
        A copy.
    """
    X = X.copy()
    columns = starts[:, :, None] + np.arange(width)  # (B, W, width)
    rows = np.broadcast_to(np.arange(len(X))[:, None, None], columns.shape)
    if fill == "n":
        X[rows, :, columns] = 0
        return X
    sequences = one_hot_to_sequences(X)
    shuffled = one_hot_encode([dinucleotide_shuffle(s, rng=rng) for s in sequences])
    X[rows, :, columns] = shuffled.astype(X.dtype)[rows, :, columns]
    return X


def _insert(x, rng):
    """Random bases inserted at a random point; as many trimmed from the two ends."""
    k, length = int(rng.integers(1, EVOAUG_MAX + 1)), x.shape[1]
    at = int(rng.integers(0, length + 1))
    longer = np.concatenate([x[:, :at], random_bases(k, rng, x.dtype), x[:, at:]], axis=1)
    left = int(rng.integers(0, k + 1))
    return longer[:, left : left + length]


def _delete(x, rng):
    """A random stretch deleted; as many random bases added at the two ends."""
    k, length = int(rng.integers(1, EVOAUG_MAX + 1)), x.shape[1]
    at = int(rng.integers(0, length - k + 1))
    left = int(rng.integers(0, k + 1))
    pieces = [random_bases(left, rng, x.dtype), x[:, :at], x[:, at + k :]]
    return np.concatenate([*pieces, random_bases(k - left, rng, x.dtype)], axis=1)


def _invert(x, rng):
    """A random stretch reverse-complemented in place."""
    k = int(rng.integers(1, EVOAUG_MAX + 1))
    at = int(rng.integers(0, x.shape[1] - k + 1))
    x = x.copy()
    x[:, at : at + k] = x[::-1, at : at + k][:, ::-1]  # ACGT order: complement is [::-1]
    return x


def _translocate(x, rng):
    """The sequence shifted circularly by up to EVOAUG_MAX bases either way."""
    shift = int(rng.integers(1, EVOAUG_MAX + 1)) * int(rng.choice([-1, 1]))
    return np.roll(x, shift, axis=1)


def _mutate_one(x, rng):
    return mutate(x[None], EVOAUG_RATE, rng)[0]


_CHANGES = {
    "mutation": _mutate_one,
    "insertion": _insert,
    "deletion": _delete,
    "inversion": _invert,
    "translocation": _translocate,
}


def evolve(X, operations, rng) -> np.ndarray:
    """EvoAug: each row changed by one or two of ``operations`` (drawn per row, applied
    in a random order), the length kept.

    Parameters
    ----------
    X : numpy.ndarray, shape=(B, 4, L)
    operations : sequence of str
        Names of :data:`EVOAUG`.
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape=(B, 4, L)
        A copy.
    """
    out = np.empty_like(X)
    most = min(2, len(operations))
    for row, x in enumerate(X):
        chosen = rng.choice(len(operations), size=int(rng.integers(1, most + 1)), replace=False)
        for index in chosen:
            x = _CHANGES[operations[index]](x, rng)
        out[row] = x
    return out


class Augment:
    """``model.augment``: what training changes in each batch (see the module's notes).

    Parameters
    ----------
    mask : str, optional
        ``"none"``, ``"random"`` or ``"saliency"``. Default is "none".
    mask_width : int, optional
        Bases per masked window. Default is 10.
    mask_windows : int, optional
        Windows per masked sequence. Default is 1.
    mask_share : float, optional
        Share of each batch's sequences masked. Default is 0.5.
    mask_fill : str, optional
        ``"shuffle"`` or ``"n"`` (see :func:`fill_windows`). Default is "shuffle".
    evoaug : sequence of str, optional
        Names of :data:`EVOAUG`. Default is none.
    finetune_epochs : int or None, optional
        Epochs on the unchanged sequences after the augmented training, at
        :data:`FINETUNE_RATE` of the learning rate; None: 5 with ``evoaug``, else 0.
    length : int or None, optional
        The sequences' length, to check ``mask_width`` against. Default is None.
    """

    def __init__(
        self,
        mask: str = "none",
        mask_width: int = 10,
        mask_windows: int = 1,
        mask_share: float = 0.5,
        mask_fill: str = "shuffle",
        evoaug=(),
        finetune_epochs: int | None = None,
        length: int | None = None,
    ):
        unknown = sorted(set(evoaug or ()) - set(EVOAUG))
        if unknown:
            raise InputError(
                f"model.augment.evoaug: expected some of {', '.join(EVOAUG)}, found {unknown}"
            )
        self.mask, self.width, self.windows = mask, mask_width, mask_windows
        self.share, self.fill, self.evoaug = mask_share, mask_fill, list(evoaug or ())
        self.finetune_epochs = (
            (5 if self.evoaug else 0) if finetune_epochs is None else finetune_epochs
        )
        if length is not None:
            self.check_length(length)

    def check_length(self, length: int) -> None:
        """Refuse masks wider than sequences of ``length`` bases."""
        if self.mask != "none" and self.width * self.windows > length:
            raise InputError(
                f"model.augment: expected mask_width x mask_windows within the "
                f"{length} bp sequences, found {self.width} x {self.windows}"
            )

    @property
    def active(self) -> bool:
        return self.mask != "none" or bool(self.evoaug)

    @property
    def moves_bases(self) -> bool:
        """Whether some change moves bases along the sequence (masks no longer align)."""
        return bool(set(self.evoaug) & set(MOVING))

    def modes(self) -> dict:
        """What was used, for the checkpoint, ``metrics.json`` and the report."""
        modes = {}
        if self.mask != "none":
            modes.update(
                mask=self.mask,
                mask_width=self.width,
                mask_windows=self.windows,
                mask_share=self.share,
                mask_fill=self.fill,
            )
        if self.evoaug:
            modes["evoaug"] = list(self.evoaug)
        return {**modes, "finetune_epochs": self.finetune_epochs}

    def __call__(self, model, X: np.ndarray, rng, device="cpu") -> np.ndarray:
        """One batch, changed.

        Parameters
        ----------
        model : torch.nn.Module
            The model being trained (saliency masking reads its current maps).
        X : numpy.ndarray, shape=(B, 4, L)
            The batch's one-hot sequences.
        rng : numpy.random.Generator
        device : str or torch.device, optional
            Default is "cpu".

        Returns
        -------
        X : numpy.ndarray, shape=(B, 4, L)
        """
        if self.evoaug:
            X = evolve(X, self.evoaug, rng)
        if self.mask == "none":
            return X
        rows = np.flatnonzero(rng.random(len(X)) < self.share)
        if not len(rows):
            return X
        if self.mask == "saliency":
            starts = salient_starts(saliency(model, X[rows], rng, device), self.width, self.windows)
        else:
            starts = random_starts(len(rows), X.shape[-1], self.width, self.windows, rng)
        X = X.copy()
        X[rows] = fill_windows(X[rows], starts, self.width, self.fill, rng)
        return X


def saliency(model, X: np.ndarray, rng, device="cpu") -> np.ndarray:
    """|gradient × input| per base of the model as it is now, in eval mode (batch
    norm's running statistics are left alone), of a random ±1 combination of its
    outputs (see :func:`seqsal.priors.input_gradients`).

    Returns
    -------
    scores : numpy.ndarray, shape=(B, L)
    """
    from .priors import random_signs

    training = model.training
    model.eval()
    try:
        x = torch.as_tensor(X, device=device).float().requires_grad_(True)
        output = model(x)
        signs = random_signs(output.shape, rng).to(output.device)
        (grad,) = torch.autograd.grad((output * signs).sum(), x)
    finally:
        model.train(training)
    return (grad * x).sum(1).abs().detach().cpu().numpy()

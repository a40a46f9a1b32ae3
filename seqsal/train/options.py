"""The train stage's options, grouped as the config groups them and checked once: how one
model trains (``model.*``), the attribution priors (``model.prior``), the split
(``split.*``) and distillation (``model.distill``). :func:`seqsal.train.fit` builds the
model's options once and every model it trains (an ``auto`` candidate, an ensemble
member) is a :func:`dataclasses.replace` of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..augment import Augment

__all__ = ["DistillOptions", "PriorOptions", "SplitOptions", "TrainingOptions"]


@dataclass(frozen=True)
class TrainingOptions:
    """How one model trains: the fields of :func:`seqsal.train.train_model`.

    Parameters
    ----------
    arch : str, optional
        A name of :data:`seqsal.models.ARCHITECTURES` (``"auto"``: :func:`seqsal.train.fit`
        chooses). Default is "cnn".
    hparams : dict or None, optional
        The architecture's hyperparameters beyond input length and output count.
        Default is None: its defaults.
    max_epochs, patience : int, optional
        Epoch budget, and epochs without validation improvement before stopping; the
        stop waits while the validation loss is no better than a constant prediction's
        (the model has not begun to learn). Defaults are 50 and 5.
    batch_size : int, optional
        Default is 64.
    learning_rate : float, optional
        AdamW's learning rate. Default is 1e-3.
    weight_decay : float, optional
        AdamW's decoupled weight decay. Default is 0.01.
    rc_augment : bool or None, optional
        Train on each sequence or its reverse complement at random. Default is None:
        yes, unless :func:`seqsal.train.fit` is told the sequences are oriented.
    mutation_rate : float, optional
        Share of each training sequence's bases replaced by a random base, drawn anew
        every batch (EvoAug's random mutation): the model cannot memorise the exact
        sequences of the groups it trains on. Default is 0.0.
    standardize : bool, optional
        Fit regression targets in units of their standard deviation on the training
        split (:func:`seqsal.train.target_scales`), then fold the scale into the output layer, so
        that one learning rate and weight decay suit labels of any scale. Default is True.
    lr_schedule : str, optional
        ``"constant"``, or ``"plateau"``: halve the learning rate when the validation loss
        has not improved for ``max(1, patience // 2)`` epochs. Default is "constant".
    priors : seqsal.priors.Priors or None, optional
        Attribution priors added to the loss (``model.prior``), their masks indexed by
        the rows of ``X``. Default is None.
    augment : seqsal.augment.Augment or None, optional
        Masking and EvoAug changes of the training batches (``model.augment``), then
        its ``finetune_epochs`` on the unchanged sequences at a tenth of the learning
        rate (with ``patience``; the best validation epoch of either phase is kept).
        Default is None.
    device : str or torch.device, optional
        Default is "cpu".
    seed : int, optional
        Seeds the weights and, one stream each (:class:`seqsal.train.loop.Streams`), the
        batch order, strand flips, augmentation, mutation and priors. Default is 0.
    verbose : bool, optional
        Show a progress bar on stderr. Default is False.

    """

    arch: str = "cnn"
    hparams: dict | None = None
    max_epochs: int = 50
    patience: int = 5
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    rc_augment: bool | None = None
    mutation_rate: float = 0.0
    standardize: bool = True
    lr_schedule: str = "constant"
    priors: object = None
    augment: Augment | None = None
    device: object = "cpu"
    seed: int = 0
    verbose: bool = False


@dataclass(frozen=True)
class PriorOptions:
    """``model.prior``: the masks (``NAME:START:END`` intervals or BED files) and the
    weights of the attribution priors (see :mod:`seqsal.priors`).

    Parameters
    ----------
    irrelevant, relevant : tuple of str
        Default is none.
    mask_weight, smoothness, consistency : float
        Defaults are 10.0, 0.0 and 0.0.
    """

    irrelevant: tuple = ()
    relevant: tuple = ()
    mask_weight: float = 10.0
    smoothness: float = 0.0
    consistency: float = 0.0

    @property
    def masks(self) -> bool:
        """Whether a mask prior is given."""
        return bool(self.irrelevant or self.relevant)

    @property
    def active(self) -> bool:
        """Whether any prior is given."""
        return self.masks or bool(self.smoothness or self.consistency)


@dataclass(frozen=True)
class SplitOptions:
    """``split.*`` (see :func:`seqsal.train.split_regions`).

    Parameters
    ----------
    test_chroms : sequence of str or None
        Default is None.
    test_fraction, valid_fraction : float
        Defaults are 0.1 and 0.1.
    """

    test_chroms: tuple | None = None
    test_fraction: float = 0.1
    valid_fraction: float = 0.1


@dataclass(frozen=True)
class DistillOptions:
    """``model.distill``: ``{name: (model, meta)}`` of teachers, and their share of each
    training target (see :func:`seqsal.train.teacher_targets`).

    Parameters
    ----------
    teachers : dict
        Default is none: train on the labels.
    alpha : float
        Default is 1.0.
    """

    teachers: dict = field(default_factory=dict)
    alpha: float = 1.0

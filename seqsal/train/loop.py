"""One model's training: the batch loop, validation, the learning-rate schedule and
early stopping; the training modes (:mod:`seqsal.train.modes`) are asked after each
epoch."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..augment import mutate
from ..encode import reverse_complement
from ..models import (
    build_model,
    fold_output_scale,
    predict,
)
from ..progress import PROGRESS
from .modes import LEARNT, FineTune, PatientStop, PriorRestarts, check_learnt
from .options import TrainingOptions

log = logging.getLogger(__name__)


def _loss_function(tasks):
    binary = torch.tensor([task == "binary" for task in tasks])

    def loss(output, target, per_output=False):
        mse = torch.nn.functional.mse_loss(output, target, reduction="none")
        bce = torch.nn.functional.binary_cross_entropy_with_logits(output, target, reduction="none")
        losses = torch.where(binary.to(output.device), bce, mse)
        return losses.mean(0) if per_output else losses.mean()

    return loss


class Epoch(NamedTuple):
    """One epoch of a training's history."""

    epoch: int
    train_loss: float
    valid_loss: float
    learning_rate: float
    seconds: float
    extra: dict  # the priors' terms, prior_on, finetune


def train_model(X, y, split, *, tasks, options: TrainingOptions | None = None, **keywords):
    """Fit a built-in architecture with early stopping on the validation loss.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        One-hot sequences.
    y : numpy.ndarray, shape=(N, T)
        Labels; predictions are in their units.
    split : numpy.ndarray of str, shape=(N,)
        ``train``/``valid``/``test`` per region (see :func:`split_regions`).
    tasks : list of str
        ``regression`` or ``binary`` per target.
    options : TrainingOptions or None, optional
        How it trains. Default is None: :class:`TrainingOptions`' defaults.
    **keywords
        Fields of :class:`TrainingOptions` replacing those of ``options``
        (``max_epochs=3``, ``seed=1``, ...).

    Returns
    -------
    model : torch.nn.Module
        The weights of the best validation epoch (with a prior: of the epochs trained
        with it), in eval mode, predicting in the labels' units.
    hparams : dict
        The architecture's hyperparameters.
    history : pandas.DataFrame
        ``epoch, train_loss, valid_loss, learning_rate, seconds`` per epoch (losses on
        the scaled targets, without the priors), then the mean of each prior's term
        over the epoch's batches (``irrelevant``, ``relevant``, ``smoothness``,
        ``consistency``) and ``prior_on`` (bool) where one is used, ``finetune`` (bool)
        where ``augment`` fine-tunes, ``attempt`` (1 for the first start) where a model
        held on the plateau by a prior was started again
        (:data:`~seqsal.train.modes.RESTART_AFTER`), and ``kept`` (bool): the epoch whose
        weights are returned.
    """
    options = replace(options or TrainingOptions(), **keywords)
    run = Training(X, y, split, tasks=tasks, options=options)
    while run.step():
        pass
    return run.result()


class Streams(NamedTuple):
    """One random stream per purpose, so that turning a mode on or off changes no other
    purpose's draws (mutation no longer reorders the batches, a prior no longer changes
    the flips)."""

    order: np.random.Generator  # batch order
    flips: np.random.Generator  # which sequences are reverse-complemented
    augment: np.random.Generator  # model.augment's masks and EvoAug changes
    mutation: np.random.Generator  # model.mutation_rate's substitutions
    priors: np.random.Generator  # the priors' random signs and perturbations

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        """The streams of ``seed``: independent children of one seed sequence."""
        return cls(*map(np.random.default_rng, np.random.SeedSequence(seed).spawn(5)))


class Training:
    """One model's training, an epoch per :meth:`step`, so that ``model.arch: auto`` can
    stop a candidate after a few epochs and carry the chosen one on.

    Parameters
    ----------
    X, y, split, tasks
        As in :func:`train_model`.
    options : TrainingOptions
        How it trains.
    """

    def __init__(self, X, y, split, *, tasks, options: TrainingOptions):
        o = self.options = options
        self.rng = Streams.from_seed(o.seed)
        self.hparams = {**(o.hparams or {}), "input_length": X.shape[-1], "n_outputs": y.shape[1]}
        priors = o.priors if o.priors is not None and o.priors.active else None
        augment = o.augment if o.augment is not None and o.augment.active else None
        self.priors, self.augment = priors, augment
        self.restarts = PriorRestarts() if priors else None
        self.finetune = FineTune(augment.finetune_epochs) if augment else None
        self.rc_augment = o.rc_augment is not False
        self.initialise()
        self.loss_fn = _loss_function(tasks)
        self.binary = np.array([task == "binary" for task in tasks])
        self.train = np.flatnonzero(split == "train")
        valid = np.flatnonzero(split == "valid")
        self.valid = valid if len(valid) else self.train
        self.scale = target_scales(y[self.train], tasks) if o.standardize else np.ones(y.shape[1])
        self.X, self.y = X, (y / self.scale).astype(np.float32)
        self.y_valid = torch.as_tensor(self.y[self.valid]).float()
        self.history = []
        self.constant, self.constant_outputs = _constant_losses(
            self.loss_fn, self.y[self.train], self.y_valid, self.binary
        )
        # bf16 mixed precision on CUDA (weights and loss stay fp32); plain fp32 on the CPU
        cuda = torch.device(o.device).type == "cuda"
        self.autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)
        total = o.max_epochs + (augment.finetune_epochs if augment else 0)
        self.bar = tqdm(total=total, disable=not o.verbose, desc="train", unit="epoch")

    @property
    def tuning(self) -> bool:
        """Whether the run is fine-tuning (:class:`~seqsal.train.modes.FineTune`)."""
        return self.finetune is not None and self.finetune.tuning

    @property
    def prior_on(self) -> bool:
        """Whether this epoch trains with the prior."""
        return self.restarts is not None and self.restarts.prior_on

    def initialise(self) -> None:
        """Fresh weights (seeded by the seed and the restarts so far), optimiser,
        learning-rate schedule and early-stopping state."""
        o = self.options
        self.forget_best()
        self.stale, self.stopping = 0, PatientStop(o.patience)
        self.best_outputs = np.full(self.hparams["n_outputs"], np.inf)
        self.learning_since = None  # the epoch this start's first output began to learn
        offset = self.restarts.initial_seed_offset if self.restarts else 0
        torch.manual_seed(o.seed + offset)
        self.model = build_model(o.arch, **self.hparams).to(o.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=o.learning_rate, weight_decay=o.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer,
            factor=0.5,
            patience=max(1, o.patience // 2),
            threshold=1e-5,
            threshold_mode="abs",
        )

    def forget_best(self) -> None:
        """Keep no epoch yet: the next one is the best so far."""
        self.best, self.best_state, self.best_epoch = np.inf, None, None

    def step(self) -> bool:
        """Train one epoch; return whether training goes on (no early stop, epochs left)."""
        started = time.perf_counter()
        losses, terms = self._train_epoch()
        valid_loss = self._validate()
        epoch = len(self.history) + 1
        extra = (
            {k: torch.stack([t[k] for t in terms]).mean().item() for k in terms[0]} if terms else {}
        )
        if self.finetune is not None and self.finetune.epochs:
            extra["finetune"] = self.tuning
        if self.priors:  # off in a restart until every output has learnt
            extra["prior_on"] = self.prior_on
        rate = self.optimizer.param_groups[0]["lr"]
        seconds = time.perf_counter() - started
        self.history.append(
            Epoch(epoch, torch.stack(losses).mean().item(), valid_loss, rate, seconds, extra)
        )
        self._keep_if_best(valid_loss, epoch)
        self._log(epoch)
        if self.options.lr_schedule == "plateau":
            self.scheduler.step(valid_loss)
        if self.restarts is not None and self.restarts.after_epoch(self, epoch):
            return True
        going = self._going(epoch)
        if not going:
            self.bar.close()
        return going

    def _train_epoch(self) -> tuple:
        """One pass over the training split in random batches: the batch losses and the
        priors' terms (tensors, so that no step waits for the device)."""
        o, X, y, rng, model = self.options, self.X, self.y, self.rng, self.model
        model.train()
        losses, terms = [], []
        for batch in np.array_split(
            rng.order.permutation(self.train), max(1, len(self.train) // o.batch_size)
        ):
            xb, flip = X[batch], None
            if self.rc_augment:
                flip = rng.flips.random(len(batch)) < 0.5
                xb = np.where(flip[:, None, None], reverse_complement(xb), xb)
            if self.augment and not self.tuning:
                xb = self.augment(model, xb, rng.augment, o.device)
            if o.mutation_rate:
                xb = mutate(xb, o.mutation_rate, rng.mutation)
            xb = torch.as_tensor(xb, device=o.device).float()
            with self.autocast:
                if self.prior_on:
                    output, penalty = self.priors.forward(model, xb, batch, flip, rng.priors)
                else:
                    output = model(xb)
            loss = self.loss_fn(output.float(), torch.as_tensor(y[batch], device=o.device).float())
            losses.append(loss.detach())
            if self.prior_on:
                loss = loss + penalty.pop("total")
                terms.append({k: v.detach() for k, v in penalty.items()})
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return losses, terms

    def _validate(self) -> float:
        """The validation loss; each output's best so far, and when one began to learn."""
        valid_pred = torch.as_tensor(
            predict(self.model, self.X[self.valid], device=self.options.device)
        )
        valid_loss = self.loss_fn(valid_pred, self.y_valid).item()
        outputs = self.loss_fn(valid_pred, self.y_valid, per_output=True).numpy()
        self.best_outputs = np.minimum(self.best_outputs, outputs)
        if self.learning_since is None and not self.stalled().all():
            self.learning_since = len(self.history) + 1
        return valid_loss

    def _keep_if_best(self, valid_loss: float, epoch: int) -> None:
        if valid_loss < self.best - 1e-5:
            self.best, self.stale, self.best_epoch = valid_loss, 0, epoch
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.stale += 1

    def _log(self, epoch: int) -> None:
        last = self.history[-1]
        self.bar.update()
        self.bar.set_postfix(
            train_loss=f"{last.train_loss:.4f}", valid_loss=f"{last.valid_loss:.4f}"
        )
        log.info(
            "%s: train loss %.4f, valid loss %.4f, learning rate %.2g, %.1f s%s (best: epoch %s)",
            self._epoch_words(epoch),
            *last[1:5],
            "".join(
                f", prior {k} {v:.3g}"
                for k, v in last.extra.items()
                if k not in ("finetune", "prior_on")
            ),
            self.best_epoch,
            extra=PROGRESS,
        )

    def _going(self, epoch: int) -> bool:
        """Whether training goes on after ``epoch``: patience, the epoch budget of this
        start, then fine-tuning."""
        patient = self.stopping.patient(self)
        start = self.restarts.starts[-1] if self.restarts else 0
        budget_left = epoch - start < self.options.max_epochs
        if self.finetune is None:
            return patient and budget_left
        return self.finetune.going(self, patient, budget_left)

    def stalled(self) -> np.ndarray:
        """Which outputs have predicted the validation split no better than a constant in
        every epoch of this start."""
        return self.best_outputs >= LEARNT * self.constant_outputs

    def _epoch_words(self, epoch: int) -> str:
        if self.tuning:
            return f"epoch {epoch}, {self.finetune.words()}"
        start = self.restarts.starts[-1] if self.restarts else 0
        return f"epoch {epoch} of at most {start + self.options.max_epochs}"

    def result(self):
        """The best epoch's weights, predicting in the labels' units; hparams; history."""
        if self.restarts is not None:
            self.restarts.keep(self)
        if self.priors or self.augment:
            check_learnt(self)
        self.model.load_state_dict(self.best_state)
        fold_output_scale(self.model, self.scale)
        columns = ["epoch", "train_loss", "valid_loss", "learning_rate", "seconds"]
        history = pd.DataFrame([h[:5] for h in self.history], columns=columns)
        history = history.join(pd.DataFrame([h.extra for h in self.history]))
        attempts = self.restarts.attempts(history["epoch"]) if self.restarts else None
        if attempts is not None:  # which start each epoch belongs to (1: the first)
            history["attempt"] = attempts
        history["kept"] = history["epoch"] == self.best_epoch
        return self.model.eval(), self.hparams, history


def _constant_losses(loss_fn, y_train, y_valid, binary) -> tuple:
    """The validation loss of the best constant prediction (the training mean), and each
    output's."""
    mean = y_train.mean(axis=0).clip(1e-6, 1 - 1e-6)
    best = np.where(binary, np.log(mean / (1 - mean)), y_train.mean(axis=0))
    constant = torch.as_tensor(best).float().expand_as(y_valid)
    return loss_fn(constant, y_valid).item(), loss_fn(constant, y_valid, per_output=True).numpy()


def target_scales(y, tasks) -> np.ndarray:
    """Each target's training scale: the standard deviation of a regression target, 1 for
    a binary one (its loss needs the 0/1 labels).

    Targets are divided by it, not centred: on the demo, centring cost the CNN 0.13 of
    test Pearson (its ReLU head learns well from "no motif, output 0").

    Parameters
    ----------
    y : numpy.ndarray, shape=(N, T)
        The training split's labels.
    tasks : list of str

    Returns
    -------
    scale : numpy.ndarray, shape=(T,)
    """
    regression = np.array([task == "regression" for task in tasks])
    sd = np.asarray(y, dtype=np.float64).std(axis=0)
    return np.where(regression & (sd > 0), sd, 1.0)

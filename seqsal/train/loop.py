"""One model's training: the batch loop, validation, the learning-rate schedule, early
stopping, and the restarts and fine-tuning of the training modes."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..augment import FINETUNE_RATE, mutate
from ..encode import reverse_complement
from ..models import (
    build_model,
    fold_output_scale,
    predict,
)

log = logging.getLogger(__name__)


def _loss_function(tasks):
    binary = torch.tensor([task == "binary" for task in tasks])

    def loss(output, target, per_output=False):
        mse = torch.nn.functional.mse_loss(output, target, reduction="none")
        bce = torch.nn.functional.binary_cross_entropy_with_logits(output, target, reduction="none")
        losses = torch.where(binary.to(output.device), bce, mse)
        return losses.mean(0) if per_output else losses.mean()

    return loss


#: A model has begun to learn once its validation loss is below this share of a
#: constant prediction's.
LEARNT = 0.98

#: With a prior, epochs a model may stay no better than a constant before it starts again
#: from new initial weights (seed + RESTART_SEED x restarts), at most MAX_RESTARTS times;
#: a start after the first trains without the prior until every output's validation loss
#: is below PRIOR_AFTER of a constant prediction's. (At LEARNT, a task barely begun fell
#: back to the plateau once the prior came on: tal_gata, consistency 0.5, seed 1.)
RESTART_AFTER, MAX_RESTARTS, RESTART_SEED, PRIOR_AFTER = 15, 2, 1000, 0.9


def train_model(
    X,
    y,
    split,
    *,
    tasks,
    arch: str = "cnn",
    hparams: dict | None = None,
    max_epochs: int = 50,
    patience: int = 5,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.01,
    rc_augment: bool = True,
    mutation_rate: float = 0.0,
    standardize: bool = True,
    lr_schedule: str = "constant",
    priors=None,
    augment=None,
    device="cpu",
    seed: int = 0,
    verbose: bool = False,
):
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
    arch : str, optional
        A name of :data:`seqsal.models.ARCHITECTURES`. Default is "cnn".
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
    rc_augment : bool, optional
        Train on each sequence or its reverse complement at random. Default is True.
    mutation_rate : float, optional
        Share of each training sequence's bases replaced by a random base, drawn anew
        every batch (EvoAug's random mutation): the model cannot memorise the exact
        sequences of the groups it trains on. Default is 0.0.
    standardize : bool, optional
        Fit regression targets in units of their standard deviation on the training
        split (:func:`target_scales`), then fold the scale into the output layer, so
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
        Seeds weights, batch order and augmentation. Default is 0.
    verbose : bool, optional
        Show a progress bar on stderr. Default is False.

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
        held on the plateau by a prior was started again (:data:`RESTART_AFTER`), and
        ``kept`` (bool): the epoch whose weights are returned.
    """
    options = {k: v for k, v in locals().items() if k not in ("X", "y", "split")}
    run = Training(X, y, split, **options)
    while run.step():
        pass
    return run.result()


class Training:
    """One model's training, an epoch per :meth:`step`, so that ``model.arch: auto`` can
    stop a candidate after a few epochs and carry the chosen one on. Keywords as in
    :func:`train_model`."""

    def __init__(
        self,
        X,
        y,
        split,
        *,
        tasks,
        arch,
        hparams,
        max_epochs,
        patience,
        batch_size,
        learning_rate,
        weight_decay,
        rc_augment,
        mutation_rate,
        standardize,
        lr_schedule,
        priors,
        augment,
        device,
        seed,
        verbose,
    ):
        self.rng = np.random.default_rng(seed)
        self.hparams = {**(hparams or {}), "input_length": X.shape[-1], "n_outputs": y.shape[1]}
        self.arch, self.seed, self.starts = arch, seed, [0]
        self.earlier = None  # (best validation loss, weights, epoch) of the best start restarted
        self.initial = dict(
            learning_rate=learning_rate, weight_decay=weight_decay, patience=patience, device=device
        )
        self._initialise(**self.initial)
        self.loss_fn = _loss_function(tasks)
        self.binary = np.array([task == "binary" for task in tasks])
        self.train = np.flatnonzero(split == "train")
        valid = np.flatnonzero(split == "valid")
        self.valid = valid if len(valid) else self.train
        self.scale = target_scales(y[self.train], tasks) if standardize else np.ones(y.shape[1])
        self.X, self.y = X, (y / self.scale).astype(np.float32)
        self.y_valid = torch.as_tensor(self.y[self.valid]).float()
        self.options = dict(
            batch_size=batch_size,
            rc_augment=rc_augment,
            mutation_rate=mutation_rate,
            lr_schedule=lr_schedule,
            max_epochs=max_epochs,
            patience=patience,
            device=device,
        )
        self.priors = priors if priors is not None and priors.active else None
        self.augment = augment if augment is not None and augment.active else None
        self.finetune = None  # epochs of fine-tuning left, once it has begun
        self.history = []
        self.constant = self._constant_loss()
        self.constant_outputs = self._constant_loss(per_output=True)
        # bf16 mixed precision on CUDA (weights and loss stay fp32); plain fp32 on the CPU
        cuda = torch.device(device).type == "cuda"
        self.autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)
        total = max_epochs + (self.augment.finetune_epochs if self.augment else 0)
        self.bar = tqdm(total=total, disable=not verbose, desc="train", unit="epoch")

    def _initialise(self, learning_rate, weight_decay, patience, device):
        """Fresh weights (seeded by the seed and the restarts so far), optimiser,
        learning-rate schedule and early-stopping state."""
        self.best, self.best_state, self.best_epoch = np.inf, None, None
        self.stale, self.waited = 0, False
        self.best_outputs = np.full(self.hparams["n_outputs"], np.inf)
        self.learning_since = None  # the epoch this start's first output began to learn
        # the first start trains with the prior from its first epoch, a restart once every
        # output has learnt without it (:meth:`_restart`)
        self.prior_on = len(self.starts) == 1
        torch.manual_seed(self.seed + RESTART_SEED * (len(self.starts) - 1))
        self.model = build_model(self.arch, **self.hparams).to(device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=learning_rate, weight_decay=weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer,
            factor=0.5,
            patience=max(1, patience // 2),
            threshold=1e-5,
            threshold_mode="abs",
        )

    def step(self) -> bool:
        """Train one epoch; return whether training goes on (no early stop, epochs left)."""
        o, X, y, rng, model = self.options, self.X, self.y, self.rng, self.model
        model.train()
        started = time.perf_counter()
        losses, terms = [], []
        for batch in np.array_split(
            rng.permutation(self.train), max(1, len(self.train) // o["batch_size"])
        ):
            xb, flip = X[batch], None
            if o["rc_augment"]:
                flip = rng.random(len(batch)) < 0.5
                xb = np.where(flip[:, None, None], reverse_complement(xb), xb)
            if self.augment and self.finetune is None:
                xb = self.augment(model, xb, rng, o["device"])
            if o["mutation_rate"]:
                xb = mutate(xb, o["mutation_rate"], rng)
            xb = torch.as_tensor(xb, device=o["device"]).float()
            with self.autocast:
                if self.priors and self.prior_on:
                    output, penalty = self.priors.forward(model, xb, batch, flip, rng)
                else:
                    output = model(xb)
            loss = self.loss_fn(
                output.float(), torch.as_tensor(y[batch], device=o["device"]).float()
            )
            losses.append(loss.detach())  # no device sync per step
            if self.priors and self.prior_on:
                loss = loss + penalty.pop("total")
                terms.append({k: v.detach() for k, v in penalty.items()})
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        valid_pred = torch.as_tensor(predict(model, X[self.valid], device=o["device"]))
        valid_loss = self.loss_fn(valid_pred, self.y_valid).item()
        outputs = self.loss_fn(valid_pred, self.y_valid, per_output=True).numpy()
        self.best_outputs = np.minimum(self.best_outputs, outputs)
        epoch = len(self.history) + 1
        if self.learning_since is None and not self._stalled().all():
            self.learning_since = epoch
        rate = self.optimizer.param_groups[0]["lr"]
        seconds = time.perf_counter() - started
        extra = (
            {k: torch.stack([t[k] for t in terms]).mean().item() for k in terms[0]} if terms else {}
        )
        if self.augment and self.augment.finetune_epochs:
            extra["finetune"] = self.finetune is not None
        if self.priors:  # off in a restart until every output has learnt
            extra["prior_on"] = self.prior_on
        self.history.append(
            (epoch, torch.stack(losses).mean().item(), valid_loss, rate, seconds, extra)
        )
        self.bar.update()
        self.bar.set_postfix(
            train_loss=f"{self.history[-1][1]:.4f}", valid_loss=f"{valid_loss:.4f}"
        )
        if valid_loss < self.best - 1e-5:
            self.best, self.stale, self.best_epoch = valid_loss, 0, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1
        log.info(
            "%s: train loss %.4f, valid loss %.4f, learning rate %.2g, %.1f s%s (best: epoch %s)",
            self._epoch_words(epoch),
            *self.history[-1][1:5],
            "".join(
                f", prior {k} {v:.3g}"
                for k, v in extra.items()
                if k not in ("finetune", "prior_on")
            ),
            self.best_epoch,
        )
        if o["lr_schedule"] == "plateau":
            self.scheduler.step(valid_loss)
        if self._stuck(epoch):
            return self._restart(epoch)
        learnt = (self.best_outputs < PRIOR_AFTER * self.constant_outputs).all()
        if self.priors and not self.prior_on and learnt:
            self._prior_from_here(epoch)
        patient = self.stale < o["patience"] or self._waits()
        if self.finetune is not None:
            self.finetune -= 1
            going = patient and self.finetune > 0
        else:
            going = patient and epoch - self.starts[-1] < o["max_epochs"]
            if not going and self.augment and self.augment.finetune_epochs:
                going = self._start_finetuning()
        if not going:
            self.bar.close()
        return going

    def _stalled(self) -> np.ndarray:
        """Which outputs have predicted the validation split no better than a constant in
        every epoch of this start."""
        return self.best_outputs >= LEARNT * self.constant_outputs

    def _stuck(self, epoch: int) -> bool:
        """Whether a model trained with a prior, with restarts left, still predicts an
        output no better than a constant :data:`RESTART_AFTER` epochs into its start, or
        that many epochs after its other outputs began to learn: a prior can hold a
        model, or one of its outputs, on the plateau before its first motif for good, and
        new initial weights get it off (measured on tal_gata with consistency 0.7: of
        three seeds one left the plateau after 11 epochs and one not in 50, where plain
        training leaves it by epoch 4; with one output explained per sequence, the GATA
        task stayed at its constant's loss while the others fell)."""
        stalled = self._stalled()
        since = self.starts[-1] if stalled.all() else self.learning_since
        return (
            self.priors is not None
            and self.finetune is None
            and len(self.starts) <= MAX_RESTARTS
            and bool(stalled.any())
            and epoch - since >= RESTART_AFTER
        )

    def _restart(self, epoch: int) -> bool:
        stalled = self._stalled()
        if stalled.all():
            what = (
                f"after {epoch - self.starts[-1]} epochs the validation loss {self.best:.4g} "
                f"is still no better than a constant prediction's ({self.constant:.4g})"
            )
        else:
            which = np.flatnonzero(stalled)
            numbers = ", ".join(str(i + 1) for i in which)
            losses = ", ".join(f"{v:.4g}" for v in self.best_outputs[which])
            constants = ", ".join(f"{v:.4g}" for v in self.constant_outputs[which])
            what = (
                f"{epoch - self.learning_since} epochs after the other outputs began to "
                f"learn, the validation loss of output {numbers} of {len(stalled)} (in the "
                f"targets' order), {losses}, is still no better than a constant "
                f"prediction's ({constants})"
            )
        log.warning(
            "model.prior: %s; starting again from new initial weights, without the prior "
            "until every output has learnt (restart %d of at most %d)",
            what,
            len(self.starts),
            MAX_RESTARTS,
        )
        if self.earlier is None or self.best < self.earlier[0]:
            self.earlier = (self.best, self.best_state, self.best_epoch)
        self.starts.append(epoch)
        self._initialise(**self.initial)
        return True

    def _prior_from_here(self, epoch: int):
        """Turn the prior on in a restart once every output has learnt without it
        (:data:`PRIOR_AFTER`); the weights kept are then the best epoch's with it."""
        log.info(
            "model.prior: every output has learnt after %d epochs of this start without "
            "the prior (validation loss below %g of a constant prediction's); training with "
            "it from here",
            epoch - self.starts[-1],
            PRIOR_AFTER,
        )
        self.prior_on, self.best, self.best_state, self.best_epoch = True, np.inf, None, None

    def _waits(self) -> bool:
        """Whether early stopping waits, out of patience: while the model predicts the
        validation split no better than a constant, it has not begun to learn (a
        plateau before the first motif is found; measured: 1 seed in 3 of the demo's
        model with random masking or EvoAug on 25% of the data stopped there)."""
        if self.best < LEARNT * self.constant:
            return False
        if not self.waited:
            log.info(
                "early stopping waits: the validation loss %.4g is not yet below a "
                "constant prediction's (%.4g)",
                self.best,
                self.constant,
            )
        self.waited = True
        return True

    def _epoch_words(self, epoch: int) -> str:
        if self.finetune is None:
            return f"epoch {epoch} of at most {self.starts[-1] + self.options['max_epochs']}"
        done = self.augment.finetune_epochs - self.finetune + 1
        return f"epoch {epoch}, fine-tuning {done} of at most {self.augment.finetune_epochs}"

    def _start_finetuning(self) -> bool:
        """EvoAug's second phase: from the best augmented epoch, on the unchanged
        sequences at a tenth of the learning rate."""
        self.model.load_state_dict(self.best_state)
        for group in self.optimizer.param_groups:
            group["lr"] *= FINETUNE_RATE
        self.finetune, self.stale = self.augment.finetune_epochs, 0
        log.info("model.augment: fine-tuning on the unchanged sequences")
        return True

    def result(self):
        """The best epoch's weights, predicting in the labels' units; hparams; history."""
        if self.earlier is not None and self.earlier[0] < self.best:
            log.warning(
                "model.prior: the last start's best validation loss %.4g is worse than an "
                "earlier start's (%.4g); keeping the earlier one's weights",
                self.best,
                self.earlier[0],
            )
            self.best, self.best_state, self.best_epoch = self.earlier
        if self.priors and not self.prior_on:
            log.warning(
                "model.prior: the last start never came to train with the prior (an output's "
                "validation loss stayed above %g of a constant prediction's without it); the "
                "weights kept were trained without it",
                PRIOR_AFTER,
            )
        if self.priors or self.augment:
            self._check_learnt()
        self.model.load_state_dict(self.best_state)
        fold_output_scale(self.model, self.scale)
        columns = ["epoch", "train_loss", "valid_loss", "learning_rate", "seconds"]
        history = pd.DataFrame([h[:5] for h in self.history], columns=columns)
        history = history.join(pd.DataFrame([h[5] for h in self.history]))
        if len(self.starts) > 1:  # which start each epoch belongs to (1: the first)
            history["attempt"] = np.searchsorted(self.starts, history["epoch"] - 1, side="right")
        history["kept"] = history["epoch"] == self.best_epoch
        return self.model.eval(), self.hparams, history

    def _constant_loss(self, per_output: bool = False):
        """The validation loss of the best constant prediction (the training mean): a
        float, or an array of one per output."""
        mean = self.y[self.train].mean(axis=0).clip(1e-6, 1 - 1e-6)
        best = np.where(self.binary, np.log(mean / (1 - mean)), self.y[self.train].mean(axis=0))
        constant = torch.as_tensor(best).float().expand_as(self.y_valid)
        loss = self.loss_fn(constant, self.y_valid, per_output=per_output)
        return loss.numpy() if per_output else loss.item()

    def _check_learnt(self):
        """Warn when a model trained with priors or augmentation predicts the validation
        split no better than a constant (a prior's weight too high for the data, or
        masks that hide all the evidence, stop the learning)."""
        if self.best >= LEARNT * self.constant:
            log.warning(
                "%s: the validation loss %.4g is no better than a constant prediction's "
                "(%.4g): the model has not learnt; %s",
                "model.prior" if self.priors else "model.augment",
                self.best,
                self.constant,
                "lower the prior's weight" if self.priors else "augment less (model.augment)",
            )


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

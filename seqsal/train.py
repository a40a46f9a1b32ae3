"""Train a CNN that predicts labels from one-hot sequence, with held-out contigs."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .augment import FINETUNE_RATE, MOVING, Augment, mutate
from .encode import reverse_complement
from .errors import InputError
from .metrics import score_predictions
from .models import (
    build_model,
    ensemble_hparams,
    ensemble_of,
    fold_output_scale,
    own_hparams,
    predict,
)

log = logging.getLogger(__name__)


def infer_tasks(y: np.ndarray) -> list:
    """Call each target ``binary`` when its values are all 0 or 1, else ``regression``.

    Parameters
    ----------
    y : numpy.ndarray, shape=(N, T)

    Returns
    -------
    tasks : list of str
    """
    return ["binary" if np.isin(column, (0, 1)).all() else "regression" for column in y.T]


def _pick_groups(groups, counts, fraction, rng):
    """Pick whole groups, in a seeded order, until they hold ``fraction`` of the rows."""
    chosen, total = [], 0
    for g in rng.permutation(groups):
        if total >= fraction * counts.sum():
            break
        chosen.append(g)
        total += counts[g]
    return chosen


def split_regions(
    chroms,
    *,
    groups=None,
    assigned=None,
    test=None,
    test_chroms=None,
    test_fraction: float = 0.1,
    valid_fraction: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Assign each region to ``train``, ``valid`` or ``test``, whole groups at a time.

    Parameters
    ----------
    chroms : array-like of str
        Each region's contig.
    groups : array-like of str or None, optional
        A group per region (``split.group_by``); groups never straddle splits. Default
        is None: contigs are the groups.
    assigned : array-like of str or None, optional
        A given split per region (``split.column``): ``train``, ``valid`` or ``test``.
        Default is None.
    test : array-like of bool or None, optional
        Regions held out for testing (``split.test_names``); the others are split into
        train and valid. Default is None.
    test_chroms : list of str or None, optional
        Contigs held out for testing. Default is None: seeded whole groups holding about
        ``test_fraction`` of the regions (a seeded row split when there are fewer than
        three groups).
    test_fraction, valid_fraction : float, optional
        Shares of regions held out. Defaults are 0.1 and 0.1.
    seed : int, optional
        Seed of the choice. Default is 0.

    Returns
    -------
    split : numpy.ndarray of str, shape=(N,)
    """
    if assigned is not None:
        assigned = np.char.lower(np.char.strip(np.asarray(assigned, dtype=str)))
        unknown = sorted(set(assigned.tolist()) - {"train", "valid", "test"})
        if unknown:
            raise InputError(f"split.column: expected train, valid or test, found {unknown[:5]}")
        return assigned.astype("<U5")
    chroms = np.asarray(chroms, dtype=str)
    keys = chroms if groups is None else np.asarray(groups, dtype=str)
    rng = np.random.default_rng(seed)
    split = np.full(len(keys), "train", dtype="<U5")
    counts = pd.Series(keys).value_counts()
    if test is None and test_chroms is None and len(counts) < 3:
        order = rng.permutation(len(keys))
        n_test, n_valid = round(test_fraction * len(keys)), round(valid_fraction * len(keys))
        split[order[:n_test]] = "test"
        split[order[n_test : n_test + n_valid]] = "valid"
        return split
    if test is not None:
        split[np.asarray(test, dtype=bool)] = "test"
    elif test_chroms is not None:
        unknown = sorted(set(test_chroms) - set(chroms))
        if unknown:
            raise InputError(f"split.test_chroms: expected contigs with regions, found {unknown}")
        split[np.isin(chroms, test_chroms)] = "test"
    else:
        split[np.isin(keys, _pick_groups(np.sort(counts.index), counts, test_fraction, rng))] = (
            "test"
        )
    rest = pd.Series(keys[split == "train"]).value_counts()
    share = valid_fraction * len(keys) / max(rest.sum(), 1)
    split[
        np.isin(keys, _pick_groups(np.sort(rest.index), rest, share, rng)) & (split == "train")
    ] = "valid"
    if not (split == "train").any():
        raise InputError("split: expected regions left for training, found none")
    return split


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
    run = _Training(X, y, split, **options)
    while run.step():
        pass
    return run.result()


class _Training:
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


def score_splits(y, pred, split, *, tasks, targets) -> dict:
    """Score predictions on each split; return ``{split: {target: {metric: value}}}``.

    Parameters
    ----------
    y, pred : numpy.ndarray, shape=(N, T)
    split : numpy.ndarray of str, shape=(N,)
    tasks : list of str
    targets : list of str

    Returns
    -------
    metrics : dict
    """
    metrics = {}
    for part in ("train", "valid", "test"):
        rows = split == part
        if rows.any():
            scores = score_predictions(y[rows], pred[rows], tasks)
            metrics[part] = {t: {"n": int(rows.sum()), **s} for t, s in zip(targets, scores)}
    return metrics


def describe_split(split, chroms, *, assigned=False, grouped=False, named=False) -> str:
    """How the test set was held out, in words, for the report.

    Parameters
    ----------
    split : array-like of str
        Each region's split, from :func:`split_regions`.
    chroms : array-like of str
        Each region's contig.
    assigned, grouped, named : bool, optional
        Whether the split came from ``split.column``, ``split.group_by`` or
        ``split.test_names``. Defaults are False.

    Returns
    -------
    text : str
        E.g. "500 test regions on held-out contigs chr3, chr7".
    """
    split, chroms = np.asarray(split), np.asarray(chroms)
    n = int((split == "test").sum())
    if assigned:
        return f"{n} test regions, as the labels' split column assigns them"
    if named:
        return f"{n} test regions named in split.test_names"
    if grouped:
        return f"{n} test regions in whole groups of split.group_by"
    held = sorted(set(chroms[split == "test"]))
    one_per_contig = len(set(chroms)) == len(chroms)  # library mode: a contig per sequence
    if held and not one_per_contig and not set(held) & set(chroms[split != "test"]):
        shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
        return f"{n} test regions on held-out contigs {shown}"
    return f"{n} test regions drawn at random"


def split_warning(split, test_fraction: float) -> str | None:
    """A warning when whole groups (contigs, ``split.group_by``) made the test share far
    from ``test_fraction``: under half or over twice it.

    Parameters
    ----------
    split : array-like of str
        Each region's split.
    test_fraction : float
        ``split.test_fraction``.

    Returns
    -------
    warning : str or None
    """
    split = np.asarray(split)
    share = float((split == "test").mean()) if len(split) else 0.0
    if test_fraction <= 0 or test_fraction / 2 <= share <= 2 * test_fraction:
        return None
    return (
        f"the test split holds {100 * share:.1f}% of the regions, against split.test_fraction "
        f"{100 * test_fraction:.0f}%: whole groups were held out (name the test contigs with "
        "split.test_chroms, or group by a finer column)"
    )


def fit(
    data: dict,
    *,
    model=None,
    meta: dict | None = None,
    tasks: dict | None = None,
    test=None,
    test_chroms=None,
    test_fraction: float = 0.1,
    valid_fraction: float = 0.1,
    arch: str = "cnn",
    hparams: dict | None = None,
    max_epochs: int = 50,
    patience: int = 5,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.01,
    rc_augment: bool | None = None,
    mutation_rate: float = 0.0,
    standardize: bool = True,
    lr_schedule: str = "constant",
    auto_epochs: int = 4,
    ensemble: int = 1,
    oriented: bool = False,
    prior_irrelevant=(),
    prior_relevant=(),
    prior_mask_weight: float = 10.0,
    prior_smoothness: float = 0.0,
    prior_consistency: float = 0.0,
    augment_mask: str = "none",
    augment_mask_width: int = 10,
    augment_mask_windows: int = 1,
    augment_mask_share: float = 0.5,
    augment_mask_fill: str = "shuffle",
    augment_evoaug=(),
    augment_finetune_epochs: int | None = None,
    teachers: dict | None = None,
    distill_alpha: float = 1.0,
    regions=None,
    device="cpu",
    seed: int = 0,
    verbose: bool = False,
) -> dict:
    """The train stage: split the regions, train a model (or take ``model``), score it.

    Parameters
    ----------
    data : dict
        Encode shards' arrays (:func:`seqsal.io.shards.read_shards`): ``X`` (N, 4, L),
        ``chroms``, ``names``, and where labels exist ``y`` (N, T), ``targets``, and
        ``groups``/``split`` when configured.
    model : torch.nn.Module or None, optional
        A loaded model to score instead of training one (``model.checkpoint``), with its
        ``meta`` (``arch``, ``hparams``, ``targets``, ``tasks``). Default is None.
    meta : dict or None, optional
        The loaded model's metadata. Default is None.
    tasks : dict or None, optional
        ``{target: "binary" | "regression"}`` overriding the task inferred from the
        labels (binary when all 0/1). Default is None.
    test : array-like of bool or None, optional
        Regions held out for testing (``split.test_names``). Default is None.
    test_chroms, test_fraction, valid_fraction
        As in :func:`split_regions`.
    arch : str, optional
        As in :func:`train_model`, or ``"auto"``: choose the architecture and learning
        rate on the validation split (:func:`select_model`). Default is "cnn".
    hparams, max_epochs, patience, batch_size, learning_rate, weight_decay
        As in :func:`train_model`.
    rc_augment : bool or None, optional
        As in :func:`train_model`; None: augment unless ``oriented``. Default is None.
    mutation_rate, standardize, lr_schedule
        As in :func:`train_model`.
    auto_epochs : int, optional
        Epochs each candidate of ``arch="auto"`` but the default trains before the
        choice. Default is 4.
    ensemble : int, optional
        Train this many models (seeds ``seed``, ``seed + 1``, ...; with ``arch="auto"``
        the chosen architecture and rate) on the same split and predict their mean
        (:class:`seqsal.models.Ensemble`). Default is 1: one model.
    oriented : bool, optional
        The sequences act in the orientation given (reporter constructs); recorded in
        ``meta`` and the metrics. Default is False.
    prior_irrelevant, prior_relevant : sequence of str, optional
        ``model.prior``'s masks: ``NAME:START:END`` intervals or BED files (see
        :func:`build_priors`). Default is none.
    prior_mask_weight, prior_smoothness, prior_consistency : float, optional
        ``model.prior``'s weights (see :mod:`seqsal.priors`). Defaults are 10.0, 0.0 and
        0.0 (no smoothness or consistency prior).
    augment_mask, augment_mask_width, augment_mask_windows, augment_mask_share
        ``model.augment``'s masking (see :class:`seqsal.augment.Augment`). Defaults are
        "none", 10, 1 and 0.5.
    augment_mask_fill, augment_evoaug, augment_finetune_epochs
        Defaults are "shuffle", none and None (5 epochs with EvoAug, else 0).
    teachers : dict or None, optional
        ``model.distill.teachers``: ``{name: (model, meta)}`` of models of the same
        targets; the model is trained on their mean prediction (:func:`teacher_targets`)
        mixed with the labels. Default is None: on the labels.
    distill_alpha : float, optional
        The teachers' share of each training target; validation and scores stay on
        the labels. Default is 1.0.
    regions : pandas.DataFrame or None, optional
        The regions in the one-hot's order (``results/regions/regions.bed``), to place
        a prior's BED intervals on. Default is None.
    device : str or torch.device, optional
        Default is "cpu".
    seed : int, optional
        Seeds the split and the training. Default is 0.
    verbose : bool, optional
        Show a progress bar on stderr. Default is False.

    Returns
    -------
    result : dict
        ``model`` (eval mode), ``meta``, ``metrics`` (per split and target, then
        ``tasks``, ``device``, ``epochs``), ``history`` (a DataFrame, None for a loaded
        model; an ensemble's first member's), ``member_histories`` (an ensemble's
        members' histories, else None), ``split`` (str, shape=(N,)) and ``pred``
        (float32, shape=(N, T)).
    """
    split = split_regions(
        data["chroms"],
        groups=data.get("groups"),
        assigned=data.get("split"),
        test=test,
        test_chroms=test_chroms,
        seed=seed,
        test_fraction=test_fraction,
        valid_fraction=valid_fraction,
    )
    history = selection = member_histories = None
    rc_augment = not oriented if rc_augment is None else rc_augment
    prior = {
        "irrelevant": list(prior_irrelevant or ()),
        "relevant": list(prior_relevant or ()),
        "mask_weight": prior_mask_weight,
        "smoothness": prior_smoothness,
        "consistency": prior_consistency,
    }
    augment = Augment(
        augment_mask,
        augment_mask_width,
        augment_mask_windows,
        augment_mask_share,
        augment_mask_fill,
        augment_evoaug,
        augment_finetune_epochs,
        length=data["X"].shape[-1],
    )
    if model is not None and (
        prior["irrelevant"] or prior["relevant"] or prior_smoothness or prior_consistency
    ):
        log.warning("model.prior: not used, model.checkpoint is loaded, not trained")
    if model is not None and augment.active:
        log.warning("model.augment: not used, model.checkpoint is loaded, not trained")
    if model is not None and teachers:
        log.warning("model.distill: not used, model.checkpoint is loaded, not trained")
    if model is not None and ensemble > 1:
        log.warning("model.ensemble: not used, model.checkpoint is loaded, not trained")
    if augment.moves_bases and (prior["irrelevant"] or prior["relevant"]):
        raise InputError(
            "model.augment.evoaug: expected no insertion, deletion or translocation with "
            "the masks of model.prior (they move bases off the masked positions), found "
            + ", ".join(sorted(set(augment.evoaug) & set(MOVING)))
        )
    if model is None:
        if oriented and rc_augment:
            log.warning(
                "model.rc_augment is on for oriented sequences (input.oriented): the model "
                "is taught that both strands act alike"
            )
        targets, tasks = _targets_and_tasks(data, tasks)
        priors = build_priors(prior, data, tasks, regions, both_strands=rc_augment)
        labels = data["y"]
        if teachers:
            soft = teacher_targets(teachers, data["X"], tasks, targets, device=device)
            train = (split == "train")[:, None]
            labels = np.where(train, distill_alpha * soft + (1 - distill_alpha) * labels, labels)
        options = dict(
            tasks=tasks,
            hparams=hparams,
            max_epochs=max_epochs,
            patience=patience,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            rc_augment=rc_augment,
            mutation_rate=mutation_rate,
            standardize=standardize,
            lr_schedule=lr_schedule,
            priors=priors,
            augment=augment,
            device=device,
            seed=seed,
            verbose=verbose,
        )
        if arch == "auto":
            model, hparams, history, selection = select_model(
                data["X"], labels, split, epochs=auto_epochs, targets=targets, **options
            )
            arch = selection["chosen"]["arch"]
            options["learning_rate"] = selection["chosen"]["learning_rate"]
        else:
            model, hparams, history = train_model(data["X"], labels, split, arch=arch, **options)
        if ensemble > 1:
            model, members, member_histories = _ensemble(
                model, history, data["X"], labels, split, ensemble, arch, hparams, options
            )
            hparams, arch = ensemble_hparams(arch, hparams, ensemble), "ensemble"
        meta = {"arch": arch, "hparams": hparams, "targets": targets, "tasks": tasks}
        training = {}
        if priors is not None:  # restarts of every model trained (an ensemble's too)
            restarts = sum(m["restarts"] for m in members) if ensemble > 1 else _restarts(history)
            training["prior"] = {**priors.modes(), "restarts": restarts}
        if augment.active:
            training["augment"] = augment.modes()
        if teachers:
            training["distill"] = {"teachers": list(teachers), "alpha": distill_alpha}
        if ensemble > 1:
            training["ensemble"] = members
        if training:
            meta["training"] = training
    meta = {**meta, "oriented": bool(oriented)}
    y = data.get("y")
    scored = y is not None and y.shape[1] == len(meta["targets"])
    pred = predict(model, data["X"], device=device)  # once, for the scores and the plots
    metrics = (
        score_splits(y, pred, split, tasks=meta["tasks"], targets=meta["targets"]) if scored else {}
    )
    metrics.update(
        tasks=dict(zip(meta["targets"], meta["tasks"])),
        device=str(device),
        epochs=0 if history is None else len(history),
        split=describe_split(
            split,
            data["chroms"],
            assigned=data.get("split") is not None,
            grouped=data.get("groups") is not None,
            named=test is not None,
        ),
        split_sizes={part: int((split == part).sum()) for part in ("train", "valid", "test")},
        strands={
            "oriented": bool(oriented),
            "rc_augment": bool(rc_augment and history is not None),
        },
        model={"arch": meta["arch"], "hparams": own_hparams(meta.get("hparams") or {})},
    )
    if selection:
        metrics["selection"] = selection
    if meta.get("training"):
        metrics["training"] = meta["training"]
    chosen = data.get("split") is not None or test is not None or test_chroms
    warning = None if chosen else split_warning(split, test_fraction)
    if warning:
        log.warning(warning)
        metrics["split_warning"] = warning
    return {
        "model": model,
        "meta": meta,
        "metrics": metrics,
        "history": history,
        "member_histories": member_histories,
        "split": split,
        "pred": pred,
    }


def _ensemble(first, history, X, y, split, size, arch, hparams, options) -> tuple:
    """``first`` and ``size - 1`` more models of its architecture, seeds counted on from
    ``options["seed"]``, as one :class:`~seqsal.models.Ensemble`; each member's
    ``seed``, ``epochs`` and the ``valid_loss`` of the epoch kept (on the scaled
    targets; a restart that took a prior on keeps its best epoch with the prior, which
    need not be the lowest); and each member's history."""
    own = ensemble_hparams(arch, hparams, size)["member_hparams"]
    models, members, histories = [first], [_member(options["seed"], history)], [history]
    for k in range(1, size):
        seed = options["seed"] + k
        log.info("model.ensemble: member %d of %d (%s, seed %d)", k + 1, size, arch, seed)
        model, _, member_history = train_model(
            X, y, split, arch=arch, **{**options, "hparams": own, "seed": seed}
        )
        models.append(model)
        members.append(_member(seed, member_history))
        histories.append(member_history)
    return ensemble_of(models, arch=arch, hparams=hparams), members, histories


def _member(seed: int, history) -> dict:
    return {
        "seed": int(seed),
        "epochs": len(history),
        "valid_loss": float(history["valid_loss"][history["kept"]].min()),  # NaN: none kept
        "restarts": _restarts(history),
    }


def _restarts(history) -> int:
    """How often a training started again (:data:`RESTART_AFTER`)."""
    return int(history["attempt"].max()) - 1 if "attempt" in history else 0


def teacher_targets(teachers: dict, X, tasks, targets, *, device="cpu") -> np.ndarray:
    """What a student learns from: the teachers' mean prediction, in the labels' units
    (the probability for a binary target, as its loss takes soft labels).

    Mixing it with the labels in the target is mixing the two losses: cross-entropy is
    linear in its target, and squared error differs from the mixed loss by a constant.

    Parameters
    ----------
    teachers : dict
        ``{name: (model, meta)}``; each ``meta["targets"]`` must be ``targets``.
    X : array-like, shape=(N, 4, L)
    tasks, targets : list of str
    device : str or torch.device, optional
        Default is "cpu".

    Returns
    -------
    soft : numpy.ndarray, shape=(N, T), dtype=float32
    """
    binary = np.array([task == "binary" for task in tasks])
    outputs = []
    for name, (teacher, meta) in teachers.items():
        if list(meta["targets"]) != list(targets):
            raise InputError(
                f"model.distill.teachers: expected a model of the targets {list(targets)}, "
                f"found {list(meta['targets'])} in {name}"
            )
        out = predict(teacher, X, device=device)
        outputs.append(np.where(binary, 0.5 * (1 + np.tanh(out / 2)), out))  # sigmoid
        log.info("model.distill: learning from %s", name)
    return np.mean(outputs, axis=0).astype(np.float32)


def candidates(length: int, learning_rate: float) -> list:
    """The architectures and learning rates ``model.arch: auto`` tries.

    Parameters
    ----------
    length : int
        Bases per input: short constructs (up to 500 bp) try ``deepstarr``, longer
        regions ``bpnet``, both besides ``cnn``.
    learning_rate : float
        ``model.learning_rate``: it and a third of it are tried.

    Returns
    -------
    candidates : list of tuple
        ``(arch, learning_rate)``.
    """
    archs = ["cnn", "deepstarr" if length <= 500 else "bpnet"]
    return [(arch, rate) for arch in archs for rate in (learning_rate, learning_rate / 3)]


def select_model(X, y, split, *, epochs: int = 4, tasks, targets=None, **options) -> tuple:
    """``model.arch: auto``: the default candidate (:func:`candidates`' first) trains in
    full; each other candidate trains ``epochs`` epochs, and the best of them, if its
    validation loss by then beats the default's at the same epoch, trains on to early
    stopping. The lower best validation loss of the two wins, so the choice is never
    worse than the default on the validation split; the test split is never looked at.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)
    y : numpy.ndarray, shape=(N, T)
    split : numpy.ndarray of str, shape=(N,)
    epochs : int, optional
        Epochs each other candidate trains before the choice. Default is 4.
    tasks : list of str
    targets : list of str or None, optional
        Names of the targets, keying the scores. Default is None: their indices.
    **options
        :func:`train_model` keywords (``learning_rate`` is the base rate).

    Returns
    -------
    model, hparams, history
        The chosen model, as from :func:`train_model`.
    selection : dict
        ``chosen`` (``arch``, ``learning_rate``), ``epochs`` and ``candidates``: per
        candidate its ``arch``, ``learning_rate``, ``epochs`` trained, best
        ``valid_loss`` and validation scores per target.
    """
    if options.get("hparams"):
        raise InputError(
            "model.hparams: expected none with model.arch: auto (they belong to one "
            f"architecture), found {options['hparams']}"
        )
    runs = []
    for arch, rate in candidates(X.shape[-1], options.pop("learning_rate")):
        log.info("model.arch auto: %s at learning rate %.2g", arch, rate)
        run = _Training(X, y, split, tasks=tasks, arch=arch, learning_rate=rate, **options)
        while run.step() and (not runs or len(run.history) < epochs):  # the default: in full
            pass
        runs.append((arch, rate, run))
    early = [min(h[2] for h in run.history[:epochs]) for _, _, run in runs]
    challenger = 1 + int(np.argmin(early[1:]))
    if early[challenger] < early[0]:
        log.info("model.arch auto: %s at %.2g trains on", *runs[challenger][:2])
        while runs[challenger][2].step():
            pass
    chosen = challenger if runs[challenger][2].best < runs[0][2].best else 0
    rows, results = [], []
    valid = split == "valid" if (split == "valid").any() else split == "train"
    for arch, rate, run in runs:
        results.append(run.result())
        pred = predict(results[-1][0], X[valid], device=options.get("device", "cpu"))
        scores = score_predictions(y[valid], pred, tasks)
        rows.append(
            {
                "arch": arch,
                "learning_rate": rate,
                "epochs": len(run.history),
                "valid_loss": float(run.best),
                "valid": dict(zip(targets or map(str, range(len(tasks))), scores)),
            }
        )
    arch, rate, _ = runs[chosen]
    log.info("model.arch auto: chose %s at learning rate %.2g", arch, rate)
    selection = {
        "chosen": {"arch": arch, "learning_rate": rate},
        "epochs": epochs,
        "candidates": rows,
    }
    return (*results[chosen], selection)


def build_priors(prior: dict | None, data: dict, tasks, regions=None, *, both_strands=False):
    """``model.prior`` as the :class:`seqsal.priors.Priors` of the training loss, or None
    when no prior is on.

    Parameters
    ----------
    prior : dict or None
        ``irrelevant``, ``relevant`` (lists of items), ``mask_weight`` (default 10.0),
        ``smoothness`` and ``consistency`` (default 0.0).
    data : dict
        The encode shards' arrays (``X``, ``y``).
    tasks : list of str
    regions : pandas.DataFrame or None, optional
        For BED items (see :func:`seqsal.priors.prior_mask`). Default is None.
    both_strands : bool, optional
        The sequences act alike on both strands: the consistency prior compares each map
        with its reverse complement's. Default is False.

    Returns
    -------
    priors : seqsal.priors.Priors or None
    """
    from .priors import Priors, prior_mask

    prior = prior or {}
    length = data["X"].shape[-1]
    masks = {}
    for side in ("irrelevant", "relevant"):
        items = prior.get(side) or []
        masks[side] = (
            prior_mask(items, length, regions=regions, key=f"model.prior.{side}") if items else None
        )
        if masks[side] is not None and not masks[side].any():
            log.warning("model.prior.%s: the intervals given cover no base of any region", side)
    binary = np.array([task == "binary" for task in tasks])
    positives = (data["y"][:, binary] > 0.5).any(axis=1) if binary.all() else None
    priors = Priors(
        irrelevant=masks["irrelevant"],
        relevant=masks["relevant"],
        mask_weight=float(prior.get("mask_weight", 10.0)),
        smoothness=float(prior.get("smoothness", 0.0)),
        consistency=float(prior.get("consistency", 0.0)),
        positives=positives,
        n_outputs=data["y"].shape[1],
        both_strands=both_strands,
    )
    return priors if priors.active else None


def _targets_and_tasks(data: dict, declared: dict | None):
    """The targets to train on and each one's task: inferred, then ``declared``."""
    if "y" not in data:
        raise InputError(
            "input.labels: expected labels to train on, found none; give labels or model.checkpoint"
        )
    targets = [str(t) for t in data["targets"]]
    constant = [t for t, column in zip(targets, data["y"].T) if np.ptp(column) == 0]
    if constant:
        raise InputError(f"input.labels: expected labels that vary, found constant {constant}")
    declared = declared or {}
    unknown = sorted(set(declared) - set(targets))
    if unknown:
        raise InputError(f"model.tasks: expected target names {targets}, found {unknown}")
    tasks = [declared.get(t, task) for t, task in zip(targets, infer_tasks(data["y"]))]
    return targets, tasks

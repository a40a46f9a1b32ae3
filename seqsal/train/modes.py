"""The training modes as small policies that :class:`seqsal.train.loop.Training` asks
after each epoch: the early stop that waits for a model to begin to learn
(:class:`PatientStop`), the restarts of a model a prior holds on the plateau
(:class:`PriorRestarts`), and EvoAug's fine-tuning on the unchanged sequences
(:class:`FineTune`). Each reads the run's state and changes only its own."""

from __future__ import annotations

import logging

import numpy as np

from ..augment import FINETUNE_RATE

log = logging.getLogger(__name__)

#: A model has begun to learn once its validation loss is below this share of a
#: constant prediction's.
LEARNT = 0.98

#: With a prior, epochs a model may stay no better than a constant before it starts again
#: from new initial weights (seed + RESTART_SEED x restarts), at most MAX_RESTARTS times;
#: a start after the first trains without the prior until every output's validation loss
#: is below PRIOR_AFTER of a constant prediction's. (At LEARNT, a task barely begun fell
#: back to the plateau once the prior came on: tal_gata, consistency 0.5, seed 1.)
RESTART_AFTER, MAX_RESTARTS, RESTART_SEED, PRIOR_AFTER = 15, 2, 1000, 0.9


class PatientStop:
    """Early stopping after ``patience`` epochs without a better validation loss, which
    waits while the model predicts the validation split no better than a constant: it
    has not begun to learn (a plateau before the first motif is found; measured: 1 seed
    in 3 of the demo's model with random masking or EvoAug on 25% of the data stopped
    there)."""

    def __init__(self, patience: int):
        self.patience, self.waited = patience, False

    def patient(self, run) -> bool:
        """Whether training may go on as far as patience is concerned."""
        if run.stale < self.patience:
            return True
        if run.best < LEARNT * run.constant:
            return False
        if not self.waited:
            log.info(
                "early stopping waits: the validation loss %.4g is not yet below a "
                "constant prediction's (%.4g)",
                run.best,
                run.constant,
            )
        self.waited = True
        return True


class PriorRestarts:
    """A model trained with a prior that, with restarts left, still predicts an output no
    better than a constant :data:`RESTART_AFTER` epochs into its start (or that many
    epochs after its other outputs began to learn) starts again from new initial weights,
    without the prior until every output has learnt (:data:`PRIOR_AFTER`). A prior can
    hold a model, or one of its outputs, on the plateau before its first motif for good,
    and new weights get it off (measured on tal_gata with consistency 0.7: of three seeds
    one left the plateau after 11 epochs and one not in 50, where plain training leaves it
    by epoch 4; with one output explained per sequence, the GATA task stayed at its
    constant's loss while the others fell)."""

    def __init__(self):
        self.starts = [0]  # the epoch each start began after
        self.earlier = None  # (best validation loss, weights, epoch) of the best start left
        self.prior_on = True  # the first start trains with the prior from its first epoch

    @property
    def initial_seed_offset(self) -> int:
        """What the seed of this start's initial weights adds to the run's seed."""
        return RESTART_SEED * (len(self.starts) - 1)

    def after_epoch(self, run, epoch: int) -> bool:
        """Restart the run if it is stuck (return True), or turn the prior on once a
        restart has learnt without it."""
        if self._stuck(run, epoch):
            self._restart(run, epoch)
            return True
        learnt = (run.best_outputs < PRIOR_AFTER * run.constant_outputs).all()
        if not self.prior_on and learnt:
            log.info(
                "model.prior: every output has learnt after %d epochs of this start without "
                "the prior (validation loss below %g of a constant prediction's); training "
                "with it from here",
                epoch - self.starts[-1],
                PRIOR_AFTER,
            )
            self.prior_on = True
            run.forget_best()
        return False

    def _stuck(self, run, epoch: int) -> bool:
        stalled = run.stalled()
        since = self.starts[-1] if stalled.all() else run.learning_since
        return (
            not run.tuning
            and len(self.starts) <= MAX_RESTARTS
            and bool(stalled.any())
            and epoch - since >= RESTART_AFTER
        )

    def _restart(self, run, epoch: int) -> None:
        log.warning(
            "model.prior: %s; starting again from new initial weights, without the prior "
            "until every output has learnt (restart %d of at most %d)",
            self._why(run, epoch),
            len(self.starts),
            MAX_RESTARTS,
        )
        if self.earlier is None or run.best < self.earlier[0]:
            self.earlier = (run.best, run.best_state, run.best_epoch)
        self.starts.append(epoch)
        self.prior_on = False
        run.initialise()

    def _why(self, run, epoch: int) -> str:
        stalled = run.stalled()
        if stalled.all():
            return (
                f"after {epoch - self.starts[-1]} epochs the validation loss {run.best:.4g} "
                f"is still no better than a constant prediction's ({run.constant:.4g})"
            )
        which = np.flatnonzero(stalled)
        numbers = ", ".join(str(i + 1) for i in which)
        losses = ", ".join(f"{v:.4g}" for v in run.best_outputs[which])
        constants = ", ".join(f"{v:.4g}" for v in run.constant_outputs[which])
        return (
            f"{epoch - run.learning_since} epochs after the other outputs began to "
            f"learn, the validation loss of output {numbers} of {len(stalled)} (in the "
            f"targets' order), {losses}, is still no better than a constant "
            f"prediction's ({constants})"
        )

    def keep(self, run) -> None:
        """Before the weights are kept: an earlier start's best if better than the last's."""
        if self.earlier is not None and self.earlier[0] < run.best:
            log.warning(
                "model.prior: the last start's best validation loss %.4g is worse than an "
                "earlier start's (%.4g); keeping the earlier one's weights",
                run.best,
                self.earlier[0],
            )
            run.best, run.best_state, run.best_epoch = self.earlier
        if not self.prior_on:
            log.warning(
                "model.prior: the last start never came to train with the prior (an output's "
                "validation loss stayed above %g of a constant prediction's without it); the "
                "weights kept were trained without it",
                PRIOR_AFTER,
            )

    def attempts(self, epochs) -> np.ndarray | None:
        """Which start each epoch belongs to (1: the first), or None without restarts."""
        if len(self.starts) == 1:
            return None
        return np.searchsorted(self.starts, np.asarray(epochs) - 1, side="right")


class FineTune:
    """EvoAug's second phase: once the augmented training stops, ``epochs`` more from its
    best epoch on the unchanged sequences at :data:`~seqsal.augment.FINETUNE_RATE` of
    the learning rate, with the same patience."""

    def __init__(self, epochs: int):
        self.epochs, self.left = epochs, None  # epochs of fine-tuning left, once begun

    @property
    def tuning(self) -> bool:
        return self.left is not None

    def going(self, run, patient: bool, budget_left: bool) -> bool:
        """Whether training goes on after this epoch."""
        if self.tuning:
            self.left -= 1
            return patient and self.left > 0
        if patient and budget_left:
            return True
        if not self.epochs:
            return False
        run.model.load_state_dict(run.best_state)
        for group in run.optimizer.param_groups:
            group["lr"] *= FINETUNE_RATE
        self.left, run.stale = self.epochs, 0
        log.info("model.augment: fine-tuning on the unchanged sequences")
        return True

    def words(self) -> str:
        """The fine-tuning epoch, for the log."""
        return f"fine-tuning {self.epochs - self.left + 1} of at most {self.epochs}"


def check_learnt(run) -> None:
    """Warn when a model trained with priors or augmentation predicts the validation
    split no better than a constant (a prior's weight too high for the data, or
    masks that hide all the evidence, stop the learning)."""
    if run.best >= LEARNT * run.constant:
        log.warning(
            "%s: the validation loss %.4g is no better than a constant prediction's "
            "(%.4g): the model has not learnt; %s",
            "model.prior" if run.priors else "model.augment",
            run.best,
            run.constant,
            "lower the prior's weight" if run.priors else "augment less (model.augment)",
        )

"""Train a CNN that predicts labels from one-hot sequence, with held-out contigs."""

from __future__ import annotations

import logging

import numpy as np

from ..augment import MOVING, Augment
from ..errors import InputError
from ..metrics import score_predictions
from ..models import (
    ensemble_hparams,
    ensemble_of,
    own_hparams,
    predict,
)
from .loop import LEARNT, MAX_RESTARTS, RESTART_AFTER, Training, target_scales, train_model
from .select import candidates, select_model
from .split import describe_split, split_regions, split_warning

__all__ = [
    "LEARNT",
    "MAX_RESTARTS",
    "RESTART_AFTER",
    "Training",
    "build_priors",
    "candidates",
    "describe_split",
    "fit",
    "infer_tasks",
    "score_splits",
    "select_model",
    "split_regions",
    "split_warning",
    "target_scales",
    "teacher_targets",
    "train_model",
]


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
    from ..priors import Priors, prior_mask

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

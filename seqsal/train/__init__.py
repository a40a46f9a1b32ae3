"""Train a CNN that predicts labels from one-hot sequence, with held-out contigs."""

from __future__ import annotations

import logging
from dataclasses import replace

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
from .loop import Epoch, Training, target_scales, train_model
from .modes import LEARNT, MAX_RESTARTS, RESTART_AFTER
from .options import DistillOptions, PriorOptions, SplitOptions, TrainingOptions
from .select import candidates, select_model
from .split import (
    describe_split,
    in_blocks,
    position_blocks,
    shared_bases,
    split_regions,
    split_warning,
)

__all__ = [
    "DistillOptions",
    "Epoch",
    "LEARNT",
    "MAX_RESTARTS",
    "PriorOptions",
    "RESTART_AFTER",
    "SplitOptions",
    "Training",
    "TrainingOptions",
    "build_priors",
    "candidates",
    "describe_split",
    "in_blocks",
    "position_blocks",
    "shared_bases",
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
    regions=None,
    oriented: bool = False,
    ensemble: int = 1,
    auto_epochs: int = 4,
    options: TrainingOptions | None = None,
    prior: PriorOptions | None = None,
    augment: Augment | None = None,
    split: SplitOptions | None = None,
    distill: DistillOptions | None = None,
    **keywords,
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
    regions : pandas.DataFrame or None, optional
        The regions in the one-hot's order (``results/regions/regions.bed``): their
        positions keep overlapping regions in one split (contiguous blocks when there
        are too few contigs to hold whole ones out), are checked for test bases inside
        training regions (``metrics["split_shared"]``), and place a prior's BED
        intervals. Default is None.
    oriented : bool, optional
        The sequences act in the orientation given (reporter constructs): no
        reverse-complement augmentation unless ``options.rc_augment`` says so; recorded
        in ``meta`` and the metrics. Default is False.
    ensemble : int, optional
        Train this many models (seeds ``seed``, ``seed + 1``, ...; with ``arch="auto"``
        the chosen architecture and rate) on the same split and predict their mean
        (:class:`seqsal.models.Ensemble`). Default is 1: one model.
    auto_epochs : int, optional
        Epochs each candidate of ``arch="auto"`` but the default trains before the
        choice (:func:`select_model`). Default is 4.
    options : TrainingOptions or None, optional
        How each model trains; ``arch="auto"`` chooses the architecture and learning
        rate on the validation split. ``seed`` also seeds the split. Default is None:
        the defaults.
    prior : PriorOptions or None, optional
        ``model.prior`` (see :func:`build_priors`). Default is None: no prior.
    augment : seqsal.augment.Augment or None, optional
        ``model.augment``. Default is None: none.
    split : SplitOptions or None, optional
        ``split.*`` (see :func:`split_regions`). Default is None: the defaults.
    distill : DistillOptions or None, optional
        ``model.distill``: the model is trained on the teachers' mean prediction
        (:func:`teacher_targets`) mixed with the labels; validation and scores stay on
        the labels. Default is None: on the labels.
    **keywords
        Fields of :class:`TrainingOptions` replacing those of ``options``.

    Returns
    -------
    result : dict
        ``model`` (eval mode), ``meta``, ``metrics`` (per split and target, then
        ``tasks``, ``device``, ``epochs``), ``history`` (a DataFrame, None for a loaded
        model; an ensemble's first member's), ``member_histories`` (an ensemble's
        members' histories, else None), ``split`` (str, shape=(N,)) and ``pred``
        (float32, shape=(N, T)).
    """
    options = replace(options or TrainingOptions(), **keywords)
    if options.rc_augment is None:
        options = replace(options, rc_augment=not oriented)
    prior, augment = prior or PriorOptions(), augment or Augment()
    split_options, distill = split or SplitOptions(), distill or DistillOptions()
    augment.check_length(data["X"].shape[-1])
    positions = _positions(regions, len(data["chroms"]))
    split = split_regions(
        data["chroms"],
        groups=data.get("groups"),
        assigned=data.get("split"),
        test=test,
        test_chroms=split_options.test_chroms,
        seed=options.seed,
        test_fraction=split_options.test_fraction,
        valid_fraction=split_options.valid_fraction,
        **positions,
    )
    _check_modes(model, prior, augment, distill, ensemble)
    trained = {"history": None, "selection": None, "member_histories": None}
    if model is None:
        if oriented and options.rc_augment:
            log.warning(
                "model.rc_augment is on for oriented sequences (input.oriented): the model "
                "is taught that both strands act alike"
            )
        trained = _train(
            data, split, tasks, regions, options, prior, augment, distill, ensemble, auto_epochs
        )
        model, meta = trained["model"], trained["meta"]
    meta = {**meta, "oriented": bool(oriented)}
    pred = predict(model, data["X"], device=options.device)  # once, for scores and plots
    keys = data["chroms"] if data.get("groups") is None else data["groups"]
    drawn = data.get("split") is None and test is None and not split_options.test_chroms
    blocks = drawn and in_blocks(keys, starts=positions.get("starts"))
    metrics = _metrics(data, pred, split, meta, trained, options, split_options, test, blocks)
    if positions:
        metrics["split_shared"] = shared_bases(split, data["chroms"], **positions)
        _warn_shared(metrics["split_shared"])
    return {
        "model": model,
        "meta": meta,
        "metrics": metrics,
        "history": trained["history"],
        "member_histories": trained["member_histories"],
        "split": split,
        "pred": pred,
    }


def _positions(regions, n: int) -> dict:
    """``starts`` and ``ends`` of the regions for the split, or nothing when unknown."""
    if regions is None or len(regions) != n:
        return {}
    return {"starts": regions["start"].to_numpy(), "ends": regions["end"].to_numpy()}


def _warn_shared(shared: dict) -> None:
    if shared["test_regions_sharing_bases"]:
        log.warning(
            "split: %d test regions share bases with training regions (up to %d bases): "
            "their scores are not of unseen sequence; hold out whole contigs "
            "(split.test_chroms) or groups (split.group_by) that do not overlap",
            shared["test_regions_sharing_bases"],
            shared["most_shared_bases"],
        )


def _check_modes(model, prior, augment, distill, ensemble) -> None:
    """Warn of training modes a loaded model does not use; refuse masks with EvoAug
    changes that move bases."""
    if model is not None:
        for key, used in (
            ("model.prior", prior.active),
            ("model.augment", augment.active),
            ("model.distill", distill.teachers),
            ("model.ensemble", ensemble > 1),
        ):
            if used:
                log.warning("%s: not used, model.checkpoint is loaded, not trained", key)
    if augment.moves_bases and prior.masks:
        raise InputError(
            "model.augment.evoaug: expected no insertion, deletion or translocation with "
            "the masks of model.prior (they move bases off the masked positions), found "
            + ", ".join(sorted(set(augment.evoaug) & set(MOVING)))
        )


def _train(data, split, tasks, regions, options, prior, augment, distill, size, auto_epochs):
    """Train the model (the architecture chosen with ``auto``, an ensemble when ``size``
    is above 1): ``model``, ``meta``, ``history``, ``selection``, ``member_histories``."""
    targets, tasks = _targets_and_tasks(data, tasks)
    priors = build_priors(prior, data, tasks, regions, both_strands=options.rc_augment)
    labels = data["y"]
    if distill.teachers:
        soft = teacher_targets(distill.teachers, data["X"], tasks, targets, device=options.device)
        train = (split == "train")[:, None]
        labels = np.where(train, distill.alpha * soft + (1 - distill.alpha) * labels, labels)
    options = replace(options, priors=priors, augment=augment)
    selection = member_histories = None
    if options.arch == "auto":
        model, hparams, history, selection = select_model(
            data["X"],
            labels,
            split,
            epochs=auto_epochs,
            tasks=tasks,
            targets=targets,
            options=options,
        )
        chosen = selection["chosen"]
        options = replace(options, arch=chosen["arch"], learning_rate=chosen["learning_rate"])
    else:
        model, hparams, history = train_model(
            data["X"], labels, split, tasks=tasks, options=options
        )
    arch, members = options.arch, None
    if size > 1:
        model, members, member_histories = _ensemble(
            model, history, data["X"], labels, split, size, hparams, tasks, options
        )
        hparams, arch = ensemble_hparams(arch, hparams, size), "ensemble"
    meta = {"arch": arch, "hparams": hparams, "targets": targets, "tasks": tasks}
    training = {}
    if priors is not None:  # restarts of every model trained (an ensemble's too)
        restarts = sum(m["restarts"] for m in members) if members else _restarts(history)
        training["prior"] = {**priors.modes(), "restarts": restarts}
    if augment.active:
        training["augment"] = augment.modes()
    if distill.teachers:
        training["distill"] = {"teachers": list(distill.teachers), "alpha": distill.alpha}
    if members:
        training["ensemble"] = members
    if training:
        meta["training"] = training
    return {
        "model": model,
        "meta": meta,
        "history": history,
        "selection": selection,
        "member_histories": member_histories,
    }


def _metrics(data, pred, split, meta, trained, options, split_options, test, blocks) -> dict:
    """``metrics.json``: scores per split and target where labels exist, then how the
    model was trained and the split made."""
    y, history = data.get("y"), trained["history"]
    scored = y is not None and y.shape[1] == len(meta["targets"])
    metrics = (
        score_splits(y, pred, split, tasks=meta["tasks"], targets=meta["targets"]) if scored else {}
    )
    metrics.update(
        tasks=dict(zip(meta["targets"], meta["tasks"])),
        device=str(options.device),
        epochs=0 if history is None else len(history),
        split=describe_split(
            split,
            data["chroms"],
            assigned=data.get("split") is not None,
            grouped=data.get("groups") is not None,
            named=test is not None,
            blocks=blocks,
        ),
        split_sizes={part: int((split == part).sum()) for part in ("train", "valid", "test")},
        strands={
            "oriented": meta["oriented"],
            "rc_augment": bool(options.rc_augment and history is not None),
        },
        model={"arch": meta["arch"], "hparams": own_hparams(meta.get("hparams") or {})},
    )
    if trained["selection"]:
        metrics["selection"] = trained["selection"]
    if meta.get("training"):
        metrics["training"] = meta["training"]
    chosen = data.get("split") is not None or test is not None or split_options.test_chroms
    warning = None if chosen else split_warning(split, split_options.test_fraction)
    if warning:
        log.warning(warning)
        metrics["split_warning"] = warning
    return metrics


def _ensemble(first, history, X, y, split, size, hparams, tasks, options) -> tuple:
    """``first`` and ``size - 1`` more models of its architecture, seeds counted on from
    ``options.seed``, as one :class:`~seqsal.models.Ensemble`; each member's ``seed``,
    ``epochs`` and the ``valid_loss`` of the epoch kept (on the scaled targets; a
    restart that took a prior on keeps its best epoch with the prior, which need not be
    the lowest); and each member's history."""
    arch = options.arch
    own = ensemble_hparams(arch, hparams, size)["member_hparams"]
    models, members, histories = [first], [_member(options.seed, history)], [history]
    for k in range(1, size):
        seed = options.seed + k
        log.info("model.ensemble: member %d of %d (%s, seed %d)", k + 1, size, arch, seed)
        model, _, member_history = train_model(
            X, y, split, tasks=tasks, options=replace(options, hparams=own, seed=seed)
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


def build_priors(
    prior: PriorOptions | None, data: dict, tasks, regions=None, *, both_strands=False
):
    """``model.prior`` as the :class:`seqsal.priors.Priors` of the training loss, or None
    when no prior is on.

    Parameters
    ----------
    prior : PriorOptions or None
        ``model.prior``. None: no prior.
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

    prior = prior or PriorOptions()
    length = data["X"].shape[-1]
    masks = {}
    for side in ("irrelevant", "relevant"):
        items = list(getattr(prior, side) or ())
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
        mask_weight=float(prior.mask_weight),
        smoothness=float(prior.smoothness),
        consistency=float(prior.consistency),
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

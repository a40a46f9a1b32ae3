"""Train a CNN that predicts labels from one-hot sequence, with held-out contigs."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .encode import reverse_complement
from .errors import InputError
from .metrics import score_predictions
from .models import build_model, predict

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

    def loss(output, target):
        mse = torch.nn.functional.mse_loss(output, target, reduction="none")
        bce = torch.nn.functional.binary_cross_entropy_with_logits(output, target, reduction="none")
        return torch.where(binary.to(output.device), bce, mse).mean()

    return loss


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
        Labels, used as given: predictions are in the labels' units.
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
        Epoch budget, and epochs without validation improvement before stopping.
        Defaults are 50 and 5.
    batch_size : int, optional
        Default is 64.
    learning_rate : float, optional
        AdamW's learning rate. Default is 1e-3.
    weight_decay : float, optional
        AdamW's decoupled weight decay. Default is 0.01.
    rc_augment : bool, optional
        Train on each sequence or its reverse complement at random. Default is True.
    device : str or torch.device, optional
        Default is "cpu".
    seed : int, optional
        Seeds weights, batch order and augmentation. Default is 0.
    verbose : bool, optional
        Show a progress bar on stderr. Default is False.

    Returns
    -------
    model : torch.nn.Module
        The weights of the best validation epoch, in eval mode.
    hparams : dict
        The architecture's hyperparameters.
    history : pandas.DataFrame
        ``epoch, train_loss, valid_loss`` per epoch.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    hparams = {**(hparams or {}), "input_length": X.shape[-1], "n_outputs": y.shape[1]}
    model = build_model(arch, **hparams).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    loss_fn = _loss_function(tasks)
    train, valid = np.flatnonzero(split == "train"), np.flatnonzero(split == "valid")
    valid = valid if len(valid) else train
    y_valid = torch.as_tensor(y[valid]).float()
    best, best_state, stale, history = np.inf, None, 0, []
    # bf16 mixed precision on CUDA (weights and loss stay fp32); plain fp32 on the CPU
    cuda = torch.device(device).type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)
    bar = tqdm(range(1, max_epochs + 1), disable=not verbose, desc="train", unit="epoch")
    for epoch in bar:
        model.train()
        losses = []
        for batch in np.array_split(rng.permutation(train), max(1, len(train) // batch_size)):
            xb = X[batch]
            if rc_augment:
                flip = rng.random(len(batch)) < 0.5
                xb = np.where(flip[:, None, None], reverse_complement(xb), xb)
            with autocast:
                output = model(torch.as_tensor(xb, device=device).float())
            loss = loss_fn(output.float(), torch.as_tensor(y[batch], device=device).float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())  # no device sync per step
        valid_pred = torch.as_tensor(predict(model, X[valid], device=device))
        valid_loss = loss_fn(valid_pred, y_valid).item()
        history.append((epoch, torch.stack(losses).mean().item(), valid_loss))
        bar.set_postfix(train_loss=f"{history[-1][1]:.4f}", valid_loss=f"{valid_loss:.4f}")
        kept = history[int(np.argmin([h[2] for h in history]))][0]
        log.info(
            "epoch %d of at most %d: train loss %.4f, valid loss %.4f (best: epoch %d)",
            epoch,
            max_epochs,
            *history[-1][1:],
            kept,
        )
        if valid_loss < best - 1e-5:
            best, stale = valid_loss, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    model.load_state_dict(best_state)
    history = pd.DataFrame(history, columns=["epoch", "train_loss", "valid_loss"])
    return model.eval(), hparams, history


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
        return f"{n} test regions in whole groups of split.group_by, never in training"
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
    rc_augment: bool = True,
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
    arch, hparams, max_epochs, patience, batch_size, learning_rate, weight_decay, rc_augment
        As in :func:`train_model`.
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
        model), ``split`` (str, shape=(N,)) and ``pred`` (float32, shape=(N, T)).
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
    history = None
    if model is None:
        targets, tasks = _targets_and_tasks(data, tasks)
        model, hparams, history = train_model(
            data["X"],
            data["y"],
            split,
            tasks=tasks,
            arch=arch,
            hparams=hparams,
            max_epochs=max_epochs,
            patience=patience,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            rc_augment=rc_augment,
            device=device,
            seed=seed,
            verbose=verbose,
        )
        meta = {"arch": arch, "hparams": hparams, "targets": targets, "tasks": tasks}
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
    )
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
        "split": split,
        "pred": pred,
    }


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

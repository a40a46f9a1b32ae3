"""``seqsal train``: train the CNN (or load a checkpoint), score it, save it."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from pathlib import Path

from .options import add_options

HELP = "train the CNN (or load a checkpoint) and score it"
STAGE = "seqsal.train:fit"
OPTIONS = {
    "checkpoint": "model.checkpoint",
    "arch": "model.arch",
    "hparams": "model.hparams",
    "tasks": "model.tasks",
    "weight_decay": "model.weight_decay",
    "rc_augment": "model.rc_augment",
    "rc_average": "model.rc_average",
    "mutation_rate": "model.mutation_rate",
    "standardize": "model.standardize",
    "lr_schedule": "model.lr_schedule",
    "auto_epochs": "model.auto_epochs",
    "ensemble": "model.ensemble",
    "prior_irrelevant": "model.prior.irrelevant",
    "prior_relevant": "model.prior.relevant",
    "prior_mask_weight": "model.prior.mask_weight",
    "prior_smoothness": "model.prior.smoothness",
    "prior_consistency": "model.prior.consistency",
    "augment_mask": "model.augment.mask",
    "augment_mask_width": "model.augment.mask_width",
    "augment_mask_windows": "model.augment.mask_windows",
    "augment_mask_share": "model.augment.mask_share",
    "augment_mask_fill": "model.augment.mask_fill",
    "augment_evoaug": "model.augment.evoaug",
    "augment_finetune_epochs": "model.augment.finetune_epochs",
    "distill_teachers": "model.distill.teachers",
    "distill_alpha": "model.distill.alpha",
    "oriented": "input.oriented",
    "mode": "input.mode",
    "test_names": "split.test_names",
    "test_chroms": "split.test_chroms",
    "test_fraction": "split.test_fraction",
    "valid_fraction": "split.valid_fraction",
    "max_epochs": "model.max_epochs",
    "patience": "model.patience",
    "batch_size": "model.batch_size",
    "learning_rate": "model.learning_rate",
    "device": "device",
    "seed": "seed",
}
READ_BY_CLI = (
    "checkpoint",
    "rc_average",
    "test_names",
    "device",
    "oriented",
    "mode",
    "distill_teachers",
)

#: The option groups :func:`seqsal.train.fit` takes: its keyword, the group's type, and
#: the prefix its options carry here (the group's fields, prefixed, are option names).
GROUPS = {
    "options": ("seqsal.train:TrainingOptions", ""),
    "prior": ("seqsal.train:PriorOptions", "prior_"),
    "augment": ("seqsal.augment:Augment", "augment_"),
    "split": ("seqsal.train:SplitOptions", ""),
    "distill": ("seqsal.train:DistillOptions", "distill_"),
}

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal train``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--onehot", nargs="+", required=True)
    parser.add_argument(
        "--regions",
        help="regions.bed: overlapping regions share a split, and a prior's BED intervals "
        "are placed on them",
    )
    add_options(parser, OPTIONS)
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Train or load, score, and write ``model.pt``, ``metrics.json``, ``curves.png``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..io.shards import read_shards
    from ..io.tables import read_names
    from ..models import load_checkpoint, resolve_device
    from ..train import fit

    data = read_shards(args.onehot, mmap_key="X")  # batches read from disk as needed
    regions = _regions(args.regions, data["names"])
    oriented = _oriented(args, regions)
    model = meta = None
    if args.checkpoint:
        model, meta = load_checkpoint(args.checkpoint, input_length=data["X"].shape[-1])
    test = read_names(args.test_names, data["names"]) if args.test_names else None
    length = data["X"].shape[-1]
    teachers = {path: load_checkpoint(path, input_length=length) for path in args.distill_teachers}
    groups = option_groups(args)
    groups["options"].update(device=resolve_device(args.device), verbose=args.verbose)
    groups["distill"]["teachers"] = teachers
    result = fit(
        data,
        model=model,
        meta=meta,
        tasks=args.tasks,
        test=test,
        regions=regions,
        oriented=oriented,
        ensemble=args.ensemble,
        auto_epochs=args.auto_epochs,
        **{keyword: group_type(keyword)(**values) for keyword, values in groups.items()},
    )
    _save(args, result, data.get("y"), data["names"], Path(args.out_dir))


def group_type(keyword: str):
    """The type of :func:`seqsal.train.fit`'s option group ``keyword`` (:data:`GROUPS`)."""
    module, name = GROUPS[keyword][0].split(":")
    return getattr(importlib.import_module(module), name)


def option_groups(args) -> dict:
    """The options passed on, each in its group (:data:`GROUPS`): ``{keyword: {field:
    value}}``."""
    groups = {}
    for keyword, (_, prefix) in GROUPS.items():
        fields = inspect.signature(group_type(keyword)).parameters
        groups[keyword] = {
            field: getattr(args, prefix + field)
            for field in fields
            if prefix + field in OPTIONS and prefix + field not in READ_BY_CLI
        }
    return groups


def _regions(path, names):
    """``regions.bed`` in the shards' order, or None."""
    if not path:
        return None
    from ..io.bed import read_regions
    from ..io.shards import regions_in_order

    return regions_in_order(read_regions(path), names, path)


def _oriented(args, regions) -> bool:
    """``input.oriented`` resolved by the data's origin, refused with strand averaging."""
    from ..config import strand_error
    from ..errors import InputError
    from ..inputs import is_oriented

    names = None if regions is None else regions["chrom"]  # a library's sequences
    oriented = is_oriented(args.oriented, args.mode, names)
    if args.oriented is None and args.mode == "library" and not oriented:
        log.info(
            "input.oriented: the library's sequences are named by genome coordinates (%s): "
            "read as not oriented (a site acts on either strand); set input.oriented: true "
            "if they act in the orientation given",
            names.iloc[0],
        )
    if oriented and args.rc_average:
        raise InputError(strand_error("model.rc_average"))
    return oriented


def _save(args, result: dict, y, names, out: Path) -> None:
    """The checkpoint (with its metrics), ``metrics.json``, ``split.tsv`` (each region's
    split) and the training curves."""
    import numpy as np
    import pandas as pd

    from ..io.atomic import save_figure, write_text, write_tsv
    from ..models import save_checkpoint
    from ..plots import training_curves

    model, meta, metrics = result["model"], result["meta"], result["metrics"]
    save_checkpoint(
        model,
        out / "model.pt",
        metrics=metrics,
        rc_average=args.rc_average or bool(meta.get("rc_average")),
        oriented=meta["oriented"],
        training=meta.get("training"),
        **{k: meta[k] for k in ("arch", "hparams", "targets", "tasks")},
    )
    write_text(json.dumps(metrics, indent=2) + "\n", out / "metrics.json")
    write_tsv(pd.DataFrame({"name": names, "split": result["split"]}), out / "split.tsv")
    log.info("split: %s", ", ".join(f"{k} {v:,}" for k, v in metrics["split_sizes"].items()))
    test, targets = result["split"] == "test", meta["targets"]
    scored = y is not None and y.shape[1] == len(targets)
    y_test = y[test] if scored else np.zeros((0, len(targets)))
    figure = training_curves(
        result["history"],
        y_test,
        result["pred"][test],
        tasks=meta["tasks"],
        targets=targets,
        members=result.get("member_histories"),
    )
    save_figure(figure, out / "curves.png")
    log.info("test metrics: %s", metrics.get("test"))

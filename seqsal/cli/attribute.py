"""``seqsal attribute``: per-base attributions of one shard, written batch by batch."""

from __future__ import annotations

import logging

from ..errors import InputError
from .options import add_options, checked

HELP = "per-base attributions of one shard"
STAGE = "seqsal.attribute:iter_attributions"
# how one attribution run is made; seqsal evaluate takes the same options to redo it
OPTIONS = {
    "output": "attribute.output",
    "rc_average": "attribute.rc_average",
    "batch_size": "attribute.batch_size",
    "precision": "attribute.precision",
    "storage": "attribute.storage",
    "baseline": "attribute.baseline",
    "steps": "attribute.steps",
    "n_shuffles": "attribute.n_shuffles",
    "tolerance": "attribute.tolerance",
    "ism_window": "attribute.ism_window",
    "grad_cam_layer": "attribute.grad_cam_layer",
    "seed": "seed",
    "device": "device",
}
READ_BY_CLI = ("storage", "device")

log = logging.getLogger("seqsal")


def add_run_arguments(parser) -> None:
    """``--method``, ``--target`` and :data:`OPTIONS`: one attribution run.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        ``seqsal attribute``'s or ``seqsal evaluate``'s.
    """
    parser.add_argument("--method", default="grad_x_input", help="one of attribute.methods")
    parser.add_argument("--target", default="0", help="output index or target name")
    add_options(parser, OPTIONS)


def run_kwargs(args, meta: dict) -> dict:
    """:func:`seqsal.attribute.iter_attributions` keywords of one run's arguments.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed with :func:`add_run_arguments`.
    meta : dict
        The checkpoint's metadata (its ``targets`` name the ``--target``).

    Returns
    -------
    kwargs : dict
        ``method``, ``target`` (an index), ``device`` (resolved) and :data:`OPTIONS` but
        ``storage``.
    """
    from ..errors import InputError
    from ..models import resolve_device, resolve_target

    kwargs = {k: getattr(args, k) for k in OPTIONS if k not in READ_BY_CLI}
    if kwargs.get("rc_average") and meta.get("oriented"):
        raise InputError(
            f"attribute.rc_average: expected false for a model of oriented sequences "
            f"({args.model}: oriented), found true"
        )
    return {
        **kwargs,
        "method": args.method,
        "target": resolve_target(args.target, meta["targets"]),
        "device": resolve_device(args.device),
    }


def add_arguments(parser) -> None:
    """The options of ``seqsal attribute``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--model", required=True)
    parser.add_argument("--onehot", required=True)
    add_run_arguments(parser)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--shuffled",
        type=checked("number", {"minimum": 0, "maximum": 1}),
        default=None,
        metavar="FRACTION",
        help="attribute one dinucleotide shuffle of each of this share of the regions "
        "(drawn by name), not the regions, and keep no hyp: the seqlet null",
    )


def run(args) -> None:
    """Attribute the shard ``--onehot`` and write ``hyp``, ``attr``, ``pred``, ``names``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..attribute import region_keys, shuffle_null_regions
    from ..io.shards import onehot_rows, read_npz
    from ..models import load_checkpoint

    X = onehot_rows(args.onehot)  # checked, then read batch by batch
    names = read_npz(args.onehot, skip="X")["names"]
    model, meta = load_checkpoint(args.model, input_length=X.shape[-1])
    kwargs = run_kwargs(args, meta)
    if args.shuffled is not None:  # the seqlet null: one shuffle of some regions, no hyp
        X, names, keys = shuffle_null_regions(X, names, args.shuffled, seed=args.seed)
    else:
        keys = region_keys(names)  # shuffled references seeded by name
    _stream(args, model, X, names, len(meta["targets"]), keys=keys, **kwargs)
    kind = "dinucleotide-shuffled " if args.shuffled is not None else ""
    log.info(
        "attributed %d %sregions with %s (target %d)", len(X), kind, args.method, kwargs["target"]
    )


def _stream(args, model, X, names, n_targets, **kwargs) -> None:
    """Write each batch's attributions to ``--out`` as they come (no ``hyp`` for the null)."""
    import numpy as np

    from ..attribute import iter_attributions
    from ..errors import ConvergenceError
    from ..io.shards import npz_writer
    from ..models import check_finite_outputs

    N, _, L = X.shape
    with npz_writer(args.out) as add:
        storage = np.dtype(args.storage)
        hyp = None if args.shuffled is not None else add("hyp", (N, 4, L), storage)
        attr = add("attr", (N, L), storage)
        pred = add("pred", (N, n_targets), np.float32)
        add("names", array=names)
        try:
            for rows, h, a, p in iter_attributions(
                model, X, **kwargs, verbose=args.verbose, log=log
            ):
                for what, values in (("outputs", p), ("attributions", a), ("attributions", h)):
                    if values is not None:
                        check_finite_outputs(
                            values, start=rows.start, source=args.model, names=names, what=what
                        )
                attr[rows], pred[rows] = a, p
                if hyp is not None:
                    hyp[rows] = h
        except ConvergenceError as error:
            bad = ", ".join(str(names[i]) for i in error.rows[:5])
            raise InputError(f"{args.onehot}: {error} (regions: {bad})") from None

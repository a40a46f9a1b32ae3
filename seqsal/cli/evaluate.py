"""``seqsal evaluate``: test the maps (faithfulness, stability, saturation, receptive
field, shortcuts, known sites) and write the tables, the summary and the plots."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import InputError
from . import attribute
from .options import add_options

HELP = "faithfulness, stability, saturation, receptive field, shortcuts, known sites"
STAGE = "seqsal.evaluate:evaluate_maps"
OPTIONS = {
    "n_steps": "evaluate.n_steps",
    "n_random": "evaluate.n_random",
    "background": "evaluate.background",
    "max_regions": "evaluate.max_regions",
    "n_substitutions": "evaluate.n_substitutions",
    "top_k": "evaluate.top_k",
    "seed_models": "evaluate.seed_models",
    "nuisance": "evaluate.nuisance",
    "artefacts": "evaluate.artefacts",
    "compare_to": "evaluate.compare_to",
}
READ_BY_CLI = ("seed_models", "nuisance", "compare_to")

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal evaluate``, and those of the attribution run evaluated.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    for name in ("model", "regions", "seqlets"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--onehot", nargs="+", required=True)
    parser.add_argument("--attributions", nargs="+", required=True)
    parser.add_argument("--truth")
    parser.add_argument("--split", help="results/train/split.tsv: the test scores of a comparison")
    attribute.add_run_arguments(parser)  # how the maps were made: stability redoes it
    parser.add_argument(
        "--also",
        nargs="+",
        action="append",
        metavar=("METHOD", "SHARD"),
        help="another method's attribution shards, scored for faithfulness too",
    )
    add_options(parser, OPTIONS)
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Evaluate the first run's maps (and ``--also``'s) and write ``results/evaluate``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..evaluate import evaluate_maps

    options = {k: getattr(args, k) for k in OPTIONS if k not in READ_BY_CLI}
    _save(evaluate_maps(**_load(args), **options), Path(args.out_dir))


def _load(args) -> dict:
    """:func:`seqsal.evaluate.evaluate_maps`' inputs, read and checked before the long work."""
    import numpy as np

    from ..intervals import parse_interval
    from ..io.bed import read_bed, read_regions, read_seqlets
    from ..io.shards import read_attributions, read_other_attributions, read_shards
    from ..models import load_checkpoint

    # maps stay on disk: the tests read the tested rows, the audits a block at a time
    data, regions = read_attributions(
        args.attributions, read_regions(args.regions), skip=("hyp",), mmap_key="attr"
    )
    encoded = read_shards(args.onehot, mmap_key="X")  # only the regions tested are read
    X, length = encoded["X"], encoded["X"].shape[-1]
    if len(X) != len(data["attr"]):
        raise InputError(f"{args.onehot[0]}: expected one encoded region per attribution")
    model, meta = load_checkpoint(args.model, input_length=length)
    attrs = {args.method: data["attr"]}
    for method, *paths in args.also or []:
        attrs[method] = read_other_attributions(paths, regions, data["names"], args.attributions[0])
    run_kwargs = attribute.run_kwargs(args, meta)
    target = run_kwargs["target"]
    binary = meta["tasks"][target] == "binary"
    return {
        "model": model,
        "X": X,
        "attrs": attrs,
        "regions": regions,
        "pred": data["pred"][:, target].astype(np.float32),  # the attribution run's outputs
        "seqlets": read_seqlets(args.seqlets),
        "run": run_kwargs,
        "binary": binary,
        "labels": _labels(encoded, meta["targets"][target]) if binary else None,
        "truth": read_bed(args.truth) if args.truth else None,
        "seed_models": {p: load_checkpoint(p, input_length=length)[0] for p in args.seed_models},
        "nuisance": [parse_interval(text, length) for text in args.nuisance],
        "oriented": bool(meta.get("oriented")),
        **_comparison(args, meta, encoded, length),
        "source": args.onehot[0],
    }


def _comparison(args, meta: dict, encoded: dict, length: int) -> dict:
    """``compare_to`` (the other model, checked to explain the same targets) and
    ``scored`` (the run's test split and labels) of :func:`seqsal.evaluate.evaluate_maps`."""
    from ..io.tables import read_table
    from ..models import load_checkpoint

    if not args.compare_to:
        return {}
    other, other_meta = load_checkpoint(args.compare_to, input_length=length)
    if list(other_meta["targets"]) != list(meta["targets"]):
        raise InputError(
            f"evaluate.compare_to: expected a model of the targets {list(meta['targets'])}, "
            f"found {list(other_meta['targets'])} in {args.compare_to}"
        )
    scored = {"tasks": meta["tasks"], "targets": meta["targets"]}
    columns = [str(t) for t in encoded.get("targets", [])]
    if args.split and "y" in encoded and all(t in columns for t in meta["targets"]):
        split = read_table(args.split)["split"]
        scored["test"] = split.reindex(encoded["names"]).to_numpy() == "test"
        scored["labels"] = encoded["y"][:, [columns.index(t) for t in meta["targets"]]]
    return {"compare_to": {args.compare_to: other}, "scored": scored}


def _save(result: dict, out: Path) -> None:
    """The tables, ``summary.json`` and the two plots."""
    from ..io.atomic import save_figure, write_text, write_tsv
    from ..plots import faithfulness_curves, receptive_field

    write_tsv(result["faithfulness"], out / "faithfulness.tsv")
    write_tsv(result["stability"], out / "stability.tsv")
    summary = result["summary"]
    write_text(json.dumps(summary, indent=2, default=float) + "\n", out / "summary.json")
    save_figure(faithfulness_curves(result["curves"]), out / "faithfulness_curves.png")
    save_figure(receptive_field(result["fields"]), out / "receptive_field.png")
    log.info("evaluation: %s", summary["faithfulness"])


def _labels(encoded: dict, target: str):
    """The encoded regions' labels of ``target`` (None where the shards hold none)."""
    columns = [str(t) for t in encoded.get("targets", [])]
    if "y" not in encoded or target not in columns:
        return None
    return encoded["y"][:, columns.index(target)]

"""``seqsal report``: the self-contained HTML report of a run."""

from __future__ import annotations

import json
from pathlib import Path

from .options import add_options

HELP = "the self-contained HTML report"
STAGE = "seqsal.report:build_report"
OPTIONS = {
    "database": "motifs.database",
    "alpha": "seqlets.alpha",
    "null_model": "seqlets.null_model",
    "max_q": "motifs.max_q",
    "merge_threshold": "motifs.merge_threshold",
    "n_null": "variants.n_null",
    "motif_p": "variants.motif_p",
    "motif_hit_p": "tracks.motif_hit_p",
}
READ_BY_CLI = ("n_null", "motif_p")  # the variant section's words
FILES = ("metrics", "curves", "motifs-tsv", "seqlet-motifs", "logos", "seqlets", "regions")
FILES += ("summary", "faithfulness-plot", "receptive-field-plot", "fasta", "out")


def add_arguments(parser) -> None:
    """The options of ``seqsal report``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    for name in FILES:
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--attributions", nargs="+", required=True)
    parser.add_argument("--onehot", nargs="+", required=True)
    parser.add_argument("--method", default="grad_x_input", help="the first of attribute.methods")
    parser.add_argument("--data", help="the regions stage's summary.json")
    parser.add_argument(
        "--variants",
        nargs=3,
        metavar=("TSV", "MAPS", "REJECTED"),
        help="the variants stage's variants.tsv, maps.npz and rejected.tsv",
    )
    add_options(parser, OPTIONS)


def run(args) -> None:
    """Read the run's outputs and write ``report.html``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    import numpy as np

    from ..io.atomic import write_text
    from ..io.bed import read_regions, read_seqlets
    from ..io.shards import read_attributions, read_shards
    from ..io.tables import read_motif_table
    from ..report import build_report

    table = read_motif_table(args.motifs_tsv)
    # only the example regions' rows are read: the report's memory does not grow with N
    data, regions = read_attributions(
        args.attributions, read_regions(args.regions), skip=("attr",), mmap_key="hyp"
    )
    X, metrics = read_shards(args.onehot, mmap_key="X")["X"], _json(args.metrics)
    html = build_report(
        metrics=metrics,
        summary=_json(args.summary),
        table=table,
        assignments=read_motif_table(args.seqlet_motifs),
        seqlets=read_seqlets(args.seqlets),
        regions=regions,
        contrib=lambda i: data["hyp"][i].astype(np.float32) * X[i],
        images=_images(args, table["motif_id"]),
        method=args.method,
        genome=args.fasta,
        variants=_variants(args, metrics, len(table)) if args.variants else None,
        data=_json(args.data) if args.data else None,
        **{k: getattr(args, k) for k in OPTIONS if k not in READ_BY_CLI},
    )
    write_text(html, args.out)


def _json(path) -> dict:
    return json.loads(Path(path).read_text())


def _variants(args, metrics, own_motifs: int) -> dict:
    """The variant section, from the variants stage's files."""
    from ..io.shards import read_npz
    from ..io.tables import read_motif_table
    from ..io.variants import read_variant_table
    from ..report import variant_context

    table, maps, rejected = args.variants
    return variant_context(
        read_variant_table(table),
        read_npz(maps),
        n_rejected=len(read_motif_table(rejected)),
        n_null=args.n_null,
        motif_p=args.motif_p,
        method=args.method,
        strands=not metrics.get("strands", {}).get("oriented", False),
        own_motifs=own_motifs,
    )


def _images(args, motif_ids) -> dict:
    """The run's PNGs as base64, for embedding."""
    from ..report import file_base64

    return {
        "logos": {m: file_base64(Path(args.logos) / f"{m}.png") for m in motif_ids},
        "curves": file_base64(args.curves),
        "faithfulness_plot": file_base64(args.faithfulness_plot),
        "field_plot": file_base64(args.receptive_field_plot),
    }

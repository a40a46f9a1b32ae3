"""``seqsal seqlets``: call attribution peaks with FDR control, in genome coordinates."""

from __future__ import annotations

import logging

from ..errors import InputError
from .options import add_options

HELP = "call seqlets (attribution peaks) with FDR control"
STAGE = "seqsal.seqlets:call_seqlets"
OPTIONS = {
    "window": "seqlets.window",
    "null_size": "seqlets.null_size",
    "alpha": "seqlets.alpha",
    "seed": "seed",
}

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal seqlets``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--attributions", nargs="+", required=True)
    parser.add_argument("--regions", required=True)
    parser.add_argument(
        "--null-attributions",
        nargs="+",
        default=[],
        help="attributions of shuffled regions (seqsal attribute --shuffled): the null; "
        "default: a block bootstrap of the attributions",
    )
    add_options(parser, OPTIONS)
    parser.add_argument("--out", required=True)


def run(args) -> None:
    """Call seqlets on the maps of ``--attributions`` and write ``seqlets.bed``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..io.bed import read_regions, write_bed
    from ..io.shards import read_attributions, read_shards
    from ..seqlets import call_seqlets, seqlets_to_bed

    # memory-mapped, read a block of rows at a time
    data, regions = read_attributions(
        args.attributions, read_regions(args.regions), skip=("hyp",), mmap_key="attr"
    )
    null_attr = None
    if args.null_attributions:
        null_attr = read_shards(args.null_attributions, skip=("pred",), mmap_key="attr")["attr"]
        log.info("null: attributions of %d shuffled regions", len(null_attr))
        if not len(null_attr):
            raise InputError(
                f"{args.null_attributions[0]}: expected attributions of shuffled regions for "
                "the seqlet null, found none (raise seqlets.null_regions)"
            )
    options = {k: getattr(args, k) for k in OPTIONS}
    seqlets = call_seqlets(data["attr"], null_attr=null_attr, **options)
    write_bed(seqlets_to_bed(seqlets, regions, window=args.window), args.out, column_names=True)
    log.info("called %d seqlets in %d regions", len(seqlets), len(regions))

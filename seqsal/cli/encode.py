"""``seqsal encode``: one-hot encode one shard of the regions, streamed to disk."""

from __future__ import annotations

import logging

from ..errors import InputError
from .options import add_options, checked

HELP = "one-hot encode one shard of the regions"
STAGE = "seqsal.encode:build_shard_arrays"
OPTIONS = {"targets": "input.targets", "group_by": "split.group_by", "split_column": "split.column"}
READ_BY_CLI = ("targets",)

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal encode``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--regions", required=True)
    parser.add_argument("--fasta", required=True)
    parser.add_argument("--labels")
    add_options(parser, OPTIONS)
    parser.add_argument("--shard", type=checked("integer", {"minimum": 0}), default=0)
    parser.add_argument("--n-shards", type=checked("integer", {"minimum": 1}), default=1)
    parser.add_argument("--out", required=True)


def run(args) -> None:
    """Encode shard ``--shard`` of ``--n-shards`` into ``--out``, block by block.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    import numpy as np

    from ..encode import build_shard_arrays
    from ..io.bed import read_regions
    from ..io.fasta import iter_onehot, open_fasta, window_width
    from ..io.shards import npz_stream
    from ..io.tables import read_label_table

    if args.shard >= args.n_shards:
        raise InputError(
            f"--shard: expected a shard below --n-shards {args.n_shards} (0 to "
            f"{args.n_shards - 1}), found {args.shard}"
        )
    regions = read_regions(args.regions, shard=args.shard, n_shards=args.n_shards)
    helpers = {"group_by": args.group_by, "split_column": args.split_column}
    labels = None
    if args.labels:
        labels = read_label_table(args.labels, targets=args.targets, helpers=helpers.values())
    arrays = build_shard_arrays(regions, labels, **helpers)
    width = window_width(regions)
    with npz_stream(args.out) as out:  # the one-hot streams to disk block by block
        with out.rows("X", (len(regions), 4, width), np.uint8) as append:
            for block in iter_onehot(open_fasta(args.fasta), regions):
                append(block)
        for key, array in arrays.items():
            out.add(key, array)
    log.info("encoded %d regions of %d bp", len(regions), width)

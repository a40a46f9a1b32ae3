"""``seqsal motifs``: cluster seqlets into motifs, name them with TOMTOM, draw logos."""

from __future__ import annotations

import logging
from pathlib import Path

from .options import add_options, checked

HELP = "cluster seqlets into motifs and name them with TOMTOM"
STAGE = "seqsal.motifs:discover_motifs"
OPTIONS = {
    "database": "motifs.database",
    "max_q": "motifs.max_q",
    "min_seqlets": "motifs.min_seqlets",
    "min_similarity": "motifs.min_similarity",
    "merge_threshold": "motifs.merge_threshold",
    "engine": "motifs.engine",
    "oriented": "input.oriented",
    "mode": "input.mode",
}
READ_BY_CLI = ("database", "oriented", "mode")

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal motifs``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--seqlets", required=True)
    parser.add_argument("--attributions", nargs="+", required=True)
    parser.add_argument("--onehot", nargs="+", required=True)
    parser.add_argument("--regions", required=True)
    add_options(parser, OPTIONS)
    parser.add_argument("--max-shift", type=checked("integer", {"minimum": 0}), default=5)
    parser.add_argument("--flank", type=checked("integer", {"minimum": 0}), default=5)
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Write ``motifs.meme``, ``modisco.h5``, ``motifs.tsv``, ``seqlet_motifs.tsv`` and
    ``logos/``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..inputs import is_oriented
    from ..io.bed import read_regions, read_seqlets
    from ..io.meme import load_motif_database
    from ..io.shards import read_attributions, read_shards
    from ..motifs import discover_motifs, sequence_background

    # memory-mapped: only the rows holding seqlets are read
    data, regions = read_attributions(
        args.attributions, read_regions(args.regions), skip=("attr",), mmap_key="hyp"
    )
    seqlets = read_seqlets(args.seqlets)
    database = load_motif_database(args.database)
    options = {
        k: getattr(args, k) for k in (*OPTIONS, "max_shift", "flank") if k not in READ_BY_CLI
    }
    options["oriented"] = is_oriented(args.oriented, args.mode, regions["chrom"])
    X = read_shards(args.onehot, mmap_key="X")["X"]
    found = discover_motifs(
        X, data["hyp"], seqlets, regions, database, decoys=_decoys(args, database), **options
    )
    window = int((seqlets["end"] - seqlets["start"]).max()) if len(seqlets) else 0
    _save(*found, database, sequence_background(X), window, Path(args.out_dir))
    log.info(
        "%d motifs from %d seqlets: %s", len(found[0]), len(seqlets), found[1]["name"].tolist()
    )


def _decoys(args, database):
    """Decoys made from the database's own matrices as TOMTOM's background for a database
    of few motifs (under :data:`seqsal.motifs.SMALL_DATABASE`), else None."""
    from ..motifs import SMALL_DATABASE, own_decoys

    if len(database) >= SMALL_DATABASE:
        return None
    decoys = own_decoys(database)
    log.info(
        "%s holds %d motifs, a small database: TOMTOM's p-values take %d decoys "
        "made from them (columns shuffled, bases permuted; never reported) as background; "
        "read a match's p-value beside its q-value",
        args.database,
        len(database),
        len(decoys),
    )
    return decoys


def _save(motifs, table, assignments, database, background, window, out: Path) -> None:
    """``motifs.meme`` (PPMs, named ``<motif_id> <name>``), ``modisco.h5`` (the motifs in
    modisco-lite's layout), the two tables, the logos."""
    from ..io.atomic import save_figure, write_tsv
    from ..io.meme import write_meme
    from ..io.modisco import write_modisco_h5
    from ..plots import draw_motif_figures

    (out / "logos").mkdir(parents=True, exist_ok=True)
    keys = [f"{i} {n}" for i, n in zip(table["motif_id"], table["name"])]
    write_meme(
        {k: m["ppm"] for k, m in zip(keys, motifs)},
        out / "motifs.meme",
        nsites={k: m["n_seqlets"] for k, m in zip(keys, motifs)},
        background=background,
    )
    write_modisco_h5([m["pattern"] for m in motifs], out / "modisco.h5", window_size=window)
    write_tsv(table, out / "motifs.tsv")
    write_tsv(assignments, out / "seqlet_motifs.tsv")
    for motif_id, figure in draw_motif_figures(motifs, table, database).items():
        save_figure(figure, out / "logos" / f"{motif_id}.png")

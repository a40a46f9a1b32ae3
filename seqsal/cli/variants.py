"""``seqsal variants``: score variants with the model, find the motifs they break or make,
and write the table, the scored VCF, the rejected rows, the maps and a track."""

from __future__ import annotations

import logging
from pathlib import Path

from .options import add_options

HELP = "variant effects: REF and ALT outputs, delta, p-value, motifs broken or made"
STAGE = "seqsal.variants:variant_effects"
OPTIONS = {
    "n_null": "variants.n_null",
    "motif_p": "variants.motif_p",
    "scan_database": "variants.scan_database",
    "max_maps": "variants.max_maps",
    "map_flank": "variants.map_flank",
    "database": "motifs.database",
    "oriented": "input.oriented",
    "mode": "input.mode",
    "device": "device",
    "seed": "seed",
}
READ_BY_CLI = ("database", "scan_database", "oriented", "mode", "device")

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal variants``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    for name in ("model", "variants", "regions", "fasta"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--motifs-meme", help="this run's motifs.meme, scanned for disruption")
    parser.add_argument("--method", default="grad_x_input", help="attribution method of the maps")
    parser.add_argument(
        "--target", nargs="+", default=["0"], help="outputs scored, by index or name"
    )
    add_options(parser, OPTIONS)
    parser.add_argument("--track", help="BED9 of the variants' delta for IGV")
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Write ``variants.tsv``, ``variants.vcf.gz`` (+ ``.tbi``), ``rejected.tsv`` and
    ``maps.npz`` to ``--out-dir``, and the track to ``--track``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..variants import variant_effects

    inputs = _load(args)
    options = {k: getattr(args, k) for k in OPTIONS if k not in READ_BY_CLI}
    table, rejected, maps = variant_effects(**inputs, **options, method=args.method, log=log)
    _save(args, table, rejected, maps, inputs)
    if not len(table) and not len(rejected):
        log.warning("%s: no variant could be scored: the file holds no variant", args.variants)
    elif not len(table):
        log.warning("%s: no variant could be scored (see rejected.tsv)", args.variants)
    log.info(
        "scored %d variants (%d rejected; see rejected.tsv)", table["name"].nunique(), len(rejected)
    )


def _load(args) -> dict:
    """:func:`seqsal.variants.variant_effects`' inputs, read and checked first."""
    from ..inputs import is_oriented
    from ..io.bed import read_regions
    from ..io.fasta import contig_sizes, open_fasta, read_contig
    from ..io.meme import load_motif_database, read_meme
    from ..io.variants import read_variants
    from ..models import load_checkpoint, resolve_device, resolve_target

    variants, unread = read_variants(args.variants, offsets=args.mode == "library")
    model, meta = load_checkpoint(args.model)
    fasta = open_fasta(args.fasta)
    # the run's own motifs: a run can find none (then only the database is scanned)
    motifs = read_meme(args.motifs_meme, empty_ok=True) if args.motifs_meme else {}
    if args.scan_database:
        motifs.update(load_motif_database(args.database))
    return {
        "variants": variants,
        "unread": unread,
        "regions": read_regions(args.regions),
        "read_contig": lambda chrom: read_contig(fasta, chrom),
        "sizes": contig_sizes(fasta),
        "model": model,
        "meta": meta,
        "targets": [resolve_target(t, meta["targets"]) for t in args.target],
        "oriented": bool(meta.get("oriented", is_oriented(args.oriented, args.mode))),
        "motifs": motifs,
        "device": resolve_device(args.device),
        "source": args.variants,
    }


def _save(args, table, rejected, maps, inputs) -> None:
    from ..io.atomic import write_tsv
    from ..io.bed import write_bed
    from ..io.shards import write_npz
    from ..io.variants import write_variant_vcf
    from ..variants import VCF_INFO, delta_track, vcf_rows

    out = Path(args.out_dir)
    write_tsv(table, out / "variants.tsv")
    write_tsv(rejected, out / "rejected.tsv")
    write_npz(out / "maps.npz", **maps)
    targets = [str(inputs["meta"]["targets"][t]) for t in inputs["targets"]]
    write_variant_vcf(
        vcf_rows(table),
        out / "variants.vcf.gz",
        contigs=inputs["sizes"],
        targets=targets,
        info=VCF_INFO,
        meta={"null_size": args.n_null},
    )
    if args.track:
        write_bed(delta_track(table), args.track)

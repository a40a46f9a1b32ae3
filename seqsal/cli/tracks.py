"""``seqsal tracks``: bigWig and BED tracks in genome coordinates, the IGV session and
the igv.js page."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import InputError
from .options import add_options

HELP = "bigWig, BED9 and IGV session in genome coordinates"
STAGE = "seqsal.tracks:build_tracks"
OPTIONS = {
    "hypothetical": "tracks.hypothetical",
    "bedgraph": "tracks.bedgraph",
    "motif_hit_p": "tracks.motif_hit_p",
    "igv_loci": "tracks.igv_loci",
    "annotation": "tracks.annotation",
}
READ_BY_CLI = ("hypothetical", "bedgraph", "annotation")
BLOCK = 20_000  # regions scanned for motif hits at a time
log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal tracks``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    for name in ("regions", "seqlets", "seqlet-motifs", "motifs-tsv", "fasta"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument(
        "--motifs-meme", required=True, help="motifs.meme: scanned for motif_hits.bed"
    )
    parser.add_argument("--attributions", nargs="+", required=True)
    parser.add_argument(
        "--method-attributions",
        nargs="+",
        default=[],
        help="shards of further runs, .../<run>/<shard>.npz: one bigWig per run",
    )
    parser.add_argument("--onehot", nargs="+", required=True, help="encode shards, for the scan")
    parser.add_argument("--truth", help="known sites (BED): a track in the session and the page")
    parser.add_argument(
        "--variant-track", help="the variants stage's delta BED: a track in the session"
    )
    add_options(parser, OPTIONS)
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Write every track, ``igv_session.xml`` and ``igv.html`` to ``--out-dir``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """

    from ..io.bed import read_bed, read_regions, read_seqlets
    from ..io.fasta import contig_sizes, open_fasta
    from ..io.shards import read_attributions
    from ..io.tables import read_motif_table
    from ..tracks import build_tracks

    # attributions memory-mapped: each bigWig reads them as it writes
    skip = () if args.hypothetical else ("hyp",)
    data, regions = read_attributions(
        args.attributions, read_regions(args.regions), skip=skip, mmap_key="attr"
    )
    fasta, table = open_fasta(args.fasta), read_motif_table(args.motifs_tsv)
    sizes = contig_sizes(fasta)
    built = build_tracks(
        regions,
        _maps(args, regions, data),
        sizes,
        read_seqlets(args.seqlets),
        read_motif_table(args.seqlet_motifs),
        dict(zip(table["motif_id"], table["name"])),
        _ppms(args.motifs_meme),
        _blocks(args, data["names"]),
        hyp=data["hyp"] if args.hypothetical else None,
        truth=read_bed(args.truth) if args.truth else None,
        motif_hit_p=args.motif_hit_p,
        igv_loci=args.igv_loci,
    )
    _save(args, built, fasta, sizes, Path(args.out_dir))


def _maps(args, regions, data) -> dict:
    """``{track name: attr}``: the first run, then each further run's shards."""
    from ..io.shards import read_other_attributions

    by_run = {}
    for path in args.method_attributions:  # .../attribute/<run>/<shard>.npz
        by_run.setdefault(Path(path).parent.name, []).append(path)
    maps = {"attribution": data["attr"]}
    for run, paths in by_run.items():
        first = args.attributions[0]
        maps[f"attribution_{run}"] = read_other_attributions(paths, regions, data["names"], first)
    return maps


def _ppms(path) -> dict:
    """The run's motifs by id; a run whose seqlets gave none writes an empty file."""
    from ..io.meme import read_meme

    return {key.split()[0]: ppm for key, ppm in read_meme(path, empty_ok=True).items()}


def _blocks(args, names):
    """The encode shards' one-hot, :data:`BLOCK` regions at a time, read as used."""
    import numpy as np

    from ..io.shards import onehot_rows, read_npz

    shards = [onehot_rows(path) for path in args.onehot]  # encode shards, one-hot: checked
    encoded = np.concatenate([read_npz(path, skip="X")["names"] for path in args.onehot])
    if not np.array_equal(encoded, names):
        raise InputError(f"{args.onehot[0]}: expected the regions of {args.attributions[0]}")
    for X in shards:
        for start in range(0, len(X), BLOCK):
            yield X[start : start + BLOCK]


def _save(args, built, fasta, sizes, out) -> None:
    """The bigWigs, BED files (and tabix copy), ``igv_session.xml`` (every track, paths
    relative) and ``igv.html`` (the loci, with their reference)."""
    from ..io.annotation import annotation_text
    from ..io.atomic import write_text
    from ..io.bed import write_bed, write_bedgraph, write_tabix
    from ..io.bigwig import write_bigwig
    from ..io.fasta import fetch_sequences
    from ..io.igv import igv_page, igv_session
    from ..tracks import ATTRIBUTION_COLORS

    for name, track in built["bigwigs"].items():
        write_bigwig(track, sizes, out / f"{name}.bw")
    if args.bedgraph:
        write_bedgraph(built["bigwigs"]["attribution"], out / "attribution.bedGraph")
    for name in ("motif_hits", "seqlets"):
        write_bed(built[name], out / f"{name}.bed")
    write_tabix(out / "seqlets.bed")

    maps = [name for name in built["bigwigs"] if name.startswith("attribution")]
    tracks = [
        {
            "path": out / f"{name}.bw",
            "name": name,
            **ATTRIBUTION_COLORS,
            "renderer": "BAR_CHART",
            "range": built["ranges"][name],
        }
        for name in maps
    ]
    tracks += [
        {"path": out / "seqlets.bed", "name": "seqlets"},
        {"path": out / "motif_hits.bed", "name": "motif hits"},
    ]
    if args.truth:
        tracks.append({"path": args.truth, "name": "known sites"})
    if args.variant_track:
        tracks.append({"path": args.variant_track, "name": "variant effects"})
    if args.annotation:
        genes, kind = _annotation(args.annotation, sizes, out)
        tracks.append({"path": genes, "name": "genes"})
        text = annotation_text(genes, built["loci"])
        built["page_tracks"].append({"name": "genes", "format": kind, "text": text})
    session = igv_session(genome=args.fasta, locus=built["locus"], folder=out, tracks=tracks)
    write_text(session, out / "igv_session.xml")
    loci = built["loci"]
    page = igv_page(
        loci=loci, sequences=fetch_sequences(fasta, loci), sizes=sizes, tracks=built["page_tracks"]
    )
    write_text(page, out / "igv.html")


def _annotation(path, sizes, out) -> tuple:
    """The gene annotation's sorted, indexed copy in ``out``, and its format."""
    from ..io.annotation import annotation_format, write_annotation

    kind = annotation_format(path)
    genes = out / f"annotation.{kind}.gz"
    counts = write_annotation(path, sizes, genes)
    if counts["n_elsewhere"]:
        log.warning(
            "%s: %d features on contigs the reference lacks, left out (%s)",
            path,
            counts["n_elsewhere"],
            ", ".join(counts["elsewhere"]),
        )
    log.info("%s: %d features in %s", path, counts["n_features"], genes)
    return genes, kind

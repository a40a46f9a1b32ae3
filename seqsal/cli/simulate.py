"""``seqsal simulate``: the embedded demo's genome, regions, labels and planted sites."""

from __future__ import annotations

import logging
from pathlib import Path

from .options import add_options

HELP = "simulate the demo genome, regions, labels and truth"
STAGE = "seqsal.simulate:simulate_demo"
OPTIONS = {
    "motifs": "simulate.motifs",
    "database": "motifs.database",
    "n_regions": "simulate.n_regions",
    "n_contigs": "simulate.n_contigs",
    "contig_length": "simulate.contig_length",
    "width": "input.width",
    "seed": "seed",
}
READ_BY_CLI = ("database",)  # loaded here: the stage function takes the motifs' PPMs

log = logging.getLogger("seqsal")


def add_arguments(parser) -> None:
    """The options of ``seqsal simulate``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    add_options(parser, OPTIONS)
    parser.add_argument(
        "--design",
        choices=("genome", "reporter"),
        default="genome",
        help="genome: the demo (motifs planted in genomic regions); reporter: an oriented "
        "promoter library (library.tsv, truth.bed, elements.meme; run it with "
        "config/examples/reporter.yaml)",
    )
    parser.add_argument("--out-dir", required=True)


def run(args) -> None:
    """Simulate the demo and write its five files to ``--out-dir``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`add_arguments`.
    """
    from ..io.meme import load_motif_database
    from ..simulate import demo_variants, select_motifs, simulate_demo

    if args.design == "reporter":
        return _reporter(args, Path(args.out_dir))
    motifs = select_motifs(load_motif_database(args.database), args.motifs, source=args.database)
    genome, regions, labels, truth = simulate_demo(
        motifs,
        n_regions=args.n_regions,
        n_contigs=args.n_contigs,
        contig_length=args.contig_length,
        width=args.width,
        seed=args.seed,
    )
    variants = demo_variants(genome, regions, truth, motifs, seed=args.seed)
    _save(Path(args.out_dir), genome, regions, labels, truth, variants)
    log.info(
        "simulated %d regions with %d planted sites, and %d SNVs with known effects",
        len(regions),
        len(truth),
        len(variants),
    )


def _save(out: Path, genome, regions, labels, truth, variants) -> None:
    from ..io.atomic import write_text, write_tsv
    from ..io.bed import write_bed
    from ..io.fasta import write_fasta
    from ..simulate import variants_vcf_text

    write_fasta(genome, out / "genome.fa")
    write_bed(regions, out / "regions.bed")
    write_tsv(labels, out / "labels.tsv")
    write_bed(truth.drop(columns="region"), out / "truth.bed")
    sizes = {chrom: len(sequence) for chrom, sequence in genome.items()}
    write_text(variants_vcf_text(variants, sizes), out / "variants.vcf")


def _reporter(args, out: Path) -> None:
    """The oriented reporter library: ``library.tsv``, ``truth.bed``, ``elements.meme``."""
    from ..io.atomic import write_tsv
    from ..io.bed import write_bed
    from ..io.meme import write_meme
    from ..simulate import simulate_reporter

    library, truth, elements = simulate_reporter(n_sequences=args.n_regions, seed=args.seed)
    write_tsv(library, out / "library.tsv")
    write_bed(truth, out / "truth.bed")
    write_meme(elements, out / "elements.meme")
    log.info("simulated %d reporter constructs with %d active boxes", len(library), len(truth))

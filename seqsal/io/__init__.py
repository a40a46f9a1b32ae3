"""Reading and writing seqsal's files, one module per format.

Every reader validates what it reads and raises :class:`~seqsal.errors.InputError` with
one line that names the file, the line or key, what was expected and what was found.
Every writer writes atomically (:mod:`seqsal.io.atomic`), so an interrupted run never
leaves a truncated file that looks complete.

The names below load their module when first used, so importing one format (e.g.
``seqsal.io.meme`` while Snakemake parses the workflow) does not import them all.

- :mod:`~seqsal.io.atomic`: atomic writes of text, tables and figures
- :mod:`~seqsal.io.shards`: ``.npz`` shards (streamed, memory-mapped, stacked)
- :mod:`~seqsal.io.bed`: BED regions, seqlets, BED/bedGraph/tabix tracks
- :mod:`~seqsal.io.fasta`: FASTA references and libraries, one-hot windows
- :mod:`~seqsal.io.tables`: label and library tables
- :mod:`~seqsal.io.meme`: MEME files and JASPAR databases
- :mod:`~seqsal.io.modisco`: motifs in TF-MoDISco's h5 layout
- :mod:`~seqsal.io.bigwig`: the bigWig writer
- :mod:`~seqsal.io.igv`: the IGV session and the igv.js page
- :mod:`~seqsal.io.variants`: variants in (VCF, TSV) and the scored VCF out
"""

from __future__ import annotations

import importlib

from ..errors import InputError

# name -> the module of seqsal.io that defines it
_WHERE = {
    "BED_COLUMNS": "bed",
    "MotifDatabase": "meme",
    "NARROWPEAK_NAMES": "bed",
    "NpzRows": "shards",
    "NpzStream": "shards",
    "PAD_COLUMNS": "bed",
    "PER_FILE_KEYS": "shards",
    "REJECTED_COLUMNS": "bed",
    "RowStack": "shards",
    "atomic_path": "atomic",
    "bed_text": "bed",
    "bedgraph_text": "bed",
    "contig_sizes": "fasta",
    "fetch_onehot": "fasta",
    "fetch_sequences": "fasta",
    "igv_js": "igv",
    "igv_page": "igv",
    "igv_session": "igv",
    "iter_onehot": "fasta",
    "load_motif_database": "meme",
    "npz_rows": "shards",
    "onehot_rows": "shards",
    "npz_stream": "shards",
    "npz_writer": "shards",
    "open_fasta": "fasta",
    "read_bed": "bed",
    "read_contig": "fasta",
    "read_labels": "tables",
    "read_library_table": "tables",
    "read_meme": "meme",
    "read_modisco_h5": "modisco",
    "read_npz": "shards",
    "read_regions": "bed",
    "read_seqlets": "bed",
    "read_sequences": "fasta",
    "read_shards": "shards",
    "read_table": "tables",
    "read_variant_table": "variants",
    "read_variants": "variants",
    "save_figure": "atomic",
    "window_width": "fasta",
    "write_bed": "bed",
    "write_bedgraph": "bed",
    "write_bigwig": "bigwig",
    "write_fasta": "fasta",
    "write_meme": "meme",
    "write_modisco_h5": "modisco",
    "write_npz": "shards",
    "write_tabix": "bed",
    "write_text": "atomic",
    "write_tsv": "atomic",
    "write_variant_vcf": "variants",
}

__all__ = ["InputError", *sorted(_WHERE)]


def __getattr__(name: str):
    """Load ``name`` from its module on first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__

"""Reading and writing seqsal's files, one module per format.

Every reader validates what it reads and raises :class:`~seqsal.errors.InputError` with
one line that names the file, the line or key, what was expected and what was found.
Every writer writes atomically (:mod:`seqsal.io.atomic`), so an interrupted run never
leaves a truncated file that looks complete.

- :mod:`~seqsal.io.atomic`: atomic writes of text, tables and figures
- :mod:`~seqsal.io.shards`: ``.npz`` shards (streamed, memory-mapped, stacked)
- :mod:`~seqsal.io.bed`: BED regions, seqlets, BED/bedGraph/tabix tracks
- :mod:`~seqsal.io.fasta`: FASTA references and libraries, one-hot windows
- :mod:`~seqsal.io.tables`: label and library tables
- :mod:`~seqsal.io.meme`: MEME files and JASPAR databases
- :mod:`~seqsal.io.bigwig`: the bigWig writer
- :mod:`~seqsal.io.igv`: the IGV session and the igv.js page
"""

from ..errors import InputError
from .atomic import atomic_path, save_figure, write_text, write_tsv
from .bed import (
    BED_COLUMNS,
    NARROWPEAK_NAMES,
    PAD_COLUMNS,
    REJECTED_COLUMNS,
    bed_text,
    bedgraph_text,
    read_bed,
    read_regions,
    read_seqlets,
    write_bed,
    write_bedgraph,
    write_tabix,
)
from .bigwig import write_bigwig
from .fasta import (
    contig_sizes,
    fetch_onehot,
    fetch_sequences,
    iter_onehot,
    open_fasta,
    read_contig,
    read_sequences,
    window_width,
    write_fasta,
)
from .igv import igv_js, igv_page, igv_session
from .meme import MotifDatabase, load_motif_database, read_meme, write_meme
from .shards import (
    PER_FILE_KEYS,
    NpzRows,
    NpzStream,
    RowStack,
    npz_rows,
    npz_stream,
    npz_writer,
    read_npz,
    read_shards,
    write_npz,
)
from .tables import read_labels, read_library_table, read_table

__all__ = [
    "BED_COLUMNS",
    "InputError",
    "MotifDatabase",
    "NARROWPEAK_NAMES",
    "NpzRows",
    "NpzStream",
    "PAD_COLUMNS",
    "PER_FILE_KEYS",
    "REJECTED_COLUMNS",
    "RowStack",
    "atomic_path",
    "bed_text",
    "bedgraph_text",
    "contig_sizes",
    "fetch_onehot",
    "fetch_sequences",
    "igv_js",
    "igv_page",
    "igv_session",
    "iter_onehot",
    "load_motif_database",
    "npz_rows",
    "npz_stream",
    "npz_writer",
    "open_fasta",
    "read_bed",
    "read_contig",
    "read_labels",
    "read_library_table",
    "read_meme",
    "read_npz",
    "read_regions",
    "read_seqlets",
    "read_sequences",
    "read_shards",
    "read_table",
    "save_figure",
    "window_width",
    "write_bed",
    "write_bedgraph",
    "write_bigwig",
    "write_fasta",
    "write_meme",
    "write_npz",
    "write_tabix",
    "write_text",
    "write_tsv",
]

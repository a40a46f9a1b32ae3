"""Reading and writing seqsal's files: BED, FASTA, label tables, shards, MEME.

Every reader validates what it reads and raises :class:`InputError` with one line that
names the file, the line or key, what was expected and what was found. Every writer
writes atomically (a temporary file in the same folder, then a rename), so an interrupted
run never leaves a truncated file that looks complete.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]
REJECTED_COLUMNS = ["source", "line", "name", "reason"]


class InputError(ValueError):
    """A user's input is malformed; the message names file, line or key, expected, found."""


# --------------------------------------------------------------------------- atomic I/O


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or Path
        The final destination. Its folder is created when missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(text: str, path) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write(text)


def write_tsv(df: pd.DataFrame, path, *, header: bool = True) -> None:
    """Write a DataFrame as tab-separated text, atomically, without the index."""
    write_text(df.to_csv(sep="\t", index=False, header=header, lineterminator="\n"), path)


def write_npz(path, **arrays) -> None:
    """Write arrays to a compressed ``.npz`` file atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def read_npz(path) -> dict:
    """Read every array of an ``.npz`` file into a dict."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def read_shards(paths) -> dict:
    """Read several ``.npz`` shards and concatenate them along the first axis."""
    shards = [read_npz(path) for path in paths]
    return {key: np.concatenate([s[key] for s in shards]) for key in shards[0]}


# --------------------------------------------------------------------------------- BED


def _bed_fields(path):
    """Yield ``(line number, fields)`` for each data line of a BED file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            yield number, line.rstrip("\t").split("\t")


def _parse_int(value: str, *, path, number: int, column: str) -> int:
    try:
        parsed = int(value)
    except ValueError:
        raise InputError(
            f"{path}, line {number}: expected an integer {column}, found {value!r}"
        ) from None
    if parsed < 0:
        raise InputError(f"{path}, line {number}: expected {column} >= 0, found {parsed}")
    return parsed


def read_bed(path) -> pd.DataFrame:
    """Read a BED3/BED6/narrowPeak file into a validated DataFrame.

    Comment, ``track`` and ``browser`` lines and blank lines are skipped; Windows line
    endings and trailing tabs are accepted. A missing name becomes ``chrom:start-end``,
    a missing strand ``.``.

    Parameters
    ----------
    path : str or Path
        The BED file (plain or gzip).

    Returns
    -------
    regions : pandas.DataFrame
        Columns ``chrom, start, end, name, score, strand, line`` where ``line`` is the
        1-based line number in ``path``.
    """
    rows = []
    for number, fields in _bed_fields(path):
        if len(fields) < 3:
            raise InputError(
                f"{path}, line {number}: expected at least 3 tab-separated columns "
                f"(chrom, start, end), found {len(fields)}: {fields!r}"
            )
        chrom = fields[0]
        start = _parse_int(fields[1], path=path, number=number, column="start")
        end = _parse_int(fields[2], path=path, number=number, column="end")
        if end <= start:
            raise InputError(
                f"{path}, line {number}: expected end > start, found start={start} end={end}"
            )
        name = fields[3] if len(fields) > 3 and fields[3] not in ("", ".") else None
        strand = fields[5] if len(fields) > 5 else "."
        if strand not in ("+", "-", "."):
            raise InputError(
                f"{path}, line {number}: expected strand '+', '-' or '.', found {strand!r}"
            )
        rows.append((chrom, start, end, name or f"{chrom}:{start}-{end}", 0, strand, number))
    if not rows:
        raise InputError(f"{path}: expected at least one region, found none")
    return pd.DataFrame(rows, columns=BED_COLUMNS + ["line"])


def read_regions(path) -> pd.DataFrame:
    """Read seqsal's own ``regions.bed`` (BED6, validated upstream)."""
    regions = pd.read_csv(path, sep="\t", header=None, names=BED_COLUMNS, comment="#")
    return regions.astype({"chrom": str, "name": str, "start": np.int64, "end": np.int64})


# ------------------------------------------------------------------------------- FASTA


def open_fasta(path):
    """Open a FASTA file with pyfaidx, building its index when missing.

    Raises
    ------
    InputError
        When the file is absent, plain gzip (pyfaidx needs bgzip), or its index cannot
        be written.
    """
    import pyfaidx

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: expected a FASTA file, found no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] == b"\x1f\x8b" and magic[3:4] != b"\x04":
        raise InputError(
            f"{path}: expected plain or bgzip-compressed FASTA, found plain gzip; "
            f"recompress it with `zcat {path} | bgzip > {path}`"
        )
    try:
        return pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True)
    except PermissionError:
        raise InputError(
            f"{path}: cannot write its index {path}.fai (permission denied); "
            "copy the FASTA to a writable folder or index it with `samtools faidx`"
        ) from None
    except (pyfaidx.FastaIndexingError, ValueError) as error:
        raise InputError(f"{path}: expected a valid FASTA file, found: {error}") from None


def contig_sizes(fasta) -> dict:
    """Return ``{contig: length}`` in FASTA order for an open pyfaidx.Fasta."""
    return {name: len(record) for name, record in fasta.records.items()}


def fetch_sequences(fasta, regions: pd.DataFrame) -> list:
    """Fetch each region's + strand sequence, checking that every window is complete.

    Parameters
    ----------
    fasta : pyfaidx.Fasta
        An open FASTA (``as_raw=True``).
    regions : pandas.DataFrame
        Columns ``chrom, start, end, name``, 0-based half-open.

    Returns
    -------
    sequences : list of str
        One upper-case sequence per region, in the order of ``regions``.
    """
    sequences = []
    for chrom, start, end, name in regions[["chrom", "start", "end", "name"]].itertuples(
        index=False
    ):
        sequence = fasta[chrom][int(start) : int(end)]
        if len(sequence) != end - start:
            raise InputError(
                f"{fasta.filename}: expected {end - start} bases for region {name} "
                f"({chrom}:{start}-{end}), found {len(sequence)}"
            )
        sequences.append(sequence.upper())
    return sequences


def write_fasta(sequences: dict, path, *, width: int = 80) -> None:
    """Write ``{name: sequence}`` as a FASTA file with lines of ``width`` bases."""
    chunks = []
    for name, sequence in sequences.items():
        chunks.append(f">{name}\n")
        chunks.extend(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width))
    write_text("".join(chunks), path)


# ------------------------------------------------------------------------------ labels


def read_labels(path, *, targets=None) -> pd.DataFrame:
    """Read a label table keyed by region name and check that targets are numbers.

    Parameters
    ----------
    path : str or Path
        A TSV with a header; its ``name`` column (or else its first column) holds region
        names.
    targets : list of str or None, optional
        Label columns to model. Default is None: every column whose values all parse as
        numbers (a column of words, such as a group, is left out).

    Returns
    -------
    labels : pandas.DataFrame
        Indexed by name, one float column per target; missing values are NaN.
    """
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    key = "name" if "name" in table.columns else table.columns[0]
    table = table.set_index(key)
    if table.index.has_duplicates:
        duplicate = table.index[table.index.duplicated()][0]
        raise InputError(
            f"{path}: expected unique names in column {key!r}, found {duplicate!r} twice"
        )
    missing = [t for t in targets or [] if t not in table.columns]
    if missing:
        raise InputError(
            f"{path}: expected target column(s) {missing}, found columns {list(table.columns)}"
        )
    columns = list(targets) if targets else list(table.columns)
    labels = {}
    for column in columns:
        values = table[column].str.strip()
        blank = values.isin(["", "NA", "NaN", "nan", "."])
        numbers = pd.to_numeric(values.where(~blank), errors="coerce")
        bad = numbers.isna() & ~blank
        if bad.all() and not targets:
            continue
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}, line {row + 2}, column {column!r}: expected a number, "
                f"found {values.iloc[row]!r}"
            )
        labels[column] = numbers.astype(float)
    if not labels:
        raise InputError(f"{path}: expected at least one numeric label column, found none")
    return pd.DataFrame(labels)


# ------------------------------------------------------------------------------ motifs


def read_meme(path) -> dict:
    """Read a MEME v4 file into ``{"<id> <name>": PPM of shape (4, L)}``, file order."""
    motifs, key, rows, width = {}, None, [], None
    with open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line.startswith("MOTIF"):
                key, rows, width = " ".join(line.split()[1:]), [], None
            elif key is not None and line.startswith("letter-probability"):
                fields = line.replace("= ", "=").split()
                width = int(dict(f.split("=") for f in fields if "=" in f).get("w", 0))
            elif key is not None and width and len(rows) < width and line:
                try:
                    rows.append([float(value) for value in line.split()])
                except ValueError:
                    raise InputError(
                        f"{path}, line {number}: expected 4 probabilities of motif {key!r}, "
                        f"found {line!r}"
                    ) from None
                if len(rows) == width:
                    motifs[key] = np.asarray(rows).T
    if not motifs:
        raise InputError(f"{path}: expected MEME motifs, found none")
    return motifs


def load_motif_database(database: str) -> dict:
    """Load target motifs by name (``jaspar2024_vertebrates``) or from a MEME file.

    Names have the form ``jaspar<year>_<taxon>``: the CORE collection of that JASPAR
    release shipped with pyjaspar, latest version of each matrix, for the taxonomic
    group (``vertebrates``, ``insects``, ``plants``, ``fungi``, ``nematodes``,
    ``urochordates``) or ``all``.

    Returns
    -------
    motifs : dict
        ``{"<matrix id> <TF name>": PPM of shape (4, L)}``.
    """
    if Path(database).suffix or os.sep in database:
        return read_meme(database)
    prefix, _, taxon = database.partition("_")
    if not prefix.lower().startswith("jaspar") or not taxon:
        raise InputError(
            f"motifs.database: expected 'jaspar<year>_<taxon>' or a MEME file path, "
            f"found {database!r}"
        )
    from pyjaspar import jaspardb

    release = "JASPAR" + prefix[len("jaspar") :]
    try:
        db = jaspardb(release=release)
    except Exception as error:  # pyjaspar raises bare exceptions on unknown releases
        raise InputError(f"motifs.database: unknown JASPAR release {release}: {error}") from None
    query = {} if taxon == "all" else {"tax_group": [taxon]}
    records = db.fetch_motifs(collection="CORE", all_versions=False, **query)
    if not records:
        raise InputError(f"motifs.database: expected motifs for {database!r}, found none")
    motifs = {}
    for record in records:
        counts = np.array([record.counts[base] for base in "ACGT"], dtype=float)
        motifs[f"{record.matrix_id} {record.name}"] = counts / counts.sum(axis=0)
    return motifs


def write_meme(motifs: dict, path=None, *, nsites=None):
    """Write ``{name: PPM (4, L)}`` as MEME v4; return the text when ``path`` is None."""
    lines = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        "A 0.25 C 0.25 G 0.25 T 0.25",
        "",
    ]
    for name, ppm in motifs.items():
        sites = (nsites or {}).get(name, 20)
        lines.append(f"MOTIF {name}")
        lines.append(
            f"letter-probability matrix: alength= 4 w= {ppm.shape[1]} nsites= {sites} E= 0"
        )
        lines.extend(" ".join(f"{p:.6f}" for p in column) for column in ppm.T)
        lines.append("")
    text = "\n".join(lines) + "\n"
    if path is None:
        return text
    write_text(text, path)
    return None


def save_figure(fig, path) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")

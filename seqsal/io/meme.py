"""MEME v4 motif files, and the motif databases (JASPAR releases shipped with pyjaspar,
or a MEME file)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .atomic import write_text
from .text import text_lines


def read_meme(path, *, empty_ok: bool = False) -> dict:
    """Read a MEME v4 file into ``{"<id> <name>": PPM of shape (4, L)}``, file order.

    Parameters
    ----------
    path : str or Path
    empty_ok : bool, optional
        A file without motifs is read as none (a run's own ``motifs.meme``, where
        finding no motif is a result), not refused. Default is False.

    Returns
    -------
    motifs : dict

    Raises
    ------
    InputError
        When a matrix row does not read as numbers, or the file holds no motif (unless
        ``empty_ok``).
    """
    import numpy as np

    motifs, key, rows, width = {}, None, [], None
    for number, raw in text_lines(path):
        line = raw.strip()
        if line.startswith("MOTIF"):
            key, rows, width = " ".join(line.split()[1:]), [], None
        elif key is not None and line.startswith("letter-probability"):
            fields = line.replace("= ", "=").split()
            text = dict(f.split("=", 1) for f in fields if "=" in f).get("w", "0")
            if not text.isdigit():
                raise InputError(
                    f"{path}, line {number}: expected the motif width w= as a whole number, "
                    f"found {text!r}"
                )
            width = int(text)
        elif key is not None and width and len(rows) < width and line:
            try:
                row = [float(value) for value in line.split()]
            except ValueError:
                row = []
            if len(row) != 4 or not all(0 <= value < float("inf") for value in row):
                raise InputError(
                    f"{path}, line {number}: expected 4 probabilities of motif {key!r}, "
                    f"found {line[:80]!r}"
                )
            rows.append(row)
            if len(rows) == width:
                motifs[key] = np.asarray(rows).T
    if not motifs and not empty_ok:
        raise InputError(f"{path}: expected MEME motifs, found none")
    return motifs


class MotifDatabase(dict):
    """``{"<matrix id> <TF name>": PPM (4, L)}`` with the TF family of each motif that has
    one (``families``, ``{key: "family; family"}``)."""

    def __init__(self, motifs=(), families=None):
        super().__init__(motifs)
        self.families = dict(families or {})


def is_database_file(database: str) -> bool:
    """Whether ``motifs.database`` names a MEME file (it has a suffix or a folder), not a
    JASPAR release.

    Parameters
    ----------
    database : str

    Returns
    -------
    is_file : bool
    """
    return bool(Path(database).suffix) or os.sep in database


def jaspar_release(database: str) -> tuple:
    """The pyjaspar release and taxon a name ``jaspar<year>_<taxon>`` stands for.

    Parameters
    ----------
    database : str
        e.g. ``jaspar2024_vertebrates``.

    Returns
    -------
    release : str
        e.g. ``JASPAR2024``.
    taxon : str

    Raises
    ------
    InputError
        When the name has not that form, or pyjaspar ships no such release (pyjaspar
        itself only prints that, and fails later).
    """
    from pyjaspar import jaspar_releases

    prefix, _, taxon = database.partition("_")
    if not prefix.lower().startswith("jaspar") or not taxon:
        raise InputError(
            f"motifs.database: expected 'jaspar<year>_<taxon>' or a MEME file path, "
            f"found {database!r}"
        )
    release = "JASPAR" + prefix[len("jaspar") :]
    if release not in jaspar_releases:
        raise InputError(
            f"motifs.database: expected a JASPAR release pyjaspar ships "
            f"({', '.join(sorted(jaspar_releases))}), found {release} in {database!r}"
        )
    return release, taxon


def database_parts(database: str) -> list:
    """The collections of ``motifs.database``: names or MEME paths, comma-separated.

    Parameters
    ----------
    database : str
        e.g. ``"jaspar2024_plants, jaspar2024_vertebrates"``.

    Returns
    -------
    parts : list of str
    """
    return [part.strip() for part in database.split(",") if part.strip()]


def load_motif_database(database: str) -> MotifDatabase:
    """Load target motifs by name (``jaspar2024_vertebrates``) or from a MEME file, or
    several of either, comma-separated (``jaspar2024_plants, jaspar2024_vertebrates``;
    a matrix in two of them is kept once).

    Names have the form ``jaspar<year>_<taxon>``: the CORE collection of that JASPAR
    release shipped with pyjaspar, latest version of each matrix, for the taxonomic
    group (``vertebrates``, ``insects``, ``plants``, ``fungi``, ``nematodes``,
    ``urochordates``) or ``all``.

    Returns
    -------
    motifs : MotifDatabase
        ``{"<matrix id> <TF name>": PPM of shape (4, L)}``; JASPAR's TF families in
        ``motifs.families`` (none for a MEME file).

    Parameters
    ----------
    database : str
        Names as above, or MEME file paths, comma-separated.
    """
    parts = database_parts(database)
    if len(parts) == 1:
        return _load_collection(parts[0])
    merged = MotifDatabase()
    for part in parts:
        collection = _load_collection(part)
        merged.update({k: v for k, v in collection.items() if k not in merged})
        merged.families.update(
            {k: v for k, v in collection.families.items() if k not in merged.families}
        )
    return merged


def _load_collection(database: str) -> MotifDatabase:
    """One JASPAR collection by name, or one MEME file."""
    import numpy as np

    if is_database_file(database):
        return MotifDatabase(read_meme(database))
    from pyjaspar import jaspardb

    release, taxon = jaspar_release(database)
    db = jaspardb(release=release)
    query = {} if taxon == "all" else {"tax_group": [taxon]}
    records = db.fetch_motifs(collection="CORE", all_versions=False, **query)
    if not records:
        raise InputError(f"motifs.database: expected motifs for {database!r}, found none")
    motifs, by_name = MotifDatabase(), {}
    for record in records:
        key = f"{record.matrix_id} {record.name}"
        counts = np.array([record.counts[base] for base in "ACGT"], dtype=float)
        motifs[key] = counts / counts.sum(axis=0)
        if record.tf_family:
            motifs.families[key] = "; ".join(record.tf_family)
            by_name.setdefault(record.name, set()).add(motifs.families[key])
    # a family is the TF's: a matrix JASPAR left without one (e.g. MA1618 Ptf1A) takes
    # that of the same TF's other matrices, where they agree
    for key in motifs.keys() - motifs.families.keys():
        known = by_name.get(key.split(" ", 1)[1], set())
        if len(known) == 1:
            motifs.families[key] = next(iter(known))
    return motifs


def write_meme(motifs: dict, path=None, *, nsites=None, background=None):
    """Write ``{name: PPM (4, L)}`` as MEME v4; return the text when ``path`` is None.

    No E-value is written: seqsal's motifs come from seqlets, not from a MEME search
    that would give one.

    Parameters
    ----------
    motifs : dict
    path : str, Path or None, optional
        Default is None.
    nsites : dict or None, optional
        ``{name: sites}``. Default is None: 20 each.
    background : array-like or None, shape=(4,), optional
        Letter frequencies (ACGT) of the sequences the motifs come from. Default is None:
        uniform.

    Returns
    -------
    text : str or None
    """
    import numpy as np

    freqs = np.full(4, 0.25) if background is None else np.asarray(background, dtype=float)
    lines = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        " ".join(f"{base} {f:.4f}" for base, f in zip("ACGT", freqs)),
        "",
    ]
    for name, ppm in motifs.items():
        sites = (nsites or {}).get(name, 20)
        lines.append(f"MOTIF {name}")
        lines.append(f"letter-probability matrix: alength= 4 w= {ppm.shape[1]} nsites= {sites}")
        lines.extend(" ".join(f"{p:.6f}" for p in column) for column in ppm.T)
        lines.append("")
    text = "\n".join(lines) + "\n"
    if path is None:
        return text
    write_text(text, path)
    return None

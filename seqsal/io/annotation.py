"""Gene annotation (GTF, GFF3 or BED) for the IGV session: checked line by line, sorted
and written as a bgzip + tabix copy that IGV reads by region, however large the file.

Lines are sorted one contig at a time (each contig's lines spill to a scratch file as
they are read), so memory holds one contig's lines, not the genome's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import InputError
from .text import text_lines

FORMATS = {".gtf": "gtf", ".gff": "gff3", ".gff3": "gff3", ".bed": "bed"}


def annotation_format(path) -> str:
    """``gtf``, ``gff3`` or ``bed``, from the file's name (``.gz`` allowed).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    kind : str

    Raises
    ------
    InputError
        On another suffix.
    """
    name = Path(path).name.lower().removesuffix(".gz")
    kind = FORMATS.get(Path(name).suffix)
    if kind is None:
        raise InputError(
            f"tracks.annotation: expected a .gtf, .gff3 (.gff) or .bed file (plain or gzip), "
            f"found {Path(path).name!r}"
        )
    return kind


def _fields(path, kind: str):
    """Yield ``(contig, start, line)`` of each feature line, checked."""
    columns = 9 if kind != "bed" else 3
    ends = (3, 4) if kind != "bed" else (1, 2)  # start, end columns (0-based)
    for number, line in text_lines(path):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < columns:
            raise InputError(
                f"{path}, line {number}: expected at least {columns} tab-separated columns "
                f"({kind.upper()}), found {len(fields)}"
            )
        try:
            start, end = int(fields[ends[0]]), int(fields[ends[1]])
        except ValueError:
            raise InputError(
                f"{path}, line {number}: expected integer start and end, found "
                f"{fields[ends[0]]!r}, {fields[ends[1]]!r}"
            ) from None
        lowest = 0 if kind == "bed" else 1
        if start < lowest or end < start:
            raise InputError(
                f"{path}, line {number}: expected {lowest} <= start <= end, found {start}, {end}"
            )
        yield fields[0], start, "\t".join(fields) + "\n"


def write_annotation(path, sizes: dict, out, *, kind: str | None = None) -> dict:
    """Write ``path``'s features on the reference's contigs, sorted, as ``out``
    (bgzip) with its tabix index (``out.tbi``).

    Parameters
    ----------
    path : str or Path
        GTF, GFF3 or BED, plain or gzip.
    sizes : dict
        ``{contig: length}`` of the reference, in its order (the copy's order).
    out : str or Path
        ``….gz``.
    kind : str or None, optional
        ``gtf``, ``gff3`` or ``bed``. Default is None: :func:`annotation_format`'s.

    Returns
    -------
    counts : dict
        ``n_features`` written, ``n_elsewhere`` (on contigs the reference lacks, left
        out), ``elsewhere`` (up to 5 such contigs).
    """
    import pysam

    kind = kind or annotation_format(path)
    out = Path(out)
    elsewhere: dict = {}
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        spills = {}
        try:
            for contig, start, line in _fields(path, kind):
                if contig not in sizes:
                    elsewhere[contig] = elsewhere.get(contig, 0) + 1
                    continue
                if contig not in spills:
                    spills[contig] = open(os.path.join(scratch, f"{len(spills)}.txt"), "w")
                spills[contig].write(f"{start}\t{line}")
        finally:
            for handle in spills.values():
                handle.close()
        plain = Path(scratch) / "sorted.txt"
        n = 0
        with open(plain, "w") as sorted_out:
            for contig in (c for c in sizes if c in spills):
                with open(spills[contig].name) as handle:
                    lines = [row.split("\t", 1) for row in handle]
                lines.sort(key=lambda row: int(row[0]))
                sorted_out.writelines(row[1] for row in lines)
                n += len(lines)
        preset = "bed" if kind == "bed" else "gff"
        pysam.tabix_index(str(plain), preset=preset, force=True)
        os.replace(f"{plain}.gz.tbi", f"{out}.tbi")
        os.replace(f"{plain}.gz", out)
    return {
        "n_features": n,
        "n_elsewhere": sum(elsewhere.values()),
        "elsewhere": list(elsewhere)[:5],
    }


def annotation_text(path, loci) -> str:
    """The lines of an indexed annotation copy that overlap the loci, for igv.html.

    Parameters
    ----------
    path : str or Path
        As written by :func:`write_annotation`.
    loci : pandas.DataFrame
        ``chrom, start, end``.

    Returns
    -------
    text : str
    """
    import pysam

    seen, lines = set(), []
    with pysam.TabixFile(str(path)) as tabix:
        contigs = set(tabix.contigs)
        for chrom, start, end in zip(loci["chrom"], loci["start"], loci["end"]):
            if chrom in contigs:
                for line in tabix.fetch(chrom, int(start), int(end)):
                    if line not in seen:
                        seen.add(line)
                        lines.append(line + "\n")
    return "".join(lines)

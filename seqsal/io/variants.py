"""Variants: VCF (plain or bgzip, read with pysam) and TSV tables in, the scored VCF
(bgzip + tabix, INFO fields described in its header) out."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import atomic_path
from .bed import REJECTED_COLUMNS
from .text import is_plain_gzip, text_lines

# pos: 0-based; variant: the variant as the file wrote it, for rejected.tsv
VARIANT_COLUMNS = ["chrom", "pos", "ref", "alt", "name", "line", "variant"]
_SYMBOLIC = re.compile(r"[<>\[\]*.]")


def is_vcf(path) -> bool:
    """Whether ``path`` is a VCF (by its first line), plain or compressed.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    vcf : bool
    """
    for _, line in text_lines(path):
        return line.startswith("##fileformat=VCF")
    return False


def read_variants(path, *, offsets: bool = False) -> tuple:
    """Read variants from a VCF or a TSV, one row per ALT allele.

    A TSV has the columns ``chrom, pos, ref, alt`` and optionally ``name``, in that
    order, with or without a header line. ``pos`` is 1-based as in a VCF, unless
    ``offsets`` (library mode: ``sequence, offset, ref, alt``, the offset 0-based).
    Multi-allelic rows become one row per ALT. Rows that cannot be variants (no ALT,
    symbolic or structural ALT, alleles that are not nucleotides, a position that is
    not a number) are returned as rejected, with their reason.

    Parameters
    ----------
    path : str or Path
    offsets : bool, optional
        TSV positions are 0-based offsets into named sequences. Default is False.

    Returns
    -------
    variants : pandas.DataFrame
        ``chrom, pos`` (0-based), ``ref, alt`` (upper case), ``name``, ``line`` and
        ``variant`` (as written, e.g. ``chr1:10 A>G``).
    rejected : pandas.DataFrame
        ``source`` (the file), ``line``, ``name`` (the variant as written), ``reason``.

    Raises
    ------
    InputError
        When the file is neither a VCF nor a table of at least four columns.
    """
    if not Path(path).exists():
        raise InputError(f"{path}: expected a VCF or TSV of variants, found no such file")
    rows = _vcf_rows(path) if is_vcf(path) else _tsv_rows(path, offsets)
    kept, rejected = [], []
    for line, chrom, pos, where, name, ref, alts, problem in rows:
        text = f"{chrom}:{where} {ref}>{','.join(alts) or '.'}"
        if problem or not alts:
            rejected.append((str(path), line, text, problem or "no ALT allele"))
            continue
        for alt in alts:
            reason, text = allele_problem(ref, alt), f"{chrom}:{where} {ref}>{alt}"
            if reason:
                rejected.append((str(path), line, text, reason))
            else:
                label = name or f"{chrom}:{where}:{ref}>{alt}"
                kept.append((chrom, pos, ref.upper(), alt.upper(), label, line, text))
    variants = pd.DataFrame(kept, columns=VARIANT_COLUMNS)
    variants["pos"] = variants["pos"].astype(np.int64)
    return variants, pd.DataFrame(rejected, columns=REJECTED_COLUMNS)


def allele_problem(ref: str, alt: str) -> str | None:
    """Why a REF/ALT pair cannot be scored, or None.

    Parameters
    ----------
    ref, alt : str

    Returns
    -------
    reason : str or None
    """
    if _SYMBOLIC.search(alt):
        return f"symbolic or structural ALT {alt!r}: only sequence alleles are scored"
    for kind, allele in (("REF", ref), ("ALT", alt)):
        if not allele or not re.fullmatch(r"[ACGTNacgtn]+", allele):
            return f"{kind} {allele!r}: expected bases A, C, G, T or N"
    return None


def _header_lines(path) -> int:
    for number, line in text_lines(path):
        if line.startswith("#CHROM"):
            return number
        if not line.startswith("##"):
            break
    raise InputError(f"{path}: expected a #CHROM header line after the ## lines, found none")


def _vcf_rows(path):
    """``(line, chrom, start, pos as written, name, ref, alts, None)`` per VCF record."""
    import pysam

    if is_plain_gzip(path):
        raise InputError(
            f"{path}: expected a plain or bgzip-compressed VCF, found plain gzip; recompress "
            f"it with `zcat {path} | bgzip > variants.vcf.gz`"
        )
    first = _header_lines(path)
    pysam.set_verbosity(0)  # htslib's warnings (contigs absent from the header) are noise
    try:
        vcf = pysam.VariantFile(str(path))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: expected a VCF file pysam can read, found: {error}") from None
    with vcf:
        number = first
        records = iter(vcf)
        while True:
            number += 1
            try:
                record = next(records)
            except StopIteration:
                return
            except (OSError, ValueError):
                found = next((t for n, t in text_lines(path) if n == number), "").rstrip()
                raise InputError(
                    f"{path}, line {number}: expected a VCF record (CHROM, POS, ID, REF, "
                    f"ALT, ...), found {found[:80]!r}"
                ) from None
            alts = record.alts or ()
            problem = None if record.pos >= 1 else f"POS {record.pos}: expected a 1-based position"
            start = record.start if problem is None else -1
            yield number, record.chrom, start, record.pos, record.id, record.ref, alts, problem


def _tsv_rows(path, offsets: bool):
    """``(line, chrom, start, pos as written, name, ref, alts, problem)`` of each TSV row."""
    columns = "sequence, offset, ref, alt" if offsets else "chrom, pos, ref, alt"
    for number, line in text_lines(path):
        fields = line.rstrip("\r\n").split("\t")
        if not line.strip() or line.startswith("#"):
            continue
        if len(fields) < 4:
            raise InputError(
                f"{path}, line {number}: expected tab-separated {columns}[, name], "
                f"found {len(fields)} field(s): {line.strip()[:80]!r}"
            )
        chrom, pos, ref, alt = fields[:4]
        name = fields[4] if len(fields) > 4 and fields[4] not in ("", ".") else None
        try:
            value = int(pos)
        except ValueError:
            if number == 1:  # a header line
                continue
            value = None
        start = value if offsets or value is None else value - 1
        alts = tuple(a for a in alt.split(",") if a) if alt not in ("", ".") else ()
        if value is None or start < 0:
            kind = "a 0-based offset" if offsets else "a 1-based position"
            yield number, chrom, -1, pos, name, ref, alts, f"{pos!r}: expected {kind}"
        else:
            yield number, chrom, start, pos, name, ref, alts, None


NUMERIC_COLUMNS = (
    "pos", "ref_output", "alt_output", "delta", "delta_probability", "p_value", "q_value",
    "motif_p_ref", "motif_p_alt", "attr_ref", "attr_alt", "line",
)  # fmt: skip


def read_variant_table(path) -> pd.DataFrame:
    """Read ``variants.tsv`` (written by ``seqsal variants``): text stays text (a variant
    named NA too), numbers are numbers, an empty number is NaN.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    table : pandas.DataFrame
    """
    from .tables import _read_tsv

    table = _read_tsv(path, dtype=str, keep_default_na=False)
    for column in NUMERIC_COLUMNS:
        if column in table:
            table[column] = pd.to_numeric(table[column].replace("", np.nan))
    return table


def info_text(value) -> str:
    """A value as VCF INFO text: ``%``-encoded where VCF reserves the character.

    Parameters
    ----------
    value : object

    Returns
    -------
    text : str
    """
    return re.sub(r"[%:;=,\s]", lambda m: f"%{ord(m.group()):02X}", str(value))


# VCF 4.3: its percent-encoding of reserved characters is what info_text() writes
VCF_START = "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def write_variant_vcf(
    table: pd.DataFrame,
    path,
    *,
    contigs: dict,
    targets: list,
    info: dict,
    meta: dict | None = None,
):
    """Write one scored VCF record per variant, bgzip-compressed and tabix-indexed.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per variant: ``chrom, pos`` (0-based), ``name, ref, alt`` and the
        columns that ``info`` names.
    path : str or Path
        ``.vcf.gz``; the index is written beside it as ``.tbi``.
    contigs : dict
        ``{contig: length}`` in the reference's order (the sort order).
    targets : list of str
        The model outputs the per-target fields hold, in order.
    info : dict
        ``{INFO key: (column, Number, Type, description)}``; a column holding lists
        (one value per target) is written as such.
    meta : dict or None, optional
        ``{key: value}`` written as ``##seqsal_<key>=<value>`` header lines. Default is
        None.
    """
    import tempfile

    import pysam

    with tempfile.TemporaryDirectory() as scratch:  # htslib keeps a file's version
        start = Path(scratch) / "start.vcf"
        start.write_text(VCF_START)
        with pysam.VariantFile(str(start)) as template:
            header = template.header.copy()
    for chrom, length in contigs.items():
        header.contigs.add(chrom, length=int(length))
    header.add_line(f"##seqsal_targets={','.join(info_text(t) for t in targets)}")
    for key, value in (meta or {}).items():
        header.add_line(f"##seqsal_{key}={info_text(value)}")
    for key, (_, number, kind, description) in info.items():
        header.info.add(key, number, kind, description)
    order = {chrom: i for i, chrom in enumerate(contigs)}
    table = table.assign(_rank=table["chrom"].map(order)).sort_values(["_rank", "pos", "alt"])
    path = Path(path)
    with atomic_path(path) as tmp:
        with pysam.VariantFile(str(tmp), "wz", header=header) as out:
            for row in table.itertuples(index=False):
                record = out.new_record(
                    contig=row.chrom,
                    start=int(row.pos),
                    alleles=(row.ref, row.alt),
                    id=info_text(row.name),
                )
                for key, (column, _, kind, _) in info.items():
                    value = getattr(row, column)
                    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
                        continue
                    if kind == "String":
                        value = info_text(value)
                    record.info[key] = value
                out.write(record)
        pysam.tabix_index(str(tmp), preset="vcf", force=True)
        Path(f"{tmp}.tbi").replace(f"{path}.tbi")

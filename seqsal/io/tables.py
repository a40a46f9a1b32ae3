"""Tab-separated tables keyed by region or sequence name: label tables and library
tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .atomic import NO_QUOTES
from .text import text_lines

# The most columns a table may have: a name, a sequence and one label per target. A
# model of more outputs than this is not one seqsal trains, and a wider "table" is
# likely another file (a matrix transposed, a binary).
MAX_COLUMNS = 10_000


def _read_tsv(path, **options) -> pd.DataFrame:
    """``pandas.read_csv`` of a TSV without quoting; an empty file, one that is not
    text, a line longer than :data:`~seqsal.io.text.MAX_LINE` or a header of more than
    :data:`MAX_COLUMNS` columns ends with one line naming it (checked line by line
    before pandas reads it, in bounded memory)."""
    for number, line in text_lines(path):
        if number == 1 and line.count("\t") >= MAX_COLUMNS:
            raise InputError(
                f"{path}, line 1: expected at most {MAX_COLUMNS} columns, found "
                f"{line.count(chr(9)) + 1}; is it the table you meant?"
            )
    try:
        return pd.read_csv(path, sep="\t", quoting=NO_QUOTES, **options)
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path}: expected a table with a header line, found an empty file"
        ) from None
    except UnicodeDecodeError as error:
        found = error.object[error.start : error.start + 4]
        raise InputError(
            f"{path}: expected a text table (UTF-8), found bytes that are not ({found!r})"
        ) from None
    except pd.errors.ParserError as error:  # "Expected 1 fields in line 3, saw 8"
        import re

        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        where = f", line {found[2]}" if found else ""
        detail = f"{found[1]} columns as in the header, found {found[3]}" if found else str(error)
        raise InputError(f"{path}{where}: expected {detail}") from None


def read_table(path, *, name_column: str | None = None) -> pd.DataFrame:
    """Read a TSV with a header as text, indexed by its name column.

    Parameters
    ----------
    path : str or Path
    name_column : str or None, optional
        The column of names (``input.name_column``). Default is None: ``name`` if
        there is one, else the first column.

    Returns
    -------
    table : pandas.DataFrame

    Raises
    ------
    InputError
        When a name repeats.
    """
    table = _read_tsv(path, dtype=str, keep_default_na=False)
    key = name_column or ("name" if "name" in table.columns else table.columns[0])
    if key not in table.columns:
        raise InputError(
            f"{path}: expected a {key!r} column of names (input.name_column), found columns "
            f"{list(table.columns)}"
        )
    table = table.set_index(key)
    if table.index.has_duplicates:
        duplicate = table.index[table.index.duplicated()][0]
        raise InputError(
            f"{path}: expected unique names in column {key!r}, found {duplicate!r} twice"
        )
    return table


def read_library_table(
    path, *, sequence_column: str = "sequence", name_column: str | None = None
) -> dict:
    """Sequences of a library table (TSV): ``{name: sequence}`` in file order.

    Parameters
    ----------
    path : str or Path
    sequence_column : str, optional
        Default is "sequence".
    name_column : str or None, optional
        As in :func:`read_table`. Default is None.

    Returns
    -------
    sequences : dict
    """
    table = read_table(path, name_column=name_column)
    if sequence_column not in table.columns:
        raise InputError(
            f"{path}: expected a {sequence_column!r} column, found columns {list(table.columns)}"
        )
    sequences = table[sequence_column].str.strip()
    bad = sequences.str.contains(r"[^ACGTNRYSWKMBDHVacgtnryswkmbdhv]", regex=True)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{path}, line {row + 2}, column {sequence_column!r}: expected IUPAC "
            f"bases, found {sequences.iloc[row][:30]!r}"
        )
    return dict(sequences)


def read_labels(path, *, targets=None, exclude=(), name_column=None) -> pd.DataFrame:
    """Read a label table keyed by region name and check that targets are numbers.

    Parameters
    ----------
    path : str or Path
        A TSV with a header; its ``name`` column (or else its first column) holds region
        names.
    targets : list of str or None, optional
        Label columns to model. Default is None: every column whose values parse as
        numbers (a column of words, such as a group, is left out).
    exclude : sequence of str, optional
        Columns never taken as targets (a sequence, group or split column). Default is
        none.
    name_column : str or None, optional
        As in :func:`read_table`. Default is None.

    Returns
    -------
    labels : pandas.DataFrame
        Indexed by name, one float column per target; missing values are NaN.
    """
    table = read_table(path, name_column=name_column)
    missing = [t for t in targets or [] if t not in table.columns]
    if missing:
        raise InputError(
            f"{path}: expected target column(s) {missing}, found columns {list(table.columns)}"
        )
    columns = list(targets) if targets else [c for c in table.columns if c not in exclude]
    labels = {}
    for column in columns:
        values = table[column].str.strip()
        blank = values.isin(["", "NA", "NaN", "nan", "."])
        numbers = pd.to_numeric(values.where(~blank), errors="coerce")
        bad = numbers.isna() & ~blank
        if numbers.isna().all() and not targets:
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


def read_label_table(
    path, *, targets=None, exclude=(), helpers=(), name_column=None
) -> pd.DataFrame:
    """Numeric targets of a label table, then its split helper columns as text.

    Parameters
    ----------
    path : str or Path
        A TSV keyed by name (see :func:`read_labels`).
    targets : list of str or None, optional
        Label columns to model. Default is None: every numeric column.
    exclude : sequence of str, optional
        Columns never taken as targets (a sequence column). Default is none.
    helpers : sequence of str, optional
        Columns read as text after the targets (``split.group_by``, ``split.column``),
        never taken as targets. Default is none.
    name_column : str or None, optional
        As in :func:`read_table`. Default is None.

    Returns
    -------
    labels : pandas.DataFrame
        Indexed by name: one float column per target, then the helper columns.
    """
    helpers = [column for column in helpers if column]
    labels = read_labels(
        path, targets=targets, exclude=[*exclude, *helpers], name_column=name_column
    )
    if not helpers:
        return labels
    table = read_table(path, name_column=name_column)
    missing = [column for column in helpers if column not in table.columns]
    if missing:
        raise InputError(
            f"{path}: expected the split column(s) {missing}, found columns {list(table.columns)}"
        )
    return labels.join(table[helpers])


def read_names(path, names) -> np.ndarray:
    """Which of ``names`` a file of names (one a line, gzip ok) lists.

    Parameters
    ----------
    path : str or Path
        The file, e.g. ``split.test_names``.
    names : array-like of str, shape=(N,)
        The regions' names.

    Returns
    -------
    mask : numpy.ndarray of bool, shape=(N,)

    Raises
    ------
    InputError
        When the file lists none of ``names``.
    """
    names_read = _read_tsv(path, header=None, dtype=str)
    listed = set(names_read[0].str.strip())
    mask = np.isin(names, list(listed))
    if not mask.any():
        raise InputError(
            f"{path}: expected names of regions to hold out, found none of them "
            f"among the regions (first listed: {sorted(listed)[:2]})"
        )
    return mask


def read_motif_table(path) -> pd.DataFrame:
    """Read ``motifs.tsv`` or ``seqlet_motifs.tsv`` (written by ``seqsal motifs``) as text.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    table : pandas.DataFrame
        Every cell a string; an empty cell stays "" (and a TF named NA stays "NA").
    """
    return _read_tsv(path, dtype=str, keep_default_na=False)

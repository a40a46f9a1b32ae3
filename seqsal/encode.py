"""One-hot encoding of DNA: (N, 4, L) uint8 in ACGT order, N and IUPAC codes as zeros."""

from __future__ import annotations

import numpy as np

from .errors import SequenceError

ALPHABET = "ACGT"
IUPAC = "ACGTNRYSWKMBDHV"

# ASCII code -> 0..3 for ACGT (either case), 4 for the other IUPAC codes, 5 for the rest.
_LOOKUP = np.full(256, 5, dtype=np.uint8)
for _code in IUPAC + IUPAC.lower():
    _LOOKUP[ord(_code)] = 4
for _index, _base in enumerate(ALPHABET):
    _LOOKUP[ord(_base)] = _LOOKUP[ord(_base.lower())] = _index


_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
_PAIRS = np.frombuffer(b"TGCA", dtype=np.uint8)


def ascii_upper(codes: np.ndarray) -> np.ndarray:
    """Upper-case ASCII letters in an array of byte codes (other bytes are kept).

    Parameters
    ----------
    codes : numpy.ndarray of uint8
        ASCII codes.

    Returns
    -------
    upper : numpy.ndarray of uint8
        The same codes, a-z upper-cased.
    """
    lower = (codes >= ord("a")) & (codes <= ord("z"))
    return codes - (lower.view(np.uint8) << 5)


def all_iupac(codes: np.ndarray) -> bool:
    """Whether every byte code is an IUPAC nucleotide code (either case).

    Parameters
    ----------
    codes : numpy.ndarray of uint8
        ASCII codes.

    Returns
    -------
    valid : bool
    """
    return not (_LOOKUP[codes] == 5).any()


def _codes_to_one_hot(codes: np.ndarray, minus: np.ndarray, out=None, check=True) -> np.ndarray:
    """(N, L) upper-case byte codes to (N, 4, L) one-hot; ``minus`` rows come reversed and
    are complemented here. Raises :class:`SequenceError` on a non-IUPAC character, unless
    ``check`` is False (the codes are known to be IUPAC)."""
    X = np.empty((codes.shape[0], 4, codes.shape[1]), dtype=np.uint8) if out is None else out
    # channel k holds base k, or its complement on the - strand: one broadcast comparison
    targets = np.where(minus[:, None], _PAIRS[None, :], _BASES[None, :])
    np.equal(codes[:, None, :], targets[:, :, None], out=X.view(bool))
    if check and np.count_nonzero(X) != codes.size:  # N, other IUPAC codes, or junk
        holes = ~X.any(axis=1)
        if (_LOOKUP[codes[holes]] == 5).any():
            rows, columns = np.nonzero(holes & (_LOOKUP[codes] == 5))
            raise SequenceError(int(rows[0]), int(columns[0]), chr(codes[rows[0], columns[0]]))
    return X


def one_hot_encode(sequences) -> np.ndarray:
    """Encode equal-length sequences as a one-hot array.

    Parameters
    ----------
    sequences : list of str
        DNA sequences, all of the same length. Lowercase is read as uppercase; ``N`` and
        other IUPAC codes become all-zero columns.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        One-hot sequences in ACGT order.

    Raises
    ------
    SequenceError
        When a character is not an IUPAC code.
    """
    lengths = {len(s) for s in sequences}
    if len(lengths) > 1:
        raise ValueError(f"sequences: expected one length, found lengths {sorted(lengths)}")
    length = lengths.pop() if lengths else 0
    text = "".join(sequences).encode("latin-1", errors="replace")
    codes = ascii_upper(np.frombuffer(text, dtype=np.uint8)).reshape(len(sequences), length)
    return _codes_to_one_hot(codes, np.zeros(len(sequences), dtype=bool))


def encode_windows(
    contig: np.ndarray, starts, *, width: int, strands, out=None, check: bool = True
) -> np.ndarray:
    """One-hot encode windows of one contig, each on its own strand.

    Parameters
    ----------
    contig : numpy.ndarray of uint8
        The contig's upper-case ASCII codes (:func:`seqsal.io.read_contig`).
    starts : array-like of int
        0-based window starts; every window must lie inside the contig.
    width : int
        Bases per window.
    strands : array-like of str
        ``+``, ``-`` or ``.`` per window; ``-`` windows are reverse-complemented.
    out : numpy.ndarray, shape=(N, 4, width), dtype=uint8, optional
        Where to write the result. Default is None: a new array.
    check : bool, optional
        Look for non-IUPAC characters; False when the whole contig is known clean
        (:func:`all_iupac`). Default is True.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, width), dtype=uint8

    Raises
    ------
    SequenceError
        When a window holds a character that is not an IUPAC code (offset counted on
        the window's own strand).
    """
    minus = np.asarray(strands) == "-"
    codes = np.lib.stride_tricks.sliding_window_view(contig, width)[np.asarray(starts, np.int64)]
    codes[minus] = codes[minus, ::-1]  # - strand: reversed here, complemented below
    return _codes_to_one_hot(codes, minus, out, check)


def one_hot_to_sequences(X: np.ndarray) -> list:
    """Decode a one-hot array back to strings; all-zero columns become ``N``.

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)

    Returns
    -------
    sequences : list of str
        ``N`` where a column is all zero.
    """
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    index = np.where(X.any(axis=1), X.argmax(axis=1), 4)
    return [letters[row].tobytes().decode("ascii") for row in index]


def reverse_complement(X: np.ndarray) -> np.ndarray:
    """Reverse-complement one-hot sequences (or any (N, 4, L) array in ACGT order).

    Parameters
    ----------
    X : numpy.ndarray, shape=(N, 4, L)

    Returns
    -------
    rc : numpy.ndarray, shape=(N, 4, L)
        Bases and positions both reversed (ACGT order: A<->T, C<->G).
    """
    return X[:, ::-1, ::-1]


_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def reverse_complement_sequence(sequence: str) -> str:
    """Reverse complement of a DNA string (ACGTN, either case).

    Parameters
    ----------
    sequence : str
        IUPAC bases, either case.

    Returns
    -------
    rc : str
    """
    return sequence.translate(_COMPLEMENT)[::-1]


def encode_regions(sequences, strands) -> np.ndarray:
    """One-hot encode + strand sequences, reverse-complementing the ``-`` strand ones.

    Parameters
    ----------
    sequences : list of str
        Each region's sequence read on the + strand of the reference.
    strands : sequence of str
        ``+``, ``-`` or ``.`` per region; ``.`` is read as ``+``.

    Returns
    -------
    X : numpy.ndarray, shape=(N, 4, L), dtype=uint8
        One-hot sequences, each on its region's own strand.
    """
    X = one_hot_encode(sequences)
    minus = np.asarray(strands) == "-"
    X[minus] = reverse_complement(X[minus])
    return np.ascontiguousarray(X)


def dinucleotide_shuffle(sequence: str, *, rng) -> str:
    """Shuffle a sequence keeping its dinucleotide counts (Altschul-Erickson).

    The shuffle is a random Eulerian walk through the sequence's graph of dinucleotide
    edges: a random spanning arborescence towards the last character fixes each
    character's last out-edge (Wilson's algorithm), the other out-edges are permuted.

    Parameters
    ----------
    sequence : str
        Any characters; each is a node of the graph (case is kept).
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    shuffled : str
        Same first and last character, same count of every dinucleotide.
    """
    if len(sequence) < 3:
        return sequence
    edges = {}
    for a, b in zip(sequence, sequence[1:]):
        edges.setdefault(a, []).append(b)
    last = sequence[-1]
    in_tree, chosen = {last}, {}
    for start in edges:
        node = start
        while node not in in_tree:
            chosen[node] = int(rng.integers(len(edges[node])))
            node = edges[node][chosen[node]]
        node = start
        while node not in in_tree:
            in_tree.add(node)
            node = edges[node][chosen[node]]
    for node, targets in edges.items():
        final = targets.pop(chosen[node]) if node in chosen else None
        rng.shuffle(targets)
        if final is not None:
            targets.append(final)
    position = {node: 0 for node in edges}
    walk, node = [sequence[0]], sequence[0]
    for _ in range(len(sequence) - 1):
        node_next = edges[node][position[node]]
        position[node] += 1
        node = node_next
        walk.append(node)
    return "".join(walk)


def build_shard_arrays(regions, labels=None, *, group_by=None, split_column=None) -> dict:
    """The per-region arrays an encode shard stores beside its one-hot ``X``.

    Parameters
    ----------
    regions : pandas.DataFrame
        The shard's regions (``name``, ``chrom``, ...).
    labels : pandas.DataFrame or None, optional
        Indexed by name: float targets, then the split helper columns (as from
        :func:`seqsal.io.tables.read_label_table`). Default is None.
    group_by, split_column : str or None, optional
        The helper columns stored as ``groups`` and ``split``. Default is None.

    Returns
    -------
    arrays : dict
        ``names``, ``chroms`` (str, shape=(N,)); with labels also ``y`` (float32,
        shape=(N, T)) and ``targets`` (str, shape=(T,)), and ``groups``/``split``.
    """
    arrays = {"names": regions["name"].to_numpy(str), "chroms": regions["chrom"].to_numpy(str)}
    if labels is None:
        return arrays
    helpers = {column: key for column, key in ((group_by, "groups"), (split_column, "split"))}
    helpers.pop(None, None)
    targets = [column for column in labels.columns if column not in helpers]
    rows = labels.loc[regions["name"]]
    arrays["y"] = rows[targets].to_numpy(np.float32)
    arrays["targets"] = np.asarray(targets, dtype=str)
    for column, key in helpers.items():
        arrays[key] = rows[column].to_numpy(str)
    return arrays

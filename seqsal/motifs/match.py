"""Motifs named against a database with memelite's TOMTOM (a motif with no match at
q < ``max_q`` is novel), and the bounds of FIMO's p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..seqlets import benjamini_hochberg
from .build import information_bits
from .merge import consensus


def too_short_for(threshold: float, widths: dict, key: str) -> str:
    """One line naming the motifs FIMO cannot report at p-value ``threshold`` (empty
    when there are none).

    A motif's smallest FIMO p-value is that of its consensus word, 4^-width against a
    uniform background: below 1e-4, every motif of 6 bases or fewer (the -10 box
    ``TATAAT``, an E-box) has no hit at all.

    Parameters
    ----------
    threshold : float
        The p-value a hit needs.
    widths : dict
        ``{name: width}`` of the motifs, in bases.
    key : str
        The config key that set ``threshold``, named in the line.

    Returns
    -------
    line : str
    """
    short = {name: int(width) for name, width in widths.items() if 4.0**-width > threshold}
    if not short:
        return ""
    named = ", ".join(f"{name} ({width} bases)" for name, width in list(short.items())[:5])
    if len(short) > 5:
        named += f" and {len(short) - 5} more"
    enough = 10 ** np.ceil(np.log10(4.0 ** -min(short.values())))
    return (
        f"{key}: {threshold:g} is below the smallest p-value FIMO gives a motif of "
        f"{max(short.values())} bases or fewer (4^-width, at its consensus), so {named} "
        f"can have no hit; set {key} to {enough:g} to see them"
    )


# a motif database of fewer motifs gets background decoys for TOMTOM (see match_motifs)
SMALL_DATABASE = 100


def own_decoys(database: dict, *, total: int = SMALL_DATABASE, seed: int = 0) -> dict:
    """Decoys for a database of few motifs, made from its own matrices: each decoy is one
    of them with its columns in random order and each column's four probabilities given
    to the bases in random order. A decoy keeps its source's width and the information
    of every column (so TOMTOM's column null stays that of this kind of motif, bacterial
    or plant alike) but spells no real site.

    Parameters
    ----------
    database : dict
        ``{"<id> <name>": PPM (4, L)}``.
    total : int, optional
        Decoys and motifs together. Default is :data:`SMALL_DATABASE`.
    seed : int, optional
        Default is 0.

    Returns
    -------
    decoys : dict
        ``{"decoy_<i> <source>": PPM}``.
    """
    rng = np.random.default_rng(seed)
    sources = list(database)
    decoys = {}
    for i in range(max(0, total - len(sources))):
        name = sources[i % len(sources)]
        ppm = np.asarray(database[name], np.float64)[:, rng.permutation(database[name].shape[1])]
        ppm = np.take_along_axis(ppm, np.argsort(rng.random(ppm.shape), axis=0), axis=0)
        decoys[f"decoy_{i + 1} {name}"] = ppm
    return decoys


def match_motifs(
    ppms: list,
    database: dict,
    *,
    max_q: float = 0.05,
    n_matches: int = 3,
    min_bits: float = 4.0,
    decoys: dict | None = None,
) -> pd.DataFrame:
    """Match PPMs to a motif database with TOMTOM; BH q-values over each query's targets.

    Every query keeps its ``n_matches`` best matches, significant or not, so a motif left
    novel still shows its nearest database motifs. TOMTOM matches a flat query to the flat
    columns of long targets with tiny p-values, so a query with less than ``min_bits`` of
    information in all is never named.

    Parameters
    ----------
    ppms : list of numpy.ndarray, shape=(4, w)
        Query motifs.
    database : dict
        ``{"<id> <name>": PPM (4, L)}`` target motifs.
    max_q : float, optional
        A match names its query only with q below this. Default is 0.05.
    n_matches : int, optional
        Matches kept per query. Default is 3.
    min_bits : float, optional
        Least total information content (bits) of a query that may be named.
        Default is 4.0.
    decoys : dict or None, optional
        Motifs that join TOMTOM's targets as background, never reported as matches:
        TOMTOM's p-values take their null from the target columns, which a database of
        a few motifs leaves to those few columns. The q-values are the database's own
        (Benjamini-Hochberg over its motifs, as TOMTOM's are), decoys not counted.
        Default is None.

    Returns
    -------
    matches : pandas.DataFrame
        Columns ``query, rank, target, p_value, q_value, offset, strand, significant``
        (q below ``max_q`` and the query informative enough): query column ``i`` aligns
        with column ``i + offset`` of the target, read on ``strand`` (``-``: the target's
        reverse complement).
    """
    from memelite import tomtom

    rows = []
    if ppms:
        targets = list(database)
        background = [np.asarray(m, np.float64) for m in (decoys or {}).values()]
        p_values, _, offsets, _, strands = tomtom(
            [np.asarray(p, np.float64) for p in ppms],
            [np.asarray(database[t], np.float64) for t in targets] + background,
        )
        for query, p in enumerate(p_values):
            informative = information_bits(ppms[query]).sum() >= min_bits
            p = p[: len(targets)]
            q = benjamini_hochberg(p)  # over the database's motifs, decoys not counted
            for rank, t in enumerate(np.argsort(p, kind="stable")[:n_matches]):
                strand = "-" if strands[query, t] else "+"
                significant = bool(informative and q[t] < max_q)
                offset = int(offsets[query, t])
                rows.append((query, rank + 1, targets[t], p[t], q[t], offset, strand, significant))
    columns = ["query", "rank", "target", "p_value", "q_value", "offset", "strand", "significant"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"p_value": float, "q_value": float, "significant": bool})


def motif_table(
    motifs: list, matches: pd.DataFrame, *, n_matches: int = 3, families: dict | None = None
) -> pd.DataFrame:
    """One row per motif: id, seqlet count, sign, length, status, name, the best match's
    TF family (from ``families``, ``{target: family}``; empty when unknown), the top
    matches with their q-values (named or novel alike), then their p-values, then the
    strand each is read on (``-``: the motif is the match's reverse complement), then
    ``variants``: the consensus and seqlet count of each motif merged into this one
    (:func:`seqsal.motifs.merge_motifs`), largest first (its own alone when none was),
    then ``reverse_of``: for oriented sequences, the motif whose reverse complement this
    one is (:func:`seqsal.motifs.merge.reverse_pairs`), else empty.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`build_motifs`.
    matches : pandas.DataFrame
        As from :func:`match_motifs`.
    n_matches : int, optional
        Default is 3.
    families : dict or None, optional
        Default is None.

    Returns
    -------
    table : pandas.DataFrame
        ``motifs.tsv``.
    """
    rows = []
    for k, motif in enumerate(motifs):
        row = {
            "motif_id": f"motif_{k + 1}",
            "n_seqlets": motif["n_seqlets"],
            "sign": "positive" if motif["sign"] > 0 else "negative",
            "length": motif["ppm"].shape[1],
        }
        hits = matches[matches["query"] == k].sort_values("rank")
        named = bool(len(hits)) and bool(hits["significant"].iloc[0])
        row["status"] = "named" if named else "novel"
        row["name"] = hits["target"].iloc[0].split(" ", 1)[-1] if named else "novel"
        row["family"] = (families or {}).get(hits["target"].iloc[0], "") if named else ""
        for i in range(n_matches):
            hit = hits.iloc[i] if i < len(hits) else None
            row[f"match_{i + 1}"] = hit["target"] if hit is not None else ""
            row[f"match_{i + 1}_q"] = f"{hit['q_value']:.3g}" if hit is not None else ""
        for i in range(n_matches):
            hit = hits.iloc[i] if i < len(hits) else None
            row[f"match_{i + 1}_p"] = f"{hit['p_value']:.3g}" if hit is not None else ""
        for i in range(n_matches):
            row[f"match_{i + 1}_strand"] = hits["strand"].iloc[i] if i < len(hits) else ""
        made_of = motif.get("variants") or [(consensus(motif["ppm"]), motif["n_seqlets"])]
        row["variants"] = ", ".join(f"{core} {count}" for core, count in made_of)
        reverse_of = motif.get("reverse_of")
        row["reverse_of"] = "" if reverse_of is None else f"motif_{reverse_of + 1}"
        rows.append(row)
    columns = ["motif_id", "n_seqlets", "sign", "length", "status", "name", "family"]
    columns += [f"match_{i + 1}{s}" for i in range(n_matches) for s in ("", "_q")]
    columns += [f"match_{i + 1}_{s}" for s in ("p", "strand") for i in range(n_matches)]
    columns += ["variants", "reverse_of"]
    return pd.DataFrame(rows, columns=columns)

"""Variant effects: what each variant does to the model's output, how surprising that
is, and which motif it breaks or makes.

Every variant is checked against the reference (its contig, its position, its REF),
then placed in a window of the model's width: the region that holds it (the one whose
centre is nearest; variants of one region share its REF window), or, outside every region
or where the longer allele would not fit in it, a window centred on it. Alleles are
written in place on the + strand: an insertion pushes the window's last bases out, a
deletion pulls in the reference that follows (N past a contig's end), so both alleles
have the model's width. A ``-`` strand region is reverse-complemented for the model as
when it was encoded; the variant keeps the + strand coordinates it came with.

For each target the model's output on REF and ALT is averaged over both strands unless
the data are oriented; Δ = ALT − REF. A single-base substitution is an ISM value: it runs
through the same fastISM machinery (:func:`seqsal.attribute.ism.substituted_outputs`).
The p-value of |Δ| is empirical, against random substitutions in the same windows
(``n_null`` of them, spread evenly). Motif disruption: FIMO (memelite) scans a short
window around each variant in REF and ALT with every motif given; each hit that
overlaps the variant in either allele is reported with its p-value in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..motifs import too_short_for
from ..seqlets import benjamini_hochberg
from .maps import variant_maps
from .motif_hits import motif_disruption, motif_summary, motif_tiers
from .place import allele_windows, check_variants, place_variants, variant_kind
from .score import empirical_p, score_variants

__all__ = [
    "PER_TARGET",
    "TABLE_COLUMNS",
    "VCF_INFO",
    "allele_windows",
    "check_variants",
    "delta_track",
    "empirical_p",
    "motif_disruption",
    "motif_summary",
    "motif_tiers",
    "place_variants",
    "score_variants",
    "variant_effects",
    "variant_kind",
    "variant_maps",
    "vcf_rows",
]

TABLE_COLUMNS = [
    "name",
    "chrom",
    "pos",
    "ref",
    "alt",
    "kind",
    "window",
    "window_strand",
    "target",
    "ref_output",
    "alt_output",
    "delta",
    "delta_probability",
    "p_value",
    "q_value",
    "motif",
    "motif_effect",
    "motif_p_ref",
    "motif_p_alt",
    "motif_hits",
    "attr_ref",
    "attr_alt",
    "line",
]
PER_TARGET = ["ref_output", "alt_output", "delta", "p_value", "q_value", "delta_probability"]
# INFO key: (column of vcf_rows, Number, Type, Description)
VCF_INFO = {
    "SEQSAL_REF": (
        "ref_output",
        ".",
        "Float",
        "Model output on REF, one per target (see ##seqsal_targets)",
    ),
    "SEQSAL_ALT": ("alt_output", ".", "Float", "Model output on ALT, one per target"),
    "SEQSAL_DELTA": ("delta", ".", "Float", "ALT minus REF output, one per target"),
    "SEQSAL_P": (
        "p_value",
        ".",
        "Float",
        "Empirical p-value of |delta| against random substitutions in the variants' windows, "
        "one per target; the smallest possible is 1/(1 + ##seqsal_null_size)",
    ),
    "SEQSAL_Q": (
        "q_value",
        ".",
        "Float",
        "Benjamini-Hochberg q-value of SEQSAL_P over the file's variants, one per target",
    ),
    "SEQSAL_DPROB": (
        "delta_probability",
        ".",
        "Float",
        "Change in probability, one per binary target",
    ),
    "SEQSAL_MOTIF": (
        "motif",
        "1",
        "String",
        "Motif whose hit over the variant changes most (percent-encoded)",
    ),
    "SEQSAL_EFFECT": (
        "motif_effect",
        "1",
        "String",
        "What ALT does to that hit: breaks, makes, weakens or strengthens",
    ),
    "SEQSAL_MOTIF_P": ("motif_p", "2", "Float", "FIMO p-value of that hit in REF and in ALT"),
    "SEQSAL_WINDOW": (
        "window",
        "1",
        "String",
        "Region (or centred window) the variant was scored in",
    ),
}


def variant_effects(
    variants,
    unread,
    regions,
    read_contig,
    sizes,
    model,
    meta,
    *,
    targets,
    oriented,
    motifs,
    n_null=2000,
    motif_p=1e-4,
    max_maps=100,
    map_flank=15,
    method="grad_x_input",
    source="",
    device="cpu",
    seed=0,
    log=None,
) -> tuple:
    """Score every variant: outputs on REF and ALT, delta, p-value, motifs, maps.

    Parameters
    ----------
    variants : pandas.DataFrame
        :func:`seqsal.io.variants.read_variants`' rows.
    unread : pandas.DataFrame
        Rows the reader rejected (``source, line, name, reason``), reported with the rest.
    regions : pandas.DataFrame
        The run's regions: windows of the model's width.
    read_contig : callable
        ``read_contig(chrom)``: upper-case ASCII codes (uint8).
    sizes : dict
        ``{contig: length}``.
    model : torch.nn.Module
    meta : dict
        The checkpoint's metadata (``input_length``, ``targets``, ``tasks``).
    targets : list of int
        The outputs scored; the first ranks the maps.
    oriented : bool
    motifs : dict
        ``{motif name: PPM}`` scanned for disruption; names starting ``motif_`` (this
        run's) are reported first.
    n_null, motif_p, max_maps, map_flank : optional
        See the config's ``variants`` keys.
    method : str, optional
        The maps' attribution method. Default is "grad_x_input".
    source : str, optional
        The variants' file, named in ``rejected``. Default is "".
    device : str or torch.device, optional
    seed : int, optional
    log : logging.Logger or None, optional

    Returns
    -------
    table : pandas.DataFrame
        One row per variant x target: :data:`TABLE_COLUMNS`.
    rejected : pandas.DataFrame
        ``source, line, name, reason``, in input order.
    maps : dict
        Arrays of the top variants' maps (``names``, ``ref``, ``alt``, ``start``).
    """
    width = int(meta["input_length"])
    checked, bad = check_variants(variants, read_contig, sizes, width=width, source=source)
    rejected = pd.concat([unread, bad], ignore_index=True).sort_values("line", kind="stable")
    placed = place_variants(checked, regions, width=width)
    scan_flank = max([ppm.shape[1] for ppm in motifs.values()] + [2]) - 1
    ref, alt, null, around = score_variants(
        placed,
        read_contig,
        model,
        width=width,
        oriented=oriented,
        n_null=n_null,
        flank=scan_flank,
        device=device,
        seed=seed,
        log=log,
    )
    same = (placed["ref"] == placed["alt"]).to_numpy()
    alt[same] = ref[same]  # the same sequence: exactly no change
    if log is not None:
        log.info("scored %d variants in %d windows", len(placed), placed["window"].nunique())
    lengths = np.stack([placed["ref"].str.len(), placed["alt"].str.len()], axis=1)
    short = too_short_for(
        motif_p, {name: np.shape(ppm)[-1] for name, ppm in motifs.items()}, "variants.motif_p"
    )
    if short and log is not None:
        log.warning("%s (broken or made motifs)", short)
    hits = motif_disruption(*around, scan_flank, lengths, motifs, threshold=motif_p)
    summary = motif_summary(hits, len(placed), motif_p, prefer=motif_tiers(motifs))
    delta = alt - ref
    p = empirical_p(delta, null)
    first = targets[0] if targets else 0
    top = np.argsort(-np.abs(delta[:, first]), kind="stable")[:max_maps] if len(placed) else []
    maps = variant_maps(
        placed.iloc[top],
        read_contig,
        model,
        width=width,
        oriented=oriented,
        target=first,
        method=method,
        flank=map_flank,
        device=device,
    )
    attr = {k: np.full(len(placed), np.nan, np.float32) for k in ("attr_ref", "attr_alt")}
    for k in attr:
        attr[k][top] = maps.pop(k)
    table = _table(placed, summary, ref, alt, delta, p, attr, targets, meta)
    names = placed["name"].to_numpy(str)[top]
    maps.update(names=names, start=(placed["pos"].to_numpy()[top] + 1 - map_flank))
    maps["chrom"] = placed["chrom"].to_numpy(str)[top]
    return table, rejected.reset_index(drop=True), maps


def _table(placed, summary, ref, alt, delta, p, attr, targets, meta) -> pd.DataFrame:
    """One row per variant x target, variants in input order."""
    frames = []
    tasks = meta.get("tasks") or ["regression"] * len(meta["targets"])
    for t in targets:
        binary = tasks[t] == "binary"
        sigmoid = lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))  # noqa: E731
        frames.append(
            pd.DataFrame(
                {
                    "name": placed["name"].to_numpy(),
                    "chrom": placed["chrom"].to_numpy(),
                    "pos": placed["pos"].to_numpy() + 1,
                    "ref": placed["ref"].to_numpy(),
                    "alt": placed["alt"].to_numpy(),
                    "kind": [variant_kind(r, a) for r, a in zip(placed["ref"], placed["alt"])],
                    "window": placed["window"].to_numpy(),
                    "window_strand": placed["window_strand"].to_numpy(),
                    "target": str(meta["targets"][t]),
                    "ref_output": ref[:, t],
                    "alt_output": alt[:, t],
                    "delta": delta[:, t],
                    "delta_probability": (
                        sigmoid(alt[:, t]) - sigmoid(ref[:, t]) if binary else np.nan
                    ),
                    "p_value": p[:, t],
                    "q_value": benjamini_hochberg(p[:, t]),
                    **{k: summary[k].to_numpy() for k in summary},
                    **attr,
                    "line": placed["line"].to_numpy(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table = table.reindex(columns=TABLE_COLUMNS)
    return table.sort_values(["line", "alt"], kind="stable").reset_index(drop=True)


def vcf_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant for :func:`seqsal.io.variants.write_variant_vcf`: the
    per-target columns as lists, ``pos`` 0-based.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`variant_effects`' table.

    Returns
    -------
    rows : pandas.DataFrame
    """
    keys = ["name", "chrom", "pos", "ref", "alt", "line"]
    grouped = table.groupby(keys, sort=False)
    rows = grouped.first().reset_index()
    for column in PER_TARGET:
        values = grouped[column].agg(list).to_numpy()
        rows[column] = [
            None if all(pd.isna(v) for v in vs) else [None if pd.isna(v) else float(v) for v in vs]
            for vs in values
        ]
    rows["motif_p"] = [
        None if pd.isna(r) else (float(r), float(a))
        for r, a in zip(rows["motif_p_ref"], rows["motif_p_alt"])
    ]
    for column in ("motif", "motif_effect"):
        rows[column] = rows[column].where(rows[column] != "", None)
    rows["pos"] = rows["pos"] - 1
    return rows


def delta_track(table: pd.DataFrame) -> pd.DataFrame:
    """BED9 of the first target's delta: one feature per variant over its REF bases,
    red where ALT raises the output, blue where it lowers it; score ``1000 |delta| /
    max |delta|``.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`variant_effects`' table.

    Returns
    -------
    bed : pandas.DataFrame
    """
    first = table[table["target"] == table["target"].iloc[0]] if len(table) else table
    delta = first["delta"].to_numpy(float)
    top = max(float(np.abs(delta).max()) if len(delta) else 0.0, 1e-12)
    start = first["pos"].to_numpy() - 1
    effect = [
        f"; {e} {m.split()[-1]}" if e else ""
        for e, m in zip(first["motif_effect"].fillna(""), first["motif"].fillna(""))
    ]
    return pd.DataFrame(
        {
            "chrom": first["chrom"].to_numpy(),
            "start": start,
            "end": start + first["ref"].str.len().to_numpy(),
            "name": [f"{n} delta={d:+.3g}{e}" for n, d, e in zip(first["name"], delta, effect)],
            "score": np.round(1000 * np.abs(delta) / top).astype(np.int64),
            "strand": ".",
            "thickStart": start,
            "thickEnd": start + first["ref"].str.len().to_numpy(),
            "itemRgb": np.where(
                delta > 0, "178,24,43", np.where(delta < 0, "33,102,172", "128,128,128")
            ),
        }
    )

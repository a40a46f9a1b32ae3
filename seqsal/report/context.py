"""What the report's page shows, formatted from the run's files: metric and motif rows, the
trust section, the variants, example regions and embedded images."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd

from ..plots import attribution_logo
from ..tracks import motif_color
from .verdicts import below, percent, saturation_words, three_digits


def png_base64(fig) -> str:
    """Encode a matplotlib figure as a base64 PNG string.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    png : str
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def file_base64(path) -> str:
    """Read a file (an image) and return its bytes base64-encoded, for embedding.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    data : str
    """
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode("ascii")


def metric_rows(metrics: dict):
    """Metric names and one formatted row per split and target of ``metrics.json``.

    Parameters
    ----------
    metrics : dict
        ``metrics.json``.

    Returns
    -------
    names : list of str
        The metrics' column names.
    rows : list of dict
        ``split``, ``target``, ``n`` and the formatted metrics.
    """
    names, rows = [], []
    for split in ("train", "valid", "test"):
        for target, values in metrics.get(split, {}).items():
            names += [k for k in values if k != "n" and k not in names]
            formatted = {k: f"{v:.3f}" if isinstance(v, float) else v for k, v in values.items()}
            rows.append({"split": split, "target": target, **formatted})
    return names, rows


def jaspar_url(target: str) -> str | None:
    """The JASPAR page of a match named ``MA0035.5 GATA1``, or None for another database.

    Parameters
    ----------
    target : str

    Returns
    -------
    url : str or None
    """
    found = re.match(r"(MA\d{4}\.\d+)(\s|$)", str(target))
    return f"https://jaspar.elixir.no/matrix/{found.group(1)}/" if found else None


def variant_context(
    table,
    maps,
    *,
    n_rejected: int,
    n_null: int,
    motif_p: float,
    method: str,
    strands: bool,
    own_motifs: int,
    n: int = 10,
) -> dict:
    """The report's variant section: a verdict line and the top variants with their maps.

    Parameters
    ----------
    table : pandas.DataFrame
        ``variants.tsv``.
    maps : dict
        ``maps.npz``: ``names``, ``chrom``, ``start``, ``ref``, ``alt``.
    n_rejected, n_null : int
    motif_p : float
    method : str
        The maps' attribution method.
    strands : bool
        Whether outputs were averaged over both strands.
    own_motifs : int
        The run's own motifs (only they, or the database motifs they were named after,
        make the motif column).
    n : int, optional
        Variants shown. Default is 10.

    Returns
    -------
    context : dict
    """
    from ..plots import allele_logos

    first = table[table["target"] == table["target"].iloc[0]] if len(table) else table
    order = first.reindex(first["delta"].abs().sort_values(ascending=False).index)
    index = {name: i for i, name in enumerate(maps["names"])}
    rows = []
    for v in order.head(n).itertuples(index=False):
        image = None
        if v.name in index:
            i = index[v.name]
            figure = allele_logos(
                maps["ref"][i],
                maps["alt"][i],
                title=f"{v.name}  {v.chrom}:{v.pos:,}",
                start=int(maps["start"][i]),
                label=f"{v.ref}>{v.alt}",
            )
            image = png_base64(figure)
        motif = ""
        if isinstance(v.motif, str) and v.motif:
            p_ref, p_alt = three_digits(v.motif_p_ref), three_digits(v.motif_p_alt)
            motif = f"{v.motif_effect} {v.motif} (p {p_ref} → {p_alt})"
        rows.append(
            {
                "name": v.name,
                "alleles": f"{v.ref}>{v.alt} ({v.kind})",
                "where": f"{v.chrom}:{v.pos:,}",
                "delta": f"{v.delta:+.3g}",
                "p": three_digits(v.p_value),
                "q": three_digits(v.q_value),
                "motif": motif,
                "image": image,
            }
        )
    significant = first["q_value"] < 0.05
    verdict = f"{int(significant.sum())} of {len(first)} change the output at q < 0.05"
    broken = first[significant & first["motif_effect"].isin(["breaks", "makes"])]
    if len(broken):
        verdict += f"; {len(broken)} of them break or make a motif site"
    if rows:
        top = rows[0]
        motif = f", {top['motif']}" if top["motif"] else ""
        verdict += f"; the strongest, {top['name']} (Δ {top['delta']}){motif}."
    return {
        "verdict": verdict,
        "rows": rows,
        "n": len(first),
        "n_rejected": n_rejected,
        "n_null": n_null,
        "p_floor": three_digits(1 / (1 + n_null)),
        "own_motifs": own_motifs,
        "motif_p": motif_p,
        "method": method,
        "strands": strands,
        "target": f"target {first['target'].iloc[0]}" if len(first) else "",
        "track": True,
    }


def motif_rows(table: pd.DataFrame, logos: dict, max_q: float = 0.05) -> list:
    """One dict per motif of ``motifs.tsv``: its matches (each ``significant`` or only
    the nearest), logo (base64 PNG) and color.

    Parameters
    ----------
    table : pandas.DataFrame
        ``motifs.tsv``, read as text.
    logos : dict
        ``{motif_id: base64 PNG}``.
    max_q : float, optional
        ``motifs.max_q``. Default is 0.05.

    Returns
    -------
    rows : list of dict
    """
    rows = []
    for row in table.to_dict("records"):
        matches = [
            {
                "target": row[f"match_{i}"],
                "q": row[f"match_{i}_q"],
                "p": row.get(f"match_{i}_p", ""),
                "url": jaspar_url(row[f"match_{i}"]),
                "significant": row["status"] == "named" and below(row[f"match_{i}_q"], max_q),
            }
            for i in (1, 2, 3)
            if row.get(f"match_{i}")
        ]
        rows.append(
            {
                **row,
                "family": row.get("family") or "",  # a user-edited or older table may lack it
                "merged": len((row.get("variants") or "").split(", ")) > 1,
                "reverse_of": row.get("reverse_of") or "",
                "matches": matches,
                "logo": logos[row["motif_id"]],
                "color": motif_color(row["motif_id"]),
            }
        )
    return rows


def example_regions(table, assignments, seqlets, regions, contrib) -> list:
    """Per motif, the attribution logo of the region holding its strongest seqlet.

    Parameters
    ----------
    table, assignments, seqlets, regions : pandas.DataFrame
        ``motifs.tsv``, ``seqlet_motifs.tsv``, ``seqlets.bed`` and ``regions.bed``.
    contrib : callable
        ``contrib(i)``: the actual contributions (``hyp * X``, shape (4, L)) of the
        region ``i`` of ``regions``.
    """
    from ..intervals import genome_positions

    index = pd.Series(np.arange(len(regions)), index=regions["name"].to_numpy())
    examples = []
    for motif_id, name in zip(table["motif_id"], table["name"]):
        members = assignments.loc[assignments["motif_id"] == motif_id, "seqlet"]
        for region in seqlets[seqlets["name"].isin(members)].nlargest(1, "attr_sum")["region"]:
            row = regions.iloc[[index[region]]]
            r = row.iloc[0]
            where = f"{r['chrom']}:{r['start'] + 1:,}-{r['end']:,} ({r['strand']} strand)"
            contribution = contrib(index[region])
            positions = genome_positions(row, contribution.shape[1])[0]
            figure = attribution_logo(
                contribution,
                title=f"{region}  {where}",
                positions=np.where(positions >= 0, positions + 1, -1),
                axis_label=f"{r['chrom']} position (1-based; read 5' to 3' on the "
                f"{'reverse' if r['strand'] == '-' else 'forward'} strand)",
            )
            examples.append(
                {
                    "title": f"{motif_id} ({name}): region {region}, {where}, "
                    "attribution × sequence",
                    "image": png_base64(figure),
                }
            )
    return examples


def comparison_rows(comparison: dict) -> dict:
    """``summary.json``'s ``comparison`` (``evaluate.compare_to``) as a table: one column
    per model, one row per measure.

    Parameters
    ----------
    comparison : dict
        ``{model: measures}`` of :func:`seqsal.evaluate.compare_models`.

    Returns
    -------
    table : dict
        ``models`` (names) and ``rows`` (``measure``, ``values``).
    """
    models = list(comparison)
    entries = list(comparison.values())
    rows = []
    for target, scores in entries[0].get("test", {}).items():
        metric = "auroc" if "auroc" in scores else "pearson"
        values = [three_digits(e.get("test", {}).get(target, {}).get(metric)) for e in entries]
        rows.append({"measure": f"test {metric}, {target}", "values": values})
    rows.append(
        {
            "measure": "deletion beats random",
            "values": [percent(e["deletion_fraction_beats_random"]) for e in entries],
        }
    )
    rows.append(
        {
            "measure": "deletion AUC (lower: more faithful)",
            "values": [three_digits(e["mean_deletion_auc"]) for e in entries],
        }
    )
    if "map_pearson" in entries[0]:
        values = [three_digits(e["map_pearson"]) for e in entries]
        rows.append({"measure": f"maps: median per-region r with {models[0]}'s", "values": values})
    if "known_site_auroc" in entries[0]:
        values = [three_digits(e["known_site_auroc"]) for e in entries]
        rows.append({"measure": "known sites: AUROC", "values": values})
    for name in entries[0].get("shortcuts", {}):
        values = [percent(e["shortcuts"][name]) for e in entries]
        rows.append({"measure": f"share of |attribution| in {name}", "values": values})
    return {"models": models, "rows": rows}


def trust_context(summary: dict, method: str) -> dict:
    """The "Can you trust these maps?" section's values, formatted, from summary.json.

    Parameters
    ----------
    summary : dict
        ``summary.json``.
    method : str
        The first attribution method.

    Returns
    -------
    context : dict
        What the template's trust section shows.
    """
    first = summary["faithfulness"][method]
    truth = summary.get("truth")
    methods = _method_rows(summary["faithfulness"], truth)
    stability = {k: three_digits(v) for k, v in summary["stability"].items() if k != "seeds"}
    seeds = {
        name: {k: three_digits(v) for k, v in entry.items()}
        for name, entry in summary["stability"].get("seeds", {}).items()
    }
    saturation_text = saturation_words(summary["saturation"])
    field_text = receptive_field_words(summary["receptive_field"])
    shortcuts = summary["shortcuts"]
    warnings = shortcut_warnings(shortcuts)
    return {
        "method": method,
        "n_regions": first["n_regions"],
        "tested": summary["tested"],
        "background": "a dinucleotide shuffle of the region"
        if summary["background"] == "shuffle"
        else "N",
        "methods": methods,
        "truth": {k: three_digits(v) for k, v in truth.items() if not isinstance(v, dict)}
        if truth
        else None,
        "stability": stability,
        "seeds": seeds,
        "saturation": saturation_text,
        "receptive_field": field_text,
        "intervals": [{k: three_digits(v) for k, v in i.items()} for i in shortcuts["intervals"]],
        "artefact_kmers": shortcuts["artefact_kmers"],
        "constant": _constant_words(shortcuts.get("constant")),
        "artefacts_given": shortcuts.get("artefacts_given", False),
        "warnings": warnings,
        "comparison": comparison_rows(summary["comparison"]) if summary.get("comparison") else None,
    }


def _method_rows(faithfulness: dict, truth: dict | None) -> list:
    """The faithfulness table's rows, a method each, with its known-site scores."""
    methods = []
    for name, entry in faithfulness.items():
        row = {k: three_digits(v) for k, v in entry.items()}
        row.update(
            method=name,
            deletion_pct=percent(entry["deletion_fraction_beats_random"]),
            insertion_pct=percent(entry["insertion_fraction_beats_random"]),
            weak_deletion=entry["deletion_fraction_beats_random"] < 0.95,
            left_half=percent(entry.get("median_deletion_left_half_where_losing")),
            left_half_random=percent(entry.get("median_deletion_left_half_random_where_losing")),
            by_fifth=", ".join(
                map(percent, entry.get("deletion_fraction_beats_random_by_output_fifth", []))
            ),
        )
        if truth and name in truth:
            row.update(
                auroc=three_digits(truth[name]["auroc"]), auprc=three_digits(truth[name]["auprc"])
            )
        elif truth:
            row.update(auroc="n/a", auprc="n/a")
        methods.append(row)
    return methods


def receptive_field_words(field: dict) -> str:
    """What the receptive-field test found, in words (``summary["receptive_field"]``)."""
    layers = field["layers"]
    field_text = (
        "The model has no convolution."
        if not layers
        else (
            f"Impulse response of each of the {len(layers)} convolutions"
            + (
                f" of each of the {layers[0]['members']} members of the ensemble (their mean shown)"
                if "members" in layers[0]
                else ""
            )
            + " (gradient of its central output with respect to a neutral input, fitted with "
            "a Gaussian): sigma "
            + ", ".join(f"{three_digits(x['sigma'])}" for x in layers)
            + " bases, against theoretical receptive fields of "
            + ", ".join(f"{x['theoretical']}" for x in layers)
            + " bases. The model effectively reads a window much narrower than its theoretical one"
            " when sigma is small against it."
        )
    )
    if "fits" in field:
        fits = field["fits"]
        field_text += (
            f" Over depth, sigma = a + b√depth fits with R² {three_digits(fits['sqrt']['r2'])}, "
            f"sigma = a + b·depth with R² {three_digits(fits['linear']['r2'])}."
        )
    return field_text


def _constant_words(constant: dict | None) -> str:
    """The shared stretches' line of the shortcut audit."""
    if not constant:
        return "The sequences share no constant stretch (none in 90% of them)."
    return (
        f"Stretches every sequence shares ({', '.join(constant['stretches'])}; "
        f"{percent(constant['base_fraction'])} of the bases) draw "
        f"{percent(constant['attribution_fraction'])} of all |attribution| "
        f"({constant['enrichment']:.1f}× their share); they are kept out of every motif."
    )


def shortcut_warnings(shortcuts: dict) -> list:
    """A sentence per flagged nuisance interval, for flagged shared stretches and per
    seqlet k-mer found in an artefact sequence (``summary["shortcuts"]``)."""
    constant = shortcuts.get("constant") or {}
    shared = (
        [
            f"{percent(constant['attribution_fraction'])} of all |attribution| falls in the "
            f"stretches every sequence shares ({', '.join(constant['stretches'])}; "
            f"{percent(constant['base_fraction'])} of the bases, {constant['enrichment']:.1f}× "
            "their share). They cannot explain why outputs differ: the model may be reading "
            "the library's design rather than biology."
        ]
        if constant.get("flagged")
        else []
    )
    return (
        shared
        + [
            f"{percent(i['attribution_fraction'])} of all |attribution| falls in {i['name']} "
            f"(positions {i['start']}-{i['end']}, {percent(i['base_fraction'])} of the bases; "
            f"{i['enrichment']:.1f}× its share). The model may be reading this nuisance "
            "interval rather than biology."
            for i in shortcuts["intervals"]
            if i["flagged"]
        ]
        + [
            f"the seqlet k-mer {k['kmer']} ({k['seqlets']} seqlets) occurs in the artefact "
            f"sequence {k['artefact']}."
            for k in shortcuts["artefact_kmers"]
        ]
    )

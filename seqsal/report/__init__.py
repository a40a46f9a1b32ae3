"""The HTML report: one self-contained page (images embedded as base64 PNG)."""

from __future__ import annotations

from importlib import resources

import jinja2
import pandas as pd

from ..motifs import too_short_for
from .context import (
    comparison_rows,
    example_regions,
    file_base64,
    jaspar_url,
    metric_rows,
    motif_rows,
    png_base64,
    trust_context,
    variant_context,
)
from .verdicts import (
    comparison_verdict,
    data_words,
    model_verdict,
    motif_verdict,
    report_verdict,
    saturation_words,
    training_notes,
    trust_verdict,
)

__all__ = [
    "TEMPLATE",
    "build_report",
    "comparison_rows",
    "comparison_verdict",
    "data_words",
    "example_regions",
    "file_base64",
    "jaspar_url",
    "metric_rows",
    "model_verdict",
    "motif_rows",
    "motif_verdict",
    "png_base64",
    "render_report",
    "report_verdict",
    "saturation_words",
    "training_notes",
    "trust_context",
    "trust_verdict",
    "variant_context",
]


# the page, a Jinja2 template shipped with the package (autoescaped: every string from a
# user's file is escaped for where it lands)
TEMPLATE = (resources.files(__package__) / "report.html.j2").read_text(encoding="utf-8")


def render_report(*, summary: dict, method: str, **context) -> str:
    """Render the report page from the run's summary and formatted context (see TEMPLATE).

    Parameters
    ----------
    summary : dict
        ``summary.json``.
    method : str
        The first attribution method.
    **context
        The template's other values (see :func:`build_report`).

    Returns
    -------
    html : str
    """
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    context.setdefault("variants", None)  # a run without variants has no section
    context.setdefault("hit_floor", "")
    context.setdefault("data", "")  # what the model learnt from, when the run says
    return env.from_string(TEMPLATE).render(
        trust=trust_context(summary, method), method=method, **context
    )


def build_report(
    *,
    metrics: dict,
    summary: dict,
    table: pd.DataFrame,
    assignments: pd.DataFrame,
    seqlets: pd.DataFrame,
    regions: pd.DataFrame,
    contrib,
    images: dict,
    method: str = "grad_x_input",
    database: str = "jaspar2024_vertebrates",
    alpha: float = 0.2,
    null_model: str = "shuffle",
    max_q: float = 0.05,
    merge_threshold: float = 0.7,
    genome: str = "",
    variants: dict | None = None,
    motif_hit_p: float = 1e-4,
    data: dict | None = None,
) -> str:
    """The report stage: the self-contained HTML page of one run.

    Parameters
    ----------
    metrics : dict
        ``metrics.json`` of the train stage.
    summary : dict
        ``summary.json`` of the evaluate stage.
    table, assignments : pandas.DataFrame
        ``motifs.tsv`` (read as text) and ``seqlet_motifs.tsv``.
    seqlets : pandas.DataFrame
        ``seqlets.bed``.
    regions : pandas.DataFrame
        The regions, in the order ``contrib`` indexes them.
    contrib : callable
        ``contrib(i)``: the contribution map (4, L) of region ``i``, for the examples.
    images : dict
        Base64 PNGs: ``curves``, ``faithfulness_plot``, ``field_plot``, and ``logos``
        (``{motif_id: png}``).
    method : str, optional
        The first attribution method. Default is "grad_x_input".
    database : str, optional
        ``motifs.database``. Default is "jaspar2024_vertebrates".
    alpha : float, optional
        ``seqlets.alpha``, the seqlets' FDR. Default is 0.2.
    null_model : str, optional
        ``seqlets.null_model``. Default is "shuffle".
    max_q : float, optional
        ``motifs.max_q``, the q-value a match must beat to name a motif. Default is 0.05.
    merge_threshold : float, optional
        ``motifs.merge_threshold``, as the report states the merge rule. Default is 0.7.
    genome : str, optional
        The reference FASTA's path, as shown. Default is "".
    variants : dict or None, optional
        :func:`variant_context`'s section, when the run scored variants. Default is None.
    motif_hit_p : float, optional
        ``tracks.motif_hit_p``: the report says which motifs it leaves without a hit
        (:func:`seqsal.motifs.too_short_for`). Default is 1e-4.
    data : dict or None, optional
        ``summary.json`` of the regions stage: what was kept, where the labels came
        from, the negatives' GC match. Default is None (not said).

    Returns
    -------
    html : str
    """
    from .. import __version__

    names, rows = metric_rows(metrics)
    widths = dict(zip(table["motif_id"], table["length"].astype(int)))
    if variants is not None:
        floor = too_short_for(variants["motif_p"], widths, "variants.motif_p")
        variants = {**variants, "motif_floor": floor}
    return render_report(
        version=__version__,
        n_regions=len(regions),
        method=method,
        database=database,
        metric_names=names,
        metric_rows=rows,
        training=training_notes(metrics),
        curves=images["curves"],
        motifs=motif_rows(table, images["logos"], max_q),
        n_seqlets=len(seqlets),
        alpha=alpha,
        null_model=null_model,
        max_q=max_q,
        merge_threshold=merge_threshold,
        verdict=report_verdict(metrics, summary, table, len(seqlets), method, database, max_q),
        examples=example_regions(table, assignments, seqlets, regions, contrib),
        n_assigned=int((assignments["motif_id"] != "none").sum()),
        summary=summary,
        faithfulness_plot=images["faithfulness_plot"],
        field_plot=images["field_plot"],
        genome=genome,
        variants=variants,
        hit_floor=too_short_for(motif_hit_p, widths, "tracks.motif_hit_p"),
        data=data_words(data) if data else "",
    )

"""The HTML report: one self-contained page (images embedded as base64 PNG)."""

from __future__ import annotations

import base64
import io

import jinja2
import numpy as np
import pandas as pd

from .plots import attribution_logo
from .tracks import motif_color

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>seqsal report</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc;
  padding: 4px 8px; vertical-align: middle; text-align: left; } th { background: #f2f2f2; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: middle; margin-right: 4px; }
.novel { color: #a05a00; font-style: italic; } img { max-width: 100%; }
code { background: #f4f4f4; padding: 1px 4px; } .small { font-size: 0.85em; color: #555; }
</style></head><body>
<h1>seqsal report</h1>
<p class="small">seqsal {{ version }} &middot; {{ n_regions }} regions &middot;
 attribution: {{ method }} &middot; motif database: {{ database }}</p>

<h2>Model</h2>
<table id="metrics"><tr><th>split</th><th>target</th><th>n</th>
{% for m in metric_names %}<th>{{ m }}</th>{% endfor %}</tr>
{% for row in metric_rows %}<tr><td>{{ row.split }}</td><td>{{ row.target }}</td><td>{{ row.n }}</td>
{% for m in metric_names %}<td>{{ row[m] }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if curves %}<img alt="training curves" src="data:image/png;base64,{{ curves }}" width="420">{% endif %}

<h2>Motifs</h2>
<p>{{ n_seqlets }} seqlets (FDR &lt; {{ alpha }}); {{ n_assigned }} assigned to a motif.
A motif is named only when TOMTOM finds a database match with q &lt; 0.05; otherwise it is
reported as <span class="novel">novel</span>.</p>
<table id="motif-table"><tr><th>motif</th><th>seqlets</th><th>best matches (q-value)</th>
<th>contribution and PPM logos</th></tr>
{% for m in motifs %}<tr><td><span class="swatch" style="background: {{ m.color }}"></span>
<b>{{ m.motif_id }}</b><br>{% if m.status == 'novel' %}<span class="novel">novel</span>
{% else %}{{ m.name }}{% endif %}<br><span class="small">{{ m.sign }}, {{ m.length }} bp</span></td>
<td>{{ m.n_seqlets }}</td><td>{% for hit in m.matches %}{{ hit.target }} ({{ hit.q }})<br>
{% else %}no match at q &lt; 0.05{% endfor %}</td>
<td><img alt="logos of {{ m.motif_id }}" src="data:image/png;base64,{{ m.logo }}" width="560"></td></tr>
{% else %}<tr><td colspan="4">No motif had enough seqlets.</td></tr>{% endfor %}</table>

{% if examples %}<h3>Example regions</h3>
{% for ex in examples %}<p class="small">{{ ex.title }}</p>
<img alt="{{ ex.title }}" src="data:image/png;base64,{{ ex.image }}">{% endfor %}{% endif %}

<h2>Can you trust these maps?</h2>
{% if deletion %}<p>Deleting the {{ "top-attributed" }} bases first lowers the model's output
faster than deleting random bases in <b>{{ deletion.fraction_beats_random_pct }}</b> of the
{{ deletion.n_regions }} regions tested (mean normalised deletion AUC
{{ deletion.mean_auc_attribution }} vs {{ deletion.mean_auc_random }} for random orders;
lower is more faithful).</p>{% endif %}
{% if stability %}<p>Each region's attributions and those of its reverse complement, mapped
back base by base, agree with a median Pearson correlation of
<b>{{ stability.median_rc_pearson }}</b> (Spearman {{ stability.median_rc_spearman }}); their
{{ stability.top_k }} strongest bases overlap by a median Jaccard index of
{{ stability.median_rc_top_jaccard }} ({{ stability.n_regions }} regions).</p>{% endif %}
{% if truth %}<p>Known sites: per-base |attribution| separates bases in known sites from
the rest with AUROC <b>{{ truth.auroc }}</b> (AUPRC {{ truth.auprc }}); seqlet precision
<b>{{ truth.seqlet_precision }}</b>, recall <b>{{ truth.seqlet_recall }}</b>
({{ truth.n_sites }} sites).</p>{% endif %}
{% if deletion_plot %}<img alt="deletion curves" src="data:image/png;base64,{{ deletion_plot }}" width="420">{% endif %}

<h2>Tracks in IGV</h2>
<p>In IGV desktop: <i>File &rarr; Open Session...</i> and pick
<code>results/tracks/igv_session.xml</code>; it loads the reference
(<code>{{ genome }}</code>), <code>attribution.bw</code> (per-base attribution; blue
positive, red negative) and <code>seqlets.bed</code> (seqlets colored as in the motif table
above). Or load the reference with <i>Genomes &rarr; Load Genome from File</i> and the two
tracks with <i>File &rarr; Load from File</i>.</p>
</body></html>
"""


def png_base64(fig) -> str:
    """Encode a matplotlib figure as a base64 PNG string."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def file_base64(path) -> str:
    """Read a file (an image) and return its bytes base64-encoded, for embedding."""
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode("ascii")


def metric_rows(metrics: dict):
    """Metric names and one formatted row per split and target of ``metrics.json``."""
    names, rows = [], []
    for split in ("train", "valid", "test"):
        for target, values in metrics.get(split, {}).items():
            names += [k for k in values if k != "n" and k not in names]
            formatted = {k: f"{v:.3f}" if isinstance(v, float) else v for k, v in values.items()}
            rows.append({"split": split, "target": target, **formatted})
    return names, rows


def motif_rows(table: pd.DataFrame, logos: dict) -> list:
    """One dict per motif of ``motifs.tsv``: its matches, logo (base64 PNG) and color."""
    rows = []
    for row in table.to_dict("records"):
        matches = [
            {"target": row[f"match_{i}"], "q": row[f"match_{i}_q"]}
            for i in (1, 2, 3)
            if row.get(f"match_{i}")
        ]
        rows.append(
            {
                **row,
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
    contrib : numpy.ndarray, shape=(N, 4, L)
        Actual contributions (``hyp * X``) in the order of ``regions``.
    """
    index = pd.Series(np.arange(len(regions)), index=regions["name"].to_numpy())
    examples = []
    for motif_id, name in zip(table["motif_id"], table["name"]):
        members = assignments.loc[assignments["motif_id"] == motif_id, "seqlet"]
        for region in seqlets[seqlets["name"].isin(members)].nlargest(1, "attr_sum")["region"]:
            figure = attribution_logo(contrib[index[region]], title=region)
            examples.append(
                {
                    "title": f"{motif_id} ({name}): region {region}, attribution x sequence",
                    "image": png_base64(figure),
                }
            )
    return examples


def _format(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return value


def render_report(*, summary: dict, **context) -> str:
    """Render the report page from the run's summary and formatted context (see TEMPLATE)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    deletion = {k: _format(v) for k, v in summary["deletion"].items()}
    deletion["fraction_beats_random_pct"] = (
        f"{100 * summary['deletion']['fraction_beats_random']:.0f}%"
    )
    truth, stability = (
        {k: _format(v) for k, v in summary[key].items()} if key in summary else None
        for key in ("truth", "stability")
    )
    return env.from_string(TEMPLATE).render(
        deletion=deletion, truth=truth, stability=stability, **context
    )

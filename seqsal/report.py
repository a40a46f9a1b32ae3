"""The HTML report: one self-contained page (images embedded as base64 PNG)."""

from __future__ import annotations

import base64
import io
import json
import re

import jinja2
import numpy as np
import pandas as pd

from .motifs import too_short_for
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
.warning { background: #fff0e0; border-left: 4px solid #c05000; padding: 6px 10px; }
code { background: #f4f4f4; padding: 1px 4px; } .small { font-size: 0.85em; color: #555; }
.verdict { background: #f3f7fb; border: 1px solid #b8cce0; padding: 0 1em 0.6em; }
.verdict h2 { margin-top: 0.6em; border: none; }
</style></head><body>
<h1>seqsal report</h1>
<p class="small">seqsal {{ version }} · {{ n_regions }} regions ·
 attribution: {{ method }} · motif database: {{ database }}</p>

<section id="verdict" class="verdict">
<h2>Verdict</h2>
<ul>
<li id="verdict-model"><b>Model: {{ verdict.model.grade }}.</b> {{ verdict.model.text }}</li>
<li id="verdict-motifs"><b>Motifs:</b> {{ verdict.motifs }}</li>
<li id="verdict-trust"><b>Maps: {{ verdict.trust.grade }}.</b> {{ verdict.trust.text }}</li>
{% if verdict.comparison %}<li id="verdict-comparison"><b>Compared:</b> {{ verdict.comparison }}</li>{% endif %}
{% if variants %}<li id="verdict-variants"><b>Variants:</b> {{ variants.verdict }}</li>{% endif %}
</ul>
<p><b>Open next:</b>
<a href="../tracks/igv.html">tracks in the browser</a> (igv.html, offline) ·
<a href="../tracks/igv_session.xml">IGV desktop session</a> ·
<a href="../motifs/motifs.tsv">motifs.tsv</a> ·
<a href="../seqlets/seqlets.bed">seqlets.bed</a> ·
<a href="../evaluate/faithfulness.tsv">faithfulness.tsv</a> ·
<a href="../regions/rejected.tsv">rejected input rows</a>{% if variants %} ·
<a href="../variants/variants.tsv">variants.tsv</a> ·
<a href="../variants/variants.vcf.gz">variants.vcf.gz</a> ·
<a href="../variants/rejected.tsv">rejected variants</a>{% endif %}</p>
</section>

<h2>Model</h2>
<table id="metrics"><tr><th>split</th><th>target</th><th>n</th>
{% for m in metric_names %}<th>{{ m }}</th>{% endfor %}</tr>
{% for row in metric_rows %}<tr><td>{{ row.split }}</td><td>{{ row.target }}</td><td>{{ row.n }}</td>
{% for m in metric_names %}<td>{{ row[m] }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if training.model %}<p id="architecture">{{ training.model }}</p>{% endif %}
{% if training.strands %}<p id="strands">{{ training.strands }}</p>{% endif %}{% if training.prior %}
<p id="prior">{{ training.prior }}</p>{% endif %}{% if training.augment %}
<p id="augment">{{ training.augment }}</p>{% endif %}{% if training.distill %}
<p id="distill">{{ training.distill }}</p>{% endif %}{% if training.ensemble %}
<p id="ensemble">{{ training.ensemble }}</p>{% endif %}
{% if training.candidates %}<p>{{ training.selection }}</p>
<table id="selection"><tr><th>architecture</th><th>learning rate</th><th>epochs</th>
<th>validation loss</th><th>validation scores</th></tr>{% for c in training.candidates %}<tr><td>{{ c.arch }}{% if c.chosen %} (chosen){% endif %}</td>
<td>{{ c.learning_rate }}</td><td>{{ c.epochs }}</td><td>{{ c.valid_loss }}</td><td>{{ c.scores }}</td></tr>{% endfor %}</table>{% endif %}
{% if curves %}<img alt="training curves" src="data:image/png;base64,{{ curves }}" width="420">{% endif %}

<h2>Motifs</h2>
<p>{{ n_seqlets }} seqlets (FDR &lt; {{ alpha }}{% if null_model == "shuffle" %}, against
the attributions of dinucleotide-shuffled regions{% else %}, against a block bootstrap of
the maps themselves: anti-conservative, read the q-values as a ranking{% endif %});
{{ n_assigned }} assigned to a motif.
A motif is named only when TOMTOM finds a database match with q &lt; {{ max_q }}
(<code>motifs.max_q</code>); otherwise it is reported as <span class="novel">novel</span>.
A <i>positive</i> motif raises the model's output where it occurs, a <i>negative</i> one
lowers it (the sign of its seqlets' attribution sum).</p>
<table id="motif-table"><tr><th>motif</th><th>seqlets</th><th>nearest database motifs (TOMTOM q-value)</th>
<th>contribution and PPM logos; the best match's logo, aligned</th></tr>
{% for m in motifs %}<tr><td><span class="swatch" style="background: {{ m.color }}"></span>
<b>{{ m.motif_id }}</b><br>{% if m.status == 'novel' %}<span class="novel">novel</span>
{% else %}{{ m.name }}{% if m.family %}<br><span class="small">family: {{ m.family }}</span>{% endif %}
{% endif %}<br><span class="small">{{ m.sign }}, {{ m.length }} bp</span></td>
<td>{{ m.n_seqlets }}</td><td>{% for hit in m.matches %}{% if hit.url %}<a href="{{ hit.url }}">{{ hit.target }}</a>{% else %}{{ hit.target }}{% endif %} (q {{ hit.q }}{% if not hit.significant %}, not significant{% endif %})<br>
{% else %}no database match{% endfor %}</td>
<td><img alt="logos of {{ m.motif_id }}" src="data:image/png;base64,{{ m.logo }}" width="560"></td></tr>
{% else %}<tr><td colspan="4">No motif had enough seqlets.</td></tr>{% endfor %}</table>

{% if examples %}<h3>Example regions</h3>
{% for ex in examples %}<p class="small">{{ ex.title }}</p>
<img alt="{{ ex.title }}" src="data:image/png;base64,{{ ex.image }}">{% endfor %}{% endif %}

<h2 id="trust">Can you trust these maps?</h2>
{% for w in trust.warnings %}<p class="warning"><b>Possible shortcut:</b> {{ w }}</p>{% endfor %}
<h3>Faithfulness</h3>
<p>Regions tested: {{ trust.n_regions }} {{ trust.tested }}. Their bases are deleted
(replaced by {{ trust.background }}) in order of decreasing attribution, or inserted into
that background in the same order, and the model's output is followed, normalised to 1 for the
sequence and 0 for the background. A faithful map makes the deletion curve fall fast (low
AUC) and the insertion curve rise fast (high AUC), compared with random orders and the
uniform order (a constant map). An AUC can fall outside 0 to 1: part way along, the output
can drop below the background's (activating bases deleted while repressing ones remain) or
rise above the whole sequence's (repressing bases deleted first). That is the model's
behaviour, not an error: the region holds elements of both signs.</p>
<table id="faithfulness"><tr><th>method</th><th>deletion AUC (random, uniform)</th>
<th>beats random</th><th>insertion AUC (random, uniform)</th><th>beats random</th>
{% if trust.truth %}<th>known sites: AUROC, AUPRC</th>{% endif %}</tr>
{% for m in trust.methods %}<tr><td>{{ m.method }}</td>
<td>{{ m.mean_deletion_auc }} ({{ m.mean_deletion_auc_random }}, {{ m.mean_deletion_auc_uniform }})</td>
<td><b>{{ m.deletion_pct }}</b></td>
<td>{{ m.mean_insertion_auc }} ({{ m.mean_insertion_auc_random }}, {{ m.mean_insertion_auc_uniform }})</td>
<td><b>{{ m.insertion_pct }}</b></td>
{% if trust.truth %}<td>{{ m.auroc }}, {{ m.auprc }}</td>{% endif %}</tr>{% endfor %}</table>
{% for m in trust.methods if m.weak_deletion %}<p class="warning">{{ m.method }}: deleting its
top bases first beats random orders in only {{ m.deletion_pct }} of the regions (inserting
them first: {{ m.insertion_pct }}). Where it loses, {{ m.left_half }} of the output is still
there once the first half of its bases is deleted (random orders: {{ m.left_half_random }}):
the map ranks low, or negative, bases the model needs.{% if m.by_fifth %} By fifths of the
regions' outputs, lowest first, it beats random in {{ m.by_fifth }}.{% endif %}
A first-order map (a gradient at the whole sequence) does this when the model needs things
together (two motifs, as an AND) or takes the strongest of redundant copies (a max-pool): a
base then matters only once others are gone. Read such maps as "enough to drive the output" rather than "all the model needs";
methods that explain against references (DeepLIFT-SHAP, integrated gradients) suffer less
from it.</p>{% endfor %}
{% if faithfulness_plot %}<img alt="deletion and insertion curves" src="data:image/png;base64,{{ faithfulness_plot }}" width="760">{% endif %}
{% if trust.truth %}<p>Known sites ({{ trust.truth.n_sites }}): {% if trust.truth.get("n_seqlets") == 0 %}no
seqlet was called, so none is on one (recall <b>0</b>){% else %}seqlet precision
<b>{{ trust.truth.seqlet_precision }}</b>, recall <b>{{ trust.truth.seqlet_recall }}</b>{% endif %};
AUROC/AUPRC above: per-base |attribution| separating bases in known sites from the rest.</p>{% endif %}
<h3>Stability</h3>
<p>{% if "strand_skipped" in trust.stability %}No strand test: {{ trust.stability.strand_skipped }}.
{% else %}The {{ trust.method }} map of each tested region against the map of its reverse
complement, mapped back base by base: median Pearson <b>{{ trust.stability.median_rc_pearson }}</b>
(Spearman {{ trust.stability.median_rc_spearman }}; the {{ trust.stability.top_k }} strongest
bases overlap by a median Jaccard index of {{ trust.stability.median_rc_top_jaccard }}).
{% endif %}After {{ trust.stability.n_substitutions }} random substitutions far from the strongest bases: median
Pearson <b>{{ trust.stability.median_perturbed_pearson }}</b> (top-{{ trust.stability.top_k }}
Jaccard {{ trust.stability.median_perturbed_top_jaccard }}).
{% for name, s in trust.seeds.items() %}Against the model {{ name }} (another seed): median
Pearson <b>{{ s.median_seed_pearson }}</b> (top-{{ s.top_k }} Jaccard {{ s.median_seed_top_jaccard }}).
{% else %}No model trained with another seed was given (<code>evaluate.seed_models</code>).{% endfor %}</p>
<h3>Saturation</h3>
<p>{{ trust.saturation }}</p>
<h3>Receptive field</h3>
<p>{{ trust.receptive_field }}</p>
{% if field_plot %}<img alt="receptive field" src="data:image/png;base64,{{ field_plot }}" width="420">{% endif %}
<h3>Shortcut audit</h3>
{% if trust.intervals %}<table id="shortcuts"><tr><th>interval</th><th>positions</th>
<th>share of |attribution|</th><th>share of bases</th><th>enrichment</th><th></th></tr>
{% for i in trust.intervals %}<tr><td>{{ i.name }}</td><td>{{ i.start }}&ndash;{{ i.end }}</td>
<td>{{ i.attribution_fraction }}</td><td>{{ i.base_fraction }}</td><td>{{ i.enrichment }}</td>
<td>{% if i.flagged %}<b>flagged</b>{% else %}ok{% endif %}</td></tr>{% endfor %}</table>
{% else %}<p>No nuisance intervals were named (<code>evaluate.nuisance</code>: adapters,
primers, padding, flanks).</p>{% endif %}
<p>{% if trust.artefact_kmers %}Frequent seqlet k-mers found in artefact sequences:
{% for k in trust.artefact_kmers %}<code>{{ k.kmer }}</code> ({{ k.seqlets }} seqlets){% if not loop.last %}, {% endif %}{% endfor %}.
{% elif trust.artefacts_given %}No frequent seqlet k-mer occurs in the artefact sequences given.
{% else %}No artefact sequences were given (<code>evaluate.artefacts</code>).{% endif %}</p>{% if trust.comparison %}
<h3 id="comparison">Compared with another model</h3>
<p>The model of <code>evaluate.compare_to</code> beside this run's, on the same
{{ trust.n_regions }} tested regions, each explained afresh by {{ trust.method }} (so the
known-site AUROC here is over those regions only); test scores on this run's test split.</p>
<table id="comparison-table"><tr><th></th>{% for m in trust.comparison.models %}<th>{{ m }}</th>{% endfor %}</tr>
{% for row in trust.comparison.rows %}<tr><td>{{ row.measure }}</td>{% for v in row["values"] %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}

{% if variants %}<h2 id="variants">Variant effects</h2>
<p>{{ variants.n }} variants scored ({{ variants.n_rejected }} rejected, each with its reason in
<code>results/variants/rejected.tsv</code>). &Delta; is the model's output on ALT minus REF
({{ variants.target }}{% if variants.strands %}, each the mean over both strands{% endif %});
its p-value counts the {{ variants.n_null }} random substitutions in the same regions that
change the output at least as much. A motif is <i>broken</i> when its FIMO hit over the
variant passes p &lt; {{ variants.motif_p }} on REF but not on ALT, <i>made</i> when the
reverse; this run's own motifs are named first. The logos show {{ variants.method }} maps
of REF above ALT (the variant shaded), for the variants with the largest |&Delta;|.</p>
<table id="variant-table"><tr><th>variant</th><th>position</th><th>&Delta;</th><th>p</th>
<th>motif</th><th>REF and ALT maps</th></tr>
{% for v in variants.rows %}<tr><td><b>{{ v.name }}</b><br>{{ v.alleles }}</td><td>{{ v.where }}</td>
<td>{{ v.delta }}</td><td>{{ v.p }}</td><td>{{ v.motif }}</td>
<td>{% if v.image %}<img alt="maps of {{ v.name }}" src="data:image/png;base64,{{ v.image }}" width="520">{% endif %}</td></tr>
{% endfor %}</table>
{% if variants.motif_floor %}<p class="warning">{{ variants.motif_floor }} (the motif column).</p>{% endif %}
{% if variants.track %}<p>The track <code>variant_effects.bed</code> (in the IGV session) marks
every variant, red where ALT raises the output, blue where it lowers it.</p>{% endif %}{% endif %}

<h2>Tracks in IGV</h2>
<p>In a browser, offline: <a href="../tracks/igv.html">igv.html</a>, the regions with the
strongest seqlets. In IGV desktop: <i>File &rarr; Open Session...</i> and pick
<code>results/tracks/igv_session.xml</code>; it loads the reference
(<code>{{ genome }}</code>), <code>attribution.bw</code> (per-base attribution on a fixed
symmetric scale; blue positive, red negative), the reference sequence under it,
<code>seqlets.bed</code> (seqlets colored as in the motif table above) and the motif hits.
Loaded by hand, a bigWig gets IGV's default range, which hides negative bars: set the data
range, or use the session.</p>
{% if hit_floor %}<p class="warning" id="hit-floor">{{ hit_floor }} (<code>motif_hits.bed</code>).</p>{% endif %}
</body></html>
"""


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


# What the verdict calls good or fair: stated in the report beside each verdict.
MODEL_GRADES = {"pearson": (0.7, 0.4), "auroc": (0.9, 0.75)}
TRUST_BARS = {"beats_random": 0.95, "rc_pearson": 0.7, "perturbed_pearson": 0.9}


def _grade(value: float, bars: tuple) -> str:
    good, fair = bars
    return "good" if value >= good else "fair" if value >= fair else "weak"


def model_verdict(metrics: dict) -> dict:
    """How good the model is on its held-out regions, in words.

    Parameters
    ----------
    metrics : dict
        ``metrics.json``.

    Returns
    -------
    verdict : dict
        ``grade`` (good, fair, weak or not scored) and ``text``.
    """
    test = metrics.get("test", {})
    scores = []
    for target, values in test.items():
        metric = "auroc" if "auroc" in values else "pearson"
        if values.get(metric) is not None and values[metric] == values[metric]:
            scores.append((target, metric, float(values[metric])))
    if not scores:
        return {
            "grade": "not scored",
            "text": "No held-out labels to score the model on (a loaded checkpoint without "
            "labels, or an empty test split).",
        }
    grades = [_grade(v, MODEL_GRADES[m]) for _, m, v in scores]
    worst = min(grades, key=["weak", "fair", "good"].index)
    names = {"pearson": "Pearson r", "auroc": "AUROC"}
    if len(scores) <= 4:
        shown = "; ".join(f"{t}: {names[m]} {v:.2f}" for t, m, v in scores)
    else:
        values = np.array([v for *_, v in scores])
        shown = (
            f"median {names[scores[0][1]]} {np.median(values):.2f} over {len(scores)} "
            f"targets ({values.min():.2f} to {values.max():.2f})"
        )
    used = dict.fromkeys(m for _, m, _ in scores)
    bars = ", ".join(
        f"{names[m]} ≥ {MODEL_GRADES[m][0]} good, ≥ {MODEL_GRADES[m][1]} fair" for m in used
    )
    split = metrics.get("split", "held-out regions")
    warning = f" Note: {metrics['split_warning']}." if metrics.get("split_warning") else ""
    return {
        "grade": worst if len(scores) == 1 else f"{worst} at worst",
        "text": f"On {split}, never seen in training: {shown} ({bars}).{warning}",
    }


def saturation_words(saturation: dict) -> str:
    """The saturation test's result in words, with advice that fits the run.

    Parameters
    ----------
    saturation : dict
        ``summary.json``'s ``saturation``.

    Returns
    -------
    text : str
    """
    if "skipped" in saturation:
        return f"Not tested: {saturation['skipped']}."
    n, total = saturation["n_saturated"], saturation["n_regions"]
    regions = ", ".join(saturation["regions"][:10])
    if saturation.get("kind") == "flat output":
        test = (
            "the gradient's first-order estimate of what replacing the region by a "
            "dinucleotide shuffle of it changes is under 25% of the true change, among the regions whose "
            f"change is at least the median (median share over all: "
            f"{_format(saturation['median_first_order_share'])})"
        )
        if not n:
            return f"None of the {total} tested regions has a flat output ({test})."
        return (
            f"{n} of {total} tested regions sit where the output is flat: {test}. Gradient "
            "maps under-read the bases the model relies on there (a strong element on the "
            "plateau of the output, weaker variants on its slope); read ISM, DeepLIFT-SHAP "
            f"or integrated gradients maps for them (attribute.methods). Regions: {regions}."
        )
    test = (
        "|logit| >= 4, the map of the probability is under 5% of the map of the logit, "
        "yet deleting the region moves the logit by at least 1"
    )
    if not n:
        return f"None of the {total} tested regions is saturated ({test})."
    advice = (
        "the maps here are of the logit (attribute.output: logit), which keeps those bases "
        "visible; a map of the probability would hide them"
        if saturation.get("output", "logit") == "logit"
        else "their probability maps hide what the model relies on; read the logit maps "
        "(attribute.output: logit)"
    )
    return f"{n} of {total} tested regions are saturated: {test}. So {advice}. Regions: {regions}."


def training_notes(metrics: dict) -> dict:
    """How the model was trained, in words: its architecture, the strands, and
    ``model.arch: auto``'s candidates.

    Parameters
    ----------
    metrics : dict
        ``metrics.json``.

    Returns
    -------
    notes : dict
        ``model`` and ``strands`` (text, empty for metrics without them), ``prior``,
        ``augment``, ``distill`` and ``ensemble`` (text, empty without one),
        ``selection`` (text) and ``candidates`` (rows, empty without a selection).
    """
    notes = {
        "model": _model_words(metrics),
        "strands": _strand_words(metrics),
        "prior": _prior_words(metrics),
        "augment": _augment_words(metrics),
        "distill": _distill_words(metrics),
        "ensemble": _ensemble_words(metrics),
    }
    selection = metrics.get("selection")
    if not selection:
        return {**notes, "selection": "", "candidates": []}
    chosen = selection["chosen"]
    rows = [
        {
            "arch": c["arch"],
            "learning_rate": f"{c['learning_rate']:.2g}",
            "epochs": c.get("epochs", ""),
            "valid_loss": _format(c["valid_loss"]),
            "scores": "; ".join(
                f"{target}: " + ", ".join(f"{k} {_format(v)}" for k, v in s.items() if k != "n")
                for target, s in c["valid"].items()
            ),
            "chosen": c["arch"] == chosen["arch"] and c["learning_rate"] == chosen["learning_rate"],
        }
        for c in selection["candidates"]
    ]
    return {
        **notes,
        "selection": (
            "model.arch auto trained the default in full and each other candidate for "
            f"{selection['epochs']} epochs (the best of them on to early stopping if it led), "
            f"and chose {chosen['arch']} at learning rate {chosen['learning_rate']:.2g}, the "
            "lower validation loss; the test split is not looked at."
        ),
        "candidates": rows,
    }


def _model_words(metrics: dict) -> str:
    """The architecture and the hyperparameters set (empty for metrics without them)."""
    model = metrics.get("model")
    if not model:
        return ""
    arch, hparams = model["arch"], model["hparams"]
    if arch == "torchscript":
        return "Architecture: a TorchScript model (model.checkpoint), not one of seqsal's."
    if arch == "ensemble":
        arch = f"an ensemble of {hparams['members']} {hparams['member_arch']}"
        hparams = hparams["member_hparams"]
    words = ", ".join(
        f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in hparams.items()
    )
    return f"Architecture: {arch}, " + (
        f"with {words} (model.hparams); the rest at their defaults."
        if words
        else "with the default hyperparameters."
    )


def _strand_words(metrics: dict) -> str:
    """How the strands were treated, in words (empty for metrics without it)."""
    strands = metrics.get("strands")
    loaded = metrics.get("epochs") == 0  # model.checkpoint: not trained here
    if strands and strands["oriented"]:
        trained = (
            "was loaded (model.checkpoint)"
            if loaded
            else "was trained without reverse-complement augmentation"
        )
        return (
            f"Oriented sequences (input.oriented): each acts in the orientation given, so the "
            f"model {trained}, is not averaged over strands, and the strand-stability test is "
            "skipped."
        )
    if strands:
        return "Both strands (input.oriented: false): " + (
            "the model was loaded (model.checkpoint), not trained here."
            if loaded
            else "trained on each sequence or its reverse complement at random."
            if strands["rc_augment"]
            else "trained without reverse-complement augmentation."
        )
    return ""


def _prior_words(metrics: dict) -> str:
    """``model.prior`` as the training used it, in words (empty without one)."""
    prior = metrics.get("training", {}).get("prior")
    if not prior:
        return ""
    parts = []
    if prior["irrelevant_positions"]:
        parts.append(
            f"the squared input gradient over the {prior['irrelevant_positions']:,} positions "
            "marked irrelevant was penalised"
        )
    if prior["relevant_positions"]:
        parts.append(
            f"the share of |attribution| in the {prior['relevant_positions']:,} positions "
            "marked relevant was rewarded"
        )
    if parts:
        parts[-1] += f" (weight {_format(prior['mask_weight'])})"
    if prior["smoothness"]:
        parts.append(
            "high frequencies of the positives' maps were penalised (Fourier prior, weight "
            f"{_format(prior['smoothness'])})"
        )
    if prior.get("consistency"):
        parts.append(
            "each map was held to the map of a perturbed copy of its sequence (consistency, "
            f"weight {_format(prior['consistency'])})"
        )
    restarts = prior.get("restarts", 0)
    again = (
        f" The prior held {restarts} start{'s' if restarts > 1 else ''} of the training no "
        f"better than a constant prediction; {'each time ' if restarts > 1 else ''}it "
        "started again from new initial weights, without the prior until every output had "
        "learnt, then with it."
        if restarts
        else ""
    )
    return (
        f"Trained with attribution priors (model.prior): {'; '.join(parts)}.{again} The "
        "training log gives each epoch's time and each prior's term."
    )


def _augment_words(metrics: dict) -> str:
    """``model.augment`` as the training used it, in words (empty without it)."""
    augment = metrics.get("training", {}).get("augment")
    if not augment:
        return ""
    parts = []
    if "mask" in augment:
        where = "the model credited most" if augment["mask"] == "saliency" else "drawn at random"
        fill = "dinucleotide-shuffled bases" if augment["mask_fill"] == "shuffle" else "N"
        windows = augment["mask_windows"]
        parts.append(
            f"in {augment['mask_share']:.0%} of each batch's sequences, {windows} window"
            f"{'s' if windows > 1 else ''} of {augment['mask_width']} bp {where} "
            f"{'were' if windows > 1 else 'was'} replaced by {fill}"
        )
    if "evoaug" in augment:
        parts.append(f"each sequence got one or two of EvoAug's {', '.join(augment['evoaug'])}")
    if augment["finetune_epochs"]:
        parts.append(
            f"then up to {augment['finetune_epochs']} epochs of fine-tuning on the unchanged "
            "sequences at a tenth of the learning rate"
        )
    return f"Trained with augmentation (model.augment): {'; '.join(parts)}."


def _distill_words(metrics: dict) -> str:
    """``model.distill`` as the training used it, in words (empty without it)."""
    distill = metrics.get("training", {}).get("distill")
    if not distill:
        return ""
    teachers = distill["teachers"]
    what = (
        "the predictions of the teacher"
        if len(teachers) == 1
        else f"the mean prediction of {len(teachers)} teachers"
    )
    share = (
        "" if distill["alpha"] == 1 else f", mixed with the labels ({distill['alpha']:.0%} theirs)"
    )
    return (
        f"Distilled (model.distill): trained on {what}{share}: {', '.join(teachers)}. "
        "Validation and scores are on the labels."
    )


def _ensemble_words(metrics: dict) -> str:
    """``model.ensemble`` as trained, in words (empty for one model)."""
    members = metrics.get("training", {}).get("ensemble")
    if not members:
        return ""
    each = ", ".join(
        f"seed {m['seed']}: {m['epochs']} epochs, {_format(m['valid_loss'])}" for m in members
    )
    return (
        f"An ensemble (model.ensemble) of {len(members)} models of one architecture, trained "
        "from different seeds on the same split: the scores above, and every map, are of "
        f"their mean prediction. Each member's epochs and best validation loss: {each}."
    )


def motif_verdict(table: pd.DataFrame, n_seqlets: int, database: str, max_q: float) -> str:
    """How many motifs were found and named, in words.

    Parameters
    ----------
    table : pandas.DataFrame
        ``motifs.tsv``.
    n_seqlets : int
    database : str
    max_q : float

    Returns
    -------
    text : str
    """
    if not len(table):
        return (
            f"none: {n_seqlets} seqlets, too few to form a motif (see the Troubleshooting "
            "section of the README: few or no seqlets)."
        )
    named = table[table["status"] == "named"]
    novel = len(table) - len(named)
    names = ", ".join(dict.fromkeys(named["name"]))
    return (
        f"{len(table)} found from {n_seqlets} seqlet{'' if n_seqlets == 1 else 's'}; "
        f"{len(named)} named against {database} "
        f"(TOMTOM q < {max_q}){': ' + names if names else ''}; {novel} novel."
    )


def trust_verdict(summary: dict, method: str) -> dict:
    """Whether the maps passed their trust tests, in words.

    Parameters
    ----------
    summary : dict
        ``summary.json``.
    method : str
        The first attribution method.

    Returns
    -------
    verdict : dict
        ``grade`` (passed, or failed ...) and ``text``.
    """
    faith = summary["faithfulness"][method]
    stability = summary["stability"]
    tests = {
        "faithful": min(
            faith["deletion_fraction_beats_random"], faith["insertion_fraction_beats_random"]
        )
        >= TRUST_BARS["beats_random"],
        "stable": (
            "strand_skipped" in stability
            or stability["median_rc_pearson"] >= TRUST_BARS["rc_pearson"]
        )
        and stability["median_perturbed_pearson"] >= TRUST_BARS["perturbed_pearson"],
        "free of flagged shortcuts": not summary["shortcuts"].get("flagged"),
    }
    failed = [name for name, ok in tests.items() if not ok]
    strand = (
        f"the strand test is skipped ({stability['strand_skipped']}); the map"
        if "strand_skipped" in stability
        else "the map of the reverse complement agrees with a median Pearson of "
        f"{stability['median_rc_pearson']:.2f} (bar {TRUST_BARS['rc_pearson']}), and"
    )
    text = (
        f"{method}: deleting its top bases first beats random orders in "
        f"{_pct(faith['deletion_fraction_beats_random'])} of the tested regions, inserting them "
        f"first in {_pct(faith['insertion_fraction_beats_random'])} (bar: "
        f"{_pct(TRUST_BARS['beats_random'])}); {strand} after a few random substitutions "
        f"agrees with a median Pearson of {stability['median_perturbed_pearson']:.2f} (bar "
        f"{TRUST_BARS['perturbed_pearson']}); "
        f"{'no' if tests['free of flagged shortcuts'] else 'a'} shortcut flagged."
    )
    truth = summary.get("truth")
    if truth and truth.get("n_seqlets") == 0:
        text += " Known sites: no seqlet was called, so none was found by one."
    elif truth:
        text += (
            f" Known sites: {_pct(truth['seqlet_recall'])} found by a seqlet, "
            f"{_pct(truth['seqlet_precision'])} of seqlets on one."
        )
    grade = "passed their trust tests" if not failed else "not " + " and not ".join(failed)
    return {"grade": grade, "text": text + " Details below, under Can you trust these maps?"}


def variant_context(
    table,
    maps,
    *,
    n_rejected: int,
    n_null: int,
    motif_p: float,
    method: str,
    strands: bool,
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
    n : int, optional
        Variants shown. Default is 10.

    Returns
    -------
    context : dict
    """
    from .plots import allele_logos

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
            motif = f"{v.motif_effect} {v.motif} (p {_format(v.motif_p_ref)} → {_format(v.motif_p_alt)})"
        rows.append(
            {
                "name": v.name,
                "alleles": f"{v.ref}>{v.alt} ({v.kind})",
                "where": f"{v.chrom}:{v.pos:,}",
                "delta": f"{v.delta:+.3g}",
                "p": _format(v.p_value),
                "motif": motif,
                "image": image,
            }
        )
    significant = int((first["p_value"] < 0.05).sum()) if len(first) else 0
    verdict = f"{significant} of {len(first)} change the output at p < 0.05"
    broken = first[(first["p_value"] < 0.05) & first["motif_effect"].isin(["breaks", "makes"])]
    if len(broken):
        verdict += f"; {len(broken)} of them break or make a motif site"
    if rows:
        top = rows[0]
        verdict += f"; the strongest, {top['name']} (Δ {top['delta']}){', ' + top['motif'] if top['motif'] else ''}."
    return {
        "verdict": verdict,
        "rows": rows,
        "n": len(first),
        "n_rejected": n_rejected,
        "n_null": n_null,
        "motif_p": motif_p,
        "method": method,
        "strands": strands,
        "target": f"target {first['target'].iloc[0]}" if len(first) else "",
        "track": True,
    }


def report_verdict(metrics, summary, table, n_seqlets, method, database, max_q) -> dict:
    """The verdict at the top of the report: model, motifs and maps, in words.

    Parameters
    ----------
    metrics, summary : dict
        ``metrics.json`` and ``summary.json``.
    table : pandas.DataFrame
        ``motifs.tsv``.
    n_seqlets : int
    method : str
        The first attribution method.
    database : str
    max_q : float

    Returns
    -------
    verdict : dict
        ``model`` and ``trust`` (each ``grade`` and ``text``), ``motifs`` and
        ``comparison`` (text; empty without ``evaluate.compare_to``).
    """
    return {
        "model": model_verdict(metrics),
        "motifs": motif_verdict(table, n_seqlets, database, max_q),
        "trust": trust_verdict(summary, method),
        "comparison": comparison_verdict(summary.get("comparison")),
    }


def comparison_verdict(comparison: dict | None) -> str:
    """``evaluate.compare_to`` in one sentence: this run against the other model on its
    first target's test score, deletion faithfulness and map agreement."""
    if not comparison or len(comparison) < 2:
        return ""
    (_, ours), (name, theirs) = list(comparison.items())[:2]
    parts = []
    for target, scores in ours.get("test", {}).items():
        metric = "auroc" if "auroc" in scores else "pearson"
        other = theirs.get("test", {}).get(target, {}).get(metric)
        parts.append(
            f"test {metric} of {target} {_format(scores.get(metric))} against {_format(other)}"
        )
        break
    parts.append(
        f"deletion beats random in {_pct(ours['deletion_fraction_beats_random'])} against "
        f"{_pct(theirs['deletion_fraction_beats_random'])}"
    )
    if "map_pearson" in theirs:
        parts.append(
            f"their maps agree with a median per-region r of {_format(theirs['map_pearson'])}"
        )
    return (
        f"This run against {name}: {'; '.join(parts)}. Details under Compared with another model."
    )


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
                "url": jaspar_url(row[f"match_{i}"]),
                "significant": row["status"] == "named" and _below(row[f"match_{i}_q"], max_q),
            }
            for i in (1, 2, 3)
            if row.get(f"match_{i}")
        ]
        rows.append(
            {
                **row,
                "family": row.get("family") or "",  # a user-edited or older table may lack it
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
    from .intervals import genome_positions

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


def _below(text, bar: float) -> bool:
    """Whether a table's number (text) is below ``bar``; False for no number."""
    try:
        return float(text) < bar
    except (TypeError, ValueError):
        return False


def _format(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return value


def _pct(value) -> str:
    return "n/a" if value is None or value != value else f"{100 * value:.0f}%"


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
        values = [_format(e.get("test", {}).get(target, {}).get(metric)) for e in entries]
        rows.append({"measure": f"test {metric}, {target}", "values": values})
    rows.append(
        {
            "measure": "deletion beats random",
            "values": [_pct(e["deletion_fraction_beats_random"]) for e in entries],
        }
    )
    rows.append(
        {
            "measure": "deletion AUC (lower: more faithful)",
            "values": [_format(e["mean_deletion_auc"]) for e in entries],
        }
    )
    if "map_pearson" in entries[0]:
        values = [_format(e["map_pearson"]) for e in entries]
        rows.append({"measure": f"maps: median per-region r with {models[0]}'s", "values": values})
    if "known_site_auroc" in entries[0]:
        values = [_format(e["known_site_auroc"]) for e in entries]
        rows.append({"measure": "known sites: AUROC", "values": values})
    for name in entries[0].get("shortcuts", {}):
        values = [_pct(e["shortcuts"][name]) for e in entries]
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
    methods = []
    for name, entry in summary["faithfulness"].items():
        row = {k: _format(v) for k, v in entry.items()}
        row.update(
            method=name,
            deletion_pct=_pct(entry["deletion_fraction_beats_random"]),
            insertion_pct=_pct(entry["insertion_fraction_beats_random"]),
            weak_deletion=entry["deletion_fraction_beats_random"] < 0.95,
            left_half=_pct(entry.get("median_deletion_left_half_where_losing")),
            left_half_random=_pct(entry.get("median_deletion_left_half_random_where_losing")),
            by_fifth=", ".join(
                map(_pct, entry.get("deletion_fraction_beats_random_by_output_fifth", []))
            ),
        )
        if truth and name in truth:
            row.update(auroc=_format(truth[name]["auroc"]), auprc=_format(truth[name]["auprc"]))
        elif truth:
            row.update(auroc="n/a", auprc="n/a")
        methods.append(row)
    stability = {k: _format(v) for k, v in summary["stability"].items() if k != "seeds"}
    seeds = {
        name: {k: _format(v) for k, v in entry.items()}
        for name, entry in summary["stability"].get("seeds", {}).items()
    }
    saturation_text = saturation_words(summary["saturation"])
    field = summary["receptive_field"]
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
            + ", ".join(f"{_format(x['sigma'])}" for x in layers)
            + " bases, against theoretical receptive fields of "
            + ", ".join(f"{x['theoretical']}" for x in layers)
            + " bases. The model effectively reads a window much narrower than its theoretical one"
            " when sigma is small against it."
        )
    )
    if "fits" in field:
        fits = field["fits"]
        field_text += (
            f" Over depth, sigma = a + b√depth fits with R² {_format(fits['sqrt']['r2'])}, "
            f"sigma = a + b·depth with R² {_format(fits['linear']['r2'])}."
        )
    shortcuts = summary["shortcuts"]
    warnings = [
        f"{_pct(i['attribution_fraction'])} of all |attribution| falls in {i['name']} "
        f"(positions {i['start']}-{i['end']}, {_pct(i['base_fraction'])} of the bases; "
        f"{i['enrichment']:.1f}× its share). The model may be reading this nuisance "
        "interval rather than biology."
        for i in shortcuts["intervals"]
        if i["flagged"]
    ] + [
        f"the seqlet k-mer {k['kmer']} ({k['seqlets']} seqlets) occurs in the artefact "
        f"sequence {k['artefact']}."
        for k in shortcuts["artefact_kmers"]
    ]
    return {
        "method": method,
        "n_regions": first["n_regions"],
        "tested": summary["tested"],
        "background": "a dinucleotide shuffle of the region"
        if summary["background"] == "shuffle"
        else "N",
        "methods": methods,
        "truth": {k: _format(v) for k, v in truth.items() if not isinstance(v, dict)}
        if truth
        else None,
        "stability": stability,
        "seeds": seeds,
        "saturation": saturation_text,
        "receptive_field": field_text,
        "intervals": [{k: _format(v) for k, v in i.items()} for i in shortcuts["intervals"]],
        "artefact_kmers": shortcuts["artefact_kmers"],
        "artefacts_given": shortcuts.get("artefacts_given", False),
        "warnings": warnings,
        "comparison": comparison_rows(summary["comparison"]) if summary.get("comparison") else None,
    }


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
    genome: str = "",
    variants: dict | None = None,
    motif_hit_p: float = 1e-4,
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
    genome : str, optional
        The reference FASTA's path, as shown. Default is "".
    variants : dict or None, optional
        :func:`variant_context`'s section, when the run scored variants. Default is None.
    motif_hit_p : float, optional
        ``tracks.motif_hit_p``: the report says which motifs it leaves without a hit
        (:func:`seqsal.motifs.too_short_for`). Default is 1e-4.

    Returns
    -------
    html : str
    """
    from . import __version__

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
        verdict=report_verdict(metrics, summary, table, len(seqlets), method, database, max_q),
        examples=example_regions(table, assignments, seqlets, regions, contrib),
        n_assigned=int((assignments["motif_id"] != "none").sum()),
        summary=summary,
        faithfulness_plot=images["faithfulness_plot"],
        field_plot=images["field_plot"],
        genome=genome,
        variants=variants,
        hit_floor=too_short_for(motif_hit_p, widths, "tracks.motif_hit_p"),
    )

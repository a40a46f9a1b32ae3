"""The report page: self-contained, and what a real browser shows."""

import re

import numpy as np
import pandas as pd
import pytest
from conftest import needs_chromium, render_in_chromium

from seqsal.plots import motif_logos
from seqsal.report import (
    example_regions,
    metric_rows,
    motif_rows,
    png_base64,
    render_report,
    report_verdict,
    training_notes,
)

FAITHFULNESS = {
    "n_regions": 10,
    "n_scored": 10,
    **{
        f"mean_{k}_auc{s}": 0.1
        for k in ("deletion", "insertion")
        for s in ("", "_random", "_uniform")
    },
    "deletion_fraction_beats_random": 0.75,
    "deletion_fraction_beats_uniform": 0.9,
    "insertion_fraction_beats_random": 0.95,
    "insertion_fraction_beats_uniform": 0.9,
    "deletion_fraction_beats_random_by_output_fifth": [0.5, 0.5, 1, 1, 1],
    "median_deletion_left_half_where_losing": 0.31,
    "median_deletion_left_half_random_where_losing": 0.02,
}
SUMMARY = {
    "tested": "positive regions, highest outputs first",
    "background": "shuffle",
    "faithfulness": {"grad_x_input": FAITHFULNESS, "deeplift_shap": FAITHFULNESS},
    "stability": {
        "n_regions": 10,
        "top_k": 20,
        "n_substitutions": 3,
        **{
            f"median_{t}_{m}": 0.9
            for t in ("rc", "perturbed")
            for m in ("pearson", "spearman", "top_jaccard")
        },
    },
    "saturation": {"n_regions": 10, "n_saturated": 2, "regions": ["r1", "r7"]},
    "receptive_field": {
        "layers": [
            {"depth": d, "layer": f"c{d}", "sigma": 3.0 * d**0.5, "theoretical": 10 * d}
            for d in (1, 2, 3)
        ],
        "fits": {
            "sqrt": {"a": 0, "b": 3, "r2": 1.0},
            "linear": {"a": 1, "b": 2, "r2": 0.98},
            "better": "sqrt",
        },
    },
    "shortcuts": {
        "intervals": [
            {
                "name": "adapter<5>",
                "start": 0,
                "end": 20,
                "attribution_fraction": 0.6,
                "base_fraction": 0.2,
                "enrichment": 3.0,
                "flagged": True,
            },
        ],
        "artefact_kmers": [{"kmer": "ACGTACGT", "seqlets": 12, "artefact": "TTACGTACGTAA"}],
        "flagged": True,
        "artefacts_given": True,
    },
    "truth": {
        "grad_x_input": {"auroc": 0.97, "auprc": 0.8},
        "seqlet_precision": 0.9,
        "seqlet_recall": 0.85,
        "n_sites": 3,
    },
}


def make_report(tmp_path, summary=SUMMARY, training=None):
    rng = np.random.default_rng(0)
    ppm = rng.dirichlet(np.ones(4) * 0.3, size=8).T
    table = pd.DataFrame(
        {
            "motif_id": ["motif_1", "motif_2"],
            "n_seqlets": ["40", "25"],
            "sign": ["positive", "negative"],
            "length": ["8", "8"],
            "status": ["named", "novel"],
            "name": ["GATA1", "novel"],
            "match_1": ["MA0035.5 GATA1", "MA0108.3 TBP"],
            "match_1_q": ["0.001", "0.18"],
            "match_2": ["", ""],
            "match_2_q": ["", ""],
            "match_3": ["", ""],
            "match_3_q": ["", ""],
            "match_1_p": ["2e-06", "0.01"],
            "variants": ["GATAAG 30, <b>GATTAG</b> 10", "TATAAA 25"],
        }
    )
    logo = png_base64(motif_logos(ppm, ppm - 0.25, title="motif"))
    regions = pd.DataFrame(
        {"chrom": ["c"], "start": [0], "end": [20], "name": ["r1"], "score": 0, "strand": "+"}
    )
    seqlets = pd.DataFrame({"name": ["r1:0"], "region": ["r1"], "attr_sum": [1.0]})
    assignments = pd.DataFrame({"seqlet": ["r1:0"], "motif_id": ["motif_1"]})
    metrics = {
        "test": {"activity": {"n": 10, "pearson": 0.91, "spearman": 0.9}},
        "strands": {"oriented": True, "rc_augment": False},
        "model": {"arch": "deepstarr", "hparams": {"first_activation": "exp", "filters": [8, 4]}},
        "selection": {
            "chosen": {"arch": "deepstarr", "learning_rate": 1e-3},
            "epochs": 4,
            "candidates": [
                {"arch": a, "learning_rate": 1e-3, "valid_loss": v, "valid": {"activity": {}}}
                for a, v in (("cnn", 0.5), ("deepstarr", 0.4))
            ],
        },
        **({"training": training} if training else {}),
    }
    names, rows = metric_rows(metrics)
    html = render_report(
        training=training_notes(metrics),
        verdict=report_verdict(metrics, summary, table, 1, "grad_x_input", "jaspar", 0.05),
        max_q=0.05,
        merge_threshold=0.7,
        version="test",
        n_regions=1,
        method="grad_x_input",
        database="jaspar2024_vertebrates",
        metric_names=names,
        metric_rows=rows,
        curves=logo,
        motifs=motif_rows(table, {"motif_1": logo, "motif_2": logo}),
        examples=example_regions(
            table, assignments, seqlets, regions, lambda i: rng.normal(size=(4, 20))
        ),
        n_seqlets=1,
        alpha=0.05,
        null_model="shuffle",
        n_assigned=1,
        faithfulness_plot=logo,
        field_plot=logo,
        genome="genome.fa",
        summary=summary,
    )
    path = tmp_path / "report.html"
    path.write_text(html)
    return path, html


def test_report_is_self_contained_and_says_novel(tmp_path):
    _, html = make_report(tmp_path)
    assert 'id="motif-table"' in html and html.count("data:image/png;base64,") >= 4
    assert 'src="http' not in html and "<script" not in html
    link = (
        '<a href="https://jaspar.elixir.no/matrix/MA0035.5/">MA0035.5 GATA1</a> (q 0.001, p 2e-06)'
    )
    assert link in html and 'class="novel">novel' in html
    # a novel motif still shows its nearest database motif, said to be not significant
    assert "MA0108.3 TBP</a> (q 0.18, p 0.01, not significant)" in html
    # a merged motif lists the cores it was made of (escaped); a motif of one core does not
    assert "merged: GATAAG 30, &lt;b&gt;GATTAG&lt;/b&gt; 10" in html and "TATAAA 25" not in html
    assert "0.91" in html and "75%" in html and "95%" in html
    # how it was trained: the architecture, the strands, and the candidates of model.arch auto
    assert (
        "Architecture: deepstarr, with first_activation: exp, filters: [8, 4] (model.hparams)"
        in html
    )
    plain = training_notes({"model": {"arch": "cnn", "hparams": {}}})["model"]
    assert plain == "Architecture: cnn, with the default hyperparameters."
    members = {"member_arch": "deepstarr", "members": 5, "member_hparams": {"hidden": 64}}
    ensemble = training_notes({"model": {"arch": "ensemble", "hparams": members}})["model"]
    assert ensemble == (
        "Architecture: an ensemble of 5 deepstarr, with hidden: 64 (model.hparams); the rest "
        "at their defaults."
    )
    script = training_notes({"model": {"arch": "torchscript", "hparams": {}}})["model"]
    assert script == "Architecture: a TorchScript model (model.checkpoint), not one of seqsal's."
    assert "Oriented sequences" in html and "strand-stability test is skipped" in html
    assert 'id="selection"' in html and "deepstarr (chosen)" in html
    loaded = training_notes({"epochs": 0, "strands": {"oriented": False, "rc_augment": False}})
    assert loaded["strands"].endswith("the model was loaded (model.checkpoint), not trained here.")
    assert "(FDR &lt; 0.05, against\nthe attributions of dinucleotide-shuffled regions)" in html


def test_trust_section_reports_every_test_and_warns_of_shortcuts(tmp_path):
    _, html = make_report(tmp_path)
    section = html[html.index('id="trust"') : html.index("Tracks in IGV")]
    assert section.count("<tr><td>") >= 3  # two methods and the interval
    assert "0.97, 0.8" in section and "n/a, n/a" in section  # truth only for grad_x_input
    assert "Possible shortcut" in section and "adapter&lt;5&gt;" in section  # escaped
    assert "60% of all |attribution|" in section and "ACGTACGT" in section
    assert "2 of 10 tested regions are saturated" in section and "r7" in section
    assert "√depth fits with R² 1" in section
    assert "No model trained with another seed" in section
    # deletion beats random in 75% (under the 95% bar): why, with the figures
    assert section.count("31% of the output is still") == 2 and "random orders: 2%" in section
    assert "lowest first, it beats random in 50%, 50%, 100%, 100%, 100%" in section
    assert "seqlet precision\n<b>0.9</b>, recall <b>0.85</b>" in section


def test_known_sites_without_seqlets_say_so_not_nan(tmp_path):
    empty = {"seqlet_precision": float("nan"), "seqlet_recall": 0.0, "n_seqlets": 0}
    summary = {**SUMMARY, "truth": {**SUMMARY["truth"], **empty}}
    _, html = make_report(tmp_path, summary=summary)
    text = re.sub(r"base64,[^\"]*", "", html)  # the pictures' bytes
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "no\nseqlet was called, so none is on one (recall <b>0</b>)" in html
    assert "Known sites: no seqlet was called, so none was found by one." in html


def test_the_comparison_and_the_prior_are_shown_with_names_escaped(tmp_path):
    from seqsal.report import comparison_rows, training_notes

    entry = {
        "deletion_fraction_beats_random": 0.9,
        "mean_deletion_auc": 0.2,
        "test": {"bound": {"auroc": 0.8, "n": 10}},
        "known_site_auroc": 0.7,
        "shortcuts": {"adapter": 0.6},
        "map_pearson": 1.0,
    }
    other = {
        **entry,
        "shortcuts": {"adapter": 0.02},
        "test": {"bound": {"auroc": 0.9}},
        "map_pearson": 0.42,
    }
    table = comparison_rows({"this run": entry, "<b>old</b>.pt": other})
    assert table["models"] == ["this run", "<b>old</b>.pt"]
    assert [r["values"] for r in table["rows"]] == [
        ["0.8", "0.9"],
        ["90%", "90%"],
        ["0.2", "0.2"],
        ["1", "0.42"],
        ["0.7", "0.7"],
        ["60%", "2%"],
    ]
    summary = {**SUMMARY, "comparison": {"this run": entry, "<b>old</b>.pt": other}}
    _, html = make_report(tmp_path, summary)
    section = html[html.index('id="comparison"') : html.index("Tracks in IGV")]
    assert "&lt;b&gt;old&lt;/b&gt;.pt" in section and "<b>old" not in section
    assert "share of |attribution| in adapter</td><td>60%</td><td>2%" in section
    verdict = html[
        html.index('id="verdict-comparison"') : html.index(
            "</li>", html.index('id="verdict-comparison"')
        )
    ]
    assert verdict.endswith(
        "This run against &lt;b&gt;old&lt;/b&gt;.pt: test auroc of bound 0.8 against 0.9; "
        "deletion beats random in 90% against 90%; their maps agree with a median per-region "
        "r of 0.42. Details under Compared with another model."
    )
    prior = {"irrelevant_positions": 150, "relevant_positions": 0, "mask_weight": 10.0}
    notes = training_notes({"training": {"prior": {**prior, "smoothness": 0.0}}})
    assert notes["prior"] == (
        "Trained with attribution priors (model.prior): the squared input gradient over the "
        "150 positions marked irrelevant was penalised (weight 10). The training log gives "
        "each epoch's time and each prior's term."
    )
    assert training_notes({})["prior"] == ""
    again = training_notes({"training": {"prior": {**prior, "smoothness": 0.0, "restarts": 2}}})
    assert (
        "penalised (weight 10). The prior held 2 starts of the training no better than a "
        in (again["prior"])
    )


@needs_chromium
def test_report_renders_in_headless_chromium_verdict_first(tmp_path):
    import re

    path, _ = make_report(tmp_path)
    dom, console, pixels = render_in_chromium(path, tmp_path)
    assert 'id="motif-table"' in dom and "GATA1" in dom
    assert console == ""  # no errors, no messages
    assert pixels.shape[:2] == (1600, 1200) and pixels.std() > 0.05  # not a blank page
    # the verdict comes first, in words, with the split and the bars it was judged by
    verdict = dom[dom.index('id="verdict"') : dom.index("</section>")]
    assert dom.index('id="verdict"') < dom.index('id="metrics"')
    assert "Model: good." in verdict and "Pearson r 0.91" in verdict
    assert "2 found from 1 seqlet; 1 named against jaspar (TOMTOM q &lt; 0.05): GATA1; 1 novel" in (
        verdict
    )
    assert "Maps: not faithful" in verdict and "(bar: 95%)" in verdict
    links = re.findall(r'href="([^"]+)"', verdict)
    assert links == [
        "../tracks/igv.html",
        "../tracks/igv_session.xml",
        "../motifs/motifs.tsv",
        "../seqlets/seqlets.bed",
        "../evaluate/faithfulness.tsv",
        "../regions/rejected.tsv",
    ]
    # example regions give their genome coordinates
    assert "region r1, c:1-20 (+ strand)" in dom
    # drawn at the top of the page: the verdict box's color fills a band under the title
    box = np.all(np.abs(pixels[..., :3] - np.array([243, 247, 251]) / 255) < 0.01, axis=-1)
    rows = np.flatnonzero(box.sum(axis=1) > 600)
    assert len(rows) > 50 and rows[0] < 300, rows[:5]


def run_outputs(length=8):
    """``build_report``'s inputs of a tiny run with one motif of ``length`` bases."""
    ppm = np.random.default_rng(0).dirichlet(np.ones(4) * 0.3, size=length).T
    logo = png_base64(motif_logos(ppm, ppm - 0.25, title="motif"))
    table = pd.DataFrame(
        {"motif_id": ["motif_1"], "n_seqlets": ["40"], "sign": ["positive"]}
        | {"length": [str(length)]}
        | {"status": ["named"], "name": ["GATA1"], "match_1": ["MA0035.5 GATA1"]}
        | {"match_1_q": ["0.001"]}
        | {f"match_{k}{s}": [""] for k in (2, 3) for s in ("", "_q")}
    )
    regions = pd.DataFrame(
        {"chrom": ["c"], "start": [0], "end": [20], "name": ["r1"], "score": 0, "strand": "+"}
    )
    seqlets = pd.DataFrame({"name": ["r1:0", "r1:1"], "region": ["r1"] * 2, "attr_sum": [1.0, 2]})
    assignments = pd.DataFrame({"seqlet": ["r1:0", "r1:1"], "motif_id": ["motif_1", "none"]})
    metrics = {"test": {"activity": {"n": 10, "pearson": 0.91, "spearman": 0.9}}}

    def contrib(i):
        return np.linspace(-1, 1, 80).reshape(4, 20)

    return logo, {
        "metrics": metrics,
        "summary": SUMMARY,
        "table": table,
        "assignments": assignments,
        "seqlets": seqlets,
        "regions": regions,
        "contrib": contrib,
        "images": {"curves": logo, "faithfulness_plot": logo, "field_plot": logo}
        | {"logos": {"motif_1": logo}},
    }


def test_build_report_is_the_report_of_the_run_outputs():
    from seqsal import __version__
    from seqsal.report import build_report

    logo, run = run_outputs()
    html = build_report(**run, alpha=0.05, genome="genome.fa")
    metrics, table, assignments = run["metrics"], run["table"], run["assignments"]
    seqlets, regions, contrib = run["seqlets"], run["regions"], run["contrib"]
    names, rows = metric_rows(metrics)
    expected = render_report(
        training=training_notes(metrics),
        verdict=report_verdict(
            metrics, SUMMARY, table, 2, "grad_x_input", "jaspar2024_vertebrates", 0.05
        ),
        max_q=0.05,
        merge_threshold=0.7,
        version=__version__,
        n_regions=1,
        method="grad_x_input",
        database="jaspar2024_vertebrates",
        metric_names=names,
        metric_rows=rows,
        curves=logo,
        motifs=motif_rows(table, {"motif_1": logo}),
        examples=example_regions(table, assignments, seqlets, regions, contrib),
        n_seqlets=2,
        alpha=0.05,
        null_model="shuffle",
        n_assigned=1,
        faithfulness_plot=logo,
        field_plot=logo,
        genome="genome.fa",
        summary=SUMMARY,
    )
    assert html == expected and "MA0035.5 GATA1</a> (q 0.001)" in html
    assert 'id="hit-floor"' not in html


@pytest.mark.parametrize("length", [6, 7])
def test_report_names_the_motifs_left_without_hits(length):
    """FIMO's best p-value is 4^-width: at tracks.motif_hit_p 1e-4 a 6-base motif has no
    hit in motif_hits.bed, and the report says so where the tracks are; 0.001 shows it."""
    from seqsal.report import build_report, variant_context
    from seqsal.variants import TABLE_COLUMNS

    _, run = run_outputs(length)
    html = build_report(**run)
    floor = re.search(r'<p class="warning" id="hit-floor">(.*?)</p>', html)
    assert (floor is not None) == (length == 6)
    if floor:
        assert "so motif_1 (6 bases) can have no hit; set tracks.motif_hit_p to 0.001" in floor[1]
        assert 'id="hit-floor"' not in build_report(**run, motif_hit_p=1e-3)
    # variants.motif_p has the same floor for the motifs a variant breaks or makes
    section = variant_context(
        pd.DataFrame(columns=TABLE_COLUMNS), {"names": []}, n_rejected=0, n_null=20,
        motif_p=1e-4, method="grad_x_input", strands=True, own_motifs=1,
    )  # fmt: skip
    html = build_report(**run, variants=section)
    said = "set variants.motif_p to 0.001 to see them (the motif column)" in html
    assert said == (length == 6)


@needs_chromium
def test_report_with_hostile_names_runs_no_injected_script(tmp_path):
    import re

    from seqsal.report import build_report

    hostile = '<img src=x onerror="document.body.dataset.pwned=1">'
    quote = '"><script>document.body.dataset.pwned=2</script>'
    ppm = np.random.default_rng(0).dirichlet(np.ones(4) * 0.3, size=8).T
    logo = png_base64(motif_logos(ppm, ppm - 0.25, title="motif"))
    table = pd.DataFrame(
        {"motif_id": ["motif_1"], "n_seqlets": ["40"], "sign": ["positive"], "length": ["8"]}
        | {"status": ["named"], "name": [hostile], "match_1": [f"MA0035.5 {quote}"]}
        | {"match_1_q": ["0.001"], "family": [hostile], "match_1_p": [quote]}
        | {f"match_{k}{s}": [""] for k in (2, 3) for s in ("", "_q")}
        | {"variants": [f"{hostile} 30, {quote} 10"]}
    )
    shared = {"stretches": [hostile, quote], "attribution_fraction": 0.3}
    shared |= {"base_fraction": 0.1, "enrichment": 3.0, "flagged": True}
    regions = pd.DataFrame(
        {"chrom": [quote], "start": [0], "end": [20], "name": [hostile], "score": 0}
        | {"strand": "+"}
    )
    seqlets = pd.DataFrame({"name": [f"{hostile}:0"], "region": [hostile], "attr_sum": [1.0]})
    assignments = pd.DataFrame({"seqlet": [f"{hostile}:0"], "motif_id": ["motif_1"]})
    html = build_report(
        metrics={
            "test": {quote: {"n": 10, "pearson": 0.91}},
            "model": {"arch": hostile, "hparams": {quote: hostile}},
        },
        summary=SUMMARY | {"shortcuts": SUMMARY["shortcuts"] | {"constant": shared}},
        table=table,
        assignments=assignments,
        seqlets=seqlets,
        regions=regions,
        contrib=lambda i: np.linspace(-1, 1, 80).reshape(4, 20),
        images={"curves": logo, "faithfulness_plot": logo, "field_plot": logo}
        | {"logos": {"motif_1": logo}},
        database=hostile,
        genome=quote,
        data={"n_regions": 20, "n_rejected": 1, "targets": [hostile]}
        | {"signal": {"files": {hostile: [quote]}, "stat": "sum", "window": 50}},
    )
    assert hostile not in html and quote not in html
    assert "central 50 bp of &lt;img" in html  # the file names arrive, as text
    page = tmp_path / "report.html"
    page.write_text(html)
    dom, _, _ = render_in_chromium(page, tmp_path)
    assert "pwned" not in re.search(r"<body[^>]*>", dom).group()
    # the merged cores, the p-value and the shared stretches arrive, as text
    assert "merged: &lt;img src=x" in html and "p &#34;&gt;&lt;script&gt;" in html
    assert "stretches every sequence shares (&lt;img" in html.lower()


def test_the_augmentation_is_said_in_words_and_shown(tmp_path):
    from seqsal.report import training_notes

    saliency = {
        "mask": "saliency",
        "mask_width": 10,
        "mask_windows": 2,
        "mask_share": 0.5,
        "mask_fill": "shuffle",
        "finetune_epochs": 0,
    }
    assert training_notes({"training": {"augment": saliency}})["augment"] == (
        "Trained with augmentation (model.augment): in 50% of each batch's sequences, 2 "
        "windows of 10 bp the model credited most were replaced by dinucleotide-shuffled bases."
    )
    evoaug = {"evoaug": ["mutation", "inversion"], "finetune_epochs": 5}
    assert training_notes({"training": {"augment": evoaug}})["augment"] == (
        "Trained with augmentation (model.augment): each sequence got one or two of EvoAug's "
        "mutation, inversion; then up to 5 epochs of fine-tuning on the unchanged sequences "
        "at a tenth of the learning rate."
    )
    assert training_notes({})["augment"] == ""
    distill = {"teachers": ["<b>a</b>.pt", "b.pt"], "alpha": 0.5}
    ensemble = [
        {"seed": 3, "epochs": 20, "valid_loss": 0.29},
        {"seed": 4, "epochs": 18, "valid_loss": 0.3},
    ]
    _, html = make_report(
        tmp_path, training={"augment": evoaug, "distill": distill, "ensemble": ensemble}
    )
    assert '<p id="augment">Trained with augmentation (model.augment): each' in html
    assert (
        '<p id="ensemble">An ensemble (model.ensemble) of 2 models of one architecture, '
        "trained from different seeds on the same split" in html
    )
    assert "seed 3: 20 epochs, 0.29, seed 4: 18 epochs, 0.3." in html
    assert (
        '<p id="distill">Distilled (model.distill): trained on the mean prediction of 2 '
        "teachers, mixed with the labels (50% theirs): &lt;b&gt;a&lt;/b&gt;.pt, b.pt." in html
    )


def test_an_ensembles_receptive_field_is_said_per_member(tmp_path):
    layers = [
        {**layer, "sigma_sd": 0.1, "members": 5} for layer in SUMMARY["receptive_field"]["layers"]
    ]
    summary = {**SUMMARY, "receptive_field": {**SUMMARY["receptive_field"], "layers": layers}}
    _, html = make_report(tmp_path, summary=summary)
    said = "each of the 3 convolutions of each of the 5 members of the ensemble (their mean shown)"
    assert said in html


def test_the_data_line_says_where_labels_and_negatives_came_from():
    from seqsal.report import data_words

    data = {"n_regions": 300, "n_rejected": 2, "targets": ["coverage"]}
    data |= {"signal": {"files": {"coverage": ["cov.bw"]}, "stat": "log1p_sum", "window": 200}}
    data["negatives"] = {"method": "gc_matched", "n_negatives": 200, "n_candidates": 900}
    data["negatives"] |= {"gc_positives": 0.42, "gc_negatives": 0.421, "gc_ks": 0.04}
    assert data_words(data) == (
        "100 regions (2 input rows rejected); labels from signal: the log(1 + sum) over each "
        "region's central 200 bp of coverage (cov.bw); 200 GC-matched negatives drawn from 900 "
        "windows of the reference away from the regions: mean GC 0.421 against the regions' "
        "0.420, Kolmogorov–Smirnov statistic 0.040 (a close match)."
    )
    assert data_words({"n_regions": 5, "n_rejected": 0, "targets": ["a", "b"]}) == (
        "5 regions (0 input rows rejected); targets: a, b."
    )

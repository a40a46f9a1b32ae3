"""The report's words: a verdict for the model, the motifs, the maps and the variants, and
the sentences that explain each, from the run's figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

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
    shared = metrics.get("split_shared") or {}
    if shared.get("test_regions_sharing_bases"):
        seen = (
            f"{shared['test_regions_sharing_bases']} of which share bases with training "
            f"regions (up to {shared['most_shared_bases']}), so these are not scores of "
            "unseen sequence"
        )
    else:
        seen = "never seen in training"
    return {
        "grade": worst if len(scores) == 1 else f"{worst} at worst",
        "text": f"On {split}, {seen}: {shown} ({bars}).{warning}",
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
            "dinucleotide shuffle of it changes is under 25% of the true change, among the "
            "regions whose "
            f"change is at least the median (median share over all: "
            f"{three_digits(saturation['median_first_order_share'])})"
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
            "valid_loss": three_digits(c["valid_loss"]),
            "scores": "; ".join(
                f"{target}: "
                + ", ".join(f"{k} {three_digits(v)}" for k, v in s.items() if k != "n")
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
        parts[-1] += f" (weight {three_digits(prior['mask_weight'])})"
    if prior["smoothness"]:
        parts.append(
            "high frequencies of the positives' maps were penalised (Fourier prior, weight "
            f"{three_digits(prior['smoothness'])})"
        )
    if prior.get("consistency"):
        parts.append(
            "each map was held to the map of a perturbed copy of its sequence (consistency, "
            f"weight {three_digits(prior['consistency'])})"
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
        f"seed {m['seed']}: {m['epochs']} epochs, {three_digits(m['valid_loss'])}" for m in members
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
            "page of the documentation, docs/troubleshooting.md: few or no seqlets)."
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
        f"{percent(faith['deletion_fraction_beats_random'])} of the tested regions, inserting them "
        f"first in {percent(faith['insertion_fraction_beats_random'])} (bar: "
        f"{percent(TRUST_BARS['beats_random'])}); {strand} after a few random substitutions "
        f"agrees with a median Pearson of {stability['median_perturbed_pearson']:.2f} (bar "
        f"{TRUST_BARS['perturbed_pearson']}); "
        f"{'no' if tests['free of flagged shortcuts'] else 'a'} shortcut flagged."
    )
    truth = summary.get("truth")
    if truth and truth.get("n_seqlets") == 0:
        text += " Known sites: no seqlet was called, so none was found by one."
    elif truth:
        text += (
            f" Known sites: {percent(truth['seqlet_recall'])} found by a seqlet, "
            f"{percent(truth['seqlet_precision'])} of seqlets on one."
        )
    grade = "passed their trust tests" if not failed else "not " + " and not ".join(failed)
    return {"grade": grade, "text": text + " Details below, under Can you trust these maps?"}


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
        score = three_digits(scores.get(metric))
        parts.append(f"test {metric} of {target} {score} against {three_digits(other)}")
        break
    parts.append(
        f"deletion beats random in {percent(ours['deletion_fraction_beats_random'])} against "
        f"{percent(theirs['deletion_fraction_beats_random'])}"
    )
    if "map_pearson" in theirs:
        parts.append(
            f"their maps agree with a median per-region r of {three_digits(theirs['map_pearson'])}"
        )
    return (
        f"This run against {name}: {'; '.join(parts)}. Details under Compared with another model."
    )


def below(text, bar: float) -> bool:
    """Whether a table's number (text) is below ``bar``; False for no number."""
    try:
        return float(text) < bar
    except (TypeError, ValueError):
        return False


def three_digits(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return value


def percent(value) -> str:
    return "n/a" if value is None or value != value else f"{100 * value:.0f}%"


def data_words(data: dict) -> str:
    """What the model learnt from, in words: the regions kept, the labels' source, the
    negatives and how well their GC matches the regions'.

    Parameters
    ----------
    data : dict
        ``summary.json`` of the regions stage.

    Returns
    -------
    text : str
    """
    negatives = data.get("negatives") or {}
    n_regions = data["n_regions"] - negatives.get("n_negatives", 0)
    words = [f"{n_regions:,} regions ({data['n_rejected']:,} input rows rejected)"]
    signal = data.get("signal")
    if signal:
        stat = {"log1p_sum": "log(1 + sum)", "sum": "sum", "mean": "mean per base"}
        tracks = "; ".join(
            f"{name} ({', '.join(files)})" for name, files in signal["files"].items()
        )
        words.append(
            f"labels from signal: the {stat[signal['stat']]} over each region's central "
            f"{signal['window']} bp of {tracks}"
        )
    elif data.get("targets"):
        words.append(f"targets: {', '.join(data['targets'])}")
    if negatives:
        words.append(
            f"{negatives['n_negatives']:,} GC-matched negatives drawn from "
            f"{negatives['n_candidates']:,} windows of the reference away from the regions: "
            f"mean GC {negatives['gc_negatives']:.3f} against the regions' "
            f"{negatives['gc_positives']:.3f}, Kolmogorov–Smirnov statistic "
            f"{negatives['gc_ks']:.3f}"
            + (
                " (a close match)"
                if negatives["gc_ks"] < 0.1
                else " (not a close match: the model may learn GC content)"
            )
        )
    return "; ".join(words) + "."

"""Can you trust these maps? Faithfulness, stability, saturation, receptive field,
shortcuts, and recovery of known sites.

Faithfulness: bases are deleted (replaced by a background: a dinucleotide shuffle of the
region or all-``N``) in order of decreasing attribution, in ``n_steps`` equal steps, or
inserted into the background in the same order, and the model's output is recorded.
Each curve is normalised to 1 for the intact sequence and 0 for the background, and its
area (AUC; deletion: lower is more faithful, insertion: higher) is compared with the
same curve for random orders and for the uniform order (a constant map: ties spread
evenly along the sequence).

Stability: each region's map against the map of its reverse complement (mapped back),
of the region with a few substitutions far from its strongest bases, and of models
trained with other seeds.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import InputError
from ..intervals import parse_interval as parse_interval  # importable here, as before
from ..intervals import truth_mask
from .compare import compare_models
from .faithfulness import (
    GOLDEN,
    backgrounds,
    faithfulness,
    path_inputs,
    run_faithfulness,
    summarize_faithfulness,
    uniform_order,
)
from .receptive_field import gaussian_sigma, growth_law, layer_fields, receptive_fields
from .recovery import seqlet_recovery, truth_recovery
from .saturation import flatness, saturation, saturation_test
from .shortcuts import seqlet_kmers, shortcut_audit, shortcut_summary
from .stability import (
    ORIENTED_STRANDS,
    agreement,
    perturbation_stability,
    seed_stability,
    stability_tests,
    strand_stability,
    summarize_stability,
)

__all__ = [
    "GOLDEN",
    "ORIENTED_STRANDS",
    "agreement",
    "backgrounds",
    "compare_models",
    "evaluate_maps",
    "faithfulness",
    "flatness",
    "gaussian_sigma",
    "growth_law",
    "layer_fields",
    "parse_interval",
    "path_inputs",
    "perturbation_stability",
    "receptive_fields",
    "saturation",
    "seed_stability",
    "select_regions",
    "seqlet_kmers",
    "seqlet_recovery",
    "shortcut_audit",
    "strand_stability",
    "summarize_faithfulness",
    "summarize_stability",
    "truth_mask",
    "truth_recovery",
    "uniform_order",
]


log = logging.getLogger(__name__)


def select_regions(pred, labels=None, *, max_regions: int = 256) -> np.ndarray:
    """The regions tested: the positive ones (label > 0.5) when binary labels are given,
    else all; the ``max_regions`` with the highest output among them.

    Parameters
    ----------
    pred : numpy.ndarray, shape=(N,)
        The explained output of each region.
    labels : numpy.ndarray or None, shape=(N,), optional
        Binary labels. Default is None.
    max_regions : int, optional
        Default is 256.

    Returns
    -------
    rows : numpy.ndarray of int
        Highest output first.
    """
    candidates = np.arange(len(pred))
    if labels is not None:
        candidates = candidates[np.asarray(labels) > 0.5]
    return candidates[np.argsort(-pred[candidates], kind="stable")][:max_regions]


def evaluate_maps(
    model,
    X,
    attrs: dict,
    regions: pd.DataFrame,
    pred: np.ndarray,
    seqlets: pd.DataFrame,
    *,
    run: dict,
    binary: bool = False,
    labels=None,
    truth: pd.DataFrame | None = None,
    seed_models: dict | None = None,
    nuisance=(),
    artefacts=(),
    n_steps: int = 20,
    n_random: int = 3,
    background: str = "shuffle",
    max_regions: int = 256,
    n_substitutions: int = 3,
    top_k: int = 20,
    oriented: bool = False,
    compare_to: dict | None = None,
    scored: dict | None = None,
    source: str = "onehot",
) -> dict:
    """The evaluate stage: every test of the maps, summarised.

    Parameters
    ----------
    model : torch.nn.Module
        The model the maps explain.
    X : array-like, shape=(N, 4, L)
        One-hot sequences (a memory-mapped stack: only the tested rows are read).
    attrs : dict
        ``{method: attr (N, L)}``, the first run's method first; every one is scored
        for faithfulness, the first also for stability.
    regions : pandas.DataFrame
        The regions, in the maps' order.
    pred : numpy.ndarray, shape=(N,)
        The attribution run's outputs of the explained target: regions are ranked by it.
    seqlets : pandas.DataFrame
        ``seqlets.bed``.
    run : dict
        The first run's :func:`seqsal.attribute.iter_attributions` keywords (``method``,
        ``target``, ``rc_average``, ``seed``, ``device``, ...): the stability tests redo it.
    binary : bool, optional
        The target is binary: positives are tested, and saturation. Default is False.
    labels : numpy.ndarray or None, shape=(N,), optional
        The target's labels (positives: 1). Default is None.
    truth : pandas.DataFrame or None, optional
        Known sites (BED): the maps' and seqlets' recovery of them. Default is None.
    seed_models : dict or None, optional
        ``{name: model}`` trained with other seeds. Default is None.
    nuisance : sequence of tuple, optional
        Intervals of :func:`parse_interval` for the shortcut audit. Default is none.
    artefacts : sequence of str, optional
        Artefact sequences looked for among seqlet k-mers. Default is none.
    n_steps, n_random, background
        As in :func:`faithfulness`.
    max_regions : int, optional
        As in :func:`select_regions`. Default is 256.
    n_substitutions : int, optional
        As in :func:`perturbation_stability`. Default is 3.
    top_k : int, optional
        Strongest bases compared in the stability tests. Default is 20.
    oriented : bool, optional
        The sequences act in the orientation given: their reverse complements are other
        sequences, so the strand-stability test is skipped. Default is False.
    compare_to : dict or None, optional
        ``{name: model}`` to compare with this one on the same regions
        (:func:`compare_models`), this model named ``"this run"``. Default is None.
    scored : dict or None, optional
        :func:`compare_models`' ``test``, ``labels``, ``tasks`` and ``targets``: the run's
        test split and labels, for the test scores of the comparison. Default is None.
    source : str, optional
        What ``X`` was read from, named in errors. Default is "onehot".

    Returns
    -------
    result : dict
        ``faithfulness`` (per region and method), ``stability`` (per tested region),
        ``summary`` (``summary.json``), ``curves`` and ``fields`` (the plots' data).
    """
    method, names = run["method"], regions["name"].to_numpy()
    rows = select_regions(pred, labels, max_regions=max_regions)
    if not len(rows):
        raise InputError(f"{source}: expected positive regions to test, found none")
    log.info(
        "faithfulness: deletion and insertion curves of %d regions, %d map(s)",
        len(rows),
        len(attrs),
    )
    curve_options = dict(n_steps=n_steps, n_random=n_random, background=background)
    per_region, curves = run_faithfulness(model, X, attrs, rows, run, **curve_options)
    per_region.insert(0, "region", names[per_region["region_index"]])
    summary = {
        "tested": "positive regions, highest outputs first"
        if labels is not None
        else "regions with the highest outputs",
        "background": background,
        "faithfulness": summarize_faithfulness(per_region),
    }
    # stability of the first method's map: other strand, small substitutions, other seeds
    log.info(
        "stability: %ssmall substitutions, %d other seed(s)",
        "" if oriented else "the other strand, ",
        len(seed_models or {}),
    )
    stability, summary["stability"] = stability_tests(
        model, X, attrs[method], rows, names, run, seed_models or {}, n_substitutions, top_k,
        oriented,
    )  # fmt: skip
    stability, summary["saturation"] = _saturation(
        model, X, rows, per_region, stability, run, binary=binary
    )
    fields, summary["receptive_field"] = _receptive_field(model, X.shape[-1])
    log.info("shortcut audit: nuisance intervals and artefact k-mers")
    summary["shortcuts"] = shortcut_summary(X, attrs[method], seqlets, regions, nuisance, artefacts)
    if truth is not None:
        summary["truth"] = {
            **{m: truth_recovery(a, regions, truth) for m, a in attrs.items()},
            **seqlet_recovery(seqlets, truth),
        }
    if compare_to:
        models = {"this run": model, **compare_to}
        summary["comparison"] = compare_models(
            models, X, rows, regions, run=run, truth=truth, nuisance=nuisance,
            **curve_options, **(scored or {}),
        )  # fmt: skip
    return {
        "faithfulness": per_region.drop(columns="region_index"),
        "stability": stability,
        "summary": summary,
        "curves": curves,
        "fields": fields,
    }


def _saturation(model, X, rows, per_region, stability, run, *, binary) -> tuple:
    """The saturation test: of the sigmoid (binary targets: the probability map
    vanishes), else of a flat output (the gradient misses what deleting the region
    changes); the stability table with its columns added, and its summary."""
    if binary:
        first = per_region[per_region["method"] == run["method"]].set_index("region_index")
        background_output = first.loc[rows, "background_output"].to_numpy()
        return saturation_test(model, X, rows, background_output, stability, run)
    from ..models import strand_averaged

    explained = strand_averaged(model) if run.get("rc_average") else model
    flat = flatness(explained, X, rows, **{**run, "rc_average": False})
    stability = pd.concat([stability, flat], axis=1)
    return stability, {
        "kind": "flat output",
        "n_regions": len(flat),
        "n_saturated": int(flat["saturated"].sum()),
        "median_first_order_share": float(np.nanmedian(flat["first_order_share"])),
        "regions": stability.loc[flat["saturated"].to_numpy(), "region"].tolist()[:20],
    }


def _receptive_field(model, length: int) -> tuple:
    """The effective receptive field of the model's convolutions: per layer, and its
    summary (with the growth law fitted where three layers or more)."""
    log.info("receptive field of the convolutions")
    fields = receptive_fields(model, length)
    summary = {
        "layers": fields.to_dict(orient="records"),
        **({"fits": growth_law(fields["depth"], fields["sigma"])} if len(fields) >= 3 else {}),
    }
    return fields, summary

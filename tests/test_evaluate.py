import numpy as np
import pandas as pd
from toy_models import Linear

from seqsal.encode import one_hot_encode
from seqsal.evaluate import (
    _deletion_inputs,
    deletion_curves,
    seqlet_recovery,
    strand_stability,
    summarize_stability,
    truth_mask,
    truth_recovery,
)


def test_deletion_inputs_delete_in_order():
    x = one_hot_encode(["ACGTA"])[0]
    inputs = _deletion_inputs(x, np.array([[4, 3, 2, 1, 0]]), n_steps=5)
    assert inputs.shape == (6, 4, 5)
    np.testing.assert_array_equal(inputs[0], x)
    assert inputs[1, :, 4].sum() == 0 and inputs[1, :, :4].sum() == 4
    assert inputs[-1].sum() == 0


def test_true_attribution_beats_random_for_a_linear_model():
    rng = np.random.default_rng(0)
    X = one_hot_encode(["".join(rng.choice(list("ACGT"), 30)) for _ in range(20)])
    model = Linear(30)
    w = model.weight.detach().numpy()[0]
    attr = (w * X).sum(axis=1)
    per_region, curves = deletion_curves(model, X, attr, n_steps=10, max_regions=10)
    assert len(per_region) == 10 and per_region["beats_random"].mean() >= 0.9
    assert set(curves["order"]) == {"attribution", "random"}
    first = curves[curves["fraction"] == 0]
    np.testing.assert_allclose(first["output"], 1.0, rtol=1e-5)


def test_truth_mask_and_recovery_on_both_strands():
    regions = pd.DataFrame(
        {
            "chrom": ["c", "c"],
            "start": [0, 100],
            "end": [10, 110],
            "name": ["p", "m"],
            "score": 0,
            "strand": ["+", "-"],
        }
    )
    truth = pd.DataFrame({"chrom": ["c", "c"], "start": [2, 101], "end": [4, 103]})
    mask = truth_mask(regions, truth, 10)
    assert np.flatnonzero(mask[0]).tolist() == [2, 3]
    assert np.flatnonzero(mask[1]).tolist() == [7, 8]  # genome 101-102 read backwards
    attr = mask * 1.0 + 0.01
    assert truth_recovery(attr, regions, truth)["auroc"] == 1.0


def test_seqlet_recovery_needs_half_the_site():
    truth = pd.DataFrame({"chrom": ["c", "c"], "start": [10, 50], "end": [20, 60]})
    seqlets = pd.DataFrame({"chrom": ["c", "c", "d"], "start": [14, 56, 10], "end": [24, 66, 20]})
    result = seqlet_recovery(seqlets, truth)
    assert result["seqlet_precision"] == 1 / 3 and result["seqlet_recall"] == 0.5


def test_strand_stability_is_perfect_for_a_strand_averaged_model_only():
    from seqsal.attribute import attribute
    from seqsal.models import strand_averaged

    rng = np.random.default_rng(1)
    X = one_hot_encode(["".join(rng.choice(list("ACGT"), 40)) for _ in range(12)])
    for model, perfect in ((strand_averaged(Linear(40)), True), (Linear(40), False)):
        _, attr, _ = attribute(model, X)
        stability = strand_stability(model, X, attr, [0, 3, 5, 7], top_k=10)
        assert len(stability) == 4
        if perfect:  # both strands of the mean see the same weights, mapped back
            np.testing.assert_allclose(stability["rc_pearson"], 1.0, rtol=1e-6)
            np.testing.assert_allclose(stability["rc_top_jaccard"], 1.0)
        else:  # a random linear model weighs the two strands of a base differently
            assert (stability["rc_pearson"].abs() < 0.9).all()
    summary = summarize_stability(stability, 10)
    assert summary["n_regions"] == 4 and summary["top_k"] == 10
    assert -1 <= summary["median_rc_pearson"] <= 1

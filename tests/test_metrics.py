import numpy as np

from seqsal.metrics import auprc, auroc, pearson, spearman


def test_auroc_known_values():
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auroc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert auroc([0, 1], [0.5, 0.5]) == 0.5
    assert np.isnan(auroc([1, 1], [0.1, 0.2]))


def test_auroc_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    labels, scores = rng.random(200) < 0.3, rng.normal(size=200)
    pos, neg = scores[labels], scores[~labels]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert abs(auroc(labels, scores) - pairs) < 1e-12


def test_auprc_perfect_and_worst():
    assert auprc([1, 0, 0], [3, 2, 1]) == 1.0
    assert abs(auprc([0, 0, 1], [3, 2, 1]) - 1 / 3) < 1e-12


def test_correlations():
    x = np.arange(10.0)
    assert abs(pearson(x, 2 * x + 1) - 1) < 1e-12
    assert abs(spearman(x, x**3) - 1) < 1e-12
    assert np.isnan(pearson(x, np.ones(10)))

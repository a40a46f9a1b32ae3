"""Attribution priors (``model.prior``): invariants of the penalties, and that training
with them does what they say."""

import numpy as np
import pandas as pd
import pytest
import torch

from seqsal import train
from seqsal.attribute import attribute
from seqsal.errors import InputError
from seqsal.evaluate import shortcut_audit
from seqsal.plots import training_curves
from seqsal.priors import (
    Priors,
    consistency_penalty,
    gradient_mass,
    input_gradients,
    mask_share,
    perturbed,
    prior_mask,
    random_signs,
    smoothness_penalty,
)
from seqsal.train import PriorOptions, build_priors, fit, train_model


def _one_hot(rng, n, length):
    X = np.zeros((n, 4, length), np.float32)
    X[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)] = 1
    return X


def test_gradient_mass_of_a_linear_model_is_its_squared_weights_in_the_mask():
    rng = np.random.default_rng(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 30, 2))
    x = torch.as_tensor(_one_hot(rng, 5, 30))
    mask = torch.zeros(1, 30, dtype=torch.bool)
    mask[0, 3:9] = True
    weights = model[1].weight.detach().view(2, 4, 30)[:, :, 3:9]
    # two outputs in one pass: over the sign patterns, the mass is the sum of theirs
    masses = []
    for pattern in ([1.0, 1.0], [1.0, -1.0]):
        output, grad = input_gradients(model, x, torch.tensor([pattern] * 5))
        masses.append(gradient_mass(grad, mask))
    assert output.shape == (5, 2) and grad.shape == (5, 4, 30)
    assert torch.allclose(sum(masses) / 2, (weights**2).sum())
    # the penalty reaches the weights (double backpropagation), and only those in the mask
    masses[0].backward()
    moved = model[1].weight.grad.view(2, 4, 30).abs().sum(dim=(0, 1)) > 0
    assert moved[3:9].all() and not moved[:3].any() and not moved[9:].any()
    # one output: its own gradient, no signs drawn
    assert torch.equal(random_signs((5, 1), rng), torch.ones(5, 1))
    assert set(random_signs((500, 3), rng).unique().tolist()) == {-1.0, 1.0}


def test_mask_share_is_scale_free_and_bounded():
    attr = torch.randn(8, 50)
    mask = torch.zeros(8, 50, dtype=torch.bool)
    mask[:, :10] = True
    share = mask_share(attr, mask)
    assert 0 < share < 1
    assert torch.allclose(mask_share(7 * attr, mask), share)
    assert mask_share(attr, torch.ones(1, 50, dtype=torch.bool)) == pytest.approx(1)


def test_smoothness_penalty_prefers_a_motif_wide_bump_to_noise_and_ignores_scale():
    positions = torch.arange(200.0)
    bump = torch.exp(-0.5 * ((positions - 100) / 6) ** 2).view(1, -1)
    noise = torch.randn(1, 200, generator=torch.Generator().manual_seed(0))
    assert smoothness_penalty(bump) < 1e-4 < 0.01 < smoothness_penalty(noise)
    assert torch.allclose(smoothness_penalty(3 * noise), smoothness_penalty(noise))
    # only the kept (positive) sequences count; none kept is no penalty
    both = torch.cat([bump, noise])
    keep = torch.tensor([True, False])
    assert torch.allclose(smoothness_penalty(both, keep), smoothness_penalty(bump))
    assert smoothness_penalty(both, torch.tensor([False, False])) == 0
    # no attribution is no way out: it is penalised most
    assert smoothness_penalty(torch.zeros(1, 200)) == 1


def test_prior_mask_places_intervals_on_every_region():
    shared = prior_mask(["adapter:0:3", "primer:-2:"], 20)
    assert shared.shape == (1, 20) and shared[0].nonzero()[0].tolist() == [0, 1, 2, 18, 19]
    with pytest.raises(InputError, match="model.prior.irrelevant: expected 0 <= start"):
        prior_mask(["adapter:5:50"], 20, key="model.prior.irrelevant")
    with pytest.raises(InputError, match="no regions were given"):
        prior_mask(["flagged.bed"], 20)


def test_prior_mask_reads_a_bed_in_each_regions_own_orientation(tmp_path):
    regions = pd.DataFrame(
        {"chrom": ["c1", "c1"], "start": [100, 300], "end": [120, 320], "strand": ["+", "-"]}
    )
    bed = tmp_path / "flagged.bed"
    bed.write_text("c1\t102\t105\tbarcode\nc1\t300\t302\tbarcode\n")
    mask = prior_mask([str(bed)], 20, regions=regions)
    assert mask[0].nonzero()[0].tolist() == [2, 3, 4]
    assert mask[1].nonzero()[0].tolist() == [18, 19]  # - strand: genome 300 is offset 19


def test_masks_flip_with_the_sequences_read_reverse_complemented():
    mask = np.zeros((1, 6), dtype=bool)
    mask[0, :2] = True
    priors = Priors(irrelevant=mask, relevant=None, mask_weight=1.0, smoothness=0.0, positives=None)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 6, 1))
    torch.nn.init.ones_(model[1].weight)  # the input gradient is 1 everywhere
    x = torch.as_tensor(_one_hot(np.random.default_rng(0), 2, 6))
    rng, rows = np.random.default_rng(0), np.array([0, 0])
    plain = priors.forward(model, x, rows, None, rng)[1]["irrelevant"]
    flipped = priors.forward(model, x, rows, np.array([True, False]), rng)[1]["irrelevant"]
    assert plain == flipped == 8  # 4 bases x 2 positions: the mask moved with the bases
    model[1].weight.data.view(4, 6)[:, 4:] = 0  # no gradient at the last two positions
    terms = priors.forward(model, x, rows, np.array([True, False]), rng)[1]
    assert terms["irrelevant"] == 4 and terms["total"] == 4  # the flipped one's mask: 4, 5


def test_consistency_is_one_minus_the_maps_correlation_and_perturbed_is_one_hot():
    a = torch.randn(3, 40)
    assert consistency_penalty(a, a) == pytest.approx(0, abs=1e-6)
    assert consistency_penalty(a, 3 * a + 1) == pytest.approx(0, abs=1e-6)
    assert consistency_penalty(a, -a) == pytest.approx(2)
    assert consistency_penalty(a, torch.zeros(3, 40)) == pytest.approx(1)
    x = torch.as_tensor(_one_hot(np.random.default_rng(1), 4, 40))
    rng = np.random.default_rng(0)
    assert torch.equal(perturbed(x, 0.0, rng, reverse=False), x)
    assert torch.equal(perturbed(x, 0.0, rng, reverse=True), x.flip((1, 2)))
    changed = perturbed(x, 0.5, rng, reverse=False)
    assert torch.equal(changed.sum(dim=1), torch.ones(4, 40))  # still one base per column
    assert 0.2 < (changed != x).any(dim=1).float().mean() < 0.55  # about 3/4 of a half


def test_no_prior_is_no_prior():
    data = {"X": np.zeros((4, 4, 10), np.uint8), "y": np.zeros((4, 1))}
    assert build_priors(None, data, ["regression"]) is None
    assert build_priors(PriorOptions([], smoothness=0.0), data, ["regression"]) is None
    assert build_priors(PriorOptions(["a:0:2"], mask_weight=0), data, ["regression"]) is None


def _adapter_library(rng, n, *, shortcut: bool):
    """Label = a TGACTCA site after base 10; bases 0-10 hold one of two adapters that
    tells the label in training (``shortcut``) or is random."""
    y = (rng.random(n) < 0.5).astype(np.float32)
    X = _one_hot(rng, n, 60)
    site = np.eye(4, dtype=np.float32)[["ACGT".index(b) for b in "TGACTCA"]].T
    for row in np.flatnonzero(y):
        start = rng.integers(10, 53)
        X[row, :, start : start + 7] = site
    adapters = _one_hot(np.random.default_rng(99), 2, 10)
    which = y.astype(int) if shortcut else rng.integers(0, 2, n)
    X[:, :, :10] = adapters[which]
    return X, y[:, None]


def test_the_irrelevant_prior_takes_the_attribution_off_a_planted_adapter():
    """The unit-sized version of benchmarks/priors.py: the adapter tells the label
    perfectly in training; with the M- prior on it the model must read the site."""
    rng = np.random.default_rng(0)
    X, y = _adapter_library(rng, 1500, shortcut=True)
    X_test, _ = _adapter_library(rng, 300, shortcut=False)
    split = np.where(np.arange(1500) < 1200, "train", "valid")
    shares = {}
    for name, prior in (("plain", None), ("prior", PriorOptions(["adapter:0:10"]))):
        priors = build_priors(prior, {"X": X, "y": y}, ["binary"])
        model, _, history = train_model(
            X, y, split, tasks=["binary"], rc_augment=False, priors=priors, max_epochs=8
        )
        _, attr, _ = attribute(model, X_test)
        shares[name] = shortcut_audit(attr, [("adapter", 0, 10)])["intervals"][0]
        assert (history["seconds"] > 0).all()
    assert shares["plain"]["flagged"] and not shares["prior"]["flagged"]
    assert shares["prior"]["attribution_fraction"] < 0.05 < shares["plain"]["attribution_fraction"]
    assert "irrelevant" in history  # the prior's term, per epoch


def test_fit_records_the_prior_in_the_metrics_and_model_meta():
    rng = np.random.default_rng(1)
    X, y = _adapter_library(rng, 200, shortcut=True)
    data = {"X": X.astype(np.uint8), "y": y, "chroms": np.array(["c"] * 200), "targets": ["t"]}
    prior = PriorOptions(["adapter:0:10"], mask_weight=5.0, smoothness=1.0, consistency=0.5)
    result = fit(data, max_epochs=1, prior=prior)
    expected = {
        "irrelevant_positions": 10,
        "relevant_positions": 0,
        "mask_weight": 5.0,
        "smoothness": 1.0,
        "consistency": 0.5,
        "restarts": 0,
    }
    assert result["meta"]["training"] == {"prior": expected}
    assert result["metrics"]["training"] == {"prior": expected}
    assert {"irrelevant", "smoothness", "consistency"} <= set(result["history"])
    plain = fit(data, max_epochs=1)
    assert "training" not in plain["meta"] and "training" not in plain["metrics"]


def test_a_prior_too_strong_to_learn_under_is_said_in_the_log(caplog):
    rng = np.random.default_rng(0)
    X, y = _adapter_library(rng, 600, shortcut=False)
    split = np.where(np.arange(600) < 480, "train", "valid")
    priors = build_priors(PriorOptions(consistency=1000.0), {"X": X, "y": y}, ["binary"])
    train_model(X, y, split, tasks=["binary"], rc_augment=False, priors=priors, max_epochs=3)
    assert "no better than a constant prediction's" in caplog.text
    assert "lower the prior's weight" in caplog.text


def test_a_model_a_prior_holds_on_the_plateau_starts_again_from_new_weights(caplog, monkeypatch):
    """Labels with no signal keep the model no better than a constant: after
    RESTART_AFTER epochs it starts again from weights of another seed, at most
    MAX_RESTARTS times, and the history says which start each epoch belongs to."""
    monkeypatch.setattr(train.modes, "RESTART_AFTER", 2)
    rng = np.random.default_rng(0)
    X = _one_hot(rng, 200, 30).astype(np.uint8)
    y = rng.integers(0, 2, (200, 1)).astype(np.float32)
    split = np.where(np.arange(200) < 160, "train", "valid")
    priors = build_priors(PriorOptions(consistency=0.5), {"X": X, "y": y}, ["binary"])
    starts = []
    build = train.loop.build_model

    def counted(*args, **kwargs):
        starts.append(torch.initial_seed())
        return build(*args, **kwargs)

    monkeypatch.setattr(train.loop, "build_model", counted)
    options = dict(tasks=["binary"], patience=1, max_epochs=3, learning_rate=1e-9, seed=4)
    _, _, history = train_model(X, y, split, priors=priors, **options)
    assert history["attempt"].tolist() == [1, 1, 2, 2, 3, 3, 3]
    assert history["epoch"].tolist() == list(range(1, 8))
    assert starts == [4, 1004, 2004]
    assert "without the prior until every output has learnt (restart 2 of at most 2)" in caplog.text
    assert "the model has not learnt" in caplog.text
    # the restarts never learnt, so they never took the prior on
    assert history["consistency"].notna().tolist() == [True] * 2 + [False] * 5
    figure = training_curves(history, y[160:], np.zeros((40, 1)), tasks=["binary"])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["train", "validation", "restarted", "kept"]
    # without a prior, the plateau is waited out (early stopping waits), not restarted
    starts.clear()
    _, _, plain = train_model(X, y, split, **options)
    assert "attempt" not in plain and starts == [4]


def test_a_model_that_learns_one_output_but_not_another_starts_again(caplog, monkeypatch):
    """Output 1 (the A count) begins to learn in epoch 2, output 2 (random labels) never:
    RESTART_AFTER epochs later the restart names the output a prior held on the plateau
    while the other learnt. The second start learns less, and the first start's best
    weights are kept."""
    monkeypatch.setattr(train.modes, "RESTART_AFTER", 4)
    rng = np.random.default_rng(0)
    X = _one_hot(rng, 400, 30).astype(np.uint8)
    y = np.stack([X[:, 0].sum(1) > 7.5, rng.integers(0, 2, 400)], 1).astype(np.float32)
    split = np.where(np.arange(400) < 320, "train", "valid")
    priors = build_priors(PriorOptions(consistency=0.1), {"X": X, "y": y}, ["binary"] * 2)
    options = dict(tasks=["binary"] * 2, patience=3, max_epochs=6, learning_rate=3e-3, seed=4)
    model, _, history = train_model(X, y, split, priors=priors, **options)
    first = next(r.getMessage() for r in caplog.records if "starting again" in r.getMessage())
    assert first.startswith(
        "model.prior: 4 epochs after the other outputs began to learn, the validation loss "
        "of output 2 of 2 (in the targets' order)"
    )
    assert history["attempt"].iloc[5] == 1 and history["attempt"].iloc[6] == 2
    assert "keeping the earlier one's weights" in caplog.text
    best = history["valid_loss"].idxmin()
    assert history["attempt"][best] == 1
    logits = torch.as_tensor(train.loop.predict(model, X[320:]))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.as_tensor(y[320:]))
    assert loss.item() == pytest.approx(history["valid_loss"][best], rel=1e-5)
    figure = training_curves(
        history, y[320:], np.zeros((80, 2)), tasks=["binary"] * 2, targets=["count", "noise"]
    )
    kept = figure.axes[0].get_lines()[-1]
    assert kept.get_xdata()[0] == history["epoch"][best]


def test_a_restart_takes_the_prior_on_once_every_output_has_learnt_without_it(caplog, monkeypatch):
    """A prior far too strong holds the first start on the plateau; the restart trains
    without it, learns the A count, then trains with it, and the weights kept are the
    best epoch's with the prior."""
    monkeypatch.setattr(train.modes, "RESTART_AFTER", 3)
    rng = np.random.default_rng(0)
    X = _one_hot(rng, 1600, 30).astype(np.uint8)
    y = (X[:, 0].sum(1, keepdims=True) > 7.5).astype(np.float32)
    split = np.where(np.arange(1600) < 1280, "train", "valid")
    priors = build_priors(PriorOptions(consistency=1000.0), {"X": X, "y": y}, ["binary"])
    options = dict(tasks=["binary"], patience=2, max_epochs=8, learning_rate=1e-2, seed=4)
    with caplog.at_level("INFO", logger="seqsal.train"):
        _, _, history = train_model(X, y, split, priors=priors, **options)
    first = history[history["attempt"] == 1]
    assert first["consistency"].notna().all() and "restart 1 of at most 2" in caplog.text
    switched = next(r.getMessage() for r in caplog.records if "training with it" in r.getMessage())
    after = int(switched.split("after ")[1].split(" epochs")[0])
    last = history[history["attempt"] == history["attempt"].max()]
    assert last["consistency"].notna().tolist() == [False] * after + [True] * (len(last) - after)
    assert len(last) > after
    best = last["valid_loss"][last["prior_on"]].idxmin()
    assert f"(best: epoch {history['epoch'][best]})" in caplog.records[-1].getMessage()
    # the weights kept are the best epoch's with the prior, and the curves mark it
    assert history["kept"].sum() == 1
    kept = history.index[history["kept"]][0]
    assert history["prior_on"][kept] and kept == history["valid_loss"][history["prior_on"]].idxmin()
    # an ensemble member's record gives the kept epoch's loss (an epoch without the
    # prior may have had a lower one)
    assert train._member(4, history)["valid_loss"] == history["valid_loss"][kept]
    figure = training_curves(history, y[1280:], np.zeros((320, 1)), tasks=["binary"])
    assert figure.axes[0].get_lines()[-1].get_xdata()[0] == history["epoch"][kept]
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["train", "validation", "restarted", "prior on", "kept"]
    line = figure.axes[0].get_lines()[-2].get_xdata()[0]
    assert line == last["epoch"].iloc[after] - 0.5

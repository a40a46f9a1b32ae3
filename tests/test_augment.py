import logging

import numpy as np
import pytest
import torch

from seqsal.augment import (
    EVOAUG_MAX,
    Augment,
    _delete,
    _insert,
    _invert,
    _translocate,
    evolve,
    fill_windows,
    mutate,
    saliency,
    salient_starts,
)
from seqsal.encode import reverse_complement
from seqsal.errors import InputError
from seqsal.train import PriorOptions, fit, train_model


def _one_hot(rng, n, length):
    return np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, length))].transpose(0, 2, 1).copy()


def _text(x) -> str:
    return "".join("ACGT"[i] for i in x.argmax(0))


def test_mutation_replaces_the_share_asked_with_one_hot_bases():
    X = _one_hot(np.random.default_rng(0), 200, 100)
    mutated = mutate(X, 0.1, np.random.default_rng(0))
    assert (mutated.sum(axis=1) == 1).all() and (X.sum(axis=1) == 1).all()
    changed = (mutated != X).any(axis=1).mean()  # a drawn base keeps its value 1 time in 4
    assert 0.065 < changed < 0.085
    assert mutate(X, 0.0, np.random.default_rng(0)) is not X


def test_salient_windows_are_the_strongest_and_do_not_overlap():
    scores = np.zeros((2, 50))
    scores[0, 20:30] = 1.0
    scores[0, 24] = 5.0  # inside the first window
    scores[0, 40:45] = 2.0
    scores[1, 3:13] = 1.0
    starts = salient_starts(scores, 10, windows=2)
    assert starts[0, 0] == 20 and starts[1, 0] == 3
    assert starts[0, 1] == 35  # 40-44 taken whole, clear of 20-29
    for row in starts:
        assert abs(row[0] - row[1]) >= 10


@pytest.mark.parametrize("fill", ["n", "shuffle"])
def test_filled_windows_change_those_bases_only(fill):
    rng = np.random.default_rng(1)
    X = _one_hot(rng, 20, 80)
    starts = rng.integers(0, 71, (20, 2))
    out = fill_windows(X, starts, 10, fill, rng)
    inside = np.zeros((20, 80), bool)
    for row, (a, b) in enumerate(starts):
        inside[row, a : a + 10] = inside[row, b : b + 10] = True
    np.testing.assert_array_equal(out.transpose(0, 2, 1)[~inside], X.transpose(0, 2, 1)[~inside])
    expected = 0 if fill == "n" else 1
    assert (out.sum(axis=1)[inside] == expected).all()
    if fill == "shuffle":
        assert (out != X).any(axis=1)[inside].mean() > 0.4  # a new draw, not the same bases
    assert fill_windows(X, starts, 10, fill, rng) is not X


def test_evoaug_changes_keep_the_length_and_what_they_promise():
    rng = np.random.default_rng(2)
    for x in _one_hot(rng, 30, 60):
        text = _text(x)
        for change in (_insert, _delete, _invert, _translocate):
            out = change(x, rng)
            assert out.shape == x.shape and (out.sum(axis=0) == 1).all(), change
        # a translocation is a circular shift
        shifted = _text(_translocate(x, rng))
        assert shifted in text + text and shifted != text or text == text[1:] + text[0]
        # an insertion keeps at least L - 20 bases in one piece; so does a deletion
        for change in (_insert, _delete):
            out = _text(change(x, rng))
            kept = max(len(out[i:j]) for i in range(60) for j in range(i, 61) if out[i:j] in text)
            assert kept >= 60 - 2 * EVOAUG_MAX, change
        # an inversion is the reverse complement of one stretch
        inverted = _invert(x, rng)
        differ = np.flatnonzero((inverted != x).any(axis=0))
        if len(differ):
            a, b = differ[0], differ[-1] + 1
            stretch = reverse_complement(x[None, :, a:b])[0]
            np.testing.assert_array_equal(inverted[:, a:b], stretch)


def test_evolve_draws_one_or_two_changes_per_sequence_seeded():
    X = _one_hot(np.random.default_rng(3), 50, 60)
    one = evolve(X, ["inversion", "translocation"], np.random.default_rng(0))
    again = evolve(X, ["inversion", "translocation"], np.random.default_rng(0))
    np.testing.assert_array_equal(one, again)
    assert one.shape == X.shape and (one != X).any(axis=(1, 2)).mean() > 0.9


def _planted_model(length, at):
    """A linear model that reads bases at..at+5 only."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * length, 1))
    with torch.no_grad():
        weight = torch.zeros(4, length)
        weight[:, at : at + 5] = 1.0
        model[1].weight.copy_(weight.reshape(1, -1))
    return model


def test_saliency_masking_hides_what_the_model_reads_and_random_does_not():
    rng = np.random.default_rng(4)
    X = _one_hot(rng, 64, 60)
    model = _planted_model(60, 30).train()
    scores = saliency(model, X, rng)
    assert model.training  # left as it was
    assert (scores[:, 30:35] > 0).all() and (scores[:, :30] == 0).all()
    salient = Augment("saliency", 10, mask_share=1.0, mask_fill="n")(model, X, rng)
    assert (salient[:, :, 30:35] == 0).all()  # every read base hidden
    hidden = (salient.sum(axis=1) == 0).sum(axis=1)
    assert (hidden == 10).all()
    randomly = Augment("random", 10, mask_share=1.0, mask_fill="n")(model, X, rng)
    assert (randomly.sum(axis=1) == 0).sum(axis=1).tolist() == [10] * 64
    assert (randomly[:, :, 30:35].sum(axis=1) == 0).all(axis=1).mean() < 0.5
    half = Augment("random", 10, mask_share=0.5, mask_fill="n")(model, X, rng)
    assert 0.3 < (half.sum(axis=1) == 0).any(axis=1).mean() < 0.7


def test_saliency_of_a_model_with_batch_norm_leaves_its_statistics():
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, 3, 5),
        torch.nn.BatchNorm1d(3),
        torch.nn.Flatten(),
        torch.nn.LazyLinear(2),
    )
    X = _one_hot(np.random.default_rng(5), 8, 30)
    model(torch.as_tensor(X).float())
    before = model[1].running_mean.clone()
    saliency(model.train(), X, np.random.default_rng(0))
    torch.testing.assert_close(model[1].running_mean, before)


def test_augment_refuses_what_it_cannot_do():
    with pytest.raises(InputError, match=r"model.augment.evoaug: expected some of .*found \['dup"):
        Augment(evoaug=["duplication"])
    with pytest.raises(InputError, match="within the 40 bp sequences, found 30 x 2"):
        Augment("random", 30, 2, length=40)
    assert not Augment().active and Augment().finetune_epochs == 0
    assert Augment(evoaug=["mutation"]).finetune_epochs == 5


def _toy_library(n=300, length=50, seed=0):
    rng = np.random.default_rng(seed)
    X = _one_hot(rng, n, length)
    y = rng.integers(0, 2, n).astype(np.float32)
    for row in np.flatnonzero(y):
        start = rng.integers(0, length - 6)
        X[row, :, start : start + 6] = np.eye(4, dtype=np.uint8)[:, [2] * 6]  # GGGGGG
    return X, y[:, None]


def test_evoaug_fine_tunes_on_unchanged_sequences_at_a_tenth_of_the_rate(caplog):
    caplog.set_level(logging.INFO, "seqsal")
    X, y = _toy_library(n=600)
    split = np.where(np.arange(600) < 480, "train", "valid")
    augment = Augment(evoaug=["mutation", "inversion"], finetune_epochs=2)
    model, _, history = train_model(
        X, y, split, tasks=["binary"], max_epochs=6, learning_rate=0.01, augment=augment
    )
    assert history["finetune"].tolist() == [False] * 6 + [True] * 2
    rates = history["learning_rate"].to_numpy()
    np.testing.assert_allclose(rates[6:], rates[0] * 0.1)
    assert "fine-tuning 2 of at most 2" in caplog.text
    assert "no better than a constant" not in caplog.text


def test_fit_records_the_augmentation_and_refuses_moving_bases_under_a_mask():
    X, y = _toy_library(n=120)
    data = {"X": X, "y": y, "chroms": np.repeat(["a", "b", "c", "d"], 30), "targets": ["t"]}
    result = fit(data, max_epochs=1, augment=Augment("saliency", mask_width=6))
    expected = {
        "mask": "saliency",
        "mask_width": 6,
        "mask_windows": 1,
        "mask_share": 0.5,
        "mask_fill": "shuffle",
        "finetune_epochs": 0,
    }
    assert result["meta"]["training"] == {"augment": expected}
    assert result["metrics"]["training"] == {"augment": expected}
    with pytest.raises(InputError, match="no insertion, deletion or translocation .* deletion"):
        fit(
            data,
            max_epochs=1,
            augment=Augment(evoaug=["deletion"]),
            prior=PriorOptions(["a:0:5"]),
        )

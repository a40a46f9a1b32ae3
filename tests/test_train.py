import logging

import numpy as np
import pytest
import torch

from seqsal.io import InputError
from seqsal.models import build_model, load_checkpoint, predict, save_checkpoint
from seqsal.plots import training_curves
from seqsal.train import infer_tasks, split_regions, train_model


def test_split_holds_out_whole_contigs_and_is_seeded():
    chroms = np.repeat([f"chr{i}" for i in range(10)], 50)
    split = split_regions(chroms, test_fraction=0.2, valid_fraction=0.1, seed=3)
    for part in ("test", "valid"):
        held = set(chroms[split == part])
        assert held and not held & set(chroms[split == "train"])
    assert not set(chroms[split == "test"]) & set(chroms[split == "valid"])
    np.testing.assert_array_equal(
        split, split_regions(chroms, test_fraction=0.2, valid_fraction=0.1, seed=3)
    )


def test_split_with_named_test_chroms_and_unknown_contig():
    chroms = np.repeat(["chr1", "chr2", "chr3", "chr4"], 5)
    split = split_regions(chroms, test_chroms=["chr2"])
    assert set(chroms[split == "test"]) == {"chr2"}
    with pytest.raises(InputError, match=r"split.test_chroms: .*found \['chrX'\]"):
        split_regions(chroms, test_chroms=["chrX"])


def test_infer_tasks():
    y = np.array([[0, 0.5], [1, 2.0], [1, 3.0]])
    assert infer_tasks(y) == ["binary", "regression"]


def _toy_data(n=600, length=40, seed=0):
    """Random sequences with 0-2 copies of GGGGGG planted; the label is the copy count."""
    rng = np.random.default_rng(seed)
    index = rng.integers(4, size=(n, length))
    y = rng.integers(0, 3, size=n)
    for i, k in enumerate(y):
        for start in (5, 25)[:k]:
            index[i, start : start + 6] = 2
    X = np.eye(4, dtype=np.uint8)[index].transpose(0, 2, 1)
    chroms = np.repeat(["c1", "c2", "c3", "c4", "c5", "c6"], n // 6)
    return (
        X,
        y[:, None].astype(np.float32),
        split_regions(chroms, test_fraction=0.17, valid_fraction=0.17),
    )


def test_training_learns_and_is_reproducible(device):
    X, y, split = _toy_data()
    runs = [
        train_model(
            X,
            y,
            split,
            tasks=["regression"],
            max_epochs=30,
            learning_rate=3e-3,
            patience=30,
            device=device,
            seed=1,
        )
        for _ in range(2)
    ]
    (model, hparams, history), (model2, _, _) = runs
    test = split == "test"
    pred = predict(model, X[test], device=device)[:, 0]
    assert np.corrcoef(pred, y[test, 0])[0, 1] > 0.8
    assert history["valid_loss"].iloc[-1] < history["valid_loss"].iloc[0]
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    model = build_model("cnn", input_length=50, n_outputs=2)
    path = tmp_path / "model.pt"
    save_checkpoint(
        model,
        path,
        arch="cnn",
        hparams={"input_length": 50, "n_outputs": 2},
        targets=["a", "b"],
        tasks=["regression", "binary"],
        metrics={"test": {}},
    )
    raw = torch.load(path, weights_only=True)
    assert raw["alphabet"] == "ACGT" and raw["input_length"] == 50 and raw["targets"] == ["a", "b"]
    loaded, meta = load_checkpoint(path, input_length=50)
    X = np.eye(4, dtype=np.uint8)[np.random.default_rng(0).integers(4, size=(3, 50))].transpose(
        0, 2, 1
    )
    np.testing.assert_allclose(predict(model.eval(), X), predict(loaded, X), rtol=1e-6)
    assert meta["tasks"] == ["regression", "binary"]


def test_checkpoint_for_another_length_is_refused(tmp_path):
    model = build_model("cnn", input_length=50, n_outputs=1)
    save_checkpoint(
        model,
        tmp_path / "m.pt",
        arch="cnn",
        hparams={"input_length": 50, "n_outputs": 1},
        targets=["y"],
        tasks=["regression"],
        metrics={},
    )
    with pytest.raises(
        InputError, match="expected a model for input length 200 .*found input length 50"
    ):
        load_checkpoint(tmp_path / "m.pt", input_length=200)


class Evil:
    def __reduce__(self):
        return (print, ("this should never run",))


def test_untrusted_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"arch": Evil()}, path)
    with pytest.raises(InputError, match="untrusted pickle"):
        load_checkpoint(path)


def test_groups_never_straddle_splits():
    rng = np.random.default_rng(0)
    groups = rng.choice([f"family{i}" for i in range(40)], size=800)
    split = split_regions(np.full(800, "lib"), groups=groups, test_fraction=0.2, seed=1)
    for part in ("train", "valid", "test"):
        others = set(groups[split != part])
        assert not set(groups[split == part]) & others
    assert 0.1 < (split == "test").mean() < 0.3


def test_assigned_split_column_is_used_as_given():
    split = split_regions(["c"] * 3, assigned=["Train", " test", "valid"])
    assert split.tolist() == ["train", "test", "valid"]
    with pytest.raises(
        InputError, match=r"split.column: expected train, valid or test, found \['holdout'\]"
    ):
        split_regions(["c"], assigned=["holdout"])


def _toy_shards(n=120):
    X, y, _ = _toy_data(n=n)
    chroms = np.repeat(["c1", "c2", "c3", "c4", "c5", "c6"], n // 6)
    names = np.array([f"r{i}" for i in range(n)])
    return {"X": X, "y": y, "targets": np.array(["copies"]), "chroms": chroms, "names": names}


def test_fit_trains_on_the_shards_and_scores_every_split():
    from seqsal.train import fit

    data = _toy_shards()
    test = np.zeros(len(data["X"]), dtype=bool)
    test[:20] = True  # held out by name (split.test_names)
    result = fit(data, test=test, max_epochs=2, patience=2, seed=1)
    assert result["split"][:20].tolist() == ["test"] * 20 and (result["split"][20:] != "test").all()
    assert result["meta"]["targets"] == ["copies"] and result["meta"]["tasks"] == ["regression"]
    assert result["metrics"]["epochs"] == len(result["history"]) <= 2
    counts = [result["metrics"][part]["copies"]["n"] for part in ("train", "valid", "test")]
    assert sum(counts) == len(data["X"]) and counts[2] == 20
    np.testing.assert_allclose(result["pred"], predict(result["model"], data["X"]), rtol=1e-6)


def test_fit_scores_a_given_model_and_checks_labels_and_tasks():
    from seqsal.train import fit

    data = _toy_shards()
    model = build_model("cnn", input_length=40, n_outputs=1).eval()
    meta = {"arch": "cnn", "hparams": {}, "targets": ["copies"], "tasks": ["regression"]}
    result = fit(data, model=model, meta=meta)
    assert result["history"] is None and result["metrics"]["epochs"] == 0
    assert result["model"] is model and "test" in result["metrics"]
    with pytest.raises(InputError, match=r"model.tasks: .*\['nope'\]"):
        fit(data, tasks={"nope": "binary"}, max_epochs=1)
    with pytest.raises(InputError, match="constant"):
        fit({**data, "y": np.ones_like(data["y"])}, max_epochs=1)
    with pytest.raises(InputError, match="give labels or model.checkpoint"):
        fit({k: v for k, v in data.items() if k != "y"}, max_epochs=1)


def test_describe_split_says_how_the_test_set_was_held_out():
    from seqsal.train import describe_split

    chroms = np.array(["c1", "c1", "c2", "c3", "c3"])
    split = np.array(["train", "train", "valid", "test", "test"])
    assert describe_split(split, chroms) == "2 test regions on held-out contigs c3"
    mixed = np.array(["train", "test", "valid", "test", "train"])
    assert describe_split(mixed, chroms) == "2 test regions drawn at random"
    library = np.array(["s1", "s2", "s3", "s4", "s5"])
    assert describe_split(split, library) == "2 test regions drawn at random"
    assert "split.group_by" in describe_split(split, chroms, grouped=True)
    assert "split column" in describe_split(split, chroms, assigned=True)


def test_split_warning_when_whole_groups_miss_the_test_fraction():
    from seqsal.train import split_warning

    split = np.array(["train"] * 80 + ["valid"] * 10 + ["test"] * 10)
    assert split_warning(split, 0.1) is None
    few = np.array(["train"] * 96 + ["valid"] * 2 + ["test"] * 2)
    assert "holds 2.0% of the regions, against split.test_fraction 10%" in split_warning(few, 0.1)
    many = np.array(["train"] * 60 + ["test"] * 40)
    assert split_warning(many, 0.1).startswith("the test split holds 40.0%")


def test_scaled_targets_fold_back_into_the_labels_units():
    from seqsal.models import fold_output_scale
    from seqsal.train import target_scales

    y = np.array([[0.0, 10.0], [1.0, 30.0], [1.0, 50.0], [0.0, 70.0]])
    scale = target_scales(y, ["binary", "regression"])
    np.testing.assert_allclose(scale, [1.0, np.std(y[:, 1])])  # binary labels stay 0/1
    model = build_model("cnn", input_length=40, n_outputs=2).eval()
    X = torch.as_tensor(_toy_data(n=12)[0]).float()
    before = model(X).detach()
    fold_output_scale(model, scale)
    np.testing.assert_allclose(model(X).detach(), before * torch.tensor(scale).float(), rtol=1e-5)
    # a model trained on labels x1000 predicts x1000: the same fit, in the labels' units
    data, pred = _toy_data(), []
    for factor in (1.0, 1000.0):
        model, _, _ = train_model(
            data[0], data[1] * factor, data[2], tasks=["regression"], max_epochs=3, seed=2
        )
        pred.append(predict(model, data[0]) / factor)
    np.testing.assert_allclose(pred[0], pred[1], rtol=1e-3, atol=1e-4)


def test_oriented_data_train_without_strand_augmentation_and_say_so():
    from seqsal.train import fit

    data = _toy_shards()
    oriented = fit(data, oriented=True, max_epochs=1, seed=1)
    assert oriented["meta"]["oriented"] is True
    assert oriented["metrics"]["strands"] == {"oriented": True, "rc_augment": False}
    both = fit(data, max_epochs=1, seed=1, hparams={"first_activation": "exp"})
    assert both["metrics"]["strands"] == {"oriented": False, "rc_augment": True}
    # what was trained, for the report to say
    assert oriented["metrics"]["model"] == {"arch": "cnn", "hparams": {}}
    assert both["metrics"]["model"] == {"arch": "cnn", "hparams": {"first_activation": "exp"}}


def test_arch_auto_chooses_on_validation_only_and_records_every_candidate(monkeypatch):
    import seqsal.train as train

    data = _toy_shards()
    seen = []
    real = train.select.score_predictions

    def spy(y, pred, tasks):  # the selection scores the validation rows only
        seen.append(len(y))
        return real(y, pred, tasks)

    monkeypatch.setattr(train.select, "score_predictions", spy)
    result = train.fit(data, arch="auto", auto_epochs=1, max_epochs=2, seed=0)
    selection = result["metrics"]["selection"]
    n_valid = int((result["split"] == "valid").sum())
    assert seen[:4] == [n_valid] * 4
    assert [(c["arch"], c["learning_rate"]) for c in selection["candidates"]] == [
        ("cnn", 1e-3),
        ("cnn", 1e-3 / 3),
        ("deepstarr", 1e-3),
        ("deepstarr", 1e-3 / 3),
    ]
    best = min(selection["candidates"], key=lambda c: c["valid_loss"])
    assert selection["chosen"] == {"arch": best["arch"], "learning_rate": best["learning_rate"]}
    assert result["meta"]["arch"] == best["arch"]
    with pytest.raises(InputError, match="model.hparams: expected none with model.arch: auto"):
        train.fit(data, arch="auto", hparams={"n_filters": 8}, max_epochs=1)


def test_an_ensemble_trains_its_members_from_seeds_on_one_split_and_predicts_their_mean():
    from seqsal.train import fit

    data = _toy_shards()
    result = fit(data, arch="cnn", hparams={"n_filters": 8}, ensemble=3, max_epochs=2, seed=4)
    single = fit(data, arch="cnn", hparams={"n_filters": 8}, max_epochs=2, seed=4)
    meta, members = result["meta"], result["meta"]["training"]["ensemble"]
    assert meta["arch"] == "ensemble" and meta["hparams"]["member_arch"] == "cnn"
    assert meta["hparams"]["member_hparams"] == {"n_filters": 8}
    assert [m["seed"] for m in members] == [4, 5, 6]
    assert result["metrics"]["training"]["ensemble"] == members
    histories = result["member_histories"]
    kept = [h["valid_loss"][h["kept"]].item() for h in histories]
    assert kept == [h["valid_loss"].min() for h in histories] == [m["valid_loss"] for m in members]
    assert histories[0] is result["history"] and single["member_histories"] is None
    figure = training_curves(
        result["history"], data["y"][:0], result["pred"][:0], members=histories
    )
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["train", "validation", "validation, members 2-3", "kept"]
    assert figure.axes[0].get_title() == "Training curves (member 1 of 3)"
    long = "<b>" + "x" * 60  # a name from the user's table, longer than its panel
    y, pred = data["y"][:5], result["pred"][:5]
    title = training_curves(None, y, pred, targets=[long]).axes[1].get_title()
    assert title.split("\n")[0] == long[:39] + "…" and title.split("\n")[1].startswith("test")
    np.testing.assert_array_equal(result["split"], single["split"])
    first = result["model"].members[0]  # the seed's own model, as trained alone
    np.testing.assert_allclose(predict(first, data["X"]), single["pred"], rtol=1e-5, atol=1e-6)
    mean = np.mean([predict(m, data["X"]) for m in result["model"].members], axis=0)
    np.testing.assert_allclose(result["pred"], mean, rtol=1e-5, atol=1e-6)


def test_early_stopping_waits_while_the_model_predicts_no_better_than_a_constant(caplog):
    caplog.set_level(logging.INFO, "seqsal")
    rng = np.random.default_rng(0)
    X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (200, 30))].transpose(0, 2, 1).copy()
    y = rng.integers(0, 2, (200, 1)).astype(np.float32)  # a model that does not move
    split = np.where(np.arange(200) < 160, "train", "valid")
    _, _, history = train_model(
        X, y, split, tasks=["binary"], patience=1, max_epochs=4, learning_rate=1e-9
    )
    assert len(history) == 4
    assert caplog.text.count("early stopping waits") == 1


class _GCounter(torch.nn.Module):
    """A fixed model: how many GGG windows a sequence has (``shift`` added)."""

    def __init__(self, shift=0.0):
        super().__init__()
        self.conv = torch.nn.Conv1d(4, 1, 3)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 2] = 1.0
            self.conv.bias.fill_(-2.0 + shift)

    def forward(self, x):
        return torch.relu(self.conv(x)).sum(-1)


def test_teacher_targets_are_the_ensembles_mean_in_the_labels_units():
    from seqsal.train import teacher_targets

    X = _toy_data(n=50, length=20)[0]
    one, two = _GCounter(), _GCounter(0.5)
    meta = {"targets": ["t"]}
    soft = teacher_targets({"a": (one, meta), "b": (two, meta)}, X, ["regression"], ["t"])
    expected = (predict(one, X) + predict(two, X)) / 2
    np.testing.assert_allclose(soft, expected, rtol=1e-6)
    binary = teacher_targets({"a": (one, meta)}, X, ["binary"], ["t"])
    np.testing.assert_allclose(binary, 1 / (1 + np.exp(-predict(one, X))), rtol=1e-6)
    with pytest.raises(InputError, match=r"model.distill.teachers: .*\['t'\], found \['u'\] in b"):
        teacher_targets({"b": (one, {"targets": ["u"]})}, X, ["binary"], ["t"])


def test_a_student_learns_its_teacher_through_noisy_labels():
    """Labels are the teacher's function plus noise three times its size: the student
    distilled from the teacher follows the function closer than one fitted to labels."""
    from seqsal.train import DistillOptions, fit

    rng = np.random.default_rng(0)
    n, length = 600, 40
    X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, length))].transpose(0, 2, 1).copy()
    teacher = _GCounter()
    truth = predict(teacher, X)
    y = truth + 3 * truth.std() * rng.standard_normal(truth.shape).astype(np.float32)
    data = {"X": X, "y": y, "chroms": np.repeat(list("abcdefghij"), n // 10), "targets": ["t"]}
    r = {}
    for alpha in (0.0, 1.0):
        result = fit(
            data,
            distill=DistillOptions({"teacher.pt": (teacher, {"targets": ["t"]})}, alpha),
            oriented=True,  # GGG is not CCC
            max_epochs=20,
            learning_rate=0.003,
            seed=1,
        )
        test = result["split"] == "test"
        r[alpha] = np.corrcoef(result["pred"][test, 0], truth[test, 0])[0, 1]
        assert result["metrics"]["training"]["distill"] == {
            "teachers": ["teacher.pt"],
            "alpha": alpha,
        }
    assert r[1.0] > 0.8 and r[1.0] > r[0.0] + 0.2, r


def test_a_mode_draws_from_its_own_stream_and_leaves_the_others_draws(monkeypatch):
    """Mutation that draws but changes nothing trains the same weights as no mutation:
    the batch order and the strand flips come from streams of their own."""
    from seqsal.train import loop

    X, y, split = _toy_data(n=240)
    options = dict(tasks=["regression"], max_epochs=2, batch_size=32, seed=3)
    plain, _, _ = train_model(X, y, split, **options)
    monkeypatch.setattr(loop, "mutate", lambda xb, rate, rng: (rng.random(xb.shape), xb)[1])
    drawn, _, _ = train_model(X, y, split, mutation_rate=0.5, **options)
    for key, value in plain.state_dict().items():
        assert torch.equal(value, drawn.state_dict()[key]), key


def test_overlapping_tiles_of_one_contig_never_put_a_test_base_in_training():
    """One contig tiled by 200 bp windows every 100 bp: held out in contiguous blocks, the
    training windows beside a test block moved to validation, no test window shares a
    base with a training window; the row split used before shared bases in most of
    them, and the check says so."""
    from seqsal.train import position_blocks, shared_bases

    starts = np.arange(0, 200_000, 100)
    ends, chroms = starts + 200, np.full(len(starts), "chrI")
    split = split_regions(chroms, starts=starts, ends=ends, seed=3)
    assert shared_bases(split, chroms, starts, ends) == {
        "test_regions_sharing_bases": 0,
        "most_shared_bases": 0,
    }
    assert 0.05 <= (split == "test").mean() <= 0.2 and (split == "train").mean() >= 0.6
    # no training window within a window's length of a test window
    test_starts = starts[split == "test"]
    near = np.abs(starts[split == "train"][:, None] - test_starts[None, :]).min(axis=1)
    assert near.min() > 200
    blocks = position_blocks(chroms, starts, ends)
    numbers = np.array([int(b.split(":")[1]) for b in blocks])
    assert len(set(numbers)) == 20 and (np.diff(numbers) >= 0).all()  # consecutive runs
    random = split_regions(chroms, seed=3)  # no positions: rows at random
    leaked = shared_bases(random, chroms, starts, ends)
    assert leaked["test_regions_sharing_bases"] > 100 and leaked["most_shared_bases"] == 100
    # a test set named by the user is kept, and the training windows over it move aside
    named = starts % 10_000 == 0
    split = split_regions(chroms, test=named, starts=starts, ends=ends)
    assert (split[named] == "test").all()
    assert shared_bases(split, chroms, starts, ends)["test_regions_sharing_bases"] == 0


def test_the_verdict_never_says_unseen_of_test_regions_that_share_bases():
    from seqsal.report.verdicts import model_verdict

    metrics = {
        "test": {"y": {"n": 50, "pearson": 0.9}},
        "split": "50 test regions drawn at random",
        "split_shared": {"test_regions_sharing_bases": 44, "most_shared_bases": 100},
    }
    text = model_verdict(metrics)["text"]
    assert "never seen" not in text and "44 of which share bases" in text
    metrics["split_shared"] = {"test_regions_sharing_bases": 0, "most_shared_bases": 0}
    assert "never seen in training" in model_verdict(metrics)["text"]

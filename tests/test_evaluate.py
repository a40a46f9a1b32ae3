import numpy as np
import pandas as pd
import pytest
import torch
from toy_models import Linear

from seqsal.encode import one_hot_encode
from seqsal.evaluate import (
    agreement,
    faithfulness,
    growth_law,
    parse_interval,
    path_inputs,
    perturbation_stability,
    receptive_fields,
    saturation,
    seed_stability,
    seqlet_kmers,
    seqlet_recovery,
    shortcut_audit,
    strand_stability,
    summarize_faithfulness,
    summarize_stability,
    truth_mask,
    truth_recovery,
    uniform_order,
)
from seqsal.io import InputError


def random_onehot(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return one_hot_encode(["".join(rng.choice(list("ACGT"), length)) for _ in range(n)])


def test_path_inputs_delete_and_insert_in_order():
    x = one_hot_encode(["ACGTA"])[0]
    background = one_hot_encode(["TTTTT"])[0]
    order = np.array([[4, 3, 2, 1, 0]])
    deletion = path_inputs(x, background, order, n_steps=5)
    assert deletion.shape == (6, 4, 5)
    np.testing.assert_array_equal(deletion[0], x)
    np.testing.assert_array_equal(deletion[1, :, 4], background[:, 4])
    np.testing.assert_array_equal(deletion[1, :, :4], x[:, :4])
    np.testing.assert_array_equal(deletion[-1], background)
    insertion = path_inputs(x, background, order, n_steps=5, insertion=True)
    np.testing.assert_array_equal(insertion[0], background)
    np.testing.assert_array_equal(insertion[1, :, 4], x[:, 4])
    np.testing.assert_array_equal(insertion[-1], x)


def test_uniform_order_spreads_every_prefix_evenly():
    order = uniform_order(1000)
    assert sorted(order) == list(range(1000))
    for k in (10, 50, 200):
        gaps = np.diff(np.sort(order[:k]))
        assert gaps.max() <= 3 * 1000 / k  # a random prefix has gaps of ~log(k) x that


def test_true_attribution_beats_random_and_reversed_loses():
    X = random_onehot(20, 30)
    model = Linear(30)
    w = model.weight.detach().numpy()[0]
    true = ((w - w.mean(axis=0)) * X).sum(axis=1)  # the expected effect of a substitution
    attrs = {"true": true, "reversed": -true}
    for background in ("zeros", "shuffle"):
        per_region, curves = faithfulness(
            model, X, attrs, np.arange(10), n_steps=10, background=background
        )
        assert len(per_region) == 20 and set(per_region["method"]) == {"true", "reversed"}
        summary = summarize_faithfulness(per_region)
        assert summary["true"]["deletion_fraction_beats_random"] >= 0.9
        assert summary["true"]["insertion_fraction_beats_random"] >= 0.9
        assert summary["reversed"]["deletion_fraction_beats_random"] <= 0.1
        assert summary["true"]["mean_deletion_auc"] < summary["true"]["mean_deletion_auc_uniform"]
        # half the bases deleted: the true order leaves less standing than random, the
        # reversed order more; where the reversed order loses, the summary says how much
        left = per_region.groupby("method")["deletion_left_half"].mean()
        assert left["true"] < per_region["deletion_left_half_random"].mean() < left["reversed"]
        assert len(summary["true"]["deletion_fraction_beats_random_by_output_fifth"]) == 5
        losing = summary["reversed"]
        assert (
            losing["median_deletion_left_half_where_losing"]
            > losing["median_deletion_left_half_random_where_losing"]
        )
        assert set(curves["order"]) == {"true", "reversed", "random", "uniform"}
        start = curves[curves["fraction"] == 0]
        np.testing.assert_allclose(start[start["kind"] == "deletion"]["output"], 1.0, rtol=1e-5)
        np.testing.assert_allclose(start[start["kind"] == "insertion"]["output"], 0.0, atol=1e-5)


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


def test_known_sites_are_ranked_over_a_bounded_number_of_bases(monkeypatch):
    """Up to MAX_BASES every region is scored (the same figure as before); beyond it,
    evenly spaced regions, read from the memory-mapped maps one row set at a time."""
    import seqsal.evaluate.recovery as recovery
    from seqsal.metrics import auroc

    rng = np.random.default_rng(0)
    starts = np.arange(0, 50 * 100, 100)
    names = [f"r{i}" for i in range(50)]
    regions = pd.DataFrame(
        {"chrom": "c", "start": starts, "end": starts + 50, "name": names, "score": 0}
        | {"strand": "+"}
    )
    truth = pd.DataFrame({"chrom": "c", "start": starts + 20, "end": starts + 30})
    attr = rng.random((50, 50)) + 2 * truth_mask(regions, truth, 50) * rng.random((50, 50))
    whole = truth_recovery(attr, regions, truth)
    mask = truth_mask(regions, truth, 50)
    assert whole["n_regions"] == 50 and whole["auroc"] == auroc(mask.ravel(), attr.ravel())
    monkeypatch.setattr(recovery, "MAX_BASES", 500)  # 10 regions of 50 bases
    part = truth_recovery(attr, regions, truth)
    rows = np.unique(np.linspace(0, 49, 10).astype(int))
    assert part["n_regions"] == 10
    assert part["auroc"] == auroc(mask[rows].ravel(), attr[rows].ravel())


def test_interval_matching_agrees_with_brute_force_across_chroms():
    from seqsal.intervals import overlap_pairs

    rng = np.random.default_rng(5)

    def intervals(n, longest):
        start = rng.integers(0, 300, n)
        chrom = rng.choice(["chr1", "chr2", "chr10", "x"], n)
        return pd.DataFrame(
            {"chrom": chrom, "start": start, "end": start + rng.integers(1, longest, n)}
        )

    a, b = intervals(300, 40), intervals(200, 15)
    i, j, bases = overlap_pairs(a, b)
    same = a["chrom"].to_numpy()[:, None] == b["chrom"].to_numpy()[None, :]
    hi = np.minimum(a["end"].to_numpy()[:, None], b["end"].to_numpy()[None, :])
    lo = np.maximum(a["start"].to_numpy()[:, None], b["start"].to_numpy()[None, :])
    brute = np.where(same, hi - lo, 0)
    assert sorted(zip(i, j)) == sorted(zip(*np.nonzero(brute > 0)))
    np.testing.assert_array_equal(bases, brute[i, j])
    # and each base of each region (both strands) against the sites, one by one
    regions = a.assign(end=a["start"] + 40, strand=rng.choice(["+", "-"], len(a)))
    mask = truth_mask(regions, b, 40)
    for row, region in regions.iterrows():
        positions = np.arange(region.start, region.end)[:: 1 if region.strand == "+" else -1]
        sites = b[b["chrom"] == region.chrom]
        inside = [((sites.start <= p) & (p < sites.end)).any() for p in positions]
        assert mask[row].tolist() == inside


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


def test_perturbation_and_seed_stability_of_a_linear_model():
    from seqsal.attribute import attribute

    X = random_onehot(12, 60, seed=2)
    model = Linear(60)
    _, attr, _ = attribute(model, X)
    rows = [0, 4, 9]
    # gradient x input of a linear model reads only its own base: exact at the others
    perturbed = perturbation_stability(model, X, attr, rows, n_substitutions=5, top_k=5)
    np.testing.assert_allclose(perturbed["perturbed_pearson"], 1.0, rtol=1e-6)
    np.testing.assert_allclose(perturbed["perturbed_top_jaccard"], 1.0)
    others = {"same": Linear(60), "other": Linear(60, seed=1)}
    by_seed = seed_stability(others, X, attr, rows, top_k=5)
    same = by_seed[by_seed["model"] == "same"]
    np.testing.assert_allclose(same["seed_pearson"], 1.0, rtol=1e-6)
    assert (by_seed[by_seed["model"] == "other"]["seed_pearson"].abs() < 0.9).all()
    summary = summarize_stability(by_seed[by_seed["model"] == "same"], 5)
    assert summary["median_seed_pearson"] == pytest.approx(1.0)


def test_agreement_compares_only_the_kept_positions():
    a = np.array([[1.0, 2.0, 3.0, 4.0]])
    b = np.array([[1.0, 2.0, 3.0, -40.0]])
    assert agreement(a, b)["pearson"][0] < 0
    keep = np.array([[True, True, True, False]])
    assert agreement(a, b, keep=keep, top_k=2)["pearson"][0] == pytest.approx(1.0)


def test_saturation_flags_confident_outputs_the_model_relies_on():
    X = random_onehot(40, 30, seed=3)
    model = Linear(30)
    with torch.no_grad():
        model.weight.mul_(0.5)
    rows = np.arange(40)
    logit = model(torch.as_tensor(X).float())[:, 0].detach().numpy()
    table = saturation(model, X, rows, background_output=np.zeros(40))
    p = 1 / (1 + np.exp(-logit))
    np.testing.assert_allclose(table["probability_ratio"], p * (1 - p), rtol=1e-4)
    expected = (np.abs(logit) >= 4) & (np.abs(logit) >= 1)
    assert expected.any() and (~expected).any()
    np.testing.assert_array_equal(table["saturated"], expected)
    # a region the model does not rely on (its background gives the same logit) is not
    unrelied = saturation(model, X, rows, background_output=logit)
    assert not unrelied["saturated"].any()


def test_receptive_field_of_known_convolutions():
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, 3, 9, padding=4),
        torch.nn.ReLU(),
        torch.nn.MaxPool1d(2),
        torch.nn.Conv1d(3, 3, 5, padding=4, dilation=2),
    )
    fields = receptive_fields(model, 200)
    assert fields["theoretical"].tolist() == [9, 9 + 1 + 4 * 2 * 2]
    assert np.isfinite(fields["sigma"]).all() and (fields["sigma"] < fields["theoretical"]).all()


def test_bpnet_effective_receptive_field_grows_like_the_square_root_of_depth():
    """Issue 6's bar: Gaussian sigma of the impulse response at depths 2-8 (random
    weights, mean of 3 initialisations) fits sqrt(depth) better than depth."""
    from seqsal.models import BPNet

    depths, sigmas = range(2, 9), []
    for depth in depths:
        per_seed = []
        for seed in range(3):
            torch.manual_seed(seed)
            model = BPNet(input_length=1024, n_outputs=1, n_layers=depth)
            per_seed.append(receptive_fields(model, 1024)["sigma"].iloc[-1])
        sigmas.append(np.mean(per_seed))
    fits = growth_law(list(depths), sigmas)
    assert fits["better"] == "sqrt" and fits["sqrt"]["r2"] > fits["linear"]["r2"]
    assert np.all(np.diff(sigmas) > -0.5)  # grows (within noise)


def test_shortcut_audit_flags_an_enriched_interval_and_artefact_kmers():
    attr = np.full((5, 100), 0.01)
    attr[:, :10] = 1.0  # 10% of the bases, ~92% of the attribution
    assert parse_interval("adapter:0:10", 100) == ("adapter", 0, 10)
    assert parse_interval("primer:-20:", 100) == ("primer", 80, 100)
    audit = shortcut_audit(attr, [("adapter", 0, 10), ("flank", 50, 60)])
    flagged = {i["name"]: i["flagged"] for i in audit["intervals"]}
    assert flagged == {"adapter": True, "flank": False} and audit["flagged"]
    assert audit["intervals"][0]["enrichment"] == pytest.approx(9.2, rel=0.01)
    X = one_hot_encode(["GGGGACGTTGCAGGGG", "CTGCAACGTCCCCCCC"])
    kmers = seqlet_kmers(X, [0, 1], [4, 2], [8, 8], k=6)
    assert kmers["ACGTTG"] == 2 and kmers["CGTTGC"] == 2  # CAACGT, GCAACG: other strand
    audit = shortcut_audit(attr, [], kmers=kmers, artefacts=["ttcaacgtaa"])
    assert audit["artefact_kmers"][0]["kmer"] == "ACGTTG" and audit["flagged"]


def test_nuisance_intervals_are_checked():
    with pytest.raises(InputError, match="expected NAME:START:END"):
        parse_interval("adapter:0", 100)
    with pytest.raises(InputError, match="expected 0 <= start < end <= 100"):
        parse_interval("adapter:90:120", 100)


def test_a_planted_adapter_shortcut_is_flagged_and_reported(tmp_path):
    """Issue 6's planted shortcut: the label is decided by which adapter sits at bases
    0-12; everything after it is random. The audit must flag the adapter interval and
    its k-mers, and the report must say so."""
    import json

    from seqsal.cli import main
    from seqsal.io import write_npz
    from seqsal.models import save_checkpoint
    from seqsal.report import trust_context
    from seqsal.train import train_model

    rng = np.random.default_rng(0)
    n, length, adapters = 3000, 80, ("ACGTTGCATGCA", "GGATCCTTAAGC")
    y = rng.integers(0, 2, n)
    X = one_hot_encode(
        [adapters[label] + "".join(rng.choice(list("ACGT"), length - 12)) for label in y]
    )
    labels = y[:, None].astype(np.float32)
    split = np.where(np.arange(n) < 2500, "train", "valid")
    model, hparams, _ = train_model(
        X,
        labels,
        split,
        tasks=["binary"],
        hparams={"n_filters": 16, "hidden": 16},
        max_epochs=8,
        patience=8,
    )
    paths = {k: str(tmp_path / k) for k in ("model.pt", "onehot.npz", "attr.npz", "seqlets.bed")}
    save_checkpoint(
        model,
        paths["model.pt"],
        arch="cnn",
        hparams=hparams,
        targets=["label"],
        tasks=["binary"],
        metrics={},
    )
    names = np.array([f"s{i}" for i in range(n)])
    write_npz(paths["onehot.npz"], X=X, names=names, y=labels, targets=np.array(["label"]))
    regions = tmp_path / "regions.bed"
    regions.write_text("".join(f"{name}\t0\t{length}\t{name}\t0\t+\n" for name in names))
    common = ["--regions", str(regions), "--attributions", paths["attr.npz"]]
    model_args = ["--model", paths["model.pt"], "--onehot", paths["onehot.npz"]]
    assert main(["attribute", *model_args, "--device", "cpu", "--out", paths["attr.npz"]]) == 0
    assert main(["seqlets", *common, "--out", paths["seqlets.bed"]]) == 0
    out = tmp_path / "evaluate"
    argv = [
        "evaluate",
        *model_args,
        *common,
        "--seqlets",
        paths["seqlets.bed"],
        "--nuisance",
        "adapter:0:12",
        "tail:-12:",
        "--artefacts",
        *adapters,
        "--max-regions",
        "64",
        "--n-steps",
        "5",
        "--device",
        "cpu",
        "--out-dir",
        str(out),
    ]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    flagged = {i["name"]: i["flagged"] for i in summary["shortcuts"]["intervals"]}
    assert flagged == {"adapter": True, "tail": False}
    assert summary["shortcuts"]["artefact_kmers"], "the adapters' k-mers lead the seqlets"
    assert summary["tested"].startswith("positive regions")
    warnings = trust_context(summary, "grad_x_input")["warnings"]
    assert any("adapter (positions 0-12" in w for w in warnings)


def test_evaluate_maps_runs_every_test_of_a_linear_models_maps():
    from seqsal.attribute import attribute
    from seqsal.evaluate import evaluate_maps

    X = random_onehot(12, 30, seed=4)
    model = Linear(30)
    _, attr, pred = attribute(model, X)
    regions = pd.DataFrame(
        {"chrom": "c1", "start": np.arange(12) * 100, "name": [f"r{i}" for i in range(12)]}
    ).assign(end=lambda r: r["start"] + 30, score=0, strand="+")
    seqlets = pd.DataFrame(columns=["chrom", "start", "end", "name", "region", "attr_sum"])
    run = {"method": "grad_x_input", "target": 0, "seed": 0, "device": "cpu"}
    inputs = (model, X, {"grad_x_input": attr}, regions, pred[:, 0], seqlets)
    options = {"run": run, "max_regions": 5, "n_steps": 4, "n_random": 2}
    result = evaluate_maps(*inputs, **options)
    summary = result["summary"]
    assert set(summary) >= {"faithfulness", "stability", "saturation", "receptive_field"}
    assert "truth" not in summary
    # a linear model's output is nowhere flat: the gradient's estimate is the change
    assert summary["saturation"]["kind"] == "flat output"
    assert summary["saturation"]["n_saturated"] == 0
    np.testing.assert_allclose(result["stability"]["first_order_share"], 1.0, rtol=1e-4)
    tested = result["stability"]["region"].tolist()
    top = regions["name"].to_numpy()[np.argsort(-pred[:, 0], kind="stable")[:5]]
    assert sorted(tested) == sorted(top)  # the highest outputs are tested
    assert set(result["faithfulness"]["region"]) == set(tested)
    # the exact map of a linear model beats random deletion orders everywhere
    assert summary["faithfulness"]["grad_x_input"]["deletion_fraction_beats_random"] == 1.0
    # oriented sequences: their reverse complements are other sequences, not tested
    oriented = evaluate_maps(*inputs, **options, oriented=True)
    assert "oriented" in oriented["summary"]["stability"]["strand_skipped"]
    assert "median_rc_pearson" not in oriented["summary"]["stability"]
    assert not oriented["stability"].columns.str.startswith("rc_").any()


def test_a_comparison_scores_the_run_s_own_model_as_its_faithfulness_test_does():
    from seqsal.attribute import attribute
    from seqsal.evaluate import compare_models, faithfulness, summarize_faithfulness

    X, model = random_onehot(20, 30, seed=5), Linear(30, seed=0)
    regions = pd.DataFrame(
        {"chrom": "c1", "start": np.arange(20) * 100, "name": [f"r{i}" for i in range(20)]}
    ).assign(end=lambda r: r["start"] + 30, score=0, strand="+")
    rows = np.array([13, 2, 17, 5, 9, 11, 0, 19])  # as select_regions gives them: not 0..n
    run = {"method": "grad_x_input", "target": 0, "seed": 0, "device": "cpu"}
    found = compare_models({"a": model}, X, rows, regions, run=run, n_steps=4, n_random=2)
    _, attr, _ = attribute(model, X, **run)
    per_region, _ = faithfulness(model, X, {"grad_x_input": attr}, rows, n_steps=4, n_random=2)
    own = summarize_faithfulness(per_region)["grad_x_input"]
    assert found["a"]["mean_deletion_auc"] == pytest.approx(own["mean_deletion_auc"])
    assert found["a"]["deletion_fraction_beats_random"] == own["deletion_fraction_beats_random"]


def test_a_model_compared_with_itself_scores_the_same_and_with_another_differs():
    from seqsal.evaluate import compare_models, evaluate_maps

    X = random_onehot(20, 30, seed=5)
    model, other = Linear(30, seed=0), Linear(30, seed=1)
    other.weight.data[:, :, :6] *= 20  # reads the "adapter" far more
    labels = (np.arange(20) % 2)[:, None].astype(float)
    regions = pd.DataFrame(
        {"chrom": "c1", "start": np.arange(20) * 100, "name": [f"r{i}" for i in range(20)]}
    ).assign(end=lambda r: r["start"] + 30, score=0, strand="+")
    truth = pd.DataFrame({"chrom": ["c1"], "start": [10], "end": [16]})
    run = {"method": "grad_x_input", "target": 0, "seed": 0, "device": "cpu"}
    scored = {
        "test": np.arange(20) >= 10,
        "labels": labels,
        "tasks": ["binary"],
        "targets": ["bound"],
    }
    options = dict(run=run, truth=truth, nuisance=[("adapter", 0, 6)], n_steps=4, n_random=2)
    same = compare_models({"a": model, "b": model}, X, np.arange(8), regions, **options, **scored)
    assert same["a"] == same["b"]
    assert set(same["a"]) == {
        "deletion_fraction_beats_random",
        "mean_deletion_auc",
        "test",
        "known_site_auroc",
        "shortcuts",
        "map_pearson",
    }
    assert same["a"]["map_pearson"] == pytest.approx(1.0)
    assert same["a"]["test"]["bound"]["n"] == 10
    found = compare_models({"a": model, "b": other}, X, np.arange(8), regions, **options, **scored)
    assert found["b"]["shortcuts"]["adapter"] > 0.5 > found["a"]["shortcuts"]["adapter"]
    assert found["b"]["map_pearson"] < 0.9
    # evaluate_maps puts it in the summary, the run's own model first
    seqlets = pd.DataFrame(columns=["chrom", "start", "end", "name", "region", "attr_sum"])
    pred = model(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()[:, 0]
    summary = evaluate_maps(
        model,
        X,
        {"grad_x_input": attribute_linear(model, X)},
        regions,
        pred,
        seqlets,
        run=run,
        max_regions=8,
        n_steps=4,
        n_random=2,
        compare_to={"other.pt": other},
        scored=scored,
    )["summary"]
    assert list(summary["comparison"]) == ["this run", "other.pt"]


def attribute_linear(model, X):
    from seqsal.attribute import attribute

    return attribute(model, X)[1]


def test_flatness_flags_a_saturated_regression_output():
    """A capped output: min(w . x, cap). Regions above the cap have zero gradient though
    deleting them changes the output: the gradient misses it, the test says so."""
    from seqsal.evaluate import backgrounds, flatness

    class Capped(torch.nn.Module):
        def __init__(self, length):
            super().__init__()
            self.linear = Linear(length)

        def forward(self, X):
            return torch.clamp(self.linear(X), max=self.cap)

    X = random_onehot(40, 30, seed=5)
    model = Capped(30)
    raw = model.linear(torch.as_tensor(X).float())[:, 0].detach().numpy()
    model.cap = float(np.quantile(raw, 0.7))
    capped = raw > model.cap
    table = flatness(model, X, np.arange(40))
    shuffled = model.linear(torch.as_tensor(backgrounds(X, np.arange(40), "shuffle")))
    linear = ~capped & (shuffled[:, 0].detach().numpy() <= model.cap)  # both under the cap
    capped_strong = capped & (table["output_change"].abs() >= table["output_change"].abs().median())
    np.testing.assert_allclose(table.loc[capped, "first_order"], 0.0, atol=1e-6)
    assert capped_strong.any() and table.loc[capped_strong, "saturated"].all()
    np.testing.assert_allclose(table.loc[linear, "first_order_share"], 1.0, rtol=1e-4)
    assert linear.sum() > 10 and not table.loc[~capped, "saturated"].any()


def test_an_ensembles_receptive_field_is_its_members_not_their_chain():
    """Five members of four convolutions read the input side by side: four depths, the
    members' mean, equal to one member's where the members are one model."""
    import copy

    import torch

    from seqsal.models import build_model, ensemble_of, strand_averaged

    torch.manual_seed(0)
    one = build_model("deepstarr", input_length=200, n_outputs=1).eval()
    alone = receptive_fields(one, 200)
    hparams = {"input_length": 200, "n_outputs": 1}
    same = ensemble_of([copy.deepcopy(one) for _ in range(5)], arch="deepstarr", hparams=hparams)
    fields = receptive_fields(strand_averaged(same), 200)
    assert len(fields) == len(alone) == 4 and (fields["members"] == 5).all()
    np.testing.assert_allclose(fields["sigma"], alone["sigma"], rtol=1e-6)
    np.testing.assert_array_equal(fields["theoretical"], alone["theoretical"])
    others = [build_model("deepstarr", **hparams).eval() for _ in range(3)]
    mixed = receptive_fields(ensemble_of(others, arch="deepstarr", hparams=hparams), 200)
    each = [receptive_fields(m, 200)["sigma"] for m in others]
    np.testing.assert_allclose(mixed["sigma"], np.mean(each, axis=0), rtol=1e-6)
    np.testing.assert_array_equal(mixed["theoretical"], alone["theoretical"])


def test_attribution_on_the_stretch_every_sequence_shares_is_flagged():
    from seqsal.evaluate.shortcuts import constant_audit

    rng = np.random.default_rng(0)
    sequences = []
    for _ in range(300):
        seq = list(rng.choice(list("ACGT"), size=80))
        seq[30:37] = "CGCAGCA"
        sequences.append("".join(seq))
    X = one_hot_encode(sequences)
    on_flank = np.zeros((300, 80), np.float32)
    on_flank[:, 30:37] = 1.0
    on_flank[:, 50:52] = 0.5
    audit = constant_audit(X, on_flank)
    assert audit["stretches"] == ["CGCAGCA"] and audit["flagged"]
    assert audit["attribution_fraction"] == pytest.approx(7 / 8, abs=0.01)
    elsewhere = np.roll(on_flank, 40, axis=1)
    assert not constant_audit(X, elsewhere)["flagged"]
    random = one_hot_encode(["".join(rng.choice(list("ACGT"), size=80)) for _ in range(300)])
    assert constant_audit(random, on_flank) is None

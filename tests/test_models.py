import json

import numpy as np
import pytest
import torch

from seqsal.attribute import attribute
from seqsal.encode import reverse_complement
from seqsal.io import InputError
from seqsal.models import (
    ACTIVATIONS,
    ARCHITECTURES,
    BlockMax,
    DilatedConv1d,
    Exp,
    RCAverage,
    build_model,
    ensemble_hparams,
    ensemble_of,
    load_checkpoint,
    predict,
    save_checkpoint,
    simplified,
)


def random_onehot(n, length, seed=0):
    index = np.random.default_rng(seed).integers(4, size=(n, length))
    return np.eye(4, dtype=np.uint8)[index].transpose(0, 2, 1)


@pytest.mark.parametrize(
    "arch, length", [("cnn", 200), ("deepstarr", 249), ("bpnet", 1000), ("basset", 600)]
)
def test_architectures_map_one_hot_to_outputs_per_example(arch, length):
    model = build_model(arch, input_length=length, n_outputs=3).eval()
    X = random_onehot(5, length)
    together = predict(model, X)
    apart = np.concatenate([predict(model, X[i : i + 1]) for i in range(5)])
    assert together.shape == (5, 3)
    np.testing.assert_allclose(together, apart, rtol=1e-4, atol=1e-5)


def test_unknown_hyperparameter_names_the_key():
    with pytest.raises(
        InputError, match=r"model.hparams: expected hyperparameters of cnn .*found \['depth'\]"
    ):
        build_model("cnn", input_length=100, n_outputs=1, depth=3)
    assert set(ARCHITECTURES) == {"cnn", "deepstarr", "bpnet", "basset"}


@pytest.mark.parametrize("global_pool", ["mean", "max"])
def test_cnn_global_mean_credits_every_copy_of_a_motif(global_pool):
    """Two copies of one 200-bp stretch: under a global mean, gradient x input is the same
    at both copies' central bases; under a global max, one copy takes the credit."""
    torch.manual_seed(0)
    model = build_model("cnn", input_length=400, n_outputs=1, global_pool=global_pool).eval()
    X = random_onehot(1, 400, seed=3)
    X[..., 200:] = X[..., :200]  # 4-aligned, as the max-pool's windows are
    _, attr, _ = attribute(model, X)
    same = np.allclose(attr[0, 90:110], attr[0, 290:310], rtol=1e-4, atol=1e-7)
    assert same == (global_pool == "mean")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cnn_without_dense_layer_adds_up_distant_edits(seed):
    """With ``hidden: 0`` and a global mean, edits further apart than the receptive field
    change the output by the sum of their own changes."""
    torch.manual_seed(seed)
    model = build_model("cnn", input_length=400, n_outputs=1, global_pool="mean", hidden=0)
    model.eval()
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.head)
    x = random_onehot(1, 400, seed=4)
    a, b, ab = x.copy(), x.copy(), x.copy()
    for edited, sites in ((a, [0]), (b, [280]), (ab, [0, 280])):  # 120 bp, 160 apart
        for site in sites:
            edited[0, :, site : site + 120] = random_onehot(1, 120, seed=site)[0]
    f = predict(model, np.concatenate([x, a, b, ab]))[:, 0]
    np.testing.assert_allclose(f[3] - f[0], (f[1] - f[0]) + (f[2] - f[0]), rtol=1e-3, atol=1e-7)
    assert abs(f[3] - f[0]) > 1e-4  # the edits do move the output


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_an_exponential_first_activation_follows_the_first_convolution_only(arch):
    model = build_model(arch, input_length=200, n_outputs=1, first_activation="exp")
    kinds = [type(m) for m in model.body.modules() if isinstance(m, ACTIVATIONS)]
    assert kinds[0] is Exp and set(kinds[1:]) <= {torch.nn.ReLU}
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv1d))
    with torch.no_grad():
        h = model.body[0](torch.as_tensor(random_onehot(2, 200)).float())
        after = model.body[1:3](h) if arch in ("deepstarr", "basset") else model.body[1](h)
    assert conv is model.body[0] and torch.all(after > 0)  # exp: never zero, as relu is
    with pytest.raises(
        InputError,
        match=r"model.hparams.first_activation: expected one of \['exp', 'relu'\], "
        "found 'softmax'",
    ):
        build_model(arch, input_length=200, n_outputs=1, first_activation="softmax")


def test_unknown_global_pool_names_the_key():
    with pytest.raises(InputError, match="model.hparams.global_pool: expected .* found 'sum'"):
        build_model("cnn", input_length=100, n_outputs=1, global_pool="sum")


def test_rc_average_is_strand_symmetric():
    model = RCAverage(build_model("cnn", input_length=50, n_outputs=2)).eval()
    X = random_onehot(4, 50)
    np.testing.assert_allclose(
        predict(model, X), predict(model, reverse_complement(X).copy()), rtol=1e-5, atol=1e-6
    )


def test_rc_average_survives_the_checkpoint(tmp_path):
    model = build_model("cnn", input_length=50, n_outputs=1)
    save_checkpoint(
        model,
        tmp_path / "m.pt",
        arch="cnn",
        targets=["y"],
        tasks=["regression"],
        hparams={"input_length": 50, "n_outputs": 1},
        metrics={},
        rc_average=True,
    )
    loaded, meta = load_checkpoint(tmp_path / "m.pt")
    assert isinstance(loaded, RCAverage) and meta["rc_average"] is True


SCRIPTING = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


@SCRIPTING
def test_torchscript_model_loads_and_runs_through_attribution(tmp_path):
    model = build_model("deepstarr", input_length=60, n_outputs=2).eval()
    path = tmp_path / "scripted.pt"
    meta = {"input_length": 60, "targets": ["dev", "hk"], "tasks": ["regression", "regression"]}
    torch.jit.save(torch.jit.script(model), path, _extra_files={"seqsal.json": json.dumps(meta)})
    loaded, found = load_checkpoint(path, input_length=60)
    assert found["targets"] == ["dev", "hk"] and found["arch"] == "torchscript"
    X = random_onehot(3, 60)
    np.testing.assert_allclose(predict(loaded, X), predict(model, X), rtol=1e-5, atol=1e-6)
    hyp, attr, _ = attribute(loaded, X, target=1)
    assert hyp.shape == (3, 4, 60) and np.isfinite(attr).all()
    save_checkpoint(
        loaded,
        tmp_path / "again.pt",
        metrics={},
        **{k: found[k] for k in ("arch", "hparams", "targets", "tasks")},
    )
    assert load_checkpoint(tmp_path / "again.pt")[1]["targets"] == ["dev", "hk"]


@SCRIPTING
def test_torchscript_without_metadata_or_with_wrong_outputs_is_refused(tmp_path):
    model = torch.jit.script(build_model("cnn", input_length=40, n_outputs=1).eval())
    torch.jit.save(model, tmp_path / "bare.pt")
    with pytest.raises(
        InputError, match="expected a TorchScript model with a seqsal.json extra file"
    ):
        load_checkpoint(tmp_path / "bare.pt")
    meta = json.dumps({"input_length": 40, "targets": ["a", "b"]})
    torch.jit.save(model, tmp_path / "two.pt", _extra_files={"seqsal.json": meta})
    with pytest.raises(InputError, match=r"expected 2 outputs \(its targets\), found 1"):
        load_checkpoint(tmp_path / "two.pt")


def test_same_seed_same_metrics_and_reload_same_predictions(tmp_path, capsys):
    from seqsal.cli import main
    from seqsal.io import write_npz

    X = random_onehot(300, 40)
    y = (X[:, 2, 10:20].sum(axis=1, keepdims=True) > 2).astype(np.float32)
    chroms = np.repeat([f"c{i}" for i in range(6)], 50)
    write_npz(
        tmp_path / "x.npz",
        X=X,
        y=y,
        names=np.array([f"r{i}" for i in range(300)]),
        chroms=chroms,
        targets=np.array(["y"]),
    )
    runs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        assert (
            main(
                [
                    "train",
                    "--onehot",
                    str(tmp_path / "x.npz"),
                    "--max-epochs",
                    "3",
                    "--device",
                    "cpu",
                    "--out-dir",
                    str(out),
                ]
            )
            == 0
        )
        runs.append(out)
    assert (runs[0] / "metrics.json").read_text() == (runs[1] / "metrics.json").read_text()
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    assert metrics["tasks"] == {"y": "binary"} and {"auroc", "auprc"} <= set(metrics["test"]["y"])
    model, _ = load_checkpoint(runs[0] / "model.pt")
    again, _ = load_checkpoint(runs[1] / "model.pt")
    np.testing.assert_array_equal(predict(model, X), predict(again, X))
    capsys.readouterr()


@pytest.mark.parametrize("first_activation", ["relu", "exp"])
def test_simplified_model_is_the_same_function_with_the_same_gradients(first_activation):
    torch.manual_seed(0)
    for arch, length in (("cnn", 60), ("deepstarr", 61), ("basset", 70)):
        model = build_model(
            arch, input_length=length, n_outputs=2, first_activation=first_activation
        ).eval()
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
        fast = simplified(model, pool_first=True)
        assert not any(
            isinstance(m, (torch.nn.BatchNorm1d, torch.nn.MaxPool1d)) for m in fast.modules()
        )
        X = torch.zeros(8, 4, length)
        X[torch.arange(8)[:, None], torch.randint(0, 4, (8, length)), torch.arange(length)] = 1
        grads = []
        for m in (model, fast):
            x = X.clone().requires_grad_(True)
            y = m(x)
            grads.append((y.detach(), torch.autograd.grad(y[:, 0].sum(), x)[0]))
        torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-6)
        assert any(isinstance(m, torch.nn.MaxPool1d) for m in model.modules())  # untouched


@pytest.mark.parametrize("length", [12, 13, 14])
@pytest.mark.parametrize("kernel", [2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_a_block_max_is_max_pool1d_with_its_gradients(length, kernel, ceil_mode):
    """Whole blocks, a tail that floor mode drops and ceil mode pools, ties (the first
    maximum takes the gradient)."""
    torch.manual_seed(0)
    X = torch.randint(0, 3, (2, 3, length)).double()
    cotangent = torch.randn(2, 3, -(-length // kernel) if ceil_mode else length // kernel)
    grads = []
    for layer in (torch.nn.MaxPool1d(kernel, ceil_mode=ceil_mode), BlockMax(kernel, ceil_mode)):
        x = X.clone().requires_grad_(True)
        y = layer(x)
        grads.append((y, torch.autograd.grad(y, x, cotangent.double())[0]))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=0, atol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=0, atol=0)


@pytest.mark.parametrize(
    "kernel, dilation, padding", [(3, 4, 4), (3, 16, 0), (5, 8, 3), (2, 32, 32), (7, 4, 24)]
)
def test_a_dilated_convolution_has_the_input_gradient_of_conv1d(kernel, dilation, padding):
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(6, 5, kernel, dilation=dilation, padding=padding).requires_grad_(False)
    fast = DilatedConv1d.of(conv)
    assert DilatedConv1d.applies(conv) and fast.weight is conv.weight
    X = torch.randn(3, 6, 150)
    cotangent = torch.randn(3, 5, 150 + 2 * padding - dilation * (kernel - 1))
    grads = []
    for layer in (conv, fast):
        x = X.clone().requires_grad_(True)
        y = layer(x)
        grads.append((y, torch.autograd.grad(y, x, cotangent)[0]))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=0, atol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-5)
    fast.requires_grad_(True)  # weights to train: Conv1d's own backward, weight gradients
    fast(X).sum().backward()
    assert fast.weight.grad is not None


def test_a_simplified_bpnet_has_the_gradients_of_the_model():
    torch.manual_seed(0)
    model = build_model("bpnet", input_length=300, n_outputs=1).eval().requires_grad_(False)
    fast = simplified(model)
    assert sum(isinstance(m, DilatedConv1d) for m in fast.modules()) == 7  # dilation 4 to 256
    X = torch.as_tensor(random_onehot(4, 300)).float()
    grads = []
    for m in (model, fast):
        x = X.clone().requires_grad_(True)
        grads.append(torch.autograd.grad(m(x).sum(), x)[0])
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-7)


def test_a_simplified_copy_is_reused_only_while_the_model_and_the_copy_are_unchanged():
    torch.manual_seed(0)
    model = build_model("deepstarr", input_length=48, n_outputs=1).eval()
    X = torch.as_tensor(random_onehot(4, 48)).float()
    fast = simplified(model, pool_first=True)
    assert simplified(model, pool_first=True) is fast  # no second copy
    assert simplified(model) is not fast  # DeepLIFT's copy keeps the order
    with torch.no_grad():
        model.body[0].weight.mul_(2)  # an in-place change, as an optimiser step makes
    changed = simplified(model, pool_first=True)
    assert changed is not fast
    torch.testing.assert_close(changed(X), model(X), rtol=1e-5, atol=1e-6)
    model.body[2] = torch.nn.Tanh()  # another layer, the same weights
    assert simplified(model, pool_first=True) is not changed
    again = simplified(model, pool_first=True)
    with torch.no_grad():
        again.body[0].weight.zero_()  # a caller changed the copy
    torch.testing.assert_close(
        simplified(model, pool_first=True)(X), model(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("method", ["grad_x_input", "ism", "deeplift_shap"])
def test_an_ensemble_is_explained_as_the_mean_of_its_members(method, tmp_path):
    torch.manual_seed(0)
    hparams = {"input_length": 48, "n_outputs": 2}
    members = [build_model("deepstarr", **hparams).eval() for _ in range(3)]
    ensemble = ensemble_of(members, arch="deepstarr", hparams=hparams)
    X = random_onehot(6, 48)
    alone = np.mean([predict(m, X) for m in members], axis=0)
    np.testing.assert_allclose(predict(ensemble, X), alone, rtol=1e-5, atol=1e-6)
    maps = [attribute(m, X, target=1, method=method)[0] for m in (ensemble, *members)]
    np.testing.assert_allclose(maps[0], np.mean(maps[1:], axis=0), rtol=1e-4, atol=1e-6)
    # the members one by one (their fast paths) give the map of the mean as one model
    whole = attribute(torch.nn.Sequential(ensemble), X, target=1, method=method)[0]
    np.testing.assert_allclose(maps[0], whole, rtol=1e-4, atol=1e-6)
    assert torch.backends.cudnn.allow_tf32  # the members' fp32 switches are undone
    path = tmp_path / "model.pt"
    save_checkpoint(
        ensemble,
        path,
        arch="ensemble",
        hparams=ensemble_hparams("deepstarr", hparams, 3),
        targets=["a", "b"],
        tasks=["regression"] * 2,
        metrics={},
    )
    loaded, meta = load_checkpoint(path, input_length=48)
    assert meta["hparams"]["members"] == 3 and meta["hparams"]["member_arch"] == "deepstarr"
    np.testing.assert_array_equal(predict(loaded, X), predict(ensemble, X))


def test_fold_batch_norm_without_affine_parameters():
    from seqsal.models import fold_batch_norm

    torch.manual_seed(1)
    conv, norm = torch.nn.Conv1d(4, 3, 5, bias=False), torch.nn.BatchNorm1d(3, affine=False)
    norm.running_mean.uniform_(-1, 1)
    norm.running_var.uniform_(0.5, 2)
    norm.eval()
    x = torch.randn(2, 4, 20)
    torch.testing.assert_close(fold_batch_norm(conv, norm)(x), norm(conv(x)), atol=1e-5, rtol=1e-5)


class _Flat(torch.nn.Module):
    """Needs input length 40 exactly (a dense layer on the flattened one-hot)."""

    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(160, 1)

    def forward(self, X):
        return self.dense(X.flatten(1))


class _Pair(torch.nn.Module):
    def forward(self, X):
        return X.sum((1, 2))[:, None], X.mean((1, 2))[:, None]


class _Flat1D(torch.nn.Module):
    def forward(self, X):
        return X.sum((1, 2))


def _bad_checkpoints(tmp_path):
    """Every kind of bad model file a user has handed over, and what its line says."""
    good = tmp_path / "good.pt"
    save_checkpoint(
        build_model("cnn", input_length=40, n_outputs=1),
        good,
        arch="cnn",
        hparams={"input_length": 40, "n_outputs": 1},
        targets=["y"],
        tasks=["regression"],
        metrics={},
    )
    plain = torch.load(good, weights_only=True)

    def saved(name, checkpoint):
        torch.save(checkpoint, tmp_path / name)
        return tmp_path / name

    def scripted(name, module, meta):
        meta = {"seqsal.json": json.dumps(meta)}
        torch.jit.save(torch.jit.script(module), tmp_path / name, _extra_files=meta)
        return tmp_path / name

    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "half.pt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "noise.pt").write_bytes(np.random.default_rng(0).bytes(3000))
    (tmp_path / "folder.pt").mkdir()
    wide = build_model("cnn", input_length=40, n_outputs=1, n_filters=8).state_dict()
    return {
        tmp_path / "empty.pt": "plain-dict checkpoint",
        tmp_path / "half.pt": "plain-dict checkpoint",
        tmp_path / "noise.pt": "plain-dict checkpoint",
        tmp_path / "folder.pt": "found a directory",
        saved("shapes.pt", {**plain, "state_dict": wide}): "expected weights that fit cnn",
        saved(
            "hparams.pt", {**plain, "hparams": {"input_length": 40, "n_outputs": 1, "colour": 1}}
        ): "hyperparameters",
        saved(
            "targets.pt", {**plain, "targets": ["a", "b"], "tasks": ["regression"] * 2}
        ): r"expected 2 outputs \(its targets\), found 1",
        saved("tasks.pt", {**plain, "tasks": ["regression", "binary"]}): "one task per target",
        saved("negative.pt", {**plain, "input_length": -5}): "positive input_length",
        scripted(
            "length.pt", _Flat(), {"input_length": 50, "targets": ["y"]}
        ): r"runs on input of shape \(N, 4, 50\)",
        scripted(
            "tuple.pt", _Pair(), {"input_length": 40, "targets": ["y"]}
        ): r"expected outputs of shape \(N, 1\).*found tuple",
        scripted("flat.pt", _Flat1D(), {"input_length": 40, "targets": ["y"]}): r"found \(2,\)",
        scripted(
            "zero.pt", _Flat1D(), {"input_length": 0, "targets": ["y"]}
        ): "positive input_length",
    }


@SCRIPTING
def test_every_bad_model_file_is_refused_before_any_work_in_one_line(tmp_path, capsys):
    from seqsal.cli import main
    from seqsal.io import write_npz

    onehot = tmp_path / "x.npz"
    X = np.zeros((4, 4, 40), np.uint8)
    write_npz(onehot, X=X, names=np.array(list("abcd")))
    for path, expected in _bad_checkpoints(tmp_path).items():
        with pytest.raises(InputError, match=expected):
            load_checkpoint(path)
        status = main(
            [
                "attribute",
                "--model",
                str(path),
                "--onehot",
                str(onehot),
                "--out",
                str(tmp_path / "a.npz"),
            ]
        )
        lines = [line for line in capsys.readouterr().err.splitlines() if " INFO " not in line]
        assert status == 1 and len(lines) == 1 and str(path) in lines[0], (path, lines)
    assert not (tmp_path / "a.npz").exists()

import numpy as np
import pytest
import torch
from torch import nn
from toy_models import Linear, SumOfSquares

from seqsal import attribute as attribution
from seqsal.attribute import METHODS, attribute, shuffled_references
from seqsal.encode import one_hot_encode, one_hot_to_sequences, reverse_complement
from seqsal.io import InputError
from seqsal.models import build_model, resolve_target, strand_averaged


def random_onehot(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return one_hot_encode(["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)])


def small_models(length=40):
    """Seqsal's architectures, shrunk, with random weights and batch-norm statistics."""
    torch.manual_seed(0)
    models = {
        "cnn": build_model("cnn", input_length=length, n_outputs=2, n_filters=6, kernel_size=5),
        "deepstarr": build_model(
            "deepstarr",
            input_length=length,
            n_outputs=2,
            filters=[6, 5, 5, 4],
            kernels=[5, 3, 3, 3],
            hidden=8,
        ),
        "bpnet": build_model("bpnet", input_length=length, n_outputs=2, n_filters=6, n_layers=3),
    }
    for model in models.values():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
        model.eval()
    models["cnn_exp"] = build_model(
        "cnn",
        input_length=length,
        n_outputs=2,
        n_filters=6,
        kernel_size=5,
        first_activation="exp",
    ).eval()
    return models


def test_linear_model_grad_x_input_is_centred_weight_times_input(device):
    X = random_onehot(5, 30)
    model = Linear(30)
    hyp, attr, pred = attribute(model, X, device=device)
    w = model.weight.detach().cpu().numpy()[0]
    centred = w - w.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(hyp, np.broadcast_to(centred, hyp.shape), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(attr, (centred * X).sum(axis=1), rtol=1e-5, atol=1e-6)
    # the centred actual contributions add up to the output relative to the mean-base input
    baseline = w.mean(axis=0).sum()
    np.testing.assert_allclose(attr.sum(axis=1), pred[:, 0] - baseline, rtol=1e-4, atol=1e-4)


def test_linear_model_every_method_has_its_closed_form():
    X = random_onehot(3, 24)
    model = Linear(24)
    w = model.weight.detach().numpy()[0]
    centred = np.broadcast_to(w - w.mean(axis=0), (3, 4, 24))
    # ISM of a linear model: each base's effect minus the mean base's, i.e. the centred weight
    np.testing.assert_allclose(attribute(model, X, method="ism")[0], centred, atol=1e-5)
    # integrated gradients from all-N: w . x exactly, and w for every base
    hyp, attr, _ = attribute(model, X, method="integrated_gradients", steps=1)
    np.testing.assert_allclose(hyp, np.broadcast_to(w, hyp.shape), atol=1e-6)
    np.testing.assert_allclose(attr, (w * X).sum(1), atol=1e-6)
    # DeepLIFT-SHAP: w_present minus the references' mean weight at each position
    refs = shuffled_references(X, 5, seed=3)
    _, attr, _ = attribute(model, X, method="deeplift_shap", references=refs)
    expected = (w * X).sum(1) - (w * refs).sum(2).mean(1)
    np.testing.assert_allclose(attr, expected, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_batch_size_does_not_change_results(method, device):
    X = random_onehot(7, 40, seed=1)
    model = small_models()["cnn"]
    options = {"method": method, "device": device, "n_shuffles": 3, "steps": 4}
    full = attribute(model, X, batch_size=64, **options)
    small = attribute(model, X, batch_size=3, **options)
    for a, b in zip(full, small):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert full[0].shape == (7, 4, 40) and full[1].shape == (7, 40) and full[2].shape == (7, 2)
    # attr is hyp at the base present
    np.testing.assert_allclose(full[1], (full[0] * X).sum(1), atol=1e-6)


@pytest.mark.parametrize("arch", ["cnn", "cnn_exp", "deepstarr", "bpnet"])
@pytest.mark.parametrize("output", ["logit", "probability"])
def test_deeplift_shap_is_complete(arch, output):
    """Attributions sum to the output minus the mean reference output (max-pools,
    global max-pool, residuals, batch norm and a sigmoid output included)."""
    X = random_onehot(6, 40, seed=2)
    model = small_models()[arch]
    refs = shuffled_references(X, 4, seed=0)
    _, attr, _ = attribute(
        model, X, method="deeplift_shap", references=refs, output=output, tolerance=1e-5
    )
    f = attribution.Explained(model, probability=output == "probability")
    with torch.no_grad():
        fx = f(torch.as_tensor(X).float()).numpy()
        fr = f(torch.as_tensor(refs.reshape(-1, 4, 40))).numpy().reshape(6, 4)
    np.testing.assert_allclose(attr.sum(1), fx - fr.mean(1), atol=1e-5)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_deeplift_shap_is_complete_through_pools_with_a_tail(ceil_mode):
    """Block max-pools over lengths they do not divide: floor mode drops the tail, ceil
    mode pools it as a short block."""
    torch.manual_seed(4)
    features = 6 * (7 if ceil_mode else 6)  # 41 bases pooled by 3, then by 2
    model = nn.Sequential(
        nn.Conv1d(4, 6, 5, padding=2), nn.ReLU(), nn.MaxPool1d(3, ceil_mode=ceil_mode),
        nn.Conv1d(6, 6, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2, ceil_mode=ceil_mode),
        nn.Flatten(), nn.Linear(features, 1),
    ).eval()  # fmt: skip
    X = random_onehot(5, 41, seed=3)
    refs = shuffled_references(X, 4, seed=0)
    _, attr, _ = attribute(model, X, method="deeplift_shap", references=refs, tolerance=1e-5)
    with torch.no_grad():
        fx = model(torch.as_tensor(X).float())[:, 0].numpy()
        fr = model(torch.as_tensor(refs.reshape(-1, 4, 41)))[:, 0].numpy().reshape(5, 4)
    np.testing.assert_allclose(attr.sum(1), fx - fr.mean(1), atol=1e-5)


@pytest.mark.parametrize("rule", ["block", "flat"])
def test_max_pool_multipliers_do_not_hinge_on_rounding(rule):
    """A reference that shares the sequence's winning input (a flank its shuffle kept)
    differs from it there by the rounding of a separate pass, or not at all: the
    multipliers must be the same either way (they routed the gradient by chance before)."""
    from seqsal.attribute import deeplift

    x = torch.tensor([[[0.2030, 0.0829, 0.0, 0.0457]]])
    multipliers = []
    for noise in (0.0, 6e-8, -6e-8):
        r = torch.tensor([[[0.2030 + noise, 0.3455, 0.0633, 0.2254]]], requires_grad=True)
        if rule == "block":
            blocks = [z.detach().unflatten(-1, (1, 4)) for z in (r, x)]
            out = deeplift._BlockMaxRule.apply(
                r,
                r.detach().amax(-1, keepdim=True),
                *blocks,
                x.amax(-1, keepdim=True),
                *(deeplift.block_argmax(b) for b in blocks),
                1,
            )
        else:
            pooled = [nn.functional.max_pool1d(z.detach(), 4, return_indices=True) for z in (r, x)]
            out = deeplift._MaxPoolRule.apply(
                r, pooled[0][0], x, pooled[1][0], pooled[0][1], pooled[1][1], 1
            )
        (grad,) = torch.autograd.grad(out.sum(), r)
        multipliers.append(grad)
    for other in multipliers[1:]:
        torch.testing.assert_close(other, multipliers[0])
    assert multipliers[0][0, 0, 0] == 1  # the unchanged winner takes the gradient


def test_integrated_gradients_converge_to_completeness():
    X = random_onehot(4, 40, seed=3)
    model = small_models()["bpnet"]
    f = attribution.Explained(model)
    with torch.no_grad():
        gap = f(torch.as_tensor(X).float()) - f(torch.full((1, 4, 40), 0.25))
    errors = []
    for steps in (2, 64):
        _, attr, _ = attribute(
            model, X, method="integrated_gradients", baseline="uniform", steps=steps
        )
        errors.append(np.abs(attr.sum(1) - gap.numpy()).max())
    assert errors[1] < 0.02 * np.abs(gap.numpy()).max() and errors[1] <= errors[0]


@pytest.mark.parametrize("method", ["grad_x_input", "saliency", "ism", "integrated_gradients"])
def test_rc_average_is_strand_symmetric(method):
    X = random_onehot(4, 40, seed=4)
    rc = np.ascontiguousarray(reverse_complement(X))
    model = small_models()["deepstarr"]
    options = {"method": method, "rc_average": True, "steps": 4}
    hyp, attr, pred = attribute(model, X, **options)
    hyp_rc, attr_rc, pred_rc = attribute(model, rc, **options)
    np.testing.assert_allclose(attr_rc, attr[:, ::-1], atol=1e-5)
    np.testing.assert_allclose(hyp_rc, hyp[:, ::-1, ::-1], atol=1e-5)
    np.testing.assert_allclose(pred_rc, pred, atol=1e-5)
    plain = attribute(model, X, method=method, steps=4)[1]
    assert not np.allclose(plain, attr, atol=1e-5)


def test_fast_ism_slabs_are_each_variants_columns_with_its_change_written_in():
    from seqsal.attribute.ism import _slabs

    torch.manual_seed(0)
    B, C, L, pad, width, w = 3, 5, 17, 4, 6, 2
    padded = torch.randn(B, C, L + 2 * pad + 1)
    seq = torch.tensor([2, 0, 1, 2, 0])
    starts = torch.tensor([-4, 0, 3, 11, 12])  # slabs over the padding at both ends
    start = torch.tensor([-3, 5, 10, 16, 13])  # the change inside, partly outside, outside
    values = torch.randn(len(seq), C, w)
    slab = _slabs(padded.clone(), pad, seq, starts, width, start, values)
    for i in range(len(seq)):
        expected = padded[seq[i], :, starts[i] + pad : starts[i] + pad + width].clone()
        for j in range(w):
            if 0 <= start[i] + j - starts[i] < width:
                expected[:, start[i] + j - starts[i]] = values[i, :, j]
        torch.testing.assert_close(slab[i, :, :width], expected, rtol=0, atol=0)


@pytest.mark.parametrize("arch", ["cnn", "cnn_exp", "deepstarr", "bpnet"])
def test_fast_ism_equals_every_variant_in_full(arch, monkeypatch):
    X = random_onehot(3, 40, seed=5)
    X[0, :, 7] = 0  # an N: all four bases are variants
    model = small_models()[arch]
    assert_fast_path_exact(model, X)
    fast = attribute(model, X, method="ism", batch_size=5, output="probability")
    monkeypatch.setattr(attribution.ism, "local_layers", lambda model: None)
    plain = attribute(model, X, method="ism", batch_size=5, output="probability")
    np.testing.assert_allclose(fast[0], plain[0], atol=1e-6)
    # the base present scores the output minus the mean over the four bases
    f = attribution.Explained(model, probability=True)
    x = torch.as_tensor(X[1:2]).float()
    with torch.no_grad():
        y0 = f(x).item()
        variants = []
        for base in range(4):
            v = x.clone()
            v[0, :, 11] = 0
            v[0, base, 11] = 1
            variants.append(f(v).item())
    assert fast[1][1, 11] == pytest.approx(y0 - np.mean(variants), abs=1e-6)


def assert_fast_path_exact(model, X):
    """fastISM's outputs of every single-base variant equal full passes'."""
    from seqsal.attribute.ism import substituted_outputs

    x = torch.as_tensor(X).float()
    todo = torch.nonzero(x == 0)
    seq, base, pos = todo[:, 0], todo[:, 1], todo[:, 2]
    fast = substituted_outputs(model.eval(), x, seq, pos, base, 7, fast=True)
    plain = substituted_outputs(model.eval(), x, seq, pos, base, 7, fast=False)
    np.testing.assert_allclose(fast, plain, atol=1e-5)


class _UsersChain(nn.Module):
    """A user's model: convolutions and functional activations, then a head."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.conv1, self.conv2 = (
            nn.Conv1d(4, 8, 5, padding=2),
            nn.Conv1d(8, 8, 3, padding=2, dilation=2),
        )
        self.pool, self.head = nn.MaxPool1d(2), nn.Linear(8, 2)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        return self.head(torch.relu(self.conv2(h)).mean(-1))


class _UsersResidual(_UsersChain):
    def forward(self, x):
        h = torch.relu(self.conv1(x))
        return self.head((h + torch.relu(self.conv2(h))).mean(-1))


class _UsersExp(_UsersChain):
    """An exponential first activation, called as a function (Koo & Ploenzke's models)."""

    def forward(self, x):
        h = self.pool(torch.exp(self.conv1(x)))
        return self.head(torch.relu(self.conv2(h)).mean(-1))


class _UsersGate(_UsersChain):
    def forward(self, x):
        h = torch.relu(self.conv1(x))
        return self.head((h * torch.sigmoid(self.conv2(h))).mean(-1))


@pytest.mark.parametrize(
    "model, body",
    [
        (
            nn.Sequential(
                nn.Conv1d(4, 8, 7, padding=3), nn.ReLU(), nn.Flatten(), nn.Linear(320, 1)
            ),
            2,
        ),
        (_UsersChain(), 5),
        (_UsersExp(), 5),
        (_UsersResidual(), 3),  # h + relu(conv(h)): a residual block
        (_UsersGate(), 2),  # the chain stops where an activation is read twice otherwise
    ],
)
def test_fast_ism_finds_the_body_of_a_users_model(model, body, monkeypatch):
    from seqsal.attribute.ism import split_local

    model = model.eval()
    split = split_local(model)
    assert split is not None and len(split.body) == body
    X = random_onehot(3, 40, seed=7)
    with torch.no_grad():
        np.testing.assert_allclose(
            split(torch.as_tensor(X).float()), model(torch.as_tensor(X).float()), atol=1e-6
        )
    assert_fast_path_exact(strand_averaged(model), X)
    fast = attribute(model, X, method="ism", rc_average=True)[0]
    monkeypatch.setattr(attribution.ism, "local_layers", lambda model: None)
    np.testing.assert_allclose(
        fast, attribute(model, X, method="ism", rc_average=True)[0], atol=1e-5
    )


def test_ism_window_leaves_the_rest_zero():
    X = random_onehot(2, 40, seed=6)
    hyp, _, _ = attribute(small_models()["cnn"], X, method="ism", ism_window=(10, 20))
    assert (hyp[:, :, :10] == 0).all() and (hyp[:, :, 20:] == 0).all()
    assert (hyp[:, :, 10:20] != 0).any()
    with pytest.raises(InputError, match="ism_window"):
        attribute(small_models()["cnn"], X, method="ism", ism_window=(30, 50))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_deeplift_shap_refuses_to_return_a_wrong_map():
    X = random_onehot(3, 20)
    with pytest.raises(attribution.ConvergenceError, match="as a function"):
        attribute(SumOfSquares(20), X, method="deeplift_shap", n_shuffles=3)
    scripted = torch.jit.script(small_models(20)["cnn"])
    with pytest.raises(InputError, match="TorchScript"):
        attribute(scripted, X, method="deeplift_shap")
    layered = nn.Sequential(nn.Conv1d(4, 3, 3), nn.Softmax(dim=1), nn.Flatten(), nn.LazyLinear(1))
    with pytest.raises(InputError, match="Softmax"):
        attribute(layered, X, method="deeplift_shap")


def test_deeplift_shap_agrees_with_other_methods_on_what_matters():
    X = random_onehot(4, 40, seed=7)
    model = small_models()["deepstarr"]
    dls = attribute(model, X, method="deeplift_shap", n_shuffles=10)[1]
    ism = attribute(model, X, method="ism")[1]
    r = [np.corrcoef(a, b)[0, 1] for a, b in zip(dls, ism)]
    assert np.median(r) > 0.5


def test_grad_cam_is_non_negative_and_on_the_present_base():
    X = random_onehot(3, 40, seed=8)
    X[:, :, 3] = 0
    hyp, attr, _ = attribute(small_models()["cnn"], X, method="grad_cam")
    assert (hyp >= 0).all() and (attr[:, 3] == 0).all()
    assert ((hyp > 0).sum(1) <= 1).all()
    with pytest.raises(InputError, match="grad_cam_layer"):
        attribute(small_models()["cnn"], X, method="grad_cam", grad_cam_layer="nope")
    first = attribute(small_models()["cnn"], X, method="grad_cam", grad_cam_layer="body.0")[1]
    assert not np.allclose(first, attr)


def test_shuffled_references_keep_dinucleotides_and_do_not_depend_on_batch():
    X = random_onehot(4, 50, seed=9)
    refs = shuffled_references(X, 3, seed=1)
    assert refs.shape == (4, 3, 4, 50)
    for x, r in zip(one_hot_to_sequences(X), refs):
        for s in one_hot_to_sequences(r):
            pairs = sorted(a + b for a, b in zip(s, s[1:]))
            assert pairs == sorted(a + b for a, b in zip(x, x[1:]))
    np.testing.assert_array_equal(
        shuffled_references(X[2:], 3, seed=1, keys=range(2, len(X))), refs[2:]
    )


def test_no_parameter_gradients_and_target_choice():
    X = random_onehot(3, 20)
    model = Linear(20, n_outputs=2)
    _, attr0, _ = attribute(model, X, target=0)
    _, attr1, _ = attribute(model, X, target=1)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert not np.allclose(attr0, attr1)
    assert resolve_target("b", ["a", "b"]) == 1 and resolve_target("1", ["a", "b"]) == 1
    with pytest.raises(InputError, match="expected one of"):
        resolve_target("c", ["a", "b"])
    with pytest.raises(InputError, match="index below 2"):
        resolve_target(2, ["a", "b"])


def test_saliency_is_absolute_and_bad_options_are_named():
    X = random_onehot(2, 20)
    hyp, _, _ = attribute(Linear(20), X, method="saliency")
    assert (hyp >= 0).all()
    with pytest.raises(ValueError, match=r"expected shape \(N, 4, L\)"):
        attribute(Linear(20), X[:, :3])
    for options in [
        {"method": "magic"},
        {"baseline": "ones"},
        {"precision": "fp8"},
        {"output": "odds"},
    ]:
        (key,) = options  # the library names its argument, not a workflow config key
        with pytest.raises(InputError, match=f"^{key}: expected"):
            attribute(Linear(20), X, **options)


def test_bf16_is_checked_against_fp32(caplog):
    if not attribution.bf16_supported("cpu"):
        pytest.skip("this CPU has no native bfloat16")
    X = random_onehot(8, 200, seed=10)
    model = build_model("bpnet", input_length=200, n_outputs=1, n_filters=16, n_layers=4).eval()
    fp32 = attribute(model, X)[1]
    with caplog.at_level("INFO"):
        auto = attribute(model, X, precision="auto", log=attribution_log())[1]
    assert "min per-region Pearson" in caplog.text
    r = [np.corrcoef(a, b)[0, 1] for a, b in zip(fp32, auto)]
    assert min(r) >= 0.99


@pytest.mark.parametrize("arch", ["deepstarr", "bpnet"])
def test_deeplift_shap_in_bf16_redoes_in_fp32_the_regions_that_miss_completeness(arch, caplog):
    X = random_onehot(12, 40, seed=3)
    model = small_models()[arch]
    options = {"method": "deeplift_shap", "references": shuffled_references(X, 4, seed=0)}
    options["batch_size"] = 16  # 4 regions a batch
    fp32 = attribute(model, X, **options, tolerance=1e-6)[1]
    with caplog.at_level("INFO"):
        low = attribute(model, X, **options, precision="bf16", log=attribution_log())[1]
    assert "regions missed completeness (tolerance 0.001) and were redone in fp32" in caplog.text
    r = [np.corrcoef(a, b)[0, 1] for a, b in zip(fp32, low)]
    assert np.median(r) >= 0.99 and min(r) >= 0.9  # complete; the shape is auto's check
    # a tolerance bf16 cannot meet: every region is redone, and the map is fp32's
    strict = attribute(model, X, **options, precision="bf16", tolerance=1e-6)[1]
    np.testing.assert_allclose(strict, fp32, rtol=1e-5, atol=1e-7)
    # auto on a CPU is fp32 (bf16 is no faster for DeepLIFT's rules there)
    np.testing.assert_array_equal(attribute(model, X, **options, precision="auto")[1], fp32)


def test_deeplift_shap_of_a_model_without_weights():
    class Difference(nn.Module):  # relu(A - C) summed: no parameters to take a dtype from
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()

        def forward(self, X):
            return self.relu(X[:, 0] - X[:, 1]).sum(-1, keepdim=True)

    X = random_onehot(3, 30, seed=4)
    refs = shuffled_references(X, 3, seed=0)
    _, attr, _ = attribute(Difference(), X, method="deeplift_shap", references=refs)
    with torch.no_grad():
        fx = Difference()(torch.as_tensor(X).float())[:, 0].numpy()
        fr = Difference()(torch.as_tensor(refs.reshape(-1, 4, 30)))[:, 0].numpy()
    np.testing.assert_allclose(attr.sum(1), fx - fr.reshape(3, 3).mean(1), atol=1e-5)


def attribution_log():
    import logging

    return logging.getLogger("seqsal.test")


def test_zero_columns_get_zero_actual_attribution():
    X = random_onehot(2, 20)
    X[:, :, 5] = 0
    for method in ("grad_x_input", "ism", "deeplift_shap"):
        _, attr, _ = attribute(Linear(20), X, method=method, n_shuffles=2)
        assert (attr[:, 5] == 0).all()
    assert torch.is_grad_enabled()


def test_auto_batch_size_follows_the_activations():
    models = small_models(400)
    small = attribution.auto_batch_size(models["cnn"], 400, "cpu")
    wide = build_model("bpnet", input_length=4000, n_outputs=1, n_filters=64)
    assert attribution.auto_batch_size(wide, 4000, "cpu") < small
    assert small & (small - 1) == 0  # a power of two
    calls = []
    wide.register_forward_hook(lambda *_: calls.append(1))
    assert attribution.auto_batch_size(wide, 4000, "cpu") == attribution.auto_batch_size(
        wide, 4000, "cpu"
    )
    assert calls == []  # measured once per model and length on a CPU
    attribution.auto_batch_size(wide, 2000, "cpu")
    assert calls == [1]


def test_attribution_runs_in_full_fp32_and_restores_the_flags():
    # cuDNN's default TF32 moved GPU attributions by up to 41% (see full_fp32)
    seen = []

    class Spy(Linear):
        def forward(self, x):
            seen.append(torch.backends.cudnn.allow_tf32)
            return super().forward(x)

    assert torch.backends.cudnn.allow_tf32  # PyTorch's default
    attribute(Spy(30), random_onehot(3, 30), batch_size=8)
    assert seen and not any(seen)
    assert torch.backends.cudnn.allow_tf32


def test_shuffles_are_seeded_by_region_name_so_shards_do_not_matter():
    """DeepLIFT-SHAP's references, the seqlet null's sample and its shuffles depend on
    each region's name only: split the regions anyhow, the rows are the same."""
    X = random_onehot(12, 40, seed=4)
    keys = attribution.region_keys([f"region_{i}" for i in range(12)])
    assert attribution.region_keys(["123456789"])[0] == 0xCBF43926  # CRC-32's check value
    model = small_models()["cnn"]
    whole = attribute(model, X, method="deeplift_shap", n_shuffles=4, keys=keys)[1]
    parts = [
        attribute(model, X[r], method="deeplift_shap", n_shuffles=4, keys=keys[r])[1]
        for r in (slice(0, 5), slice(5, 12))
    ]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=1e-5, atol=1e-6)

    rows = attribution.null_sample(keys, 0.5, seed=3)
    assert 0 < len(rows) < 12
    halves = [
        attribution.null_sample(keys[r], 0.5, seed=3) + r.start for r in (slice(0, 5), slice(5, 12))
    ]
    np.testing.assert_array_equal(np.concatenate(halves), rows)
    assert len(attribution.null_sample(keys, 0.0)) == 0
    assert len(attribution.null_sample(keys, 1.0)) == 12
    with pytest.raises(InputError, match="expected 0 to 1"):
        attribution.null_sample(keys, 1.5)

    shuffled = attribution.ShuffledRows(X, rows, keys[rows], seed=3)
    assert shuffled.shape == (len(rows), 4, 40)
    alone = attribution.ShuffledRows(X, rows[1:], keys[rows][1:], seed=3)
    np.testing.assert_array_equal(shuffled[1:], alone[:])
    for row, x in zip(shuffled[:], one_hot_to_sequences(X[rows])):
        (s,) = one_hot_to_sequences(row[None])
        assert s != x and sorted(zip(s, s[1:])) == sorted(zip(x, x[1:]))
    # a draw apart from the region's own references
    references = shuffled_references(X[rows], 1, seed=3, keys=keys[rows])[:, 0]
    assert not np.array_equal(references, shuffled[:])


class _UsersChainLayers(_UsersChain):
    """The same function as :class:`_UsersChain`, its activations as layers."""

    def __init__(self):
        super().__init__()
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        h = self.pool(self.relu1(self.conv1(x)))
        return self.head(self.relu2(self.conv2(h)).mean(-1))


def test_deeplift_shap_sees_functional_activations_as_layers():
    X = random_onehot(4, 40, seed=8)
    functional, layers = _UsersChain().eval(), _UsersChainLayers().eval()  # same weights
    ours = attribute(functional, X, method="deeplift_shap", n_shuffles=5)
    theirs = attribute(layers, X, method="deeplift_shap", n_shuffles=5)
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)
    # torch.exp too: without its rescale rule the map would miss completeness
    model, refs = _UsersExp().eval(), shuffled_references(X, 4, seed=0)
    _, attr, _ = attribute(model, X, method="deeplift_shap", references=refs, tolerance=1e-5)
    with torch.no_grad():
        fx = model(torch.as_tensor(X).float())[:, 0].numpy()
        fr = model(torch.as_tensor(refs.reshape(-1, 4, 40)))[:, 0].numpy().reshape(4, 4)
    np.testing.assert_allclose(attr.sum(1), fx - fr.mean(1), atol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_bf16_gradients_of_a_torchscript_model():
    X = random_onehot(3, 40, seed=9)
    model = _UsersChain().eval()
    script = torch.jit.script(model)
    low = attribute(script, X, precision="bf16")[1]
    np.testing.assert_allclose(low, attribute(model, X, precision="bf16")[1], atol=1e-6)
    full = attribute(script, X)[1]
    assert min(np.corrcoef(a, b)[0, 1] for a, b in zip(low, full)) > 0.95

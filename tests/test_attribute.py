import numpy as np
import pytest
import torch
from toy_models import Linear, SumOfSquares

from seqsal.attribute import attribute
from seqsal.encode import one_hot_encode


def random_onehot(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return one_hot_encode(["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)])


def test_linear_model_grad_x_input_is_centred_weight_times_input(device):
    X = random_onehot(5, 30)
    model = Linear(30)
    hyp, attr, pred = attribute(model, X, device=device)
    w = model.weight.detach().numpy()[0]
    centred = w - w.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(hyp, np.broadcast_to(centred, hyp.shape), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(attr, (centred * X).sum(axis=1), rtol=1e-5, atol=1e-6)
    # the centred actual contributions add up to the output relative to the mean-base input
    baseline = w.mean(axis=0).sum()
    np.testing.assert_allclose(attr.sum(axis=1), pred[:, 0] - baseline, rtol=1e-4, atol=1e-4)


def test_batch_equals_one_by_one_and_batch_size_invariance(device):
    X = random_onehot(9, 25, seed=1)
    model = SumOfSquares(25)
    full = attribute(model, X, batch_size=4, device=device)
    for i in range(len(X)):
        single = attribute(model, X[i : i + 1], batch_size=1, device=device)
        for a, b in zip(full, single):
            np.testing.assert_allclose(a[i : i + 1], b, rtol=1e-5, atol=1e-6)
    other = attribute(model, X, batch_size=7, device=device)
    for a, b in zip(full, other):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_no_parameter_gradients_and_target_choice():
    X = random_onehot(3, 20)
    model = Linear(20, n_outputs=2)
    _, attr0, _ = attribute(model, X, target=0)
    _, attr1, _ = attribute(model, X, target=1)
    assert all(p.grad is None for p in model.parameters())
    assert not np.allclose(attr0, attr1)


def test_saliency_is_absolute_and_shape_is_checked():
    X = random_onehot(2, 20)
    hyp, _, _ = attribute(Linear(20), X, method="saliency")
    assert (hyp >= 0).all()
    with pytest.raises(ValueError, match=r"expected shape \(N, 4, L\)"):
        attribute(Linear(20), X[:, :3])
    with pytest.raises(ValueError, match="method: expected one of"):
        attribute(Linear(20), X, method="magic")


def test_zero_columns_get_zero_actual_attribution():
    X = random_onehot(2, 20)
    X[:, :, 5] = 0
    _, attr, _ = attribute(Linear(20), X)
    assert (attr[:, 5] == 0).all()
    assert torch.is_grad_enabled()

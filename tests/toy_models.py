"""Toy models whose attributions are known in closed form."""

import torch
from torch import nn


class Linear(nn.Module):
    """y = sum(W * X) + b over a (4, L) input: the gradient is W everywhere."""

    def __init__(self, length, n_outputs=1, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(n_outputs, 4, length, generator=generator))
        self.bias = nn.Parameter(torch.zeros(n_outputs))

    def forward(self, X):
        return torch.einsum("nal,oal->no", X, self.weight) + self.bias


class SumOfSquares(nn.Module):
    """A nonlinear per-example model: y = sum over positions of (w . x_l)^2."""

    def __init__(self, length, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(4, length, generator=generator))

    def forward(self, X):
        return ((X * self.weight).sum(dim=1) ** 2).sum(dim=1, keepdim=True)

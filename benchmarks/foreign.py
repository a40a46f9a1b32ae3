"""Models as users write them, defined here and not in ``seqsal.models``: seqsal knows
nothing of their structure beyond what it can find in them (``torch.fx``)."""

from __future__ import annotations

import torch
from torch import nn


class BPNetLike(nn.Module):
    """A first wide convolution, dilated residual convolutions written out in
    ``forward``, global average pooling, a linear head."""

    def __init__(self, input_length=1000, filters=64, layers=8, n_outputs=1):
        super().__init__()
        self.input_length = input_length
        self.first = nn.Conv1d(4, filters, 21, padding=10)
        self.convs = nn.ModuleList(
            nn.Conv1d(filters, filters, 3, padding=2**i, dilation=2**i)
            for i in range(1, layers + 1)
        )
        self.head = nn.Linear(filters, n_outputs)

    def forward(self, x):
        h = torch.relu(self.first(x))
        for conv in self.convs:
            h = h + torch.relu(conv(h))
        return self.head(h.mean(-1))


class DeepSTARRLike(nn.Module):
    """Four convolution, batch-norm, ReLU and max-pool blocks, then dense layers, as one
    ``nn.Sequential``."""

    def __init__(self, input_length=249, n_outputs=2):
        super().__init__()
        self.input_length = input_length
        blocks, channels, length = [], 4, input_length
        for out, width in ((256, 7), (60, 3), (60, 5), (120, 3)):
            blocks += [
                nn.Conv1d(channels, out, width, padding=width // 2),
                nn.BatchNorm1d(out),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            channels, length = out, length // 2
        self.net = nn.Sequential(
            *blocks,
            nn.Flatten(),
            nn.Linear(channels * length, 256),
            nn.ReLU(),
            nn.Dropout(0.4),
            nn.Linear(256, n_outputs),
        )

    def forward(self, x):
        return self.net(x)


def scripted(model: nn.Module) -> torch.jit.ScriptModule:
    """``model`` as TorchScript (what a user may hand over instead of its class)."""
    script = torch.jit.script(model.eval())
    script.input_length = model.input_length
    return script

"""The built-in architectures (cnn, deepstarr, bpnet, basset), their ensembles, the strand
average, and :func:`build_model`, which builds any of them by name."""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch import nn

from ..errors import InputError

ALPHABET = "ACGT"


class Exp(nn.Module):
    """The exponential, elementwise. As the first layer's activation it makes a filter
    respond to its motif far above anything else, and the maps of gradient x input
    sharper (Koo & Ploenzke 2021); see ``first_activation`` of the built-in models."""

    def forward(self, X):
        """``exp(X)``, elementwise."""
        return torch.exp(X)


# Elementwise activations: DeepLIFT rescales them, fast ISM applies them to windows.
ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
    Exp,
)

#: The activations a built-in model may put after its first convolution.
FIRST_ACTIVATIONS = {"relu": nn.ReLU, "exp": Exp}


def first_activation_layer(name: str) -> nn.Module:
    """The layer named by the ``first_activation`` hyperparameter.

    Parameters
    ----------
    name : str
        A key of :data:`FIRST_ACTIVATIONS`.

    Returns
    -------
    layer : torch.nn.Module

    Raises
    ------
    InputError
        For another name.
    """
    if name not in FIRST_ACTIVATIONS:
        raise InputError(
            f"model.hparams.first_activation: expected one of {sorted(FIRST_ACTIVATIONS)}, "
            f"found {name!r}"
        )
    return FIRST_ACTIVATIONS[name]()


class _BodyHead(nn.Module):
    """A convolutional ``body`` (local layers, see :mod:`seqsal.ism`) and what follows it,
    :meth:`finish` (by default, ``head``)."""

    def forward(self, X):
        """Map one-hot ``X`` of shape (N, 4, L) to outputs of shape (N, n_outputs)."""
        return self.finish(self.body(X))

    def finish(self, h):
        """Everything after the convolutional body."""
        return self.head(h)


class CNN(_BodyHead):
    """A compact CNN: conv -> max-pool -> conv -> global mean+max pooling -> dense.

    Parameters
    ----------
    input_length : int
        Bases per input sequence.
    n_outputs : int
        Number of targets; the outputs are pre-activation (logits for binary targets).
    n_filters : int, optional
        Filters per convolution. Default is 64.
    kernel_size : int, optional
        Width of the first (motif-detecting) convolution. Default is 15.
    pool : int, optional
        Width of the max-pooling after the first convolution. Default is 4.
    hidden : int, optional
        Units of the dense layer; 0: none, the pooled features feed the outputs directly
        (with a ``"mean"`` pool, an additive model: each output sums local contributions,
        which keeps first-order maps faithful, but cannot require two motifs together).
        Default is 64.
    dropout : float, optional
        Dropout before the output layer. Default is 0.1.
    global_pool : str, optional
        How the positions are summarised: ``"mean+max"`` (both, concatenated),
        ``"mean"`` or ``"max"``. A global max passes the gradient to one position per
        filter, so where a sequence holds several copies of a motif gradient-based maps
        credit only the strongest; a mean credits them all. Default is ``"mean+max"``.
    first_activation : str, optional
        The first convolution's activation: ``"relu"`` or ``"exp"`` (exponential: its
        filters then answer their motif far above the rest of the sequence, and
        gradient-based maps rank planted sites higher; Koo & Ploenzke 2021). Default is
        ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        n_filters=64,
        kernel_size=15,
        pool=4,
        hidden=64,
        dropout=0.1,
        global_pool="mean+max",
        first_activation="relu",
    ):
        super().__init__()
        if global_pool not in ("mean+max", "mean", "max"):
            raise InputError(
                f"model.hparams.global_pool: expected 'mean+max', 'mean' or 'max', "
                f"found {global_pool!r}"
            )
        self.input_length = input_length
        self.global_pool = global_pool
        self.body = nn.Sequential(
            nn.Conv1d(4, n_filters, kernel_size, padding=kernel_size // 2),
            first_activation_layer(first_activation),
            nn.MaxPool1d(pool),
            nn.Conv1d(n_filters, n_filters, 5, padding=2),
            nn.ReLU(),
        )
        pooled = len(global_pool.split("+")) * n_filters
        dense = [nn.Linear(pooled, hidden), nn.ReLU()] if hidden else []
        self.head = nn.Sequential(
            *dense, nn.Dropout(dropout), nn.Linear(hidden or pooled, n_outputs)
        )
        self.global_max = nn.AdaptiveMaxPool1d(1)  # a module, so that DeepLIFT sees it

    def finish(self, h):
        """Everything after the convolutional body.

        Parameters
        ----------
        h : torch.Tensor, shape=(N, C, L')
            The body's output.

        Returns
        -------
        outputs : torch.Tensor, shape=(N, n_outputs)
        """
        pooled = []
        if self.global_pool != "max":
            pooled.append(h.mean(dim=-1))
        if self.global_pool != "mean":
            pooled.append(self.global_max(h)[..., 0])
        return self.head(torch.cat(pooled, dim=1))


class DeepSTARR(_BodyHead):
    """DeepSTARR-like (de Almeida et al. 2022): four conv blocks (conv, batch norm, ReLU,
    max-pool) and a dense head, for short sequences (~100-500 bp).

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    filters : list of int, optional
        Filters of the four blocks. Default is (128, 60, 60, 120).
    kernels : list of int, optional
        Kernel widths of the four blocks. Default is (7, 3, 5, 3).
    hidden : int, optional
        Units of each of the two dense layers. Default is 256.
    dropout : float, optional
        Dropout after each dense layer. Default is 0.4.
    first_activation : str, optional
        The first block's activation, as in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        filters=(128, 60, 60, 120),
        kernels=(7, 3, 5, 3),
        hidden=256,
        dropout=0.4,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        blocks, channels, length = [], 4, input_length
        for i, (f, k) in enumerate(zip(filters, kernels)):
            blocks += [
                nn.Conv1d(channels, f, k, padding=k // 2),
                nn.BatchNorm1d(f),
                first_activation_layer(first_activation) if i == 0 else nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            channels, length = f, length // 2
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )


class Residual(nn.Module):
    """One of BPNet's residual blocks, ``x + relu(conv(x))``, the convolution dilated and
    padded to keep the length. fastISM (:mod:`seqsal.attribute.ism`) and the receptive
    field (:func:`seqsal.evaluate.receptive_fields`) read it as one layer.

    Parameters
    ----------
    channels : int
    dilation : int
    kernel_size : int, optional
        Default is 3.
    """

    def __init__(self, channels, dilation, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv1d(
            channels,
            channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size // 2),
        )
        self.relu = nn.ReLU()

    def forward(self, X):
        return X + self.relu(self.conv(X))


class BPNet(_BodyHead):
    """BPNet-like (Avsec et al. 2021): a wide first conv, residual dilated convs
    (dilation 2, 4, ... 2**n_layers) and global average pooling, for long sequences.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    n_filters : int, optional
        Channels throughout. Default is 64.
    n_layers : int, optional
        Residual dilated layers. Default is 8.
    first_kernel : int, optional
        Width of the first convolution. Default is 21.
    first_activation : str, optional
        As in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        n_filters=64,
        n_layers=8,
        first_kernel=21,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        self.body = nn.Sequential(
            nn.Conv1d(4, n_filters, first_kernel, padding=first_kernel // 2),
            first_activation_layer(first_activation),
            *[Residual(n_filters, 2 ** (i + 1)) for i in range(n_layers)],
        )
        self.head = nn.Linear(n_filters, n_outputs)

    def finish(self, h):
        """Everything after the convolutional body.

        Parameters
        ----------
        h : torch.Tensor, shape=(N, C, L')
            The body's output.

        Returns
        -------
        outputs : torch.Tensor, shape=(N, n_outputs)
        """
        return self.head(h.mean(dim=-1))


class Basset(_BodyHead):
    """Basset-like classifier (Kelley et al. 2016): three conv/batch-norm/ReLU/max-pool
    blocks and two dense layers; outputs are logits.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    filters : list of int, optional
        Default is (300, 200, 200).
    kernels : list of int, optional
        Default is (19, 11, 7).
    pools : list of int, optional
        Default is (3, 4, 4).
    hidden : int, optional
        Default is 1000.
    dropout : float, optional
        Default is 0.3.
    first_activation : str, optional
        The first block's activation, as in :class:`CNN`. Default is ``"relu"``.
    """

    def __init__(
        self,
        *,
        input_length,
        n_outputs,
        filters=(300, 200, 200),
        kernels=(19, 11, 7),
        pools=(3, 4, 4),
        hidden=1000,
        dropout=0.3,
        first_activation="relu",
    ):
        super().__init__()
        self.input_length = input_length
        blocks, channels, length = [], 4, input_length
        for i, (f, k, p) in enumerate(zip(filters, kernels, pools)):
            blocks += [
                nn.Conv1d(channels, f, k, padding=k // 2),
                nn.BatchNorm1d(f),
                first_activation_layer(first_activation) if i == 0 else nn.ReLU(),
                nn.MaxPool1d(p, ceil_mode=True),
            ]
            channels, length = f, -(-length // p)
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * length, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )


ARCHITECTURES = {"cnn": CNN, "deepstarr": DeepSTARR, "bpnet": BPNet, "basset": Basset}


class Ensemble(nn.Module):
    """The mean output of ``members`` models of one built-in architecture
    (``model.ensemble``), trained from different seeds on the same split.

    Every attribution method but Grad-CAM is linear in the output, and the members
    share no unit, so the mean's map is the mean of the members' maps:
    :func:`seqsal.attribute.attribute` explains the members one by one.

    Parameters
    ----------
    input_length, n_outputs : int
        As in :class:`CNN`.
    member_arch : str
        The members' architecture, a name of :data:`ARCHITECTURES`.
    members : int
        How many.
    member_hparams : dict or None, optional
        The members' other hyperparameters. Default is None: the architecture's defaults.
    """

    def __init__(self, *, input_length, n_outputs, member_arch, members, member_hparams=None):
        super().__init__()
        if member_arch not in ARCHITECTURES:
            raise InputError(
                f"model.arch: expected one of {sorted(ARCHITECTURES)} for the ensemble's "
                f"members, found {member_arch!r}"
            )
        self.input_length = input_length
        hparams = {**(member_hparams or {}), "input_length": input_length, "n_outputs": n_outputs}
        self.members = nn.ModuleList(build_model(member_arch, **hparams) for _ in range(members))

    def forward(self, X):
        """The members' mean output, shape (N, n_outputs)."""
        return torch.stack([member(X) for member in self.members]).mean(dim=0)


def ensemble_of(models, *, arch: str, hparams: dict) -> Ensemble:
    """Trained models of one architecture as an :class:`Ensemble`.

    Parameters
    ----------
    models : list of torch.nn.Module
        Built with ``build_model(arch, **hparams)``.
    arch : str
    hparams : dict
        The members' hyperparameters, ``input_length`` and ``n_outputs`` included.

    Returns
    -------
    ensemble : Ensemble
        In eval mode; its hyperparameters are :func:`ensemble_hparams`.
    """
    ensemble = Ensemble(**ensemble_hparams(arch, hparams, len(models)))
    for target, model in zip(ensemble.members, models):
        target.load_state_dict(model.state_dict())
    return ensemble.to(next(models[0].parameters()).device).eval()


def own_hparams(hparams: dict) -> dict:
    """``hparams`` without the shape every architecture takes (``input_length`` and
    ``n_outputs``): those a user set, or that an ensemble's members share."""
    return {k: v for k, v in hparams.items() if k not in ("input_length", "n_outputs")}


def ensemble_hparams(arch: str, hparams: dict, members: int) -> dict:
    """The :class:`Ensemble` hyperparameters of ``members`` models of ``arch`` built with
    ``hparams`` (``input_length`` and ``n_outputs`` included)."""
    return {
        "input_length": hparams["input_length"],
        "n_outputs": hparams["n_outputs"],
        "member_arch": arch,
        "members": members,
        "member_hparams": own_hparams(hparams),
    }


class RCAverage(nn.Module):
    """Average a model's outputs over each sequence and its reverse complement."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, X):
        """Mean of ``model(X)`` and ``model(reverse complement of X)``.

        Parameters
        ----------
        X : torch.Tensor, shape=(N, 4, L)

        Returns
        -------
        outputs : torch.Tensor, shape=(N, T)
        """
        return (self.model(X) + self.model(X.flip(1, 2))) / 2


def strand_averaged(model: nn.Module) -> nn.Module:
    """``model`` averaged over both strands (as it is, when it already averages).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    model : RCAverage
    """
    return model if isinstance(model, RCAverage) else RCAverage(model)


def build_model(arch: str, **hparams) -> nn.Module:
    """Instantiate a built-in architecture by name.

    Parameters
    ----------
    arch : str
        A name of :data:`ARCHITECTURES` (``cnn``, ``deepstarr``, ``bpnet``, ``basset``).
    **hparams
        Its hyperparameters: ``input_length``, ``n_outputs`` and the architecture's own.

    Returns
    -------
    model : torch.nn.Module

    Raises
    ------
    InputError
        For an unknown name or hyperparameter.
    """
    built = {**ARCHITECTURES, "ensemble": Ensemble}
    if arch not in built:
        raise InputError(f"model.arch: expected one of {sorted(ARCHITECTURES)}, found {arch!r}")
    known = set(inspect.signature(built[arch]).parameters)
    unknown = sorted(set(hparams) - known)
    if unknown:
        raise InputError(
            f"model.hparams: expected hyperparameters of {arch} "
            f"({sorted(known - {'input_length', 'n_outputs'})}), found {unknown}"
        )
    return built[arch](**hparams)


def fold_output_scale(model: nn.Module, scale) -> nn.Module:
    """Fold ``outputs * scale`` into the last linear layer of a built-in model, so that a
    model trained on scaled targets predicts in the labels' units.

    Parameters
    ----------
    model : torch.nn.Module
        A model of :data:`ARCHITECTURES` (its ``head`` ends with a linear layer).
    scale : array-like, shape=(n_outputs,)
        Per output.

    Returns
    -------
    model : torch.nn.Module
        The same model, changed in place: its old outputs times ``scale``, exactly.
    """
    last = model.head[-1] if isinstance(model.head, nn.Sequential) else model.head
    scale = torch.tensor(np.array(scale, dtype=np.float64), dtype=last.weight.dtype)
    with torch.no_grad():
        last.weight.mul_(scale.to(last.weight.device)[:, None])
        last.bias.mul_(scale.to(last.bias.device))
    return model

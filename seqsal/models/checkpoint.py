"""The plain-dict checkpoint of docs/design.md (``torch.load(..., weights_only=True)``) and a
user's TorchScript model: saved atomically, loaded and checked before any work."""

from __future__ import annotations

import contextlib
import json
import warnings

import torch
from torch import nn

from .. import __version__
from ..errors import InputError, last_line
from ..io.atomic import atomic_path
from ..io.text import check_regular_file
from .zoo import ALPHABET, RCAverage, build_model

TORCHSCRIPT_META = "seqsal.json"


def save_checkpoint(
    model,
    path,
    *,
    arch,
    hparams,
    targets,
    tasks,
    metrics,
    rc_average: bool = False,
    oriented: bool | None = None,
    training: dict | None = None,
) -> None:
    """Save ``model`` as the plain-dict checkpoint of docs/design.md, atomically.

    A TorchScript model (``arch == "torchscript"``) is saved as TorchScript, with its
    metadata in the archive's ``seqsal.json`` extra file.

    Parameters
    ----------
    model : torch.nn.Module
    path : str or Path
    arch : str
        The architecture's name (or ``torchscript``).
    hparams : dict
        Its hyperparameters, ``input_length`` included.
    targets : list of str
    tasks : list of str
        ``binary`` or ``regression`` per target.
    metrics : dict
        ``metrics.json``.
    rc_average : bool, optional
        The model is to be explained averaged over strands. Default is False.
    oriented : bool or None, optional
        The sequences it was trained on act in the orientation given (``input.oriented``).
        Default is None: not known.
    training : dict or None, optional
        The training modes used beyond plain fitting (``{"prior": ...}``, from
        :func:`seqsal.train.fit`'s ``meta``). Default is None: none, or not known.
    """
    inner = model.model if isinstance(model, RCAverage) else model
    meta = {
        "input_length": int(hparams["input_length"]),
        "alphabet": ALPHABET,
        "targets": list(targets),
        "tasks": list(tasks),
        "metrics": metrics,
        "rc_average": bool(rc_average),
        "oriented": oriented,
        "training": dict(training or {}),
        "seqsal_version": __version__,
    }
    with atomic_path(path) as tmp:
        if arch == "torchscript":
            with _torchscript_quietly():
                torch.jit.save(inner, tmp, _extra_files={TORCHSCRIPT_META: json.dumps(meta)})
        else:
            state = {k: v.detach().cpu() for k, v in inner.state_dict().items()}
            checkpoint = {"arch": arch, "hparams": dict(hparams), "state_dict": state, **meta}
            with open(tmp, "wb") as handle:  # a handle: the archive is named "archive",
                torch.save(checkpoint, handle)  # not after the temporary file


def load_checkpoint(path, *, input_length: int | None = None):
    """Load a seqsal checkpoint (``weights_only=True``) or a TorchScript model.

    A TorchScript file must declare its ``input_length`` and ``targets`` (and may declare
    ``tasks``) in a ``seqsal.json`` extra file (``torch.jit.save(..., _extra_files=...)``).

    Parameters
    ----------
    path : str or Path
        The checkpoint.
    input_length : int or None, optional
        When given, the length the data has; a model built for another length is
        refused. Default is None.

    Returns
    -------
    model : torch.nn.Module
        The model in eval mode, on the CPU (wrapped in :class:`RCAverage` when the
        checkpoint says so).
    checkpoint : dict
        The checkpoint's metadata (everything but ``state_dict``).
    """
    check_regular_file(path, "a model checkpoint")
    if _is_torchscript(path):
        model, checkpoint = _load_torchscript(path)
    else:
        checkpoint = _load_plain(path)
        model = _build_checkpointed(path, checkpoint)
    _check_meta(path, checkpoint)
    _check_outputs(path, model.eval(), checkpoint)
    if checkpoint.get("alphabet", ALPHABET) != ALPHABET:
        raise InputError(f"{path}: expected alphabet {ALPHABET}, found {checkpoint['alphabet']!r}")
    if input_length is not None and checkpoint["input_length"] != input_length:
        raise InputError(
            f"{path}: expected a model for input length {input_length} (the data's width), "
            f"found input length {checkpoint['input_length']}"
        )
    model = RCAverage(model) if checkpoint.get("rc_average") else model
    return model.eval(), checkpoint


@contextlib.contextmanager
def _torchscript_quietly():
    """Silence torch's deprecation notice of TorchScript: users' models come as such."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch.jit", category=DeprecationWarning)
        yield


def _is_torchscript(path) -> bool:
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/", 1)[-1].startswith("code/") for name in archive.namelist())


def _load_torchscript(path):
    extra = {TORCHSCRIPT_META: ""}
    with _torchscript_quietly():
        model = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    try:
        meta = json.loads(extra[TORCHSCRIPT_META])
        meta["input_length"], meta["targets"] = int(meta["input_length"]), list(meta["targets"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            f"{path}: expected a TorchScript model with a {TORCHSCRIPT_META} extra file declaring "
            f"input_length and targets, found {extra[TORCHSCRIPT_META][:80]!r}"
        ) from None
    meta.setdefault("tasks", ["regression"] * len(meta["targets"]))
    meta.update(arch="torchscript", hparams={"input_length": meta["input_length"]})
    return model, meta


def _load_plain(path) -> dict:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.simplefilter("ignore", UserWarning)
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch's parser of a file that is not a checkpoint raises
        # anything (UnpicklingError, RuntimeError, EOFError, KeyError, struct.error, ...)
        first = (str(error).splitlines() or [type(error).__name__])[0][:120]  # "" when empty
        raise InputError(
            f"{path}: expected a plain-dict checkpoint loadable with weights_only=True, found "
            f"an untrusted pickle or another file ({first})"
        ) from None
    required = {"arch", "hparams", "state_dict", "input_length", "alphabet", "targets", "tasks"}
    if not isinstance(checkpoint, dict) or not required <= set(checkpoint):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise InputError(f"{path}: expected checkpoint keys {sorted(required)}, found {found}")
    return checkpoint


def _build_checkpointed(path, checkpoint: dict) -> nn.Module:
    """The checkpoint's architecture with its weights; weights that do not fit it, or
    hyperparameters it does not take, are refused in one line."""
    if not isinstance(checkpoint["hparams"], dict):
        raise InputError(f"{path}: expected hparams as a dict, found {checkpoint['hparams']!r}")
    try:
        model = build_model(checkpoint["arch"], **checkpoint["hparams"])
        model.load_state_dict(checkpoint.pop("state_dict"))
    except (RuntimeError, TypeError, ValueError) as error:
        first = last_line(error)
        raise InputError(
            f"{path}: expected weights that fit {checkpoint['arch']} with its hparams, "
            f"found: {first}"
        ) from None
    return model


# a checkpoint's metadata that decides what is done: each of its own type, never read
# by truth value (the text "no" is true in Python)
_META_TYPES = {
    "rc_average": ((bool,), "true or false"),
    "oriented": ((bool, type(None)), "true, false or null"),
    "targets": ((list, tuple), "a list of target names"),
    "tasks": ((list, tuple), "a list of task types"),
}


def _check_meta(path, meta: dict) -> None:
    """Refuse checkpoint metadata of the wrong type: ``rc_average: "no"`` would read as
    true and strand-average silently."""
    for key, (types, expected) in _META_TYPES.items():
        if key in meta and not isinstance(meta[key], types):
            raise InputError(f"{path}: expected {key} {expected}, found {meta[key]!r}")
    for key in ("targets", "tasks"):
        if key in meta and not all(isinstance(v, str) for v in meta[key]):
            raise InputError(f"{path}: expected {key} as text, found {list(meta[key])[:5]!r}")


def _check_outputs(path, model: nn.Module, meta: dict) -> None:
    """Refuse, before any work, a model that does not run on its declared input or whose
    outputs are not (N, T) with one column per target (and one task per target)."""
    length, targets = meta["input_length"], list(meta["targets"])
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise InputError(f"{path}: expected a positive input_length, found {length!r}")
    if len(meta.get("tasks") or targets) != len(targets):
        raise InputError(
            f"{path}: expected one task per target ({len(targets)}), found {meta['tasks']!r}"
        )
    try:
        with torch.no_grad():
            outputs = model(torch.zeros(2, 4, length))
    except Exception as error:  # a user's model can raise anything on a wrong shape
        first = last_line(error)
        raise InputError(
            f"{path}: expected a model that runs on input of shape (N, 4, {length}) "
            f"(its declared input_length), found: {first}"
        ) from None
    shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
    if isinstance(shape, tuple) and len(shape) == 2 and shape[0] == 2:
        if shape[1] != len(targets):
            raise InputError(
                f"{path}: expected {len(targets)} outputs (its targets), found {shape[1]}"
            )
    else:
        raise InputError(
            f"{path}: expected outputs of shape (N, {len(targets)}) (one per target "
            f"{targets[:5]}), found {shape} for N = 2"
        )

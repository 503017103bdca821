"""Checkpoints of ``gazemodels fit``: atomic writes, random-generator states, clear errors.

A run folder holds

- ``last.pt``: the training checkpoint (:func:`load_checkpoint`), written every
  ``train.checkpoint_every_steps`` steps and at the end of every epoch. It is a
  :func:`torch.save` dict with ``"format": "gazemodels-checkpoint"``: the
  resolved config, the model, optimiser and scheduler states, the position
  (``epoch``, ``batch`` done in that epoch, ``global_step``), the random
  generators of every process (torch, CUDA, numpy, python) and of the sampler,
  the best metric so far, the early-stopping counter, the running sums of the
  epoch's training metrics and the metrics history. It holds plain data only
  and is read with ``weights_only=True``.
- ``best.pt``: the model at the best validation metric, in the format of
  :func:`gazemodels.models.save_model` (so ``gazemodels predict --model
  runs/NAME/best.pt`` reads it), with a ``"training"`` entry holding the
  config, the network's ``state_dict``, the epoch and the metric
  (:func:`load_fitted` rebuilds the network from it).

Both are written to a temporary file in the same folder and renamed over the
old one, so a kill never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path

import numpy as np

from gazemodels.errors import GazemodelsError

CHECKPOINT_FORMAT = "gazemodels-checkpoint"
"""Value of the ``format`` key of ``last.pt``."""

CHECKPOINT_VERSION = 1
"""Layout version of ``last.pt``; a checkpoint of another version is refused."""


class CheckpointError(GazemodelsError, ValueError):
    """A checkpoint is missing, truncated, corrupt, or belongs to another config or model."""


def atomic_save(obj, path) -> None:
    """:func:`torch.save` to a temporary file next to ``path``, then rename it over ``path``.

    Parameters
    ----------
    obj : object
        What to save.
    path : str or os.PathLike
        Final file name.
    """
    import torch

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(text: str, path) -> None:
    """Write a text file through a temporary file and a rename.

    Parameters
    ----------
    text : str
        Content.
    path : str or os.PathLike
        Final file name.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def get_rng_state() -> dict:
    """The states of this process's global random generators, as plain data.

    Returns
    -------
    dict
        ``torch`` (ByteTensor), ``cuda`` (list of ByteTensors, empty without
        CUDA), ``numpy`` (the legacy global state, its key as a list) and
        ``python`` (:func:`random.getstate`).
    """
    import torch

    name, key, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized()
        else [],
        "numpy": [str(name), [int(k) for k in key], int(pos), int(has_gauss), float(cached)],
        "python": _py_state_to_plain(random.getstate()),
    }


def set_rng_state(state: dict) -> None:
    """Restore the states saved by :func:`get_rng_state`.

    Parameters
    ----------
    state : dict
        As returned by :func:`get_rng_state`.
    """
    import torch

    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, key, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(key, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(_py_state_from_plain(state["python"]))


def _py_state_to_plain(st):
    version, internal, gauss = st
    return [int(version), [int(x) for x in internal], gauss]


def _py_state_from_plain(st):
    version, internal, gauss = st
    return (int(version), tuple(int(x) for x in internal), gauss)


def read_torch_file(path, *, weights_only: bool, what: str) -> dict:
    """Load a :func:`torch.save` file with a clear error for a missing, truncated or corrupt file.

    Parameters
    ----------
    path : str or os.PathLike
        File.
    weights_only : bool
        Passed to :func:`torch.load` (True refuses arbitrary pickled objects).
    what : str
        What the file should be, for the messages ("training checkpoint").

    Returns
    -------
    dict

    Raises
    ------
    CheckpointError
        If the file is missing, cannot be read, or is not a dict.
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no {what} here")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{p}: the {what} is empty (0 bytes): truncated or corrupt")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=weights_only)
    except Exception as e:  # torch raises many types for a damaged file
        if (weights_only and isinstance(e, pickle.UnpicklingError) and "Weights only load failed" in str(e)
                and zipfile.is_zipfile(p)):
            raise CheckpointError(f"{p}: not a gazemodels {what}: it holds pickled Python objects, not plain "
                                  "data (a model file such as best.pt? resume from last.pt)") from None
        raise CheckpointError(f"{p}: cannot read the {what}: the file is truncated or corrupt "
                              f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(blob, dict):
        raise CheckpointError(f"{p}: not a gazemodels {what} (holds a {type(blob).__name__})")
    return blob


def load_checkpoint(path, config: dict | None = None) -> dict:
    """Read ``last.pt`` and check that it can resume a run with ``config``.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.
    config : dict, optional
        The resolved config of the resuming run; the checkpoint's config must
        agree with it (see :func:`gazemodels.training.config.resume_conflicts`).

    Returns
    -------
    dict
        The checkpoint.

    Raises
    ------
    CheckpointError
        If it is missing, truncated or corrupt, not a training checkpoint, of
        another layout version, or written with a conflicting config (the
        message lists the keys).
    """
    from gazemodels.training.config import resume_conflicts

    p = Path(path)
    blob = read_torch_file(p, weights_only=True, what="training checkpoint")
    if blob.get("format") != CHECKPOINT_FORMAT:
        hint = " (best.pt is a model file for gazemodels predict; resume from last.pt)" \
            if blob.get("format") == "gazemodels-model" else ""
        raise CheckpointError(f"{p}: not a gazemodels training checkpoint{hint}")
    if blob.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{p}: checkpoint layout version {blob.get('version')!r}; this gazemodels "
                              f"reads version {CHECKPOINT_VERSION}")
    missing = [k for k in ("config", "model", "optimizer", "scheduler", "epoch", "batch", "global_step",
                           "rng", "history") if k not in blob]
    if missing:
        raise CheckpointError(f"{p}: incomplete checkpoint, missing {missing}")
    if config is not None:
        conflicts = resume_conflicts(blob["config"], config)
        if conflicts:
            raise CheckpointError(
                f"{p}: the checkpoint was written with another config; resume with the same config "
                "or start a new run in another --out folder:\n  " + "\n  ".join(conflicts))
    return blob


def load_fitted(path):
    """Rebuild the task and the trained network from ``best.pt`` (or ``last.pt``).

    Parameters
    ----------
    path : str or os.PathLike
        ``best.pt`` (a pickle: trusted files only) or ``last.pt``.

    Returns
    -------
    task : gazemodels.training.task.Task
        The task, built from the stored config.
    model : torch.nn.Module
        The network with the stored weights, on the CPU, in eval mode.

    Raises
    ------
    CheckpointError
        If the file is not a checkpoint of ``gazemodels fit``, or its weights
        do not fit the task's network.
    """
    from gazemodels.training.config import validate_config

    p = Path(path)
    blob = read_torch_file(p, weights_only=False, what="checkpoint")
    if blob.get("format") == CHECKPOINT_FORMAT:
        cfg, state = blob["config"], blob["model"]
    elif blob.get("format") == "gazemodels-model" and isinstance(blob.get("training"), dict):
        cfg, state = blob["training"]["config"], blob["training"]["state_dict"]
    else:
        raise CheckpointError(f"{p}: not a checkpoint of gazemodels fit")
    cfg = validate_config(cfg, check_paths=False)
    from gazemodels.training.task import get_task_class

    task = get_task_class(cfg["task"]["name"]).from_config(cfg["task"])
    model = task.build_model()
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{p}: the stored weights do not fit the network of task "
                              f"{task.name!r}: {e}") from None
    return task, model.eval()

"""The config of ``gazemodels fit``: a TOML file with ``[task]``, ``[optim]`` and ``[train]``.

Example
-------
.. code-block:: toml

    [task]
    name = "oat-bookcovers"        # a registered task (gazemodels.training.list_tasks())
    # module = "my_package.tasks"  # optional: a module to import that registers the task
    data_root = "../shared/data"   # task options: see the task's `options`
    split_seed = 0

    [optim]
    name = "adamw"                 # adam, adamw or sgd
    lr = 1e-3
    weight_decay = 0.01
    scheduler = "cosine"           # none, cosine or step
    warmup_steps = 100

    [train]
    epochs = 30
    batch_size = 64                # the global batch, split across processes under torchrun
    seed = 0
    checkpoint_every_steps = 200   # 0: only at the end of each epoch
    device = "auto"                # cpu, cuda, cuda:N or auto

    [train.early_stopping]
    patience = 5                   # epochs without improvement; 0: off
    metric = "val_seq_score"       # default: the task's metric
    mode = "max"                   # default: the task's mode

Every key is checked: an unknown key, a value of the wrong type or out of range,
and a data path that does not exist are errors that name the key
(``train.epochs: expected int, got str ('10')``). The defaults of ``[optim]``
and ``[train]`` are :data:`OPTIM_DEFAULTS` and :data:`TRAIN_DEFAULTS`; those of
``[task]`` are the task's :attr:`~gazemodels.training.task.Task.options`.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path

from gazemodels.errors import GazemodelsError
from gazemodels.training.task import (
    RESERVED_TASK_KEYS,
    get_task_class,
    import_task_module,
    option_type_error,
)

OPTIM_DEFAULTS: dict = {
    "name": "adam",
    "lr": 1e-3,
    "weight_decay": 0.0,
    "momentum": 0.0,
    "nesterov": False,
    "betas": [0.9, 0.999],
    "eps": 1e-8,
    "grad_clip": 0.0,
    "scheduler": "none",
    "warmup_steps": 0,
    "step_epochs": 10,
    "gamma": 0.1,
    "min_lr_factor": 0.0,
}
"""Defaults of ``[optim]``.

``name`` is ``adam``, ``adamw`` or ``sgd`` (``momentum`` and ``nesterov`` are
for SGD, ``betas`` and ``eps`` for Adam/AdamW); ``grad_clip`` is the maximum
gradient norm (0: no clipping). The learning rate follows ``scheduler``, per
step: ``none`` (constant), ``cosine`` (from ``lr`` to ``lr * min_lr_factor``
over the run) or ``step`` (times ``gamma`` every ``step_epochs`` epochs), after
a linear warm-up over ``warmup_steps`` steps.
"""

TRAIN_DEFAULTS: dict = {
    "epochs": 10,
    "batch_size": 32,
    "seed": 0,
    "device": "cpu",
    "num_workers": 0,
    "checkpoint_every_steps": 0,
    "deterministic": True,
    "early_stopping": {"patience": 0, "metric": "", "mode": "", "min_delta": 0.0},
}
"""Defaults of ``[train]``.

``batch_size`` is the global batch (split across the processes of a distributed
run); ``checkpoint_every_steps`` writes ``last.pt`` every that many optimiser
steps besides the end of each epoch (0: epoch ends only); ``deterministic``
asks torch for deterministic algorithms; ``early_stopping.patience`` is the
number of epochs without an improvement of ``metric`` by more than
``min_delta`` after which training stops (0: never).
"""

SECTIONS: tuple[str, ...] = ("task", "optim", "train")
"""The tables of a config."""

RESUMABLE_CHANGES: tuple[str, ...] = ("train.device", "train.num_workers", "train.checkpoint_every_steps")
"""Keys that may differ between a checkpoint's config and the config that resumes it.
``train.epochs`` may also grow, unless the learning rate follows the cosine schedule
(whose length is the number of epochs)."""

_CHOICES = {
    "optim.name": ("adam", "adamw", "sgd"),
    "optim.scheduler": ("none", "cosine", "step"),
    "train.early_stopping.mode": ("", "min", "max"),
}
_POSITIVE = ("optim.lr", "train.epochs", "train.batch_size", "optim.step_epochs", "optim.eps")
_NON_NEGATIVE = ("optim.weight_decay", "optim.momentum", "optim.grad_clip", "optim.warmup_steps",
                 "optim.gamma", "optim.min_lr_factor", "train.seed", "train.num_workers",
                 "train.checkpoint_every_steps", "train.early_stopping.patience",
                 "train.early_stopping.min_delta")


class ConfigError(GazemodelsError, ValueError):
    """A ``gazemodels fit`` config is invalid; the message names every offending key."""


def _check_table(defaults: Mapping, given: Mapping, where: str, errors: list[str]) -> dict:
    out = copy.deepcopy(dict(defaults))
    for key, value in given.items():
        dotted = f"{where}.{key}"
        if key not in defaults:
            errors.append(f"{dotted}: unknown key; known keys of [{where}]: {', '.join(sorted(defaults))}")
            continue
        default = defaults[key]
        if isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                errors.append(f"{dotted}: expected table, got {type(value).__name__} ({value!r})")
                continue
            out[key] = _check_table(default, value, dotted, errors)
            continue
        msg = option_type_error(dotted, default, value)
        if msg:
            errors.append(msg)
            continue
        out[key] = float(value) if isinstance(default, float) else copy.deepcopy(value)
    return out


def _get(cfg: Mapping, dotted: str):
    node = cfg
    for part in dotted.split("."):
        node = node[part]
    return node


def _check_values(cfg: dict, errors: list[str]) -> None:
    for key, choices in _CHOICES.items():
        v = _get(cfg, key)
        if v not in choices:
            errors.append(f"{key}: must be one of {', '.join(repr(c) for c in choices)}; got {v!r}")
    for key in _POSITIVE:
        v = _get(cfg, key)
        if not (math.isfinite(v) and v > 0):
            errors.append(f"{key}: must be > 0, got {v!r}")
    for key in _NON_NEGATIVE:
        v = _get(cfg, key)
        if not (math.isfinite(v) and v >= 0):
            errors.append(f"{key}: must be >= 0, got {v!r}")
    betas = cfg["optim"]["betas"]
    if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
        errors.append(f"optim.betas: expected two numbers in [0, 1), got {betas!r}")
    dev = cfg["train"]["device"]
    if not (dev in ("cpu", "cuda", "auto") or (dev.startswith("cuda:") and dev[5:].isdigit())):
        errors.append(f"train.device: must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {dev!r}")


def validate_config(raw: Mapping, *, check_paths: bool = True) -> dict:
    """Check a config and fill in the defaults.

    Parameters
    ----------
    raw : mapping
        The parsed TOML (or an already resolved config: the result is the same).
    check_paths : bool, default True
        Check that the task's path options exist.

    Returns
    -------
    dict
        The resolved config: ``task`` (name, optional module, and every task
        option), ``optim`` and ``train`` with every key.

    Raises
    ------
    ConfigError
        Listing every problem, each naming its key.
    """
    errors: list[str] = []
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config: expected a table, got {type(raw).__name__}")
    for key in raw:
        if key not in SECTIONS:
            errors.append(f"{key}: unknown key; a config has the tables {', '.join(f'[{s}]' for s in SECTIONS)}")
    cfg: dict = {}
    task_raw = raw.get("task")
    task_cls = None
    if task_raw is None:
        errors.append("task: missing; the config needs a [task] table with a name")
    elif not isinstance(task_raw, Mapping):
        errors.append(f"task: expected table, got {type(task_raw).__name__}")
    else:
        name, module = task_raw.get("name"), task_raw.get("module")
        if module is not None:
            if not isinstance(module, str):
                errors.append(f"task.module: expected str, got {type(module).__name__} ({module!r})")
            else:
                try:
                    import_task_module(module)
                except ValueError as e:
                    errors.append(str(e))
        if not isinstance(name, str):
            errors.append("task.name: missing; name a registered task" if name is None
                          else f"task.name: expected str, got {type(name).__name__} ({name!r})")
        else:
            try:
                task_cls = get_task_class(name)
            except KeyError as e:
                errors.append(str(e.args[0]))
    if task_cls is not None:
        section = {k: v for k, v in task_raw.items() if k not in RESERVED_TASK_KEYS}
        opts = _check_table(task_cls.options, section, "task", errors)
        if check_paths:
            for key in task_cls.path_options:
                p = opts.get(key)
                if p in (None, ""):
                    continue
                if not isinstance(p, (str, Path)):
                    continue
                if not Path(p).exists():
                    errors.append(f"task.{key}: no such file or folder: {p} (relative paths are "
                                  f"relative to the working directory {Path.cwd()})")
        cfg["task"] = {"name": task_raw["name"], **({"module": task_raw["module"]} if "module" in task_raw
                                                   else {}), **opts}
        if not errors:
            try:  # the task's own checks of its option values
                task_cls.from_config(cfg["task"])
            except (ValueError, TypeError) as e:
                msg = str(e)
                errors.append(msg if msg.startswith("task") else f"task: {msg}")
    for section, defaults in (("optim", OPTIM_DEFAULTS), ("train", TRAIN_DEFAULTS)):
        given = raw.get(section, {})
        if not isinstance(given, Mapping):
            errors.append(f"{section}: expected table, got {type(given).__name__}")
            given = {}
        cfg[section] = _check_table(defaults, given, section, errors)
    if not errors:
        _check_values(cfg, errors)
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors) if len(errors) > 1 else errors[0])
    es = cfg["train"]["early_stopping"]
    if not es["metric"]:
        es["metric"] = task_cls.metric
    if not es["mode"]:
        es["mode"] = task_cls.mode if es["metric"] == task_cls.metric else "min"
    return cfg


def parse_override(item: str) -> tuple[list[str], object]:
    """Parse one ``--set KEY=VALUE``.

    The value is read as a TOML value (``3``, ``1e-3``, ``true``, ``"text"``,
    ``[1, 2]``); anything that is not valid TOML is taken as a string, so
    ``--set optim.name=sgd`` works without quotes.

    Parameters
    ----------
    item : str
        ``dotted.key=value``.

    Returns
    -------
    keys : list of str
        The dotted key, split.
    value : object
        The parsed value.

    Raises
    ------
    ConfigError
        If there is no ``=`` or the key is empty.
    """
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. train.epochs=5")
    key, text = item.split("=", 1)
    keys = [k.strip() for k in key.strip().split(".")]
    if not all(keys):
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return keys, value


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``--set`` overrides to a parsed config (unknown keys are caught by :func:`validate_config`).

    Parameters
    ----------
    raw : dict
        Parsed config.
    overrides : list of str
        ``KEY=VALUE`` items.

    Returns
    -------
    dict
        A copy of ``raw`` with the overrides.
    """
    out = copy.deepcopy(raw)
    for item in overrides:
        keys, value = parse_override(item)
        node = out
        for k in keys[:-1]:
            nxt = node.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {item!r}: {k} is not a table")
            node = nxt
        node[keys[-1]] = value
    return out


def load_config(path, overrides: list[str] | None = None) -> dict:
    """Read, override and check a ``gazemodels fit`` config file.

    Parameters
    ----------
    path : str or os.PathLike
        TOML file.
    overrides : list of str, optional
        ``--set KEY=VALUE`` items.

    Returns
    -------
    dict
        The resolved config (:func:`validate_config`).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ConfigError
        If it is not valid TOML, or the config is invalid.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such config file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: malformed TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a UTF-8 text file ({e})") from None
    raw = apply_overrides(raw, overrides or [])
    try:
        return validate_config(raw)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from None


def config_differences(saved: Mapping, current: Mapping, prefix: str = "") -> list[tuple[str, object, object]]:
    """The keys whose values differ between two resolved configs.

    Parameters
    ----------
    saved, current : mapping
        Resolved configs.
    prefix : str
        Key prefix (for recursion).

    Returns
    -------
    list of tuple
        ``(dotted key, saved value, current value)``; a missing key has the value
        ``"<absent>"``.
    """
    out = []
    for key in sorted(set(saved) | set(current)):
        dotted = f"{prefix}{key}"
        a, b = saved.get(key, "<absent>"), current.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(config_differences(a, b, dotted + "."))
        elif a != b:
            out.append((dotted, a, b))
    return out


def resume_conflicts(saved: Mapping, current: Mapping) -> list[str]:
    """Differences that forbid resuming a checkpoint with another config.

    Parameters
    ----------
    saved : mapping
        The config stored in the checkpoint.
    current : mapping
        The config that resumes it.

    Returns
    -------
    list of str
        One line per conflicting key (empty when resuming is allowed); see
        :data:`RESUMABLE_CHANGES`.
    """
    out = []
    for key, a, b in config_differences(saved, current):
        if key in RESUMABLE_CHANGES:
            continue
        if (key == "train.epochs" and isinstance(a, int) and isinstance(b, int) and b >= a
                and current["optim"]["scheduler"] != "cosine"):
            continue
        out.append(f"{key}: {a!r} in the checkpoint, {b!r} now")
    return out

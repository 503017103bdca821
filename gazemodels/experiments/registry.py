"""Registry and runner shared by every experiment."""

from __future__ import annotations

import copy
import datetime as _dt
import importlib
import json
import pkgutil
import platform
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gazemodels

Runner = Callable[[dict, Path], dict]


@dataclass(frozen=True)
class ExperimentSpec:
    """A registered experiment.

    Attributes
    ----------
    name : str
        Registry name (``gazemodels run NAME``).
    summary : str
        One line describing what it measures.
    defaults : dict
        Embedded default config; must contain ``seed``.
    runner : callable
        ``runner(config, out_dir) -> summary dict``; writes its tables and figures
        into ``out_dir``.
    """

    name: str
    summary: str
    defaults: dict
    runner: Runner


_EXPERIMENTS: dict[str, ExperimentSpec] = {}


def register_experiment(name: str, summary: str, defaults: dict) -> Callable[[Runner], Runner]:
    """Register an experiment runner with its embedded default config.

    Parameters
    ----------
    name : str
        Registry name.
    summary : str
        One-line description.
    defaults : dict
        Default config; must hold an integer ``seed``.

    Returns
    -------
    callable
        Decorator returning the runner unchanged.
    """
    if "seed" not in defaults:
        raise ValueError(f"experiment {name!r}: the default config must contain a seed")

    def deco(fn: Runner) -> Runner:
        if name in _EXPERIMENTS:
            raise ValueError(f"experiment {name!r} is registered twice")
        _EXPERIMENTS[name] = ExperimentSpec(name, summary, copy.deepcopy(defaults), fn)
        return fn

    return deco


def _ensure_loaded() -> None:
    import gazemodels.experiments as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("registry",) and not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")


def list_experiments() -> list[ExperimentSpec]:
    """All registered experiments, sorted by name.

    Returns
    -------
    list of ExperimentSpec
    """
    _ensure_loaded()
    return [_EXPERIMENTS[k] for k in sorted(_EXPERIMENTS)]


def get_experiment(name: str) -> ExperimentSpec:
    """Look up an experiment by name.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    ExperimentSpec

    Raises
    ------
    KeyError
        With the list of known names.
    """
    _ensure_loaded()
    if name not in _EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(sorted(_EXPERIMENTS))}")
    return _EXPERIMENTS[name]


def merge_config(defaults: dict, override: dict, where: str = "config") -> dict:
    """Recursively merge ``override`` into a copy of ``defaults``.

    Unknown keys are an error, so that a typo in a config file is not silently ignored. A
    table whose default is empty (``{}``) is free-form: the user's table replaces it whole, and
    the experiment checks its contents.

    Parameters
    ----------
    defaults : dict
        Default config.
    override : dict
        User values.
    where : str
        Name used in error messages.

    Returns
    -------
    dict
    """
    out = copy.deepcopy(defaults)
    for key, value in override.items():
        if key not in out:
            raise KeyError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(out))}")
        if isinstance(out[key], dict) and out[key] and isinstance(value, dict):
            out[key] = merge_config(out[key], value, f"{where}.{key}")
        else:
            out[key] = value
    return out


def load_config_file(path: str | Path) -> dict:
    """Read an experiment config (TOML). A top-level ``experiment`` key names the experiment.

    Parameters
    ----------
    path : str or Path
        TOML file.

    Returns
    -------
    dict
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: malformed TOML: {e}") from None


def run_experiment(name: str, config: dict | None = None, out_dir: str | Path | None = None) -> Path:
    """Run an experiment and write its results folder.

    The folder receives ``config.json`` (the resolved config, seed included, with
    the package version and platform), the runner's tables and figures, and
    ``summary.json``.

    Parameters
    ----------
    name : str
        Registry name.
    config : dict, optional
        Values overriding the embedded defaults.
    out_dir : str or Path, optional
        Results folder; defaults to ``results/<name>/<UTC timestamp>``.

    Returns
    -------
    pathlib.Path
        The results folder.
    """
    spec = get_experiment(name)
    cfg = merge_config(spec.defaults, config or {}, where=f"experiment {name!r}")
    if out_dir is None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out_dir = Path("results") / name / stamp
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "experiment": name,
        "config": cfg,
        "gazemodels_version": gazemodels.__version__,
        "python": platform.python_version(),
        "started_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    (out / "config.json").write_text(json.dumps(meta, indent=2, default=str))
    summary = spec.runner(cfg, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return out

"""Experiments: registered runners that take a config and write a results folder.

Each experiment module registers a runner with :func:`register_experiment`,
together with its embedded default config. ``gazemodels run NAME`` looks it up,
merges a user config (``experiments/<name>.toml`` or ``--config``) over the
defaults, and writes the resolved config, results tables and figures into one
results folder.
"""

from gazemodels.experiments.registry import (
    ExperimentSpec,
    get_experiment,
    list_experiments,
    register_experiment,
    run_experiment,
)

__all__ = [
    "ExperimentSpec",
    "get_experiment",
    "list_experiments",
    "register_experiment",
    "run_experiment",
]

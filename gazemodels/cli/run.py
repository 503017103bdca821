"""``gazemodels run NAME``: run a registered experiment into a results folder."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser(
        "run",
        help="run an experiment (config in, results folder out)",
        description="Run a registered experiment. Without --config it runs on its embedded "
        "default config. Results (CSV/JSON, figures, and the resolved config with its seed) "
        "go to --out, or results/<name>/<timestamp>.",
    )
    p.add_argument("name", nargs="?", help="experiment name; omit with --list")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--config", help="TOML file overriding the defaults (e.g. experiments/<name>.toml)")
    p.add_argument("--out", help="results folder")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from gazemodels.experiments import list_experiments, run_experiment
    from gazemodels.experiments.registry import load_config_file

    if args.list or not args.name:
        for spec in list_experiments():
            print(f"{spec.name:<22} {spec.summary}")
        return 0 if args.list else 2
    cfg = {}
    if args.config:
        cfg = load_config_file(args.config)
        named = cfg.pop("experiment", args.name)
        if named != args.name:
            raise ValueError(f"{args.config} is a config for experiment {named!r}, not {args.name!r}")
    if args.seed is not None:
        cfg["seed"] = args.seed
    out = run_experiment(args.name, cfg, args.out)
    summary = json.loads((out / "summary.json").read_text())
    # the resolved config is in config.json; print the headline figures only
    headline = {k: v for k, v in summary.items() if k not in ("config", "files", "variants")}
    print(json.dumps(headline, indent=2, default=str))
    print(f"results written to {out} (config.json holds the resolved config and seed)")
    return 0

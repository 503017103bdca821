"""``gazemodels fit CONFIG --out runs/NAME``: train a model from a TOML config.

The run folder receives ``config.json``, ``last.pt`` (resumable checkpoint),
``best.pt`` (the best model, for ``gazemodels predict --model runs/NAME/best.pt``),
``metrics.csv``, ``learning_curves.png`` and ``summary.json``; see
:mod:`gazemodels.training.trainer`. Under ``torchrun --nproc_per_node=N`` the
same command trains with DistributedDataParallel.

Exit codes: 0 success; 1 training failed (non-finite loss or metric);
2 bad usage, bad config or unusable checkpoint; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``fit`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser(
        "fit",
        help="train a model from a TOML config (checkpoints, resume, early stopping, torchrun)",
        description="Train a registered task (model + data) from a TOML config with [task], [optim] and "
        "[train] tables. Writes config.json, last.pt, best.pt, metrics.csv, learning_curves.png and "
        "summary.json to --out. --resume continues a killed run from its last.pt (the config may then be "
        "omitted: the checkpoint's is used). Under `torchrun --nproc_per_node=N` it trains with "
        "DistributedDataParallel.",
    )
    p.add_argument("config", nargs="?", help="TOML config (e.g. experiments/<model>.toml); "
                   "optional with --resume")
    p.add_argument("--out", help="run folder, e.g. runs/NAME")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config value, repeatable, e.g. --set train.epochs=5 --set optim.lr=3e-4")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    p.add_argument("--list-tasks", action="store_true", help="list the registered tasks and exit")
    p.set_defaults(func=_fit)


def _config_from_checkpoint(out: str, overrides: list[str]) -> dict:
    from pathlib import Path

    from gazemodels.training.checkpoint import CheckpointError, load_checkpoint
    from gazemodels.training.config import apply_overrides, validate_config

    last = Path(out) / "last.pt"
    if not last.exists():
        raise CheckpointError(f"{last}: no checkpoint to resume, and no config given")
    return validate_config(apply_overrides(load_checkpoint(last)["config"], overrides))


def _fit(args) -> int:
    from gazemodels.training.config import load_config
    from gazemodels.training.trainer import TrainingError, fit

    if args.list_tasks:
        from gazemodels.training import get_task_class, list_tasks

        for name in list_tasks():
            doc = (get_task_class(name).__doc__ or "").strip().splitlines()
            print(f"{name:<24} {doc[0] if doc else ''}")
        return 0
    if not args.out:
        raise ValueError("--out is required (the run folder, e.g. runs/NAME)")
    if args.config:
        cfg = load_config(args.config, args.overrides)
    elif args.resume:
        cfg = _config_from_checkpoint(args.out, args.overrides)
    else:
        raise ValueError("a CONFIG file is required (it may be omitted only with --resume)")
    try:
        result = fit(cfg, args.out, resume=args.resume, progress=not args.no_progress)
    except TrainingError as e:
        print(f"gazemodels fit: training failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gazemodels fit: interrupted; continue from the last checkpoint with: gazemodels fit --out "
              f"{args.out} --resume", file=sys.stderr)
        return 130
    if result is not None and _is_main():
        print(json.dumps({"out": str(result.out_dir), "metric": result.metric, "best_value": result.best_value,
                          "best_epoch": result.best_epoch, "epochs_done": result.epochs_done,
                          "stop_reason": result.stop_reason}, indent=2))
    return 0


def _is_main() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"

"""The ``gazemodels`` command line.

Each sub-command lives in its own module of this package and defines
``add_parser(subparsers)``, which adds its parser and sets ``func`` to a function
``func(args) -> int`` returning the exit code. Modules are discovered, so a new
command is one new file.

Exit codes: 0 success, 1 failure of the job, 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from gazemodels import __version__
from gazemodels.errors import GazemodelsError


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every discovered sub-command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="gazemodels",
        description="Models of human visual attention and gaze: run experiments, "
        "predict and score scanpaths, and manage eye-tracking datasets.",
    )
    parser.add_argument("--version", action="version", version=f"gazemodels {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gazemodels`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (GazemodelsError, FileNotFoundError, KeyError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"gazemodels {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``gazemodels datasets list|info|download``: inspect and fetch eye-tracking datasets."""

from __future__ import annotations

import argparse
import textwrap


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser("datasets", help="list, describe and download eye-tracking datasets",
                       description="List, describe and download the eye-tracking datasets "
                       "that gazemodels can load.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    actions.add_parser("list", help="one line per dataset").set_defaults(func=_list)

    info = actions.add_parser("info", help="card of one dataset; with --root, also load it and count")
    info.add_argument("name")
    info.add_argument("--root", help="folder with the dataset's files; loads it and prints counts")
    info.set_defaults(func=_info)

    dl = actions.add_parser("download", help="fetch a dataset's files with checksum verification")
    dl.add_argument("name")
    dl.add_argument("--root", help="destination folder (default: $GAZEMODELS_DATA/<folder> "
                    "or ~/.cache/gazemodels/<folder>)")
    dl.add_argument("--force", action="store_true", help="fetch again even if present")
    dl.set_defaults(func=_download)


def _list(args) -> int:
    from gazemodels.datasets import get_card, list_datasets

    names = list_datasets()
    width = max(len(n) for n in names)
    for name in names:
        card = get_card(name)
        print(f"{name:<{width}}  {card.title}  [{card.licence}]")
    return 0


def _info(args) -> int:
    from gazemodels.datasets import get_card, load

    card = get_card(args.name)
    print(f"{card.name}: {card.title}")
    print(textwrap.fill(card.description, 88))
    print(f"homepage: {card.homepage}")
    print(f"licence:  {card.licence}")
    print(f"format:   {card.format}")
    if card.geometry:
        geo = ", ".join(f"{k}={v}" for k, v in card.geometry.items())
        print(f"geometry: {geo}")
    for f in card.files:
        print(f"file:     {f.path} <- {f.url} (sha256 {f.sha256 or 'not published'})")
    if card.expected:
        print("expected: " + ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}"
                                       for k, v in card.expected.items()))
    print("citation:")
    print(textwrap.indent(textwrap.fill(card.citation, 84), "    "))
    if args.root:
        ds = load(args.name, root=args.root)
        print(repr(ds))
    return 0


def _download(args) -> int:
    from gazemodels.datasets import download

    root = download(args.name, args.root, force=args.force)
    print(f"{args.name}: files are in {root}")
    return 0

"""Dataset cards: the declarative description of each dataset in ``datasets/<name>.toml``.

A card holds the upstream address of every file with its checksum where known,
the screen geometry, the licence and the citation. Loaders read geometry from the
card rather than hard-coding it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gazemodels.data.units import px_per_degree as _ppd
from gazemodels.errors import DatasetFormatError

CARDS_DIR = Path(__file__).resolve().parent / "cards"
"""Folder of the shipped cards (a link to the repository's top-level ``datasets/``)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset as published upstream.

    Attributes
    ----------
    path : str
        Where the file lies relative to the dataset root once downloaded.
    url : str
        Public address.
    sha256 : str or None
        Checksum; None where the upstream publishes none and we could not fetch it.
    unpack : bool
        Whether the file is a zip/tar archive to extract into the root.
    """

    path: str
    url: str
    sha256: str | None = None
    unpack: bool = False


@dataclass(frozen=True)
class DatasetCard:
    """Parsed content of ``datasets/<name>.toml``.

    Attributes
    ----------
    name : str
        Registry name, as used by :func:`gazemodels.datasets.load`.
    title, description, homepage, licence, citation : str
        Human-readable metadata.
    format : str
        Source file format(s).
    folder : str
        Default folder name of the dataset under a data home.
    geometry : dict
        Screen geometry: ``width_px``, ``height_px`` and ``px_per_degree``, or
        ``screen_width_cm`` and ``distance_cm`` from which it is derived.
    files : tuple of RemoteFile
        Files to download.
    expected : dict
        Counts the full release must give (used by tests and ``datasets info``).
    """

    name: str
    title: str
    description: str
    homepage: str
    licence: str
    citation: str
    format: str
    folder: str
    geometry: dict = field(default_factory=dict)
    files: tuple[RemoteFile, ...] = ()
    expected: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def px_per_degree(self) -> float:
        """Pixels per degree of visual angle, given directly or derived from screen size and distance."""
        g = self.geometry
        if "px_per_degree" in g:
            return float(g["px_per_degree"])
        try:
            return _ppd(g["screen_width_px"], g["screen_width_cm"], g["distance_cm"])
        except KeyError as e:
            raise DatasetFormatError(
                self.path or self.name,
                f"[geometry] needs px_per_degree, or screen_width_px, screen_width_cm and "
                f"distance_cm; {e.args[0]!r} is missing",
            ) from None


_REQUIRED = ("name", "title", "description", "homepage", "licence", "citation", "format")


def read_card(path: str | Path) -> DatasetCard:
    """Parse one dataset card.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` card.

    Returns
    -------
    DatasetCard

    Raises
    ------
    DatasetFormatError
        If the TOML is malformed or a required key is missing.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise DatasetFormatError(path, f"malformed TOML: {e}") from None
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise DatasetFormatError(path, f"card is missing key(s) {missing}")
    files = []
    for i, f in enumerate(raw.get("files", [])):
        if "path" not in f or "url" not in f:
            raise DatasetFormatError(path, f"[[files]] entry {i} needs 'path' and 'url'")
        files.append(RemoteFile(f["path"], f["url"], f.get("sha256"), bool(f.get("unpack", False))))
    return DatasetCard(
        name=raw["name"],
        title=raw["title"],
        description=raw["description"].strip(),
        homepage=raw["homepage"],
        licence=raw["licence"],
        citation=raw["citation"].strip(),
        format=raw["format"],
        folder=raw.get("folder", raw["name"]),
        geometry=dict(raw.get("geometry", {})),
        files=tuple(files),
        expected=dict(raw.get("expected", {})),
        path=path,
    )

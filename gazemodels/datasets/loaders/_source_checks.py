"""Checks shared by the loaders of real data files: each failure names the file and the place.

Private module (its name starts with ``_``, so the loader package does not import it
as a loader). The loaders turn every problem they meet in a source file into a
:class:`~gazemodels.errors.DatasetFormatError` that names the file and where in it
(key, trial, line) the problem sits; the generic table validators then run on the
result.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gazemodels.errors import DatasetFormatError

MAX_LISTED = 5
"""How many offending places an error or warning lists before saying 'and N more'."""


def read_json(path: Path):
    """Parse a JSON file, turning any decoding failure into a DatasetFormatError.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    object
        The decoded JSON value.

    Raises
    ------
    DatasetFormatError
        If the file cannot be read, is not UTF-8 text, or is malformed or
        truncated JSON; the message gives the line and column.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetFormatError(path, f"cannot read the file ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DatasetFormatError(path, f"not UTF-8 text (invalid byte at offset {e.start}); "
                                 "expected a JSON file") from None
    if not text.strip():
        raise DatasetFormatError(path, "the file is empty; expected JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        truncated = " (the file looks truncated)" if e.pos >= len(text.rstrip()) else ""
        raise DatasetFormatError(
            path, f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}{truncated}"
        ) from None


def listing(items: Sequence[str], total: int | None = None) -> str:
    """Join the first :data:`MAX_LISTED` items and say how many more of ``total`` there are."""
    total = len(items) if total is None else total
    shown = "; ".join(items[:MAX_LISTED])
    more = total - min(len(items), MAX_LISTED)
    return shown + (f"; and {more} more" if more > 0 else "")


def check_coordinates(
    path: Path,
    x: np.ndarray,
    y: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    place: Callable[[int], str],
    *,
    allow_offscreen: bool,
) -> np.ndarray:
    """Reject NaN coordinates and, unless allowed, fixations off their stimulus.

    Parameters
    ----------
    path : pathlib.Path
        Source file, named in errors.
    x, y : numpy.ndarray
        Fixation coordinates (px), one per fixation.
    width, height : numpy.ndarray
        Size (px) of each fixation's stimulus.
    place : callable
        ``place(i)`` describes where fixation ``i`` sits in the source file.
    allow_offscreen : bool
        Keep fixations with ``x < 0``, ``y < 0``, ``x > width`` or ``y > height``.

    Returns
    -------
    numpy.ndarray of bool
        Which fixations are off their stimulus (all False unless allowed).

    Raises
    ------
    DatasetFormatError
        On a NaN or infinite coordinate, or an off-stimulus fixation when
        ``allow_offscreen`` is False.
    """
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        idx = np.flatnonzero(bad)
        raise DatasetFormatError(
            path,
            f"{idx.size} fixation(s) have a NaN or infinite coordinate: "
            + listing([f"{place(i)}: x={float(x[i])}, y={float(y[i])}"
                       for i in idx[:MAX_LISTED]], idx.size),
        )
    off = (x < 0) | (y < 0) | (x > width) | (y > height)
    if off.any() and not allow_offscreen:
        idx = np.flatnonzero(off)
        raise DatasetFormatError(
            path,
            f"{idx.size} fixation(s) lie off their stimulus (pass allow_offscreen=True to keep "
            "them knowingly): "
            + listing([f"{place(i)}: x={x[i]:g}, y={y[i]:g} on a {width[i]:g}x{height[i]:g} "
                       "stimulus" for i in idx[:MAX_LISTED]], idx.size),
        )
    return off


def warn_offscreen(dataset: str, path: Path, off: np.ndarray, place: Callable[[int], str]) -> None:
    """Warn once that real off-stimulus fixations were kept, with a few examples."""
    n = int(off.sum())
    if n == 0:
        return
    idx = np.flatnonzero(off)
    warnings.warn(
        f"{dataset}: {n} of {off.size} fixations in {path} lie off their stimulus; they are "
        "kept unchanged (Dataset.extras['n_offscreen']), e.g. "
        + "; ".join(place(i) for i in idx[:3]),
        UserWarning,
        stacklevel=4,
    )


def warn_missing_images(dataset: str, folder: Path, missing: Sequence[str], total: int,
                        n_fixations: int) -> None:
    """Warn once, clearly, that some stimulus image files are absent."""
    if not missing:
        return
    examples = ", ".join(repr(m) for m in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    warnings.warn(
        f"{dataset}: {len(missing)} of {total} stimulus images are absent from {folder} "
        f"({examples}{more}); their {n_fixations:,} fixations are kept with path=None "
        "(listed in Dataset.missing_stimuli)",
        UserWarning,
        stacklevel=4,
    )


def image_size(path: Path) -> tuple[int, int]:
    """Width and height of an image in px, read from its header only.

    Parameters
    ----------
    path : pathlib.Path
        An image file.

    Returns
    -------
    tuple of int
        ``(width, height)``.

    Raises
    ------
    DatasetFormatError
        If the file is not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError) as e:
        raise DatasetFormatError(path, f"not a readable image ({e})") from None


def scanpath_positions(lengths: np.ndarray) -> np.ndarray:
    """``0, 1, ..., n_k - 1`` for each scanpath length ``n_k``, concatenated.

    Parameters
    ----------
    lengths : numpy.ndarray of int
        Number of fixations of each scanpath, in order.

    Returns
    -------
    numpy.ndarray of int64
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total, dtype=np.int64) - starts

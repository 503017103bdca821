"""MIT1003: free viewing of 1003 images by 15 observers for 3 s (Judd et al. 2009).

Source: the long table of fixations that HeHuangDortmund/STASA_ms derived from Judd's
raw 250 Hz eye data (``code/dataPreprocessingOfRawData/fixationPreprocessingMIT1003.R``,
fixation detection with the R package ``saccades``), one row per fixation::

    Participant, Stimulus, Fixation_Position_X_px, Fixation_Position_Y_px,
    Event_Start_Trial_Time_ms, Event_Ende_Trial_Time_ms, Duration

as ``Fixation_MIT1003.csv.gz`` / ``.csv`` in ``<root>`` or, as published upstream,
``Fixation_MIT1003.Rda`` (read with the optional package ``rdata``).

Units. The three time columns are in **seconds** despite their ``_ms`` names: the
preprocessing script sets ``time = (0:(n-1))/Hz`` with ``Hz = 250``, the values lie on
a 4 ms grid and never exceed the 3 s viewing time. The loader multiplies them by 1000:
``t_start`` is ``Event_Start_Trial_Time_ms`` x 1000 and ``duration`` is ``Duration`` x
1000 (ms), rounded to 1 ns to drop binary floating-point noise. ``Event_Ende_Trial_Time_ms`` equals start + duration in every row; the
loader checks that and does not keep it. Coordinates are image px as in the file (the
script dropped fixations with negative coordinates).

Rows without a fixation. 2,406 of the 112,344 rows are NaN in all five numeric
columns: no position, no time, no duration (the script writes such a row when fixation
detection fails or returns an undefined position). A fixation table cannot hold a
fixation without a position (:func:`~gazemodels.data.validate.validate_fixations`
rejects NaN coordinates), so these rows are kept apart, unchanged, in
``Dataset.extras['nan_rows']`` with their file position, and a warning reports them.
The other 109,938 rows are the fixation table; ``fix_index`` numbers them in file order
within each (image, observer) scanpath, and ``source_row`` gives each one's 0-based
data row in the file so that the file's order, NaN rows included, can be rebuilt.

Image sizes. MIT1003 images differ in size (longest side 1024 px, the other 405 to
1024 px, Judd et al. 2009) and the table does not give them. With the images
(``images_dir``, default ``<root>/ALLSTIMULI`` when present) the sizes are read from
the image files. Without them, ``width`` and ``height`` are 1024, the bounding box of
every MIT1003 image, and ``size_known`` is False: off-image fixations are then only
those beyond 1024 px.
"""

from __future__ import annotations

import gzip
import io
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_fixations, validate_stimuli
from gazemodels.datasets.card import DatasetCard
from gazemodels.datasets.loaders._source_checks import (
    check_coordinates,
    image_size,
    listing,
    warn_missing_images,
    warn_offscreen,
)
from gazemodels.datasets.registry import Dataset, register
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

FILE_NAMES = ("Fixation_MIT1003.csv.gz", "Fixation_MIT1003.csv", "Fixation_MIT1003.Rda")
ID_COLUMNS = ("Participant", "Stimulus")
NUMERIC_COLUMNS = ("Fixation_Position_X_px", "Fixation_Position_Y_px",
                   "Event_Start_Trial_Time_ms", "Event_Ende_Trial_Time_ms", "Duration")
IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
S_TO_MS = 1000.0
MAX_PLAUSIBLE_SECONDS = 60.0
"""Times beyond this cannot be seconds of a 3 s viewing: the file is then not this table."""


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            raw = gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DatasetFormatError(path, f"truncated or corrupt gzip stream ({type(e).__name__}: {e})") from None
    except OSError as e:
        raise DatasetFormatError(path, f"cannot read the file ({e})") from None
    # A file cut in the middle of its last line: pandas would fill the missing fields
    # with NaN, making the cut row look like one of the table's all-NaN rows.
    if raw and not raw.endswith(b"\n"):
        last = raw.rsplit(b"\n", 1)[-1]
        n_fields = last.count(b",") + 1
        n_header = raw.split(b"\n", 1)[0].count(b",") + 1
        line_no = raw.count(b"\n") + 1
        if line_no > 1 and n_fields < n_header:
            raise DatasetFormatError(
                path, f"line {line_no} (the last) has {n_fields} of {n_header} fields and no "
                "line end: the file is truncated"
            )
    try:
        return pd.read_csv(io.BytesIO(raw), dtype={c: str for c in ID_COLUMNS}, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DatasetFormatError(path, "the file is empty; expected the MIT1003 fixation CSV") from None
    except pd.errors.ParserError as e:
        raise DatasetFormatError(path, f"malformed CSV: {e}") from None
    except UnicodeDecodeError as e:
        raise DatasetFormatError(path, f"not a text CSV (undecodable byte at offset {e.start})") from None


def _read_rda(path: Path) -> pd.DataFrame:
    try:
        import rdata
    except ImportError:
        raise ImportError(
            f"{path}: reading the upstream .Rda needs the optional package 'rdata' "
            "(pip install rdata); or write it as Fixation_MIT1003.csv.gz from R with "
            "write.csv(Fixation_MIT1003, gzfile('Fixation_MIT1003.csv.gz'), row.names = FALSE)"
        ) from None
    try:
        with warnings.catch_warnings():
            # rdata converts the data.table as a data.frame and says so.
            warnings.simplefilter("ignore", UserWarning)
            objects = rdata.read_rda(str(path))
    except Exception as e:  # rdata raises several types on a corrupt file
        raise DatasetFormatError(path, f"not a readable R data file ({type(e).__name__}: {e})") from None
    if "Fixation_MIT1003" not in objects:
        raise DatasetFormatError(path, f"no object 'Fixation_MIT1003' (found {sorted(objects)})")
    return pd.DataFrame(objects["Fixation_MIT1003"]).reset_index(drop=True)


def read_mit1003_table(path: Path) -> pd.DataFrame:
    """Read the MIT1003 fixation table (CSV, gzipped CSV or Rda), checking its structure.

    Parameters
    ----------
    path : pathlib.Path
        ``Fixation_MIT1003.csv.gz``, ``.csv`` or ``.Rda``.

    Returns
    -------
    pandas.DataFrame
        The file's seven columns, values unchanged (times still in seconds), in
        file order with a 0-based ``RangeIndex``.

    Raises
    ------
    DatasetFormatError
        If the file is malformed or truncated, lacks a column, has a non-numeric
        value in a numeric column, a row with some but not all numeric values
        missing, a missing participant or image name, a duration that differs
        from end - start, or times too large to be seconds. The message gives the
        CSV line number (the header is line 1).
    """
    df = _read_rda(path) if path.suffix.lower() == ".rda" else _read_csv(path)
    line = "line" if path.suffix.lower() != ".rda" else "row"
    offset = 2 if line == "line" else 1

    missing = [c for c in ID_COLUMNS + NUMERIC_COLUMNS if c not in df.columns]
    if missing:
        raise DatasetFormatError(
            path, f"missing column(s) {missing}; the header has {list(df.columns)[:10]} "
            "(expected the MIT1003 fixation table)"
        )
    df = df.reset_index(drop=True)
    for c in ID_COLUMNS:
        bad = df[c].isna().to_numpy()
        if bad.any():
            idx = np.flatnonzero(bad)
            raise DatasetFormatError(path, f"{idx.size} row(s) without {c}: "
                                     + listing([f"{line} {i + offset}" for i in idx[:5]], idx.size))
    values = {}
    for c in NUMERIC_COLUMNS:
        col = df[c]
        num = pd.to_numeric(col, errors="coerce")
        bad = (num.isna() & col.notna()).to_numpy()
        if bad.any():
            idx = np.flatnonzero(bad)
            raise DatasetFormatError(
                path, f"column {c!r} has {idx.size} non-numeric value(s): "
                + listing([f"{line} {i + offset}: {col.iloc[i]!r}" for i in idx[:5]], idx.size)
            )
        values[c] = num.to_numpy(dtype=float)
    block = np.column_stack([values[c] for c in NUMERIC_COLUMNS])
    n_nan = np.isnan(block).sum(axis=1)
    partial = (n_nan > 0) & (n_nan < len(NUMERIC_COLUMNS))
    if partial.any():
        idx = np.flatnonzero(partial)
        raise DatasetFormatError(
            path, f"{idx.size} row(s) have some but not all of {list(NUMERIC_COLUMNS)} missing "
            "(a truncated or malformed file?): "
            + listing([f"{line} {i + offset}" for i in idx[:5]], idx.size)
        )
    if np.isinf(block).any():
        idx = np.flatnonzero(np.isinf(block).any(axis=1))
        raise DatasetFormatError(path, "infinite value(s) at "
                                 + listing([f"{line} {i + offset}" for i in idx[:5]], idx.size))
    start, end, dur = (values[c] for c in NUMERIC_COLUMNS[2:])
    with np.errstate(invalid="ignore"):
        too_big = np.nanmax(np.abs(block[:, 2:])) if np.isfinite(block[:, 2:]).any() else 0.0
    if too_big > MAX_PLAUSIBLE_SECONDS:
        raise DatasetFormatError(
            path, f"time values up to {too_big:g}: MIT1003's table holds seconds (3 s viewing); "
            "this file is not that table or its times are already in another unit"
        )
    mismatch = np.abs(end - start - dur) > 1e-6
    if mismatch.any():
        idx = np.flatnonzero(mismatch)
        raise DatasetFormatError(
            path, f"{idx.size} row(s) where Duration != Event_Ende - Event_Start: "
            + listing([f"{line} {i + offset}" for i in idx[:5]], idx.size)
        )
    for c in NUMERIC_COLUMNS:
        df[c] = values[c]
    return df


def _to_ms(seconds: np.ndarray) -> np.ndarray:
    # Rounded to 1 ns: removes the binary noise of the file's seconds (0.10399999999999987 s
    # is the 4 ms grid value 0.104 s after R's subtraction end - start).
    return np.round(seconds * S_TO_MS, 6)


def _find_file(root: Path, card: DatasetCard) -> Path:
    for name in FILE_NAMES:
        if (root / name).is_file():
            return root / name
    raise DatasetNotFoundError(
        f"mit1003: none of {list(FILE_NAMES)} is in {root}; get the table from {card.homepage} "
        f"or the address in the card ({', '.join(f.url for f in card.files)})"
    )


def _image_index(images_dir: Path | None) -> dict[str, Path]:
    if images_dir is None or not images_dir.is_dir():
        return {}
    index: dict[str, Path] = {}
    for p in sorted(images_dir.iterdir()):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            index.setdefault(p.stem, p)
    return index


@register("mit1003")
def load_mit1003(
    root: Path,
    card: DatasetCard,
    *,
    images_dir: str | Path | None = None,
    allow_offscreen: bool = True,
) -> Dataset:
    """Load the MIT1003 free-viewing fixations, converting the time columns from s to ms.

    Parameters
    ----------
    root : pathlib.Path
        Folder holding ``Fixation_MIT1003.csv.gz`` (or ``.csv``, or ``.Rda``).
    card : DatasetCard
        The ``mit1003`` card (pixels per degree; the 1024 px fallback size).
    images_dir : str or Path, optional
        Folder with the MIT1003 images (``<Stimulus>.jpeg``), used for their sizes and
        paths. Default: ``<root>/ALLSTIMULI`` if it exists, else no images.
    allow_offscreen : bool, default True
        Keep fixations outside their image (the release has some beyond even the
        1024 px bound); they are counted in ``extras['n_offscreen']`` and a warning
        reports them.

    Returns
    -------
    Dataset
        ``fixations``: the 109,938 rows with a position (t_start and duration in ms,
        plus ``source_row``); ``extras['nan_rows']``: the 2,406 all-NaN rows
        (``stimulus``, ``subject``, ``source_row``, ``position`` = 0-based place
        among the file's rows of that scanpath); together the file's 112,344 rows in
        15,045 (image, observer) scanpaths (``extras['n_rows']``,
        ``extras['n_scanpaths']``). ``stimuli`` has ``size_known`` (False where the
        size is the 1024 px bound).

    Raises
    ------
    DatasetNotFoundError
        If no fixation file is in ``root``.
    DatasetFormatError
        If the file is malformed, truncated, of another dataset or lacks a column.
    ImportError
        If only the ``.Rda`` is there and the package ``rdata`` is not installed.
    """
    root = Path(root)
    path = _find_file(root, card)
    table = read_mit1003_table(path)
    line = "row" if path.suffix.lower() == ".rda" else "line"
    offset = 1 if line == "row" else 2

    stimulus = table["Stimulus"].astype(str).to_numpy(dtype=object)
    subject = table["Participant"].astype(str).to_numpy(dtype=object)
    x_all = table["Fixation_Position_X_px"].to_numpy(dtype=float)
    nan_row = np.isnan(x_all)
    keys = pd.DataFrame({"stimulus": stimulus, "subject": subject})
    position = keys.groupby(["stimulus", "subject"], sort=False).cumcount().to_numpy()
    n_scanpaths = int(keys.drop_duplicates().shape[0])

    keep = ~nan_row
    kept_keys = keys.loc[keep]
    fixations = pd.DataFrame({
        "stimulus": kept_keys["stimulus"].to_numpy(dtype=object),
        "subject": kept_keys["subject"].to_numpy(dtype=object),
        "trial": np.zeros(int(keep.sum()), dtype=np.int64),
        "fix_index": kept_keys.groupby(["stimulus", "subject"], sort=False).cumcount()
        .to_numpy(dtype=np.int64),
        "x": x_all[keep],
        "y": table["Fixation_Position_Y_px"].to_numpy(dtype=float)[keep],
        "t_start": _to_ms(table["Event_Start_Trial_Time_ms"].to_numpy(dtype=float)[keep]),
        "duration": _to_ms(table["Duration"].to_numpy(dtype=float)[keep]),
        "source_row": np.flatnonzero(keep).astype(np.int64),
    })
    nan_rows = pd.DataFrame({
        "stimulus": stimulus[nan_row],
        "subject": subject[nan_row],
        "source_row": np.flatnonzero(nan_row).astype(np.int64),
        "position": position[nan_row].astype(np.int64),
    })

    # Stimulus table: every image named in the file, in order of first appearance.
    names = pd.unique(stimulus)
    images_dir = Path(images_dir) if images_dir is not None else (
        root / "ALLSTIMULI" if (root / "ALLSTIMULI").is_dir() else None)
    if images_dir is not None and not images_dir.is_dir():
        raise DatasetNotFoundError(f"mit1003: images_dir {images_dir} does not exist")
    index = _image_index(images_dir)
    bound_w = float(card.geometry.get("width_px", 1024))
    bound_h = float(card.geometry.get("height_px", 1024))
    paths, widths, heights, known, missing = [], [], [], [], []
    for name in names:
        p = index.get(name)
        if p is not None:
            w, h = image_size(p)
            paths.append(str(p))
            widths.append(float(w))
            heights.append(float(h))
            known.append(True)
        else:
            paths.append(None)
            widths.append(bound_w)
            heights.append(bound_h)
            known.append(False)
            missing.append(str(name))
    stimuli = pd.DataFrame({
        "stimulus": pd.Series(names, dtype=object),
        "path": pd.Series(paths, dtype=object),
        "width": widths,
        "height": heights,
        "px_per_degree": card.px_per_degree,
        "size_known": known,
    })
    if images_dir is not None:
        n_fix = int(fixations["stimulus"].isin(missing).sum())
        warn_missing_images("mit1003", images_dir, missing, len(names), n_fix)

    size = stimuli.set_index("stimulus")
    w_of = size["width"].reindex(fixations["stimulus"]).to_numpy(dtype=float)
    h_of = size["height"].reindex(fixations["stimulus"]).to_numpy(dtype=float)
    src = fixations["source_row"].to_numpy()

    def place(i: int) -> str:
        return (f"{line} {int(src[i]) + offset} (Participant {fixations['subject'].iat[i]!r}, "
                f"Stimulus {fixations['stimulus'].iat[i]!r})")

    off = check_coordinates(path, fixations["x"].to_numpy(), fixations["y"].to_numpy(),
                            w_of, h_of, place, allow_offscreen=allow_offscreen)
    warn_offscreen("mit1003", path, off, place)

    if len(nan_rows):
        only_nan = int((~keys.assign(k=keep).groupby(["stimulus", "subject"], sort=False)["k"]
                        .any()).sum())
        warnings.warn(
            f"mit1003: {len(nan_rows):,} of {len(table):,} rows of {path} are NaN in all of "
            f"{list(NUMERIC_COLUMNS)} (no position, time or duration, so no fixation to place; "
            f"{only_nan} scanpath(s) consist only of such rows). They are kept apart, unchanged, "
            "in Dataset.extras['nan_rows']; the fixation table holds the other "
            f"{len(fixations):,} rows",
            UserWarning,
            stacklevel=3,
        )

    validate_stimuli(stimuli, source=str(path))
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=str(path))
    return Dataset(
        name="mit1003",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=root,
        missing_stimuli=missing,
        extras={
            "nan_rows": nan_rows,
            "n_rows": int(len(table)),
            "n_scanpaths": n_scanpaths,
            "n_offscreen": int(off.sum()),
            "file": str(path),
            "images_dir": str(images_dir) if images_dir is not None else None,
        },
    )


__all__ = ["load_mit1003", "read_mit1003_table"]

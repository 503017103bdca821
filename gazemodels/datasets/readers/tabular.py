"""Generic reader and writer of fixation tables in CSV, TSV (optionally gzipped) or Parquet.

Any eye tracker's fixation export can be read by naming which of its columns
holds which schema column (see :mod:`gazemodels.data.schema`) and in which unit::

    read_fixations("gazepoint.csv",
                   columns={"x": "FPOGX", "y": "FPOGY", "duration": "FPOGD",
                            "subject": "USER", "stimulus": "MEDIA_NAME"},
                   units={"x": "norm", "y": "norm", "duration": "s"},
                   screen=(1920, 1080), defaults={"trial": 0})

Rules
-----
* A schema column not named in ``columns`` is taken from a file column of the
  same name when there is one.
* ``stimulus``, ``subject`` and ``trial`` must come from a column or from
  ``defaults`` (a constant for the whole file); ``x`` and ``y`` from a column.
  ``t_start`` and ``duration`` are NaN when the file has none (the schema allows
  unknown timing). ``defaults`` may only name columns the file does not provide.
* ``fix_index``, when absent, is numbered 0, 1, ... **in file order** within each
  scanpath (``stimulus``, ``subject``, ``trial``): rows are taken to be in temporal
  order. When present it is checked, never renumbered.
* Units (``units=``): ``x``/``y`` in ``"px"`` (default), ``"norm"`` (fraction of the
  screen, origin top-left; needs ``screen``) or ``"deg"`` (degrees from the screen
  centre, positive right and **up**, as ``x_deg``/``y_deg`` in the schema; needs
  ``screen`` and ``px_per_degree``); ``t_start``, ``duration`` and ``rt`` in
  ``"ms"`` (default), ``"s"`` or ``"us"``; ``fix_index`` ``"0-based"`` (default)
  or ``"1-based"``.
* File columns that are not mapped are kept (``keep_unmapped=True``), with their
  types inferred; one whose name clashes with a schema column is kept as
  ``source_<name>``.
* Empty cells and ``NA``, ``NaN``, ``nan``, ``N/A``, ``null``, ``None`` are missing
  values.

Every problem raises :class:`~gazemodels.errors.DatasetFormatError` naming the file,
and the line and column where it sits.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, OPTIONAL_FIXATION_COLUMNS, SCANPATH_KEYS
from gazemodels.data.validate import validate_fixations
from gazemodels.errors import DatasetFormatError, FixationTableError

NA_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "-nan"})
"""Cell values (case-insensitive, stripped) read as missing."""

NUMERIC_COLUMNS = ("x", "y", "t_start", "duration", "fix_index", "rt", "x_deg", "y_deg")
BOOL_COLUMNS = ("correct", "found")
TIME_UNITS = {"ms": 1.0, "s": 1000.0, "us": 1e-3}
POSITION_UNITS = ("px", "norm", "deg")
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n"})
_INT_RE = re.compile(r"^-?(0|[1-9]\d*)$")
_LEADING_ZERO_RE = re.compile(r"^[+-]?0\d")  # "01", "007.5": identifiers, kept as text

_PARQUET_SUFFIXES = (".parquet", ".pq")


def _suffixes(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _delimiter(path: Path, sep: str | None, first_line: str) -> str:
    if sep is not None:
        return sep
    name = _suffixes(path)
    guess = "\t" if name.endswith((".tsv", ".tab")) else ","
    if not first_line or guess in first_line:
        return guess
    # The name says one thing and the header another (e.g. a tab-separated ".csv").
    for cand in ("\t", ";", ","):
        if cand in first_line:
            return cand
    return guess


def _read_text(path: Path, encoding: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise DatasetFormatError(path, f"cannot read the file ({e.strerror or e})") from None
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetFormatError(path, f"not a valid gzip file (truncated?): {e}") from None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise DatasetFormatError(
            path, f"not {encoding} text (invalid byte at offset {e.start}); expected a CSV/TSV table"
        ) from None


def _read_cells(path: Path, sep: str | None, encoding: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows of cells and the 1-based line number of each row."""
    text = _read_text(path, encoding)
    if not text.strip():
        raise DatasetFormatError(path, "the file is empty; expected a header line and rows")
    first = text.split("\n", 1)[0]
    delim = _delimiter(path, sep, first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise DatasetFormatError(path, f"line 1: malformed header ({e})") from None
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DatasetFormatError(path, f"line 1: duplicate column name(s) {dup}")
    rows, lines = [], []
    n = len(header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise DatasetFormatError(path, f"line {reader.line_num}: malformed row ({e})") from None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != n:
            raise DatasetFormatError(
                path,
                f"line {reader.line_num}: {len(row)} field(s) where the header has {n} "
                f"({header}); the file is truncated or malformed (separator {delim!r})",
            )
        rows.append(row)
        lines.append(reader.line_num)
    return header, rows, lines


def _is_na(values: pd.Series) -> np.ndarray:
    return values.str.strip().str.lower().isin(NA_TOKENS).to_numpy()


def _to_float(path, values: pd.Series, lines: np.ndarray, src: str, col: str) -> np.ndarray:
    na = _is_na(values)
    num = pd.to_numeric(values.str.strip().where(~na, None), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(num) & ~na
    if bad.any():
        i = np.flatnonzero(bad)
        shown = "; ".join(f"line {lines[j]}: {values.iloc[j]!r}" for j in i[:5])
        more = f"; and {len(i) - 5} more" if len(i) > 5 else ""
        raise DatasetFormatError(
            path, f"column {src!r} (-> {col}): {len(i)} value(s) are not numbers: {shown}{more}"
        )
    return num


def _infer(values: pd.Series):
    """Type an unmapped or key column from its strings: int, float, bool or str.

    Values with a leading zero (``"01"``) keep the whole column as text, so that
    identifiers survive a round trip unchanged.
    """
    na = _is_na(values)
    present = values[~na].str.strip()
    if len(present) == 0:
        return np.full(len(values), np.nan)
    if present.str.match(_INT_RE).all():
        ints = pd.array([int(v) if not m else pd.NA for v, m in zip(values.str.strip(), na)], dtype="Int64")
        return ints.to_numpy(dtype=np.int64) if not na.any() else ints
    num = pd.to_numeric(present, errors="coerce")
    if not num.isna().any() and not present.str.match(_LEADING_ZERO_RE).any():
        out = np.full(len(values), np.nan)
        out[~na] = num.to_numpy(dtype=float)
        return out
    low = present.str.lower()
    if low.isin(("true", "false")).all() and not na.any():
        return (low == "true").to_numpy()
    return pd.Series(values.to_numpy(dtype=object), dtype="str").where(~na).to_numpy(dtype=object)


def _to_bool(path, values: pd.Series, lines, src, col):
    low = values.str.strip().str.lower()
    ok = low.isin(_TRUE | _FALSE)
    na = _is_na(values)
    bad = ~ok.to_numpy() & ~na
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DatasetFormatError(
            path, f"line {lines[j]}, column {src!r} (-> {col}): {values.iloc[j]!r} is not a boolean"
        )
    if na.any():
        return pd.array([pd.NA if m else (v in _TRUE) for v, m in zip(low, na)], dtype="boolean")
    return low.isin(_TRUE).to_numpy()


def read_fixations(
    path: str | os.PathLike,
    columns: Mapping[str, str] | None = None,
    *,
    units: Mapping[str, str] | None = None,
    sep: str | None = None,
    defaults: Mapping[str, object] | None = None,
    screen: tuple[float, float] | None = None,
    px_per_degree: float | None = None,
    stimuli: pd.DataFrame | None = None,
    allow_offscreen: bool = False,
    keep_unmapped: bool = True,
    encoding: str = "utf-8-sig",
) -> pd.DataFrame:
    """Read a fixation table from a CSV/TSV (``.gz`` allowed) or Parquet file.

    Parameters
    ----------
    path : str or PathLike
        The file. ``.tsv``/``.tab`` are tab-separated, ``.csv`` comma-separated,
        ``.parquet``/``.pq`` Parquet; other names are sniffed from the header line.
    columns : mapping of str to str, optional
        Schema column -> file column, e.g. ``{"x": "FPOGX", "duration": "FPOGD"}``.
    units : mapping of str to str, optional
        Unit of a schema column in the file (see the module notes); converted to
        the schema units (px, ms, 0-based).
    sep : str, optional
        Field separator; inferred from the name (or header) when None.
    defaults : mapping, optional
        Constant values for schema columns the file does not have, e.g.
        ``{"trial": 0, "stimulus": "page1.png"}``.
    screen : (float, float), optional
        Screen (or stimulus) width and height in px: needed by ``"norm"`` and
        ``"deg"`` units, and used to reject off-screen fixations.
    px_per_degree : float, optional
        Needed by ``"deg"`` units.
    stimuli : pandas.DataFrame, optional
        Stimulus table (``stimulus``, ``width``, ``height``); when given, every
        fixation must lie on its stimulus (unless ``allow_offscreen``).
    allow_offscreen : bool, default False
        Keep fixations outside ``screen`` / their stimulus.
    keep_unmapped : bool, default True
        Keep the file's other columns.
    encoding : str, default "utf-8-sig"
        Text encoding (a UTF-8 byte-order mark is skipped).

    Returns
    -------
    pandas.DataFrame
        A validated fixation table: the schema columns in canonical order, then the
        optional schema columns found, then the unmapped file columns.

    Raises
    ------
    DatasetFormatError
        If the file is empty, truncated or malformed, a mapped column is missing,
        a value cannot be parsed, a coordinate is NaN or off-screen, or the table
        breaks the schema. The message names the file, the line and the column.
    ValueError
        If the arguments contradict each other (unknown unit, a default for a
        column the file has, ``"norm"`` without ``screen``).
    """
    path = Path(path)
    columns = dict(columns or {})
    units = dict(units or {})
    defaults = dict(defaults or {})
    _check_units(units, screen, px_per_degree)

    if _suffixes(path).endswith(_PARQUET_SUFFIXES):
        header, cells, lines = _read_parquet_cells(path)
        where = "row"
    else:
        header, cells, lines = _read_cells(path, sep, encoding)
        where = "line"
    lines = np.asarray(lines, dtype=np.int64)
    raw = pd.DataFrame(cells, columns=header, dtype="str") if cells else pd.DataFrame(
        {h: pd.Series([], dtype="str") for h in header}
    )

    schema_cols = list(FIXATION_COLUMNS) + [c for c in OPTIONAL_FIXATION_COLUMNS]
    source: dict[str, str] = {}
    for col, src in columns.items():
        if src not in raw.columns:
            raise DatasetFormatError(
                path, f"column {src!r} (mapped to {col!r}) is not in the file; its columns are {header}"
            )
        source[col] = src
    used = set(source.values())
    for col in schema_cols:
        if col not in source and col in raw.columns and col not in used:
            source[col] = col
    for col in defaults:
        if col in source:
            raise ValueError(
                f"defaults[{col!r}] given, but the file provides {col!r} from column {source[col]!r}"
            )
    need = [c for c in ("x", "y") if c not in source]
    need += [c for c in SCANPATH_KEYS if c not in source and c not in defaults]
    if need:
        raise DatasetFormatError(
            path,
            f"no column for {need}: map them with columns={{...}} (or, for stimulus/subject/trial, "
            f"give defaults={{...}}); the file's columns are {header}",
        )

    out: dict[str, object] = {}
    n = len(raw)
    for col, src in source.items():
        vals = raw[src]
        if col in NUMERIC_COLUMNS:
            out[col] = _to_float(path, vals, lines, src, col)
        elif col in BOOL_COLUMNS:
            out[col] = _to_bool(path, vals, lines, src, col)
        else:
            if col in SCANPATH_KEYS:
                na = _is_na(vals)
                if na.any():
                    j = int(np.flatnonzero(na)[0])
                    raise DatasetFormatError(
                        path, f"{where} {lines[j]}, column {src!r} (-> {col}): missing value"
                    )
            out[col] = _infer(vals)
    for col, value in defaults.items():
        out[col] = np.repeat(np.asarray([value], dtype=object if isinstance(value, str) else None), n)
        if isinstance(value, str):
            out[col] = pd.array(out[col], dtype="str")
    for col in ("t_start", "duration"):
        out.setdefault(col, np.full(n, np.nan))

    x = np.asarray(out["x"], dtype=float)
    y = np.asarray(out["y"], dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        i = np.flatnonzero(bad)
        shown = ", ".join(str(lines[j]) for j in i[:8])
        raise DatasetFormatError(
            path,
            f"{len(i)} fixation(s) have a missing or infinite coordinate (columns "
            f"{source['x']!r}, {source['y']!r}) at {where}(s) {shown}" + (" ..." if len(i) > 8 else ""),
        )
    x, y = _convert_xy(x, y, units, screen, px_per_degree)
    out["x"], out["y"] = x, y
    for col in ("t_start", "duration", "rt"):
        if col in out and col in units:
            out[col] = np.asarray(out[col], dtype=float) * TIME_UNITS[units[col]]

    df = pd.DataFrame({k: v for k, v in out.items()})
    if "fix_index" in source:
        fi = np.asarray(out["fix_index"], dtype=float)
        badfi = ~np.isfinite(fi) | (fi != np.round(fi))
        if badfi.any():
            j = int(np.flatnonzero(badfi)[0])
            raise DatasetFormatError(
                path, f"{where} {lines[j]}, column {source['fix_index']!r}: fix_index must be an integer"
            )
        df["fix_index"] = fi.astype(np.int64) - (1 if units.get("fix_index") == "1-based" else 0)
    else:
        df["fix_index"] = df.groupby(list(SCANPATH_KEYS), sort=False, dropna=False).cumcount().astype(np.int64)

    _check_offscreen(path, df, lines, screen, stimuli, allow_offscreen, where)

    order = list(FIXATION_COLUMNS) + [c for c in OPTIONAL_FIXATION_COLUMNS if c in df.columns]
    order += [c for c in df.columns if c not in order]
    df = df[order]
    if keep_unmapped:
        mapped = set(source.values())
        for h in header:
            if h in mapped:
                continue
            name = f"source_{h}" if h in df.columns else h
            df[name] = _infer(raw[h])

    try:
        validate_fixations(
            df.set_axis(pd.Index(lines, name=where)),
            stimuli,
            allow_offscreen=allow_offscreen,
            source=f"{path} ({where} numbers of the file)",
        )
    except FixationTableError as e:
        raise DatasetFormatError(path, str(e)) from None
    return df


def _check_units(units, screen, ppd) -> None:
    for col, unit in units.items():
        if col in ("x", "y"):
            if unit not in POSITION_UNITS:
                raise ValueError(f"units[{col!r}] must be one of {POSITION_UNITS}, got {unit!r}")
            if unit in ("norm", "deg") and screen is None:
                raise ValueError(f"units[{col!r}] = {unit!r} needs screen=(width, height) in px")
            if unit == "deg" and not ppd:
                raise ValueError(f"units[{col!r}] = 'deg' needs px_per_degree")
        elif col in ("t_start", "duration", "rt"):
            if unit not in TIME_UNITS:
                raise ValueError(f"units[{col!r}] must be one of {list(TIME_UNITS)}, got {unit!r}")
        elif col == "fix_index":
            if unit not in ("0-based", "1-based"):
                raise ValueError(f"units['fix_index'] must be '0-based' or '1-based', got {unit!r}")
        else:
            raise ValueError(f"no unit conversion for column {col!r}")


def _convert_xy(x, y, units, screen, ppd):
    ux, uy = units.get("x", "px"), units.get("y", "px")
    if ux == "norm":
        x = x * screen[0]
    elif ux == "deg":
        x = screen[0] / 2.0 + x * ppd
    if uy == "norm":
        y = y * screen[1]
    elif uy == "deg":
        y = screen[1] / 2.0 - y * ppd  # degrees are positive upwards, pixels downwards
    return x, y


def _check_offscreen(path, df, lines, screen, stimuli, allow, where) -> None:
    if allow or (screen is None and stimuli is None):
        return
    if stimuli is not None:
        sizes = stimuli.drop_duplicates("stimulus").set_index("stimulus")
        w = df["stimulus"].map(sizes["width"]).to_numpy(dtype=float)
        h = df["stimulus"].map(sizes["height"]).to_numpy(dtype=float)
    else:
        w = np.full(len(df), float(screen[0]))
        h = np.full(len(df), float(screen[1]))
    x, y = df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float)
    bad = (x < 0) | (y < 0) | (x > w) | (y > h)
    if bad.any():
        i = np.flatnonzero(bad)
        shown = "; ".join(f"{where} {lines[j]} (x={x[j]:g}, y={y[j]:g})" for j in i[:5])
        raise DatasetFormatError(
            path,
            f"{len(i)} fixation(s) lie off the screen/stimulus (pass allow_offscreen=True to keep "
            f"them): {shown}" + (f"; and {len(i) - 5} more" if len(i) > 5 else ""),
        )


def _parquet_engine() -> str | None:
    for mod in ("pyarrow", "fastparquet"):
        try:
            __import__(mod)
            return mod
        except ImportError:
            continue
    return None


def _read_parquet_cells(path: Path):
    if _parquet_engine() is None:
        raise ImportError(
            f"reading {path} needs pyarrow or fastparquet, neither is installed; "
            "install one (pip install pyarrow) or use CSV/TSV"
        )
    try:
        table = pd.read_parquet(path)
    except Exception as e:  # the engines raise their own error types for corrupt files
        raise DatasetFormatError(path, f"not a readable Parquet file: {type(e).__name__}: {e}") from None
    header = [str(c) for c in table.columns]
    cells = table.astype(object).where(table.notna(), "").astype(str).to_numpy().tolist()
    return header, cells, list(range(len(table)))


def write_fixations(
    fixations: pd.DataFrame, path: str | os.PathLike, *, sep: str | None = None, validate: bool = True
) -> Path:
    """Write a fixation table so that :func:`read_fixations` reads it back unchanged.

    Parameters
    ----------
    fixations : pandas.DataFrame
        A fixation table.
    path : str or PathLike
        Destination: ``.csv``, ``.tsv``/``.tab`` (either optionally ``.gz``), or
        ``.parquet``/``.pq`` (needs pyarrow or fastparquet).
    sep : str, optional
        Field separator for text files; inferred from the name when None.
    validate : bool, default True
        Check the table against the schema first.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    FixationTableError
        If ``validate`` and the table breaks the schema.
    ImportError
        For Parquet without pyarrow or fastparquet.
    """
    path = Path(path)
    if validate:
        validate_fixations(fixations, source=str(path))
    order = [c for c in FIXATION_COLUMNS if c in fixations.columns]
    order += [c for c in fixations.columns if c not in order]
    df = fixations[order]
    if _suffixes(path).endswith(_PARQUET_SUFFIXES):
        engine = _parquet_engine()
        if engine is None:
            raise ImportError(
                f"writing {path} needs pyarrow or fastparquet, neither is installed; "
                "install one (pip install pyarrow) or write .csv/.tsv"
            )
        df.to_parquet(path, engine=engine, index=False)
        return path
    delim = _delimiter(path, sep, "")
    # Floats are written with repr precision (pandas' default), so values round-trip exactly.
    df.to_csv(path, sep=delim, index=False, na_rep="", lineterminator="\n",
              compression="gzip" if path.name.lower().endswith(".gz") else None)
    return path

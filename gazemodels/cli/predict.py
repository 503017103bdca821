"""``gazemodels predict``: generate scanpaths for a folder of images or a stimulus table.

The stimuli come from ``--images DIR`` (every image file of the folder) or from
``--stimuli TABLE``, a stimulus table (:func:`read_stimulus_table`) that can also
carry each display's object boxes and target box, as object-level search models
(OAT, :class:`~gazemodels.models.scanpath.oat.OATModel`) need, and that can
describe displays without images (geometry only).

The output is a standard fixation table (:mod:`gazemodels.data.schema`) that
``gazemodels score --pred`` reads directly; the settings (model, seed, sizes,
time per image) also go to ``<out>.json`` because a CSV cannot carry the
table's ``attrs``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
"""File endings treated as images in ``--images``."""

OBJECT_BOXES_ALIAS = "objects"
"""The stimulus-table column of :mod:`gazemodels.data.schema` that holds a display's boxes
(``gazemodels.stimuli.display.to_stimulus_table`` writes it); ``--stimuli`` reads it as
``object_boxes`` when that column is absent."""

STIMULI_HELP = """--stimuli TABLE (.csv, .csv.gz, .tsv or .parquet), one row per display:
  stimulus        identifier (required, unique)
  path            image file; optional when the model reads no image. Relative paths are
                  resolved against --images DIR when given, else against the table's folder.
  width, height   display size, px; required on rows without an image, read from the
                  image file where left empty (a given size is the size the image is shown at)
  px_per_degree   optional; default --px-per-degree
  object_boxes    optional; the display's objects as a JSON list of [x, y, w, h] boxes (px,
                  top-left corner and size, as in gazemodels.data), e.g. [[0, 0, 40, 60], ...]
                  ('objects' is read as object_boxes when there is no object_boxes column).
                  Object-level models (oat) predict over these boxes, in this order: the
                  output's 'object' column is the index of the fixated box. Without them a
                  model trained on grid slots (runs/oat_amazon) uses its grid.
  target_bbox     optional; the target's box as JSON [x, y, w, h] px; search models use it
  any other column (e.g. caption) is passed to the model as it is.
Cells may be empty (missing). Every box must have w, h > 0 and lie on its display; a target
must overlap one of the display's object boxes. Errors name the file, the row (counted from
1 after the header) and the column, and exit with code 2.

A fitted model's prediction settings can be changed with --param, e.g. for OAT
--param decoding=beam, --param temperature=0.8, --param refixation_penalty=1.

Example: the Amazon book-cover collages (geometry only, no images), test half of runs/oat_amazon
(benchmarks/oat_amazon_cli.py --write-only writes the two tables: the 84 grid slots as
object_boxes and the target_bbox of each collage; the human fixations with their slot as 'object'):
  python benchmarks/oat_amazon_cli.py --write-only --out amazon
  gazemodels predict --model runs/oat_amazon/best.pt --stimuli amazon/test_stimuli.csv \\
      --n-scanpaths 6 --out amazon/oat_pred.csv
  gazemodels score --pred amazon/oat_pred.csv --human amazon/test_fixations.csv \\
      --metric semantic_ss,edit_distance_aoi,scanmatch --screen 2560x1600 --ceiling
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser(
        "predict",
        help="generate scanpaths for a folder of images or a stimulus table with a scanpath model",
        description="Generate N scanpaths per image with a registered scanpath model (neva, nevaclip, "
        "centre, saliency, random, human-shuffled, oat, ...) or a fitted model saved as .pt (a "
        "`gazemodels fit` run's best.pt), and write a fixation table that `gazemodels score` reads. "
        "The stimuli are the images of --images DIR, or the rows of --stimuli TABLE (which can give "
        "object boxes and the target, and displays without images). The settings and the time per "
        "image go to <out>.json.",
        epilog=STIMULI_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model",
                   help="registered model name (see --list) or the path of a fitted model .pt file")
    p.add_argument("--list", action="store_true", help="list the registered scanpath models and exit")
    p.add_argument("--images", help="folder of images (" + ", ".join(IMAGE_SUFFIXES[:4]) + ", ...); with "
                   "--stimuli, the folder that relative paths of the table are resolved against")
    p.add_argument("--stimuli", help="stimulus table (.csv, .csv.gz, .parquet): stimulus, path, width, height, "
                   "px_per_degree, object_boxes, target_bbox (see below)")
    p.add_argument("--n-scanpaths", type=int, default=15, help="scanpaths per image (default 15)")
    p.add_argument("--n-fixations", type=int, default=10, help="fixations per scanpath (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output fixation table (.csv, .csv.gz or .parquet)")
    p.add_argument("--caption-file", help="CSV with columns stimulus,caption (one caption per image file "
                   "name); required by caption-driven models such as nevaclip")
    p.add_argument("--px-per-degree", type=float, default=24.0,
                   help="pixels per degree of visual angle of the images as shown (default 24, as OSIE)")
    p.add_argument("--fit-fixations", help="human fixation table to fit the model on first "
                   "(centre density, human-shuffled scanpaths, the duration model)")
    p.add_argument("--fit-screen", help="WIDTHxHEIGHT (px) of human-data stimuli that are not in --images / --stimuli")
    p.add_argument("--save-model", help="save the (fitted) model to this .pt file, for a later --model PATH")
    p.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="model parameter, repeatable, e.g. --param method=itti_koch; on a saved model only "
                   "its prediction settings, e.g. --param decoding=beam for a fitted OAT model")
    p.set_defaults(func=_predict)


def _list_images(folder: str) -> list[Path]:
    d = Path(folder)
    if not d.is_dir():
        raise FileNotFoundError(f"--images {d}: no such folder")
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"--images {d}: the folder has no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def image_stimuli(files: list[Path], px_per_degree: float):
    """Stimulus table of image files, reading each image fully so that a bad file fails here.

    Parameters
    ----------
    files : list of Path
        Image files; the ``stimulus`` identifier is the file name.
    px_per_degree : float
        Pixels per degree for every image.

    Returns
    -------
    pandas.DataFrame
        ``stimulus, path, width, height, px_per_degree``.

    Raises
    ------
    gazemodels.models.scanpath.base.ImageReadError
        Naming the first unreadable file.
    """
    from gazemodels.models.scanpath.base import load_image

    rows = []
    for f in files:
        img = load_image(f)
        rows.append({"stimulus": f.name, "path": str(f), "width": float(img.shape[1]),
                     "height": float(img.shape[0]), "px_per_degree": float(px_per_degree)})
    return pd.DataFrame(rows)


BOX_COLUMNS = ("object_boxes", "target_bbox")
"""Columns of ``--stimuli`` that hold boxes (JSON), in the order they are checked."""


def _missing(v) -> bool:
    """Whether a table cell is empty: None, NaN or a blank string (a list or an array is not)."""
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    if isinstance(v, (list, tuple, np.ndarray)):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _parse_json(v):
    """A cell's JSON value (parquet cells may already be lists); Python tuple reprs are read too."""
    if not isinstance(v, str):
        return v.tolist() if isinstance(v, np.ndarray) else v
    try:
        return json.loads(v)
    except json.JSONDecodeError as e:
        try:  # pandas writes tuples as "(x, y, w, h)": a Python literal, not JSON
            return ast.literal_eval(v.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(f"not valid JSON ({e.msg} at character {e.pos}): {v[:80]!r}") from None


def _as_list(v):
    # tuples and nested numpy arrays (parquet) to lists of lists
    if isinstance(v, np.ndarray):
        v = v.tolist()
    return [_as_list(x) for x in v] if isinstance(v, (list, tuple)) else v


def _boxes(value, stimulus, width: float, height: float, *, single: bool) -> list[tuple[float, ...]]:
    """Parse and check the boxes of one cell: ``[x, y, w, h]`` (``single``) or a list of them.

    Raises ValueError with the problem; the caller adds the file, row and column.
    """
    from gazemodels.data.aoi import _box_from_item
    from gazemodels.errors import FixationTableError

    v = _as_list(_parse_json(value))
    if single:
        if not isinstance(v, (list, dict)) or (isinstance(v, list) and len(v) != 4):
            raise ValueError(f"must be one box [x, y, w, h], got {value!r}")
        v = [v]
    elif not isinstance(v, list) or not v:
        raise ValueError(f"must be a non-empty JSON list of [x, y, w, h] boxes, got {str(value)[:80]!r}")
    geo = []
    for i, item in enumerate(v):
        where = "" if single else f"box {i} "
        try:  # the data model's box forms: [x, y, w, h], {x, y, w, h} or {xmin, ymin, xmax, ymax}
            box = _box_from_item(stimulus, i, item)
            x, y, w, h = (float(box[k]) for k in ("x", "y", "w", "h"))
        except FixationTableError as e:
            raise ValueError(f"{where.strip()}: " * bool(where) + str(e).split(": ", 1)[-1]) from None
        except (TypeError, ValueError):
            raise ValueError(f"{where}{item!r}: x, y, w, h must be numbers") from None
        if not np.isfinite([x, y, w, h]).all():
            raise ValueError(f"{where}[{x}, {y}, {w}, {h}] has a NaN or infinite value")
        if w <= 0 or h <= 0:
            raise ValueError(f"{where}[{x}, {y}, {w}, {h}] is empty: w and h must be > 0 "
                             "(boxes are [x, y, w, h], not corners)")
        tol = 1e-6 * max(width, height, 1.0)
        if x < -tol or y < -tol or x + w > width + tol or y + h > height + tol:
            raise ValueError(f"{where}[{x}, {y}, {w}, {h}] lies off the {width:g} x {height:g} px display")
        geo.append((x, y, w, h))
    return geo


def _rows(df: pd.DataFrame, mask) -> str:
    bad = df.loc[np.asarray(mask, dtype=bool)]
    text = ", ".join(f"{i} ({s!r})" for i, s in zip(bad.index[:8], bad["stimulus"][:8]))
    return text + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")


def read_stimulus_table(path, *, px_per_degree: float = 24.0, image_dir=None) -> pd.DataFrame:
    """Read and check a ``--stimuli`` table (columns in :data:`STIMULI_HELP`).

    Parameters
    ----------
    path : str or os.PathLike
        CSV/TSV (optionally gzipped) or parquet file.
    px_per_degree : float, default 24
        For a table without a ``px_per_degree`` column.
    image_dir : str or os.PathLike, optional
        Folder that relative ``path`` entries are resolved against; default the table's folder.

    Returns
    -------
    pandas.DataFrame
        A stimulus table (:data:`gazemodels.data.schema.STIMULUS_COLUMNS`; ``path`` absolute or
        None, sizes float), with ``object_boxes`` (list of ``(x, y, w, h)`` tuples, or None) and
        ``target_bbox`` (an ``(x, y, w, h)`` tuple, or None) when the table has them, and its other
        columns as they are.

    Raises
    ------
    gazemodels.errors.DatasetFormatError
        Naming the file, the row (counted from 1 after the header) and the column: a missing
        ``stimulus`` column or value, an image file that does not exist, a row with neither a size
        nor an image, malformed JSON, a box with a NaN, w or h <= 0, or off its display, a target
        that overlaps none of the object boxes.
    gazemodels.errors.FixationTableError
        From :func:`gazemodels.data.validate_stimuli`: duplicated stimuli, sizes or
        ``px_per_degree`` that are not positive numbers.
    gazemodels.models.scanpath.base.ImageReadError
        If an image whose size is needed cannot be read.
    """
    from gazemodels.cli.score import read_table
    from gazemodels.data import validate_stimuli
    from gazemodels.errors import DatasetFormatError
    from gazemodels.models.scanpath.base import load_image
    from gazemodels.models.scanpath.oat_data import target_object

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--stimuli {p}: no such file")
    df = read_table(p, kind="stimulus table",
                    str_columns=("stimulus", "path", OBJECT_BOXES_ALIAS) + BOX_COLUMNS)
    if len(df) == 0:
        raise DatasetFormatError(p, "the stimulus table has no rows")
    dup_cols = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if dup_cols:
        raise DatasetFormatError(p, f"duplicated column name(s) {dup_cols}")
    if "stimulus" not in df.columns:
        raise DatasetFormatError(p, f"needs a 'stimulus' column; it has {list(df.columns)}")
    if OBJECT_BOXES_ALIAS in df.columns:
        if "object_boxes" in df.columns:
            raise DatasetFormatError(p, f"has both 'object_boxes' and {OBJECT_BOXES_ALIAS!r}; keep one")
        df = df.rename(columns={OBJECT_BOXES_ALIAS: "object_boxes"})
    df.index = pd.RangeIndex(1, len(df) + 1)  # rows as a person counts them after the header
    empty = df["stimulus"].map(_missing)
    if empty.any():
        raise DatasetFormatError(p, f"column 'stimulus' is empty on row(s) {df.index[empty.to_numpy()].tolist()[:8]}")
    df["stimulus"] = df["stimulus"].astype(str)

    base = Path(image_dir) if image_dir is not None else p.parent
    paths = []
    for v in df["path"] if "path" in df.columns else [None] * len(df):
        paths.append(None if _missing(v) else str(v if Path(str(v)).is_absolute() else base / str(v)))
    df["path"] = pd.Series(paths, index=df.index, dtype=object)
    absent = df["path"].map(lambda q: q is not None and not Path(q).is_file())
    if absent.any():
        first = df.loc[absent, "path"].iloc[0]
        raise DatasetFormatError(p, f"column 'path': image file(s) not found on row(s) {_rows(df, absent)}, "
                                    f"e.g. {first}")

    for col in ("width", "height"):
        if col not in df.columns:
            df[col] = np.nan
    no_size = df["width"].map(_missing) | df["height"].map(_missing)
    no_image = df["path"].isna()
    if (no_size & no_image).any():
        raise DatasetFormatError(p, f"row(s) {_rows(df, no_size & no_image)} have no width/height and no "
                                    "image (path) to read them from")
    df["width"] = df["width"].astype(object)
    df["height"] = df["height"].astype(object)
    for i in df.index[no_size.to_numpy()]:
        img = load_image(df.at[i, "path"])
        df.at[i, "width"], df.at[i, "height"] = float(img.shape[1]), float(img.shape[0])
    if "px_per_degree" not in df.columns:
        df["px_per_degree"] = float(px_per_degree)
    validate_stimuli(df, source=f"{p} (rows counted from 1 after the header)")
    for col in ("width", "height", "px_per_degree"):
        df[col] = pd.to_numeric(df[col]).astype(float)

    for col in BOX_COLUMNS:
        if col not in df.columns:
            continue
        parsed = []
        for i, r in df.iterrows():
            v = r[col]
            if _missing(v):
                parsed.append(None)
                continue
            try:
                b = _boxes(v, r["stimulus"], r["width"], r["height"], single=col == "target_bbox")
            except ValueError as e:
                raise DatasetFormatError(p, f"row {i} (stimulus {r['stimulus']!r}), column {col!r}: {e}") from None
            parsed.append(b[0] if col == "target_bbox" else b)
        df[col] = pd.Series(parsed, index=df.index, dtype=object)
    if {"object_boxes", "target_bbox"} <= set(df.columns):
        for i, r in df.iterrows():
            if r["object_boxes"] is not None and r["target_bbox"] is not None:
                if target_object(np.asarray(r["object_boxes"]), r["target_bbox"]) < 0:
                    raise DatasetFormatError(p, f"row {i} (stimulus {r['stimulus']!r}), column 'target_bbox': "
                                                f"{list(r['target_bbox'])} overlaps none of the row's object_boxes")
    return df.reset_index(drop=True)


def write_stimulus_table(stimuli: pd.DataFrame, path) -> None:
    """Write a stimulus table that :func:`read_stimulus_table` (``--stimuli``) reads back.

    Box columns (``object_boxes``, ``target_bbox``, and the schema's ``objects``) become JSON
    lists; missing boxes stay empty cells.

    Parameters
    ----------
    stimuli : pandas.DataFrame
        A stimulus table.
    path : str or os.PathLike
        ``.csv``, ``.csv.gz`` or ``.parquet``.
    """
    from gazemodels.cli.score import _write_table

    out = stimuli.copy()
    for col in (*BOX_COLUMNS, OBJECT_BOXES_ALIAS):
        if col in out.columns:
            out[col] = [None if _missing(v) else json.dumps(_as_list(v)) for v in out[col]]
    _write_table(out, str(path))


def check_model_inputs(model, stimuli: pd.DataFrame, source: str, model_name: str) -> None:
    """Check that every stimulus gives what the model reads: image, object boxes, target.

    Parameters
    ----------
    model : ScanpathModel
        The model; the optional attributes ``needs_objects``, ``needs_target`` and ``uses_target``
        (:class:`~gazemodels.models.scanpath.oat.OATModel`) say what it reads besides the image.
    stimuli : pandas.DataFrame
        From :func:`read_stimulus_table` or :func:`image_stimuli`.
    source : str
        Where the stimuli came from (``--stimuli FILE`` or ``--images DIR``), for the messages.
    model_name : str
        The ``--model`` argument.

    Raises
    ------
    ValueError
        Naming the rows that lack what the model needs.
    """
    def lacking(col):
        if col not in stimuli.columns:
            return np.ones(len(stimuli), dtype=bool)
        return stimuli[col].map(_missing).to_numpy()

    named = stimuli.set_index(pd.RangeIndex(1, len(stimuli) + 1))
    hint = "" if source.startswith("--stimuli") else " (give --stimuli TABLE; see --help)"
    needs = [("path", getattr(model, "needs_image", True), "reads the image"),
             ("object_boxes", getattr(model, "needs_objects", False), "predicts over the display's objects"),
             ("target_bbox", getattr(model, "needs_target", False), "encodes the target")]
    for col, need, why in needs:
        bad = lacking(col)
        if need and bad.any():
            raise ValueError(f"model {model_name} {why} and needs column {col!r} on every row; {source} "
                             f"lacks it on row(s) {_rows(named, bad)}{hint}")
    bad = lacking("target_bbox")
    if getattr(model, "uses_target", False) and bad.any():
        print(f"gazemodels predict: warning: model {model_name} uses the search target, and {int(bad.sum())} "
              f"of {len(stimuli)} stimuli have no target_bbox in {source}: it predicts them with an unknown "
              f"target{hint}", file=sys.stderr)


def _read_captions(path: str, stimuli):
    from gazemodels.errors import DatasetFormatError

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--caption-file {p}: no such file")
    try:
        cap = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DatasetFormatError(p, f"cannot be read as CSV: {e}") from None
    if not {"stimulus", "caption"} <= set(cap.columns):
        raise DatasetFormatError(p, f"needs columns stimulus,caption; it has {list(cap.columns)}")
    cap = cap[cap["caption"].str.strip() != ""]
    dup = cap["stimulus"][cap["stimulus"].duplicated()].tolist()
    if dup:
        raise DatasetFormatError(p, f"more than one caption for {dup[:5]}")
    by_name = dict(zip(cap["stimulus"], cap["caption"]))
    missing = [s for s in stimuli["stimulus"] if s not in by_name]
    if missing:
        raise DatasetFormatError(p, f"no caption for image(s) {missing[:8]}"
                                 + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    return stimuli.assign(caption=stimuli["stimulus"].map(by_name))


def _build_model(args, params: dict):
    from gazemodels.models import get_model, load_model

    spec = args.model
    looks_like_file = spec.endswith(".pt") or "/" in spec or Path(spec).is_file()
    if looks_like_file:
        model = load_model(spec)
        if params:  # only settings of how a fitted model predicts, e.g. OAT's decoding
            if not hasattr(model, "set_predict_settings"):
                raise ValueError("--param cannot change a saved model; fit and save it again")
            model.set_predict_settings(**params)
    else:
        model = get_model(spec, **params)
    if not hasattr(model, "predict"):
        raise ValueError(f"--model {spec}: not a scanpath model")
    return model


def _fit(model, args, stimuli):
    from gazemodels.cli.score import _parse_screen, read_fixation_table

    human = read_fixation_table(args.fit_fixations)
    fit_stimuli = stimuli  # with object boxes and targets, for models that learn from them
    others = sorted(set(human["stimulus"]) - set(fit_stimuli["stimulus"]))
    if others:
        screen = _parse_screen(args.fit_screen)
        if screen is None:
            raise ValueError(
                f"--fit-fixations {args.fit_fixations}: {len(others)} stimulus/stimuli are not in --images/--stimuli "
                f"(e.g. {others[:3]}); give their size with --fit-screen WIDTHxHEIGHT"
            )
        extra = pd.DataFrame({"stimulus": others, "path": None, "width": screen[0], "height": screen[1],
                              "px_per_degree": args.px_per_degree})
        fit_stimuli = pd.concat([fit_stimuli, extra], ignore_index=True)
    model.fit(human, fit_stimuli)


def _model_settings(model) -> dict:
    out = {}
    for k, v in vars(model).items():
        if isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
    return out


def _predict(args) -> int:
    from tqdm.auto import tqdm

    from gazemodels import __version__
    from gazemodels.cli.score import _parse_params, _write_table
    from gazemodels.models import list_models, save_model
    from gazemodels.models.scanpath.base import check_predict_args

    if args.list:
        from gazemodels.models import get_model_spec

        for name in list_models("scanpath"):
            print(f"{name:<16} {get_model_spec(name).summary}")
        return 0
    if not args.model or not (args.images or args.stimuli) or not args.out:
        raise ValueError("--model, --images DIR or --stimuli TABLE, and --out are required")
    check_predict_args(args.n_scanpaths, args.n_fixations, args.seed)
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.px_per_degree > 0:
        raise ValueError(f"--px-per-degree must be positive, got {args.px_per_degree}")

    model = _build_model(args, _parse_params(args.param))
    if args.stimuli:
        if args.images and not Path(args.images).is_dir():
            raise FileNotFoundError(f"--images {args.images}: no such folder")
        stimuli = read_stimulus_table(args.stimuli, px_per_degree=args.px_per_degree, image_dir=args.images)
        source = f"--stimuli {args.stimuli}"
    else:
        stimuli = image_stimuli(_list_images(args.images), args.px_per_degree)
        source = f"--images {args.images}"
    check_model_inputs(model, stimuli, source, args.model)
    if getattr(model, "needs_caption", False):
        if "caption" in stimuli.columns:  # the model's predict names the stimuli without one
            if args.caption_file:
                raise ValueError(f"{source} has a caption column and --caption-file is given: use one of them")
        elif not args.caption_file:
            raise ValueError(f"model {args.model} needs a caption per image: give --caption-file "
                             "(CSV with columns stimulus,caption) or a caption column in --stimuli")
        else:
            stimuli = _read_captions(args.caption_file, stimuli)
    elif args.caption_file:
        print(f"gazemodels predict: warning: model {args.model} does not use captions; "
              f"--caption-file is ignored", file=sys.stderr)
    if args.fit_fixations:
        _fit(model, args, stimuli)
    if args.save_model:
        save_model(model, args.save_model)

    tables = []
    t0 = time.perf_counter()
    with tqdm(total=len(stimuli), unit="image", desc=f"predict {args.model}", file=sys.stderr) as bar:
        for start in range(0, len(stimuli), args.batch_size):
            batch = stimuli.iloc[start:start + args.batch_size]
            tables.append(model.predict(batch, n_scanpaths=args.n_scanpaths, n_fixations=args.n_fixations,
                                        seed=args.seed))
            bar.update(len(batch))
    elapsed = time.perf_counter() - t0
    out = pd.concat(tables, ignore_index=True)
    _write_table(out, args.out)
    per_image = elapsed / len(stimuli)
    meta = {
        "model": getattr(model, "name", "") or args.model,
        "model_arg": args.model,
        "settings": _model_settings(model),
        "seed": args.seed,
        "n_scanpaths": args.n_scanpaths,
        "n_fixations": args.n_fixations,
        "px_per_degree": args.px_per_degree,
        "images": None if args.images is None else str(args.images),
        "stimuli": None if args.stimuli is None else str(args.stimuli),
        "n_images": len(stimuli),
        "fit_fixations": args.fit_fixations,
        "seconds_per_image": per_image,
        "gazemodels_version": __version__,
    }
    Path(str(args.out) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    what = "image(s)" if "path" in stimuli and stimuli["path"].notna().all() else "display(s)"
    print(f"{len(out)} fixations: {args.n_scanpaths} scanpath(s) x {args.n_fixations} fixation(s) on "
          f"{len(stimuli)} {what} written to {args.out}")
    print(f"time per image: {per_image:.3f} s ({elapsed:.1f} s for {len(stimuli)} {what}, model {args.model})")
    return 0

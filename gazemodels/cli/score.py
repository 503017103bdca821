"""``gazemodels score``: score predicted scanpaths against human scanpaths.

Reads two fixation tables (CSV or parquet), validates them, pairs every
predicted scanpath with every human scanpath on the same stimulus, scores each
pair with scanpath metrics looked up by name in
:mod:`gazemodels.metrics.scanpath`, writes one row per pair, and prints a
summary with bootstrap confidence intervals and, on request, the human
leave-one-subject-out consistency ceiling of each metric.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

_PAIR_KEYS = ["stimulus", "pred_subject", "pred_trial", "human_subject", "human_trial"]
_PROGRESS_MIN_PAIRS = 2000  # show a progress bar from this many pairs on


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``score`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level sub-parsers.
    """
    p = sub.add_parser(
        "score",
        help="score predicted scanpaths against human scanpaths",
        description="Pair every predicted scanpath with every human scanpath on the same "
        "stimulus, score each pair with the named scanpath metrics, write one row per pair "
        "and print the mean of each metric with a bootstrap confidence interval over stimuli. "
        "Each predicted scanpath's score is its mean over the human scanpaths of its stimulus; "
        "--ceiling adds the human leave-one-subject-out consistency, computed the same way "
        "with each human in turn in the place of the prediction.",
    )
    p.add_argument("--pred", required=True, help="predicted fixation table (.csv, .csv.gz, .tsv or .parquet)")
    p.add_argument("--human", required=True, help="human fixation table (same formats)")
    p.add_argument("--metric", default="multimatch",
                   help="comma-separated scanpath metric names (default: multimatch); "
                   "see gazemodels.metrics.scanpath.list_metrics()")
    p.add_argument("--screen", help="screen (stimulus) size WIDTHxHEIGHT in px, e.g. 1680x1050; "
                   "fixations must lie on it, and metrics that normalise by it use it")
    p.add_argument("--out", help="write the per-pair scores here (.csv or .parquet)")
    p.add_argument("--summary", help="also write the summary as JSON here")
    p.add_argument("--ceiling", action="store_true", help="also compute the human consistency ceiling")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples of the confidence intervals (default 1000; 0: none)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes for large sets (-1: all cores)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="metric parameter, repeatable, e.g. --param grouping=true")
    p.add_argument("--objects", metavar="TABLE",
                   help="object boxes for object-based metrics (semantic_ss, edit_distance_aoi): an object "
                        "table (stimulus, object, x, y, w, h in px) or a --stimuli table of `gazemodels predict` "
                        "with object_boxes; fixations of a table without an `object` column are labelled with "
                        "the box that contains them (none: no object)")
    p.add_argument("--allow-offscreen", action="store_true",
                   help="keep fixations that lie outside --screen instead of rejecting the file")
    p.set_defaults(func=_score)


# --------------------------------------------------------------------------- input


def _parse_screen(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (float(v) for v in parts)
    except ValueError:
        raise ValueError(f"--screen must be WIDTHxHEIGHT in px, e.g. 1680x1050; got {text!r}") from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise ValueError(f"--screen must be positive, got {text!r}")
    return (w, h)


def _parse_value(v: str):
    low = v.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def _parse_params(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param must be KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = _parse_value(v)
    return out


def read_table(path: str | Path, *, kind: str = "fixation table", str_columns=("stimulus", "subject")) -> pd.DataFrame:
    """Read a table from CSV/TSV (optionally gzipped) or parquet.

    Parameters
    ----------
    path : str or Path
        The file.
    kind : str, default ``"fixation table"``
        What the table is, for error messages.
    str_columns : sequence of str
        Columns read as strings from CSV/TSV (so that identifiers such as ``"001"``
        survive); absent ones are ignored.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DatasetNotFoundError
        If the file does not exist.
    DatasetFormatError
        If it cannot be parsed, or its format is unknown.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(f"{p}: no such file")
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            df = pd.read_parquet(p)
        elif name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
            sep = "\t" if ".tsv" in name else ","
            df = pd.read_csv(p, sep=sep, dtype=dict.fromkeys(str_columns, str))
        else:
            raise DatasetFormatError(p, "unknown format; use .csv, .csv.gz, .tsv or .parquet")
    except ImportError:
        raise DatasetFormatError(p, "reading parquet needs pyarrow or fastparquet, and neither is "
                                 "installed; install one (pip install pyarrow) or convert the file to CSV") from None
    except DatasetFormatError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as e:
        raise DatasetFormatError(p, f"cannot be read as a {kind}: {e}") from None
    return df


def read_fixation_table(path: str | Path) -> pd.DataFrame:
    """Read a fixation table from CSV/TSV (optionally gzipped) or parquet (:func:`read_table`).

    ``stimulus`` and ``subject`` are read as strings so that identifiers such as ``"001"``
    survive; the errors are those of :func:`read_table`.
    """
    df = read_table(path)
    if "stimulus" in df.columns:
        df["stimulus"] = df["stimulus"].astype(str)
    return df


def _load(path: str, screen, allow_offscreen: bool) -> pd.DataFrame:
    from gazemodels.data.validate import validate_fixations
    from gazemodels.errors import FixationTableError

    df = read_fixation_table(path)
    stimuli = None
    if screen is not None and "stimulus" in df.columns:
        stimuli = pd.DataFrame({"stimulus": pd.unique(df["stimulus"]), "width": screen[0], "height": screen[1]})
    try:
        validate_fixations(df, stimuli, allow_offscreen=allow_offscreen, source=str(path))
    except FixationTableError as e:
        msg = str(e).replace("pass allow_offscreen=True", "pass --allow-offscreen")
        raise FixationTableError(msg.replace("lie off their stimulus", "lie off the --screen")) from None
    if len(df) == 0:
        raise DatasetFormatError(path, "the fixation table has no rows")
    return df


# --------------------------------------------------------------------------- scoring


def _metric_params(specs, screen, params: dict) -> dict:
    """Parameters for the metrics, checking that each gets what it requires."""
    out = dict(params)
    if screen is not None:
        out.setdefault("screen_size", screen)
    known = set()
    for spec in specs:
        sig = inspect.signature(spec.batch).parameters
        known |= set(sig)
        need = [k for k, p in sig.items() if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and k not in ("scanpaths", "pairs")]
        lacking = [k for k in need if k not in out]
        if lacking:
            hint = " (give --screen WIDTHxHEIGHT)" if "screen_size" in lacking else " (give --param KEY=VALUE)"
            raise ValueError(f"metric {spec.name!r} needs {', '.join(lacking)}{hint}")
    unused = sorted(k for k in params if k not in known)
    if unused:
        raise ValueError(f"--param {', '.join(unused)}: not a parameter of metric(s) "
                         f"{', '.join(s.name for s in specs)}")
    return out


def _score_pairs(pred, human, names, params, n_jobs) -> pd.DataFrame:
    from tqdm.auto import tqdm

    from gazemodels.data.schema import SCANPATH_KEYS
    from gazemodels.metrics.scanpath import pairwise

    n_pred = pred.drop_duplicates(list(SCANPATH_KEYS)).groupby("stimulus").size()
    n_hum = human.drop_duplicates(list(SCANPATH_KEYS)).groupby("stimulus").size()
    per_stim = (n_pred * n_hum.reindex(n_pred.index)).astype(int)
    total = int(per_stim.sum())
    stims = list(per_stim.index)
    n_chunks = 1 if total < _PROGRESS_MIN_PAIRS else min(len(stims), 50)
    chunks = np.array_split(np.arange(len(stims)), n_chunks)
    frames = []
    with tqdm(total=total, unit="pair", desc="score", file=sys.stderr, leave=False,
              disable=True if total < _PROGRESS_MIN_PAIRS else None) as bar:
        for idx in chunks:
            sel = [stims[i] for i in idx]
            out = pairwise(pred[pred["stimulus"].isin(sel)], names, by="stimulus",
                           against=human[human["stimulus"].isin(sel)], n_jobs=n_jobs, **params)
            frames.append(out)
            bar.update(int(per_stim.loc[sel].sum()))
    out = pd.concat(frames, ignore_index=True)
    return out.rename(columns={"subject_1": "pred_subject", "trial_1": "pred_trial",
                               "subject_2": "human_subject", "trial_2": "human_trial",
                               "n_fix_1": "pred_n_fix", "n_fix_2": "human_n_fix"})


def _summarise(pairs: pd.DataFrame, columns, n_boot, level, seed) -> dict:
    """Mean per predicted scanpath over its human partners, then over scanpaths, with a stimulus bootstrap."""
    from gazemodels.metrics.bootstrap import cluster_bootstrap_ci

    per_sp = pairs.groupby(["stimulus", "pred_subject", "pred_trial"], sort=True)[list(columns)].mean().reset_index()
    out = {}
    for c in columns:
        ok = per_sp[c].notna().to_numpy()
        entry = {"n_pairs": int(pairs[c].notna().sum()), "n_nan": int(pairs[c].isna().sum())}
        if ok.any():
            r = cluster_bootstrap_ci(per_sp.loc[ok, c].to_numpy(), per_sp.loc[ok, "stimulus"].to_numpy(),
                                     n_boot=n_boot, level=level, seed=seed)
            entry.update(mean=r.estimate, ci_low=r.low, ci_high=r.high)
        else:
            entry.update(mean=math.nan, ci_low=math.nan, ci_high=math.nan)
        out[c] = entry
    return out


def _fmt(v: float) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"


def _json_safe(obj):
    """NaN -> None and numpy scalars -> Python, so that the summary is valid JSON."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _write_table(df: pd.DataFrame, path: str) -> None:
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    if p.name.lower().endswith((".parquet", ".pq")):
        try:
            df.to_parquet(p, index=False)
        except ImportError:
            raise DatasetFormatError(p, "writing parquet needs pyarrow or fastparquet, and neither is "
                                     "installed; write .csv instead") from None
    else:
        df.to_csv(p, index=False)


def _read_objects(path: str) -> pd.DataFrame:
    """Object boxes from ``--objects``: an object table, or a stimulus table with ``object_boxes``."""
    from gazemodels.data.aoi import as_object_table

    table = read_table(path, kind="object table", str_columns=("stimulus",))
    if "object_boxes" in table.columns:
        from gazemodels.cli.predict import read_stimulus_table

        stim = read_stimulus_table(path)
        boxes = {str(r.stimulus): list(r.object_boxes) for r in stim.itertuples() if r.object_boxes is not None}
        if not boxes:
            raise DatasetFormatError(path, "its object_boxes column is empty in every row")
        return as_object_table(boxes)
    return as_object_table(table)


def _label_objects(df: pd.DataFrame, objects: pd.DataFrame, source: str) -> pd.DataFrame:
    """Add the ``object`` column to a fixation table that lacks one (a table with one keeps it)."""
    from gazemodels.data.aoi import map_to_objects

    if "object" in df.columns:
        return df
    lacking = sorted(set(df["stimulus"].astype(str)) - set(objects["stimulus"].astype(str)))
    if lacking:
        raise DatasetFormatError(source, f"{len(lacking)} stimulus/stimuli have no boxes in --objects, "
                                         f"e.g. {lacking[:5]}")
    return map_to_objects(df.assign(stimulus=df["stimulus"].astype(str)), objects)


def _score(args) -> int:
    from gazemodels.metrics.scanpath import get_metric

    names = [n.strip().lower() for n in args.metric.split(",") if n.strip()]
    if not names:
        raise ValueError("--metric: give at least one metric name")
    specs = [get_metric(n) for n in names]  # KeyError naming the known metrics -> exit 2
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    if not 0 < args.level < 1:
        raise ValueError(f"--level must lie in (0, 1), got {args.level}")
    screen = _parse_screen(args.screen)
    params = _metric_params(specs, screen, _parse_params(args.param))

    pred = _load(args.pred, screen, args.allow_offscreen)
    human = _load(args.human, screen, args.allow_offscreen)
    pred_stims = set(pred["stimulus"])
    human_stims = set(human["stimulus"])
    common = pred_stims & human_stims
    if not common:
        raise DatasetFormatError(
            args.pred, f"none of its {len(pred_stims)} stimuli appears in {args.human} "
            f"(e.g. {sorted(pred_stims)[:3]} vs {sorted(human_stims)[:3]})"
        )
    unmatched = sorted(pred_stims - human_stims)
    if unmatched:
        print(f"gazemodels score: warning: {len(unmatched)} stimulus/stimuli of {args.pred} have no human "
              f"scanpaths and are skipped, e.g. {unmatched[:5]}", file=sys.stderr)
    pred = pred[pred["stimulus"].isin(common)]
    human = human[human["stimulus"].isin(common)]
    if args.objects:
        objects = _read_objects(args.objects)
        pred = _label_objects(pred, objects, args.pred)
        human = _label_objects(human, objects, args.human)
    for spec in specs:
        if "object" in spec.needs and not ("object" in pred.columns and "object" in human.columns):
            raise ValueError(f"metric {spec.name!r} compares fixated objects: both tables need an `object` "
                             "column, or give --objects TABLE with the boxes")

    pairs = _score_pairs(pred, human, names, params, args.jobs)
    columns = [c for s in specs for c in s.columns]
    pairs = pairs[_PAIR_KEYS + ["pred_n_fix", "human_n_fix"] + columns + ["reason"]]
    if args.out:
        _write_table(pairs, args.out)

    summary = _summarise(pairs, columns, args.bootstrap, args.level, args.seed)
    if args.ceiling:
        from gazemodels.metrics.consistency import human_consistency

        cons = human_consistency(human, names, metric_params=params, n_jobs=args.jobs,
                                 n_boot=args.bootstrap, level=args.level, seed=args.seed)
        for c in columns:
            r = cons.summary.get(c)
            summary[c].update(ceiling=r.estimate, ceiling_low=r.low, ceiling_high=r.high)

    direction = {c: ("higher" if s.higher_is_better else "lower") for s in specs for c in s.columns}
    n_sp = pairs.groupby(["stimulus", "pred_subject", "pred_trial"]).ngroups
    print(f"{len(pairs)} pairs: {n_sp} predicted scanpath(s) x the human scanpaths of their stimulus, "
          f"{len(common)} stimuli")
    pct = f"{round(100 * args.level):d}% CI"
    head = f"{'metric':<28} {'better':>6} {'mean':>8}  {pct:<20} {'pairs':>7} {'NaN':>6}"
    if args.ceiling:
        head += f"  {'human ceiling':>13}  {pct:<20}"
    print(head)
    for c in columns:
        e = summary[c]
        line = (f"{c:<28} {direction[c]:>6} {_fmt(e['mean']):>8}  "
                f"{'[' + _fmt(e['ci_low']) + ', ' + _fmt(e['ci_high']) + ']':<20} {e['n_pairs']:>7} {e['n_nan']:>6}")
        if args.ceiling:
            line += (f"  {_fmt(e['ceiling']):>13}  "
                     f"{'[' + _fmt(e['ceiling_low']) + ', ' + _fmt(e['ceiling_high']) + ']':<20}")
        print(line)
    n_reason = int(pairs["reason"].notna().sum())
    if n_reason:
        first = pairs.loc[pairs["reason"].notna(), "reason"].iloc[0]
        print(f"{n_reason} pair(s) have undefined (NaN) values, e.g.: {first}")
    if args.out:
        print(f"per-pair scores written to {args.out}")
    if args.summary:
        info = {"pred": str(args.pred), "human": str(args.human), "metrics": names,
                "screen": list(screen) if screen else None, "bootstrap": args.bootstrap,
                "level": args.level, "seed": args.seed, "n_pairs": int(len(pairs)),
                "n_stimuli": len(common), "scores": summary}
        Path(args.summary).write_text(json.dumps(_json_safe(info), indent=2) + "\n")
    return 0

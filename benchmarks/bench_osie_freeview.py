#!/usr/bin/env python
"""Free-viewing scanpath benchmark on OSIE: registered scanpath models against 15 human observers.

Protocol
--------
1. **Split.** The OSIE stimuli whose images are present (600 of 700 in
   ``../shared/data/osie``) are sorted by name and permuted with
   ``numpy.random.default_rng(SPLIT_SEED)``, ``SPLIT_SEED = 20240601``; the
   first half (300 images) is the *fitting* half, the second the *evaluation*
   half. ``--n-images N`` evaluates the first N images of the evaluation half
   in that fixed order (a quick, reproducible subset); fitting always uses the
   whole fitting half.
2. **Fit.** Every model is ``fit(fixations, stimuli)`` on the human data of the
   fitting half only: this fits the duration model (gamma ML,
   :mod:`gazemodels.models.scanpath.durations`) of every model, the centre
   density of ``centre`` and the scanpath pool of ``human-shuffled`` (which
   thus never sees an evaluation image).
3. **Predict.** ``--n-scanpaths`` (default 15) scanpaths per evaluation image,
   of ``--n-fixations`` fixations (default: the median human scanpath length of
   the fitting half, 9), seed ``--seed``; the wall time per image is measured.
4. **Score.** Every predicted scanpath is scored against every human scanpath
   of its image (15 observers) with MultiMatch (vector, direction, length,
   position; Jarodzka et al. 2010, Dewhurst et al. 2012, no simplification),
   ScanMatch (Cristino et al. 2010; 12 x 8 grid, threshold 3.5, gap 0, no
   temporal binning), the sequence score on an 8 x 6 grid (Yang et al. 2020's
   score on grid strings) and the normalised string edit distance on a 5 x 5 grid
   (Levenshtein; Privitera & Stark 2000; lower is better). A predicted
   scanpath's score is its mean over the human scanpaths; the model's score is
   the mean over its scanpaths with a 95% percentile bootstrap interval that
   resamples images (:func:`gazemodels.metrics.cluster_bootstrap_ci`,
   ``--n-boot`` resamples). ``MM mean`` is the mean of the four MultiMatch
   dimensions per pair.
5. **Ceiling.** The leave-one-subject-out human consistency
   (:func:`gazemodels.metrics.human_consistency`): each observer against the
   other observers of the image, scored and summarised the same way.

6. **Conditional metrics** (:func:`run_conditional`; off with ``--no-conditional``).
   For the models that give a density of the next fixation (``freeview``, the
   fixation-conditioned model of :mod:`gazemodels.models.scanpath.freeview`,
   and ``centre`` as a history-independent density), every human fixation after
   the first on the evaluation images is scored under the model's density given
   the fixations before it (Kümmerer, Bethge & Wallis 2022): cNSS, cAUC, cIG in
   bits per fixation over the centre-bias density fitted on the fitting half,
   and cLL, on a 60 x 80 grid; pooled over fixations, bootstrap CIs over images.

7. **Tuning on the fitting half** (``--half fitting``). Settings of a model (NeVA's
   foveation and search, the free-viewing model's sampling temperature) are chosen
   on images of the *fitting* half only: ``--half fitting --n-images N`` scores the
   first N images of the fitting half (in its fixed permuted order) the same way.
   The models are still fitted on the whole fitting half, so there the fitted
   baselines (``centre``'s density, ``human-shuffled``'s pool, which leaves out the
   image's own scanpaths) are in-sample: a fitting-half table compares settings of one
   model, it is not a result. ``benchmarks/tune_neva_osie.py`` runs the sweeps.
8. **Long runs** (``--save-predictions PATH`` and ``--predictions MODEL=PATH``). A
   slow model (NeVA: tens of seconds per image on a CPU) is predicted image by image
   into ``PATH`` (a fixation table, appended to after every image, with the seconds
   per image in ``PATH.times.csv``); a killed run resumes where it stopped. The
   benchmark then scores those predictions with ``--predictions neva=PATH`` (the
   first ``--n-images`` images must all be there) next to the models it predicts
   itself, on the same images; the table's s/image of a saved model is the mean of
   its recorded times.

Output: a Markdown table on stdout and, with ``--out DIR``, ``results.csv``,
``results.json``, ``per_scanpath.csv`` and ``table.md`` (plus
``conditional.csv`` and ``conditional_per_fixation.csv``).

Usage::

    .venv/bin/python benchmarks/bench_osie_freeview.py --models centre,saliency,random,human-shuffled \\
        --n-images 60 --out results/osie_freeview
    .venv/bin/python benchmarks/bench_osie_freeview.py --models neva --param neva.device=cuda --batch-size 8
    .venv/bin/python benchmarks/bench_osie_freeview.py --models centre,freeview \\
        --param freeview.checkpoint=runs/freeview_osie/best.pt
    # the fitted free-viewing model with minimum-Bayes-risk decoding (settings chosen on the
    # fitting half, benchmarks/tune_neva_osie.py), predicted first, then scored with the others
    .venv/bin/python benchmarks/bench_osie_freeview.py --models freeview \\
        --param freeview.checkpoint=runs/freeview_osie/best.pt --param freeview.decode=mbr \\
        --param freeview.mbr_candidates=32 --save-predictions results/freeview_mbr_pred.csv
    .venv/bin/python benchmarks/bench_osie_freeview.py \\
        --models centre,saliency,random,human-shuffled,freeview,neva \\
        --predictions freeview=results/freeview_mbr_pred.csv --predictions neva=results/neva_eval_pred.csv \\
        --param freeview.checkpoint=runs/freeview_osie/best.pt --out results/osie_freeview_mbr
    # NeVA, predicted image by image (resumable), then scored with the other models
    .venv/bin/python benchmarks/bench_osie_freeview.py --models neva --param neva.num_threads=1 \\
        --n-images 100 --save-predictions results/neva_eval_pred.csv
    .venv/bin/python benchmarks/bench_osie_freeview.py --models neva,centre --n-images 100 \\
        --predictions neva=results/neva_eval_pred.csv --out results/osie_freeview_neva_100

``--param MODEL.KEY=VALUE`` (repeatable) passes keyword arguments to a model.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gazemodels.datasets.splits import OSIE_SPLIT_SEED, fixed_halves  # noqa: E402
from gazemodels.metrics import cluster_bootstrap_ci, human_consistency  # noqa: E402
from gazemodels.metrics.scanpath import pairwise  # noqa: E402
from gazemodels.models import get_model  # noqa: E402
from gazemodels.models.scanpath.mbr import MBRDecoder  # noqa: E402

SPLIT_SEED = OSIE_SPLIT_SEED
"""Seed of the fixed permutation that splits the OSIE images into fitting and evaluation halves (20240601)."""

HALVES: tuple[str, ...] = ("evaluation", "fitting")
"""The halves that can be scored: ``evaluation`` for results, ``fitting`` for tuning (docstring, item 7)."""

MM_DIMS = ("multimatch_vector", "multimatch_direction", "multimatch_length", "multimatch_position")

METRIC_GROUPS: tuple[tuple[tuple[str, ...], dict], ...] = (
    (("multimatch", "scanmatch"), {}),  # ScanMatch toolbox defaults: 12 x 8 grid, threshold 3.5
    (("ss",), {"encoding": "grid", "grid": (8, 6)}),
    (("edit_distance",), {"grid": (5, 5)}),
)
"""Registered metrics and their parameters; ``screen_size`` (the image size) is added."""

COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("multimatch_vector", "MM vector", True),
    ("multimatch_direction", "MM direction", True),
    ("multimatch_length", "MM length", True),
    ("multimatch_position", "MM position", True),
    ("mm_mean", "MM mean", True),
    ("scanmatch", "ScanMatch", True),
    ("ss", "SS (grid 8x6)", True),
    ("edit_distance_norm", "ED (5x5, norm.)", False),
)
"""(column, table heading, higher is better) of the reported scores."""


def split_stimuli(stimuli: pd.DataFrame, seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """The fixed fitting and evaluation halves of the stimuli that have an image.

    The split lives in :func:`gazemodels.datasets.splits.fixed_halves`, shared
    with the models fitted for this benchmark (``experiments/freeview_osie.toml``).

    Parameters
    ----------
    stimuli : pandas.DataFrame
        Stimulus table; rows without ``path`` are left out.
    seed : int
        Seed of the permutation.

    Returns
    -------
    fit_names, eval_names : list of str
        Stimulus names; the evaluation half in its fixed (permuted) order.
    """
    return fixed_halves(stimuli, seed)


def score_pairs(pred: pd.DataFrame, human: pd.DataFrame, stimuli: pd.DataFrame) -> pd.DataFrame:
    """Score every predicted scanpath against every human scanpath of its image.

    Parameters
    ----------
    pred, human : pandas.DataFrame
        Fixation tables.
    stimuli : pandas.DataFrame
        Stimulus table (sizes; the screen of the metrics is the image).

    Returns
    -------
    pandas.DataFrame
        One row per (predicted, human) pair: ``stimulus, subject_1, trial_1,
        subject_2, trial_2`` and the metric columns, plus ``mm_mean``.
    """
    keys = ["stimulus", "subject_1", "trial_1", "subject_2", "trial_2"]
    out = None
    for names, params in METRIC_GROUPS:
        r = pairwise(pred, list(names), by="stimulus", against=human, screen_size=stimuli, **params)
        vals = [c for c in r.columns if c not in keys and c not in ("n_fix_1", "n_fix_2", "reason")]
        r = r[keys + vals]
        out = r if out is None else out.merge(r, on=keys, how="outer", validate="one_to_one")
    out["mm_mean"] = out[list(MM_DIMS)].mean(axis=1, skipna=False)
    return out


def human_ceiling(human: pd.DataFrame, stimuli: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-subject-out human consistency per (stimulus, held-out subject).

    Parameters
    ----------
    human : pandas.DataFrame
        Human fixation table of the evaluation images.
    stimuli : pandas.DataFrame
        Their stimulus table.

    Returns
    -------
    pandas.DataFrame
        ``stimulus, subject`` and one column per metric (the held-out subject's
        mean over the others), plus ``mm_mean``.
    """
    per = None
    for names, params in METRIC_GROUPS:
        r = human_consistency(human, list(names), metric_params={"screen_size": stimuli, **params},
                              n_boot=0)
        if "multimatch_vector" in r.pairs.columns:
            pairs = r.pairs.copy()
            pairs["mm_mean"] = pairs[list(MM_DIMS)].mean(axis=1, skipna=False)
            mm = pairs.groupby(["stimulus", "subject"], sort=True)["mm_mean"].mean().reset_index()
            ps = r.per_subject.merge(mm, on=["stimulus", "subject"])
        else:
            ps = r.per_subject
        per = ps if per is None else per.merge(ps, on=["stimulus", "subject"], validate="one_to_one")
    return per


def summarise(per_unit: pd.DataFrame, n_boot: int, seed: int = 0) -> dict:
    """Mean and image-bootstrap CI of every reported column.

    Parameters
    ----------
    per_unit : pandas.DataFrame
        One row per predicted scanpath (or held-out human) with ``stimulus`` and
        the metric columns.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Bootstrap seed.

    Returns
    -------
    dict
        ``column -> {"mean", "low", "high", "n_images", "n_nan"}``.
    """
    out = {}
    for col, _, _ in COLUMNS:
        if col not in per_unit.columns:
            continue
        ok = per_unit[col].notna().to_numpy()
        if not ok.any():
            out[col] = {"mean": math.nan, "low": math.nan, "high": math.nan, "n_images": 0,
                        "n_nan": int((~ok).sum())}
            continue
        r = cluster_bootstrap_ci(per_unit.loc[ok, col].to_numpy(), per_unit.loc[ok, "stimulus"].to_numpy(),
                                 n_boot=n_boot, seed=seed)
        out[col] = {"mean": r.estimate, "low": r.low, "high": r.high, "n_images": r.n, "n_nan": int((~ok).sum())}
    return out


def _build(name: str, params: dict, mbr_candidates: int | None):
    """The registered model ``name`` with ``params``, wrapped in an MBR decoder when ``mbr_candidates``."""
    model = get_model(name, **params)
    return MBRDecoder(model, mbr_candidates) if mbr_candidates else model


def _parse_params(items: list[str]) -> dict[str, dict]:
    from gazemodels.cli.score import _parse_value

    out: dict[str, dict] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise SystemExit(f"--param must be MODEL.KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        model, k = key.split(".", 1)
        out.setdefault(model, {})[k] = _parse_value(value)
    return out


def run_benchmark(
    fixations: pd.DataFrame,
    stimuli: pd.DataFrame,
    models: list[str],
    *,
    n_images: int | None = None,
    n_scanpaths: int = 15,
    n_fixations: int | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    model_params: dict[str, dict] | None = None,
    split_seed: int = SPLIT_SEED,
    batch_size: int = 1,
    progress: bool = True,
    half: str = "evaluation",
    predictions: dict[str, pd.DataFrame] | None = None,
    prediction_seconds: dict[str, float] | None = None,
    images: list[str] | None = None,
    mbr: dict[str, int] | None = None,
) -> dict:
    """Run the protocol of the module docstring on a fixation and stimulus table.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Human fixation table.
    stimuli : pandas.DataFrame
        Stimulus table (``path`` set where the image exists).
    models : list of str
        Registered scanpath-model names.
    n_images : int, optional
        Evaluate only the first ``n_images`` of the evaluation half.
    n_scanpaths : int
        Scanpaths per image and model.
    n_fixations : int, optional
        Fixations per scanpath; default the median human scanpath length of the fitting half.
    seed : int
        Seed of the models.
    n_boot : int
        Bootstrap resamples.
    model_params : dict, optional
        ``model name -> keyword arguments``.
    split_seed : int
        Seed of the halves.
    batch_size : int
        Images per ``predict`` call (models give the same scanpaths whatever
        the batching; larger batches help models that batch across images).
    progress : bool
        Print progress to stderr.
    half : {"evaluation", "fitting"}
        The half whose images are scored (the first ``n_images`` of it). Models are
        always fitted on the fitting half; ``"fitting"`` is for tuning settings without
        touching the evaluation half (module docstring, item 7).
    predictions : dict, optional
        ``model name -> fixation table`` predicted beforehand (``--save-predictions``):
        scored instead of fitting and predicting that model. It must cover every
        scored image; other images in it are ignored.
    prediction_seconds : dict, optional
        ``model name -> seconds per image`` of those predictions, for the table.
    images : list of str, optional
        Score exactly these images of ``half`` (in this order) instead of its first
        ``n_images``; e.g. the free-viewing model's validation images, a part of the
        fitting half (``benchmarks/tune_neva_osie.py``).
    mbr : dict, optional
        ``model name -> candidates``: decode that model by minimum Bayes risk
        (:class:`gazemodels.models.scanpath.mbr.MBRDecoder`).

    Returns
    -------
    dict
        ``summary`` (model -> column -> mean/low/high), ``ceiling``, ``seconds_per_image``,
        ``per_scanpath`` (DataFrame), ``models`` (name -> fitted model), ``settings``.
    """
    model_params = model_params or {}
    predictions = predictions or {}
    fit_names, eval_names = split_stimuli(stimuli, split_seed)
    if half not in HALVES:
        raise ValueError(f"half must be one of {list(HALVES)}, got {half!r}")
    if half == "fitting":
        eval_names = list(fit_names)
    if images is not None:
        outside = [n for n in images if n not in set(eval_names)]
        if outside:
            raise ValueError(f"images: {len(outside)} are not in the {half} half (first: {outside[:3]})")
        eval_names = list(images)
    if n_images is not None:
        eval_names = eval_names[:n_images]
    stim = stimuli.assign(stimulus=stimuli["stimulus"].astype(str))
    fix = fixations.assign(stimulus=fixations["stimulus"].astype(str))
    fit_stim = stim[stim["stimulus"].isin(fit_names)].reset_index(drop=True)
    eval_stim = stim.set_index("stimulus").loc[eval_names].reset_index()
    fit_fix = fix[fix["stimulus"].isin(fit_names)].reset_index(drop=True)
    eval_fix = fix[fix["stimulus"].isin(eval_names)].reset_index(drop=True)
    if n_fixations is None:
        n_fixations = int(fit_fix.groupby(["stimulus", "subject", "trial"]).size().median())

    def log(msg):
        if progress:
            print(msg, file=sys.stderr, flush=True)

    log(f"fitting half {len(fit_names)} images, evaluating {len(eval_names)} images; "
        f"{n_scanpaths} scanpaths x {n_fixations} fixations per image")
    summary, timing, per_sp_all = {}, {}, []
    fitted = {}  # the fitted models, for the conditional metrics (run_conditional)
    for name in models:
        if name in predictions:
            pred = saved_predictions(predictions[name], eval_names, n_scanpaths, n_fixations, name)
            sec = (prediction_seconds or {}).get(name, math.nan)
            timing[name] = {"seconds_per_image": sec, "fit_seconds": math.nan}
            log(f"{name}: {len(eval_names)} images of saved predictions ({sec:.3f} s/image); scoring ...")
            if name in model_params:  # the model too, for its conditional metrics (e.g. a checkpoint)
                fitted[name] = get_model(name, **model_params[name]).fit(fit_fix, fit_stim)
        else:
            model = _build(name, model_params.get(name, {}), (mbr or {}).get(name))
            t0 = time.perf_counter()
            model.fit(fit_fix, fit_stim)
            fit_s = time.perf_counter() - t0
            fitted[name] = model.model if isinstance(model, MBRDecoder) else model
            t0 = time.perf_counter()
            preds = []
            for i in range(0, len(eval_stim), batch_size):
                preds.append(model.predict(eval_stim.iloc[i:i + batch_size], n_scanpaths=n_scanpaths,
                                           n_fixations=n_fixations, seed=seed))
            pred = pd.concat(preds, ignore_index=True)
            timing[name] = {"seconds_per_image": (time.perf_counter() - t0) / len(eval_stim), "fit_seconds": fit_s}
            log(f"{name}: predicted in {timing[name]['seconds_per_image']:.3f} s/image; scoring ...")
        pairs = score_pairs(pred, eval_fix, eval_stim)
        value_cols = [c for c, _, _ in COLUMNS]
        per_sp = pairs.groupby(["stimulus", "subject_1", "trial_1"], sort=True)[value_cols].mean().reset_index()
        summary[name] = summarise(per_sp, n_boot, seed=0)
        per_sp_all.append(per_sp.rename(columns={"subject_1": "subject", "trial_1": "trial"}).assign(model=name))
    log("human ceiling ...")
    ceil = human_ceiling(eval_fix, eval_stim)
    summary["human (LOSO ceiling)"] = summarise(ceil, n_boot, seed=0)
    per_sp_all.append(ceil.assign(model="human (LOSO ceiling)"))
    return {
        "summary": summary,
        "seconds_per_image": timing,
        "per_scanpath": pd.concat(per_sp_all, ignore_index=True),
        "models": fitted,
        "settings": {"half": half, "n_fit_images": len(fit_names), "n_eval_images": len(eval_names),
                     "n_scanpaths": n_scanpaths, "predictions_saved": sorted(predictions),
                     "n_fixations": n_fixations, "seed": seed, "split_seed": split_seed, "n_boot": n_boot,
                     "batch_size": batch_size,
                     "models": models, "model_params": model_params, "mbr_candidates": dict(mbr or {}),
                     "n_human_scanpaths": int(eval_fix.groupby(["stimulus", "subject", "trial"]).ngroups)},
    }


def saved_predictions(pred: pd.DataFrame, names: list[str], n_scanpaths: int, n_fixations: int,
                      model: str = "model") -> pd.DataFrame:
    """The rows of a saved prediction table for the scored images, checked.

    Parameters
    ----------
    pred : pandas.DataFrame
        Fixation table (``--save-predictions``).
    names : list of str
        The scored images; each must be in ``pred``.
    n_scanpaths, n_fixations : int
        What the benchmark asks for; every image must have exactly that many
        scanpaths of that many fixations.
    model : str
        For error messages.

    Returns
    -------
    pandas.DataFrame
        The rows of ``names``.

    Raises
    ------
    ValueError
        Naming the missing images or the mismatched shape.
    """
    pred = pred.assign(stimulus=pred["stimulus"].astype(str))
    missing = [n for n in names if n not in set(pred["stimulus"])]
    if missing:
        raise ValueError(f"saved predictions of {model}: {len(missing)} of the {len(names)} scored images are "
                         f"missing (first: {missing[:3]}); predict them with --save-predictions or lower --n-images")
    pred = pred[pred["stimulus"].isin(names)].reset_index(drop=True)
    shape = pred.groupby("stimulus").agg(n_sp=("subject", "nunique"), n=("x", "size"))
    bad = shape[(shape["n_sp"] != n_scanpaths) | (shape["n"] != n_scanpaths * n_fixations)]
    if len(bad):
        raise ValueError(f"saved predictions of {model}: image {bad.index[0]!r} has {int(bad['n_sp'].iloc[0])} "
                         f"scanpaths and {int(bad['n'].iloc[0])} fixations, the benchmark asks for "
                         f"{n_scanpaths} x {n_fixations}")
    return pred


def save_predictions(
    fixations: pd.DataFrame,
    stimuli: pd.DataFrame,
    model_name: str,
    path,
    *,
    n_images: int | None = None,
    n_scanpaths: int = 15,
    n_fixations: int | None = None,
    seed: int = 0,
    model_params: dict | None = None,
    split_seed: int = SPLIT_SEED,
    half: str = "evaluation",
    progress: bool = True,
    mbr: int | None = None,
) -> pd.DataFrame:
    """Predict one model image by image into a CSV fixation table, resuming a killed run.

    The model is fitted on the fitting half (as in :func:`run_benchmark`); the images
    are the first ``n_images`` of ``half`` in the fixed order; images already in
    ``path`` are skipped. After every image its fixations are appended to ``path``
    and its wall time to ``path.times.csv`` (``stimulus, seconds``). The predictions
    are those :func:`run_benchmark` would make (every image has its own random
    stream).

    Parameters
    ----------
    fixations, stimuli : pandas.DataFrame
        Human fixation and stimulus tables.
    model_name : str
        Registered scanpath model.
    path : str or Path
        The CSV to append to.
    n_images, n_scanpaths, n_fixations, seed, model_params, split_seed, half
        As in :func:`run_benchmark` (``model_params``: this model's keyword arguments).
    progress : bool
        Print one line per image to stderr.
    mbr : int, optional
        Decode by minimum Bayes risk over this many candidates per scanpath.

    Returns
    -------
    pandas.DataFrame
        The whole table in ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    times_path = path.with_name(path.name + ".times.csv")
    fit_names, eval_names = split_stimuli(stimuli, split_seed)
    if half not in HALVES:
        raise ValueError(f"half must be one of {list(HALVES)}, got {half!r}")
    names = list(fit_names if half == "fitting" else eval_names)[:n_images]
    stim = stimuli.assign(stimulus=stimuli["stimulus"].astype(str))
    fix = fixations.assign(stimulus=fixations["stimulus"].astype(str))
    fit_fix = fix[fix["stimulus"].isin(fit_names)].reset_index(drop=True)
    if n_fixations is None:
        n_fixations = int(fit_fix.groupby(["stimulus", "subject", "trial"]).size().median())
    done = set(pd.read_csv(path)["stimulus"].astype(str)) if path.exists() and path.stat().st_size else set()
    todo = [n for n in names if n not in done]
    model = _build(model_name, model_params or {}, mbr)
    model.fit(fit_fix, stim[stim["stimulus"].isin(fit_names)].reset_index(drop=True))
    by_name = stim.set_index("stimulus")
    for i, name in enumerate(todo):
        t0 = time.perf_counter()
        pred = model.predict(by_name.loc[[name]].reset_index(), n_scanpaths=n_scanpaths, n_fixations=n_fixations,
                             seed=seed)
        sec = time.perf_counter() - t0
        pred.to_csv(path, mode="a", header=not (path.exists() and path.stat().st_size), index=False)
        pd.DataFrame({"stimulus": [name], "seconds": [sec]}).to_csv(
            times_path, mode="a", header=not times_path.exists(), index=False)
        if progress:
            print(f"{model_name}: image {len(done) + i + 1}/{len(names)} {name} in {sec:.1f} s", file=sys.stderr,
                  flush=True)
    return pd.read_csv(path)


def format_table(result: dict) -> str:
    """The summary as a Markdown table: mean [95% CI] per metric, % of the ceiling on MM mean, s/image.

    Parameters
    ----------
    result : dict
        Output of :func:`run_benchmark`.

    Returns
    -------
    str
    """
    summary = result["summary"]
    ceiling = summary["human (LOSO ceiling)"]
    head = ["model"] + [f"{h} {'↑' if hi else '↓'}" for _, h, hi in COLUMNS] + ["% ceiling (MM mean)", "s/image"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, s in summary.items():
        cells = [model]
        for col, _, _ in COLUMNS:
            e = s.get(col)
            cells.append("n/a" if e is None or math.isnan(e["mean"])
                         else f"{e['mean']:.3f} [{e['low']:.3f}, {e['high']:.3f}]")
        cm = ceiling["mm_mean"]["mean"]
        cells.append(f"{100 * s['mm_mean']['mean'] / cm:.1f}%")
        t = result["seconds_per_image"].get(model)
        cells.append(f"{t['seconds_per_image']:.3f}" if t else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ================================================================================================
# Conditional (next-fixation) metrics: added with the fixation-conditioned free-viewing model
# (gazemodels.models.scanpath.freeview). Everything below this line up to main() belongs to it.
# ================================================================================================
CONDITIONAL_GRID = (60, 80)
"""(rows, columns) of the cells on which conditional densities are scored (10 x 10 px cells on OSIE)."""

CONDITIONAL_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("cnss", "cNSS", True),
    ("cauc", "cAUC", True),
    ("cig", "cIG vs centre (bits/fix)", True),
    ("cll", "cLL (bits/fix)", True),
)
"""(column, table heading, higher is better) of the conditional metrics."""


def centre_log_density(centre, grid: tuple[int, int] = CONDITIONAL_GRID) -> np.ndarray:
    """The fitted centre-bias Gaussian as natural-log probabilities of the grid cells.

    Parameters
    ----------
    centre : gazemodels.models.scanpath.baselines.CentreBiasModel
        A fitted ``centre`` model (its ``mean`` and ``cov`` in normalised coordinates).
    grid : (int, int)
        Rows and columns of equal cells tiling the image.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)``: the Gaussian density at the cell centres, normalised over the cells
        (so truncated to the image, as the model samples it).
    """
    rows, cols = grid
    u = (np.arange(cols) + 0.5) / cols
    v = (np.arange(rows) + 0.5) / rows
    d = np.stack(np.meshgrid(u, v), axis=-1) - np.asarray(centre.mean, dtype=float)
    inv = np.linalg.inv(np.asarray(centre.cov, dtype=float))
    log = -0.5 * np.einsum("...i,ij,...j->...", d, inv, d)
    return log - np.logaddexp.reduce(log.ravel())


def _regrid(log_maps: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Resample ``(n, r, c)`` log-probability maps to another grid (bilinear on probabilities, renormalised)."""
    if log_maps.shape[1:] == tuple(grid):
        return log_maps
    import torch

    p = torch.as_tensor(np.exp(log_maps))[:, None]
    q = torch.nn.functional.interpolate(p, size=grid, mode="bilinear", align_corners=False)[:, 0].double().numpy()
    q = np.maximum(q, 1e-300)
    return np.log(q / q.sum(axis=(1, 2), keepdims=True))


def conditional_maps(model, stimulus: pd.Series, scanpaths: list[np.ndarray], grid=CONDITIONAL_GRID):
    """Per-fixation conditional log-probability maps of a model, or None if it gives no density.

    ``freeview`` (a ``conditional_log_density`` method) predicts each fixation from its
    history; ``centre`` is history-independent (its fitted Gaussian for every fixation).

    Parameters
    ----------
    model : object
        A fitted scanpath model.
    stimulus : pandas.Series
        The image's stimulus-table row.
    scanpaths : list of (n_i, 2) arrays
        Human scanpaths in stimulus px.
    grid : (int, int)
        Cells of the maps.

    Returns
    -------
    list of numpy.ndarray or None
        Per scanpath ``(n_i - 1, rows, cols)`` log-probabilities for fixations 1..n_i-1.
    """
    from gazemodels.models.scanpath.base import load_image

    if hasattr(model, "conditional_log_density"):
        image = load_image(stimulus["path"], size=(round(float(stimulus["width"])), round(float(stimulus["height"]))))
        return [_regrid(m, grid) for m in model.conditional_log_density(image, stimulus, scanpaths, start=1)]
    if getattr(model, "density", None) == "gaussian" and hasattr(model, "cov"):
        base = centre_log_density(model, grid)
        return [np.broadcast_to(base, (max(len(sp) - 1, 0), *grid)) for sp in scanpaths]
    return None


def run_conditional(fixations: pd.DataFrame, stimuli: pd.DataFrame, fitted: dict, *, n_images: int | None = None,
                    n_boot: int = 1000, split_seed: int = SPLIT_SEED, grid=CONDITIONAL_GRID,
                    progress: bool = True, half: str = "evaluation") -> dict:
    """cNSS, cAUC, cIG and cLL of the models that give conditional densities, on the evaluation half.

    Every fixation ``i >= 1`` of every human scanpath of the evaluation images is scored
    with the model's density given fixations ``0 .. i-1`` (Kümmerer & Bethge 2021; Kümmerer,
    Bethge & Wallis 2022, DeepGaze III), by :func:`gazemodels.metrics.conditional.conditional_scores`
    on a grid of :data:`CONDITIONAL_GRID` equal cells (fixations mapped into cell coordinates):

    - cIG: bits per fixation over the centre-bias baseline density fitted on the fitting half
      (:func:`centre_log_density` of a ``centre`` model fitted here; 0 for ``centre`` itself);
    - cLL: bits per fixation of the density per stimulus px (``log2`` of the cell
      probability minus ``log2`` of the cell area in px);
    - cNSS and cAUC: of each fixation's conditional map over the cells.

    Scores are pooled means over fixations with 95% bootstrap intervals that resample images.

    Parameters
    ----------
    fixations, stimuli : pandas.DataFrame
        Human fixation and stimulus tables.
    fitted : dict
        ``name -> fitted model`` (``run_benchmark(...)["models"]``); models without a density
        are skipped.
    n_images : int, optional
        Only the first N images of the evaluation half.
    n_boot : int
        Bootstrap resamples.
    half : {"evaluation", "fitting"}
        The half whose images are scored (as in :func:`run_benchmark`).
    split_seed : int
        Seed of the halves.
    grid : (int, int)
        Cells of the scored maps.
    progress : bool
        Print progress to stderr.

    Returns
    -------
    dict
        ``summary`` (model -> column -> mean/low/high/n_images/n_fixations), ``per_fixation``
        (DataFrame) and ``seconds_per_image``.
    """
    from gazemodels.metrics.conditional import conditional_scores
    from gazemodels.models.scanpath.baselines import CentreBiasModel

    fit_names, eval_names = split_stimuli(stimuli, split_seed)
    if half == "fitting":
        eval_names = list(fit_names)
    if n_images is not None:
        eval_names = eval_names[:n_images]
    stim = stimuli.assign(stimulus=stimuli["stimulus"].astype(str))
    fix = fixations.assign(stimulus=fixations["stimulus"].astype(str))
    baseline = CentreBiasModel().fit(fix[fix["stimulus"].isin(fit_names)].reset_index(drop=True),
                                     stim[stim["stimulus"].isin(fit_names)].reset_index(drop=True),
                                     fit_durations=False)
    base = np.exp(centre_log_density(baseline, grid))
    rows_g, cols_g = grid
    by_stim = stim.set_index("stimulus")
    frames, timing = [], {}
    for name, model in fitted.items():
        t0 = time.perf_counter()
        n_done = 0
        for s in eval_names:
            row = by_stim.loc[s].copy()
            row["stimulus"] = s
            sps = fix[fix["stimulus"] == s].sort_values(["subject", "trial", "fix_index"], kind="stable")
            keys, paths = [], []
            for (subj, trial), sp in sps.groupby(["subject", "trial"], sort=True):
                if len(sp) >= 2:
                    keys.append((subj, trial))
                    paths.append(sp[["x", "y"]].to_numpy(float))
            maps = conditional_maps(model, row, paths, grid)
            if maps is None:
                break
            w, h = float(row["width"]), float(row["height"])
            cell_area_log2 = math.log2((w / cols_g) * (h / rows_g))
            for (subj, trial), xy, m in zip(keys, paths, maps):
                g = np.column_stack([np.clip(xy[:, 0] / w * cols_g, 0, cols_g),
                                     np.clip(xy[:, 1] / h * rows_g, 0, rows_g)])
                sc = conditional_scores(m, g, start=1, log_density=True, baseline=base)
                sc["cll"] -= cell_area_log2
                frames.append(sc.assign(model=name, stimulus=s, subject=subj, trial=trial))
            n_done += 1
        if n_done:
            timing[name] = {"seconds_per_image": (time.perf_counter() - t0) / n_done}
            if progress:
                print(f"{name}: conditional densities in {timing[name]['seconds_per_image']:.3f} s/image",
                      file=sys.stderr, flush=True)
    per_fix = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    summary = {}
    for name, g in per_fix.groupby("model", sort=False) if len(per_fix) else []:
        summary[name] = {}
        for col, _, _ in CONDITIONAL_COLUMNS:
            r = cluster_bootstrap_ci(g[col].to_numpy(float), g["stimulus"].to_numpy(), n_boot=n_boot, seed=0)
            summary[name][col] = {"mean": r.estimate, "low": r.low, "high": r.high, "n_images": r.n,
                                  "n_fixations": len(g)}
    return {"summary": summary, "per_fixation": per_fix, "seconds_per_image": timing,
            "grid": tuple(grid)}


def format_conditional_table(result: dict) -> str:
    """The conditional metrics as a Markdown table: mean [95% CI] per metric.

    Parameters
    ----------
    result : dict
        Output of :func:`run_conditional`.

    Returns
    -------
    str
    """
    head = ["model"] + [f"{h} {'↑' if hi else '↓'}" for _, h, hi in CONDITIONAL_COLUMNS] + ["fixations"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, s in result["summary"].items():
        cells = [model] + [f"{s[c]['mean']:.3f} [{s[c]['low']:.3f}, {s[c]['high']:.3f}]"
                           for c, _, _ in CONDITIONAL_COLUMNS]
        cells.append(str(next(iter(s.values()))["n_fixations"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "osie"), help="OSIE folder")
    ap.add_argument("--models", default="centre,saliency,random,human-shuffled",
                    help="comma-separated registered scanpath models")
    ap.add_argument("--n-images", type=int, help="evaluate only the first N images of the evaluation half")
    ap.add_argument("--n-scanpaths", type=int, default=15)
    ap.add_argument("--n-fixations", type=int, help="default: median human scanpath length of the fitting half")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=1, help="images per predict call (default 1)")
    ap.add_argument("--param", action="append", default=[], metavar="MODEL.KEY=VALUE")
    ap.add_argument("--out", help="folder for results.csv, results.json, per_scanpath.csv, table.md")
    ap.add_argument("--half", choices=HALVES, default="evaluation",
                    help="score the first N images of this half; 'fitting' is for tuning settings (default "
                         "evaluation)")
    ap.add_argument("--save-predictions", metavar="PATH",
                    help="predict the one model in --models image by image into PATH (resumable), then stop")
    ap.add_argument("--predictions", action="append", default=[], metavar="MODEL=PATH",
                    help="score MODEL's saved predictions (from --save-predictions) instead of predicting it")
    ap.add_argument("--mbr", action="append", default=[], metavar="MODEL=N",
                    help="decode MODEL by minimum Bayes risk over N candidates per scanpath "
                         "(gazemodels.models.scanpath.mbr), e.g. a baseline as a control")
    ap.add_argument("--no-conditional", action="store_true",
                    help="skip the conditional metrics (cNSS, cAUC, cIG, cLL) of the models with densities")
    args = ap.parse_args(argv)

    from gazemodels.datasets import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 100 absent images are reported below
        ds = load("osie", root=args.data)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    print(f"OSIE: {int(ds.stimuli['path'].notna().sum())} of {len(ds.stimuli)} images present", file=sys.stderr)
    params = _parse_params(args.param)
    mbr = {}
    for item in args.mbr:
        name, _, n = item.partition("=")
        if not n.isdigit() or int(n) < 1 or name not in models:
            raise SystemExit(f"--mbr must be MODEL=N with MODEL in --models and N >= 1, got {item!r}")
        mbr[name] = int(n)
    if args.save_predictions:
        if len(models) != 1:
            raise SystemExit("--save-predictions needs exactly one model in --models")
        save_predictions(ds.fixations, ds.stimuli, models[0], args.save_predictions, n_images=args.n_images,
                         n_scanpaths=args.n_scanpaths, n_fixations=args.n_fixations, seed=args.seed,
                         model_params=params.get(models[0], {}), half=args.half, mbr=mbr.get(models[0]))
        return 0
    saved, saved_sec = {}, {}
    for item in args.predictions:
        name, _, path = item.partition("=")
        if not path or name not in models:
            raise SystemExit(f"--predictions must be MODEL=PATH with MODEL in --models, got {item!r}")
        saved[name] = pd.read_csv(path)
        times = Path(path + ".times.csv")
        if times.exists():
            t = pd.read_csv(times).drop_duplicates("stimulus", keep="last").set_index("stimulus")["seconds"]
            saved_sec[name] = float(t.reindex(saved[name]["stimulus"].astype(str).unique()).mean())
    res = run_benchmark(ds.fixations, ds.stimuli, models, n_images=args.n_images, n_scanpaths=args.n_scanpaths,
                        n_fixations=args.n_fixations, seed=args.seed, n_boot=args.n_boot,
                        model_params=params, batch_size=args.batch_size, half=args.half,
                        predictions=saved, prediction_seconds=saved_sec, mbr=mbr)
    st = res["settings"]
    table = format_table(res)
    header = (f"OSIE free viewing: {st['n_eval_images']} {st['half']} images (fitting half {st['n_fit_images']}, "
              f"split seed {st['split_seed']}), {st['n_scanpaths']} scanpaths x {st['n_fixations']} fixations "
              f"per image and model, {st['n_human_scanpaths']} human scanpaths; 95% bootstrap CIs over images "
              f"({st['n_boot']} resamples); time on {platform.node()} ({platform.processor() or platform.machine()})")
    print(header)
    print(table)
    cond = None
    if not args.no_conditional:  # conditional metrics (freeview addition)
        cond = run_conditional(ds.fixations, ds.stimuli, res["models"], n_images=args.n_images, n_boot=args.n_boot,
                               half=args.half)
        if cond["summary"]:
            g = cond["grid"]
            print(f"\nConditional metrics on the evaluation half: every human fixation after the first, scored "
                  f"under the model's density given the fixations before it, on a {g[0]} x {g[1]} grid; cIG over "
                  f"the centre-bias density fitted on the fitting half; 95% bootstrap CIs over images")
            print(format_conditional_table(cond))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        rows = [{"model": m, "metric": c, **v} for m, s in res["summary"].items() for c, v in s.items()]
        pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
        res["per_scanpath"].to_csv(out / "per_scanpath.csv", index=False)
        (out / "table.md").write_text(header + "\n\n" + table + "\n")
        (out / "results.json").write_text(json.dumps(
            {"settings": st, "summary": res["summary"], "seconds_per_image": res["seconds_per_image"]},
            indent=2, default=float) + "\n")
        if cond is not None and cond["summary"]:  # conditional metrics (freeview addition)
            rows = [{"model": m, "metric": c, **v} for m, s in cond["summary"].items() for c, v in s.items()]
            pd.DataFrame(rows).to_csv(out / "conditional.csv", index=False)
            cond["per_fixation"].to_csv(out / "conditional_per_fixation.csv", index=False)
            with open(out / "table.md", "a") as fh:
                fh.write("\nConditional metrics (grid " + "x".join(map(str, cond["grid"])) + "):\n\n"
                         + format_conditional_table(cond) + "\n")
        print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

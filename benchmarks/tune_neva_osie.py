#!/usr/bin/env python
"""Choose settings on OSIE's fitting half only: NeVA's foveation and search, the free-viewing temperature.

The free-viewing benchmark (``benchmarks/bench_osie_freeview.py``) reports results on the
evaluation half; every setting it uses must be chosen without it. This script scores
candidate settings on images of the *fitting* half with the benchmark's own protocol
(``run_benchmark(..., half="fitting")``: same metrics, same human scanpaths, models fitted on
the fitting half):

``neva``
    A one-at-a-time sweep around a base setting: each row changes one setting of
    :class:`gazemodels.models.scanpath.neva.NeVA` (fovea and blur size, NeVA's published
    fovea and blur, start spread, uniform starts, forgetting, evaluations per fixation,
    input size). ``--n-images`` first images of the fitting half (fixed order),
    ``--n-scanpaths`` scanpaths each; the centre baseline on the same images for reference
    (in-sample there: its density is fitted on the fitting half).
``freeview``
    The sampling temperature of the fitted free-viewing model on its own validation images
    (the 10% of the fitting half held out for early stopping, ``val_seed`` 0 of
    ``experiments/freeview_osie.toml``; never seen by the fit), with the centre baseline.

Selection rule (NeVA): the highest mean MultiMatch (``MM mean``); within 0.002 of it, the
cheaper setting (fewer network pixels x evaluations; at equal cost the higher MM mean). The
result and its table are in :mod:`gazemodels.models.scanpath.neva`'s docstring ("Defaults"):
``input_size=128``, ``fovea_sigma_deg=1.5``.

Selection rule (free-viewing temperature, as in ``experiments/freeview_osie.toml``): the
largest smallest margin over the centre baseline on the four MultiMatch dimensions and SS.
Reproduced with 15 scanpaths x 9 fixations on the 30 validation images:

===========  ===========  ============  =======  =====  ======================
temperature  MM vector    MM direction  MM mean  SS     smallest margin
===========  ===========  ============  =======  =====  ======================
centre       0.895        0.666         0.804    0.144  --
1.0          0.931        0.663         0.832    0.245  -0.0029 (direction)
1.2          0.925        0.662         0.827    0.227  -0.0034 (direction)
1.4          0.919        0.667         0.824    0.217  +0.0008
**1.6**      0.915        0.668         0.821    0.208  **+0.0020**
1.8          0.912        0.665         0.817    0.198  -0.0005
===========  ===========  ============  =======  =====  ======================

so 1.6, as the config says, chosen without the evaluation half (the validation images are
drawn from the fitting half by ``_split_validation(fixed_halves(...)[0], 0.1, 0)`` in
:mod:`gazemodels.models.scanpath.freeview`). The rule trades MM mean (best at 1.0) for the
direction dimension, the one where sampling at 1.0 falls just below the centre baseline.

Saccade-direction prior (``--setting T:BETA --prior-kind direction``): ``FreeviewModel(
saccade_prior=BETA, saccade_prior_kind=...)`` multiplies the sampled density by a smoothed
histogram of the human saccade vectors of the network's training images, to the power BETA.
Same rule, same 30 validation images, 15 scanpaths x 9 fixations (rows from separate runs):

==========================  =========  ============  =======  =====  ================
setting                     MM vector  MM direction  MM mean  SS     smallest margin
==========================  =========  ============  =======  =====  ================
T 1.0, vector prior 0.5     0.945      0.645         0.834    0.230  -0.0211
T 1.0, vector prior 1       0.951      0.642         0.834    0.210  -0.0238
T 1.6, vector prior 0.5     0.937      0.653         0.830    0.212  -0.0131
T 0.8 (no prior)            0.939      0.651         0.835    0.257  -0.0148
T 1.0, direction prior 1    0.929      0.663         0.831    0.243  -0.0029
T 1.0, direction prior 1.5  0.925      0.671         0.831    0.242  +0.0050
T 1.0, direction prior 2    0.922      0.676         0.830    0.239  **+0.0099**
T 1.0, direction prior 2.5  0.912      0.673         0.823    0.237  +0.0076
T 1.0, direction prior 3    0.902      0.676         0.816    0.234  +0.0033
T 0.9, direction prior 2    0.925      0.668         0.831    0.246  +0.0024
T 1.2, direction prior 1    0.921      0.673         0.828    0.229  +0.0071
T 1.2, direction prior 2    0.912      0.675         0.822    0.225  +0.0093
T 1.6, direction prior 1    0.909      0.675         0.817    0.207  +0.0089
==========================  =========  ============  =======  =====  ================

The full (amplitude and direction) prior shortens the saccades and lowers direction; the
direction prior (the histogram over its mean at equal amplitude: the horizontal bias without
a change of amplitudes) raises it, best at T 1.0 and BETA 2 (also a higher MM mean and SS
than T 1.6 without a prior).

Amplitude-preserving temperature and minimum-Bayes-risk decoding (``--temperature-mode
amplitude``, ``--extra decode=mbr --extra mbr_candidates=N``; same 30 validation images, 15
scanpaths x 9 fixations). A global temperature below 1 shortens the saccades (at T 0.5, 56 %
of the sampled saccades are under 1 degree against 16 % of the humans'), which MultiMatch's
vector and length reward; ``temperature_mode="amplitude"`` keeps the fitted amplitude
distribution. ``decode="mbr"`` samples N times as many scanpaths and keeps those of highest
mean MultiMatch to the other samples (:func:`gazemodels.models.scanpath.freeview.mbr_select`):

==============================================  =========  =========  ======  ========  =======  =====  ======
setting                                         MM vector  direction  length  position  MM mean  SS     s/img
==============================================  =========  =========  ======  ========  =======  =====  ======
centre baseline                                 0.895      0.666      0.870   0.786     0.804    0.144  --
T 1.0, direction prior 2 (sampled; before)      0.922      0.676      --      --        0.830    0.239  0.1
T 0.5 amplitude, direction prior 6 (sampled)    0.935      0.675      0.921   0.823     0.838    0.248  0.1
T 1.0, MBR 4                                    0.938      0.677      0.928   0.837     0.845    0.266  0.2
T 1.0, MBR 8                                    0.941      0.680      0.930   0.840     0.848    0.265  0.5
T 1.0, MBR 16                                   0.941      0.685      0.930   0.845     0.850    0.272  1.0
T 0.5 amplitude, direction prior 6, MBR 16      0.938      0.706      0.925   0.840     0.852    0.259  1.1
**T 1.0, MBR 32**                               0.941      0.694      0.930   0.847     0.853    0.273  2.0
human (LOSO ceiling)                            0.941      0.695      0.930   0.856     0.855    0.329  --
==============================================  =========  =========  ======  ========  =======  =====  ======

MBR decoding of the fitted density (no prior, no temperature) raises every dimension and SS
over plain sampling, and MM mean rises with the number of candidates while the cost grows
with its square (MultiMatch over all pairs); 32, the largest count at about 2 s per image, is
what the benchmark's freeview row uses (``--param freeview.decode=mbr --param
freeview.mbr_candidates=32``).

Output: ``sweep.csv`` and ``sweep.md`` in ``--out``.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tune_neva_osie.py neva --n-images 6 \\
        --out results/tuning_fitting_half/neva
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tune_neva_osie.py freeview \\
        --out results/tuning_fitting_half/freeview
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NEVA_BASE: dict = {}
"""The base setting of the NeVA sweep: the model's defaults."""

NEVA_SWEEP: tuple[tuple[str, dict], ...] = (
    ("defaults", {}),
    ("NeVA's fovea 4.5 deg, blur 1.3 deg", {"fovea_sigma_deg": 4.5, "blur_sigma_deg": 1.3}),
    ("fovea 1.0 deg", {"fovea_sigma_deg": 1.0}),
    ("fovea 3.0 deg", {"fovea_sigma_deg": 3.0}),
    ("blur 1.5 deg", {"blur_sigma_deg": 1.5}),
    ("start spread 0.3", {"start_spread": 0.3}),
    ("uniform starts", {"start": "uniform"}),
    ("forgetting 1.0", {"forgetting": 1.0}),
    ("n_iter 10", {"n_iter": 10}),
    ("input 160 px", {"input_size": 160}),
    ("input 128 px", {"input_size": 128}),
    # round 2 (--only): the round's pick, input 128 px, combined with the other promising changes
    ("input 128 px, fovea 1.0 deg", {"input_size": 128, "fovea_sigma_deg": 1.0}),
    ("input 128 px, fovea 1.5 deg", {"input_size": 128, "fovea_sigma_deg": 1.5}),
    ("input 128 px, start spread 0.05", {"input_size": 128, "start_spread": 0.05}),
    ("input 128 px, forgetting 0", {"input_size": 128, "forgetting": 0.0}),
)
"""(label, settings changed from :data:`NEVA_BASE`) of the NeVA sweep: round 1 changes one
setting at a time; round 2 (run with ``--only``) combines round 1's pick with the others."""

TEMPERATURES: tuple[float, ...] = (1.0, 1.2, 1.4, 1.6, 1.8)
"""Sampling temperatures of the free-viewing model's check."""

REPORT = ("multimatch_vector", "multimatch_direction", "multimatch_length", "multimatch_position", "mm_mean",
          "scanmatch", "ss", "edit_distance_norm")


def markdown(df: pd.DataFrame) -> str:
    """A data frame as a Markdown table (floats to 4 decimals)."""
    def fmt(v):
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_osie_freeview", ROOT / "benchmarks" / "bench_osie_freeview.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(label: str, model: str, params: dict, res: dict) -> dict:
    s = res["summary"][model]
    row = {"setting": label, "model": model, "params": repr(params),
           "s_per_image": res["seconds_per_image"].get(model, {}).get("seconds_per_image", float("nan"))}
    row.update({c: s[c]["mean"] for c in REPORT if c in s})
    return row


def sweep_neva(ds, bench, n_images: int, n_scanpaths: int, only: list[str] | None = None, log=print,
               on_row=None) -> pd.DataFrame:
    """Score every setting of :data:`NEVA_SWEEP` (and the centre baseline) on fitting-half images.

    Parameters
    ----------
    ds : Dataset
        OSIE (fixations, stimuli).
    bench : module
        ``benchmarks/bench_osie_freeview.py``.
    n_images, n_scanpaths : int
        First images of the fitting half, and scanpaths per image.
    only : list of str, optional
        Labels to run (default all).
    log : callable
        Progress output.
    on_row : callable, optional
        Called with the table so far after every setting (to save partial sweeps).

    Returns
    -------
    pandas.DataFrame
        One row per setting: the mean scores and seconds per image.
    """
    rows = []
    common = dict(n_images=n_images, n_scanpaths=n_scanpaths, n_boot=0, half="fitting", progress=False)
    res = bench.run_benchmark(ds.fixations, ds.stimuli, ["centre"], **common)
    rows.append(_row("centre baseline (in-sample)", "centre", {}, res))
    rows.append(_row("human (LOSO ceiling)", "human (LOSO ceiling)", {}, res))
    for label, change in NEVA_SWEEP:
        if only and label not in only:
            continue
        params = {**NEVA_BASE, **change, "num_threads": 1}
        t0 = time.perf_counter()
        res = bench.run_benchmark(ds.fixations, ds.stimuli, ["neva"], model_params={"neva": params}, **common)
        rows.append(_row(label, "neva", change, res))
        log(f"{label}: MM mean {rows[-1]['mm_mean']:.4f}, {rows[-1]['s_per_image']:.1f} s/image "
            f"({time.perf_counter() - t0:.0f} s)")
        if on_row is not None:
            on_row(pd.DataFrame(rows))
    return pd.DataFrame(rows)


def check_freeview_temperature(ds, bench, checkpoint: str, n_scanpaths: int, log=print,
                               settings: list[tuple[float, float]] | None = None,
                               prior_kind: str = "vector", temperature_mode: str = "global",
                               extra: dict | None = None) -> pd.DataFrame:
    """Score the free-viewing model at each of :data:`TEMPERATURES` on its validation images.

    Parameters
    ----------
    ds : Dataset
        OSIE.
    bench : module
        ``benchmarks/bench_osie_freeview.py``.
    checkpoint : str
        The fitted model (``runs/freeview_osie/best.pt``).
    n_scanpaths : int
        Scanpaths per image.
    log : callable
        Progress output.
    settings : list of (float, float), optional
        ``(temperature, saccade_prior)`` pairs to score instead of :data:`TEMPERATURES` (with
        ``saccade_prior`` 0).
    prior_kind : {"vector", "direction"}
        ``saccade_prior_kind`` of the settings with a prior.
    temperature_mode : {"global", "amplitude"}
        ``temperature_mode`` of the model (see :class:`~gazemodels.models.scanpath.freeview.FreeviewModel`).
    extra : dict, optional
        Further :class:`~gazemodels.models.scanpath.freeview.FreeviewModel` arguments of every setting
        (e.g. ``{"decode": "mbr"}``).

    Returns
    -------
    pandas.DataFrame
        One row per temperature and one for the centre baseline, with the smallest margin
        over centre on the MultiMatch dimensions and SS.
    """
    import tomllib

    from gazemodels.models.scanpath.freeview import _split_validation

    task = tomllib.loads((ROOT / "experiments" / "freeview_osie.toml").read_text())["task"]
    fit_names, _ = bench.split_stimuli(ds.stimuli, task["split_seed"])
    _, val_names = _split_validation(fit_names, task["val_fraction"], task["val_seed"])
    common = dict(n_scanpaths=n_scanpaths, n_boot=0, half="fitting", images=val_names, progress=False)
    res = bench.run_benchmark(ds.fixations, ds.stimuli, ["centre"], **common)
    rows = [_row("centre baseline", "centre", {}, res), _row("human (LOSO ceiling)", "human (LOSO ceiling)", {}, res)]
    for t, beta in settings or [(t, 0.0) for t in TEMPERATURES]:
        change = ({"temperature": t} if beta == 0 else
                  {"temperature": t, "saccade_prior": beta, "saccade_prior_kind": prior_kind})
        if temperature_mode != "global":
            change["temperature_mode"] = temperature_mode
        change.update(extra or {})
        params = {"checkpoint": checkpoint, **change}
        res = bench.run_benchmark(ds.fixations, ds.stimuli, ["freeview"], model_params={"freeview": params}, **common)
        label = (f"temperature {t:g}" + (f" ({temperature_mode})" if temperature_mode != "global" else "")
                 + (f", {prior_kind} prior {beta:g}" if beta else "")
                 + "".join(f", {k} {v}" for k, v in (extra or {}).items()))
        rows.append(_row(label, "freeview", change, res))
        log(f"{label}: MM direction {rows[-1]['multimatch_direction']:.4f}, MM mean {rows[-1]['mm_mean']:.4f}, "
            f"SS {rows[-1]['ss']:.4f}")
    df = pd.DataFrame(rows)
    keys = ["multimatch_vector", "multimatch_direction", "multimatch_length", "multimatch_position", "ss"]
    centre = df.iloc[0][keys]
    df["min_margin_over_centre"] = df[keys].sub(centre).min(axis=1)
    df.attrs["n_images"] = len(val_names)
    return df


def _parse_extra(items: list[str]) -> dict:
    """``KEY=VALUE`` strings as a dict, each VALUE parsed as JSON where it is (else kept as a string)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--extra expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("neva", "freeview"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "osie"))
    ap.add_argument("--n-images", type=int, default=6, help="neva: first N images of the fitting half")
    ap.add_argument("--n-scanpaths", type=int, default=5)
    ap.add_argument("--only", action="append", help="neva: run only this setting label (repeatable)")
    ap.add_argument("--checkpoint", default="runs/freeview_osie/best.pt")
    ap.add_argument("--setting", action="append", metavar="T:BETA",
                    help="freeview: score temperature T with saccade_prior BETA (repeatable; default the temperatures)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--prior-kind", default="vector", choices=("vector", "direction"),
                    help="freeview: saccade_prior_kind of the --setting rows with a prior")
    ap.add_argument("--temperature-mode", default="global", choices=("global", "amplitude"),
                    help="freeview: temperature_mode of the --setting rows")
    ap.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                    help="freeview: a further model argument of every --setting row (VALUE as JSON, else a string)")
    args = ap.parse_args(argv)

    from gazemodels.datasets import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load("osie", root=args.data)
    bench = _bench()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "sweep.csv"
    earlier = pd.read_csv(csv) if args.only and csv.exists() else None  # --only adds to an earlier sweep

    def save(df: pd.DataFrame, head: str) -> pd.DataFrame:
        if earlier is not None:
            df = pd.concat([earlier, df], ignore_index=True).drop_duplicates("setting", keep="last")
        df.to_csv(csv, index=False)
        (out / "sweep.md").write_text(head + "\n\n" + markdown(df) + "\n")
        return df

    if args.what == "neva":
        head = (f"NeVA settings on the first {args.n_images} images of OSIE's fitting half, {args.n_scanpaths} "
                f"scanpaths x 9 fixations per image, against the 15 observers (means over scanpaths)")
        df = sweep_neva(ds, bench, args.n_images, args.n_scanpaths, args.only, log,
                        on_row=lambda d: save(d, head + " (partial)"))
    else:
        settings = [tuple(map(float, v.split(":"))) for v in args.setting] if args.setting else None
        df = check_freeview_temperature(ds, bench, args.checkpoint, args.n_scanpaths, log, settings,
                                        args.prior_kind, args.temperature_mode, _parse_extra(args.extra))
        head = (f"Free-viewing model's sampling temperature on its {df.attrs['n_images']} validation images "
                f"(fitting half), {args.n_scanpaths} scanpaths x 9 fixations per image")
    df = save(df, head)
    print(head)
    print(markdown(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())

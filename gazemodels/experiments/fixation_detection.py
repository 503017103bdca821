"""Fixation detection on simulated recordings with known ground truth.

Scanpaths drawn from human free-viewing statistics (:mod:`gazemodels.simulate.scanpaths`)
are rendered as raw recordings (:func:`gazemodels.simulate.simulate_samples`) at
several sampling rates and noise levels. Each registered fixation detector is run
on them and scored against the fixations that produced the samples:

- event-level precision, recall and F1, a detected fixation matching a true one
  when their intervals overlap with intersection-over-union >= 0.5
  (Startsev, Agtzidis & Dorr 2019, Behav. Res. Methods);
- sample-level Cohen's kappa of the fixation/non-fixation labels
  (Andersson et al. 2017, Behav. Res. Methods);
- onset, offset and position errors of matched fixations.

This is the package's main job until the search-asymmetry experiment exists: it
needs no network and no file outside the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.experiments.registry import register_experiment

DEFAULTS = {
    "seed": 0,
    "stimulus": {"width": 1280, "height": 1024, "px_per_degree": 35.0},
    "n_scanpaths": 12,
    "n_fixations": 15,
    "rates_hz": [250, 500, 1000],
    "noise_deg": [0.02, 0.05, 0.1, 0.2],
    "blink_prob": 0.1,
    "drift_deg_per_s": 0.1,
    "iou_threshold": 0.5,
    # label -> detector ``method`` and its parameters (see gazemodels.events)
    "detectors": {
        "I-DT": {"method": "idt", "dispersion_threshold": 1.0, "min_duration": 60.0},
        "I-VT": {"method": "ivt", "velocity_threshold": 30.0, "min_duration": 60.0},
        # Olsen 2012 (Tobii I-VT filter): 20 ms moving-average noise reduction before velocities
        "I-VT smoothed 20 ms": {"method": "ivt", "velocity_threshold": 30.0,
                                  "min_duration": 60.0, "smoothing": 20.0},
    },
}


def match_fixations(
    truth: pd.DataFrame, detected: pd.DataFrame, iou_threshold: float = 0.5
) -> pd.DataFrame:
    """Match detected fixations to true ones by temporal intersection over union.

    Each true fixation is paired with the detected fixation of largest IoU;
    a pair counts when IoU >= ``iou_threshold``. With threshold >= 0.5 a fixation
    can match at most one other, so the matching is one-to-one.

    Parameters
    ----------
    truth, detected : pandas.DataFrame
        Fixations of one recording with ``t_start``, ``duration`` (ms), ``x``, ``y`` (px).
    iou_threshold : float, default 0.5
        Minimum IoU of a match; must be >= 0.5 for a one-to-one matching.

    Returns
    -------
    pandas.DataFrame
        One row per true fixation: ``iou``, ``matched`` (bool), and for matches
        ``onset_error_ms``, ``offset_error_ms`` (detected minus true) and
        ``position_error_px``.
    """
    if iou_threshold < 0.5:
        raise ValueError("iou_threshold must be >= 0.5 for a one-to-one matching")
    t0 = truth["t_start"].to_numpy(float)[:, None]
    t1 = t0 + truth["duration"].to_numpy(float)[:, None]
    d0 = detected["t_start"].to_numpy(float)[None, :]
    d1 = d0 + detected["duration"].to_numpy(float)[None, :]
    inter = np.clip(np.minimum(t1, d1) - np.maximum(t0, d0), 0, None)
    union = np.maximum(t1, d1) - np.minimum(t0, d0)
    iou = inter / np.where(union > 0, union, 1.0)
    out = pd.DataFrame(index=truth.index)
    if iou.shape[1] == 0:
        out["iou"] = 0.0
        out["matched"] = False
        for c in ("onset_error_ms", "offset_error_ms", "position_error_px"):
            out[c] = np.nan
        return out
    best = iou.argmax(axis=1)
    best_iou = iou[np.arange(len(best)), best]
    matched = best_iou >= iou_threshold
    out["iou"] = best_iou
    out["matched"] = matched
    sel = detected.iloc[best]
    onset = sel["t_start"].to_numpy(float) - t0[:, 0]
    offset = (sel["t_start"] + sel["duration"]).to_numpy(float) - t1[:, 0]
    pos = np.hypot(sel["x"].to_numpy(float) - truth["x"].to_numpy(float),
                   sel["y"].to_numpy(float) - truth["y"].to_numpy(float))
    out["onset_error_ms"] = np.where(matched, onset, np.nan)
    out["offset_error_ms"] = np.where(matched, offset, np.nan)
    out["position_error_px"] = np.where(matched, pos, np.nan)
    return out


def fixation_labels(fixations: pd.DataFrame, n_samples: int, dt_ms: float) -> np.ndarray:
    """Boolean per-sample label "in a fixation" for one recording.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixations with ``t_start`` and ``duration`` in ms from recording onset.
    n_samples : int
        Length of the recording.
    dt_ms : float
        Sample period.

    Returns
    -------
    numpy.ndarray of bool
    """
    diff = np.zeros(n_samples + 1, dtype=np.int64)
    a = np.clip(np.round(fixations["t_start"].to_numpy(float) / dt_ms).astype(int), 0, n_samples)
    b = np.clip(np.round((fixations["t_start"] + fixations["duration"]).to_numpy(float) / dt_ms)
                .astype(int), 0, n_samples)
    np.add.at(diff, a, 1)
    np.add.at(diff, b, -1)
    return np.cumsum(diff[:-1]) > 0


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two boolean label sequences.

    Parameters
    ----------
    a, b : numpy.ndarray of bool
        Labels of the same samples.

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; NaN when ``p_e == 1``.
    """
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    po = np.mean(a == b)
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def _median(v) -> float:
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def _score_condition(samples, truth, detected, dt, iou_threshold):
    keys = ["stimulus", "subject", "trial"]
    rows, kappas = [], []
    n_det = 0
    for key, tr in truth.groupby(keys, sort=True):
        sm = samples
        for k, v in zip(keys, key):
            sm = sm[sm[k] == v]
        det = detected
        for k, v in zip(keys, key):
            det = det[det[k] == v]
        n_det += len(det)
        m = match_fixations(tr, det, iou_threshold)
        rows.append(m)
        valid = sm["x"].notna().to_numpy()
        lt = fixation_labels(tr, len(sm), dt)[valid]
        ld = fixation_labels(det, len(sm), dt)[valid]
        kappas.append(cohen_kappa(lt, ld))
    m = pd.concat(rows)
    hits = int(m["matched"].sum())
    recall = hits / len(m)
    precision = hits / n_det if n_det else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "n_true": len(m),
        "n_detected": n_det,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "kappa": float(np.nanmean(kappas)),
        # medians over matched fixations; NaN when nothing matched
        "median_abs_onset_error_ms": _median(np.abs(m["onset_error_ms"])),
        "median_abs_offset_error_ms": _median(np.abs(m["offset_error_ms"])),
        "median_position_error_px": _median(m["position_error_px"]),
    }


@register_experiment(
    "fixation-detection",
    "I-DT and I-VT fixation detectors scored on simulated recordings with known fixations",
    DEFAULTS,
)
def run(config: dict, out: Path) -> dict:
    """Run the fixation-detection experiment; see the module docstring.

    Parameters
    ----------
    config : dict
        Resolved config (see ``DEFAULTS``).
    out : pathlib.Path
        Results folder.

    Returns
    -------
    dict
        Summary: the best detector per noise level and its F1.
    """
    from tqdm import tqdm

    from gazemodels.events import detect_fixations
    from gazemodels.simulate import sample_scanpaths, simulate_samples

    stim = config["stimulus"]
    ppd = float(stim["px_per_degree"])
    truth0 = sample_scanpaths(
        config["n_scanpaths"], config["n_fixations"], width=stim["width"], height=stim["height"],
        px_per_degree=ppd, seed=config["seed"],
    )
    conditions = [(r, n) for r in config["rates_hz"] for n in config["noise_deg"]]
    results, examples = [], {}
    for i, (rate, noise) in enumerate(tqdm(conditions, desc="fixation-detection", unit="condition")):
        samples, truth = simulate_samples(
            truth0, px_per_degree=ppd, rate_hz=rate, noise_deg=noise,
            drift_deg_per_s=config["drift_deg_per_s"], blink_prob=config["blink_prob"],
            seed=config["seed"] + 1 + i,
        )
        dt = 1000.0 / rate
        for name, params in config["detectors"].items():
            params = dict(params)
            detected = detect_fixations(samples, method=params.pop("method"), px_per_degree=ppd,
                                        **params)
            score = _score_condition(samples, truth, detected, dt, config["iou_threshold"])
            results.append({"rate_hz": rate, "noise_deg": noise, "detector": name, **score})
            if rate == max(config["rates_hz"]) and noise == sorted(config["noise_deg"])[1]:
                examples[name] = detected
        if rate == max(config["rates_hz"]) and noise == sorted(config["noise_deg"])[1]:
            examples["_samples"], examples["_truth"] = samples, truth
    table = pd.DataFrame(results)
    table.to_csv(out / "detection_scores.csv", index=False)
    truth0.to_csv(out / "true_fixations.csv", index=False)
    _plot(table, examples, stim, out)
    best = table.loc[table.groupby(["rate_hz", "noise_deg"])["f1"].idxmax()]
    return {
        "seed": config["seed"],
        "n_true_fixations_per_condition": int(table["n_true"].iloc[0]),
        "mean_f1": {d: round(float(g["f1"].mean()), 4) for d, g in table.groupby("detector")},
        "mean_kappa": {d: round(float(g["kappa"].mean()), 4) for d, g in table.groupby("detector")},
        "best_detector": [
            {"rate_hz": int(r.rate_hz), "noise_deg": float(r.noise_deg), "detector": r.detector,
             "f1": round(float(r.f1), 4)}
            for r in best.itertuples()
        ],
        "files": sorted(p.name for p in out.iterdir()),
    }


def _plot(table: pd.DataFrame, examples: dict, stim: dict, out: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gazemodels.data import plot_scanpath

    rates = sorted(table["rate_hz"].unique())
    fig, axes = plt.subplots(1, len(rates), figsize=(4 * len(rates), 3.4), sharey=True)
    for ax, rate in zip(np.atleast_1d(axes), rates):
        for name, g in table[table.rate_hz == rate].groupby("detector"):
            ax.plot(g["noise_deg"], g["f1"], "o-", label=name)
        ax.set_xscale("log")
        ax.set_xticks(sorted(table["noise_deg"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_title(f"{rate} Hz")
        ax.set_xlabel("measurement noise SD (deg)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("event F1 (IoU >= 0.5)")
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(out / "f1_by_noise.png", dpi=130)
    plt.close(fig)

    if "_samples" not in examples:
        return
    samples, truth = examples["_samples"], examples["_truth"]
    first = truth[truth.subject == truth.subject.min()]
    sm = samples[samples.subject == first.subject.iloc[0]]
    dets = {k: v[v.subject == first.subject.iloc[0]] for k, v in examples.items() if not k.startswith("_")}
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1]})
    axes[0].plot(sm["time"], sm["x"], lw=0.8, label="x")
    axes[0].plot(sm["time"], sm["y"], lw=0.8, label="y")
    axes[0].set_ylabel("gaze (px)")
    axes[0].legend(loc="upper right")
    lanes = {"truth": first, **dets}
    for j, (name, ev) in enumerate(lanes.items()):
        for r in ev.itertuples():
            axes[1].broken_barh([(r.t_start, r.duration)], (j - 0.35, 0.7),
                                color=f"C{j + 2}", alpha=0.8)
    axes[1].set_yticks(range(len(lanes)), list(lanes))
    axes[1].set_xlabel("time (ms)")
    fig.suptitle("one simulated recording: gaze and fixation intervals")
    fig.tight_layout()
    fig.savefig(out / "example_trace.png", dpi=130)
    plt.close(fig)

    panels = {"truth": first, **{n: d for n, d in dets.items() if len(d)}}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8))
    for ax, (name, ev) in zip(np.atleast_1d(axes), panels.items()):
        plot_scanpath(ev, ax=ax, size=(stim["width"], stim["height"]), legend=False,
                      title=f"{name}: {len(ev)} fixations")
    fig.tight_layout()
    fig.savefig(out / "example_scanpath.png", dpi=130)
    plt.close(fig)

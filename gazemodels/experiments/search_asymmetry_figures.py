"""Figures of the search-asymmetry experiment, from its result tables.

Each function takes the tables that :func:`gazemodels.experiments.search_asymmetry.run` writes
(``trials.csv``, ``slopes.csv``, ``asymmetry.csv``, read back with :func:`load_results`) and
returns a matplotlib figure. It draws on the axes you pass, or on a new figure. The experiment
saves the same figures as PNG files, and a notebook can redraw them from a results folder.

- :func:`plot_rt_setsize`: RT against set size per experiment, model beside humans.
- :func:`plot_asymmetry_index`: the asymmetry index per experiment for humans, eccNET and
  each model variant.
- :func:`plot_slopes_vs_human`: the twelve model slopes against the human ones, with the
  Pearson r that the experiment reports.
- :func:`plot_variant_summary`: mean AI, polarity matches and slope r of every variant of
  one or more runs (read with :func:`load_summaries`), beside humans and eccNET.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["load_results", "load_summaries", "plot_asymmetry_index", "plot_rt_setsize", "plot_slopes_vs_human",
           "plot_variant_summary", "variant_label"]

VARIANT_LABELS = {
    "none": "ours",
    "no_ecc": "ours, no eccentricity",
    "no_ecc_fovea": "ours, foveal resolution everywhere",
    "no_topdown": "ours, no top-down",
    "random_stem": "ours, random stem",
}
"""Legend labels of the built-in variants. Other variants are labelled by their names."""

HARD, EASY = "C3", "C0"
"""Colours of the condition that is hard for people and of the easy one."""


def variant_label(variant: str) -> str:
    """Legend label of a variant.

    Parameters
    ----------
    variant : str
        ``"none"``, an ablation's name or a ``[variants]`` name.

    Returns
    -------
    str
        The label of :data:`VARIANT_LABELS`, or the name itself.
    """
    return VARIANT_LABELS.get(variant, variant)


def load_results(folder) -> dict[str, pd.DataFrame]:
    """The result tables of a search-asymmetry run.

    Parameters
    ----------
    folder : str or os.PathLike
        The run's ``--out`` folder.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"trials"``, ``"slopes"`` and ``"asymmetry"``.

    Raises
    ------
    FileNotFoundError
        If the folder lacks one of the three CSV files.
    """
    folder = Path(folder)
    out = {}
    for name, file in (("trials", "trials.csv"), ("slopes", "slopes.csv"), ("asymmetry", "asymmetry.csv")):
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(f"search-asymmetry results: {path} is missing (is {folder} a run's --out folder?)")
        out[name] = pd.read_csv(path)
    return out


SUMMARY_COLUMNS = ("run", "variant", "mean_ai", "mean_ai_ci_low", "mean_ai_ci_high", "polarity_matches",
                   "n_experiments", "slope_r", "slope_r_ci_low", "slope_r_ci_high", "seed", "repeats",
                   "human_mean_ai", "eccnet_mean_ai", "eccnet_polarity_matches", "eccnet_slope_r")
"""Columns of :func:`load_summaries`."""


def load_summaries(folders) -> pd.DataFrame:
    """The headline figures of every variant of one or more search-asymmetry runs.

    Parameters
    ----------
    folders : str, os.PathLike or iterable of them
        Runs' ``--out`` folders, each with the ``summary.json`` the experiment writes.

    Returns
    -------
    pandas.DataFrame
        One row per run and variant, in the runs' order and each run's variant order, with
        the columns of :data:`SUMMARY_COLUMNS`: ``run`` (the folder as given), ``variant``,
        the mean asymmetry index and its CI, the number of experiments with the human
        polarity out of ``n_experiments``, the Pearson r of the model's slopes with the human
        ones and its CI, the run's first ``seed`` and ``repeats``, and the humans' and
        eccNET's (published) figures for reference.

    Raises
    ------
    FileNotFoundError
        If a folder has no ``summary.json``.
    ValueError
        If a ``summary.json`` is not JSON or lacks a figure; the message names the file and
        the key.
    """
    if isinstance(folders, (str, Path)):
        folders = [folders]
    rows = []
    for folder in folders:
        path = Path(folder) / "summary.json"
        if not path.is_file():
            raise FileNotFoundError(f"search-asymmetry summaries: {path} is missing (is {folder} a run's --out folder?)")
        try:
            summary = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"search-asymmetry summaries: {path} is not valid JSON ({exc})") from None
        try:
            eccnet = summary["eccnet"]
            for variant, v in summary["variants"].items():
                rows.append({
                    "run": str(folder), "variant": variant, "mean_ai": v["mean_ai"],
                    "mean_ai_ci_low": v["mean_ai_ci"][0], "mean_ai_ci_high": v["mean_ai_ci"][1],
                    "polarity_matches": v["polarity_matches"], "n_experiments": v["n_experiments"],
                    "slope_r": v["slope_r"], "slope_r_ci_low": v["slope_r_ci"][0],
                    "slope_r_ci_high": v["slope_r_ci"][1], "seed": summary["seed"],
                    "repeats": summary.get("repeats", 1), "human_mean_ai": v["human_mean_ai"],
                    "eccnet_mean_ai": eccnet["mean_ai"], "eccnet_polarity_matches": eccnet["polarity_matches"],
                    "eccnet_slope_r": eccnet["slope_r"]})
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ValueError(f"search-asymmetry summaries: {path} lacks {exc!s} (is it a summary.json the "
                             "experiment wrote?)") from None
    if not rows:
        raise ValueError("search-asymmetry summaries: no runs given")
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def plot_variant_summary(summary: pd.DataFrame, labels=None, axes=None):
    """Mean AI, polarity matches and slope r of each variant, beside humans and eccNET.

    One row per variant, three panels: the mean asymmetry index with its CI (the humans'
    mean as a line, with a band of +- 0.1 around it, and eccNET's as a dotted line), the
    number of experiments with the human polarity (eccNET's dotted), and the Pearson r of the
    twelve slopes with its CI (eccNET's dotted).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`load_summaries`.
    labels : list of str, optional
        Row labels; by default the variant's label, with the run's folder name when the
        table holds several runs.
    axes : sequence of three matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"plot_variant_summary: the table lacks {missing} (is it from load_summaries?)")
    if summary.empty:
        raise ValueError("plot_variant_summary: the table is empty")
    if labels is None:
        several = summary["run"].nunique() > 1
        labels = [f"{variant_label(v)} ({Path(r).name})" if several else variant_label(v)
                  for r, v in zip(summary["run"], summary["variant"])]
    labels = list(labels)
    if len(labels) != len(summary):
        raise ValueError(f"plot_variant_summary: {len(labels)} labels for {len(summary)} rows")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 3, figsize=(12.0, 1.2 + 0.4 * len(summary)), sharey=True)
    ax_ai, ax_pol, ax_r = axes
    y = np.arange(len(summary))[::-1].astype(float)
    human = float(summary["human_mean_ai"].iloc[0])
    first = summary.iloc[0]
    ax_ai.axvspan(human - 0.1, human + 0.1, color="0.9", label="humans +- 0.1")
    ax_ai.axvline(human, color="0.3", label=f"humans ({human:.3f})")
    for ax, col, ref, name in ((ax_ai, "mean_ai", first["eccnet_mean_ai"], "mean AI"),
                               (ax_r, "slope_r", first["eccnet_slope_r"], "r of the 12 slopes")):
        ax.axvline(float(ref), color="C7", ls=":", label=f"eccNET ({float(ref):.3f})")
        _ci_bars_h(ax, y, summary[f"{col}_ci_low"].to_numpy(float), summary[f"{col}_ci_high"].to_numpy(float))
        ax.scatter(summary[col].to_numpy(float), y, color="C0", zorder=3)
        ax.set_xlabel(name)
        ax.axvline(0, color="k", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    ax_pol.barh(y, summary["polarity_matches"].to_numpy(float), color="C0", height=0.6)
    ax_pol.axvline(float(first["eccnet_polarity_matches"]), color="C7", ls=":",
                   label=f"eccNET ({int(first['eccnet_polarity_matches'])})")
    n_exp = int(summary["n_experiments"].max())
    ax_pol.set_xlim(0, n_exp + 0.2)
    ax_pol.set_xticks(range(n_exp + 1))
    ax_pol.set_xlabel("experiments with the human polarity")
    ax_pol.legend(fontsize=7, loc="lower left")
    ax_ai.set_yticks(y, labels)
    ax_ai.set_title("mean asymmetry index (95% CI)", fontsize=10)
    ax_pol.set_title("polarity matches", fontsize=10)
    ax_r.set_title("slope r with humans (95% CI)", fontsize=10)
    fig = ax_ai.figure
    fig.tight_layout()
    return fig


def _ci_bars_h(ax, y, low, high) -> None:
    """Horizontal bars spanning each interval exactly (see :func:`_ci_bars`)."""
    ok, low, high = _finite_intervals(low, high)
    if ok.any():
        ax.hlines(np.asarray(y, float)[ok], low[ok], high[ok], color="0.4", zorder=2)


def _one_variant(table: pd.DataFrame, variant: str | None, what: str) -> tuple[pd.DataFrame, str]:
    if "variant" not in table.columns:
        raise ValueError(f"{what}: the table has no 'variant' column (is it one the experiment wrote?)")
    variants = list(dict.fromkeys(table["variant"]))
    if not variants:
        raise ValueError(f"{what}: the table is empty")
    v = variants[0] if variant is None else variant
    if v not in variants:
        raise ValueError(f"{what}: no variant {v!r} in the table; it has {variants}")
    return table[table["variant"] == v], v


def plot_rt_setsize(trials: pd.DataFrame, variant: str | None = None, axes=None):
    """Mean RT against set size per experiment: humans (solid) and the model (dashed, +- SEM).

    Parameters
    ----------
    trials : pandas.DataFrame
        The experiment's ``trials.csv`` (columns ``variant``, ``condition``, ``set_size``,
        ``rt_ms``).
    variant : str, optional
        Which variant to draw; default the table's first.
    axes : array of matplotlib.axes.Axes, optional
        One axes per experiment in the table, in the order of
        :func:`gazemodels.stimuli.experiment_pairs`. By default a new figure, three panels a row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from gazemodels.stimuli import condition_experiment, experiment_pairs, human_rt

    tv, v = _one_variant(trials, variant, "plot_rt_setsize")
    present = {condition_experiment(c) for c in tv["condition"].unique()}
    pairs = {e: p for e, p in experiment_pairs().items() if e in present}
    n = len(pairs)
    if axes is None:
        import matplotlib.pyplot as plt

        cols = min(3, n)
        rows = int(math.ceil(n / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.4 * rows), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < n:
        raise ValueError(f"plot_rt_setsize: {n} experiments need {n} axes, got {len(axes)}")
    fig = axes[0].figure
    for ax, (e, (hard, easy)) in zip(axes, pairs.items()):
        for cond, colour in ((hard, HARD), (easy, EASY)):
            sizes, rt = human_rt(cond)
            ax.plot(sizes, rt, "o-", color=colour, label=f"human {cond}")
            g = tv[tv["condition"] == cond].groupby("set_size")["rt_ms"]
            mean, sem = g.mean(), g.sem().fillna(0.0)
            ax.errorbar(mean.index, mean.values, yerr=sem.values, fmt="s--", color=colour, mfc="white",
                        capsize=2, label=f"model {cond}")
        ax.set_title(e)
        ax.set_xlabel("set size (items)")
        ax.set_ylabel("RT (ms)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(f"RT vs set size: humans (solid) and {variant_label(v)} (dashed, mean +- SEM)")
    return fig


def plot_asymmetry_index(asym: pd.DataFrame, variants=None, ax=None):
    """Asymmetry index per experiment: humans, eccNET (published) and each model variant.

    Parameters
    ----------
    asym : pandas.DataFrame
        The experiment's ``asymmetry.csv`` (columns ``variant``, ``experiment``, ``human_ai``,
        ``eccnet_ai``, ``model_ai`` and its CI).
    variants : list of str, optional
        Variants to draw, in order; default all, as in the table.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    first, _ = _one_variant(asym, None, "plot_asymmetry_index")
    have = list(dict.fromkeys(asym["variant"]))
    variants = have if variants is None else list(variants)
    missing = [v for v in variants if v not in have]
    if missing or not variants:
        raise ValueError(f"plot_asymmetry_index: variants {missing or variants} not in the table; it has {have}")
    first = first.reset_index(drop=True)
    exps = first["experiment"].tolist()
    series = [("humans", first["human_ai"].to_numpy(), None, "0.3"),
              ("eccNET (Gupta et al. 2021)", first["eccnet_ai"].to_numpy(), None, "C7")]
    for k, v in enumerate(variants):
        a = asym[asym["variant"] == v].set_index("experiment").loc[exps]
        ci = np.vstack([a["model_ai_ci_low"].to_numpy(float), a["model_ai_ci_high"].to_numpy(float)])
        series.append((variant_label(v), a["model_ai"].to_numpy(), ci, f"C{k}"))
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(7.0, 1.5 * len(exps) + 1.2 * len(series)), 4.2))
    x = np.arange(len(exps))
    width = 0.8 / len(series)
    for j, (label, vals, ci, colour) in enumerate(series):
        mean = float(np.mean(vals))
        xj = x + (j - (len(series) - 1) / 2) * width
        ax.bar(xj, vals, width, color=colour, label=f"{label} (mean {mean:.3f})")
        if ci is not None:
            _ci_bars(ax, xj, ci[0], ci[1], ecolor="k")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, exps, rotation=20)
    ax.set_ylabel("asymmetry index")
    ax.set_ylim(-1.1, 1.1)
    ax.set_title("Search asymmetry index per experiment (> 0: the human polarity)")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    return ax.figure


def plot_slopes_vs_human(slopes: pd.DataFrame, variant: str | None = None, ax=None, eccnet: bool = True):
    """The model's RT-set-size slopes against the human ones, one point per condition.

    Error bars are the model slopes' bootstrap CIs. The title gives the Pearson r of the points
    (the experiment's ``slope_r``), and eccNET's published slopes with their r when ``eccnet``.

    Parameters
    ----------
    slopes : pandas.DataFrame
        The experiment's ``slopes.csv`` (columns ``variant``, ``condition``, ``role``,
        ``model_slope`` and its CI, ``human_slope``, ``eccnet_slope``).
    variant : str, optional
        Which variant to draw; default the table's first.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    eccnet : bool, default True
        Also draw eccNET's slopes (grey crosses).

    Returns
    -------
    matplotlib.figure.Figure
    """
    s, v = _one_variant(slopes, variant, "plot_slopes_vs_human")
    h = s["human_slope"].to_numpy(float)
    m = s["model_slope"].to_numpy(float)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.6, 5.0))
    colours = [HARD if r == "hard" else EASY for r in s["role"]]
    _ci_bars(ax, h, s["model_slope_ci_low"].to_numpy(float), s["model_slope_ci_high"].to_numpy(float),
             ecolor="0.6", zorder=1)
    ax.scatter(h, m, c=colours, zorder=2, label=f"{variant_label(v)} (red: hard for people)")
    for x, y, name in zip(h, m, s["condition"]):
        ax.annotate(name, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
    title = f"{variant_label(v)}: r = {_pearson(h, m):.2f}"
    if eccnet and "eccnet_slope" in s.columns:
        e = s["eccnet_slope"].to_numpy(float)
        ax.scatter(h, e, marker="x", color="0.5", zorder=2, label="eccNET (Gupta et al. 2021)")
        title += f"; eccNET r = {_pearson(h, e):.2f}"
    top = float(np.nanmax(np.concatenate([h, m]))) * 1.1 + 1.0
    ax.plot([0, top], [0, top], color="k", lw=0.8, ls=":", label="model = human")
    ax.set_xlabel("human slope (ms/item)")
    ax.set_ylabel("model slope (ms/item)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return ax.figure


def _ci_bars(ax, x, low, high, **kwargs) -> None:
    """Error bars spanning each interval ``[low, high]`` exactly, wherever the estimate lies.

    matplotlib's ``yerr`` is measured from the estimate and must not be negative, but a
    percentile bootstrap CI need not contain its estimate, and a zero-width CI can miss it by a
    rounding error; so the bars are drawn about the intervals' midpoints. Intervals with a
    non-finite end are not drawn.
    """
    ok, low, high = _finite_intervals(low, high)
    if ok.any():
        mid, half = (low[ok] + high[ok]) / 2, (high[ok] - low[ok]) / 2
        ax.errorbar(np.asarray(x, float)[ok], mid, yerr=half, fmt="none", capsize=2, **kwargs)


def _finite_intervals(low, high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The intervals as float arrays, and the mask of those with two finite ends (the drawn ones)."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    return np.isfinite(low) & np.isfinite(high), low, high


def _pearson(human: np.ndarray, model: np.ndarray) -> float:
    """The experiment's r (:func:`gazemodels.metrics.search.slope_correlation`); NaN where undefined."""
    from gazemodels.metrics.search import slope_correlation

    try:
        return slope_correlation(model, human)[0]
    except ValueError:  # fewer than 3 conditions, or one side constant
        return float("nan")

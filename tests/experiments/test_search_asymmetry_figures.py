"""Figures of the search-asymmetry experiment, drawn from hand-made result tables."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from gazemodels.experiments.search_asymmetry_figures import (  # noqa: E402
    load_results,
    plot_asymmetry_index,
    plot_rt_setsize,
    plot_slopes_vs_human,
)
from gazemodels.stimuli import human_rt  # noqa: E402

CONDS = [("left_right", "hard", 24.0), ("top_down", "easy", 4.0), ("cross", "hard", 96.0),
         ("non_cross", "easy", 45.0)]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _slopes(model, variant="none"):
    return pd.DataFrame({
        "variant": variant, "condition": [c for c, _, _ in CONDS], "role": [r for _, r, _ in CONDS],
        "model_slope": model, "model_slope_ci_low": np.asarray(model) - 1.0,
        "model_slope_ci_high": np.asarray(model) + 2.0, "human_slope": [h for _, _, h in CONDS],
        "eccnet_slope": [8.0, 0.0, 97.0, 33.0]})


def test_slopes_vs_human_plots_each_condition_and_titles_the_experiments_r():
    model = [10.0, 20.0, 30.0, 40.0]
    fig = plot_slopes_vs_human(_slopes(model))
    ax = fig.axes[0]
    human = np.array([24.0, 4.0, 96.0, 45.0])
    # by hand: deviations from the means (42.25, 25) give sum of products 775 and sums of
    # squares 4692.75 and 500, so r = 775 / sqrt(4692.75 * 500) = 0.506
    assert ax.get_title().startswith("ours: r = 0.51;")
    offsets = [np.asarray(c.get_offsets()) for c in ax.collections if len(np.asarray(c.get_offsets())) == 4]
    assert any(np.allclose(o, np.c_[human, model]) for o in offsets)
    assert any(np.allclose(o, np.c_[human, [8.0, 0.0, 97.0, 33.0]]) for o in offsets)  # eccNET
    assert sorted(t.get_text() for t in ax.texts) == sorted(c for c, _, _ in CONDS)


def test_slopes_vs_human_picks_a_variant_and_names_a_missing_one():
    both = pd.concat([_slopes([1.0, 2.0, 3.0, 4.0], "a"), _slopes([4.0, 3.0, 2.0, 1.0], "b")])
    ax = plot_slopes_vs_human(both, "b", eccnet=False).axes[0]
    assert ax.get_title().startswith("b: r = ") and "eccNET" not in ax.get_title()
    with pytest.raises(ValueError, match="no variant 'c' in the table; it has \\['a', 'b'\\]"):
        plot_slopes_vs_human(both, "c")


def test_rt_setsize_draws_humans_and_model_means_per_experiment():
    rows = []
    for cond, rt0 in (("left_right", 500.0), ("top_down", 450.0)):
        for n in (1, 6, 12):
            for k in range(3):
                rows.append({"variant": "none", "condition": cond, "set_size": n, "rt_ms": rt0 + 10 * n + k})
    fig = plot_rt_setsize(pd.DataFrame(rows))
    ax = fig.axes[0]
    assert ax.get_title() == "lighting_direction"
    sizes, rt = human_rt("left_right")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["human left_right"].get_ydata(), rt)
    model = [c for c in ax.containers if c.get_label() == "model top_down"][0]
    np.testing.assert_allclose(model.lines[0].get_ydata(), [450 + 10 * n + 1 for n in (1, 6, 12)])
    assert len([a for a in fig.axes if a.get_visible() and a.axison]) == 1  # one experiment, one panel


def test_asymmetry_index_bars_are_the_tables_values():
    asym = pd.DataFrame({"variant": ["none", "none"], "experiment": ["curvature", "intersection"],
                         "human_ai": [0.8, 0.36], "eccnet_ai": [1.0, 0.5], "model_ai": [0.25, -0.5],
                         "model_ai_ci_low": [0.1, -0.7], "model_ai_ci_high": [0.4, -0.2]})
    ax = plot_asymmetry_index(asym).axes[0]
    heights = [[p.get_height() for p in c] for c in ax.containers if hasattr(c, "patches")]
    assert [0.8, 0.36] in heights and [1.0, 0.5] in heights and [0.25, -0.5] in heights
    labels = ax.get_legend_handles_labels()[1]
    assert "ours (mean -0.125)" in labels and "humans (mean 0.580)" in labels


def test_load_results_names_the_missing_file(tmp_path):
    (tmp_path / "trials.csv").write_text("variant\n")
    with pytest.raises(FileNotFoundError, match="slopes.csv is missing"):
        load_results(tmp_path)


def test_ci_bars_draw_the_interval_itself_even_where_the_estimate_sits_on_or_outside_it():
    """A deterministic search gives a bootstrap CI of zero width, whose bound can differ from the
    estimate by a rounding error (as with eccNET's choices on lite1); a percentile CI can even
    leave the estimate out. Both figures draw the interval from its low to its high end."""
    model = np.array([10.0, 20.0, 30.0, 40.0])
    s = _slopes(model)
    s["model_slope_ci_low"] = [10.0 + 1e-12, 21.0, 29.0, 41.0]  # two estimates just or well below
    s["model_slope_ci_high"] = [10.0 + 1e-12, 25.0, 31.0, 45.0]
    ax = plot_slopes_vs_human(s).axes[0]
    segments = [seg for c in ax.collections if hasattr(c, "get_segments") for seg in c.get_segments()]
    spans = sorted((round(float(seg[:, 1].min()), 6), round(float(seg[:, 1].max()), 6)) for seg in segments
                   if len(seg) == 2 and np.isclose(seg[0, 0], seg[1, 0]))
    assert spans == [(10.0, 10.0), (21.0, 25.0), (29.0, 31.0), (41.0, 45.0)]
    asym = pd.DataFrame({"variant": ["none", "none"], "experiment": ["curvature", "intersection"],
                         "human_ai": [0.8, 0.36], "eccnet_ai": [1.0, 0.5], "model_ai": [0.0, -0.5],
                         "model_ai_ci_low": [1e-17, -0.4], "model_ai_ci_high": [1e-17, -0.2]})
    ax = plot_asymmetry_index(asym).axes[0]
    segments = [seg for c in ax.collections if hasattr(c, "get_segments") for seg in c.get_segments()]
    spans = sorted((round(float(seg[:, 1].min()), 6), round(float(seg[:, 1].max()), 6)) for seg in segments
                   if len(seg) == 2 and np.isclose(seg[0, 0], seg[1, 0]))
    assert spans == [(-0.4, -0.2), (0.0, 0.0)]

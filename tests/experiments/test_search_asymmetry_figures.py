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


def _write_summary(folder, variants, seed=0, repeats=3):
    import json

    folder.mkdir(parents=True, exist_ok=True)
    summary = {"seed": seed, "repeats": repeats,
               "eccnet": {"mean_ai": 0.513, "slope_r": 0.4, "polarity_matches": 5},
               "variants": {name: {"mean_ai": ai, "mean_ai_ci": [ai - 0.1, ai + 0.05], "human_mean_ai": 0.5645,
                                   "polarity_matches": pol, "n_experiments": 6, "slope_r": r,
                                   "slope_r_ci": [r - 0.2, r + 0.1]}
                            for name, (ai, pol, r) in variants.items()}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_load_summaries_has_one_row_per_run_and_variant_in_order(tmp_path):
    from gazemodels.experiments.search_asymmetry_figures import load_summaries

    a = _write_summary(tmp_path / "a", {"none": (0.41, 5, 0.33), "no_ecc": (0.17, 3, 0.06)})
    b = _write_summary(tmp_path / "b", {"crowding": (0.29, 4, 0.39)}, seed=7, repeats=1)
    table = load_summaries([a, b])
    assert table[["run", "variant"]].values.tolist() == [[str(a), "none"], [str(a), "no_ecc"], [str(b), "crowding"]]
    assert table["mean_ai"].tolist() == [0.41, 0.17, 0.29]
    assert table["mean_ai_ci_low"].tolist() == pytest.approx([0.31, 0.07, 0.19])
    assert table["slope_r_ci_high"].tolist() == pytest.approx([0.43, 0.16, 0.49])
    assert table["polarity_matches"].tolist() == [5, 3, 4]
    assert table["seed"].tolist() == [0, 0, 7] and table["repeats"].tolist() == [3, 3, 1]
    assert set(table["eccnet_slope_r"]) == {0.4}
    assert load_summaries(b)["variant"].tolist() == ["crowding"]  # one folder, not in a list


def test_load_summaries_names_the_file_and_the_problem(tmp_path):
    from gazemodels.experiments.search_asymmetry_figures import load_summaries

    with pytest.raises(FileNotFoundError, match="empty.*summary.json is missing"):
        load_summaries([(tmp_path / "empty")])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.*summary.json is not valid JSON"):
        load_summaries([bad])
    (bad / "summary.json").write_text('{"seed": 0, "eccnet": {}, "variants": {"none": {}}}')
    with pytest.raises(ValueError, match="summary.json lacks 'mean_ai'"):
        load_summaries([bad])
    with pytest.raises(ValueError, match="no runs given"):
        load_summaries([])


def test_variant_summary_draws_each_variants_figures(tmp_path):
    from gazemodels.experiments.search_asymmetry_figures import load_summaries, plot_variant_summary

    a = _write_summary(tmp_path / "a", {"none": (0.41, 5, 0.33), "no_ecc": (0.17, 3, 0.06)})
    b = _write_summary(tmp_path / "b", {"crowding": (0.29, 4, 0.39)})
    table = load_summaries([a, b])
    fig = plot_variant_summary(table)
    ax_ai, ax_pol, ax_r = fig.axes
    # the first row is drawn at the top
    assert ax_ai.collections[-1].get_offsets()[:, 0].tolist() == [0.41, 0.17, 0.29]
    assert ax_ai.collections[-1].get_offsets()[:, 1].tolist() == [2.0, 1.0, 0.0]
    assert ax_r.collections[-1].get_offsets()[:, 0].tolist() == [0.33, 0.06, 0.39]
    assert [p.get_width() for p in ax_pol.patches] == [5, 3, 4]
    assert [t.get_text() for t in ax_ai.get_yticklabels()] == ["ours (a)", "ours, no eccentricity (a)", "crowding (b)"]
    with pytest.raises(ValueError, match="2 labels for 3 rows"):
        plot_variant_summary(table, labels=["x", "y"])
    with pytest.raises(ValueError, match="lacks"):
        plot_variant_summary(table.drop(columns="slope_r"))

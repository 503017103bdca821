"""Conditional next-fixation metrics: cLL, cIG, cNSS, cAUC."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics import conditional as C
from gazemodels.metrics.saliency import to_density

H, W = 30, 40


@pytest.fixture(scope="module")
def pysal():
    """pysaliency with the two shims explained in test_saliency.py (pkg_resources, np.trapz)."""
    mp = pytest.MonkeyPatch()
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pkg_resources")
        stub.resource_string = lambda *a, **k: b""
        stub.resource_listdir = lambda *a, **k: []
        mp.setitem(sys.modules, "pkg_resources", stub)
    if not hasattr(np, "trapz"):
        mp.setattr(np, "trapz", np.trapezoid, raising=False)
    try:
        import pysaliency
    except ImportError as e:  # pragma: no cover
        mp.undo()
        pytest.skip(f"pysaliency is not installed ({e})")
    yield pysaliency
    mp.undo()


_BASE = np.random.default_rng(7).random((H, W))


def history_model(hist: np.ndarray) -> np.ndarray:
    """A density that depends on the history: a bump at the last fixation over a floor."""
    if len(hist) == 0:
        return to_density(_BASE)
    yy, xx = np.mgrid[:H, :W]
    lx, ly = hist[-1]
    d = np.exp(-((xx + 0.5 - lx) ** 2 + (yy + 0.5 - ly) ** 2) / (2 * 6.0**2)) + 0.05 * _BASE
    return d / d.sum()


def _scanpath(seed=0, n=7):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0, W, n), rng.uniform(0, H, n)])


def test_hand_computed_single_fixation():
    d = np.array([[0.5, 0.25, 0.125, 0.125]])
    sp = [[3.5, 0.5], [0.5, 0.5]]  # fixation 1 lands on the pixel of mass 0.5
    res = C.conditional_scores([d], sp)
    assert res["fix_index"].tolist() == [1]
    assert res.loc[0, "cll"] == pytest.approx(-1.0)
    assert res.loc[0, "cig"] == pytest.approx(1.0)  # log2 .5 - log2 .25
    # NSS: (0.5 - 0.25) / std([.5, .25, .125, .125])
    assert res.loc[0, "cnss"] == pytest.approx(0.25 / np.std([0.5, 0.25, 0.125, 0.125]))
    # AUC of one positive (0.5) against the four pixels: 3 below, 1 tie -> 3.5/4
    assert res.loc[0, "cauc"] == pytest.approx(0.875)


def test_constant_conditional_map_is_chance():
    sp = _scanpath(1)
    maps = [np.full((H, W), 1.0 / (H * W))] * (len(sp) - 1)
    assert C.cauc(maps, sp) == pytest.approx(0.5)
    assert C.cnss(maps, sp) == pytest.approx(0.0)
    assert C.cig(maps, sp) == pytest.approx(0.0, abs=1e-12)


def test_callable_receives_the_history_and_matches_precomputed_maps():
    sp = _scanpath(2)
    seen = []

    def model(hist):
        seen.append(hist.copy())
        return history_model(hist)

    a = C.conditional_scores(model, sp)
    assert [len(h) for h in seen] == list(range(1, len(sp)))
    np.testing.assert_array_equal(seen[-1], sp[:-1])
    maps = [history_model(sp[:i]) for i in range(1, len(sp))]
    b = C.conditional_scores(maps, sp)
    pd.testing.assert_frame_equal(a, b)
    # log-density input gives the same numbers
    c = C.conditional_scores([np.log(m) for m in maps], sp, log_density=True)
    pd.testing.assert_frame_equal(a, c, atol=1e-12, rtol=0)


def test_a_model_that_uses_the_history_beats_one_that_does_not():
    rng = np.random.default_rng(3)
    # humans make short saccades here: each fixation lands near the previous one
    sp = [np.array([20.0, 15.0])]
    for _ in range(30):
        sp.append(np.clip(sp[-1] + rng.normal(0, 3.0, 2), 0, [W - 0.01, H - 0.01]))
    sp = np.array(sp)
    static = [to_density(_BASE)] * (len(sp) - 1)
    assert C.cig(history_model, sp) > C.cig(static, sp)
    assert C.cauc(history_model, sp) > C.cauc(static, sp)
    assert C.cnss(history_model, sp) > C.cnss(static, sp)


def test_centre_baseline_and_start():
    sp = _scanpath(4)
    uni = C.cig(history_model, sp, baseline="uniform")
    cen = C.cig(history_model, sp, baseline="centre")
    assert uni != pytest.approx(cen)
    # start=0 scores the first fixation too (with an empty history)
    assert len(C.conditional_scores(history_model, sp, start=0)) == len(sp)


def test_cig_and_cll_match_pysaliency_scanpath_model(pysal):
    class Model(pysal.models.ScanpathModel):
        def conditional_log_density(self, stimulus, x_hist, y_hist, t_hist, attributes=None, out=None):
            return np.log(history_model(np.column_stack([x_hist, y_hist])))

    stimuli = pysal.Stimuli([np.random.default_rng(0).random((H, W, 3))])
    for seed in (5, 6):
        sp = _scanpath(seed, 9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trains = pysal.FixationTrains.from_fixation_trains(
                [sp[:, 0]], [sp[:, 1]], [np.arange(len(sp), dtype=float)], [0], [0]
            )
            ig = Model().information_gains(stimuli, trains)
            ll = Model().log_likelihoods(stimuli, trains)
        ours = C.conditional_scores(history_model, sp, start=0)
        np.testing.assert_allclose(ours["cig"], ig, atol=1e-10)
        np.testing.assert_allclose(ours["cll"], ll / np.log(2), atol=1e-10)


def test_cauc_matches_pysaliency_per_positive_roc(pysal):
    from pysaliency.roc import general_rocs_per_positive

    sp = _scanpath(8)
    ours = C.conditional_scores(history_model, sp, metrics=("cauc",))
    for i, v in zip(ours["fix_index"], ours["cauc"]):
        m = history_model(sp[:i])
        r, c = int(sp[i, 1]), int(sp[i, 0])
        ref = general_rocs_per_positive(np.array([m[r, c]]), m.ravel().astype(float))[0]
        assert v == pytest.approx(ref, abs=1e-12)


def test_score_conditional_over_a_table():
    rows = []
    for s, stim in enumerate(["a", "b"]):
        sp = _scanpath(10 + s, 5)
        for i, (x, y) in enumerate(sp):
            rows.append({"stimulus": stim, "subject": 1, "trial": 0, "fix_index": i, "x": x, "y": y})
    table = pd.DataFrame(rows)
    calls = []

    def model(stimulus, hist):
        calls.append(stimulus)
        return history_model(hist)

    out = C.score_conditional(model, table)
    assert len(out) == 8 and set(calls) == {"a", "b"}
    assert out.groupby("stimulus")["fix_index"].apply(list).tolist() == [[1, 2, 3, 4]] * 2
    one = C.conditional_scores(history_model, table[table.stimulus == "a"])
    np.testing.assert_allclose(out[out.stimulus == "a"]["cig"], one["cig"])


def test_errors():
    sp = _scanpath(9, 4)
    with pytest.raises(ValueError, match="got 2 conditional maps .* expected one map per scored fixation \\(3\\)"):
        C.conditional_scores([np.ones((H, W)) / (H * W)] * 2, sp)
    with pytest.raises(ValueError, match="no fixations"):
        C.cig([], np.empty((0, 2)))
    with pytest.raises(ValueError, match="start=1 leaves no fixation"):
        C.cig([], sp[:1])
    with pytest.raises(ValueError, match="sums to"):
        C.cig([np.ones((H, W))] * 3, sp)
    with pytest.raises(ValueError, match="outside the 40x30 px map"):
        C.cnss([np.ones((H, W))] * 3, np.vstack([sp[:3], [[50.0, 1.0]]]))
    with pytest.raises(ValueError, match="unknown conditional metric"):
        C.conditional_scores(history_model, sp, metrics=("auc",))

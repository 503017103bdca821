"""MultiMatch: hand-computed cases, edge cases, and agreement with multimatch_gaze."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest

from gazemodels.metrics.scanpath import (
    UndefinedMetricError,
    UndefinedMetricWarning,
    multimatch,
    multimatch_batch,
    simplify_scanpath,
)

from . import realdata

mm_module = importlib.import_module("gazemodels.metrics.scanpath.multimatch")
reference = pytest.importorskip("multimatch_gaze")


def ref_compare(a, b, screen, **kw):
    """multimatch_gaze.docomparison on our (n, 3) arrays; NaN x 5 where it raises."""
    def rec(s):
        s = np.asarray(s, dtype=float).reshape(-1, 3)
        return np.rec.fromarrays([s[:, 0], s[:, 1], s[:, 2]], names="start_x,start_y,duration")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.asarray(reference.docomparison(rec(a), rec(b), list(screen), **kw), dtype=float), None
        except Exception as exc:  # the reference crashes on some grouped paths
            return np.full(5, np.nan), exc


def check_against_reference(scanpaths, pairs, screen, grouping=False, **thr):
    ours, _ = multimatch_batch(scanpaths, pairs, screen, grouping=grouping, **thr)
    kw = dict(grouping=grouping, TAmp=thr.get("amplitude_threshold", 0.0),
              TDir=thr.get("direction_threshold", 0.0), TDur=thr.get("duration_threshold", 0.0))
    refs, crashed = [], []
    for k, (a, b) in enumerate(pairs):
        r, exc = ref_compare(scanpaths[a], scanpaths[b], screen, **kw)
        refs.append(r)
        if exc is not None:
            crashed.append(k)
    refs = np.array(refs)
    keep = np.setdiff1d(np.arange(len(pairs)), crashed)
    assert len(keep) > 0
    np.testing.assert_array_equal(np.isnan(ours[keep]), np.isnan(refs[keep]))
    diff = np.abs(np.nan_to_num(ours[keep]) - np.nan_to_num(refs[keep]))
    assert diff.max() <= 1e-9, f"max |ours - multimatch_gaze| per dimension: {diff.max(axis=0)}"
    return ours, refs, crashed


# ---------------------------------------------------------------------------
# hand-computed
# ---------------------------------------------------------------------------


def test_hand_computed_pair():
    # saccades A: u1 = (100, 0), u2 = (0, 100); B: v1 = (100, 0), v2 = (110, 0)
    a = np.array([[0, 0, 100], [100, 0, 200], [100, 100, 300]], float)
    b = np.array([[0, 0, 100], [100, 0, 100], [210, 0, 300]], float)
    # |u - v|: M = [[0, 10], [141.42, 148.66]]; cheapest path (0,0) -> (1,1) diagonally
    # (cost 148.66 < 10 + 148.66 < 141.42 + 148.66)
    diag = math.hypot(1000, 1000)
    vec_med = (0 + math.sqrt(100**2 + 110**2)) / 2
    expected = [
        1 - vec_med / (2 * diag),  # vector
        1 - ((0 + math.pi / 2) / 2) / math.pi,  # direction: 0 and 90 degrees
        1 - ((0 + 10) / 2) / diag,  # length: |100-100|, |100-110|
        1.0,  # position: both saccade pairs start at the same points
        1 - (0 + (200 - 100) / 200) / 2,  # duration: fixations 0 and 1
    ]
    got = multimatch(a, b, (1000, 1000))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_identical_scanpaths_are_one():
    rng = np.random.default_rng(3)
    sp = np.column_stack([rng.uniform(0, 800, 9), rng.uniform(0, 600, 9), rng.uniform(80, 400, 9)])
    np.testing.assert_allclose(multimatch(sp, sp, (800, 600)), 1.0, atol=1e-12)
    got = multimatch(sp, sp.copy(), (800, 600), grouping=True, amplitude_threshold=100,
                     direction_threshold=45, duration_threshold=200)
    np.testing.assert_allclose(got, 1.0, atol=1e-12)


@pytest.mark.parametrize("n_short", [0, 1, 2])
def test_too_short_is_nan_with_reason(n_short):
    ok = np.array([[0, 0, 100], [100, 0, 100], [100, 100, 100]], float)
    short = ok[:n_short]
    with pytest.warns(UndefinedMetricWarning, match=f"{n_short} fixation"):
        res = multimatch(short, ok, (800, 600))
    assert np.isnan(res).all()
    with pytest.raises(UndefinedMetricError, match="at least 3"):
        multimatch(ok, short, (800, 600), on_undefined="raise")
    values, reasons = multimatch_batch([ok, short], [[0, 1], [0, 0]], (800, 600))
    assert np.isnan(values[0]).all() and "scanpath 2" in reasons[0]
    assert np.isfinite(values[1]).all() and reasons[1] is None
    # the reference agrees that these are undefined
    assert np.isnan(ref_compare(short, ok, (800, 600))[0]).all()


def test_three_fixations_is_defined():
    a = np.array([[0, 0, 100], [300, 0, 200], [300, 300, 100]], float)
    b = np.array([[10, 0, 120], [290, 20, 150], [320, 280, 90]], float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = multimatch(a, b, (800, 600))
    assert np.isfinite(res).all()


def test_missing_durations_make_only_duration_nan():
    a = np.array([[0, 0], [300, 0], [300, 300]], float)
    b = np.array([[10, 0], [290, 20], [320, 280]], float)
    with pytest.warns(UndefinedMetricWarning, match="duration"):
        res = multimatch(a, b, (800, 600))
    assert np.isfinite(res[:4]).all() and np.isnan(res.duration)


def test_screen_size_normalisation():
    rng = np.random.default_rng(7)
    a = np.column_stack([rng.uniform(0, 800, 8), rng.uniform(0, 600, 8), rng.uniform(80, 400, 8)])
    b = np.column_stack([rng.uniform(0, 800, 6), rng.uniform(0, 600, 6), rng.uniform(80, 400, 6)])
    small, big = np.array(multimatch(a, b, (800, 600))), np.array(multimatch(a, b, (1600, 1200)))
    # vector, length, position: 1 - med / diag, diag doubles; direction, duration: unchanged
    np.testing.assert_allclose(1 - big[[0, 2, 3]], (1 - small[[0, 2, 3]]) / 2, rtol=1e-12)
    np.testing.assert_allclose(big[[1, 4]], small[[1, 4]], rtol=1e-12)
    # per-pair screen sizes in one batch equal separate calls
    values, _ = multimatch_batch([a, b], [[0, 1], [0, 1]], np.array([[800, 600], [1600, 1200]]))
    np.testing.assert_allclose(values, np.vstack([small, big]), rtol=1e-12)
    # and both agree with the reference
    for screen, ours in (((800, 600), small), ((1600, 1200), big)):
        np.testing.assert_allclose(ours, ref_compare(a, b, screen)[0], atol=1e-12)
    with pytest.raises(ValueError, match="screen_size"):
        multimatch(a, b, (0, 600))


def test_batch_matches_single_calls_and_is_symmetric():
    rng = np.random.default_rng(11)
    sps = [np.column_stack([rng.uniform(0, 1000, n), rng.uniform(0, 800, n), rng.uniform(50, 500, n)])
           for n in rng.integers(3, 25, 40)]
    pairs = rng.integers(0, 40, (120, 2))
    values, _ = multimatch_batch(sps, pairs, (1000, 800))
    for k in range(0, 120, 17):
        a, b = pairs[k]
        np.testing.assert_allclose(values[k], multimatch(sps[a], sps[b], (1000, 800)), atol=0)
    swapped, _ = multimatch_batch(sps, pairs[:, ::-1], (1000, 800))
    np.testing.assert_allclose(swapped, values, atol=1e-12)


# ---------------------------------------------------------------------------
# agreement with multimatch_gaze
# ---------------------------------------------------------------------------


def test_ties_resolved_like_reference(monkeypatch):
    # positions on a coarse grid: many exactly tied alignment paths
    rng = np.random.default_rng(1)
    sps = [np.column_stack([rng.integers(0, 4, n) * 100.0, rng.integers(0, 4, n) * 100.0,
                            rng.integers(1, 4, n) * 100.0]) for n in rng.integers(3, 12, 200)]
    pairs = rng.integers(0, 200, (600, 2))
    calls = []
    original = mm_module._pair_by_dijkstra
    monkeypatch.setattr(mm_module, "_pair_by_dijkstra", lambda *a: calls.append(a) or original(*a))
    check_against_reference(sps, pairs, (400, 300))
    assert len(calls) > 20  # the tie fallback was exercised, and agreed


def test_grouping_matches_reference_and_handles_its_crash():
    rng = np.random.default_rng(2)
    sps = [np.column_stack([rng.integers(0, 4, n) * 100.0, rng.integers(0, 4, n) * 100.0,
                            rng.integers(1, 4, n) * 100.0]) for n in rng.integers(3, 12, 150)]
    pairs = rng.integers(0, 150, (400, 2))
    thr = dict(amplitude_threshold=150.0, direction_threshold=45.0, duration_threshold=250.0)
    ours, _, crashed = check_against_reference(sps, pairs, (400, 300), grouping=True, **thr)
    # where multimatch_gaze raises IndexError (a path grouped down to one short
    # saccade), we keep that saccade and return numbers
    assert crashed and np.isfinite(ours[crashed][:, :4]).all()


def test_simplify_scanpath_merges_collinear_short_saccades():
    # three rightward saccades of 50 px with short fixations in between -> one of 150
    sp = np.array([[0, 0, 300], [50, 0, 50], [100, 0, 50], [150, 0, 300]], float)
    out = simplify_scanpath(sp, amplitude_threshold=100, direction_threshold=30, duration_threshold=100)
    assert len(out["sac"]["x"]) == 1
    assert out["sac"]["lenx"][0] == pytest.approx(150) and out["sac"]["leny"][0] == pytest.approx(0)


def test_mit1003_within_image_pairs_match_reference(shared_data):
    fx = realdata.mit1003(shared_data)
    sps, keys = realdata.arrays(fx)
    pairs = realdata.within_pairs(keys, ["stimulus"])
    sample = pairs[np.random.default_rng(0).choice(len(pairs), 500, replace=False)]
    check_against_reference(sps, sample, (1280, 1024))


def test_coco_search18_within_image_pairs_match_reference(shared_data):
    fx = realdata.coco_search18(shared_data)
    sps, keys = realdata.arrays(fx)
    pairs = realdata.within_pairs(keys, ["stimulus"])
    sample = pairs[np.random.default_rng(1).choice(len(pairs), 400, replace=False)]
    check_against_reference(sps, sample, (1680, 1050))


@pytest.mark.parametrize("grouping", [False, True])
def test_studyforrest_matches_reference(shared_data, grouping):
    fx = realdata.studyforrest(shared_data)
    sps, keys = realdata.arrays(fx)
    within = realdata.within_pairs(keys, ["stimulus"])  # the two observers per segment
    rng = np.random.default_rng(2)
    across = rng.integers(0, len(sps), (150, 2))
    pairs = np.concatenate([within, across])
    # thresholds of the multimatch-gaze documentation (150 px, 45 deg, 0.05 s = 50 ms)
    thr = dict(amplitude_threshold=150.0, direction_threshold=45.0, duration_threshold=50.0) if grouping else {}
    check_against_reference(sps, pairs, (1280, 720), grouping=grouping, **thr)


def test_ivsn_integer_positions_match_reference(shared_data):
    # integer pixel positions: exact ties between alignment paths are common
    sps, n = realdata.ivsn(shared_data, "NaturalDesign")
    sps = [np.column_stack([s, np.full(len(s), 200.0)]) for s in sps]
    rng = np.random.default_rng(3)
    img = rng.integers(0, n, 300)
    subj = np.array([rng.choice(15, 2, replace=False) for _ in range(300)])
    pairs = np.column_stack([subj[:, 0] * n + img, subj[:, 1] * n + img])
    check_against_reference(sps, pairs, (1280, 1024))

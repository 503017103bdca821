"""ScanMatch: substitution matrix, sequences, Needleman-Wunsch, published IVSN scores."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gazemodels.metrics.scanpath import (
    IVSN_SCANMATCH,
    UndefinedMetricWarning,
    scanmatch,
    scanmatch_batch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
)

from . import realdata


def loop_needleman_wunsch(a, b, sub, gap):
    """Textbook Needleman-Wunsch score, one cell at a time (test reference)."""
    F = np.zeros((len(a) + 1, len(b) + 1))
    F[:, 0] = gap * np.arange(len(a) + 1)
    F[0, :] = gap * np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            F[i, j] = max(F[i - 1, j - 1] + sub[a[i - 1], b[j - 1]], F[i - 1, j] + gap, F[i, j - 1] + gap)
    return F[-1, -1]


def test_substitution_matrix_by_hand():
    # 2 x 2 grid, regions 0 1 / 2 3; distances 0, 1, 1, sqrt 2; threshold 1
    S = scanmatch_substitution_matrix((2, 2), threshold=1.0)
    r2 = np.sqrt(2)
    expected = np.array([[1, 0, 0, 1 - r2], [0, 1, 1 - r2, 0], [0, 1 - r2, 1, 0], [1 - r2, 0, 0, 1]])
    np.testing.assert_allclose(S, expected, atol=1e-12)
    # a 12 x 8 grid: row-major numbering, region 13 = row 1, column 1
    S = scanmatch_substitution_matrix((12, 8), 3.5)
    assert S.shape == (96, 96) and S[13, 13] == 3.5 and S[0, 13] == pytest.approx(3.5 - np.sqrt(2))


def test_needleman_wunsch_by_hand():
    # a 3 x 1 grid (one row), threshold 1.5: S = 1.5 - |i - j|
    # a = [0, 2], b = [1, 1]: best is both substituted, 0.5 + 0.5 = 1.0; scale 1.5 * 2
    screen, grid = (300, 100), (3, 1)
    a = np.array([[50, 50], [250, 50]])
    b = np.array([[150, 50], [150, 50]])
    got = scanmatch(a, b, screen, grid=grid, threshold=1.5, matlab_compat=False)
    assert got == pytest.approx(1.0 / 3.0, abs=1e-12)
    # a = [0, 2], b = [0]: match 1.5 plus one gap; gap 0 -> 1.5 / 3, gap -0.5 -> 1.0 / 3
    c = np.array([[50, 50]])
    assert scanmatch(a, c, screen, grid=grid, threshold=1.5, matlab_compat=False) == pytest.approx(0.5)
    assert scanmatch(a, c, screen, grid=grid, threshold=1.5, gap=-0.5,
                     matlab_compat=False) == pytest.approx(1.0 / 3.0)


def test_batch_equals_loop_implementation():
    rng = np.random.default_rng(5)
    sps = [np.column_stack([rng.uniform(-20, 1300, n), rng.uniform(-20, 1040, n)])
           for n in rng.integers(1, 30, 60)]
    pairs = rng.integers(0, 60, (200, 2))
    sub = scanmatch_substitution_matrix((12, 8), 3.5)
    for gap in (0.0, -0.7):
        values, _ = scanmatch_batch(sps, pairs, (1280, 1024), gap=gap)
        seqs = [scanmatch_sequence(s, (1280, 1024)) for s in sps]
        expected = [loop_needleman_wunsch(seqs[a], seqs[b], sub, gap) / (3.5 * max(len(seqs[a]), len(seqs[b])))
                    for a, b in pairs]
        np.testing.assert_allclose(values[:, 0], expected, atol=1e-12)


def test_sequence_matlab_pixel_convention():
    # X = 1024 px, 12 columns: the toolbox rounds to a 1-based pixel p and bins
    # floor((p - 1) * 12 / 1024); geometric binning uses floor(x * 12 / 1024)
    x = np.array([0.0, -5.0, 85.4, 85.5, 86.5, 1024.0, 1025.0, 5000.0])
    sp = np.column_stack([x, np.full(len(x), 10.0)])
    got = scanmatch_sequence(sp, (1024, 768), (12, 8))
    np.testing.assert_array_equal(got, [0, 0, 0, 0, 1, 11, 11, 11])
    geo = scanmatch_sequence(sp, (1024, 768), (12, 8), matlab_compat=False)
    np.testing.assert_array_equal(geo, [0, 0, 1, 1, 1, 11, 11, 11])
    # rows: y = 100 -> floor(99 * 8 / 768) = 1 -> region 12 + col
    assert scanmatch_sequence([[0, 100]], (1024, 768), (12, 8))[0] == 12


def test_sequence_temporal_binning():
    sp = np.array([[10, 10, 100], [600, 10, 250], [10, 700, 40]], float)
    s0, s1, s2 = scanmatch_sequence(sp[:, :2], (1024, 768), (12, 8))
    # round(100/50) = 2, round(250/50) = 5, round(40/50) = 1; the toolbox's loop skips
    # the first fixation
    np.testing.assert_array_equal(scanmatch_sequence(sp, (1024, 768), (12, 8), temporal_bin=50),
                                  [s1] * 5 + [s2])
    np.testing.assert_array_equal(
        scanmatch_sequence(sp, (1024, 768), (12, 8), temporal_bin=50, matlab_compat=False),
        [s0] * 2 + [s1] * 5 + [s2])


def test_identical_and_edge_cases():
    rng = np.random.default_rng(8)
    sp = np.column_stack([rng.uniform(0, 1024, 12), rng.uniform(0, 768, 12), rng.uniform(50, 400, 12)])
    assert scanmatch(sp, sp, (1024, 768)) == 1.0
    assert scanmatch(sp, sp, (1024, 768), temporal_bin=50) == 1.0
    one = sp[:1]
    assert np.isfinite(scanmatch(one, sp, (1024, 768)))  # one fixation is a valid sequence
    with pytest.warns(UndefinedMetricWarning, match="no fixations"):
        assert np.isnan(scanmatch(sp[:0], sp, (1024, 768)))
    # a single fixation with temporal binning is dropped by the toolbox's loop -> empty
    with pytest.warns(UndefinedMetricWarning, match="temporal bins"):
        assert np.isnan(scanmatch(one, sp, (1024, 768), temporal_bin=50))
    with pytest.raises(ValueError, match="durations"):
        scanmatch(sp[:, :2], sp, (1024, 768), temporal_bin=50)


def test_screen_size_scales_with_positions():
    rng = np.random.default_rng(9)
    a = np.column_stack([rng.uniform(0, 800, 10), rng.uniform(0, 600, 10)])
    b = np.column_stack([rng.uniform(0, 800, 7), rng.uniform(0, 600, 7)])
    small = scanmatch(a, b, (800, 600), matlab_compat=False)
    assert scanmatch(2 * a, 2 * b, (1600, 1200), matlab_compat=False) == pytest.approx(small, abs=1e-12)


def _ivsn_human_human(shared, dataset):
    sps, n = realdata.ivsn(shared, dataset)
    # IVSN procedure: drop the central first fixation, rescale 1280 x 1024 -> 1024 x 768
    w, h = IVSN_SCANMATCH["screen_size"]
    sps = [s[1:] if len(s) > 1 else s for s in sps]
    sps = [np.column_stack([s[:, 0] / 1280 * w, s[:, 1] / 1024 * h]) for s in sps]
    pairs, owner = [], []
    for k, (i, j) in enumerate(itertools.combinations(range(15), 2)):
        pairs += [(i * n + m, j * n + m) for m in range(n)]
        owner += [k] * n
    params = {k: v for k, v in IVSN_SCANMATCH.items() if k != "screen_size"}
    values, reasons = scanmatch_batch(sps, np.array(pairs), (w, h), **params)
    assert all(r is None for r in reasons)
    per_pair = np.bincount(owner, values[:, 0]) / n  # mean over images, per subject pair
    return per_pair.mean(), per_pair.std() / np.sqrt(len(per_pair))


@pytest.mark.parametrize("dataset, tolerance", [
    # documented closeness (module docstring of scanmatch): the toolbox defaults
    # reproduce ObjArr and NaturalDesign to about 0.01, Waldo only to 0.08
    ("ObjArr", 0.015), ("NaturalDesign", 0.015), ("Waldo", 0.09),
])
def test_ivsn_published_human_consistency(shared_data, dataset, tolerance):
    mean, sem = _ivsn_human_human(shared_data, dataset)
    pub_mean, pub_sem = realdata.published_scanmatch(shared_data, dataset)
    assert abs(mean - pub_mean) < tolerance, (mean, pub_mean)
    assert 0.5 * pub_sem < sem < 2 * pub_sem

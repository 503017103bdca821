"""Cross-recurrence quantification (Anderson et al. 2013)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gazemodels.metrics.scanpath import UndefinedMetricWarning, cross_recurrence, rqa_batch


def test_by_hand():
    a = [[0, 0], [100, 0], [200, 0], [0, 0]]
    b = [[0, 0], [100, 0], [300, 0], [0, 0]]
    # c = [[1,0,0,1],[0,1,0,0],[0,0,0,0],[1,0,0,1]]: C = 5, N = 4
    # diagonal line (0,0)-(1,1) of 2 points; no horizontal/vertical lines of >= 2;
    # lags: 0 + 0 + 3 - 3 + 0 = 0
    r = cross_recurrence(a, b, radius=10)
    assert r.rec == pytest.approx(100 * 5 / 16)
    assert r.det == pytest.approx(100 * 2 / 5)
    assert r.lam == 0.0
    assert r.corm == 0.0


def test_lag_laminarity_and_truncation():
    # scanpath 2 repeats scanpath 1 one fixation later: recurrences on the +1 diagonal
    a = [[0, 0], [100, 0], [200, 0], [300, 0]]
    b = [[500, 500], [0, 0], [100, 0], [200, 0], [999, 999]]  # truncated to 4
    r = cross_recurrence(a, b, radius=1)
    # c[0,1], c[1,2], c[2,3]: C = 3, one diagonal line of 3, lag +1 each
    assert r.rec == pytest.approx(100 * 3 / 16)
    assert r.det == 100.0
    assert r.corm == pytest.approx(100 * 3 / (3 * 3))
    # a place fixated twice in a row in one scanpath: a vertical line
    c = [[0, 0], [0, 0], [400, 0]]
    d = [[0, 0], [800, 0], [900, 0]]
    r = cross_recurrence(c, d, radius=1)
    # c = [[1,0,0],[1,0,0],[0,0,0]]: C = 2; vertical line of 2 -> V = 2, H = 0
    assert r.lam == pytest.approx(100 * 2 / (2 * 2))
    assert r.det == 0.0 and r.corm == pytest.approx(100 * (-1) / (2 * 2))


def naive(a, b, radius, L):
    n = min(len(a), len(b))
    c = (cdist(a[:n], b[:n]) <= radius).astype(int)
    C = c.sum()

    def on_lines(lines):
        total = 0
        for line in lines:
            run = 0
            for v in list(line) + [0]:
                if v:
                    run += 1
                else:
                    total += run if run >= L else 0
                    run = 0
        return total

    diag = on_lines([np.diag(c, k) for k in range(-n + 1, n)])
    hv = on_lines(list(c)) + on_lines(list(c.T))
    lag = sum((j - i) * c[i, j] for i in range(n) for j in range(n))
    with np.errstate(invalid="ignore", divide="ignore"):
        return [100 * C / n**2, 100 * diag / C, 100 * hv / (2 * C),
                100 * lag / ((n - 1) * C) if n > 1 else np.nan]


def test_batch_against_naive_loops():
    rng = np.random.default_rng(4)
    # few distinct places so that lines of every kind occur
    sps = [rng.integers(0, 4, (n, 2)) * 100.0 for n in rng.integers(1, 15, 40)]
    pairs = rng.integers(0, 40, (120, 2))
    for L in (2, 3):
        values, _ = rqa_batch(sps, pairs, radius=50, min_line=L)
        expected = np.array([naive(sps[a], sps[b], 50, L) for a, b in pairs])
        np.testing.assert_allclose(values, expected, atol=1e-10)


def test_undefined_cases():
    a = [[0, 0], [100, 0]]
    far = [[900, 900], [800, 800]]
    with pytest.warns(UndefinedMetricWarning, match="no cross-recurrent"):
        r = cross_recurrence(a, far, radius=10)
    assert r.rec == 0.0 and np.isnan([r.det, r.lam, r.corm]).all()
    with pytest.warns(UndefinedMetricWarning, match="CORM"):
        r = cross_recurrence(a[:1], a, radius=10)
    assert r.rec == 100.0 and np.isnan(r.corm)
    with pytest.warns(UndefinedMetricWarning, match="no fixations"):
        assert np.isnan(cross_recurrence([], a, radius=10)).all()
    with pytest.raises(ValueError, match="radius"):
        cross_recurrence(a, a, radius=-1)
    same = cross_recurrence([[0, 0], [100, 100], [300, 0]], [[0, 0], [100, 100], [300, 0]], radius=5)
    assert same.rec == pytest.approx(100 / 3) and same.det == 100.0 and same.corm == 0.0

"""DTW, discrete Frechet, Hausdorff and mean minimal distance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist, directed_hausdorff

from gazemodels.metrics.scanpath import (
    UndefinedMetricWarning,
    dtw,
    frechet,
    geometric_batch,
    hausdorff,
    mean_minimal_distance,
)

P = np.array([[0.0, 0.0], [3.0, 0.0], [6.0, 0.0]])
Q = np.array([[0.0, 4.0], [6.0, 4.0], [6.0, 0.0]])


def test_three_point_paths_by_hand():
    # d(P_i, Q_j):      Q0     Q1     Q2
    #            P0     4      7.211  6
    #            P1     5      5      3
    #            P2     7.211  4      0
    # DTW: P0-Q0 (4), P1-Q1 (5), P2-Q2 (0) = 9; the alternatives cost more
    assert dtw(P, Q) == pytest.approx(9.0)
    # Frechet: every path visits row P1, whose cells (5, 5, 3) are reached only through
    # a cell >= 5, and the diagonal path has max 5 -> 5
    assert frechet(P, Q) == pytest.approx(5.0)
    # Hausdorff: from P: min rows 4, 3, 0 -> 4; from Q: min cols 4, 4, 0 -> 4
    assert hausdorff(P, Q) == pytest.approx(4.0)
    # MMD: ((4 + 3 + 0) / 3 + (4 + 4 + 0) / 3) / 2 = 2.5
    assert mean_minimal_distance(P, Q) == pytest.approx(2.5)


def test_identical_and_order():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 500, (7, 2))
    for f in (dtw, frechet, hausdorff, mean_minimal_distance):
        assert f(a, a) == 0.0
    # Hausdorff and MMD ignore order; DTW and Frechet do not
    rev = a[::-1]
    assert hausdorff(a, rev) == 0.0 and mean_minimal_distance(a, rev) == 0.0
    assert dtw(a, rev) > 0 and frechet(a, rev) > 0
    # DTW absorbs repeated fixations
    assert dtw(a, np.repeat(a, 2, axis=0)) == 0.0


def naive_dtw_frechet(a, b):
    d = cdist(a, b)
    D = np.full((len(a) + 1, len(b) + 1), np.inf)
    F = np.full((len(a) + 1, len(b) + 1), np.inf)
    D[0, 0] = F[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            D[i, j] = d[i - 1, j - 1] + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
            F[i, j] = max(d[i - 1, j - 1], min(F[i - 1, j], F[i, j - 1], F[i - 1, j - 1]))
    return D[-1, -1], F[-1, -1]


def test_batch_against_loops_and_scipy():
    rng = np.random.default_rng(1)
    sps = [rng.uniform(0, 1000, (n, 2)) for n in rng.integers(1, 25, 50)]
    pairs = rng.integers(0, 50, (150, 2))
    values, reasons = geometric_batch(sps, pairs)
    assert all(r is None for r in reasons)
    for k, (a, b) in enumerate(pairs):
        dtw_ref, fre_ref = naive_dtw_frechet(sps[a], sps[b])
        haus_ref = max(directed_hausdorff(sps[a], sps[b])[0], directed_hausdorff(sps[b], sps[a])[0])
        d = cdist(sps[a], sps[b])
        mmd_ref = (d.min(1).mean() + d.min(0).mean()) / 2
        np.testing.assert_allclose(values[k], [dtw_ref, fre_ref, haus_ref, mmd_ref], rtol=1e-12)


def test_units_and_edge_cases():
    assert dtw(P, Q, px_per_degree=2.0) == pytest.approx(4.5)
    with pytest.raises(ValueError, match="px_per_degree"):
        dtw(P, Q, px_per_degree=0)
    with pytest.warns(UndefinedMetricWarning, match="no fixations"):
        assert np.isnan(hausdorff(P[:0], Q))
    assert dtw(P[:1], Q) == pytest.approx(4 + math.hypot(6, 4) + 6)  # one fixation vs three
    with pytest.raises(ValueError, match="non-finite"):
        dtw([[0, np.nan]], Q)

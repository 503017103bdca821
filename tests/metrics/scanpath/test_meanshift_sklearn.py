"""Our numpy mean-shift against scikit-learn, its reference (test-only dependency)."""

import numpy as np
import pytest

from gazemodels.metrics.scanpath.sequence import estimate_bandwidth, mean_shift

sklearn_cluster = pytest.importorskip("sklearn.cluster", reason="scikit-learn is the test-only reference")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bandwidth_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 800, size=(120, 2))
    assert estimate_bandwidth(X) == pytest.approx(sklearn_cluster.estimate_bandwidth(X, quantile=0.3),
                                                  rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_modes_and_labels_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 800, size=(4, 2))
    X = np.concatenate([c + rng.normal(0, 25, size=(30, 2)) for c in centres])
    bw = sklearn_cluster.estimate_bandwidth(X, quantile=0.3)
    ref = sklearn_cluster.MeanShift(bandwidth=bw).fit(X)
    ours = mean_shift(X, bw)
    # clusters may be numbered differently: compare the partitions and the mode sets
    modes, labels = ours
    assert len(modes) == len(ref.cluster_centers_)
    order = [int(np.argmin(np.linalg.norm(modes - c, axis=1))) for c in ref.cluster_centers_]
    assert np.allclose(modes[order], ref.cluster_centers_, atol=1e-6)
    remap = {o: i for i, o in enumerate(order)}
    assert np.array_equal(np.array([remap[int(l)] for l in labels]), ref.labels_)

"""Saliency and density metrics: hand-computed cases, properties, pysaliency, errors."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics import saliency as S

# --------------------------------------------------------------------------- pysaliency (test-only reference)


@pytest.fixture(scope="module")
def pysal():
    """pysaliency, imported around two incompatibilities of 0.2.22 with this environment.

    pysaliency imports ``pkg_resources`` (removed from setuptools >= 81) in modules
    that concern external datasets/models only, and calls ``np.trapz`` (removed in
    NumPy 2.4) in its ROC code. Both are patched for the duration of this module.
    """
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
    except ImportError as e:  # pragma: no cover - depends on the environment
        mp.undo()
        pytest.skip(f"pysaliency is not installed ({e}); it is the test-only reference")
    yield pysaliency
    mp.undo()


def _random_case(seed: int, h: int = 48, w: int = 64, n: int = 40):
    rng = np.random.default_rng(seed)
    smap = rng.random((h, w)) ** 3
    xy = np.column_stack([rng.uniform(0, w, n), rng.uniform(0, h, n)])
    return smap, xy


# --------------------------------------------------------------------------- hand-computed cases


def test_nss_hand_computed():
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    # fixation in the pixel of value 4: (4 - 2.5) / population std of 1..4 = 1.5 / sqrt(1.25)
    assert S.nss(m, [[1.5, 1.5]]) == pytest.approx(1.5 / np.sqrt(1.25))
    # fixations on 1 and 4: mean of -1.5 and 1.5 standardised = 0
    assert S.nss(m, [[0.2, 0.2], [1.2, 1.2]]) == pytest.approx(0.0)


def test_auc_judd_hand_computed():
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    # positives {4}, negatives {1, 2, 3}: one threshold, TPR 1 at FPR 0 -> area 1
    assert S.auc_judd(m, [[1.5, 1.5]]) == pytest.approx(1.0)
    # positives {4, 2}, negatives {1, 3}; ROC points (0,0) (0,.5) (.5,1) (1,1) -> 0.375 + 0.5
    assert S.auc_judd(m, [[1.5, 1.5], [1.5, 0.5]]) == pytest.approx(0.875)


def test_shuffled_auc_hand_computed():
    m = np.array([[1.0, 3.0, 5.0]])
    # positive 3 vs negatives {1, 3, 5}: wins 1, tie 1/2, loss 0 -> 1.5 / 3
    assert S.shuffled_auc(m, [[1.5, 0.5]], [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5]]) == pytest.approx(0.5)
    # positive 5 vs negatives {1, 3}: 1
    assert S.shuffled_auc(m, [[2.5, 0.5]], [[0.5, 0.5], [1.5, 0.5]]) == pytest.approx(1.0)


def test_cc_kl_sim_hand_computed():
    a = np.array([[1.0, 2.0, 3.0]])
    assert S.cc(a, 2 * a) == pytest.approx(1.0)
    assert S.cc(a, a[:, ::-1]) == pytest.approx(-1.0)
    p = np.array([[0.5, 0.5]])
    q = np.array([[1.0, 0.0]])
    # KL = 1 * log(eps + 1 / (0.5 + eps)) + 0 = log 2 nats
    assert S.kl_divergence(p, q) == pytest.approx(np.log(2.0))
    assert S.sim(p, q) == pytest.approx(0.5)
    assert S.sim(q, q) == pytest.approx(1.0)


def test_information_gain_and_log_likelihood_hand_computed():
    d = np.array([[0.5, 0.25, 0.125, 0.125]])
    fix = [[0.5, 0.5]]
    # log2 0.5 - log2 (1/4) = 1 bit
    assert S.information_gain(d, fix) == pytest.approx(1.0)
    assert S.log_likelihood(d, fix) == pytest.approx(-1.0)
    # fixations on pixels 0 and 3: (-1 + -3)/2 = -2 bits; IG = -2 + 2 = 0
    assert S.log_likelihood(d, [[0.5, 0.5], [3.5, 0.5]]) == pytest.approx(-2.0)
    assert S.information_gain(d, [[0.5, 0.5], [3.5, 0.5]]) == pytest.approx(0.0)
    # the same from a natural-log density
    assert S.information_gain(np.log(d), fix, log_density=True) == pytest.approx(1.0)
    # against an explicit baseline equal to the density itself: 0
    assert S.information_gain(d, fix, baseline=d) == pytest.approx(0.0)


def test_border_fixation_counts_in_last_pixel():
    m = np.array([[0.0, 1.0], [2.0, 9.0]])
    # x == width, y == height is on the stimulus (schema allows it) and falls in the last pixel
    assert S.nss(m, [[2.0, 2.0]]) == pytest.approx(S.nss(m, [[1.5, 1.5]]))


def test_auc_borji_perfect_map_is_near_one():
    m = np.zeros((100, 100))
    m[10, 20] = 1.0
    # negatives land on the single fixated pixel with probability 1e-4, so AUC = 1 - f/2 ~ 1
    assert S.auc_borji(m, [[20.5, 10.5]] * 5) > 0.999


def _mann_whitney(pos, neg):
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean(pos > neg) + 0.5 * np.mean(pos == neg))


def test_sampled_aucs_converge_to_the_exact_roc_area():
    """With fine thresholds and many splits the MIT sampled AUCs estimate P(fixation value > negative)."""
    noise, xy = _random_case(20, n=60)
    _, other = _random_case(21, n=400)
    # a map that predicts the fixations fairly well (AUC near 0.8), with many distinct values
    smap = S.empirical_saliency_map(xy, noise.shape, sigma_px=4.0) + 2e-4 * noise
    rows, cols = np.floor(xy[:, 1]).astype(int), np.floor(xy[:, 0]).astype(int)
    pos = smap[rows, cols]
    # AUC-Borji: negatives uniform over all pixels (the map is min-max rescaled, which keeps the order)
    exact = _mann_whitney(pos, smap.ravel())
    assert exact > 0.7
    assert S.auc_borji(smap, xy, n_splits=400, step_size=1e-3, seed=1) == pytest.approx(exact, abs=0.015)
    oneg = smap[np.floor(other[:, 1]).astype(int), np.floor(other[:, 0]).astype(int)]
    exact_s = _mann_whitney(pos, oneg)
    assert S.shuffled_auc(smap, xy, other) == pytest.approx(exact_s, abs=1e-12)
    assert S.shuffled_auc(smap, xy, other, method="mit", n_splits=400, step_size=1e-3) == pytest.approx(exact_s, abs=0.015)


def test_centre_bias_density_shape_and_centre():
    d = S.centre_bias_density((60, 80))
    assert d.shape == (60, 80)
    assert d.sum() == pytest.approx(1.0)
    r, c = np.unravel_index(np.argmax(d), d.shape)
    assert r in (29, 30) and c in (39, 40)
    # vertical variance is 0.45 of horizontal in aspect-scaled units: profile along y is narrower
    assert d[30, 40 + 20] > d[30 + 20, 40]
    fitted = S.centre_bias_density((60, 80), fixations=[[10.0, 10.0]] * 3, bandwidth_px=3.0)
    assert np.unravel_index(np.argmax(fitted), fitted.shape) == (10, 10)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("fn", [S.auc_judd, S.auc_borji, S.nss])
def test_constant_map_is_chance(fn):
    m = np.full((30, 40), 0.7)
    _, xy = _random_case(3, 30, 40)
    expected = 0.0 if fn is S.nss else 0.5
    assert fn(m, xy) == pytest.approx(expected, abs=1e-12)


def test_constant_map_shuffled_auc_is_chance():
    m = np.full((30, 40), 0.7)
    _, xy = _random_case(3, 30, 40)
    _, other = _random_case(4, 30, 40)
    assert S.shuffled_auc(m, xy, other) == pytest.approx(0.5)
    assert S.shuffled_auc(m, xy, other, method="mit") == pytest.approx(0.5)


def test_perfect_prediction_of_the_human_density():
    _, xy = _random_case(5)
    ref = S.empirical_saliency_map(xy, (48, 64), sigma_px=2.0)
    assert S.cc(ref, ref) == pytest.approx(1.0)
    assert S.kl_divergence(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert S.sim(ref, ref) == pytest.approx(1.0)
    # and the human density beats a constant map on every fixation metric
    flat = np.ones_like(ref)
    assert S.nss(ref, xy) > S.nss(flat, xy) == 0.0
    assert S.auc_judd(ref, xy) > 0.9
    assert S.information_gain(ref, xy) > 0.0


def test_fixation_order_permutation_invariance():
    smap, xy = _random_case(6)
    _, other = _random_case(7)
    perm = np.random.default_rng(0).permutation(len(xy))
    for fn in (S.auc_judd, S.nss, lambda m, f: S.shuffled_auc(m, f, other),
               lambda m, f: S.information_gain(S.to_density(m), f)):
        assert fn(smap, xy[perm]) == pytest.approx(fn(smap, xy), rel=1e-12)


def test_pixel_permutation_invariance_of_map_comparisons():
    a, _ = _random_case(8)
    b, _ = _random_case(9)
    perm = np.random.default_rng(1).permutation(a.size)
    pa, pb = a.ravel()[perm].reshape(a.shape), b.ravel()[perm].reshape(b.shape)
    for fn in (S.cc, S.kl_divergence, S.sim):
        assert fn(pa, pb) == pytest.approx(fn(a, b), rel=1e-10)


def test_auc_invariant_to_monotone_transform():
    smap, xy = _random_case(10)
    _, other = _random_case(11)
    for fn in (S.auc_judd, lambda m, f: S.shuffled_auc(m, f, other)):
        assert fn(np.exp(3 * smap) + 2, xy) == pytest.approx(fn(smap, xy), rel=1e-12)


def test_cc_symmetric_kl_not():
    a, _ = _random_case(12)
    b, _ = _random_case(13)
    assert S.cc(a, b) == pytest.approx(S.cc(b, a))
    assert S.sim(a, b) == pytest.approx(S.sim(b, a))
    assert S.kl_divergence(a, b) != pytest.approx(S.kl_divergence(b, a))


# --------------------------------------------------------------------------- against pysaliency


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixation_metrics_match_pysaliency(pysal, seed):
    """AUC-Judd, shuffled AUC, NSS and information gain through pysaliency's model API."""
    rng = np.random.default_rng(100 + seed)
    h, w, k = 40, 56, 3
    imgs = [rng.random((h, w, 3)) for _ in range(k)]
    dens = [S.to_density(rng.random((h, w)) ** 4) for _ in range(k)]
    xs, ys, ns = [], [], []
    for i in range(k):
        n = 25 + 5 * i
        xs.append(rng.uniform(0, w, n))
        ys.append(rng.uniform(0, h, n))
        ns.append(np.full(n, i))
    x, y, n = np.concatenate(xs), np.concatenate(ys), np.concatenate(ns)
    stimuli = pysal.Stimuli(imgs)
    fix = pysal.Fixations.create_without_history(x, y, n)

    def lookup(stimulus):
        return next(d for im, d in zip(imgs, dens) if np.array_equal(im, stimulus))

    class MapModel(pysal.SaliencyMapModel):
        def _saliency_map(self, stimulus):
            return lookup(stimulus)

    class DensityModel(pysal.Model):
        def _log_density(self, stimulus):
            return np.log(lookup(stimulus))

    sm, dm = MapModel(), DensityModel()
    judd = sm.AUC_per_image(stimuli, fix, nonfixations="unfixated", thresholds="fixations")
    sauc = sm.AUC_per_image(stimuli, fix, nonfixations="shuffled")
    nss_fix = sm.NSSs(stimuli, fix)
    ig_fix = dm.information_gains(stimuli, fix)
    table = pd.DataFrame({"stimulus": n, "x": x, "y": y})
    ours = S.score_saliency(dict(enumerate(dens)), table, metrics=["auc_judd", "sauc", "nss", "ig"])
    for i in range(k):
        xy = np.column_stack([xs[i], ys[i]])
        assert S.auc_judd(dens[i], xy) == pytest.approx(judd[i], abs=1e-12)
        assert ours.loc[i, "sauc"] == pytest.approx(sauc[i], abs=1e-12)
        assert S.nss(dens[i], xy) == pytest.approx(nss_fix[n == i].mean(), abs=1e-12)
        assert S.information_gain(dens[i], xy) == pytest.approx(ig_fix[n == i].mean(), abs=1e-10)
        assert ours.loc[i, "ig"] == pytest.approx(ig_fix[n == i].mean(), abs=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_map_metrics_match_pysaliency(pysal, seed):
    import pysaliency.metrics as pm

    a, xy = _random_case(200 + seed)
    ref = S.empirical_saliency_map(xy, a.shape, sigma_px=3.0)
    assert S.cc(a, ref) == pytest.approx(pm.CC(a, ref), abs=1e-12)
    assert S.kl_divergence(a, ref) == pytest.approx(pm.MIT_KLDiv(a, ref), abs=1e-10)
    assert S.sim(a, ref) == pytest.approx(pm.SIM(a, ref), abs=1e-12)
    # a map with negative values: both shift it to a zero minimum first
    neg = a - 0.3
    assert S.kl_divergence(neg, ref) == pytest.approx(pm.MIT_KLDiv(neg, ref), abs=1e-10)
    assert S.sim(neg, ref) == pytest.approx(pm.SIM(neg, ref), abs=1e-12)


# --------------------------------------------------------------------------- errors


def test_nan_map_error_names_the_pixel():
    m = np.ones((4, 5))
    m[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*row 2, column 3"):
        S.nss(m, [[1, 1]])


def test_fixation_off_the_map_is_an_error():
    with pytest.raises(ValueError, match=r"outside the 10x4 px map.*fixation 1 at \(x=12, y=1\)"):
        S.auc_judd(np.ones((4, 10)), [[1, 1], [12, 1]])


def test_map_and_image_size_mismatch():
    with pytest.raises(ValueError, match=r"20x10 px .* stimulus is 40x20 px"):
        S.nss(np.ones((10, 20)), [[1, 1]], image_size=(40, 20))
    with pytest.raises(ValueError, match="same size"):
        S.cc(np.ones((10, 20)), np.ones((20, 10)))


def test_empty_and_nan_fixations():
    with pytest.raises(ValueError, match="no fixations"):
        S.nss(np.ones((3, 3)), np.empty((0, 2)))
    with pytest.raises(ValueError, match="NaN or infinite coordinates"):
        S.nss(np.ones((3, 3)), [[np.nan, 1.0]])


def test_density_must_be_normalised():
    with pytest.raises(ValueError, match="sums to 2, not 1"):
        S.information_gain(np.full((2, 2), 0.5), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="negative probability"):
        S.log_likelihood(np.array([[1.5, -0.5]]), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="unknown baseline"):
        S.information_gain(np.full((2, 2), 0.25), [[0.5, 0.5]], baseline="nope")


def test_resize_map_to_stimulus():
    m = np.arange(12.0).reshape(3, 4)
    r = S.resize_map(m, (8, 6))
    assert r.shape == (6, 8)
    assert r.min() >= m.min() and r.max() <= m.max()
    S.nss(r, [[7.9, 5.9]], image_size=(8, 6))


def test_score_saliency_needs_sigma_for_map_metrics():
    table = pd.DataFrame({"stimulus": ["a"], "x": [1.0], "y": [1.0]})
    with pytest.raises(ValueError, match="sigma_px"):
        S.score_saliency({"a": np.ones((4, 4))}, table, metrics=["cc"])
    with pytest.raises(KeyError, match="no predicted map for stimulus 'a'"):
        S.score_saliency({}, table, metrics=["nss"])

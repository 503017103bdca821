"""Sequence score, semantic sequence score, edit distance, grid strings, mean-shift clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics.scanpath import (
    UndefinedMetricWarning,
    edit_distance,
    edit_distance_aoi_batch,
    edit_distance_batch,
    estimate_bandwidth,
    fixation_clusters,
    grid_string,
    mean_shift,
    pairwise,
    semantic_sequence_score,
    semantic_sequence_score_batch,
    sequence_score,
    sequence_score_batch,
)

from . import realdata


def lcs(a, b):
    """Longest common subsequence length, textbook DP (test reference)."""
    L = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            L[i, j] = L[i - 1, j - 1] + 1 if a[i - 1] == b[j - 1] else max(L[i - 1, j], L[i, j - 1])
    return L[-1, -1]


def levenshtein(a, b):
    """Levenshtein distance, textbook DP (test reference)."""
    D = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    D[:, 0] = np.arange(len(a) + 1)
    D[0, :] = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            D[i, j] = min(D[i - 1, j] + 1, D[i, j - 1] + 1, D[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    return D[-1, -1]


def test_sequence_score_by_hand():
    assert sequence_score("ABCD", "ACBD") == 0.75  # LCS ABD / 4
    assert sequence_score("AAB", "AB") == pytest.approx(2 / 3)
    assert sequence_score("ABC", "ABC") == 1.0
    assert sequence_score("ABC", "XYZ") == 0.0
    assert sequence_score([3, 1, 2], [3, 2]) == pytest.approx(2 / 3)
    assert sequence_score("ABCDEF", "ABCXYZ", truncate=3) == 1.0


def test_sequence_score_is_lcs_over_longer_length():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 5, n) for n in rng.integers(1, 20, 50)]
    pairs = rng.integers(0, 50, (150, 2))
    values, _ = semantic_sequence_score_batch(seqs, pairs)
    expected = [lcs(seqs[a], seqs[b]) / max(len(seqs[a]), len(seqs[b])) for a, b in pairs]
    np.testing.assert_allclose(values[:, 0], expected, atol=1e-12)


def test_grid_strings():
    sp = np.array([[0, 0], [799, 0], [400, 300], [-50, 700], [900, 599]])
    # 4 x 3 grid over 800 x 600: cells of 200 x 200; off-screen clipped to the border
    np.testing.assert_array_equal(grid_string(sp, (800, 600), (4, 3)), [0, 3, 6, 8, 11])
    a = [[10, 10], [410, 10], [410, 410]]
    b = [[20, 20], [420, 420]]
    assert sequence_score(a, b, screen_size=(800, 600), grid=(4, 3)) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="encoding"):
        sequence_score(a, b)


def test_semantic_sequence_score_background():
    assert semantic_sequence_score(["cup", "table", "cup"], ["cup", "cup"]) == pytest.approx(2 / 3)
    # missing labels are one background label that matches itself
    assert semantic_sequence_score([None, "cup"], [np.nan, "cup"]) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="no fixations"):
        assert np.isnan(semantic_sequence_score([], ["cup"]))


def test_edit_distance_by_hand_and_vs_loop():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("kitten", "sitting", normalize=True) == pytest.approx(3 / 7)
    assert edit_distance("", "abc") == 3 and edit_distance("", "abc", normalize=True) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="empty"):
        assert np.isnan(edit_distance("", "", normalize=True))
    assert edit_distance("", "") == 0.0
    rng = np.random.default_rng(1)
    seqs = [rng.integers(0, 6, n) for n in rng.integers(0, 15, 40)]
    pairs = rng.integers(0, 40, (100, 2))
    values, _ = edit_distance_aoi_batch(seqs, pairs)
    np.testing.assert_allclose(values[:, 0], [levenshtein(seqs[a], seqs[b]) for a, b in pairs])


def test_edit_distance_grid_batch():
    a = np.array([[10, 10], [410, 10]])
    b = np.array([[10, 10], [410, 410], [790, 590]])
    values, _ = edit_distance_batch([a, b], [[0, 1]], (800, 600), grid=(4, 3))
    # strings [0, 2] and [0, 6, 11]: substitute one, insert one
    assert values[0].tolist() == [2.0, pytest.approx(2 / 3)]


def test_estimate_bandwidth_by_hand():
    pts = [[0, 0], [1, 0], [3, 0], [6, 0]]
    # k = int(4 * 0.5) = 2: distance to the 2nd nearest point, self included: 1, 1, 2, 3
    assert estimate_bandwidth(pts, quantile=0.5) == pytest.approx(7 / 4)


def test_mean_shift_finds_blobs():
    rng = np.random.default_rng(2)
    blobs = [rng.normal(c, 10, (30, 2)) for c in ((100, 100), (500, 120), (300, 450))]
    pts = np.concatenate(blobs)
    centers, labels = mean_shift(pts, bandwidth=60)
    assert len(centers) == 3
    for k in range(3):
        assert len(np.unique(labels[k * 30:(k + 1) * 30])) == 1
    np.testing.assert_allclose(np.sort(centers[:, 0]), np.sort([b[:, 0].mean() for b in blobs]), atol=5)

def test_fixation_clusters_choose_yang_bandwidth():
    # Yang et al.: bandwidth = estimate x the factor maximising
    # (transitions between clusters - transitions within) / number of clusters
    rng = np.random.default_rng(3)
    places = np.array([(100, 100), (500, 120), (300, 450), (600, 500)])
    sps = [places[rng.integers(0, 4, 8)] + rng.normal(0, 8, (8, 2)) for _ in range(6)]
    pts = np.concatenate(sps)
    base = estimate_bandwidth(pts)
    rates = []
    for f in (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8):
        centers, labels = mean_shift(pts, base * f)
        per = np.split(labels, np.cumsum([len(s) for s in sps])[:-1])
        within = sum(int((s[1:] == s[:-1]).sum()) for s in per)
        between = sum(int((s[1:] != s[:-1]).sum()) for s in per)
        rates.append((between - within) / len(centers))
    best = (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8)[int(np.argmax(rates))]
    cl = fixation_clusters(sps)
    assert cl.bandwidth == pytest.approx(base * best)
    assert len(cl.centers) == len(mean_shift(pts, base * best)[0])


def test_cluster_strings_per_stimulus():
    # two stimuli whose fixations sit in different places: clusters are fitted per group
    a1 = np.array([[100, 100], [500, 100], [100, 100]])
    a2 = np.array([[105, 98], [495, 103]])
    b1 = np.array([[700, 500], [300, 500]])
    b2 = np.array([[302, 497], [698, 505]])
    values, _ = sequence_score_batch([a1, a2, b1, b2], [[0, 1], [2, 3]], groups=["s1", "s1", "s2", "s2"],
                                     bandwidth=50.0)
    assert values[0, 0] == pytest.approx(2 / 3)
    assert values[1, 0] == pytest.approx(1 / 2)


def test_coco_search18_human_sequence_score(shared_data):
    # published human-human SS on COCO-Search18 target-present: about 0.49
    fx = realdata.coco_search18(shared_data)
    stims = fx["stimulus"].drop_duplicates().sample(60, random_state=0)
    sub = fx[fx["stimulus"].isin(stims)]
    out = pairwise(sub, "ss", by="stimulus", ordered=True)
    assert abs(out["ss"].mean() - 0.49) < 0.04
    assert out["reason"].isna().all()


def test_pairwise_semantic_on_object_column():
    fx = pd.DataFrame({
        "stimulus": "img", "subject": [1, 1, 1, 2, 2], "trial": 0, "fix_index": [0, 1, 2, 0, 1],
        "x": 0.0, "y": 0.0, "t_start": np.nan, "duration": np.nan,
        "object": ["cup", None, "cup", "cup", "cup"],
    })
    out = pairwise(fx, ["semantic_ss", "edit_distance_aoi"])
    assert out["semantic_ss"].iloc[0] == pytest.approx(2 / 3)
    assert out["edit_distance_aoi"].iloc[0] == 1.0

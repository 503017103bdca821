"""Minimum-Bayes-risk decoding: the selection against the reference MultiMatch, and the model wrapper."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gazemodels.models import get_model, validate_scanpath_model
from gazemodels.models.scanpath.base import load_image, stimulus_rng
from gazemodels.models.scanpath.mbr import MBRDecoder, mbr_select


def _mm_mean_reference(a: np.ndarray, b: np.ndarray, screen) -> float:
    """Mean of MultiMatch's vector, direction, length and position similarities by multimatch-gaze."""
    from multimatch_gaze import docomparison

    def rec(p):
        return np.rec.fromarrays([p[:, 0], p[:, 1], p[:, 2]], names="start_x,start_y,duration")

    return float(np.mean(docomparison(rec(a), rec(b), screensize=list(screen))[:4]))


def test_mbr_select_keeps_the_candidates_closest_to_the_others():
    """Hand-made candidates: a cluster of similar scanpaths and two outliers; the cluster must be kept,
    in the order of the mean MultiMatch to the others computed with the reference package."""
    rng = np.random.default_rng(0)
    screen = (800.0, 600.0)
    base = np.array([[400, 300], [200, 300], [600, 280], [420, 150], [380, 450]], float)
    cluster = [base + rng.normal(0, 15, base.shape) for _ in range(4)]
    outliers = [np.array([[400, 300], [780, 20], [20, 580], [780, 580], [20, 20]], float),
                np.array([[400, 300], [410, 310], [400, 320], [390, 300], [405, 295]], float)]
    paths = [np.column_stack([p, np.full(len(p), 200.0)]) for p in outliers[:1] + cluster + outliers[1:]]
    keep = mbr_select(paths, 4, screen)
    assert sorted(keep.tolist()) == [1, 2, 3, 4]
    utility = [np.mean([_mm_mean_reference(paths[i], paths[j], screen) for j in range(len(paths)) if j != i])
               for i in range(len(paths))]
    assert keep.tolist() == np.argsort(-np.asarray(utility), kind="stable")[:4].tolist()
    # positions only give the same choice (durations do not enter the four dimensions)
    assert mbr_select([p[:, :2] for p in paths], 4, screen).tolist() == keep.tolist()
    assert mbr_select(paths, len(paths), screen).tolist() == list(range(len(paths)))
    # too short for MultiMatch (under 3 fixations): no utility, the first k, no warning
    short = [p[:2] for p in paths]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mbr_select(short, 3, screen).tolist() == [0, 1, 2]
    for bad in (0, len(paths) + 1, 2.0, True):
        with pytest.raises(ValueError, match="k must be between 1"):
            mbr_select(paths, bad, screen)


def test_mbr_decoder_keeps_a_subset_of_the_draws_and_passes_the_contract(stimuli, humans):
    centre = get_model("centre").fit(humans, stimuli)
    mbr = MBRDecoder(get_model("centre").fit(humans, stimuli), candidates=4)
    out = validate_scanpath_model(mbr, stimuli, n_scanpaths=3, n_fixations=5, seed=2, other_seed=3)
    assert out.attrs["mbr_candidates"] == 4 and out.attrs["n_scanpaths"] == 3
    drawn = centre.predict(stimuli, n_scanpaths=12, n_fixations=5, seed=2)
    for name, got in out.groupby("stimulus"):
        pool = drawn[drawn["stimulus"] == name]
        rows = {tuple(r) for r in pool[["x", "y", "duration", "t_start"]].round(6).to_numpy()}
        assert all(tuple(r) in rows for r in got[["x", "y", "duration", "t_start"]].round(6).to_numpy())
        # the kept scanpaths are the best by the selection rule, best first
        paths = [g.sort_values("fix_index")[["x", "y"]].to_numpy() for _, g in pool.groupby("subject")]
        st = stimuli.set_index("stimulus").loc[name]
        best = mbr_select(paths, 3, (st["width"], st["height"]))
        expect = np.concatenate([paths[b] for b in best])
        np.testing.assert_allclose(got.sort_values(["subject", "fix_index"])[["x", "y"]].to_numpy(), expect)
    # generate gives predict's positions (stream 0 of the image)
    row = stimuli.iloc[0]
    image = load_image(row["path"], size=(int(row["width"]), int(row["height"])))
    pos = mbr.generate(image, row, 3, 5, stimulus_rng(2, row["stimulus"], 0))
    mine = out[out["stimulus"] == row["stimulus"]].sort_values(["subject", "fix_index"])[["x", "y"]].to_numpy()
    np.testing.assert_allclose(pos.reshape(-1, 2), mine)


def test_mbr_decoder_raises_the_expected_multimatch_of_a_spread_out_model(stimuli, humans):
    """The kept scanpaths are closer to fresh draws of the model than plain draws are."""
    from gazemodels.metrics.scanpath.multimatch import multimatch_batch

    model = get_model("random").fit(humans, stimuli)
    mbr = MBRDecoder(get_model("random").fit(humans, stimuli), candidates=8)
    st = stimuli.iloc[[0]]
    ref = model.predict(st, n_scanpaths=20, n_fixations=6, seed=99)

    def mean_mm(pred):
        paths = [g.sort_values("fix_index")[["x", "y", "duration"]].to_numpy() for _, g in pred.groupby("subject")]
        refs = [g.sort_values("fix_index")[["x", "y", "duration"]].to_numpy() for _, g in ref.groupby("subject")]
        pairs = np.array([(i, len(paths) + j) for i in range(len(paths)) for j in range(len(refs))])
        v, _ = multimatch_batch(paths + refs, pairs, (float(st["width"].iloc[0]), float(st["height"].iloc[0])))
        return float(np.nanmean(v[:, :4]))

    assert mean_mm(mbr.predict(st, 5, 6, seed=0)) > mean_mm(model.predict(st, 5, 6, seed=0)) + 0.01


def test_mbr_decoder_bad_arguments(stimuli, humans):
    with pytest.raises(TypeError, match="ScanpathModel"):
        MBRDecoder(object())
    with pytest.raises(ValueError, match="candidates"):
        MBRDecoder(get_model("centre"), candidates=0)
    from gazemodels.models.scanpath.base import ModelNotFittedError

    unfitted = MBRDecoder(get_model("freeview", epochs=1, cache_dir=""), candidates=2)
    assert not unfitted.fitted
    with pytest.raises(ModelNotFittedError):
        unfitted.predict(stimuli, 1, 3, seed=0)

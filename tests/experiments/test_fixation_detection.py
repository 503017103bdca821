import numpy as np
import pandas as pd
import pytest

from gazemodels.experiments.fixation_detection import cohen_kappa, fixation_labels, match_fixations


def _ev(intervals, xy=None):
    t = np.array(intervals, float)
    xy = np.zeros((len(t), 2)) if xy is None else np.asarray(xy, float)
    return pd.DataFrame({"t_start": t[:, 0], "duration": t[:, 1] - t[:, 0], "x": xy[:, 0], "y": xy[:, 1]})


def test_match_by_iou_hand_computed():
    truth = _ev([(0, 100), (150, 300), (400, 500)], [(0, 0), (10, 0), (0, 0)])
    # first: IoU 90/100 -> match; second: [160, 320] vs [150, 300]: 140/170 -> match;
    # third: [470, 600] vs [400, 500]: 30/200 -> no match
    det = _ev([(10, 100), (160, 320), (470, 600)], [(0, 0), (13, 4), (0, 0)])
    m = match_fixations(truth, det)
    assert m["iou"].to_numpy() == pytest.approx([0.9, 140 / 170, 30 / 200])
    assert m["matched"].tolist() == [True, True, False]
    assert m["onset_error_ms"].iloc[1] == 10 and m["offset_error_ms"].iloc[1] == 20
    assert m["position_error_px"].iloc[1] == pytest.approx(5.0)
    assert np.isnan(m["onset_error_ms"].iloc[2])


def test_match_with_no_detections():
    m = match_fixations(_ev([(0, 100)]), _ev(np.empty((0, 2))))
    assert not m["matched"].any()


def test_threshold_below_half_is_refused():
    with pytest.raises(ValueError, match="one-to-one"):
        match_fixations(_ev([(0, 1)]), _ev([(0, 1)]), iou_threshold=0.3)


def test_labels_and_kappa():
    lab = fixation_labels(_ev([(0, 3), (5, 8)]), 10, 1.0)
    assert lab.tolist() == [1, 1, 1, 0, 0, 1, 1, 1, 0, 0]
    assert cohen_kappa(lab, lab) == pytest.approx(1.0)
    # hand-computed: a=[1,1,0,0], b=[1,0,0,0]: po=.75, pe=.5*.25+.5*.75=.5 -> kappa .5
    assert cohen_kappa(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])) == pytest.approx(0.5)

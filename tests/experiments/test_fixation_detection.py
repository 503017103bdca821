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


def test_small_run_end_to_end_recovers_fixations(tmp_path):
    import json

    from gazemodels.cli import main

    cfg = tmp_path / "small.toml"
    cfg.write_text(
        'experiment = "fixation-detection"\nseed = 3\nn_scanpaths = 3\nn_fixations = 10\n'
        "rates_hz = [500]\nnoise_deg = [0.02, 0.3]\n"
    )
    out = tmp_path / "res"
    assert main(["run", "fixation-detection", "--config", str(cfg), "--out", str(out)]) == 0
    table = pd.read_csv(out / "detection_scores.csv")
    assert set(table["detector"]) == {"I-DT", "I-VT", "I-VT smoothed 20 ms"}
    low = table[(table.noise_deg == 0.02)].set_index("detector")
    # I-DT at 1 deg dispersion on a precise recording finds most fixations
    assert low.loc["I-DT", "f1"] > 0.7
    assert low.loc["I-DT", "median_position_error_px"] < 10
    # at 0.3 deg noise a 1-deg dispersion window cannot hold 60 ms of samples
    assert table.set_index(["noise_deg", "detector"]).loc[(0.3, "I-DT"), "f1"] < low.loc["I-DT", "f1"]
    meta = json.loads((out / "config.json").read_text())
    assert meta["config"]["seed"] == 3
    for name in ("f1_by_noise.png", "example_trace.png", "example_scanpath.png", "summary.json"):
        assert (out / name).stat().st_size > 0


def test_config_for_another_experiment_is_refused(tmp_path, capsys):
    from gazemodels.cli import main

    cfg = tmp_path / "other.toml"
    cfg.write_text('experiment = "search-asymmetry"\n')
    assert main(["run", "fixation-detection", "--config", str(cfg)]) == 2
    assert "not 'fixation-detection'" in capsys.readouterr().err


def test_shipped_config_matches_the_embedded_defaults():
    from pathlib import Path

    from gazemodels.experiments.fixation_detection import DEFAULTS
    from gazemodels.experiments.registry import load_config_file

    cfg = load_config_file(Path(__file__).resolve().parents[2] / "experiments" / "fixation-detection.toml")
    cfg.pop("experiment")
    assert cfg == DEFAULTS

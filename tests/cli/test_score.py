"""``gazemodels score`` on small synthetic fixation tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gazemodels.cli import main

pytest.importorskip("gazemodels.metrics.scanpath")

SCREEN = "1680x1050"
MM = ["multimatch_vector", "multimatch_direction", "multimatch_length", "multimatch_position",
      "multimatch_duration"]


def _humans(n_stim=3, n_subj=4, n_fix=6, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for st in range(n_stim):
        centre = rng.uniform(200, 1400, (n_fix, 2))
        for su in range(n_subj):
            pts = np.clip(centre + rng.normal(0, 60, centre.shape), 0, [1680, 1050])
            for i, (x, y) in enumerate(pts):
                rows.append({"stimulus": f"img{st:03d}.jpg", "subject": f"s{su}", "trial": 0, "fix_index": i,
                             "x": x, "y": y, "t_start": 250.0 * i, "duration": rng.uniform(150, 350)})
    return pd.DataFrame(rows)


@pytest.fixture
def files(tmp_path):
    human = _humans()
    pred = human[human["subject"] == "s0"].assign(subject="model")  # a copy of one human's scanpaths
    hp, pp = tmp_path / "human.csv", tmp_path / "pred.csv"
    human.to_csv(hp, index=False)
    pred.to_csv(pp, index=False)
    return tmp_path, pp, hp


def _run(capsys, *argv):
    rc = main(["score", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_scanpath_scored_against_itself_gets_the_maximum(files, capsys):
    tmp, pp, hp = files
    out_csv = tmp / "scores.csv"
    rc, out, err = _run(capsys, "--pred", pp, "--human", hp, "--metric", "multimatch", "--screen", SCREEN,
                        "--out", out_csv, "--bootstrap", 200)
    assert rc == 0, err
    scores = pd.read_csv(out_csv)
    # one row per (prediction, human) pair on the same stimulus: 3 stimuli x 1 x 4
    assert len(scores) == 12
    assert list(scores.columns[:5]) == ["stimulus", "pred_subject", "pred_trial", "human_subject", "human_trial"]
    assert (scores["stimulus"].str.startswith("img")).all()
    self_rows = scores[scores["human_subject"] == "s0"]
    assert len(self_rows) == 3
    np.testing.assert_allclose(self_rows[MM].to_numpy(), 1.0, atol=1e-12)
    others = scores[scores["human_subject"] != "s0"]
    assert (others[MM].to_numpy() <= 1.0).all()
    assert (others[MM].mean(axis=1) < 1.0).all()
    for col in MM:
        assert col in out
    assert "12 pairs" in out and "95% CI" in out


def test_ceiling_is_printed_and_matches_the_library(files, capsys):
    tmp, pp, hp = files
    summary = tmp / "summary.json"
    rc, out, err = _run(capsys, "--pred", pp, "--human", hp, "--metric", "multimatch", "--screen", SCREEN,
                        "--ceiling", "--bootstrap", 100, "--seed", 3, "--summary", summary)
    assert rc == 0, err
    assert "human ceiling" in out
    info = json.loads(summary.read_text())
    from gazemodels.metrics.consistency import human_consistency

    human = pd.read_csv(hp, dtype={"stimulus": str, "subject": str})
    ref = human_consistency(human, "multimatch", metric_params={"screen_size": (1680.0, 1050.0)}, n_boot=100, seed=3)
    for col in MM:
        assert info["scores"][col]["ceiling"] == pytest.approx(ref.ceiling[col])
        lo, hi = info["scores"][col]["ceiling_low"], info["scores"][col]["ceiling_high"]
        assert lo <= info["scores"][col]["ceiling"] <= hi
        # the prediction copies one human, so it beats the average human-human agreement
        assert info["scores"][col]["mean"] > info["scores"][col]["ceiling"]
    assert info["n_pairs"] == 12


def test_chunked_run_with_progress_gives_the_same_scores(files, capsys, monkeypatch):
    tmp, pp, hp = files
    a, b = tmp / "a.csv", tmp / "b.csv"
    assert _run(capsys, "--pred", pp, "--human", hp, "--screen", SCREEN, "--out", a, "--bootstrap", 0)[0] == 0
    import gazemodels.cli.score as score

    monkeypatch.setattr(score, "_PROGRESS_MIN_PAIRS", 1)  # one chunk per stimulus, bar enabled
    assert _run(capsys, "--pred", pp, "--human", hp, "--screen", SCREEN, "--out", b, "--bootstrap", 0)[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))


def test_unknown_metric_exits_2(files, capsys):
    _, pp, hp = files
    rc, out, err = _run(capsys, "--pred", pp, "--human", hp, "--metric", "multimatch,nosuchmetric", "--screen", SCREEN)
    assert rc == 2
    assert "unknown scanpath metric 'nosuchmetric'" in err and "multimatch" in err


@pytest.mark.parametrize(
    "content, problem",
    [
        ("stimulus,subject,trial,fix_index,x,y,t_start,duration\na,1,0,0,10,abc,0,100\n", "column 'y' must be numeric"),
        ("stimulus,subject,trial,fix_index,x,y\na,1,0,0,10,10\n", "missing required column(s) ['t_start', 'duration']"),
        ("stimulus,subject,trial,fix_index,x,y,t_start,duration\na,1,0,0,10,,0,100\n", "NaN or infinite coordinates"),
        ("stimulus,subject,trial,fix_index,x,y,t_start,duration\na,1,0,0,10,5,0,100\na,1,0,2,10,5,0,100\n",
         "contiguous fix_index"),
        ("stimulus,subject,trial,fix_index,x,y,t_start,duration\na,1,0,0,1900,5,0,100\n", "lie off the --screen"),
        ("", "cannot be read"),
        ('stimulus,subject\n"a,1\n', "cannot be read"),
    ],
)
def test_malformed_file_exits_2_naming_file_and_problem(files, capsys, content, problem):
    tmp, _, hp = files
    bad = tmp / "bad.csv"
    bad.write_text(content)
    rc, out, err = _run(capsys, "--pred", bad, "--human", hp, "--screen", SCREEN)
    assert rc == 2
    assert str(bad) in err
    assert problem in err


def test_other_input_errors_exit_2(files, capsys):
    tmp, pp, hp = files
    rc, _, err = _run(capsys, "--pred", tmp / "missing.csv", "--human", hp, "--screen", SCREEN)
    assert rc == 2 and "missing.csv: no such file" in err
    rc, _, err = _run(capsys, "--pred", pp, "--human", hp)
    assert rc == 2 and "needs screen_size" in err and "--screen" in err
    rc, _, err = _run(capsys, "--pred", pp, "--human", hp, "--screen", "1680by1050")
    assert rc == 2 and "WIDTHxHEIGHT" in err
    rc, _, err = _run(capsys, "--pred", pp, "--human", hp, "--screen", SCREEN, "--param", "nonsense=1")
    assert rc == 2 and "nonsense" in err
    odd = tmp / "pred.xlsx"
    odd.write_text("x")
    rc, _, err = _run(capsys, "--pred", odd, "--human", hp, "--screen", SCREEN)
    assert rc == 2 and "unknown format" in err


def test_parquet_input(files, capsys):
    tmp, pp, hp = files
    pq = tmp / "pred.parquet"
    try:
        pd.read_csv(pp).to_parquet(pq)
    except ImportError:
        pq.write_bytes(b"PAR1 not really")
        rc, _, err = _run(capsys, "--pred", pq, "--human", hp, "--screen", SCREEN)
        assert rc == 2 and "pyarrow" in err and str(pq) in err
        return
    rc, out, err = _run(capsys, "--pred", pq, "--human", hp, "--screen", SCREEN, "--bootstrap", 0)
    assert rc == 0, err


def test_stimulus_matching(files, capsys):
    tmp, pp, hp = files
    pred = pd.read_csv(pp)
    extra = pred[pred["stimulus"] == "img000.jpg"].assign(stimulus="unseen.jpg")
    mixed = tmp / "mixed.csv"
    pd.concat([pred, extra]).to_csv(mixed, index=False)
    rc, out, err = _run(capsys, "--pred", mixed, "--human", hp, "--screen", SCREEN, "--bootstrap", 0)
    assert rc == 0
    assert "1 stimulus/stimuli" in err and "unseen.jpg" in err
    assert "12 pairs" in out
    disjoint = tmp / "disjoint.csv"
    extra.to_csv(disjoint, index=False)
    rc, _, err = _run(capsys, "--pred", disjoint, "--human", hp, "--screen", SCREEN)
    assert rc == 2 and "none of its 1 stimuli appears" in err


def test_short_scanpaths_give_nan_with_a_reason(files, capsys):
    tmp, pp, hp = files
    pred = pd.read_csv(pp)
    short = pred[pred["fix_index"] < 2]  # two fixations: MultiMatch is undefined
    sp = tmp / "short.csv"
    short.to_csv(sp, index=False)
    out_csv = tmp / "s.csv"
    rc, out, err = _run(capsys, "--pred", sp, "--human", hp, "--screen", SCREEN, "--out", out_csv, "--bootstrap", 0)
    assert rc == 0, err
    scores = pd.read_csv(out_csv)
    assert scores[MM].isna().all().all()
    assert scores["reason"].str.contains("at least 3").all()
    assert "undefined (NaN)" in out


def _grid_objects(n_stim=3) -> pd.DataFrame:
    """A 4 x 3 grid of 420 x 350 px boxes per stimulus, labelled 0..11 row by row."""
    rows = [{"stimulus": f"img{st:03d}.jpg", "object": r * 4 + c, "x": c * 420.0, "y": r * 350.0, "w": 420.0,
             "h": 350.0} for st in range(n_stim) for r in range(3) for c in range(4)]
    return pd.DataFrame(rows)


def test_objects_label_the_fixations_for_object_metrics(files, capsys):
    """--objects labels tables that lack ``object``: the scores equal those of tables labelled by hand."""
    tmp, pp, hp = files
    objects = _grid_objects()
    objects.to_csv(tmp / "objects.csv", index=False)
    metric = "semantic_ss,edit_distance_aoi"
    rc = main(["score", "--pred", str(pp), "--human", str(hp), "--metric", metric, "--objects",
               str(tmp / "objects.csv"), "--bootstrap", "0", "--out", str(tmp / "auto.csv")])
    assert rc == 0, capsys.readouterr().err
    for name in ("pred", "human"):  # by hand: the grid cell of each fixation
        t = pd.read_csv(tmp / f"{name}.csv")
        t["object"] = (np.minimum(t["y"] // 350, 2) * 4 + np.minimum(t["x"] // 420, 3)).astype(int)
        t.to_csv(tmp / f"{name}_lab.csv", index=False)
    rc = main(["score", "--pred", str(tmp / "pred_lab.csv"), "--human", str(tmp / "human_lab.csv"), "--metric",
               metric, "--bootstrap", "0", "--out", str(tmp / "hand.csv")])
    assert rc == 0, capsys.readouterr().err
    auto, hand = pd.read_csv(tmp / "auto.csv"), pd.read_csv(tmp / "hand.csv")
    assert len(auto) == 4 * 3 and auto["semantic_ss"].between(0, 1).all()
    pd.testing.assert_frame_equal(auto, hand)
    # the same boxes as a --stimuli table with object_boxes
    stim = pd.DataFrame({"stimulus": sorted(objects["stimulus"].unique()), "width": 1680, "height": 1050})
    stim["object_boxes"] = [json.dumps(g[["x", "y", "w", "h"]].values.tolist()) for _, g in objects.groupby("stimulus")]
    stim.to_csv(tmp / "stimuli.csv", index=False)
    rc = main(["score", "--pred", str(pp), "--human", str(hp), "--metric", metric, "--objects",
               str(tmp / "stimuli.csv"), "--bootstrap", "0", "--out", str(tmp / "from_stimuli.csv")])
    assert rc == 0, capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(tmp / "from_stimuli.csv"), hand)
    # without --objects the error says what to give
    rc = main(["score", "--pred", str(pp), "--human", str(hp), "--metric", metric, "--bootstrap", "0"])
    assert rc == 2 and "--objects TABLE" in capsys.readouterr().err
    # a stimulus without boxes is named
    objects[objects["stimulus"] != "img001.jpg"].to_csv(tmp / "partial.csv", index=False)
    rc = main(["score", "--pred", str(pp), "--human", str(hp), "--metric", metric, "--objects",
               str(tmp / "partial.csv"), "--bootstrap", "0"])
    assert rc == 2 and "img001.jpg" in capsys.readouterr().err

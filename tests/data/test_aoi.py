"""Mapping fixations to object / AOI boxes."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from gazemodels.data import as_object_table, map_to_objects
from gazemodels.errors import FixationTableError


def boxes() -> pd.DataFrame:
    """On "s": table (0,0)-(100,50), cup (10,10)-(30,30) inside the table, lamp (200,0)-(240,40).
    On "t": one box "door" (50,50)-(60,150)."""
    return pd.DataFrame(
        {
            "stimulus": ["s", "s", "s", "t"],
            "object": ["table", "cup", "lamp", "door"],
            "x": [0.0, 10.0, 200.0, 50.0],
            "y": [0.0, 10.0, 0.0, 50.0],
            "w": [100.0, 20.0, 40.0, 10.0],
            "h": [50.0, 20.0, 40.0, 100.0],
        }
    )


def fixations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stimulus": ["s", "s", "s", "s", "s", "s", "t", "t"],
            "x": [20.0, 90.0, 220.0, 150.0, 100.0, 240.0, 55.0, 0.0],
            "y": [20.0, 40.0, 39.0, 20.0, 50.0, 40.0, 100.0, 0.0],
            "duration": 200.0,
        },
        index=[f"f{i}" for i in range(8)],
    )


def test_known_answers_and_input_untouched():
    fix, obj = fixations(), boxes()
    fix_before, obj_before = fix.copy(deep=True), obj.copy(deep=True)
    out = map_to_objects(fix, obj)
    pd.testing.assert_frame_equal(fix, fix_before)
    pd.testing.assert_frame_equal(obj, obj_before)
    assert out is not fix
    assert list(out.index) == list(fix.index)
    pd.testing.assert_frame_equal(out.drop(columns="object"), fix)
    got = out["object"].tolist()
    # f0 in cup and table -> smallest is cup; f4 and f5 lie on box corners (border counts);
    # f3 between table and lamp -> no object; f7 on "t" far from the door
    assert got[:3] == ["cup", "table", "lamp"]
    assert pd.isna(got[3])
    assert got[4:7] == ["table", "lamp", "door"]
    assert pd.isna(got[7])


def test_border_is_inside_and_just_outside_is_not():
    obj = pd.DataFrame({"stimulus": ["s"], "object": ["b"], "x": [10.0], "y": [20.0], "w": [5.0], "h": [5.0]})
    xs = [10.0, 15.0, 12.0, 12.0, np.nextafter(10.0, 0), np.nextafter(15.0, 99), 12.0]
    ys = [22.0, 22.0, 20.0, 25.0, 22.0, 22.0, np.nextafter(25.0, 99)]
    out = map_to_objects(pd.DataFrame({"stimulus": "s", "x": xs, "y": ys}), obj)
    assert out["object"].notna().tolist() == [True, True, True, True, False, False, False]


def test_overlap_rules():
    # two overlapping boxes: big (0,0)-(100,100) listed first, small (40,40)-(60,60)
    obj = pd.DataFrame({"stimulus": "s", "object": ["big", "small", "right"],
                        "x": [0.0, 40.0, 80.0], "y": [0.0, 40.0, 0.0], "w": [100.0, 20.0, 40.0],
                        "h": [100.0, 20.0, 100.0]})
    fix = pd.DataFrame({"stimulus": "s", "x": [50.0, 45.0, 90.0, 10.0], "y": [50.0, 45.0, 50.0, 10.0]})
    assert map_to_objects(fix, obj, overlap="smallest")["object"].tolist() == ["small", "small", "right", "big"]
    assert map_to_objects(fix, obj, overlap="first")["object"].tolist() == ["big", "big", "big", "big"]
    # centres: big (50,50), small (50,50), right (100,50). (50,50): tie big/small -> first listed.
    # (45,45): same distance to big and small -> big. (90,50): right's centre is 10 away, big's 40.
    assert map_to_objects(fix, obj, overlap="nearest_centre")["object"].tolist() == ["big", "big", "right", "big"]
    with pytest.raises(ValueError, match="overlap must be one of"):
        map_to_objects(fix, obj, overlap="largest")


def test_smallest_ties_go_to_the_first_box():
    obj = pd.DataFrame({"stimulus": "s", "object": ["p", "q"], "x": [0.0, 5.0], "y": 0.0, "w": 10.0, "h": 10.0})
    fix = pd.DataFrame({"stimulus": ["s"], "x": [7.0], "y": [5.0]})
    assert map_to_objects(fix, obj)["object"].tolist() == ["p"]
    assert map_to_objects(fix, obj.iloc[::-1])["object"].tolist() == ["q"]


def test_margin():
    obj = boxes()
    fix = pd.DataFrame({"stimulus": "s", "x": [245.0, 246.0, 150.0], "y": [20.0, 20.0, 20.0]})
    assert map_to_objects(fix, obj)["object"].isna().all()
    out = map_to_objects(fix, obj, margin_px=5.0)["object"]
    assert out.iloc[0] == "lamp" and pd.isna(out.iloc[1]) and pd.isna(out.iloc[2])
    with pytest.raises(ValueError, match="margin_px"):
        map_to_objects(fix, obj, margin_px=-1)


def test_distance_column():
    fix, obj = fixations(), boxes()
    out = map_to_objects(fix, obj, distance=True)
    d = out["object_distance"].to_numpy()
    # f3 (150, 20): 50 px right of the table, 50 px left of the lamp; f7 (0, 0) on "t":
    # door's nearest point is (50, 50) -> hypot(50, 50)
    np.testing.assert_allclose(d, [0, 0, 0, 50, 0, 0, 0, np.hypot(50, 50)])
    out = map_to_objects(fix.assign(x=fix.x.where(fix.index != "f3", 103.0), y=fix.y.where(fix.index != "f3", 54.0)),
                         obj, distance="dist_px", column="aoi")
    assert list(out.columns[-2:]) == ["aoi", "dist_px"]
    assert out.loc["f3", "dist_px"] == pytest.approx(5.0)  # 3-4-5 from the table's corner (100, 50)
    # the margin decides the label, not the distance: 60 px reach both table and lamp
    out = map_to_objects(fix, obj, distance=True, margin_px=60)
    assert out.loc["f3", "object"] == "lamp" and out.loc["f3", "object_distance"] == 50.0
    out = map_to_objects(fix, obj, distance=True, margin_px=60, overlap="first")
    assert out.loc["f3", "object"] == "table"


def test_nan_coordinates_get_no_object():
    fix = fixations()
    fix.loc["f0", "x"] = np.nan
    out = map_to_objects(fix, boxes(), distance=True)
    assert pd.isna(out.loc["f0", "object"]) and np.isnan(out.loc["f0", "object_distance"])
    assert out.loc["f1", "object"] == "table"


def test_integer_labels_stay_integers():
    obj = boxes().assign(object=[11, 12, 13, 14])
    out = map_to_objects(fixations(), obj)
    assert out["object"].dtype == "Int64"
    assert out["object"].iloc[0] == 12 and out["object"].iloc[3] is pd.NA
    assert out["object"].isna().sum() == 2


def test_dict_of_boxes():
    objects = {
        "s": [(0, 0, 100, 50), {"x": 10, "y": 10, "w": 20, "h": 20, "object": "cup"},
              {"xmin": 200, "xmax": 240, "ymin": 0, "ymax": 40, "label": "lamp"}],
        "t": [np.array([50, 50, 10, 100])],
    }
    table = as_object_table(objects)
    assert table["object"].tolist() == [0, "cup", "lamp", 0]
    np.testing.assert_allclose(table[["x", "y", "w", "h"]].to_numpy(), boxes()[["x", "y", "w", "h"]].to_numpy())
    out = map_to_objects(fixations(), objects)
    expected = map_to_objects(fixations(), boxes())["object"].replace({"table": 0, "door": 0})
    assert out["object"].tolist()[:3] == ["cup", 0, "lamp"]
    assert [pd.isna(v) for v in out["object"]] == [pd.isna(v) for v in expected]


def test_bad_boxes_are_named():
    with pytest.raises(FixationTableError, match=r"missing column\(s\) \['h'\]"):
        map_to_objects(fixations(), boxes().drop(columns="h"))
    bad = boxes()
    bad.loc[2, "w"] = -3.0
    with pytest.raises(FixationTableError, match=r"row 2 \(stimulus='s', object='lamp'.*w=-3\.0"):
        map_to_objects(fixations(), bad)
    bad = boxes()
    bad.loc[1, "x"] = np.nan
    with pytest.raises(FixationTableError, match=r"row 1 \(stimulus='s', object='cup'"):
        map_to_objects(fixations(), bad)
    with pytest.raises(FixationTableError, match=r"objects\['s'\]\[1\]"):
        map_to_objects(fixations(), {"s": [(0, 0, 1, 1), (1, 2, 3)]})
    with pytest.raises(FixationTableError, match="DataFrame or a mapping"):
        map_to_objects(fixations(), [(0, 0, 1, 1)])


def test_stimuli_without_boxes():
    only_s = boxes().iloc[:3]
    with pytest.raises(FixationTableError, match=r"2 fixation\(s\) lie on 1 stimulus id\(s\) with no boxes: \['t'\]"):
        map_to_objects(fixations(), only_s)
    out = map_to_objects(fixations(), only_s, missing="ignore", distance=True)
    assert out.loc[["f6", "f7"], "object"].isna().all()
    assert out.loc[["f6", "f7"], "object_distance"].isna().all()
    assert out.loc["f0", "object"] == "cup"
    with pytest.raises(ValueError, match="missing must be"):
        map_to_objects(fixations(), only_s, missing="drop")
    empty = map_to_objects(fixations(), boxes().iloc[:0], missing="ignore")
    assert empty["object"].isna().all()


def test_existing_column_is_not_overwritten_silently():
    fix = fixations().assign(object="given")
    with pytest.raises(FixationTableError, match=r"already has column\(s\) \['object'\]"):
        map_to_objects(fix, boxes())
    out = map_to_objects(fix, boxes(), overwrite=True)
    assert out["object"].iloc[0] == "cup" and (fix["object"] == "given").all()
    assert "aoi" in map_to_objects(fix, boxes(), column="aoi").columns


def test_missing_fixation_columns():
    with pytest.raises(FixationTableError, match=r"missing column\(s\) \['y'\]"):
        map_to_objects(fixations().drop(columns="y"), boxes())


# ----------------------------------------------------------------------------- vectorisation


def loop_reference(fix: pd.DataFrame, obj: pd.DataFrame, overlap: str, margin: float):
    """The obvious per-fixation loop, to check the vectorised version."""
    labels, dists = [], []
    for stim, fx, fy in zip(fix["stimulus"], fix["x"], fix["y"]):
        best, best_score, dmin = None, None, np.inf
        for b in obj[obj["stimulus"] == stim].itertuples(index=False):
            dx = max(b.x - fx, 0.0, fx - (b.x + b.w))
            dy = max(b.y - fy, 0.0, fy - (b.y + b.h))
            dmin = min(dmin, float(np.hypot(dx, dy)))
            inside = b.x - margin <= fx <= b.x + b.w + margin and b.y - margin <= fy <= b.y + b.h + margin
            if not inside:
                continue
            score = {"first": 0.0, "smallest": b.w * b.h,
                     "nearest_centre": (fx - (b.x + b.w / 2)) ** 2 + (fy - (b.y + b.h / 2)) ** 2}[overlap]
            if best is None or score < best_score:
                best, best_score = b.object, score
        labels.append(best)
        dists.append(dmin if np.isfinite(dmin) else np.nan)
    return labels, np.array(dists)


@pytest.mark.parametrize("overlap", ["smallest", "first", "nearest_centre"])
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_matches_loop(overlap, seed):
    rng = np.random.default_rng(seed)
    n_stim = 6
    rows = []
    for s in range(n_stim):
        for j in range(int(rng.integers(1, 15))):  # different numbers of boxes per stimulus
            # integer coordinates: many fixations land exactly on borders, many ties in area
            rows.append((f"s{s}", f"o{s}_{j}", *rng.integers(0, 80, 2), *rng.integers(0, 40, 2)))
    obj = pd.DataFrame(rows, columns=["stimulus", "object", "x", "y", "w", "h"]).astype(
        {"x": float, "y": float, "w": float, "h": float})
    n = 600
    fix = pd.DataFrame({"stimulus": [f"s{i}" for i in rng.integers(0, n_stim, n)],
                        "x": rng.integers(-10, 130, n).astype(float), "y": rng.integers(-10, 130, n).astype(float)})
    fix.loc[fix.sample(50, random_state=seed).index, ["x", "y"]] += rng.uniform(-1, 1, (50, 2))
    margin = 2.0 if seed else 0.0
    out = map_to_objects(fix, obj, overlap=overlap, margin_px=margin, distance=True)
    labels, dists = loop_reference(fix, obj, overlap, margin)
    got = [None if pd.isna(v) else v for v in out["object"]]
    assert got == labels
    assert 0.05 < np.mean([v is not None for v in labels]) < 0.95  # the check covers both cases
    np.testing.assert_allclose(out["object_distance"].to_numpy(), dists)


def test_chunking_gives_the_same_answer(monkeypatch):
    import gazemodels.data.aoi as aoi

    rng = np.random.default_rng(4)
    obj = pd.DataFrame({"stimulus": "s", "object": range(30), "x": rng.uniform(0, 90, 30),
                        "y": rng.uniform(0, 90, 30), "w": rng.uniform(1, 30, 30), "h": rng.uniform(1, 30, 30)})
    fix = pd.DataFrame({"stimulus": "s", "x": rng.uniform(0, 120, 500), "y": rng.uniform(0, 120, 500)})
    whole = map_to_objects(fix, obj, distance=True)
    monkeypatch.setattr(aoi, "_CHUNK_CELLS", 64)  # two fixations per chunk
    pd.testing.assert_frame_equal(map_to_objects(fix, obj, distance=True), whole)


def test_scale_100k_fixations_84_boxes():
    rng = np.random.default_rng(0)
    n_stim, n_fix = 100, 100_000
    obj = pd.DataFrame({
        "stimulus": np.repeat([f"{i}.jpg" for i in range(n_stim)], 84),
        "object": np.tile(np.arange(84), n_stim),
        "x": rng.uniform(0, 1500, 84 * n_stim), "y": rng.uniform(0, 900, 84 * n_stim),
        "w": rng.uniform(50, 180, 84 * n_stim), "h": rng.uniform(50, 180, 84 * n_stim),
    })
    fix = pd.DataFrame({"stimulus": [f"{i}.jpg" for i in rng.integers(0, n_stim, n_fix)],
                        "x": rng.uniform(0, 1680, n_fix), "y": rng.uniform(0, 1050, n_fix)})
    t0 = time.perf_counter()
    out = map_to_objects(fix, obj, distance=True)
    elapsed = time.perf_counter() - t0
    assert len(out) == n_fix and out["object"].notna().mean() > 0.3
    assert elapsed < 5.0, f"map_to_objects took {elapsed:.1f} s for 100k fixations"

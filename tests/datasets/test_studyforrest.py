"""studyforrest fixation-vector loader: real files (counts checked by a plain read) and bad input."""

import shutil

import numpy as np
import pytest
from conftest import dataset_dir

from gazemodels.data import n_scanpaths, validate_fixations
from gazemodels.datasets import load
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError


@pytest.fixture(scope="module")
def root(shared_data):
    return dataset_dir(shared_data, "studyforrest-scanpaths")


@pytest.fixture(scope="module")
def ds(root):
    return load("studyforrest", root=root)


def plain_rows(path):
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    assert lines[0].split("\t") == ["start_x", "start_y", "duration"]
    return [[float(v) for v in ln.split("\t")] for ln in lines[1:]]


def test_counts_match_a_plain_read(ds, root):
    files = sorted((root / "fixvectors").glob("*.tsv"))
    assert len(files) == 110
    total = sum(len(plain_rows(p)) for p in files)
    assert len(ds.fixations) == total == 3402 == ds.card.expected["n_fixations"]
    assert n_scanpaths(ds.fixations) == 110
    assert sorted(ds.fixations["subject"].unique()) == ["sub-01", "sub-19"]
    assert len(ds.stimuli) == 55 and ds.stimuli["segment"].tolist() == list(range(55))
    assert (ds.fixations["trial"] == 0).all() and ds.fixations["t_start"].isna().all()
    validate_fixations(ds.fixations, ds.stimuli, require_duration=True)


def test_units_and_order_of_one_file(ds, root):
    rows = np.array(plain_rows(root / "fixvectors" / "segment_3_sub-19.tsv"))
    sp = ds.fixations.query("stimulus == 'segment_3' and subject == 'sub-19'")
    assert sp["fix_index"].tolist() == list(range(len(rows)))
    np.testing.assert_array_equal(sp["x"].to_numpy(), rows[:, 0])
    np.testing.assert_array_equal(sp["y"].to_numpy(), rows[:, 1])
    np.testing.assert_allclose(sp["duration"].to_numpy(), rows[:, 2] * 1000.0)
    # First line of the file, by hand: 598.2  244.2  0.1055 s
    assert sp.iloc[0][["x", "y", "duration"]].tolist() == pytest.approx([598.2, 244.2, 105.5])
    assert ds.stimuli.iloc[0]["px_per_degree"] == pytest.approx(53.11, abs=0.01)
    assert (ds.stimuli["width"] == 1280).all() and (ds.stimuli["height"] == 720).all()


def test_segment_0_of_sub_01_is_rebuilt_from_the_remodnav_events(ds):
    # Rebuild as upstream create_videodata.py: pursuits split into start/end halves,
    # keep fixations and pursuit halves starting on screen.
    ev = ds.extras["remodnav_events"].query("subject == 'sub-01' and run == 1")
    assert len(ev) == 49 and ev["onset"].iloc[2] == 59.0  # s -> ms
    rebuilt = []
    for e in ev.itertuples():
        if e.label == "PURS":
            parts = [(e.start_x, e.start_y, e.end_y, e.duration / 2), (e.end_x, e.end_y, e.end_y, e.duration / 2)]
        elif e.label == "FIXA":
            parts = [(e.start_x, e.start_y, e.end_y, e.duration)]
        else:
            continue
        rebuilt += [(x, y, d) for x, y, ey, d in parts if 0 <= x <= 1280 and y >= 0 and ey <= 720]
    rebuilt = np.array(rebuilt)
    seg = ds.fixations.query("stimulus == 'segment_0' and subject == 'sub-01'")[["x", "y", "duration"]].to_numpy()
    start = int(np.flatnonzero((rebuilt[:, 0] == seg[0, 0]) & (rebuilt[:, 1] == seg[0, 1]))[0])
    n = min(len(seg), len(rebuilt) - start)
    assert n >= 20
    np.testing.assert_allclose(seg[:n], rebuilt[start:start + n])


def copy_release(root, tmp_path, n=4):
    (tmp_path / "fixvectors").mkdir()
    for p in sorted((root / "fixvectors").glob("segment_1*_sub-01.tsv"))[:n]:
        shutil.copy(p, tmp_path / "fixvectors" / p.name)
    return tmp_path / "fixvectors"


def test_partial_copy_loads(root, tmp_path):
    copy_release(root, tmp_path)
    ds = load("studyforrest", root=tmp_path)
    assert n_scanpaths(ds.fixations) == 4 and "remodnav_events" not in ds.extras


def test_file_of_another_kind(root, tmp_path):
    fv = copy_release(root, tmp_path)
    shutil.copy(root / "remodnav_samples" / "sub-01_task-movie_run-1_events.tsv", fv / "segment_99_sub-01.tsv")
    with pytest.raises(DatasetFormatError, match=r"segment_99_sub-01\.tsv: line 1: expected the fixation-vector columns"):
        load("studyforrest", root=tmp_path)


def test_unexpected_file_name(root, tmp_path):
    fv = copy_release(root, tmp_path)
    (fv / "notes.tsv").write_text("start_x\tstart_y\tduration\n")
    with pytest.raises(DatasetFormatError, match=r"notes\.tsv: unexpected file"):
        load("studyforrest", root=tmp_path)


def test_missing_column(root, tmp_path):
    fv = copy_release(root, tmp_path)
    (fv / "segment_98_sub-01.tsv").write_text("start_x\tstart_y\n10\t20\n")
    with pytest.raises(DatasetFormatError, match=r"segment_98_sub-01\.tsv: line 1: .*got \['start_x', 'start_y'\]"):
        load("studyforrest", root=tmp_path)


def test_unparsable_number_names_line_and_column(root, tmp_path):
    fv = copy_release(root, tmp_path)
    (fv / "segment_98_sub-01.tsv").write_text("start_x\tstart_y\tduration\n10\t20\t0.1\n10\t2O\t0.1\n")
    with pytest.raises(DatasetFormatError, match=r"segment_98_sub-01\.tsv: column 'start_y' \(-> y\): 1 value\(s\) are not numbers: line 3: '2O'"):
        load("studyforrest", root=tmp_path)


def test_truncated_file(root, tmp_path):
    fv = copy_release(root, tmp_path)
    p = next(iter(sorted(fv.glob("*.tsv"))))
    text = p.read_text()
    cut = text[: text.rindex("\t")]  # drop the last field of the last line
    p.write_text(cut)
    n_lines = cut.count("\n") + 1
    with pytest.raises(DatasetFormatError, match=rf"{p.name}: line {n_lines}: 2 field\(s\) where the header has 3"):
        load("studyforrest", root=tmp_path)


def test_nan_coordinate(root, tmp_path):
    fv = copy_release(root, tmp_path)
    (fv / "segment_98_sub-01.tsv").write_text("start_x\tstart_y\tduration\n10\t20\t0.1\nnan\t30\t0.2\n")
    with pytest.raises(DatasetFormatError, match=r"segment_98_sub-01\.tsv: 1 fixation\(s\) have a missing or infinite coordinate .* line\(s\) 3"):
        load("studyforrest", root=tmp_path)


def test_offscreen_coordinate(root, tmp_path):
    fv = copy_release(root, tmp_path)
    (fv / "segment_98_sub-01.tsv").write_text("start_x\tstart_y\tduration\n10\t20\t0.1\n1300.5\t30\t0.2\n")
    with pytest.raises(DatasetFormatError, match=r"segment_98_sub-01\.tsv: 1 fixation\(s\) lie off .* line 3 \(x=1300.5, y=30\)"):
        load("studyforrest", root=tmp_path)
    ds = load("studyforrest", root=tmp_path, allow_offscreen=True)
    assert ds.fixations["x"].max() == 1300.5


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="fixvectors"):
        load("studyforrest", root=tmp_path)

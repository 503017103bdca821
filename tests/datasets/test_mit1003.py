"""MIT1003 loader: counts, seconds-to-ms, the all-NaN rows, image sizes, and broken CSVs."""

import gzip
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import dataset_dir
from PIL import Image

from gazemodels import datasets
from gazemodels.data.schema import FIXATION_COLUMNS, STIMULUS_COLUMNS
from gazemodels.errors import DatasetFormatError

# The real file's two expected warnings, asserted where they matter, are not noise elsewhere.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mit1003.*are NaN in all:UserWarning",
    "ignore:mit1003.*lie off their stimulus:UserWarning",
)

CSV = "Fixation_MIT1003.csv.gz"
HEADER = ("Participant,Stimulus,Fixation_Position_X_px,Fixation_Position_Y_px,"
          "Event_Start_Trial_Time_ms,Event_Ende_Trial_Time_ms,Duration")


@pytest.fixture(scope="module")
def real_root(shared_data):
    return dataset_dir(shared_data, "mit1003-fixations")


@pytest.fixture(scope="module")
def raw(real_root):
    return pd.read_csv(real_root / CSV)


@pytest.fixture(scope="module")
def mit(real_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = datasets.load("mit1003", root=real_root)
    return ds, [str(w.message) for w in caught]


def test_counts_of_the_file(mit):
    ds, _ = mit
    fx, nan_rows = ds.fixations, ds.extras["nan_rows"]
    assert len(fx) + len(nan_rows) == ds.extras["n_rows"] == 112_344
    assert len(nan_rows) == 2_406
    keys = pd.concat([fx[["stimulus", "subject"]], nan_rows[["stimulus", "subject"]]])
    assert len(keys.drop_duplicates()) == ds.extras["n_scanpaths"] == 15_045
    assert len(ds.stimuli) == 1_003
    assert fx["subject"].nunique() == 15
    # Every row of the file is in exactly one of the two tables.
    rows = np.sort(np.concatenate([fx["source_row"], nan_rows["source_row"]]))
    np.testing.assert_array_equal(rows, np.arange(112_344))


def test_nan_rows_are_reported(mit, raw):
    ds, messages = mit
    assert raw["Duration"].isna().sum() == 2_406
    assert any("2,406 of 112,344 rows" in m and "33 scanpath(s)" in m for m in messages)
    nan_rows = ds.extras["nan_rows"]
    assert raw.loc[nan_rows["source_row"]].drop(columns=["Participant", "Stimulus"]).isna().all().all()
    assert (raw.loc[nan_rows["source_row"], "Stimulus"].to_numpy() == nan_rows["stimulus"]).all()
    assert not ds.fixations[["x", "y", "t_start", "duration"]].isna().any().any()


def test_seconds_become_milliseconds(mit, raw):
    ds, _ = mit
    fx = ds.fixations
    assert list(fx.columns[:8]) == list(FIXATION_COLUMNS)
    src = raw.loc[fx["source_row"]]
    np.testing.assert_allclose(fx["duration"], src["Duration"] * 1000, atol=1e-6)
    np.testing.assert_allclose(fx["t_start"], src["Event_Start_Trial_Time_ms"] * 1000, atol=1e-6)
    np.testing.assert_allclose(fx["t_start"] + fx["duration"],
                               src["Event_Ende_Trial_Time_ms"] * 1000, atol=1e-6)
    # Plausible fixation durations in ms of a 3 s free viewing.
    assert 150 < fx["duration"].median() < 400
    assert 50 < fx["duration"].quantile(0.25) and fx["duration"].quantile(0.95) < 2000
    assert fx["t_start"].max() <= 3000 and (fx["t_start"] + fx["duration"]).max() <= 3000
    assert fx["duration"].iloc[3] == 104.0  # 0.10399999999999987 s in the file


def test_fix_index_follows_file_order(mit):
    ds, _ = mit
    fx = ds.fixations
    g = fx.groupby(["stimulus", "subject"], sort=False)
    assert (g["source_row"].diff().dropna() > 0).all()
    assert (g["t_start"].diff().dropna() > 0).all()


def test_sizes_without_images_are_the_bound(mit):
    ds, messages = mit
    st = ds.stimuli
    assert list(st.columns[:5]) == list(STIMULUS_COLUMNS)
    assert (st["width"] == 1024).all() and (st["height"] == 1024).all()
    assert not st["size_known"].any() and st["path"].isna().all()
    assert st["px_per_degree"].iloc[0] == pytest.approx(36.1, abs=0.1)
    fx = ds.fixations
    off = (fx["x"] > 1024) | (fx["y"] > 1024) | (fx["x"] < 0) | (fx["y"] < 0)
    assert off.sum() == ds.extras["n_offscreen"] == 44
    assert any("44 of 109938 fixations" in m for m in messages)


def test_sizes_from_images_dir(real_root, raw, tmp_path):
    names = raw["Stimulus"].unique()[:2]
    Image.new("RGB", (1024, 768)).save(tmp_path / f"{names[0]}.jpeg")
    Image.new("RGB", (405, 1024)).save(tmp_path / f"{names[1]}.jpeg")
    with pytest.warns(UserWarning, match="1001 of 1003 stimulus images are absent"):
        ds = datasets.load("mit1003", root=real_root, images_dir=tmp_path)
    st = ds.stimuli.set_index("stimulus")
    assert tuple(st.loc[names[0], ["width", "height"]]) == (1024, 768)
    assert tuple(st.loc[names[1], ["width", "height"]]) == (405, 1024)
    assert st.loc[names[0], "size_known"] and not st["size_known"].iloc[5]
    assert len(ds.missing_stimuli) == 1001


# --- bad input -------------------------------------------------------------------------


def _write(root, lines, name="Fixation_MIT1003.csv"):
    text = "\n".join([HEADER] + lines) + "\n" if isinstance(lines, list) else lines
    (root / name).write_text(text)
    return root


GOOD = ["ajs,img1,100.0,200.0,0.0,0.272,0.272", "ajs,img1,300.0,250.0,0.312,0.712,0.4"]


def test_synthetic_file(tmp_path):
    ds = datasets.load("mit1003", root=_write(tmp_path, GOOD + ["ajs,img1,,,,,"]))
    assert ds.fixations["duration"].tolist() == [272.0, 400.0]
    assert ds.fixations["t_start"].tolist() == [0.0, 312.0]
    assert ds.extras["nan_rows"]["position"].tolist() == [2]


def test_truncated_gzip(tmp_path, real_root):
    (tmp_path / CSV).write_bytes((real_root / CSV).read_bytes()[:1000])
    with pytest.raises(DatasetFormatError, match=r"csv\.gz: truncated or corrupt gzip"):
        datasets.load("mit1003", root=tmp_path)


def test_truncated_csv_names_the_line(tmp_path, real_root):
    with gzip.open(real_root / CSV, "rt") as f:
        text = f.read(1000)
    (tmp_path / "Fixation_MIT1003.csv").write_text(text)  # cut in the middle of a line
    n_lines = text.count("\n") + 1
    with pytest.raises(DatasetFormatError,
                       match=rf"Fixation_MIT1003\.csv: line {n_lines} \(the last\) has \d of 7 fields .* truncated"):
        datasets.load("mit1003", root=tmp_path)


def test_malformed_csv(tmp_path):
    _write(tmp_path, GOOD + ["ajs,img1,1,2,3,4,5,6,7"])
    with pytest.raises(DatasetFormatError, match=r"malformed CSV.*line 4"):
        datasets.load("mit1003", root=tmp_path)


def test_missing_column(tmp_path):
    text = "\n".join([HEADER.rsplit(",", 1)[0]] + [g.rsplit(",", 1)[0] for g in GOOD])
    _write(tmp_path, text)
    with pytest.raises(DatasetFormatError, match=r"missing column\(s\) \['Duration'\]"):
        datasets.load("mit1003", root=tmp_path)


def test_file_of_another_dataset(tmp_path, shared_data):
    amazon = dataset_dir(shared_data, "amazon-book-covers") / "Amazon.json"
    (tmp_path / "Fixation_MIT1003.csv").write_text(amazon.read_text())
    with pytest.raises(DatasetFormatError, match=r"Fixation_MIT1003\.csv: .*(missing column|malformed)"):
        datasets.load("mit1003", root=tmp_path)


def test_nan_coordinate_in_an_otherwise_full_row(tmp_path):
    _write(tmp_path, GOOD + ["ajs,img1,,250.0,0.8,0.9,0.1"])
    with pytest.raises(DatasetFormatError, match=r"some but not all.*line 4"):
        datasets.load("mit1003", root=tmp_path)


def test_non_numeric_value(tmp_path):
    _write(tmp_path, GOOD + ["ajs,img1,left,250.0,0.8,0.9,0.1"])
    with pytest.raises(DatasetFormatError, match=r"'Fixation_Position_X_px' has 1 non-numeric.*line 4: 'left'"):
        datasets.load("mit1003", root=tmp_path)


def test_times_already_in_ms_are_rejected(tmp_path):
    _write(tmp_path, ["ajs,img1,100.0,200.0,0.0,272.0,272.0"])
    with pytest.raises(DatasetFormatError, match="time values up to 272"):
        datasets.load("mit1003", root=tmp_path)


def test_offscreen_reported_or_rejected(tmp_path):
    _write(tmp_path, GOOD + ["ajs,img1,-5.0,250.0,0.8,0.9,0.1"])
    with pytest.warns(UserWarning, match="1 of 3 fixations .* lie off"):
        ds = datasets.load("mit1003", root=tmp_path)
    assert ds.fixations["x"].min() == -5.0 and ds.extras["n_offscreen"] == 1
    with pytest.raises(DatasetFormatError, match=r"lie off.*line 4 \(Participant 'ajs'"):
        datasets.load("mit1003", root=tmp_path, allow_offscreen=False)


def test_rda_without_the_optional_reader(tmp_path, monkeypatch):
    (tmp_path / "Fixation_MIT1003.Rda").write_bytes(b"\x1f\x8b")
    monkeypatch.setitem(sys.modules, "rdata", None)  # makes `import rdata` fail
    with pytest.raises(ImportError, match="needs the optional package 'rdata'"):
        datasets.load("mit1003", root=tmp_path)

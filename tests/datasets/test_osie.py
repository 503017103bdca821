"""OSIE loader: the real partial download, the MATLAB coordinate shift, and bad MAT files."""

import warnings

import numpy as np
import pytest
import scipy.io
from conftest import dataset_dir

from gazemodels import datasets
from gazemodels.data.schema import FIXATION_COLUMNS, STIMULUS_COLUMNS
from gazemodels.errors import DatasetFormatError


@pytest.fixture(scope="module")
def real_root(shared_data):
    return dataset_dir(shared_data, "osie")


@pytest.fixture(scope="module")
def osie(real_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = datasets.load("osie", root=real_root)
    return ds, [w for w in caught if issubclass(w.category, UserWarning)]


def test_counts_of_the_real_release(osie):
    ds, _ = osie
    fx = ds.fixations
    assert len(fx) == 98_321
    assert len(ds.stimuli) == 700
    assert fx["subject"].nunique() == 15
    per_image = fx.groupby("stimulus")["subject"].nunique()
    assert len(per_image) == 700 and (per_image == 15).all()
    assert fx.groupby(["stimulus", "subject", "trial"]).ngroups == 700 * 15


def test_schema_columns_and_units(osie):
    ds, _ = osie
    assert list(ds.fixations.columns) == list(FIXATION_COLUMNS)
    assert list(ds.stimuli.columns) == list(STIMULUS_COLUMNS)
    assert ds.fixations["t_start"].isna().all()  # the file has no onsets
    dur = ds.fixations["duration"]
    assert dur.notna().all() and dur.min() > 0 and dur.max() < 3000  # ms of a 3 s viewing
    assert 150 < dur.median() < 400
    assert (ds.stimuli[["width", "height"]].to_numpy() == [800, 600]).all()
    assert (ds.stimuli["px_per_degree"] == 24.0).all()


def test_partial_download_is_reported_once_and_fixations_kept(osie, real_root):
    ds, caught = osie
    missing_warnings = [w for w in caught if "stimulus images are absent" in str(w.message)]
    assert len(missing_warnings) == 1
    msg = str(missing_warnings[0].message)
    assert "100 of 700" in msg and "1003.jpg" in msg
    assert len(ds.missing_stimuli) == 100
    on_disk = {p.name for p in (real_root / "stimuli").glob("*.jpg")}
    assert set(ds.missing_stimuli).isdisjoint(on_disk)
    absent = ds.stimuli["stimulus"].isin(ds.missing_stimuli)
    assert ds.stimuli.loc[absent, "path"].isna().all()
    assert ds.stimuli.loc[~absent, "path"].map(lambda p: p.endswith(".jpg")).all()
    kept = ds.fixations["stimulus"].isin(ds.missing_stimuli).sum()
    assert kept > 0 and f"{kept:,} fixations are kept" in msg


def test_matlab_coordinates_are_shifted_half_a_pixel(osie, real_root):
    ds, _ = osie
    mat = scipy.io.loadmat(real_root / "eye" / "fixations.mat", squeeze_me=True,
                           struct_as_record=False)
    entry = mat["fixations"][0]
    sub = entry.subjects[3]
    fx = ds.fixations
    got = fx[(fx["stimulus"] == entry.img) & (fx["subject"] == 4)].sort_values("fix_index")
    np.testing.assert_allclose(got["x"], np.atleast_1d(sub.fix_x) - 0.5)
    np.testing.assert_allclose(got["y"], np.atleast_1d(sub.fix_y) - 0.5)
    np.testing.assert_array_equal(got["duration"], np.atleast_1d(sub.fix_duration))
    assert ds.extras["coordinate_shift_px"] == -0.5
    # 1-based coordinates in [1.2, 799.2] x [1.2, 599.2] land inside the image after the shift.
    assert fx["x"].min() == pytest.approx(0.7) and fx["x"].max() == pytest.approx(798.7)


def test_raw_coordinates_on_request(real_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = datasets.load("osie", root=real_root, matlab_coordinates=False)
    assert raw.fixations["x"].min() == pytest.approx(1.2)
    assert raw.extras["coordinate_shift_px"] == 0.0


# --- bad input -------------------------------------------------------------------------


def _subject(x, y, d):
    return {"fix_x": np.asarray(x, float), "fix_y": np.asarray(y, float),
            "fix_duration": np.asarray(d, float)}


def _write_mat(root, entries, var="fixations"):
    (root / "eye").mkdir(parents=True, exist_ok=True)
    cell = np.empty((1, len(entries)), dtype=object)
    for i, (img, subjects) in enumerate(entries):
        subs = np.empty((1, len(subjects)), dtype=object)
        for j, s in enumerate(subjects):
            subs[0, j] = s
        cell[0, i] = {"img": img, "subjects": subs}
    scipy.io.savemat(root / "eye" / "fixations.mat", {var: cell})
    return root


def _load_quiet(root, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return datasets.load("osie", root=root, **options)


def test_synthetic_file_round_trips(tmp_path):
    root = _write_mat(tmp_path, [("a.jpg", [_subject([10, 20], [30, 40], [100, 200]),
                                             _subject([5.5], [6.5], [300])])])
    ds = _load_quiet(root)
    assert ds.fixations["x"].tolist() == [9.5, 19.5, 5.0]
    assert ds.fixations["subject"].tolist() == [1, 1, 2]
    assert ds.fixations["fix_index"].tolist() == [0, 1, 0]
    assert ds.missing_stimuli == ["a.jpg"]


def test_truncated_mat_names_the_file(tmp_path, real_root):
    (tmp_path / "eye").mkdir()
    target = tmp_path / "eye" / "fixations.mat"
    target.write_bytes((real_root / "eye" / "fixations.mat").read_bytes()[:1000])
    with pytest.raises(DatasetFormatError, match=r"fixations\.mat: not a readable MATLAB"):
        datasets.load("osie", root=tmp_path)


def test_file_of_another_dataset(tmp_path, shared_data):
    amazon = dataset_dir(shared_data, "amazon-book-covers") / "Amazon.json"
    (tmp_path / "eye").mkdir()
    (tmp_path / "eye" / "fixations.mat").write_bytes(amazon.read_bytes())
    with pytest.raises(DatasetFormatError, match=r"fixations\.mat: not a readable MATLAB"):
        datasets.load("osie", root=tmp_path)


def test_mat_without_the_fixations_variable(tmp_path):
    _write_mat(tmp_path, [("a.jpg", [_subject([1], [1], [1])])], var="eyedata")
    with pytest.raises(DatasetFormatError, match=r"no variable 'fixations'.*\['eyedata'\]"):
        datasets.load("osie", root=tmp_path)


def test_missing_field_names_entry_and_subject(tmp_path):
    bad = {"fix_x": np.array([1.0]), "fix_y": np.array([2.0])}
    _write_mat(tmp_path, [("a.jpg", [_subject([1], [1], [1])]), ("b.jpg", [_subject([1], [1], [1]), bad])])
    with pytest.raises(DatasetFormatError,
                       match=r"fixations\[1\] \(img 'b\.jpg'\)\.subjects\[1\] has no field 'fix_duration'"):
        datasets.load("osie", root=tmp_path)


def test_unequal_vectors_are_rejected(tmp_path):
    _write_mat(tmp_path, [("a.jpg", [_subject([1, 2], [1], [1, 1])])])
    with pytest.raises(DatasetFormatError, match=r"subjects\[0\]: fix_x, fix_y and fix_duration"):
        datasets.load("osie", root=tmp_path)


def test_nan_coordinate_names_the_place(tmp_path):
    _write_mat(tmp_path, [("a.jpg", [_subject([1], [1], [1]), _subject([5, 6, np.nan], [5, 6, 7], [1, 1, 1])])])
    with pytest.raises(DatasetFormatError,
                       match=r"fixations\.mat: 1 fixation\(s\) have a NaN.*'a\.jpg'\)\.subjects\[1\] "
                             r"fixation 2"):
        datasets.load("osie", root=tmp_path)


@pytest.mark.filterwarnings("ignore:osie. 1 of 1 stimulus images are absent")
def test_offscreen_coordinate_rejected_unless_allowed(tmp_path):
    _write_mat(tmp_path, [("a.jpg", [_subject([100, 900], [100, 100], [1, 1])])])
    with pytest.raises(DatasetFormatError, match=r"1 fixation\(s\) lie off.*fixation 1.*x=899\.5"):
        datasets.load("osie", root=tmp_path)
    with pytest.warns(UserWarning, match="1 of 2 fixations .* lie off their stimulus"):
        ds = datasets.load("osie", root=tmp_path, allow_offscreen=True)
    assert ds.extras["n_offscreen"] == 1
    assert ds.fixations["x"].tolist() == [99.5, 899.5]  # kept, not clipped

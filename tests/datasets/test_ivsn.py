"""IVSN human search loader: real files (counts checked against the raw arrays) and bad input."""

import warnings

import numpy as np
import pytest
from conftest import dataset_dir

from gazemodels.data import n_scanpaths, validate_fixations
from gazemodels.datasets import load
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

N_IMAGES = {"NaturalDesign": 240, "Waldo": 67, "ObjArr": 300}


@pytest.fixture(scope="module")
def root(shared_data):
    return dataset_dir(shared_data, "ivsn-human-search")


@pytest.fixture(scope="module")
def ds(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the CP/ifix warnings have their own test
        return load("ivsn", root=root)


def raw(root, subset, name):
    return np.load(root / subset / name)


def test_counts_match_the_raw_arrays(ds, root):
    fx = ds.fixations
    for subset, n_img in N_IMAGES.items():
        fix = raw(root, subset, "fix/human_all.npy")
        # Independent count: entries that are not the (0, 0) padding value.
        nonpad = int(np.any(fix != 0, axis=2).sum())
        got = fx[fx["condition"] == subset]
        assert len(got) == nonpad
        assert got["subject"].nunique() == 15
        assert got["stimulus"].nunique() == n_img
        assert n_scanpaths(got) == 15 * n_img
    assert len(fx) == 22749 + 28708 + 19800 == ds.card.expected["n_fixations"]
    assert n_scanpaths(fx) == 9105
    assert len(ds.stimuli) == 607
    # Schema: the loaded table validates (real off-screen fixations allowed) and has no timing.
    validate_fixations(fx, ds.stimuli, allow_offscreen=True)
    assert fx["t_start"].isna().all() and fx["duration"].isna().all()
    assert set(fx["condition"]) == set(N_IMAGES)


def test_rows_are_subject_major_and_coordinates_swapped(ds, root):
    fix = raw(root, "NaturalDesign", "fix/human_all.npy")
    ifix = raw(root, "NaturalDesign", "ifix/I_human_all.npy")[:, 0]
    r = 3 * 240 + 17  # subject 4, image 18
    sp = ds.fixations.query("stimulus == 'NaturalDesign/s_18.jpg' and subject == 4").sort_values("fix_index")
    assert len(sp) == ifix[r]
    np.testing.assert_array_equal(sp["x"].to_numpy(), fix[r, : ifix[r], 1])  # stored (y, x)
    np.testing.assert_array_equal(sp["y"].to_numpy(), fix[r, : ifix[r], 0])
    # First raw row, checked by hand: [[515, 634], [619, 627], ...] is (y, x).
    first = ds.fixations.iloc[0]
    assert (first["stimulus"], first["subject"], first["x"], first["y"]) == ("NaturalDesign/s_1.jpg", 1, 634, 515)


@pytest.mark.parametrize("subset", ["NaturalDesign", "Waldo"])
def test_last_fixation_lands_near_target_only_under_subject_major_order(ds, root, subset):
    trials = ds.extras["trials"].query("condition == @subset")
    last = ds.fixations.query("condition == @subset").groupby(["subject", "stimulus"]).tail(1)
    tgt = ds.stimuli.set_index("stimulus").loc[last["stimulus"], ["target_x", "target_y"]].to_numpy()
    d = np.hypot(last["x"].to_numpy() - tgt[:, 0], last["y"].to_numpy() - tgt[:, 1])
    assert np.median(d) < 120  # 56 px (Waldo), 97 px (NaturalDesign)
    # The image-major reading of the same rows puts the last fixation far from the target.
    fix = raw(root, subset, "fix/human_all.npy")
    n = N_IMAGES[subset]
    ifix = raw(root, subset, "ifix/I_human_all.npy")[:, 0]
    tpos = raw(root, subset, "target_pos.npy")
    lastraw = fix[np.arange(len(fix)), ifix - 1].astype(float)
    wrong = np.repeat(tpos, 15, axis=0)
    assert np.median(np.hypot(*(lastraw - wrong).T)) > 300
    assert len(trials) == 15 * n


def test_objarr_is_stored_x_y_on_object_slots(ds, root):
    obj = ds.fixations.query("condition == 'ObjArr'")
    fix = raw(root, "ObjArr", "fix/human_all.npy")
    assert fix[0, 0].tolist() == [640, 512]  # centre, (x, y) on the 1280 x 1024 display
    assert obj.iloc[0][["x", "y"]].tolist() == [640, 512]
    assert obj["x"].max() == 1190 and obj["y"].max() == 988
    assert obj["object"].notna().all() and set(obj["object"]) == set(range(7))
    assert (obj.loc[obj["fix_index"] == 0, "object"] == 0).all()  # every trial starts at the centre
    assert ds.fixations.query("condition != 'ObjArr'")["object"].isna().all()


def test_targets_in_stimulus_table(ds, root):
    st = ds.stimuli.set_index("stimulus")
    for subset in ("NaturalDesign", "Waldo"):
        t = raw(root, subset, "target_pos.npy")
        got = st.loc[[f"{subset}/s_{k}.jpg" for k in range(1, N_IMAGES[subset] + 1)]]
        np.testing.assert_array_equal(got["target_x"].to_numpy(), t[:, 1])
        np.testing.assert_array_equal(got["target_y"].to_numpy(), t[:, 0])
    assert st.loc[st["condition"] == "ObjArr", "target_x"].isna().all()
    assert (st["width"] == 1280).all() and (st["height"] == 1024).all()
    assert st["px_per_degree"].iloc[0] == pytest.approx(40.98, abs=0.01)
    assert st["path"].isna().all() and len(ds.missing_stimuli) == 607


def test_found_column_and_found_index(ds, root):
    tr = ds.extras["trials"]
    assert (tr["ifix"] == tr["n_fixations"]).all()
    fx = ds.fixations
    # found_from="cp": the published CP values at the stored fixations.
    cp = raw(root, "Waldo", "cp/CP_human_all.npy")
    w = fx.query("condition == 'Waldo'")
    rows = (w["subject"].to_numpy() - 1) * 67 + w["stimulus"].str.extract(r"s_(\d+)")[0].astype(int).to_numpy() - 1
    np.testing.assert_array_equal(w["found"].to_numpy(), cp[rows, w["fix_index"].to_numpy()].astype(bool))
    assert int(w["found"].sum()) == 756
    # In Waldo every find is the last stored fixation (CP agrees with ifix).
    wf = w[w["found"]]
    wt = tr.query("condition == 'Waldo'").set_index(["stimulus", "subject"])
    assert (wf["fix_index"].to_numpy() == wt.loc[list(zip(wf["stimulus"], wf["subject"])), "ifix"].to_numpy() - 1).all()
    assert int(tr.query("condition == 'Waldo'")["found_fix_index"].notna().sum()) == 756


def test_cp_ifix_disagreement_is_reported_not_hidden(root):
    with pytest.warns(UserWarning, match=r"NaturalDesign: CP_human_all.npy disagrees .* 2145 of 3600"):
        ds = load("ivsn", root=root, subset="NaturalDesign")
    c = ds.extras["consistency"].iloc[0]
    assert (c["n_cp_equal_ifix"], c["n_cp_beyond_scanpath"], c["n_cp_found"]) == (1099, 1872, 3244)
    tr = ds.extras["trials"]
    cp = raw(root, "NaturalDesign", "cp/CP_human_all.npy")
    assert int(tr["cp_index"].notna().sum()) == int(cp.any(axis=1).sum()) == 3244
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load("ivsn", root=root, subset="Waldo")  # consistent: no warning


def test_found_from_ifix_marks_the_last_fixation(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = load("ivsn", root=root, subset="ObjArr", found_from="ifix")
    fx = ds.fixations
    per = fx.groupby(["stimulus", "subject"])
    assert (per["found"].sum() == 1).all()
    assert fx.loc[fx["found"], "fix_index"].tolist() == (per["fix_index"].max()).loc[
        list(zip(fx.loc[fx["found"], "stimulus"], fx.loc[fx["found"], "subject"]))].tolist()


def test_subset_option(root):
    ds = load("ivsn", root=root, subset="Waldo")
    assert set(ds.fixations["condition"]) == {"Waldo"} and len(ds.fixations) == 28708
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        two = load("ivsn", root=root, subset=["Waldo", "ObjArr"])
    assert set(two.fixations["condition"]) == {"Waldo", "ObjArr"}
    with pytest.raises(ValueError, match="unknown ivsn subset"):
        load("ivsn", root=root, subset="Wally")


def test_published_scanmatch_values(ds):
    s = ds.extras["published_scanmatch"].query("model == 'human'").set_index("condition")["mean"]
    assert s.round(3).to_dict() == {"NaturalDesign": 0.395, "Waldo": 0.352, "ObjArr": 0.441}


# --- bad input, on a synthetic Waldo-shaped release -------------------------------------

def make_waldo(root, *, max_fix=4, seed=0, dtype=np.int32):
    rng = np.random.default_rng(seed)
    n = 15 * 67
    ifix = rng.integers(1, max_fix + 1, size=n)
    fix = np.zeros((n, max_fix, 2), dtype=dtype)
    for r in range(n):
        fix[r, : ifix[r], 0] = rng.integers(1, 1024, size=ifix[r])  # y
        fix[r, : ifix[r], 1] = rng.integers(1, 1280, size=ifix[r])  # x
    cp = np.zeros((n, max_fix), dtype=np.int64)
    cp[np.arange(n), ifix - 1] = 1
    d = root / "Waldo"
    for sub in ("fix", "ifix", "cp"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    np.save(d / "fix" / "human_all.npy", fix)
    np.save(d / "ifix" / "I_human_all.npy", ifix.reshape(-1, 1))
    np.save(d / "cp" / "CP_human_all.npy", cp)
    np.save(d / "target_pos.npy", rng.integers(20, 1000, size=(67, 2)).astype(float))
    return fix, ifix


def test_synthetic_release_loads_and_keeps_a_real_zero_fixation(tmp_path):
    fix, ifix = make_waldo(tmp_path)
    r = int(np.flatnonzero(ifix >= 3)[0])
    fix[r, 1] = (0, 0)  # a real fixation at the top-left corner, inside the scanpath
    np.save(tmp_path / "Waldo" / "fix" / "human_all.npy", fix)
    ds = load("ivsn", root=tmp_path, subset="Waldo")
    assert len(ds.fixations) == int(ifix.sum())
    sp = ds.fixations.query(f"subject == {r // 67 + 1} and stimulus == 'Waldo/s_{r % 67 + 1}.jpg'")
    assert sp["fix_index"].tolist() == list(range(ifix[r]))
    assert sp.iloc[1][["x", "y"]].tolist() == [0, 0]


def test_truncated_npy(tmp_path):
    make_waldo(tmp_path)
    p = tmp_path / "Waldo" / "fix" / "human_all.npy"
    p.write_bytes(p.read_bytes()[:5000])
    with pytest.raises(DatasetFormatError, match=r"human_all\.npy: not a readable \.npy array \(truncated"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_malformed_npy(tmp_path):
    make_waldo(tmp_path)
    (tmp_path / "Waldo" / "ifix" / "I_human_all.npy").write_text("subject,ifix\n1,3\n")
    with pytest.raises(DatasetFormatError, match=r"I_human_all\.npy: not a readable \.npy array"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_file_of_another_subset(tmp_path, root):
    make_waldo(tmp_path)
    other = np.load(root / "NaturalDesign" / "fix" / "human_all.npy")
    np.save(tmp_path / "Waldo" / "fix" / "human_all.npy", other)
    with pytest.raises(DatasetFormatError, match=r"human_all\.npy: expected shape \(1005, max_fix, 2\).*\(3600, 65, 2\)"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_objarr_file_must_hold_object_slots(tmp_path):
    fix, ifix = make_waldo(tmp_path)
    d = tmp_path / "ObjArr"
    for sub in ("fix", "ifix", "cp"):
        (d / sub).mkdir(parents=True)
    n = 15 * 300
    f = np.zeros((n, 7, 2), dtype=np.int64)
    f[:, 0] = (640, 512)
    f[:, 1] = (1190, 512)
    f[7, 1] = (700, 500)  # not a slot
    np.save(d / "fix" / "human_all.npy", f)
    np.save(d / "ifix" / "I_human_all.npy", np.full((n, 1), 2))
    cp = np.zeros((n, 7), dtype=np.int64)
    cp[:, 1] = 1
    np.save(d / "cp" / "CP_human_all.npy", cp)
    with pytest.raises(DatasetFormatError, match=r"row 7 \(subject 1, image 8\), fixation 1 is at \(700, 500\)"):
        load("ivsn", root=tmp_path, subset="ObjArr")


def test_padding_after_the_scanpath_end(tmp_path):
    fix, ifix = make_waldo(tmp_path)
    r = int(np.flatnonzero(ifix < 4)[0])
    fix[r, 3] = (100, 200)
    np.save(tmp_path / "Waldo" / "fix" / "human_all.npy", fix)
    with pytest.raises(DatasetFormatError,
                       match=rf"human_all\.npy: 1 non-zero entries .* row {r} \(subject 1, image {r + 1}\), fixation 3"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_nan_coordinate(tmp_path):
    fix, ifix = make_waldo(tmp_path, dtype=np.float64)
    r = 70  # subject 2, image 4
    fix[r, 0, 1] = np.nan
    np.save(tmp_path / "Waldo" / "fix" / "human_all.npy", fix)
    with pytest.raises(DatasetFormatError, match=r"NaN or infinite coordinates; first at row 70 \(subject 2, image 4\), fixation 0"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_offscreen_coordinates(tmp_path):
    fix, ifix = make_waldo(tmp_path)
    fix[5, 0] = (-40, 2000)  # y = -40, x = 2000
    np.save(tmp_path / "Waldo" / "fix" / "human_all.npy", fix)
    ds = load("ivsn", root=tmp_path, subset="Waldo")  # kept by default, and counted
    assert ds.extras["consistency"].iloc[0]["n_offscreen"] == 1
    with pytest.raises(DatasetFormatError,
                       match=r"human_all\.npy: 1 fixations lie outside .* row 5 \(subject 1, image 6\), fixation 0 at x=2000, y=-40"):
        load("ivsn", root=tmp_path, subset="Waldo", allow_offscreen=False)


def test_bad_found_index(tmp_path):
    make_waldo(tmp_path)
    ifix = np.load(tmp_path / "Waldo" / "ifix" / "I_human_all.npy")
    ifix[100, 0] = 0
    np.save(tmp_path / "Waldo" / "ifix" / "I_human_all.npy", ifix)
    with pytest.raises(DatasetFormatError, match=r"I_human_all\.npy: 1 found indices .* row 100 \(subject 2, image 34\)"):
        load("ivsn", root=tmp_path, subset="Waldo")


def test_missing_subset_folder(tmp_path):
    make_waldo(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="NaturalDesign"):
        load("ivsn", root=tmp_path)

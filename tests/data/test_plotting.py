"""Scanpath plots, heat maps and fixation density maps (Agg backend, no display).

The real-data test writes its PNGs to ``$GAZEMODELS_PLOT_DIR`` when that is set
(to look at them), otherwise to a temporary folder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from gazemodels.data import fixation_density, plot_heatmap, plot_scanpath, validate_fixations  # noqa: E402
from gazemodels.data.plotting import (  # noqa: E402
    ARROW_ID,
    FIXATIONS_ID,
    HEATMAP_ID,
    IMAGE_ID,
    NAN_DURATION_SIZE,
    NUMBER_ID,
    SIZE_PER_MS,
)

from conftest import dataset_dir  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def numbers(ax):
    return [t for t in ax.texts if t.get_gid() == NUMBER_ID]


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch) and p.get_gid() == ARROW_ID]


def circles(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == FIXATIONS_ID]


def save_png(ax, path: Path, dpi: int = 60) -> Path:
    ax.figure.savefig(path, dpi=dpi)
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > 1000
    return path


def three_subjects() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for subj, n in ((1, 5), (2, 3), (3, 6)):
        for k in range(n):
            rows.append(("img.png", subj, 0, k, *rng.uniform(20, 380, 1), *rng.uniform(20, 280, 1),
                         np.nan, float(rng.uniform(80, 500))))
    df = pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start", "duration"])
    return validate_fixations(df.sample(frac=1.0, random_state=2))  # rows shuffled on purpose


def test_single_scanpath_artists(tmp_path):
    xy = np.array([[100.0, 100.0, 250.0], [300.0, 200.0, 125.0], [200.0, 400.0, 500.0], [600.0, 50.0, 60.0]])
    ax = plot_scanpath(xy, size=(800, 600))
    assert [t.get_text() for t in numbers(ax)] == ["1", "2", "3", "4"]
    np.testing.assert_allclose([t.get_position() for t in numbers(ax)], xy[:, :2])
    assert len(arrows(ax)) == 3
    (coll,) = circles(ax)
    np.testing.assert_allclose(coll.get_offsets(), xy[:, :2])
    # circle AREA proportional to duration
    np.testing.assert_allclose(coll.get_sizes(), SIZE_PER_MS * xy[:, 2])
    assert ax.get_legend() is None  # one scanpath: no legend
    assert ax.get_xlim() == (0.0, 800.0) and ax.get_ylim() == (600.0, 0.0)  # origin top-left
    save_png(ax, tmp_path / "one.png")


def test_arrows_point_from_each_fixation_to_the_next(tmp_path):
    xy = np.array([[100.0, 100.0], [500.0, 120.0], [480.0, 500.0]])
    ax = plot_scanpath(xy, size=(600, 600))
    ax.figure.canvas.draw()
    for j, arrow in enumerate(arrows(ax)):
        path = arrow.get_path()  # data coordinates, as drawn
        verts = path.vertices[path.codes != path.CLOSEPOLY]
        start = verts[0]
        tip = verts[np.argmax(np.linalg.norm(verts - start, axis=1))]
        # begins next to fixation j (shrunk to the circle's edge), ends next to fixation j + 1
        assert np.linalg.norm(start - xy[j]) < 20 < np.linalg.norm(start - xy[j + 1])
        assert np.linalg.norm(tip - xy[j + 1]) < 20 < np.linalg.norm(tip - xy[j])
        assert np.linalg.norm(start - xy[j]) > 1.0  # does not start under the number
        assert np.linalg.norm(tip - xy[j + 1]) > 1.0


def test_nan_and_missing_durations(tmp_path):
    xy = np.array([[100.0, 100.0, np.nan], [300.0, 200.0, 200.0], [200.0, 400.0, np.nan]])
    ax = plot_scanpath(xy, size=(800, 600))
    (coll,) = circles(ax)
    np.testing.assert_allclose(coll.get_sizes(), [NAN_DURATION_SIZE, SIZE_PER_MS * 200.0, NAN_DURATION_SIZE])
    dashed = [ls[1] is not None for ls in coll.get_linestyles()]
    assert dashed == [True, False, True]
    save_png(ax, tmp_path / "nan.png")
    # x, y only: every circle has the fixed size; a table without a duration column too
    ax = plot_scanpath(xy[:, :2], size=(800, 600))
    np.testing.assert_allclose(circles(ax)[0].get_sizes(), NAN_DURATION_SIZE)
    ax = plot_scanpath(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}))
    assert len(numbers(ax)) == 3 and len(arrows(ax)) == 2
    save_png(ax, tmp_path / "noduration.png")


def test_several_scanpaths_colours_and_legend(tmp_path):
    df = three_subjects()
    ax = plot_scanpath(df, size=(400, 300))
    colls = circles(ax)
    assert len(colls) == 3
    assert len(numbers(ax)) == len(df) == 14
    assert len(arrows(ax)) == (5 - 1) + (3 - 1) + (6 - 1)
    edge = [tuple(np.round(c.get_edgecolor()[0], 3)) for c in colls]
    assert len(set(edge)) == 3  # distinct colours
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["subject 1", "subject 2", "subject 3"]
    assert ax.get_title() == "img.png"
    # numbers follow fix_index although the table rows are shuffled
    sub3 = df[df.subject == 3].sort_values("fix_index")
    texts = [t for t in numbers(ax) if t.get_text() in {"1", "6"}]
    pos = {t.get_text(): t.get_position() for t in texts if tuple(t.get_position()) in
           {tuple(p) for p in sub3[["x", "y"]].to_numpy()}}
    np.testing.assert_allclose(pos["1"], sub3[["x", "y"]].iloc[0])
    np.testing.assert_allclose(pos["6"], sub3[["x", "y"]].iloc[5])
    save_png(ax, tmp_path / "three.png")


def test_legend_names_trials_when_a_subject_has_several():
    df = three_subjects()
    df2 = df[df.subject == 1].assign(trial=1)
    ax = plot_scanpath(pd.concat([df[df.subject == 1], df2]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["subject 1, trial 0", "subject 1, trial 1"]


def test_options(tmp_path):
    df = three_subjects()
    ax = plot_scanpath(df, numbers=False, arrows=False, legend=False, title="", colors=["red", "green", "blue"])
    assert not numbers(ax) and not arrows(ax) and ax.get_legend() is None and ax.get_title() == ""
    assert [tuple(c.get_edgecolor()[0][:3]) for c in circles(ax)] == [(1.0, 0.0, 0.0), (0.0, 0.5019607843137255, 0.0),
                                                                      (0.0, 0.0, 1.0)]
    ax = plot_scanpath(df[df.subject == 2], number_from=0)
    assert sorted(t.get_text() for t in numbers(ax)) == ["0", "1", "2"]
    fig, given_ax = plt.subplots()
    assert plot_scanpath(df, ax=given_ax) is given_ax


def test_drawn_over_the_image(tmp_path):
    img = np.zeros((300, 400, 3), dtype=np.uint8)
    img[:, :200] = (255, 0, 0)
    df = three_subjects()
    ax = plot_scanpath(df, image=img)
    (im,) = [i for i in ax.images if i.get_gid() == IMAGE_ID]
    assert im.get_extent() == [0.0, 400.0, 300.0, 0.0]
    np.testing.assert_array_equal(im.get_array(), img)
    assert im.get_zorder() < min(c.get_zorder() for c in circles(ax))
    assert im.get_zorder() < min(a.get_zorder() for a in arrows(ax))
    assert ax.get_xlim() == (0.0, 400.0) and ax.get_ylim() == (300.0, 0.0)
    path = save_png(ax, tmp_path / "over.png")
    # the left half of the picture is red: the image is really drawn
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    reds = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    assert reds.mean() > 0.1


def test_image_from_file_and_resized_extent(tmp_path):
    img = (np.random.default_rng(0).uniform(0, 1, (60, 80, 3)) * 255).astype(np.uint8)
    path = tmp_path / "stim.png"
    plt.imsave(path, img)
    ax = plot_scanpath(three_subjects(), image=path, size=(400, 300))  # an 80x60 thumbnail of a 400x300 stimulus
    (im,) = [i for i in ax.images if i.get_gid() == IMAGE_ID]
    assert im.get_extent() == [0.0, 400.0, 300.0, 0.0]
    assert im.get_array().shape[:2] == (60, 80)
    with pytest.raises(FileNotFoundError, match="nothere.png"):
        plot_scanpath(three_subjects(), image=tmp_path / "nothere.png")
    gray = plot_scanpath(three_subjects(), image=img[..., 0])
    assert [i for i in gray.images if i.get_gid() == IMAGE_ID][0].get_cmap().name == "gray"


def test_offscreen_fixations_stay_visible():
    xy = np.array([[100.0, 100.0, 200.0], [-50.0, 320.0, 200.0]])
    ax = plot_scanpath(xy, size=(400, 300))
    x0, x1 = ax.get_xlim()
    y1, y0 = ax.get_ylim()
    assert x0 < -50 and x1 == 400 and y1 > 320 and y0 == 0


def test_no_image_frames_the_data_and_inverts_y():
    ax = plot_scanpath(np.array([[10.0, 20.0], [50.0, 90.0]]))
    x0, x1 = ax.get_xlim()
    ybottom, ytop = ax.get_ylim()
    assert x0 < 10 < 50 < x1 and ytop < 20 < 90 < ybottom


def test_guards():
    df = three_subjects()
    with pytest.raises(ValueError, match=r"3 scanpaths exceed max_scanpaths=2"):
        plot_scanpath(df, max_scanpaths=2)
    two_stimuli = pd.concat([df, df.assign(stimulus="other.png")])
    with pytest.raises(ValueError, match="holds 2 stimuli"):
        plot_scanpath(two_stimuli)
    with pytest.raises(ValueError, match=r"scanpath 0 must be an \(n, 2\)"):
        plot_scanpath([np.zeros((3, 4))])
    with pytest.raises(ValueError, match="only 1 colours"):
        plot_scanpath(df, colors=["red"])
    with pytest.raises(Exception, match=r"missing column\(s\) \['y'\]"):
        plot_scanpath(df.drop(columns="y"))


def test_input_table_is_not_modified():
    df = three_subjects()
    before = df.copy(deep=True)
    plot_scanpath(df)
    plot_heatmap(df, 400, 300, sigma_px=10)
    pd.testing.assert_frame_equal(df, before)


# ----------------------------------------------------------------------------- density


def test_density_single_fixation_is_a_normalised_gaussian():
    d = fixation_density(np.array([[50.5, 40.2]]), 100, 80, sigma_px=5.0)
    assert d.shape == (80, 100) and d.dtype == np.float64
    assert d.sum() == pytest.approx(1.0)
    assert np.unravel_index(d.argmax(), d.shape) == (40, 50)  # row = y, column = x
    np.testing.assert_allclose(d[40, 50 - 7], d[40, 50 + 7])  # symmetric
    np.testing.assert_allclose(d[40 - 7, 50], d[40 + 7, 50])
    ref = np.zeros((80, 100))
    ref[40, 50] = 1.0
    ref = gaussian_filter(ref, 5.0, mode="constant")
    np.testing.assert_allclose(d, ref / ref.sum())


def test_density_histogram_weights_and_borders():
    fix = pd.DataFrame({"x": [0.0, 9.99, 10.0, 3.2], "y": [0.0, 4.0, 5.0, 0.5], "duration": [100.0, 100.0, 300.0, 500.0]})
    d = fixation_density(fix, 10, 5, sigma_px=0)
    expected = np.zeros((5, 10))
    expected[0, 0] = expected[4, 9] = expected[0, 3] = 0.25
    expected[4, 9] += 0.25  # x == width, y == height fall in the last pixel
    np.testing.assert_allclose(d, expected)
    w = fixation_density(fix, 10, 5, sigma_px=0, weights="duration")
    assert w[0, 3] / w[0, 0] == pytest.approx(5.0)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(fixation_density(fix, 10, 5, 0, weights=fix["duration"].to_numpy()), w)


def test_density_rejects_bad_input():
    fix = pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0], "duration": [100.0, np.nan]})
    with pytest.raises(ValueError, match=r"1 weight\(s\) are NaN"):
        fixation_density(fix, 10, 10, 1.0, weights="duration")
    with pytest.raises(ValueError, match="weights column 'pupil'"):
        fixation_density(fix, 10, 10, 1.0, weights="pupil")
    with pytest.raises(ValueError, match="NaN or infinite coordinates"):
        fixation_density(fix.assign(x=[np.nan, 1.0]), 10, 10, 1.0)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        fixation_density(fix, 0, 10, 1.0)
    with pytest.raises(ValueError, match="sigma_px"):
        fixation_density(fix, 10, 10, -1.0)


def test_density_offscreen_modes():
    fix = np.array([[5.0, 5.0], [15.0, 5.0]])
    with pytest.raises(ValueError, match=r"1 fixation\(s\) lie off the 10x10 stimulus .*offscreen='ignore'"):
        fixation_density(fix, 10, 10, 0)
    ign = fixation_density(fix, 10, 10, 0, offscreen="ignore")
    assert ign[5, 5] == 1.0
    clip = fixation_density(fix, 10, 10, 0, offscreen="clip")
    assert clip[5, 5] == 0.5 and clip[5, 9] == 0.5
    with pytest.raises(ValueError, match="no fixation weight"):
        fixation_density(fix[1:], 10, 10, 0, offscreen="ignore")


def test_heatmap_overlay(tmp_path):
    img = np.full((300, 400, 3), 128, dtype=np.uint8)
    df = three_subjects()
    ax = plot_heatmap(df, 400, 300, image=img, sigma_deg=1.0, px_per_degree=20.0, alpha=0.7)
    (heat,) = [i for i in ax.images if i.get_gid() == HEATMAP_ID]
    (under,) = [i for i in ax.images if i.get_gid() == IMAGE_ID]
    assert under.get_zorder() < heat.get_zorder()
    assert heat.get_extent() == [0.0, 400.0, 300.0, 0.0]
    rgba = heat.get_array()
    assert rgba.shape == (300, 400, 4)
    assert rgba[..., 3].max() == pytest.approx(0.7)  # alpha at the peak
    dens = fixation_density(df, 400, 300, sigma_px=20.0)
    peak = np.unravel_index(dens.argmax(), dens.shape)
    assert rgba[..., 3][peak] == pytest.approx(0.7)
    assert rgba[..., 3][dens < dens.max() * 1e-6].max() < 0.01  # transparent where nobody looked
    save_png(ax, tmp_path / "heat.png")
    # sigma_px gives the same map as sigma_deg * px_per_degree
    ax2 = plot_heatmap(df, 400, 300, image=img, sigma_px=20.0, alpha=0.7)
    np.testing.assert_allclose([i for i in ax2.images if i.get_gid() == HEATMAP_ID][0].get_array(), rgba)


def test_heatmap_without_image_and_errors(tmp_path):
    df = three_subjects()
    ax = plot_heatmap(df, 400, 300, sigma_px=15, weights="duration", colorbar=True, points=True)
    (heat,) = [i for i in ax.images if i.get_gid() == HEATMAP_ID]
    assert np.all(heat.get_array()[..., 3] == 1.0)  # opaque without an image
    assert len(ax.figure.axes) == 2  # colour bar
    save_png(ax, tmp_path / "heat_plain.png")
    with pytest.raises(ValueError, match="give px_per_degree"):
        plot_heatmap(df, 400, 300)
    with pytest.raises(ValueError, match="holds 2 stimuli but one image"):
        plot_heatmap(pd.concat([df, df.assign(stimulus="b")]), 400, 300, image=np.zeros((300, 400)), sigma_px=5)


# ----------------------------------------------------------------------------- real data


def _osie_fixations(root: Path) -> pd.DataFrame:
    from gazemodels.datasets import list_datasets, load

    if "osie" in list_datasets():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the partial download is reported; not this test's subject
            return load("osie", root=root).fixations
    from scipy.io import loadmat

    entries = loadmat(root / "eye" / "fixations.mat", squeeze_me=True, struct_as_record=False)["fixations"]
    rows = []
    for e in entries[:5]:
        for s, subj in enumerate(e.subjects, start=1):
            xs, ys, ds = (np.atleast_1d(v) for v in (subj.fix_x, subj.fix_y, subj.fix_duration))
            rows += [(e.img, s, 0, k, float(xs[k]), float(ys[k]), np.nan, float(ds[k])) for k in range(len(xs))]
    return pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start", "duration"])


@pytest.mark.realdata
def test_osie_scanpath_and_heatmap(shared_data, tmp_path):
    root = dataset_dir(shared_data, "osie")
    image = root / "stimuli" / "1001.jpg"
    if not image.is_file():
        pytest.skip(f"{image} is absent")
    fix = _osie_fixations(root)
    one = fix[fix["stimulus"] == "1001.jpg"]
    assert one["subject"].nunique() == 15
    out = Path(os.environ.get("GAZEMODELS_PLOT_DIR", tmp_path))
    subjects = sorted(one["subject"].unique())[:3]
    sel = one[one["subject"].isin(subjects)]
    ax = plot_scanpath(sel, image=image)
    assert len(numbers(ax)) == len(sel)
    assert len(arrows(ax)) == len(sel) - len(subjects)
    assert len(circles(ax)) == 3
    (im,) = [i for i in ax.images if i.get_gid() == IMAGE_ID]
    assert im.get_array().shape == (600, 800, 3) and im.get_extent() == [0.0, 800.0, 600.0, 0.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"subject {s}" for s in subjects]
    save_png(ax, out / "osie_scanpath.png", dpi=100)
    with pytest.raises(ValueError, match="max_scanpaths"):
        plot_scanpath(one, image=image)  # all 15 subjects: refused, not silently cut
    # OSIE: 24 px per degree; all fixations of all 15 subjects, duration weighted
    ax = plot_heatmap(one, 800, 600, image=image, sigma_deg=1.0, px_per_degree=24.0, weights="duration",
                      offscreen="clip", colorbar=True)
    save_png(ax, out / "osie_heatmap.png", dpi=100)
    dens = fixation_density(one, 800, 600, sigma_px=24.0, offscreen="clip")
    assert dens.sum() == pytest.approx(1.0)
    # people look at the objects on the plate and the phone, not at the empty top-left corner
    assert dens[:100, :100].sum() < 0.01

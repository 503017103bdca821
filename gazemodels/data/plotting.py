"""Scanpath plots and fixation heat maps, drawn with matplotlib.

Everything works with the non-interactive ``Agg`` backend (no display needed).
The functions draw into the Axes they are given, or into a new figure, and
return the Axes; saving (``ax.figure.savefig(...)``) is the caller's.

Coordinates are stimulus pixels with the origin at the top-left, as in the
fixation table: an image is drawn with extent ``(0, width, height, 0)``, so the
pixel ``(i, j)`` covers ``i <= x < i + 1`` and ``j <= y < j + 1``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gazemodels.data.schema import SCANPATH_KEYS
from gazemodels.errors import FixationTableError

SIZE_PER_MS: float = 1.5
"""Default circle area in points² per ms of fixation duration (a 250 ms fixation
is a circle of 375 pt², about 22 pt across)."""

NAN_DURATION_SIZE: float = 200.0
"""Default circle area (points²) of a fixation whose duration is NaN or unknown;
such circles are also drawn with a dashed edge."""

NUMBER_ID = "scanpath-number"
ARROW_ID = "scanpath-arrow"
FIXATIONS_ID = "scanpath-fixations"
HEATMAP_ID = "fixation-heatmap"
IMAGE_ID = "stimulus-image"


# --------------------------------------------------------------------------- images


def _load_image(image) -> np.ndarray:
    """An image given as an array or a file path, as an array (H, W[, C])."""
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"stimulus image {path} does not exist")
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB", "RGBA") else im)
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"image must be an (H, W), (H, W, 3) or (H, W, 4) array, got shape {arr.shape}")
    return arr


def _draw_image(ax, img: np.ndarray, width: float, height: float) -> None:
    kwargs = {"cmap": "gray"} if img.ndim == 2 else {}
    im = ax.imshow(img, extent=(0, width, height, 0), origin="upper", zorder=0,
                   interpolation="antialiased", **kwargs)
    im.set_gid(IMAGE_ID)


def _new_axes(width: float, height: float, extra_w: float = 0.0):
    import matplotlib.pyplot as plt

    aspect = height / width if width > 0 and height > 0 else 0.75
    base = 8.0
    fig, ax = plt.subplots(figsize=(base + extra_w, max(2.5, base * aspect) + 0.6), layout="constrained")
    return fig, ax


def _size_of(image, size, what: str) -> tuple[np.ndarray | None, float | None, float | None]:
    img = _load_image(image) if image is not None else None
    if size is not None:
        try:
            w, h = (float(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: size must be (width, height) in stimulus px, got {size!r}") from None
        if not (np.isfinite(w) and np.isfinite(h) and w > 0 and h > 0):
            raise ValueError(f"{what}: size must be positive, got {size!r}")
        return img, w, h
    if img is not None:
        return img, float(img.shape[1]), float(img.shape[0])
    return None, None, None


# --------------------------------------------------------------------------- scanpaths


def _scanpath_list(scanpaths, by: Sequence[str], label_by: str):
    """Normalise the input to a list of (label, xy (n, 2), duration (n,)) and a stimulus name."""
    if isinstance(scanpaths, pd.DataFrame):
        df = scanpaths
        need = [c for c in ("x", "y") if c not in df.columns]
        if need:
            raise FixationTableError(f"plot_scanpath: fixation table is missing column(s) {need}")
        stimulus = None
        if "stimulus" in df.columns:
            stims = pd.unique(df["stimulus"])
            if len(stims) > 1:
                raise ValueError(
                    f"plot_scanpath: the table holds {len(stims)} stimuli ({list(stims[:5])}...); "
                    "scanpaths of different stimuli cannot share one plot: select one, e.g. "
                    "fixations[fixations['stimulus'] == name]"
                )
            stimulus = stims[0] if len(stims) else None
        keys = [c for c in by if c in df.columns]
        groups = list(df.groupby(keys, sort=True, dropna=False, observed=True)) if keys else [((), df)]
        varying = [c for c in keys if df[c].nunique(dropna=False) > 1]
        name_cols = ([label_by] if label_by in df.columns else []) + [c for c in varying if c != label_by]
        out = []
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            if "fix_index" in g.columns:
                g = g.sort_values("fix_index", kind="stable")
            kd = dict(zip(keys, key))
            for c in name_cols:
                kd.setdefault(c, g[c].iloc[0])
            label = ", ".join(f"{c} {_plain(kd[c])}" for c in name_cols) or "scanpath"
            dur = g["duration"].to_numpy(dtype=float) if "duration" in g.columns else np.full(len(g), np.nan)
            out.append((label, g[["x", "y"]].to_numpy(dtype=float), dur))
        return out, stimulus
    if isinstance(scanpaths, np.ndarray) and scanpaths.ndim == 2:
        scanpaths = [scanpaths]
    out = []
    for i, a in enumerate(scanpaths):
        a = np.asarray(a, dtype=float)
        if a.ndim != 2 or a.shape[1] not in (2, 3):
            raise ValueError(
                f"plot_scanpath: scanpath {i} must be an (n, 2) array of x, y or (n, 3) of x, y, "
                f"duration; got shape {a.shape}"
            )
        dur = a[:, 2] if a.shape[1] == 3 else np.full(len(a), np.nan)
        out.append((f"scanpath {i + 1}", a[:, :2], dur))
    return out, None


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return v


def plot_scanpath(
    scanpaths,
    image=None,
    ax=None,
    *,
    size: tuple[float, float] | None = None,
    by: Sequence[str] = SCANPATH_KEYS,
    label_by: str = "subject",
    max_scanpaths: int = 8,
    colors: Sequence | None = None,
    numbers: bool = True,
    number_from: int = 1,
    arrows: bool = True,
    size_per_ms: float = SIZE_PER_MS,
    nan_duration_size: float = NAN_DURATION_SIZE,
    fontsize: float | None = None,
    alpha: float = 0.45,
    legend: bool | None = None,
    title: str | None = None,
):
    """Draw one or several scanpaths, optionally over the stimulus image.

    Each fixation is a circle whose **area** is proportional to its duration,
    numbered in order; an arrow joins consecutive fixations (one per saccade).
    Several scanpaths get distinct colours and a legend by subject.

    Parameters
    ----------
    scanpaths : pandas.DataFrame or array_like or list of array_like
        A fixation table of **one** stimulus (columns ``x``, ``y`` and, where
        present, ``duration``, ``fix_index`` and the scanpath keys), or an
        ``(n, 2)`` array of ``x, y`` / ``(n, 3)`` of ``x, y, duration``, or a list
        of such arrays.
    image : array_like or str or os.PathLike, optional
        The stimulus, as an image array or a file path, drawn under the scanpaths
        with extent ``(0, width, height, 0)`` in stimulus pixels (origin top-left).
    ax : matplotlib.axes.Axes, optional
        Where to draw. By default a new figure sized to the stimulus.
    size : (float, float), optional
        ``(width, height)`` of the stimulus in pixels. Defaults to the image size;
        give it when the image file is a resized copy of the stimulus (it is then
        stretched to this extent), or to frame a plot without an image.
    by : sequence of str, default ``("stimulus", "subject", "trial")``
        Columns that identify a scanpath in a table.
    label_by : str, default ``"subject"``
        Column named first in each legend entry (others are added only where
        needed to tell scanpaths apart, e.g. ``trial``).
    max_scanpaths : int, default 8
        Guard against unreadable plots: more scanpaths than this raise an error
        (nothing is left out silently); select fewer or raise the limit.
    colors : sequence of colours, optional
        One colour per scanpath; default the ``tab10`` palette.
    numbers : bool, default True
        Write the fixation number at the centre of each circle.
    number_from : int, default 1
        Number of the first fixation of each scanpath.
    arrows : bool, default True
        Draw saccade arrows between consecutive fixations.
    size_per_ms : float, default :data:`SIZE_PER_MS`
        Circle area in points² per ms of duration.
    nan_duration_size : float, default :data:`NAN_DURATION_SIZE`
        Circle area (points²) of a fixation whose duration is NaN or absent; such
        circles have a dashed edge.
    fontsize : float, optional
        Size of the fixation numbers; default 9 (8 with more than 3 scanpaths).
    alpha : float, default 0.45
        Opacity of the circle faces (edges, arrows and numbers are opaque).
    legend : bool, optional
        Draw a legend; by default only when there are several scanpaths.
    title : str, optional
        Axes title; by default the stimulus name when the table has one. ``""``
        for none.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into. The circles of scanpath ``i`` are one
        ``PathCollection`` with gid ``"scanpath-fixations"``; arrows are
        ``FancyArrowPatch`` patches with gid ``"scanpath-arrow"``; numbers are
        texts with gid ``"scanpath-number"``; the image has gid ``"stimulus-image"``.

    Raises
    ------
    ValueError
        If the table holds several stimuli, there are more than ``max_scanpaths``
        scanpaths, or an array has the wrong shape.
    FixationTableError
        If ``x`` or ``y`` is missing.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = plot_scanpath(np.array([[100, 100, 250], [300, 200, 180], [200, 400, 300]]), size=(800, 600))
    >>> len(ax.texts), len(ax.patches)
    (3, 2)
    """
    from matplotlib import colormaps
    from matplotlib import patheffects as pe
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    paths, stimulus = _scanpath_list(scanpaths, by, label_by)
    paths = [p for p in paths if len(p[1])]
    if len(paths) > max_scanpaths:
        raise ValueError(
            f"plot_scanpath: {len(paths)} scanpaths exceed max_scanpaths={max_scanpaths}; "
            "a plot with that many is unreadable. Select fewer scanpaths (e.g. some subjects) "
            "or pass a larger max_scanpaths."
        )
    if size_per_ms < 0 or nan_duration_size <= 0:
        raise ValueError("size_per_ms must be >= 0 and nan_duration_size > 0")
    img, width, height = _size_of(image, size, "plot_scanpath")
    if legend is None:
        legend = len(paths) > 1
    # Frame: the stimulus, widened to show every fixation (none is hidden).
    allxy = np.concatenate([p[1] for p in paths]) if paths else np.empty((0, 2))
    finite = allxy[np.isfinite(allxy).all(axis=1)]
    if width is not None:
        x0, x1, y0, y1 = 0.0, width, 0.0, height
        if len(finite):
            lo, hi = finite.min(axis=0), finite.max(axis=0)
            edge = 0.02 * max(width, height)
            x0 = min(x0, lo[0] - edge) if lo[0] < x0 else x0
            y0 = min(y0, lo[1] - edge) if lo[1] < y0 else y0
            x1 = max(x1, hi[0] + edge) if hi[0] > x1 else x1
            y1 = max(y1, hi[1] + edge) if hi[1] > y1 else y1
    elif len(finite):
        lo, hi = finite.min(axis=0), finite.max(axis=0)
        pad = 0.08 * max(float((hi - lo).max()), 1.0)
        (x0, y0), (x1, y1) = lo - pad, hi + pad
    else:
        x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    if ax is None:
        _, ax = _new_axes(x1 - x0, y1 - y0, 1.8 if legend else 0.0)
    if img is not None:
        _draw_image(ax, img, width, height)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # origin top-left: y grows downwards
    ax.set_aspect("equal")
    if img is not None:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")

    if colors is None:
        palette = colormaps["tab10"].colors
        colors = [palette[i % len(palette)] for i in range(len(paths))]
    elif len(colors) < len(paths):
        raise ValueError(f"plot_scanpath: {len(paths)} scanpaths but only {len(colors)} colours")
    if fontsize is None:
        fontsize = 9 if len(paths) <= 3 else 8

    # Positions in points, to stop arrows at the circle edges.
    ax.apply_aspect()
    fig = ax.figure
    to_pt = 72.0 / fig.dpi
    handles = []
    for i, (label, xy, dur) in enumerate(paths):
        color = colors[i]
        known = np.isfinite(dur)
        sizes = np.where(known, size_per_ms * np.where(known, dur, 0.0), nan_duration_size)
        sizes = np.maximum(sizes, 1.0)
        styles = ["solid" if k else (0, (2, 2)) for k in known]
        coll = ax.scatter(
            xy[:, 0], xy[:, 1], s=sizes, facecolors=[(*_rgb(color), alpha)], edgecolors=[color],
            linewidths=1.6, linestyles=styles, zorder=3 + 0.01 * i,
        )
        coll.set_gid(FIXATIONS_ID)
        coll.set_label(label)
        radius = np.sqrt(sizes) / 2.0 + 1.0  # points; marker size s is the diameter squared
        disp = ax.transData.transform(np.where(np.isfinite(xy), xy, 0.0)) * to_pt
        if arrows:
            for j in range(len(xy) - 1):
                if not (np.isfinite(xy[j]).all() and np.isfinite(xy[j + 1]).all()):
                    continue
                gap = float(np.hypot(*(disp[j + 1] - disp[j])))
                sa, sb = radius[j], radius[j + 1] + 1.0
                if sa + sb > 0.7 * gap:  # overlapping circles: keep a visible stub of arrow
                    f = 0.7 * gap / (sa + sb) if sa + sb > 0 else 0.0
                    sa, sb = sa * f, sb * f
                arrow = FancyArrowPatch(
                    tuple(xy[j]), tuple(xy[j + 1]), arrowstyle="-|>", mutation_scale=13,
                    color=color, linewidth=1.7, shrinkA=sa, shrinkB=sb, zorder=2.5 + 0.01 * i,
                    path_effects=[pe.Stroke(linewidth=3.2, foreground="white", alpha=0.55), pe.Normal()],
                )
                arrow.set_gid(ARROW_ID)
                ax.add_patch(arrow)
        if numbers:
            for j, (x, y) in enumerate(xy):
                if not (np.isfinite(x) and np.isfinite(y)):
                    continue
                t = ax.text(
                    x, y, str(number_from + j), ha="center", va="center", fontsize=fontsize,
                    fontweight="bold", color="white", zorder=4 + 0.01 * i, clip_on=True,
                    path_effects=[pe.withStroke(linewidth=2.2, foreground=_darker(color))],
                )
                t.set_gid(NUMBER_ID)
        handles.append(Line2D([], [], color=color, marker="o", markersize=7, linewidth=1.6,
                              markerfacecolor=(*_rgb(color), 0.6), label=label))
    if legend and handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9,
                  frameon=False, borderaxespad=0.0)
    if title is None:
        title = str(stimulus) if stimulus is not None else ""
    if title:
        ax.set_title(title)
    return ax


def _rgb(color) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def _darker(color, factor: float = 0.45) -> tuple[float, float, float]:
    r, g, b = _rgb(color)
    return (r * factor, g * factor, b * factor)


# --------------------------------------------------------------------------- heat maps


def fixation_density(
    fixations,
    width: int,
    height: int,
    sigma_px: float,
    weights=None,
    *,
    offscreen: str = "raise",
) -> np.ndarray:
    """Gaussian-smoothed fixation density map, normalised to sum 1.

    Parameters
    ----------
    fixations : pandas.DataFrame or array_like
        A fixation table (``x``, ``y`` in stimulus px, origin top-left) or an
        ``(n, 2)`` array of ``x, y``.
    width, height : int
        Size of the map, the stimulus size in pixels.
    sigma_px : float
        Standard deviation of the Gaussian in pixels (``>= 0``; 0 for no smoothing).
        For a sigma in degrees multiply by the stimulus's ``px_per_degree``.
    weights : None or str or array_like, optional
        Per-fixation weights: ``None`` for counts, a column name of the table (for
        example ``"duration"``) or an array of length ``n``. They must be finite and
        ``>= 0``.
    offscreen : {"raise", "ignore", "clip"}, default ``"raise"``
        Fixations outside ``0 <= x <= width``, ``0 <= y <= height``: raise an error,
        leave them out of the map, or move them to the nearest border pixel.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` float64 map that sums to 1; row ``j``, column ``i`` is
        the pixel ``i <= x < i + 1``, ``j <= y < j + 1`` (``x == width`` falls in the
        last column).

    Raises
    ------
    ValueError
        On NaN coordinates, bad weights, off-stimulus fixations (with
        ``offscreen="raise"``), or when no weight is left on the map.

    Notes
    -----
    Fixations are binned to pixels, then smoothed with
    :func:`scipy.ndimage.gaussian_filter` (``mode="constant"``, truncated at 4
    sigma): density that the blur carries past the border is lost, and the map
    is renormalised to sum 1 over the stimulus.

    Examples
    --------
    >>> d = fixation_density(np.array([[10.0, 5.0]]), 20, 10, sigma_px=0)
    >>> d.shape, float(d.sum()), float(d[5, 10])
    ((10, 20), 1.0, 1.0)
    """
    from scipy.ndimage import gaussian_filter

    W, H = _positive_int(width, "width"), _positive_int(height, "height")
    sigma = float(sigma_px)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma_px must be a finite number >= 0, got {sigma_px!r}")
    if offscreen not in ("raise", "ignore", "clip"):
        raise ValueError(f"offscreen must be 'raise', 'ignore' or 'clip', got {offscreen!r}")
    if isinstance(fixations, pd.DataFrame):
        need = [c for c in ("x", "y") if c not in fixations.columns]
        if need:
            raise FixationTableError(f"fixation_density: fixation table is missing column(s) {need}")
        xy = fixations[["x", "y"]].to_numpy(dtype=float)
    else:
        xy = np.asarray(fixations, dtype=float)
        if xy.ndim != 2 or xy.shape[1] < 2:
            raise ValueError(f"fixation_density: expected an (n, 2) array of x, y, got shape {xy.shape}")
        xy = xy[:, :2]
    if weights is None:
        w = np.ones(len(xy))
    elif isinstance(weights, str):
        if not isinstance(fixations, pd.DataFrame) or weights not in fixations.columns:
            raise ValueError(f"fixation_density: weights column {weights!r} is not in the table")
        w = fixations[weights].to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if len(w) != len(xy):
            raise ValueError(f"fixation_density: {len(w)} weights for {len(xy)} fixations")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise ValueError(
            f"fixation_density: {int(bad.sum())} fixation(s) have NaN or infinite coordinates "
            f"(first at position {int(np.flatnonzero(bad)[0])}); validate the table first"
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(
            f"fixation_density: {int(bad.sum())} weight(s) are NaN, infinite or negative "
            f"(first at position {int(np.flatnonzero(bad)[0])}); e.g. NaN durations cannot weight a map"
        )
    x, y = xy[:, 0], xy[:, 1]
    off = (x < 0) | (y < 0) | (x > W) | (y > H)
    if off.any():
        if offscreen == "raise":
            raise ValueError(
                f"fixation_density: {int(off.sum())} fixation(s) lie off the {W}x{H} stimulus "
                f"(first at position {int(np.flatnonzero(off)[0])}: x={x[off][0]}, y={y[off][0]}); "
                "pass offscreen='ignore' to leave them out or 'clip' to move them to the border"
            )
        if offscreen == "ignore":
            x, y, w = x[~off], y[~off], w[~off]
    col = np.clip(np.floor(x), 0, W - 1).astype(np.int64)
    row = np.clip(np.floor(y), 0, H - 1).astype(np.int64)
    counts = np.bincount(row * W + col, weights=w, minlength=W * H).reshape(H, W)
    dens = gaussian_filter(counts, sigma, mode="constant", truncate=4.0) if sigma > 0 else counts
    total = float(dens.sum())
    if not total > 0:
        raise ValueError("fixation_density: no fixation weight on the stimulus; the map would be empty")
    return dens / total


def _positive_int(v, name: str) -> int:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive integer, got {v!r}") from None
    if not np.isfinite(f) or f < 1 or f != round(f):
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(f)


def plot_heatmap(
    fixations,
    width: int,
    height: int,
    image=None,
    sigma_deg: float = 1.0,
    px_per_degree: float | None = None,
    ax=None,
    *,
    sigma_px: float | None = None,
    weights=None,
    offscreen: str = "raise",
    cmap: str = "jet",
    alpha: float = 0.65,
    colorbar: bool = False,
    points: bool = False,
    title: str | None = None,
):
    """Draw a Gaussian fixation heat map, alpha-overlaid on the stimulus image.

    Parameters
    ----------
    fixations : pandas.DataFrame or array_like
        Fixations of one stimulus (``x``, ``y`` in px) or an ``(n, 2)`` array.
        Pooling several stimuli (e.g. to show a centre bias) is allowed without
        an image.
    width, height : int
        Stimulus size in pixels; the map has this size.
    image : array_like or str or os.PathLike, optional
        The stimulus, drawn under the map with extent ``(0, width, height, 0)``.
    sigma_deg : float, default 1.0
        Standard deviation of the Gaussian in degrees of visual angle.
    px_per_degree : float
        Pixels per degree of the stimulus; required unless ``sigma_px`` is given.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    sigma_px : float, optional
        Standard deviation in pixels; overrides ``sigma_deg`` and ``px_per_degree``.
    weights : None or str or array_like, optional
        Per-fixation weights, e.g. ``"duration"`` for a duration-weighted map; see
        :func:`fixation_density`.
    offscreen : {"raise", "ignore", "clip"}, default ``"raise"``
        Treatment of fixations off the stimulus; see :func:`fixation_density`.
    cmap : str, default ``"jet"``
        Colour map of the density.
    alpha : float, default 0.65
        Opacity of the densest point of the map over an image; the opacity of the
        map grows with the density (as its square root), so the image shows
        through where few fixations fell. Without an image the map is opaque.
    colorbar : bool, default False
        Add a colour bar (density relative to its maximum).
    points : bool, default False
        Also mark the fixations with small dots.
    title : str, optional
        Axes title; by default the stimulus name when the table has one.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; the map is the image artist with gid ``"fixation-heatmap"`` whose
        array is the RGBA overlay. Use :func:`fixation_density` for the numbers.

    Raises
    ------
    ValueError
        If neither ``px_per_degree`` nor ``sigma_px`` is given, an image is given
        for a table of several stimuli, or :func:`fixation_density` rejects the input.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    if sigma_px is None:
        if px_per_degree is None:
            raise ValueError(
                "plot_heatmap: give px_per_degree (pixels per degree of the stimulus) "
                "or sigma_px to set the width of the Gaussian"
            )
        ppd = float(px_per_degree)
        if not np.isfinite(ppd) or ppd <= 0:
            raise ValueError(f"plot_heatmap: px_per_degree must be positive, got {px_per_degree!r}")
        sigma_px = float(sigma_deg) * ppd
    stimulus = None
    if isinstance(fixations, pd.DataFrame) and "stimulus" in fixations.columns:
        stims = pd.unique(fixations["stimulus"])
        if len(stims) > 1 and image is not None:
            raise ValueError(
                f"plot_heatmap: the table holds {len(stims)} stimuli but one image was given; "
                "select the fixations of that stimulus"
            )
        stimulus = stims[0] if len(stims) == 1 else None
    dens = fixation_density(fixations, width, height, sigma_px, weights, offscreen=offscreen)
    W, H = dens.shape[1], dens.shape[0]
    img = _load_image(image) if image is not None else None
    if ax is None:
        _, ax = _new_axes(W, H, 1.0 if colorbar else 0.0)
    rel = dens / dens.max()
    cm = colormaps[cmap]
    rgba = cm(rel)
    if img is not None:
        _draw_image(ax, img, W, H)
        rgba[..., 3] = float(alpha) * np.sqrt(rel)
    overlay = ax.imshow(rgba, extent=(0, W, H, 0), origin="upper", zorder=1, interpolation="bilinear")
    overlay.set_gid(HEATMAP_ID)
    if points:
        if isinstance(fixations, pd.DataFrame):
            xy = fixations[["x", "y"]].to_numpy(dtype=float)
        else:
            xy = np.asarray(fixations, dtype=float)[:, :2]
        ax.scatter(xy[:, 0], xy[:, 1], s=6, c="white", edgecolors="black", linewidths=0.4, zorder=2)
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        ax.figure.colorbar(ScalarMappable(Normalize(0, 1), cm), ax=ax, shrink=0.8,
                           label="fixation density (relative to max)")
    if title is None:
        title = str(stimulus) if stimulus is not None else ""
    if title:
        ax.set_title(title)
    return ax

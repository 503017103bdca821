"""MultiMatch scanpath similarity (Jarodzka et al. 2010; Dewhurst et al. 2012).

A scanpath of ``n`` fixations is turned into ``n - 1`` saccade vectors. Every saccade
of scanpath 1 is compared with every saccade of scanpath 2 by the length of their
vector difference; the saccades are aligned by the cheapest monotone path through
that matrix (from the first pair to the last, moving right, down or diagonally),
and five differences are taken along the aligned pairs:

==========  ===============================================================  ===================
dimension   difference of an aligned saccade pair                            normalised by
==========  ===============================================================  ===================
vector      length of the difference of the two saccade vectors (px)        2 x screen diagonal
direction   angle between the two saccades (rad, in [0, pi])                 pi
length      difference of the saccade amplitudes (px)                       screen diagonal
position    distance between the saccades' starting fixations (px)          screen diagonal
duration    |d1 - d2| / max(d1, d2) of the starting fixations' durations      1
==========  ===============================================================  ===================

Each similarity is ``1 - median(differences) / normaliser``; 1 means identical.

This implementation reproduces ``multimatch_gaze`` 0.1.3 (Wagner et al. 2019, the
Python port of the MATLAB toolbox of Dewhurst et al. 2012) to floating-point
precision, including its choice among equally cheap alignment paths and the
quirks of its simplification ("grouping") step, listed in :func:`multimatch`. It
computes many pairs at once: the alignment is a shortest path in a grid DAG,
solved here as a dynamic programme over anti-diagonals across a batch of padded
pairs, which visits the same nodes with the same floating-point additions as the
reference's Dijkstra. Where two predecessors on the chosen path tie exactly, the
reference's pick depends on the order in which scipy's Fibonacci heap pops equal
keys; those (rare) pairs are recomputed with the same scipy Dijkstra call on the
same graph, so ties are resolved identically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from gazemodels.metrics.scanpath._common import (
    as_scanpath,
    check_pairs,
    chunk_by_size,
    gather_padded,
    handle_undefined,
    median_rows,
    wavefront,
)
from gazemodels.metrics.scanpath.registry import register_metric

__all__ = [
    "MULTIMATCH_DIMENSIONS",
    "MultiMatchResult",
    "multimatch",
    "multimatch_batch",
    "simplify_scanpath",
]

MULTIMATCH_DIMENSIONS: tuple[str, ...] = ("vector", "direction", "length", "position", "duration")
"""Names of the five MultiMatch dimensions, in output order."""

_MIN_FIXATIONS = 3  # two saccades; multimatch_gaze returns NaN below this


class MultiMatchResult(NamedTuple):
    """The five MultiMatch similarities of one pair, each in [0, 1] (1 = identical)."""

    vector: float
    direction: float
    length: float
    position: float
    duration: float


class _Saccades(NamedTuple):
    """Vector representation of many scanpaths, concatenated.

    ``off[s]``/``n[s]`` index the saccades of scanpath ``s`` in the flat arrays.
    ``dur`` holds, per saccade, the duration the reference pairs with it (the
    starting fixation's duration; after grouping, entry ``i`` of the simplified
    duration list).
    """

    lenx: np.ndarray
    leny: np.ndarray
    x: np.ndarray
    y: np.ndarray
    theta: np.ndarray  # saccade direction in [0, 2 pi)
    rho: np.ndarray
    dur: np.ndarray
    off: np.ndarray
    n: np.ndarray


# ---------------------------------------------------------------------------
# Scanpath simplification (grouping), a faithful port of multimatch_gaze 0.1.3
# ---------------------------------------------------------------------------

_SAC_KEYS = ("lenx", "leny", "x", "y", "theta", "rho")


def _cart2pol(x, y):
    """Amplitude and direction (rad, in (-pi, pi]) of a saccade vector."""
    return np.sqrt(x**2 + y**2), np.arctan2(y, x)


def _angle_deg(v1, v2) -> float:
    """Angle between two saccade vectors in degrees, as multimatch_gaze computes it.

    The cosine is clipped to [-1, 1]: where rounding puts it just outside,
    multimatch_gaze raises ``ValueError: math domain error``; here the angle is 0 or
    180 degrees. A zero-length vector gives NaN (never grouped), as in the reference.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2))
    if np.isnan(c):
        return math.nan
    return math.degrees(math.acos(min(1.0, max(-1.0, float(c)))))


def _empty_path() -> dict:
    return {"fix": {"dur": []}, "sac": {k: [] for k in _SAC_KEYS}}


def _keep(i: int, j: int, sim: dict, path: dict) -> tuple[int, int]:
    for k in _SAC_KEYS:
        sim["sac"][k].insert(j, path["sac"][k][i])
    sim["fix"]["dur"].insert(j, path["fix"]["dur"][i])
    return i + 1, j + 1


def _merge(i: int, j: int, sim: dict, sac: dict, dur) -> None:
    """Insert the sum of saccades i and i+1 at position j (Jarodzka et al. 2010, sec. 3.1)."""
    v_x = sac["lenx"][i] + sac["lenx"][i + 1]
    v_y = sac["leny"][i] + sac["leny"][i + 1]
    rho, theta = _cart2pol(v_x, v_y)
    for k, v in (("lenx", v_x), ("leny", v_y), ("x", sac["x"][i]), ("y", sac["y"][i]),
                 ("theta", theta), ("rho", rho)):
        sim["sac"][k].insert(j, v)
    sim["fix"]["dur"].insert(j, dur[i])


def _simdir(path: dict, t_dir: float, t_dur: float) -> dict:
    """One pass of direction-based grouping (multimatch_gaze ``simdir``)."""
    sac, dur = path["sac"], path["fix"]["dur"]
    n = len(sac["x"])
    if n < 1:
        return path
    i = j = 0
    sim = _empty_path()
    while i <= n - 1:
        if i < n - 1:
            angle = _angle_deg([sac["lenx"][i], sac["leny"][i]], [sac["lenx"][i + 1], sac["leny"][i + 1]])
        else:
            angle = math.inf
        if angle < t_dir and i < n - 1 and dur[i + 1] < t_dur:
            _merge(i, j, sim, sac, dur)
            i += 2
            j += 1
        else:
            i, j = _keep(i, j, sim, path)
    sim["fix"]["dur"].append(dur[-1])
    return sim


def _simlen(path: dict, t_amp: float, t_dur: float) -> dict:
    """One pass of amplitude-based grouping (multimatch_gaze ``simlen``)."""
    sac, dur = path["sac"], path["fix"]["dur"]
    n = len(sac["x"])
    if n < 1:
        return path
    i = j = 0
    sim = _empty_path()
    while i <= n - 1:
        if i == n - 1:
            # last saccade: merged into the previous output saccade, replacing it by
            # the sum of the last two *input* saccades (as the reference does)
            if sac["rho"][i] < t_amp and (dur[-1] < t_dur or dur[-2] < t_dur) and j >= 1 and n >= 2:
                v_x = sac["lenx"][-2] + sac["lenx"][-1]
                v_y = sac["leny"][-2] + sac["leny"][-1]
                rho, theta = _cart2pol(v_x, v_y)
                sim["sac"]["lenx"][j - 1] = v_x
                sim["sac"]["leny"][j - 1] = v_y
                sim["sac"]["theta"][j - 1] = theta
                sim["sac"]["rho"][j - 1] = rho
                sim["fix"]["dur"].insert(j, dur[i - 1])
                j -= 1
                i += 1
            else:
                i, j = _keep(i, j, sim, path)
        elif sac["rho"][i] < t_amp and (dur[i + 1] < t_dur or dur[i] < t_dur):
            _merge(i, j, sim, sac, dur)
            i += 2
            j += 1
        else:
            i, j = _keep(i, j, sim, path)
    sim["fix"]["dur"].append(dur[-1])
    return sim


def _vector_path(fix: np.ndarray) -> dict:
    """The reference's vector representation of one ``(n, 3)`` scanpath."""
    x, y, d = fix[:, 0], fix[:, 1], fix[:, 2]
    lenx, leny = np.diff(x), np.diff(y)
    rho, theta = _cart2pol(lenx, leny)
    return {
        "fix": {"dur": d},
        "sac": {"lenx": lenx, "leny": leny, "x": x[:-1], "y": y[:-1], "theta": theta, "rho": rho},
    }


def simplify_scanpath(
    scanpath,
    amplitude_threshold: float,
    direction_threshold: float,
    duration_threshold: float,
) -> dict:
    """Group consecutive small or collinear saccades (MultiMatch simplification).

    Repeats two passes until the scanpath stops changing (Jarodzka et al. 2010,
    sec. 3.1; Dewhurst et al. 2012): a **direction** pass merges saccades ``i`` and
    ``i + 1`` when the angle between them is below ``direction_threshold`` and the
    fixation between them is shorter than ``duration_threshold``; an **amplitude**
    pass merges them when saccade ``i`` is shorter than ``amplitude_threshold`` and
    either fixation around it is shorter than ``duration_threshold``. A merged
    saccade is the vector sum and starts where the first one started.

    Parameters
    ----------
    scanpath : array_like or pandas.DataFrame
        ``(n, 3)`` fixations ``[x (px), y (px), duration]``.
    amplitude_threshold : float
        Saccade amplitude threshold in px.
    direction_threshold : float
        Angle threshold in degrees.
    duration_threshold : float
        Fixation duration threshold, in the unit of the durations (ms for a
        fixation table).

    Returns
    -------
    dict
        ``{"sac": {"lenx", "leny", "x", "y", "theta", "rho"}, "fix": {"dur"}}`` lists,
        the layout of multimatch_gaze.
    """
    fix = as_scanpath(scanpath, name="scanpath")
    return _simplify(fix, amplitude_threshold, direction_threshold, duration_threshold)


def _simplify(fix: np.ndarray, t_amp: float, t_dir: float, t_dur: float) -> dict:
    path = _vector_path(fix)
    prev = len(path["fix"]["dur"])
    while True:
        path = _simdir(path, t_dir, t_dur)
        path = _simlen(path, t_amp, t_dur)
        length = len(path["fix"]["dur"])
        if length == prev:
            return path
        prev = length


# ---------------------------------------------------------------------------
# Batch machinery
# ---------------------------------------------------------------------------


def _wrap_theta(theta: np.ndarray) -> np.ndarray:
    """Direction in [0, 2 pi), with the reference's arithmetic: pi + (pi + t) for t < 0."""
    return np.where(theta < 0, math.pi + (math.pi + theta), theta)


def _prepare(fixations: Sequence[np.ndarray], grouping: bool, t_amp: float, t_dir: float,
             t_dur: float) -> _Saccades:
    """Vector representation of every scanpath, concatenated."""
    nfix = np.array([len(f) for f in fixations], dtype=np.int64)
    if not grouping:
        nsac = np.maximum(nfix - 1, 0)
        sac_off = np.concatenate([[0], np.cumsum(nsac)[:-1]]).astype(np.int64) if len(nsac) else nsac
        fix_off = np.concatenate([[0], np.cumsum(nfix)[:-1]]).astype(np.int64) if len(nfix) else nfix
        allfix = np.concatenate(fixations) if len(fixations) else np.empty((0, 3))
        total = int(nsac.sum())
        start = np.repeat(fix_off - sac_off, nsac) + np.arange(total, dtype=np.int64)
        x, y, d = allfix[:, 0], allfix[:, 1], allfix[:, 2]
        lenx = x[start + 1] - x[start]
        leny = y[start + 1] - y[start]
        rho, theta = _cart2pol(lenx, leny)
        return _Saccades(lenx, leny, x[start], y[start], _wrap_theta(theta), rho, d[start],
                         sac_off, nsac)
    parts = {k: [] for k in (*_SAC_KEYS, "dur")}
    nsac = np.zeros(len(fixations), dtype=np.int64)
    for s, f in enumerate(fixations):
        if len(f) < _MIN_FIXATIONS:
            continue
        p = _simplify(f, t_amp, t_dir, t_dur)
        m = len(p["sac"]["x"])
        nsac[s] = m
        for k in _SAC_KEYS:
            parts[k].append(np.asarray(p["sac"][k], dtype=float))
        parts["dur"].append(np.asarray(p["fix"]["dur"][:m], dtype=float))
    cat = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in parts.items()}
    sac_off = np.concatenate([[0], np.cumsum(nsac)[:-1]]).astype(np.int64)
    return _Saccades(cat["lenx"], cat["leny"], cat["x"], cat["y"], _wrap_theta(cat["theta"]),
                     cat["rho"], cat["dur"], sac_off, nsac)


def _pair_differences(S: _Saccades, ia, ib, vec):
    """Differences of aligned saccades ``ia``/``ib`` (flat saccade indices), five arrays.

    ``vec`` is the vector difference (already in the alignment matrix). The other four
    follow multimatch_gaze's cal_* functions (Jarodzka et al. 2010, sec. 3.3).
    """
    d_dir = np.abs(S.theta[ia] - S.theta[ib])
    d_dir = np.where(d_dir > math.pi, 2 * math.pi - d_dir, d_dir)
    d_len = np.abs(S.rho[ia] - S.rho[ib])
    d_pos = np.sqrt((S.x[ia] - S.x[ib]) ** 2 + (S.y[ia] - S.y[ib]) ** 2)
    d1, d2 = S.dur[ia], S.dur[ib]
    with np.errstate(invalid="ignore", divide="ignore"):
        d_dur = np.abs(d1 - d2) / np.abs(np.where(d2 > d1, d2, d1))
    return vec, d_dir, d_len, d_pos, d_dur


def _reference_path(M: np.ndarray) -> np.ndarray:
    """Alignment path of multimatch_gaze: scipy Dijkstra on its graph, built the same way.

    Returns the flat node indices (row-major in ``M``) from the first to the last node.
    """
    n, m = M.shape
    node = np.arange(n * m)
    i, j = node // m, node % m
    last_row, last_col = i == n - 1, j == m - 1
    rows, cols, wts = [], [], []
    # per node, in node order: right, down, diagonal (interior); right (last row);
    # down (last column); a zero self-loop (last node) -- the reference's edge order
    kind = np.where(last_row & last_col, 3, np.where(last_row, 1, np.where(last_col, 2, 0)))
    for v in range(n * m):
        a, b, k = int(i[v]), int(j[v]), int(kind[v])
        if k == 1:
            rows.append(v); cols.append(v + 1); wts.append(M[a, b + 1])
        elif k == 2:
            rows.append(v); cols.append(v + m); wts.append(M[a + 1, b])
        elif k == 3:
            rows.append(v); cols.append(v); wts.append(0)
        else:
            rows += [v, v, v]
            cols += [v + 1, v + m, v + m + 1]
            wts += [M[a, b + 1], M[a + 1, b], M[a + 1, b + 1]]
    g = sp.coo_matrix((np.asarray(wts), (np.asarray(rows), np.asarray(cols))),
                      shape=(n * m, n * m)).tocsr()
    _, pred = csgraph.dijkstra(csgraph=g, directed=True, indices=0, return_predecessors=True)
    end = n * m - 1
    path = [end]
    while pred[end] != -9999:
        end = int(pred[end])
        path.append(end)
    return np.asarray(path[::-1], dtype=np.int64)


def _pair_by_dijkstra(S: _Saccades, a: int, b: int) -> np.ndarray:
    """Five unnormalised medians of one pair, aligned exactly as the reference does."""
    oa, na, ob, nb = S.off[a], S.n[a], S.off[b], S.n[b]
    ia_all = oa + np.arange(na)
    ib_all = ob + np.arange(nb)
    dx = S.lenx[ia_all][:, None] - S.lenx[ib_all][None, :]
    dy = S.leny[ia_all][:, None] - S.leny[ib_all][None, :]
    M = np.sqrt(dx**2 + dy**2)
    path = _reference_path(M)
    pi, pj = path // nb, path % nb
    diffs = _pair_differences(S, oa + pi, ob + pj, M[pi, pj])
    return np.array([np.median(d) for d in diffs])


def _chunk_medians(S: _Saccades, ra: np.ndarray, cb: np.ndarray):
    """Unnormalised medians of a chunk of pairs ``(ra[k], cb[k])``, with ``S.n[ra] >= S.n[cb]``.

    Returns ``(medians (5, B), tie (B,) bool)``; pairs flagged ``tie`` met an exact tie
    between predecessors on their path and must be recomputed with Dijkstra.
    """
    nr, nc = S.n[ra], S.n[cb]
    R, C, B = int(nr.max()), int(nc.max()), len(ra)
    lx_r, _ = gather_padded(S.lenx, S.off[ra], nr, R)
    ly_r, _ = gather_padded(S.leny, S.off[ra], nr, R)
    lx_c, _ = gather_padded(S.lenx, S.off[cb], nc, C)
    ly_c, _ = gather_padded(S.leny, S.off[cb], nc, C)
    dx = lx_r[:, None, :] - lx_c[None, :, :]
    dy = ly_r[:, None, :] - ly_c[None, :, :]
    M = np.sqrt(dx**2 + dy**2)  # (R, C, B): vector-difference lengths (Jarodzka et al. 2010, eq. 1)

    # D[i+1, j+1] = cost of the cheapest path from (0, 0) to (i, j), excluding M[0, 0]
    D = np.full((R + 1, C + 1, B), np.inf)
    D[0, 0] = 0.0
    extra = np.zeros((R + 1, C + 1, B))
    extra[1:, 1:] = M
    extra[1, 1] = 0.0
    wavefront(D, extra, lambda u, l, d, e: np.minimum(np.minimum(u, l), d) + e)

    # backtrack from each pair's last node, predecessor = argmin of D (as Dijkstra's)
    W = C + 1
    Df = D.reshape((R + 1) * W, B)
    cols = np.arange(B)
    ci, cj = nr.copy(), nc.copy()  # 1-based current node
    L = R + C - 1
    pi = np.zeros((L, B), dtype=np.int64)
    pj = np.zeros((L, B), dtype=np.int64)
    pi[0], pj[0] = ci - 1, cj - 1
    length = np.ones(B, dtype=np.int64)
    tie = np.zeros(B, dtype=bool)
    for t in range(1, L):
        active = (ci > 1) | (cj > 1)
        if not active.any():
            break
        up = Df[(ci - 1) * W + cj, cols]
        left = Df[ci * W + cj - 1, cols]
        dg = Df[(ci - 1) * W + cj - 1, cols]
        best = np.minimum(np.minimum(up, left), dg)
        n_best = (up == best).astype(np.int8) + (left == best) + (dg == best)
        tie |= active & (n_best > 1)
        go_diag = dg == best
        go_up = ~go_diag & (up == best)
        di = (go_diag | go_up) & active
        dj = (go_diag | ~go_up) & active
        ci = ci - di
        cj = cj - dj
        pi[t], pj[t] = ci - 1, cj - 1
        length += active
    vec = M.reshape(R * C, B)[pi * C + pj, cols]
    ia = S.off[ra][None, :] + pi
    ib = S.off[cb][None, :] + pj
    valid = np.arange(L)[:, None] < length[None, :]
    ia = np.where(valid, ia, S.off[ra][None, :])
    ib = np.where(valid, ib, S.off[cb][None, :])
    diffs = _pair_differences(S, ia, ib, vec)
    med = np.stack([median_rows(d, length) for d in diffs])
    return med, tie


def _screen_array(screen_size, n_pairs: int) -> np.ndarray:
    s = np.asarray(screen_size, dtype=float)
    if s.shape == (2,):
        s = np.broadcast_to(s, (n_pairs, 2))
    if s.shape != (n_pairs, 2):
        raise ValueError(
            f"screen_size must be (width, height) in px or an (n_pairs, 2) array, got shape {s.shape}"
        )
    if not (np.isfinite(s).all() and (s > 0).all()):
        raise ValueError("screen_size must be positive and finite")
    return s


def _normalise(med: np.ndarray, screen: np.ndarray) -> np.ndarray:
    """Similarities from unnormalised medians (Dewhurst et al. 2012; multimatch_gaze normaliseresults)."""
    diag = np.sqrt(screen[:, 0] ** 2 + screen[:, 1] ** 2)
    out = np.empty((med.shape[1], 5))
    out[:, 0] = 1 - med[0] / (2 * diag)
    out[:, 1] = 1 - med[1] / math.pi
    out[:, 2] = 1 - med[2] / diag
    out[:, 3] = 1 - med[3] / diag
    out[:, 4] = 1 - med[4]
    return out


@register_metric(
    "multimatch",
    columns=tuple(f"multimatch_{d}" for d in MULTIMATCH_DIMENSIONS),
    needs=("x", "y", "duration"),
    per_stimulus=("screen_size",),
    higher_is_better=True,
)
def multimatch_batch(
    scanpaths: Sequence,
    pairs,
    screen_size,
    *,
    grouping: bool = False,
    amplitude_threshold: float = 0.0,
    direction_threshold: float = 0.0,
    duration_threshold: float = 0.0,
    chunk_cells: int = 1 << 21,
) -> tuple[np.ndarray, list]:
    """MultiMatch for many pairs of scanpaths at once.

    Parameters
    ----------
    scanpaths : sequence of array_like or DataFrame
        Scanpaths, each ``(n, 3)`` ``[x (px), y (px), duration]`` or a fixation-table
        slice. Duration is only used by the duration dimension and the grouping
        threshold, in any unit (ms in a fixation table).
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths`` of the two scanpaths of each pair.
    screen_size : (width, height) or array of shape (n_pairs, 2)
        Screen (or stimulus) size in px used to normalise vector, length and
        position; one per pair where pairs come from different screens.
    grouping : bool
        Simplify the scanpaths first (see :func:`simplify_scanpath`).
    amplitude_threshold, direction_threshold, duration_threshold : float
        Grouping thresholds: px, degrees, and the unit of the durations.
    chunk_cells : int
        Memory budget of one batch (padded alignment-grid cells).

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 5)`` similarities in the order of :data:`MULTIMATCH_DIMENSIONS`.
    reasons : list of str or None
        Per pair, why some values are NaN (``None`` where all are defined).
    """
    fix = [as_scanpath(s, name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    P = len(pairs)
    screen = _screen_array(screen_size, P)
    nfix = np.array([len(f) for f in fix], dtype=np.int64)
    S = _prepare(fix, grouping, amplitude_threshold, direction_threshold, duration_threshold)

    med = np.full((5, P), np.nan)
    a, b = (pairs[:, 0], pairs[:, 1]) if P else (np.empty(0, np.int64),) * 2
    ok = (nfix[a] >= _MIN_FIXATIONS) & (nfix[b] >= _MIN_FIXATIONS)
    okp = np.flatnonzero(ok)
    swap = S.n[a[okp]] < S.n[b[okp]]
    ra = np.where(swap, b[okp], a[okp])
    cb = np.where(swap, a[okp], b[okp])
    for sel in chunk_by_size(S.n[ra], S.n[cb], chunk_cells):
        m, tie = _chunk_medians(S, ra[sel], cb[sel])
        med[:, okp[sel]] = m
        for k in np.flatnonzero(tie):
            p = okp[sel[k]]
            med[:, p] = _pair_by_dijkstra(S, int(a[p]), int(b[p]))
    values = _normalise(med, screen)
    reasons: list = [None] * P
    for p in np.flatnonzero(~ok):
        short = [f"scanpath {k + 1} has {nfix[s]} fixation(s)" for k, s in enumerate((a[p], b[p]))
                 if nfix[s] < _MIN_FIXATIONS]
        reasons[p] = "; ".join(short) + f"; MultiMatch needs at least {_MIN_FIXATIONS} (two saccades)"
    for p in np.flatnonzero(ok & np.isnan(values[:, 4])):
        reasons[p] = "duration: missing (NaN) or zero fixation durations on the aligned saccades"
    return values, reasons


def multimatch(
    scanpath1,
    scanpath2,
    screen_size,
    *,
    grouping: bool = False,
    amplitude_threshold: float = 0.0,
    direction_threshold: float = 0.0,
    duration_threshold: float = 0.0,
    on_undefined: str = "warn",
) -> MultiMatchResult:
    """MultiMatch similarity of two scanpaths (Jarodzka et al. 2010; Dewhurst et al. 2012).

    Definition: each scanpath becomes the sequence of its saccade vectors. A matrix
    holds the length of the vector difference of every saccade pair; the saccades
    are aligned by the cheapest monotone path from the first pair to the last
    (steps right, down or diagonal). Along the aligned pairs, five differences are
    taken and their medians normalised (see the module docstring for the table):
    ``vector = 1 - med|u - v| / (2 diag)``, ``direction = 1 - med angle(u, v) / pi``,
    ``length = 1 - med| |u| - |v| | / diag``, ``position = 1 - med dist(start_u, start_v) / diag``,
    ``duration = 1 - med |d_u - d_v| / max(d_u, d_v)``, where ``diag`` is the screen
    diagonal in px and ``d`` the duration of the fixation a saccade starts from.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        ``(n, 3)`` fixations ``[x (px), y (px), duration]`` (or ``(n, 2)``, then the
        duration dimension is NaN), or fixation-table slices.
    screen_size : (float, float)
        ``(width, height)`` of the screen in px. Both scanpaths must be in the
        pixel frame of this screen.
    grouping : bool
        Simplify both scanpaths first (amplitude and direction grouping).
    amplitude_threshold : float
        Grouping: saccades shorter than this (px) may be merged.
    direction_threshold : float
        Grouping: consecutive saccades at an angle below this (degrees) may be merged.
    duration_threshold : float
        Grouping: only across fixations shorter than this, in the durations' unit.
    on_undefined : {"warn", "nan", "raise"}
        What to do where a dimension is undefined (see below).

    Returns
    -------
    MultiMatchResult
        ``(vector, direction, length, position, duration)``, each in [0, 1], 1 for
        identical scanpaths. Unitless.

    Notes
    -----
    *Undefined cases.* MultiMatch needs two saccades: with fewer than 3 fixations in
    either scanpath all five values are NaN (as multimatch_gaze returns). The
    duration dimension is NaN where durations are missing or both zero.

    *Agreement with multimatch_gaze 0.1.3* (tested to 1e-9 on real data): the
    alignment path is the one its scipy Dijkstra returns, ties included; the
    following quirks of the reference are reproduced: the duration compared for a
    saccade pair is that of the fixation *before* each saccade (the last fixation's
    duration is never used); the alignment cost excludes the first cell; in the
    amplitude pass a short last saccade replaces the previous output saccade by the
    sum of the last two *input* saccades. Two cases where the reference fails are
    handled: a cosine just above 1 (where ``math.acos`` raises) is clipped, and a
    scanpath grouped down to a single short saccade (where the reference raises
    ``IndexError``) keeps that saccade.

    References
    ----------
    Jarodzka, H., Holmqvist, K., & Nystrom, M. (2010). A vector-based,
    multidimensional scanpath similarity measure. ETRA 2010, 211-218.
    Dewhurst, R., Nystrom, M., Jarodzka, H., Foulsham, T., Johansson, R., &
    Holmqvist, K. (2012). It depends on how you look at it: Scanpath comparison in
    multiple dimensions with MultiMatch. Behavior Research Methods, 44, 1079-1100.

    Examples
    --------
    >>> import numpy as np
    >>> sp = np.array([[100, 100, 200], [400, 120, 250], [420, 500, 180]])
    >>> [round(v, 6) for v in multimatch(sp, sp, (1280, 1024))]
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    values, reasons = multimatch_batch(
        [scanpath1, scanpath2], [[0, 1]], screen_size, grouping=grouping,
        amplitude_threshold=amplitude_threshold, direction_threshold=direction_threshold,
        duration_threshold=duration_threshold,
    )
    handle_undefined(reasons[0], on_undefined, "multimatch")
    return MultiMatchResult(*(float(v) for v in values[0]))

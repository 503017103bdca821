"""The scanpath-model contract, its validator, and helpers shared by scanpath models.

The contract
------------
A scanpath model is a :class:`ScanpathModel`:

``model.predict(stimuli, n_scanpaths, n_fixations, seed) -> fixation table``

- ``stimuli`` is a stimulus table (:data:`gazemodels.data.schema.STIMULUS_COLUMNS`:
  ``stimulus, path, width, height, px_per_degree``), one row per image;
- the result is a fixation table in the data-model schema
  (:data:`gazemodels.data.schema.FIXATION_COLUMNS`) with, for every stimulus,
  exactly ``n_scanpaths`` scanpaths of exactly ``n_fixations`` fixations;
  ``subject`` is the scanpath number ``0 .. n_scanpaths - 1``, ``trial`` is 0,
  ``fix_index`` is ``0 .. n_fixations - 1``; ``x, y`` are stimulus pixels
  (origin top-left) on the stimulus; ``duration`` (ms) comes from the model's
  duration model (:mod:`gazemodels.models.scanpath.durations`) and ``t_start``
  is the cumulative duration of the earlier fixations (saccade time is not
  modelled), so the first fixation starts at 0;
- **seeds**: the same ``seed`` gives the same table, another seed another
  table. The seed and the model name are recorded in ``table.attrs``
  (``{"model": name, "seed": seed, "n_scanpaths": ..., "n_fixations": ...}``);
  attrs do not survive CSV, so ``gazemodels predict`` also writes them to a
  JSON file next to the CSV;
- **per-image streams**: each image draws from its own random stream,
  ``numpy.random.default_rng([seed, crc32(stimulus name), stream])``
  (:func:`stimulus_rng`), so an image's scanpaths do not depend on which other
  images are in the table, and predicting in batches gives the same result as
  predicting all at once;
- models with parameters learn them with ``fit(fixations, stimuli)`` from human
  data; the base ``fit`` fits the duration model
  (:func:`~gazemodels.models.scanpath.durations.fit_duration_model`). Models
  that cannot predict before fitting set ``requires_fit = True``.

Writing a model
---------------
Subclass :class:`ScanpathModel` and implement :meth:`ScanpathModel.generate`,
which returns the positions for one image; the base :meth:`~ScanpathModel.predict`
loads the image (:func:`load_image`, resized to the stimulus size), gives
``generate`` the per-image random generator, adds durations and builds the
table. Register it with :func:`gazemodels.models.register_model`::

    @register_model("mine", smoke_kwargs={"steps": 2})
    class Mine(ScanpathModel):
        def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
            ...  # -> array (n_scanpaths, n_fixations, 2) of x, y in px

A model may also override ``predict`` (for example to batch across images;
``generate`` must still give the positions of one image), and should then
build its table with :func:`positions_to_table`, draw with
:func:`stimulus_rng` and sample durations with ``stream=1``;
:func:`validate_scanpath_model` checks the contract either way.
"""

from __future__ import annotations

import abc
import math
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, STIMULUS_COLUMNS
from gazemodels.data.validate import validate_fixations
from gazemodels.errors import GazemodelsError
from gazemodels.models.scanpath.durations import DEFAULT_DURATION_MODEL, fit_duration_model
from gazemodels.simulate.scanpaths import GammaModel

OFFSCREEN_TOLERANCE_PX = 0.5
"""Positions at most this far outside the stimulus are clipped onto its border;
farther ones are an error of the model."""


class ImageReadError(GazemodelsError, ValueError):
    """An image file is missing, unreadable or not an image (the message names the file)."""


class ModelNotFittedError(GazemodelsError, RuntimeError):
    """A model that learns from human data was asked to predict before ``fit``."""


class ScanpathContractError(GazemodelsError, AssertionError):
    """A scanpath model broke the contract checked by :func:`validate_scanpath_model`."""


def load_image(path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image as an RGB ``uint8`` array.

    Parameters
    ----------
    path : str or os.PathLike
        Image file (any format Pillow reads: PNG, JPEG, ...).
    size : tuple of int, optional
        ``(width, height)`` in px to resize to (bilinear) when the file has
        another size.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(height, width, 3)``, dtype ``uint8``. Grey-scale and
        RGBA images are converted to RGB (alpha is dropped).

    Raises
    ------
    ImageReadError
        If the path is empty, the file does not exist, or it cannot be decoded;
        the message names the file.
    """
    from PIL import Image, UnidentifiedImageError

    if path is None or (isinstance(path, float) and math.isnan(path)) or str(path) == "":
        raise ImageReadError("no image file given (the stimulus table has no path)")
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"{p}: image file not found")
    try:
        with Image.open(p) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (int(size[0]), int(size[1])):
                im = im.resize((int(size[0]), int(size[1])), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageReadError(f"{p}: cannot read the image ({e})") from e
    return arr


def stimulus_rng(seed: int, stimulus, stream: int = 0) -> np.random.Generator:
    """The random generator of one image: ``default_rng([seed, crc32(stimulus), stream])``.

    Parameters
    ----------
    seed : int
        Non-negative seed given to ``predict``.
    stimulus : object
        Stimulus identifier; its ``str`` is hashed with CRC-32 (stable across
        runs and platforms, unlike ``hash``).
    stream : int, default 0
        Independent sub-stream: 0 for positions, 1 for durations.

    Returns
    -------
    numpy.random.Generator
    """
    key = zlib.crc32(str(stimulus).encode("utf-8"))
    return np.random.default_rng([int(seed), key, int(stream)])


def positions_to_table(
    positions: np.ndarray,
    stimulus,
    durations_ms: np.ndarray,
) -> pd.DataFrame:
    """Build the fixation table of one image from positions and durations.

    Parameters
    ----------
    positions : numpy.ndarray
        Shape ``(n_scanpaths, n_fixations, 2)``: ``x, y`` in px.
    stimulus : object
        Value of the ``stimulus`` column.
    durations_ms : numpy.ndarray
        Shape ``(n_scanpaths, n_fixations)``, in ms.

    Returns
    -------
    pandas.DataFrame
        Fixation table; ``subject`` is the scanpath number, ``trial`` 0,
        ``t_start`` the cumulative duration of the earlier fixations.
    """
    positions = np.asarray(positions, dtype=float)
    n_sp, n_fix = positions.shape[:2]
    dur = np.asarray(durations_ms, dtype=float).reshape(n_sp, n_fix)
    t_start = np.cumsum(dur, axis=1) - dur
    return pd.DataFrame(
        {
            "stimulus": [stimulus] * (n_sp * n_fix),
            "subject": np.repeat(np.arange(n_sp), n_fix),
            "trial": 0,
            "fix_index": np.tile(np.arange(n_fix), n_sp),
            "x": positions[:, :, 0].ravel(),
            "y": positions[:, :, 1].ravel(),
            "t_start": t_start.ravel(),
            "duration": dur.ravel(),
        },
        columns=list(FIXATION_COLUMNS),
    )


def check_stimuli(stimuli: pd.DataFrame, *, need_path: bool = False, need_caption: bool = False) -> None:
    """Check a stimulus table before prediction.

    Parameters
    ----------
    stimuli : pandas.DataFrame
        Stimulus table.
    need_path : bool
        Also require a ``path`` on every row.
    need_caption : bool
        Also require a non-empty ``caption`` on every row.

    Raises
    ------
    ValueError
        If a column is missing, a stimulus is duplicated, a size or
        ``px_per_degree`` is not positive, or a required caption is missing;
        the message names the stimulus.
    ImageReadError
        If ``need_path`` and a path is missing.
    """
    if not isinstance(stimuli, pd.DataFrame):
        raise ValueError(f"stimuli must be a stimulus table (DataFrame), got {type(stimuli).__name__}")
    missing = [c for c in STIMULUS_COLUMNS if c not in stimuli.columns]
    if missing:
        raise ValueError(f"the stimulus table is missing column(s) {missing}")
    dup = stimuli["stimulus"][stimuli["stimulus"].duplicated()].tolist()
    if dup:
        raise ValueError(f"the stimulus table lists stimuli more than once: {dup[:8]}")
    for col in ("width", "height", "px_per_degree"):
        v = pd.to_numeric(stimuli[col], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            names = stimuli["stimulus"][bad].tolist()[:8]
            raise ValueError(f"stimulus table: {col} must be positive; bad for {names}")
    if need_path:
        bad = stimuli["path"].isna() | (stimuli["path"].astype(str) == "")
        if bad.any():
            raise ImageReadError(
                f"no image file for stimulus/stimuli {stimuli['stimulus'][bad].tolist()[:8]}"
            )
    if need_caption:
        if "caption" not in stimuli.columns:
            raise ValueError("this model needs a caption per image: the stimulus table has no 'caption' column")
        cap = stimuli["caption"]
        bad = cap.isna() | (cap.astype(str).str.strip() == "")
        if bad.any():
            raise ValueError(f"no caption for stimulus/stimuli {stimuli['stimulus'][bad].tolist()[:8]}")


class ScanpathModel(abc.ABC):
    """Base class of scanpath models: see the module docstring for the contract.

    Attributes
    ----------
    name : str
        Registry name (set by :func:`gazemodels.models.get_model`), recorded in
        the output's ``attrs``.
    durations : GammaModel
        Fixation-duration model (ms); :data:`DEFAULT_DURATION_MODEL` (OSIE)
        until :meth:`fit` fits it to human data.
    needs_image : bool
        Whether :meth:`generate` reads the image; when False the base
        ``predict`` passes ``image=None`` and needs no files.
    requires_fit : bool
        Whether :meth:`fit` must be called before :meth:`predict`.
    needs_caption : bool
        Whether :meth:`generate` reads ``stimulus["caption"]``: the optional
        ``caption`` column of the stimulus table (text describing the image, e.g.
        for NevaClip; ``gazemodels predict --caption-file`` fills it). The base
        ``predict`` then refuses a table without a caption for every stimulus.
    fitted : bool
        Whether :meth:`fit` has run.
    """

    name: str = ""
    durations: GammaModel = DEFAULT_DURATION_MODEL
    needs_image: bool = True
    requires_fit: bool = False
    needs_caption: bool = False
    fitted: bool = False

    def fit(
        self,
        fixations: pd.DataFrame,
        stimuli: pd.DataFrame | None = None,
        *,
        fit_durations: bool = True,
    ) -> ScanpathModel:
        """Learn the model's parameters from human fixations.

        The base implementation fits the duration model; subclasses with more
        parameters extend it (and call ``super().fit``).

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table (validated against ``stimuli`` when given).
        stimuli : pandas.DataFrame, optional
            Stimulus table of the fixations' images (sizes for models that
            normalise coordinates).
        fit_durations : bool, default True
            Fit the duration model by maximum likelihood
            (:func:`~gazemodels.models.scanpath.durations.fit_duration_model`);
            with False the current one is kept.

        Returns
        -------
        ScanpathModel
            ``self``.
        """
        validate_fixations(fixations, stimuli, allow_offscreen=True, source="fit")
        if fit_durations:
            self.durations = fit_duration_model(fixations)
        self.fitted = True
        return self

    @abc.abstractmethod
    def generate(
        self,
        image: np.ndarray | None,
        stimulus: pd.Series,
        n_scanpaths: int,
        n_fixations: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Positions of the scanpaths on one image.

        Parameters
        ----------
        image : numpy.ndarray or None
            RGB ``uint8`` array ``(height, width, 3)`` at the stimulus size, or
            None when ``needs_image`` is False.
        stimulus : pandas.Series
            The stimulus-table row (``stimulus, path, width, height, px_per_degree``, ...).
        n_scanpaths, n_fixations : int
            How many scanpaths, and fixations in each.
        rng : numpy.random.Generator
            The image's own random generator (:func:`stimulus_rng`); the only
            source of randomness allowed.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_scanpaths, n_fixations, 2)``: ``x, y`` in stimulus px,
            on the stimulus.
        """

    def predict(
        self,
        stimuli: pd.DataFrame,
        n_scanpaths: int,
        n_fixations: int,
        seed: int,
    ) -> pd.DataFrame:
        """Generate scanpaths for every stimulus.

        Parameters
        ----------
        stimuli : pandas.DataFrame
            Stimulus table (``stimulus, path, width, height, px_per_degree``).
        n_scanpaths : int
            Scanpaths per image (at least 1).
        n_fixations : int
            Fixations per scanpath (at least 1).
        seed : int
            Non-negative random seed.

        Returns
        -------
        pandas.DataFrame
            Fixation table (see the module docstring); ``attrs`` holds
            ``model``, ``seed``, ``n_scanpaths`` and ``n_fixations``.

        Raises
        ------
        ModelNotFittedError
            If the model needs :meth:`fit` first.
        ImageReadError
            If an image the model needs is missing or unreadable.
        ScanpathContractError
            If :meth:`generate` returns the wrong shape or positions off the
            stimulus (by more than :data:`OFFSCREEN_TOLERANCE_PX`).
        """
        check_predict_args(n_scanpaths, n_fixations, seed)
        if self.requires_fit and not self.fitted:
            raise ModelNotFittedError(
                f"model {self.name or type(self).__name__!r} must be fitted to human fixations "
                "before predict (call fit(fixations, stimuli))"
            )
        check_stimuli(stimuli, need_path=self.needs_image, need_caption=self.needs_caption)
        tables = []
        for _, row in stimuli.iterrows():
            w, h = float(row["width"]), float(row["height"])
            image = None
            if self.needs_image:
                image = load_image(row["path"], size=(round(w), round(h)))
            rng = stimulus_rng(seed, row["stimulus"], 0)
            pos = np.asarray(self.generate(image, row, n_scanpaths, n_fixations, rng), dtype=float)
            pos = _check_positions(pos, row["stimulus"], w, h, n_scanpaths, n_fixations)
            dur = self.durations.sample(stimulus_rng(seed, row["stimulus"], 1), (n_scanpaths, n_fixations))
            tables.append(positions_to_table(pos, row["stimulus"], dur))
        out = (
            pd.concat(tables, ignore_index=True)
            if tables
            else pd.DataFrame({c: [] for c in FIXATION_COLUMNS})
        )
        out.attrs = {
            "model": self.name or type(self).__name__,
            "seed": int(seed),
            "n_scanpaths": int(n_scanpaths),
            "n_fixations": int(n_fixations),
        }
        return out


def check_predict_args(n_scanpaths, n_fixations, seed) -> None:
    """Check ``n_scanpaths``, ``n_fixations`` (integers >= 1) and ``seed`` (integer >= 0).

    Parameters
    ----------
    n_scanpaths, n_fixations, seed : int

    Raises
    ------
    ValueError
        Naming the bad argument.
    """
    for name, v, lo in (("n_scanpaths", n_scanpaths, 1), ("n_fixations", n_fixations, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def _check_positions(pos, stimulus, w, h, n_sp, n_fix) -> np.ndarray:
    if pos.shape != (n_sp, n_fix, 2):
        raise ScanpathContractError(
            f"stimulus {stimulus!r}: generate returned shape {pos.shape}, expected {(n_sp, n_fix, 2)}"
        )
    if not np.isfinite(pos).all():
        raise ScanpathContractError(f"stimulus {stimulus!r}: generate returned NaN or infinite positions")
    tol = OFFSCREEN_TOLERANCE_PX
    off = (pos[..., 0] < -tol) | (pos[..., 0] > w + tol) | (pos[..., 1] < -tol) | (pos[..., 1] > h + tol)
    if off.any():
        i = np.argwhere(off)[0]
        raise ScanpathContractError(
            f"stimulus {stimulus!r}: {int(off.sum())} position(s) off the {w:g}x{h:g} stimulus, "
            f"e.g. scanpath {i[0]} fixation {i[1]} at {tuple(pos[i[0], i[1]].round(2))}"
        )
    pos = pos.copy()
    pos[..., 0] = np.clip(pos[..., 0], 0.0, w)
    pos[..., 1] = np.clip(pos[..., 1], 0.0, h)
    return pos


def validate_scanpath_model(
    model,
    stimuli: pd.DataFrame,
    *,
    n_scanpaths: int = 3,
    n_fixations: int = 4,
    seed: int = 0,
    other_seed: int = 1,
) -> pd.DataFrame:
    """Check that a model follows the scanpath-model contract.

    Runs ``model.predict`` three times (``seed``, ``seed`` again, ``other_seed``)
    and once more on the last stimulus alone, and checks:

    1. the result is a fixation table valid against ``stimuli``
       (:func:`~gazemodels.data.validate_fixations`, durations required, every
       fixation on its stimulus);
    2. exactly the given stimuli, each with scanpaths (``subject``)
       ``0 .. n_scanpaths - 1``, ``trial`` 0, and ``n_fixations`` fixations each;
    3. durations positive and ``t_start`` the cumulative duration, from 0;
    4. ``attrs["seed"]`` records the seed;
    5. the same seed reproduces the table exactly; another seed changes it;
    6. predicting the last stimulus alone gives the same scanpaths as in the
       full table (per-image random streams, so batching does not matter).

    Parameters
    ----------
    model : ScanpathModel
        A ready model (fitted, if it needs fitting).
    stimuli : pandas.DataFrame
        Stimulus table with at least one row.
    n_scanpaths, n_fixations : int
        Sizes to ask for.
    seed, other_seed : int
        Two different seeds.

    Returns
    -------
    pandas.DataFrame
        The prediction with ``seed``.

    Raises
    ------
    ScanpathContractError
        Naming the model and the broken rule.
    """
    label = getattr(model, "name", "") or type(model).__name__
    if not hasattr(model, "predict"):
        raise ScanpathContractError(f"{label}: has no predict method")
    if seed == other_seed:
        raise ValueError("seed and other_seed must differ")

    def fail(msg):
        raise ScanpathContractError(f"model {label!r}: {msg}")

    out = model.predict(stimuli, n_scanpaths=n_scanpaths, n_fixations=n_fixations, seed=seed)
    if not isinstance(out, pd.DataFrame):
        fail(f"predict returned {type(out).__name__}, not a DataFrame")
    try:
        validate_fixations(out, stimuli, require_duration=True, source=f"model {label!r}")
    except GazemodelsError as e:
        fail(f"not a valid fixation table on the stimuli: {e}")
    want = set(stimuli["stimulus"])
    got = set(out["stimulus"])
    if got != want:
        fail(f"stimuli {sorted(map(str, got ^ want))[:8]} are missing or unexpected")
    if not (out["trial"] == 0).all():
        fail("trial must be 0 on every row")
    for stim, g in out.groupby("stimulus", sort=False):
        subj = sorted(pd.unique(g["subject"]))
        if subj != list(range(n_scanpaths)):
            fail(f"stimulus {stim!r}: scanpaths (subject) are {subj[:10]}, expected 0..{n_scanpaths - 1}")
        counts = g.groupby("subject").size()
        if not (counts == n_fixations).all():
            fail(f"stimulus {stim!r}: fixations per scanpath {sorted(set(counts))}, expected {n_fixations}")
    dur = out["duration"].to_numpy(dtype=float)
    if not (dur > 0).all():
        fail("durations must be positive")
    srt = out.sort_values(["stimulus", "subject", "fix_index"], kind="stable")
    expect_t = srt.groupby(["stimulus", "subject"])["duration"].cumsum() - srt["duration"]
    if not np.allclose(srt["t_start"].to_numpy(float), expect_t.to_numpy(float), rtol=1e-6, atol=1e-6):
        fail("t_start must be the cumulative duration of the earlier fixations, from 0")
    if out.attrs.get("seed") != seed:
        fail(f"attrs['seed'] is {out.attrs.get('seed')!r}, expected {seed}")

    again = model.predict(stimuli, n_scanpaths=n_scanpaths, n_fixations=n_fixations, seed=seed)
    cols = list(FIXATION_COLUMNS)
    if not _same(out[cols], again[cols]):
        fail(f"two predictions with seed {seed} differ: not reproducible")
    other = model.predict(stimuli, n_scanpaths=n_scanpaths, n_fixations=n_fixations, seed=other_seed)
    if _same(out[cols], other[cols]):
        fail(f"seeds {seed} and {other_seed} give the same table: the seed is ignored")

    last = stimuli.iloc[[-1]]
    alone = model.predict(last, n_scanpaths=n_scanpaths, n_fixations=n_fixations, seed=seed)
    part = out[out["stimulus"] == last["stimulus"].iloc[0]]
    if not _same(part[cols], alone[cols], atol=1e-4):
        fail(
            f"stimulus {last['stimulus'].iloc[0]!r} predicted alone differs from the same stimulus "
            "predicted with the others: each image must use its own random stream (stimulus_rng)"
        )
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame, atol: float = 0.0) -> bool:
    keys = ["stimulus", "subject", "trial", "fix_index"]
    if len(a) != len(b):
        return False
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    if not a[keys].astype(str).equals(b[keys].astype(str)):
        return False
    num = ["x", "y", "t_start", "duration"]
    return bool(np.allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=0, atol=atol, equal_nan=True))


def scanpaths_of(fixations: pd.DataFrame, stimulus) -> Sequence[np.ndarray]:
    """The ``(n, 2)`` position arrays of every scanpath of one stimulus.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    stimulus : object
        Stimulus identifier.

    Returns
    -------
    list of numpy.ndarray
        One ``(n_fixations, 2)`` array of ``x, y`` per scanpath, in fixation order.
    """
    g = fixations[fixations["stimulus"] == stimulus]
    return [
        sp.sort_values("fix_index", kind="stable")[["x", "y"]].to_numpy(float)
        for _, sp in g.groupby(["subject", "trial"], sort=True)
    ]

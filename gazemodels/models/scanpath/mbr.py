"""Minimum-Bayes-risk decoding of stochastic scanpath models.

A stochastic scanpath model's samples are as varied as people's scanpaths, and scanpath
metrics such as MultiMatch reward the typical scanpath over the variety. Minimum-Bayes-risk
(MBR) decoding (Kumar & Byrne 2004) draws ``candidates`` times as many scanpaths as asked for
and keeps those of highest mean similarity to the other draws: since the draws are samples
of the model, that mean estimates a candidate's expected similarity to a scanpath of the
model. The utility here is the mean of MultiMatch's vector, direction, length and position
similarities (Dewhurst et al. 2012; no simplification), the four dimensions the benchmarks
report.

:func:`mbr_select` picks among given candidates; :class:`MBRDecoder` wraps any scanpath
model (``gazemodels.models.scanpath.freeview.FreeviewModel`` also has it built in as
``decode="mbr"``).

References
----------
Kumar, S., & Byrne, W. (2004). Minimum Bayes-risk decoding for statistical machine
translation. HLT-NAACL 2004, 169-176.

Dewhurst, R., Nyström, M., Jarodzka, H., Foulsham, T., Johansson, R., & Holmqvist, K. (2012).
It depends on how you look at it: Scanpath comparison in multiple dimensions with
MultiMatch, a vector-based approach. Behavior Research Methods 44(4):1079-1100.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gazemodels.models.scanpath.base import ScanpathModel, check_predict_args

__all__ = ["MBRDecoder", "mbr_select"]


def mbr_select(scanpaths: Sequence, k: int, screen_size) -> np.ndarray:
    """Indices of the ``k`` candidate scanpaths of highest mean MultiMatch to the other candidates.

    Parameters
    ----------
    scanpaths : sequence of array_like
        The candidates, each ``(n_i, 2)`` ``[x, y]`` or ``(n_i, 3)`` ``[x, y, duration]`` in
        stimulus px (durations do not enter the four dimensions used).
    k : int
        Number to keep (``1 <= k <= len(scanpaths)``).
    screen_size : (float, float)
        Stimulus width and height in px (MultiMatch's normalisation).

    Returns
    -------
    numpy.ndarray
        ``k`` candidate indices, highest utility first (ties: lower index first). MultiMatch
        is undefined for scanpaths of fewer than 3 fixations; such pairs add nothing, so
        candidates that short come last, and if all are, the first ``k`` are returned.

    Raises
    ------
    ValueError
        If ``k`` is out of range.
    """
    from gazemodels.metrics.scanpath.multimatch import multimatch_batch

    n = len(scanpaths)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"mbr_select: k must be between 1 and the {n} candidates, got {k!r}")
    if k == n:
        return np.arange(n)
    paths = []
    for s in scanpaths:
        s = np.asarray(s, dtype=float)
        paths.append(s if s.shape[1] == 3 else np.column_stack([s, np.zeros(len(s))]))
    i, j = np.triu_indices(n, 1)
    values, _ = multimatch_batch(paths, np.column_stack([i, j]), screen_size)
    with warnings.catch_warnings():  # pairs with a scanpath under 3 fixations are all NaN: utility 0
        warnings.simplefilter("ignore", RuntimeWarning)
        sim = np.nan_to_num(np.nanmean(values[:, :4], axis=1), nan=0.0)  # vector, direction, length, position
    total = np.zeros(n)
    np.add.at(total, i, sim)
    np.add.at(total, j, sim)
    return np.argsort(-total, kind="stable")[:k]


class MBRDecoder(ScanpathModel):
    """Any scanpath model, decoded by minimum Bayes risk (:func:`mbr_select`).

    Parameters
    ----------
    model : ScanpathModel
        The model whose samples are the candidates; :meth:`fit` fits it.
    candidates : int, default 32
        Candidates drawn per returned scanpath (MultiMatch runs on all pairs of an image's
        ``n_scanpaths * candidates`` draws, so the cost grows with the square).

    Notes
    -----
    ``predict`` draws ``n_scanpaths * candidates`` scanpaths with the model's ``predict`` and
    the same seed, and keeps ``n_scanpaths`` of them per image, numbered ``0 ..`` in the order
    of their utility; positions, durations and onsets are the drawn ones. A deterministic
    model gains nothing: its candidates are copies.
    """

    def __init__(self, model: ScanpathModel, candidates: int = 32):
        if not isinstance(model, ScanpathModel):
            raise TypeError(f"MBRDecoder wraps a ScanpathModel, got {type(model).__name__}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"candidates must be an integer >= 1, got {candidates!r}")
        self.model, self.candidates = model, int(candidates)
        self.name = model.name
        self.needs_image, self.requires_fit = model.needs_image, model.requires_fit
        self.needs_caption = model.needs_caption

    @property
    def fitted(self) -> bool:  # type: ignore[override]
        """Whether the wrapped model is fitted."""
        return self.model.fitted

    def fit(self, fixations: pd.DataFrame, stimuli: pd.DataFrame | None = None, **kwargs) -> MBRDecoder:
        """Fit the wrapped model (see :meth:`ScanpathModel.fit`).

        Returns
        -------
        MBRDecoder
            ``self``.
        """
        self.model.fit(fixations, stimuli, **kwargs)
        return self

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """The ``n_scanpaths`` best of ``n_scanpaths * candidates`` draws of the model on one image.

        Returns
        -------
        numpy.ndarray
            ``(n_scanpaths, n_fixations, 2)`` positions in stimulus px.
        """
        pos = self.model.generate(image, stimulus, n_scanpaths * self.candidates, n_fixations, rng)
        keep = mbr_select(list(pos), n_scanpaths, (float(stimulus["width"]), float(stimulus["height"])))
        return pos[keep]

    def predict(self, stimuli: pd.DataFrame, n_scanpaths: int, n_fixations: int, seed: int) -> pd.DataFrame:
        """Predict with the wrapped model and keep the ``n_scanpaths`` best scanpaths per image.

        Parameters
        ----------
        stimuli : pandas.DataFrame
            Stimulus table.
        n_scanpaths, n_fixations, seed : int
            As in :meth:`ScanpathModel.predict`.

        Returns
        -------
        pandas.DataFrame
            Fixation table; ``attrs`` adds ``mbr_candidates``.
        """
        check_predict_args(n_scanpaths, n_fixations, seed)
        drawn = self.model.predict(stimuli, n_scanpaths * self.candidates, n_fixations, seed)
        size = stimuli.assign(stimulus=stimuli["stimulus"].astype(str)).set_index("stimulus")
        tables = []
        for name, table in drawn.groupby(drawn["stimulus"].astype(str), sort=False):
            table = table.sort_values(["subject", "fix_index"])
            ids = table["subject"].unique()
            paths = [g[["x", "y"]].to_numpy(float) for _, g in table.groupby("subject", sort=False)]
            keep = mbr_select(paths, n_scanpaths, (float(size.loc[name, "width"]), float(size.loc[name, "height"])))
            renumber = {ids[c]: r for r, c in enumerate(keep)}
            kept = table[table["subject"].isin(renumber)].copy()
            kept["subject"] = kept["subject"].map(renumber)
            tables.append(kept.sort_values(["subject", "fix_index"]))
        out = pd.concat(tables, ignore_index=True) if tables else drawn.iloc[:0].copy()
        out.attrs = {**drawn.attrs, "n_scanpaths": int(n_scanpaths), "mbr_candidates": self.candidates}
        return out

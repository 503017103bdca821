"""studyforrest movie-viewing scanpaths as fixation vectors (Hanke et al. 2016; multimatch-gaze).

Two participants of the studyforrest phase-2 eye-tracking recordings (in-scanner
sample, EyeLink 1000 at 1 kHz) watching the movie *Forrest Gump*, cut into 55
scanpaths per participant. The files are those published with ``multimatch-gaze``
(``adswa/multimatch_gaze``, ``data/``):

``fixvectors/segment_<k>_sub-<id>.tsv``
    Tab-separated ``start_x``, ``start_y`` (px on the 1280 x 720 movie frame,
    origin top-left) and ``duration`` (**seconds**); one file per movie segment
    ``k`` and subject ``id``.
``remodnav_samples/sub-<id>_task-movie_run-<r>_events.tsv``
    REMoDNaV eye-movement events (``onset``, ``duration`` in s, ``label``,
    ``start_x`` ... ``avg_vel``), the first 49 events of two runs of sub-01.

How the fixation vectors were made (``data/code/create_videodata.py`` upstream)
and what it means for the table:

* REMoDNaV (Dar, Wagner & Hanke 2021) classified the 1 kHz gaze into fixations
  (``FIXA``), saccades, post-saccadic oscillations and smooth pursuits (``PURS``).
* Every pursuit was split into two pseudo-fixations of half its duration, one at its
  start and one at its end position; only ``FIXA`` and these halves were kept, and
  events starting off screen were dropped.
* The result was cut at movie shot boundaries into segments of about 4.92 s (the
  median shot length). ``x``, ``y`` are the **start** positions of the events, not
  centroids, and the files carry no onsets: ``t_start`` is NaN.

The loader maps ``start_x`` -> ``x``, ``start_y`` -> ``y``, ``duration`` s -> ms,
``stimulus`` = ``"segment_<k>"``, ``subject`` = the ``sub-<id>`` label,
``trial`` = 0, ``fix_index`` in file order.

``remodnav_samples/`` adds little: it covers only the first seconds of two runs of
one subject. It is not needed for the fixation table, but it is the one place where
the onsets and the event labels behind ``segment_0_sub-01`` can be seen (the tests
rebuild that segment from it), so the loader returns it as
``extras["remodnav_events"]`` (onset and duration in ms) when the folder exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_fixations, validate_stimuli
from gazemodels.datasets.card import DatasetCard
from gazemodels.datasets.readers.tabular import _read_cells, read_fixations
from gazemodels.datasets.registry import Dataset, register
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

FIXVECTOR_COLUMNS = ("start_x", "start_y", "duration")
FIXVECTOR_NAME = re.compile(r"^segment_(\d+)_(sub-[A-Za-z0-9]+)\.tsv$")
REMODNAV_NAME = re.compile(r"^(sub-[A-Za-z0-9]+)_task-movie_run-(\d+)_events\.tsv$")
REMODNAV_COLUMNS = ("onset", "duration", "label", "start_x", "start_y", "end_x", "end_y",
                    "amp", "peak_vel", "med_vel", "avg_vel")
FRAME_WIDTH, FRAME_HEIGHT = 1280, 720


def _read_remodnav(folder: Path) -> pd.DataFrame:
    frames = []
    for p in sorted(folder.glob("*.tsv")):
        m = REMODNAV_NAME.match(p.name)
        if not m:
            raise DatasetFormatError(p, "unexpected file name; expected sub-<id>_task-movie_run-<r>_events.tsv")
        header, rows, lines = _read_cells(p, "\t", "utf-8-sig")
        if tuple(header) != REMODNAV_COLUMNS:
            raise DatasetFormatError(p, f"line 1: expected REMoDNaV columns {list(REMODNAV_COLUMNS)}, got {header}")
        df = pd.DataFrame(rows, columns=header)
        for c in header:
            if c == "label":
                continue
            num = pd.to_numeric(df[c], errors="coerce")
            bad = num.isna() & (df[c].str.strip() != "")
            if bad.any():
                j = int(np.flatnonzero(bad.to_numpy())[0])
                raise DatasetFormatError(p, f"line {lines[j]}, column {c!r}: {df[c].iloc[j]!r} is not a number")
            df[c] = num.astype(float)
        df["onset"] *= 1000.0  # s -> ms
        df["duration"] *= 1000.0
        df.insert(0, "run", int(m.group(2)))
        df.insert(0, "subject", m.group(1))
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@register("studyforrest")
def load_studyforrest(root: Path, card: DatasetCard, *, allow_offscreen: bool = False) -> Dataset:
    """Load the studyforrest fixation vectors.

    Parameters
    ----------
    root : pathlib.Path
        Folder holding ``fixvectors/`` (and optionally ``remodnav_samples/``).
    card : DatasetCard
        The ``studyforrest`` card (geometry).
    allow_offscreen : bool, default False
        Keep fixations outside the 1280 x 720 frame (the release has none; the
        upstream preprocessing dropped them).

    Returns
    -------
    Dataset
        ``fixations``: one row per fixation vector entry, ``duration`` in ms,
        ``t_start`` NaN. ``stimuli``: one row per segment (``path`` None: the movie
        is not distributed). ``extras``: ``files`` (segment, subject, file, number
        of rows) and, when present, ``remodnav_events``.

    Raises
    ------
    DatasetNotFoundError
        If ``fixvectors/`` is missing or empty.
    DatasetFormatError
        For a file of another kind (wrong name or columns), an unparsable number,
        a NaN or off-frame coordinate; the message names the file, line and column.
    """
    root = Path(root)
    folder = root / "fixvectors"
    if not folder.is_dir():
        raise DatasetNotFoundError(f"studyforrest: folder {folder} does not exist (expected fixvectors/*.tsv)")
    entries = []
    for p in folder.iterdir():
        if p.name.startswith(".") or not p.is_file():
            continue
        m = FIXVECTOR_NAME.match(p.name)
        if not m:
            raise DatasetFormatError(
                p, "unexpected file in fixvectors/: names must be segment_<k>_sub-<id>.tsv"
            )
        entries.append((int(m.group(1)), m.group(2), p))
    if not entries:
        raise DatasetNotFoundError(f"studyforrest: no segment_<k>_sub-<id>.tsv files in {folder}")
    entries.sort(key=lambda e: (e[0], e[1]))

    frames, files = [], []
    for seg, sub, p in entries:
        with p.open("r", encoding="utf-8-sig") as fh:
            header = fh.readline().rstrip("\r\n").split("\t")
        if tuple(h.strip() for h in header) != FIXVECTOR_COLUMNS:
            raise DatasetFormatError(
                p, f"line 1: expected the fixation-vector columns {list(FIXVECTOR_COLUMNS)}, got {header}; "
                   "is this a file of another kind (e.g. REMoDNaV events)?"
            )
        df = read_fixations(
            p,
            columns={"x": "start_x", "y": "start_y", "duration": "duration"},
            units={"duration": "s"},
            sep="\t",
            defaults={"stimulus": f"segment_{seg}", "subject": sub, "trial": 0},
            screen=(FRAME_WIDTH, FRAME_HEIGHT),
            allow_offscreen=allow_offscreen,
            keep_unmapped=False,
        )
        frames.append(df)
        files.append({"segment": seg, "subject": sub, "file": p.name, "n_fixations": len(df)})
    fixations = pd.concat(frames, ignore_index=True)

    segs = sorted({e[0] for e in entries})
    stimuli = pd.DataFrame(
        {
            "stimulus": [f"segment_{k}" for k in segs],
            "path": [None] * len(segs),
            "width": FRAME_WIDTH,
            "height": FRAME_HEIGHT,
            "px_per_degree": card.px_per_degree,
            "segment": segs,
        }
    )
    for key in ("screen_width_cm", "distance_cm"):
        if key in card.geometry:
            stimuli[key] = float(card.geometry[key])
    validate_stimuli(stimuli, source=f"studyforrest ({root})")
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=f"studyforrest ({root})")

    extras = {"files": pd.DataFrame(files)}
    rem = root / "remodnav_samples"
    if rem.is_dir():
        extras["remodnav_events"] = _read_remodnav(rem)
    return Dataset(
        name="studyforrest",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=root,
        missing_stimuli=[],
        extras=extras,
    )

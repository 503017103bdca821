"""Reader of SR Research EyeLink ``.asc`` files (the text export of ``.edf`` by ``edf2asc``).

An ``.asc`` file interleaves, one per line:

* header lines ``** KEY: value``;
* ``MSG <time> <text>`` messages (``TRIALID``, ``DISPLAY_COORDS``, ``GAZE_COORDS``,
  ``RECCFG``, calibration reports followed by indented continuation lines);
* recording blocks opened by ``START <time> LEFT|RIGHT ...`` and closed by
  ``END <time> ... RES <xres> <yres>``, each announced by a
  ``SAMPLES GAZE LEFT RIGHT RATE <hz> ... [VEL] [RES] [INPUT]`` line that fixes the
  layout of its sample lines;
* sample lines ``<time> <x> <y> <pupil> [...] <flags>`` with ``.`` for missing values;
* the tracker's own events ``SFIX``/``EFIX``, ``SSACC``/``ESACC``, ``SBLINK``/``EBLINK``;
* ``INPUT``/``BUTTON`` port events.

Conventions of :func:`read_asc`
-------------------------------
* Times are tracker milliseconds as written (``.5`` steps at 2 kHz).
* A fixation's ``t_start`` is its onset relative to the ``START`` line of the
  recording block it lies in; ``t_start_tracker`` keeps the tracker time.
  ``duration`` is the tracker's own value (end - start + one sample period).
* ``stimulus`` is the text of the ``TRIALID`` message most recently preceding the
  event's start line (``SFIX``/``SSACC``/``SBLINK``; its end line when the file has
  no start line for it), or the file stem before any ``TRIALID``. ``trial`` is the
  0-based position of that ``TRIALID`` among the file's ``TRIALID`` messages (0
  before any). ``subject`` is the ``subject`` argument, by default the file stem.
* ``fix_index`` counts fixations per scanpath **and eye**, so a binocular file's
  :attr:`AscRecording.fixations` holds two scanpaths per trial, told apart by
  ``eye``; :meth:`AscRecording.fixation_table` returns one eye's schema table.
* Missing sample values (``.``) are NaN; pupil values are kept as written (EyeLink
  writes 0.0 during blinks).
* Screen size: from ``DISPLAY_COORDS left top right bottom`` (preferred) or
  ``GAZE_COORDS``. EyeLink normally writes the last pixel index (``1279`` on a
  1280-px screen), so the size is ``right - left + 1``; some set-ups write the size
  itself (``1920.00``), recognised because ``right - left + 1`` is then odd.
* Indented lines and ``>>>>>>>`` banners continue the preceding message (its text
  gains a new line); they occur after calibration reports.

Every malformed line raises :class:`~gazemodels.errors.DatasetFormatError` naming
the file and the line number. Lines of an unknown kind do too, unless
``strict=False``, which keeps them in :attr:`AscRecording.unparsed`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS
from gazemodels.data.validate import validate_fixations
from gazemodels.errors import DatasetFormatError

_EYE = {"L": "left", "R": "right"}
_KEYWORDS = frozenset(
    {"MSG", "START", "END", "SAMPLES", "EVENTS", "PRESCALER", "VPRESCALER", "PUPIL", "SFIX", "EFIX",
     "SSACC", "ESACC", "SBLINK", "EBLINK", "INPUT", "BUTTON"}
)


def _num(tok: str) -> float:
    return math.nan if tok == "." else float(tok)


@dataclass
class AscRecording:
    """Content of one EyeLink ``.asc`` file.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    samples : pandas.DataFrame
        One row per sample: ``time`` (ms), then per recorded eye ``x_<eye>``,
        ``y_<eye>`` (px) and ``pupil_<eye>`` (``eye`` is ``left``/``right``);
        ``xv_<eye>``, ``yv_<eye>`` (deg/s) with ``VEL``; ``xres``, ``yres``
        (px/deg) with ``RES``; ``input`` with ``INPUT``; ``flags`` (the text after
        the numbers); ``block`` (0-based recording block).
    fixations : pandas.DataFrame
        The tracker's ``EFIX`` events as a fixation table (schema columns) plus
        ``eye``, ``pupil``, ``t_start_tracker``, ``t_end_tracker`` and ``block``.
    saccades : pandas.DataFrame
        ``ESACC`` events: ``eye``, ``stimulus``, ``trial``, ``t_start``,
        ``t_start_tracker``, ``t_end_tracker``, ``duration``, ``x_start``,
        ``y_start``, ``x_end``, ``y_end`` (px), ``amplitude`` (deg),
        ``peak_velocity`` (deg/s), ``block``.
    blinks : pandas.DataFrame
        ``EBLINK`` events: ``eye``, ``stimulus``, ``trial``, ``t_start``,
        ``t_start_tracker``, ``t_end_tracker``, ``duration``, ``block``.
    messages : pandas.DataFrame
        ``time``, ``text`` (everything after the time stamp, continuation lines
        appended; an offset such as the ``-4`` of ``MSG 2096367 -4 SYNCTIME`` stays in
        the text) and ``line`` (1-based line number).
    inputs : pandas.DataFrame
        ``INPUT`` and ``BUTTON`` lines: ``time``, ``kind``, ``values``, ``line``.
    metadata : dict
        ``header`` (``** KEY: value`` lines), ``sampling_rate`` (Hz; None if the
        blocks differ, see ``sampling_rates``), ``screen`` (width, height) px and
        ``screen_source``, ``display_coords``, ``gaze_coords``, ``tracked_eye``
        (``"left"``, ``"right"`` or ``"binocular"``), ``eyes``, ``pupil_type``,
        ``sample_type`` (``GAZE``/``HREF``), ``blocks`` (start, end, eyes, rate,
        ``resolution`` px/deg from ``END ... RES``), ``recording_config``
        (``RECCFG`` text) and ``unterminated_events`` (start lines without an end).
    unparsed : list of (int, str)
        Lines of an unknown kind, with their line number (``strict=False`` only).
    """

    path: Path
    samples: pd.DataFrame
    fixations: pd.DataFrame
    saccades: pd.DataFrame
    blinks: pd.DataFrame
    messages: pd.DataFrame
    inputs: pd.DataFrame
    metadata: dict
    unparsed: list = field(default_factory=list)

    @property
    def eyes(self) -> tuple[str, ...]:
        """Eyes with samples or events in the file, ``("left",)``, ``("left", "right")`` ..."""
        return tuple(self.metadata.get("eyes", ()))

    def _pick_eye(self, eye: str | None) -> str:
        eyes = self.eyes
        if eye is None:
            if len(eyes) != 1:
                raise ValueError(
                    f"{self.path}: recording has eyes {list(eyes)}; pass eye='left' or eye='right'"
                )
            return eyes[0]
        eye = {"l": "left", "r": "right"}.get(eye.lower(), eye.lower())
        if eye not in eyes:
            raise ValueError(f"{self.path}: no {eye!r} eye in this recording (eyes: {list(eyes)})")
        return eye

    def gaze(self, eye: str | None = None) -> pd.DataFrame:
        """Samples of one eye as ``time``, ``x``, ``y`` (what the fixation detectors take).

        Parameters
        ----------
        eye : {"left", "right"}, optional
            Required for binocular recordings.

        Returns
        -------
        pandas.DataFrame
            Columns ``time`` (ms), ``x``, ``y`` (px; NaN where the tracker lost the eye).
        """
        eye = self._pick_eye(eye)
        return pd.DataFrame(
            {
                "time": self.samples["time"].to_numpy(),
                "x": self.samples[f"x_{eye}"].to_numpy(),
                "y": self.samples[f"y_{eye}"].to_numpy(),
            }
        )

    def fixation_table(self, eye: str | None = None, *, allow_offscreen: bool = True) -> pd.DataFrame:
        """The tracker's fixations of one eye as a validated schema fixation table.

        Parameters
        ----------
        eye : {"left", "right"}, optional
            Required for binocular recordings.
        allow_offscreen : bool, default True
            Passed to :func:`~gazemodels.data.validate_fixations` together with the
            screen size from the metadata (when known).

        Returns
        -------
        pandas.DataFrame
        """
        eye = self._pick_eye(eye)
        fx = self.fixations[self.fixations["eye"] == eye].reset_index(drop=True)
        screen = self.metadata.get("screen")
        stim = None
        if screen is not None and len(fx):
            stim = pd.DataFrame({"stimulus": pd.unique(fx["stimulus"]), "width": screen[0], "height": screen[1]})
        validate_fixations(fx, stim, allow_offscreen=allow_offscreen, source=str(self.path))
        return fx


def _coords_size(vals: list[float]) -> tuple[float, float]:
    left, top, right, bottom = vals
    w, h = right - left + 1, bottom - top + 1
    # EyeLink writes the last pixel index (1279); a few set-ups write the size (1920.00).
    if float(w).is_integer() and int(w) % 2 == 1:
        w -= 1
    if float(h).is_integer() and int(h) % 2 == 1:
        h -= 1
    return (w, h)


class _Parser:
    def __init__(self, path: Path, subject, strict: bool):
        self.path = path
        self.stem = path.stem
        self.subject = self.stem if subject is None else subject
        self.strict = strict
        self.header: dict[str, str] = {}
        self.header_lines: list[str] = []
        self.messages: list[list] = []
        self.inputs: list[tuple] = []
        self.fix: list[tuple] = []
        self.sacc: list[tuple] = []
        self.blink: list[tuple] = []
        self.unparsed: list[tuple[int, str]] = []
        self.blocks: list[dict] = []
        self.layout: dict | None = None
        self.sample_rows: list[list[float]] = []
        self.sample_flags: list[str] = []
        self.sample_block: list[int] = []
        self.block_layouts: list[dict] = []
        self.open_events: dict[tuple[str, str], tuple] = {}
        self.trialid: str | None = None
        self.trial_ord = -1
        self.meta_msgs: dict[str, list] = {"DISPLAY_COORDS": [], "GAZE_COORDS": [], "RECCFG": []}
        self.pupil_type = None
        self.events_line = None

    def fail(self, ln: int, problem: str):
        raise DatasetFormatError(self.path, f"line {ln}: {problem}")

    def floats(self, ln: int, toks: list[str], what: str) -> list[float]:
        try:
            return [_num(t) for t in toks]
        except ValueError:
            bad = next(t for t in toks if t != "." and not _is_float(t))
            self.fail(ln, f"{what}: {bad!r} is not a number")

    # -- context of events ------------------------------------------------
    def context(self):
        stim = self.trialid if self.trialid is not None else self.stem
        return stim, max(self.trial_ord, 0), len(self.blocks) - 1

    def block_start(self, block: int) -> float:
        return self.blocks[block]["start"] if block >= 0 else math.nan

    # -- line kinds ---------------------------------------------------------
    def parse(self, text: str):
        for ln, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            c = line[0]
            if c.isdigit():
                self.sample(ln, line)
            elif line.startswith("**"):
                body = line[2:].strip()
                if body:
                    self.header_lines.append(body)
                    if ": " in body:  # "DATE: ...", not "CONVERTED FROM D:\\..." or "14:43:00"
                        k, v = body.split(": ", 1)
                        self.header.setdefault(k.strip(), v.strip())
            elif c in " \t" or line.startswith(">>>>"):
                if self.messages:
                    self.messages[-1][1] += "\n" + line.strip()
                elif self.strict:
                    self.fail(ln, f"continuation line with no preceding message: {line.strip()[:60]!r}")
                else:
                    self.unparsed.append((ln, line))
            else:
                toks = line.split()
                kw = toks[0]
                if kw not in _KEYWORDS:
                    if self.strict:
                        self.fail(
                            ln,
                            f"not an EyeLink ASC line ({line.strip()[:60]!r}); is this an .asc file? "
                            "Pass strict=False to keep unknown lines in .unparsed",
                        )
                    self.unparsed.append((ln, line))
                    continue
                getattr(self, "kw_" + kw)(ln, line, toks)

    def kw_MSG(self, ln, line, toks):
        parts = line.split(None, 2)
        if len(parts) < 2:
            self.fail(ln, "MSG line without a time stamp")
        t = self.floats(ln, [parts[1]], "MSG time")[0]
        body = parts[2].strip() if len(parts) > 2 else ""
        self.messages.append([t, body, ln])
        words = body.split()
        if words and words[0] == "TRIALID":
            self.trialid = body[len("TRIALID"):].strip()
            self.trial_ord += 1
        elif words and words[0] in self.meta_msgs:
            key = words[0]
            if key == "RECCFG":
                self.meta_msgs[key].append(body[len(key):].strip())
            else:
                vals = self.floats(ln, words[1:5], key)
                if len(vals) != 4:
                    self.fail(ln, f"{key} needs 4 numbers (left top right bottom), got {words[1:]}")
                self.meta_msgs[key].append(vals)

    def kw_START(self, ln, line, toks):
        if len(toks) < 2:
            self.fail(ln, "START line without a time stamp")
        t = self.floats(ln, [toks[1]], "START time")[0]
        eyes = [e.lower() for e in toks[2:] if e in ("LEFT", "RIGHT")]
        self.blocks.append({"start": t, "end": None, "eyes": eyes, "rate": None, "resolution": None,
                            "line": ln})
        self.layout = None

    def kw_END(self, ln, line, toks):
        if len(toks) < 2:
            self.fail(ln, "END line without a time stamp")
        t = self.floats(ln, [toks[1]], "END time")[0]
        if not self.blocks:
            self.fail(ln, "END line without a preceding START")
        self.blocks[-1]["end"] = t
        if "RES" in toks:
            i = toks.index("RES")
            res = self.floats(ln, toks[i + 1:i + 3], "END RES")
            if len(res) == 2:
                self.blocks[-1]["resolution"] = tuple(res)

    def kw_SAMPLES(self, ln, line, toks):
        if not self.blocks:
            self.fail(ln, "SAMPLES line outside a recording block (no START before it)")
        eyes = [e.lower() for e in toks[1:] if e in ("LEFT", "RIGHT")]
        if not eyes:
            self.fail(ln, "SAMPLES line names no eye (LEFT/RIGHT)")
        rate = None
        if "RATE" in toks:
            i = toks.index("RATE")
            if i + 1 >= len(toks):
                self.fail(ln, "SAMPLES line: RATE without a value")
            rate = self.floats(ln, [toks[i + 1]], "SAMPLES RATE")[0]
        self.layout = {
            "eyes": eyes,
            "type": toks[1] if len(toks) > 1 else None,
            "vel": "VEL" in toks,
            "res": "RES" in toks,
            "input": "INPUT" in toks,
            "htarget": "HTARGET" in toks,
        }
        n = 1 + 3 * len(eyes) + (2 * len(eyes) if self.layout["vel"] else 0)
        n += (2 if self.layout["res"] else 0) + (1 if self.layout["input"] else 0)
        self.layout["n"] = n
        cols = ["time"]
        for e in eyes:
            cols += [f"x_{e}", f"y_{e}", f"pupil_{e}"]
        if self.layout["vel"]:
            for e in eyes:
                cols += [f"xv_{e}", f"yv_{e}"]
        if self.layout["res"]:
            cols += ["xres", "yres"]
        if self.layout["input"]:
            cols += ["input"]
        self.layout["cols"] = cols
        self.layout["block"] = len(self.blocks) - 1
        self.blocks[-1]["rate"] = rate
        self.blocks[-1]["sample_eyes"] = eyes
        self.blocks[-1]["sample_type"] = self.layout["type"]
        self.block_layouts.append(self.layout)

    def kw_EVENTS(self, ln, line, toks):
        self.events_line = line.strip()

    def kw_PRESCALER(self, ln, line, toks):
        pass

    kw_VPRESCALER = kw_PRESCALER

    def kw_PUPIL(self, ln, line, toks):
        if len(toks) < 2:
            self.fail(ln, "PUPIL line without a type (AREA or DIAMETER)")
        self.pupil_type = toks[1]

    def kw_INPUT(self, ln, line, toks):
        vals = self.floats(ln, toks[1:], "INPUT")
        if len(vals) < 2:
            self.fail(ln, "INPUT line needs a time and a value")
        self.inputs.append((vals[0], "INPUT", tuple(vals[1:]), ln))

    def kw_BUTTON(self, ln, line, toks):
        vals = self.floats(ln, toks[1:], "BUTTON")
        if len(vals) < 3:
            self.fail(ln, "BUTTON line needs a time, a button and a state")
        self.inputs.append((vals[0], "BUTTON", tuple(vals[1:]), ln))

    def _start_event(self, ln, toks, kind):
        if len(toks) < 3 or toks[1] not in _EYE:
            self.fail(ln, f"S{kind} line needs an eye (L or R) and a time stamp")
        t = self.floats(ln, [toks[2]], f"S{kind} time")[0]
        self.open_events[(kind, toks[1])] = (t,) + self.context()

    def kw_SFIX(self, ln, line, toks):
        self._start_event(ln, toks, "FIX")

    def kw_SSACC(self, ln, line, toks):
        self._start_event(ln, toks, "SACC")

    def kw_SBLINK(self, ln, line, toks):
        self._start_event(ln, toks, "BLINK")

    def _end_event(self, ln, toks, kind, n_min):
        if len(toks) < 2 or toks[1] not in _EYE:
            self.fail(ln, f"E{kind} line needs an eye (L or R)")
        vals = self.floats(ln, toks[2:], f"E{kind}")
        if len(vals) < n_min:
            self.fail(ln, f"E{kind} line has {len(vals)} value(s), expected at least {n_min} "
                          "(truncated line?)")
        opened = self.open_events.pop((kind, toks[1]), None)
        if opened is not None and opened[0] == vals[0]:
            ctx = opened[1:]
        else:
            if opened is not None:  # a start line for another event: put it back
                self.open_events[(kind, toks[1])] = opened
            ctx = self.context()
        return _EYE[toks[1]], vals, ctx

    def kw_EFIX(self, ln, line, toks):
        eye, v, (stim, trial, block) = self._end_event(ln, toks, "FIX", 6)
        res = (v[6], v[7]) if len(v) >= 8 else (math.nan, math.nan)
        self.fix.append((stim, trial, eye, v[0], v[1], v[2], v[3], v[4], v[5], res[0], res[1], block))

    def kw_ESACC(self, ln, line, toks):
        eye, v, (stim, trial, block) = self._end_event(ln, toks, "SACC", 9)
        self.sacc.append((stim, trial, eye, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], block))

    def kw_EBLINK(self, ln, line, toks):
        eye, v, (stim, trial, block) = self._end_event(ln, toks, "BLINK", 3)
        self.blink.append((stim, trial, eye, v[0], v[1], v[2], block))

    def sample(self, ln, line):
        lay = self.layout
        if lay is None:
            self.fail(ln, "sample line before any SAMPLES line (sample layout unknown)")
        toks = line.split()
        n = lay["n"]
        if len(toks) < n:
            self.fail(
                ln,
                f"sample line has {len(toks)} field(s), expected {n} numbers ({', '.join(lay['cols'])}) "
                "then flags (truncated line?)",
            )
        try:
            row = [_num(t) for t in toks[:n]]
        except ValueError:
            k = next(i for i, t in enumerate(toks[:n]) if t != "." and not _is_float(t))
            self.fail(ln, f"sample field {lay['cols'][k]!r} = {toks[k]!r} is not a number")
        self.sample_rows.append(row)
        self.sample_flags.append(" ".join(toks[n:]))
        self.sample_block.append(len(self.block_layouts) - 1)


def _is_float(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def _samples_frame(p: _Parser) -> pd.DataFrame:
    present = {c for lay in p.block_layouts for c in lay["cols"]}
    canonical = ["time"]
    for e in ("left", "right"):
        canonical += [f"x_{e}", f"y_{e}", f"pupil_{e}"]
    for e in ("left", "right"):
        canonical += [f"xv_{e}", f"yv_{e}"]
    canonical += ["xres", "yres", "input"]
    all_cols = [c for c in canonical if c in present or c == "time"]
    n = len(p.sample_rows)
    data = {c: np.full(n, np.nan) for c in all_cols}
    blocks = np.asarray(p.sample_block, dtype=np.int64)
    if n:
        for b, lay in enumerate(p.block_layouts):
            idx = np.flatnonzero(blocks == b)
            if not len(idx):
                continue
            arr = np.asarray([p.sample_rows[i] for i in idx], dtype=float)
            for j, c in enumerate(lay["cols"]):
                data[c][idx] = arr[:, j]
    df = pd.DataFrame(data)
    df["flags"] = pd.array(p.sample_flags, dtype="str") if n else pd.array([], dtype="str")
    block_of_layout = np.asarray([lay["block"] for lay in p.block_layouts], dtype=np.int64)
    df["block"] = block_of_layout[blocks] if n else np.zeros(0, dtype=np.int64)
    return df


def read_asc(path: str | os.PathLike, *, subject=None, strict: bool = True, encoding: str = "latin-1") -> AscRecording:
    """Read an EyeLink ``.asc`` file: samples, the tracker's events, messages and metadata.

    Parameters
    ----------
    path : str or PathLike
        The ``.asc`` file (monocular or binocular, any sampling rate).
    subject : optional
        Value of the ``subject`` column of the event tables; the file stem by default.
    strict : bool, default True
        Raise on lines of an unknown kind; with False keep them in ``.unparsed``.
    encoding : str, default "latin-1"
        Text encoding of messages (EyeLink writes bytes; latin-1 never fails).

    Returns
    -------
    AscRecording

    Raises
    ------
    DatasetFormatError
        If the file is empty, not an ``.asc`` file, or has a malformed or truncated
        line; the message names the file and the line number.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode(encoding)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise DatasetFormatError(path, f"cannot read the file ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise DatasetFormatError(path, f"not {encoding} text (byte offset {e.start})") from None
    if "\x00" in text[:4096]:
        raise DatasetFormatError(path, "binary content: this looks like an .edf file; convert it "
                                       "with SR Research's edf2asc first")
    if not text.strip():
        raise DatasetFormatError(path, "the file is empty; expected an EyeLink .asc export")
    p = _Parser(path, subject, strict)
    p.parse(text)
    if not p.blocks and not p.messages and not p.fix:
        raise DatasetFormatError(path, "no START, MSG or event line: not an EyeLink .asc file")

    samples = _samples_frame(p)

    fix = pd.DataFrame(
        p.fix,
        columns=["stimulus", "trial", "eye", "t_start_tracker", "t_end_tracker", "duration", "x", "y",
                 "pupil", "xres", "yres", "block"],
    )
    fix["subject"] = p.subject
    fix["t_start"] = [
        ts - p.block_start(b) for ts, b in zip(fix["t_start_tracker"], fix["block"])
    ] if len(fix) else np.zeros(0)
    fix["fix_index"] = fix.groupby(["stimulus", "trial", "eye"], sort=False).cumcount().astype(np.int64)
    fix["trial"] = fix["trial"].astype(np.int64)
    extra = ["eye", "pupil", "t_start_tracker", "t_end_tracker", "block"]
    if fix[["xres", "yres"]].notna().any().any():
        extra += ["xres", "yres"]
    fixations = fix[list(FIXATION_COLUMNS) + extra].astype({"x": float, "y": float, "duration": float,
                                                           "t_start": float})

    def events(rows, cols):
        df = pd.DataFrame(rows, columns=["stimulus", "trial", "eye", "t_start_tracker", "t_end_tracker",
                                         "duration"] + cols + ["block"])
        df["trial"] = df["trial"].astype(np.int64)
        df.insert(3, "t_start", [ts - p.block_start(b) for ts, b in zip(df["t_start_tracker"], df["block"])]
                  if len(df) else np.zeros(0))
        return df

    saccades = events(p.sacc, ["x_start", "y_start", "x_end", "y_end", "amplitude", "peak_velocity"])
    blinks = events(p.blink, [])
    messages = pd.DataFrame(p.messages, columns=["time", "text", "line"])
    inputs = pd.DataFrame(p.inputs, columns=["time", "kind", "values", "line"])

    rates = sorted({b["rate"] for b in p.blocks if b.get("rate") is not None})
    eyes_seen = set()
    for b in p.blocks:
        eyes_seen.update(b.get("sample_eyes") or b["eyes"])
    eyes_seen.update(fixations["eye"])
    eyes = tuple(e for e in ("left", "right") if e in eyes_seen)
    screen, source = None, None
    for key in ("DISPLAY_COORDS", "GAZE_COORDS"):
        if p.meta_msgs[key]:
            screen, source = _coords_size(p.meta_msgs[key][0]), key
            break
    metadata = {
        "header": dict(p.header),
        "header_lines": list(p.header_lines),
        "sampling_rate": rates[0] if len(rates) == 1 else None,
        "sampling_rates": rates,
        "screen": screen,
        "screen_source": source,
        "display_coords": p.meta_msgs["DISPLAY_COORDS"][0] if p.meta_msgs["DISPLAY_COORDS"] else None,
        "gaze_coords": p.meta_msgs["GAZE_COORDS"][0] if p.meta_msgs["GAZE_COORDS"] else None,
        "tracked_eye": ("binocular" if len(eyes) == 2 else (eyes[0] if eyes else None)),
        "eyes": eyes,
        "pupil_type": p.pupil_type,
        "sample_type": p.block_layouts[0]["type"] if p.block_layouts else None,
        "events": p.events_line,
        "blocks": [{k: b.get(k) for k in ("start", "end", "eyes", "rate", "resolution", "line")}
                   for b in p.blocks],
        "recording_config": p.meta_msgs["RECCFG"][0] if p.meta_msgs["RECCFG"] else None,
        "unterminated_events": [
            {"kind": k[0], "eye": _EYE[k[1]], "start": v[0]} for k, v in p.open_events.items()
        ],
    }
    return AscRecording(
        path=path,
        samples=samples,
        fixations=fixations,
        saccades=saccades,
        blinks=blinks,
        messages=messages,
        inputs=inputs,
        metadata=metadata,
        unparsed=p.unparsed,
    )

"""Exceptions raised by gazemodels.

Every error names the problem and the place: the file, the row or the scanpath.
"""

from __future__ import annotations


class GazemodelsError(Exception):
    """Base class of all gazemodels errors."""


class FixationTableError(GazemodelsError, ValueError):
    """A fixation or stimulus table breaks the documented schema."""


class DatasetFormatError(GazemodelsError, ValueError):
    """A data file is malformed, truncated, or belongs to another dataset.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    problem : str
        What is wrong, and where inside the file (key, line, row) where known.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DatasetNotFoundError(GazemodelsError, FileNotFoundError):
    """The files of a dataset are not where the user said they are."""


class DownloadError(GazemodelsError, RuntimeError):
    """A dataset could not be downloaded (offline, bad checksum, server error)."""

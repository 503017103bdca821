"""Readers of generic eye-tracking file formats (not datasets, so not in the dataset registry).

* :func:`read_asc` reads an SR Research EyeLink ``.asc`` export: raw samples, the
  tracker's own fixation, saccade and blink events, messages and metadata.
* :func:`read_fixations` / :func:`write_fixations` read and write a fixation table in
  CSV, TSV or Parquet, mapping any tracker's column names and units to the schema.
"""

from gazemodels.datasets.readers.eyelink import AscRecording, read_asc
from gazemodels.datasets.readers.tabular import read_fixations, write_fixations

__all__ = ["AscRecording", "read_asc", "read_fixations", "write_fixations"]

"""gazemodels: computational models of human visual attention and gaze.

Subpackages
-----------
data
    Fixation and stimulus tables, validation, units, AOI mapping, plotting.
datasets
    Loaders for real eye-tracking datasets, described by cards.
"""

__version__ = "0.1.0"

"""Simulation of eye-tracking recordings with known ground truth."""

from gazemodels.simulate.gaze import saccade_duration_ms, simulate_samples
from gazemodels.simulate.scanpaths import OSIE_AMPLITUDE_DEG, OSIE_DURATION_MS, GammaModel, sample_scanpaths

__all__ = [
    "OSIE_AMPLITUDE_DEG",
    "OSIE_DURATION_MS",
    "GammaModel",
    "sample_scanpaths",
    "saccade_duration_ms",
    "simulate_samples",
]

"""Bottom-up saliency maps computed from the image alone (numpy, scipy, opencv).

============================  ===================================================
function                      model
============================  ===================================================
:func:`spectral_residual`     Hou & Zhang (2007): the spectral residual of the
                              log amplitude spectrum
:func:`itti_koch`             Itti, Koch & Niebur (1998): centre-surround
                              contrast of intensity, colour and orientation
============================  ===================================================

Both return a non-negative map of the image size with maximum 1 (all zeros on a
uniform image); :func:`saliency_map` picks one by name.
"""

from gazemodels.saliency.maps import SALIENCY_MAPS, itti_koch, saliency_map, spectral_residual

__all__ = ["SALIENCY_MAPS", "itti_koch", "saliency_map", "spectral_residual"]

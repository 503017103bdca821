"""Selection: item peaks and item regions (the stopping rule's pixels)."""

import numpy as np

from gazemodels.models.search.selection import _regions, item_peaks


def test_item_peaks_take_each_boxs_maximum():
    m = np.zeros((10, 10))
    m[2, 3], m[7, 8], m[0, 9] = 0.5, 0.9, 5.0  # the last lies outside both boxes
    boxes = np.array([[2, 1, 3, 3], [6, 6, 4, 3]])
    np.testing.assert_allclose(item_peaks(m, _regions(boxes, 0.0, 10, 10)), [0.5, 0.9])

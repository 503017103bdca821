"""The margin diagnostic (benchmarks/search_margins.py): the target's lead per layer."""

from __future__ import annotations

import numpy as np
import pytest

from gazemodels.models.search import SearchModelConfig, VisualSearchModel
from gazemodels.stimuli import make_display


@pytest.fixture
def margins_mod(import_benchmark):
    return import_benchmark("search_margins")


def test_a_distinct_target_leads_in_the_top_down_terms(margins_mod):
    img = np.zeros((160, 160, 3), np.uint8)
    boxes = []
    for k, (x, y) in enumerate([(20, 20), (100, 20), (20, 100), (100, 100), (60, 60)]):
        boxes.append((x, y, 24, 24))
        if k == 0:  # a filled square among crosses
            img[y + 4: y + 20, x + 4: x + 20] = 255
        else:
            img[y + 10: y + 14, x + 2: x + 22] = 255
            img[y + 2: y + 22, x + 10: x + 14] = 255
    d = make_display(img, np.array(boxes), 0, condition="test", seed=0, px_per_degree=20.0, stimulus="t")
    model = VisualSearchModel(SearchModelConfig(stages=(2, 3), sigma0_deg=(0.1, 0.2), slope=(0.05, 0.1)))
    row = margins_mod.margins(model, d)
    assert row.shape == (5,)  # two top-down leads, two bottom-up leads, the noise sd
    assert (row[:2] > 0).all() and row[4] > 0

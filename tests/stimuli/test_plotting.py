"""Drawing a search display: boxes, template inset and a scanpath."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from gazemodels.stimuli import generate, plot_search_display  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def display():
    return [d for d in generate("t_vs_l", seed=2, n_per_set_size=1) if d.set_size == 6][0]


def test_boxes_and_template_are_drawn_where_the_display_says(display):
    ax = plot_search_display(display)
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(rects) == display.set_size
    green = matplotlib.colors.to_rgba("limegreen")
    target = [r for r in rects if r.get_edgecolor() == green]
    assert len(target) == 1
    x, y, w, h = display.target_box
    assert (target[0].get_x(), target[0].get_y(), target[0].get_width(), target[0].get_height()) == (x, y, w, h)
    drawn = {(r.get_x(), r.get_y()) for r in rects if r.get_edgecolor() != green}
    assert drawn == {(int(b[0]), int(b[1])) for b in display.distractor_boxes}
    np.testing.assert_array_equal(ax.images[0].get_array(), display.image)
    inset = ax.child_axes[0]
    np.testing.assert_array_equal(inset.images[0].get_array(), display.target)
    assert ax.get_title() == f"{display.condition}, set size 6"
    assert ax.get_xlim() == (0, display.width) and ax.get_ylim() == (display.height, 0)


def test_options_leave_out_the_boxes_and_the_inset_and_draw_a_scanpath(display):
    fix = pd.DataFrame({"stimulus": "d", "subject": 0, "trial": 0, "fix_index": [0, 1, 2],
                        "x": [100.0, 200.0, 300.0], "y": [100.0, 150.0, 120.0], "duration": np.nan})
    ax = plot_search_display(display, boxes=False, template=False, fixations=fix, title="x")
    assert not [p for p in ax.patches if isinstance(p, Rectangle)] and not ax.child_axes
    assert ax.get_title() == "x"
    numbers = sorted(t.get_text() for t in ax.texts)
    assert numbers == ["1", "2", "3"]  # one numbered circle per fixation

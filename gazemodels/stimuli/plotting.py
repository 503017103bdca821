"""Drawing a search display: the image, its item boxes and the target template."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_search_display"]


def plot_search_display(display, ax=None, *, boxes: bool = True, template: bool = True, fixations=None,
                        title: str | None = None):
    """Draw a search display, optionally with a model's or an observer's scanpath on it.

    Parameters
    ----------
    display : SearchDisplay
        The display (:class:`gazemodels.stimuli.SearchDisplay`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    boxes : bool, default True
        Outline the target box (green) and the distractor boxes (grey, dashed).
    template : bool, default True
        Show the target template in an inset at the top right, outside the image.
    fixations : pandas.DataFrame, optional
        One scanpath on this display (columns ``x``, ``y`` in display px), drawn with
        :func:`gazemodels.data.plot_scanpath` (for instance one search of
        :meth:`gazemodels.models.search.VisualSearchModel.search`).
    title : str, optional
        Axes title; default the condition and the set size.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0 * display.height / display.width))
    ax.imshow(display.image, extent=(0, display.width, display.height, 0), origin="upper")
    if boxes:
        for x, y, w, h in np.asarray(display.distractor_boxes).reshape(-1, 4):
            ax.add_patch(Rectangle((x, y), w, h, fill=False, ec="0.6", ls="--", lw=0.8))
        x, y, w, h = display.target_box
        ax.add_patch(Rectangle((x, y), w, h, fill=False, ec="limegreen", lw=1.6))
    if fixations is not None:
        from gazemodels.data.plotting import plot_scanpath

        plot_scanpath(fixations, ax=ax, size=(display.width, display.height), legend=False)
    if template:
        inset = ax.inset_axes((1.02, 0.78, 0.2, 0.2))
        inset.imshow(display.target)
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title("target", fontsize=7)
    ax.set_xlim(0, display.width)
    ax.set_ylim(display.height, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title if title is not None else f"{display.condition}, set size {display.set_size}", fontsize=9)
    return ax

"""Search many displays with several worker processes.

Every search draws from its own generator, seeded by the run's seed and the display's seed
(:meth:`~gazemodels.models.search.VisualSearchModel.search`), so a display's fixations do not
depend on which process searches it or in which order: :func:`run_parallel` returns exactly
the table of :meth:`VisualSearchModel.run`, in the displays' order. Each worker builds the
model once from its config and seed (the random stem of the ``random_stem`` ablation is
seeded, so every worker builds the same one) and runs with ``threads`` torch threads; the
parent keeps at most ``2 * workers`` chunks of displays in flight, so a long generator is
never held in memory whole.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from itertools import islice

import pandas as pd

from gazemodels.models.search.config import SearchModelConfig
from gazemodels.models.search.model import VisualSearchModel

__all__ = ["run_parallel"]

_WORKER: dict = {}


def _init_worker(config: dict, seed: int, threads: int) -> None:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    _WORKER["model"] = VisualSearchModel(SearchModelConfig.from_dict(config), seed=seed)


def _search_chunk(displays: list, seed: int) -> pd.DataFrame:
    return _WORKER["model"].run(displays, seed=seed)


def run_parallel(config: SearchModelConfig, displays: Iterable, *, seed: int, workers: int = 2, threads: int = 1,
                 chunk: int = 8, total: int | None = None, progress: bool | str = False) -> pd.DataFrame:
    """Search displays in ``workers`` processes; the same table as :meth:`VisualSearchModel.run`.

    Parameters
    ----------
    config : SearchModelConfig
        The model's config.
    displays : iterable of SearchDisplay
        Displays with distinct ``stimulus`` names.
    seed : int
        The model's seed and the seed of its searches.
    workers : int, default 2
        Processes (1: search in this process).
    threads : int, default 1
        Torch threads per worker (0: torch's default).
    chunk : int, default 8
        Displays sent to a worker at a time.
    total : int, optional
        Number of displays, for the progress bar of a generator.
    progress : bool or str, default False
        Show a tqdm progress bar (a string is its description).

    Returns
    -------
    pandas.DataFrame
        The fixation tables of every display, in the displays' order.

    Raises
    ------
    ValueError
        If ``workers`` or ``chunk`` is not a positive integer.
    """
    for name, value in (("workers", workers), ("chunk", chunk)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if workers == 1:
        return VisualSearchModel(config, seed=seed).run(displays, seed=seed, progress=progress, total=total)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=progress if isinstance(progress, str) else "search", unit="display", total=total)
    it = iter(displays)
    tables, pending = [], deque()
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(config.to_dict(), int(seed), int(threads))) as pool:
        while True:
            while len(pending) < 2 * workers:
                batch = list(islice(it, chunk))
                if not batch:
                    break
                pending.append((pool.submit(_search_chunk, batch, seed), len(batch)))
            if not pending:
                break
            future, n = pending.popleft()  # in submission order: the result keeps the displays' order
            tables.append(future.result())
            if bar is not None:
                bar.update(n)
    if bar is not None:
        bar.close()
    if not tables:  # no displays: the empty table of run()
        return VisualSearchModel(config, seed=seed).run([], seed=seed)
    return pd.concat(tables, ignore_index=True)

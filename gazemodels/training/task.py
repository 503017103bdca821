"""Trainable tasks: what ``gazemodels fit`` trains, independent of the training loop.

A *task* ties a model to its data. The trainer (:mod:`gazemodels.training.trainer`)
knows nothing about gaze: it asks the task for a model, for the train and
validation datasets, for the loss of a batch and for the validation metrics,
and it turns the fitted network into a
:class:`~gazemodels.models.scanpath.base.ScanpathModel` for
``gazemodels predict --model runs/NAME/best.pt``.

Writing a task
--------------
Subclass :class:`Task`, declare the options that the ``[task]`` table of a
config may hold (with their defaults; the types of the defaults are the types
checked), and register it::

    @register_task("oat-bookcovers")
    class OATBookCovers(Task):
        options = {"data_root": "../shared/data", "d_model": 64, "split_seed": 0,
                   "train_fraction": 0.5, "val_fraction": 0.1}
        path_options = ("data_root",)      # must exist; errors name task.data_root
        metric, mode = "val_seq_score", "max"

        def build_model(self):                 # -> torch.nn.Module
            ...
        def datasets(self):                    # -> Splits(train, val, test)
            ...
        def loss(self, model, batch):          # -> (scalar tensor, {"name": float})
            ...
        def evaluate(self, model, dataset, *, batch_size, device):  # optional
            ...
        def to_scanpath_model(self, model):    # -> ScanpathModel
            ...

The config then names it: ``[task] name = "oat-bookcovers"``. Tasks are found
in modules that are imported anyway when gazemodels looks up a name: every
module of :mod:`gazemodels.models.scanpath` (so a model file can register its
task next to the model) and every module of ``gazemodels.training.tasks`` when
that package exists; a config may also name its own module with
``[task] module = "my_package.my_task"`` (imported before the look-up).

The rules the trainer relies on
-------------------------------
- ``options``: every key of ``[task]`` other than ``name`` and ``module`` must be
  a key of :attr:`Task.options`. A default of ``None`` accepts any type; an
  ``int`` default accepts integers only (not booleans), a ``float`` default
  accepts integers and floats, a ``list``/``dict`` default accepts a list/table.
  Options named in :attr:`Task.path_options` are file or folder paths
  (relative to the working directory) that must exist; an empty string or
  ``None`` means "not given" and is not checked.
- The constructor (``Task(options)``, through :meth:`Task.from_config`) may
  check option values beyond their types and raise :class:`ValueError` naming
  the key (``task.dataset: must be ...``); it runs when the config is checked,
  so it must be cheap: load data in :meth:`Task.datasets`, not there.
- :meth:`Task.build_model` is called after the random generators are seeded
  with ``train.seed``, so the initial weights are reproducible. It is called on
  every process of a distributed run.
- :meth:`Task.datasets` must be deterministic (its split seeds are task
  options), and its datasets map-style: ``len(ds)`` and ``ds[i]``; a plain list
  works. ``ds[i]`` should not draw random numbers (or draw them from a generator
  seeded by ``i``): an interrupted run resumes mid-epoch by skipping the
  batches it had done, so only per-item randomness is reproduced exactly.
- :meth:`Task.collate` turns a list of items into a batch (default
  :func:`torch.utils.data.default_collate`). The trainer moves every tensor in
  the batch (nested in tuples, lists and dicts) to the device before calling
  :meth:`Task.loss`.
- :meth:`Task.loss` returns the **mean** loss over the batch's items, and a dict
  of float metrics for the log (also means over the items). In a distributed
  run each process gets a share of the global batch and the trainer weights the
  shares so that the averaged gradient is that of the global batch's mean loss;
  this holds exactly when the loss is a mean over items.
- :meth:`Task.evaluate` returns the validation metrics, a dict of floats that
  must hold :attr:`Task.metric` (the early-stopping metric; ``mode`` says
  whether lower or higher is better). The default evaluates :meth:`Task.loss`
  over the dataset (item-weighted means, keys prefixed with ``val_``:
  ``val_loss``, ``val_<metric>``). It runs on one process only, in eval mode,
  under ``torch.no_grad``, with random generators seeded from the train seed
  and the epoch and restored afterwards, so it may sample freely.
- :meth:`Task.to_scanpath_model` receives a CPU copy of the trained network
  (unwrapped from DistributedDataParallel, in eval mode) and returns a
  :class:`~gazemodels.models.scanpath.base.ScanpathModel` that can be pickled
  with :func:`torch.save` (its classes importable by module path). The trainer
  calls it whenever the validation metric improves and stores the result in
  ``best.pt`` in the format of :func:`gazemodels.models.save_model`.
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

RESERVED_TASK_KEYS: tuple[str, ...] = ("name", "module")
"""Keys of the ``[task]`` table that are not task options."""


class Splits(NamedTuple):
    """The datasets of a task.

    Attributes
    ----------
    train : Sequence
        Training items (a map-style :class:`torch.utils.data.Dataset` or a list).
    val : Sequence
        Validation items, for early stopping and the best checkpoint.
    test : Sequence or None
        Held-out items that training never looks at (reported by the task's own
        benchmark, not by the trainer).
    """

    train: Any
    val: Any
    test: Any = None


def move_to(batch, device):
    """Move every tensor in a (nested) batch to a device.

    Parameters
    ----------
    batch : object
        A tensor, or tuples, lists, named tuples and dicts of them; other
        objects are returned unchanged.
    device : torch.device or str
        Target device.

    Returns
    -------
    object
        The batch with its tensors on ``device``.
    """
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


class Task(abc.ABC):
    """A trainable task: a model, its data, its loss and its validation metrics.

    Parameters
    ----------
    options : dict
        The task options: :attr:`options` updated with the ``[task]`` table of
        the config (already checked by :func:`gazemodels.training.config.validate_config`).

    Attributes
    ----------
    name : str
        Registry name (set by :func:`register_task`).
    options : dict
        Class attribute: the option names and their defaults. On an instance,
        the resolved option values.
    path_options : tuple of str
        Options that are paths which must exist when the config is checked.
    metric : str
        The validation metric that early stopping and ``best.pt`` follow; a key
        of the dict returned by :meth:`evaluate`.
    mode : {"min", "max"}
        Whether a lower or a higher :attr:`metric` is better.
    find_unused_parameters : bool
        Passed to :class:`~torch.nn.parallel.DistributedDataParallel`: set it to
        True when some parameters that require gradients may get none in a
        step (for example a branch that some batches skip); DDP is slower then.
        Parameters with ``requires_grad=False`` never need it.
    """

    name: ClassVar[str] = ""
    options: ClassVar[dict] = {}
    path_options: ClassVar[tuple[str, ...]] = ()
    metric: ClassVar[str] = "val_loss"
    mode: ClassVar[str] = "min"
    find_unused_parameters: ClassVar[bool] = False

    def __init__(self, options: dict):
        self.options = dict(options)

    @classmethod
    def from_config(cls, section: Mapping) -> Task:
        """Build the task from a (checked) ``[task]`` table.

        Parameters
        ----------
        section : mapping
            The ``[task]`` table; ``name`` and ``module`` are dropped and the
            class defaults fill in the options it does not set.

        Returns
        -------
        Task
        """
        opts = dict(cls.options)
        opts.update({k: v for k, v in section.items() if k not in RESERVED_TASK_KEYS})
        return cls(opts)

    @abc.abstractmethod
    def build_model(self):
        """Build the untrained network.

        Returns
        -------
        torch.nn.Module
        """

    @abc.abstractmethod
    def datasets(self) -> Splits:
        """Load the data and split it, deterministically (split seeds are task options).

        Returns
        -------
        Splits
            ``train``, ``val`` and optionally ``test``.
        """

    def collate(self, items: list):
        """Turn a list of dataset items into a batch.

        Parameters
        ----------
        items : list
            Items ``dataset[i]``.

        Returns
        -------
        object
            The batch; the default is :func:`torch.utils.data.default_collate`.
        """
        from torch.utils.data import default_collate

        return default_collate(items)

    @abc.abstractmethod
    def loss(self, model, batch) -> tuple[Any, dict[str, float]]:
        """The training loss of a batch.

        Parameters
        ----------
        model : torch.nn.Module
            The network (possibly wrapped in DistributedDataParallel: call it,
            do not reach into its attributes).
        batch : object
            A collated batch, its tensors on the training device.

        Returns
        -------
        loss : torch.Tensor
            Scalar: the mean loss over the batch's items.
        metrics : dict of str to float
            Extra numbers for the log, each a mean over the batch's items
            (may be empty).
        """

    def evaluate(self, model, dataset, *, batch_size: int, device) -> dict[str, float]:
        """Validation metrics of the network on a dataset.

        The default is the item-weighted mean of :meth:`loss` and its metrics,
        with keys ``val_loss`` and ``val_<name>``.

        Parameters
        ----------
        model : torch.nn.Module
            The unwrapped network, in eval mode (the trainer calls this under
            ``torch.no_grad``).
        dataset : Sequence
            Usually ``Splits.val``.
        batch_size : int
            The training batch size, for batching the evaluation.
        device : torch.device
            The network's device.

        Returns
        -------
        dict of str to float
            Must contain :attr:`metric`.
        """
        import torch

        n_total = len(dataset)
        if n_total == 0:
            raise ValueError(f"task {self.name!r}: the validation set is empty")
        sums: dict[str, float] = {}
        with torch.no_grad():
            for start in range(0, n_total, batch_size):
                items = [dataset[i] for i in range(start, min(start + batch_size, n_total))]
                batch = move_to(self.collate(items), device)
                loss, metrics = self.loss(model, batch)
                values = {"loss": float(loss), **{k: float(v) for k, v in metrics.items()}}
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v * len(items)
        return {f"val_{k}": v / n_total for k, v in sums.items()}

    @abc.abstractmethod
    def to_scanpath_model(self, model):
        """Wrap the trained network as a scanpath model for ``gazemodels predict``.

        Parameters
        ----------
        model : torch.nn.Module
            A CPU copy of the trained network, in eval mode.

        Returns
        -------
        gazemodels.models.scanpath.base.ScanpathModel
            Picklable with :func:`torch.save`; its ``name`` should be set.
        """


_TASKS: dict[str, type[Task]] = {}
_LOADED = False

TASK_PACKAGES: tuple[str, ...] = ("gazemodels.models.scanpath", "gazemodels.training.tasks")
"""Packages whose modules are imported before a task name is looked up (a missing
package is skipped)."""


def register_task(name: str) -> Callable[[type[Task]], type[Task]]:
    """Register a :class:`Task` subclass under a name (``[task] name = ...``).

    Parameters
    ----------
    name : str
        Registry name, unique.

    Returns
    -------
    callable
        Class decorator returning the class, with ``name`` set.

    Raises
    ------
    ValueError
        If the name is taken by another class, or the class is not a Task.
    """

    def deco(cls: type[Task]) -> type[Task]:
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise ValueError(f"register_task({name!r}): {cls!r} is not a Task subclass")
        old = _TASKS.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"task {name!r} is registered twice ({old.__module__}.{old.__qualname__} "
                             f"and {cls.__module__}.{cls.__qualname__})")
        if cls.mode not in ("min", "max"):
            raise ValueError(f"task {name!r}: mode must be 'min' or 'max', got {cls.mode!r}")
        cls.name = name
        _TASKS[name] = cls
        return cls

    return deco


def _ensure_loaded() -> None:
    global _LOADED
    if _LOADED:
        return
    for pkg_name in TASK_PACKAGES:
        try:
            pkg = importlib.import_module(pkg_name)
        except ModuleNotFoundError as e:
            if e.name == pkg_name:
                continue
            raise
        for mod in pkgutil.iter_modules(pkg.__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{pkg_name}.{mod.name}")
    _LOADED = True


def import_task_module(module: str) -> None:
    """Import a module that registers tasks (``[task] module = ...``).

    Parameters
    ----------
    module : str
        Dotted module name, importable from ``sys.path``.

    Raises
    ------
    ValueError
        Naming ``task.module`` if the module cannot be imported.
    """
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ValueError(f"task.module: cannot import {module!r} ({e})") from None


def list_tasks() -> list[str]:
    """Names of the registered tasks.

    Returns
    -------
    list of str
        Sorted.
    """
    _ensure_loaded()
    return sorted(_TASKS)


def get_task_class(name: str) -> type[Task]:
    """The task class registered under a name.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    type
        A :class:`Task` subclass.

    Raises
    ------
    KeyError
        Naming ``task.name`` and listing the registered tasks.
    """
    if name not in _TASKS:
        _ensure_loaded()
    if name not in _TASKS:
        raise KeyError(f"task.name: unknown task {name!r}; registered tasks: {sorted(_TASKS)}")
    return _TASKS[name]


def option_type_error(key: str, default, value) -> str | None:
    """Check an option value against the type of its default.

    Parameters
    ----------
    key : str
        Dotted key for the message (``task.d_model``).
    default : object
        The default value; ``None`` accepts anything.
    value : object
        The value given.

    Returns
    -------
    str or None
        The error message (``"task.d_model: expected int, got str"``), or None.
    """
    if default is None:
        return None
    ok: bool
    if isinstance(default, bool):
        ok, want = isinstance(value, bool), "bool"
    elif isinstance(default, int):
        ok, want = isinstance(value, int) and not isinstance(value, bool), "int"
    elif isinstance(default, float):
        ok, want = isinstance(value, (int, float)) and not isinstance(value, bool), "float"
    elif isinstance(default, str):
        ok, want = isinstance(value, str), "str"
    elif isinstance(default, Mapping):
        ok, want = isinstance(value, Mapping), "table"
    elif isinstance(default, Sequence):
        ok, want = isinstance(value, (list, tuple)), "list"
    else:
        ok, want = isinstance(value, type(default)), type(default).__name__
    if ok:
        return None
    return f"{key}: expected {want}, got {type(value).__name__} ({value!r})"

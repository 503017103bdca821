"""The training loop of ``gazemodels fit``: deterministic, resumable, optionally distributed.

:func:`fit` trains a :class:`~gazemodels.training.task.Task` from a config
(:mod:`gazemodels.training.config`) into a run folder:

``config.json``
    The resolved config.
``last.pt``, ``best.pt``
    The training checkpoint and the best model (:mod:`gazemodels.training.checkpoint`).
``metrics.csv``
    One row per epoch: ``epoch``, ``step``, ``lr`` (of the epoch's last step), ``train_loss`` and the task's
    training metrics (``train_<name>``, item-weighted means over the epoch), the
    validation metrics (``val_...``), ``best`` (1 on the epochs that improved the
    early-stopping metric) and ``seconds``.
``learning_curves.png``
    Loss and metrics against the epoch.
``summary.json``
    The best metric, its epoch, why training stopped, and the time taken.

Determinism and resuming
------------------------
The random generators of torch, numpy (the legacy global one) and python are
seeded from ``train.seed`` before :meth:`Task.build_model`, and the data order
of epoch ``e`` is a permutation drawn from its own generator seeded from
``(seed, e)`` (:class:`GlobalBatchSampler`), so it does not depend on anything
that happened before. A checkpoint stores the position inside the epoch and the
generator states, and ``resume=True`` restores them and skips the batches
already done: a run killed mid-epoch and resumed ends with the same weights
and metrics as an uninterrupted run, to floating-point tolerance. Validation
runs with generators seeded from ``(seed, epoch)`` and restored afterwards, so
a task may sample during evaluation without moving the training streams.

Distributed training
--------------------
Under ``torchrun`` (``WORLD_SIZE > 1`` in the environment), or when a
:mod:`torch.distributed` process group is already initialised, :func:`fit`
joins the group (gloo on the CPU, NCCL on CUDA), wraps the network in
:class:`~torch.nn.parallel.DistributedDataParallel` and gives every process its
share of each **global** batch of ``train.batch_size`` items (items ``r, r + W,
...`` of the batch go to rank ``r`` of ``W``, like
:class:`~torch.utils.data.DistributedSampler`, but without padding, and
resumable mid-epoch). Each process weights its mean loss by its share of the
batch, so the gradient that DDP averages is the gradient of the global batch's
mean loss: the run follows the same trajectory as one process with the same
global batch. A process whose share of a short last batch is empty computes a
zero-weighted loss on one item, to take part in the gradient exchange. Rank 0
evaluates, writes every file and broadcasts the validation metrics;
checkpoints store every rank's generator states.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import gc
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gazemodels.errors import GazemodelsError
from gazemodels.training.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointError,
    atomic_save,
    atomic_write_text,
    get_rng_state,
    load_checkpoint,
    set_rng_state,
)
from gazemodels.training.config import validate_config
from gazemodels.training.task import Task, get_task_class, move_to


class TrainingError(GazemodelsError, RuntimeError):
    """Training failed (for example the loss became NaN or infinite)."""


def derive_seed(*parts: int) -> int:
    """A 63-bit seed derived from integers (``numpy.random.SeedSequence``), stable across platforms.

    Parameters
    ----------
    *parts : int
        Non-negative integers, e.g. ``(seed, epoch, stream)``.

    Returns
    -------
    int
    """
    lo, hi = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return (int(lo) | (int(hi) << 32)) & (2**63 - 1)


def seed_everything(seed: int) -> None:
    """Seed the global generators of python, numpy and torch (CUDA included).

    Parameters
    ----------
    seed : int
        Non-negative seed.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def isolated_rng(seed: int) -> Iterator[None]:
    """Run a block with the global generators seeded by ``seed``, and restore their states afterwards.

    Parameters
    ----------
    seed : int
        Seed for the block.

    Yields
    ------
    None
    """
    state = get_rng_state()
    seed_everything(seed)
    try:
        yield
    finally:
        set_rng_state(state)


_STREAM_TRAIN, _STREAM_ORDER, _STREAM_EVAL, _STREAM_LOADER = 1, 2, 3, 4


class GlobalBatchSampler:
    """Batches of a seeded per-epoch permutation, each split across the processes.

    Epoch ``e`` visits the items in the order ``torch.randperm(n)`` drawn from a
    generator seeded with ``derive_seed(seed, e, 2)``, cut into global batches of
    ``batch_size`` (the last one may be shorter). Rank ``r`` of ``world_size``
    gets the items ``r, r + world_size, ...`` of each global batch; a rank whose
    share is empty gets the batch's first item with weight 0. Iterating yields
    this rank's index lists from batch :attr:`start_batch` on (set by
    :meth:`set_epoch`), which is how a resumed run skips the batches it had done.

    Parameters
    ----------
    n : int
        Number of training items.
    batch_size : int
        Global batch size.
    seed : int
        Training seed.
    rank, world_size : int
        This process and the number of processes.
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        if n < 1:
            raise ValueError("the training set is empty")
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.epoch, self.start_batch = 0, 0
        self._perm_epoch: int | None = None
        self._perm = None

    @property
    def num_batches(self) -> int:
        """Global batches per epoch."""
        return math.ceil(self.n / self.batch_size)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch, and the first batch that iterating yields.

        Parameters
        ----------
        epoch : int
            Epoch number (0-based).
        start_batch : int, default 0
            Batches of this epoch already done.
        """
        if not 0 <= start_batch <= self.num_batches:
            raise ValueError(f"start_batch {start_batch} outside 0..{self.num_batches}")
        self.epoch, self.start_batch = int(epoch), int(start_batch)

    def permutation(self, epoch: int):
        """The item order of an epoch.

        Parameters
        ----------
        epoch : int
            Epoch number.

        Returns
        -------
        torch.Tensor
            A permutation of ``0 .. n - 1`` (int64).
        """
        import torch

        if self._perm_epoch != epoch:
            g = torch.Generator().manual_seed(derive_seed(self.seed, epoch, _STREAM_ORDER))
            self._perm = torch.randperm(self.n, generator=g)
            self._perm_epoch = epoch
        return self._perm

    def global_batch(self, k: int) -> list[int]:
        """The items of global batch ``k`` of the current epoch.

        Parameters
        ----------
        k : int
            Batch number within the epoch.

        Returns
        -------
        list of int
        """
        perm = self.permutation(self.epoch)
        return perm[k * self.batch_size:(k + 1) * self.batch_size].tolist()

    def share(self, k: int) -> tuple[list[int], int, float]:
        """This rank's share of global batch ``k``.

        Parameters
        ----------
        k : int
            Batch number within the epoch.

        Returns
        -------
        indices : list of int
            Items to load (at least one).
        n_real : int
            How many of them count (0 for a stand-in item).
        weight : float
            Factor for this rank's mean loss: ``world_size * n_real / len(global batch)``.
        """
        batch = self.global_batch(k)
        mine = batch[self.rank::self.world_size]
        n_real = len(mine)
        if not mine:
            mine = batch[:1]
        return mine, n_real, self.world_size * n_real / len(batch)

    def __iter__(self) -> Iterator[list[int]]:
        for k in range(self.start_batch, self.num_batches):
            yield self.share(k)[0]

    def __len__(self) -> int:
        return self.num_batches - self.start_batch

    def state_dict(self, epoch: int, start_batch: int) -> dict:
        """The sampler's state at a position: its seed, sizes, and the seed of that epoch's permutation.

        Parameters
        ----------
        epoch : int
            Current epoch.
        start_batch : int
            Batches of it done.

        Returns
        -------
        dict
        """
        return {"seed": self.seed, "epoch": int(epoch), "start_batch": int(start_batch),
                "order_seed": derive_seed(self.seed, epoch, _STREAM_ORDER), "n": self.n,
                "batch_size": self.batch_size, "world_size": self.world_size}


class Callback:
    """Hooks into the training loop (for tests and tools); every method is optional.

    Each hook receives the :class:`Trainer`; ``trainer.state`` holds the
    position, ``trainer.model`` the (possibly DDP-wrapped) network.
    """

    def on_after_backward(self, trainer: Trainer, loss: float) -> None:
        """After the backward pass of a step (gradients averaged across processes), before the optimiser step.

        Parameters
        ----------
        trainer : Trainer
            The trainer.
        loss : float
            The global batch's mean loss.
        """

    def on_step_end(self, trainer: Trainer) -> None:
        """After an optimiser step and any checkpoint it triggered.

        Parameters
        ----------
        trainer : Trainer
            The trainer.
        """

    def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
        """After an epoch's validation and checkpoint.

        Parameters
        ----------
        trainer : Trainer
            The trainer.
        row : dict
            The epoch's row of ``metrics.csv``.
        """


@dataclass
class TrainState:
    """Where training stands; saved in every checkpoint.

    Attributes
    ----------
    epoch : int
        The current epoch (0-based); equals the number of finished epochs at an epoch boundary.
    batch : int
        Batches of ``epoch`` already done.
    global_step : int
        Optimiser steps done.
    best_value : float or None
        Best early-stopping metric so far.
    best_epoch : int or None
        Epoch (1-based, as in ``metrics.csv``) of the best value.
    bad_epochs : int
        Epochs since the last improvement.
    sums : dict
        Running item-weighted sums of the epoch's training metrics, with ``n`` items.
    history : list of dict
        Rows of ``metrics.csv`` so far.
    finished : bool
        Whether the run has ended (all epochs done or stopped early).
    stop_reason : str
        Why it ended.
    seconds : float
        Training time so far, over all sessions of the run.
    """

    epoch: int = 0
    batch: int = 0
    global_step: int = 0
    best_value: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    sums: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    finished: bool = False
    stop_reason: str = ""
    seconds: float = 0.0


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    out_dir : pathlib.Path
        The run folder.
    metric : str
        The early-stopping metric.
    best_value : float or None
        Its best value.
    best_epoch : int or None
        The epoch (1-based) of the best value.
    epochs_done : int
        Finished epochs.
    global_step : int
        Optimiser steps.
    stop_reason : str
        ``"epochs"`` (all epochs done) or ``"early stopping"``.
    history : list of dict
        The rows of ``metrics.csv``.
    """

    out_dir: Path
    metric: str
    best_value: float | None
    best_epoch: int | None
    epochs_done: int
    global_step: int
    stop_reason: str
    history: list


class _Dist:
    """The process group of a distributed run (a single process when there is none)."""

    def __init__(self, device_cfg: str):
        import torch
        import torch.distributed as dist

        self.owned = False
        env_world = int(os.environ.get("WORLD_SIZE", "1"))
        if dist.is_available() and not dist.is_initialized() and env_world > 1:
            want_cuda = device_cfg.startswith("cuda") or (device_cfg == "auto" and torch.cuda.is_available())
            dist.init_process_group(backend="nccl" if want_cuda else "gloo")
            self.owned = True
        self.active = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        self.rank = dist.get_rank() if self.active else 0
        self.world_size = dist.get_world_size() if self.active else 1
        self.local_rank = int(os.environ.get("LOCAL_RANK", self.rank))
        self.device = self._device(device_cfg)

    def _device(self, cfg: str):
        import torch

        if cfg == "auto":
            cfg = "cuda" if torch.cuda.is_available() else "cpu"
        if cfg.startswith("cuda"):
            if not torch.cuda.is_available():
                raise GazemodelsError(f"train.device: {cfg!r} asked for, but torch sees no CUDA device")
            if cfg == "cuda":
                # an explicit index: torch.cuda.set_device refuses a bare "cuda" device
                index = self.local_rank % torch.cuda.device_count() if self.active else torch.cuda.current_device()
                cfg = f"cuda:{index}"
            dev = torch.device(cfg)
            torch.cuda.set_device(dev)
            return dev
        return torch.device("cpu")

    def broadcast(self, obj):
        """Rank 0's object on every rank."""
        if not self.active:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        """Every rank's object, in rank order, on every rank."""
        if not self.active:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def sum_floats(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (float64)."""
        if not self.active:
            return list(values)
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        if self.device.type == "cuda":
            t = t.to(self.device)
        dist.all_reduce(t)
        return t.cpu().tolist()

    def close(self) -> None:
        if self.owned:
            import torch.distributed as dist

            # every rank reaches the end before any tears its connections down: without the
            # barrier a fast rank's teardown can abort a rank still finishing a collective
            # (gloo: "terminate called without an active exception", seen once in CI)
            if self.active:
                dist.barrier()
            dist.destroy_process_group()


class Trainer:
    """The training loop; use :func:`fit` unless you need the hooks.

    Parameters
    ----------
    config : dict
        A config (checked by :func:`~gazemodels.training.config.validate_config`).
    out_dir : str or os.PathLike
        Run folder.
    resume : bool, default False
        Continue from ``out_dir/last.pt``.
    callbacks : sequence of Callback, optional
        Hooks.
    progress : bool, default True
        Show a tqdm bar on rank 0 (on stderr).
    """

    def __init__(self, config: dict, out_dir, *, resume: bool = False,
                 callbacks: Sequence[Callback] = (), progress: bool = True):
        self.cfg = validate_config(config)
        self.out_dir = Path(out_dir)
        self.resume = bool(resume)
        self.callbacks = list(callbacks)
        self.progress = progress
        self.dist: _Dist | None = None
        self.last_lr = float("nan")

    # -- set-up ---------------------------------------------------------------------------------
    def _prepare_out_dir(self) -> dict | None:
        """On rank 0: check the folder, load the checkpoint. Returns (checkpoint or None, error or None)."""
        last = self.out_dir / "last.pt"
        try:
            if self.resume:
                if not last.exists():
                    raise CheckpointError(f"{last}: no checkpoint to resume (the run was killed before its "
                                          "first checkpoint, or --out is wrong); start it again without --resume")
                ckpt = load_checkpoint(last, self.cfg)
                if ckpt["world_size"] != self.dist.world_size:
                    print(f"gazemodels fit: warning: the checkpoint was written by {ckpt['world_size']} "
                          f"process(es), resuming with {self.dist.world_size}: the data order is the same, "
                          "the per-process random streams are re-seeded", file=sys.stderr)
            else:
                if last.exists():
                    raise CheckpointError(f"{self.out_dir} already holds a run (last.pt): continue it with "
                                          "--resume, or choose another --out")
                ckpt = None
                self.out_dir.mkdir(parents=True, exist_ok=True)
            return {"ckpt": ckpt, "error": None}
        except (CheckpointError, OSError) as e:
            return {"ckpt": None, "error": e}

    def _build_optimizer(self, params):
        import torch

        o = self.cfg["optim"]
        if o["name"] == "sgd":
            return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"],
                                   weight_decay=o["weight_decay"])
        cls = torch.optim.AdamW if o["name"] == "adamw" else torch.optim.Adam
        return cls(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weight_decay"])

    def _lr_factor(self, step: int) -> float:
        o = self.cfg["optim"]
        warm = o["warmup_steps"]
        factor = 1.0
        if warm and step < warm:
            factor = (step + 1) / warm
        if o["scheduler"] == "cosine":
            total = max(1, self.cfg["train"]["epochs"] * self.sampler.num_batches - warm)
            t = min(max(step - warm, 0), total) / total
            lo = o["min_lr_factor"]
            factor *= lo + (1 - lo) * 0.5 * (1 + math.cos(math.pi * t))
        elif o["scheduler"] == "step":
            epoch = step // self.sampler.num_batches
            factor *= o["gamma"] ** (epoch // o["step_epochs"])
        return factor

    def setup(self) -> None:
        """Join the process group, build the task, the network, the data and the optimiser; load the checkpoint."""
        import torch

        tcfg = self.cfg["train"]
        self.dist = _Dist(tcfg["device"])
        self.is_main = self.dist.rank == 0
        if tcfg["deterministic"]:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        prep = self._prepare_out_dir() if self.is_main else None
        prep = self.dist.broadcast(prep)
        if prep["error"] is not None:
            raise prep["error"]
        ckpt = prep["ckpt"]

        self.task: Task = get_task_class(self.cfg["task"]["name"]).from_config(self.cfg["task"])
        seed = tcfg["seed"]
        seed_everything(seed)
        net = self.task.build_model()
        if not isinstance(net, torch.nn.Module):
            raise TrainingError(f"task {self.task.name!r}: build_model returned {type(net).__name__}, "
                                "not a torch.nn.Module")
        self.net = net.to(self.dist.device)
        splits = self.task.datasets()
        self.train_set, self.val_set = splits.train, splits.val
        if len(self.train_set) == 0 or len(self.val_set) == 0:
            raise TrainingError(f"task {self.task.name!r}: empty split (train {len(self.train_set)} items, "
                                f"val {len(self.val_set)})")
        self.sampler = GlobalBatchSampler(len(self.train_set), tcfg["batch_size"], seed,
                                          self.dist.rank, self.dist.world_size)
        self.optimizer = self._build_optimizer(self.net.parameters())
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.state = TrainState()
        if ckpt is not None:
            self._restore(ckpt)
        else:
            seed_everything(derive_seed(seed, self.dist.rank, _STREAM_TRAIN))
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel as DDP

            dev_ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            self.model = DDP(self.net, device_ids=dev_ids,
                             find_unused_parameters=bool(self.task.find_unused_parameters))
        else:
            self.model = self.net
        if self.is_main and ckpt is None:
            atomic_write_text(json.dumps(self.cfg, indent=2) + "\n", self.out_dir / "config.json")

    def _restore(self, ckpt: dict) -> None:
        p = self.out_dir / "last.pt"
        try:
            self.net.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.scheduler.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise CheckpointError(f"{p}: the checkpoint does not fit the network or optimiser of task "
                                  f"{self.task.name!r}: {str(e).splitlines()[0]}") from None
        s = ckpt["sampler"]
        if s["n"] != self.sampler.n:
            raise CheckpointError(f"{p}: the checkpoint was trained on {s['n']} items; the task now gives "
                                  f"{self.sampler.n} (has the data changed?)")
        st = self.state
        st.epoch, st.batch, st.global_step = ckpt["epoch"], ckpt["batch"], ckpt["global_step"]
        st.best_value, st.best_epoch, st.bad_epochs = ckpt["best_value"], ckpt["best_epoch"], ckpt["bad_epochs"]
        st.sums = dict(ckpt["sums"]) if self.is_main else {}
        st.history = list(ckpt["history"])
        st.finished, st.stop_reason, st.seconds = ckpt["finished"], ckpt["stop_reason"], ckpt["seconds"]
        rngs = ckpt["rng"]
        if len(rngs) == self.dist.world_size:
            set_rng_state(rngs[self.dist.rank])
        else:
            seed_everything(derive_seed(self.cfg["train"]["seed"], self.dist.rank, _STREAM_TRAIN, st.global_step))

    # -- checkpoints and logs -------------------------------------------------------------------
    def _reduce_sums(self) -> dict:
        """Sum the running training sums over ranks: rank 0 keeps the total, the others restart from 0."""
        keys = sorted(self.state.sums)
        if self.dist.active:
            keys = sorted(set().union(*self.dist.gather(keys)))
            vals = self.dist.sum_floats([self.state.sums.get(k, 0.0) for k in keys])
            total = dict(zip(keys, vals))
            self.state.sums = dict(total) if self.is_main else {}
            return total
        return dict(self.state.sums)

    def save_last(self) -> None:
        """Write ``last.pt`` (collective: every rank must call it)."""
        rngs = self.dist.gather(get_rng_state())
        sums = self._reduce_sums()
        if not self.is_main:
            return
        st = self.state
        blob = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": self.cfg,
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": st.epoch,
            "batch": st.batch,
            "global_step": st.global_step,
            "rng": rngs,
            "sampler": self.sampler.state_dict(st.epoch, st.batch),
            "world_size": self.dist.world_size,
            "best_value": st.best_value,
            "best_epoch": st.best_epoch,
            "bad_epochs": st.bad_epochs,
            "sums": sums,
            "history": st.history,
            "finished": st.finished,
            "stop_reason": st.stop_reason,
            "seconds": st.seconds + (time.perf_counter() - self._t0),
        }
        atomic_save(blob, self.out_dir / "last.pt")

    def _save_best(self, value: float, epoch: int) -> None:
        import gazemodels

        net = copy.deepcopy(self.net).cpu().eval()
        for p in net.parameters():
            p.grad = None
        with isolated_rng(derive_seed(self.cfg["train"]["seed"], epoch, _STREAM_EVAL, 1)):
            sp = self.task.to_scanpath_model(net)
        if not getattr(sp, "name", ""):
            sp.name = self.task.name
        metric = self.cfg["train"]["early_stopping"]["metric"]
        blob = {
            "format": "gazemodels-model",
            "name": sp.name,
            "family": "scanpath",
            "model": sp,
            "training": {
                "config": self.cfg,
                "task": self.task.name,
                "state_dict": {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()},
                "epoch": epoch,
                "global_step": self.state.global_step,
                "metric": metric,
                "value": value,
                "gazemodels_version": gazemodels.__version__,
            },
        }
        atomic_save(blob, self.out_dir / "best.pt")

    PLOT_EVERY_SECONDS = 60.0
    """During a run, ``learning_curves.png`` is redrawn at an epoch end at most this often
    (drawing takes a fraction of a second); it is always drawn when the run ends."""

    def write_logs(self, plot: bool = True) -> None:
        """Write ``metrics.csv``, and ``learning_curves.png`` when ``plot``, from the history (rank 0).

        Parameters
        ----------
        plot : bool, default True
            Also draw the learning curves.
        """
        rows = self.state.history
        cols: list[str] = []
        for r in rows:
            cols.extend(k for k in r if k not in cols)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
        atomic_write_text(buf.getvalue(), self.out_dir / "metrics.csv")
        if rows and plot:
            plot_learning_curves(rows, self.out_dir / "learning_curves.png",
                                 metric=self.cfg["train"]["early_stopping"]["metric"])
            self._last_plot = time.perf_counter()

    # -- the loop -------------------------------------------------------------------------------
    def _loader(self, epoch: int):
        import torch
        from torch.utils.data import DataLoader

        g = torch.Generator().manual_seed(derive_seed(self.cfg["train"]["seed"], epoch, _STREAM_LOADER,
                                                      self.dist.rank))
        nw = self.cfg["train"]["num_workers"]
        return DataLoader(self.train_set, batch_sampler=self.sampler, collate_fn=self.task.collate,
                          num_workers=nw, generator=g, worker_init_fn=_seed_worker if nw else None,
                          pin_memory=self.dist.device.type == "cuda")

    def _train_step(self, k: int, batch) -> float:
        import torch

        _, n_real, weight = self.sampler.share(k)
        batch = move_to(batch, self.dist.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.task.loss(self.model, batch)
        if not (isinstance(loss, torch.Tensor) and loss.dim() == 0):
            raise TrainingError(f"task {self.task.name!r}: loss must return a scalar tensor, "
                                f"got {type(loss).__name__} {getattr(loss, 'shape', '')}")
        (loss * weight).backward()
        local = float(loss.detach()) * weight
        glob = self.dist.sum_floats([local])[0] / self.dist.world_size if self.dist.active else local
        if not math.isfinite(glob):
            raise TrainingError(f"the training loss is {glob} at epoch {self.state.epoch + 1}, step "
                                f"{self.state.global_step + 1}; lower optim.lr or check the data")
        for cb in self.callbacks:
            cb.on_after_backward(self, glob)
        clip = self.cfg["optim"]["grad_clip"]
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), clip)
        self.last_lr = float(self.optimizer.param_groups[0]["lr"])
        self.optimizer.step()
        self.scheduler.step()
        sums = self.state.sums
        values = {"loss": float(loss.detach()), **{k2: float(v) for k2, v in metrics.items()}}
        for key, v in values.items():
            sums[key] = sums.get(key, 0.0) + v * n_real
        sums["n"] = sums.get("n", 0.0) + n_real
        return glob

    def _on_main(self, fn, *args):
        """Run ``fn`` on rank 0 only; an exception there is raised on every rank (no rank waits forever)."""
        result, error = None, None
        if self.is_main:
            try:
                result = fn(*args)
            except Exception as e:  # re-raised below, on every rank
                error = e
        if self.dist.active:
            error = self.dist.broadcast(error if error is None else
                                        (error if _picklable(error) else TrainingError(f"rank 0: {error!r}")))
        if error is not None:
            raise error
        return result

    def _validate(self, epoch: int) -> dict:
        import torch

        def evaluate():
            net = self.net
            was_training = net.training
            net.eval()
            try:
                with torch.no_grad(), isolated_rng(derive_seed(self.cfg["train"]["seed"], epoch, _STREAM_EVAL)):
                    out = self.task.evaluate(net, self.val_set, batch_size=self.cfg["train"]["batch_size"],
                                             device=self.dist.device)
            finally:
                net.train(was_training)
            return {k: float(v) for k, v in out.items()}

        metrics = self._on_main(evaluate)
        metrics = self.dist.broadcast(metrics)
        name = self.cfg["train"]["early_stopping"]["metric"]
        if name not in metrics:
            raise TrainingError(f"train.early_stopping.metric: the task's evaluate gives no {name!r}; "
                                f"it gives {sorted(metrics)}")
        return metrics

    def _end_epoch(self, epoch_seconds: float) -> tuple[dict, bool]:
        st = self.state
        es = self.cfg["train"]["early_stopping"]
        totals = self._reduce_sums()
        n = totals.pop("n", 0.0) or 1.0
        row = {"epoch": st.epoch + 1, "step": st.global_step, "lr": self.last_lr}
        row.update({f"train_{k}": v / n for k, v in sorted(totals.items())})
        val = self._validate(st.epoch + 1)
        row.update(val)
        value = val[es["metric"]]
        if not math.isfinite(value):
            raise TrainingError(f"the validation metric {es['metric']} is {value} after epoch {st.epoch + 1}")
        improved = st.best_value is None or (
            value < st.best_value - es["min_delta"] if es["mode"] == "min" else value > st.best_value + es["min_delta"])
        row["best"] = int(improved)
        row["seconds"] = epoch_seconds
        if improved:
            st.best_value, st.best_epoch, st.bad_epochs = value, st.epoch + 1, 0
            self._on_main(self._save_best, value, st.epoch + 1)
        else:
            st.bad_epochs += 1
        st.history.append(row)
        st.epoch += 1
        st.batch = 0
        st.sums = {}
        stop = es["patience"] > 0 and st.bad_epochs >= es["patience"]
        if stop:
            st.finished, st.stop_reason = True, "early stopping"
        elif st.epoch >= self.cfg["train"]["epochs"]:
            st.finished, st.stop_reason = True, "epochs"
        return row, stop

    def run(self) -> FitResult:
        """Train until the last epoch or early stopping.

        Returns
        -------
        FitResult
        """
        import torch

        self._t0 = self._last_plot = time.perf_counter()
        saved = (torch.are_deterministic_algorithms_enabled(),
                 torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark)
        try:
            if self.dist is None:
                self.setup()
            return self._run()
        finally:
            torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
            torch.backends.cudnn.benchmark = saved[2]
            if self.dist is not None:
                if getattr(self, "model", None) is not getattr(self, "net", None):
                    # release DDP's reducer, whose gloo work objects hold tensors, while the
                    # process group and the interpreter are alive: gloo threads that still own
                    # Python tensors at interpreter exit abort the process (pytorch/pytorch#179291)
                    self.model = self.net
                    gc.collect()
                self.dist.close()

    def _run(self) -> FitResult:
        from tqdm.auto import tqdm

        st = self.state
        tcfg = self.cfg["train"]
        every = tcfg["checkpoint_every_steps"]
        if st.finished and st.epoch < tcfg["epochs"] and st.stop_reason == "epochs":
            st.finished, st.stop_reason = False, ""
        self.net.train()
        while not st.finished:
            epoch_t0 = time.perf_counter()
            self.sampler.set_epoch(st.epoch, st.batch)
            nb = self.sampler.num_batches
            bar = tqdm(total=nb, initial=st.batch, desc=f"epoch {st.epoch + 1}/{tcfg['epochs']}", unit="batch",
                       file=sys.stderr, disable=None if (self.progress and self.is_main) else True, leave=False)
            for k, batch in enumerate(self._loader(st.epoch), start=st.batch):
                loss = self._train_step(k, batch)
                st.global_step += 1
                st.batch = k + 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4g}")
                if every and st.global_step % every == 0 and st.batch < nb:
                    self.save_last()
                for cb in self.callbacks:
                    cb.on_step_end(self)
            bar.close()
            row, _ = self._end_epoch(time.perf_counter() - epoch_t0)
            self.save_last()
            self._on_main(self.write_logs, not st.finished
                          and time.perf_counter() - self._last_plot > self.PLOT_EVERY_SECONDS)
            if self.is_main:
                if self.progress:
                    shown = ", ".join(f"{k} {v:.4g}" for k, v in row.items()
                                      if k.startswith(("train_loss", "val_")))
                    print(f"epoch {row['epoch']}/{tcfg['epochs']}: {shown}", file=sys.stderr)
            for cb in self.callbacks:
                cb.on_epoch_end(self, row)
        metric = tcfg["early_stopping"]["metric"]
        if self.is_main:
            self.write_logs()
            summary = {
                "task": self.task.name,
                "metric": metric,
                "mode": tcfg["early_stopping"]["mode"],
                "best_value": st.best_value,
                "best_epoch": st.best_epoch,
                "epochs_done": st.epoch,
                "global_step": st.global_step,
                "stop_reason": st.stop_reason,
                "world_size": self.dist.world_size,
                "seconds": st.seconds + (time.perf_counter() - self._t0),
            }
            atomic_write_text(json.dumps(summary, indent=2) + "\n", self.out_dir / "summary.json")
        return FitResult(self.out_dir, metric, st.best_value, st.best_epoch, st.epoch, st.global_step,
                         st.stop_reason, list(st.history))


def _picklable(obj) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(obj))
    except Exception:  # any failure means: send a plain TrainingError instead
        return False
    return True


def _seed_worker(worker_id: int) -> None:
    import torch

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def plot_learning_curves(rows: list[dict], path, metric: str | None = None) -> None:
    """Plot the loss and every metric against the epoch (matplotlib, Agg backend).

    Parameters
    ----------
    rows : list of dict
        Rows of ``metrics.csv``.
    path : str or os.PathLike
        PNG file.
    metric : str, optional
        The early-stopping metric; its best epoch is marked.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    names = []
    for r in rows:
        for k in r:
            if k.startswith(("train_", "val_")):
                base = k.split("_", 1)[1]
                if base not in names:
                    names.append(base)
    n = max(1, len(names))
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    best = [r["epoch"] for r in rows if r.get("best")]
    for ax, base in zip(axes.ravel(), names):
        for split, style in (("train", "-o"), ("val", "-s")):
            ys = [r.get(f"{split}_{base}", float("nan")) for r in rows]
            if any(np.isfinite(ys)):
                ax.plot(epochs, ys, style, ms=3, label=split)
        if metric and metric.split("_", 1)[-1] == base and best:
            ax.axvline(best[-1], color="grey", ls=":", label=f"best (epoch {best[-1]})")
        ax.set_title(base)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def fit(config: dict, out_dir, *, resume: bool = False, callbacks: Sequence[Callback] = (),
        progress: bool = True) -> FitResult:
    """Train a task from a config into a run folder (see the module docstring).

    Parameters
    ----------
    config : dict
        The config (parsed TOML or resolved).
    out_dir : str or os.PathLike
        Run folder.
    resume : bool, default False
        Continue the run in ``out_dir`` from its ``last.pt``.
    callbacks : sequence of Callback, optional
        Hooks into the loop.
    progress : bool, default True
        Show progress on rank 0.

    Returns
    -------
    FitResult

    Raises
    ------
    gazemodels.training.config.ConfigError
        For an invalid config.
    gazemodels.training.checkpoint.CheckpointError
        When resuming without a usable checkpoint, or starting over a run's folder.
    TrainingError
        When the loss or the validation metric is not finite.
    """
    return Trainer(config, out_dir, resume=resume, callbacks=callbacks, progress=progress).run()

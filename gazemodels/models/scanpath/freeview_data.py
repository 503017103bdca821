"""Data preparation of the fixation-conditioned free-viewing model (:mod:`~gazemodels.models.scanpath.freeview`).

Three pieces, shared by the model's ``fit``/``predict`` and by the ``freeview`` task of
``gazemodels fit``:

- **model input.** Every image is resized to one input size (default 240 x 320 px,
  ``(height, width)``), whatever its aspect ratio; fixations are mapped into that frame by
  the per-axis scale factors, and the model's pixels per degree are the stimulus's times
  ``sqrt(sx * sy)`` (:class:`Geometry`). OSIE's 800 x 600 px images at 24 px/deg become
  320 x 240 px at 9.6 px/deg.
- **cached stem features.** The frozen, ImageNet-trained EfficientNet-lite0 stem is the
  expensive part of the network and never changes during training, so its feature map is
  computed once per image and stored in a cache folder (:class:`FeatureCache`; default
  ``~/.cache/gazemodels/freeview-features``, one ``.pt`` file per image, keyed by the image
  file, its size and modification time, the input size and a digest of the stem's weights).
- **transitions.** A scanpath of ``n`` fixations gives ``n - 1`` transitions: the history
  (the current fixation and up to ``history - 1`` fixations before it) and the next
  fixation with its duration (:func:`build_transitions`). Fixation 0 is never a target:
  in OSIE, as in most free-viewing data, it is the fixation on the central fixation cross
  at trial onset. Training items are *images*, each with all its transitions
  (:class:`ImageTransitions`), so the image part of the network runs once per image and step.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gazemodels.data.schema import SCANPATH_KEYS

__all__ = [
    "DEFAULT_CACHE_DIR",
    "FeatureCache",
    "Geometry",
    "ImageTransitions",
    "build_transitions",
    "collate_images",
    "image_to_input",
]

DEFAULT_CACHE_DIR = Path(os.environ.get("GAZEMODELS_CACHE", Path.home() / ".cache" / "gazemodels")) / (
    "freeview-features"
)
"""Default folder of the cached stem feature maps (``$GAZEMODELS_CACHE/freeview-features``,
``~/.cache/gazemodels/freeview-features`` when the variable is unset)."""


@dataclass(frozen=True)
class Geometry:
    """The map from a stimulus's pixels to the model's input frame.

    Attributes
    ----------
    width, height : float
        Stimulus size, px.
    px_per_degree : float
        Stimulus pixels per degree.
    input_hw : (int, int)
        Model input (height, width), px.
    """

    width: float
    height: float
    px_per_degree: float
    input_hw: tuple[int, int]

    @classmethod
    def of(cls, stimulus: pd.Series, input_hw: tuple[int, int]) -> Geometry:
        """The geometry of a stimulus-table row.

        Parameters
        ----------
        stimulus : pandas.Series
            Row with ``width``, ``height``, ``px_per_degree``.
        input_hw : (int, int)
            Model input size.

        Returns
        -------
        Geometry
        """
        return cls(float(stimulus["width"]), float(stimulus["height"]), float(stimulus["px_per_degree"]),
                   (int(input_hw[0]), int(input_hw[1])))

    @property
    def scale(self) -> np.ndarray:
        """Model px per stimulus px along x and y.

        Returns
        -------
        numpy.ndarray
            ``(sx, sy)``.
        """
        return np.array([self.input_hw[1] / self.width, self.input_hw[0] / self.height])

    @property
    def model_ppd(self) -> float:
        """Model pixels per degree, ``px_per_degree * sqrt(sx * sy)``.

        Returns
        -------
        float
        """
        sx, sy = self.scale
        return self.px_per_degree * math.sqrt(sx * sy)

    def to_model(self, xy: np.ndarray) -> np.ndarray:
        """Stimulus px to model px (clipped onto the input frame).

        Parameters
        ----------
        xy : array_like
            ``(..., 2)`` stimulus px.

        Returns
        -------
        numpy.ndarray
            ``(..., 2)`` model px.
        """
        out = np.asarray(xy, dtype=float) * self.scale
        out[..., 0] = np.clip(out[..., 0], 0.0, self.input_hw[1])
        out[..., 1] = np.clip(out[..., 1], 0.0, self.input_hw[0])
        return out

    def to_stimulus(self, xy: np.ndarray) -> np.ndarray:
        """Model px to stimulus px (clipped onto the stimulus).

        Parameters
        ----------
        xy : array_like
            ``(..., 2)`` model px.

        Returns
        -------
        numpy.ndarray
            ``(..., 2)`` stimulus px.
        """
        out = np.asarray(xy, dtype=float) / self.scale
        out[..., 0] = np.clip(out[..., 0], 0.0, self.width)
        out[..., 1] = np.clip(out[..., 1], 0.0, self.height)
        return out


def image_to_input(image: np.ndarray, input_hw: tuple[int, int]) -> torch.Tensor:
    """An RGB ``uint8`` image as the model's input tensor.

    Parameters
    ----------
    image : numpy.ndarray
        ``(height, width, 3)`` ``uint8`` (as :func:`~gazemodels.models.scanpath.base.load_image` gives).
    input_hw : (int, int)
        Model input (height, width).

    Returns
    -------
    torch.Tensor
        ``(3, input_h, input_w)`` float32 in [0, 1]: Pillow's bilinear resize (antialiased
        when shrinking).
    """
    from PIL import Image

    h, w = int(input_hw[0]), int(input_hw[1])
    im = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if im.size != (w, h):
        im = im.resize((w, h), Image.BILINEAR)
    arr = np.asarray(im, dtype=np.float32) / 255.0
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def _stem_digest(stem: torch.nn.Module) -> str:
    h = hashlib.sha1()
    for name, t in stem.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class FeatureCache:
    """Stem feature maps of images, computed once and stored on disk.

    Parameters
    ----------
    stem : torch.nn.Module
        The frozen stem (``GazeBackbone.stem``): ``stem(images) -> (B, C, h, w)``.
    input_hw : (int, int)
        Model input (height, width).
    cache_dir : str or os.PathLike, optional
        Folder of the cache; :data:`DEFAULT_CACHE_DIR` when None; ``""`` disables the disk
        cache (features are computed every time).
    batch_size : int, default 16
        Images per stem call.

    Notes
    -----
    A file's key is the SHA-1 of the image's resolved path, its size in bytes and its
    modification time, the stimulus size it is resized from, the input size, and a digest of
    the stem's weights: a changed image or stem never reads a stale entry.
    """

    def __init__(self, stem: torch.nn.Module, input_hw: tuple[int, int], cache_dir=None, batch_size: int = 16):
        self.stem = stem
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.cache_dir = DEFAULT_CACHE_DIR if cache_dir is None else (Path(cache_dir) if str(cache_dir) else None)
        self.batch_size = int(batch_size)
        self._digest: str | None = None

    def _key(self, path: str, size: tuple[int, int]) -> str:
        if self._digest is None:
            self._digest = _stem_digest(self.stem)
        p = Path(path).resolve()
        st = p.stat()
        raw = f"{p}|{st.st_size}|{st.st_mtime_ns}|{size}|{self.input_hw}|{self._digest}"
        return hashlib.sha1(raw.encode()).hexdigest()

    @torch.no_grad()
    def compute(self, images: list[np.ndarray]) -> torch.Tensor:
        """Feature maps of in-memory images (no cache).

        Parameters
        ----------
        images : list of numpy.ndarray
            RGB ``uint8`` images.

        Returns
        -------
        torch.Tensor
            ``(n, C, h, w)`` float32.
        """
        was = self.stem.training
        self.stem.eval()
        out = []
        for i in range(0, len(images), self.batch_size):
            x = torch.stack([image_to_input(im, self.input_hw) for im in images[i:i + self.batch_size]])
            out.append(self.stem(x).float())
        self.stem.train(was)
        return torch.cat(out)

    def get(self, stimuli: pd.DataFrame, progress: bool = False) -> torch.Tensor:
        """Feature maps of the images of a stimulus table, from the cache where possible.

        Parameters
        ----------
        stimuli : pandas.DataFrame
            Rows with ``path``, ``width``, ``height`` (the image is read at that size, as
            :meth:`ScanpathModel.predict <gazemodels.models.scanpath.base.ScanpathModel.predict>`
            reads it, then resized to the input size).
        progress : bool
            Show a progress bar on stderr.

        Returns
        -------
        torch.Tensor
            ``(len(stimuli), C, h, w)`` float32, in row order.
        """
        import sys

        from tqdm.auto import tqdm

        from gazemodels.models.scanpath.base import load_image

        rows = list(stimuli.itertuples(index=False))
        feats: list[torch.Tensor | None] = [None] * len(rows)
        todo = []
        for i, r in enumerate(rows):
            size = (round(float(r.width)), round(float(r.height)))
            if self.cache_dir is not None:
                f = self.cache_dir / f"{self._key(r.path, size)}.pt"
                if f.is_file():
                    try:
                        feats[i] = torch.load(f, map_location="cpu", weights_only=True)
                        continue
                    except Exception:  # a torn or foreign file: recompute it  # noqa: BLE001
                        pass
            todo.append(i)
        bar = tqdm(total=len(todo), desc="stem features", unit="image", file=sys.stderr,
                   disable=not progress or not todo)
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            ims = [load_image(rows[i].path, size=(round(float(rows[i].width)), round(float(rows[i].height))))
                   for i in idx]
            fm = self.compute(ims)
            for j, i in enumerate(idx):
                feats[i] = fm[j].clone()
                if self.cache_dir is not None:
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    size = (round(float(rows[i].width)), round(float(rows[i].height)))
                    dst = self.cache_dir / f"{self._key(rows[i].path, size)}.pt"
                    tmp = dst.with_suffix(f".tmp{os.getpid()}")
                    torch.save(feats[i], tmp)
                    os.replace(tmp, dst)
            bar.update(len(idx))
        bar.close()
        return torch.stack(feats) if feats else torch.empty(0)


@dataclass
class Transitions:
    """Every transition of a set of scanpaths, in the model's frame.

    Attributes
    ----------
    image : numpy.ndarray
        ``(T,)`` int: index of the transition's image in the stimulus list.
    history : numpy.ndarray
        ``(T, K, 2)`` model px: the current fixation first, then the earlier ones, most
        recent first; zeros where ``mask`` is False.
    mask : numpy.ndarray
        ``(T, K)`` bool: which history slots hold a fixation.
    target : numpy.ndarray
        ``(T, 2)`` model px of the next fixation.
    duration : numpy.ndarray
        ``(T,)`` ms, the next fixation's duration (NaN where unknown).
    """

    image: np.ndarray
    history: np.ndarray
    mask: np.ndarray
    target: np.ndarray
    duration: np.ndarray


def build_transitions(
    fixations: pd.DataFrame,
    stimuli: pd.DataFrame,
    history: int,
    input_hw: tuple[int, int],
) -> Transitions:
    """The transitions of every scanpath whose stimulus is in ``stimuli``.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table (``stimulus, subject, trial, fix_index, x, y, duration``).
    stimuli : pandas.DataFrame
        Stimulus table; the transition's ``image`` is the row number here.
    history : int
        Fixations in the history, the current one included (>= 1).
    input_hw : (int, int)
        Model input size.

    Returns
    -------
    Transitions
        Scanpaths of one fixation give none; rows with NaN positions are dropped first.
    """
    if history < 1:
        raise ValueError(f"history must be >= 1, got {history}")
    stim = stimuli.reset_index(drop=True)
    index = {str(s): i for i, s in enumerate(stim["stimulus"].astype(str))}
    geoms = [Geometry.of(r, input_hw) for _, r in stim.iterrows()]
    fx = fixations.assign(stimulus=fixations["stimulus"].astype(str))
    fx = fx[fx["stimulus"].isin(index) & fx["x"].notna() & fx["y"].notna()]
    fx = fx.sort_values([*SCANPATH_KEYS, "fix_index"], kind="stable")
    out = {"image": [], "history": [], "mask": [], "target": [], "duration": []}
    dur_col = "duration" in fx.columns
    for key, sp in fx.groupby(list(SCANPATH_KEYS), sort=False):
        n = len(sp)
        if n < 2:
            continue
        i_img = index[str(key[0])]
        xy = geoms[i_img].to_model(sp[["x", "y"]].to_numpy(float))
        dur = sp["duration"].to_numpy(float) if dur_col else np.full(n, np.nan)
        hist = np.zeros((n - 1, history, 2))
        mask = np.zeros((n - 1, history), dtype=bool)
        for k in range(history):
            src = np.arange(n - 1) - k  # current fixation of transition t is t; k steps back
            ok = src >= 0
            hist[ok, k] = xy[src[ok]]
            mask[ok, k] = True
        out["image"].append(np.full(n - 1, i_img))
        out["history"].append(hist)
        out["mask"].append(mask)
        out["target"].append(xy[1:])
        out["duration"].append(dur[1:])
    if not out["image"]:
        return Transitions(np.zeros(0, int), np.zeros((0, history, 2)), np.zeros((0, history), bool),
                           np.zeros((0, 2)), np.zeros(0))
    return Transitions(*(np.concatenate(out[k]) for k in ("image", "history", "mask", "target", "duration")))


class ImageTransitions(torch.utils.data.Dataset):
    """Training items, one per image: its cached features and all its transitions.

    Parameters
    ----------
    features : torch.Tensor
        ``(n_images, C, h, w)`` stem features.
    ppd : numpy.ndarray
        ``(n_images,)`` model pixels per degree.
    transitions : Transitions
        Transitions whose ``image`` indexes ``features``; images without transitions are
        left out of the items.
    """

    def __init__(self, features: torch.Tensor, ppd: np.ndarray, transitions: Transitions):
        self.features = features
        self.ppd = torch.as_tensor(np.asarray(ppd, dtype=np.float32))
        tr = transitions
        order = np.argsort(tr.image, kind="stable")
        img = tr.image[order]
        self.images = np.unique(img)
        starts = np.searchsorted(img, self.images, side="left")
        ends = np.searchsorted(img, self.images, side="right")
        self._slices = list(zip(starts, ends))
        self.history = torch.as_tensor(tr.history[order], dtype=torch.float32)
        self.mask = torch.as_tensor(tr.mask[order])
        self.target = torch.as_tensor(tr.target[order], dtype=torch.float32)
        self.duration = torch.as_tensor(tr.duration[order], dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_transitions(self) -> int:
        """Number of transitions over all items.

        Returns
        -------
        int
        """
        return int(self.history.shape[0])

    def __getitem__(self, i: int) -> dict:
        a, b = self._slices[i]
        img = int(self.images[i])
        return {"features": self.features[img], "ppd": self.ppd[img], "history": self.history[a:b],
                "mask": self.mask[a:b], "target": self.target[a:b], "duration": self.duration[a:b]}


def collate_images(items: list[dict]) -> dict:
    """Batch image items: stacked features and the transitions padded to the longest item.

    Parameters
    ----------
    items : list of dict
        :class:`ImageTransitions` items.

    Returns
    -------
    dict
        ``features (B, C, h, w)``, ``ppd (B,)``, and per image and transition slot (T the most
        transitions of an item): ``history (B, T, K, 2)``, ``mask (B, T, K)``, ``target (B, T, 2)``,
        ``duration (B, T)`` and ``weight (B, T)``: ``1 / (B * n_i)`` for the n_i transitions of
        item i, 0 for padding, so that a weighted sum is the mean over items of each item's mean.
    """
    n = [int(it["history"].shape[0]) for it in items]
    B, T = len(items), max(n + [1])
    K = int(items[0]["history"].shape[1])
    hist = torch.zeros(B, T, K, 2)
    mask = torch.zeros(B, T, K, dtype=torch.bool)
    mask[:, :, 0] = True  # padding slots hold a harmless one-fixation history
    target = torch.zeros(B, T, 2)
    duration = torch.full((B, T), float("nan"))
    weight = torch.zeros(B, T)
    for j, (it, k) in enumerate(zip(items, n)):
        hist[j, :k] = it["history"]
        mask[j, :k] = it["mask"]
        target[j, :k] = it["target"]
        duration[j, :k] = it["duration"]
        weight[j, :k] = 1.0 / (B * max(k, 1))
    return {
        "features": torch.stack([it["features"] for it in items]),
        "ppd": torch.stack([torch.as_tensor(it["ppd"]) for it in items]),
        "history": hist, "mask": mask, "target": target, "duration": duration, "weight": weight,
    }

"""NevaClip: zero-shot scanpaths guided by a caption through CLIP (Zanca et al. 2023).

NevaClip is NeVA's search (:mod:`gazemodels.models.scanpath.neva`) with an open_clip
model as the downstream network: each next fixation is the one whose foveated view of the
image has the CLIP embedding most similar to the embedding of the image's caption. The
objective is one minus the cosine similarity (NevaClip's criterion); the foveation, the
memory, the signed-gradient steps and the random restarts are those of
:class:`~gazemodels.models.scanpath.neva.NeVASearchModel`.

Captions
--------
One caption per image, from the stimulus table's ``caption`` column (``gazemodels predict
--caption-file`` adds it) or from the ``captions`` mapping given to the model (it takes
precedence). An image without a caption is an error that names it, unless
``default_caption`` is set.

Weights
-------
``model_name`` and ``pretrained`` are any open_clip model and tag
(``open_clip.list_pretrained()``); the default, ``RN50`` with the ``openai`` weights, is
NevaClip's published backbone. The weights come from the Hugging Face Hub on first use
and are cached. Without a connection (``HF_HUB_OFFLINE=1``, or the Hub unreachable) and
without a cached copy, building the model fails at once with
:class:`PretrainedWeightsError`, rather than after the Hub client's retries.
``pretrained`` may also be a local checkpoint file, or None for random weights (tests).
``model_cfg`` builds an open_clip ``CLIP`` from a configuration dict instead
(:data:`TINY_CLIP_CONFIG`: a tiny random model for tests).

Input
-----
CLIP encoders take a square image of fixed size: the whole image is resized to it (no
crop, unlike CLIP's preprocessing, so that every location can be fixated), and the
pixels per degree are set per axis so that fovea and blur stay round in degrees on the
stimulus. Normalisation uses the model's mean and standard deviation.

References
----------
Zanca, D., Zugarini, A., Dietz, S., Altstidl, T. R., Turban Ndjeuha, M. A., Schwinn, L.,
& Eskofier, B. (2023). Contrastive language-image pretrained models are zero-shot human
scanpath predictors. arXiv:2305.12380.

Radford, A., et al. (2021). Learning transferable visual models from natural language
supervision. ICML.

Ilharco, G., et al. (2021). OpenCLIP. Zenodo. https://doi.org/10.5281/zenodo.5143773
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor

from gazemodels.errors import GazemodelsError
from gazemodels.models.registry import register_model
from gazemodels.models.scanpath.neva import NeVASearchModel, image_to_tensor

__all__ = [
    "HUB_HOST",
    "TINY_CLIP_CONFIG",
    "MissingCaptionError",
    "NevaClip",
    "PretrainedWeightsError",
    "hub_reachable",
    "load_open_clip",
]

TINY_CLIP_CONFIG: dict = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 48, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
"""A tiny open_clip ``CLIP`` configuration (48 px ViT, 2 layers): random weights for tests."""

HUB_HOST = ("huggingface.co", 443)
"""Where open_clip downloads weights from; probed before a download."""

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class PretrainedWeightsError(GazemodelsError, RuntimeError):
    """open_clip weights are unknown, or not cached while the Hub cannot be reached."""


class MissingCaptionError(GazemodelsError, ValueError):
    """An image has no caption for a caption-driven model (the message names it)."""


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub can be reached, answered within ``timeout`` seconds.

    Parameters
    ----------
    timeout : float, default 3.0
        Seconds to wait for a TCP connection to :data:`HUB_HOST`.

    Returns
    -------
    bool
        False when ``HF_HUB_OFFLINE`` is set or no connection opens; True otherwise, and
        also when a proxy is configured (the probe cannot tell, so the download decides).
    """
    if _truthy(os.environ.get("HF_HUB_OFFLINE")):
        return False
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return True
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _cached_weights(hf_hub: str, cache_dir) -> str | None:
    """Path of a cached weight file for an open_clip ``hf_hub`` entry, without network."""
    try:
        from huggingface_hub import hf_hub_download
        from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
    except ImportError:
        return None
    repo, filename = os.path.split(hf_hub)
    filename = filename or HF_WEIGHTS_NAME
    candidates = [filename]
    if filename == HF_WEIGHTS_NAME:
        candidates.insert(0, HF_SAFE_WEIGHTS_NAME)
    elif filename.endswith((".bin", ".pth")):
        candidates.insert(0, filename[:-4] + ".safetensors")
    for name in candidates:
        try:
            return hf_hub_download(repo_id=repo, filename=name, cache_dir=cache_dir, local_files_only=True)
        except Exception:  # noqa: BLE001 - any failure means "not cached"
            continue
    return None


class _ClipTokenizer:
    """open_clip's CLIP BPE tokenizer at a given context length (picklable)."""

    def __init__(self, context_length: int):
        self.context_length = int(context_length)

    def __call__(self, texts):
        import open_clip

        return open_clip.tokenize(texts, context_length=self.context_length)


@contextlib.contextmanager
def _hub_offline():
    """Make huggingface_hub use its cache only (no HEAD requests, no retries) inside the block."""
    try:
        from huggingface_hub import constants
    except ImportError:
        yield
        return
    old = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old


def load_open_clip(model_name: str = "RN50", pretrained: str | None = "openai", *, model_cfg: dict | None = None,
                   cache_dir=None, probe_timeout: float = 3.0):
    """An open_clip model and its tokenizer, failing at once when the weights cannot be had.

    Parameters
    ----------
    model_name : str, default "RN50"
        open_clip model name (``open_clip.list_models()``).
    pretrained : str or None, default "openai"
        open_clip tag (``open_clip.list_pretrained_tags_by_model(model_name)``), a local
        checkpoint file, or None for random weights.
    model_cfg : dict, optional
        Build ``open_clip.CLIP(**model_cfg)`` with random weights instead (``model_name``
        and ``pretrained`` are then ignored), e.g. :data:`TINY_CLIP_CONFIG`.
    cache_dir : str or os.PathLike, optional
        Weight cache (default: the Hugging Face cache).
    probe_timeout : float, default 3.0
        Seconds to wait for the Hub (:func:`hub_reachable`) before a download.

    Returns
    -------
    model : torch.nn.Module
        open_clip ``CLIP`` in eval mode.
    tokenizer : callable
        ``tokenizer(list_of_str) -> LongTensor``.

    Raises
    ------
    PretrainedWeightsError
        If the model or tag is unknown, or the weights are not cached and the Hub
        cannot be reached (offline), or the download fails; the message says what to do.
    """
    import open_clip

    if model_cfg is not None:
        cfg = dict(model_cfg)
        model = open_clip.CLIP(**cfg)
        context = int(cfg.get("text_cfg", {}).get("context_length", 77))
        return model.eval(), _ClipTokenizer(context)

    if model_name not in open_clip.list_models():
        raise PretrainedWeightsError(
            f"unknown open_clip model {model_name!r}; see open_clip.list_models() (e.g. RN50, ViT-B-32)"
        )
    offline_patch = contextlib.nullcontext()
    if pretrained is not None and not Path(str(pretrained)).is_file():
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        if pretrained not in tags:
            raise PretrainedWeightsError(
                f"open_clip has no pretrained tag {pretrained!r} for model {model_name!r}; "
                f"its tags are {tags} (or give a local checkpoint file, or pretrained=None for random weights)"
            )
        cfg = open_clip.get_pretrained_cfg(model_name, pretrained)
        cached = _cached_weights(cfg["hf_hub"], cache_dir) if cfg.get("hf_hub") else None
        if cached is not None:
            offline_patch = _hub_offline()
        elif not hub_reachable(probe_timeout):
            why = ("HF_HUB_OFFLINE is set" if _truthy(os.environ.get("HF_HUB_OFFLINE"))
                   else f"{HUB_HOST[0]} cannot be reached")
            raise PretrainedWeightsError(
                f"the open_clip weights {model_name!r}/{pretrained!r} are not in the local cache and {why}: "
                "run once with internet access to download them (they are cached for later offline use), "
                "or give pretrained= a local checkpoint file, or pretrained=None for random weights"
            )
    try:
        with offline_patch:
            model = open_clip.create_model(model_name, pretrained=pretrained, cache_dir=cache_dir)
    except Exception as e:  # open_clip and the Hub client raise many types
        raise PretrainedWeightsError(
            f"could not load open_clip {model_name!r} with pretrained={pretrained!r}: {type(e).__name__}: {e}"
        ) from e
    return model.eval(), open_clip.get_tokenizer(model_name)


@register_model(
    "nevaclip",
    smoke_kwargs={"model_cfg": TINY_CLIP_CONFIG, "pretrained": None, "default_caption": "a photo", "n_iter": 2,
                  "num_threads": 1},
)
class NevaClip(NeVASearchModel):
    """NevaClip: NeVA's search guided by the CLIP similarity to a caption (Zanca et al. 2023).

    Parameters
    ----------
    model_name : str, default "RN50"
        open_clip model (NevaClip's published backbone is CLIP RN50).
    pretrained : str or None, default "openai"
        open_clip tag, local checkpoint, or None (random weights); see
        :func:`load_open_clip`.
    model_cfg : dict, optional
        open_clip ``CLIP`` configuration with random weights instead of a named model
        (:data:`TINY_CLIP_CONFIG` for tests).
    captions : mapping, optional
        ``stimulus -> caption``; takes precedence over the stimulus table's ``caption``
        column.
    default_caption : str, optional
        Caption of images that have none; by default such an image is an error.
    cache_dir : str or os.PathLike, optional
        open_clip weight cache.
    **search
        Foveation and search settings of
        :class:`~gazemodels.models.scanpath.neva.NeVASearchModel`.

    Raises
    ------
    PretrainedWeightsError
        At construction, when the weights cannot be had (offline and not cached).

    Notes
    -----
    The network is loaded when the model is built, so that an offline user learns at
    once that the weights are missing.
    """

    needs_caption = True

    def __init__(
        self,
        model_name: str = "RN50",
        pretrained: str | None = "openai",
        *,
        model_cfg: dict | None = None,
        captions: Mapping | None = None,
        default_caption: str | None = None,
        cache_dir=None,
        **search,
    ):
        super().__init__(**search)
        self.model_name = model_name if model_cfg is None else "custom"
        self.pretrained = pretrained if model_cfg is None else None
        self.captions = {str(k): str(v) for k, v in dict(captions or {}).items()}
        self.default_caption = default_caption
        self.clip, self.tokenizer = load_open_clip(model_name, pretrained, model_cfg=model_cfg, cache_dir=cache_dir)
        self.clip.requires_grad_(False).to(self.device)
        visual = self.clip.visual
        size = visual.image_size
        self.image_size = (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))
        import open_clip

        self.mean = tuple(getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN)
        self.std = tuple(getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD)
        self._text_cache: dict[str, Tensor] = {}

    def caption_of(self, stimulus: pd.Series) -> str:
        """The caption of one image.

        Parameters
        ----------
        stimulus : pandas.Series
            The stimulus-table row.

        Returns
        -------
        str

        Raises
        ------
        MissingCaptionError
            If neither ``captions``, the ``caption`` column nor ``default_caption`` gives
            a non-empty caption; the message names the image.
        """
        name = str(stimulus["stimulus"])
        cap = self.captions.get(name)
        if cap is None and "caption" in stimulus.index:
            v = stimulus["caption"]
            cap = None if v is None or (isinstance(v, float) and v != v) else str(v)
        if cap is None or not cap.strip():
            cap = self.default_caption
        if cap is None or not str(cap).strip():
            raise MissingCaptionError(
                f"nevaclip needs a caption for image {name!r}: add a 'caption' column to the stimulus table, "
                "pass captions={stimulus: caption}, or use gazemodels predict --caption-file"
            )
        return str(cap)

    def network_input(self, image, stimulus):
        """The whole image resized to the CLIP input size (no crop).

        Parameters
        ----------
        image : numpy.ndarray
            RGB ``uint8`` at the stimulus size.
        stimulus : pandas.Series
            The stimulus-table row (``px_per_degree``).

        Returns
        -------
        x : Tensor
            ``(1, 3, h, w)`` with ``(h, w)`` the CLIP input size.
        px_per_degree : (float, float)
            Of ``x``, per axis.
        """
        H, W = image.shape[:2]
        h, w = self.image_size
        ppd = float(stimulus["px_per_degree"])
        return image_to_tensor(image, h, w, self.device), (ppd * w / W, ppd * h / H)

    def _text_embedding(self, caption: str) -> Tensor:
        if caption not in self._text_cache:
            with torch.no_grad():
                tokens = self.tokenizer([caption]).to(self.device)
                emb = self.clip.encode_text(tokens).float()
            self._text_cache[caption] = torch.nn.functional.normalize(emb, dim=-1)
        return self._text_cache[caption]

    def make_loss(self, x, stimulus):
        """One minus the cosine similarity of the foveated image and the caption (NevaClip).

        Parameters
        ----------
        x : Tensor
            Network input of the full image (unused: the target is the caption).
        stimulus : pandas.Series
            The stimulus-table row, for the caption.

        Returns
        -------
        callable
            ``seen (N, 3, h, w) -> (N,)``.

        Raises
        ------
        MissingCaptionError
            If the image has no caption.
        """
        text = self._text_embedding(self.caption_of(stimulus))
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)

        def loss_fn(seen: Tensor) -> Tensor:
            emb = self.clip.encode_image((seen - mean) / std).float()
            return 1.0 - torch.nn.functional.cosine_similarity(emb, text, dim=-1)

        return loss_fn

    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        """Generate scanpaths; every image needs a caption (checked before any work).

        Parameters
        ----------
        stimuli : pandas.DataFrame
            Stimulus table, with a ``caption`` column unless ``captions`` or
            ``default_caption`` cover every image.
        n_scanpaths, n_fixations : int
            Scanpaths per image, fixations per scanpath.
        seed : int
            Random seed.

        Returns
        -------
        pandas.DataFrame
            Fixation table (see :class:`~gazemodels.models.scanpath.base.ScanpathModel`).

        Raises
        ------
        MissingCaptionError
            Naming the first image without a caption.
        """
        if isinstance(stimuli, pd.DataFrame) and "stimulus" in stimuli.columns:
            # Resolve every caption first (mapping, column, default), naming any image without one.
            stimuli = stimuli.assign(caption=[self.caption_of(row) for _, row in stimuli.iterrows()])
        return super().predict(stimuli, n_scanpaths, n_fixations, seed)

"""Native forward kernel of the CPU path: build at first use, load with ctypes, call.

The C++ source (``_ecc_kernel.cpp``, next to this module) is compiled once per machine
with ``g++ -O3 -march=native -ffp-contract=off`` (about 1 s) into a cache directory
(``$GAZEMODELS_CACHE/ext``, default ``~/.cache/gazemodels/ext``) under a name that hashes
the source, the flags, the compiler and the CPU, and loaded with :mod:`ctypes` (which
releases the GIL during the call). If it cannot be built or loaded (no compiler; the
source missing from an installation that did not ship ``attention/*.cpp`` as package
data), :func:`load_kernel` warns once and returns None, and the CPU path falls back to its
torch implementation. Without AVX-512 the same code compiles to 8 x 8 tiles of AVX2
vectors (2.5 times slower on this module's benchmark machine, still faster than the
torch forward) or to generic vector code elsewhere.

``GAZEMODELS_CPU_KERNEL`` chooses the forward implementation of
:func:`gazemodels.attention.cpu.ecc_attention_cpu` when its ``backend`` argument is
``"auto"``: ``native`` (fail if it cannot be built), ``torch``, or ``auto`` (the default:
native when it builds, float32).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["BACKENDS", "kernel_forward", "load_kernel", "release_workspace", "requested_backend"]

BACKENDS = ("auto", "native", "torch")
TILE = 16
"""Tokens per query and key tile of the kernel with AVX-512 (8 with AVX2), and the padding
of the bias it reads (N rounded up to a multiple of 16)."""
SOURCE = Path(__file__).with_name("_ecc_kernel.cpp")
FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-std=c++17", "-shared", "-fPIC", "-pthread"]

_lock = threading.Lock()
_state: dict = {}


def requested_backend(backend: str = "auto") -> str:
    """The forward backend asked for by ``backend`` or, for ``"auto"``, by the environment.

    Parameters
    ----------
    backend : {"auto", "native", "torch"}
        Explicit choice; ``"auto"`` defers to ``GAZEMODELS_CPU_KERNEL`` (default ``auto``).

    Returns
    -------
    str
        One of :data:`BACKENDS`.

    Raises
    ------
    ValueError
        For an unknown value of the argument or of the variable.
    """
    source = "backend"
    if backend == "auto":
        source, backend = "GAZEMODELS_CPU_KERNEL", os.environ.get("GAZEMODELS_CPU_KERNEL", "auto").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"{source} must be one of {BACKENDS}, got {backend!r}")
    return backend


def _cpu_signature() -> str:
    """Model name and flags of the CPU, so that a cache shared between machines stays valid."""
    try:
        with open("/proc/cpuinfo") as fh:
            lines = [ln for ln in fh if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        lines = [platform.processor()]
    return "".join(lines)


def _cache_dir() -> Path:
    root = os.environ.get("GAZEMODELS_CACHE")
    return Path(root) / "ext" if root else Path.home() / ".cache" / "gazemodels" / "ext"


def _build() -> Path:
    """Compile the kernel (or find it in the cache); returns the shared library's path."""
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        raise RuntimeError("no C++ compiler (g++ or c++) on PATH")
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout
    src = SOURCE.read_bytes()
    key = hashlib.sha256(src + " ".join([cxx, *FLAGS, version, _cpu_signature()]).encode()).hexdigest()[:16]
    name = f"ecc_kernel_{key}.so"
    # The cache, else (read-only home) the temporary directory.
    for folder in (_cache_dir(), Path(tempfile.gettempdir()) / "gazemodels-ext"):
        lib = folder / name
        if lib.exists():
            return lib
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=folder)
        except OSError:
            continue
        os.close(fd)
        try:
            proc = subprocess.run([cxx, *FLAGS, "-o", tmp, str(SOURCE)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{cxx} failed: {proc.stderr.strip()[-2000:]}")
            os.chmod(tmp, 0o755)  # mkstemp made it private; a shared cache serves everyone
            os.replace(tmp, lib)  # atomic: concurrent builders never load a partial file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return lib
    raise RuntimeError("no writable directory to build the kernel in")


def load_kernel(*, required: bool = False):
    """The compiled kernel (a ctypes function), built at the first call; None if unavailable.

    Parameters
    ----------
    required : bool, default False
        Raise instead of warning when the kernel cannot be built or loaded.

    Returns
    -------
    ctypes function or None
        ``ecc_forward`` of the shared library; None (after one warning per process) when
        it cannot be built.

    Raises
    ------
    RuntimeError
        If ``required`` and the kernel is unavailable.
    """
    with _lock:
        if "fn" not in _state:
            try:
                lib = ctypes.CDLL(str(_build()))
                fn = lib.ecc_forward
                fn.release = lib.ecc_release_workspace
                fn.restype = ctypes.c_int
                # n, d, dv, heads, sig_heads, bias_heads; q, k, v, pos, sig, bias, perm;
                # cutoff, out, nthreads
                fn.argtypes = ([ctypes.c_int64] * 6 + [ctypes.c_void_p] * 7
                               + [ctypes.c_float, ctypes.c_void_p, ctypes.c_int])
                _state["fn"], _state["error"] = fn, None
            except Exception as exc:  # noqa: BLE001 - any failure means: use the torch path
                _state["fn"], _state["error"] = None, exc
                warnings.warn(f"gazemodels: the native CPU attention kernel is unavailable ({exc}); "
                              "using the torch implementation", RuntimeWarning, stacklevel=3)
        if required and _state["fn"] is None:
            raise RuntimeError(f"the native CPU attention kernel is unavailable: {_state['error']}")
        return _state["fn"]


def release_workspace() -> None:
    """Free the kernel's cached workspace.

    The kernel keeps its largest buffers (the sorted, tiled copies of q, k and v and the
    per-thread scores: about 3 x H x N x D floats, 100 MiB at N = 16,384, 8 heads, D = 64)
    from call to call, because touching fresh memory costs a page fault per page; this
    gives them back. Nothing happens when the kernel was never loaded.

    Returns
    -------
    None
    """
    fn = _state.get("fn")
    if fn is not None:
        fn.release()


def kernel_forward(q: Tensor, k: Tensor, v: Tensor, pos: Tensor, sig: Tensor, cutoff: float,
                   bias: Tensor | None, perm: Tensor, out: Tensor | None = None) -> Tensor:
    """Forward pass of one batch element with the native kernel.

    Parameters
    ----------
    q, k : Tensor
        (H, N, D) float32, in token order.
    v : Tensor
        (H, N, Dv) float32.
    pos : Tensor
        (N, 2) float32 positions.
    sig : Tensor
        (Hs, N) float32 per-query sigma, Hs in {1, H}.
    cutoff : float
        Exclusion radius in units of sigma (``inf``: none).
    bias : Tensor or None
        (Hb, N, N) float32 additive bias, Hb in {1, H}.
    perm : Tensor
        Morton order of the tokens (:func:`gazemodels.attention.cpu.morton_order`).
    out : Tensor, optional
        Contiguous (H, N, Dv) float32 tensor to write the output into.

    Returns
    -------
    Tensor
        (H, N, Dv) float32, in token order (``out`` when given).
    """
    fn = load_kernel(required=True)
    H, n, d = q.shape
    q, k, v, pos, sig = (t.contiguous() for t in (q, k, v, pos, sig))
    perm = perm.to(torch.int64).contiguous()
    bp = None
    if bias is not None:  # sorted and padded to whole tiles here (dense: meant for small N)
        np_ = -(-n // TILE) * TILE
        bp = torch.zeros(bias.shape[0], np_, np_, dtype=torch.float32)
        bp[:, :n, :n] = bias.index_select(1, perm).index_select(2, perm)
    if out is None:
        out = torch.empty(H, n, v.shape[-1], dtype=torch.float32)
    elif out.shape != (H, n, v.shape[-1]) or out.dtype != torch.float32 or not out.is_contiguous():
        raise ValueError("out must be a contiguous float32 tensor of shape (H, N, Dv)")
    ptrs = [None if t is None else t.data_ptr() for t in (q, k, v, pos, sig, bp, perm)]
    status = fn(n, d, v.shape[-1], H, sig.shape[0], 1 if bp is None else bp.shape[0], *ptrs, float(cutoff),
                out.data_ptr(), torch.get_num_threads())
    if status != 0:
        raise RuntimeError(f"native CPU attention kernel failed (status {status})")
    return out

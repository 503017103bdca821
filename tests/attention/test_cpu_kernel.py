"""The native forward kernel of the CPU path: against the float64 reference, and its fallback."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import gazemodels.attention.cpu as cpu_mod
import gazemodels.attention.cpu_kernel as ck
from gazemodels.attention import ecc_attention_reference
from gazemodels.attention.cpu import ecc_attention_cpu

from ._helpers import as_float64, output_and_grads, random_problem, rel_err

needs_kernel = pytest.mark.skipif(ck.load_kernel() is None, reason="the native kernel does not build here")

CASES = [
    # (B, H, N, D, Dv, per_head, pos_batched, bias)
    (2, 3, 37, 8, 8, True, False, False),  # N not a multiple of the 16-token tile
    (3, 2, 64, 16, 24, False, True, False),  # per-batch positions, Dv not a multiple of 16
    (1, 4, 50, 8, 8, True, True, True),  # per-head sigma, bias shared by the heads
    (2, 1, 5, 4, 4, False, False, False),  # fewer tokens than one tile
    (1, 2, 33, 64, 80, True, False, False),  # D = 64, Dv = 80: 4 + 1 value vectors
]



def _native_was_used(monkeypatch):
    calls = []
    real = cpu_mod.kernel_forward
    monkeypatch.setattr(cpu_mod, "kernel_forward", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    return calls


@needs_kernel
@pytest.mark.parametrize("B,H,N,D,Dv,per_head,pos_batched,bias", CASES)
def test_native_matches_reference_fp32(monkeypatch, B, H, N, D, Dv, per_head, pos_batched, bias):
    calls = _native_was_used(monkeypatch)
    p = random_problem(B, H, N, D, Dv, per_head=per_head, pos_batched=pos_batched, bias=bias, dtype=torch.float32)
    out, grads = output_and_grads(lambda **a: ecc_attention_cpu(**a, backend="native"), p)
    ref, ref_grads = output_and_grads(ecc_attention_reference, as_float64(p))
    assert calls == [1] * B
    assert out.shape == (B, H, N, Dv)
    assert rel_err(out, ref) <= 1e-4
    for name in grads:  # the backward is the torch recomputation, fed the native forward's output
        assert rel_err(grads[name], ref_grads[name]) <= 1e-4, name


@needs_kernel
def test_native_per_head_bias_and_several_threads():
    p = random_problem(B=2, H=3, N=70, D=16, bias=True, requires_grad=False, field=8.0)
    p["bias"] = torch.randn(2, 3, 70, 70, generator=torch.Generator().manual_seed(3)) * 0.5
    torch.set_num_threads(2)  # the kernel runs its query tiles on two threads
    out = ecc_attention_cpu(**p, backend="native")
    assert rel_err(out, ecc_attention_reference(**as_float64(p))) <= 1e-4


@needs_kernel
def test_native_infinite_cutoff_and_fully_masked_rows():
    p = random_problem(B=2, H=2, N=30, cutoff=math.inf, bias=True, requires_grad=False)
    p["bias"][..., 5, :] = -math.inf
    out = ecc_attention_cpu(**p, backend="native")
    ref = ecc_attention_reference(**as_float64(p))
    assert torch.all(out[:, :, 5] == 0)
    assert rel_err(out, ref) <= 1e-4


@needs_kernel
def test_native_large_problem_against_torch_backend():
    # A 48 x 48 grid with a small window: most key tiles are skipped.
    g = torch.arange(48, dtype=torch.float32) * 0.25
    ys, xs = torch.meshgrid(g, g, indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], -1)
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 4, 48 * 48, 32, generator=gen) for _ in range(3))
    args = (q, k, v, pos, torch.tensor([[6.0, 6.0]]), 0.3, 0.1)
    fast = ecc_attention_cpu(*args, backend="native")
    slow = ecc_attention_cpu(*args, backend="torch")
    assert rel_err(fast, slow) <= 1e-5


def test_backend_choice(monkeypatch):
    p = random_problem(B=1, H=2, N=20, requires_grad=False)
    calls = _native_was_used(monkeypatch)
    monkeypatch.setenv("GAZEMODELS_CPU_KERNEL", "torch")
    ecc_attention_cpu(**p)
    ecc_attention_cpu(**p, backend="torch")
    ecc_attention_cpu(**as_float64(p), backend="auto")  # float64: always the torch path
    assert calls == []
    monkeypatch.setenv("GAZEMODELS_CPU_KERNEL", "fast")
    with pytest.raises(ValueError, match="GAZEMODELS_CPU_KERNEL must be one of"):
        ecc_attention_cpu(**p)
    with pytest.raises(ValueError, match="backend must be one of"):
        ecc_attention_cpu(**p, backend="gpu")


def test_fallback_when_the_kernel_does_not_build(monkeypatch):
    # No compiler: one warning, then the torch forward (same result); forcing native raises.
    def no_build():
        raise RuntimeError("no C++ compiler (g++ or c++) on PATH")

    monkeypatch.setattr(ck, "_build", no_build)
    monkeypatch.setattr(ck, "_state", {})
    monkeypatch.delenv("GAZEMODELS_CPU_KERNEL", raising=False)
    calls = _native_was_used(monkeypatch)
    p = random_problem(B=1, H=2, N=20, requires_grad=False, dtype=torch.float32)
    with pytest.warns(RuntimeWarning, match="native CPU attention kernel is unavailable"):
        out = ecc_attention_cpu(**p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per process only
        ecc_attention_cpu(**p)
    assert calls == []
    assert rel_err(out, ecc_attention_reference(**as_float64(p))) <= 1e-4
    with pytest.raises(RuntimeError, match="unavailable"):
        ecc_attention_cpu(**p, backend="native")


@needs_kernel
def test_kernel_forward_writes_into_out():
    p = random_problem(B=1, H=2, N=20, requires_grad=False)
    sig = torch.full((1, 20), 0.5)
    perm = cpu_mod.morton_order(p["pos"])
    args = (p["q"][0], p["k"][0], p["v"][0], p["pos"], sig, 3.0, None, perm)
    out = torch.empty(2, 20, 8)
    assert ck.kernel_forward(*args, out=out) is out
    torch.testing.assert_close(out, ck.kernel_forward(*args))
    ck.release_workspace()  # the cached buffers are freed, and allocated again by the next call
    torch.testing.assert_close(out, ck.kernel_forward(*args))
    with pytest.raises(ValueError, match="out must be"):
        ck.kernel_forward(*args, out=torch.empty(2, 8, 20).transpose(1, 2))


def _cpu_has(flag):
    try:
        with open("/proc/cpuinfo") as fh:
            return any(line.startswith("flags") and flag in line.split() for line in fh)
    except OSError:
        return False


@pytest.mark.skipif(ck.load_kernel() is None or not _cpu_has("avx2"), reason="needs the kernel and AVX2")
def test_native_avx2_build_matches_reference(monkeypatch, tmp_path):
    # The 8 x 8-tile code that machines without AVX-512 compile (-march=haswell: AVX2, FMA).
    monkeypatch.setattr(ck, "FLAGS", [f if f != "-march=native" else "-march=haswell" for f in ck.FLAGS])
    monkeypatch.setattr(ck, "_state", {})
    monkeypatch.setenv("GAZEMODELS_CACHE", str(tmp_path))
    for case in CASES[:3]:
        B, H, N, D, Dv, per_head, pos_batched, bias = case
        p = random_problem(B, H, N, D, Dv, per_head=per_head, pos_batched=pos_batched, bias=bias,
                           requires_grad=False)
        out = ecc_attention_cpu(**p, backend="native")
        assert rel_err(out, ecc_attention_reference(**as_float64(p))) <= 1e-4, case
    assert list((tmp_path / "ext").glob("ecc_kernel_*.so"))


@needs_kernel
def test_build_goes_to_the_temp_dir_when_the_cache_is_not_writable(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("a file: no folder can be made in it (even by root)")
    monkeypatch.setenv("GAZEMODELS_CACHE", str(cache))
    monkeypatch.setattr(ck.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    lib = ck._build()
    assert lib.parent == tmp_path / "tmp" / "gazemodels-ext" and lib.exists()

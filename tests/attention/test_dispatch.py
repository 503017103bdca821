"""The dispatcher and the argument checks shared by every path."""

from __future__ import annotations

import math
import types

import pytest
import torch

import gazemodels.attention as att
from gazemodels.attention import ecc_attention, resolve_impl

from ._helpers import random_problem

CHECKED_IMPLS = ["reference", "cpu", "sdpa"]



def test_auto_picks_cpu_on_cpu_tensors(monkeypatch):
    p = random_problem(B=1, H=2, N=10, requires_grad=False)
    assert resolve_impl("auto", p["q"]) == "cpu"
    called = []
    import gazemodels.attention.cpu as cpu_mod

    real = cpu_mod.ecc_attention_cpu
    monkeypatch.setattr(cpu_mod, "ecc_attention_cpu", lambda *a, **k: called.append(1) or real(*a, **k))
    ecc_attention(**p)
    assert called == [1]


def test_auto_picks_triton_for_cuda_when_available(monkeypatch):
    fake_cuda = types.SimpleNamespace(is_cuda=True)
    monkeypatch.setattr(att, "triton_available", lambda: True)
    assert resolve_impl("auto", fake_cuda) == "triton"
    # float64 is not a Triton dtype: the dense reference takes it
    fake_cuda64 = types.SimpleNamespace(is_cuda=True, dtype=torch.float64)
    assert resolve_impl("auto", fake_cuda64) == "reference"
    monkeypatch.setattr(att, "triton_available", lambda: False)
    assert resolve_impl("auto", fake_cuda) == "cpu"


@pytest.mark.parametrize("impl", ["reference", "cpu", "triton", "sdpa"])
def test_forcing(impl):
    q = torch.zeros(1, 1, 3, 4)
    assert resolve_impl(impl, q) == impl


def test_forced_paths_agree():
    p = random_problem(B=2, H=2, N=20, requires_grad=False, dtype=torch.float64)
    torch.testing.assert_close(ecc_attention(**p, impl="cpu"), ecc_attention(**p, impl="reference"))


def test_unknown_impl():
    p = random_problem(B=1, H=1, N=4, requires_grad=False)
    with pytest.raises(ValueError, match="impl must be one of"):
        ecc_attention(**p, impl="cuda")


def _bad(name, value):
    p = random_problem(B=2, H=3, N=8, D=4, requires_grad=False)
    p[name] = value(p) if callable(value) else value
    return p


BAD = [
    ("k", lambda p: p["k"][:, :, :5], "k must have the shape of q"),
    ("v", lambda p: p["v"][:1], r"v must have shape \(B, H, N, Dv\)"),
    ("q", lambda p: p["q"][0], r"q must have shape \(B, H, N, D\)"),
    ("pos", lambda p: torch.zeros(7, 2), r"pos must have shape \(8, 2\) or \(2, 8, 2\).*got \(7, 2\)"),
    ("pos", lambda p: torch.zeros(8, 3), r"pos must have shape"),
    ("fixation", lambda p: torch.zeros(3, 2), r"fixation must have shape \(2, 2\).*got \(3, 2\)"),
    ("sigma0", -0.1, "sigma0 must be > 0"),
    ("sigma0", 0.0, "sigma0 must be > 0"),
    ("sigma0", lambda p: torch.tensor([0.5, -1.0, 0.5]), "sigma0 must be > 0"),
    ("sigma0", lambda p: torch.ones(4), r"sigma0 must be a scalar or have one value per head, shape \(3,\)"),
    ("slope", -0.01, "slope must be >= 0"),
    ("slope", math.nan, "sigma0 and slope must be finite"),
    ("cutoff", 0.0, "cutoff must be a positive float"),
    ("cutoff", -1.0, "cutoff must be a positive float"),
    ("bias", lambda p: torch.zeros(2, 3, 8, 7), r"bias must have shape \(2 or 1, 3 or 1, 8, 8\)"),
    ("bias", lambda p: torch.full((1, 1, 8, 8), math.nan), "bias .* contains NaN"),
]


@pytest.mark.parametrize("impl", CHECKED_IMPLS)
@pytest.mark.parametrize("name,value,message", BAD)
def test_bad_arguments_raise_clear_errors(impl, name, value, message):
    with pytest.raises(ValueError, match=message):
        ecc_attention(**_bad(name, value), impl=impl)


@pytest.mark.parametrize("impl", CHECKED_IMPLS)
@pytest.mark.parametrize("name", ["pos", "fixation"])
def test_nan_positions_raise(impl, name):
    p = random_problem(B=2, H=1, N=6, requires_grad=False)
    bad = p[name].clone()
    bad.view(-1)[3] = math.nan
    with pytest.raises(ValueError, match=f"{name} .*contains NaN"):
        ecc_attention(**{**p, name: bad}, impl=impl)


def test_integer_queries_rejected():
    p = random_problem(B=1, H=1, N=4, requires_grad=False)
    with pytest.raises(ValueError, match="q must be floating point"):
        ecc_attention(**{**p, "q": torch.ones(1, 1, 4, 8, dtype=torch.int64)})

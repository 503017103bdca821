"""Run the Triton kernels in Triton's CPU interpreter when there is no CUDA GPU.

Triton decides between compiled and interpreted kernels when a kernel is *decorated*, i.e.
when ``triton`` (its own ``tl.max``, ``tl.sum``, ...) and ``gazemodels.attention.triton_kernels``
are imported, and reads ``TRITON_INTERPRET`` again at the first launch. So the variable is set
here, at collection time, before anything imports Triton, and stays set for the session.

It is set only on machines without CUDA, where nothing else runs Triton kernels (the dispatcher
picks Triton only for CUDA tensors, and torch's inductor generates C++ for the CPU), so it
changes no other test's behaviour; forcing ``impl="triton"`` on CPU tensors then runs the
interpreter instead of raising. With a GPU, the kernels are compiled and the Triton tests run
on CUDA.
"""

from __future__ import annotations

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is faster, and immune to a busy machine's thread sync.

    (A test that wants more threads sets them; the caller's setting is restored after it.)
    """
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

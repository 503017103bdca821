"""Top-down guidance arithmetic: channel gains and region means, against hand-computed values."""

import numpy as np
import pytest
import torch

from gazemodels.models.search.matching import _region_mean, _snr_gain, cross_correlate, cross_correlate_bank


def test_snr_gain_is_the_target_to_distractor_ratio_with_the_mean_distractor_response_added():
    # hand-computed: eps = mean(mu_D) = 1; (mu_T + 1) / (mu_D + 1) = [3, 1/3, 1], mean 13/9
    g = _snr_gain(torch.tensor([2.0, 0.0, 1.0]), torch.tensor([0.0, 2.0, 1.0]))
    assert torch.allclose(g.double(), torch.tensor([3.0, 1 / 3, 1.0], dtype=torch.float64) * 9 / 13, atol=1e-6)
    assert float(g.mean()) == pytest.approx(1.0)
    # responses to the target and the distractors alike: no channel is favoured
    same = torch.tensor([0.5, 3.0, 0.0, 1.0])
    assert torch.allclose(_snr_gain(same, same), torch.ones(4))


def test_region_mean_averages_each_box_then_the_boxes():
    f = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4)  # 4 x 4 cells of stride 8
    # box 1 holds the cell centres (4, 4) and (12, 4): cells (0, 0) and (0, 1); box 2 holds no
    # centre (it lies between them), so it takes the cell under its own centre, (2, 2)
    boxes = np.array([[0, 0, 16, 8], [17, 17, 2, 2]], dtype=float)
    got = _region_mean(f, boxes, 8)
    want = ((f[:, 0, 0] + f[:, 0, 1]) / 2 + f[:, 2, 2]) / 2
    assert torch.allclose(got.float(), want)


@pytest.mark.parametrize("side", [3, 7])  # conv2d (<= 25 taps) and FFT paths
def test_a_bank_of_kernels_correlates_as_each_kernel_alone(side):
    torch.manual_seed(5)
    f = torch.rand(4, 13, 17)
    bank = torch.rand(3, 4, side, side)
    got = cross_correlate_bank(f, bank)
    assert got.shape == (3, 13, 17)
    for b in range(3):
        assert torch.allclose(got[b], cross_correlate(f, bank[b]), atol=1e-4)
    assert not torch.allclose(got[0], got[1], atol=1e-2)
    with pytest.raises(ValueError, match="odd"):
        cross_correlate_bank(f, torch.rand(2, 4, 2, 3))


def test_containment_is_the_share_of_the_template_mass_present_under_each_cell():
    from gazemodels.models.search.matching import containment

    torch.manual_seed(6)
    f = torch.rand(3, 6, 7)
    k = torch.rand(3, 3, 3)
    got = containment(f, k, chunk=2)  # chunks smaller than the channels
    padded = torch.nn.functional.pad(f, (1, 1, 1, 1))
    for y, x in [(0, 0), (2, 3), (5, 6)]:  # brute force, the corners included (zero outside)
        want = torch.minimum(padded[:, y:y + 3, x:x + 3], k).sum() / k.sum()
        assert float(got[y, x]) == pytest.approx(float(want), abs=1e-5)
    # asymmetric: a superset of the template contains it fully, the template does not contain it
    big = k + 1.0
    assert float(containment(big, k)[1, 1]) == pytest.approx(1.0)
    assert float(containment(k, big)[1, 1]) < 0.8
    with pytest.raises(ValueError, match="non-negative"):
        containment(f - 1.0, k)

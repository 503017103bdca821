"""The search loop: start, stop, inhibition of return, limits, seeds, ablations, table format."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from gazemodels.data import validate_fixations
from gazemodels.models.search import SearchModelConfig, VisualSearchModel, apply_ablation
from gazemodels.stimuli import generate, make_display, to_stimulus_table

PPD = 20.0
SMALL = dict(stages=(2, 3), sigma0_deg=(0.1, 0.2), slope=(0.05, 0.1))


def _display(n_items: int = 6, seed: int = 0, superset: bool = False):
    """White crosses on black in a grid of cells; the target (item 0 of the boxes) is a filled square.

    ``superset``: the target is a cross and the distractors filled squares (which contain it).
    """
    rng = np.random.default_rng(seed)
    size, box = 192, 24
    img = np.zeros((size, size, 3), np.uint8)
    cells = [(x, y) for y in range(16, size - box, 44) for x in range(16, size - box, 44)]
    order = rng.permutation(len(cells))[:n_items]
    boxes = []
    for k, i in enumerate(order):
        x, y = cells[i]
        boxes.append((x, y, box, box))
        if superset:
            img[y + 10: y + 14, x + 2: x + 22] = 255
            img[y + 2: y + 22, x + 10: x + 14] = 255
            if k > 0:
                img[y + 2: y + 22, x + 2: x + 22] = 255
        elif k == 0:
            img[y + 4: y + 20, x + 4: x + 20] = 255
        else:
            img[y + 10: y + 14, x + 2: x + 22] = 255
            img[y + 2: y + 22, x + 10: x + 14] = 255
    return make_display(img, np.array(boxes), 0, condition="test", seed=seed, px_per_degree=PPD,
                        stimulus=f"test-{seed}")


@pytest.fixture(scope="module")
def model():
    return VisualSearchModel(SearchModelConfig(**SMALL))


def _fixed_priority(model, order):
    """Make the model's priority map rank the items in ``order`` (item indices, best first), always."""

    def priority_map(prep, fixation_px):
        H, W = prep.size
        m = np.zeros((H, W))
        for rank, k in enumerate(order):
            x, y, w, h = (int(v) for v in prep.boxes[k])
            m[y: y + h, x: x + w] = 1.0 - rank / (len(order) + 1)
        return m

    model.priority_map = priority_map
    return model


def test_first_fixation_at_the_centre_and_search_stops_on_the_target(model):
    d = _display()
    fx = model.search(d)
    validate_fixations(fx, to_stimulus_table([d]))
    assert (fx.loc[0, "x"], fx.loc[0, "y"]) == (d.width / 2, d.height / 2)
    assert not fx.loc[0, "found"] and fx.loc[0, "object"] == -1
    assert fx["found"].iloc[-1] and fx["found"].sum() == 1  # stops at the first fixation on the target
    x, y, w, h = d.target_box
    last = fx.iloc[-1]
    assert x < last["x"] < x + w and y < last["y"] < y + h
    assert list(fx["fix_index"]) == list(range(len(fx)))
    assert set(fx["set_size"]) == {6} and set(fx["condition"]) == {"test"}


def test_a_distinct_target_is_found_by_the_first_saccade(model):
    for seed in range(3):
        fx = model.search(_display(seed=seed))
        assert len(fx) == 2 and fx["found"].iloc[-1]


def test_inhibition_of_return_prevents_refixations():
    """A map that always prefers the same distractor cannot trap the search: each item once."""
    m = _fixed_priority(VisualSearchModel(SearchModelConfig(topdown=False)), [3, 2, 5, 1, 4, 0])
    fx = m.search(_display())
    assert fx["object"].tolist() == [-1, 3, 2, 5, 1, 4, 0]
    assert fx["found"].tolist() == [False] * 6 + [True]


def test_without_inhibition_the_map_would_loop_so_ior_is_what_ends_the_search():
    """With the same map but one fixation allowed per item, the order follows the map exactly."""
    m = _fixed_priority(VisualSearchModel(SearchModelConfig(topdown=False)), [1, 0, 2, 3, 4, 5])
    fx = m.search(_display())
    assert fx["object"].tolist() == [-1, 1, 0]
    assert fx["object"].iloc[1:].is_unique


def test_max_fixations_is_respected():
    order = [5, 4, 3, 2, 1, 0]  # the target last
    m = _fixed_priority(VisualSearchModel(SearchModelConfig(topdown=False, max_fixations=3)), order)
    fx = m.search(_display())
    assert len(fx) == 3 and not fx["found"].any()
    m = _fixed_priority(VisualSearchModel(SearchModelConfig(topdown=False)), order)
    fx = m.search(_display())
    assert len(fx) == 7  # default: set size + 1, enough to visit every item once
    assert fx["found"].iloc[-1]


def test_initial_fixation_on_the_target_counts_only_when_asked():
    d = _display()
    x, y, w, h = d.target_box
    img = d.image.copy()
    d2 = dataclasses.replace(d, target_box=(d.width // 2 - 12, d.height // 2 - 12, 24, 24), image=img)
    fx = VisualSearchModel(SearchModelConfig(topdown=False)).search(d2)
    assert not fx["found"].iloc[0]
    fx = VisualSearchModel(SearchModelConfig(topdown=False, check_initial=True)).search(d2)
    assert len(fx) == 1 and fx["found"].iloc[0]


def test_seeded_and_reproducible():
    d = _display(9)
    m = VisualSearchModel(SearchModelConfig(topdown=False))
    a, b = m.search(d, seed=1), m.search(d, seed=1)
    pd.testing.assert_frame_equal(a, b)
    orders = {tuple(m.search(d, seed=s)["object"]) for s in range(8)}
    assert len(orders) > 1  # uniform priority: the seed decides the order


def test_priority_noise_is_seeded():
    order = [0, 1, 2, 3, 4, 5, 6, 7, 8]  # the target first: found at once without noise
    noisy = _fixed_priority(VisualSearchModel(SearchModelConfig(topdown=False, priority_noise=2.0)), order)
    d = _display(9)
    pd.testing.assert_frame_equal(noisy.search(d, seed=3), noisy.search(d, seed=3))
    assert max(len(noisy.search(d, seed=s)) for s in range(10)) > 2  # the noise reorders the items


def test_run_concatenates_and_validates(model):
    ds = generate("lighting_direction", seed=0, n_per_set_size=1, set_sizes=[1, 6], conditions=["top_down"])
    fx = model.run(ds, seed=0)
    validate_fixations(fx, to_stimulus_table(ds))
    assert fx["stimulus"].nunique() == len(ds)
    assert fx.groupby("stimulus")["found"].any().all()
    assert set(fx["experiment"]) == {"lighting_direction"}


def test_no_ecc_ablation_is_slope_zero_with_the_mean_width(model):
    d = _display()
    abl = VisualSearchModel(apply_ablation(model.config, "no_ecc"))
    prep = abl.prepare(d)
    full = model.prepare(d)
    for i, (la, lf) in enumerate(zip(prep.layers, full.layers)):
        assert la.pooling.slope == 0.0
        # the mean width of the eccentricity model over the display's cells from the centre
        H, W = full.size
        p = lf.pos_deg
        inside = (p[:, 0] >= 0) & (p[:, 0] <= W / PPD) & (p[:, 1] >= 0) & (p[:, 1] <= H / PPD)
        mean = float(lf.pooling.sigma(p[inside], (W / 2 / PPD, H / 2 / PPD)).mean())
        assert la.pooling.sigma0 == pytest.approx(mean)
        assert mean > model.config.sigma0_deg[i]
    # equal to the eccentricity model run with slope 0 and that width
    widths = tuple(la.pooling.sigma0 for la in prep.layers)
    const = VisualSearchModel(dataclasses.replace(model.config, slope=(0.0, 0.0), sigma0_deg=widths))
    pc = const.prepare(d)
    f = (40.0, 150.0)
    assert np.allclose(abl.priority_map(prep, f), const.priority_map(pc, f))
    assert not np.allclose(abl.priority_map(prep, f), model.priority_map(full, f))


def test_no_ecc_fovea_ablation_pools_at_the_foveal_width_everywhere(model):
    """eccNET's no-eccentricity ablation: the foveal widths at every eccentricity, the foveal noise."""
    d = _display()
    abl = VisualSearchModel(apply_ablation(model.config, "no_ecc_fovea"))
    prep = abl.prepare(d)
    for i, layer in enumerate(prep.layers):
        assert layer.pooling.slope == 0.0 and layer.pooling.sigma0 == model.config.sigma0_deg[i]
    const = VisualSearchModel(dataclasses.replace(model.config, slope=(0.0, 0.0)))
    f = (40.0, 150.0)
    assert np.allclose(abl.priority_map(prep, f), const.priority_map(const.prepare(d), f))
    noisy = VisualSearchModel(dataclasses.replace(abl.config, priority_noise=0.1))
    sd = noisy.noise_sd(noisy.prepare(d), (0.0, 0.0))
    assert sd == pytest.approx(np.full(len(prep.boxes), 0.1))
    with pytest.raises(ValueError, match="constant_width"):
        SearchModelConfig(constant_width="median")


def test_no_topdown_ablation_gives_a_uniform_map():
    m = VisualSearchModel(apply_ablation(SearchModelConfig(**SMALL), "no_topdown"))
    assert m.stem is None
    prep = m.prepare(_display())
    assert not m.priority_map(prep, (10, 10)).any()


def test_random_stem_ablation_changes_the_features_and_is_seeded():
    cfg = apply_ablation(SearchModelConfig(**SMALL), "random_stem")
    assert not cfg.pretrained
    a, b = VisualSearchModel(cfg, seed=4), VisualSearchModel(cfg, seed=4)
    pretrained = VisualSearchModel(SearchModelConfig(**SMALL))
    pa, pb = a.stem.state_dict(), b.stem.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    key = next(k for k in pa if k.endswith("conv_stem.weight"))
    assert not torch.equal(pa[key], pretrained.stem.state_dict()[key])
    assert not torch.equal(VisualSearchModel(cfg, seed=5).stem.state_dict()[key], pa[key])


def test_image_limit_shrinks_large_displays_only():
    big = generate("intersection", seed=0, n_per_set_size=1, set_sizes=[3], conditions=["cross"])[0]
    m = VisualSearchModel(SearchModelConfig(topdown=False, max_image_px=160))
    prep = m.prepare(big)
    assert max(prep.size) == 160 and prep.px_per_degree == pytest.approx(big.px_per_degree * 160 / big.width)
    assert prep.boxes[0] == pytest.approx(np.asarray(big.target_box) * 160 / big.width)
    fx = m.search(big)
    validate_fixations(fx, to_stimulus_table([big]))  # fixations in the display's own pixels
    assert fx["found"].iloc[-1]
    x, y, w, h = big.target_box
    assert x <= fx["x"].iloc[-1] <= x + w and y <= fx["y"].iloc[-1] <= y + h
    assert VisualSearchModel(SearchModelConfig(topdown=False, max_image_px=200)).prepare(_display()).scale == 1.0


def test_priority_noise_grows_with_eccentricity_as_the_pooling(model):
    d = _display()
    m = VisualSearchModel(dataclasses.replace(model.config, priority_noise=0.1))
    prep = m.prepare(d)
    b = prep.boxes
    centres = b[:, :2] + b[:, 2:] / 2.0
    on = m.noise_sd(prep, centres[0])
    assert on[0] == pytest.approx(0.1)  # foveal: the given sd
    ecc = np.hypot(*(centres - centres[0]).T) / PPD
    c = m.config
    expected = 0.1 * (sum(c.sigma0_deg) + sum(c.slope) * ecc) / sum(c.sigma0_deg)
    assert on == pytest.approx(expected)
    assert (np.diff(on[np.argsort(ecc)]) >= 0).all() and on.max() > 0.2
    flat = VisualSearchModel(dataclasses.replace(m.config, noise_growth="constant"))
    assert flat.noise_sd(prep, centres[0]) == pytest.approx(np.full(len(b), 0.1))
    # no-eccentricity ablation: the constant widths give one (larger) sd everywhere
    abl = VisualSearchModel(apply_ablation(m.config, "no_ecc"))
    sd = abl.noise_sd(abl.prepare(d), centres[0])
    assert np.ptp(sd) == pytest.approx(0.0, abs=1e-12) and sd[0] > 0.1


def test_noise_makes_a_search_among_similar_items_serial():
    """The same target and distractors: noise-free the target is fixated first, with noise later on average."""
    d = _display(9)
    clean = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine"))
    assert len(clean.search(d, seed=0)) == 2
    noisy = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine", priority_noise=1.0))
    lengths = [len(noisy.search(d, seed=s)) for s in range(12)]
    assert np.mean(lengths) > 3


def test_background_baseline_zeroes_a_blank_display_and_keeps_the_items():
    m = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine", baseline="background"))
    blank = np.zeros((96, 96, 3), np.uint8)
    f = m._minus_blank(m.stem(blank), blank.shape, np.zeros(3))
    assert all(float(v.abs().max()) == 0.0 for v in f.values())
    d = _display()
    prep = m.prepare(d)
    plain = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine")).prepare(d)
    assert not torch.allclose(prep.layers[0].features, plain.layers[0].features)
    H, W = prep.size
    pm = m.priority_map(prep, (W / 2, H / 2))
    x, y, w, h = (int(v) for v in prep.boxes[0])
    assert pm[y: y + h, x: x + w].max() == pytest.approx(pm.max())  # the target is still the best match


def test_unnormalised_cosine_map_is_the_cosine():
    d = _display()
    raw = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine", normalise="none", layer_weights="equal"))
    mm = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine", layer_weights="equal"))
    p_raw, p_mm = raw.priority_map(raw.prepare(d), (96, 96)), mm.priority_map(mm.prepare(d), (96, 96))
    assert p_raw.max() <= 1.0 + 1e-6 and p_raw.min() < 0.99
    assert p_mm.min() >= 0.0 and p_mm.max() <= 1.0 + 1e-9 and not np.allclose(p_raw, p_mm)
    with pytest.raises(ValueError, match="normalise"):
        SearchModelConfig(normalise="z")
    with pytest.raises(ValueError, match="baseline"):
        SearchModelConfig(baseline="grey")
    with pytest.raises(ValueError, match="noise_growth"):
        SearchModelConfig(noise_growth="quadratic")


def test_cosine_matching_is_not_won_by_items_with_more_feature_energy():
    """Filled squares contain the target cross: the dot product ranks some of them above it, the cosine none."""

    def n_above(match):
        m = VisualSearchModel(SearchModelConfig(**SMALL, match=match, priority_noise=0.0))
        out = []
        for seed in range(5):
            prep = m.prepare(_display(seed=seed, superset=True))
            H, W = prep.size
            pm = m.priority_map(prep, (W / 2, H / 2))
            sc = np.array([pm[y: y + h, x: x + w].max() for x, y, w, h in prep.boxes.astype(int)])
            out.append(int((sc[1:] >= sc[0]).sum()))
        return out

    assert sum(n_above("dot")) >= 3
    assert sum(n_above("cosine")) == 0


def test_bottom_up_saliency_singles_out_the_odd_item_and_guides_search():
    d = _display(9)  # a filled square among identical crosses
    m = VisualSearchModel(SearchModelConfig(**SMALL, match="cosine"))
    prep = m.prepare(d)
    H, W = prep.size
    sal = m.saliency(prep, (W / 2, H / 2))
    assert sal.shape == (9,) and (sal >= 0).all()
    assert sal[0] > sal[1:].max() and sal[0] > 2 * np.median(sal[1:])
    # a top-down map that ranks the target last: a strong bottom-up term finds it first anyway
    last = list(range(1, 9)) + [0]
    plain = _fixed_priority(VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0)), last)
    assert len(plain.search(d)) == 10
    bu = _fixed_priority(VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, bottom_up=100.0)), last)
    assert len(bu.search(d)) <= 3  # within two saccades, not after every distractor
    with pytest.raises(ValueError, match="bottom_up"):
        SearchModelConfig(bottom_up=-1.0)


def test_snr_gain_scales_display_and_template_features_alike_and_widens_the_targets_lead():
    d = _display(9)  # a filled square among crosses
    plain = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0))
    gained = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, gain="snr"))
    p0, p1 = plain.prepare(d), gained.prepare(d)
    for a, b in zip(p0.layers, p1.layers):
        live = a.features.sum(dim=(1, 2)) > 1e-3
        g = b.features.sum(dim=(1, 2))[live] / a.features.sum(dim=(1, 2))[live]
        assert g.max() > 1.5 * g.min()  # channels are re-weighted
        # one gain per channel: every cell of a channel scaled alike, the template's with it
        torch.testing.assert_close(b.features[live], a.features[live] * g[:, None, None], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(b.kernel[live], a.kernel[live] * g[:, None, None], rtol=1e-4, atol=1e-6)

    def lead(model, prep):
        H, W = prep.size
        pm = model.priority_map(prep, (W / 2, H / 2))
        sc = np.array([pm[y: y + h, x: x + w].max() for x, y, w, h in prep.boxes.astype(int)])
        return sc[0] - sc[1:].max()

    assert lead(gained, p1) > lead(plain, p0) > 0
    with pytest.raises(ValueError, match="gain"):
        SearchModelConfig(gain="optimal")


def test_priority_map_is_the_weighted_sum_of_the_layer_maps_and_saliency_the_mean_of_its_layers(model):
    prep = model.prepare(_display(6))
    H, W = prep.size
    maps, w = model.layer_maps(prep, (W / 3, H / 2))
    assert len(maps) == len(prep.layers) and w.sum() == pytest.approx(1.0) and (w >= 0).all()
    np.testing.assert_allclose(model.priority_map(prep, (W / 3, H / 2)), sum(a * b for a, b in zip(w, maps)))
    per = model.saliency(prep, (W / 3, H / 2), per_layer=True)
    assert per.shape == (len(prep.layers), 6)
    np.testing.assert_allclose(model.saliency(prep, (W / 3, H / 2)), per.mean(0))


def test_topdown_stages_restrict_the_guiding_maps_and_leave_the_bottom_up_term_on_every_stage():
    d = _display(6)
    full = VisualSearchModel(SearchModelConfig(**SMALL))
    coarse = VisualSearchModel(SearchModelConfig(**SMALL, topdown_stages=(3,)))
    pf, pc = full.prepare(d), coarse.prepare(d)
    H, W = pf.size
    maps_f, _ = full.layer_maps(pf, (W / 2, H / 2))
    maps_c, w_c = coarse.layer_maps(pc, (W / 2, H / 2))
    assert len(maps_f) == 2 and len(maps_c) == 1 and w_c.tolist() == [1.0]
    np.testing.assert_allclose(maps_c[0], maps_f[1])  # the stage-3 map itself
    np.testing.assert_allclose(coarse.priority_map(pc, (W / 2, H / 2)), maps_f[1])
    assert coarse.saliency(pc, (W / 2, H / 2), per_layer=True).shape == (2, 6)
    np.testing.assert_allclose(coarse.saliency(pc, (W / 2, H / 2)), full.saliency(pf, (W / 2, H / 2)))
    with pytest.raises(ValueError, match="topdown_stages"):
        SearchModelConfig(**SMALL, topdown_stages=(4,))
    assert SearchModelConfig.from_dict(SearchModelConfig(topdown_stages=(4, 6)).to_dict()).topdown_stages == (4, 6)


@pytest.mark.parametrize("stem", ["efficientnet_lite1", "efficientnet_lite2"])
def test_other_imagenet_stems_read_their_own_hidden_units_and_guide_search(stem):
    """lite1 and lite2 read the same stages (strides 8 and 16) at their own hidden widths, and a
    distinct target is still found at the first saccade."""
    m = VisualSearchModel(SearchModelConfig(**SMALL, stem=stem))
    # hidden units: 6 x the stage's input channels (expand ratio 6): lite2's stage 2 takes 24
    # channels in its first block, 48 in the last; lite1 keeps lite0's 40 and 80
    expected = {"efficientnet_lite1": {2: 240, 3: 480}, "efficientnet_lite2": {2: 288, 3: 528}}[stem]
    assert m.stem.channels == expected
    assert m.stem.stem.variant == stem
    for seed in range(2):
        fx = m.search(_display(seed=seed))
        assert len(fx) == 2 and fx["found"].iloc[-1]


def test_unknown_stem_is_refused():
    with pytest.raises(ValueError, match="stem must be one of"):
        SearchModelConfig(stem="vgg16")


def test_displays_with_one_grid_share_its_distances_and_search_as_with_a_fresh_model():
    from gazemodels.models.search import model as search_model
    from gazemodels.models.search.pooling import pairwise_d2

    m = VisualSearchModel(SearchModelConfig(**SMALL))
    a, b = m.prepare(_display(1)), m.prepare(_display(2))
    for la, lb in zip(a.layers, b.layers):
        assert la.d2 is lb.d2  # kept, not recomputed
        assert torch.equal(la.d2, pairwise_d2(la.pos_deg))
    # the kept distances change nothing: the same search as a model that never saw display 1
    fresh = VisualSearchModel(SearchModelConfig(**SMALL)).search(_display(2), seed=3)
    pd.testing.assert_frame_equal(m.search(_display(2), seed=3), fresh)
    # bounded: the oldest grid goes first
    for k in range(search_model.DISTANCE_CACHE_GRIDS + 2):
        m._cell_distances(torch.zeros(4, 2), ("grid", k))
    assert len(m._distances) == search_model.DISTANCE_CACHE_GRIDS
    assert ("grid", 0) not in m._distances and ("grid", search_model.DISTANCE_CACHE_GRIDS + 1) in m._distances


def test_max_pooling_search_pools_every_layer_by_max_and_finds_a_distinct_target():
    mean_model = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0))
    max_model = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, pooling="max"))
    d = _display(6)
    prep = max_model.prepare(d)
    assert all(layer.pooling.reduce == "max" and layer.projected is None for layer in prep.layers)
    centre = (prep.size[1] / 2, prep.size[0] / 2)
    assert not np.allclose(max_model.priority_map(prep, centre), mean_model.priority_map(mean_model.prepare(d), centre))
    fx = max_model.search(d, seed=0)
    assert bool(fx["found"].iloc[-1]) and len(fx) == 2  # the odd item, at the first saccade


def test_moments_pooling_search_matches_and_compares_means_and_deviations():
    model = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, pooling="moments", pool_impl="dense"))
    mean_model = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, pool_impl="dense"))
    d = _display(6)
    prep, mean_prep = model.prepare(d), mean_model.prepare(d)
    for layer, mean_layer in zip(prep.layers, mean_prep.layers):
        C = mean_layer.features.shape[0]
        assert layer.pooling.reduce == "moments" and layer.projected is None
        assert layer.kernel.shape[0] == 2 * C  # the template's means and deviations
        assert torch.allclose(layer.kernel[:C], mean_layer.kernel, atol=1e-5)
    centre = (prep.size[1] / 2, prep.size[0] / 2)
    assert not np.allclose(model.priority_map(prep, centre), mean_model.priority_map(mean_prep, centre))
    assert not np.allclose(model.saliency(prep, centre), mean_model.saliency(mean_prep, centre))
    fx = model.search(d, seed=0)
    assert bool(fx["found"].iloc[-1]) and len(fx) == 2  # the odd item, at the first saccade


def test_at_foveal_widths_every_pooling_is_the_same_model():
    # eccNET's foveal widths are narrower than a third of a cell at each default stage, so the
    # no_ecc_fovea ablation pools one cell per window: mean, max and moments (zero spread) agree,
    # and moments' ablation is max pooling's (experiments/search_asymmetry_moments.toml)
    d = _display(6)
    maps, sal = [], []
    for pooling in ("mean", "max", "moments"):
        m = VisualSearchModel(SearchModelConfig(pooling=pooling, eccentricity=False, constant_width="fovea"))
        prep = m.prepare(d)
        assert all(layer.pooling.cutoff * layer.pooling.sigma0 < layer.cell_deg for layer in prep.layers)
        centre = (prep.size[1] / 2, prep.size[0] / 2)
        maps.append(m.priority_map(prep, centre))
        sal.append(m.saliency(prep, centre))
    for other in maps[1:]:
        assert np.allclose(other, maps[0], atol=1e-5)
    for other in sal[1:]:
        assert np.allclose(other, sal[0], atol=1e-5)
    assert maps[0].max() > maps[0].min()


def test_moments_pooling_takes_the_snr_gains_on_both_statistics():
    d = _display(6)
    wide = {**SMALL, "sigma0_deg": (0.5, 1.0), "priority_noise": 0.0}  # foveal windows of several cells
    snr = VisualSearchModel(SearchModelConfig(**wide, pooling="moments", gain="snr"))
    mean_snr = VisualSearchModel(SearchModelConfig(**wide, gain="snr"))
    plain = VisualSearchModel(SearchModelConfig(**wide, pooling="moments"))
    prep, prep_mean, prep_plain = snr.prepare(d), mean_snr.prepare(d), plain.prepare(d)
    for layer, mean_layer, plain_layer in zip(prep.layers, prep_mean.layers, prep_plain.layers):
        C = mean_layer.features.shape[0]
        assert torch.allclose(layer.kernel[:C], mean_layer.kernel, atol=1e-5)
        # each channel's gain, read off the means, scales its deviation by the same factor
        g = layer.features[:, 0, 0] / plain_layer.features[:, 0, 0].clamp_min(1e-12)
        ok = plain_layer.features[:, 0, 0] > 1e-3
        assert float(plain_layer.kernel[C:].abs().max()) > 0.1 and float(g[ok].max()) > 1.5 * float(g[ok].min())
        assert torch.allclose((plain_layer.kernel[C:] * g[:, None, None])[ok], layer.kernel[C:][ok], rtol=1e-3,
                              atol=1e-5)
    assert bool(snr.search(d, seed=0)["found"].iloc[-1])


def test_blending_template_widths_is_linear_in_log_width():
    from gazemodels.models.search.model import _blend_widths

    maps = torch.stack([torch.full((1, 5), v) for v in (0.0, 1.0, 2.0)])  # widths 1, 2, 4 deg
    sigma = torch.tensor([[0.5, 1.0, 2 ** 0.5, 2.0, 8.0]])
    got = _blend_widths(maps, sigma, np.array([1.0, 2.0, 4.0]))
    # below the narrowest and above the widest: clamped; sqrt(2) is half-way in log width
    assert torch.allclose(got, torch.tensor([[0.0, 0.0, 0.5, 1.0, 2.0]]), atol=1e-6)
    assert torch.equal(_blend_widths(maps[:1], sigma, np.array([1.0])), maps[0])


@pytest.mark.parametrize("pooling", ["mean", "moments"])
def test_eccentric_template_is_the_target_alone_pooled_at_each_width(pooling):
    from gazemodels.models.search.features import background_colour, place_on_canvas
    from gazemodels.models.search.matching import _kernel_slice
    from gazemodels.models.search.pooling import EccentricityPooling, grid_positions_deg

    d = _display(6)
    m = VisualSearchModel(SearchModelConfig(**SMALL, pooling=pooling, template_pooling="eccentric"))
    prep = m.prepare(d)
    bg = background_colour(np.asarray(d.image))
    target = np.asarray(d.target)
    th, tw = target.shape[:2]
    # the reference: the target in the middle of a blank canvas 192 px wider on every side than
    # the model's, pooled directly at each width (no background extension needed)
    big = place_on_canvas(target, 16 + (192 - th) // 2 + 192, bg)  # the same phase on every grid
    feats = m.stem(big.pixels)
    for layer in prep.layers:
        s, ppd = layer.stride, prep.px_per_degree
        w = layer.widths
        assert w[0] == pytest.approx(layer.pooling.sigma0) and np.allclose(w[1:] / w[:-1], 2 ** 0.5)
        widest = layer.pooling.sigma(layer.pos_deg, (0.0, 0.0)).max()  # from a corner of the canvas
        assert w[-1] >= float(widest) * 0.99 and w[-2] < float(layer.pooling.sigma0 + layer.pooling.slope * 20)
        tf = feats[layer.stage]
        pos = grid_positions_deg(*tf.shape[1:], s, ppd)
        for b in (0, len(w) // 2, len(w) - 1):
            ref = EccentricityPooling(float(w[b]), 0.0, 3.0, "dense", pooling)(tf, pos, (0.0, 0.0), s / ppd)
            ref = ref[:, _kernel_slice(big.offset[1], th, s), _kernel_slice(big.offset[0], tw, s)]
            assert layer.bank[b].shape == ref.shape
            assert float((layer.bank[b] - ref).norm() / ref.norm()) < (0.02 if b == 0 else 0.1)
        assert float((layer.bank[-1] - layer.bank[0]).norm() / layer.bank[0].norm()) > 0.1  # widths matter


def test_eccentric_template_search_matches_each_window_at_its_own_width():
    d = _display(6)
    fovea = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, pooling="moments"))
    ecc = VisualSearchModel(SearchModelConfig(**SMALL, priority_noise=0.0, pooling="moments",
                                              template_pooling="eccentric"))
    prep, fprep = ecc.prepare(d), fovea.prepare(d)
    assert all(layer.bank is not None and fl.bank is None for layer, fl in zip(prep.layers, fprep.layers))
    centre = (prep.size[1] / 2, prep.size[0] / 2)
    assert not np.allclose(ecc.priority_map(prep, centre), fovea.priority_map(fprep, centre), atol=1e-3)
    fx = ecc.search(d, seed=0)
    assert bool(fx["found"].iloc[-1]) and len(fx) == 2  # the odd item, at the first saccade
    # constant width: one template, pooled at that width
    const = VisualSearchModel(SearchModelConfig(**SMALL, template_pooling="eccentric", eccentricity=False))
    assert all(len(layer.widths) == 1 for layer in const.prepare(d).layers)


def test_containment_matching_makes_a_target_whose_features_the_distractors_hold_hard_to_find():
    # a filled square among crosses, and a cross among filled squares (which hold it): the
    # cosine guides to both about equally; containment (Tversky 1977; Treisman & Gormican 1988)
    # finds the cross among squares harder, the feature-presence asymmetry
    from gazemodels.models.search.model import item_peaks

    def mean_margin(match, superset):
        m = VisualSearchModel(SearchModelConfig(**SMALL, match=match, priority_noise=0.0, bottom_up=0.0))
        margins = []
        for seed in range(4):
            prep = m.prepare(_display(6, seed=seed, superset=superset))
            centre = (prep.size[1] / 2, prep.size[0] / 2)
            peaks = item_peaks(m.priority_map(prep, centre), m.item_regions(prep))
            margins.append(peaks[0] - peaks[1:].max())  # the target over the best distractor
        return float(np.mean(margins))

    assert mean_margin("cosine", True) > 0.85 * mean_margin("cosine", False)
    easy, hard = mean_margin("contain", False), mean_margin("contain", True)
    assert easy > 0.2 and 0 < hard < 0.75 * easy


def test_containment_matching_takes_the_moments_and_the_eccentric_template():
    d = _display(6)
    for extra in ({"pooling": "moments"}, {"template_pooling": "eccentric"}):
        m = VisualSearchModel(SearchModelConfig(**SMALL, match="contain", priority_noise=0.0, **extra))
        prep = m.prepare(d)
        maps, _ = m.layer_maps(prep, (prep.size[1] / 2, prep.size[0] / 2))
        assert all(mp.max() == pytest.approx(1.0) and mp.min() == pytest.approx(0.0) for mp in maps)
        fx = m.search(d, seed=0)
        assert bool(fx["found"].iloc[-1]) and len(fx) == 2  # the odd item, at the first saccade


def test_eccentric_template_takes_the_background_baseline_off_its_template_too():
    from gazemodels.models.search.features import background_colour, place_on_canvas
    from gazemodels.models.search.matching import _kernel_slice

    d = _display(6)
    m = VisualSearchModel(SearchModelConfig(**SMALL, baseline="background", template_pooling="eccentric"))
    prep = m.prepare(d)
    target = np.asarray(d.target)
    th, tw = target.shape[:2]
    wide = place_on_canvas(target, 16 + (192 - th) // 2, background_colour(np.asarray(d.image)))
    blank = wide.pixels.copy()
    blank[:] = wide.pixels[0, 0]
    feats, blank_feats = m.stem(wide.pixels), m.stem(blank)
    for layer in prep.layers:  # the narrowest width pools one cell: the features minus the blank's
        s = layer.stride
        ref = (feats[layer.stage] - blank_feats[layer.stage])[:, _kernel_slice(wide.offset[1], th, s),
                                                              _kernel_slice(wide.offset[0], tw, s)]
        assert torch.allclose(layer.bank[0], ref, atol=1e-4)
        assert float(ref.min()) < 0  # the baseline was taken off

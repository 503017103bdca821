"""The OAT-style object-level scanpath model (Fang et al. 2024): data, network, decoding, task, rule recovery."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from conftest import dataset_dir
from gazemodels.models import get_model, load_model, validate_scanpath_model
from gazemodels.models.scanpath.oat import (
    OATConfig,
    OATModel,
    OATNet,
    OATTask,
    baseline_sequences,
    beam_search,
    collate_episodes,
    episode_loss,
    evaluate_object_scanpaths,
    fit_centre_sigma,
    group_by_display,
    rule_recovery,
    sample_sequences,
    train_network,
)
from gazemodels.models.scanpath.oat_data import (
    AMAZON_GRID,
    ObjectEpisode,
    RuleArrayDataset,
    episodes_from_fixations,
    grid_boxes,
    grid_layout_check,
    map_to_nearest_objects,
    rule_array_episodes,
    rule_sequence,
    split_stimuli,
    target_object,
)

TINY = OATConfig(width=16, heads=2, encoder_depth=1, decoder_depth=1, dropout=0.0, oat_sigma_deg=1.0)

warnings.filterwarnings("ignore", message="The given NumPy array is not writable")


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def grid_episode(target: int, sequence=(), stimulus="g", grid=(4, 3), width=120.0, height=90.0, ppd=10.0):
    return ObjectEpisode(stimulus=stimulus, boxes=grid_boxes(width, height, grid), width=width, height=height,
                         px_per_degree=ppd, target=target, sequence=np.asarray(sequence, dtype=np.int64))


# ------------------------------------------------------------------------------ data
def test_grid_boxes_tile_row_major():
    b = grid_boxes(140.0, 60.0, (14, 6))
    assert b.shape == (84, 4)
    np.testing.assert_allclose(b[0], [0, 0, 10, 10])
    np.testing.assert_allclose(b[15], [10, 10, 10, 10])  # row 1, column 1
    np.testing.assert_allclose(b[83], [130, 50, 10, 10])
    assert b[:, 2:].prod(1).sum() == pytest.approx(140 * 60)  # a tiling: areas add up
    with pytest.raises(ValueError, match="grid"):
        grid_boxes(10, 10, (0, 3))


def test_target_object_and_nearest_mapping():
    boxes = np.array([[0, 0, 10, 10], [20, 0, 10, 10], [0, 20, 10, 10]], float)
    assert target_object(boxes, (19, 1, 10, 8)) == 1
    assert target_object(boxes, (50, 50, 5, 5)) == -1
    assert target_object(boxes, None) == -1
    objects = pd.DataFrame({"stimulus": "s", "object": [0, 1, 2], "x": boxes[:, 0], "y": boxes[:, 1],
                            "w": boxes[:, 2], "h": boxes[:, 3]})
    fix = pd.DataFrame({"stimulus": "s", "x": [5.0, 26.0, 14.0, 4.0], "y": [5.0, 3.0, 3.0, 40.0]})
    out = map_to_nearest_objects(fix, objects)
    # inside box 0, inside box 1, in the gap (nearest centre: box 0 at (5,5) vs box 1 at (25,5)), below box 2
    assert out["object"].tolist() == [0, 1, 0, 2]


def test_split_is_seeded_and_disjoint():
    names = [f"{i}.jpg" for i in range(100)]
    a, b = split_stimuli(names, seed=3)
    a2, b2 = split_stimuli(list(reversed(names)), seed=3)
    assert a == a2 and b == b2 and len(a) == len(b) == 50
    assert not set(a) & set(b) and set(a) | set(b) == set(names)
    assert split_stimuli(names, seed=4)[0] != a


def test_episodes_from_fixations_map_slots_and_target():
    stimuli = pd.DataFrame({"stimulus": ["c"], "path": [None], "width": [140.0], "height": [60.0],
                            "px_per_degree": [10.0], "target_bbox": [(31.0, 12.0, 8.0, 7.0)]})
    fix = pd.DataFrame({"stimulus": "c", "subject": [1, 1, 1, 2], "trial": 0, "fix_index": [0, 1, 2, 0],
                        "x": [5.0, 35.0, 139.9, 15.0], "y": [5.0, 15.0, 59.0, 15.0]})
    eps = episodes_from_fixations(fix, stimuli, grid=(14, 6))
    assert [e.subject for e in eps] == [1, 2]
    assert eps[0].sequence.tolist() == [0, 17, 83] and eps[1].sequence.tolist() == [15]
    assert eps[0].target == 17  # the slot holding the target box


@pytest.mark.realdata
def test_amazon_layout_assumption_holds(shared_data):
    from gazemodels.datasets import load

    ds = load("amazon-book-covers", root=dataset_dir(shared_data, "amazon-book-covers"))
    check = grid_layout_check(ds.fixations, ds.stimuli, AMAZON_GRID)
    lo, hi = check["target_offset_range"]
    assert 0.25 < lo and hi < 0.75  # every target cover sits in the middle of its 14 x 6 cell
    assert check["y_centre_to_border"] > 1.5 and check["x_centre_to_border"] > 1.1  # fixations avoid the gaps


def test_rule_sequence_by_hand():
    sim = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    centres = np.array([[0, 0], [90, 0], [50, 50], [10, 0], [0, 90]], float)
    # from (0, 0): items of similarity 1 from near to far (3, then 2 at 70.7 before 1 at 80.6 from
    # item 3), stopping at the target
    assert rule_sequence(sim, centres, 1, (0, 0)) == [3, 2, 1]
    assert rule_sequence(sim, centres, 2, (0, 0)) == [3, 2]
    assert rule_sequence(sim, centres, 3, (100, 0)) == [1, 2, 3]
    # a strictly most similar target is found first
    assert rule_sequence(np.array([0.5, 1.0, 0.5]), centres[:3], 1, (0, 0)) == [1]


def test_rule_arrays_follow_the_rule():
    eps = rule_array_episodes(6, seed=3, set_size=6, px_per_degree=5.0)
    for e in eps:
        sim = e.info["similarity"]
        assert e.sequence[-1] == e.target and sim[e.target] == 1.0
        assert all(sim[j] == 1.0 for j in e.sequence)  # only items of the target's colour
        assert e.template.shape[:2] == tuple(e.boxes[e.target, [3, 2]].astype(int))
        assert e.sequence.tolist() == rule_sequence(sim, e.centres, e.target, (e.width / 2, e.height / 2))
    assert len({e.target for e in eps}) > 1  # the target's index is shuffled
    lazy = RuleArrayDataset(6, seed=3, set_size=6, px_per_degree=5.0)  # generated on demand, the same
    assert len(lazy) == 6 and all(np.array_equal(lazy[i].image, e.image) and np.array_equal(lazy[i].sequence,
                                                                                             e.sequence)
                                  for i, e in enumerate(eps))
    with pytest.raises(IndexError):
        lazy[6]


# ------------------------------------------------------------------------------ network
def test_collate_labels_and_loss():
    eps = [grid_episode(5, [4, 4, 5]), grid_episode(2, [1], grid=(2, 2))]
    b = collate_episodes(eps)
    assert b["boxes"].shape == (2, 12, 4) and b["box_mask"][1].sum() == 4
    assert b["inputs"].tolist() == [[-1, 4, 4, 5], [-1, 1, -1, -1]]
    assert b["labels"].tolist() == [[4, 4, 5, 12], [1, 12, -100, -100]]
    torch.manual_seed(0)
    net = OATNet(TINY)
    logits = net(b)
    assert logits.shape == (2, 4, 13)
    assert torch.isinf(logits[1, :, 4:12]).all()  # padding objects are never chosen
    assert torch.isinf(logits[:, 0, 12]).all()  # the first step cannot stop
    loss, m = episode_loss(logits, b["labels"])
    # per-scanpath mean of the step cross-entropies, then the mean over scanpaths
    ce0 = F.cross_entropy(logits[0], b["labels"][0])
    ce1 = F.cross_entropy(logits[1, :2], b["labels"][1, :2])
    assert loss.item() == pytest.approx(((ce0 + ce1) / 2).item(), rel=1e-5)
    loss.backward()
    trainable = {n: p for n, p in net.named_parameters() if p.requires_grad}
    assert not any(n.startswith("backbone.stem.") for n in trainable)  # geometry only: stem frozen
    assert all(p.grad is not None for p in trainable.values())


def test_padding_and_causality():
    torch.manual_seed(1)
    net = OATNet(TINY).eval()
    a = grid_episode(5, [4, 0, 5])
    with torch.no_grad():
        alone = net(collate_episodes([a]))
        padded = net(collate_episodes([a, grid_episode(40, [3] * 7, grid=(8, 6))]))[:1, :4, :]
        # the stop logit moves to the last column of the padded batch
        torch.testing.assert_close(alone[..., :12], padded[..., :12], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(alone[..., 12], padded[..., 48], atol=1e-5, rtol=1e-5)
        other = net(collate_episodes([a.with_sequence([4, 0, 7])]))
    # changing the last fixation changes only the last step
    torch.testing.assert_close(alone[:, :3], other[:, :3], atol=1e-6, rtol=1e-6)
    assert not torch.allclose(alone[:, 3], other[:, 3])
    # autoregressive decoding reads the last step only
    with torch.no_grad():
        b = collate_episodes([a])
        enc = net.encode(b)
        torch.testing.assert_close(net.decode(enc, b["inputs"], last_only=True)[:, 0], alone[:, -1])


def test_sampling_greedy_and_beam():
    torch.manual_seed(2)
    net = OATNet(TINY)
    eps = [grid_episode(5), grid_episode(7)]
    g = torch.Generator().manual_seed(0)
    fixed = sample_sequences(net, eps, 3, max_len=6, generator=g, allow_stop=False)
    assert all(len(s) == 6 for per in fixed for s in per)
    free = sample_sequences(net, eps, 4, max_len=6, generator=torch.Generator().manual_seed(0))
    assert all(1 <= len(s) <= 6 for per in free for s in per)
    again = sample_sequences(net, eps, 4, max_len=6, generator=torch.Generator().manual_seed(0))
    assert all(np.array_equal(a, b) for p, q in zip(free, again) for a, b in zip(p, q))
    greedy = sample_sequences(net, eps[:1], 1, max_len=6, greedy=True)[0][0]
    best = beam_search(net, eps[0], beam_width=1, max_len=6)
    assert np.array_equal(best[0][0], greedy)
    # the returned log-probability is the teacher-forced one of that sequence (+ stop if it stopped)
    seq, lp = beam_search(net, eps[0], beam_width=4, max_len=6, n_best=3)[0]
    with torch.no_grad():
        logp = F.log_softmax(net.eval()(collate_episodes([eps[0].with_sequence(seq)])), -1)[0]
    steps = list(seq) + ([12] if len(seq) < 6 else [])
    assert lp == pytest.approx(float(sum(logp[t, k] for t, k in enumerate(steps))), abs=1e-4)
    ranked = beam_search(net, eps[0], beam_width=4, max_len=6, n_best=3)
    assert [r[1] for r in ranked] == sorted((r[1] for r in ranked), reverse=True)


def test_learns_to_go_to_the_target_and_stop():
    """Geometry only: scanpaths go straight to the target and stop; the target token tells where it is."""
    rng = np.random.default_rng(0)
    train = [grid_episode(int(t), [int(t)]) for t in rng.integers(0, 12, 48)]
    torch.manual_seed(0)
    net = OATNet(TINY)
    train_network(net, train, epochs=60, batch_size=16, lr=5e-3)
    out = sample_sequences(net, [grid_episode(t) for t in range(12)], 1, max_len=4, greedy=True)
    hits = [np.array_equal(o[0], [t]) for t, o in enumerate(out)]
    assert np.mean(hits) >= 0.9


# ------------------------------------------------------------------------------ scanpath model
def test_scanpath_model_contract_and_object_column(tmp_path):
    stimuli = pd.DataFrame({"stimulus": ["a", "b"], "path": [None, None], "width": [120.0, 100.0],
                            "height": [90.0, 80.0], "px_per_degree": [10.0, 10.0],
                            "target_bbox": [(65.0, 35.0, 10.0, 10.0), (5.0, 5.0, 10.0, 10.0)]})
    torch.manual_seed(0)
    model = OATModel(net=OATNet(TINY), grid=(4, 3))
    model.name = "oat"
    out = validate_scanpath_model(model, stimuli, n_scanpaths=2, n_fixations=5, seed=0, other_seed=3)
    assert "object" in out.columns
    for stim, w, h in (("a", 120.0, 90.0), ("b", 100.0, 80.0)):
        g = out[out["stimulus"] == stim]
        centres = grid_boxes(w, h, (4, 3))
        c = centres[:, :2] + centres[:, 2:] / 2
        np.testing.assert_allclose(g[["x", "y"]].to_numpy(), c[g["object"].to_numpy()])
    # the registered factory, fitted on human fixations, also works (and pickles through save_model)
    spec_model = get_model("oat", config={"width": 16, "heads": 2, "encoder_depth": 1, "decoder_depth": 1},
                           grid=(4, 3), epochs=2)
    fix = pd.DataFrame({"stimulus": "a", "subject": np.repeat([1, 2, 3, 4], 3), "trial": 0,
                        "fix_index": [0, 1, 2] * 4, "x": [60.0, 70.0, 70.0, 10.0, 70.0, 70.0] * 2,
                        "y": [45.0, 40.0, 40.0, 10.0, 40.0, 40.0] * 2, "duration": [180.0, 220.0, 260.0] * 4,
                        "t_start": [0.0, 180.0, 400.0] * 4})
    spec_model.fit(fix, stimuli)
    from gazemodels.models import save_model

    save_model(spec_model, tmp_path / "oat.pt")
    again = load_model(tmp_path / "oat.pt")
    a = spec_model.predict(stimuli, 2, 3, seed=5)
    b = again.predict(stimuli, 2, 3, seed=5)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------------------ baselines and scores
def test_object_baselines():
    eps = [grid_episode(11, stimulus="x"), grid_episode(0, stimulus="y")]
    nn_ = baseline_sequences("nearest", eps, 2, [12], seed=0)
    for per, e in zip(nn_, eps):
        for s in per:
            c = (e.centres - [60, 45]) / 10.0
            assert len(set(s.tolist())) == len(s)  # never refixates
            assert s[-1] == e.target  # runs until it meets the target
            first_d = np.hypot(*c[s[0]])
            assert first_d == pytest.approx(np.hypot(*c.T).min())
            for a, b in zip(s[:-1], s[1:]):  # each step to the nearest slot not yet fixated
                left = [j for j in range(12) if j not in s[: list(s).index(b)]]
                assert np.hypot(*(c[b] - c[a])) == pytest.approx(min(np.hypot(*(c[j] - c[a])) for j in left))
    rnd = baseline_sequences("random", eps, 50, [3, 5], seed=1)
    assert all(len(s) <= 5 for per in rnd for s in per)
    assert all(s[-1] == e.target or e.target not in s for per, e in zip(rnd, eps) for s in per)
    with pytest.raises(ValueError, match="sigma"):
        baseline_sequences("centre", eps, 1, [3])
    # the fitted centre width grows when fixations spread out
    near = [grid_episode(0, [5, 6, 5, 6], grid=(4, 3))]
    far = [grid_episode(0, [0, 3, 8, 11], grid=(4, 3))]
    assert fit_centre_sigma(near) < fit_centre_sigma(far)


def test_evaluate_object_scanpaths_by_hand():
    humans = [[np.array([1, 2, 3]), np.array([1, 2, 2, 3])], [np.array([4, 5])]]
    targets = [3, 9]
    same = evaluate_object_scanpaths({"copy": humans}, humans, targets, n_boot=50, ceiling=False)
    assert same.loc[0, "delta"] == pytest.approx(0.0)
    other = evaluate_object_scanpaths({"one": [[np.array([1, 3])], [np.array([4, 5])]]}, humans, targets,
                                      n_boot=0, ceiling=True)
    r = other.set_index("method").loc["one"]
    # display 0: SS([1,3],[1,2,3]) = 2/3, SS([1,3],[1,2,2,3]) = 2/4; display 1: 1
    assert r["ss"] == pytest.approx(((2 / 3 + 2 / 4) / 2 + 1.0) / 2)
    # ED: 1/3 and 2/4, then 0
    assert r["ed"] == pytest.approx(((1 / 3 + 2 / 4) / 2 + 0.0) / 2)
    # behaviour: scanpaths [1,3] (ends on target) and [4,5] (not): ends 0.5, length 2, all first visits
    assert r["ends_on_target"] == pytest.approx(0.5) and r["length"] == pytest.approx(2.0)
    assert r["first_visit"] == pytest.approx(1.0) and r["refixation"] == pytest.approx(0.0)
    loso = other.set_index("method").loc["human (LOSO)"]
    assert loso["ss"] == pytest.approx(3 / 4)  # display 1 has one human: no pair, left out
    displays, grouped = group_by_display([grid_episode(1, [1], "p"), grid_episode(1, [2, 1], "p"),
                                          grid_episode(3, [3], "q")])
    assert [d.stimulus for d in displays] == ["p", "q"] and [len(g) for g in grouped] == [2, 1]


# ------------------------------------------------------------------------------ rule recovery (appearance)
def test_rule_recovery_on_object_arrays():
    """Trained on rule scanpaths, the model follows the rule on new displays, which needs appearance.

    Rule (:func:`rule_sequence`): from the centre, fixate the items of the target's colour, nearest
    first, and stop on the target. Conjunction displays of 5 items: choosing an item of the right
    colour needs the template's colour, stopping on the target and not on a same-coloured
    distractor needs the fixated item's shape; item colours are independent of positions, so
    geometry alone stays at the uniform rate on those choices. A small version of
    ``experiments/oat_arrays.toml`` (which reaches >= 80 % with more displays): 600 displays of
    64 px, a 32-wide network, 10 epochs (about 20 s on one core; step accuracy 0.71-0.75 and
    similarity accuracy 0.79-0.85 over initial seeds, against 0.22 and 0.48 by chance).
    """
    kw = dict(set_size=5, px_per_degree=4.0)
    train = rule_array_episodes(600, seed=10, **kw)
    test = rule_array_episodes(80, seed=11, **kw)
    cfg = OATConfig(width=32, heads=2, encoder_depth=2, decoder_depth=1, dropout=0.0, appearance=True,
                    target_location=False, target_template=True, stem_channels=16, stem_stride=2, roi_size=3,
                    oat_sigma_deg=2.0)
    torch.manual_seed(0)
    net = OATNet(cfg)
    before = rule_recovery(net, test)
    train_network(net, train, epochs=10, batch_size=48, lr=5e-3)
    r = rule_recovery(net, test)
    assert r["step_chance"] < 0.3 and r["similarity_chance"] < 0.55
    assert r["step_accuracy"] >= 0.6 and r["step_accuracy"] > before["step_accuracy"] + 0.2
    assert r["similarity_accuracy"] >= 0.7 and r["similarity_accuracy"] > r["similarity_chance"] + 0.2
    assert r["stop_accuracy"] >= 0.7


# ------------------------------------------------------------------------------ the fit task
def test_task_trains_with_gazemodels_fit(tmp_path):
    from gazemodels.training.config import validate_config
    from gazemodels.training.trainer import fit

    cfg = validate_config({
        "task": {"name": "oat", "dataset": "rule-arrays", "data_root": "", "n_train": 12, "n_val_displays": 6,
                 "n_test": 4, "set_size": 3, "array_ppd": 4.0, "width": 16, "heads": 2,
                 "encoder_depth": 1, "decoder_depth": 1, "appearance": True, "target_location": False,
                 "target_template": True, "stem_channels": 8},
        "optim": {"lr": 1e-3},
        "train": {"epochs": 1, "batch_size": 6, "seed": 0},
    })
    fit(cfg, tmp_path / "run", progress=False)
    model = load_model(tmp_path / "run" / "best.pt")
    assert isinstance(model, OATModel) and model.name == "oat" and model.grid is None
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    for col in ("val_loss", "val_rule_step_accuracy", "train_accuracy"):
        assert col in metrics.columns and np.isfinite(metrics[col]).all()
    # the fitted model predicts on a stimulus table with object boxes and images
    task = OATTask.from_config(cfg["task"])
    ep = task.datasets().test[0]
    from PIL import Image

    Image.fromarray(ep.image).save(tmp_path / "d.png")
    stimuli = pd.DataFrame({"stimulus": ["d"], "path": [str(tmp_path / "d.png")], "width": [ep.width],
                            "height": [ep.height], "px_per_degree": [ep.px_per_degree],
                            "object_boxes": [[tuple(b) for b in ep.boxes]],
                            "target_bbox": [tuple(ep.boxes[ep.target])]})
    out = model.predict(stimuli, 2, 3, seed=0)
    assert len(out) == 6 and out["object"].between(0, ep.n_objects - 1).all()


def test_task_options_are_checked():
    from gazemodels.training.config import ConfigError, validate_config

    with pytest.raises(ValueError, match="dataset"):
        OATTask.from_config({"dataset": "osie"})
    with pytest.raises(ValueError, match="width"):
        OATTask.from_config({"dataset": "rule-arrays", "width": 30, "heads": 4})
    with pytest.raises(ConfigError, match="task.width"):
        validate_config({"task": {"name": "oat", "data_root": "", "width": "64"}})
    assert math.isfinite(OATTask.options["oat_sigma_deg"])

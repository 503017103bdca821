"""The fitting-half tuning script: its settings are valid and its tables are well formed."""

from __future__ import annotations

import pandas as pd
import pytest

from gazemodels.models.scanpath.neva import NeVA


@pytest.fixture
def tune(import_benchmark):
    return import_benchmark("tune_neva_osie")


def test_every_neva_setting_of_the_sweep_is_valid_and_changes_something(tune):
    labels = [label for label, _ in tune.NEVA_SWEEP]
    assert len(set(labels)) == len(labels) and labels[0] == "defaults"
    for label, change in tune.NEVA_SWEEP[1:]:
        assert change, label
        model = NeVA(pretrained=False, **{**tune.NEVA_BASE, **change})
        for key, value in change.items():
            assert getattr(model, key) == value, (label, key)


def test_markdown_table(tune):
    df = pd.DataFrame({"setting": ["a", "b"], "mm_mean": [0.81234, 0.8]})
    md = tune.markdown(df).splitlines()
    assert md[0] == "| setting | mm_mean |" and md[1] == "|---|---|"
    assert md[2] == "| a | 0.8123 |" and len(md) == 4


def test_sweep_runs_on_generated_data(tune, tmp_path, stimulus_factory, human_factory, monkeypatch):
    specs = [(f"s{i:02d}.png", 64, 48, (10 + 6 * i, 12 + 3 * i)) for i in range(6)]
    stimuli = stimulus_factory(tmp_path, specs=specs)
    humans = human_factory(stimuli, n_subjects=4, n_fixations=5)

    from types import SimpleNamespace

    ds = SimpleNamespace(fixations=humans, stimuli=stimuli)
    monkeypatch.setattr(tune, "NEVA_SWEEP", (("defaults", {}), ("fovea 1.0 deg", {"fovea_sigma_deg": 1.0})))
    monkeypatch.setattr(tune, "NEVA_BASE", {"pretrained": False, "input_size": 32, "n_iter": 1})
    seen = []
    df = tune.sweep_neva(ds, tune._bench(), n_images=2, n_scanpaths=2, log=lambda m: None,
                         on_row=lambda d: seen.append(len(d)))
    assert list(df["setting"]) == ["centre baseline (in-sample)", "human (LOSO ceiling)", "defaults", "fovea 1.0 deg"]
    assert seen == [3, 4]
    assert df["mm_mean"].between(0, 1).all()


def test_extra_model_arguments_are_parsed_as_json_where_they_are(tune):
    assert tune._parse_extra(["decode=mbr", "mbr_candidates=32", "temperature=0.5"]) == {
        "decode": "mbr", "mbr_candidates": 32, "temperature": 0.5}
    for bad in ("decode", "=mbr"):
        with pytest.raises(SystemExit, match="KEY=VALUE"):
            tune._parse_extra([bad])

import json

import pytest

from gazemodels.experiments import get_experiment, register_experiment, run_experiment
from gazemodels.experiments.registry import merge_config


def test_merge_config_overrides_nested_and_rejects_unknown_keys():
    d = {"seed": 0, "a": {"b": 1, "c": 2}}
    assert merge_config(d, {"a": {"c": 5}}) == {"seed": 0, "a": {"b": 1, "c": 5}}
    assert d["a"]["c"] == 2  # defaults untouched
    with pytest.raises(KeyError, match="unknown key 'typo'"):
        merge_config(d, {"a": {"typo": 1}})


def test_a_table_with_an_empty_default_is_free_form():
    d = {"seed": 0, "variants": {}}
    user = {"variants": {"mine": {"x": 1}}}
    assert merge_config(d, user) == {"seed": 0, "variants": {"mine": {"x": 1}}}
    assert d["variants"] == {}
    with pytest.raises(KeyError, match="unknown key 'variant'"):
        merge_config(d, {"variant": {}})


def test_run_writes_config_with_seed_and_summary(tmp_path):
    @register_experiment("_echo_test", "echo", {"seed": 0, "n": 3})
    def _echo(cfg, out):
        (out / "table.csv").write_text("n\n%d\n" % cfg["n"])
        return {"n": cfg["n"], "seed": cfg["seed"]}

    out = run_experiment("_echo_test", {"seed": 11}, tmp_path / "res")
    meta = json.loads((out / "config.json").read_text())
    assert meta["config"] == {"seed": 11, "n": 3}
    assert json.loads((out / "summary.json").read_text()) == {"n": 3, "seed": 11}
    assert (out / "table.csv").read_text() == "n\n3\n"


def test_unknown_experiment():
    with pytest.raises(KeyError, match="unknown experiment"):
        get_experiment("no-such-thing")

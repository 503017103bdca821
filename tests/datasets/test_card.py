import pytest

from gazemodels.datasets import get_card, list_datasets, read_card
from gazemodels.datasets.card import CARDS_DIR
from gazemodels.errors import DatasetFormatError


def test_every_registered_dataset_has_a_complete_card():
    names = list_datasets()
    assert names, "no dataset loader is registered"
    for name in names:
        card = get_card(name)
        assert card.name == name
        assert card.homepage.startswith("http")
        assert card.citation and card.licence
        assert card.px_per_degree > 0
        for f in card.files:
            assert f.url.startswith(("http://", "https://", "ftp://")), f.url
            assert f.sha256 is None or len(f.sha256) == 64


def test_every_card_file_belongs_to_a_registered_loader():
    cards = {p.stem for p in CARDS_DIR.glob("*.toml")}
    assert cards == set(list_datasets())


def test_malformed_card_names_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntitle = \n')
    with pytest.raises(DatasetFormatError, match="bad.toml.*malformed TOML"):
        read_card(bad)


def test_card_missing_keys_are_listed(tmp_path):
    bad = tmp_path / "thin.toml"
    bad.write_text('name = "x"\ntitle = "y"\n')
    with pytest.raises(DatasetFormatError, match="missing key.*homepage"):
        read_card(bad)


def test_px_per_degree_derived_from_screen_geometry(tmp_path):
    p = tmp_path / "geo.toml"
    p.write_text(
        'name="g"\ntitle="t"\ndescription="d"\nhomepage="https://x"\nlicence="MIT"\n'
        'citation="c"\nformat="csv"\n[geometry]\nscreen_width_px=1920\nscreen_width_cm=53.0\n'
        "distance_cm=60.0\n"
    )
    # hand computation: 1920/53 px/cm * 2*60*tan(0.5 deg) cm = 37.94 px/deg
    assert read_card(p).px_per_degree == pytest.approx(37.94, abs=0.01)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown dataset 'nope'"):
        get_card("nope")

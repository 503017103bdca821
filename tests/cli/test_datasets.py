import pytest

from conftest import dataset_dir
from gazemodels.cli import main
from gazemodels.datasets import list_datasets


def test_list_names_every_registered_dataset(capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for name in list_datasets():
        assert name in out


def test_info_prints_card(capsys):
    assert main(["datasets", "info", "osie"]) == 0
    out = capsys.readouterr().out
    assert "homepage:" in out and "citation:" in out and "px_per_degree" in out


def test_info_with_root_loads_and_counts(shared_data, capsys):
    root = dataset_dir(shared_data, "amazon-book-covers")
    assert main(["datasets", "info", "amazon-book-covers", "--root", str(root)]) == 0
    assert "8,683 fixations" in capsys.readouterr().out


def test_unknown_dataset_exits_2_with_message(capsys):
    assert main(["datasets", "info", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


def test_download_offline_fails_at_once_with_address_and_place(tmp_path, capsys, monkeypatch):
    # every card address is on the public internet; make sure this test never reaches it
    import socket

    def refuse(*a, **k):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert main(["datasets", "download", "osie", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unreachable" in err and "https://" in err and str(tmp_path) in err


def test_missing_root_says_how_to_download(tmp_path, capsys):
    assert main(["datasets", "info", "osie", "--root", str(tmp_path / "absent")]) == 2
    assert "gazemodels datasets download osie" in capsys.readouterr().err


def test_help_exits_0():
    with pytest.raises(SystemExit) as e:
        main(["datasets", "--help"])
    assert e.value.code == 0

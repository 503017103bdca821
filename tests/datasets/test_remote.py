"""Download with checksum verification, against a file server on loopback."""

import functools
import hashlib
import http.server
import threading
import time

import pytest

from gazemodels.datasets import remote as download_mod
from gazemodels.datasets.card import DatasetCard, RemoteFile
from gazemodels.errors import DownloadError


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _card(url, sha):
    return DatasetCard(name="toy", title="t", description="d", homepage=url, licence="MIT",
                       citation="c", format="json", folder="toy",
                       files=(RemoteFile("sub/data.json", url + "/data.json", sha),))


def test_download_verifies_checksum_and_skips_present_files(server, tmp_path, monkeypatch):
    served, base = server
    payload = b'{"a": 1}'
    (served / "data.json").write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    monkeypatch.setattr(download_mod, "get_card", lambda name: _card(base, sha))
    root = download_mod.download("toy", tmp_path / "root")
    assert (root / "sub" / "data.json").read_bytes() == payload
    # a second call must not fetch again: remove the served file, it still succeeds
    (served / "data.json").unlink()
    download_mod.download("toy", tmp_path / "root")


def test_download_rejects_a_wrong_checksum(server, tmp_path, monkeypatch):
    served, base = server
    (served / "data.json").write_bytes(b"tampered")
    monkeypatch.setattr(download_mod, "get_card", lambda name: _card(base, "0" * 64))
    with pytest.raises(DownloadError, match="checksum"):
        download_mod.download("toy", tmp_path / "root")
    assert not (tmp_path / "root" / "sub" / "data.json").exists()


def test_unreachable_host_fails_at_once_naming_address_and_place(tmp_path, monkeypatch):
    # port 9 (discard) on loopback refuses connections: the same path as being offline
    monkeypatch.setattr(download_mod, "get_card", lambda name: _card("http://127.0.0.1:9", None))
    t0 = time.perf_counter()
    with pytest.raises(DownloadError) as info:
        download_mod.download("toy", tmp_path / "root")
    assert time.perf_counter() - t0 < 5
    msg = str(info.value)
    assert "http://127.0.0.1:9/data.json" in msg
    assert str(tmp_path / "root" / "sub" / "data.json") in msg

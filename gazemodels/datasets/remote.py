"""Download of dataset files with checksum verification (through pooch)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from gazemodels.datasets.registry import default_root, get_card
from gazemodels.errors import DownloadError


def _reachable(url: str, timeout: float = 3.0) -> str | None:
    """Return None if the host of ``url`` accepts a TCP connection, else the reason."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return None
    except OSError as e:
        return f"{type(e).__name__}: {e}"


def download(name: str, root: str | os.PathLike | None = None, *, force: bool = False) -> Path:
    """Fetch the files of dataset ``name`` into ``root``, verifying checksums.

    Files already present with the right checksum are not fetched again.

    Parameters
    ----------
    name : str
        Registry name.
    root : str or PathLike, optional
        Destination folder; defaults to :func:`gazemodels.datasets.default_root`.
    force : bool, default False
        Fetch again even if the files are present.

    Returns
    -------
    pathlib.Path
        The dataset root.

    Raises
    ------
    DownloadError
        At once when the host cannot be reached (the message names the address
        and where to place the files by hand), or when a checksum does not match.
    """
    import pooch

    card = get_card(name)
    root = Path(root) if root is not None else default_root(name)
    if not card.files:
        raise DownloadError(
            f"dataset {name!r} has no downloadable files in its card; get it from "
            f"{card.homepage} and place it under {root}"
        )
    root.mkdir(parents=True, exist_ok=True)
    for f in card.files:
        target = root / f.path
        if target.exists() and not force and not f.unpack:
            if f.sha256 is None or pooch.file_hash(str(target)) == f.sha256:
                continue
        why = _reachable(f.url)
        if why is not None:
            raise DownloadError(
                f"cannot download {name!r}: {f.url} is unreachable ({why}). Without internet, "
                f"fetch that address elsewhere and place the file at {target}"
            )
        known_hash = f"sha256:{f.sha256}" if f.sha256 else None
        processor = pooch.Unzip(extract_dir=str(root)) if f.unpack and f.url.endswith(".zip") else (
            pooch.Untar(extract_dir=str(root)) if f.unpack else None)
        try:
            pooch.retrieve(
                f.url,
                known_hash=known_hash,
                fname=Path(f.path).name,
                path=str(target.parent),
                processor=processor,
                progressbar=True,
            )
        except ValueError as e:  # pooch reports a checksum mismatch as ValueError
            raise DownloadError(f"checksum mismatch for {f.url} -> {target}: {e}") from None
        except Exception as e:  # network errors of requests
            raise DownloadError(
                f"cannot download {name!r} from {f.url} ({type(e).__name__}: {e}); place the "
                f"file at {target} by hand"
            ) from None
    return root

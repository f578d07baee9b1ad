"""The download path, tested offline against a fixture served on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import pickle
import socket
import threading

import numpy as np
import pytest

from data_loaders import DataFileError, load_traffic_signs
from data_loaders._files import fetch

pytestmark = pytest.mark.unit


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """An http server on 127.0.0.1 serving tmp_path/www, recording the paths requested."""
    root = tmp_path / "www"
    root.mkdir()
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.requests
    httpd.shutdown()
    httpd.server_close()


def _pickle_bytes(n: int) -> bytes:
    features = np.full((n, 32, 32, 3), 7, np.uint8)
    return pickle.dumps({"features": features, "labels": np.arange(n) % 5 + 1})


def test_download_is_cached_and_reused(server, data_cache):
    """Is a URL downloaded once, kept in the cache with its checksum, and reused?"""
    root, base, requests = server
    (root / "train.p").write_bytes(_pickle_bytes(10))
    (root / "test.p").write_bytes(_pickle_bytes(5))
    first = load_traffic_signs(train_file=f"{base}/train.p", test_file=f"{base}/test.p")
    second = load_traffic_signs(train_file=f"{base}/train.p", test_file=f"{base}/test.p")
    assert requests == ["/train.p", "/test.p"]
    assert first[0][1].tolist() == second[0][1].tolist() == [0, 1, 2, 3, 4] * 2
    cached = sorted(p.name for p in (data_cache / "downloads").iterdir())
    assert len(cached) == 4 and sum(name.endswith(".sha256") for name in cached) == 2


def test_expected_checksum_is_enforced(server, data_cache):
    """Is a download whose sha256 differs from the expected one refused and not kept?"""
    root, base, _ = server
    data = _pickle_bytes(5)
    (root / "train.p").write_bytes(data)
    wrong = "0" * 64
    with pytest.raises(DataFileError, match=f"expected {wrong}"):
        fetch(f"{base}/train.p", sha256=wrong)
    assert not (data_cache / "downloads").exists() or not any(
        p.suffix == ".p" for p in (data_cache / "downloads").iterdir()
    )
    right = hashlib.sha256(data).hexdigest()
    assert fetch(f"{base}/train.p", sha256=right).read_bytes() == data


def test_corrupt_cached_download_is_fetched_again(server, data_cache, capsys):
    """Is a cached download that no longer matches its checksum fetched again, with a message?"""
    root, base, requests = server
    (root / "train.p").write_bytes(_pickle_bytes(5))
    path = fetch(f"{base}/train.p")
    path.write_bytes(b"garbage")
    again = fetch(f"{base}/train.p")
    assert again.read_bytes() == _pickle_bytes(5)
    assert requests == ["/train.p", "/train.p"]
    assert "does not match its checksum" in capsys.readouterr().err


def test_missing_file_on_the_server_is_a_clear_error(server, data_cache):
    """Does a 404 give an error naming the URL and the status?"""
    _, base, _ = server
    with pytest.raises(
        DataFileError, match=r"could not download .*/nothere\.p: the server answered 404"
    ):
        fetch(f"{base}/nothere.p")


def test_server_down_is_a_clean_error(data_cache):
    """Does an unreachable server give an error naming the URL, and, from a rendered
    dataset's loader, its offline default (which a real dataset's download has not)?"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    url = f"http://127.0.0.1:{port}/train.p"
    with pytest.raises(DataFileError, match=r"could not download .*embedded dataset") as raised:
        load_traffic_signs(train_file=url, test_file=url)
    assert str(raised.value).startswith(f"could not download {url}: ")
    with pytest.raises(DataFileError, match=r"Check the address and your connection\.$"):
        fetch(url, timeout=5)

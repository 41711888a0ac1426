"""Fixtures shared by every test folder: a real HTTP file server on 127.0.0.1 and an isolated data root."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

STALL_S = 2.0  # How long a stalled answer keeps the client waiting.


@dataclass
class FileServer:
    """Serves `files` by path; `truncate` paths announce their full length but send half the body; the next
    `fail[path]` requests of a path get a 503, and the next `stall[path]` wait `STALL_S` before the answer."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    hits: Counter = field(default_factory=Counter)
    fail: Counter = field(default_factory=Counter)
    stall: Counter = field(default_factory=Counter)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits[self.path] += 1
            if server.fail[self.path] > 0:
                server.fail[self.path] -= 1
                self.send_error(503, "Service Unavailable")
                return
            if server.stall[self.path] > 0:
                server.stall[self.path] -= 1
                time.sleep(STALL_S)
            body = server.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if self.path in server.truncate else body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """A threaded HTTP server on a free loopback port."""
    state = FileServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the data root at an empty temporary folder."""
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def serve_raw(
    file_server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str, bytes], None]:
    """Serve `body` as dataset `name`'s `filename` and point its metadata.toml (url, sha256) at the server."""
    from text_recognizer.datasets import dataset

    monkeypatch.setattr(dataset, "raw_dirname", lambda name: tmp_path / "raw" / name)

    def serve(name: str, filename: str, body: bytes) -> None:
        file_server.files[f"/{filename}"] = body
        raw = tmp_path / "raw" / name
        raw.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(body).hexdigest()
        (raw / "metadata.toml").write_text(
            f'url = "{file_server.url}/{filename}"\nfilename = "{filename}"\nsha256 = "{digest}"\n'
        )

    return serve


@pytest.fixture
def shared() -> Callable[[str], Path]:
    """Find a folder of the shared real data beside the project (`../shared/<relative>`), or skip the test."""
    root = Path(__file__).resolve().parent.parent / "shared"

    def find(relative: str) -> Path:
        path = root / relative
        if not path.is_dir():
            pytest.skip(f"{relative} is not beside the project (../shared): real data the test reads in place")
        return path

    return find


def _skip_on_missing_test_fonts() -> Iterator[None]:
    """Run the wrapped step; turn its MissingTestFonts into a skip."""
    from text_recognizer.datasets.synthetic_characters import MissingTestFonts

    try:
        return (yield)
    except MissingTestFonts as e:
        pytest.skip(f"synthetic test data cannot be made here: {e}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """A fixture that makes synthetic data skips its tests, saying why, where the held-out fonts are missing."""
    return (yield from _skip_on_missing_test_fonts())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test that makes synthetic data skips, saying why, where the held-out fonts are missing."""
    return (yield from _skip_on_missing_test_fonts())


@pytest.fixture
def test_fonts() -> None:
    """Skip a test whose subprocess makes synthetic data where the held-out test fonts are missing."""
    from text_recognizer.datasets.handwriting import find_fonts
    from text_recognizer.datasets.synthetic_characters import held_out_fonts

    if not held_out_fonts(find_fonts()):
        pytest.skip("the held-out test fonts are not installed (tasks/install_system_packages.sh as root)")
